"""Calibration: config validation before any simulation, observed statistics, and
recovery of known parameters from synthetic observations made by the model itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments import calibration as cal
from experiments.calibration import (
    CalibrationConfig,
    calibrate,
    load_calibration_config,
    observations,
    parse_calibration_config,
    simulate_series,
    weighted_quantiles,
)
from experiments.config import ConfigError

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "experiments" / "configs" / "calibration.toml"


def _raw(**over):
    raw = {
        "name": "t",
        "run": {"firms": 1000, "seed": 5},
        "abc": {"population_size": 60, "max_populations": 4, "sampler": "single",
                "predictive_draws": 10, "max_walltime_minutes": 5},
        "priors": {"basic_intercept": {"low": -4.5, "high": -2.0},
                   "size_effect_50_249": {"low": -0.5, "high": 1.5}},
    }
    raw.update(over)
    return raw


def test_default_calibration_config_is_valid():
    config = load_calibration_config(DEFAULT)
    from model import CALIBRATED

    assert set(config.priors) == set(CALIBRATED)
    assert config.dii_file.is_file() and config.advanced_file.is_file()


def test_missing_data_file_fails_before_any_simulation(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cal, "SMEEconomy", lambda *a, **k: calls.append(1))
    path = tmp_path / "c.toml"
    path.write_text('name = "x"\n[priors]\nbasic_intercept = { low = -4, high = -2 }\n'
                    '[data]\ndii = "nowhere.csv"\n')
    with pytest.raises(ConfigError) as err:
        load_calibration_config(path)
    assert any(e.startswith("data.dii: file not found") for e in err.value.errors)
    assert calls == []


def test_unknown_parameter_and_other_mistakes_are_all_reported():
    raw = _raw(priors={"peer_wieght": {"low": 0, "high": 1},
                       "ai_intercept": {"low": -1, "high": -4}},
               abc={"sampler": "gpu", "population_size": 0})
    with pytest.raises(ConfigError) as err:
        parse_calibration_config(raw)
    text = "\n".join(err.value.errors)
    assert "priors.peer_wieght" in text and "did you mean 'peer_weight'" in text
    assert "priors.ai_intercept: low (-1) must be below high (-4)" in text
    assert "abc.sampler" in text and "single, multicore, dask" in text
    assert "abc.population_size" in text
    assert len(err.value.errors) >= 4


def test_prior_outside_the_parameter_range_is_refused():
    with pytest.raises(ConfigError) as err:
        parse_calibration_config(_raw(priors={"peer_weight": {"low": -1, "high": 1}}))
    assert any(e.startswith("priors.peer_weight.low") for e in err.value.errors)


def test_observations_match_the_shipped_data():
    obs = observations(load_calibration_config(DEFAULT))
    row = obs[(obs["indicator"] == "dii_at_least_basic") & (obs["segment"] == "10-49")
              & (obs["year"] == 2025)]
    assert row["value"].item() == pytest.approx(0.8728)
    assert set(obs["year"]) == {2021, 2022, 2023, 2024, 2025}
    assert obs.loc[obs["indicator"] == "ai", "value"].item() == pytest.approx(0.3321)
    assert obs["key"].is_unique
    # v4 years and bands carry wider tolerances than the at-least-basic share
    assert (obs.loc[obs["series"] == "dii_v4", "sd"] == 0.03).all()
    assert (obs.loc[obs["series"] == "dii_v3_bands", "sd"] == 0.025).all()
    assert (obs.loc[obs["indicator"] == "dii_at_least_basic", "sd"] == 0.01).all()


def test_fit_until_holds_later_years_out():
    obs = observations(load_calibration_config(DEFAULT))
    fit = cal.fitted(obs, 2023)
    assert fit["year"].max() == 2023 and 2021 not in set(fit["year"])


def test_weighted_quantiles():
    import numpy as np

    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantiles(x, np.ones(4), [0.5])[0] == pytest.approx(2.5)
    # all the weight on one value
    assert weighted_quantiles(x, np.array([0, 0, 1.0, 0]), [0.05, 0.95]) == [3.0, 3.0]


def _synthetic_data(tmp_path: Path, truth: dict[str, float], firms: int) -> tuple[Path, Path]:
    """Observation files in the shipped format, made by the model at known parameters."""
    config = CalibrationConfig(name="s", priors={}, dii_file=Path(), advanced_file=Path(),
                               firms=firms)
    s = simulate_series(truth, config, seed=99, end_year=2025)
    v = s.set_index(["indicator", "segment", "year"])["value"]
    rows = []
    for size in ("10-49", "50-249"):
        for year in (2021, 2023, 2025):
            for level in cal.LEVELS:
                rows.append(("NL", size, year, 3, level, 100 * v[(f"dii_{level}", size, year)]))
        for year in (2022, 2024):
            rows.append(("NL", size, year, 4, "at_least_basic",
                         100 * v[("dii_v4_at_least_basic", size, year)]))
    dii = tmp_path / "dii.csv"
    pd.DataFrame(rows, columns=["geo", "size_class", "year", "dii_version", "level",
                                "value_pct"]).to_csv(dii, index=False)
    adv_rows = [(f"synthetic [{code}]", "NL", "GE10", "2025",
                 str(100 * v[(ind, "10-249", 2025)]), "%", "model")
                for ind, code in cal.ADVANCED_CODES.items()]
    adv = tmp_path / "adv.csv"
    pd.DataFrame(adv_rows, columns=["indicator", "geo", "size_class", "year", "value", "unit",
                                    "source"]).to_csv(adv, index=False)
    return dii, adv


def test_calibration_recovers_known_parameters(tmp_path):
    truth = {"basic_intercept": -3.0, "size_effect_50_249": 0.6}
    dii, adv = _synthetic_data(tmp_path, truth, firms=1000)
    config = parse_calibration_config(_raw(data={"dii": str(dii), "advanced": str(adv)}))
    result = calibrate(config, out=tmp_path / "out", progress=False)
    summary = result.summary.set_index("parameter")
    for name, value in truth.items():
        low, high = config.priors[name]
        q05, q95 = summary.loc[name, "q05"], summary.loc[name, "q95"]
        assert q05 <= value <= q95, (name, value, q05, q95)
        # and the data taught something: the interval is well inside the prior
        assert q95 - q05 < 0.6 * (high - low), (name, q05, q95)
    out = tmp_path / "out"
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == [*config.priors, "weight"]
    assert posterior["weight"].sum() == pytest.approx(1.0)
    for name in ("calibration_fit.png", "posterior_marginals.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    assert (out / "manifest.json").exists() and (out / "report.md").exists()
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["role"]) == {"initial", "fitted"}


def test_back_test_reports_held_out_years(tmp_path):
    truth = {"basic_intercept": -3.0, "size_effect_50_249": 0.6}
    dii, adv = _synthetic_data(tmp_path, truth, firms=1000)
    raw = _raw(data={"dii": str(dii), "advanced": str(adv)})
    raw["abc"]["max_populations"] = 1
    config = parse_calibration_config(raw)
    result = calibrate(config, out=tmp_path / "bt", fit_until=2023, progress=False)
    held = result.forecast[result.forecast["role"] == "held out"]
    assert set(held["year"]) == {2024, 2025}
    assert "Back-test" in (tmp_path / "bt" / "report.md").read_text()


def test_calibration_runs_on_a_dask_cluster(tmp_path):
    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, max_populations=1, predictive_draws=5)
    config = parse_calibration_config(raw)
    result = calibrate(config, out=tmp_path / "d", sampler="dask", workers=2, progress=False)
    assert len(result.posterior) == 10
    assert result.posterior["weight"].sum() == pytest.approx(1.0)


def test_interrupted_calibration_keeps_the_last_complete_generation(tmp_path, monkeypatch):
    import json

    import pyabc

    original = pyabc.ABCSMC.run

    def run_then_interrupt(self, *args, **kwargs):
        kwargs["max_nr_populations"] = 1
        original(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(pyabc.ABCSMC, "run", run_then_interrupt)
    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, predictive_draws=5)
    result = calibrate(parse_calibration_config(raw), out=tmp_path / "i", progress=False)
    assert len(result.posterior) == 10
    manifest = json.loads((tmp_path / "i" / "manifest.json").read_text())
    assert manifest["stopped_early"] is True


def test_min_acceptance_rate_is_validated():
    raw = _raw()
    raw["abc"]["min_acceptance_rate"] = 1.5
    with pytest.raises(ConfigError) as err:
        parse_calibration_config(raw)
    assert any(e.startswith("abc.min_acceptance_rate") for e in err.value.errors)
