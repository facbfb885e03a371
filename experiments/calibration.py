"""Calibration: ABC-SMC (pyabc) of the model's calibrated parameters to the observed
2021-2025 series, a posterior that experiments use, and a back-test.

Summary statistics are the observed shares themselves, each compared with the
simulated survey value (quarter 1) of its year:

- DII v3 (2021, 2023, 2025): at-least-basic and the four bands, for 10-49 and 50-249;
- DII v4 (2022, 2024): at-least-basic, for 10-49 and 50-249;
- 2025: cloud, data analytics, AI and "any of" (Eurostat, firms of 10+, compared with
  the model's 10-249 frame).

The distance is the Euclidean norm of the differences, each divided by its
series' standard deviation (``[tolerance]``: survey sampling error plus model
error). The at-least-basic share, which the target is about, gets the smallest;
the four bands (smaller survey cells, and a band shape the model's one-item-a-
quarter ladder reproduces only roughly) and DII v4 (an item set the model maps
approximately) larger ones. The ABC tolerance epsilon decreases over generations
(median of the last distances).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import PARAMETERS, SMEEconomy
from model.errors import ModelInputError, check_number
from model.population import POPULATIONS

from .config import ConfigError, _keys, content_hash, read_toml
from .store import atomic_write_parquet, atomic_write_text, git_commit, now, versions

V3_YEARS = (2021, 2023, 2025)
V4_YEARS = (2022, 2024)
SIZES = ("10-49", "50-249")
LEVELS = ("at_least_basic", "very_low", "low", "high", "very_high")
ADVANCED_CODES = {"cloud": "E_CC1_SI", "data_analytics": "E_DA", "ai": "E_AI_TANY",
                  "advanced_any": "E_AI_CC1SI_DA_ANY"}
SAMPLERS = ("single", "multicore", "dask")


@dataclass(frozen=True)
class CalibrationConfig:
    name: str
    priors: dict[str, tuple[float, float]]
    dii_file: Path
    advanced_file: Path
    firms: int = 4000
    population: str = "10-249"
    seed: int = 2021
    fit_until: int = 2025
    population_size: int = 200
    max_populations: int = 8
    min_epsilon: float = 0.0
    max_walltime_minutes: float = 40.0
    min_acceptance_rate: float = 0.0
    max_simulations: int = 1_000_000
    sampler: str = "multicore"
    workers: int | None = None
    predictive_draws: int = 100
    tolerance: dict[str, float] = field(default_factory=lambda: {
        "dii_v3_basic": 0.01, "dii_v3_bands": 0.025, "dii_v4": 0.03, "advanced": 0.02})
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = "<config>"

    def canonical(self) -> dict[str, Any]:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        d.pop("source")
        return d


_TOP = ("name", "run", "abc", "priors", "data", "tolerance", "parameters")
_RUN = ("firms", "population", "seed", "fit_until")
_ABC = ("population_size", "max_populations", "min_epsilon", "max_walltime_minutes",
        "max_simulations", "sampler", "workers", "predictive_draws", "min_acceptance_rate")
_TOLERANCE = ("dii_v3_basic", "dii_v3_bands", "dii_v4", "advanced")


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
    _keys(raw, _TOP, "", errors)
    values: dict[str, Any] = {"source": source}
    name = raw.get("name", "calibration")
    if not isinstance(name, str) or not name:
        errors.append(f"name: expected a non-empty string, got {name!r}")
    values["name"] = name

    run = raw.get("run", {})
    if _keys(run, _RUN, "run", errors):
        for key, low, high in (("firms", 500, 5_000_000), ("seed", 0, 2**63 - 1),
                               ("fit_until", 2022, 2025)):
            if key in run:
                try:
                    values[key] = check_number(run[key], f"run.{key}", low, high, integer=True)
                except ModelInputError as err:
                    errors.append(str(err))
        if "population" in run:
            pop = run["population"]
            if not isinstance(pop, str) or pop not in POPULATIONS:
                errors.append(f"run.population: unknown population {pop!r} "
                              f"(allowed: {', '.join(POPULATIONS)})")
            else:
                values["population"] = pop

    abc = raw.get("abc", {})
    if _keys(abc, _ABC, "abc", errors):
        limits = {"population_size": (10, 100_000, True), "max_populations": (1, 100, True),
                  "min_epsilon": (0.0, None, False), "max_walltime_minutes": (0.1, 10_000, False),
                  "max_simulations": (10, 10**9, True), "workers": (1, 4096, True),
                  "predictive_draws": (5, 10_000, True),
                  "min_acceptance_rate": (0.0, 1.0, False)}
        for key, (low, high, integer) in limits.items():
            if key in abc:
                try:
                    values[key] = check_number(abc[key], f"abc.{key}", low, high, integer=integer)
                except ModelInputError as err:
                    errors.append(str(err))
        if "sampler" in abc:
            if not isinstance(abc["sampler"], str) or abc["sampler"] not in SAMPLERS:
                errors.append(f"abc.sampler: unknown sampler {abc['sampler']!r} "
                              f"(allowed: {', '.join(SAMPLERS)})")
            else:
                values["sampler"] = abc["sampler"]

    priors: dict[str, tuple[float, float]] = {}
    table = raw.get("priors")
    if table is None:
        errors.append("priors: at least one parameter with a prior is required, e.g. "
                      "basic_intercept = { low = -4.5, high = -2.0 }")
    elif _keys(table, PARAMETERS, "priors", errors):
        for pname, spec in table.items():
            if pname not in PARAMETERS:
                continue
            where = f"priors.{pname}"
            if not _keys(spec, ("low", "high"), where, errors):
                continue
            p = PARAMETERS[pname]
            try:
                low = check_number(spec.get("low"), f"{where}.low", p.low, p.high)
                high = check_number(spec.get("high"), f"{where}.high", p.low, p.high)
            except ModelInputError as err:
                errors.append(f"{err} [range of {pname}]")
                continue
            if not low < high:
                errors.append(f"{where}: low ({low:g}) must be below high ({high:g})")
                continue
            priors[pname] = (low, high)
        if not table:
            errors.append("priors: at least one parameter with a prior is required")
    values["priors"] = priors

    data = raw.get("data", {})
    files = {"dii": "eurostat_isoc_e_dii.csv", "advanced": "advanced_technologies.csv"}
    shipped = Path(__file__).resolve().parents[1] / "model" / "data"
    if _keys(data, files, "data", errors):
        for key, default in files.items():
            given = data.get(key)
            if given is not None and not isinstance(given, str):
                errors.append(f"data.{key}: expected a path, got {given!r}")
                continue
            p = (base_dir / given).resolve() if given else _shipped(default, shipped)
            if not p.is_file():
                errors.append(f"data.{key}: file not found: {p}")
            values[f"{key}_file"] = p

    tol = raw.get("tolerance", {})
    if _keys(tol, _TOLERANCE, "tolerance", errors):
        merged = dict(CalibrationConfig.__dataclass_fields__["tolerance"].default_factory())
        for key, value in tol.items():
            if key in _TOLERANCE:
                try:
                    merged[key] = check_number(value, f"tolerance.{key}", 1e-6, 1.0)
                except ModelInputError as err:
                    errors.append(str(err))
        values["tolerance"] = merged

    fixed = raw.get("parameters", {})
    if _keys(fixed, PARAMETERS, "parameters", errors):
        out = {}
        for pname, value in fixed.items():
            if pname in PARAMETERS:
                p = PARAMETERS[pname]
                try:
                    out[pname] = check_number(value, f"parameters.{pname}", p.low, p.high)
                except ModelInputError as err:
                    errors.append(str(err))
                if pname in priors:
                    errors.append(f"parameters.{pname}: also has a prior; give it in one place")
        values["parameters"] = out

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
    """Observed statistics: key, series, segment, indicator, year, value, sd."""
    dii = pd.read_csv(config.dii_file)
    dii = dii[dii["geo"] == "NL"]
    rows = []
    for size in SIZES:
        for year in V3_YEARS:
            for level in LEVELS:
                sel = dii[(dii["size_class"] == size) & (dii["year"] == year)
                          & (dii["dii_version"] == 3) & (dii["level"] == level)]
                if len(sel) == 1:
                    series = "dii_v3_basic" if level == "at_least_basic" else "dii_v3_bands"
                    rows.append((series, f"dii_{level}", size, year,
                                 sel["value_pct"].iloc[0] / 100))
        for year in V4_YEARS:
            sel = dii[(dii["size_class"] == size) & (dii["year"] == year)
                      & (dii["dii_version"] == 4) & (dii["level"] == "at_least_basic")]
            if len(sel) == 1:
                rows.append(("dii_v4", "dii_v4_at_least_basic", size, year,
                             sel["value_pct"].iloc[0] / 100))
    adv = pd.read_csv(config.advanced_file)
    adv = adv[(adv["geo"] == "NL") & (adv["size_class"] == "GE10")
              & (adv["year"].astype(str) == "2025")]
    for indicator, code in ADVANCED_CODES.items():
        sel = adv[adv["indicator"].str.contains(f" {code}]", regex=False)]
        if len(sel):
            value = float(str(sel["value"].iloc[0]).split()[0])
            rows.append(("advanced", indicator, "10-249", 2025, value / 100))
    frame = pd.DataFrame(rows, columns=["series", "indicator", "segment", "year", "value"])
    frame["sd"] = frame["series"].map(config.tolerance)
    frame["key"] = frame["indicator"] + "@" + frame["segment"] + ":" + frame["year"].astype(str)
    if frame.empty:
        raise ConfigError(config.source, ["data: no observations found in the data files"])
    return frame


def fitted(obs: pd.DataFrame, fit_until: int) -> pd.DataFrame:
    """The observations used for fitting (the rest are held out for the back-test).

    2021 is the initial state, matched by construction: it carries no information."""
    return obs[(obs["year"] <= fit_until) & (obs["year"] > 2021)]


# --------------------------------------------------------------------- simulation
def simulate_series(params: Mapping[str, float], config: CalibrationConfig, seed: int,
                    end_year: int) -> pd.DataFrame:
    """Survey-year (Q1) values of the observed indicators, 2021 to ``end_year``."""
    model = SMEEconomy(n_firms=config.firms, seed=seed,
                       parameters={**config.parameters, **params},
                       end_year=end_year, population=config.population)
    while model.running and not (model.year == end_year and model.quarter == 1):
        model.step()
    frame = model.indicator_frame()
    return frame[frame["quarter"] == 1].drop(columns="quarter")


class Simulator:
    """The pyabc model: parameters -> simulated statistics (a picklable callable)."""

    def __init__(self, config: CalibrationConfig, keys: pd.DataFrame) -> None:
        self.config = config
        self.keys = keys[["key", "indicator", "segment", "year"]].reset_index(drop=True)
        self.end_year = int(keys["year"].max())

    def __call__(self, par: Mapping[str, float]) -> dict[str, float]:
        # pyabc seeds numpy's global generator; one integer from it seeds this run.
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002 - pyabc owns this state
        params = {k: float(par[k]) for k in self.config.priors}
        series = simulate_series(params, self.config, seed, self.end_year)
        wide = series.set_index(["indicator", "segment", "year"])["value"]
        return {row.key: float(wide[(row.indicator, row.segment, row.year)])
                for row in self.keys.itertuples()}


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


def calibrate(config: CalibrationConfig, out: str | Path | None = None,
              fit_until: int | None = None, sampler: str | None = None,
              workers: int | None = None, scheduler: str | None = None,
              progress: bool = True) -> CalibrationResult:
    """Run ABC-SMC and write the posterior, its summary, fit figures and a manifest.

    ``progress`` keeps pyabc's per-generation log (epsilon, acceptance, timing).
    """
    import logging

    import pyabc

    logging.getLogger("ABC").setLevel(logging.INFO if progress else logging.WARNING)

    if fit_until is not None:
        config = replace(config, fit_until=check_number(fit_until, "--fit-until", 2022, 2025,
                                                        integer=True))
    if sampler is not None:
        config = replace(config, sampler=sampler)
    if workers is not None:
        config = replace(config, workers=workers)
    out = Path(out) if out else Path("results") / config.name
    out.mkdir(parents=True, exist_ok=True)
    obs = observations(config)
    fit = fitted(obs, config.fit_until)
    if fit.empty:
        raise ConfigError(config.source, [f"run.fit_until: no observations up to "
                                          f"{config.fit_until} after the initial year"])

    np.random.seed(config.seed % 2**32)  # noqa: NPY002 - pyabc draws from the global state
    prior = pyabc.Distribution(**{
        name: pyabc.RV("uniform", low, high - low) for name, (low, high) in config.priors.items()
    })
    distance = pyabc.PNormDistance(p=2, fixed_weights={
        row.key: 1.0 / row.sd for row in fit.itertuples()})
    client = None
    if config.sampler == "single":
        smp = pyabc.sampler.SingleCoreSampler()
    elif config.sampler == "multicore":
        smp = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=config.workers)
    else:
        from distributed import Client, LocalCluster

        client = Client(scheduler) if scheduler else Client(LocalCluster(
            n_workers=config.workers or None, threads_per_worker=1, dashboard_address=None))
        smp = pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=4)
    abc = pyabc.ABCSMC(Simulator(config, fit), prior, distance,
                       population_size=config.population_size, sampler=smp)
    db = out / "abc_history.db"
    db.unlink(missing_ok=True)
    abc.new(f"sqlite:///{db.resolve()}", {row.key: row.value for row in fit.itertuples()})
    start = time.perf_counter()
    started = now()
    history = abc.history
    stopped_early = False
    try:
        history = abc.run(minimum_epsilon=config.min_epsilon,
                          max_nr_populations=config.max_populations,
                          min_acceptance_rate=config.min_acceptance_rate,
                          max_total_nr_simulations=config.max_simulations,
                          max_walltime=timedelta(minutes=config.max_walltime_minutes))
    except KeyboardInterrupt:
        # Every finished generation is in the database: keep the last one.
        stopped_early = True
        if history.max_t < 0:
            raise
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start

    df, w = history.get_distribution()
    posterior = df[list(config.priors)].reset_index(drop=True)
    posterior["weight"] = w / w.sum()
    atomic_write_parquet(out / "posterior.parquet", posterior)
    summary = posterior_summary(posterior, config)
    atomic_write_text(out / "posterior_summary.csv", summary.to_csv(index=False))
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)

    predictive = posterior_predictive(posterior, config, obs)
    atomic_write_parquet(out / "predictive.parquet", predictive)
    forecast = forecast_errors(predictive, obs, config.fit_until)
    atomic_write_text(out / "fit.csv", forecast.to_csv(index=False))

    from . import plots

    plots.calibration_fit(predictive, obs, config.fit_until, out / "figures")
    plots.posterior_marginals(posterior, config.priors, out / "figures")
    manifest = {
        "name": config.name, "config": config.canonical(),
        "config_hash": content_hash(config.canonical()), "versions": {**versions(),
                                                               "pyabc": pyabc.__version__},
        "git_commit": git_commit(), "started": started, "finished": now(),
        "seconds": round(seconds, 1), "simulations": int(history.total_nr_simulations),
        "fit_until": config.fit_until, "observations_fitted": len(fit),
        "stopped_early": stopped_early,
        "populations": pops.astype({"t": int}).to_dict(orient="records"),
        "forecast_mae_pp": _mae(forecast, held_out=True),
        "fit_mae_pp": _mae(forecast, held_out=False),
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    atomic_write_text(out / "report.md", render(config, summary, forecast, pops, manifest))
    return CalibrationResult(posterior=posterior, summary=summary, predictive=predictive,
                             forecast=forecast, populations=pops, seconds=seconds,
                             simulations=int(history.total_nr_simulations), out=out)


def posterior_summary(posterior: pd.DataFrame, config: CalibrationConfig) -> pd.DataFrame:
    """Weighted median and 90% interval of each parameter, with prior and default."""
    w = posterior["weight"].to_numpy()
    rows = []
    for name, (low, high) in config.priors.items():
        q05, q50, q95 = weighted_quantiles(posterior[name].to_numpy(), w, [0.05, 0.5, 0.95])
        rows.append({"parameter": name, "median": q50, "q05": q05, "q95": q95,
                     "prior_low": low, "prior_high": high,
                     "default": PARAMETERS[name].default,
                     "unit": PARAMETERS[name].unit})
    return pd.DataFrame(rows)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q: list[float]) -> list[float]:
    keep = w > 0
    x, w = np.asarray(x)[keep], np.asarray(w)[keep]
    order = np.argsort(x)
    x, w = x[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(qq, cum, x)) for qq in q]


def posterior_predictive(posterior: pd.DataFrame, config: CalibrationConfig,
                         obs: pd.DataFrame) -> pd.DataFrame:
    """Simulated series for draws of the posterior (new seeds), to the last observed year."""
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(1,)))
    w = posterior["weight"].to_numpy()
    rows = rng.choice(len(posterior), size=config.predictive_draws, p=w / w.sum())
    seeds = rng.integers(0, 2**31 - 1, size=config.predictive_draws)
    keep = set(zip(obs["indicator"], obs["segment"], strict=True))
    end = int(obs["year"].max())
    frames = []
    for k, (row, seed) in enumerate(zip(rows, seeds, strict=True)):
        params = {n: float(posterior.loc[row, n]) for n in config.priors}
        s = simulate_series(params, config, int(seed), end)
        s = s[[(i, g) in keep for i, g in zip(s["indicator"], s["segment"], strict=True)]]
        frames.append(s.assign(draw=k))
    out = pd.concat(frames, ignore_index=True)
    out["indicator"] = out["indicator"].astype(str)
    out["segment"] = out["segment"].astype(str)
    return out


def forecast_errors(predictive: pd.DataFrame, obs: pd.DataFrame, fit_until: int
                    ) -> pd.DataFrame:
    """Per observation: predictive median and 90% band, error, and whether it was fitted."""
    q = predictive.groupby(["indicator", "segment", "year"])["value"].quantile(
        [0.05, 0.5, 0.95]).unstack()
    rows = []
    for o in obs.itertuples():
        if (o.indicator, o.segment, o.year) not in q.index:
            continue
        lo, med, hi = q.loc[(o.indicator, o.segment, o.year)]
        rows.append({"indicator": o.indicator, "segment": o.segment, "year": o.year,
                     "observed": o.value, "median": med, "p05": lo, "p95": hi,
                     "error_pp": 100 * (med - o.value), "inside_90": bool(lo <= o.value <= hi),
                     "role": "initial" if o.year == 2021 else
                     ("fitted" if o.year <= fit_until else "held out")})
    return pd.DataFrame(rows)


def _mae(forecast: pd.DataFrame, held_out: bool) -> float | None:
    sel = forecast[forecast["role"] == ("held out" if held_out else "fitted")]
    return round(float(sel["error_pp"].abs().mean()), 2) if len(sel) else None


def render(config: CalibrationConfig, summary: pd.DataFrame, forecast: pd.DataFrame,
           pops: pd.DataFrame, manifest: dict[str, Any]) -> str:
    s = summary.copy()
    table = ["| parameter | median | 90% interval | prior | default | unit |",
             "|---|---|---|---|---|---|"]
    for r in s.itertuples():
        table.append(f"| `{r.parameter}` | {r.median:.3g} | {r.q05:.3g} to {r.q95:.3g} | "
                     f"U({r.prior_low:g}, {r.prior_high:g}) | {r.default:g} | {r.unit} |")
    gens = ["| generation | epsilon | simulations | particles |", "|---|---|---|---|"]
    for r in pops.itertuples():
        gens.append(f"| {int(r.t)} | {r.epsilon:.3g} | {int(r.samples)} | {int(r.particles)} |")
    held = forecast[forecast["role"] == "held out"]
    back = ""
    if len(held):
        back = (f"\n## Back-test\n\nFitted to observations up to {config.fit_until}; the "
                f"{len(held)} later observations were held out. Mean absolute error of the "
                f"predictive median on them: **{manifest['forecast_mae_pp']} percentage "
                f"points**; {int(held['inside_90'].sum())} of {len(held)} lie inside the 90% "
                "predictive band.\n")
    return f"""# Calibration: {config.name}

ABC-SMC (pyabc {manifest['versions'].get('pyabc')}) of {len(config.priors)} parameters to
{manifest['observations_fitted']} observed statistics up to {config.fit_until}, with
{config.firms:,} simulated firms per simulation, {config.population_size} particles per
generation; {manifest['simulations']:,} simulations in {manifest['seconds'] / 60:.1f} minutes.
Mean absolute error of the posterior-predictive median on the fitted observations:
{manifest['fit_mae_pp']} percentage points.
{back}
## Posterior (weighted median and 90% interval)

{chr(10).join(table)}

## Generations

{chr(10).join(gens)}

## Figures

![fit](figures/calibration_fit.png)

![posterior](figures/posterior_marginals.png)
"""
