"""The technology ladder and the definitions of what is observed.

Eurostat's Digital Intensity Index (DII) counts how many of 12 items a firm has;
"at least basic" is 4 or more. The 12 items change from one survey year to the next:
version 3 (2021, 2023, 2025) and version 4 (2022, 2024) share only four of them, and
each version swapped items between its own years (``EDITIONS``). The model keeps one
pool of basic items from which every edition is counted, so all observation series
come out of one firm state.

Basic items are adopted one at a time along a firm-specific ladder (the order in
which that firm takes them up). Cloud, data analytics and AI are decided on
separately, security measures in the cyber submodel; each counts towards an
edition's index where the edition asks about it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import quarter_index


@dataclass(frozen=True)
class BasicItem:
    name: str
    prevalence_2021: float  # share of 10-249 firms with the item in 2021: orders the ladder
    complexity: float  # dimensionless effort of taking the item up (0 = trivial)


# Prevalences: rounded orders of magnitude for NL 10+ firms around 2021-2022 (stated
# assumption; CBS gives IoT at "1 in 5" firms in 2021). They set only the typical order
# of the ladder; the 2021 bands are matched exactly at initialisation. Complexity
# (stated assumption): 0.2-0.5 for items bought or switched on, 0.8-1.5 for items that
# change how the firm is organised or sells (ERP, CRM, specialists, online sales, IoT,
# robots, security documents, training).
BASIC_ITEMS: tuple[BasicItem, ...] = (
    BasicItem("fast_broadband", 0.93, 0.2),
    BasicItem("website", 0.90, 0.3),
    BasicItem("remote_access", 0.85, 0.3),
    BasicItem("social_media", 0.80, 0.3),
    BasicItem("remote_meetings", 0.80, 0.3),
    BasicItem("internet_use", 0.70, 0.2),
    BasicItem("security_awareness", 0.60, 0.4),
    BasicItem("cloud_services", 0.55, 0.3),
    BasicItem("social_media_2plus", 0.50, 0.5),
    BasicItem("erp", 0.45, 1.0),
    BasicItem("crm", 0.45, 0.9),
    BasicItem("security_documents", 0.40, 0.8),
    BasicItem("ecommerce", 0.25, 1.0),
    BasicItem("ict_specialists", 0.22, 1.2),
    BasicItem("iot", 0.20, 1.0),
    BasicItem("ict_training", 0.20, 0.8),
    BasicItem("web_sales_b2c", 0.12, 1.1),
    BasicItem("robots", 0.08, 1.5),
)
BASIC_NAMES: tuple[str, ...] = tuple(i.name for i in BASIC_ITEMS)
N_BASIC = len(BASIC_ITEMS)

ADVANCED: tuple[str, ...] = ("cloud", "data_analytics", "ai")
"""Advanced technologies of the 2030 target ("cloud, AI, big data")."""

DECISIONS: tuple[str, ...] = ("basic", *ADVANCED, "security")
"""Everything a firm decides on each quarter; also what a subsidy may cover."""

CLOUD_ANY = "cloud_any"
"""Edition item 'buys any cloud service' (E_CC): sophisticated or intermediate cloud
(the model's ``cloud``), or basic cloud services only (the ladder item
``CLOUD_SERVICES``)."""
CLOUD_SERVICES = BASIC_NAMES.index("cloud_services")
"""Ladder index of basic cloud services (e-mail, office software, storage)."""
REMOTE_MEETINGS = BASIC_NAMES.index("remote_meetings")
"""Ladder index of 'held remote meetings': an activity the survey asks about for the
past year, so a firm can stop doing it (``Population.meetings_lapsed``), unlike the
ladder's other items."""
MEETINGS_LAPSE_QUARTERS = (quarter_index(2022, 2), quarter_index(2024, 1))
"""Quarter indices (2022 Q2 to 2024 Q1) over which the firms that held remote meetings
in 2022 Q2 drop them at the rate ``remote_meetings_drop`` implies."""
SECURITY_3PLUS = "security_3plus"
"""Edition item 'at least 3 ICT security measures' (E_SECMGE3), from the cyber state."""


@dataclass(frozen=True)
class Edition:
    """The 12 items of one survey year's Digital Intensity Index."""

    year: int
    version: int
    basic: tuple[str, ...]  # ladder items
    advanced: tuple[str, ...] = ()  # of ADVANCED
    derived: tuple[str, ...] = ()  # CLOUD_ANY, SECURITY_3PLUS

    @property
    def items(self) -> tuple[str, ...]:
        return (*self.basic, *self.advanced, *self.derived)

    @property
    def counts_meetings(self) -> bool:
        return "remote_meetings" in self.basic

    @property
    def basic_mask(self) -> np.ndarray:
        return np.array([name in self.basic for name in BASIC_NAMES])


_COMMON = ("internet_use", "fast_broadband", "ecommerce", "web_sales_b2c")
_V3 = (*_COMMON, "social_media", "erp", "crm")
_V4 = (*_COMMON, "ict_specialists", "remote_meetings", "security_awareness", "ict_training",
       "security_documents", "remote_access")
EDITIONS: dict[int, Edition] = {
    2021: Edition(2021, 3, (*_V3, "social_media_2plus", "iot"), ("cloud", "ai"), (CLOUD_ANY,)),
    2022: Edition(2022, 4, (*_V4, "robots"), (), (SECURITY_3PLUS,)),
    2023: Edition(2023, 3, (*_V3, "social_media_2plus"), ("cloud", "data_analytics", "ai"),
                  (CLOUD_ANY,)),
    2024: Edition(2024, 4, _V4, ("ai",), (SECURITY_3PLUS,)),
    2025: Edition(2025, 3, (*_V3, "website"), ("cloud", "data_analytics", "ai"), (CLOUD_ANY,)),
}
"""Items of each survey year's index (Eurostat metadata isoc_e_dii_esmsip2, restated by
Istat and in the Digital Decade scoreboard code; the 2024 set is inferred: 2022's with
robots replaced by AI). v3 2021 -> 2023: IoT replaced by data analytics; 2023 -> 2025:
'2+ social media' replaced by 'has a website'. The shared items are internet use by
most staff, a >= 30 Mbit/s line, e-sales >= 1% of turnover and B2C web sales."""


def edition(year: int, version: int) -> Edition:
    """The edition a reading of ``version`` in ``year`` uses: that year's own, else the
    latest earlier one of the version (later years keep the last known item set), else
    the first one (v4 before 2022)."""
    own = [y for y, e in sorted(EDITIONS.items()) if e.version == version]
    earlier = [y for y in own if y <= year]
    return EDITIONS[earlier[-1] if earlier else own[0]]


REFERENCE_EDITION = EDITIONS[2021]
"""The index firms' own decisions and exposure read (a fixed item set, so that a change
of survey definitions never changes behaviour): the one the 2021 state is matched to."""

for _e in EDITIONS.values():
    assert len(_e.items) == 12 and len(set(_e.items)) == 12, _e.year

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
