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


def test_remote_meetings_lapse_only_in_v4_and_only_for_the_2022_holders():
    """Remote meetings are an activity: firms that held them after the 2022 survey drop
    about ``remote_meetings_drop`` of them by 2024, which lowers the v4 index (it asks
    about remote meetings) and no v3 edition; later adopters keep them."""
    from model.technologies import MEETINGS_LAPSE_QUARTERS, edition

    base = SMEEconomy(3_000, seed=4, end_year=2025, parameters={"remote_meetings_drop": 0.0})
    drop = SMEEconomy(3_000, seed=4, end_year=2025, parameters={"remote_meetings_drop": 0.5})
    while base.running:
        base.step()
        drop.step()
        if drop.quarter_index == MEETINGS_LAPSE_QUARTERS[0]:
            cohort = drop.firms.meetings_2022.copy()
    f = drop.firms
    assert not (f.meetings_lapsed & ~cohort).any()
    share = f.weight[f.meetings_lapsed].sum() / f.weight[cohort].sum()
    assert 0.45 < share < 0.55
    for year in (2021, 2023, 2025):
        assert np.array_equal(base.dii_count(edition(year, 3)), drop.dii_count(edition(year, 3)))
    v4_base, v4_drop = (m.dii_count(edition(2024, 4)) for m in (base, drop))
    assert np.array_equal(v4_base - v4_drop, f.meetings_lapsed.astype(v4_base.dtype))
    # the run is otherwise the same: lapsing reads its own random stream
    assert np.array_equal(base.firms.depth, f.depth)


def test_remote_meetings_lapse_lowers_v4_but_leaves_the_rest_of_the_run():
    a = SMEEconomy(1_000, seed=2, end_year=2024,
                   parameters={"remote_meetings_drop": 0.0}).run().indicator_frame()
    b = SMEEconomy(1_000, seed=2, end_year=2024,
                   parameters={"remote_meetings_drop": 0.6}).run().indicator_frame()
    v4 = a["indicator"].astype(str).str.startswith("dii_v4_")
    assert a.loc[~v4, "value"].equals(b.loc[~v4, "value"])
    assert (b.loc[v4 & (a["indicator"] == "dii_v4_at_least_basic"), "value"]
            <= a.loc[v4 & (a["indicator"] == "dii_v4_at_least_basic"), "value"] + 1e-12).all()


def test_ict_skills_by_size_speed_medium_firms_up_the_later_rungs():
    """ladder_skill_size_effect eases the later, more complex items for 50-249 firms:
    more of them reach the very high band by 2025, while 10-49 firms (the reference
    class, touched only through their ties) keep their band shares."""
    shares = {}
    for effect in (0.0, 0.8):
        runs = []
        for seed in (1, 2):
            m = SMEEconomy(3_000, seed=seed, population="10-249", record="survey_quarters",
                           parameters={"ladder_skill_size_effect": effect})
            m.run_until(2025, 1)
            v = m.survey_values()
            runs.append([v[("dii_very_high", s, 2025)] for s in ("10-49", "50-249")])
        shares[effect] = np.mean(runs, axis=0)
    assert shares[0.8][1] > shares[0.0][1] + 0.05, shares
    assert abs(shares[0.8][0] - shares[0.0][0]) < 0.01, shares
