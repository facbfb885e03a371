"""A run's random streams: seeds in range, fresh seeds recorded, streams apart."""

from __future__ import annotations

import numpy as np
import pytest

from model.errors import ModelInputError
from model.streams import MAX_SEED, STREAMS, generators, seed_sequence


def test_a_fresh_seed_lies_in_the_seed_range_and_rebuilds_the_same_streams():
    seq = seed_sequence(None)
    assert 0 <= seq.entropy <= MAX_SEED
    a, b = generators(seq), generators(seed_sequence(int(seq.entropy)))
    for name in STREAMS:
        assert a[name].random() == b[name].random()


@pytest.mark.parametrize("bad", [-1, MAX_SEED + 1, 1.5, "7", True])
def test_seeds_outside_the_range_are_refused_by_name(bad):
    with pytest.raises(ModelInputError) as info:
        seed_sequence(bad)
    assert info.value.field == "seed"


def test_streams_are_independent_of_each_other():
    """Drawing more from one purpose leaves every other purpose's draws as they were:
    what common random numbers rest on."""
    one, two = generators(seed_sequence(5)), generators(seed_sequence(5))
    one["adoption"].random(10_000)
    for name in STREAMS:
        if name != "adoption":
            assert one[name].random() == two[name].random(), name
    firsts = [generators(seed_sequence(5))[name].random() for name in STREAMS]
    assert len(set(firsts)) == len(STREAMS)


def test_a_seed_sequence_is_taken_as_it_is():
    seq = np.random.SeedSequence(9, spawn_key=(3,))
    assert seed_sequence(seq) is seq
