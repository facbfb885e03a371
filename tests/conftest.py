"""Shared small fixtures and helpers for the model's tests.

Runs are kept small (a few thousand firms, a few years) so the whole suite stays
fast; runs that several tests read are module-scoped and must not be mutated by
the tests that read them (tests that write to firm state build their own model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from model import SMEEconomy
from model.indicators import INDICATORS

settings.register_profile(
    "sme",
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
# A deeper, randomised search for local use: pytest --hypothesis-profile=explore
settings.register_profile("explore", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.load_profile("sme")

N_SMALL = 1_500
SEED = 11
ADVANCED = ("cloud", "data_analytics", "ai")
SHARE_INDICATORS = tuple(i.name for i in INDICATORS if i.kind == "share")
FIRM_SHARES = tuple(i.name for i in INDICATORS if i.kind == "share" and i.denominator == "firms")


def pick(
    frame: pd.DataFrame,
    indicator: str,
    segment: str = "all",
    year: int | None = None,
    quarter: int | None = None,
) -> pd.Series:
    """Values of one indicator for one segment, in time order (optionally one year/quarter)."""
    mask = (frame["indicator"] == indicator) & (frame["segment"] == segment)
    if year is not None:
        mask &= frame["year"] == year
    if quarter is not None:
        mask &= frame["quarter"] == quarter
    out = frame.loc[mask].sort_values(["year", "quarter"])
    assert len(out) > 0, f"no rows for {indicator!r} / {segment!r} / {year} Q{quarter}"
    return out["value"].reset_index(drop=True)


def one(frame: pd.DataFrame, indicator: str, segment: str, year: int, quarter: int) -> float:
    values = pick(frame, indicator, segment, year, quarter)
    assert len(values) == 1
    return float(values.iloc[0])


def run_model(**kwargs) -> SMEEconomy:
    kwargs.setdefault("n_firms", N_SMALL)
    kwargs.setdefault("seed", SEED)
    return SMEEconomy(**kwargs).run()


def lockstep(
    baseline: SMEEconomy, other: SMEEconomy, check: Callable[[SMEEconomy, SMEEconomy], None]
) -> int:
    """Step two models together, calling ``check`` after every step; returns steps taken."""
    steps = 0
    check(baseline, other)
    while baseline.running:
        assert other.running
        baseline.step()
        other.step()
        steps += 1
        check(baseline, other)
    assert not other.running
    return steps


def firm_state_dominates(base: SMEEconomy, other: SMEEconomy) -> None:
    """Every firm of ``other`` is at least as far along as in ``base``: basic depth,
    adoption of each advanced technology and awareness of it."""
    fb, fo = base.firms, other.firms
    where = f"{base.year} Q{base.quarter}"
    behind = np.flatnonzero(fo.depth < fb.depth)
    assert behind.size == 0, f"{where}: firms {behind[:10]} have fewer basic items"
    for tech in ADVANCED:
        lost = np.flatnonzero(fb.adopted[tech] & ~fo.adopted[tech])
        assert lost.size == 0, f"{where}: firms {lost[:10]} lost {tech}"
        unaware = np.flatnonzero(fb.aware[tech] & ~fo.aware[tech])
        assert unaware.size == 0, f"{where}: firms {unaware[:10]} not aware of {tech}"


@pytest.fixture(scope="module")
def baseline_model() -> SMEEconomy:
    """Current policy, 1,500 firms of 10-249, run to the end of 2028."""
    return run_model(end_year=2028)


@pytest.fixture(scope="module")
def baseline_frame(baseline_model: SMEEconomy) -> pd.DataFrame:
    return baseline_model.indicator_frame()


@pytest.fixture(scope="module")
def wide_model() -> SMEEconomy:
    """The 2-249 population (with firms of 2-9), run to the end of 2025."""
    return run_model(population="2-249", seed=3, end_year=2025)


@pytest.fixture(scope="module")
def wide_frame(wide_model: SMEEconomy) -> pd.DataFrame:
    return wide_model.indicator_frame()


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """(config file, results directory) of the tiny reference experiment, run once per
    session (tests/exp_helpers.py); do not modify the directory."""
    from exp_helpers import reference_run

    return reference_run(tmp_path_factory)
