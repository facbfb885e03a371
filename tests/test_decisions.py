"""The TOE logit decision rule: the direction of every driver and the formula."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import ModelInputError, SMEEconomy, resolve_parameters
from model.decisions import RULES, DecisionInputs, TOELogit

RULE = TOELogit(resolve_parameters())
_x = st.floats(-3, 3)
_pos = st.floats(0.2, 5)  # keeps logits well inside the +/-40 clip of the logistic


@st.composite
def _inputs(draw):
    return DecisionInputs(
        base=np.array([draw(st.floats(-6, 2))]),
        benefit=draw(st.floats(0, 3)),
        capability=np.array([draw(_pos)]),
        net_cost=np.array([draw(st.floats(0, 5))]),
        slack=np.array([draw(_pos)]),
        peer_share=draw(st.floats(0, 1)),
        edih_served=draw(st.sampled_from([0.0, 1.0])),
        complexity=draw(st.floats(0, 2)),
        extra=draw(_x),
    )


def _p(x: DecisionInputs, **change) -> float:
    return float(RULE.probability(DecisionInputs(**{**x.__dict__, **change}))[0])


@given(_inputs(), st.floats(0.01, 1))
def test_probability_rises_with_peer_share(x, delta):
    p0 = _p(x, peer_share=0.0)
    assert _p(x, peer_share=delta) > p0
    assert 0 < p0 < 1


@given(_inputs())
def test_probability_rises_with_edih_support(x):
    assert _p(x, edih_served=1.0) > _p(x, edih_served=0.0)


@given(_inputs(), st.floats(0.01, 1))
def test_subsidy_lowers_net_cost_and_raises_probability(x, rate):
    cost = x.net_cost + 0.5
    assert _p(x, net_cost=cost * (1 - rate)) > _p(x, net_cost=cost)


@given(_inputs(), st.floats(0.05, 2))
def test_probability_falls_with_complexity(x, delta):
    assert _p(x, complexity=x.complexity + delta) < _p(x)


@given(_inputs(), st.floats(0.05, 2))
def test_probability_rises_with_benefit_and_capability(x, delta):
    assert _p(x, benefit=x.benefit + delta) > _p(x)
    b = x.benefit + 0.1  # capability scales the benefit, so it needs one
    assert _p(x, benefit=b, capability=x.capability + delta) > _p(x, benefit=b)


@given(_inputs(), st.floats(0.05, 2))
def test_more_slack_softens_cost(x, delta):
    cost = x.net_cost + 0.5
    assert _p(x, net_cost=cost, slack=x.slack + delta) > _p(x, net_cost=cost)


def test_logit_formula():
    p = resolve_parameters({"benefit_weight": 1.3, "cost_weight": 0.7, "peer_weight": 2.0,
                            "edih_weight": 0.5, "complexity_weight": 1.1})
    rule = TOELogit(p)
    x = DecisionInputs(base=np.array([-2.0, -1.0]), benefit=1.5, capability=np.array([1.0, 2.0]),
                       net_cost=np.array([0.8, 0.0]), slack=np.array([2.0, 1.0]),
                       peer_share=np.array([0.25, 0.5]), edih_served=np.array([1.0, 0.0]),
                       complexity=np.array([0.5, 1.0]), extra=np.array([0.3, 0.0]))
    z = (x.base + 1.3 * 1.5 * x.capability - 0.7 * x.net_cost / x.slack + 2.0 * x.peer_share
         + 0.5 * x.edih_served - 1.1 * x.complexity + x.extra)
    np.testing.assert_allclose(rule.logit(x), z)
    np.testing.assert_allclose(rule.probability(x), 1 / (1 + np.exp(-z)))


def test_extreme_logits_do_not_overflow():
    x = DecisionInputs(base=np.array([-1e6, 1e6]), benefit=0.0, capability=np.ones(2),
                       net_cost=np.zeros(2), slack=np.ones(2), peer_share=0.0,
                       edih_served=0.0, complexity=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = RULE.probability(x)
    assert 0 <= p[0] < 1e-15 and 1 - 1e-15 < p[1] <= 1


def test_zero_weights_switch_drivers_off():
    rule = TOELogit(resolve_parameters({"peer_weight": 0.0, "edih_weight": 0.0}))
    x = DecisionInputs(base=np.array([-2.0]), benefit=1.0, capability=np.ones(1),
                       net_cost=np.ones(1), slack=np.ones(1), peer_share=0.0, edih_served=0.0,
                       complexity=0.5)
    p0 = rule.probability(x)
    x.peer_share, x.edih_served = 1.0, 1.0
    np.testing.assert_allclose(rule.probability(x), p0)


def test_rules_registry_and_unknown_rule():
    assert RULES["toe_logit"] is TOELogit
    with pytest.raises(ModelInputError) as info:
        SMEEconomy(500, seed=0, rule="bass", end_year=2021)
    assert info.value.field == "rule" and "toe_logit" in str(info.value)


def test_a_registered_rule_is_the_one_the_model_decides_with(monkeypatch):
    """A variant rule reaches every decision: one that never adopts freezes adoption."""

    class Never(TOELogit):
        def probability(self, x: DecisionInputs) -> np.ndarray:
            return np.zeros_like(self.logit(x))

    monkeypatch.setitem(RULES, "never", Never)
    frozen = SMEEconomy(600, seed=4, rule="never", end_year=2023)
    depth, ai, measures = (frozen.firms.depth.copy(), frozen.firms.adopted["ai"].copy(),
                           frozen.firms.measures.copy())
    frozen.run()
    usual = SMEEconomy(600, seed=4, end_year=2023).run()
    np.testing.assert_array_equal(frozen.firms.depth, depth)
    assert not (frozen.firms.adopted["ai"] & ~ai).any()  # users may stop, none start
    assert (frozen.firms.measures <= measures).all()  # measures may lapse, none are added
    assert (usual.firms.depth > depth).any() and (usual.firms.adopted["ai"] & ~ai).any()


def test_higher_costs_slow_adoption_in_the_model():
    """Cost enters through net cost / slack: dearer AI means less AI at the same seed."""
    cheap = SMEEconomy(1_000, seed=3, parameters={"cost_ai_eur": 5_000.0}, end_year=2025).run()
    dear = SMEEconomy(1_000, seed=3, parameters={"cost_ai_eur": 150_000.0}, end_year=2025).run()
    assert cheap.latest("ai", "10-249") > dear.latest("ai", "10-249")


def test_steeper_ladder_slows_basic_progress_in_the_model():
    """ladder_complexity_weight: later basic items harder, so fewer items and fewer firms
    in the upper DII bands at the same seed."""
    flat = SMEEconomy(1_000, seed=3, parameters={"ladder_complexity_weight": 0.5},
                      end_year=2025).run()
    steep = SMEEconomy(1_000, seed=3, parameters={"ladder_complexity_weight": 5.0},
                       end_year=2025).run()
    for name in ("dii_items_mean", "dii_very_high"):
        assert flat.latest(name, "10-249") > steep.latest(name, "10-249"), name


def test_complexity_weight_acts_only_through_test_before_invest():
    """Without support an advanced technology's complexity is part of its calibrated
    intercept: complexity_weight changes nothing unless an EDIH removes complexity, and
    then a larger weight means the service buys more."""
    def run(weight, policy=None):
        return SMEEconomy(1_000, seed=3, parameters={"complexity_weight": weight},
                          policy=policy, end_year=2027).run()

    no_hubs = {"edih": {"capacity_per_year": 0, "from_year": 2021}}
    assert run(0.0, no_hubs).indicator_frame().equals(run(3.0, no_hubs).indicator_frame())
    edih = {"edih": {"capacity_per_year": 20_000, "from_year": 2022}}
    low, high = run(0.0, edih), run(3.0, edih)
    assert low.firms.test_before_invest.any()
    for name in ("data_analytics", "ai"):
        assert high.latest(name, "10-249") > low.latest(name, "10-249"), name


def test_the_advanced_drivers_are_the_ones_adopt_decides_with():
    """``Adoption.advanced_inputs`` is the one home of an advanced technology's drivers
    (the backcast before 2021 reads them too): with no lever in force, a firm facing
    cloud, data analytics or AI adopts in a quarter exactly when its uniform falls below
    the rule's probability on those drivers."""
    from model.technologies import ADVANCED, DECISIONS

    model = SMEEconomy(800, seed=6, end_year=2023)
    model.step()
    f, adoption = model.firms, model.adoption
    rng = np.random.default_rng(1)
    u = rng.random((len(DECISIONS), f.n), dtype=np.float32)
    peers = adoption.peer_shares(model.quarter_index)
    t = model.time + 0.25
    before = {tech: f.adopted[tech].copy() for tech in ADVANCED}
    cloud_p = adoption.rule.probability(adoption.advanced_inputs("cloud", t, peers[:, 1])[0])
    da_p = adoption.rule.probability(
        adoption.advanced_inputs("data_analytics", t, peers[:, 2])[0])
    adoption.adopt(t, model.year, u, peers)
    for tech, d, p in (("cloud", 1, cloud_p), ("data_analytics", 2, da_p)):
        facing = f.aware[tech] & ~before[tech]
        np.testing.assert_array_equal(f.adopted[tech], before[tech] | (facing & (u[d] < p)))
        assert (facing & (u[d] < p)).any()
