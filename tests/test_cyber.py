"""Cyber incidents, reporting and the cyber levers (awareness campaign, obligation)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import N_SMALL, SEED, lockstep, one, pick, run_model
from hypothesis import given
from hypothesis import strategies as st

from model import PARAMETERS, SMEEconomy, resolve_parameters
from model.cyber import (
    EXPOSURE_REF,
    PROTECTION_REF,
    incident_probability,
    memory_decay,
    reporting_probability,
)
from model.technologies import N_SECURITY_MEASURES

REPO = Path(__file__).resolve().parents[1]

DEFAULTS = resolve_parameters()


def _params(draw):
    names = ("incident_rate", "exposure_effect", "protection_effect", "reporting_intercept",
             "reporting_protection_effect", "campaign_reporting_effect")
    return resolve_parameters({
        n: draw(st.floats(PARAMETERS[n].low, PARAMETERS[n].high)) for n in names})


@given(st.data())
def test_incident_probability_rises_with_items_and_falls_with_measures(data):
    p = _params(data.draw)
    items = np.arange(13)
    measures = data.draw(st.integers(0, N_SECURITY_MEASURES))
    threat = data.draw(st.floats(0.5, 3))
    by_items = incident_probability(items, np.full(13, measures), threat, p)
    assert ((by_items >= 0) & (by_items <= 1)).all()
    assert (np.diff(by_items) >= 0).all()
    if p["exposure_effect"] > 1e-3:
        assert (np.diff(by_items) > 0).all()
    m = np.arange(N_SECURITY_MEASURES + 1)
    dii = data.draw(st.integers(0, 12))
    by_measures = incident_probability(np.full(len(m), dii), m, threat, p)
    assert (np.diff(by_measures) <= 0).all()
    if p["protection_effect"] > 1e-3:
        assert (np.diff(by_measures) < 0).all()
    # more threat, more incidents
    assert (incident_probability(items, np.full(13, measures), threat * 1.5, p)
            > by_items).all()


@given(st.floats(PARAMETERS["incident_rate"].low, PARAMETERS["incident_rate"].high))
def test_incident_rate_is_the_yearly_probability_at_reference(rate):
    p = resolve_parameters({"incident_rate": rate})
    items = np.array([EXPOSURE_REF * 12])
    measures = np.array([PROTECTION_REF * N_SECURITY_MEASURES])
    quarterly = incident_probability(items, measures, 1.0, p)[0]
    assert 1 - (1 - quarterly) ** 4 == pytest.approx(rate, rel=1e-9)


@given(st.data())
def test_reporting_rises_with_protection_and_campaigns(data):
    p = _params(data.draw)
    m = np.arange(N_SECURITY_MEASURES + 1)
    plain = reporting_probability(m, np.zeros(len(m), bool), p)
    reached = reporting_probability(m, np.ones(len(m), bool), p)
    assert ((plain > 0) & (plain < 1)).all()
    assert (np.diff(plain) >= 0).all()
    assert (reached >= plain).all()
    if p["campaign_reporting_effect"] > 1e-3:
        assert (reached > plain).all()


@given(st.floats(1, 20))
def test_incident_memory_halves_over_its_half_life(halflife):
    p = resolve_parameters({"incident_memory_halflife": halflife})
    assert memory_decay(p) ** halflife == pytest.approx(0.5)
    assert 0 < memory_decay(p) < 1


# ----------------------------------------------------------------- in the model


def test_incidents_make_firms_aware_and_are_recent(baseline_model):
    f = baseline_model.firms
    had = f.last_incident > -1000
    assert had.any()
    # an incident makes a firm aware of cyber risk, for a year at least
    recent = baseline_model.quarter_index - f.last_incident < 4
    assert recent.any() and f.aware["security"][recent].all()
    assert (f.last_incident <= baseline_model.quarter_index).all()
    assert not (f.last_reported & ~had).any()  # only incidents can be reported
    assert ((f.incident_memory >= 0) & (f.incident_memory <= 1)).all()


def test_incident_indicators_are_filled_from_the_start(baseline_frame):
    share = pick(baseline_frame, "incident_past_year")
    assert (share > 0).all() and (share < 1).all()
    assert not pick(baseline_frame, "incident_reported_share").isna().any()


def test_more_security_measures_mean_fewer_incidents():
    low = run_model(n_firms=1_000, seed=5, end_year=2024,
                    parameters={"security_intercept": -6.0})
    high = run_model(n_firms=1_000, seed=5, end_year=2024,
                     parameters={"security_intercept": 0.5})
    assert high.latest("security_5plus") > low.latest("security_5plus")
    assert high.latest("incident_past_year") < low.latest("incident_past_year")


CAMPAIGN = {"cyber_campaign": {"reach_per_year": 0.5, "start_year": 2024, "end_year": 2026}}


@pytest.fixture(scope="module")
def campaign_pair():
    base = run_model(end_year=2026)
    camp = run_model(end_year=2026, policy=CAMPAIGN)
    return base.indicator_frame(), camp.indicator_frame(), camp


def test_campaign_raises_awareness_and_reporting(campaign_pair):
    base, camp, _ = campaign_pair
    for year in (2024, 2025, 2026):
        for name in ("security_aware", "incident_reported_share"):
            b = one(base, name, "all", year, 4)
            c = one(camp, name, "all", year, 4)
            assert c > b, (name, year, b, c)
    assert (one(camp, "security_5plus", "all", 2026, 4)
            >= one(base, "security_5plus", "all", 2026, 4))
    # nothing changes before the campaign starts
    early = base["year"] < 2024
    np.testing.assert_array_equal(base.loc[early, "value"].to_numpy(),
                                  camp.loc[early, "value"].to_numpy())


def test_campaign_spend_is_its_yearly_cost(campaign_pair):
    base, camp, model = campaign_pair
    cost = model.policy.cyber_campaign.cost_per_year_eur
    assert one(camp, "campaign_spend_eur", "all", 2026, 4) == pytest.approx(3 * cost, rel=1e-9)
    assert one(camp, "campaign_spend_eur", "all", 2024, 4) == pytest.approx(cost, rel=1e-9)
    assert (pick(base, "campaign_spend_eur") == 0).all()
    reached = model.firms.campaign_reached
    # about half the firms reached each year, over three years
    share = np.sum(model.firms.weight * reached) / model.firms.weight.sum()
    assert 0.7 < share < 0.95


def test_security_obligation_raises_5plus_for_medium_firms():
    policy = {"security_obligation": {"size_classes": ["50-249"], "min_measures": 5,
                                      "start_year": 2025, "end_year": 2027}}
    base = SMEEconomy(N_SMALL, seed=SEED, end_year=2027)
    duty = SMEEconomy(N_SMALL, seed=SEED, end_year=2027, policy=policy)
    seen = []

    def check(b, d):
        if b.year < 2025:  # identical, firm by firm, until the duty starts
            np.testing.assert_array_equal(b.firms.measures, d.firms.measures)
        else:
            seen.append((d.latest("security_5plus", "50-249"),
                         b.latest("security_5plus", "50-249")))

    lockstep(base, duty, check)
    assert seen and all(d >= b for d, b in seen)
    assert (duty.latest("security_5plus", "50-249")
            > base.latest("security_5plus", "50-249"))
    assert (duty.latest("security_measures_mean", "50-249")
            > base.latest("security_measures_mean", "50-249"))


def test_campaign_covering_no_firm_runs_cleanly():
    policy = {"cyber_campaign": {"size_classes": ["2-9"], "start_year": 2021}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SMEEconomy(500, seed=1, policy=policy, end_year=2021).run()
    assert model.latest("campaign_spend_eur") == 0


# ------------------------------------------------------------- observed cyber behaviour
@pytest.fixture(scope="module")
def all_sizes():
    """Current policy, firms of 2-249 persons, to 2030."""
    from model import simulate

    return simulate(4_000, SEED, end_year=2030, population="2-249")


@pytest.fixture(scope="module")
def survey_frame():
    """Current policy, the calibration's frame (10-249 firms), to 2024."""
    from model import simulate

    return simulate(4_000, SEED, end_year=2024, population="10-249")


def test_small_firms_awareness_stays_below_saturation_without_a_campaign(all_sizes):
    """'Small firms neglect cyber risk' persists unless something changes it: attention
    fades unless security is part of how the firm works."""
    aware = pick(all_sizes, "security_aware", "2-9")
    assert aware.max() < 0.9
    assert one(all_sizes, "security_aware", "2-9", 2030, 1) < one(
        all_sizes, "security_aware", "50-249", 2030, 1)


SIZES = ("2-9", "10-49", "50-249")


# The calibration fits 10-49 and 50-249 in runs of its frame, 10-249 firms; 2-9 firms
# are a held-out check of the size mechanisms (test_held_out_small_firms_...).


def test_incidents_rise_with_firm_size_as_observed(all_sizes):
    """Eurostat E_SEC2IANY (NL): the larger the firm, the more often it has (and sees)
    incidents; and for the fitted size classes the surveys of 2022 and 2024 lie inside
    the 90% band of 40 posterior draws (4,000 firms of 10-249 each), the band's median
    within 3 points. (One run at the defaults, the central draw, need not be that close:
    26 of the 37 parameters are weakly identified, so one draw of the posterior can be
    6 points off a series that the posterior as a whole fits.)"""
    from experiments.abc import systematic_rows
    from experiments.analysis import posterior_row
    from experiments.config import read_posterior
    from model.datasets import cyber_figure

    for year in (2021, 2023):
        shares = [one(all_sizes, "incident_past_year", s, year + 1, 1) for s in SIZES]
        assert shares[0] < shares[1] < shares[2], year
    post = read_posterior(REPO / "results" / "calibration" / "posterior.parquet")
    rows = systematic_rows(post["weight"].to_numpy(), 40, np.random.default_rng(2))
    draws = {(s, y): [] for s in SIZES[1:] for y in (2022, 2024)}
    for k, row in enumerate(rows):
        m = SMEEconomy(4_000, seed=200 + k, population="10-249", record="survey_quarters",
                       parameters=posterior_row(post, row))
        m.run_until(2024, 1)
        values = m.survey_values()
        for s, y in draws:  # surveys of 2022 and 2024: incidents of the year before
            draws[(s, y)].append(values[("incident_past_year", s, y)])
    for (s, y), v in draws.items():
        observed = cyber_figure("E_SEC2IANY", s, y)
        low, mid, high = np.quantile(v, [0.05, 0.5, 0.95])
        assert low <= observed <= high and abs(mid - observed) < 0.03, (s, y, mid)


def test_reported_share_of_incidents_is_near_the_dutch_figure(all_sizes):
    """CBS: 6% (2-9) and 9% (10+) of firms with an incident report it to an authority."""
    small = np.mean([one(all_sizes, "incident_reported_share", "2-9", y, 1)
                     for y in (2021, 2022, 2023)])
    larger = np.mean([one(all_sizes, "incident_reported_share", "10-249", y, 1)
                      for y in (2021, 2022, 2023)])
    assert 0.03 < small < larger < 0.15


def test_security_measures_by_size_reproduce_eurostat(all_sizes, survey_frame):
    """E_SECMGE5, NL, 2022 and 2024, by size class: within 4 points for the fitted classes
    (one run at the defaults, the posterior's central draw, in the calibration's frame;
    its posterior-predictive medians are within 1 point, but one draw of one run need
    not be)."""
    from model.datasets import cyber_figure

    for year in (2022, 2024):
        for s in ("10-49", "50-249", "10-249"):
            assert one(survey_frame, "security_5plus", s, year, 1) == pytest.approx(
                cyber_figure("E_SECMGE5", s, year), abs=0.04), (s, year)


def test_held_out_small_firms_against_the_posterior_predictive():
    """The 2-9 figures are outside the calibration's frame: a held-out test of the size
    mechanisms, against 60 draws of the committed posterior (4,000 firms of 2-249 each).
    Firms with 5+ measures in 2024 (39.4%): inside the 90% predictive band (34.4%,
    27.4-42.3%, at the reweighted six-chain calibration). Incidents in the 2022 survey
    (11.3%): a documented failure (README, docs/ODD.md 7.3 and 10): the model gives
    small firms about 6 points too many (17.4%, 14.2-22.2%). The second assertion keeps
    that statement true: it fails if the miss grows, or if a change mends it and the
    docs are not updated."""
    from experiments.abc import systematic_rows
    from experiments.analysis import posterior_row
    from experiments.config import read_posterior
    from model.datasets import cyber_figure

    post = read_posterior(REPO / "results" / "calibration" / "posterior.parquet")
    rows = systematic_rows(post["weight"].to_numpy(), 60, np.random.default_rng(1))
    sec, inc = [], []
    for k, row in enumerate(rows):
        m = SMEEconomy(4_000, seed=100 + k, population="2-249", record="survey_quarters",
                       parameters=posterior_row(post, row))
        m.run_until(2024, 1)
        values = m.survey_values()
        sec.append(values[("security_5plus", "2-9", 2024)])
        inc.append(values[("incident_past_year", "2-9", 2022)])
    low, high = np.quantile(sec, [0.05, 0.95])
    assert low <= cyber_figure("E_SECMGE5", "2-9", 2024) <= high
    excess = np.median(inc) - cyber_figure("E_SEC2IANY", "2-9", 2022)
    assert 0.03 < excess < 0.10


def test_measures_lapse_when_firms_stop_adding_them():
    # Adding measures all but switched off: what remains is the lapse.
    quiet = {"security_intercept": -6.0, "benefit_weight": 0.0, "peer_weight": 0.0,
             "incident_response_weight": 0.0, "edih_weight": 0.0}
    none_added = SMEEconomy(1_000, seed=SEED, end_year=2024, parameters=quiet)
    start = none_added.firms.measures.copy()
    none_added.run()
    assert none_added.firms.measures.mean() < start.mean() - 0.1
    kept = SMEEconomy(1_000, seed=SEED, end_year=2024,
                      parameters={**quiet, "security_lapse_rate": 0.0})
    kept.run()
    assert (kept.firms.measures >= start).all()


def test_an_obligation_keeps_its_minimum_against_lapses():
    policy = {"security_obligation": {"size_classes": ["50-249"], "min_measures": 5,
                                      "start_year": 2022}}
    m = SMEEconomy(1_000, seed=SEED, end_year=2025, policy=policy,
                   parameters={"security_lapse_rate": 0.2})
    covered = m.firms.size_class == 2
    lost = 0
    while m.running:
        before = m.firms.measures.copy()
        m.step()
        dropped = covered & (before >= 5) & (m.firms.measures < 5)
        if m.year >= 2022:
            assert not dropped.any(), (m.year, m.quarter)
        else:
            lost += dropped.sum()
    assert lost > 0  # before the duty, lapses did take firms below five
