"""experiments/forecast_error.py: the forecast error a back-test measures, and P(hit)
allowing for it; its place in an experiment file and in the summary."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exp_helpers import tiny_mapping
from scipy import stats
from scipy.special import expit

from experiments import forecast_error as fe
from experiments.config import ConfigError, parse_config

FIT_COLUMNS = ["series", "kind", "year", "observed", "median", "p05", "p95", "role"]


def synthetic_misses(tau2: float, n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Held-out misses (log-odds) 1-3 years ahead whose bands hold part of their spread."""
    rng = np.random.default_rng(seed)
    lead = rng.integers(1, 4, n).astype(float)
    band = rng.uniform(0.01, 0.05, n)
    return rng.normal(0.0, np.sqrt(band + tau2 * lead)), band, lead


def test_the_estimate_recovers_a_known_forecast_error():
    errors, band, lead = synthetic_misses(0.1, 2000, seed=1)
    tau2, low, high = fe.variance_per_year(errors, band, lead)
    assert tau2 == pytest.approx(0.1, rel=0.1)
    assert low < 0.1 < high and high - low < 0.05


def test_misses_the_bands_already_cover_measure_no_forecast_error():
    errors, band, lead = synthetic_misses(0.0, 2000, seed=2)
    tau2, low, high = fe.variance_per_year(errors, band, lead)
    assert tau2 < 0.002 and low == 0.0 and high < 0.01


def test_few_misses_leave_the_forecast_error_loosely_known():
    """Four misses give an interval many times wider than four hundred do, and the
    interval always holds the estimate."""
    few = fe.variance_per_year(*synthetic_misses(0.1, 4, seed=3))
    many = fe.variance_per_year(*synthetic_misses(0.1, 400, seed=3))
    for tau2, low, high in (few, many):
        assert low <= tau2 <= high
    assert few[2] - few[1] > 5 * (many[2] - many[1])


def backtest_fit(misses: dict[str, float]) -> pd.DataFrame:
    """A back-test's fit.csv: one held-out share per series (2024, one year ahead), with
    a band of +-0.1 log-odds around the median, besides rows that must not count."""
    rows = []
    for series, miss in misses.items():
        median = 0.6
        rows.append([series, "share", 2024, expit(np.log(1.5) + miss), median,
                     expit(np.log(1.5) - 0.1), expit(np.log(1.5) + 0.1), "held out"])
    rows += [["ai", "share", 2023, 0.9, 0.1, 0.05, 0.2, "fitted"],  # fitted: not a forecast
             ["size_gradient", "gradient", 2024, 3.0, 0.5, 0.4, 0.6, "held out"],
             ["dii_v3_bands", "share", 2024, 0.9, 0.1, 0.05, 0.2, "held out"]]
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def test_only_held_out_shares_of_a_family_count():
    fit = backtest_fit({"dii_v4": 0.5, "ai": 1.0, "cloud": -1.0})
    families = fe.estimate(fit, 2023)
    assert set(families) == {"basic", "advanced"}  # no security value was held out
    assert families["basic"].n_values == 1 and families["advanced"].n_values == 2
    band = (0.1 / fe.Z90) ** 2
    # one value: e^2 = band + tau2 exactly
    assert families["basic"].variance_per_year == pytest.approx(0.25 - band, rel=1e-4)
    assert families["advanced"].variance_per_year == pytest.approx(1.0 - band, rel=1e-4)
    assert families["advanced"].max_lead == 1


def write_backtest(directory: Path, fit: pd.DataFrame, fit_until: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fit.to_csv(directory / "fit.csv", index=False)
    (directory / "manifest.json").write_text(json.dumps({"fit_until": fit_until}))
    return directory


def test_the_lead_counts_from_the_experiments_calibration(tmp_path):
    backtest = write_backtest(tmp_path / "bt", backtest_fit({"dii_v4": 0.5}), 2023)
    calibration = write_backtest(tmp_path / "cal", backtest_fit({}), 2025)
    errors = fe.load(backtest, calibration)
    tau2 = errors.families["basic"].variance_per_year
    assert errors.sd("dii_at_least_basic", 2030)[0] == pytest.approx(math.sqrt(5 * tau2))
    assert errors.sd("dii_at_least_basic", 2025)[0] == 0.0
    assert all(math.isnan(s) for s in errors.sd("ai", 2030))  # no advanced value held out
    assert all(math.isnan(s) for s in errors.sd("gigabit_available", 2030))


def test_a_backtest_must_end_before_the_calibration(tmp_path):
    fit = backtest_fit({"dii_v4": 0.5})
    with pytest.raises(fe.ForecastErrorFileError, match="holds no forecast"):
        fe.load(write_backtest(tmp_path / "bt", fit, 2025),
                write_backtest(tmp_path / "cal", fit, 2025))
    with pytest.raises(fe.ForecastErrorFileError, match=r"fit\.csv"):
        fe.load(tmp_path / "nothing", tmp_path / "cal")
    with pytest.raises(fe.ForecastErrorFileError, match="no column median"):
        fe.load(write_backtest(tmp_path / "bad", fit.drop(columns="median"), 2023),
                tmp_path / "cal")


def test_hit_probability():
    x = np.array([0.90, 0.95, 0.97, 0.99])
    assert fe.hit_probability(x, 0.95, 0.0).tolist() == [0.0, 1.0, 1.0, 1.0]
    p = fe.hit_probability(x, 0.95, 0.5)
    assert p[1] == pytest.approx(0.5)
    assert p[0] < 0.5 < p[2] < p[3]
    expected = stats.norm.cdf((np.log(0.97 / 0.03) - np.log(0.95 / 0.05)) / 0.5)
    assert p[2] == pytest.approx(expected)
    # a larger error pulls every run's chance towards one half, from either side
    wide = fe.hit_probability(x, 0.95, 2.0)
    assert wide[0] > p[0] and (wide[2:] < p[2:]).all()


# ----------------------------------------------------------------- experiment file
def mapping_with_backtest(backtest: str) -> dict:
    raw = copy.deepcopy(tiny_mapping())
    raw["forecast_error"] = {"backtest": backtest}
    return raw


def test_an_experiment_names_its_backtest_and_validate_checks_it(tmp_path):
    calibration = write_backtest(tmp_path / "cal", backtest_fit({}), 2025)
    pd.DataFrame({"cloud_intercept": [-5.0], "weight": [1.0]}).to_parquet(
        calibration / "posterior.parquet")
    write_backtest(tmp_path / "bt", backtest_fit({"dii_v4": 0.5}), 2023)
    raw = mapping_with_backtest("bt")
    raw["uncertainties"]["posterior"] = "cal/posterior.parquet"
    config = parse_config(raw, base_dir=tmp_path)
    assert config.forecast_error == (tmp_path / "bt").resolve()
    plain = copy.deepcopy(raw)
    del plain["forecast_error"]
    # the report reads the back-test off the runs; the runs do not depend on it
    assert config.digest() == parse_config(plain, base_dir=tmp_path).digest()

    raw["forecast_error"]["backtest"] = "missing"
    with pytest.raises(ConfigError, match=r"forecast_error\.backtest: .*fit\.csv"):
        parse_config(raw, base_dir=tmp_path)
    assert parse_config(raw, base_dir=tmp_path, check_files=False).forecast_error is not None
    raw["forecast_error"] = {"backtest": 2023}
    with pytest.raises(ConfigError, match=r"forecast_error\.backtest: expected the path"):
        parse_config(raw, base_dir=tmp_path)
    raw["forecast_error"] = {"back_test": "bt"}
    with pytest.raises(ConfigError, match="back_test"):
        parse_config(raw, base_dir=tmp_path)


def test_a_forecast_error_needs_a_posterior(tmp_path):
    write_backtest(tmp_path / "bt", backtest_fit({"dii_v4": 0.5}), 2023)
    with pytest.raises(ConfigError, match=r"forecast_error\.backtest: needs \[uncertainties\] "
                                          "posterior"):
        parse_config(mapping_with_backtest("bt"), base_dir=tmp_path)


def test_years_of_one_statistic_share_their_walk():
    """Misses of one statistic read 1, 2 and 3 years ahead are steps of one random
    walk: the estimate that knows it recovers tau^2, and its interval is wider than one
    that takes the 600 values for independent ones (they hold less information)."""
    rng = np.random.default_rng(4)
    n_tracks, tau2 = 200, 0.1
    walk = np.cumsum(rng.normal(0.0, math.sqrt(tau2), (n_tracks, 3)), axis=1)
    band = np.full((n_tracks, 3), 0.02)
    errors = walk + rng.normal(0.0, np.sqrt(band))
    lead = np.tile([1.0, 2.0, 3.0], (n_tracks, 1))
    track = np.repeat(np.arange(n_tracks), 3)
    joint = fe.variance_per_year(errors.ravel(), band.ravel(), lead.ravel(), track)
    apart = fe.variance_per_year(errors.ravel(), band.ravel(), lead.ravel())
    assert joint[0] == pytest.approx(tau2, rel=0.15)
    assert joint[1] < tau2 < joint[2]
    assert joint[2] - joint[1] > apart[2] - apart[1]


def test_mixture_quantiles_widen_the_runs_band_by_the_forecast_error():
    one = fe.mixture_quantiles(np.array([0.8]), 0.5, (0.05, 0.5, 0.95))
    centre = np.log(0.8 / 0.2)
    assert one == pytest.approx(expit(centre + 0.5 * stats.norm.ppf([0.05, 0.5, 0.95])),
                                abs=1e-9)
    runs = np.random.default_rng(5).uniform(0.6, 0.9, 400)
    assert fe.mixture_quantiles(runs, 0.0, (0.05, 0.95)) == pytest.approx(
        np.quantile(runs, [0.05, 0.95]))
    plain, wide = (fe.mixture_quantiles(runs, sd, (0.05, 0.95)) for sd in (0.01, 0.8))
    assert wide[0] < plain[0] < plain[1] < wide[1]
    assert plain == pytest.approx(np.quantile(runs, [0.05, 0.95]), abs=0.01)


def random_walk_fit(tau2: float, tracks: int, seed: int) -> pd.DataFrame:
    """A back-test's fit.csv with ``tracks`` advanced statistics held out 1 and 2 years
    ahead, each missing its median by a random walk of variance tau2 per year on top of
    the spread its band holds."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(tracks):
        band_sd = rng.uniform(0.05, 0.2)
        walk = np.cumsum(rng.normal(0.0, math.sqrt(tau2), 2))
        for lead in (1, 2):
            miss = walk[lead - 1] + rng.normal(0.0, band_sd)
            rows.append({"key": f"s{k}:{lead}", "code": f"S{k}", "segment": "10-249",
                         "series": "cloud", "kind": "share", "year": 2023 + lead,
                         "observed": expit(miss), "median": 0.5,
                         "p05": expit(-fe.Z90 * band_sd), "p95": expit(fe.Z90 * band_sd),
                         "role": "held out"})
    return pd.DataFrame(rows)


def test_leave_one_out_bands_with_the_error_hold_nine_in_ten():
    """The check of the error model on a back-test: bands widened by the error estimated
    from the other statistics hold about 90% of misses drawn from that error model,
    where the plain bands hold far fewer."""
    check = fe.leave_one_out(random_walk_fit(0.1, 200, seed=5), 2023)
    assert len(check) == 400 and (check["family"] == "advanced").all()
    assert check["inside_with_error"].mean() == pytest.approx(0.90, abs=0.04)
    assert check["inside_plain"].mean() < 0.7
    assert check["tau"].between(0.24, 0.40).all()  # sqrt(0.1) = 0.32, from 199 others


def test_leave_one_out_leaves_a_statistics_own_years_out():
    """A statistic's own misses never widen its own band: with one statistic far off and
    the others on their medians, its band is not widened (it lies outside), while the
    others' bands, widened by its misses, hold them."""
    fit = random_walk_fit(0.0, 4, seed=6)
    fit[["observed", "median"]] = 0.5
    far = fit["code"] == "S0"
    fit.loc[far, "observed"] = expit(2.0)
    check = fe.leave_one_out(fit, 2023).set_index("track")
    assert (check.loc["S0@10-249", "tau"] == 0.0).all()
    assert not check.loc["S0@10-249", "inside_with_error"].any()
    assert (check.drop(index="S0@10-249")["tau"] > 0.5).all()
    assert check.drop(index="S0@10-249")["inside_with_error"].all()
