"""The technology ladder and the definitions of what is observed.

Eurostat's Digital Intensity Index (DII) counts how many of 12 items a firm has;
"at least basic" is 4 or more. The item set changes between survey years:
version 3 (2021, 2023, 2025) and version 4 (2022, 2024). The model keeps one
pool of items from which both versions are counted, so both observation series
come out of one firm state (a modelled mapping: item names follow the Eurostat
questions, the split into the two versions is documented in docs/ODD.md).

Basic items are adopted one at a time along a firm-specific ladder (the order in
which that firm takes them up). Cloud, data analytics and AI are decided on
separately and count towards the index where the version includes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BasicItem:
    name: str
    prevalence_2021: float  # share of 10-249 firms with the item in 2021: orders the ladder
    complexity: float  # dimensionless effort of taking the item up (0 = trivial)
    in_v3: bool
    in_v4: bool


# Prevalences are rounded orders of magnitude from Eurostat item-level tables for
# NL 10+ firms around 2021 (stated assumption: they only set the typical order of
# the ladder; the bands themselves are matched exactly at initialisation).
BASIC_ITEMS: tuple[BasicItem, ...] = (
    BasicItem("fast_broadband", 0.93, 0.2, True, True),
    BasicItem("website", 0.90, 0.3, True, True),
    BasicItem("internet_use", 0.80, 0.2, True, True),
    BasicItem("remote_meetings", 0.75, 0.3, False, True),
    BasicItem("mobile_devices", 0.70, 0.3, True, False),
    BasicItem("social_media", 0.65, 0.4, True, True),
    BasicItem("security_awareness", 0.65, 0.4, False, True),
    BasicItem("erp", 0.45, 1.0, True, True),
    BasicItem("crm", 0.40, 0.9, True, False),
    BasicItem("website_sophisticated", 0.35, 0.8, True, False),
    BasicItem("ict_specialists", 0.22, 1.2, True, True),
    BasicItem("ecommerce", 0.20, 1.0, True, True),
)
BASIC_NAMES: tuple[str, ...] = tuple(i.name for i in BASIC_ITEMS)
N_BASIC = len(BASIC_ITEMS)

ADVANCED: tuple[str, ...] = ("cloud", "data_analytics", "ai")
"""Advanced technologies of the 2030 target ("cloud, AI, big data")."""

DECISIONS: tuple[str, ...] = ("basic", *ADVANCED, "security")
"""Everything a firm decides on each quarter; also what a subsidy may cover."""

DII_ADVANCED = {3: ("cloud", "ai"), 4: ("cloud", "data_analytics", "ai")}
DII_BASIC_MASK = {
    3: np.array([i.in_v3 for i in BASIC_ITEMS]),
    4: np.array([i.in_v4 for i in BASIC_ITEMS]),
}
for _v in (3, 4):
    assert DII_BASIC_MASK[_v].sum() + len(DII_ADVANCED[_v]) == 12

BANDS: tuple[str, ...] = ("very_low", "low", "high", "very_high")
BAND_LOWER_EDGES = np.array([0, 4, 7, 10])
"""Lower edges of the bands (Eurostat: 0-3, 4-6, 7-9 and 10-12 items)."""

N_SECURITY_MEASURES = 11
"""Security measures asked about in Eurostat's isoc_cisce_ra module (passwords, MFA,
encryption, backups, access control, VPN, logging, risk assessment, tests, documents,
awareness training)."""
SECURITY_THRESHOLD = 5
"""The official indicator counts firms with at least 5 measures (E_SECMGE5)."""

# Attributes per decision, a stated assumption each (docs/ODD.md):
# base benefit (dimensionless, multiplied by capability and a yearly trend) and
# complexity of an advanced technology (dimensionless). Without support a
# technology's complexity is part of its calibrated intercept; an EDIH
# test-before-invest service removes a share of it (complexity_weight x
# COMPLEXITY x test_before_invest_effect log-odds).
BENEFIT = {"basic": 1.0, "cloud": 1.0, "data_analytics": 1.0, "ai": 0.6, "security": 1.0}
COMPLEXITY = {"cloud": 0.5, "data_analytics": 1.0, "ai": 1.5}
"""Basic items have their own complexities (BASIC_ITEMS, ladder_complexity_weight)."""

COST_REFERENCE_EUR = 10_000.0
"""Costs enter the logit in units of this amount."""


_BAND_OF_COUNT = np.searchsorted(BAND_LOWER_EDGES, np.arange(13), side="right") - 1


def band_codes(count: np.ndarray) -> np.ndarray:
    """Band index 0..3 of DII item counts (0..12)."""
    return _BAND_OF_COUNT.take(count)
