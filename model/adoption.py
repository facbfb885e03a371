"""Awareness and adoption: every firm's decisions of one quarter, vectorised.

Decisions are taken through the TOE logit behind ``decisions.AdoptionRule``; subsidies
act through ``levers.Levers``. Peer effects run over the sparse, row-normalised tie
matrix (``network.peer_matrix``).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from . import cyber, environment
from .decisions import AdoptionRule, DecisionInputs
from .ladder import Ladder
from .levers import Levers
from .parameters import Parameters
from .population import SECTOR_NAMES, Population
from .technologies import (
    ADVANCED,
    BENEFIT,
    COMPLEXITY,
    COST_REFERENCE_EUR,
    DECISIONS,
    MEETINGS_LAPSE_QUARTERS,
    N_BASIC,
    N_SECURITY_MEASURES,
    SECURITY_THRESHOLD,
)


class Adoption:
    """The decisions of ``firms``, with their per-firm constants."""

    def __init__(self, firms: Population, params: Parameters, rule: AdoptionRule,
                 ladder: Ladder, levers: Levers, ties: sparse.spmatrix) -> None:
        self.firms, self.params, self.rule = firms, params, rule
        self.ladder, self.levers, self.ties = ladder, levers, ties
        f, p = firms, params
        size_effect = np.array([p["size_effect_2_9"], 0.0, p["size_effect_50_249"]])
        sector_effect = np.array([p[f"sector_effect_{s}"] for s in SECTOR_NAMES])
        # The hot path runs in float32: probabilities need no more precision, and it
        # halves the memory traffic of every vectorised pass.
        self.shift = (size_effect[f.size_class] + sector_effect[f.sector]
                      + p["innovativeness_effect"] * f.innovativeness).astype(np.float32)
        self.cost_scale = np.array([p["cost_scale_2_9"], 1.0, p["cost_scale_50_249"]],
                                   dtype=np.float32)[f.size_class]
        # ICT skills rise with size: the later, more complex basic items weigh less on
        # the firms of a larger size class (1 for 10-49).
        self.ladder_weight = (p["ladder_complexity_weight"] * np.exp(
            -p["ladder_skill_size_effect"] * (np.arange(3) - 1.0))).astype(np.float32)[
            f.size_class]

    def peer_shares(self, quarter_index: int) -> np.ndarray:
        """Per firm and decision, the share of tied firms that have adopted (the basic
        ladder's mean progress for basic items), then the share that reported an
        incident in the past year."""
        f = self.firms
        x = np.empty((f.n, len(DECISIONS) + 1), dtype=np.float32)
        x[:, 0] = f.depth
        x[:, 0] *= 1.0 / N_BASIC
        for k, tech in enumerate(ADVANCED):
            x[:, 1 + k] = f.adopted[tech]
        x[:, 4] = f.measures >= SECURITY_THRESHOLD
        x[:, 5] = cyber.reported_past_year(f, quarter_index)
        return self.ties @ x  # columns follow DECISIONS, then reported incidents

    def awareness(self, year: int, u: np.ndarray, peers: np.ndarray) -> None:
        """Awareness of each advanced technology (media, tied users) and of cyber risk
        (media, reported incidents of tied firms, the cyber levers)."""
        f, p = self.firms, self.params
        for k, tech in enumerate(ADVANCED):
            f.aware[tech] |= u[k] < self.awareness_probability(peers[:, 1 + k])
        # Reported incidents warn tied firms (sector associations, suppliers, the DTC's
        # alerts): reporting is how one firm's incident raises another's awareness.
        hazard = p["security_awareness_rate"] + p["reporting_warning_rate"] * peers[:, -1]
        f.aware["security"] |= u[len(ADVANCED)] < -np.expm1(-hazard)
        self.levers.cyber_awareness(year, u[len(ADVANCED) + 1])

    def awareness_probability(self, peer_share: np.ndarray) -> np.ndarray:
        """Quarterly probability that a firm not yet aware of an advanced technology
        learns of it (media, and the share ``peer_share`` of its ties that use it)."""
        p = self.params
        return -np.expm1(-(p["awareness_base_rate"] + p["awareness_peer_rate"] * peer_share))

    def advanced_inputs(self, tech: str, t: float, peer_share: np.ndarray,
                        removed: np.ndarray | float = 0.0
                        ) -> tuple[DecisionInputs, np.ndarray]:
        """Drivers of each firm's decision on the advanced technology ``tech`` at time
        ``t``, before any subsidy, and its cost per firm in EUR. ``removed``: the
        complexity a test-before-invest service took away. ``adopt`` decides on them, and
        so does a backcast before 2021 (``experiments.backcast``)."""
        f, p = self.firms, self.params
        extra: np.ndarray | float = 0.0
        if tech == "ai":
            extra = p["ai_cloud_complementarity"] * f.adopted["cloud"]
        if tech == "cloud":
            extra = p["gigabit_effect"] * f.gigabit
        return self._inputs(tech, BENEFIT[tech] * environment.benefit_trend(tech, t, p),
                            environment.cost_index(t, p), peer_share,
                            -COMPLEXITY[tech] * removed, extra)

    def _inputs(self, tech: str, benefit: float, cost_index: float,
                peer_share: np.ndarray, complexity: np.ndarray | float,
                extra: np.ndarray | float) -> tuple[DecisionInputs, np.ndarray]:
        """Every decision's drivers from its own benefit, complexity and extra terms, and
        its cost per firm in EUR."""
        f, p = self.firms, self.params
        cost_eur = self.cost_scale * (p[f"cost_{tech}_eur"] * cost_index)
        inputs = DecisionInputs(
            base=self.shift + p[f"{tech}_intercept"],
            benefit=benefit,
            capability=f.capability,
            net_cost=cost_eur / COST_REFERENCE_EUR,
            slack=f.slack,
            peer_share=peer_share,
            edih_served=f.edih_served,
            complexity=complexity,
            extra=extra,
        )
        return inputs, cost_eur

    def adopt(self, t: float, year: int, u: np.ndarray, peers: np.ndarray) -> None:
        """Each decision in DECISIONS order: the next basic item, cloud, data analytics,
        AI, one security measure; subsidies are granted while budgets last."""
        f, p = self.firms, self.params
        cost_index = environment.cost_index(t, p)
        v3_count = self.ladder.dii_count(f)
        at_least_basic = v3_count >= 4
        # Complexity removed by test-before-invest: the intercepts hold each technology's
        # complexity for a firm without support, so only the removed part enters.
        removed = (p["test_before_invest_effect"] * f.test_before_invest).astype(np.float32)

        for d, tech in enumerate(DECISIONS):
            if tech in ADVANCED:
                facing = f.aware[tech] & ~f.adopted[tech]
                if tech == "ai":  # AI needs a basic digital level; data analytics
                    facing &= at_least_basic  # and cloud do not (see population.py)
                inputs, cost_eur = self.advanced_inputs(tech, t, peers[:, d], removed)
            else:
                benefit = BENEFIT[tech] * environment.benefit_trend(tech, t, p)
                if tech == "basic":
                    facing = f.depth < N_BASIC
                    # Basic items carry their own weight (the ladder's steepness), kept
                    # apart from the advanced technologies' so that each is fitted to its
                    # own data.
                    extra = -self.ladder_weight * self.ladder.next_complexity(f.depth, facing)
                else:  # security
                    facing = f.aware["security"] & (f.measures < N_SECURITY_MEASURES)
                    benefit = benefit * environment.threat_level(t, p)
                    extra = p["incident_response_weight"] * f.incident_memory
                    extra = extra + self.levers.security_pushes(year)
                inputs, cost_eur = self._inputs(tech, benefit, cost_index, peers[:, d], 0.0,
                                                extra)
            p_plain = self.rule.probability(inputs)
            adopt = facing & (u[d] < p_plain)
            adopt |= self.levers.subsidise(year, d, tech, facing, inputs, cost_eur, p_plain,
                                           u[d])

            if tech == "basic":
                f.depth += adopt
                v3_count = self.ladder.dii_count(f)
                at_least_basic = v3_count >= 4
            elif tech == "security":
                f.measures += adopt
            else:
                f.adopted[tech] |= adopt

    def discontinue(self, u: np.ndarray, u_meetings: np.ndarray, quarter_index: int) -> None:
        """Users of cloud, data analytics or AI stop with the discontinuance rate
        (``u``: one uniform per technology and firm); firms that held remote meetings in
        2022 Q2 drop them over the next two years (``u_meetings``)."""
        f, rate = self.firms, self.params["discontinuance_rate"]
        for k, tech in enumerate(ADVANCED):
            f.adopted[tech] &= ~(u[k] < rate)
        first, last = MEETINGS_LAPSE_QUARTERS
        if quarter_index == first:
            f.meetings_2022 = f.depth >= self.ladder.meetings_rung
        if first <= quarter_index <= last:
            quarters = last - first + 1
            hazard = 1.0 - (1.0 - self.params["remote_meetings_drop"]) ** (1.0 / quarters)
            f.meetings_lapsed |= f.meetings_2022 & (u_meetings < hazard)
