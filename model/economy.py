"""SMEEconomy: the Mesa model, its step order, and ``simulate``.

One step is one quarter. The order within a step (DESIGN 3.2):

1. environment: gigabit coverage moves on;
2. EDIH outreach: each hub serves its quarter's places in priority order;
3. awareness: media, tied firms, reported incidents, campaigns;
4. adoption: the next basic item, then cloud, data analytics, AI, one security
   measure; subsidies are granted while the year's budget lasts;
5. cyber: incidents, the response to them, reporting;
6. discontinuance: users of cloud, data analytics or AI may stop; cyber attention
   fades and security measures lapse;
7. observation: indicators per segment, Mesa's DataCollector (``record``).

Every submodel works on all firms at once (numpy over the firm arrays). All
randomness comes from the run's SeedSequence, spawned by purpose; each step
draws one uniform per firm and decision whatever the policy, so two runs with
the same seed differ only through the policy (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
from scipy import sparse

from . import cyber, environment, indicators
from .adoption import Adoption
from .decisions import RULES, AdoptionRule
from .errors import check_choice, check_number
from .firm import Firm
from .indicators import HEADLINE, INDICATORS
from .ladder import Ladder
from .levers import Levers
from .network import build_ties, peer_matrix
from .parameters import Parameters, resolve_parameters
from .policy import Policy, parse_policy
from .population import POPULATIONS, Population, build_population
from .streams import generators, seed_sequence
from .technologies import ADVANCED, DECISIONS, REFERENCE_EDITION, Edition, edition
from .timeline import MAX_YEAR, START_YEAR, quarter_index

MIN_FIRMS = 500
MAX_FIRMS = 5_000_000
RECORD = ("every_quarter", "survey_quarters")


class SMEEconomy(mesa.Model):
    """Dutch SMEs adopting digital technology, quarter by quarter from 2021.

    Parameters
    ----------
    n_firms:
        Simulated firms; weights scale them to the real population.
    seed:
        Seed of the run's ``numpy.random.SeedSequence`` (an int, a SeedSequence,
        or None for a fresh seed in 0..MAX_SEED, recorded in
        ``self.seed_sequence.entropy``).
    policy:
        Mapping of levers (see ``model.policy``), read as a change to current policy.
    parameters:
        Mapping of parameter name to value (see ``model.parameters.PARAMETERS``).
    end_year:
        Last simulated year; the run ends after its fourth quarter.
    population:
        ``"10-249"`` (the survey frame, default) or ``"2-249"`` (with firms of 2-9).
    rule:
        Name of the decision rule (``model.decisions.RULES``).
    record:
        ``"every_quarter"``, or ``"survey_quarters"``: only first quarters (what surveys
        read) and the last, for batch runs; firm columns are current either way.
    """

    def __init__(
        self,
        n_firms: int = 10_000,
        seed: int | np.random.SeedSequence | None = None,
        policy: Mapping[str, Any] | Policy | None = None,
        parameters: Mapping[str, float] | None = None,
        end_year: int = 2030,
        population: str = "10-249",
        rule: str = "toe_logit",
        record: str = "every_quarter",
    ) -> None:
        n_firms = check_number(n_firms, "n_firms", MIN_FIRMS, MAX_FIRMS, integer=True)
        self.end_year = check_number(end_year, "end_year", START_YEAR, MAX_YEAR, integer=True)
        self.population = check_choice(population, POPULATIONS, "population")
        self.record = check_choice(record, RECORD, "record")
        rule = check_choice(rule, RULES, "rule")
        self.params: Parameters = resolve_parameters(parameters)
        self.policy: Policy = parse_policy(policy)
        self.seed_sequence = seed_sequence(seed)
        rngs = generators(self.seed_sequence)
        super().__init__(rng=rngs.pop("mesa"))
        self._rngs = rngs

        p = self.params
        self.firms, i, j, self._peers = _initial_firms(n_firms, rngs, p, population)
        f = self.firms
        self.n_firms = n = f.n
        self.ties = (i, j)

        # Queue priority and application propensity: drawn once, whatever the policy.
        alloc = rngs["allocation"]
        self._by_priority = np.argsort(alloc.random(n), kind="stable")
        self._apply_u = alloc.random(n)

        for name in ("capability", "slack", "incident_memory"):
            setattr(f, name, getattr(f, name).astype(np.float32))
        self._rule: AdoptionRule = RULES[rule](p)
        self.ladder = Ladder(f.ladder)
        self.levers = Levers(self.policy, f, p, self._rule, self._by_priority, self._apply_u)
        self.adoption = Adoption(f, p, self._rule, self.ladder, self.levers, self._peers)

        self.quarter_index = 0  # 0 = 2021 Q1, the state the 2021 survey saw
        self.recorder = indicators.Recorder(f)
        self.segments = self.recorder.segments
        # The Firm agents are views of the arrays, made when first asked for (``agents``):
        # a batch run that only reads indicators then never builds thousands of Python
        # objects, nor leaves them to the cyclic garbage collector (they refer to the
        # model): 13% of a calibration simulation's time (4,000 firms to 2025; README).
        self._firms_made = False
        self._columns: dict[str, np.ndarray] | None = None

        self.datacollector = mesa.DataCollector(model_reporters=indicators.headline_reporters())
        environment.reach_gigabit(f, self.time)
        cyber.incident_history(self.firms, p, self.dii_count(), partial(
            self._rngs["cyber"].random, (2, n), dtype=np.float32))
        self._observe()
        self.running = self.quarter_index < self.final_quarter_index

    # ------------------------------------------------------------------ agents
    def _make_firms(self) -> None:
        if not self._firms_made:
            self._firms_made = True
            Firm.create_all(self, self.n_firms)

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's set of all agents: the firms (made on first use, then kept)."""
        self._make_firms()
        return super().agents

    @agents.setter
    def agents(self, agents: Any) -> None:
        mesa.Model.agents.fset(self, agents)  # Mesa refuses it, and says why

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        self._make_firms()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        self._make_firms()
        return super().agent_types

    def remove_all_agents(self) -> None:
        self._firms_made = True  # removed, not to be made again
        super().remove_all_agents()

    # ------------------------------------------------------------------ time
    @property
    def year(self) -> int:
        return START_YEAR + self.quarter_index // 4

    @property
    def quarter(self) -> int:
        return self.quarter_index % 4 + 1

    @property
    def time(self) -> float:
        """Fractional calendar year (2021.0 at the start)."""
        return START_YEAR + self.quarter_index / 4.0

    @property
    def final_quarter_index(self) -> int:
        return quarter_index(self.end_year, 4)

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one quarter (see the module docstring for the order)."""
        if self.quarter_index >= self.final_quarter_index:
            raise RuntimeError(f"the run ended in {self.end_year} Q4")
        self.quarter_index += 1
        n = self.n_firms
        r = self._rngs
        u_aware = r["awareness"].random((len(ADVANCED) + 2, n), dtype=np.float32)
        u_adopt = r["adoption"].random((len(DECISIONS), n), dtype=np.float32)
        u_cyber = r["cyber"].random((2, n), dtype=np.float32)
        u_stop = r["discontinuance"].random((len(ADVANCED), n), dtype=np.float32)
        u_lapse = r["lapse"].random((2, n), dtype=np.float32)
        u_meetings = r["activity"].random(n, dtype=np.float32)

        environment.reach_gigabit(self.firms, self.time)
        self.levers.edih_outreach(self.year, self.quarter)
        peers = self.adoption.peer_shares(self.quarter_index)
        self.adoption.awareness(self.year, u_aware, peers)
        self.adoption.adopt(self.time, self.year, u_adopt, peers)
        cyber.incidents(self.firms, self.params, self.dii_count(),
                        environment.threat_level(self.time, self.params), self.quarter_index,
                        u_cyber)
        self.adoption.discontinue(u_stop, u_meetings, self.quarter_index)
        cyber.lapses(self.firms, self.params, self.quarter_index,
                     self.levers.measure_floor(self.year), u_lapse)
        self._observe()
        self.running = self.quarter_index < self.final_quarter_index

    def run(self) -> SMEEconomy:
        """Step to the end of ``end_year``."""
        while self.running:
            self.step()
        return self

    def run_until(self, year: int, quarter: int = 1,
                  each_step: Callable[[SMEEconomy], None] | None = None) -> SMEEconomy:
        """Step until quarter ``quarter`` of ``year`` has been observed (the survey of a
        year reads its first quarter), or the run ends; ``each_step`` is called after
        every step."""
        while self.running and (self.year, self.quarter) < (year, quarter):
            self.step()
            if each_step is not None:
                each_step(self)
        return self

    # ------------------------------------------------------------------ observation
    def dii_count(self, edition: Edition = REFERENCE_EDITION) -> np.ndarray:
        """Items of an edition of the Digital Intensity Index each firm has (by default
        the reference edition firms' own decisions read)."""
        return self.ladder.dii_count(self.firms, edition)

    def _observe(self) -> None:
        # Unrecorded quarters compute the firm columns only if someone asks for them
        # (``firm_columns``), from the same state: read before the next step.
        self._columns = None
        if (self.record == "every_quarter" or self.quarter == 1
                or self.quarter_index == self.final_quarter_index):
            self.recorder.record(self._firm_columns(), self.year, self.quarter)
            self.datacollector.collect(self)

    def _firm_columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            self._columns = indicators.firm_columns(
                self.firms, {v: self.dii_count(edition(self.year, v)) for v in (3, 4)},
                self.quarter_index)
        return self._columns

    def firm_columns(self) -> dict[str, np.ndarray]:
        """Per-firm values of every indicator at the latest observation: what each
        simulated firm contributes to the weighted shares. Some are views of the live
        state, so read them before the next step."""
        return dict(self._firm_columns())

    def latest(self, indicator: str, segment: str = "all") -> float:
        """The most recent value of an indicator for a segment."""
        return self.recorder.latest(indicator, segment)

    def indicator_frame(self, quarter: int | None = None,
                        segments: Sequence[str] | None = None) -> pd.DataFrame:
        """All observations so far, tidy: year, quarter, indicator, segment, value (only
        one ``quarter`` of each year, or some ``segments``, if given)."""
        return self.recorder.frame(quarter, segments)

    def survey_values(self) -> indicators.SurveyValues:
        """Each year's first-quarter values so far, keyed (indicator, segment, year): what
        the surveys read."""
        return self.recorder.survey_values()


_LAST_FIRMS: dict[tuple, tuple[Population, np.ndarray, np.ndarray, sparse.csr_matrix]] = {}
"""The last run's 2021 firms and ties in this process, by what determines them."""
SHARED_FIRMS_MAX = 200_000
"""Runs of more firms build their own: the kept copy doubles the memory of the firms'
2021 state (about 0.12 KB per firm), which a batch of small runs does not notice and one
big run would."""


def _initial_firms(n_firms: int, rngs: Mapping[str, np.random.Generator], p: Parameters,
                   population: str
                   ) -> tuple[Population, np.ndarray, np.ndarray, sparse.csr_matrix]:
    """The 2021 firms (a copy the run owns) and their ties.

    They follow from the firm count, the frame, the parameters and the states of the
    population and network streams alone, so they are built once and copied for the
    next run with the same: the scenarios of one replication share their seed and
    parameters and differ only in policy (common random numbers), and building the
    firms is about a seventh of a run to 2030 (README, Speed). Only the last is kept,
    since a batch runs a replication's scenarios one after another. The ties and the
    peer matrix are read, never written, and shared read-only."""
    if n_firms > SHARED_FIRMS_MAX:
        _LAST_FIRMS.clear()
        return _build_firms(n_firms, rngs, p, population)
    key = (n_firms, population, tuple(dict(p).items()),
           *(_stream_state(rngs[s]) for s in ("population", "network")))
    if key not in _LAST_FIRMS:
        built = _build_firms(n_firms, rngs, p, population)
        for a in (built[1], built[2], built[3].data, built[3].indices, built[3].indptr):
            a.flags.writeable = False
        _LAST_FIRMS.clear()
        _LAST_FIRMS[key] = built
    firms, i, j, peers = _LAST_FIRMS[key]
    return firms.copy(), i, j, peers


def _build_firms(n_firms: int, rngs: Mapping[str, np.random.Generator], p: Parameters,
                 population: str
                 ) -> tuple[Population, np.ndarray, np.ndarray, sparse.csr_matrix]:
    firms = build_population(n_firms, rngs["population"], p, population)
    i, j = build_ties(firms.sector, firms.region, rngs["network"],
                      int(p["network_local_degree"]), int(p["network_supply_degree"]))
    return firms, i, j, peer_matrix(i, j, firms.n)


def _stream_state(rng: np.random.Generator) -> tuple:
    state = rng.bit_generator.state
    return (state["bit_generator"], tuple(np.ravel(state["state"]["state"]).tolist()),
            state["has_uint32"], state["uinteger"])


def simulate(
    n_firms: int,
    seed: int | np.random.SeedSequence | None,
    policy: Mapping[str, Any] | Policy | None = None,
    parameters: Mapping[str, float] | None = None,
    end_year: int = 2030,
    population: str = "10-249",
) -> pd.DataFrame:
    """Run one simulation from 2021 to the end of ``end_year``; return the tidy indicators.

    Columns: ``year``, ``quarter``, ``indicator``, ``segment``, ``value``. Shares
    are weighted by the real firms each simulated firm stands for; totals are in
    real firms or EUR. The survey of year Y corresponds to quarter 1 of year Y.
    """
    model = SMEEconomy(n_firms=n_firms, seed=seed, policy=policy, parameters=parameters,
                       end_year=end_year, population=population)
    frame = model.run().indicator_frame()
    # With seed=None the run draws a fresh seed: keep it so the run can be repeated.
    frame.attrs["seed"] = model.seed_sequence.entropy
    return frame


__all__ = ["HEADLINE", "INDICATORS", "SMEEconomy", "simulate"]
