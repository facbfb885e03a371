"""Exogenous trends: benefit curves, cost and threat indices, gigabit coverage."""

from __future__ import annotations

import numpy as np
import pytest

from model import PARAMETERS, SMEEconomy
from model import environment as env
from model.parameters import resolve_parameters
from model.timeline import START_YEAR


@pytest.mark.parametrize("tech", ["basic", "cloud", "data_analytics", "ai", "security"])
def test_benefit_trends_are_bounded(tech):
    """A benefit trend is 1 in 2021, never falls, and stays below 1 + gain however far
    ahead: a forecast cannot grow without limit from a few observed years."""
    from model.environment import benefit_trend

    for gain in (0.0, 1.0, PARAMETERS[f"{tech}_benefit_gain"].high):
        for mid in (2015.0, 2023.0, 2032.0):
            p = resolve_parameters({f"{tech}_benefit_gain": gain, "benefit_midyear": mid,
                                    "ai_benefit_midyear": max(mid, 2021.0)})
            t = np.linspace(2021, 2100, 400)
            trend = np.array([benefit_trend(tech, x, p) for x in t])
            assert trend[0] == pytest.approx(1.0)
            assert np.all(np.diff(trend) >= -1e-12)
            assert np.all(trend <= 1.0 + gain + 1e-9)
            assert trend[-1] == pytest.approx(1.0 + gain, abs=1e-3)


@pytest.mark.parametrize("tech", ["cloud", "data_analytics"])
def test_benefit_trends_before_2021_fall_back_and_never_turn_negative(tech):
    """Run back before 2021 (a backcast), a benefit curve falls towards its lower end and
    stops at 0, a benefit never becoming a cost; where the curve stays positive it is the
    same curve as after 2021."""
    from model.environment import benefit_trend

    for gain in (0.2, 2.0):
        for mid in (2018.0, 2025.0):
            p = resolve_parameters({f"{tech}_benefit_gain": gain, "benefit_midyear": mid})
            t = np.linspace(2010, 2021, 45)
            trend = np.array([benefit_trend(tech, x, p) for x in t])
            assert np.all(trend >= 0.0) and np.all(trend <= 1.0 + 1e-12)
            assert np.all(np.diff(trend) >= -1e-12)
            start = 1 / (1 + np.exp(-(START_YEAR - mid) / env.BENEFIT_TREND_WIDTH))
            now = 1 / (1 + np.exp(-(t - mid) / env.BENEFIT_TREND_WIDTH))
            curve = 1 + gain * (now - start) / (1 - start)
            np.testing.assert_allclose(trend, np.maximum(curve, 0.0), atol=1e-12)
    # an early, steep rise runs out before 2014: the floor is reached
    p = resolve_parameters({f"{tech}_benefit_gain": 2.0, "benefit_midyear": 2018.0})
    assert benefit_trend(tech, 2014.0, p) == 0.0


def test_gigabit_coverage_follows_the_observed_series():
    """Through every observed NL value (connectivity.csv), rising, and short of 100%
    by 2030: the 1 Gbit/s ambition is approached, not declared met."""
    from model.datasets import gigabit_coverage_observed

    observed = gigabit_coverage_observed()
    assert [y for y, _ in observed] == [2021, 2022, 2023, 2025]
    for year, share in observed:
        assert env.gigabit_coverage(float(year)) == pytest.approx(share)
    path = [env.gigabit_coverage(t) for t in np.arange(2021, 2031, 0.25)]
    assert (np.diff(path) > 0).all() and path[-1] < 1.0


def test_indices_are_one_at_the_start_and_move_with_their_rates():
    p = resolve_parameters({"cost_decline": 0.05, "threat_growth": 0.1})
    assert env.cost_index(START_YEAR, p) == pytest.approx(1.0)
    assert env.threat_level(START_YEAR, p) == pytest.approx(1.0)
    assert env.cost_index(START_YEAR + 2, p) == pytest.approx(0.95 ** 2)
    assert env.threat_level(START_YEAR + 2, p) == pytest.approx(1.1 ** 2)


def test_firms_reach_gigabit_as_coverage_grows():
    m = SMEEconomy(1_000, seed=2, end_year=2021)
    f = m.firms
    env.reach_gigabit(f, 2021.0)
    early = f.gigabit.copy()
    env.reach_gigabit(f, 2030.0)
    assert (f.gigabit >= early).all() and f.gigabit.sum() > early.sum()
    np.testing.assert_array_equal(f.gigabit, f.gigabit_threshold < env.gigabit_coverage(2030.0))


def test_ai_take_off_is_as_abrupt_as_its_width_and_still_bounded():
    """ai_benefit_width sets how abrupt AI's take-off is: a narrow curve is flatter
    before its mid-year and steeper through it than a wide one, and both stay within
    1 + gain (bounded growth); the other technologies keep the fixed width."""
    from model import resolve_parameters
    from model.environment import benefit_trend

    narrow = resolve_parameters({"ai_benefit_width": 0.4, "ai_benefit_midyear": 2024.5,
                                 "ai_benefit_gain": 4.0})
    wide = resolve_parameters({"ai_benefit_width": 2.5, "ai_benefit_midyear": 2024.5,
                               "ai_benefit_gain": 4.0})
    assert benefit_trend("ai", 2023.0, narrow) < benefit_trend("ai", 2023.0, wide)
    rise = [benefit_trend("ai", 2025.0, q) - benefit_trend("ai", 2024.0, q)
            for q in (narrow, wide)]
    assert rise[0] > rise[1]
    for q in (narrow, wide):
        assert benefit_trend("ai", 2021.0, q) == 1.0
        assert benefit_trend("ai", 2100.0, q) <= 5.0 + 1e-9
        assert benefit_trend("cloud", 2026.0, q) == benefit_trend(
            "cloud", 2026.0, resolve_parameters({}))
