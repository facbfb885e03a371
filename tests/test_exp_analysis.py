"""experiments/analysis.py: Wilson intervals, Newcombe's paired difference interval,
intervals for runs that share parameter sets, the parameter/noise split and the
per-scenario summary.

Known values come from the literature (Newcombe 1998) and from an independent
plain-Python implementation of the formulas written here.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from exp_helpers import tiny_mapping
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.analysis import (
    SUMMARY_COLUMNS,
    Z95,
    clustered_wilson_interval,
    effective_runs,
    paired_difference_interval,
    parameter_split,
    summarise,
    wilson_interval,
)
from experiments.config import parse_config

Z = NormalDist().inv_cdf(0.975)


def wilson_reference(hits: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson (1927) as the roots of the score quadratic (Newcombe 1998a, method 3)."""
    p = hits / n
    a = 2 * n * p + z * z
    b = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    c = 2 * (n + z * z)
    return ((a - b) / c, (a + b) / c)


def newcombe_reference(both: int, only_a: int, only_b: int, neither: int,
                       z: float = Z) -> tuple[float, float, float]:
    """Newcombe (1998b) method 10 for paired proportions, written out from the paper."""
    n = both + only_a + only_b + neither
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson_reference(both + only_a, n, z)
    l2, u2 = wilson_reference(both + only_b, n, z)
    margins = ((both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither))
    phi = (both * neither - only_a * only_b) / math.sqrt(margins) if margins else 0.0
    theta = p1 - p2
    # (the radicands are >= 0 in exact arithmetic; rounding can make them -1e-17)
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return theta, theta - delta, theta + eps


def paired_arrays(both: int, only_a: int, only_b: int, neither: int):
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return np.array(a), np.array(b)


# ------------------------------------------------------------------ Wilson
def test_z_is_the_two_sided_95_percent_normal_quantile():
    assert Z95 == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize(("hits", "n", "low", "high"), [
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998a) example
    (15, 148, 0.0624, 0.1605),  # Newcombe (1998a) example
    (0, 20, 0.0, 0.1611),  # Newcombe (1998a) example
    (1, 29, 0.0061, 0.1718),  # Newcombe (1998a) example
])
def test_wilson_interval_known_values(hits, n, low, high):
    lo, hi = wilson_interval(hits, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)
    ref_lo, ref_hi = wilson_reference(hits, n)
    assert lo == pytest.approx(max(0.0, ref_lo), abs=1e-12)
    assert hi == pytest.approx(min(1.0, ref_hi), abs=1e-12)


def test_wilson_interval_of_no_runs_is_nan():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


@settings(max_examples=300)
@given(st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_matches_the_formula_and_contains_the_estimate(case):
    hits, n = case
    lo, hi = wilson_interval(hits, n)
    p = hits / n
    assert 0.0 <= lo <= p <= hi <= 1.0
    ref_lo, ref_hi = wilson_reference(hits, n)
    assert lo == pytest.approx(max(0.0, ref_lo), abs=1e-9)
    assert hi == pytest.approx(min(1.0, ref_hi), abs=1e-9)
    # symmetry: the interval of the misses mirrors that of the hits
    mlo, mhi = wilson_interval(n - hits, n)
    assert lo == pytest.approx(1 - mhi, abs=1e-9) and hi == pytest.approx(1 - mlo, abs=1e-9)


def test_wilson_interval_narrows_with_more_runs():
    widths = [np.subtract(*wilson_interval(n // 4, n)[::-1]) for n in (8, 40, 400, 4000)]
    assert widths == sorted(widths, reverse=True)


@pytest.mark.parametrize(("hits", "n"), [(0, 3), (0, 6), (0, 7), (10, 10), (0, 1), (1, 1)])
def test_wilson_contains_p_exactly_at_the_edges(hits, n):
    # Rounding once gave 5.6e-17 for 0 of 3 and 0.9999999999999999 for 10 of 10.
    lo, hi = wilson_interval(hits, n)
    assert lo <= hits / n <= hi
    assert (lo == 0.0) if hits == 0 else (hi == 1.0)


# ------------------------------------------------------------------ Newcombe
def test_newcombe_paired_interval_worked_example():
    # Newcombe (1998b), Statistics in Medicine 17:2635-50, Table II example (a):
    # 36 pairs both yes, 12 yes/no, 2 no/yes, 0 both no; method 10 gives 0.0569 to 0.3404.
    d, lo, hi = paired_difference_interval(*paired_arrays(36, 12, 2, 0))
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0569, abs=1e-4)
    assert hi == pytest.approx(0.3404, abs=1e-4)
    assert (d, lo, hi) == pytest.approx(newcombe_reference(36, 12, 2, 0), abs=1e-12)


@pytest.mark.parametrize("cells", [(5, 3, 1, 11), (0, 4, 0, 6), (10, 0, 0, 0), (0, 0, 0, 7),
                                   (2, 0, 5, 1), (30, 1, 9, 60)])
def test_newcombe_matches_an_independent_implementation(cells):
    d, lo, hi = paired_difference_interval(*paired_arrays(*cells))
    ref = newcombe_reference(*cells)
    assert d == pytest.approx(ref[0], abs=1e-12)
    assert lo == pytest.approx(max(-1.0, ref[1]), abs=1e-7)
    assert hi == pytest.approx(min(1.0, ref[2]), abs=1e-7)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=300))
def test_newcombe_interval_contains_the_difference_and_lies_in_minus_one_to_one(pairs):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    d, lo, hi = paired_difference_interval(a, b)
    assert d == pytest.approx(a.mean() - b.mean(), abs=1e-12)
    assert -1.0 <= lo <= d <= hi <= 1.0
    # swapping the arms mirrors the interval
    d2, lo2, hi2 = paired_difference_interval(b, a)
    assert d2 == pytest.approx(-d, abs=1e-12)
    assert lo2 == pytest.approx(-hi, abs=1e-12) and hi2 == pytest.approx(-lo, abs=1e-12)
    both = int(np.sum(a & b))
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    ref = newcombe_reference(both, only_a, only_b, len(a) - both - only_a - only_b)
    # sqrt of a radicand near 0 turns rounding of 1e-17 into up to ~1e-8
    assert (lo, hi) == pytest.approx((max(-1, ref[1]), min(1, ref[2])), abs=1e-7)


def test_identical_arms_have_zero_difference():
    a = np.array([True, False, True, True, False])
    d, lo, hi = paired_difference_interval(a, a)
    assert d == 0.0 and lo < 0.0 < hi
    # perfectly correlated arms (phi = 1) at p = 1/2: the interval collapses to 0
    half = np.array([True, False, True, False])
    assert paired_difference_interval(half, half) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)


def test_newcombe_of_no_pairs_is_nan():
    assert all(math.isnan(x) for x in paired_difference_interval(np.array([]), np.array([])))


# ------------------------------------------------------------------ parameter split
def test_parameter_split_known_values():
    values = pd.Series([0.1, 0.3, 0.5, 0.7])
    draws = pd.Series([0, 0, 1, 1])
    out = parameter_split(values, draws, threshold=0.4)
    assert out["sd_noise"] == pytest.approx(math.sqrt(0.02))  # within-draw sd
    # between-draw variance of means (0.08) less noise variance / seeds per draw (0.01)
    assert out["sd_parameters"] == pytest.approx(math.sqrt(0.07))
    p = NormalDist().cdf((0.2 - 0.4) / math.sqrt(0.02)), NormalDist().cdf(0.2 / math.sqrt(0.02))
    assert out["p_hit_draw_p50"] == pytest.approx(sum(p) / 2)
    assert out["p_hit_draw_p05"] < out["p_hit_draw_p50"] < out["p_hit_draw_p95"]


def test_parameter_split_needs_two_seeds_per_draw():
    out = parameter_split(pd.Series([0.1, 0.3, 0.5]), pd.Series([0, 1, 2]), threshold=0.4)
    assert all(math.isnan(v) for v in out.values())


def test_parameter_split_without_noise_uses_the_draw_means():
    out = parameter_split(pd.Series([0.3, 0.3, 0.5, 0.5]), pd.Series([0, 0, 1, 1]), 0.4)
    assert out["sd_noise"] == 0.0
    assert out["p_hit_draw_p05"] == pytest.approx(0.05)  # quantiles of [0, 1]
    assert out["p_hit_draw_p95"] == pytest.approx(0.95)


# ------------------------------------------------------------------ summarise
@pytest.fixture(scope="module")
def config():
    return parse_config(tiny_mapping(replications=4, seeds_per_draw=2), source="<test>")


def synthetic_outcomes() -> pd.DataFrame:
    """Two scenarios x 4 replications with chosen values (thresholds 0.87 and 0.77)."""
    basic = {"baseline": [0.86, 0.88, 0.85, 0.90], "subsidy": [0.88, 0.89, 0.86, 0.91]}
    adv = {"baseline": [0.70, 0.80, 0.75, 0.76], "subsidy": [0.78, 0.81, 0.79, 0.76]}
    spend = {"baseline": 0.0, "subsidy": 5e6}
    rows = []
    for sc in ("baseline", "subsidy"):
        for r in range(4):
            rows.append({
                "scenario": sc, "replication": r, "draw": r // 2, "seed": 7,
                "value:basic": basic[sc][r], "hit:basic": basic[sc][r] >= 0.87,
                "spend_eur:basic": spend[sc], "firms:basic": 1000.0,
                "value:advanced": adv[sc][r], "hit:advanced": adv[sc][r] >= 0.77,
                "spend_eur:advanced": spend[sc] + r, "firms:advanced": 1000.0,
                "subsidised_adoptions": 10.0 if sc == "subsidy" else 0.0,
                "deadweight_adoptions": 4.0 if sc == "subsidy" else 0.0,
            })
            for t in ("basic", "advanced"):  # firm-by-firm additionality (real firms)
                sub = sc == "subsidy"
                rows[-1].update({
                    f"additional_firms:{t}": 10.0 + r if sub else 0.0,
                    f"supported_firms:{t}": 40.0 if sub else 0.0,
                    f"supported_additional:{t}": 6.0 if sub else 0.0,
                    f"supported_brought_forward:{t}": 2.0 if sub else 0.0,
                    f"supported_deadweight:{t}": 12.0 if sub else 0.0,
                })
    return pd.DataFrame(rows)


def test_summary_has_every_column_and_one_row_per_scenario_and_target(config):
    summary = summarise(synthetic_outcomes(), config)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert list(zip(summary["scenario"], summary["target"], strict=True)) == [
        ("baseline", "basic"), ("baseline", "advanced"),
        ("subsidy", "basic"), ("subsidy", "advanced")]
    assert (summary["n_runs"] == 4).all()
    assert ((summary["ci_low"] <= summary["p_hit"])
            & (summary["p_hit"] <= summary["ci_high"])).all()


def test_summary_values(config):
    out = synthetic_outcomes()
    s = summarise(out, config).set_index(["scenario", "target"])
    base, sub = s.loc[("baseline", "basic")], s.loc[("subsidy", "basic")]
    assert base["p_hit"] == 0.5 and sub["p_hit"] == 0.75
    # two draws of two seeds each: two parameter sets, so Student's t on one degree of
    # freedom makes the interval nearly the whole unit range
    assert (base["ci_low"], base["ci_high"]) == pytest.approx(
        clustered_wilson_interval(np.array([0, 1, 0, 1], bool), np.array([0, 0, 1, 1])))
    assert base["ci_high"] - base["ci_low"] > 0.9
    assert base["n_parameter_sets"] == 2
    assert base["mean_target_year"] == pytest.approx(np.mean([0.86, 0.88, 0.85, 0.90]))
    assert base["expected_shortfall"] == pytest.approx((0.01 + 0.02) / 4)
    assert base["diff_vs_baseline"] == 0.0
    assert base["diff_ci_low"] <= 0 <= base["diff_ci_high"]
    assert base["additional_spend_eur"] == 0.0 and math.isnan(base["eur_per_additional_firm"])
    d, lo, hi = paired_difference_interval(
        out[out.scenario == "subsidy"]["hit:basic"].to_numpy(),
        out[out.scenario == "baseline"]["hit:basic"].to_numpy(),
        groups=out[out.scenario == "subsidy"]["draw"].to_numpy())
    assert (sub["diff_vs_baseline"], sub["diff_ci_low"], sub["diff_ci_high"]) == \
        pytest.approx((d, lo, hi))
    assert sub["diff_vs_baseline"] == pytest.approx(0.25)
    assert sub["spend_eur"] == 5e6 and sub["additional_spend_eur"] == 5e6
    # firm by firm: the net change in firms meeting the indicator, not the share change
    assert sub["additional_firms"] == pytest.approx(11.5)
    assert sub["eur_per_additional_firm"] == pytest.approx(5e6 / 11.5)
    assert sub["supported_firms"] == 40.0
    assert (sub["additional_share"], sub["brought_forward_share"], sub["deadweight_share"]) \
        == pytest.approx((0.3, 0.1, 0.6))
    assert base["additional_firms"] == 0.0 and math.isnan(base["deadweight_share"])
    assert sub["sd_noise"] > 0 and not math.isnan(sub["sd_parameters"])
    assert s.loc[("subsidy", "advanced"), "p_hit"] == 0.75


# ------------------------------------------------- runs sharing parameter sets
def test_copies_of_runs_add_no_information():
    """Three copies of every run (as an ABC posterior's duplicated particles give) leave
    the effective number of runs and the interval exactly as they were."""
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(30), 2)
    hit = rng.random(60) < rng.beta(0.5, 0.7, 30)[groups]  # runs of a set are alike
    n_eff, z = effective_runs(hit, groups)
    assert n_eff < 60
    n_eff3, z3 = effective_runs(np.repeat(hit, 3), np.repeat(groups, 3))
    assert n_eff3 == pytest.approx(n_eff) and z3 == z
    assert clustered_wilson_interval(np.repeat(hit, 3), np.repeat(groups, 3)) == \
        pytest.approx(clustered_wilson_interval(hit, groups))
    # while the plain interval pretends to three times the information
    plain = wilson_interval(3 * int(hit.sum()), 180)
    assert plain[1] - plain[0] < 0.7 * np.subtract(
        *clustered_wilson_interval(hit, groups)[::-1])


def test_independent_runs_keep_the_plain_wilson_interval():
    hit = np.array([1, 0, 0, 1, 1, 0, 1, 1], bool)
    assert clustered_wilson_interval(hit, np.arange(8)) == pytest.approx(wilson_interval(5, 8))
    assert clustered_wilson_interval(hit, None) == pytest.approx(wilson_interval(5, 8))


def test_no_variation_counts_each_parameter_set_once():
    """No run hits: the interval is that of as many trials as there are parameter sets,
    not as many as there are runs; one parameter set says nothing about the posterior."""
    groups = np.repeat(np.arange(20), 10)
    lo, hi = clustered_wilson_interval(np.zeros(200, bool), groups)
    assert lo == 0.0
    from scipy import stats
    assert hi == pytest.approx(wilson_interval(0, 20, float(stats.t.ppf(0.975, 19)))[1])
    assert clustered_wilson_interval(np.zeros(5, bool), np.zeros(5)) == (0.0, 1.0)


def test_clustered_interval_covers_the_posterior_probability():
    """A posterior of 40 particles, each the parent of 1-12 copies (resampling), two seeds
    per copy; a run hits with its particle's own chance. Over 400 such experiments the
    95% interval covers the true P(hit) (the mean chance over the whole posterior) about
    95% of the time; the plain Wilson interval, which counts every run as independent,
    far less often."""
    rng = np.random.default_rng(11)
    truth = 0.4  # Beta(1.2, 1.8) mean
    covered = covered_plain = 0
    for _ in range(400):
        chance = rng.beta(1.2, 1.8, 40)
        copies = rng.integers(1, 13, 40)
        particle = np.repeat(np.arange(40), copies)
        particle = np.repeat(particle, 2)
        hit = rng.random(len(particle)) < chance[particle]
        lo, hi = clustered_wilson_interval(hit, particle)
        covered += lo <= truth <= hi
        plo, phi = wilson_interval(int(hit.sum()), len(hit))
        covered_plain += plo <= truth <= phi
    assert covered / 400 >= 0.91
    assert covered_plain / 400 <= 0.7


def test_paired_difference_allows_for_shared_parameter_sets():
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(10), 10)
    base = rng.random(100) < rng.beta(0.6, 1.2, 10)[groups]
    policy = base | (rng.random(100) < rng.beta(0.4, 1.6, 10)[groups])
    assert effective_runs(policy.astype(float) - base, groups)[0] < 100
    d, lo, hi = paired_difference_interval(policy, base)
    dg, glo, ghi = paired_difference_interval(policy, base, groups=groups)
    assert dg == pytest.approx(d) and glo < lo and ghi > hi
    copies = paired_difference_interval(np.repeat(policy, 4), np.repeat(base, 4),
                                        groups=np.repeat(groups, 4))
    assert copies == pytest.approx((dg, glo, ghi))


def test_summary_counts_posterior_particles_not_draws(config, tmp_path):
    """Draws that repeat a posterior particle are one parameter set; a parameter the
    experiment declares itself (a policy effect) does not split them."""
    import dataclasses

    from experiments.analysis import parameter_sets

    cfg = dataclasses.replace(config, posterior=tmp_path / "posterior.parquet")
    assert cfg.uncertainties  # the tiny experiment declares a policy effect of its own
    assert "cloud_intercept" not in cfg.uncertainties
    runs = pd.DataFrame({"draw": [0, 1, 2, 3], "param:cloud_intercept": [-5.0, -6.0, -5.0, -5.0],
                         **{f"param:{k}": [0.1, 0.2, 0.3, 0.4] for k in cfg.uncertainties}})
    sets = parameter_sets(runs, cfg)
    assert sets.nunique() == 2 and sets[0] == sets[2] == sets[3] != sets[1]
    assert parameter_sets(runs, config).tolist() == [0, 1, 2, 3]


def test_summary_pairs_by_replication_when_runs_are_missing(config):
    out = synthetic_outcomes()
    out = out[~((out.scenario == "subsidy") & (out.replication == 3))]
    s = summarise(out.sample(frac=1, random_state=1), config).set_index(["scenario", "target"])
    assert s.loc[("subsidy", "basic"), "n_runs"] == 3
    assert s.loc[("baseline", "basic"), "n_runs"] == 4
    # paired over replications 0-2 only: subsidy hits 1,1,0 vs baseline 0,1,0
    assert s.loc[("subsidy", "basic"), "diff_vs_baseline"] == pytest.approx(1 / 3)


def test_summary_skips_a_scenario_without_runs(config):
    out = synthetic_outcomes()
    s = summarise(out[out.scenario == "baseline"], config)
    assert set(s["scenario"]) == {"baseline"} and len(s) == 2


def test_central_draw_is_a_joint_draw_near_every_median():
    """Two parameters that trade off (a ridge): their marginal medians together are off
    the ridge, the central draw is on it, near both medians; a zero-weight row is never
    chosen and a constant column (a parameter the calibration held fixed) counts for
    nothing."""
    from experiments.analysis import central_draw

    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, 400)
    post = pd.DataFrame({"a": a, "b": 1 - a + rng.normal(0, 0.01, 400),
                         "fixed": 2.0, "weight": 1.0})
    row = central_draw(post)
    assert abs(post["a"].iloc[row] - post["a"].median()) < 0.05
    assert abs(post["a"].iloc[row] + post["b"].iloc[row] - 1) < 0.05  # on the ridge
    post.loc[row, "weight"] = 0.0
    assert central_draw(post) != row


def test_summary_gives_p_hit_of_each_calibration_chain(config, tmp_path):
    """Runs are traced to the calibration chain of their particle; P(hit) of each chain's
    runs alone brackets the pooled one, and the interval carries the chains'
    disagreement. Without chains, or when a run matches no particle (a recalibrated
    posterior), nothing is claimed."""
    import dataclasses

    from experiments.analysis import posterior_chains

    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"cloud_intercept": [-5.0, -5.5, -6.0, -6.5], "chain": [0, 0, 1, 1],
                  "weight": 0.25}).to_parquet(path)
    cfg = dataclasses.replace(config, posterior=path)
    out = synthetic_outcomes()
    out["param:cloud_intercept"] = np.tile([-5.0, -5.5, -6.0, -6.5], 2)
    assert posterior_chains(out, cfg).tolist() == [0, 0, 1, 1] * 2
    s = summarise(out, cfg).set_index(["scenario", "target"])
    base = s.loc[("baseline", "basic")]  # hits 0, 1 (chain 0) and 0, 1 (chain 1)
    assert (base["p_hit_chain_low"], base["p_hit_chain_high"]) == (0.5, 0.5)
    adv = s.loc[("baseline", "advanced")]  # hits 0, 1 (chain 0) and 0, 0 (chain 1)
    assert (adv["p_hit_chain_low"], adv["p_hit_chain_high"]) == (0.0, 0.5)
    assert (s["n_chains"] == 2).all()
    # chains that agree leave the runs' interval; two that disagree, with t(1), leave
    # nothing known
    assert (base["ci_low"], base["ci_high"]) == (base["ci_runs_low"], base["ci_runs_high"])
    assert (adv["ci_low"], adv["ci_high"]) == (0.0, 1.0) != (adv["ci_runs_low"],
                                                               adv["ci_runs_high"])
    assert (s["ci_low"] <= s["ci_runs_low"]).all() and (s["ci_high"] >= s["ci_runs_high"]).all()
    assert (s["diff_ci_low"] <= s["diff_ci_runs_low"]).all()
    assert (s["diff_ci_high"] >= s["diff_ci_runs_high"]).all()
    out.loc[0, "param:cloud_intercept"] = -4.0
    assert posterior_chains(out, cfg) is None
    assert summarise(out, cfg)["p_hit_chain_low"].isna().all()
    no_chains = summarise(synthetic_outcomes(), config)
    assert no_chains["p_hit_chain_low"].isna().all() and no_chains["n_chains"].isna().all()
    assert (no_chains["ci_low"] == no_chains["ci_runs_low"]).all()


# ------------------------------------------------- calibration chains that disagree
def test_chain_interval_is_students_t_on_the_chains_own_estimates():
    """Three chains whose runs hit 20%, 30% and 40% of the time: mean +- t(2) s / sqrt(3),
    clipped to the bounds."""
    from scipy import stats

    from experiments.analysis import chain_interval

    hit = np.concatenate([np.arange(10) < k for k in (2, 3, 4)])
    chains = np.repeat([0, 1, 2], 10)
    half = stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)  # 0.248
    assert chain_interval(hit, chains) == pytest.approx((0.3 - half, 0.3 + half))
    assert chain_interval(hit - 0.5, chains, bounds=(-1, 1)) == pytest.approx(
        (-0.2 - half, -0.2 + half))
    assert chain_interval(hit - 0.5, chains, bounds=(-0.3, 0)) == pytest.approx((-0.3, 0))
    assert all(math.isnan(x) for x in chain_interval(hit, None))
    assert all(math.isnan(x) for x in chain_interval(hit, np.zeros(30)))  # one chain


def test_chains_that_agree_leave_the_runs_interval_and_chains_that_do_not_widen_it():
    from experiments.analysis import paired_interval, proportion_interval

    rng = np.random.default_rng(3)
    hit = rng.random(300) < 0.4
    same = np.repeat([0, 1, 2], 100)
    hit_same = np.concatenate([np.arange(100) < 40] * 3)  # every chain exactly 40%
    assert proportion_interval(hit_same, None, same) == pytest.approx(
        clustered_wilson_interval(hit_same, None))
    apart = np.concatenate([np.arange(100) < k for k in (10, 40, 70)])
    lo, hi = proportion_interval(apart, None, same)
    runs = clustered_wilson_interval(apart, None)
    assert lo < runs[0] - 0.2 and hi > runs[1] + 0.2
    # the paired difference: the chains' differences disagree, so it widens too
    d, dlo, dhi = paired_interval(apart, hit, None, same)
    _, rlo, rhi = paired_difference_interval(apart, hit)
    assert d == pytest.approx(apart.mean() - hit.mean())
    assert dlo < rlo and dhi > rhi


def test_interval_with_chains_covers_p_hit_when_each_chain_is_off_on_its_own():
    """Each of three chains samples the posterior with its own error (its P(hit) is the
    true one plus a chain-specific shift of sd 0.08, as chains that part during tempering
    give); 270 runs per chain. The runs' interval, blind to the chains, covers the true
    P(hit) far less than 95% of the time; with the chains' error it covers at least 95%."""
    from experiments.analysis import proportion_interval

    rng = np.random.default_rng(11)
    truth, chains = 0.3, np.repeat([0, 1, 2], 270)
    covered_runs = covered = 0
    trials = 400
    for _ in range(trials):
        p_chain = np.clip(truth + rng.normal(0, 0.08, 3), 0, 1)
        hit = rng.random(810) < p_chain[chains]
        lo, hi = clustered_wilson_interval(hit, None)
        covered_runs += lo <= truth <= hi
        lo, hi = proportion_interval(hit, None, chains)
        covered += lo <= truth <= hi
    assert covered_runs / trials < 0.7
    assert covered / trials >= 0.95


def test_summary_allows_for_the_forecast_error_of_a_backtest(config, tmp_path):
    """With a back-test named, each target of a measured family also gets P(hit) under
    the forecast error: the mean of each run's chance of a hit, pulled towards one half
    from the plain share, with an interval that holds it and widens with the error's
    own uncertainty; without one, or for an unmeasured family, the columns stay empty."""
    import dataclasses
    import json

    from experiments import forecast_error as fe

    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "manifest.json").write_text(json.dumps({"fit_until": 2021}))
    bt = tmp_path / "bt"
    bt.mkdir()
    (bt / "manifest.json").write_text(json.dumps({"fit_until": 2020}))
    pd.DataFrame({"series": ["dii_v4"] * 3, "segment": ["10-49", "50-249", "10-249"],
                  "kind": "share", "year": 2021,
                  "observed": [0.70, 0.90, 0.78], "median": 0.8, "p05": 0.79, "p95": 0.81,
                  "role": "held out"}).to_csv(bt / "fit.csv", index=False)
    cfg = dataclasses.replace(config, posterior=tmp_path / "cal" / "posterior.parquet",
                              forecast_error=bt)
    out = synthetic_outcomes()
    s = summarise(out, cfg).set_index(["scenario", "target"])
    plain = summarise(out, config)
    assert plain["p_hit_forecast"].isna().all()
    assert s["p_hit_forecast"].xs("advanced", level="target").isna().all()  # not measured
    base = s.loc[("baseline", "basic")]  # values 0.86, 0.88, 0.85, 0.90 against 0.87
    errors = fe.load(bt, tmp_path / "cal")
    sd = errors.sd("dii_at_least_basic", 2024)
    assert base["forecast_sd"] == pytest.approx(sd[0]) and sd[0] > 0
    assert base["p_hit_forecast"] == pytest.approx(fe.hit_probability(
        np.array([0.86, 0.88, 0.85, 0.90]), 0.87, sd[0]).mean())
    assert base["forecast_sd_low"] <= base["forecast_sd"] <= base["forecast_sd_high"]
    assert base["forecast_ci_low"] <= base["p_hit_forecast"] <= base["forecast_ci_high"]
    sub = s.loc[("subsidy", "basic")]  # three of four runs hit, one only just misses
    chance = fe.hit_probability(np.array([0.88, 0.89, 0.86, 0.91]), 0.87, sd[0])
    assert sub["p_hit_forecast"] == pytest.approx(chance.mean())
    assert 0.5 < sub["p_hit_forecast"] < 1.0 and sub["p_hit"] == 0.75
    # paired: each replication's two chances under the same error
    assert base["diff_forecast"] == 0.0
    assert sub["diff_forecast"] == pytest.approx(sub["p_hit_forecast"] - base["p_hit_forecast"])
    assert sub["diff_forecast_ci_low"] <= sub["diff_forecast"] <= sub["diff_forecast_ci_high"]
