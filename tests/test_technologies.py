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
    DII_ADVANCED,
    DII_BASIC_MASK,
    N_BASIC,
    N_SECURITY_MEASURES,
    SECURITY_THRESHOLD,
    band_codes,
)


def test_each_dii_version_has_twelve_items():
    for version in (3, 4):
        assert DII_BASIC_MASK[version].shape == (N_BASIC,)
        assert DII_BASIC_MASK[version].sum() + len(DII_ADVANCED[version]) == 12
    assert set(DII_ADVANCED[3]) == {"cloud", "ai"}
    assert set(DII_ADVANCED[4]) == {"cloud", "data_analytics", "ai"}
    # the two versions differ in their basic items, but share most of them
    assert (DII_BASIC_MASK[3] != DII_BASIC_MASK[4]).any()
    assert (DII_BASIC_MASK[3] & DII_BASIC_MASK[4]).sum() >= 6
    # every basic item counts in at least one version
    assert (DII_BASIC_MASK[3] | DII_BASIC_MASK[4]).all()


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


def test_data_analytics_and_ai_need_a_basic_level():
    """Only firms at least basic (4+ v3 items) take up data analytics or AI."""
    m = SMEEconomy(1_000, seed=15, end_year=2023, parameters={"discontinuance_rate": 0.0})
    new_users = 0
    while m.running:
        before = {t: m.firms.adopted[t].copy() for t in ("data_analytics", "ai")}
        m.step()
        count = m.dii_count(3)
        new_da = m.firms.adopted["data_analytics"] & ~before["data_analytics"]
        new_ai = m.firms.adopted["ai"] & ~before["ai"]
        assert (count[new_da] >= 4).all()
        assert (count[new_ai] >= 5).all()  # at least basic before, plus AI itself
        new_users += new_da.sum() + new_ai.sum()
    assert new_users > 0
