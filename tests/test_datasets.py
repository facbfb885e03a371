"""The readers of the shipped data: NL rows, shares not percentages, one row per fact."""

from __future__ import annotations

import numpy as np
import pytest

from model import datasets


def test_dii_holds_both_versions_for_every_year_and_size_class_of_the_frame():
    d = datasets.dii()
    basic = d[d["level"] == "at_least_basic"]
    versions = basic.groupby("year")["dii_version"].unique()
    assert {int(v[0]) for y, v in versions.items() if y % 2} == {3}  # odd years: v3
    assert {int(v[0]) for y, v in versions.items() if y % 2 == 0} == {4}
    assert {"10-49", "50-249"} <= set(basic["size_class"])
    assert basic["value"].between(0, 1).all()
    # the government's figures: 75% (v3, 2021) and 80% (v4, 2022) of 10-249 firms
    tenp = basic[basic["size_class"] == "10-249"].set_index("year")["value"]
    assert tenp[2021] == pytest.approx(0.75, abs=0.01)
    assert tenp[2022] == pytest.approx(0.80, abs=0.01)


@pytest.mark.parametrize("year", [2021, 2023, 2025])
def test_band_shares_of_a_v3_year_sum_to_one(year):
    bands = datasets.dii_bands(year)
    np.testing.assert_allclose(bands.sum(axis=1), 1.0, atol=0.005)


def test_bands_of_a_year_without_them_are_refused():
    with pytest.raises(ValueError, match="no DII band data for 2019"):
        datasets.dii_bands(2019)


def test_segment_size_classes():
    assert datasets.segment_size_classes("all") == datasets.SIZE_CLASSES
    assert datasets.segment_size_classes("10-249") == ("10-49", "50-249")
    assert datasets.segment_size_classes("2-9") == ("2-9",)
    assert datasets.segment_size_classes("sector:retail") == ()


def test_advanced_history_keeps_break_flags_and_shares():
    h = datasets.advanced_history()
    ai = h[(h["geo"] == "NL") & (h["indicator"] == "E_AI_TANY") & (h["size_class"] == "GE10")]
    assert ai.set_index("year").loc[2025, "flag"] == "b"
    assert h["value"].dropna().between(0, 1).all()


def test_eu_size_gradient_excludes_nl_and_is_positive_for_ai():
    median, sd, countries = datasets.eu_size_gradient("E_AI_TANY", 2025)
    assert median > 0 and sd > 0 and 20 <= countries <= 26


def test_cyber_figure_is_one_row_or_a_clear_error():
    share = datasets.cyber_figure("E_SECMGE5", "10-49", 2022)
    assert 0 < share < 1
    with pytest.raises(ValueError, match="no single NL row"):
        datasets.cyber_figure("E_SECMGE5", "10-49", 1999)


def test_gigabit_coverage_observed_is_rising_shares():
    points = datasets.gigabit_coverage_observed()
    years, shares = zip(*points, strict=True)
    assert list(years) == sorted(years) and all(0 < s <= 1 for s in shares)
