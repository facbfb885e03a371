"""Calibration: config validation before any simulation, observed statistics, and
recovery of known parameters from synthetic observations made by the model itself."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import calibration as cal
from experiments import observations as ob
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
from model.parameters import PARAMETERS

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
    assert config.cyber_file.is_file()
    # Manifests name the shipped data relative to the repository, wherever it was cloned.
    assert config.canonical()["dii_file"] == "model/data/eurostat_isoc_e_dii.csv"


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
    fit = obs[obs["role"] == "fit"]
    assert set(fit["year"]) == {2021, 2022, 2023, 2024, 2025}
    ai = obs[(obs["code"] == "E_AI_TANY") & (obs["kind"] == "share")].set_index("year")
    # AI on every observed year; the 2025 value (break in series) read through its offset
    assert ai["value"].to_dict() == pytest.approx({2021: 0.121, 2023: 0.1311, 2024: 0.219,
                                                   2025: 0.3187})
    assert ai.loc[2025, "offset"] == "survey_ai_2025_offset" and ai.loc[2025, "flag"] == "b"
    assert (obs.loc[obs["code"] == "E_CC", "offset"] == "survey_cloud_any_offset").all()
    # both DII versions, each by size class
    assert set(obs.loc[obs["series"] == "dii_v4", "year"]) == {2022, 2024}
    assert set(obs.loc[obs["series"] == "dii_v3_basic", "year"]) == {2021, 2023, 2025}
    # before 2021: kept, not fitted
    assert set(obs.loc[obs["role"] == "before start", "year"]) <= set(range(2014, 2021))
    assert obs["key"].is_unique
    # sd = sampling error (+) model error, so it exceeds both
    shares = obs[obs["kind"] == "share"]
    assert (shares["sd"] >= shares["sampling_sd"]).all() and (shares["sampling_sd"] > 0).all()


def test_size_gradient_statistics_come_from_other_member_states():
    obs = observations(load_calibration_config(DEFAULT))
    grad = obs[obs["kind"] == "gradient"]
    assert set(grad["indicator"]) == {"ai", "cloud", "data_analytics"}
    # medium firms lead small ones everywhere in the EU: positive log-odds gaps
    assert (grad["value"] > 0.5).all() and (grad["sd"] > 0.05).all()


def test_fit_until_holds_later_years_out():
    obs = observations(load_calibration_config(DEFAULT))
    fit = cal.fitted(obs, 2023)
    assert fit["year"].max() == 2023 and 2020 not in set(fit["year"])
    assert not ((fit["year"] == 2021) & fit["series"].str.startswith("dii_v3")).any()


def test_series_weigh_the_same_in_the_per_series_distance():
    obs = observations(load_calibration_config(DEFAULT))
    fit = cal.fitted(obs, 2025)
    w = cal.distance_weights(fit, "per_series")
    # sum over a series of (weight x sd)^2 is 1 for every series
    totals = fit.assign(c=[(w[k] * sd) ** 2 for k, sd in zip(fit["key"], fit["sd"], strict=True)]
                        ).groupby("series")["c"].sum()
    assert totals.to_numpy() == pytest.approx(1.0)


def test_full_likelihood_weighs_every_statistic_by_its_sd():
    config = load_calibration_config(DEFAULT)
    assert config.likelihood == "per_statistic"  # the default and the shipped file's
    fit = cal.fitted(observations(config), 2025)
    w = cal.distance_weights(fit, config.likelihood)
    assert [w[k] for k in fit["key"]] == pytest.approx(list(1.0 / fit["sd"]))


def test_weighted_quantiles():
    import numpy as np

    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert weighted_quantiles(x, np.ones(4), [0.5])[0] == pytest.approx(2.5)
    # all the weight on one value
    assert weighted_quantiles(x, np.array([0, 0, 1.0, 0]), [0.05, 0.95]) == [3.0, 3.0]


def _synthetic_data(tmp_path: Path, truth: dict[str, float], firms: int) -> dict[str, str]:
    """Observation files in the shipped layout, made by the model at known parameters
    and read through the survey observation model (no sampling noise): the ``[data]``
    table of a calibration config."""
    import numpy as np

    config = CalibrationConfig(name="s", priors={}, dii_file=Path(), advanced_file=Path(),
                               cyber_file=Path(),
                               firms=firms)
    values = simulate_series(truth, config, seed=99, end_year=2025)
    record = ob.load_record().table
    record = record[record["role"] != "before start"].reset_index(drop=True)
    record["value"] = ob.readings(record, values, truth)
    rows = []
    for r in record[record["series"].str.startswith("dii")].itertuples():
        level = r.indicator.replace("dii_v4_", "").replace("dii_", "")
        rows.append(("NL", r.segment, r.year, 4 if r.series == "dii_v4" else 3, level,
                     100 * r.value))
        if level == "at_least_basic" and r.series != "dii_v4":
            rows.append(("NL", r.segment, r.year, 3, "very_low", 100 * (1 - r.value)))
    dii = tmp_path / "dii.csv"
    pd.DataFrame(rows, columns=["geo", "size_class", "year", "dii_version", "level",
                                "value_pct"]).to_csv(dii, index=False)
    shipped = pd.read_csv(REPO / "model" / "data" / "eurostat_advanced_history.csv")
    nl = (shipped["geo"] == "NL") & (shipped["size_class"] == "10-249")
    adv_frame = shipped[~nl | (shipped["year"] < 2021)].copy()
    new = []
    for r in record[record["kind"] == "share"].itertuples():
        if r.segment == "10-249":
            new.append({"dataset": "synthetic", "indicator": r.code, "indicator_label": "",
                        "geo": "NL", "size_class": "10-249", "year": r.year,
                        "value": 100 * r.value, "flag": r.flag or np.nan})
    adv = tmp_path / "adv.csv"
    pd.concat([adv_frame, pd.DataFrame(new)], ignore_index=True).to_csv(adv, index=False)
    cyber = tmp_path / "cyber.csv"
    pd.DataFrame([{"indicator": f"synthetic [{r.code}]", "geo": "NL", "size_class": r.segment,
                   "year": r.year, "value": 100 * r.value, "unit": "%", "source": "model"}
                  for r in record[record["series"].isin(["security", "incidents"])].itertuples()]
                 ).to_csv(cyber, index=False)
    return {"dii": str(dii), "advanced": str(adv), "cyber": str(cyber)}


def test_calibration_recovers_known_parameters(tmp_path):
    truth = {"basic_intercept": -3.0, "size_effect_50_249": 0.6}
    data = _synthetic_data(tmp_path, truth, firms=1000)
    # The synthetic record is the model itself: no model error, so the fit allows none
    # (its simulations then carry sampling error only).
    no_model_error = dict.fromkeys(ob.MODEL_SD, 0.0)
    raw = _raw(data=data, tolerance=no_model_error)
    # Three generations (epsilon 3.3) already identify both: a fourth would take as long
    # as the first three together (the moves' acceptance falls as the kernel narrows).
    raw["abc"]["max_populations"] = 3
    config = parse_calibration_config(raw)
    # Two workers: the result is the one-process result (the workers test below), and the
    # longest test of the suite then keeps both cores busy.
    result = calibrate(config, out=tmp_path / "out", sampler="multicore", workers=2,
                       progress=False)
    summary = result.summary.set_index("parameter")
    for name, value in truth.items():
        low, high = config.priors[name]
        q05, q95 = summary.loc[name, "q05"], summary.loc[name, "q95"]
        assert q05 <= value <= q95, (name, value, q05, q95)
        # and the data taught something: identified, the interval at most half the prior
        assert q95 - q05 < 0.5 * (high - low), (name, q05, q95)
        assert summary.loc[name, "identified"]
    out = tmp_path / "out"
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == [*config.priors, "weight"]
    assert posterior["weight"].sum() == pytest.approx(1.0)
    for name in ("calibration_fit.png", "posterior_marginals.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    assert (out / "manifest.json").exists() and (out / "report.md").exists()
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["role"]) == {"initial", "fitted"}
    report = (out / "report.md").read_text()
    assert "Identification" in report and "every statistic counts once" in report
    assert set(summary["identified"]) <= {True, False}


AI_INTERCEPT = PARAMETERS["ai_intercept"].default


def test_definition_break_offset_is_recovered(tmp_path):
    """A synthetic AI series whose 2025 survey reads 0.8 log-odds higher than the firms'
    true use (a break in series): the calibration recovers the offset, and the true AI
    trend is not bent to absorb it."""
    truth = {"survey_ai_2025_offset": 0.8}
    data = _synthetic_data(tmp_path, truth, firms=1000)
    raw = _raw(data=data,
               priors={"survey_ai_2025_offset": {"low": -1.0, "high": 1.5},
                       "ai_intercept": {"low": AI_INTERCEPT - 1.0, "high": AI_INTERCEPT + 1.0}})
    raw["abc"].update(population_size=40, max_populations=4, predictive_draws=5)
    result = calibrate(parse_calibration_config(raw), out=tmp_path / "brk",
                       sampler="multicore", workers=2, progress=False)
    s = result.summary.set_index("parameter")
    assert s.loc["survey_ai_2025_offset", "q05"] <= 0.8 <= s.loc["survey_ai_2025_offset", "q95"]
    assert s.loc["survey_ai_2025_offset", "q05"] > 0.2  # a break was found, not noise
    # the synthetic truth's ai_intercept is its default
    assert s.loc["ai_intercept", "q05"] <= AI_INTERCEPT <= s.loc["ai_intercept", "q95"]


def test_back_test_reports_held_out_years(tmp_path):
    truth = {"basic_intercept": -3.0, "size_effect_50_249": 0.6}
    data = _synthetic_data(tmp_path, truth, firms=1000)
    raw = _raw(data=data)
    raw["abc"]["max_populations"] = 1
    config = parse_calibration_config(raw)
    result = calibrate(config, out=tmp_path / "bt", fit_until=2023, progress=False)
    held = result.forecast[result.forecast["role"] == "held out"]
    assert set(held["year"]) == {2024, 2025}
    assert {"ai", "cloud", "data_analytics", "dii_v4", "dii_v3_basic"} <= set(held["series"])
    report = (tmp_path / "bt" / "report.md").read_text()
    assert "Back-test" in report and "## Simulation noise" in report
    assert (tmp_path / "bt" / "simulation_noise.csv").exists()
    # the record before 2021 tests the fitted mechanism (experiments/backcast.py)
    assert "## Before 2021: a backcast" in report
    assert (tmp_path / "bt" / "figures" / "backcast.png").exists()
    past = pd.read_csv(tmp_path / "bt" / "backcast.csv")
    assert set(past["code"]) == {"E_CC", "E_BD", "E_BDA"}
    # the forecast error the experiments take from it, per family, is in its report
    from experiments import forecast_error
    for family in forecast_error.estimate(result.forecast, 2023).values():
        assert family.describe() in report
    assert "advanced: tau" in report


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

    from experiments.abc import chunks

    calls = []

    def chunks_then_interrupt(items, parts):
        calls.append(len(items))
        if len(calls) == 3:  # during the MCMC moves of generation 1
            raise KeyboardInterrupt
        return chunks(items, parts)

    monkeypatch.setattr(cal, "chunks", chunks_then_interrupt)
    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, predictive_draws=5)
    result = calibrate(parse_calibration_config(raw), out=tmp_path / "i", progress=False)
    assert len(result.posterior) == 10
    manifest = json.loads((tmp_path / "i" / "manifest.json").read_text())
    assert manifest["stopped_early"] is True and "interrupted" in manifest["stop_reason"]
    assert [p["t"] for p in manifest["populations"]] == [0]


def test_calibration_is_reproducible_whatever_the_workers(tmp_path):
    """Each simulation's seed follows from the calibration seed and its number, so one
    worker and two give the same posterior."""
    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=12, max_populations=2, predictive_draws=5)
    config = parse_calibration_config(raw)
    one = calibrate(config, out=tmp_path / "w1", sampler="single", progress=False)
    two = calibrate(config, out=tmp_path / "w2", sampler="multicore", workers=2,
                    progress=False)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)


@pytest.mark.parametrize(("field", "bad", "allowed"), [
    ("min_acceptance_rate", 1.5, "allowed: 0 to 1"),
    ("target_epsilon", 0.0, "allowed: 0.1 to 100"),
    ("likelihood", "full", "allowed: per_statistic, per_series")])
def test_abc_settings_are_validated(field, bad, allowed):
    raw = _raw()
    raw["abc"][field] = bad
    with pytest.raises(ConfigError) as err:
        parse_calibration_config(raw)
    assert any(e.startswith(f"abc.{field}") and allowed in e for e in err.value.errors)


def test_chains_are_one_chain_calibrations_with_successive_seeds_pooled(tmp_path):
    """Two chains, run side by side in their own processes, give exactly the two
    one-chain calibrations with seeds s and s + 1, pooled with equal weight; the report
    and summary say whether they agree."""
    import json
    from dataclasses import replace

    raw = _raw()
    raw["run"]["firms"] = 500
    # One generation after the prior's: identity holds or fails in the first.
    raw["abc"].update(population_size=10, max_populations=1, predictive_draws=5, chains=2)
    config = parse_calibration_config(raw)
    two = calibrate(config, out=tmp_path / "c2", sampler="multicore", workers=2,
                    progress=False)
    post = two.posterior
    assert post["chain"].tolist() == [0] * 10 + [1] * 10
    assert post["weight"].sum() == pytest.approx(1.0) and post["weight"].nunique() == 1
    for c in (0, 1):
        one = calibrate(replace(config, chains=1, seed=config.seed + c), out=tmp_path / f"s{c}",
                        sampler="single", progress=False)
        pd.testing.assert_frame_equal(
            post[post["chain"] == c].drop(columns=["chain", "weight"]).reset_index(drop=True),
            one.posterior.drop(columns="weight"))
    # chains run separately (one job each) and pooled give the same calibration
    for c in (1, 0):
        calibrate(config, out=tmp_path / f"job{c}", sampler="single", chain=c, progress=False)
    pooled = cal.pool_calibrations(config, [tmp_path / "job1", tmp_path / "job0"],
                                   out=tmp_path / "pooled")
    pd.testing.assert_frame_equal(pooled.posterior, post)
    pd.testing.assert_frame_equal(pooled.summary, two.summary)
    pd.testing.assert_frame_equal(pooled.forecast, two.forecast)
    manifest = json.loads((tmp_path / "c2" / "manifest.json").read_text())
    assert [c["seed"] for c in manifest["chains"]] == [5, 6]
    assert manifest["simulations"] == sum(c["simulations"] for c in manifest["chains"])
    assert two.summary["rhat"].notna().all() and (two.summary["rhat"] >= 0.9).all()
    assert "## Chains" in (tmp_path / "c2" / "report.md").read_text()
    # experiments read the pooled file; the chain column is not a parameter
    from experiments.config import read_posterior

    assert "chain" not in read_posterior(tmp_path / "c2" / "posterior.parquet")


def test_chains_added_later_pool_with_the_earlier_calibration(tmp_path):
    """A two-chain calibration, then the file asks for three and chain 2 runs as a job:
    pooled, they are exactly the three-chain calibration run at once."""
    import json
    from dataclasses import replace

    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, max_populations=1, predictive_draws=5, chains=2)
    two = parse_calibration_config(raw)
    calibrate(two, out=tmp_path / "two", sampler="single", progress=False)
    three = replace(two, chains=3, max_walltime_minutes=30)  # a safety stop may differ
    calibrate(three, out=tmp_path / "job2", sampler="single", chain=2, progress=False)
    pooled = cal.pool_calibrations(three, [tmp_path / "two", tmp_path / "job2"],
                                   out=tmp_path / "pooled")
    at_once = calibrate(three, out=tmp_path / "three", sampler="single", progress=False)
    pd.testing.assert_frame_equal(pooled.posterior, at_once.posterior)
    pd.testing.assert_frame_equal(pooled.summary, at_once.summary)
    manifests = [json.loads((tmp_path / d / "manifest.json").read_text())
                 for d in ("pooled", "three")]
    for key in ("simulations", "reached_target", "epsilon"):
        assert manifests[0][key] == manifests[1][key]
    assert [c["seed"] for c in manifests[0]["chains"]] == [5, 6, 7]
    assert ([(g["chain"], g["t"], g["samples"]) for g in manifests[0]["populations"]]
            == [(g["chain"], g["t"], g["samples"]) for g in manifests[1]["populations"]])
    with pytest.raises(ConfigError, match="given twice"):
        cal.pool_calibrations(three, [tmp_path / "two", tmp_path / "pooled"])


def test_chain_agreement_flags_chains_that_disagree():
    rng = np.random.default_rng(1)
    same = pd.DataFrame({"x": rng.normal(0, 1, 400), "chain": np.repeat([0, 1], 200)})
    apart = same.assign(x=same["x"] + 2.0 * same["chain"])
    agree = cal.chain_agreement(same, "x", 3.3)
    differ = cal.chain_agreement(apart, "x", 3.3)
    assert agree["rhat"] < 1.02 and agree["chain_shift"] < 0.15
    assert differ["rhat"] > cal.RHAT_LIMIT and differ["chain_shift"] > 0.5
    assert math.isnan(cal.chain_agreement(same.drop(columns="chain"), "x", 3.3)["rhat"])


def test_chain_agreement_reads_the_weights_of_reweighted_chains():
    # The same particles in both chains; the weights alone decide whether they agree.
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, 200)
    post = pd.DataFrame({"x": np.r_[x, x], "chain": np.repeat([0, 1], 200)})
    flat = rng.uniform(0.5, 1.5, 400)
    agree = cal.chain_agreement(post.assign(weight=flat / flat.sum()), "x", 3.3)
    tilted = np.where(post["chain"] == 1, np.exp(1.5 * post["x"]), 1.0)
    differ = cal.chain_agreement(post.assign(weight=tilted / tilted.sum()), "x", 3.3)
    assert agree["rhat"] < 1.02 and agree["chain_shift"] < 0.15
    # the tilt moves chain 1's mean and median by about 1.5 (less in a finite sample)
    assert differ["rhat"] > cal.RHAT_LIMIT and differ["chain_shift"] > 0.3


def test_weighted_chains_pool_each_with_the_same_total_weight():
    parts = [pd.DataFrame({"a": [1.0, 2.0, 3.0]}), pd.DataFrame({"a": [4.0, 5.0]})]
    post = cal.pool_chains(parts, {"b": 7.0}, [np.array([0.2, 0.2, 0.6]), np.array([1.0, 3.0])])
    np.testing.assert_allclose(post["weight"], [0.1, 0.1, 0.3, 0.125, 0.375])
    assert post["chain"].tolist() == [0, 0, 0, 1, 1] and (post["b"] == 7.0).all()
    equal = cal.pool_chains(parts, {}, [np.full(3, 1 / 3), np.full(2, 0.5)])
    assert (equal["weight"] == 0.2).all()  # equally weighted chains: as before


def test_a_calibration_that_ends_by_reweighting_pools_its_weights(tmp_path):
    """A tolerance reached in a few generations: each chain ends on its particles
    reweighted, and chains run as jobs and pooled keep those weights exactly."""
    from dataclasses import replace

    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=12, target_epsilon=8.0, predictive_draws=5, chains=2)
    config = parse_calibration_config(raw)
    at_once = calibrate(config, out=tmp_path / "two", sampler="single", progress=False)
    post = at_once.posterior
    assert at_once.reached_target
    last = at_once.populations.groupby("chain").tail(1)
    assert (last["samples"] == 0).all() and last["acceptance"].isna().all()
    assert post.groupby("chain")["weight"].sum().tolist() == pytest.approx([0.5, 0.5])
    assert post.groupby("chain")["weight"].nunique().gt(1).all()  # not equal weights
    for c in (0, 1):
        calibrate(replace(config), out=tmp_path / f"job{c}", sampler="single", chain=c,
                  progress=False)
    pooled = cal.pool_calibrations(config, [tmp_path / "job0", tmp_path / "job1"],
                                   out=tmp_path / "pooled")
    pd.testing.assert_frame_equal(pooled.posterior, post)
    pd.testing.assert_frame_equal(pooled.summary, at_once.summary)
    report = (tmp_path / "two" / "report.md").read_text()
    assert "none (reweighted)" in report and "last generation reweighted" in report


def test_a_trade_off_counts_as_pinned_down_and_chain_disagreement_is_located():
    # a + b is fixed by the data, a - b is not: each parameter alone looks weakly
    # identified, yet one of the two combinations is pinned down. Two chains that part
    # only along a - b agree on the pinned combination and disagree on the open one.
    rng = np.random.default_rng(3)
    n = 400
    chain = np.repeat([0, 1], n // 2)
    free = rng.uniform(-0.6, 0.6, n) + np.where(chain == 1, 0.15, -0.15)
    total = 1.0 + rng.normal(0, 0.01, n)
    post = pd.DataFrame({"a": (total + free) / 2, "b": (total - free) / 2,
                         "weight": 1.0 / n, "chain": chain})
    priors = {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    for name in priors:
        q05, q95 = np.quantile(post[name], [0.05, 0.95])
        assert q95 - q05 > cal.IDENTIFIED_WIDTH  # marginally weak
    joint = cal.joint_identification(post, priors)
    assert joint.pinned == 1 and joint.within == 1
    assert joint.spread[1] < 0.1 < cal.PINNED_SD < joint.spread[0]
    assert joint.rhat[1] < 1.05 and joint.rhat[0] > cal.RHAT_LIMIT
    (_, terms), = joint.widest(1)
    assert {name for name, _ in terms} == {"a", "b"}
    assert terms[0][1] * terms[1][1] < 0  # the open direction is a - b
    text = cal._joint_section(joint)
    assert "**1 of 2**" in text and "they disagree on 1" in text
    one = cal.joint_identification(post.drop(columns="chain"), priors)
    assert one.rhat is None and one.within is None and one.pinned == 1


def test_ctrl_c_keeps_every_chains_last_generation(tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during a two-chain
    calibration: each chain hands back its last complete generation, and the pooled
    posterior, report and manifest are written, marked as stopped early."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from exp_helpers import to_toml

    raw = _raw()
    raw["run"]["firms"] = 500
    # The smallest target the file allows, so the chains are still far from it when
    # Ctrl-C comes (two parameters can reach the default target within a generation
    # or two of the signal, and the run then ends unstopped).
    raw["abc"].update(population_size=10, max_populations=1000, predictive_draws=5,
                      chains=2, sampler="multicore", max_walltime_minutes=10,
                      target_epsilon=0.1)
    path = tmp_path / "c.toml"
    path.write_text(to_toml(raw))
    out = tmp_path / "out"
    # A terminal's Ctrl-C reaches a process that has SIGINT at its default; a process
    # started from one that ignores it (a pytest-xdist worker, a background job of a
    # script) inherits the ignoring, and Python then never raises KeyboardInterrupt.
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "calibrate", str(path),
                             "--workers", "2", "--out", str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started = time.perf_counter()
    lines = []
    for line in proc.stdout:  # wait until both chains have finished a generation
        lines.append(line)
        if sum(line.startswith(f"chain {c}: generation 2") for c in (0, 1)
               for line in lines) == 2 or time.perf_counter() - started > 120:
            break
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, "".join(lines) + rest
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stopped_early"] is True
    assert all(c["stopped_early"] for c in manifest["chains"])
    post = pd.read_parquet(out / "posterior.parquet")
    assert sorted(post["chain"].unique()) == [0, 1] and len(post) == 20


def test_pooling_refuses_outputs_that_are_not_chains_of_the_file(tmp_path):
    from dataclasses import replace

    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, max_populations=1, predictive_draws=5, chains=2)
    config = parse_calibration_config(raw)
    calibrate(config, out=tmp_path / "c0", chain=0, sampler="single", progress=False)
    other = replace(config, firms=600)
    calibrate(other, out=tmp_path / "x1", chain=1, sampler="single", progress=False)
    with pytest.raises(ConfigError) as err:
        cal.pool_calibrations(config, [tmp_path / "c0", tmp_path / "x1", tmp_path / "none"])
    text = "\n".join(err.value.errors)
    assert "x1: a calibration with other settings (firms)" in text
    assert "none: not a calibration's output" in text
    with pytest.raises(ConfigError) as err:
        cal.pool_calibrations(config, [tmp_path / "c0", tmp_path / "c0"])
    assert "chain 0 (seed 5) given twice" in "\n".join(err.value.errors)
    with pytest.raises(ConfigError) as err:
        cal.pool_calibrations(config, [tmp_path / "c0"])
    assert "1 of the 2 chains given" in "\n".join(err.value.errors)
    with pytest.raises(Exception, match="--chain"):
        calibrate(config, out=tmp_path / "c2", chain=2, progress=False)


def test_a_safety_stop_before_the_target_is_flagged(tmp_path, capsys):
    """A chain stopped before the target tolerance samples a wider distribution than
    the posterior: the manifest, the report and the command line say so."""
    import json

    from experiments.cli import main

    raw = _raw()
    raw["run"]["firms"] = 500
    raw["abc"].update(population_size=10, max_populations=1, predictive_draws=5)
    result = calibrate(parse_calibration_config(raw), out=tmp_path / "s", progress=False)
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert result.reached_target is False and manifest["reached_target"] is False
    assert "max_populations" in manifest["stop_reason"] and manifest["epsilon"] > 1
    assert "Not every chain reached the target" in (tmp_path / "s" / "report.md").read_text()

    path = tmp_path / "c.toml"
    path.write_text('name = "c"\n[run]\nfirms = 500\n[abc]\npopulation_size = 10\n'
                    'max_populations = 1\npredictive_draws = 5\nsampler = "single"\n'
                    '[priors]\nbasic_intercept = { low = -4.5, high = -2.0 }\n')
    assert main(["calibrate", str(path), "--out", str(tmp_path / "c")]) == 0
    assert "not every chain reached the target" in capsys.readouterr().err


def test_simulation_noise_falls_with_the_firms_simulated():
    """The report's simulation-noise check measures the simulation's own randomness:
    with four times the firms its sd falls to about half (binomial noise), the kernel sd
    it is set against is the one the distance divides by, and the same seed gives the
    same numbers."""
    posterior = pd.DataFrame({"basic_intercept": [-3.0, -2.8], "size_effect_50_249": [0.5, 0.7],
                              "weight": [0.5, 0.5]})
    ratios = {}
    for firms in (500, 2000):
        config = parse_calibration_config(_raw(run={"firms": firms, "seed": 5}))
        noise = cal.simulation_noise(posterior, config, observations(config))
        stats = ob.fitted(observations(config), config.fit_until)
        assert list(noise["key"]) == list(stats["key"])
        np.testing.assert_allclose(noise["kernel_sd"], stats["sd"])
        moving = noise["year"] > 2021  # 2021 is the matched initial state
        ratios[firms] = noise.loc[moving, "ratio"].median()
    assert 0.3 < ratios[2000] / ratios[500] < 0.7
    again = cal.simulation_noise(posterior, config, observations(config))
    pd.testing.assert_frame_equal(noise, again)
    summary = cal.noise_summary(noise)
    assert summary["error_model_inflation"] > 1.0
