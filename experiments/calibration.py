"""Calibration: ABC-SMC (experiments.abc) of every calibrated parameter to the whole observed
record, a joint posterior that experiments draw from, and a back-test.

The statistics, their survey observation model (measurement offsets where a
definition changes, sampling error) and their standard deviations are defined in
``experiments.observations``. Each simulated statistic is the survey reading of the
model's quarter-1 value; the distance is the Euclidean norm of the differences from the
observations over their standard deviations (the survey's sampling error and the
series' model-error allowance). The sampler tempers a Gaussian kernel
exp(-D^2 / 2 epsilon^2) down to epsilon = 1, where it samples the posterior under that
error model (``experiments.abc``): the full Gaussian likelihood, every statistic
counting once (``[abc] likelihood = "per_statistic"``, the default). The option
``"per_series"`` scales each series by one over the square root of its number of
statistics, a power likelihood in which each series counts as one statistic (the
default until November 2026: only 4% of the experiment runs drawn from its posterior
reproduced every fitted series, against 92% with the full likelihood; docs/ODD.md 9).
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import signal
import textwrap
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import PARAMETERS, SMEEconomy
from model.economy import MAX_FIRMS, MIN_FIRMS
from model.errors import check_field, check_table, collect_keys
from model.parameters import PARAMETER_RULES
from model.population import POPULATIONS
from model.streams import MAX_SEED
from model.timeline import START_YEAR

from . import backcast, forecast_error
from . import observations as ob
from .abc import (
    ABCResult,
    chunks,
    effective_sample_size,
    equally_weighted,
    simulation_seed,
    smc_abc,
    systematic_rows,
)
from .analysis import posterior_row, weighted_quantiles
from .config import ConfigError, content_hash, read_toml
from .executors import make_executor
from .observations import fitted
from .store import atomic_write_parquet, atomic_write_text, git_commit, now, versions
from .text import markdown_table

SAMPLERS = ("single", "multicore", "dask")
INTERRUPT_GRACE_S = 120
"""Seconds an interrupted calibration waits for its chains to hand back their last
complete generation."""
IDENTIFIED_WIDTH = 0.5
"""A parameter counts as identified when its posterior 90% interval is at most this
share of its prior range."""
PINNED_SD = 0.5
"""A combination of parameters counts as pinned down by the data when the posterior's
standard deviation along it is at most this share of the prior's (about the marginal
criterion above: a normal 90% interval spans 3.3 sd, the uniform prior 3.1 sd)."""


LIKELIHOODS = {
    "per_statistic": "the full Gaussian likelihood of the error model: every statistic "
                     "counts once",
    "per_series": "a power likelihood: each series counts as one statistic"}
"""How the distance weighs the statistics (``[abc] likelihood``), as the report says it:
``per_statistic`` (default), every statistic with weight 1 / sd; ``per_series``, 1 / (sd
x sqrt(statistics in its series)), so the 12 band statistics do not decide the fit by
their number, but the posterior is wider than the data allow and its single draws miss
some series."""


@dataclass(frozen=True)
class CalibrationConfig:
    name: str
    priors: dict[str, tuple[float, float]]
    dii_file: Path
    advanced_file: Path
    cyber_file: Path
    firms: int = 4000
    population: str = "10-249"
    seed: int = 2021
    fit_until: int = 2025
    population_size: int = 200
    chains: int = 1
    max_populations: int = 100
    target_epsilon: float = 1.0
    likelihood: str = "per_statistic"
    max_walltime_minutes: float = 40.0
    min_acceptance_rate: float = 0.0
    max_simulations: int = 1_000_000
    sampler: str = "multicore"
    workers: int | None = None
    predictive_draws: int = 100
    tolerance: dict[str, float] = field(default_factory=lambda: dict(ob.MODEL_SD))
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = "<config>"

    def canonical(self) -> dict[str, Any]:
        d = {k: (_portable(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        d.pop("source")
        return d


REPOSITORY = Path(__file__).resolve().parents[1]


def _portable(path: Path) -> str:
    """A data file as a manifest records it: relative to the repository when it lies in
    it, so that a manifest (and its config hash) does not depend on where the
    repository was cloned."""
    try:
        return str(path.resolve().relative_to(REPOSITORY))
    except ValueError:
        return str(path)


_TOP = ("name", "run", "abc", "priors", "data", "tolerance", "parameters")
FIT_UNTIL = ("integer", START_YEAR + 1, ob.LAST_OBSERVED_YEAR)
"""Last observed year a calibration fits: at least one year after the initial state."""
_RUN = {"firms": ("integer", MIN_FIRMS, MAX_FIRMS), "population": ("choice", tuple(POPULATIONS),
                                                                 "population"),
        "seed": ("integer", 0, MAX_SEED), "fit_until": FIT_UNTIL}
_ABC = {"population_size": ("integer", 10, 100_000), "chains": ("integer", 1, 64),
        "max_populations": ("integer", 1, 1000),
        "target_epsilon": ("number", 0.1, 100.0),
        "likelihood": ("choice", tuple(LIKELIHOODS), "likelihood"),
        "max_walltime_minutes": ("number", 0.1, 10_000),
        "max_simulations": ("integer", 10, 10**9), "sampler": ("choice", SAMPLERS, "sampler"),
        "workers": ("integer", 1, 4096), "predictive_draws": ("integer", 5, 10_000),
        "min_acceptance_rate": ("number", 0.0, 1.0)}
"""Fields of the [run] and [abc] tables (model.errors.check_field rules)."""
_TOLERANCE = ob.SERIES


def load_calibration_config(path: str | Path) -> CalibrationConfig:
    """Read and validate a calibration file; every problem is reported at once,
    before any simulation."""
    path = Path(path)
    raw = read_toml(path)
    return parse_calibration_config(raw, str(path), path.parent)


def parse_calibration_config(raw: Mapping[str, Any], source: str = "<config>",
                             base_dir: Path | None = None) -> CalibrationConfig:
    errors: list[str] = []
    base_dir = base_dir or Path.cwd()
    collect_keys(raw, _TOP, "", errors)
    values: dict[str, Any] = {"source": source}
    name = raw.get("name", "calibration")
    if not isinstance(name, str) or not name:
        errors.append(f"name: expected a non-empty string, got {name!r}")
    values["name"] = name

    values.update(check_table(raw.get("run", {}), _RUN, "run", errors))
    values.update(check_table(raw.get("abc", {}), _ABC, "abc", errors))

    priors: dict[str, tuple[float, float]] = {}
    table = raw.get("priors")
    if table is None:
        errors.append("priors: at least one parameter with a prior is required, e.g. "
                      "basic_intercept = { low = -4.5, high = -2.0 }")
    elif collect_keys(table, PARAMETERS, "priors", errors):
        for pname, spec in table.items():
            if pname not in PARAMETERS:
                continue
            where = f"priors.{pname}"
            p = PARAMETERS[pname]
            bound = ("number", p.low, p.high, f"range of {pname}")
            before = len(errors)
            bounds = check_table(spec, {"low": bound, "high": bound}, where, errors,
                                 required=("low", "high"))
            if len(errors) > before:
                continue
            low, high = bounds["low"], bounds["high"]
            if not low < high:
                errors.append(f"{where}: low ({low:g}) must be below high ({high:g})")
                continue
            priors[pname] = (low, high)
        if not table:
            errors.append("priors: at least one parameter with a prior is required")
    values["priors"] = priors

    data = raw.get("data", {})
    files = {"dii": "eurostat_isoc_e_dii.csv", "advanced": "eurostat_advanced_history.csv",
             "cyber": "cybersecurity.csv"}
    shipped = REPOSITORY / "model" / "data"
    if collect_keys(data, files, "data", errors):
        for key, default in files.items():
            given = data.get(key)
            if given is not None and not isinstance(given, str):
                errors.append(f"data.{key}: expected a path, got {given!r}")
                continue
            p = (base_dir / given).resolve() if given else _shipped(default, shipped)
            if not p.is_file():
                errors.append(f"data.{key}: file not found: {p}")
            values[f"{key}_file"] = p

    merged = dict(CalibrationConfig.__dataclass_fields__["tolerance"].default_factory())
    merged.update(check_table(raw.get("tolerance", {}),
                              dict.fromkeys(_TOLERANCE, ("number", 0.0, 1.0)), "tolerance",
                              errors))
    values["tolerance"] = merged

    values["parameters"] = check_table(raw.get("parameters", {}), PARAMETER_RULES,
                                       "parameters", errors)
    for pname in sorted(set(values["parameters"]) & set(priors)):
        errors.append(f"parameters.{pname}: also has a prior; give it in one place")

    if errors:
        raise ConfigError(source, errors)
    return CalibrationConfig(**values)


def _shipped(name: str, shipped: Path) -> Path:
    # Installed package: the data sit next to the model module.
    if (shipped / name).is_file():
        return shipped / name
    import model

    return Path(model.__file__).resolve().parent / "data" / name


# --------------------------------------------------------------------- observations
def observations(config: CalibrationConfig) -> pd.DataFrame:
    """The observed record (see ``experiments.observations``) with the config's
    model-error allowances: one row per statistic."""
    try:
        record = ob.load_record(pd.read_csv(config.dii_file), pd.read_csv(config.advanced_file),
                                model_sd=config.tolerance,
                                cyber=pd.read_csv(config.cyber_file))
    except (KeyError, ValueError) as err:
        raise ConfigError(config.source, [f"data: cannot read the observations ({err})"]
                          ) from None
    return record.table


def distance_weights(stats: pd.DataFrame, likelihood: str) -> dict[str, float]:
    """1 / sd (``per_statistic``) or 1 / (sd x sqrt(statistics in its series))
    (``per_series``: every series weighs the same)."""
    count = (stats["series"].map(stats["series"].value_counts())
             if likelihood == "per_series" else pd.Series(1.0, index=stats.index))
    return dict(zip(stats["key"], 1.0 / (stats["sd"] * np.sqrt(count)), strict=True))


def statistic_weights(stats: pd.DataFrame, likelihood: str) -> np.ndarray:
    """``distance_weights`` in the order of the rows of ``stats``: what the distance
    multiplies each statistic's difference by."""
    return stats["key"].map(distance_weights(stats, likelihood)).to_numpy()


# --------------------------------------------------------------------- simulation
def calibration_model(params: Mapping[str, float], config: CalibrationConfig, seed: int,
                      end_year: int) -> SMEEconomy:
    """The model one calibration simulation runs, set up and not yet stepped."""
    return SMEEconomy(n_firms=config.firms, seed=seed,
                      parameters={**config.parameters, **params},
                      end_year=end_year, population=config.population,
                      record="survey_quarters")


def simulate_series(params: Mapping[str, float], config: CalibrationConfig, seed: int,
                    end_year: int) -> Mapping[tuple[str, str, int], float]:
    """Survey-year (Q1) values, 2021 to ``end_year``, keyed (indicator, segment, year)."""
    model = calibration_model(params, config, seed, end_year)
    model.run_until(end_year, 1)
    return model.survey_values()


@dataclass(frozen=True)
class DistanceTask:
    """A picklable batch of numbered simulations for a worker."""

    config: CalibrationConfig
    stats: pd.DataFrame
    weights: np.ndarray
    items: tuple[tuple[int, dict[str, float]], ...]


def simulated_readings(config: CalibrationConfig, stats: pd.DataFrame,
                       params: Mapping[str, float], seed: int) -> np.ndarray:
    """One simulation's survey readings of ``stats`` (no error drawn: the sampler's
    kernel is the error model)."""
    full = {**config.parameters, **params}
    values = simulate_series(full, config, seed, int(stats["year"].max()))
    return ob.readings(stats, values, full)


def distances(task: DistanceTask) -> list[tuple[int, float]]:
    """Weighted Euclidean distance to the observations of each numbered simulation."""
    observed = task.stats["value"].to_numpy()
    out = []
    for number, params in task.items:
        seed = simulation_seed(task.config.seed, number)
        diff = simulated_readings(task.config, task.stats, params, seed) - observed
        out.append((number, float(np.sqrt(np.sum((task.weights * diff) ** 2)))))
    return out


# --------------------------------------------------------------------- calibration
@dataclass
class CalibrationResult:
    posterior: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    forecast: pd.DataFrame
    populations: pd.DataFrame
    seconds: float
    simulations: int
    out: Path
    reached_target: bool = True  # False: a safety stop came first (see the manifest)


def calibrate(config: CalibrationConfig, out: str | Path | None = None,
              fit_until: int | None = None, sampler: str | None = None,
              workers: int | None = None, scheduler: str | None = None,
              progress: bool = True, chain: int | None = None) -> CalibrationResult:
    """Run ABC-SMC (``experiments.abc``) and write the posterior, its summary, the
    posterior-predictive fit, figures, a report and a manifest.

    ``progress`` prints one line per generation (tolerance, acceptance, simulations).
    ``chain`` runs that chain of the file's ``chains`` only (say, one cluster job per
    chain); ``pool_calibrations`` pools their outputs into the calibration itself.
    """
    if fit_until is not None:
        config = replace(config, fit_until=check_field(fit_until, FIT_UNTIL, "--fit-until"))
    if sampler is not None:
        config = replace(config, sampler=sampler)
    if workers is not None:
        config = replace(config, workers=workers)
    if chain is not None:
        check_field(chain, ("integer", 0, config.chains - 1), "--chain")
        config = replace(config, seed=chain_seed(config, chain), chains=1)
    out = Path(out) if out else Path("results") / config.name
    out.mkdir(parents=True, exist_ok=True)
    obs = observations(config)
    fit = fitted(obs, config.fit_until)
    if fit.empty:
        raise ConfigError(config.source, [f"run.fit_until: no observations up to "
                                          f"{config.fit_until} after the initial year"])
    weights = statistic_weights(fit, config.likelihood)

    start = time.perf_counter()
    started = now()
    chains = run_chains(config, fit, weights, scheduler, progress)
    seconds = time.perf_counter() - start

    posterior = pool_chains([c.particles for c in chains], config.parameters,
                            [c.weights for c in chains])
    atomic_write_parquet(out / "posterior.parquet", posterior)
    manifest = {
        "name": config.name, "config": config.canonical(),
        "config_hash": content_hash(config.canonical()), "versions": versions(),
        "git_commit": git_commit(), "started": started, "finished": now(),
        "seconds": round(seconds, 1), "observations_fitted": len(fit),
        "fit_until": config.fit_until,
        **chain_manifest([chain_record(config, c, r) for c, r in enumerate(chains)]),
    }
    return summarise_calibration(config, posterior, manifest, out)


POOLED_FREELY = ("seed", "chains", "workers", "sampler", "max_walltime_minutes")
"""Settings in which the chains of one calibration may differ (how and where they ran;
whether the wall-time safety stop fired is in each chain's own record)."""

CHAIN_RECORD = ("simulations", "stop_reason", "stopped_early", "reached_target", "epsilon",
                "populations", "seconds", "git_commit", "started", "finished",
                "observations_fitted")
"""What pooling keeps of each chain's run."""


def pool_calibrations(config: CalibrationConfig, directories: list[str | Path],
                      out: str | Path | None = None, fit_until: int | None = None
                      ) -> CalibrationResult:
    """Pool calibrations of ``config`` run separately into the calibration itself: the
    same posterior, summary, fit, report and manifest as running the chains together.
    A directory holds one chain (``calibrate(..., chain=c)``, or the same file with
    seed + c) or several (an earlier calibration of the file: more chains added later).

    Each directory's manifest must hold ``config`` (up to ``POOLED_FREELY`` and where
    the data files lie) with seeds that make its chains distinct chains of the file.
    """
    if fit_until is not None:
        config = replace(config, fit_until=check_field(fit_until, FIT_UNTIL, "--fit-until"))
    expected = _poolable(config)
    parts: dict[int, tuple[pd.DataFrame, dict[str, Any]]] = {}
    errors = []
    for d in map(Path, directories):
        try:
            manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            posterior = pd.read_parquet(d / "posterior.parquet")
        except (OSError, ValueError) as err:
            errors.append(f"--pool {d}: not a calibration's output ({err})")
            continue
        given = _poolable_raw(manifest.get("config", {}))
        differ = sorted(k for k in set(expected) | set(given)
                        if expected.get(k) != given.get(k))
        if differ:
            errors.append(f"--pool {d}: a calibration with other settings ({', '.join(differ)})")
            continue
        chains = _chains_in(posterior, manifest)
        if not chains:
            errors.append(f"--pool {d}: its posterior has chains its manifest does not record")
        for seed, part, record in chains:
            c = seed - config.seed
            if not 0 <= c < config.chains:
                errors.append(f"--pool {d}: seed {seed} is not one of the "
                              f"{config.chains} chains (seeds {config.seed} to "
                              f"{chain_seed(config, config.chains - 1)})")
            elif c in parts:
                errors.append(f"--pool {d}: chain {c} (seed {seed}) given twice")
            else:
                parts[c] = (part, record)
    if not errors and len(parts) != config.chains:
        errors.append(f"--pool: {len(parts)} of the {config.chains} chains given")
    if errors:
        raise ConfigError(config.source, errors)
    out = Path(out) if out else Path("results") / config.name
    out.mkdir(parents=True, exist_ok=True)
    order = sorted(parts)
    posterior = pool_chains([parts[c][0][list(config.priors)] for c in order],
                            config.parameters,
                            [parts[c][0]["weight"].to_numpy(float) for c in order])
    atomic_write_parquet(out / "posterior.parquet", posterior)
    runs = [parts[c][1] for c in order]
    records = [{"chain": c, "seed": chain_seed(config, c),
                **{k: m[k] for k in CHAIN_RECORD if k != "observations_fitted"}}
               for c, m in zip(order, runs, strict=True)]
    manifest = {
        "name": config.name, "config": config.canonical(),
        "config_hash": content_hash(config.canonical()), "versions": versions(),
        "git_commit": git_commit(), "started": min(m["started"] for m in runs),
        "finished": now(), "seconds": max(m["seconds"] for m in runs),
        "observations_fitted": runs[0]["observations_fitted"], "fit_until": config.fit_until,
        "pooled_from": [str(d) for d in directories], **chain_manifest(records),
    }
    return summarise_calibration(config, posterior, manifest, out)


def _chains_in(posterior: pd.DataFrame, manifest: dict[str, Any]
               ) -> list[tuple[int, pd.DataFrame, dict[str, Any]]]:
    """The chains a calibration's output holds: (seed, particles, the chain's record)."""
    if "chain" not in posterior:
        return [(int(manifest.get("config", {}).get("seed", -1)), posterior,
                 {k: manifest.get(k) for k in CHAIN_RECORD})]
    out = []
    for r in manifest.get("chains", []):
        generations = [{**{k: v for k, v in g.items() if k != "chain"},
                        "epsilon": _finite(g.get("epsilon"))}
                       for g in manifest.get("populations", []) if g.get("chain") == r["chain"]]
        record = {**{k: manifest.get(k) for k in CHAIN_RECORD}, **r,
                  "epsilon": _finite(r.get("epsilon")), "populations": generations}
        out.append((int(r["seed"]), posterior[posterior["chain"] == r["chain"]], record))
    return out


def _finite(value: Any) -> Any:
    """A manifest's number, or None for what strict JSON cannot hold (NaN, infinity)."""
    return value if value is None or math.isfinite(value) else None


def _poolable(config: CalibrationConfig) -> dict[str, Any]:
    # Through JSON, as a manifest holds it (tuples become lists).
    return _poolable_raw(json.loads(json.dumps(config.canonical(), default=str)))


def _poolable_raw(canonical: Mapping[str, Any]) -> dict[str, Any]:
    # Data files by name: the chains may have run from different checkouts.
    return {k: (Path(v).name if k.endswith("_file") else v) for k, v in canonical.items()
            if k not in POOLED_FREELY}


def chain_seed(config: CalibrationConfig, chain: int) -> int:
    """Chain ``chain`` of a calibration is the one-chain calibration with this seed."""
    return config.seed + chain


def run_chains(config: CalibrationConfig, fit: pd.DataFrame, weights: np.ndarray,
               scheduler: str | None, progress: bool) -> list[ABCResult]:
    """Run ``config.chains`` independent ABC-SMC chains, side by side.

    Why several: one chain's posterior, and every P(hit) drawn from it, carries a
    Monte Carlo error that independent chains both reduce and measure
    (``chain_agreement``): a chain that settled in one region of a weakly identified
    posterior is exposed by the others.
    Chain c is exactly the one-chain calibration with seed ``seed + c``; local chains
    run in their own processes, each with an equal share of the workers, Dask chains
    share the cluster, and with the ``single`` sampler they run one after another
    (each with the whole wall time); the result does not depend on how the chains are
    scheduled.
    """
    total = config.workers or os.cpu_count() or 1
    each = max(1, total // config.chains)
    configs = [replace(config, seed=chain_seed(config, c), chains=1, workers=each)
               for c in range(config.chains)]
    labels = [f"chain {c}: " if config.chains > 1 else "" for c in range(config.chains)]
    if config.chains == 1 or config.sampler == "single":
        return [run_chain(c, fit, weights, scheduler, progress, lab)
                for c, lab in zip(configs, labels, strict=True)]
    if config.sampler == "dask":
        # One cluster, shared: the chains submit their simulations from threads.
        executor = make_executor("dask", total, scheduler)
        try:
            with ThreadPoolExecutor(config.chains) as pool:
                futures = [pool.submit(run_chain, c, fit, weights, scheduler, progress, lab,
                                       executor) for c, lab in zip(configs, labels, strict=True)]
                return [f.result() for f in futures]
        finally:
            executor.close()
    # The chains ignore Ctrl-C; this process answers it (or SIGTERM, which the command
    # line turns into the same) by asking them to stop, and each hands back its last
    # complete generation.
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    pool = ProcessPoolExecutor(config.chains, mp_context=ctx, initializer=_chain_process,
                               initargs=(stop,))
    futures = [pool.submit(run_chain, c, fit, weights, None, progress, lab)
               for c, lab in zip(configs, labels, strict=True)]
    try:
        try:
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            stop.set()
            done, _ = wait(futures, timeout=INTERRUPT_GRACE_S)
            if len(done) < len(futures):
                raise
            return [f.result() for f in futures]
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


_STOP: Any = None
"""In a chain's process: the event its calibration sets to stop it."""


def _chain_process(stop: Any) -> None:
    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_chain(config: CalibrationConfig, fit: pd.DataFrame, weights: np.ndarray,
              scheduler: str | None, progress: bool, label: str = "",
              executor: Any = None) -> ABCResult:
    """One ABC-SMC chain with ``config.seed`` on ``config.workers`` workers (or on a
    shared ``executor``)."""
    own = executor is None
    if own:
        executor = make_executor("dask" if config.sampler == "dask" else "local",
                                 1 if config.sampler == "single" else config.workers,
                                 scheduler if config.sampler == "dask" else None,
                                 keep_alive=True)
    n_workers = getattr(executor, "workers", None) or config.workers or 1

    def simulate(items):
        tasks = [DistanceTask(config, fit, weights, tuple(part))
                 for part in chunks(items, 4 * n_workers)]
        return [pair for res in executor.imap_unordered(distances, tasks) for pair in res]

    try:
        return smc_abc(simulate, config.priors, config.population_size, config.seed,
                       min_epsilon=config.target_epsilon,
                       max_generations=config.max_populations,
                       min_acceptance=config.min_acceptance_rate,
                       max_simulations=config.max_simulations,
                       max_seconds=60 * config.max_walltime_minutes,
                       log=(lambda m: print(label + m, flush=True)) if progress else None,
                       stop_requested=_STOP.is_set if _STOP is not None else None)
    finally:
        if own and hasattr(executor, "close"):
            executor.close()


def pool_chains(particles: list[pd.DataFrame], fixed: Mapping[str, float],
                weights: Sequence[np.ndarray] | None = None) -> pd.DataFrame:
    """The chains' final populations as one posterior sample, each chain weighing the
    same (column ``weight``: a chain's particles keep their relative ``weights``, equal
    if not given), with the parameters the calibration held ``fixed`` (they travel with
    the posterior, so an experiment drawing from it simulates the history that was
    fitted); with more than one chain, column ``chain`` says which chain each particle
    came from."""
    posterior = pd.concat([p.reset_index(drop=True) for p in particles], ignore_index=True)
    for name, value in fixed.items():
        posterior[name] = float(value)
    if len(particles) > 1:
        posterior["chain"] = np.repeat(np.arange(len(particles)), [len(p) for p in particles])
    if weights is None or all(equally_weighted(w) for w in weights):
        # Equal weights written as before, so that a pooled calibration of equally
        # weighted chains reproduces its earlier posterior file exactly.
        posterior["weight"] = 1.0 / len(posterior)
    else:
        posterior["weight"] = np.concatenate(
            [np.asarray(w, float) / np.sum(w) / len(particles) for w in weights])
    return posterior


def chain_record(config: CalibrationConfig, chain: int, result: ABCResult) -> dict[str, Any]:
    """What the manifest keeps of one chain's run."""
    return {"chain": chain, "seed": chain_seed(config, chain),
            "simulations": result.simulations, "stop_reason": result.stop_reason,
            "stopped_early": result.interrupted, "reached_target": result.reached,
            "epsilon": result.epsilon if math.isfinite(result.epsilon) else None,
            "populations": result.generation_records()}


def chain_manifest(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Simulations, stop reasons, tolerances and generations over all chains, and with
    more than one chain each chain's own record (``chains``, generations left out:
    they are under ``populations``, tagged with their chain)."""
    out = {
        "simulations": sum(r["simulations"] for r in records),
        "stopped_early": any(r["stopped_early"] for r in records),
        "stop_reason": "; ".join(dict.fromkeys(r["stop_reason"] for r in records)),
        "reached_target": all(r["reached_target"] for r in records),
        "epsilon": max((r["epsilon"] for r in records),
                       key=lambda e: math.inf if e is None else e),
        "populations": [{**g, "chain": r["chain"]} for r in records for g in r["populations"]],
    }
    if len(records) > 1:
        out["chains"] = [{k: v for k, v in r.items() if k != "populations"} for r in records]
    return out


def summarise_calibration(config: CalibrationConfig, posterior: pd.DataFrame,
                          manifest: dict[str, Any], out: Path) -> CalibrationResult:
    """From a posterior: its summary, the posterior-predictive fit and back-test errors,
    the unfitted size-class predictions, figures, report and manifest."""
    obs = observations(config)
    summary = posterior_summary(posterior, config)
    atomic_write_text(out / "posterior_summary.csv", summary.to_csv(index=False))
    pops = pd.DataFrame(manifest["populations"])
    predictive = posterior_predictive(posterior, config, obs)
    atomic_write_parquet(out / "predictive.parquet", predictive)
    forecast = forecast_errors(predictive, obs, config.fit_until)
    atomic_write_text(out / "fit.csv", forecast.to_csv(index=False))
    split = size_split(predictive)
    atomic_write_text(out / "size_split.csv", split.to_csv(index=False))
    noise = simulation_noise(posterior, config, obs)
    atomic_write_text(out / "simulation_noise.csv", noise.to_csv(index=False))

    from . import plots

    past = backcast.backcast(
        posterior, obs, lambda params, seed: calibration_model(params, config, seed, START_YEAR),
        config.seed, min(backcast.BACKCAST_DRAWS, config.predictive_draws), config.parameters)
    atomic_write_text(out / "backcast.csv", past.to_csv(index=False))
    if not past.empty:
        plots.backcast(past, forecast, out / "figures")

    joint = joint_identification(posterior, config.priors)
    plots.calibration_fit(predictive, forecast, out / "figures")
    plots.posterior_marginals(posterior, config.priors, out / "figures")
    manifest = {
        **manifest,
        "forecast_mae_pp": _mae(forecast, held_out=True),
        "fit_mae_pp": _mae(forecast, held_out=False),
        "forecast_inside_90": _inside(forecast, held_out=True),
        "fit_inside_90": _inside(forecast, held_out=False),
        "weakly_identified": summary.loc[~summary["identified"], "parameter"].tolist(),
        "combinations_pinned_down": joint.pinned,
        **noise_summary(noise),
        **backcast.manifest_entry(past),
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    atomic_write_text(out / "report.md", render(config, summary, forecast, pops, manifest,
                                                split, joint, noise, past))
    return CalibrationResult(posterior=posterior, summary=summary, predictive=predictive,
                             forecast=forecast, populations=pops,
                             seconds=float(manifest["seconds"]),
                             simulations=int(manifest["simulations"]), out=out,
                             reached_target=bool(manifest.get("reached_target", True)))


def posterior_summary(posterior: pd.DataFrame, config: CalibrationConfig) -> pd.DataFrame:
    """Weighted median and 90% interval of each parameter, with prior and default."""
    w = posterior["weight"].to_numpy()
    rows = []
    for name, (low, high) in config.priors.items():
        q05, q50, q95 = weighted_quantiles(posterior[name].to_numpy(), w, [0.05, 0.5, 0.95])
        width = (q95 - q05) / (high - low)
        rows.append({"parameter": name, "median": q50, "q05": q05, "q95": q95,
                     "prior_low": low, "prior_high": high,
                     "default": PARAMETERS[name].default,
                     "unit": PARAMETERS[name].unit, "width_ratio": width,
                     "identified": bool(width <= IDENTIFIED_WIDTH),
                     **chain_agreement(posterior, name, q95 - q05)})
    return pd.DataFrame(rows)


RHAT_LIMIT = 1.1
"""Chains agree on a parameter when its potential scale reduction is below this
(Gelman and Rubin 1992; the customary threshold)."""


def chain_agreement(posterior: pd.DataFrame, name: str, width: float) -> dict[str, float]:
    """How far independent chains agree on parameter ``name``: Gelman and Rubin's
    potential scale reduction (``rhat``: 1 when the chains sample one distribution)
    and the spread of the chains' medians over the pooled 90% interval's ``width``
    (``chain_shift``). NaN with one chain."""
    if "chain" not in posterior or posterior["chain"].nunique() < 2:
        return {"rhat": math.nan, "chain_shift": math.nan}
    # Each chain's weighted mean, variance (unbiased for its weights) and median, its
    # effective sample size for n: with equal weights, Gelman and Rubin's own statistics.
    stats = []
    for _, g in posterior.groupby("chain"):
        x, w = g[name].to_numpy(float), _weights(g)
        w = w / w.sum()
        m = float(np.sum(w * x))
        ess = effective_sample_size(w)
        stats.append((m, float(np.sum(w * (x - m) ** 2)) * ess / max(ess - 1.0, 1e-12),
                      weighted_quantiles(x, w, [0.5])[0], ess))
    means, variances, medians, sizes = (np.array(c) for c in zip(*stats, strict=True))
    n, within = float(sizes.mean()), float(variances.mean())
    between = n * float(means.var(ddof=1))
    if within <= 0:
        rhat = 1.0 if between <= 0 else math.inf
    else:
        rhat = math.sqrt(((n - 1) / n * within + between / n) / within)
    shift = float(medians.max() - medians.min()) / width if width > 0 else math.nan
    return {"rhat": rhat, "chain_shift": shift}


def _weights(frame: pd.DataFrame) -> np.ndarray:
    """The particles' weights; equal without a ``weight`` column."""
    return frame["weight"].to_numpy(float) if "weight" in frame else np.ones(len(frame))


@dataclass(frozen=True)
class JointIdentification:
    """How many combinations of the calibrated parameters the data pin down.

    A parameter's marginal width misses what the record does pin down when parameters
    trade off (an intercept against a benefit gain): the posterior's principal
    directions, each parameter scaled to its prior range (so the uniform prior has the
    same spread, 1/sqrt(12), along every direction), say how many combinations are
    pinned down and which are not."""

    spread: np.ndarray  # posterior sd / prior sd along each principal direction, widest first
    loadings: np.ndarray  # (parameters, directions): the directions, widest first
    names: tuple[str, ...]
    within: int | None  # pinned down by the chains' own spread (None: one chain)
    rhat: np.ndarray | None  # potential scale reduction along each direction (one chain: None)

    @property
    def pinned(self) -> int:
        return int((self.spread <= PINNED_SD).sum())

    def widest(self, k: int, terms: int = 3) -> list[tuple[float, list[tuple[str, float]]]]:
        """The ``k`` widest directions: spread, and their ``terms`` largest loadings."""
        out = []
        for d in range(min(k, len(self.spread))):
            v = self.loadings[:, d] * np.sign(self.loadings[np.argmax(
                np.abs(self.loadings[:, d])), d])
            top = np.argsort(-np.abs(v), kind="stable")[:terms]
            out.append((float(self.spread[d]), [(self.names[i], float(v[i])) for i in top]))
        return out


def joint_identification(posterior: pd.DataFrame,
                         priors: Mapping[str, tuple[float, float]]) -> JointIdentification:
    """Principal directions of the weighted posterior in prior-range units."""
    names = tuple(priors)
    low = np.array([priors[n][0] for n in names])
    span = np.array([priors[n][1] - priors[n][0] for n in names])
    prior_sd = 1.0 / math.sqrt(12.0)

    def scaled(frame: pd.DataFrame) -> np.ndarray:
        return (frame[list(names)].to_numpy() - low) / span

    def directions(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, vectors = np.linalg.eigh(np.atleast_2d(cov))
        order = np.argsort(-values, kind="stable")
        return np.sqrt(np.clip(values[order], 0.0, None)) / prior_sd, vectors[:, order]

    spread, loadings = directions(np.cov(scaled(posterior).T, aweights=_weights(posterior)))
    within, rhat = None, None
    if "chain" in posterior and posterior["chain"].nunique() > 1:
        # The chains' own spread, averaged (the multivariate analogue of the within-chain
        # variance of the potential scale reduction): one chain's covariance alone would
        # be estimated from too few particles for 37 dimensions. Each chain's weighted
        # covariance counts by its effective sample size (with equal weights, the usual
        # pooled covariance).
        chains = [g for _, g in posterior.groupby("chain")]
        sizes = [effective_sample_size(_weights(g)) for g in chains]
        pooled_within = sum(np.cov(scaled(g).T, aweights=_weights(g)) * (m - 1)
                            for g, m in zip(chains, sizes, strict=True)) / (
            sum(sizes) - len(chains))
        within = int((directions(pooled_within)[0] <= PINNED_SD).sum())
        projected = pd.DataFrame(scaled(posterior) @ loadings)
        projected["chain"] = posterior["chain"].to_numpy()
        projected["weight"] = _weights(posterior)
        rhat = np.array([chain_agreement(projected, d, 1.0)["rhat"]
                         for d in range(len(names))])
    return JointIdentification(spread, loadings, names, within, rhat)


SIZE_SPLIT = tuple((ind, seg) for ind in ("ai", "cloud", "data_analytics")
                   for seg in ("10-49", "50-249"))
"""Predicted but not fitted: NL's advanced-technology use by size class, which the shipped
data hold out as a test of the size mechanism (written to size_split.csv)."""


def posterior_predictive(posterior: pd.DataFrame, config: CalibrationConfig,
                         obs: pd.DataFrame) -> pd.DataFrame:
    """Survey readings, with model and sampling error, of every statistic from 2021 on, for draws
    of the posterior (new seeds): columns key, draw, value. Rows keyed
    ``split:<indicator>@<segment>:<year>`` hold the unfitted size-class predictions."""
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1,)))
    w = posterior["weight"].to_numpy()
    rows = systematic_rows(w, config.predictive_draws, rng)
    seeds = rng.integers(0, 2**31 - 1, size=config.predictive_draws)
    stats = obs[obs["role"] != "before start"].reset_index(drop=True)
    end = int(stats["year"].max())
    frames = []
    for k, (row, seed) in enumerate(zip(rows, seeds, strict=True)):
        params = {**config.parameters, **posterior_row(posterior, int(row))}
        values = simulate_series(params, config, int(seed), end)
        survey = ob.readings(stats, values, params, rng=np.random.default_rng([int(seed), 2]))
        frames.append(pd.DataFrame({"key": stats["key"], "draw": k, "value": survey}))
        split = {f"split:{i}@{g}:{y}": ob.survey_value(i, g, y, values, params)
                 for i, g in SIZE_SPLIT for y in range(2021, end + 1) if (i, g, y) in values}
        frames.append(pd.DataFrame({"key": list(split), "draw": k, "value": list(split.values())}))
    return pd.concat(frames, ignore_index=True)


def size_split(predictive: pd.DataFrame) -> pd.DataFrame:
    """Predicted use of AI, cloud and data analytics by size class (median and 90%
    band of the survey reading without sampling error): a forecast to set against
    NL's held-out split."""
    sel = predictive[predictive["key"].str.startswith("split:")]
    q = sel.groupby("key")["value"].quantile([0.05, 0.5, 0.95]).unstack()
    parts = q.index.str.removeprefix("split:").str.extract(r"(.+)@(.+):(\d+)")
    return pd.DataFrame({"indicator": parts[0].to_numpy(), "segment": parts[1].to_numpy(),
                         "year": parts[2].astype(int).to_numpy(), "median": q[0.5].to_numpy(),
                         "p05": q[0.05].to_numpy(), "p95": q[0.95].to_numpy()}
                        ).sort_values(["indicator", "year", "segment"]).reset_index(drop=True)


NOISE_DRAWS, NOISE_SEEDS = 4, 16
"""Posterior draws, and seeds per draw, of the simulation-noise check."""


def simulation_noise(posterior: pd.DataFrame, config: CalibrationConfig,
                     obs: pd.DataFrame) -> pd.DataFrame:
    """How much of each fitted statistic's kernel the simulation's own randomness fills.

    A simulation of ``config.firms`` firms reads each statistic with noise of its own (a
    finite number of firms deciding at random), and the Gaussian kernel's posterior is
    exact for an error model whose variance is the kernel's plus that noise's (Wilkinson
    2013), not the kernel's alone. Per fitted statistic: the kernel sd (the sd the
    distance divides by), the simulation's sd between seeds at a fixed parameter set
    (pooled over ``NOISE_DRAWS`` posterior draws, ``NOISE_SEEDS`` seeds each), and their
    ratio; ``sqrt(1 + ratio^2)`` is how much wider the error model the posterior stands
    for is than the stated one."""
    stats = fitted(obs, config.fit_until)
    kernel_sd = 1.0 / statistic_weights(stats, config.likelihood)
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(5,)))
    rows = systematic_rows(posterior["weight"].to_numpy(), NOISE_DRAWS, rng)
    seeds = rng.integers(0, 2**31 - 1, size=(NOISE_DRAWS, NOISE_SEEDS))
    variance = np.zeros(len(stats))
    for row, draw_seeds in zip(rows, seeds, strict=True):
        params = posterior_row(posterior, int(row))
        readings = np.array([simulated_readings(config, stats, params, int(seed))
                             for seed in draw_seeds])
        variance += readings.var(axis=0, ddof=1) / NOISE_DRAWS
    sim_sd = np.sqrt(variance)
    return pd.DataFrame({"key": stats["key"], "series": stats["series"],
                         "segment": stats["segment"], "year": stats["year"],
                         "kernel_sd": kernel_sd, "simulation_sd": sim_sd,
                         "ratio": sim_sd / kernel_sd})


def noise_summary(noise: pd.DataFrame) -> dict[str, float]:
    """The simulation noise in two numbers for the manifest: its median ratio to the
    kernel sd, and the error model's sd against the stated one (root mean square over
    the statistics of ``sqrt(1 + ratio^2)``)."""
    return {"simulation_noise_ratio": round(float(noise["ratio"].median()), 3),
            "error_model_inflation": round(float(np.sqrt(1.0 + (noise["ratio"] ** 2).mean())),
                                           3)}


def forecast_errors(predictive: pd.DataFrame, obs: pd.DataFrame, fit_until: int
                    ) -> pd.DataFrame:
    """Per statistic: predictive median and 90% band (model and sampling error), error,
    whether the observation lies inside, and its role (fitted, held out, initial)."""
    q = predictive.groupby("key")["value"].quantile([0.05, 0.5, 0.95]).unstack()
    rows = []
    for o in obs.itertuples():
        if o.key not in q.index:
            continue
        lo, med, hi = q.loc[o.key]
        scale = 1.0 if o.kind == "gradient" else 100.0
        rows.append({"key": o.key, "series": o.series, "code": o.code,
                     "indicator": o.indicator, "segment": o.segment, "year": o.year,
                     "kind": o.kind, "observed": o.value, "median": med, "p05": lo, "p95": hi,
                     "error_pp": scale * (med - o.value),
                     "inside_90": bool(lo <= o.value <= hi),
                     "role": "initial" if o.role == "initial" else
                     ("fitted" if o.year <= fit_until else "held out")})
    return pd.DataFrame(rows)


def survey_shares(forecast: pd.DataFrame, held_out: bool) -> pd.DataFrame:
    """Statistics in percentage points (the size gradient, in log-odds, is apart)."""
    return forecast[(forecast["role"] == ("held out" if held_out else "fitted"))
                    & (forecast["kind"] == "share")]


def _mae(forecast: pd.DataFrame, held_out: bool) -> float | None:
    sel = survey_shares(forecast, held_out)
    return round(float(sel["error_pp"].abs().mean()), 2) if len(sel) else None


def _inside(forecast: pd.DataFrame, held_out: bool) -> float | None:
    sel = survey_shares(forecast, held_out)
    return round(float(sel["inside_90"].mean()), 3) if len(sel) else None


def series_errors(forecast: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute error and coverage per series and role."""
    f = forecast[forecast["role"] != "initial"]
    g = f.groupby(["role", "series"])
    return pd.DataFrame({"statistics": g.size(), "mae": g["error_pp"].apply(
        lambda e: e.abs().mean()), "inside_90": g["inside_90"].mean()}).reset_index()


def _statistic_row(r: Any) -> tuple[str, ...]:
    # Shares in percentage points; the size gradient stays in log-odds.
    k, unit = (1.0, "") if r.kind == "gradient" else (100.0, " pp")
    return (f"{r.code} ({r.indicator})", r.segment, str(r.year), r.role,
            f"{k * r.observed:.2f}", f"{k * r.median:.2f}",
            f"{k * r.p05:.2f} to {k * r.p95:.2f}", f"{r.error_pp:+.2f}{unit}")


def _size_rows(split: pd.DataFrame | None) -> list[tuple[str, ...]]:
    if split is None or not len(split):
        return []
    rows = []
    for (ind, year), g in split[split["year"] >= 2023].groupby(["indicator", "year"]):
        cells = {r.segment: f"{100 * r.median:.1f} ({100 * r.p05:.1f}-{100 * r.p95:.1f})"
                 for r in g.itertuples()}
        rows.append((ind, str(year), cells.get("10-49", "-"), cells.get("50-249", "-")))
    return rows


def _particles(config: CalibrationConfig, manifest: dict[str, Any], pops: pd.DataFrame) -> str:
    n = config.population_size
    chains = manifest.get("chains")
    lead = (f"{len(chains)} independent chains of {n} particles, pooled" if chains
            else f"{n} particles")
    if pops.empty or not {"t", "mcmc_steps", "ess"} <= set(pops):
        return lead.replace(" particles", " equally weighted particles")
    last = pops.groupby("chain").tail(1) if "chain" in pops else pops.tail(1)
    reweighted = last[(last["t"] > 0) & (last["mcmc_steps"] == 0)]
    if reweighted.empty:
        return lead.replace(" particles", " equally weighted particles")
    ess = reweighted["ess"]
    span = f"{ess.min():.0f}" if len(ess) == 1 else f"{ess.min():.0f}-{ess.max():.0f}"
    whose = ("the" if not chains else "each chain's" if len(reweighted) == len(chains)
             else f"{len(reweighted)} chains'")
    return (f"{lead}, {whose} last generation reweighted to the target (effective "
            f"sample size {span} of {n})")


def _chains_section(summary: pd.DataFrame, manifest: dict[str, Any]) -> str:
    chains = manifest.get("chains")
    if not chains:
        return ""
    table = markdown_table(
        [(c["chain"], c["seed"], f"{c['simulations']:,}", _epsilon(c["epsilon"]),
          c["stop_reason"]) for c in chains],
        ["chain", "seed", "simulations", "final tolerance (epsilon)", "stopped"])
    bad = summary[summary["rhat"] > RHAT_LIMIT]
    verdict = ("The chains agree on every parameter (potential scale reduction below "
               f"{RHAT_LIMIT})." if bad.empty else
               f"The chains disagree (potential scale reduction above {RHAT_LIMIT}) on "
               + ", ".join(f"`{r.parameter}` ({r.rhat:.2f}; medians apart by "
                           f"{r.chain_shift:.2f} of the 90% interval)"
                           for r in bad.itertuples())
               + ": the pooled posterior spans both, and one chain alone would have "
                 "given a different answer.")
    return f"""
## Chains

Independent chains (chain c is the one-chain calibration with seed + c), pooled with
equal weight. Pooling divides the Monte Carlo variance of everything drawn from the
posterior by the number of chains, and their agreement (Gelman and Rubin's potential
scale reduction, `rhat` in posterior_summary.csv) tests whether one chain alone would
have told the same story.

{table}

{verdict}
"""


def _epsilon(value: Any) -> str:
    return "prior" if value is None or not math.isfinite(value) else f"{value:.3g}"


def _acceptance(value: Any) -> str:
    return "none (reweighted)" if value is None or not math.isfinite(value) else f"{value:.3f}"


def _ess(row: Any) -> str:
    value = getattr(row, "ess", None)
    return "" if value is None or not math.isfinite(value) else f"{value:.0f}"


def _target_note(config: CalibrationConfig, manifest: dict[str, Any]) -> str:
    if manifest.get("reached_target"):
        return (f"Every chain reached the target tolerance epsilon = {config.target_epsilon:g}"
                + (": the posterior under the stated error model." if
                   config.target_epsilon == 1 else "."))
    final = _epsilon(manifest.get("epsilon"))
    return (f"**Not every chain reached the target tolerance** (epsilon = "
            f"{config.target_epsilon:g}; largest final epsilon {final}): "
            "the particles sample a wider distribution than the posterior, and P(hit) drawn "
            "from them carries more uncertainty than the data leave.")


def _value(x: float) -> str:
    # Three significant digits, except calendar years (2024.3, not 2.02e+03).
    return f"{x:.1f}" if abs(x) >= 1000 else f"{x:.3g}"


def _joint_section(joint: JointIdentification | None) -> str:
    if joint is None:
        return ""
    n = len(joint.names)
    pinned = joint.spread <= PINNED_SD
    text = ("Parameters trade off, so the record can pin down a combination of parameters "
            "it cannot separate. Scaled to its prior range, the posterior's principal "
            "directions show how many combinations the data pin down (standard deviation "
            f"along the direction at most {PINNED_SD:.0%} of the prior's): "
            f"**{joint.pinned} of {n}**.")
    if joint.within is not None and joint.rhat is not None:
        text += (" Measured by the chains' own spread (their covariances averaged): "
                 f"{joint.within}.")
        if pinned.any():
            text += (f" Along the {int(pinned.sum())} pinned-down combinations the chains "
                     "agree" if (joint.rhat[pinned] <= RHAT_LIMIT).all() else
                     f" Along the {int(pinned.sum())} pinned-down combinations the chains "
                     f"disagree on {int((joint.rhat[pinned] > RHAT_LIMIT).sum())}")
            text += f" (potential scale reduction at most {joint.rhat[pinned].max():.2f})."
        if (~pinned).any():
            text += (f" Along the {int((~pinned).sum())} combinations the data leave open "
                     f"they disagree on {int((joint.rhat[~pinned] > RHAT_LIMIT).sum())} "
                     f"(at most {joint.rhat[~pinned].max():.2f}).")
    text = textwrap.fill(text + " The three least determined combinations (spread: "
                         "posterior over prior standard deviation; loadings on the "
                         "parameters scaled to their prior ranges):", 88)
    widest = "\n".join(
        f"- spread {sd:.2f}: " + ", ".join(f"{'+' if w >= 0 else '-'}{abs(w):.2f} `{name}`"
                                           for name, w in terms)
        for sd, terms in joint.widest(3))
    return f"""
{text}

{widest}
"""


def _noise_section(config: CalibrationConfig, noise: pd.DataFrame | None) -> str:
    if noise is None or noise.empty:
        return ""
    worst = noise.loc[noise["ratio"].idxmax()]
    per = noise.groupby("series", sort=False)["ratio"].agg(["size", "median", "max"])
    table = markdown_table([(name, int(r["size"]), f"{r['median']:.2f}", f"{r['max']:.2f}")
                            for name, r in per.iterrows()],
                           ["series", "statistics", "median ratio", "largest"])
    summary = noise_summary(noise)
    return f"""
## Simulation noise

Each simulation reads the statistics from {config.firms:,} simulated firms, whose random
decisions add noise of their own. Between seeds at a fixed parameter set
({NOISE_DRAWS} posterior draws, {NOISE_SEEDS} seeds each) its sd is a median
{summary['simulation_noise_ratio']:.2f} of the kernel's sd (the sd the distance divides
by; largest {worst['ratio']:.2f}, {worst['series']} of {worst['segment']} in
{int(worst['year'])}). The Gaussian kernel's posterior is exact for an error model whose
variance adds the two (Wilkinson 2013), so this posterior stands for an error model about
{summary['error_model_inflation']:.2f} times as wide as the stated one (root mean square
over the fitted statistics), a little wider than the stated one alone would give. More
firms per simulation would narrow it, at their cost (docs/ODD.md 9). Per statistic:
`simulation_noise.csv`.

{table}
"""


def render(config: CalibrationConfig, summary: pd.DataFrame, forecast: pd.DataFrame,
           pops: pd.DataFrame, manifest: dict[str, Any], split: pd.DataFrame | None = None,
           joint: JointIdentification | None = None, noise: pd.DataFrame | None = None,
           past: pd.DataFrame | None = None) -> str:
    table = markdown_table(
        [(f"`{r.parameter}`", _value(r.median), f"{_value(r.q05)} to {_value(r.q95)}",
          f"U({r.prior_low:g}, {r.prior_high:g})", f"{r.width_ratio:.2f}",
          "yes" if r.identified else "**weakly**", r.unit) for r in summary.itertuples()],
        ["parameter", "median", "90% interval", "prior", "width / prior", "identified", "unit"])
    chained = "chain" in pops and pops["chain"].nunique() > 1
    gens = markdown_table(
        [((int(r.chain),) if chained else ()) + (
            int(r.t), _epsilon(r.epsilon), _ess(r), _acceptance(r.acceptance),
            int(r.mcmc_steps),
            int(r.samples)) for r in pops.itertuples()],
        (["chain"] if chained else [])
        + ["generation", "tolerance (epsilon)", "effective sample size", "MCMC acceptance",
           "MCMC steps", "simulations"])
    per = markdown_table(
        [(r.role, r.series, r.statistics,
          f"{r.mae:.2f} {'log-odds' if r.series == 'size_gradient' else 'pp'}",
          f"{100 * r.inside_90:.0f}%") for r in series_errors(forecast).itertuples()],
        ["role", "series", "statistics", "mean abs. error", "inside 90% band"])
    rows = markdown_table([_statistic_row(r) for r in forecast.itertuples()],
                          ["statistic", "segment", "year", "role", "observed", "median",
                           "90% band", "error"])
    sizes = markdown_table(_size_rows(split), ["indicator", "year", "10-49", "50-249"])
    weak = ", ".join(f"`{w}`" for w in summary.loc[~summary["identified"], "parameter"])
    held = forecast[forecast["role"] == "held out"]
    back = ""
    if len(held):
        back = (f"\n## Back-test\n\nFitted to observations up to {config.fit_until}; the "
                f"{len(survey_shares(forecast, True))} later survey shares were held out. Mean "
                f"absolute error of the predictive median on them: "
                f"**{manifest['forecast_mae_pp']} percentage points**; "
                f"{100 * (manifest['forecast_inside_90'] or 0):.0f}% lie inside the 90% "
                "predictive band (model and survey sampling error).\n")
        families = forecast_error.estimate(forecast, config.fit_until)
        if families:
            check = forecast_error.describe_check(
                forecast_error.leave_one_out(forecast, config.fit_until))
            back += ("\nThe misses beyond those bands measure the model's forecast error, "
                     "a random walk in log-odds per family of series (docs/ODD.md 7.7): "
                     + "; ".join(f.describe() for f in families.values())
                     + (f"; {check}" if check else "")
                     + ". An experiment whose `[forecast_error] backtest` names this "
                     "directory carries it into P(hit).\n")
    return f"""# Calibration: {config.name}

ABC-SMC with a Gaussian kernel tempered to the error model and pseudo-marginal MCMC
moves (Del Moral, Doucet and Jasra 2012; Wilkinson 2013; `experiments/abc.py`) of
{len(config.priors)} parameters to {manifest['observations_fitted']} observed statistics
up to {config.fit_until} ({LIKELIHOODS[config.likelihood]}), with {config.firms:,}
simulated firms per simulation and
{_particles(config, manifest, pops)}; {manifest['simulations']:,} simulations
in {manifest['seconds'] / 60:.1f} minutes (stopped: {manifest['stop_reason']}).
{_target_note(config, manifest)}
On the fitted survey shares the posterior-predictive median is off by
**{manifest['fit_mae_pp']} percentage points** on average, and
{100 * (manifest['fit_inside_90'] or 0):.0f}% of them lie inside the 90% predictive band
(model and survey sampling error).
{back}{_noise_section(config, noise)}{backcast.section(past)}
## Identification

A parameter is *identified* when its posterior 90% interval spans at most
{IDENTIFIED_WIDTH:.0%} of its prior range. Weakly identified here: {weak or "none"}.
The data say little about a weakly identified parameter beyond its prior; experiments
still draw it jointly from the posterior, so its uncertainty is carried into P(hit)
rather than hidden.
{_joint_section(joint)}
{_chains_section(summary, manifest)}
## Posterior (weighted median and 90% interval)

{table}

## Fit by series

{per}

## Every statistic

The size gradient is the log-odds of use by 50-249 over 10-49 firms, compared with the
median of the other member states (NL's own split is held out). Observations before
2021 (cloud since 2014, big data 2016-2020) lie before the simulated period and are
not fitted (the backcast tests the mechanism on them).

{rows}

## Not fitted: use by size class (a test of the size mechanism)

NL's split of AI, cloud and data analytics by size class is held out of the data. The
model's prediction (median and 90% band of the survey reading without sampling error,
% of firms; the size gradient it was fitted to is that of the other member states):

{sizes}

## Generations

{gens}

## Figures

![fit](figures/calibration_fit.png)

![posterior](figures/posterior_marginals.png)
"""
