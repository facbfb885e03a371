"""The basic-item ladder: counting both DII versions from one depth, one rung a quarter."""

from __future__ import annotations

import numpy as np

from model import SMEEconomy
from model.ladder import ITEM_COMPLEXITY, Ladder
from model.technologies import BASIC_ITEMS, DII_ADVANCED, DII_BASIC_MASK, N_BASIC


def test_model_dii_count_matches_the_item_definitions():
    """The model's fast counting (ladder prefix + advanced) equals a plain recount."""
    m = SMEEconomy(800, seed=13, end_year=2023).run()
    f = m.firms
    held = np.zeros((m.n_firms, N_BASIC), dtype=bool)
    for k in range(m.n_firms):
        held[k, f.ladder[k, : f.depth[k]]] = True
    for version in (3, 4):
        expect = (held & DII_BASIC_MASK[version]).sum(axis=1)
        expect = expect + sum(f.adopted[t].astype(int) for t in DII_ADVANCED[version])
        np.testing.assert_array_equal(m.dii_count(version), expect)
    v3 = m.dii_count(3)
    assert ((v3 >= 0) & (v3 <= 12)).all()


def test_basic_items_are_taken_one_rung_at_a_time():
    m = SMEEconomy(800, seed=14, end_year=2023)
    depth = m.firms.depth.copy()
    while m.running:
        m.step()
        step = m.firms.depth.astype(int) - depth
        assert ((step == 0) | (step == 1)).all()  # at most one item a quarter, never lost
        depth = m.firms.depth.copy()
    assert (depth <= N_BASIC).all()


def test_both_versions_are_counted_from_the_same_rungs():
    """One ladder, two readings: a firm's v3 and v4 counts differ only by the items one
    version has and the other lacks (cloud, data analytics and AI apart)."""
    order = np.array([np.arange(N_BASIC), np.arange(N_BASIC)[::-1]])
    ladder = Ladder(order)
    none = {t: np.zeros(2, dtype=np.int8) for t in ("cloud", "data_analytics", "ai")}
    for d in range(N_BASIC + 1):
        depth = np.array([d, d])
        for version in (3, 4):
            expect = [DII_BASIC_MASK[version][order[k, :d]].sum() for k in range(2)]
            np.testing.assert_array_equal(ladder.dii_count(depth, none, version), expect)
    full = np.full(2, N_BASIC)
    assert (ladder.dii_count(full, none, 3) == DII_BASIC_MASK[3].sum()).all()
    users = {t: np.ones(2, dtype=np.int8) for t in none}
    np.testing.assert_array_equal(ladder.dii_count(full, users, 4), [12, 12])
    np.testing.assert_array_equal(ladder.dii_count(full, users, 3),
                                  [DII_BASIC_MASK[3].sum() + len(DII_ADVANCED[3])] * 2)


def test_next_complexity_is_that_of_the_next_rung_and_zero_at_the_top():
    order = np.array([np.arange(N_BASIC)])
    ladder = Ladder(order)
    for d in range(N_BASIC):
        got = ladder.next_complexity(np.array([d]), np.array([True]))
        assert got[0] == np.float32(BASIC_ITEMS[d].complexity)
    assert ladder.next_complexity(np.array([3]), np.array([False]))[0] == 0.0
    assert ITEM_COMPLEXITY[-1] == 0.0
