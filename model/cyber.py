"""Cyber incidents and the firm's response.

The quarterly incident hazard rises with digital exposure (DII items), firm size
(more people and systems to attack, and more seen) and the threat level, and falls
with the security measures in place. An incident makes
the firm aware of cyber risk and raises its propensity to add measures; that
push decays with a half-life. Whether an incident is reported depends on the
firm's protection (firms that take security seriously also report) and on
awareness campaigns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit

from .parameters import Parameters
from .population import Population
from .technologies import N_SECURITY_MEASURES, SECURITY_THRESHOLD

# Reference exposure and protection at which ``incident_rate`` applies.
EXPOSURE_REF = 0.5
PROTECTION_REF = 0.5
EMPLOYEES_REF = 20.0


def incident_probability(
    dii_items: np.ndarray, measures: np.ndarray, threat: float, p: Parameters,
    employees: np.ndarray | None = None,
) -> np.ndarray:
    """Probability of at least one incident in the quarter, per firm; the hazard scales
    with (employees / EMPLOYEES_REF) ** incident_size_effect."""
    base = -np.log1p(-p["incident_rate"]) / 4.0
    exposure = dii_items / 12.0 - EXPOSURE_REF
    protection = measures / N_SECURITY_MEASURES - PROTECTION_REF
    z = p["exposure_effect"] * exposure - p["protection_effect"] * protection
    if employees is not None:
        z = z + p["incident_size_effect"] * np.log(employees / EMPLOYEES_REF)
    hazard = base * threat * np.exp(z)
    return -np.expm1(-hazard)


def reporting_probability(
    measures: np.ndarray, campaign_reached: np.ndarray, p: Parameters
) -> np.ndarray:
    """Probability that a firm reports an incident it had."""
    z = (
        p["reporting_intercept"]
        + p["reporting_protection_effect"] * measures / N_SECURITY_MEASURES
        + p["campaign_reporting_effect"] * campaign_reached
    )
    return expit(z)


def memory_decay(p: Parameters) -> float:
    """Factor by which the push from an incident shrinks each quarter."""
    return 0.5 ** (1.0 / p["incident_memory_halflife"])


def incidents(f: Population, p: Parameters, dii_items: np.ndarray, threat: float,
              quarter_index: int, u: np.ndarray) -> None:
    """One quarter's incidents: who is hit (and made aware), who reports it; the push
    from earlier incidents fades."""
    f.incident_memory *= memory_decay(p)
    hit = u[0] < incident_probability(dii_items, f.measures, threat, p, f.employees)
    f.last_incident[hit] = quarter_index
    f.incident_memory[hit] = 1.0
    f.aware["security"] |= hit
    report = u[1] < reporting_probability(f.measures, f.campaign_reached, p)
    f.last_reported[hit] = report[hit]


def incident_history(f: Population, p: Parameters, dii_items: np.ndarray,
                     draw: Callable[[], np.ndarray]) -> None:
    """Incidents of the four quarters up to 2021 Q1, so the first year's incident
    indicators are not empty (``draw`` gives a quarter's two rows of uniforms)."""
    prob = incident_probability(dii_items, f.measures, 1.0, p, f.employees)
    report = reporting_probability(f.measures, f.campaign_reached, p)
    decay = memory_decay(p)
    for q in range(-3, 1):
        u = draw()
        hit = u[0] < prob
        f.last_incident[hit] = q
        f.incident_memory[hit] = decay ** (-q)
        f.aware["security"] |= hit
        f.last_reported[hit] = (u[1] < report)[hit]


def reported_past_year(f: Population, quarter_index: int) -> np.ndarray:
    """Firms that reported an incident of the last four quarters."""
    return ((quarter_index - f.last_incident) < 4) & f.last_reported


def lapses(f: Population, p: Parameters, quarter_index: int, floor: np.ndarray | int,
           u: np.ndarray) -> None:
    """Attention to cyber risk fades unless security is part of how the firm works (5+
    measures) or an incident is recent; measures lapse (expired policies, backups no
    longer made), never below ``floor`` (an obligation's minimum)."""
    recent = (quarter_index - f.last_incident) < 4
    fading = f.aware["security"] & (f.measures < SECURITY_THRESHOLD) & ~recent
    f.aware["security"] &= ~(fading & (u[0] < p["security_awareness_lapse"]))
    f.measures -= ((u[1] < p["security_lapse_rate"]) & (f.measures > floor)).astype(np.int8)
