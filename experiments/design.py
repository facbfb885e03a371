"""The design of an experiment: scenarios x replications, parameter draws and seeds.

Replication ``r`` fixes one parameter draw (draw ``r // seeds_per_draw``) and one
seed, and every scenario uses both: common random numbers, so scenario
differences are paired. Seeds derive from the experiment seed through
``SeedSequence(seed, spawn_key=(r,))``: a run's randomness depends on its
replication number only, never on the order or the process it runs in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from model import PARAMETERS, Policy, parse_policy

from .abc import systematic_rows
from .config import ExperimentConfig, Uncertainty, read_posterior

# Spawn key of the stream that draws parameters; replications use keys (r,) with r
# far below it, so the two never collide.
DRAW_STREAM = 2**32


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run.

    ``draw`` is the row of the parameter draws the run uses (-1: the parameters are not
    a draw, as at a sensitivity sample point); ``point`` names the sample point of a
    sensitivity analysis (None in an experiment)."""

    scenario: str
    replication: int
    draw: int
    seed: int  # the experiment seed; the run's SeedSequence is (seed, spawn_key=(replication,))
    policy: Policy  # parsed once, here; the model takes it as it is
    parameters: dict[str, float]
    firms: int
    end_year: int
    population: str
    point: str | None = None

    @property
    def label(self) -> str:
        """What tells the run's group apart within its results directory: the scenario,
        or in a sensitivity analysis the sample point (all of one scenario)."""
        return self.scenario if self.point is None else self.point

    @property
    def key(self) -> tuple[str, int]:
        return (self.label, self.replication)

    def seed_sequence(self) -> np.random.SeedSequence:
        return replication_seed(self.seed, self.replication)


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def parameter_draws(config: ExperimentConfig) -> pd.DataFrame:
    """One row per draw: the uncertain parameters (columns), index ``draw``.

    A posterior file is resampled with its weights (``systematic_rows``); declared
    distributions (for parameters the posterior does not hold) are sampled by Latin
    hypercube. With neither, every draw is the defaults (no columns).
    """
    n = config.run.replications // config.run.seeds_per_draw
    rng = np.random.default_rng(np.random.SeedSequence(config.run.seed, spawn_key=(DRAW_STREAM,)))
    draws = pd.DataFrame(index=range(n))
    if config.posterior is not None:
        frame = read_posterior(config.posterior)
        w = frame.pop("weight").to_numpy(float) if "weight" in frame else np.ones(len(frame))
        draws = frame.iloc[systematic_rows(w, n, rng)].reset_index(drop=True)
    if config.uncertainties:
        # Parameters the posterior does not hold (policy effects, say) by Latin hypercube.
        names = sorted(config.uncertainties)
        unit = qmc.LatinHypercube(d=len(names), seed=rng).random(n)
        for k, name in enumerate(names):
            draws[name] = _transform(config.uncertainties[name], unit[:, k])
    draws.index.name = "draw"
    for name in draws.columns:
        if PARAMETERS[name].integer:
            draws[name] = np.round(draws[name])
    return draws


def _transform(u: Uncertainty, q: np.ndarray) -> np.ndarray:
    a = u.args
    spec = PARAMETERS[u.name]
    if u.distribution == "uniform":
        return a["low"] + q * (a["high"] - a["low"])
    if u.distribution == "loguniform":
        return np.exp(np.log(a["low"]) + q * (np.log(a["high"]) - np.log(a["low"])))
    if u.distribution == "triangular":
        c = (a["mode"] - a["low"]) / (a["high"] - a["low"])
        return stats.triang.ppf(q, c, loc=a["low"], scale=a["high"] - a["low"])
    # normal, truncated to the parameter's allowed range
    if a["sd"] == 0:
        return np.full(len(q), a["mean"])
    lo, hi = (spec.low - a["mean"]) / a["sd"], (spec.high - a["mean"]) / a["sd"]
    return stats.truncnorm.ppf(q, lo, hi, loc=a["mean"], scale=a["sd"])


def build_design(config: ExperimentConfig) -> list[RunSpec]:
    """All runs, ordered by replication then scenario (as listed in the file)."""
    draws = parameter_draws(config)
    run = config.run
    policies = {name: parse_policy(raw) for name, raw in config.scenarios.items()}
    specs = []
    for r in range(run.replications):
        d = r // run.seeds_per_draw
        params = {**config.parameters,
                  **{k: float(v) for k, v in draws.loc[d].items()}}
        for scenario, policy in policies.items():
            specs.append(RunSpec(
                scenario=scenario, replication=r, draw=d, seed=run.seed, policy=policy,
                parameters=params, firms=run.firms, end_year=run.end_year,
                population=run.population,
            ))
    return specs
