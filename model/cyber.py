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

import numpy as np

from .parameters import Parameters
from .technologies import N_SECURITY_MEASURES

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
    return 1.0 / (1.0 + np.exp(-z))


def memory_decay(p: Parameters) -> float:
    """Factor by which the push from an incident shrinks each quarter."""
    return 0.5 ** (1.0 / p["incident_memory_halflife"])
