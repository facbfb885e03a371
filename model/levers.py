"""The policy levers at work in one run: subsidy schemes granting within their budgets,
EDIH hubs serving their queues, the cyber campaign and the security obligation.

``model.policy`` says what a lever is; this module holds what it does to the firms and
the state it keeps (who may apply, who was granted, budgets and places used). Budgets and
capacities are never exceeded: queues are served first come, first served in a per-firm
priority order drawn once per run, so a larger budget or capacity serves a superset of
the firms a smaller one serves.
"""

from __future__ import annotations

import numpy as np

from .datasets import SIZE_CLASSES
from .decisions import AdoptionRule, DecisionInputs
from .parameters import Parameters
from .policy import (
    CURRENT_EDIH,
    EDIHProgramme,
    Policy,
    active,
    first_come_first_served,
    hub_capacities,
)
from .population import REGION_NAMES, SECTOR_NAMES, Population
from .technologies import COST_REFERENCE_EUR, DECISIONS


class Levers:
    """The levers of ``policy`` acting on ``firms``."""

    def __init__(self, policy: Policy, firms: Population, params: Parameters,
                 rule: AdoptionRule, by_priority: np.ndarray, apply_u: np.ndarray) -> None:
        self.policy, self.firms, self.params, self.rule = policy, firms, params, rule
        self.by_priority = by_priority
        n = firms.n
        # Who each lever can reach is fixed at set-up, not recomputed every quarter.
        self.applicants = [self.covered(sc.size_classes) & (apply_u >= sc.application_friction)
                           for sc in policy.subsidies]
        c, o = policy.cyber_campaign, policy.security_obligation
        self.campaign_covered = self.covered(c.size_classes) if c else None
        self.obligation_covered = self.covered(o.size_classes, o.sectors) if o else None
        # One grant per firm, technology and scheme.
        self.granted = np.zeros((len(policy.subsidies), len(DECISIONS), n), dtype=bool)
        self.subsidy_paid_by_year: dict[tuple[int, int], float] = {}
        self.edih_served_by_year: dict[tuple[int, int], float] = {}
        self._edih_in_force: EDIHProgramme | None = None
        self._edih_queues: list[tuple[np.ndarray, np.ndarray]] = []
        self._edih_next = [0] * len(REGION_NAMES)

    def covered(self, size_classes: tuple[str, ...],
                sectors: tuple[str, ...] = SECTOR_NAMES) -> np.ndarray:
        """Firms a lever reaches by its fixed targeting (size classes and sectors)."""
        f = self.firms
        return (np.isin(f.size_class, [SIZE_CLASSES.index(s) for s in size_classes])
                & np.isin(f.sector, [SECTOR_NAMES.index(s) for s in sectors]))

    # ------------------------------------------------------------------ EDIHs
    def edih_programme(self, year: int) -> EDIHProgramme:
        """The scenario's programme from its ``from_year``; current policy before."""
        e = self.policy.edih
        return e if year >= e.from_year else CURRENT_EDIH

    def _edih_queues_for(self, e: EDIHProgramme) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per hub: its targeted, not yet served firms in priority order, with their
        cumulative weight.

        Targeting depends only on fixed attributes and hubs serve in queue order, so
        the firms a hub has served are always a prefix of its queue (rebuilt only when
        the programme in force changes).
        """
        f = self.firms
        targeted = self.covered(e.size_classes, e.sectors) & ~f.edih_served
        order = self.by_priority[targeted[self.by_priority]]
        queues = []
        for hub in range(len(REGION_NAMES)):
            q = order[f.region[order] == hub]
            queues.append((q, np.cumsum(f.weight[q])))
        return queues

    def edih_outreach(self, year: int, quarter: int) -> None:
        """Each hub serves its places of the quarter; served firms get the services."""
        e, f, p = self.edih_programme(year), self.firms, self.params
        if e is not self._edih_in_force:
            self._edih_in_force = e
            self._edih_queues = self._edih_queues_for(e)
            self._edih_next = [0] * len(REGION_NAMES)
        if not active(e, year) or e.capacity_per_year <= 0:
            return
        # Places accrue by quarter; those unused carry over within the year only.
        capacity = hub_capacities(e) * quarter / 4.0
        new = []
        for hub, (queue, cum) in enumerate(self._edih_queues):
            done = self.edih_served_by_year.get((year, hub), 0.0)
            start = self._edih_next[hub]
            before = cum[start - 1] if start > 0 else 0.0
            stop = int(np.searchsorted(cum, before + (capacity[hub] - done), side="right"))
            if stop > start:
                new.append(queue[start:stop])
                self.edih_served_by_year[(year, hub)] = done + (cum[stop - 1] - before)
                self._edih_next[hub] = stop
        if not new:
            return
        served = np.concatenate(new)
        f.edih_served[served] = True
        f.edih_eur[served] += e.cost_per_firm_eur
        if "scan" in e.services:
            for aware in f.aware.values():
                aware[served] = True
        if "test_before_invest" in e.services:
            f.test_before_invest[served] = True
        if "training" in e.services:
            f.capability[served] += p["training_capability_gain"]

    # ------------------------------------------------------------------ cyber levers
    def cyber_awareness(self, year: int, u_reach: np.ndarray) -> None:
        """The campaign reaches firms (and makes them aware of cyber risk); a legal duty
        makes the covered firms aware."""
        f = self.firms
        c = self.policy.cyber_campaign
        if active(c, year):
            covered = self.campaign_covered
            reached = covered & (u_reach < c.reach_per_year / 4.0)
            f.campaign_reached |= reached
            f.aware["security"] |= reached
            if covered.any():
                f.campaign_eur[covered] += c.cost_per_year_eur / 4.0 / f.weight[covered].sum()
        if active(self.policy.security_obligation, year):
            f.aware["security"] |= self.obligation_covered

    def security_pushes(self, year: int) -> np.ndarray | float:
        """Campaign and obligation terms of the security decision (log-odds)."""
        f, p = self.firms, self.params
        push: np.ndarray | float = 0.0
        if active(self.policy.cyber_campaign, year):
            push = push + p["campaign_measure_effect"] * f.campaign_reached
        o = self.policy.security_obligation
        if active(o, year):
            below = self.obligation_covered & (f.measures < o.min_measures)
            push = push + p["obligation_effect"] * below
        return push

    def measure_floor(self, year: int) -> np.ndarray | int:
        """Fewest measures each firm may lapse to: an obligation's minimum for the firms
        it covers while it applies, else 0 (no per-firm array in the common case)."""
        o = self.policy.security_obligation
        if not active(o, year):
            return 0
        floor = np.zeros(self.firms.n, dtype=np.int8)
        floor[self.obligation_covered] = o.min_measures
        return floor

    # ------------------------------------------------------------------ subsidies
    def subsidise(self, year: int, d: int, tech: str, facing: np.ndarray,
                  inputs: DecisionInputs, cost_eur: np.ndarray, p_plain: np.ndarray,
                  u: np.ndarray) -> np.ndarray:
        """Grants for decision ``d``: who applies, who is paid, who adopts because of it.

        A firm applies when it would adopt with the grant (u < p with subsidy) and
        does not balk at the paperwork; applications are paid in priority order
        while the scheme's budget for the year lasts. Paid firms adopt; the others
        decide without the grant, as in the baseline.
        """
        f = self.firms
        granted_any = np.zeros(f.n, dtype=bool)
        for s, scheme in enumerate(self.policy.subsidies):
            if tech not in scheme.technologies or not active(scheme, year):
                continue
            key = (s, year)
            left = scheme.yearly_budget_eur - self.subsidy_paid_by_year.get(key, 0.0)
            grant = np.minimum(scheme.rate * cost_eur, scheme.cap_eur)
            eligible = (facing & (grant > 0) & ~self.granted[s, d] & ~granted_any
                        & self.applicants[s])
            if not eligible.any() or left <= 0:
                continue
            with_grant = DecisionInputs(**{**inputs.__dict__,
                                           "net_cost": (cost_eur - grant) / COST_REFERENCE_EUR})
            intend = eligible & (u < self.rule.probability(with_grant))
            paid = first_come_first_served(intend, self.by_priority, grant * f.weight, left)
            if not paid.any():
                continue
            self.subsidy_paid_by_year[key] = (self.subsidy_paid_by_year.get(key, 0.0)
                                              + float(np.sum(grant[paid] * f.weight[paid])))
            self.granted[s, d] |= paid
            granted_any |= paid
            f.subsidy_eur[paid] += grant[paid]
            f.subsidised[paid] += 1
            f.deadweight[paid & (u < p_plain)] += 1
        return granted_any
