"""Plain reference implementations the model's fast code is checked against."""

from __future__ import annotations

import numpy as np

from model.technologies import (
    BASIC_NAMES,
    CLOUD_ANY,
    CLOUD_SERVICES,
    REFERENCE_EDITION,
    Edition,
)


def held_items(ladder: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(n, N_BASIC) bool: which basic items each firm holds, firm by firm."""
    held = np.zeros(ladder.shape, dtype=bool)
    for k in range(len(ladder)):
        held[k, ladder[k, : depth[k]]] = True
    return held


def recount(firms, edition: Edition = REFERENCE_EDITION) -> np.ndarray:
    """An edition's DII count, item by item as Eurostat defines it."""
    held = held_items(firms.ladder, firms.depth)
    total = np.zeros(len(held), dtype=int)
    for item in edition.items:
        if item == "remote_meetings":  # an activity: held on the ladder and not dropped
            total += held[:, BASIC_NAMES.index(item)] & ~firms.meetings_lapsed
        elif item in BASIC_NAMES:
            total += held[:, BASIC_NAMES.index(item)]
        elif item == CLOUD_ANY:
            total += firms.adopted["cloud"] | held[:, CLOUD_SERVICES]
        elif item == "security_3plus":
            total += firms.measures >= 3
        else:
            total += firms.adopted[item]
    return total
