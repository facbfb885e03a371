"""The firm as a Mesa agent: a view onto one row of the model's firm arrays.

A ``Firm`` holds no state of its own. Reading ``firm.cloud`` reads the model's
cloud array at the firm's row, and assigning to it writes there, so Mesa's tools
(AgentSet selection, agent reporters, visualisation) see exactly the state the
vectorised submodels update.
"""

from __future__ import annotations

import gc
import itertools
import weakref
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from .datasets import SIZE_CLASSES
from .population import REGION_NAMES, SECTOR_NAMES
from .technologies import BASIC_NAMES, edition


class _Column:
    """Descriptor mapping an agent attribute to ``model.firms.<array>[index]``."""

    def __init__(self, array: str, cast: Any = None, labels: tuple[str, ...] | None = None,
                 key: str | None = None, writable: bool = True) -> None:
        self.array, self.cast, self.labels, self.key = array, cast, labels, key
        self.writable = writable

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _target(self, firm: Firm) -> np.ndarray:
        arr = getattr(firm.model.firms, self.array)
        return arr[self.key] if self.key is not None else arr

    def __get__(self, firm: Firm | None, owner: type | None = None) -> Any:
        if firm is None:
            return self
        value = self._target(firm)[firm.index]
        if self.labels is not None:
            return self.labels[int(value)]
        return self.cast(value) if self.cast else value

    def __set__(self, firm: Firm, value: Any) -> None:
        if not self.writable:
            raise AttributeError(f"Firm.{self.name} is fixed at set-up")
        self._target(firm)[firm.index] = value


class _WeakIdCounters(weakref.WeakKeyDictionary):
    """Per-model unique-id counters that do not keep models alive.

    Mesa 3.3 keeps them in a class-level defaultdict keyed by the model, which holds
    every model ever created: a batch worker running thousands of models grew by
    megabytes per run. Keyed weakly, a finished model is freed.
    """

    def __getitem__(self, model: Any) -> itertools.count:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def _add_weak_keys(registry: weakref.WeakKeyDictionary, agents: list[Any]) -> None:
    """``registry.update(dict.fromkeys(agents))`` with the weak references made in C
    rather than in the update's Python loop (a third less time for 10,000 agents); the
    references carry the dictionary's own removal callback, as the update's do."""
    registry.data.update(zip(map(weakref.ref, agents, itertools.repeat(registry._remove)),
                             itertools.repeat(None)))


class Firm(mesa.Agent):
    """One simulated firm, standing for ``weight`` real Dutch firms."""

    _ids = _WeakIdCounters()

    size_class = _Column("size_class", labels=SIZE_CLASSES, writable=False)
    sector = _Column("sector", labels=SECTOR_NAMES, writable=False)
    region = _Column("region", labels=REGION_NAMES, writable=False)
    weight = _Column("weight", float, writable=False)
    employees = _Column("employees", int, writable=False)
    capability = _Column("capability", float)
    slack = _Column("slack", float)
    innovativeness = _Column("innovativeness", float)
    cloud = _Column("adopted", bool, key="cloud")
    data_analytics = _Column("adopted", bool, key="data_analytics")
    ai = _Column("adopted", bool, key="ai")
    aware_cloud = _Column("aware", bool, key="cloud")
    aware_data_analytics = _Column("aware", bool, key="data_analytics")
    aware_ai = _Column("aware", bool, key="ai")
    aware_of_cyber_risk = _Column("aware", bool, key="security")
    security_measures = _Column("measures", int)
    edih_served = _Column("edih_served", bool, writable=False)
    subsidy_received_eur = _Column("subsidy_eur", float, writable=False)

    def __init__(self, model: mesa.Model, index: int) -> None:
        # Any model whose ``firms`` holds the arrays (SMEEconomy); typed as mesa.Model so
        # that firm.py does not import economy.py, which imports it.
        super().__init__(model)
        self.index = index

    @classmethod
    def create_all(cls, model: mesa.Model, n: int) -> list[Firm]:
        """Create and register firms 0..n-1 of ``model`` at once.

        The same as ``[Firm(model, k) for k in range(n)]`` (same unique ids, same agent
        sets), but registered in bulk. Mesa 3.3 registers agents one by one, with two
        weak-dictionary insertions and a log call each: 30 ms for 10,000 firms against 9
        ms in bulk (benchmarks/bench_setup.py measures the whole set-up).
        """
        # Ten thousand new objects would set off several cyclic garbage collections, each
        # walking the worker's whole heap; none can free anything here.
        collecting = gc.isenabled()
        gc.disable()
        try:
            counter = cls._ids[model]
            firms = []
            for k in range(n):
                firm = cls.__new__(cls)
                firm.model, firm.unique_id, firm.pos, firm.index = model, next(counter), None, k
                firms.append(firm)
            # Mesa's own registries (Model.register_agent), filled in one update each.
            model._agents.update(dict.fromkeys(firms))
            by_type = model._agents_by_type.get(cls)
            if by_type is None:
                by_type = model._agents_by_type[cls] = AgentSet([], random=model.random)
            _add_weak_keys(by_type._agents, firms)
            _add_weak_keys(model._all_agents._agents, firms)
        finally:
            if collecting:
                gc.enable()
        return firms

    @property
    def basic_items(self) -> tuple[str, ...]:
        """Basic DII items the firm has, in the order it took them up."""
        f = self.model.firms
        return tuple(BASIC_NAMES[k] for k in f.ladder[self.index, : f.depth[self.index]])

    @property
    def dii_items(self) -> int:
        """Number of items (0-12) of this year's DII v3 edition the firm has."""
        return int(self.model.dii_count(edition(self.model.year, 3))[self.index])

    @property
    def at_least_basic(self) -> bool:
        return self.dii_items >= 4

    def __repr__(self) -> str:
        return (f"Firm({self.unique_id}, {self.size_class}, {self.sector}, {self.region}, "
                f"dii={self.dii_items}, cloud={self.cloud}, ai={self.ai})")
