"""Exogenous trends: how attractive each technology is, the threat level, gigabit coverage.

All are smooth functions of fractional calendar time, so a quarterly step reads
them without state.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.special import expit

from . import datasets
from .parameters import Parameters
from .population import Population
from .timeline import START_YEAR

BASE_YEAR = float(START_YEAR)
"""Trends are 1 at the start of the run."""

BENEFIT_TREND_WIDTH = 1.5
"""Scale of the logistic benefit curve of basic items, cloud and data analytics in
years: a rise goes from 27% to 73% of its course within this many years either side of
its mid-year (stated assumption: diffusion-of-innovation S-curves). AI's own scale,
``ai_benefit_width``, is calibrated: how abrupt its take-off was is in the record."""


def benefit_trend(tech: str, t: float, p: Parameters) -> float:
    """Multiplier of a technology's benefit at time ``t``: 1 in 2021, rising along a
    logistic curve centred on the technology's mid-year and bounded by 1 + gain.

    Bounded on purpose: a linear trend makes a 2030 forecast grow without limit from
    four observed years. Before 2021 (a backcast, ``experiments.backcast``) the curve
    falls back towards its lower end, and the multiplier stops at 0: a benefit never
    turns into a cost.
    """
    if tech == "ai":
        mid, width = p["ai_benefit_midyear"], p["ai_benefit_width"]
    else:
        mid, width = p["benefit_midyear"], BENEFIT_TREND_WIDTH
    start = expit((BASE_YEAR - mid) / width)
    now = expit((t - mid) / width)
    return max(0.0, float(1.0 + p[f"{tech}_benefit_gain"] * (now - start) / (1.0 - start)))


def cost_index(t: float, p: Parameters) -> float:
    """Real cost of digital technology relative to 2021 (falls each year)."""
    return (1.0 - p["cost_decline"]) ** (t - BASE_YEAR)


def threat_level(t: float, p: Parameters) -> float:
    """Cyber threat relative to 2021."""
    return (1.0 + p["threat_growth"]) ** (t - BASE_YEAR)


def gigabit_coverage(t: float) -> float:
    """Share of business addresses with a gigabit connection available.

    Linear between the observed values (``datasets.gigabit_coverage_observed``: 91% in
    2021 to 98.75% in 2025); after the last one the uncovered share keeps shrinking at
    the yearly rate of the last two observations (stated assumption), so 100% is
    approached, not reached.
    """
    years, shares = _gigabit_points()
    if t <= years[-1]:
        return float(np.interp(t, years, shares))
    rate = math.log((1 - shares[-2]) / (1 - shares[-1])) / (years[-1] - years[-2])
    return 1.0 - (1.0 - shares[-1]) * math.exp(-rate * (t - years[-1]))


@cache
def _gigabit_points() -> tuple[np.ndarray, np.ndarray]:
    points = datasets.gigabit_coverage_observed()
    return (np.array([y for y, _ in points], dtype=float),
            np.array([v for _, v in points]))


def reach_gigabit(firms: Population, t: float) -> None:
    """Mark the firms whose address gigabit coverage has reached by time ``t``."""
    np.less(firms.gigabit_threshold, gigabit_coverage(t), out=firms.gigabit)
