"""experiments/abc.py: tempered ABC-SMC with a Gaussian kernel and pseudo-marginal MCMC
moves, checked on problems whose posterior is known, for reproducibility and for its
stopping rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from experiments.abc import (
    _steps,
    chunks,
    effective_sample_size,
    equally_weighted,
    next_temperature,
    simulation_seed,
    smc_abc,
    systematic_rows,
)

OBS = np.array([1.0, -2.0])
SIGMA = 0.1  # the error model: the distance is in units of SIGMA


def _gaussian(noise: float):
    """Data = parameters + N(0, noise^2), seeded by the simulation's number; distance
    |x - OBS| / SIGMA. With a flat prior and the Gaussian kernel at epsilon, the target
    is N(OBS, (epsilon SIGMA)^2 + noise^2) in each coordinate."""

    def simulate(items):
        out = []
        for number, p in items:
            rng = np.random.default_rng(number)
            x = np.array([p["a"], p["b"]]) + noise * rng.standard_normal(2)
            out.append((number, float(np.linalg.norm(x - OBS) / SIGMA)))
        return out

    return simulate


PRIORS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0)}


@pytest.mark.parametrize(("noise", "epsilon"), [(0.1, 1.0), (0.3, 1.0), (0.1, 2.0)])
def test_recovers_the_posterior_under_the_error_model(noise, epsilon):
    res = smc_abc(_gaussian(noise), PRIORS, n=400, seed=3, min_epsilon=epsilon)
    assert res.reached and "target" in res.stop_reason
    theta, w = res.particles.to_numpy(), res.weights
    sd = np.hypot(epsilon * SIGMA, noise)
    assert len(theta) == len(w) == 400 and w.sum() == pytest.approx(1.0)
    mean = w @ theta
    np.testing.assert_allclose(mean, OBS, atol=0.25 * sd)
    # neither over-concentrated by lucky simulations (noise 0.3 is three times the
    # error model: the pseudo-marginal moves must still give the full width) nor wide
    np.testing.assert_allclose(np.sqrt(w @ (theta - mean) ** 2), sd, rtol=0.2)
    # the tolerance fell every generation and ended exactly at the target
    eps = [g.epsilon for g in res.generations]
    assert all(b < a for a, b in itertools.pairwise(eps)) and eps[-1] == pytest.approx(epsilon)


def test_the_generation_that_reaches_the_target_only_reweights():
    res = smc_abc(_gaussian(0.3), PRIORS, n=400, seed=5)
    last, before = res.generations[-1], res.generations[-2]
    assert res.reached and last.epsilon == 1.0 and before.epsilon > 1.0
    # no simulation, no MCMC step: the particles are the previous generation's, their
    # weights the kernel's ratio on their own distances, with at least half the sample
    assert last.samples == last.mcmc_steps == 0 and np.isnan(last.acceptance)
    assert res.simulations == sum(g.samples for g in res.generations)
    assert 200 <= res.ess < 400 and res.ess == pytest.approx(last.ess)
    logw = -0.5 * (1.0 - 1.0 / before.epsilon**2) * res.distances**2
    np.testing.assert_allclose(res.weights, np.exp(logw) / np.exp(logw).sum())
    assert res.generation_records()[-1]["acceptance"] is None  # JSON has no NaN


def test_moves_leave_few_copies():
    res = smc_abc(_gaussian(0.1), PRIORS, n=400, seed=4)
    distinct = len(res.particles.drop_duplicates())
    assert distinct >= 0.9 * 400  # resampling copies are moved apart again


def test_same_seed_same_posterior_and_simulation_numbers_are_unique():
    seen = []
    sim = _gaussian(0.1)

    def record(items):
        seen.extend(k for k, _ in items)
        return sim(items)

    one = smc_abc(record, PRIORS, n=50, seed=9, max_generations=3)
    two = smc_abc(sim, PRIORS, n=50, seed=9, max_generations=3)
    assert one.particles.equals(two.particles)
    np.testing.assert_array_equal(one.weights, two.weights)
    assert len(seen) == len(set(seen)) == one.simulations
    other = smc_abc(sim, PRIORS, n=50, seed=10, max_generations=3)
    assert not one.particles.equals(other.particles)


def test_stopping_rules():
    sim = _gaussian(0.1)
    res = smc_abc(sim, PRIORS, n=40, seed=1, max_generations=2)
    assert len(res.generations) == 3 and "max_populations" in res.stop_reason
    assert not res.reached and res.epsilon > 1
    assert res.generation_records()[0]["epsilon"] is None  # the prior: JSON has no inf
    res = smc_abc(sim, PRIORS, n=40, seed=1, max_simulations=100)
    assert "max_simulations" in res.stop_reason and not res.reached
    with pytest.raises(ValueError, match="min_epsilon"):
        smc_abc(sim, PRIORS, n=40, seed=1, min_epsilon=0.0)


def test_interrupt_keeps_the_last_finished_generation():
    calls = []
    sim = _gaussian(0.1)

    def interrupt(items):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return sim(items)

    res = smc_abc(interrupt, PRIORS, n=40, seed=2, max_generations=10)
    assert res.interrupted and len(res.particles) == 40 and not res.reached
    assert res.epsilon == res.generations[-1].epsilon


def test_next_temperature_keeps_the_effective_sample_size():
    d2 = np.random.default_rng(0).chisquare(5, size=500) * 30
    beta = next_temperature(d2, 0.0, 1.0, 250)
    w = np.exp(-0.5 * beta * (d2 - d2.min()))
    assert 0 < beta < 1 and w.sum() ** 2 / (w**2).sum() == pytest.approx(250, rel=1e-6)
    assert next_temperature(np.full(10, 3.0), 0.2, 1.0, 5) == 1.0  # no spread: the target


def test_systematic_resampling_counts():
    w = np.array([0.5, 0.25, 0.125, 0.125])
    rows = systematic_rows(w, 8, np.random.default_rng(1))
    assert sorted(np.bincount(rows, minlength=4)) == [1, 1, 2, 4]


def test_helpers():
    assert _steps(0.0) == 60 and _steps(1.0) == 1
    assert _steps(0.5) == 7  # 0.5**7 < 0.01 <= 0.5**6
    assert chunks(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert chunks([], 4) == []
    assert simulation_seed(1, 5) == simulation_seed(1, 5) != simulation_seed(1, 6)


def test_effective_sample_size_counts_particles_not_weight_units():
    assert effective_sample_size(np.full(150, 1 / 150)) == pytest.approx(150)
    assert effective_sample_size(np.full(150, 7.0)) == pytest.approx(150)  # unnormalised
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    # one particle carrying half the weight: 1/(0.25 + 2 * 0.0625) = 2.7 of 3
    assert effective_sample_size(np.array([0.5, 0.25, 0.25])) == pytest.approx(8 / 3)
    assert effective_sample_size(np.array([])) == 0.0
    assert equally_weighted(np.full(4, 0.25)) and not equally_weighted(np.array([0.5, 0.5, 1]))


def test_degenerate_prior_still_runs():
    res = smc_abc(_gaussian(0.1), {**PRIORS, "a": (1.0, 1.0)}, n=20, seed=1,
                  max_generations=1)
    assert (res.particles["a"] == 1.0).all()
