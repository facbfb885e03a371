"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

A sensitivity file is an experiment file with one scenario (the policy the levers
change) and a ``[sensitivity]`` table::

    [sensitivity]
    methods = ["morris", "sobol"]
    samples = 64                # Sobol: base samples N; Morris: trajectories
    morris_levels = 4
    [sensitivity.factors]
    peer_weight = { range = "posterior" }                     # its posterior 90% interval
    cost_weight = { low = 0.6, high = 1.8 }                   # within the posterior
    edih_weight = { low = 0.0, high = 1.0 }                   # a lever-response parameter
    "subsidy.rate" = { low = 0.0, high = 0.8 }                # a lever of the scenario
    "edih.capacity_per_year" = { low = 600, high = 4800 }

With ``[uncertainties] posterior = ...`` the analysis runs around the calibration:
every calibrated parameter that is not a factor sits at the posterior's central draw
(``analysis.central_draw``: the joint draw nearest every median), and a
factor that shapes the observed history must stay within the posterior's 1-99% range
(``range = "posterior"`` takes its 90% interval). Without a posterior such factors are
refused, and so are distributions under ``[uncertainties]`` (a sensitivity analysis
varies factors over ranges); ``run.exploratory = true`` lifts the history checks.

Each sample point is run ``run.replications`` times (seeds shared by all points:
common random numbers), through the same executors and store as experiments, so
it parallelises, resumes and scales out on Dask. Outputs per target: the
target-year value (mean over the point's runs) and P(hit) (share of its runs);
and the final-year share using any advanced technology.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model import PARAMETERS, ModelInputError, parse_policy
from model.errors import check_field, check_table, collect_keys
from model.parameters import HISTORY

from .analysis import central_draw, posterior_row, weighted_quantiles
from .config import (
    ConfigError,
    ExperimentConfig,
    RunSettings,
    Target,
    content_hash,
    parse_config,
    read_posterior,
    read_toml,
)
from .design import RunSpec
from .store import ResultStore, atomic_write_text
from .text import markdown_table

if TYPE_CHECKING:  # the runner imports this module's callers; imported lazily below
    from .runner import RunResult

METHODS = ("morris", "sobol")
_SENS = ("methods", "samples", "morris_levels", "factors")
_SENS_COUNTS = {"samples": ("integer", 2, 100_000), "morris_levels": ("integer", 2, 20)}
_FACTOR = {"low": ("number", None, None), "high": ("number", None, None),
           "range": ("choice", ("posterior",), "range")}
"""A factor is varied between low and high, or over its posterior's 90% interval."""
_INTEGER_FIELDS = ("min_measures", "start_year", "end_year", "from_year")


@dataclass(frozen=True)
class SensitivityConfig:
    experiment: ExperimentConfig
    methods: tuple[str, ...]
    samples: int
    morris_levels: int
    factors: dict[str, tuple[float, float]]
    base_parameters: dict[str, float] = None  # type: ignore[assignment]
    """Parameters of every point before its factors: [parameters] and the posterior's
    central draw for the calibrated parameters that are not factors."""

    # What the store needs of a config (duck-typed like ExperimentConfig).
    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def run(self) -> RunSettings:
        return self.experiment.run

    @property
    def targets(self) -> dict[str, Target]:
        return self.experiment.targets

    @property
    def source(self) -> str:
        return self.experiment.source

    @property
    def raw(self) -> dict[str, Any]:
        return self.experiment.raw

    @property
    def scenario(self) -> str:
        return next(iter(self.experiment.scenarios))

    def canonical(self) -> dict[str, Any]:
        return {**self.experiment.canonical(),
                "sensitivity": {"methods": list(self.methods), "samples": self.samples,
                                "morris_levels": self.morris_levels,
                                "factors": {k: list(v) for k, v in self.factors.items()},
                                "base_parameters": dict(sorted(
                                    (self.base_parameters or {}).items()))}}

    def digest(self) -> str:
        return content_hash(self.canonical())

    def problem(self) -> dict[str, Any]:
        """The SALib problem dictionary."""
        names = list(self.factors)
        return {"num_vars": len(names), "names": names,
                "bounds": [list(self.factors[n]) for n in names]}


def load_sensitivity_config(path: str | Path) -> SensitivityConfig:
    """Read and validate a sensitivity file, reporting every problem at once."""
    path = Path(path)
    raw = read_toml(path)
    return parse_sensitivity_config(raw, str(path), path.parent)


def parse_sensitivity_config(raw: Mapping[str, Any], source: str = "<config>",
                             base_dir: Path | None = None) -> SensitivityConfig:
    errors: list[str] = []
    if not isinstance(raw, Mapping):
        raise ConfigError(source, ["the file must hold a TOML table"])
    raw = dict(raw)
    sens = raw.pop("sensitivity", None)
    scen = raw.get("scenarios")
    if "baseline" not in raw and isinstance(scen, Mapping) and len(scen) == 1:
        raw["baseline"] = next(iter(scen))  # the one scenario is its own reference
    experiment = None
    try:
        experiment = parse_config(raw, source=source, base_dir=base_dir)
    except ConfigError as err:
        errors.extend(err.errors)
    methods: tuple[str, ...] = ("morris", "sobol")
    samples, levels = 32, 4
    quantiles: dict[str, tuple[float, ...]] = {}
    centre: dict[str, float] = {}
    exploratory = bool(experiment and experiment.run.exploratory)
    if experiment is not None:
        for name in sorted(experiment.uncertainties):
            errors.append(f"uncertainties.{name}: a sensitivity analysis varies factors over "
                          "ranges, not distributions; declare it under [sensitivity.factors] "
                          f"(e.g. {name} = {{ low = ..., high = ... }})")
        if experiment.posterior is not None:
            posterior = read_posterior(experiment.posterior)
            quantiles = posterior_quantiles(posterior)
            centre = posterior_row(posterior, central_draw(posterior))
    factors: dict[str, tuple[float, float]] = {}
    if sens is None:
        errors.append("sensitivity: the table is required (methods, samples, factors)")
    elif collect_keys(sens, _SENS, "sensitivity", errors):
        m = sens.get("methods", list(methods))
        try:
            chosen = check_field([m] if isinstance(m, str) else m, ("names", METHODS),
                                 "sensitivity.methods")
            if not chosen:
                raise ModelInputError("sensitivity.methods", "at least one method is required",
                                      ", ".join(METHODS))
            methods = chosen
        except ModelInputError as err:
            errors.append(str(err))
        counts = check_table({k: v for k, v in sens.items() if k in _SENS_COUNTS},
                             _SENS_COUNTS, "sensitivity", errors)
        samples = counts.get("samples", samples)
        levels = counts.get("morris_levels", levels)
        table = sens.get("factors")
        if not isinstance(table, Mapping) or not table:
            errors.append("sensitivity.factors: at least one factor is required, e.g. "
                          "peer_weight = { low = 0.6, high = 1.8 }")
        else:
            scenarios = experiment.scenarios if experiment else {}
            base_policy = next(iter(scenarios.values())) if len(scenarios) == 1 else {}
            for name, spec in table.items():
                where = f"sensitivity.factors.{name}"
                before = len(errors)
                by_range = isinstance(spec, Mapping) and "range" in spec
                bounds = check_table(spec, _FACTOR, where, errors,
                                     required=() if by_range else ("low", "high"))
                if len(errors) > before:
                    continue
                if by_range:
                    if "low" in spec or "high" in spec:
                        errors.append(f"{where}: write either range = \"posterior\" or low "
                                      "and high")
                        continue
                    if name not in quantiles:
                        errors.append(f"{where}: range = \"posterior\" needs a posterior "
                                      "(uncertainties.posterior) holding this parameter")
                        continue
                    low, high = quantiles[name][1], quantiles[name][3]
                    if not low < high:
                        errors.append(f"{where}: the posterior does not vary it "
                                      f"(fixed at {low:g})")
                        continue
                else:
                    low, high = bounds["low"], bounds["high"]
                    if not low < high:
                        errors.append(f"{where}: low ({low:g}) must be below high ({high:g})")
                        continue
                problem = _factor_problem(name, low, high, base_policy, experiment) or (
                    None if exploratory else _history_problem(name, low, high, quantiles))
                if problem:
                    errors.append(f"{where}: {problem}")
                    continue
                factors[name] = (low, high)
    if "sobol" in methods and samples & (samples - 1):
        errors.append(f"sensitivity.samples: {samples}; Sobol sampling needs a power of two "
                      "(e.g. 32, 64, 128)")
    if isinstance(scen, Mapping) and len(scen) != 1:
        errors.append("scenarios: a sensitivity file has exactly one scenario (the policy its "
                      f"levers change); found {len(scen)}")
    if errors:
        raise ConfigError(source, errors)
    base = dict(experiment.parameters)
    base.update({k: v for k, v in centre.items() if k not in factors})
    return SensitivityConfig(experiment=experiment, methods=methods, samples=samples,
                             morris_levels=levels, factors=factors, base_parameters=base)


def posterior_quantiles(posterior: pd.DataFrame) -> dict[str, tuple[float, ...]]:
    """Weighted 1, 5, 50, 95 and 99% quantiles of every posterior column."""
    w = (posterior["weight"].to_numpy(float) if "weight" in posterior
         else np.ones(len(posterior)))
    return {c: tuple(weighted_quantiles(posterior[c].to_numpy(float), w,
                                        [0.01, 0.05, 0.5, 0.95, 0.99]))
            for c in posterior.columns if c != "weight"}


def _history_problem(name: str, low: float, high: float,
                     quantiles: Mapping[str, tuple[float, ...]]) -> str | None:
    """Why a factor that shapes the observed history cannot take this range."""
    if name not in HISTORY:
        return None
    hint = "; or set run.exploratory = true to explore outside the calibration"
    if not quantiles:
        return ("shapes the observed 2021-2025 history: give uncertainties.posterior so its "
                "range can be kept consistent with the calibration" + hint)
    if name not in quantiles:
        return ("shapes the observed history but is not calibrated (fixed at its default "
                "in the posterior's calibration)" + hint)
    q01, _, _, _, q99 = quantiles[name]
    if low < q01 or high > q99:
        return (f"range {low:g} to {high:g} leaves the posterior's 1-99% range {q01:.4g} to "
                f"{q99:.4g}; use range = \"posterior\" for its 90% interval" + hint)
    return None


def _factor_problem(name: str, low: float, high: float, policy: dict[str, Any],
                    experiment: ExperimentConfig | None) -> str | None:
    """Why ``name`` cannot be a factor (None if it can)."""
    if "." not in name:
        if name not in PARAMETERS:
            return ("not a model parameter, nor a lever written as 'lever.field' "
                    "(e.g. 'subsidy.rate', 'edih.capacity_per_year')")
        spec = PARAMETERS[name]
        if low < spec.low or high > spec.high:
            return f"range {low:g} to {high:g} leaves the parameter's {spec.low:g} to {spec.high:g}"
        if experiment is not None and (name in experiment.uncertainties
                                       or name in experiment.parameters):
            return "also declared under [uncertainties] or [parameters]; give it in one place"
        return None
    for value in (low, high):
        try:
            parse_policy(apply_lever(policy, name, value))
        except ModelInputError as err:
            return f"not a valid lever value ({err})"
        except ValueError as err:
            return str(err)
    return None


def apply_lever(policy: Mapping[str, Any], path: str, value: float) -> dict[str, Any]:
    """A copy of ``policy`` with a lever's field set to ``value``. ``lever.field``
    addresses a lever (or the one subsidy scheme); ``subsidy.<name>.field`` one scheme of
    several, by its name. Raises ValueError naming the schemes when the path is
    ambiguous or names none of them."""
    lever, _, rest = path.partition(".")
    out = copy.deepcopy(dict(policy))
    table = out.get(lever, {})
    if isinstance(table, list) or (lever == "subsidy" and rest.count(".") == 1):
        schemes = table if isinstance(table, list) else [table]
        names = [str(t.get("name", "subsidy")) for t in schemes]
        if rest.count(".") == 1:
            name, _, fld = rest.partition(".")
            if name not in names:
                raise ValueError(f"no subsidy scheme named {name!r} (schemes: "
                                 f"{', '.join(names)})")
            k = names.index(name)
        elif len(schemes) > 1:
            raise ValueError(f"{len(schemes)} subsidy schemes ({', '.join(names)}): write "
                             f"'subsidy.<name>.{rest}' to say which")
        else:
            k, fld = 0, rest
        value = round(value) if fld in _INTEGER_FIELDS else value
        schemes = [dict(t) for t in schemes] or [{}]
        schemes[k] = dict(schemes[k], **{fld: value})
        out[lever] = schemes if isinstance(table, list) else schemes[0]
        return out
    fld = rest
    value = round(value) if fld in _INTEGER_FIELDS else value
    out[lever] = dict(table, **{fld: value})
    return out


def sample_points(problem: dict[str, Any], method: str, samples: int, levels: int = 4,
                  seed: int = 0) -> np.ndarray:
    """SALib sample points (rows) for one method."""
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method == "sobol":
        return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    return morris_sample.sample(problem, samples, num_levels=levels, seed=seed)


def indices(problem: dict[str, Any], method: str, x: np.ndarray, y: np.ndarray,
            levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices with 95% intervals, one row per factor."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    if method == "sobol":
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95,
                                    seed=seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        res = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=levels,
                                     seed=seed)
        keys = ("mu_star", "mu_star_conf", "sigma")
    return pd.DataFrame({"factor": problem["names"],
                         **{k: np.asarray(res[k], dtype=float) for k in keys}})


def _seed(config: SensitivityConfig, stream: int) -> int:
    return int(np.random.SeedSequence(config.run.seed, spawn_key=(stream,)).generate_state(1)[0])


def sample(config: SensitivityConfig, method: str) -> np.ndarray:
    return sample_points(config.problem(), method, config.samples, config.morris_levels,
                         _seed(config, 2**33))


def build_sensitivity_design(config: SensitivityConfig) -> tuple[list[RunSpec], pd.DataFrame]:
    """Runs for every sample point of every method x replication, and the points."""
    run = config.run
    policy = config.experiment.scenarios[config.scenario]
    points = []
    specs = []
    for method in config.methods:
        x = sample(config, method)
        for i, row in enumerate(x):
            point = f"{method}-{i:06d}"
            values = dict(zip(config.factors, (float(v) for v in row), strict=True))
            points.append({"point": point, "method": method, "index": i, **values})
            params = dict(config.base_parameters or config.experiment.parameters)
            pol = policy
            for name, value in values.items():
                if "." in name:
                    pol = apply_lever(pol, name, value)
                else:
                    params[name] = value
            typed = parse_policy(pol)
            for r in range(run.replications):
                specs.append(RunSpec(scenario=config.scenario, replication=r, draw=-1,
                                     seed=run.seed, policy=typed, parameters=params,
                                     firms=run.firms, end_year=run.end_year,
                                     population=run.population, point=point))
    # Replication-major order: batches then hold one seed's many points.
    specs.sort(key=lambda s: s.key[::-1])
    return specs, pd.DataFrame(points)


def analyse(config: SensitivityConfig, outcomes: pd.DataFrame, points: pd.DataFrame
            ) -> pd.DataFrame:
    """Indices per method, output and factor, with 95% confidence intervals."""
    problem = config.problem()
    # The final-year share of firms using any advanced technology is analysed too
    # unless a target already measures it.
    seg = "10-249" if config.run.population == "10-249" else "all"
    extra = {} if any(t.indicator == "advanced_any" for t in config.targets.values()) else {
        "share:advanced_any": (f"advanced_any@{seg}", "mean")}
    per_point = outcomes.groupby("point").agg(
        **{f"value:{t}": (f"value:{t}", "mean") for t in config.targets},
        **extra,
        **{f"p_hit:{t}": (f"hit:{t}", "mean") for t in config.targets},
    )
    frames = []
    for method in config.methods:
        pts = points[points["method"] == method].set_index("point")
        missing = ~pts.index.isin(per_point.index)
        if missing.any():
            raise ValueError(f"results lack runs of {int(missing.sum())} {method} points")
        x = pts[list(config.factors)].to_numpy()
        for output in per_point.columns:
            y = per_point.loc[pts.index, output].to_numpy(float)
            ind = indices(problem, method, x, y, config.morris_levels, _seed(config, 2**34))
            frames.append(ind.assign(method=method, output=output))
    cols = ["method", "output", "factor", "S1", "S1_conf", "ST", "ST_conf", "mu_star",
            "mu_star_conf", "sigma"]
    return pd.concat(frames, ignore_index=True).reindex(columns=cols)


def run_sensitivity(config: SensitivityConfig, out: str | Path | None = None,
                    workers: int | None = None, executor: str = "local",
                    scheduler: str | None = None, resume: bool = False,
                    overwrite: bool = False, progress: bool = True
                    ) -> tuple[RunResult, pd.DataFrame | None]:
    """Run the design (missing runs only), then indices, figures and report."""
    from . import plots
    from .runner import execute

    out = Path(out) if out else Path("results") / config.name
    specs, points = build_sensitivity_design(config)
    result = execute(config, specs, out, workers=workers, executor=executor,
                     scheduler=scheduler, resume=resume, overwrite=overwrite,
                     progress=progress, group=1, series=False)
    if result.interrupted or not (out / "outcomes.parquet").exists() or result.failures:
        return result, None
    store = ResultStore(out)
    atomic_write_text(out / "points.csv", points.to_csv(index=False))
    indices = analyse(config, store.outcomes(), points)
    atomic_write_text(out / "sensitivity.csv", indices.to_csv(index=False))
    figures = plots.sensitivity_bars(indices, out / "figures", config.morris_levels)
    atomic_write_text(out / "report.md", render(config, indices, figures, len(specs)))
    return result, indices


def render(config: SensitivityConfig, indices: pd.DataFrame, figures: list[Path],
           n_runs: int) -> str:
    parts = [f"# Sensitivity: {config.name}\n",
             f"{len(config.factors)} factors, methods {', '.join(config.methods)}, "
             f"{config.samples} base samples, {config.run.replications} runs per point "
             f"({n_runs:,} runs of {config.run.firms:,} firms). Outputs per target: the "
             "target-year value (mean over a point's runs) and P(hit) (share of its runs).\n",
             "Factors: " + ", ".join(f"`{k}` {lo:.4g} to {hi:.4g}"
                                     for k, (lo, hi) in config.factors.items()) + ".\n"]
    post = config.experiment.posterior
    if post is not None:
        parts.append(f"Around the calibration (`{post.name}`): calibrated factors vary over "
                     "ranges inside their posterior (range = \"posterior\": its 90% "
                     "interval), and the calibrated parameters that are not factors sit at "
                     "the posterior's central draw (the joint draw nearest every median). "
                     "Factors vary independently, so the "
                     "posterior's correlations are not kept: a screening of what matters "
                     "near the fitted past, not a probability.\n")
    if config.run.exploratory:
        parts.append("**Exploratory (run.exploratory = true): factors that shape the "
                     "observed past may leave the calibration.**\n")
    for method in config.methods:
        sub = indices[indices["method"] == method]
        cols = (["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol"
                else ["mu_star", "mu_star_conf", "sigma"])
        parts.append(f"\n## {method.capitalize()}\n")
        if method == "morris":
            step = config.morris_levels / (2 * (config.morris_levels - 1))
            parts.append("mu* and sigma (SALib) are the mean absolute and the spread of the "
                         "elementary effects: change in the output (a share or P(hit), "
                         "0-1) per full range of the factor, extrapolated from steps of "
                         f"{step:.0%} of it, so they can exceed 1. The figure shows them "
                         f"times the step: the change over one step, in percentage "
                         "points.\n")
        else:
            parts.append("An index whose 95% interval includes zero cannot be told from "
                         f"zero with N = {config.samples} (hollow in the figure); a "
                         "larger `samples` narrows the intervals.\n")
        parts.append(markdown_table(
            [(r["output"], f"`{r['factor']}`", *(f"{r[c]:.3g}" for c in cols))
             for _, r in sub.iterrows()], ["output", "factor", *cols]))
    parts.append("\n## Figures\n")
    parts += [f"![{p.stem}](figures/{p.name})\n" for p in figures]
    return "\n".join(parts)
