"""experiments/abc.py: replenishment ABC-SMC with MCMC moves, checked on problems whose
posterior is known, for reproducibility and for its stopping rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from experiments.abc import _steps, chunks, simulation_seed, smc_abc

OBS = np.array([1.0, -2.0])
NOISE = 0.1


def _gaussian(items):
    """Data = parameters + N(0, 0.1^2) noise, seeded by the simulation's number; the
    distance is Euclidean to OBS. With a flat prior the posterior is N(OBS, 0.1^2)."""
    out = []
    for number, p in items:
        rng = np.random.default_rng(number)
        x = np.array([p["a"], p["b"]]) + NOISE * rng.standard_normal(2)
        out.append((number, float(np.linalg.norm(x - OBS))))
    return out


PRIORS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0)}


def test_recovers_a_known_posterior_with_equal_weights():
    res = smc_abc(_gaussian, PRIORS, n=400, seed=3, max_generations=25, min_acceptance=0.05)
    theta = res.particles.to_numpy()
    assert len(theta) == 400  # equally weighted particles, no collapse
    np.testing.assert_allclose(theta.mean(axis=0), OBS, atol=0.04)
    # ABC widens the posterior by its tolerance, never narrows it much
    assert np.all(theta.std(axis=0) > 0.08) and np.all(theta.std(axis=0) < 0.15)
    # every particle lies within the final tolerance, which fell generation by generation
    eps = [g.epsilon for g in res.generations]
    assert res.distances.max() <= eps[-1] + 1e-12
    assert all(b <= a for a, b in itertools.pairwise(eps))


def test_same_seed_same_posterior_and_simulation_numbers_are_unique():
    seen = []

    def record(items):
        seen.extend(k for k, _ in items)
        return _gaussian(items)

    one = smc_abc(record, PRIORS, n=50, seed=9, max_generations=3)
    two = smc_abc(_gaussian, PRIORS, n=50, seed=9, max_generations=3)
    assert one.particles.equals(two.particles)
    assert len(seen) == len(set(seen)) == one.simulations
    other = smc_abc(_gaussian, PRIORS, n=50, seed=10, max_generations=3)
    assert not one.particles.equals(other.particles)


def test_stopping_rules():
    res = smc_abc(_gaussian, PRIORS, n=40, seed=1, max_generations=2)
    assert len(res.generations) == 3 and "max_populations" in res.stop_reason
    res = smc_abc(_gaussian, PRIORS, n=40, seed=1, max_simulations=100)
    assert "max_simulations" in res.stop_reason
    res = smc_abc(_gaussian, PRIORS, n=40, seed=1, min_epsilon=50.0)
    assert "min_epsilon" in res.stop_reason and len(res.generations) == 1


def test_interrupt_keeps_the_last_finished_generation():
    calls = []

    def interrupt(items):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return _gaussian(items)

    res = smc_abc(interrupt, PRIORS, n=40, seed=2, max_generations=10)
    assert res.interrupted and len(res.particles) == 40
    assert res.distances.max() <= res.generations[-1].epsilon + 1e-12


def test_helpers():
    assert _steps(0.0) == 60 and _steps(1.0) == 1
    assert _steps(0.5) == 7  # 0.5**7 < 0.01 <= 0.5**6
    assert chunks(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert chunks([], 4) == []
    assert simulation_seed(1, 5) == simulation_seed(1, 5) != simulation_seed(1, 6)


@pytest.mark.parametrize("bad", [{"a": (1.0, 1.0)}])
def test_degenerate_prior_still_runs(bad):
    res = smc_abc(_gaussian, {**PRIORS, **bad}, n=20, seed=1, max_generations=1)
    assert (res.particles["a"] == 1.0).all()
