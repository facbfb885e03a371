"""Sensitivity analysis: the SALib pipeline against Ishigami's known indices, config
validation, and a small end-to-end run through the executors and store."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from experiments.config import ConfigError
from experiments.sensitivity import (
    apply_lever,
    build_sensitivity_design,
    indices,
    parse_sensitivity_config,
    run_sensitivity,
    sample_points,
)

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"],
            "bounds": [[-np.pi, np.pi]] * 3}
# Analytic indices of Ishigami (a = 7, b = 0.1).
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]


def _ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_pipeline_reproduces_ishigami_indices():
    x = sample_points(ISHIGAMI, "sobol", 2048, seed=1)
    got = indices(ISHIGAMI, "sobol", x, _ishigami(x), seed=1)
    np.testing.assert_allclose(got["S1"], S1, atol=0.04)
    np.testing.assert_allclose(got["ST"], ST, atol=0.04)
    assert (got["S1_conf"] > 0).all() and (got["ST_conf"] > 0).all()
    # the known values lie in (or very near) the 95% intervals
    assert (abs(got["ST"] - ST) <= 2 * got["ST_conf"] + 0.01).all()


def test_morris_ranks_ishigami_factors():
    x = sample_points(ISHIGAMI, "morris", 200, levels=4, seed=2)
    got = indices(ISHIGAMI, "morris", x, _ishigami(x), levels=4, seed=2).set_index("factor")
    # x1 and x2 matter far more than x3 in the elementary effects
    assert got.loc["x3", "mu_star"] < got.loc["x1", "mu_star"]
    assert got.loc["x3", "mu_star"] < got.loc["x2", "mu_star"]


@pytest.fixture(scope="module")
def posterior_path(tmp_path_factory):
    """A stand-in posterior holding every calibrated parameter near its default;
    basic_intercept spreads over -3.9 to -2.8."""
    from model import CALIBRATED, PARAMETERS

    rng = np.random.default_rng(0)
    frame = {}
    for name in CALIBRATED:
        spec = PARAMETERS[name]
        half = 0.05 * (spec.high - spec.low)
        frame[name] = np.clip(spec.default + rng.uniform(-half, half, 300), spec.low, spec.high)
    frame["basic_intercept"] = rng.uniform(-3.9, -2.8, 300)
    path = tmp_path_factory.mktemp("post") / "posterior.parquet"
    pd.DataFrame(frame).assign(weight=1 / 300).to_parquet(path)
    return path


@pytest.fixture(autouse=True)
def _posterior(posterior_path, monkeypatch):
    monkeypatch.setitem(globals(), "POSTERIOR", str(posterior_path))


POSTERIOR = ""


def _raw(**sens):
    return {
        "name": "sens",
        "run": {"end_year": 2023, "firms": 500, "replications": 1, "seed": 3},
        "uncertainties": {"posterior": POSTERIOR},
        "targets": {"basic": {"indicator": "dii_at_least_basic", "threshold": 0.85}},
        "scenarios": {"mix": {"subsidy": {"rate": 0.5, "start_year": 2022}}},
        "sensitivity": {"methods": ["morris", "sobol"], "samples": 2, "morris_levels": 4,
                        "factors": {"basic_intercept": {"low": -3.8, "high": -2.9},
                                    "subsidy.rate": {"low": 0.0, "high": 0.8}},
                        **sens},
    }


def _errors(raw) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_sensitivity_config(raw)
    return err.value.errors


def test_valid_config_and_design():
    config = parse_sensitivity_config(_raw())
    specs, points = build_sensitivity_design(config)
    assert len(points) == 2 * (2 + 1) + 2 * (2 + 2)  # morris r(k+1) + sobol N(k+2)
    assert len(specs) == len(points) * config.run.replications
    # levers land in the policy, parameters in the parameters
    spec = specs[0]
    # every run is of the file's one scenario; the sample point is its own field
    assert {s.scenario for s in specs} == {config.scenario}
    assert {s.point for s in specs} == set(points["point"]) and {s.draw for s in specs} == {-1}
    pt = points.set_index("point").loc[spec.point]
    assert spec.policy.subsidies[0].rate == pytest.approx(pt["subsidy.rate"])
    assert spec.parameters["basic_intercept"] == pytest.approx(pt["basic_intercept"])
    assert points["subsidy.rate"].between(0.0, 0.8).all()
    # every other calibrated parameter sits at the posterior's central draw: one joint
    # draw, so the peer weight and the cost weight come from the same row
    post = pd.read_parquet(POSTERIOR)
    row = post[post["peer_weight"] == spec.parameters["peer_weight"]]
    assert len(row) >= 1
    assert spec.parameters["cost_weight"] == row["cost_weight"].iloc[0]
    assert spec.parameters["peer_weight"] == pytest.approx(post["peer_weight"].median(),
                                                           rel=0.25)


def test_posterior_range_factor_takes_the_90_percent_interval():
    raw = _raw(factors={"basic_intercept": {"range": "posterior"},
                        "subsidy.rate": {"low": 0.0, "high": 0.8}})
    config = parse_sensitivity_config(raw)
    low, high = config.factors["basic_intercept"]
    assert -3.9 < low < -3.7 and -3.0 < high < -2.8
    assert "basic_intercept" not in config.base_parameters


@pytest.mark.parametrize(("change", "needle"), [
    ({"factors": {"basic_intercept": {"low": -5.0, "high": -2.9}}}, "leaves the posterior's"),
    ({"factors": {"innovativeness_effect": {"low": 0.1, "high": 0.9}}}, "is not calibrated"),
    ({"factors": {"subsidy.rate": {"range": "posterior"}}}, "needs a posterior"),
])
def test_history_factors_must_stay_inside_the_calibration(change, needle):
    raw = _raw()
    raw["sensitivity"].update(change)
    errors = _errors(raw)
    assert any(needle in e for e in errors), errors
    # exploratory work may step outside, on the record
    raw["run"]["exploratory"] = True
    if "range" not in str(change):
        assert parse_sensitivity_config(raw).run.exploratory


def test_history_factor_without_posterior_and_distributions_are_refused():
    raw = _raw()
    raw["uncertainties"] = {"edih_weight": {"distribution": "uniform", "low": 0, "high": 1}}
    text = "\n".join(_errors(raw))
    assert "uncertainties.edih_weight: a sensitivity analysis varies factors over ranges" in text
    assert "sensitivity.factors.basic_intercept: shapes the observed 2021-2025 history" in text


@pytest.mark.parametrize(("change", "needle"), [
    ({"factors": {"peer_wieght": {"low": 0, "high": 1}}}, "sensitivity.factors.peer_wieght"),
    ({"factors": {"subsidy.rate": {"low": 0, "high": 1.5}}}, "not a valid lever value"),
    ({"factors": {"subsidy.colour": {"low": 0, "high": 1}}}, "sensitivity.factors.subsidy.colour"),
    ({"factors": {"peer_weight": {"low": 2, "high": 1}}}, "must be below high"),
    ({"factors": {"peer_weight": {"low": -1, "high": 1}}}, "leaves the parameter's"),
    ({"methods": ["fast"]}, "sensitivity.methods: unknown value 'fast' (allowed: morris, sobol)"),
    ({"methods": []}, "sensitivity.methods: at least one method is required"),
    ({"factors": {"peer_weight": {"low": 0.5}}}, "sensitivity.factors.peer_weight.high: required"),
    ({"factors": {"peer_weight": {"range": "prior"}}}, "unknown range 'prior'; did you mean"),
    ({"factors": {"peer_weight": {"low": "a", "high": 1}}}, "peer_weight.low: expected a number"),
    ({"samples": 6}, "power of two"),
    ({"factors": {}}, "at least one factor"),
    ({"levels": 3}, "sensitivity.levels"),
])
def test_malformed_sensitivity_configs_fail_clearly(change, needle):
    raw = _raw()
    raw["sensitivity"].update(change)
    errors = _errors(raw)
    assert any(needle in e for e in errors), errors


def test_missing_table_and_two_scenarios_are_refused():
    raw = _raw()
    del raw["sensitivity"]
    raw["scenarios"]["other"] = {}
    with pytest.raises(ConfigError) as err:
        parse_sensitivity_config(raw)
    text = "\n".join(err.value.errors)
    assert "sensitivity: the table is required" in text and "exactly one scenario" in text


def test_apply_lever_leaves_the_original_policy_alone():
    policy = {"subsidy": [{"name": "a", "rate": 0.5}, {"name": "b", "rate": 0.2}],
              "edih": {"capacity_per_year": 100}}
    before = copy.deepcopy(policy)
    out = apply_lever(policy, "subsidy.a.rate", 0.7)
    assert out["subsidy"][0]["rate"] == 0.7 and out["subsidy"][1]["rate"] == 0.2
    assert apply_lever(policy, "edih.from_year", 2027.4)["edih"]["from_year"] == 2027
    assert policy == before


def test_end_to_end_small_sensitivity(tmp_path):
    config = parse_sensitivity_config(_raw())
    result, ind = run_sensitivity(config, out=tmp_path / "s", workers=1, progress=False)
    assert result.failures == []
    assert set(ind["method"]) == {"morris", "sobol"}
    assert set(ind["output"]) == {"value:basic", "share:advanced_any", "p_hit:basic"}
    assert set(ind["factor"]) == {"basic_intercept", "subsidy.rate"}
    for name in ("sensitivity.csv", "points.csv", "report.md", "outcomes.parquet",
                 "figures/sensitivity_sobol.png", "figures/sensitivity_morris.png"):
        assert (tmp_path / "s" / name).exists(), name
    # resuming a complete analysis runs nothing and gives the same indices
    again, ind2 = run_sensitivity(config, out=tmp_path / "s", workers=1, resume=True,
                                  progress=False)
    assert again.ran == 0
    pd.testing.assert_frame_equal(ind, ind2)


def test_a_factor_addresses_one_scheme_of_several_by_name():
    policy = {"subsidy": [{"name": "cloud", "rate": 0.3, "technologies": ["cloud"]},
                          {"name": "ai", "rate": 0.5, "technologies": ["ai"]}]}
    out = apply_lever(policy, "subsidy.ai.rate", 0.8)
    assert [t["rate"] for t in out["subsidy"]] == [0.3, 0.8]
    with pytest.raises(ValueError, match=r"2 subsidy schemes \(cloud, ai\)"):
        apply_lever(policy, "subsidy.rate", 0.8)
    with pytest.raises(ValueError, match="no subsidy scheme named 'basic'"):
        apply_lever(policy, "subsidy.basic.rate", 0.8)
    single = {"subsidy": {"name": "main", "rate": 0.5}}
    assert apply_lever(single, "subsidy.main.rate", 0.2)["subsidy"]["rate"] == 0.2
    assert apply_lever(single, "subsidy.rate", 0.2)["subsidy"]["rate"] == 0.2
