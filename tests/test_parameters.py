"""The parameter table: completeness, ranges, validation of overrides, and that the
model runs and moves in the expected direction anywhere in the ranges."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest
from conftest import FIRM_SHARES, one
from hypothesis import given
from hypothesis import strategies as st

from model import (
    CALIBRATED,
    PARAMETERS,
    ModelInputError,
    Parameters,
    SMEEconomy,
    parameter_table,
    resolve_parameters,
    simulate,
)

NAMES = sorted(PARAMETERS)


def test_parameter_table_covers_every_parameter():
    table = parameter_table()
    assert list(table["name"]) == list(PARAMETERS)
    assert table["name"].is_unique
    assert {"name", "group", "default", "low", "high", "unit", "calibrated", "description",
            "source"} <= set(table.columns)
    for row in table.itertuples():
        spec = PARAMETERS[row.name]
        assert row.low <= row.default <= row.high, row.name
        assert row.low < row.high, row.name
        assert (row.default, row.low, row.high) == (spec.default, spec.low, spec.high)
        assert row.unit and row.source and row.description and row.group, row.name
        assert bool(row.calibrated) == (row.name in CALIBRATED)


def test_integer_parameters_have_whole_defaults_and_bounds():
    for spec in PARAMETERS.values():
        if spec.integer:
            for v in (spec.default, spec.low, spec.high):
                assert float(v).is_integer(), spec.name


def test_every_sector_has_an_effect_parameter():
    from model.population import SECTOR_NAMES

    for s in SECTOR_NAMES:
        assert f"sector_effect_{s}" in PARAMETERS
    assert PARAMETERS["sector_effect_manufacturing"].default == 0.0  # the reference sector


def test_every_decision_has_intercept_cost_and_benefit_trend():
    from model.technologies import DECISIONS

    for d in DECISIONS:
        for name in (f"{d}_intercept", f"cost_{d}_eur", f"{d}_benefit_gain"):
            assert name in PARAMETERS, name


def test_defaults_resolve():
    p = resolve_parameters()
    assert isinstance(p, Parameters)
    assert dict(p) == {n: s.default for n, s in PARAMETERS.items()}
    assert resolve_parameters(None) == p == resolve_parameters({})
    assert p.peer_weight == p["peer_weight"]
    with pytest.raises(AttributeError):
        _ = p.no_such_parameter


def test_overrides_apply_and_are_immutable():
    p = resolve_parameters({"peer_weight": 2.0, "network_local_degree": 6})
    assert p["peer_weight"] == 2.0
    assert p["network_local_degree"] == 6 and isinstance(p["network_local_degree"], int)
    assert "peer_weight" in repr(p) and "cost_weight" not in repr(p)
    with pytest.raises(TypeError):
        p["peer_weight"] = 3.0  # type: ignore[index]
    assert pickle.loads(pickle.dumps(p)) == p


@pytest.mark.parametrize("name", NAMES)
def test_bounds_are_inclusive_and_outside_is_rejected(name):
    spec = PARAMETERS[name]
    assert resolve_parameters({name: spec.low})[name] == spec.low
    assert resolve_parameters({name: spec.high})[name] == spec.high
    step = 1 if spec.integer else max(1e-6, 1e-3 * (spec.high - spec.low))
    for bad in (spec.low - step, spec.high + step):
        with pytest.raises(ModelInputError) as info:
            resolve_parameters({name: bad})
        msg = str(info.value)
        assert msg.startswith(f"parameters.{name}:")
        assert "out of range" in msg and " to " in msg, msg


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"peer_wieght": 1.0}, "parameters.peer_wieght", "did you mean 'peer_weight'"),
        ({"nonsense": 1.0}, "parameters.nonsense", "ai_intercept"),
        ({"peer_weight": "high"}, "parameters.peer_weight", "0 to 4"),
        ({"peer_weight": True}, "parameters.peer_weight", "0 to 4"),
        ({"peer_weight": float("nan")}, "parameters.peer_weight", "finite"),
        ({"peer_weight": float("inf")}, "parameters.peer_weight", "finite"),
        ({"peer_weight": -0.5}, "parameters.peer_weight", "0 to 4"),
        ({"incident_rate": 0.9}, "parameters.incident_rate", "0.02 to 0.6"),
        ({"network_local_degree": 2.5}, "parameters.network_local_degree", "whole number"),
    ],
)
def test_bad_parameters_name_the_field_and_allowed(overrides, field, needle):
    with pytest.raises(ModelInputError) as info:
        resolve_parameters(overrides)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    assert needle in str(info.value)
    with pytest.raises(ModelInputError):  # the model checks the same way
        SMEEconomy(500, seed=0, parameters=overrides, end_year=2021)


@pytest.mark.parametrize("junk", ["peer_weight", 5])
def test_non_mapping_parameters_raise_model_input_error(junk):
    try:
        resolve_parameters(junk)
    except ModelInputError:
        return
    raise AssertionError("no error")  # pragma: no cover


@given(st.data())
def test_any_values_in_range_are_accepted_and_outside_rejected(data):
    name = data.draw(st.sampled_from(NAMES))
    spec = PARAMETERS[name]
    if spec.integer:
        inside = data.draw(st.integers(int(spec.low), int(spec.high)))
        outside = data.draw(st.integers(int(spec.high) + 1, int(spec.high) + 100)
                            | st.integers(int(spec.low) - 100, int(spec.low) - 1))
    else:
        inside = data.draw(st.floats(spec.low, spec.high))
        width = spec.high - spec.low
        outside = data.draw(st.floats(spec.high + 1e-9 * width, spec.high + 10 * width,
                                      exclude_min=True)
                            | st.floats(spec.low - 10 * width, spec.low - 1e-9 * width,
                                        exclude_max=True))
    assert resolve_parameters({name: inside})[name] == inside
    with pytest.raises(ModelInputError, match=re.escape(f"parameters.{name}:")):
        resolve_parameters({name: outside})


@st.composite
def _parameter_sets(draw):
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=12))
    out = {}
    for name in names:
        s = PARAMETERS[name]
        if s.integer:
            out[name] = draw(st.integers(int(s.low), min(int(s.high), 8)))
        else:
            out[name] = draw(st.sampled_from([s.low, s.high]) | st.floats(s.low, s.high))
    return out


@given(_parameter_sets(), st.integers(0, 2))
def test_model_runs_anywhere_in_the_ranges(params, seed):
    """Experiments sample the ranges: every corner must give a valid run."""
    frame = simulate(500, seed, parameters=params, end_year=2023,
                     policy={"subsidy": {"start_year": 2022}, "cyber_campaign": {}})
    shares = frame[frame["indicator"].isin(FIRM_SHARES)]["value"]
    assert not shares.isna().any()
    assert ((shares >= 0) & (shares <= 1)).all()
    assert np.isfinite(frame.loc[frame["indicator"] != "incident_reported_share",
                                 "value"]).all()


def test_extreme_corners_run():
    for corner in ("low", "high"):
        params = {n: getattr(s, corner) for n, s in PARAMETERS.items()}
        frame = simulate(500, 1, parameters=params, end_year=2023)
        shares = frame[frame["indicator"].isin(FIRM_SHARES)]["value"]
        assert ((shares >= 0) & (shares <= 1)).all()


@pytest.mark.parametrize(
    ("name", "indicator"),
    [
        ("basic_intercept", "dii_at_least_basic"),
        ("cloud_intercept", "cloud"),
        ("data_analytics_intercept", "data_analytics"),
        ("ai_intercept", "ai"),
        ("security_intercept", "security_5plus"),
        ("initial_security_5plus", "security_5plus"),
        ("incident_rate", "incident_past_year"),
        ("threat_growth", "incident_past_year"),
        ("ai_benefit_gain", "ai"),
        ("initial_ai", "ai"),
        ("initial_cloud", "cloud"),
        ("awareness_base_rate", "advanced_any"),
    ],
)
def test_calibration_levers_move_their_target(name, indicator):
    """The parameters calibration turns move the indicator they are fitted to, upward."""
    spec = PARAMETERS[name]
    lower = spec.default - 0.25 * (spec.default - spec.low)
    higher = spec.default + 0.25 * (spec.high - spec.default)
    lo = one(simulate(1_000, 4, parameters={name: lower}, end_year=2025), indicator,
             "10-249", 2025, 1)
    hi = one(simulate(1_000, 4, parameters={name: higher}, end_year=2025), indicator,
             "10-249", 2025, 1)
    assert hi > lo, (name, lo, hi)


def test_every_parameter_has_a_role_and_levers_are_few():
    from model.parameters import HISTORY, LEVER_RESPONSE, ROLES

    assert {PARAMETERS[n].role for n in PARAMETERS} <= set(ROLES)
    assert set(HISTORY) | set(LEVER_RESPONSE) == set(PARAMETERS)
    # what a lever does to a firm acts only when the lever is in force
    assert set(LEVER_RESPONSE) == {"edih_weight", "test_before_invest_effect",
                                   "complexity_weight", "training_capability_gain",
                                   "campaign_measure_effect", "campaign_reporting_effect",
                                   "obligation_effect"}
    # the measurement parameters never change the simulation
    frame_a = simulate(600, 3, end_year=2023)
    frame_b = simulate(600, 3, end_year=2023, parameters={
        n: PARAMETERS[n].high for n in PARAMETERS if PARAMETERS[n].role == "measurement"})
    pd.testing.assert_frame_equal(frame_a, frame_b)


def test_calibrated_defaults_are_the_committed_posteriors_central_draw():
    """A single run without a posterior uses the calibration's central draw (docs/ODD.md
    section 8): every calibrated default is that draw rounded to two significant digits
    (years to one decimal), so a recalibration that forgets the defaults fails here."""
    import math
    from pathlib import Path

    from experiments.analysis import central_draw, posterior_row

    path = Path(__file__).resolve().parents[1] / "results" / "calibration" / "posterior.parquet"
    posterior = pd.read_parquet(path)
    centre = posterior_row(posterior, central_draw(posterior))
    assert set(CALIBRATED) <= set(centre)
    for name in CALIBRATED:
        value = centre[name]
        step = 0.1 if abs(value) >= 100 else 10 ** (math.floor(math.log10(abs(value))) - 1)
        assert PARAMETERS[name].default == pytest.approx(value, abs=0.5 * step + 1e-12), name
