"""Policy levers: subsidy schemes, EDIHs, cyber awareness campaigns, security duties.

A policy is given as a mapping of the same shape as a scenario table in an
experiment file, for example::

    {"subsidy": {"rate": 0.5, "cap_eur": 10000, "yearly_budget_eur": 5e7,
                 "technologies": ["cloud", "ai", "data_analytics"]},
     "edih": {"capacity_per_year": 2400}}

It is read as a change to *current policy*: the five EDIHs running at their
present capacity, and nothing else. A lever not named keeps its current setting;
``edih = {capacity_per_year = 0}`` switches the hubs off. ``subsidy`` may be one
table or a list of tables (several schemes, applied in the order given).

Allocation is first come, first served in a queue ordered by a per-firm random
priority drawn once per run, so a scheme's yearly budget and a hub's yearly
capacity are never exceeded, and a larger budget or capacity serves a superset
of the firms a smaller one serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .datasets import SIZE_CLASSES
from .errors import check_keys, check_table, check_year_span
from .population import REGION_NAMES, SECTOR_NAMES
from .technologies import DECISIONS
from .timeline import MAX_YEAR, START_YEAR

YEAR_RANGE = (START_YEAR, MAX_YEAR)
EDIH_SERVICES = ("scan", "test_before_invest", "training")

# Five Dutch EDIHs with about EUR 30 million for 2022-2025 and a target of 3,500
# firms over three years (policy_programmes.csv): about 1,200 firms a year, each
# hub with the same budget (EUR 1.8 million a year per hub), hence equal capacity.
CURRENT_EDIH_CAPACITY = 1200.0
CURRENT_EDIH_COST_PER_FIRM = 30e6 / 3500


@dataclass(frozen=True)
class SubsidyScheme:
    """A grant towards the cost of adopting, while the year's budget lasts."""

    rate: float = 0.5  # share of the firm's cost paid
    cap_eur: float = 10_000.0  # most a firm receives per technology
    yearly_budget_eur: float = 50e6
    technologies: tuple[str, ...] = ("cloud", "data_analytics", "ai")
    size_classes: tuple[str, ...] = SIZE_CLASSES
    start_year: int = 2026
    end_year: int = 2030
    # Share of firms that never apply, whatever they intend: set so that an open scheme
    # like Italy's 2018 digitalisation voucher (50% up to EUR 10,000, budget raised to
    # fund every application) reaches what it reached, 91,488 firms (about 2% of
    # Italian SMEs) in its year; tests/test_policy.py checks it. Schemes evaluated
    # elsewhere reached 0.1% (UK Help to Grow: Digital) to about 10% a year (Spain's Kit
    # Digital, suppliers filing for firms): docs/EVIDENCE.md.
    application_friction: float = 0.95
    name: str = "subsidy"


@dataclass(frozen=True)
class EDIHProgramme:
    """The European Digital Innovation Hubs: one per region, equal capacity each.

    A scenario's settings apply from ``from_year`` (default 2026, the first year not
    yet observed); before it the hubs run as they do now, so a scenario never
    rewrites the observed past.
    """

    capacity_per_year: float = CURRENT_EDIH_CAPACITY  # real firms served a year, all hubs
    start_year: int = 2023
    end_year: int = 2030
    services: tuple[str, ...] = EDIH_SERVICES
    sectors: tuple[str, ...] = SECTOR_NAMES
    size_classes: tuple[str, ...] = SIZE_CLASSES
    cost_per_firm_eur: float = CURRENT_EDIH_COST_PER_FIRM
    from_year: int = 2026


CURRENT_EDIH = EDIHProgramme()
"""The hubs as they run under current policy."""


@dataclass(frozen=True)
class CyberCampaign:
    """A cyber awareness campaign reaching a share of firms each year."""

    reach_per_year: float = 0.2
    start_year: int = 2026
    end_year: int = 2030
    size_classes: tuple[str, ...] = SIZE_CLASSES
    cost_per_year_eur: float = 2e6


@dataclass(frozen=True)
class SecurityObligation:
    """A NIS2-like duty: covered firms below ``min_measures`` are pushed to add measures."""

    min_measures: int = 5
    start_year: int = 2026
    end_year: int = 2030
    size_classes: tuple[str, ...] = ("50-249",)
    sectors: tuple[str, ...] = SECTOR_NAMES


@dataclass(frozen=True)
class Policy:
    subsidies: tuple[SubsidyScheme, ...] = ()
    edih: EDIHProgramme = field(default_factory=EDIHProgramme)
    cyber_campaign: CyberCampaign | None = None
    security_obligation: SecurityObligation | None = None


_LEVERS = {
    "subsidy": SubsidyScheme,
    "edih": EDIHProgramme,
    "cyber_campaign": CyberCampaign,
    "security_obligation": SecurityObligation,
}

# Per field: (kind, low, high) for numbers, or (kind, allowed names) for lists.
_FIELDS: dict[str, dict[str, tuple]] = {
    "subsidy": {
        "rate": ("number", 0.0, 1.0),
        "cap_eur": ("number", 0.0, None),
        "yearly_budget_eur": ("number", 0.0, None),
        "technologies": ("names", DECISIONS),
        "size_classes": ("names", SIZE_CLASSES),
        "start_year": ("integer", *YEAR_RANGE),
        "end_year": ("integer", *YEAR_RANGE),
        "application_friction": ("number", 0.0, 1.0),
        "name": ("text",),
    },
    "edih": {
        "capacity_per_year": ("number", 0.0, None),
        "start_year": ("integer", *YEAR_RANGE),
        "end_year": ("integer", *YEAR_RANGE),
        "services": ("names", EDIH_SERVICES),
        "sectors": ("names", SECTOR_NAMES),
        "size_classes": ("names", SIZE_CLASSES),
        "cost_per_firm_eur": ("number", 0.0, None),
        "from_year": ("integer", *YEAR_RANGE),
    },
    "cyber_campaign": {
        "reach_per_year": ("number", 0.0, 1.0),
        "start_year": ("integer", *YEAR_RANGE),
        "end_year": ("integer", *YEAR_RANGE),
        "size_classes": ("names", SIZE_CLASSES),
        "cost_per_year_eur": ("number", 0.0, None),
    },
    "security_obligation": {
        "min_measures": ("integer", 0, 11),
        "start_year": ("integer", *YEAR_RANGE),
        "end_year": ("integer", *YEAR_RANGE),
        "size_classes": ("names", SIZE_CLASSES),
        "sectors": ("names", SECTOR_NAMES),
    },
}


def parse_policy(policy: Mapping[str, Any] | Policy | None) -> Policy:
    """Validate a policy mapping and overlay it on current policy."""
    if isinstance(policy, Policy):
        return policy
    policy = {} if policy is None else policy
    check_keys(policy, _LEVERS, "policy")
    subsidies: tuple[SubsidyScheme, ...] = ()
    if "subsidy" in policy:
        raw = policy["subsidy"]
        tables = list(raw) if isinstance(raw, list | tuple) else [raw]
        subsidies = tuple(
            _parse_lever("subsidy", t, f"policy.subsidy[{k}]" if len(tables) > 1 else
                         "policy.subsidy")
            for k, t in enumerate(tables)
        )
    out = Policy(
        subsidies=subsidies,
        edih=_parse_lever("edih", policy.get("edih", {}), "policy.edih"),
        cyber_campaign=(
            _parse_lever("cyber_campaign", policy["cyber_campaign"], "policy.cyber_campaign")
            if "cyber_campaign" in policy else None
        ),
        security_obligation=(
            _parse_lever("security_obligation", policy["security_obligation"],
                         "policy.security_obligation")
            if "security_obligation" in policy else None
        ),
    )
    return out


def _parse_lever(kind: str, table: Any, path: str):
    lever = _LEVERS[kind](**check_table(table, _FIELDS[kind], path))
    check_year_span(lever.start_year, lever.end_year, path)
    return lever


def active(lever: Any, year: int) -> bool:
    return lever is not None and lever.start_year <= year <= lever.end_year


def first_come_first_served(
    candidates: np.ndarray, by_priority: np.ndarray, amount: np.ndarray, available: float
) -> np.ndarray:
    """Mask of candidates served in priority order until ``available`` is used up.

    ``by_priority`` lists all firms in queue order; ``amount`` is what each firm
    would take (EUR, or real firms for capacity). The queue closes at the first
    firm that no longer fits, as a scheme closes when its budget runs out.
    """
    served = np.zeros(len(candidates), dtype=bool)
    if available <= 0:
        return served
    queue = by_priority[candidates[by_priority]]
    if len(queue) == 0:
        return served
    cum = np.cumsum(amount[queue])
    served[queue[: np.searchsorted(cum, available, side="right")]] = True
    return served


def hub_capacities(edih: EDIHProgramme) -> np.ndarray:
    """Yearly capacity of each regional hub (real firms), equal shares."""
    return np.full(len(REGION_NAMES), edih.capacity_per_year / len(REGION_NAMES))
