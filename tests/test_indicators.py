"""Indicators: definitions, the weighted per-segment arithmetic, and the identities
the observed series must satisfy in a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FIRM_SHARES, SHARE_INDICATORS, pick
from hypothesis import given
from hypothesis import strategies as st

from model import INDICATOR_NAMES, INDICATORS
from model.datasets import SIZE_CLASSES
from model.indicators import Observer, indicator, segment_names
from model.population import REGION_NAMES, SECTOR_NAMES
from model.technologies import BANDS, edition

CUMULATIVE = ("edih_firms_served", "subsidised_adoptions", "deadweight_adoptions",
              "subsidy_spend_eur", "edih_spend_eur", "campaign_spend_eur")


def test_indicator_definitions():
    assert len(set(INDICATOR_NAMES)) == len(INDICATOR_NAMES)
    for ind in INDICATORS:
        assert ind.kind in {"share", "mean", "total"}, ind.name
        assert ind.unit and ind.description, ind.name
        assert ind.denominator == "firms" or ind.denominator in INDICATOR_NAMES
        assert indicator(ind.name) is ind
    for prefix in ("dii_", "dii_v4_"):
        for b in (*BANDS, "at_least_basic"):
            assert f"{prefix}{b}" in INDICATOR_NAMES
    assert indicator("incident_reported_share").denominator == "incident_past_year"


def test_segment_names():
    assert segment_names((1, 2))[:4] == ("all", "10-249", "10-49", "50-249")
    names = segment_names((0, 1, 2))
    assert "2-9" in names
    assert [s for s in names if s.startswith("sector:")] == [f"sector:{s}" for s in SECTOR_NAMES]
    assert [s for s in names if s.startswith("region:")] == [f"region:{r}" for r in REGION_NAMES]


def _columns(rng, n):
    cols = {name: rng.random(n) < 0.5 for name in INDICATOR_NAMES}
    for name in INDICATOR_NAMES:
        if indicator(name).kind != "share":
            cols[name] = rng.random(n) * 10
    cols["firms"] = np.ones(n)
    return cols


@given(st.integers(1, 60), st.integers(0, 2**32), st.booleans())
def test_observer_weighted_arithmetic(n, seed, shuffle):
    """Shares and means are weight-weighted ratios; totals are weighted sums; a share
    with an empty denominator is missing, not zero."""
    rng = np.random.default_rng(seed)
    size = rng.integers(0, 3, n)
    sector = rng.integers(0, len(SECTOR_NAMES), n)
    region = rng.integers(0, len(REGION_NAMES), n)
    if not shuffle:  # stored cell by cell, as the population builds them
        order = np.lexsort((region, sector, size))
        size, sector, region = size[order], sector[order], region[order]
    weight = rng.random(n) * 50 + 0.1
    obs = Observer(size, sector, region, weight)
    cols = _columns(rng, n)
    cols["incident_past_year"][: n // 2] = False
    out = obs.observe(cols)
    assert out.shape == (len(INDICATORS), len(obs.segments))

    present = sorted(set(size.tolist()))
    assert obs.segments == segment_names(tuple(present))
    masks = {"all": np.ones(n, bool), "10-249": size >= 1}
    masks.update({SIZE_CLASSES[s]: size == s for s in present})
    masks.update({f"sector:{s}": sector == k for k, s in enumerate(SECTOR_NAMES)})
    masks.update({f"region:{r}": region == k for k, r in enumerate(REGION_NAMES)})
    for j, seg in enumerate(obs.segments):
        m = masks[seg]
        for k, ind in enumerate(INDICATORS):
            num = np.sum(weight[m] * cols[ind.name][m])
            if ind.kind == "total":
                expect = num
            else:
                den = np.sum(weight[m] * (cols[ind.denominator][m] if ind.denominator != "firms"
                                          else 1.0))
                expect = num / den if den > 0 else np.nan
            if np.isnan(expect):
                assert np.isnan(out[k, j]), (seg, ind.name)
            else:
                assert out[k, j] == pytest.approx(expect, rel=1e-9, abs=1e-9), (seg, ind.name)


# ----------------------------------------------------------------- identities in runs


@pytest.mark.parametrize("which", ["baseline_frame", "wide_frame"])
def test_shares_lie_in_unit_interval(which, request):
    f = request.getfixturevalue(which)
    shares = f[f["indicator"].isin(SHARE_INDICATORS)]
    firm_shares = shares[shares["indicator"].isin(FIRM_SHARES)]["value"]
    assert not firm_shares.isna().any()
    v = shares["value"].dropna()
    assert ((v >= 0) & (v <= 1)).all()
    # the reported share is missing only where nobody had an incident
    rep = f[f["indicator"] == "incident_reported_share"].reset_index(drop=True)
    inc = f[f["indicator"] == "incident_past_year"].reset_index(drop=True)
    assert (rep["value"].isna() == (inc["value"] == 0)).all()


@pytest.mark.parametrize("which", ["baseline_frame", "wide_frame"])
@pytest.mark.parametrize("prefix", ["dii_", "dii_v4_"])
def test_bands_sum_to_one_and_basic_is_four_plus(which, prefix, request):
    f = request.getfixturevalue(which)
    wide = f[f["indicator"].str.startswith(prefix)].pivot_table(
        index=["year", "quarter", "segment"], columns="indicator", values="value",
        observed=True)
    bands = wide[[f"{prefix}{b}" for b in BANDS]]
    np.testing.assert_allclose(bands.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(wide[f"{prefix}at_least_basic"],
                               1.0 - wide[f"{prefix}very_low"], atol=1e-9)


def test_v4_series_present_and_distinct(baseline_frame):
    for b in (*BANDS, "at_least_basic"):
        v4 = pick(baseline_frame, f"dii_v4_{b}", "10-249")
        assert len(v4) == len(pick(baseline_frame, "dii_at_least_basic", "10-249"))
        assert not v4.isna().any()
    v3 = pick(baseline_frame, "dii_very_high", "10-249")
    v4 = pick(baseline_frame, "dii_v4_very_high", "10-249")
    assert not np.allclose(v3, v4)  # two item sets, two series


def test_advanced_any_and_all_bracket_the_technologies(baseline_frame):
    f = baseline_frame
    wide = f.pivot_table(index=["year", "quarter", "segment"], columns="indicator",
                         values="value", observed=True)
    techs = wide[["cloud", "data_analytics", "ai"]]
    assert (wide["advanced_any"] >= techs.max(axis=1) - 1e-12).all()
    assert (wide["advanced_any"] <= techs.sum(axis=1) + 1e-12).all()
    assert (wide["advanced_all"] <= techs.min(axis=1) + 1e-12).all()
    assert ((wide["dii_items_mean"] >= 0) & (wide["dii_items_mean"] <= 12)).all()
    assert ((wide["security_measures_mean"] >= 0) & (wide["security_measures_mean"] <= 11)).all()
    # the v3 mean item count agrees with the bands it is cut from
    lower = (0 * wide["dii_very_low"] + 4 * wide["dii_low"] + 7 * wide["dii_high"]
             + 10 * wide["dii_very_high"])
    upper = (3 * wide["dii_very_low"] + 6 * wide["dii_low"] + 9 * wide["dii_high"]
             + 12 * wide["dii_very_high"])
    assert ((wide["dii_items_mean"] >= lower - 1e-9) & (wide["dii_items_mean"] <= upper + 1e-9)
            ).all()


@pytest.mark.parametrize("which", ["baseline_frame", "wide_frame"])
def test_cumulative_totals_never_fall(which, request):
    f = request.getfixturevalue(which)
    for name in CUMULATIVE:
        for seg in ("all", "10-49"):
            s = pick(f, name, seg)
            assert (s >= 0).all() and (np.diff(s) >= -1e-9).all(), (name, seg)


def test_latest_matches_the_frame(baseline_model, baseline_frame):
    last = baseline_frame[(baseline_frame["year"] == 2028) & (baseline_frame["quarter"] == 4)]
    for row in last.sample(40, random_state=0).itertuples():
        got = baseline_model.latest(str(row.indicator), str(row.segment))
        if np.isnan(row.value):
            assert np.isnan(got)
        else:
            assert got == row.value


def test_model_observation_matches_firm_state(baseline_model):
    """The observed shares are the weighted shares of the firm arrays."""
    m = baseline_model
    f = m.firms
    w = f.weight
    assert m.latest("cloud") == pytest.approx(np.sum(w * f.adopted["cloud"]) / w.sum())
    assert m.latest("dii_at_least_basic") == pytest.approx(
        np.sum(w * (m.dii_count(edition(m.year, 3)) >= 4)) / w.sum())
    assert m.latest("dii_v4_at_least_basic") == pytest.approx(
        np.sum(w * (m.dii_count(edition(m.year, 4)) >= 4)) / w.sum())
    assert m.latest("security_5plus") == pytest.approx(
        np.sum(w * (f.measures >= 5)) / w.sum())
    assert m.latest("firms") == pytest.approx(w.sum())


def test_survey_values_are_the_first_quarters_of_the_frame(baseline_model, baseline_frame):
    """What the surveys read, keyed (indicator, segment, year), is quarter 1 of every year
    in the frame, no more and no less."""
    values = baseline_model.survey_values()
    q1 = baseline_frame[baseline_frame["quarter"] == 1]
    assert len(values) == len(q1)
    assert set(values) == set(zip(q1["indicator"].astype(str), q1["segment"].astype(str),
                                  q1["year"].astype(int), strict=True))
    for row in q1.sample(60, random_state=1).itertuples():
        got = values[(str(row.indicator), str(row.segment), int(row.year))]
        assert got == row.value or (np.isnan(got) and np.isnan(row.value))
    for missing in [("ai", "all", 2029), ("ai", "nowhere", 2025), ("no_such", "all", 2025)]:
        assert missing not in values
        with pytest.raises(KeyError):
            values[missing]


def test_a_filtered_frame_is_the_matching_rows_of_the_whole(baseline_model, baseline_frame):
    whole = baseline_frame
    for quarter, segments in [(1, None), (None, ("all", "10-49")), (3, ("50-249",))]:
        sel = whole
        if quarter is not None:
            sel = sel[sel["quarter"] == quarter]
        if segments is not None:
            sel = sel[sel["segment"].isin(segments)]
        pd.testing.assert_frame_equal(baseline_model.indicator_frame(quarter, segments),
                                      sel.reset_index(drop=True), check_exact=True)
