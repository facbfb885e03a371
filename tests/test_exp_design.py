"""experiments/design.py: scenarios x replications, parameter draws and seeds.

Common random numbers (every scenario of a replication shares its parameter draw
and seed), seeds that depend on the replication number only, Latin hypercube
draws within the declared ranges and stratified, truncated normals inside the
parameter's allowed range, and weighted resampling of a posterior file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exp_helpers import tiny_mapping
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from experiments.config import ConfigError, parse_config
from experiments.design import RunSpec, build_design, parameter_draws, replication_seed
from model import PARAMETERS, parse_policy


def config_of(raw, base_dir: Path | None = None):
    return parse_config(raw, source="<test>", base_dir=base_dir)


def with_uncertainties(uncertainties: dict, **run):
    raw = tiny_mapping(**run)
    raw["uncertainties"] = uncertainties
    return config_of(raw)


# ------------------------------------------------------------------ the design
def test_design_has_every_scenario_of_every_replication_in_order():
    config = config_of(tiny_mapping(replications=6))
    specs = build_design(config)
    assert len(specs) == config.n_runs == 12
    assert [s.key for s in specs] == [(sc, r) for r in range(6) for sc in ("baseline", "subsidy")]
    assert len({s.key for s in specs}) == len(specs)
    for s in specs:
        assert isinstance(s, RunSpec)
        assert (s.firms, s.end_year, s.population, s.seed) == (500, 2024, "10-249", 7)
        assert s.policy == parse_policy(config.scenarios[s.scenario])  # parsed once, typed
        assert s.draw == s.replication // 2


def test_common_random_numbers_every_scenario_of_a_replication_shares_draw_and_seed():
    specs = build_design(config_of(tiny_mapping(replications=8)))
    by_rep: dict[int, list[RunSpec]] = {}
    for s in specs:
        by_rep.setdefault(s.replication, []).append(s)
    for rep, runs in by_rep.items():
        assert {s.scenario for s in runs} == {"baseline", "subsidy"}
        assert len({s.draw for s in runs}) == 1
        assert all(s.parameters == runs[0].parameters for s in runs)
        states = {tuple(s.seed_sequence().generate_state(4)) for s in runs}
        assert len(states) == 1, f"replication {rep}: scenarios have different seeds"
    # ... while different replications have different seeds.
    firsts = [runs[0].seed_sequence().generate_state(4).tolist() for runs in by_rep.values()]
    assert len({tuple(f) for f in firsts}) == len(firsts)


def test_replications_of_one_draw_share_parameters_and_differ_in_seed():
    specs = [s for s in build_design(config_of(tiny_mapping(replications=8)))
             if s.scenario == "baseline"]
    for a, b in zip(specs[::2], specs[1::2], strict=True):
        assert a.draw == b.draw and a.parameters == b.parameters
        assert a.seed_sequence().entropy == b.seed_sequence().entropy
        assert a.seed_sequence().spawn_key != b.seed_sequence().spawn_key
    assert len({tuple(sorted(s.parameters.items())) for s in specs}) == 4


def test_seeds_depend_only_on_the_replication_number():
    raw4 = tiny_mapping(replications=4, seeds_per_draw=1)
    raw8 = tiny_mapping(replications=8, seeds_per_draw=1)
    for raw in (raw4, raw8):
        raw["uncertainties"] = {}
        raw["parameters"] = {"edih_weight": 0.7}
    small, large = build_design(config_of(raw4)), build_design(config_of(raw8))
    assert small == large[: len(small)]
    for spec in large:
        assert spec.parameters == {"edih_weight": 0.7}
        expected = np.random.SeedSequence(7, spawn_key=(spec.replication,))
        assert spec.seed_sequence().generate_state(8).tolist() == \
            expected.generate_state(8).tolist()
        assert replication_seed(7, spec.replication).spawn_key == (spec.replication,)


def test_draws_are_reproducible_and_depend_on_the_experiment_seed():
    a = parameter_draws(config_of(tiny_mapping(replications=10)))
    b = parameter_draws(config_of(tiny_mapping(replications=10)))
    pd.testing.assert_frame_equal(a, b)
    c = parameter_draws(config_of(tiny_mapping(replications=10, seed=8)))
    assert not np.allclose(a.to_numpy(), c.to_numpy())
    assert a.index.name == "draw" and len(a) == 5
    assert list(a.columns) == ["basic_intercept", "peer_weight"]


def test_no_uncertainty_means_default_parameters():
    config = with_uncertainties({})
    draws = parameter_draws(config)
    assert draws.shape == (2, 0)
    assert all(s.parameters == {} for s in build_design(config))


# ------------------------------------------------------------------ Latin hypercube
@settings(max_examples=40)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32),
       low=st.floats(0.0, 3.9), width=st.floats(0.01, 4.0))
def test_uniform_lhs_draws_are_in_range_and_stratified(n, seed, low, width):
    high = min(4.0, low + width)
    if not low < high:
        return
    config = with_uncertainties(
        {"peer_weight": {"distribution": "uniform", "low": low, "high": high},
         "edih_weight": {"distribution": "uniform", "low": 0.0, "high": 2.0}},
        replications=n, seeds_per_draw=1, seed=seed)
    draws = parameter_draws(config)
    assert len(draws) == n
    for name, (lo, hi) in {"peer_weight": (low, high), "edih_weight": (0.0, 2.0)}.items():
        x = draws[name].to_numpy()
        assert np.all((x >= lo) & (x <= hi)), name
        # Each of n equal-probability bins holds exactly one draw.
        bins = np.minimum(np.floor((x - lo) / (hi - lo) * n), n - 1).astype(int)
        assert sorted(bins) == list(range(n)), name


def test_loguniform_and_triangular_draws_are_stratified_in_probability():
    n = 25
    config = with_uncertainties(
        {"incident_rate": {"distribution": "loguniform", "low": 0.05, "high": 0.5},
         "peer_weight": {"distribution": "triangular", "low": 0.5, "mode": 1.0, "high": 3.0}},
        replications=n, seeds_per_draw=1)
    draws = parameter_draws(config)
    log_q = (np.log(draws["incident_rate"]) - np.log(0.05)) / (np.log(0.5) - np.log(0.05))
    tri_q = stats.triang.cdf(draws["peer_weight"], (1.0 - 0.5) / 2.5, loc=0.5, scale=2.5)
    for q in (log_q, tri_q):
        q = np.asarray(q)
        assert np.all((q >= 0) & (q <= 1))
        assert sorted(np.minimum(np.floor(q * n), n - 1).astype(int)) == list(range(n))


@settings(max_examples=40)
@given(name=st.sampled_from(["peer_weight", "basic_intercept", "incident_rate",
                             "discontinuance_rate"]),
       where=st.floats(0.0, 1.0), sd_scale=st.floats(1e-4, 10.0), seed=st.integers(0, 1000))
def test_normal_draws_stay_inside_the_parameters_allowed_range(name, where, sd_scale, seed):
    p = PARAMETERS[name]
    mean = p.low + where * (p.high - p.low)
    sd = sd_scale * (p.high - p.low)
    n = 30
    config = with_uncertainties({name: {"distribution": "normal", "mean": mean, "sd": sd}},
                                replications=n, seeds_per_draw=1, seed=seed)
    x = parameter_draws(config)[name].to_numpy()
    assert len(x) == n and np.all(np.isfinite(x))
    assert np.all((x >= p.low) & (x <= p.high)), (x.min(), x.max(), p.low, p.high)
    # stratified in the truncated normal's probability scale
    a, b = (p.low - mean) / sd, (p.high - mean) / sd
    q = stats.truncnorm.cdf(x, a, b, loc=mean, scale=sd)
    bins = np.clip(np.floor(q * n + 1e-9), 0, n - 1).astype(int)
    assert sorted(bins) == list(range(n))


def test_normal_with_zero_sd_is_the_mean():
    config = with_uncertainties({"peer_weight": {"distribution": "normal", "mean": 1.3, "sd": 0}})
    assert parameter_draws(config)["peer_weight"].tolist() == [1.3, 1.3]


def test_integer_parameters_are_drawn_as_whole_numbers():
    config = with_uncertainties(
        {"network_local_degree": {"distribution": "uniform", "low": 2, "high": 9}},
        replications=20, seeds_per_draw=1)
    x = parameter_draws(config)["network_local_degree"]
    assert np.all(x == np.round(x)) and x.between(2, 9).all()
    assert all(s.parameters["network_local_degree"] == round(s.parameters["network_local_degree"])
               for s in build_design(config))


# ------------------------------------------------------------------ posterior files
def _posterior_config(tmp_path, frame: pd.DataFrame, replications=200, seeds_per_draw=1):
    frame.to_parquet(tmp_path / "posterior.parquet")
    raw = tiny_mapping(replications=replications, seeds_per_draw=seeds_per_draw)
    raw["uncertainties"] = {"posterior": "posterior.parquet"}
    return config_of(raw, tmp_path)


def test_posterior_is_resampled_with_its_weights(tmp_path):
    post = pd.DataFrame({"peer_weight": [0.8, 1.2, 1.6, 2.0],
                         "basic_intercept": [-3.4, -3.3, -3.2, -3.1],
                         "weight": [1.0, 0.0, 2.0, 1.0]})
    config = _posterior_config(tmp_path, post)
    draws = parameter_draws(config)
    assert list(draws.columns) == ["peer_weight", "basic_intercept"] and len(draws) == 200
    pairs = set(zip(draws["peer_weight"], draws["basic_intercept"], strict=True))
    # Whole rows are drawn (columns are never mixed), the zero-weight row never.
    assert pairs <= {(0.8, -3.4), (1.6, -3.2), (2.0, -3.1)}
    assert (1.2, -3.3) not in pairs and 1.2 not in set(draws["peer_weight"])
    counts = draws["peer_weight"].value_counts()
    assert set(counts.index) == {0.8, 1.6, 2.0}
    assert counts[1.6] > counts[0.8] and counts[1.6] > counts[2.0]  # weight 2 vs 1 (n=200)
    specs = build_design(config)
    assert {s.parameters["peer_weight"] for s in specs} <= {0.8, 1.6, 2.0}


def test_every_particle_is_used_as_often_as_its_weight_allows(tmp_path):
    """Systematic resampling: 200 draws from 200 equally weighted particles use each
    particle exactly once (independent draws would leave out about 37% of them); with
    weights, each row's count is within one of draws x weight, in a random order."""
    post = pd.DataFrame({"peer_weight": np.linspace(0.5, 3.0, 200)})
    draws = parameter_draws(_posterior_config(tmp_path, post))
    assert sorted(draws["peer_weight"]) == sorted(post["peer_weight"])
    assert not draws["peer_weight"].is_monotonic_increasing
    from experiments.abc import systematic_rows

    w = np.random.default_rng(4).random(37)
    rows = systematic_rows(w, 500, np.random.default_rng(9))
    counts = np.bincount(rows, minlength=37)
    assert counts.sum() == 500
    assert np.all(np.abs(counts - 500 * w / w.sum()) < 1)


def test_posterior_without_weights_is_resampled_uniformly(tmp_path):
    post = pd.DataFrame({"peer_weight": [0.8, 1.2], "edih_weight": [0.1, 0.2]})
    draws = parameter_draws(_posterior_config(tmp_path, post, replications=40))
    assert set(zip(draws["peer_weight"], draws["edih_weight"], strict=True)) == \
        {(0.8, 0.1), (1.2, 0.2)}


def test_posterior_draws_are_shared_by_the_seeds_of_a_draw(tmp_path):
    post = pd.DataFrame({"peer_weight": np.linspace(0.5, 3.0, 50)})
    config = _posterior_config(tmp_path, post, replications=12, seeds_per_draw=3)
    specs = [s for s in build_design(config) if s.scenario == "subsidy"]
    for r, s in enumerate(specs):
        assert s.draw == r // 3
        assert s.parameters == specs[3 * s.draw].parameters


def test_posterior_with_an_unknown_column_is_a_config_error(tmp_path):
    post = pd.DataFrame({"peer_weight": [1.0, 1.2], "peer_wieght": [0.3, 0.4]})
    with pytest.raises(ConfigError) as info:
        _posterior_config(tmp_path, post)
    assert any("'peer_wieght' is not a model parameter" in e for e in info.value.errors)


def test_draw_count_is_replications_over_seeds_per_draw():
    for reps, spd in ((6, 1), (6, 2), (6, 3), (6, 6)):
        config = config_of(tiny_mapping(replications=reps, seeds_per_draw=spd))
        assert len(parameter_draws(config)) == math.ceil(reps / spd)
