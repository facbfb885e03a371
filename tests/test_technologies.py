"""The technology ladder and the DII definitions (v3 and v4 item sets, bands)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import SMEEconomy
from model.technologies import (
    ADVANCED,
    BAND_LOWER_EDGES,
    BANDS,
    BASIC_ITEMS,
    BASIC_NAMES,
    BENEFIT,
    COMPLEXITY,
    DECISIONS,
    EDITIONS,
    N_BASIC,
    N_SECURITY_MEASURES,
    REFERENCE_EDITION,
    SECURITY_THRESHOLD,
    band_codes,
    edition,
)


def test_every_edition_has_twelve_items_and_the_versions_alternate():
    assert sorted(EDITIONS) == [2021, 2022, 2023, 2024, 2025]
    for year, ed in EDITIONS.items():
        assert ed.year == year and ed.version == (3 if year % 2 else 4)
        assert len(ed.items) == 12 and len(set(ed.items)) == 12
        assert set(ed.basic) <= set(BASIC_NAMES) and set(ed.advanced) <= set(ADVANCED)
        assert ed.basic_mask.sum() == len(ed.basic)
    # the documented swaps: IoT -> data analytics (v3 2023), 2+ social media -> website
    # (v3 2025), robots -> AI (v4 2024, inferred)
    assert set(EDITIONS[2023].items) ^ set(EDITIONS[2021].items) == {"iot", "data_analytics"}
    assert set(EDITIONS[2025].items) ^ set(EDITIONS[2023].items) == {
        "social_media_2plus", "website"}
    assert set(EDITIONS[2024].items) ^ set(EDITIONS[2022].items) == {"robots", "ai"}
    # the two versions share only four items (internet use, a fast line, e-sales, B2C)
    assert len(set(EDITIONS[2022].items) & set(EDITIONS[2023].items)) == 4
    # every basic item counts in some edition
    assert set().union(*(ed.basic for ed in EDITIONS.values())) == set(BASIC_NAMES) - {
        "cloud_services"}


def test_a_reading_uses_its_own_edition_or_the_latest_earlier_one():
    assert edition(2021, 3) is EDITIONS[2021] and edition(2022, 3) is EDITIONS[2021]
    assert edition(2030, 3) is EDITIONS[2025] and edition(2030, 4) is EDITIONS[2024]
    assert edition(2021, 4) is EDITIONS[2022]  # v4 before it existed: its first items
    assert REFERENCE_EDITION is EDITIONS[2021]


def test_basic_items():
    assert len(BASIC_ITEMS) == N_BASIC == len(set(BASIC_NAMES))
    for item in BASIC_ITEMS:
        assert 0 < item.prevalence_2021 < 1
        assert item.complexity >= 0


def test_decisions_and_their_attributes():
    assert DECISIONS == ("basic", *ADVANCED, "security")
    assert ADVANCED == ("cloud", "data_analytics", "ai")
    for d in DECISIONS:
        assert BENEFIT[d] > 0
    assert set(COMPLEXITY) == set(ADVANCED) and min(COMPLEXITY.values()) > 0
    assert 0 < SECURITY_THRESHOLD <= N_SECURITY_MEASURES == 11


@pytest.mark.parametrize(
    ("count", "band"),
    [(0, 0), (3, 0), (4, 1), (6, 1), (7, 2), (9, 2), (10, 3), (12, 3)],
)
def test_band_edges_follow_eurostat(count, band):
    """Eurostat: very low 0-3, low 4-6, high 7-9, very high 10-12 items."""
    assert band_codes(np.array([count]))[0] == band
    assert BANDS[band] in {"very_low", "low", "high", "very_high"}


@given(st.lists(st.integers(0, 12), min_size=1, max_size=50))
def test_band_codes_are_monotone_and_cover_all_counts(counts):
    c = np.sort(np.array(counts))
    b = band_codes(c)
    assert ((b >= 0) & (b <= 3)).all()
    assert (np.diff(b) >= 0).all()
    assert ((b >= 1) == (c >= 4)).all()  # 'at least basic' is band low or above
    np.testing.assert_array_equal(BAND_LOWER_EDGES[b] <= c, True)


def test_ai_needs_a_basic_level_and_data_analytics_does_not():
    """Only firms at least basic (4+ v3 items) take up AI; data analytics is taken up at
    every level, below the basic one too."""
    m = SMEEconomy(1_000, seed=15, end_year=2023, parameters={"discontinuance_rate": 0.0})
    new_ai_users, new_da_below_basic = 0, 0
    while m.running:
        before = {t: m.firms.adopted[t].copy() for t in ("data_analytics", "ai")}
        count_before = m.dii_count()  # the reference edition decisions read
        m.step()
        count = m.dii_count()
        new_da = m.firms.adopted["data_analytics"] & ~before["data_analytics"]
        new_ai = m.firms.adopted["ai"] & ~before["ai"]
        assert (count[new_ai] >= 5).all()  # at least basic before, plus AI itself
        new_ai_users += new_ai.sum()
        new_da_below_basic += (new_da & (count_before < 4)).sum()
    assert new_ai_users > 0 and new_da_below_basic > 0
