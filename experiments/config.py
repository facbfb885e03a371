"""Experiment files (TOML): their schema, and validation that reports every error at once.

An experiment names its run settings, targets, uncertainties and scenarios::

    name = "policy_comparison"
    [run]
    end_year = 2030
    firms = 10000
    replications = 400
    seed = 2030
    [targets.basic]
    indicator = "dii_at_least_basic"
    threshold = 0.95
    [uncertainties]
    peer_weight = { distribution = "uniform", low = 0.6, high = 2.0 }
    [scenarios.baseline]
    [scenarios.edih_double]
    edih = { capacity_per_year = 2400 }

Unknown keys are errors (a typo must never silently run a default), and the whole
file is checked before anything runs: ``load_config`` raises one ``ConfigError``
listing every problem, each naming its field and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model import PARAMETERS, ModelInputError, parse_policy
from model.economy import MAX_FIRMS, MIN_FIRMS
from model.errors import check_field, check_table, collect_keys
from model.parameters import CALIBRATED, HISTORY, PARAMETER_RULES
from model.population import POPULATIONS
from model.streams import MAX_SEED
from model.technologies import ADVANCED
from model.timeline import START_YEAR

TARGET_INDICATORS = ("dii_at_least_basic", "advanced_any", *ADVANCED, "advanced_each",
                     "security_5plus", "incident_reported_share")
TARGET_POPULATIONS = (*POPULATIONS, "10-49", "50-249", "2-9")
"""A target is read on the simulated population or on one size class of it."""
"""What a target may be measured on; ``advanced_each`` means every one of cloud,
data analytics and AI reaches the threshold."""
DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
}


class ConfigError(ValueError):
    """An experiment file with one or more problems; ``errors`` lists them all."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{source}: {len(errors)} problem(s):\n{lines}")


@dataclass(frozen=True)
class RunSettings:
    end_year: int = 2030
    firms: int = 10_000
    population: str = "10-249"
    replications: int = 100
    seed: int = 2030
    seeds_per_draw: int = 1
    batch_size: int | None = None
    exploratory: bool = False


@dataclass(frozen=True)
class Target:
    name: str
    indicator: str
    threshold: float
    population: str = "10-249"
    year: int = 2030
    dii_version: int = 3

    @property
    def segment(self) -> str:
        """Segment of the model's indicator frame the target is read from."""
        if self.population == "2-249":
            return "all"
        return self.population

    @property
    def indicators(self) -> tuple[str, ...]:
        """Model indicators read (the lowest counts for ``advanced_each``)."""
        if self.indicator == "advanced_each":
            return ADVANCED
        if self.indicator == "dii_at_least_basic" and self.dii_version == 4:
            return ("dii_v4_at_least_basic",)
        return (self.indicator,)


@dataclass(frozen=True)
class Uncertainty:
    name: str
    distribution: str
    args: dict[str, float]


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    run: RunSettings
    targets: dict[str, Target]
    scenarios: dict[str, dict[str, Any]]
    baseline: str = "baseline"
    description: str = ""
    uncertainties: dict[str, Uncertainty] = field(default_factory=dict)
    posterior: Path | None = None
    parameters: dict[str, float] = field(default_factory=dict)
    forecast_error: Path | None = None
    source: str = "<config>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_runs(self) -> int:
        return len(self.scenarios) * self.run.replications

    def canonical(self) -> dict[str, Any]:
        """The validated content, independent of formatting and key order. Not the
        back-test of ``forecast_error``: it changes what the report reads off the runs,
        never the runs, so adding or changing it keeps the stored runs."""
        return {
            "name": self.name,
            "run": self.run.__dict__,
            "targets": {k: t.__dict__ for k, t in sorted(self.targets.items())},
            "scenarios": {k: self.scenarios[k] for k in sorted(self.scenarios)},
            "baseline": self.baseline,
            "uncertainties": {k: {"distribution": u.distribution, **u.args}
                              for k, u in sorted(self.uncertainties.items())},
            "posterior": _posterior_fingerprint(self.posterior),
            "parameters": dict(sorted(self.parameters.items())),
        }

    def digest(self) -> str:
        """Hash of the canonical content: results of different configs never mix."""
        return content_hash(self.canonical())


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of a mapping's JSON form, independent of key order."""
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _posterior_fingerprint(path: Path | None) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        return f"{path.name}:missing"
    return f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


_TOP = ("name", "description", "run", "targets", "uncertainties", "parameters", "scenarios",
        "baseline", "forecast_error")
_RUN = {
    "end_year": ("integer", START_YEAR, 2050),
    "firms": ("integer", MIN_FIRMS, MAX_FIRMS),
    "population": ("choice", tuple(POPULATIONS)),
    "replications": ("integer", 1, 1_000_000),
    "seed": ("integer", 0, MAX_SEED),
    "seeds_per_draw": ("integer", 1, 1000),
    "batch_size": ("integer", 1, 100_000),
    "exploratory": ("boolean",),
}
def _target_rules(run: RunSettings) -> dict[str, Any]:
    return {"indicator": ("choice", TARGET_INDICATORS, "target indicator"),
            "threshold": ("number", 0.0, 1.0),
            "population": ("choice", TARGET_POPULATIONS, "population"),
            "year": ("integer", START_YEAR, run.end_year, "simulated years"),
            "dii_version": ("choice", DII_VERSIONS, "DII version")}
DII_VERSIONS = (3, 4)


def load_config(path: str | Path, base_dir: str | Path | None = None,
                check_files: bool = True) -> ExperimentConfig:
    """Read and validate an experiment file; paths in it are relative to the file
    (or to ``base_dir``). ``check_files=False`` skips reading the files it names
    (rebuilding a report needs only the design, not the posterior)."""
    path = Path(path)
    raw = read_toml(path)
    return parse_config(raw, source=str(path),
                        base_dir=Path(base_dir) if base_dir else path.parent,
                        check_files=check_files)


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file, or a ConfigError saying why not."""
    if path.is_dir():
        raise ConfigError(str(path), [f"{path} is a directory; give the path of a TOML file"])
    if not path.is_file():
        raise ConfigError(str(path), [f"file not found: {path}"])
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), [f"not valid TOML: {err}"]) from None
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), [f"not a UTF-8 text file: {err}"]) from None


def parse_config(raw: Mapping[str, Any], source: str = "<config>",
                 base_dir: Path | None = None, check_files: bool = True) -> ExperimentConfig:
    """Validate a parsed experiment mapping; raises ConfigError listing every problem."""
    errors: list[str] = []
    base_dir = base_dir or Path.cwd()
    if not isinstance(raw, Mapping):
        raise ConfigError(source, ["the file must hold a TOML table"])
    collect_keys(raw, _TOP, "", errors)

    name = raw.get("name")
    if name is None:
        errors.append(f'name: required (e.g. name = "my_experiment"; {NAME_RULE})')
        name = "experiment"
    elif not isinstance(name, str) or not _valid_name(name):
        errors.append(f"name: expected a name of {NAME_RULE}, got {name!r}")
        name = "experiment"
    description = raw.get("description", "")
    if not isinstance(description, str):
        errors.append(f"description: expected a string, got {description!r}")
        description = ""

    run = _run_settings(raw.get("run", {}), errors)
    targets = _targets(raw.get("targets"), run, errors)
    uncertainties, posterior = _uncertainties(raw.get("uncertainties", {}), base_dir, errors,
                                              check_files)
    parameters = _fixed_parameters(raw.get("parameters", {}), errors)
    for overlap in sorted(set(parameters) & set(uncertainties)):
        errors.append(f"parameters.{overlap}: also declared under [uncertainties]; "
                      "give it in one place only")
    if not run.exploratory:
        errors.extend(history_problems(uncertainties, parameters, posterior, check_files))
    forecast_error = _forecast_error(raw.get("forecast_error"), base_dir, posterior, errors,
                                     check_files)
    scenarios = _scenarios(raw.get("scenarios"), errors)
    baseline = raw.get("baseline", "baseline")
    if not isinstance(baseline, str):
        errors.append(f"baseline: expected a scenario name, got {baseline!r}")
    elif scenarios and baseline not in scenarios:
        errors.append(f"baseline: no scenario named {baseline!r} "
                      f"(allowed: {', '.join(scenarios)})")

    if errors:
        raise ConfigError(source, errors)
    return ExperimentConfig(
        name=name, description=description, run=run, targets=targets, scenarios=scenarios,
        baseline=baseline, uncertainties=uncertainties, posterior=posterior,
        parameters=parameters, forecast_error=forecast_error, source=source, raw=dict(raw),
    )


def _run_settings(table: Any, errors: list[str]) -> RunSettings:
    if not isinstance(table, Mapping):
        collect_keys(table, _RUN, "run", errors)
        return RunSettings()
    values = check_table(table, _RUN, "run", errors)
    settings = RunSettings(**values)
    if settings.replications % settings.seeds_per_draw:
        errors.append(f"run.replications: {settings.replications} is not a multiple of "
                      f"run.seeds_per_draw ({settings.seeds_per_draw})")
    return settings


def _targets(table: Any, run: RunSettings, errors: list[str]) -> dict[str, Target]:
    if table is None:
        errors.append("targets: at least one target is required, e.g. [targets.basic] "
                      'indicator = "dii_at_least_basic", threshold = 0.95')
        return {}
    if not collect_keys(table, table.keys() if isinstance(table, Mapping) else (), "targets",
                        errors):
        return {}
    if not table:
        errors.append("targets: at least one target is required, e.g. [targets.basic]")
    out = {}
    for name, spec in table.items():
        path = f"targets.{name}"
        if not _valid_name(name):
            errors.append(f"{path}: invalid name {name!r} ({NAME_RULE})")
            continue
        local: list[str] = []
        fields = check_table(spec, _target_rules(run), path, local,
                             required=("indicator", "threshold"))
        if not isinstance(spec, Mapping):
            errors.extend(local)
            continue
        indicator = fields.get("indicator")
        population = fields.get("population", "10-249")
        version = fields.get("dii_version", 3)
        if population in ("2-249", "2-9") and run.population != "2-249":
            local.append(f"{path}.population: {population!r} needs run.population = '2-249' "
                         f"(the run simulates {run.population!r})")
        if version != 3 and indicator != "dii_at_least_basic" and "indicator" in fields:
            local.append(f"{path}.dii_version: only a dii_at_least_basic target has a DII "
                         f"version (this target's indicator is {indicator!r})")
        errors.extend(local)
        if not local:
            out[name] = Target(name=name, indicator=indicator, threshold=fields["threshold"],
                               population=population, year=fields.get("year", run.end_year),
                               dii_version=version)
    return out


def _distribution_rules(name: str, dist: str) -> dict[str, Any]:
    """Rules for the arguments of ``dist`` (low, mode, high and mean within the
    parameter's range; a non-negative sd); the distribution's name is checked apart."""
    p = PARAMETERS[name]
    bound = ("number", p.low, p.high, f"range of {name}")
    return {"distribution": None, **{arg: ("number", 0.0, None) if arg == "sd" else bound
                                     for arg in DISTRIBUTIONS[dist]}}


def _uncertainties(table: Any, base_dir: Path, errors: list[str], check_files: bool = True):
    out: dict[str, Uncertainty] = {}
    posterior = None
    if not collect_keys(table, (*PARAMETERS, "posterior"), "uncertainties", errors):
        return out, posterior
    for name, spec in table.items():
        path = f"uncertainties.{name}"
        if name == "posterior":
            if not isinstance(spec, str):
                errors.append(f"{path}: expected a path to a Parquet file, got {spec!r}")
                continue
            try:
                posterior = Path(spec) if Path(spec).is_absolute() else (base_dir / spec).resolve()
                exists = posterior.is_file()
            except (OSError, ValueError) as err:
                errors.append(f"{path}: invalid path {spec!r} ({err})")
                posterior = None
                continue
            if not check_files:
                continue
            if not exists:
                errors.append(f"{path}: {posterior} is a directory; give the posterior's "
                              "Parquet file" if posterior.is_dir()
                              else f"{path}: file not found: {posterior}")
                posterior = None
            else:
                try:
                    read_posterior(posterior)
                except ConfigError as err:
                    errors.extend(err.errors)
                    posterior = None
                except (OSError, ValueError) as err:
                    errors.append(f"{path}: cannot read {posterior} as Parquet ({err})")
                    posterior = None
            continue
        if name not in PARAMETERS:
            continue
        if not isinstance(spec, Mapping):
            errors.append(f"{path}: expected a table such as "
                          "{ distribution = \"uniform\", low = 0.1, high = 0.5 }")
            continue
        dist = spec.get("distribution")
        try:
            check_field(dist, ("choice", tuple(DISTRIBUTIONS), "distribution"),
                        f"{path}.distribution")
        except ModelInputError as err:
            errors.append(str(err))
            continue
        before = len(errors)
        args = check_table(spec, _distribution_rules(name, dist), path, errors,
                           required=DISTRIBUTIONS[dist])
        if len(errors) == before:
            if dist in ("uniform", "loguniform", "triangular") and not args["low"] < args["high"]:
                errors.append(f"{path}: low ({args['low']:g}) must be below high "
                              f"({args['high']:g})")
            elif dist == "triangular" and not args["low"] <= args["mode"] <= args["high"]:
                errors.append(f"{path}.mode: must lie between low and high")
            elif dist == "loguniform" and args["low"] <= 0:
                errors.append(f"{path}.low: must be positive for a loguniform distribution")
            else:
                out[name] = Uncertainty(name=name, distribution=dist, args=args)
    if posterior is not None and out and check_files:
        try:
            columns = set(read_posterior(posterior).columns)
        except (ConfigError, OSError, ValueError):
            columns = set()
        for name in sorted(columns & set(out)):
            errors.append(f"uncertainties.{name}: already a column of the posterior file; "
                          "a parameter comes from one source only")
    return out, posterior


def _forecast_error(table: Any, base_dir: Path, posterior: Path | None, errors: list[str],
                    check_files: bool) -> Path | None:
    """The back-test directory of ``[forecast_error] backtest`` (experiments/forecast_error.py),
    checked to hold what the report reads when ``check_files``."""
    if table is None or not collect_keys(table, ("backtest",), "forecast_error", errors):
        return None
    spec = table.get("backtest")
    if not isinstance(spec, str):
        errors.append("forecast_error.backtest: expected the path of a back-test's results "
                      f'directory (e.g. "../../results/calibration_backtest"), got {spec!r}')
        return None
    path = Path(spec) if Path(spec).is_absolute() else (base_dir / spec).resolve()
    if posterior is None:
        errors.append("forecast_error.backtest: needs [uncertainties] posterior (the "
                      "forecast's lead counts from its calibration's last fitted year)")
        return None
    if check_files:
        from .forecast_error import ForecastErrorFileError, load

        try:
            load(path, posterior.parent)
        except ForecastErrorFileError as err:
            errors.append(f"forecast_error.backtest: {err}")
            return None
    return path


_OPT_OUT = ("set run.exploratory = true to explore it anyway (the manifest records it "
            "and the report flags the results as not calibrated to the observed past)")


def history_problems(uncertainties: Mapping[str, Any], parameters: Mapping[str, float],
                     posterior: Path | None, check_files: bool = True) -> list[str]:
    """Why an experiment's uncertainty model is incoherent with the calibration.

    A parameter that shapes the simulated 2021-2025 history may only be drawn, jointly
    with the others, from a calibration's posterior: a separate distribution (or a
    fixed value other than its default) would simulate a past that was never fitted.
    A posterior must hold every calibrated parameter.
    """
    out = []
    for name in sorted(set(uncertainties) & set(HISTORY)):
        out.append(f"uncertainties.{name}: shapes the observed 2021-2025 history, so it is "
                   "drawn only from the calibrated posterior (uncertainties.posterior); "
                   + _OPT_OUT)
    for name in sorted(set(parameters) & set(HISTORY)):
        if parameters[name] != PARAMETERS[name].default:
            out.append(f"parameters.{name}: shapes the observed 2021-2025 history; fixing it "
                       f"at {parameters[name]:g} (default {PARAMETERS[name].default:g}) "
                       "departs from the calibration; " + _OPT_OUT)
    if posterior is not None and check_files and posterior.is_file():
        try:
            columns = set(read_posterior(posterior).columns)
        except (ConfigError, OSError, ValueError):
            return out  # reported where the file is read
        missing = [c for c in CALIBRATED if c not in columns]
        if missing:
            out.append(f"uncertainties.posterior: {posterior.name} lacks calibrated "
                       f"parameter(s) {', '.join(missing)}: it comes from an older "
                       "calibration; run `sme-abm calibrate` again, or " + _OPT_OUT)
    return out


POSTERIOR_META = ("weight", "chain")
"""Columns of a posterior file that are not parameters: a particle's weight, and the
calibration chain it came from."""


def read_posterior(path: str | Path) -> pd.DataFrame:
    """A posterior sample: one column per parameter (model names) and optionally
    ``weight``. A calibration's ``chain`` column is dropped: experiments draw from the
    chains pooled."""
    frame = pd.read_parquet(path)
    frame = frame.drop(columns=[c for c in frame.columns if c == "chain"])
    problems = [f"uncertainties.posterior: column {c!r} is not a model parameter"
                for c in frame.columns if c != "weight" and c not in PARAMETERS]
    for c in frame.columns:
        if c in PARAMETERS or c == "weight":
            if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
                problems.append(f"uncertainties.posterior: column {c!r} must be numeric, "
                                f"is {frame[c].dtype}")
                continue
            if frame[c].isna().any():
                problems.append(f"uncertainties.posterior: column {c!r} has missing values")
                continue
        if c in PARAMETERS:
            spec = PARAMETERS[c]
            bad = ~frame[c].between(spec.low, spec.high)
            if bad.any():
                problems.append(f"uncertainties.posterior: {int(bad.sum())} value(s) of {c} "
                                f"outside {spec.low:g} to {spec.high:g}")
    weights_ok = ("weight" in frame and pd.api.types.is_numeric_dtype(frame["weight"])
                  and not frame["weight"].isna().any())
    if weights_ok and ((frame["weight"] < 0).any() or frame["weight"].sum() <= 0):
        problems.append("uncertainties.posterior: weights must be non-negative with a "
                        "positive sum")
    if len(frame) == 0:
        problems.append("uncertainties.posterior: the file has no rows")
    if problems:
        raise ConfigError(str(path), problems)
    return frame


def _fixed_parameters(table: Any, errors: list[str]) -> dict[str, float]:
    return check_table(table, PARAMETER_RULES, "parameters", errors)


def _scenarios(table: Any, errors: list[str]) -> dict[str, dict[str, Any]]:
    if table is None:
        errors.append("scenarios: at least one scenario is required, e.g. [scenarios.baseline]")
        return {}
    if not isinstance(table, Mapping) or not table:
        errors.append("scenarios: expected one or more tables such as [scenarios.baseline]")
        return {}
    out = {}
    for name, policy in table.items():
        if not _valid_name(name):
            errors.append(f"scenarios.{name}: invalid name {name!r} ({NAME_RULE})")
            continue
        try:
            parse_policy(policy)
        except ModelInputError as err:
            msg = str(err)
            errors.append(f"scenarios.{name}.{msg[len('policy.'):]}" if msg.startswith("policy.")
                          else f"scenarios.{name}{msg[len('policy'):]}")
            continue
        except (TypeError, AttributeError) as err:
            errors.append(f"scenarios.{name}: expected a table of levers ({err})")
            continue
        out[name] = copy.deepcopy(dict(policy))
    return out


NAME_RULE = ("letters, digits, '_', '-' and '.', starting with a letter or digit, at most "
             "100 characters")


def _valid_name(name: str) -> bool:
    """Names become parts of file names and column names: keep them plain."""
    return (bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name)) and ".." not in name)


HUGE_EUR = 1e13
"""Amounts above this (EUR) are no practical limit, and near float32's range they
overflow the model's arithmetic."""


def config_warnings(config: ExperimentConfig) -> list[str]:
    """Inputs that are valid but do nothing or collapse: levers that never act within the
    simulated years, empty lists, amounts too large to mean anything, distributions too
    wide to sample. ``validate`` and ``run`` print them; the manifest keeps them."""
    out: list[str] = []
    last = config.run.end_year
    for name, raw in config.scenarios.items():
        where = f"scenarios.{name}"
        if isinstance(raw.get("subsidy"), list) and not raw["subsidy"]:
            out.append(f"{where}.subsidy: an empty list; the scenario has no subsidy")
        policy = parse_policy(raw)
        for k, scheme in enumerate(policy.subsidies):
            at = f"{where}.subsidy" + (f"[{k}]" if isinstance(raw.get("subsidy"), list) else "")
            if scheme.start_year > last:
                out.append(f"{at}: starts in {scheme.start_year}, after the last simulated "
                           f"year {last}; it never acts")
            if not scheme.technologies or not scheme.size_classes:
                empty = "technologies" if not scheme.technologies else "size_classes"
                out.append(f"{at}.{empty}: empty; the scheme never pays a grant")
            for fld in ("cap_eur", "yearly_budget_eur"):
                if getattr(scheme, fld) > HUGE_EUR:
                    out.append(f"{at}.{fld}: {getattr(scheme, fld):g} is no practical limit "
                               f"(and overflows float arithmetic); use at most {HUGE_EUR:g}")
        if "edih" in raw and policy.edih.from_year > last:
            out.append(f"{where}.edih: takes effect from {policy.edih.from_year}, after the "
                       f"last simulated year {last}; it never acts")
        for lever in ("cyber_campaign", "security_obligation"):
            obj = getattr(policy, lever)
            if obj is not None and obj.start_year > last:
                out.append(f"{where}.{lever}: starts in {obj.start_year}, after the last "
                           f"simulated year {last}; it never acts")
    for name, u in config.uncertainties.items():
        spec = PARAMETERS[name]
        if u.distribution == "normal" and u.args["sd"] > 100 * (spec.high - spec.low):
            out.append(f"uncertainties.{name}.sd: {u.args['sd']:g} dwarfs the parameter's "
                       f"range {spec.low:g} to {spec.high:g}; the truncated normal collapses "
                       "numerically; use a uniform distribution over the range")
    return out
