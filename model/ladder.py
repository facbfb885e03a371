"""The basic-item ladder of each firm: the order in which it takes up the basic items
(``technologies.BASIC_ITEMS``), and what a depth on it means for each edition of the
Digital Intensity Index (``technologies.EDITIONS``).

A firm holds the first ``depth`` items of its ladder; cloud, data analytics and AI are
decided on separately, security measures in the cyber submodel, and count towards an
edition's index where the edition asks about them.
"""

from __future__ import annotations

import numpy as np

from .population import Population
from .technologies import (
    BASIC_ITEMS,
    CLOUD_ANY,
    CLOUD_SERVICES,
    N_BASIC,
    REFERENCE_EDITION,
    REMOTE_MEETINGS,
    SECURITY_3PLUS,
    Edition,
)

ITEM_COMPLEXITY = np.array([i.complexity for i in BASIC_ITEMS] + [0.0], dtype=np.float32)
"""Complexity of each basic item; the extra last entry (0) stands for 'none left'."""


class Ladder:
    """The ladders of all firms (an ``(n, N_BASIC)`` array of item indices)."""

    def __init__(self, order: np.ndarray) -> None:
        self.order = order
        n = len(order)
        # Per edition, the number of its basic items among the first d rungs of each
        # firm's ladder, rung count by rung count: (N_BASIC + 1, n) int8, built on
        # first use. Row d is read at flat index d * n + firm.
        self._prefix: dict[int, np.ndarray] = {}
        # Rung (1-based) at which each firm takes up basic cloud services, and remote
        # meetings.
        self._cloud_services_rung = (np.argmax(order == CLOUD_SERVICES, axis=1) + 1
                                     ).astype(np.int8)
        self.meetings_rung = (np.argmax(order == REMOTE_MEETINGS, axis=1) + 1).astype(np.int8)
        self._n = n
        self._firm_index = np.arange(n, dtype=np.int64)
        self._offsets = self._firm_index * N_BASIC

    def _prefix_of(self, edition: Edition) -> np.ndarray:
        prefix = self._prefix.get(edition.year)
        if prefix is None:
            # Rung by rung, one add of n firms each, on a rung-major array: a quarter of
            # the time of a cumulative sum along each firm's row. (A product with a
            # triangular matrix is as fast but goes through BLAS, whose spinning threads
            # halved the speed of two calibrations run side by side.)
            counted = edition.basic_mask.view(np.int8).take(self.order.T)  # rungs x firms
            prefix = np.empty((N_BASIC + 1, self._n), dtype=np.int8)
            prefix[0] = 0
            for rung in range(N_BASIC):
                np.add(prefix[rung], counted[rung], out=prefix[rung + 1])
            self._prefix[edition.year] = prefix
        return prefix

    def dii_count(self, firms: Population, edition: Edition = REFERENCE_EDITION
                  ) -> np.ndarray:
        """Items of ``edition``'s index each firm has (int8, 0..12)."""
        depth = firms.depth
        flat = np.multiply(depth, self._n, dtype=np.int64)
        flat += self._firm_index
        count = self._prefix_of(edition).take(flat)
        for tech in edition.advanced:
            count += firms.adopted[tech]
        if CLOUD_ANY in edition.derived:
            count += firms.adopted["cloud"] | (depth >= self._cloud_services_rung)
        if SECURITY_3PLUS in edition.derived:
            count += firms.measures >= 3
        if edition.counts_meetings:
            count -= firms.meetings_lapsed
        return count

    def next_complexity(self, depth: np.ndarray, facing: np.ndarray) -> np.ndarray:
        """Complexity of each firm's next item (0 where it faces none)."""
        next_item = self.order.take(self._offsets + np.minimum(depth, N_BASIC - 1))
        return ITEM_COMPLEXITY.take(np.where(facing, next_item, N_BASIC))
