"""Cyber incidents, reporting and the cyber levers (awareness campaign, obligation)."""

from __future__ import annotations

import warnings

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
    assert f.aware["security"][had].all()  # an incident makes a firm aware of cyber risk
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
