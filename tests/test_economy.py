"""SMEEconomy and simulate: reproducibility, common random numbers, the time axis,
the tidy output, calibration to the 2021 and 2025 DII, and run-setting checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import (
    SEED,
    firm_state_dominates,
    lockstep,
    one,
    pick,
)

from model import INDICATOR_NAMES, Firm, ModelInputError, SMEEconomy, simulate
from model import environment as env
from model.datasets import dii
from model.economy import HEADLINE
from model.population import stratum_counts
from model.timeline import START_YEAR

SUBSIDY_ALL = {
    "subsidy": {
        "rate": 0.5,
        "cap_eur": 10_000,
        "yearly_budget_eur": 2e7,  # binds with a low friction: rationing is tested too
        "technologies": ["cloud", "data_analytics", "ai", "basic"],
        "start_year": 2023,
        "end_year": 2027,
        "application_friction": 0.3,
    }
}
EDIH_DOUBLED = {"edih": {"capacity_per_year": 2400}}


# ----------------------------------------------------------------- reproducibility
@pytest.fixture(scope="module")
def frame_seed_5() -> pd.DataFrame:
    return simulate(1_000, 5, end_year=2024)


def test_same_seed_gives_identical_frames(frame_seed_5):
    again = simulate(1_000, 5, end_year=2024)
    pd.testing.assert_frame_equal(frame_seed_5, again)


def test_same_seed_identical_under_a_policy():
    policy = {**SUBSIDY_ALL, **EDIH_DOUBLED, "cyber_campaign": {"start_year": 2022}}
    a = simulate(800, 9, policy=policy, end_year=2024)
    b = simulate(800, 9, policy=policy, end_year=2024)
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_give_different_frames(frame_seed_5):
    other = simulate(1_000, 6, end_year=2024)
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(frame_seed_5, other)
    # and not only in some corner: the headline series differ after 2021
    later = frame_seed_5["year"] > 2021
    assert not np.allclose(frame_seed_5.loc[later, "value"], other.loc[later, "value"],
                           equal_nan=True)


def test_seed_sequence_and_fresh_entropy_are_reproducible():
    fresh = SMEEconomy(600, seed=None, end_year=2022).run()
    entropy = fresh.seed_sequence.entropy
    again = SMEEconomy(600, seed=np.random.SeedSequence(entropy), end_year=2022).run()
    pd.testing.assert_frame_equal(fresh.indicator_frame(), again.indicator_frame())
    by_int = SMEEconomy(600, seed=1234, end_year=2022).run()
    by_seq = SMEEconomy(600, seed=np.random.SeedSequence(1234), end_year=2022).run()
    pd.testing.assert_frame_equal(by_int.indicator_frame(), by_seq.indicator_frame())


def test_recorded_seed_reproduces_the_run_and_fits_the_toml_range():
    """A fresh seed lies in the range an experiment file accepts (one seed range for
    the API and TOML), and passing it back reproduces the run."""
    from experiments.config import _RUN
    from model import simulate
    from model.streams import MAX_SEED

    fresh = SMEEconomy(600, seed=None, end_year=2022).run()
    seed = int(fresh.seed_sequence.entropy)
    assert 0 <= seed <= MAX_SEED == _RUN["seed"][2]
    again = SMEEconomy(600, seed=seed, end_year=2022).run()
    pd.testing.assert_frame_equal(fresh.indicator_frame(), again.indicator_frame())
    frame = simulate(600, None, end_year=2021)
    pd.testing.assert_frame_equal(frame, simulate(600, frame.attrs["seed"], end_year=2021))
    with pytest.raises(ModelInputError, match="seed"):
        SMEEconomy(600, seed=MAX_SEED + 1)


def test_step_by_step_equals_simulate(frame_seed_5):
    model = SMEEconomy(1_000, seed=5, end_year=2024)
    while model.running:
        model.step()
    pd.testing.assert_frame_equal(model.indicator_frame(), frame_seed_5)


def test_survey_quarters_record_the_same_values_and_keep_firm_columns_current(frame_seed_5):
    """Batch runs record only first quarters and the last one: the same values as a run
    that records every quarter, and the firm columns the additionality tracker reads
    are still those of the latest quarter."""
    model = SMEEconomy(1_000, seed=5, end_year=2024, record="survey_quarters")
    full = SMEEconomy(1_000, seed=5, end_year=2024)
    while model.running:
        model.step()
        full.step()
        for name, col in model.firm_columns().items():
            assert np.array_equal(col, full.firm_columns()[name]), name
    kept = (frame_seed_5["quarter"] == 1) | (frame_seed_5["year"] == 2024) & (
        frame_seed_5["quarter"] == 4)
    pd.testing.assert_frame_equal(model.indicator_frame(),
                                  frame_seed_5[kept].reset_index(drop=True))
    assert len(model.datacollector.get_model_vars_dataframe()) == 4 + 1


# ----------------------------------------------------------------- common random numbers
@pytest.mark.parametrize("policy", [SUBSIDY_ALL, EDIH_DOUBLED], ids=["subsidy", "edih_x2"])
def test_common_random_numbers_every_firm_at_least_as_far(policy):
    """At the same seed a pro-adoption lever never sets any firm back, at any step."""
    base = SMEEconomy(2_000, seed=SEED, end_year=2028)
    other = SMEEconomy(2_000, seed=SEED, policy=policy, end_year=2028)
    ahead = []

    def check(b, o):
        firm_state_dominates(b, o)
        fb, fo = b.firms, o.firms
        ahead.append(int((fo.depth > fb.depth).sum()
                         + sum((fo.adopted[t] & ~fb.adopted[t]).sum() for t in fb.adopted)))

    steps = lockstep(base, other, check)
    assert steps == (2028 - START_YEAR) * 4 + 3
    # the comparison is not vacuous: the lever did move some firms ahead
    assert max(ahead) > 0
    if "subsidy" in policy:
        budget = policy["subsidy"]["yearly_budget_eur"]
        paid = other.levers.subsidy_paid_by_year
        assert paid, "the subsidy paid nothing"
        assert max(paid.values()) > 0.9 * budget, "the budget should bind in this scenario"
        assert all(v <= budget * (1 + 1e-9) for v in paid.values())


def test_crn_identical_before_a_lever_starts():
    """Before the subsidy's start year both runs are the same firm by firm."""
    base = SMEEconomy(1_000, seed=2, end_year=2023)
    other = SMEEconomy(1_000, seed=2, policy={"subsidy": {"start_year": 2023}}, end_year=2023)

    def check(b, o):
        if b.year < 2023:
            np.testing.assert_array_equal(b.firms.depth, o.firms.depth)
            np.testing.assert_array_equal(b.firms.measures, o.firms.measures)
            for t in b.firms.adopted:
                np.testing.assert_array_equal(b.firms.adopted[t], o.firms.adopted[t])

    lockstep(base, other, check)
    paid = other.levers.subsidy_paid_by_year
    assert paid and min(y for _, y in paid) == 2023


def test_runs_with_the_same_seed_and_parameters_share_only_their_2021_firms():
    """A batch builds a replication's firms once and copies them for each scenario: each
    run owns its firms, and a run built from the copy is the run built afresh."""
    from model import economy

    first = SMEEconomy(1_000, seed=4, end_year=2024).run()
    copied = SMEEconomy(1_000, seed=4, policy=EDIH_DOUBLED, end_year=2024)
    assert copied.ties[0] is first.ties[0]  # built once: the second run copied it
    assert not np.shares_memory(first.firms.depth, copied.firms.depth)
    assert not np.shares_memory(first.firms.adopted["ai"], copied.firms.adopted["ai"])
    economy._LAST_FIRMS.clear()
    fresh = SMEEconomy(1_000, seed=4, policy=EDIH_DOUBLED, end_year=2024)
    pd.testing.assert_frame_equal(copied.run().indicator_frame(),
                                  fresh.run().indicator_frame())
    # the run that went first changed its own firms, not the ones the next run copies
    again = SMEEconomy(1_000, seed=4, end_year=2024)
    assert (again.firms.depth <= first.firms.depth).all()
    assert (again.firms.depth < first.firms.depth).any()
    # another parameter value or seed is another population
    other = SMEEconomy(1_000, seed=4, end_year=2024,
                       parameters={"trait_digital_correlation": 0.05})
    assert not np.array_equal(other.firms.innovativeness, again.firms.innovativeness)
    with pytest.raises(ValueError, match="read-only"):
        again.ties[0][0] = 1  # shared between runs, so nobody may write them


def test_a_big_run_keeps_no_copy_of_its_firms(monkeypatch):
    from model import economy

    SMEEconomy(1_000, seed=4, end_year=2021)
    assert economy._LAST_FIRMS
    monkeypatch.setattr(economy, "SHARED_FIRMS_MAX", 999)
    big = SMEEconomy(1_000, seed=4, end_year=2021)
    assert not economy._LAST_FIRMS and big.ties[0].flags.writeable


# ----------------------------------------------------------------- time axis and output
def test_time_axis_and_stepping(baseline_model):
    m = baseline_model
    assert (m.year, m.quarter) == (2028, 4)
    assert m.time == pytest.approx(2028.75)
    assert not m.running
    assert m.steps == m.quarter_index == (2028 - START_YEAR) * 4 + 3
    with pytest.raises(RuntimeError, match="2028"):
        m.step()


def test_fresh_model_starts_in_2021_q1():
    m = SMEEconomy(500, seed=1, end_year=2021)
    assert (m.year, m.quarter, m.quarter_index) == (2021, 1, 0)
    assert m.running
    assert m.final_quarter_index == 3
    m.run()
    assert (m.year, m.quarter) == (2021, 4)


def test_tidy_frame_layout(baseline_frame, baseline_model):
    f = baseline_frame
    assert list(f.columns) == ["year", "quarter", "indicator", "segment", "value"]
    steps = baseline_model.quarter_index + 1
    assert len(f) == steps * len(INDICATOR_NAMES) * len(baseline_model.segments)
    assert not f.duplicated(["year", "quarter", "indicator", "segment"]).any()
    assert set(f["indicator"].astype(str)) == set(INDICATOR_NAMES)
    assert set(f["segment"].astype(str)) == set(baseline_model.segments)
    years = f.groupby("year")["quarter"].unique()
    assert list(years.index) == list(range(2021, 2029))
    assert all(sorted(q) == [1, 2, 3, 4] for q in years)


def test_datacollector_has_one_row_per_observation(baseline_model, baseline_frame):
    df = baseline_model.datacollector.get_model_vars_dataframe()
    assert len(df) == baseline_model.quarter_index + 1
    assert list(df.columns) == list(HEADLINE)
    for name in ("dii_at_least_basic", "cloud", "subsidy_spend_eur"):
        np.testing.assert_allclose(df[name].to_numpy(), pick(baseline_frame, name).to_numpy())


def test_agents_are_the_firms(baseline_model):
    agents = baseline_model.agents
    assert len(agents) == baseline_model.n_firms
    assert all(isinstance(a, Firm) for a in agents)
    assert sorted(a.index for a in agents) == list(range(baseline_model.n_firms))


def test_firm_agents_are_made_when_first_asked_for_and_change_nothing():
    """A batch run that reads only indicators never makes the Firm agents (thousands of
    Python objects per simulation); asked for mid-run, by any of Mesa's ways in, they
    are the firms with the ids they would have had from the start, and the run is the
    same whether they were made or not."""
    never = SMEEconomy(600, seed=3, end_year=2022, record="survey_quarters")
    early = SMEEconomy(600, seed=3, end_year=2022, record="survey_quarters")
    assert len(early.agents) == 600
    late = SMEEconomy(600, seed=3, end_year=2022, record="survey_quarters")
    for m in (never, early, late):
        m.run_until(2022, 2)
    assert not never._agents  # Mesa's registry: nothing made
    assert late.agent_types == [Firm] and len(late.agents_by_type[Firm]) == 600
    assert sorted(a.unique_id for a in late.agents) == list(range(1, 601))
    firm = next(a for a in late.agents if a.index == 17)
    assert firm.cloud == late.firms.adopted["cloud"][17]
    for m in (never, early, late):
        m.run()
    pd.testing.assert_frame_equal(never.indicator_frame(), early.indicator_frame())
    pd.testing.assert_frame_equal(never.indicator_frame(), late.indicator_frame())
    with pytest.raises(AttributeError, match=r"model\.agents"):
        never.agents = []


def test_population_size_is_respected():
    for n in (500, 777, 2_345):
        assert SMEEconomy(n, seed=0, end_year=2021).n_firms == n


def test_real_firm_total_is_the_population_and_constant(baseline_frame):
    firms = pick(baseline_frame, "firms")
    total = stratum_counts("10-249")["firms"].sum()
    np.testing.assert_allclose(firms, total, rtol=1e-9)


def test_all_segment_is_weighted_mix_of_its_parts(baseline_frame):
    """'all' = firm-weighted average of the size classes, of the sectors, of the regions."""
    f = baseline_frame[(baseline_frame["year"] == 2026) & (baseline_frame["quarter"] == 1)]
    wide = f.pivot_table(index="segment", columns="indicator", values="value",
                         observed=True)
    for prefix in ("sector:", "region:", None):
        parts = ([s for s in wide.index if s.startswith(prefix)] if prefix
                 else ["10-49", "50-249"])
        w = wide.loc[parts, "firms"]
        assert w.sum() == pytest.approx(wide.loc["all", "firms"], rel=1e-9)
        for name in ("dii_at_least_basic", "cloud", "ai", "security_5plus", "dii_items_mean"):
            mix = float((wide.loc[parts, name] * w).sum() / w.sum())
            assert mix == pytest.approx(wide.loc["all", name], rel=1e-6), (prefix, name)


def test_gigabit_availability_follows_coverage_trend(baseline_frame):
    for year in (2021, 2025, 2028):
        sim = one(baseline_frame, "gigabit_available", "all", year, 1)
        assert sim == pytest.approx(env.gigabit_coverage(float(year)), abs=0.03)
    series = pick(baseline_frame, "gigabit_available")
    assert (np.diff(series) >= 0).all()


def test_adoption_moves_forward_under_current_policy(baseline_frame):
    """Sanity of direction: digital intensity and AI use grow from 2021 to 2028."""
    for name in ("dii_at_least_basic", "dii_items_mean", "ai", "security_5plus"):
        s = pick(baseline_frame, name, "10-249")
        assert s.iloc[-1] > s.iloc[0], name


# ----------------------------------------------------------------- calibration
EUROSTAT_2021 = dii().query("year == 2021")
BANDS = ("very_low", "low", "high", "very_high", "at_least_basic")


@pytest.mark.parametrize("n_firms", [500, 1_200, 3_000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2021_dii_bands_match_eurostat(n_firms, seed):
    model = SMEEconomy(n_firms, seed=seed, end_year=2021)
    for size in ("10-49", "50-249"):
        for level in BANDS:
            obs = EUROSTAT_2021.query("size_class == @size and level == @level")["value"].item()
            sim = model.latest(f"dii_{level}", size)
            assert abs(sim - obs) <= 0.01, (size, level, sim, obs)


def test_2021_dii_bands_match_eurostat_in_the_wide_population():
    model = SMEEconomy(3_000, seed=4, population="2-249", end_year=2021)
    for size in ("10-49", "50-249"):
        for level in BANDS:
            obs = EUROSTAT_2021.query("size_class == @size and level == @level")["value"].item()
            assert abs(model.latest(f"dii_{level}", size) - obs) <= 0.01, (size, level)


def test_2025_at_least_basic_near_observed():
    """Calibration target: 88.76% of 10-249 firms at least basic in 2025 (Eurostat)."""
    observed = dii().query("year == 2025 and size_class == '10-249' "
                           "and level == 'at_least_basic'")["value"].item()
    assert observed == pytest.approx(0.8876)
    sims = [one(simulate(5_000, seed, end_year=2025), "dii_at_least_basic", "10-249", 2025, 1)
            for seed in (1, 2, 3)]
    assert abs(np.mean(sims) - observed) <= 0.04, sims


# ----------------------------------------------------------------- run settings
@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"n_firms": 100}, "n_firms", "500 to"),
        ({"n_firms": 1_000.5}, "n_firms", None),
        ({"n_firms": "1000"}, "n_firms", "500 to"),
        ({"end_year": 2020}, "end_year", "2021 to 2050"),
        ({"end_year": 2051}, "end_year", "2021 to 2050"),
        ({"population": "1-249"}, "population", "10-249, 2-249"),
        ({"rule": "tpb"}, "rule", "toe_logit"),
        ({"record": "yearly"}, "record", "every_quarter, survey_quarters"),
        ({"seed": -1}, "seed", "0 to 9.22337e+18"),
        ({"seed": 1.5}, "seed", None),
        ({"parameters": {"peer_wieght": 1.0}}, "parameters.peer_wieght", "peer_weight"),
        ({"policy": {"subsidy": {"rate": 2}}}, "policy.subsidy.rate", "0 to 1"),
    ],
)
def test_bad_run_settings_raise_model_input_error(kwargs, field, allowed):
    args = {"n_firms": 500, "seed": 1, "end_year": 2021, **kwargs}
    with pytest.raises(ModelInputError) as info:
        SMEEconomy(**args)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{field}:")
    assert info.value.field == field
    if allowed:
        assert allowed in str(info.value)


def test_simulate_validates_like_the_model():
    with pytest.raises(ModelInputError, match="n_firms"):
        simulate(10, 1)
    with pytest.raises(ModelInputError, match="end_year"):
        simulate(500, 1, end_year=2019)


def test_unhashable_population_raises_model_input_error():
    with pytest.raises(ModelInputError, match="population"):
        SMEEconomy(500, seed=1, population=["2-249"], end_year=2021)

