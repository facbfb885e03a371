"""The basic-item ladder: counting every DII edition from one depth, one rung a quarter."""

from __future__ import annotations

import numpy as np
from model_helpers import recount

from model import SMEEconomy
from model.ladder import ITEM_COMPLEXITY, Ladder
from model.technologies import BASIC_ITEMS, EDITIONS, N_BASIC


def test_model_dii_count_matches_the_item_definitions():
    """The model's fast counting (ladder prefix, advanced, derived items) equals a plain
    item-by-item recount, for every edition."""
    m = SMEEconomy(800, seed=13, end_year=2023).run()
    for ed in EDITIONS.values():
        np.testing.assert_array_equal(m.dii_count(ed), recount(m.firms, ed))
        assert ((m.dii_count(ed) >= 0) & (m.dii_count(ed) <= 12)).all()


def test_basic_items_are_taken_one_rung_at_a_time():
    m = SMEEconomy(800, seed=14, end_year=2023)
    depth = m.firms.depth.copy()
    while m.running:
        m.step()
        step = m.firms.depth.astype(int) - depth
        assert ((step == 0) | (step == 1)).all()  # at most one item a quarter, never lost
        depth = m.firms.depth.copy()
    assert (depth <= N_BASIC).all()


def test_editions_are_read_from_the_same_firms():
    """Editions differ only by the items one asks about and another does not: data
    analytics moves the 2023 v3 index and not 2022's v4; security measures move v4."""
    m = SMEEconomy(n_firms=800, seed=5, end_year=2022)
    f = m.firms
    v3, v4 = m.dii_count(EDITIONS[2023]).copy(), m.dii_count(EDITIONS[2022]).copy()
    f.adopted["data_analytics"][:] = True
    assert (m.dii_count(EDITIONS[2022]) == v4).all()
    assert (m.dii_count(EDITIONS[2023]) >= v3).all() and (m.dii_count(EDITIONS[2023]) > v3).any()
    f.measures[:] = 0
    assert (m.dii_count(EDITIONS[2023]) >= v3).all()
    assert (m.dii_count(EDITIONS[2022]) <= v4).all() and (m.dii_count(EDITIONS[2022]) < v4).any()


def test_next_complexity_is_that_of_the_next_rung_and_zero_at_the_top():
    order = np.array([np.arange(N_BASIC)], dtype=np.int8)
    ladder = Ladder(order)
    for d in range(N_BASIC):
        got = ladder.next_complexity(np.array([d]), np.array([True]))
        assert got[0] == np.float32(BASIC_ITEMS[d].complexity)
    assert ladder.next_complexity(np.array([3]), np.array([False]))[0] == 0.0
    assert ITEM_COMPLEXITY[-1] == 0.0
