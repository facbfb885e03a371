"""Policy levers: parsing and validation, budget and capacity limits, first come
first served, and what subsidies and EDIHs do to firms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import ADVANCED, firm_state_dominates, lockstep, one, pick, run_model
from hypothesis import given
from hypothesis import strategies as st

from model import ModelInputError, Policy, SMEEconomy, parse_policy
from model.datasets import SIZE_CLASSES
from model.policy import (
    CURRENT_EDIH_CAPACITY,
    EDIH_SERVICES,
    active,
    first_come_first_served,
    hub_capacities,
)
from model.population import REGION_NAMES, SECTOR_NAMES
from model.technologies import DECISIONS

# ----------------------------------------------------------------- parsing


def test_no_policy_is_current_policy():
    p = parse_policy(None)
    assert p == parse_policy({})
    assert p.subsidies == ()
    assert p.cyber_campaign is None and p.security_obligation is None
    assert p.edih.capacity_per_year == CURRENT_EDIH_CAPACITY == 1200
    assert p.edih.from_year == 2026  # scenarios leave the observed past (to 2025) alone
    assert set(p.edih.services) == set(EDIH_SERVICES)
    assert active(p.edih, 2023) and active(p.edih, 2030) and not active(p.edih, 2022)


def test_mapping_overlays_current_policy():
    p = parse_policy({
        "subsidy": {"rate": 0.5, "cap_eur": 10_000, "yearly_budget_eur": 5e7,
                    "technologies": ["cloud", "ai", "data_analytics"]},
        "edih": {"capacity_per_year": 2400},
    })
    (s,) = p.subsidies
    assert (s.rate, s.cap_eur, s.yearly_budget_eur) == (0.5, 10_000.0, 5e7)
    assert s.technologies == ("cloud", "ai", "data_analytics")
    assert p.edih.capacity_per_year == 2400
    assert p.edih.start_year == 2023  # not named, so kept from current policy
    assert parse_policy(p) is p


def test_several_subsidy_schemes_keep_their_order():
    p = parse_policy({"subsidy": [{"rate": 0.2, "name": "a"}, {"rate": 0.7, "name": "b"}]})
    assert [s.name for s in p.subsidies] == ["a", "b"]
    assert [s.rate for s in p.subsidies] == [0.2, 0.7]


def test_edih_capacity_zero_switches_hubs_off():
    assert parse_policy({"edih": {"capacity_per_year": 0}}).edih.capacity_per_year == 0


def test_active_is_inclusive_and_none_is_inactive():
    s = parse_policy({"subsidy": {"start_year": 2024, "end_year": 2026}}).subsidies[0]
    assert [active(s, y) for y in (2023, 2024, 2026, 2027)] == [False, True, True, False]
    assert not active(None, 2025)


@pytest.mark.parametrize(
    ("policy", "field", "allowed"),
    [
        ({"subsidy": {"yearly_budget_eur": -1}}, "policy.subsidy.yearly_budget_eur", ">= 0"),
        ({"subsidy": {"rate": 1.01}}, "policy.subsidy.rate", "0 to 1"),
        ({"subsidy": {"rate": -0.1}}, "policy.subsidy.rate", "0 to 1"),
        ({"subsidy": {"cap_eur": float("nan")}}, "policy.subsidy.cap_eur", ">= 0"),
        ({"subsidy": {"technologies": ["cloud", "blockchain"]}}, "policy.subsidy.technologies",
         "basic, cloud, data_analytics, ai, security"),
        ({"subsidy": {"technologies": "cloud"}}, "policy.subsidy.technologies", "cloud"),
        ({"subsidy": {"technologies": ["ai", "ai"]}}, "policy.subsidy.technologies", None),
        ({"subsidy": {"size_classes": ["10-250"]}}, "policy.subsidy.size_classes",
         "2-9, 10-49, 50-249"),
        ({"subsidy": [{"rate": 0.5}, {"rate": 2}]}, "policy.subsidy[1].rate", "0 to 1"),
        ({"subsidy": {"rate": True}}, "policy.subsidy.rate", "0 to 1"),
        ({"subsidy": {"name": ""}}, "policy.subsidy.name", None),
        ({"subsidy": {"start_year": 2027, "end_year": 2026}}, "policy.subsidy.end_year",
         ">= 2027"),
        ({"edih": {"end_year": 2022}}, "policy.edih.end_year", ">= 2023"),
        ({"edih": {"start_year": 2020}}, "policy.edih.start_year", "2021 to 2050"),
        ({"edih": {"capacity_per_year": -5}}, "policy.edih.capacity_per_year", ">= 0"),
        ({"edih": {"from_year": 2051}}, "policy.edih.from_year", "2021 to 2050"),
        ({"edih": {"services": ["coaching"]}}, "policy.edih.services", "scan"),
        ({"edih": {"sectors": ["mining"]}}, "policy.edih.sectors", "manufacturing"),
        ({"cyber_campaign": {"reach_per_year": 1.5}}, "policy.cyber_campaign.reach_per_year",
         "0 to 1"),
        ({"security_obligation": {"min_measures": 12}},
         "policy.security_obligation.min_measures", "0 to 11"),
        ({"security_obligation": {"min_measures": 4.5}},
         "policy.security_obligation.min_measures", None),
        ({"subsidie": {}}, "policy.subsidie", "cyber_campaign, edih, security_obligation, subsidy"),
        ({"edih": {"capacity": 2400}}, "policy.edih.capacity", "capacity_per_year"),
        ({"edih": None}, "policy.edih", None),
        ({"subsidy": [5]}, "policy.subsidy", None),
    ],
)
def test_bad_policy_values_name_the_field_and_allowed_values(policy, field, allowed):
    with pytest.raises(ModelInputError) as info:
        parse_policy(policy)
    assert str(info.value).startswith(f"{field}:"), str(info.value)
    assert info.value.field == field
    if allowed:
        assert allowed in str(info.value)


def test_unknown_lever_suggests_the_closest_key():
    with pytest.raises(ModelInputError, match="did you mean 'subsidy'"):
        parse_policy({"subsidie": {}})


def test_policy_must_be_a_mapping():
    with pytest.raises(ModelInputError, match="policy: expected a mapping"):
        parse_policy(["subsidy"])


_scalars = (
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["cloud", "ai", "basic", "10-49", "scan", "north", "manufacturing"])
)
_names = st.sampled_from(
    ["subsidy", "edih", "cyber_campaign", "security_obligation", "rate", "cap_eur",
     "yearly_budget_eur", "technologies", "size_classes", "start_year", "end_year",
     "application_friction", "name", "capacity_per_year", "services", "sectors",
     "cost_per_firm_eur", "reach_per_year", "cost_per_year_eur", "min_measures", "x"]
) | st.text(max_size=8)
_junk = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(_names, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_names, _junk, max_size=4) | _junk)
def test_junk_policies_parse_or_raise_model_input_error(junk):
    """Whatever a user writes, the only error is a ModelInputError naming a field."""
    try:
        policy = parse_policy(junk)
    except ModelInputError as err:
        assert str(err).startswith("policy")
        assert err.field.startswith("policy")
    else:
        assert isinstance(policy, Policy)


def test_huge_integer_raises_model_input_error():
    with pytest.raises(ModelInputError, match=r"policy\.subsidy\.rate"):
        parse_policy({"subsidy": {"rate": 10**400}})


# ----------------------------------------------------------------- first come, first served


@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 100)), min_size=1, max_size=40),
    st.floats(0, 2_000),
    st.floats(0, 2_000),
    st.randoms(use_true_random=False),
)
def test_first_come_first_served(rows, avail_a, avail_b, rnd):
    candidates = np.array([c for c, _ in rows])
    amount = np.array([a for _, a in rows])
    order = np.array(rnd.sample(range(len(rows)), len(rows)))
    small, large = sorted((avail_a, avail_b))
    got_small = first_come_first_served(candidates, order, amount, small)
    got_large = first_come_first_served(candidates, order, amount, large)
    for got, avail in ((got_small, small), (got_large, large)):
        assert not (got & ~candidates).any()  # only candidates are served
        assert amount[got].sum() <= avail * (1 + 1e-12) + 1e-9  # never over budget
        # served firms are a prefix of the candidates' queue
        queue = [k for k in order if candidates[k]]
        flags = [bool(got[k]) for k in queue]
        assert flags == sorted(flags, reverse=True)
        # the queue closes only at a firm that no longer fits
        n_served = sum(flags)
        if avail <= 0:
            assert n_served == 0  # an empty budget pays nobody, not even zero grants
        elif n_served < len(queue):
            assert amount[got].sum() + amount[queue[n_served]] > avail
    assert not (got_small & ~got_large).any()  # more money serves a superset


def test_hubs_share_capacity_equally():
    caps = hub_capacities(parse_policy({"edih": {"capacity_per_year": 2400}}).edih)
    assert len(caps) == len(REGION_NAMES) == 5
    np.testing.assert_allclose(caps, 480.0)


# ----------------------------------------------------------------- limits in running models

_years = st.integers(2021, 2026)


@st.composite
def _scheme(draw):
    start = draw(_years)
    return {
        "rate": draw(st.sampled_from([0.0, 1.0]) | st.floats(0.05, 1)),
        "cap_eur": draw(st.sampled_from([0.0, 1.0, 500.0, 5_000.0, 1e6])),
        # mostly budgets that bind for 600 firms (each stands for about 90 real firms)
        "yearly_budget_eur": draw(st.sampled_from([0.0, 1e-3, 1.0, 3e3, 1e9])
                                  | st.floats(1e4, 2e7) | st.floats(1e4, 2e7)),
        "technologies": draw(st.lists(st.sampled_from(DECISIONS), unique=True, min_size=1,
                                      max_size=5)),
        "size_classes": draw(st.lists(st.sampled_from(SIZE_CLASSES), unique=True,
                                      min_size=1, max_size=3)),
        "start_year": start,
        "end_year": draw(st.integers(start, 2027)),
        "application_friction": draw(st.sampled_from([0.0, 0.3, 0.9])),
    }


@st.composite
def _policies(draw):
    start = draw(_years)
    return {
        "subsidy": draw(st.lists(_scheme(), min_size=1, max_size=3)),
        "edih": {
            "capacity_per_year": draw(st.sampled_from([0.0, 1e-3, 3.0, 100.0, 1200.0, 5e4])
                                      | st.floats(0, 1e4)),
            "start_year": start,
            "end_year": draw(st.integers(start, 2027)),
            "services": draw(st.lists(st.sampled_from(EDIH_SERVICES), unique=True)),
            "size_classes": draw(st.lists(st.sampled_from(SIZE_CLASSES), unique=True,
                                          min_size=1, max_size=3)),
            "sectors": draw(st.lists(st.sampled_from(SECTOR_NAMES), unique=True, min_size=1,
                                     max_size=8)),
            "from_year": draw(st.integers(2021, 2027)),
        },
    }


@given(_policies(), st.integers(0, 3), st.sampled_from(["10-249", "2-249"]))
def test_budgets_and_capacities_are_never_exceeded(policy, seed, population):
    model = SMEEconomy(600, seed=seed, policy=policy, end_year=2027, population=population)
    model.run()
    budgets = [s["yearly_budget_eur"] for s in policy["subsidy"]]
    for (scheme, year), paid in model.levers.subsidy_paid_by_year.items():
        s = policy["subsidy"][scheme]
        assert s["start_year"] <= year <= s["end_year"]
        assert 0 <= paid <= budgets[scheme] * (1 + 1e-9), (scheme, year, paid)
    e = policy["edih"]
    current = parse_policy(None).edih
    for (year, hub), served in model.levers.edih_served_by_year.items():
        # the scenario's hubs from its from_year, today's hubs before
        in_force = e if year >= e["from_year"] else {
            "start_year": current.start_year, "end_year": current.end_year,
            "capacity_per_year": current.capacity_per_year}
        assert in_force["start_year"] <= year <= in_force["end_year"]
        assert 0 <= hub < len(REGION_NAMES)
        cap = in_force["capacity_per_year"] / len(REGION_NAMES)
        assert served <= cap * (1 + 1e-9), (year, hub, served, cap)

    frame = model.indicator_frame()
    spend = pick(frame, "subsidy_spend_eur").iloc[-1]
    paid = sum(model.levers.subsidy_paid_by_year.values())
    assert spend == pytest.approx(paid, rel=1e-9, abs=1e-6)
    served = pick(frame, "edih_firms_served").iloc[-1]
    hubs = sum(model.levers.edih_served_by_year.values())
    assert served == pytest.approx(hubs, rel=1e-9, abs=1e-9)
    # every grant went to a firm of an eligible size class, within the cap
    f = model.firms
    granted = f.subsidy_eur > 0
    allowed_sizes = {c for s in policy["subsidy"] for c in s["size_classes"]}
    assert {SIZE_CLASSES[k] for k in np.unique(f.size_class[granted])} <= allowed_sizes
    max_grants = sum(len(s["technologies"]) for s in policy["subsidy"])
    max_cap = max(s["cap_eur"] for s in policy["subsidy"])
    assert (f.subsidy_eur <= max_grants * max_cap * (1 + 1e-9)).all()
    # a scenario's hubs serve only their target firms
    if e["from_year"] <= 2021:
        target = (np.isin(f.size_class, [SIZE_CLASSES.index(s) for s in e["size_classes"]])
                  & np.isin(f.sector, [SECTOR_NAMES.index(s) for s in e["sectors"]]))
        assert not (f.edih_served & ~target).any()


# ----------------------------------------------------------------- subsidies


@pytest.fixture(scope="module")
def subsidy_frame():
    policy = {"subsidy": {"rate": 0.5, "cap_eur": 10_000, "yearly_budget_eur": 3e7,
                          "technologies": ["cloud", "data_analytics", "ai"],
                          "start_year": 2024, "end_year": 2027}}
    return run_model(policy=policy, end_year=2028).indicator_frame()


def test_subsidies_pay_and_count_deadweight(subsidy_frame, baseline_frame):
    sub = pick(subsidy_frame, "subsidised_adoptions")
    dead = pick(subsidy_frame, "deadweight_adoptions")
    assert (sub >= dead - 1e-9).all()
    assert (dead >= 0).all()
    assert sub.iloc[-1] > 0
    assert dead.iloc[-1] < sub.iloc[-1]  # some adoptions are additional
    # cumulative totals never fall
    for name in ("subsidised_adoptions", "deadweight_adoptions", "subsidy_spend_eur"):
        assert (np.diff(pick(subsidy_frame, name)) >= -1e-9).all(), name
    # nothing is paid before the start year or after the end year
    spend = subsidy_frame.query("indicator == 'subsidy_spend_eur' and segment == 'all'")
    assert (spend.loc[spend["year"] < 2024, "value"] == 0).all()
    last_2027 = one(subsidy_frame, "subsidy_spend_eur", "all", 2027, 4)
    assert (spend.loc[spend["year"] == 2028, "value"] == last_2027).all()
    # the baseline pays nothing
    assert (pick(baseline_frame, "subsidy_spend_eur") == 0).all()
    assert (pick(baseline_frame, "subsidised_adoptions") == 0).all()


@pytest.mark.parametrize("budget", [2e5, 2e6, 1e7])
def test_a_binding_budget_is_used_up_to_one_grant(budget):
    """The scheme closes when the next grant no longer fits: spend is within one grant
    (times the firm's weight) of the budget, and never above it."""
    policy = {"subsidy": {"rate": 0.5, "cap_eur": 10_000, "yearly_budget_eur": budget,
                          "technologies": list(DECISIONS), "start_year": 2022,
                          "end_year": 2025, "application_friction": 0.3}}
    model = run_model(n_firms=1_000, policy=policy, end_year=2025)
    largest_grant = 10_000 * model.firms.weight.max()
    assert sorted(y for _, y in model.levers.subsidy_paid_by_year) == [2022, 2023, 2024, 2025]
    for (_, year), paid in model.levers.subsidy_paid_by_year.items():
        assert budget - largest_grant < paid <= budget * (1 + 1e-9), (year, paid)


def test_subsidy_raises_advanced_adoption(subsidy_frame, baseline_frame):
    for name in ("advanced_any", "cloud", "data_analytics", "ai"):
        assert (one(subsidy_frame, name, "10-249", 2027, 4)
                >= one(baseline_frame, name, "10-249", 2027, 4)), name
    assert (one(subsidy_frame, "advanced_all", "10-249", 2027, 4)
            > one(baseline_frame, "advanced_all", "10-249", 2027, 4))


def test_zero_budget_changes_nothing(baseline_frame):
    frame = run_model(policy={"subsidy": {"yearly_budget_eur": 0}}, end_year=2028)
    np.testing.assert_array_equal(frame.indicator_frame()["value"].to_numpy(),
                                  baseline_frame["value"].to_numpy())


@given(st.lists(_scheme(), min_size=1, max_size=2), st.integers(0, 5),
       st.sampled_from(["10-249", "2-249"]))
def test_any_subsidy_never_sets_a_firm_back(schemes, seed, population):
    """Common random numbers: subsidies, whatever their terms, move firms only forward."""
    base = SMEEconomy(500, seed=seed, end_year=2027, population=population)
    other = SMEEconomy(500, seed=seed, policy={"subsidy": schemes}, end_year=2027,
                       population=population)
    lockstep(base, other, firm_state_dominates)


# ----------------------------------------------------------------- EDIHs


@pytest.fixture(scope="module")
def edih_runs():
    """Hub capacities in force from 2021 (from_year), so that 0 means no hubs at all."""
    caps = (0, 1200, 2400, 6000)
    return {c: run_model(policy={"edih": {"capacity_per_year": c, "from_year": 2021}},
                         end_year=2027) for c in caps}


def test_edih_off_serves_nobody(edih_runs):
    off = edih_runs[0]
    assert not off.firms.edih_served.any()
    assert off.levers.edih_served_by_year == {}
    frame = off.indicator_frame()
    assert (pick(frame, "edih_firms_served") == 0).all()
    assert (pick(frame, "edih_spend_eur") == 0).all()


def test_edih_scenario_leaves_the_past_alone():
    """By default an EDIH scenario applies from 2026: switching the hubs off then keeps
    everything up to 2025 as under current policy and serves nobody new afterwards."""
    base = SMEEconomy(1_000, seed=4, end_year=2027)
    off = SMEEconomy(1_000, seed=4, end_year=2027, policy={"edih": {"capacity_per_year": 0}})
    served_2025 = []

    def check(b, o):
        if b.year < 2026:
            np.testing.assert_array_equal(b.firms.edih_served, o.firms.edih_served)
            np.testing.assert_array_equal(b.firms.depth, o.firms.depth)
            served_2025[:] = [o.firms.edih_served.copy()]
        else:
            np.testing.assert_array_equal(o.firms.edih_served, served_2025[0])

    lockstep(base, off, check)
    assert served_2025[0].any()  # the hubs did serve firms up to 2025
    assert base.firms.edih_served.sum() > off.firms.edih_served.sum()
    assert not any(y >= 2026 for y, _ in off.levers.edih_served_by_year)


def test_edih_serves_from_2023_and_spends_per_firm(edih_runs):
    frame = edih_runs[1200].indicator_frame()
    served = frame.query("indicator == 'edih_firms_served' and segment == 'all'")
    assert (served.loc[served["year"] < 2023, "value"] == 0).all()
    assert served["value"].iloc[-1] > 0
    cost = parse_policy(None).edih.cost_per_firm_eur
    np.testing.assert_allclose(pick(frame, "edih_spend_eur"),
                               pick(frame, "edih_firms_served") * cost, rtol=1e-9)
    # the hubs fill their places (5 years x 1,200 real firms) up to less than one
    # simulated firm per hub and year
    total = pick(frame, "edih_firms_served").iloc[-1]
    slack = 5 * len(REGION_NAMES) * edih_runs[1200].firms.weight.max()
    assert 5 * 1200 - slack <= total <= 5 * 1200 * (1 + 1e-9)


def test_more_edih_capacity_never_lowers_adoption(edih_runs):
    caps = sorted(edih_runs)
    frames = {c: edih_runs[c].indicator_frame() for c in caps}
    for name in ("dii_at_least_basic", "advanced_any", "cloud", "ai", "edih_firms_served"):
        for seg in ("all", "10-49", "50-249"):
            for lo, hi in itertools.pairwise(caps):
                a, b = pick(frames[lo], name, seg), pick(frames[hi], name, seg)
                assert (b >= a - 1e-12).all(), (name, seg, lo, hi)
    assert (one(frames[6000], "advanced_any", "all", 2027, 4)
            > one(frames[0], "advanced_any", "all", 2027, 4))


@given(st.floats(0, 5e3), st.floats(0, 5e3),
       st.lists(st.sampled_from(EDIH_SERVICES), unique=True, min_size=1),
       st.integers(2021, 2025), st.integers(2021, 2027), st.integers(0, 3))
def test_edih_capacity_crn_firm_by_firm(cap_a, cap_b, services, start, from_year, seed):
    """More hub capacity never sets a firm back and serves a superset of firms."""
    lo, hi = sorted((cap_a, cap_b))
    common = {"services": services, "start_year": start, "from_year": from_year}
    small = SMEEconomy(500, seed=seed, end_year=2027,
                       policy={"edih": {"capacity_per_year": lo, **common}})
    large = SMEEconomy(500, seed=seed, end_year=2027,
                       policy={"edih": {"capacity_per_year": hi, **common}})

    def check(a, b):
        firm_state_dominates(a, b)
        assert not (a.firms.edih_served & ~b.firms.edih_served).any()

    lockstep(small, large, check)


def test_edih_scan_makes_served_firms_aware(edih_runs):
    f = edih_runs[2400].firms
    assert f.edih_served.any()
    for tech in ADVANCED:
        assert f.aware[tech][f.edih_served].all(), tech
    # (cyber awareness from a scan fades unless security becomes routine: test_cyber.py)
    assert f.test_before_invest[f.edih_served].all()
    assert not f.test_before_invest[~f.edih_served].any()


def test_take_up_of_an_open_voucher_is_that_of_the_evaluated_scheme():
    """Italy's 2018 voucher for SME digitalisation, as it was: 50% of the cost up to EUR
    10,000, every SME eligible, the budget raised until every application was funded.
    It reached 91,488 firms, about 2% of Italian SMEs, with EUR 3,743 on average
    (docs/EVIDENCE.md, section 3). The model's default application friction reproduces
    that take-up for a scheme open for one year; a friction-free scheme would pay a
    third of all firms."""
    voucher = {"rate": 0.5, "cap_eur": 10_000, "yearly_budget_eur": 1e10,
               "technologies": ["basic", "cloud", "data_analytics", "ai", "security"],
               "start_year": 2026, "end_year": 2026}
    shares, grants = [], []
    for seed in (1, 2):
        m = SMEEconomy(3_000, seed=seed, policy={"subsidy": voucher}, end_year=2027,
                       population="2-249").run()
        f = m.firms
        paid = f.subsidy_eur > 0
        shares.append(f.weight[paid].sum() / f.weight.sum())
        grants.append((f.subsidy_eur * f.weight).sum() / f.weight[paid].sum())
    assert 0.01 < np.mean(shares) < 0.04
    assert 2_000 < np.mean(grants) < 5_000


def _in_quarter_additionality(scheme: dict, population: str, seeds=(1, 2, 3)
                              ) -> tuple[float, float]:
    """Take-up (share of firms paid) and the share of paid adoptions that would not have
    happened in the same quarter without the grant, over ``seeds``."""
    take_up, additional = [], []
    for seed in seeds:
        f = SMEEconomy(3_000, seed=seed, policy={"subsidy": scheme}, end_year=2027,
                       population=population).run().firms
        take_up.append(f.weight[f.subsidy_eur > 0].sum() / f.weight.sum())
        additional.append(1 - (f.deadweight * f.weight).sum() / (f.subsidised * f.weight).sum())
    return float(np.mean(take_up)), float(np.mean(additional))


def test_additionality_of_an_allowance_for_advanced_technologies_is_that_self_reported():
    """Italy's 2017 hyper-depreciation of Industry 4.0 goods: 150% extra depreciation at
    the 24% corporate tax rate, worth 36% of the cost, uncapped, open to every firm.
    47.6% of manufacturers called it very or fairly relevant to their investment (ISTAT
    2018; docs/EVIDENCE.md): at most that share of the supported investments was
    additional, and the EU auditors found most supported SMEs would have invested anyway.
    The model's in-quarter additionality for such a scheme lies below that bound and well
    above none (the evidence gives no lower bound; docs/EVIDENCE.md: 34% at the
    central draw of the reweighted six-chain calibration, 35% at the one before it, 17%
    at the three-chain one, 19-32% at earlier ones)."""
    scheme = {"rate": 0.36, "cap_eur": 10_000_000, "yearly_budget_eur": 1e12,
              "technologies": list(ADVANCED), "start_year": 2026, "end_year": 2026}
    take_up, additional = _in_quarter_additionality(scheme, "10-249")
    assert take_up > 0.005
    assert 0.1 < additional < 0.476


def test_a_grant_buys_more_where_it_is_large_against_the_decision():
    """The same voucher (50% up to EUR 10,000) is mostly deadweight for a cheap basic
    item (grant EUR 1,500 on a likely decision) and far more often additional for AI
    (grant EUR 10,000 on an unlikely one): 8% (5-12% over the two seeds) against 34%
    (23-45%) at the central draw of the reweighted six-chain calibration; 16% against
    67% at the one before it, 11% against 46% at the three-chain one. The levels move
    with the central draw; the mechanism is the ratio, so the floor for AI is loose."""
    def voucher(tech: str) -> dict:
        return {"rate": 0.5, "cap_eur": 10_000, "yearly_budget_eur": 1e10,
                "technologies": [tech], "start_year": 2026, "end_year": 2026}

    _, basic = _in_quarter_additionality(voucher("basic"), "2-249", seeds=(1, 2))
    _, ai = _in_quarter_additionality(voucher("ai"), "2-249", seeds=(1, 2))
    assert basic < 0.2 and ai > 0.25 and ai > 3 * basic


def test_current_edih_figures_follow_the_programme_data():
    """CURRENT_EDIH_CAPACITY and the cost per firm come from policy_programmes.csv: five
    hubs, EUR 30 m for 2022-2025 and 3,500 firms over three years."""
    from model.datasets import policy_programmes
    from model.policy import CURRENT_EDIH_CAPACITY, CURRENT_EDIH_COST_PER_FIRM

    df = policy_programmes().set_index("indicator")["value"]
    firms = float(df["EDIH target: companies supported over 3 years"])
    budget = float(df["investment in 5 Dutch EDIHs (EC + EZK + provinces)"]) * 1e6
    assert CURRENT_EDIH_CAPACITY == pytest.approx(firms / 3, rel=0.05)
    assert CURRENT_EDIH_COST_PER_FIRM == pytest.approx(budget / firms)
    assert float(df["number of Dutch EDIHs"]) == len(REGION_NAMES)
