"""Approximate Bayesian computation by sequential Monte Carlo with MCMC moves: the
replenishment algorithm of Drovandi and Pettitt (2011, Biometrics 67: 225-233).

Why not pyabc's ABC-SMC, which the project first used: its particles carry importance
weights prior / proposal, and with 25 calibrated parameters those weights collapse
(effective sample size 2-10 of 400 from the second generation on, measured on the
model and on a 25-dimensional toy problem; see docs/ODD.md, calibration). Here
particles always carry equal weights: each generation drops the worse half (by
distance), fills it up by resampling the better half, and moves the copies with
Metropolis-Hastings steps that keep the ABC posterior at the new tolerance
invariant (uniform priors, symmetric random-walk proposals: a move is accepted when
it stays inside the prior box and its simulation lies within the tolerance).

Every simulation has a number, and its seed derives from the calibration seed and
that number; proposals are drawn in the main process in a fixed order. The result is
therefore the same for any number of workers or executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DROP_FRACTION = 0.5
"""Share of particles replaced each generation (the tolerance is the distance of the
worst particle kept)."""
MOVE_FAILURE = 0.01
"""MCMC steps per generation are chosen so that a copy stays where it was with at most
this probability (Drovandi and Pettitt's c)."""
MAX_STEPS = 60


@dataclass(frozen=True)
class Generation:
    t: int
    epsilon: float
    acceptance: float
    mcmc_steps: int
    samples: int  # simulations in this generation
    seconds: float


@dataclass
class ABCResult:
    particles: pd.DataFrame  # one row per particle (equal weights), one column per parameter
    distances: np.ndarray
    generations: list[Generation] = field(default_factory=list)
    simulations: int = 0
    stop_reason: str = ""
    interrupted: bool = False

    def generation_table(self) -> pd.DataFrame:
        return pd.DataFrame([g.__dict__ for g in self.generations])


Simulate = Callable[[Sequence[tuple[int, dict[str, float]]]], list[tuple[int, float]]]
"""Distances of numbered parameter sets: [(number, params)] -> [(number, distance)]."""


def smc_abc(simulate: Simulate, priors: Mapping[str, tuple[float, float]], n: int,
            seed: int, *, min_epsilon: float = 0.0, max_generations: int = 20,
            min_acceptance: float = 0.02, max_simulations: int = 10**9,
            max_seconds: float = math.inf, log: Callable[[str], None] | None = None,
            stop_requested: Callable[[], bool] | None = None) -> ABCResult:
    """Run the replenishment ABC-SMC; stop at whichever comes first: the tolerance
    reaches ``min_epsilon``, ``max_generations``, the MCMC acceptance falls below
    ``min_acceptance``, ``max_simulations`` or ``max_seconds``. Ctrl-C, or
    ``stop_requested()`` turning true (checked before each batch of simulations),
    keeps the last finished generation (``interrupted``)."""
    names = list(priors)
    low = np.array([priors[k][0] for k in names])
    high = np.array([priors[k][1] for k in names])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    counter = 0
    start = time.perf_counter()
    log = log or (lambda _msg: None)

    def run(thetas: np.ndarray) -> np.ndarray:
        nonlocal counter
        if stop_requested is not None and stop_requested():
            raise KeyboardInterrupt
        items = [(counter + k, dict(zip(names, map(float, th), strict=True)))
                 for k, th in enumerate(thetas)]
        counter += len(items)
        found = dict(simulate(items))
        return np.array([found[k] for k, _ in items])

    theta = low + rng.random((n, len(names))) * (high - low)
    result = ABCResult(particles=pd.DataFrame(theta, columns=names), distances=np.array([]))
    try:
        dist = run(theta)
    except KeyboardInterrupt:
        result.interrupted, result.stop_reason = True, "interrupted before the first generation"
        raise
    result.distances, result.simulations = dist, counter
    result.generations.append(Generation(0, float(dist.max()), 1.0, 0, n,
                                         time.perf_counter() - start))
    log(f"generation 0: {n} draws from the prior, epsilon {dist.max():.4g}")
    n_drop = max(1, int(DROP_FRACTION * n))
    steps = 1
    for t in range(1, max_generations + 1):
        t0, sims0 = time.perf_counter(), counter
        order = np.argsort(dist, kind="stable")
        keep = order[: n - n_drop]
        eps = float(dist[keep[-1]])
        if eps <= min_epsilon:
            result.stop_reason = f"tolerance reached min_epsilon ({min_epsilon:g})"
            break
        if counter >= max_simulations:
            result.stop_reason = f"max_simulations ({max_simulations}) reached"
            break
        if time.perf_counter() - start >= max_seconds:
            result.stop_reason = "wall time reached"
            break
        kept_theta, kept_dist = theta[keep], dist[keep]
        cov = np.atleast_2d(np.cov(kept_theta.T)) * (2.38**2 / len(names))
        chol = np.linalg.cholesky(cov + 1e-12 * np.diag(np.diag(cov) + 1e-12))
        pick = rng.integers(0, len(keep), size=n_drop)
        moving, moving_dist = kept_theta[pick].copy(), kept_dist[pick].copy()
        try:
            accepted = tried = 0
            # One trial step estimates the acceptance rate; then enough steps that a
            # copy moves with probability 1 - MOVE_FAILURE.
            s = 0
            while s < steps:
                proposal = moving + rng.standard_normal(moving.shape) @ chol.T
                inside = np.all((proposal >= low) & (proposal <= high), axis=1)
                new_dist = np.full(n_drop, np.inf)
                if inside.any():
                    new_dist[inside] = run(proposal[inside])
                ok = new_dist <= eps
                moving[ok], moving_dist[ok] = proposal[ok], new_dist[ok]
                accepted += int(ok.sum())
                tried += n_drop
                s += 1
                if s == 1:
                    rate = accepted / tried
                    steps = _steps(rate)
        except KeyboardInterrupt:
            result.interrupted, result.stop_reason = True, f"interrupted in generation {t}"
            break
        rate = accepted / max(tried, 1)
        theta = np.vstack([kept_theta, moving])
        dist = np.concatenate([kept_dist, moving_dist])
        steps = _steps(rate)
        result.particles = pd.DataFrame(theta, columns=names)
        result.distances, result.simulations = dist, counter
        result.generations.append(Generation(t, eps, rate, s, counter - sims0,
                                             time.perf_counter() - t0))
        log(f"generation {t}: epsilon {eps:.4g}, MCMC acceptance {rate:.3f} over {s} "
            f"step(s), {counter - sims0} simulations ({counter} in all), "
            f"{time.perf_counter() - start:.0f} s")
        if rate < min_acceptance:
            result.stop_reason = f"MCMC acceptance {rate:.3f} below min_acceptance_rate"
            break
    else:
        result.stop_reason = f"max_populations ({max_generations}) reached"
    return result


def _steps(rate: float) -> int:
    if rate <= 0:
        return MAX_STEPS
    if rate >= 1:
        return 1
    return int(min(MAX_STEPS, max(1, math.ceil(math.log(MOVE_FAILURE) / math.log(1 - rate)))))


def simulation_seed(seed: int, number: int) -> int:
    """The model seed of simulation ``number`` of a calibration with ``seed``."""
    return int(np.random.SeedSequence(seed, spawn_key=(7, number)).generate_state(1)[0])


def chunks(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """``items`` in about ``parts`` contiguous, nearly equal chunks."""
    if not items:
        return []
    parts = max(1, min(parts, len(items)))
    size = math.ceil(len(items) / parts)
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
