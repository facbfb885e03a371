"""The random streams of a run.

A run's randomness comes from one ``numpy.random.SeedSequence``, spawned into one
generator per purpose. Spawning by purpose is what makes common random numbers work:
a lever that changes how often one submodel draws cannot shift another submodel's
draws.
"""

from __future__ import annotations

import secrets

import numpy as np

from .errors import check_number

MAX_SEED = 2**63 - 1
"""Seeds run from 0 to this, in the API and in experiment files alike."""

STREAMS = ("population", "network", "allocation", "awareness", "adoption", "cyber",
           "discontinuance", "mesa", "lapse", "activity")
"""Purposes a run's SeedSequence is spawned into, in this fixed order (new purposes go at
the end, so the existing streams keep their numbers)."""


def seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The run's SeedSequence: ``seed`` itself, one built from an int, or, for None, a
    fresh one whose entropy lies in 0..MAX_SEED so it can be written down and reused."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        seed = secrets.randbits(63)
    return np.random.SeedSequence(check_number(seed, "seed", 0, MAX_SEED, integer=True))


def generators(seq: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One generator per purpose in ``STREAMS``."""
    # SFC64: a fast, well-tested generator; the per-step draws are a hot-path cost.
    return dict(zip(STREAMS, (np.random.Generator(np.random.SFC64(s))
                              for s in seq.spawn(len(STREAMS))), strict=True))
