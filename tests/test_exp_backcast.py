"""The backcast of cloud and data analytics before 2021 (experiments/backcast.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import backcast as bc
from experiments.calibration import calibration_model, observations, parse_calibration_config
from model.parameters import PARAMETERS
from model.population import SIZE_CLASSES
from model.timeline import START_YEAR


def _config():
    return parse_calibration_config({
        "name": "t", "run": {"firms": 1500, "seed": 3},
        "abc": {"population_size": 20, "max_populations": 1, "sampler": "single"},
        "priors": {"basic_intercept": {"low": -4.5, "high": -2.0}}})


def _params(config, **over):
    return {**config.parameters, **over}


def _build(config):
    return lambda params, seed: calibration_model(params, config, seed, START_YEAR)


def _path(config, params, share, seed=9, tech="cloud"):
    model = calibration_model(params, config, 4, START_YEAR)
    frame = model.firms.size_class >= SIZE_CLASSES.index("10-49")
    rng = np.random.default_rng(seed)
    return bc.share_path(model.adoption, tech, model.dii_count(), frame, share, 2014, rng)


def test_before_start_is_the_pre_2021_record_of_cloud_and_data_analytics():
    stats = bc.before_start(observations(_config()))
    assert set(stats["code"]) == {"E_CC", "E_BD", "E_BDA"}
    assert stats["year"].min() == 2014 and stats["year"].max() < START_YEAR
    assert set(stats["indicator"]) == set(bc.TECHNOLOGIES)


def test_share_path_is_reproducible_and_rises_with_the_starting_share():
    """The same random numbers give the same path; with more users at the start there
    are more in 2021 (the bisection relies on it); each year's share is a share."""
    config = _config()
    params = _params(config)
    a, b = _path(config, params, 0.3), _path(config, params, 0.3)
    assert a == b
    assert sorted(a) == list(range(2014, START_YEAR + 1))
    assert a[2014] == pytest.approx(0.3, abs=0.02)  # placed by weight, within a firm's weight
    low, high = _path(config, params, 0.2), _path(config, params, 0.5)
    assert low[START_YEAR] < a[START_YEAR] < high[START_YEAR]
    assert all(0.0 <= v <= 1.0 for v in a.values())


def test_backcast_meets_each_draws_2021_share():
    config = _config()
    params = _params(config)
    out = bc.backcast_draw(params, _build(config), 11, 2014)
    for tech in bc.TECHNOLOGIES:
        target, start, shares = out[tech]
        assert shares[START_YEAR] == pytest.approx(target, abs=0.01)
        assert 0.0 < start < 1.0


def test_faster_adoption_leaves_fewer_users_at_the_start():
    """The backcast reads the fitted mechanism: where firms adopt cloud faster (a
    higher intercept), the same 2021 share must have started from fewer users, and
    the rise to 2021 is steeper."""
    config = _config()
    base = PARAMETERS["cloud_intercept"].default
    slow = bc.backcast_draw(_params(config, cloud_intercept=base - 1.0), _build(config), 11,
                            2014)
    fast = bc.backcast_draw(_params(config, cloud_intercept=base + 2.0), _build(config), 11,
                            2014)
    assert fast["cloud"][1] < slow["cloud"][1] - 0.05
    rise = {k: v["cloud"][2][START_YEAR] - v["cloud"][2][2014] for k, v in
            (("slow", slow), ("fast", fast))}
    assert rise["fast"] > rise["slow"] + 0.05


def test_backcast_frame_summary_changes_and_report_section():
    config = _config()
    posterior = pd.DataFrame({"basic_intercept": [-3.0, -2.8], "weight": [0.5, 0.5]})
    frame = bc.backcast(posterior, observations(config), _build(config), config.seed, draws=3,
                        fixed=config.parameters)
    stats = bc.before_start(observations(config))
    assert frame["observed"].notna().sum() == 3 * len(stats)
    for code, part in frame.groupby("code"):  # every year from the first asked to 2021
        first = stats.loc[stats["code"] == code, "year"].min()
        assert sorted(part["year"].unique()) == list(range(first, START_YEAR + 1))
    assert frame.loc[frame["year"] == START_YEAR, "observed"].isna().all()
    assert frame["reading"].between(0, 1).all()
    again = bc.backcast(posterior, observations(config), _build(config), config.seed, draws=3,
                        fixed=config.parameters)
    pd.testing.assert_frame_equal(frame, again)
    levels = bc.summary(frame)
    assert list(levels["key"]) == list(stats["key"])
    moves = bc.changes(frame).set_index("code")
    assert set(moves.index) == {"E_CC", "E_BD"}  # E_BDA has one year only
    cc = stats[stats["code"] == "E_CC"].set_index("year")["value"]
    expected = np.log(cc[2020] / (1 - cc[2020])) - np.log(cc[2014] / (1 - cc[2014]))
    assert moves.loc["E_CC", "observed"] == pytest.approx(expected)
    assert moves.loc["E_CC", "p05"] <= moves.loc["E_CC", "median"] <= moves.loc["E_CC", "p95"]
    text = bc.section(frame)
    assert "## Before 2021: a backcast" in text and "E_CC" in text
    assert bc.section(None) == "" and bc.section(pd.DataFrame()) == ""
    assert bc.manifest_entry(frame)["backcast_changes"][0]["code"] == "E_CC"


def test_changes_flag_an_observed_change_outside_the_band():
    rows = []
    for d, (a, b) in enumerate([(0.5, 0.52), (0.5, 0.55), (0.5, 0.51)]):
        for year, reading, observed in ((2014, a, 0.27), (2020, b, 0.52)):
            rows.append({"draw": d, "code": "E_CC", "indicator": "cloud", "year": year,
                         "reading": reading, "observed": observed})
    moves = bc.changes(pd.DataFrame(rows)).iloc[0]
    assert moves["observed"] > moves["p95"] and not moves["inside_90"]


def test_experiment_note_reads_the_calibrations_backcast(tmp_path):
    import json

    assert bc.experiment_note(tmp_path) == ""  # no calibration manifest
    changes = [{"code": "E_CC", "indicator": "cloud", "from": 2014, "to": 2020,
                "observed": 1.06, "median": 0.07, "p05": -0.25, "p95": 0.43,
                "inside_90": False},
               {"code": "E_BD", "indicator": "data_analytics", "from": 2016, "to": 2018,
                "observed": 0.1, "median": 0.05, "p05": -0.1, "p95": 0.2, "inside_90": True}]
    (tmp_path / "manifest.json").write_text(json.dumps({"backcast_changes": changes}))
    note = bc.experiment_note(tmp_path)
    assert "E_CC 2014-2020 observed +1.06" in note and "; outside)" in note
    assert "use of cloud moved" in note and "data analytics moved" not in note
    changes[0]["inside_90"] = True
    (tmp_path / "manifest.json").write_text(json.dumps({"backcast_changes": changes}))
    assert "inside the backcast's bands" in bc.experiment_note(tmp_path)
