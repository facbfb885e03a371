"""The synthetic population: strata from CBS counts, allocation, weights, and the
2021 starting state matched to Eurostat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import recount

from model import ModelInputError, resolve_parameters
from model.datasets import SIZE_CLASSES, dii, dii_bands, eu_size_gradient, firm_counts
from model.population import (
    INITIAL_SIZE_GRADIENT,
    POPULATIONS,
    REGION_NAMES,
    REGIONS,
    SECTOR_NAMES,
    _gumbel,
    _solve_offset,
    allocate,
    build_population,
    frame_share_medium,
    initial_band_pmf,
    initial_size_shares,
    stratum_counts,
)
from model.technologies import (
    BANDS,
    N_BASIC,
    N_SECURITY_MEASURES,
    SECURITY_THRESHOLD,
    band_codes,
)

PARAMS = resolve_parameters()


def _v3_count(pop) -> np.ndarray:
    return recount(pop)  # the 2021 edition


@pytest.fixture(scope="module")
def pop_10_249():
    return build_population(2_000, np.random.default_rng(5), PARAMS, "10-249")


@pytest.fixture(scope="module")
def pop_2_249():
    return build_population(3_000, np.random.default_rng(6), PARAMS, "2-249")


# ----------------------------------------------------------------- strata


@pytest.mark.parametrize("population", list(POPULATIONS))
def test_strata_cover_every_size_sector_region(population):
    s = stratum_counts(population)
    sizes = POPULATIONS[population]
    assert len(s) == len(sizes) * len(SECTOR_NAMES) * len(REGION_NAMES)
    assert not s.duplicated(["size_class", "sector", "region"]).any()
    assert (s["firms"] > 0).all()
    assert set(s["size_class"]) == set(sizes)


def test_medium_firm_count_is_the_cbs_count():
    counts = firm_counts().pivot_table(index="section", columns="size_class", values="value")
    s = stratum_counts("10-249")
    medium = s.loc[s["size_class"] == "50-249", "firms"].sum()
    # the eight sectors of Eurostat's frame: B-E (incl. C), F, G, H, I, J, L, M, N
    sections = ["B-E industry & energy", "F construction", "G trade", "H transport & storage",
                "I hospitality", "J information & communication", "L real estate",
                "M professional/scientific services", "N administrative/support services"]
    assert medium == pytest.approx(counts.loc[sections, "50-249"].sum(), rel=1e-9)


def test_medium_share_of_the_frame_is_that_implied_by_eurostat():
    alpha = frame_share_medium(2021)
    assert 0.1 < alpha < 0.3
    totals = stratum_counts("10-249").groupby("size_class")["firms"].sum()
    assert totals["50-249"] / totals.sum() == pytest.approx(alpha, rel=1e-9)
    # and the 10-249 bands are (nearly) that mix of the size-class bands
    b = dii_bands(2021)
    mix = alpha * b.loc["50-249"] + (1 - alpha) * b.loc["10-49"]
    np.testing.assert_allclose(mix, b.loc["10-249"], atol=0.003)


def test_regions_share_firms_by_population():
    s = stratum_counts("2-249")
    by_region = s.groupby("region")["firms"].sum() / s["firms"].sum()
    for region, (_, share) in REGIONS.items():
        assert by_region[region] == pytest.approx(share / sum(v for _, v in REGIONS.values()))


def test_unknown_population_is_rejected():
    with pytest.raises(ModelInputError) as info:
        stratum_counts("0-249")
    assert info.value.field == "population"
    assert "10-249, 2-249" in str(info.value)


# ----------------------------------------------------------------- allocation and weights


@given(st.integers(500, 60_000), st.sampled_from(list(POPULATIONS)))
def test_allocation_gives_every_stratum_a_firm(n_firms, population):
    strata = stratum_counts(population)
    alloc = allocate(n_firms, strata)
    assert alloc.sum() == n_firms
    assert (alloc >= 1).all()
    # size classes by the square root of their real counts (largest remainder, floor of 1)
    totals = strata.groupby("size_class", sort=False)["firms"].sum()
    target = np.sqrt(totals) / np.sqrt(totals).sum() * n_firms
    by_size = pd.Series(alloc, index=strata.index).groupby(strata["size_class"],
                                                           sort=False).sum()
    assert (np.abs(by_size - target) < 1).all()


@given(st.integers(500, 6_000), st.sampled_from(list(POPULATIONS)), st.integers(0, 2**32))
def test_weights_sum_to_real_firm_counts(n_firms, population, seed):
    pop = build_population(n_firms, np.random.default_rng(seed), PARAMS, population)
    assert pop.n == n_firms
    assert (pop.weight > 0).all()
    strata = stratum_counts(population)
    for k, size in enumerate(SIZE_CLASSES):
        real = strata.loc[strata["size_class"] == size, "firms"].sum()
        assert pop.weight[pop.size_class == k].sum() == pytest.approx(real, rel=1e-9, abs=0)
    # and per stratum
    got = pd.DataFrame({"size_class": np.array(SIZE_CLASSES)[pop.size_class],
                        "sector": np.array(SECTOR_NAMES)[pop.sector],
                        "region": np.array(REGION_NAMES)[pop.region],
                        "w": pop.weight}).groupby(["size_class", "sector", "region"])["w"].sum()
    want = strata.set_index(["size_class", "sector", "region"])["firms"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False,
                                   rtol=1e-9)


@given(st.integers(500, 5_000), st.sampled_from(list(POPULATIONS)), st.integers(0, 2**32))
def test_2021_bands_match_eurostat_to_one_firm_weight(n_firms, population, seed):
    """The quota puts each band within one simulated firm's weight of the data."""
    pop = build_population(n_firms, np.random.default_rng(seed), PARAMS, population)
    bands = band_codes(_v3_count(pop))
    data = dii_bands(2021)
    for size in ("10-49", "50-249"):
        k = SIZE_CLASSES.index(size)
        mine = pop.size_class == k
        w = pop.weight[mine]
        tol = w.max() / w.sum() + 2e-4  # Eurostat's bands sum to 1 +/- 1e-4
        for b, name in enumerate(BANDS):
            share = w[bands[mine] == b].sum() / w.sum()
            assert abs(share - data.loc[size, name]) <= tol, (size, name, share)


@pytest.mark.parametrize("population", list(POPULATIONS))
def test_initial_band_pmf_is_a_distribution(population):
    pmf = initial_band_pmf(population)
    assert set(pmf) == set(POPULATIONS[population])
    for p in pmf.values():
        assert p.shape == (13,)
        assert (p >= 0).all()
        assert p.sum() == pytest.approx(1.0)


# ----------------------------------------------------------------- initial state


def test_initial_state_is_consistent(pop_10_249, pop_2_249):
    for pop in (pop_10_249, pop_2_249):
        assert (np.sort(pop.ladder, axis=1) == np.arange(N_BASIC)).all()  # a permutation
        assert ((pop.depth >= 0) & (pop.depth <= N_BASIC)).all()
        assert ((pop.measures >= 0) & (pop.measures <= N_SECURITY_MEASURES)).all()
        for tech, used in pop.adopted.items():
            assert not (used & ~pop.aware[tech]).any(), f"users of {tech} must be aware of it"
        count = _v3_count(pop)
        assert ((count >= 0) & (count <= 12)).all()
        # AI needs a basic digital level at the start; data analytics does not, and
        # some users of it are below that level (the 2023 index's swap reaches them)
        assert (count[pop.adopted["ai"]] >= 4).all()
        assert (count[pop.adopted["data_analytics"]] < 4).any()
        lo = np.array([2, 10, 50])[pop.size_class]
        hi = np.array([9, 49, 249])[pop.size_class]
        assert ((pop.employees >= lo) & (pop.employees <= hi)).all()
        assert (pop.capability > 0).all() and (pop.slack > 0).all()
        assert not pop.edih_served.any() and (pop.subsidy_eur == 0).all()


def test_initial_advanced_and_security_levels(pop_10_249, pop_2_249):
    """Cloud, AI, data analytics and security start at their 2021 levels among 10-249
    (the calibrated starting levels: parameters initial_<tech>)."""
    targets = {t: PARAMS[f"initial_{t}"] for t in ("cloud", "ai", "data_analytics")}
    for pop in (pop_10_249, pop_2_249):
        surveyed = pop.size_class >= SIZE_CLASSES.index("10-49")
        w = pop.weight[surveyed]
        for tech, target in targets.items():
            share = w[pop.adopted[tech][surveyed]].sum() / w.sum()
            assert share == pytest.approx(target, abs=0.01), tech
        sec = w[pop.measures[surveyed] >= SECURITY_THRESHOLD].sum() / w.sum()
        assert sec == pytest.approx(PARAMS["initial_security_5plus"], abs=0.01)


def test_wide_population_includes_2_9_firms(wide_model, wide_frame):
    f = wide_model.firms
    assert (f.size_class == SIZE_CLASSES.index("2-9")).sum() > 0
    assert "2-9" in wide_model.segments
    assert "10-249" in wide_model.segments
    firms_2_9 = stratum_counts("2-249").query("size_class == '2-9'")["firms"].sum()
    start = wide_frame[(wide_frame["year"] == 2021) & (wide_frame["quarter"] == 1)]
    total = start.query("indicator == 'firms'").set_index("segment")["value"]
    assert total["2-9"] == pytest.approx(firms_2_9, rel=1e-9)
    assert total["all"] == pytest.approx(total["2-9"] + total["10-249"], rel=1e-9)
    # small firms lag: at least basic rises with size class
    basic = start.query("indicator == 'dii_at_least_basic'").set_index("segment")["value"]
    assert basic["2-9"] < basic["10-49"] < basic["50-249"]


def test_survey_population_has_no_2_9_firms(baseline_model):
    assert "2-9" not in baseline_model.segments
    assert not (baseline_model.firms.size_class == SIZE_CLASSES.index("2-9")).any()


def test_2021_dii_data_are_those_shipped():
    d = dii()
    assert set(d["size_class"]) >= {"10-49", "50-249", "10-249"}
    b = dii_bands(2021)
    np.testing.assert_allclose(b.loc[["10-49", "50-249"], list(BANDS)].sum(axis=1), 1.0,
                               atol=2e-4)


@pytest.mark.parametrize("tech", ["cloud", "ai", "data_analytics"])
@pytest.mark.parametrize("level", [0.1, 0.4, 0.7])
def test_initial_size_split_keeps_level_and_eu_gradient(tech, level):
    """Per size class: the 10-249 mix holds the level, 50-249 leads 10-49 by the median
    gap of the other member states, and 2-9 lags 10-49 by the same gap."""
    shares = initial_size_shares(tech, level)
    alpha = frame_share_medium()
    assert (1 - alpha) * shares["10-49"] + alpha * shares["50-249"] == pytest.approx(level,
                                                                                     abs=1e-6)
    gap = eu_size_gradient(*INITIAL_SIZE_GRADIENT[tech])[0]
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    assert logit(shares["50-249"]) - logit(shares["10-49"]) == pytest.approx(gap, abs=1e-6)
    assert logit(shares["10-49"]) - logit(shares["2-9"]) == pytest.approx(gap, abs=1e-6)
    assert 0.5 < gap < 1.2  # medium firms lead in every EU country's statistics


def test_initial_population_reproduces_the_size_split(pop_10_249):
    """Medium firms start with more advanced technology than small firms, as the EU's
    size gradient says (NL's own split is held out of the data)."""
    pop = pop_10_249
    for tech in ("cloud", "ai", "data_analytics"):
        want = initial_size_shares(tech, PARAMS[f"initial_{tech}"])
        for size in ("10-49", "50-249"):
            sel = pop.size_class == SIZE_CLASSES.index(size)
            got = pop.weight[sel & pop.adopted[tech]].sum() / pop.weight[sel].sum()
            assert got == pytest.approx(want[size], abs=0.02), (tech, size)


def test_data_analytics_loading_sets_who_analyses_data_not_how_many():
    """initial_data_analytics_loading moves the 2021 users of data analytics towards the
    digitally intense firms without changing their share: at 0 they are spread over all
    item counts (many below the basic level, where the 2023 index's swap of IoT for data
    analytics lifts firms across it); at 0.9 they cluster among the high counts."""
    users = {}
    for loading in (0.0, 0.9):
        params = resolve_parameters({"initial_data_analytics_loading": loading})
        pop = build_population(4_000, np.random.default_rng(11), params, "10-249")
        da, w, count = pop.adopted["data_analytics"], pop.weight, _v3_count(pop)
        share = w[da].sum() / w.sum()
        assert share == pytest.approx(params["initial_data_analytics"], abs=0.01)
        users[loading] = (np.average(count[da], weights=w[da]),
                          w[da & (count < 4)].sum() / w[count < 4].sum())
    (mean_spread, below_spread), (mean_close, below_close) = users[0.0], users[0.9]
    assert mean_close > mean_spread + 1.0
    assert below_spread > 2 * below_close
    assert below_spread > 0.25


def test_security_gradient_spreads_size_classes_around_the_calibrated_level():
    """initial_security_5plus fixes the 10-249 share with 5+ measures; the size gradient
    only moves it between size classes (0: close together; 1.5: far apart)."""
    gaps = []
    for gradient in (0.0, 1.5):
        params = resolve_parameters({"security_size_gradient": gradient,
                                     "initial_security_5plus": 0.7})
        pop = build_population(6_000, np.random.default_rng(5), params, "10-249")
        share = {}
        for k in (1, 2):
            sel = pop.size_class == k
            w = pop.weight[sel]
            share[k] = w[pop.measures[sel] >= SECURITY_THRESHOLD].sum() / w.sum()
        surveyed = pop.size_class >= 1
        w = pop.weight[surveyed]
        assert w[pop.measures[surveyed] >= SECURITY_THRESHOLD].sum() / w.sum() == (
            pytest.approx(0.7, abs=0.01))
        gaps.append(share[2] - share[1])
    assert gaps[0] < 0.1 < 0.25 < gaps[1], gaps


def test_vectorised_gumbel_draws_numpys_gumbel_numbers():
    # The basic ladders' Plackett-Luce keys: the faster sampler draws numpy's own Gumbel
    # numbers from the same stream, so every firm's ladder is the one numpy's sampler
    # gives. Bit for bit only where numpy's vectorised log is the C library's: on CPUs
    # with AVX-512, numpy's own log differs from it in the last bits of a few values in a
    # thousand (30 November: up to 17 units in the last place), which leaves the keys'
    # order, the ladders, alone.
    for seed in range(20):
        expected = np.random.default_rng(seed).gumbel(size=(4000, N_BASIC))
        keys = _gumbel(np.random.default_rng(seed), (4000, N_BASIC))
        np.testing.assert_allclose(keys, expected, rtol=1e-13, atol=1e-15)
        assert np.array_equal(np.argsort(-keys, axis=1), np.argsort(-expected, axis=1))


@given(st.integers(0, 2**32 - 1))
def test_security_offset_is_the_plain_bisection(seed):
    # The sorted bisection must take every step the one-pass-per-step bisection takes.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 3000))
    z = rng.standard_normal(n) * rng.uniform(0.3, 2.0)
    weight = rng.choice([0.7, 3.25, 14.0, 91.5], n)
    frame = rng.random(n) < 0.9
    share = float(rng.uniform(0.01, 0.99))
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        reached = weight[frame] * (mid + 2.2 * z[frame] > SECURITY_THRESHOLD - 0.5)
        lo, hi = (mid, hi) if reached.sum() / weight[frame].sum() < share else (lo, mid)
    assert _solve_offset(z, weight, frame, share) == hi
