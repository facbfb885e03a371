"""The basic-item ladder of each firm: the order in which it takes up the basic items
(``technologies.BASIC_ITEMS``), and what a depth on it means for the two versions of
the Digital Intensity Index.

A firm holds the first ``depth`` items of its ladder; cloud, data analytics and AI are
decided on separately and count towards the index where the version includes them.
"""

from __future__ import annotations

import numpy as np

from .technologies import BASIC_ITEMS, DII_ADVANCED, DII_BASIC_MASK, N_BASIC

ITEM_COMPLEXITY = np.array([i.complexity for i in BASIC_ITEMS] + [0.0], dtype=np.float32)
"""Complexity of each basic item; the extra last entry (0) stands for 'none left'."""


class Ladder:
    """The ladders of all firms (an ``(n, N_BASIC)`` array of item indices)."""

    def __init__(self, order: np.ndarray) -> None:
        self.order = order
        n = len(order)
        # Number of v3 / v4 basic items among the first d rungs of each firm's ladder.
        self._prefix = {
            v: np.concatenate([np.zeros((n, 1), np.int8),
                               np.cumsum(DII_BASIC_MASK[v][order], axis=1, dtype=np.int8)],
                              axis=1)
            for v in (3, 4)
        }
        self._row_offsets = np.arange(n, dtype=np.int64) * (N_BASIC + 1)
        self._offsets = np.arange(n, dtype=np.int64) * N_BASIC

    def dii_count(self, depth: np.ndarray, adopted: dict[str, np.ndarray],
                  version: int = 3) -> np.ndarray:
        """Items of the Digital Intensity Index (v3 or v4) each firm has (int8, 0..12)."""
        count = self._prefix[version].take(self._row_offsets + depth)
        for tech in DII_ADVANCED[version]:
            count += adopted[tech]
        return count

    def next_complexity(self, depth: np.ndarray, facing: np.ndarray) -> np.ndarray:
        """Complexity of each firm's next item (0 where it faces none)."""
        next_item = self.order.take(self._offsets + np.minimum(depth, N_BASIC - 1))
        return ITEM_COMPLEXITY.take(np.where(facing, next_item, N_BASIC))
