"""Approximate Bayesian computation by sequential Monte Carlo with a Gaussian kernel:
an SMC sampler that tempers the kernel from the prior to the posterior under the
calibration's error model, with pseudo-marginal MCMC moves.

Target. With D(theta, u) the weighted distance of one simulation (randomness u) to
the observations, in units of the error model's standard deviations, generation t
targets prior(theta) x E_u[exp(-D^2 / (2 epsilon_t^2))]. At epsilon = 1 this is the
exact posterior of a model whose readings carry Gaussian error of the stated size:
ABC with a Gaussian kernel is exact inference under additive Gaussian error
(Wilkinson 2013, Stat. Appl. Genet. Mol. Biol. 12(2): 129-141). The tolerance
therefore ends at a value the error model fixes, not at whatever the time budget
reached.

Algorithm (Del Moral, Doucet and Jasra 2012, Stat. Comput. 22: 1009-1020, with a
Gaussian instead of a uniform kernel). Each generation lowers epsilon as far as keeps
the effective sample size of the reweighted particles at ``ESS_FRACTION`` of n (or to
the target), resamples them systematically, and moves every particle with
Metropolis-Hastings steps that keep the new target invariant: a random-walk proposal
inside the prior box, one simulation, accepted with probability
exp(-(D'^2 - D^2) / (2 epsilon^2)), the current particle keeping the distance of its
own simulation (pseudo-marginal; Andrieu and Roberts 2009). Particles carry equal
weights after every such generation. The generation that reaches the target only
reweights: its effective sample size is at least ``ESS_FRACTION`` of n (else the
tolerance would have stopped short of the target), the criterion below which an SMC
sampler resamples and moves (Del Moral, Doucet and Jasra 2012), and the importance
weights exp(-(beta_target - beta) D^2 / 2) of the previous generation's particles,
each with its own simulation's distance, are exact for the target on the
pseudo-marginal's extended space. Resampling and moving them there cost 14-21% of a
chain's simulations (60 MCMC steps at 2-4% acceptance) and, measured on one chain,
changed neither the fit nor the posterior beyond its Monte Carlo error (docs/ODD.md 9).

Why not the uniform kernel the project used before (Drovandi and Pettitt 2011's
replenishment): with survey noise added to each simulation ("noisy ABC") the
distance of one parameter set varied by a standard deviation of about 0.5 at a final
tolerance of 4.2, so a particle was accepted on a lucky draw and then rarely left:
MCMC acceptance fell below 1%, each chain's 200 particles held about 80 distinct
values, and two chains of the same calibration put the basic target's P(hit) at 44%
and 77%. A Gaussian kernel on the simulated readings (no added noise; the error model
is the kernel) gives a likelihood estimate whose logarithm varies by about 1 between
simulations, which is what pseudo-marginal moves tolerate. And why not pyabc: its
importance weights collapsed with 25 parameters (docs/ODD.md, calibration).

Every simulation has a number, and its seed derives from the calibration seed and
that number; proposals and acceptance draws are made in the main process in a fixed
order. The result is therefore the same for any number of workers or executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

ESS_FRACTION = 0.5
"""Each generation lowers the tolerance as far as keeps this share of the particles'
effective sample size."""
MOVE_FAILURE = 0.01
"""MCMC steps per generation are chosen so that a particle stays where it was with at
most this probability (Drovandi and Pettitt's c)."""
MAX_STEPS = 60


@dataclass(frozen=True)
class Generation:
    t: int
    epsilon: float  # kernel bandwidth, in units of the error model (inf: the prior)
    ess: float  # effective sample size of the reweighted particles before resampling
    acceptance: float  # NaN: no MCMC step (the generation that only reweights)
    mcmc_steps: int
    samples: int  # simulations in this generation
    seconds: float


@dataclass
class ABCResult:
    particles: pd.DataFrame  # one row per particle, one column per parameter
    distances: np.ndarray
    # Sum 1: equal after a generation that moved the particles, importance weights after
    # the one that reached the target by reweighting them.
    weights: np.ndarray = field(default_factory=lambda: np.array([]))
    generations: list[Generation] = field(default_factory=list)
    simulations: int = 0
    stop_reason: str = ""
    interrupted: bool = False
    epsilon: float = math.inf  # the kernel bandwidth the particles are a sample for
    reached: bool = False  # the particles sample the target, not a wider distribution

    @property
    def ess(self) -> float:
        """Effective sample size of the particles (n when equally weighted)."""
        return effective_sample_size(self.weights)

    def generation_records(self) -> list[dict[str, Any]]:
        """One dict per generation, JSON-ready: the prior generation has no kernel, and
        its tolerance is None, as is the acceptance of a generation that made no MCMC
        step (JSON has no infinity or NaN; a DataFrame would turn None into NaN)."""
        rows = [asdict(g) for g in self.generations]
        for r in rows:
            for k in ("epsilon", "acceptance"):
                r[k] = r[k] if math.isfinite(r[k]) else None
        return rows


Simulate = Callable[[Sequence[tuple[int, dict[str, float]]]], list[tuple[int, float]]]
"""Distances of numbered parameter sets: [(number, params)] -> [(number, distance)]."""


def smc_abc(simulate: Simulate, priors: Mapping[str, tuple[float, float]], n: int,
            seed: int, *, min_epsilon: float = 1.0, max_generations: int = 100,
            min_acceptance: float = 0.0, max_simulations: int = 10**9,
            max_seconds: float = math.inf, log: Callable[[str], None] | None = None,
            stop_requested: Callable[[], bool] | None = None) -> ABCResult:
    """Run the tempered SMC sampler from the prior down to the kernel bandwidth
    ``min_epsilon`` (the target: 1 is the posterior under the error model the distance
    is scaled by). It stops early, the particles then sampling a wider intermediate
    distribution (``ABCResult.reached`` false, the stop reason says which), at
    ``max_generations``, MCMC acceptance below ``min_acceptance``,
    ``max_simulations`` or ``max_seconds``. Ctrl-C, or ``stop_requested()`` turning
    true (checked before each batch of simulations), keeps the last finished
    generation (``interrupted``)."""
    if not min_epsilon > 0:
        raise ValueError(f"min_epsilon must be positive, got {min_epsilon}")
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
    result = ABCResult(particles=pd.DataFrame(theta, columns=names), distances=np.array([]),
                       weights=np.full(n, 1.0 / n))
    try:
        dist = run(theta)
    except KeyboardInterrupt:
        result.interrupted, result.stop_reason = True, "interrupted before the first generation"
        raise
    result.distances, result.simulations = dist, counter
    result.generations.append(Generation(0, math.inf, float(n), 1.0, 0, n,
                                         time.perf_counter() - start))
    log(f"generation 0: {n} draws from the prior, median distance {np.median(dist):.4g}")
    beta, beta_target = 0.0, 1.0 / min_epsilon**2
    steps = 1
    for t in range(1, max_generations + 1):
        t0, sims0 = time.perf_counter(), counter
        if counter >= max_simulations:
            result.stop_reason = f"max_simulations ({max_simulations}) reached"
            break
        if time.perf_counter() - start >= max_seconds:
            result.stop_reason = "wall time reached"
            break
        d2 = dist**2
        new_beta = next_temperature(d2, beta, beta_target, ESS_FRACTION * n)
        logw = -0.5 * (new_beta - beta) * d2
        w = np.exp(logw - logw.max())
        ess = effective_sample_size(w)
        if new_beta >= beta_target:
            # The target, with at least ESS_FRACTION of the sample: reweight, no move.
            beta = new_beta
            result.weights, result.epsilon, result.reached = w / w.sum(), min_epsilon, True
            result.generations.append(Generation(t, min_epsilon, ess, math.nan, 0, 0,
                                                 time.perf_counter() - t0))
            result.stop_reason = f"reached the target tolerance (epsilon = {min_epsilon:g})"
            log(f"generation {t}: epsilon {min_epsilon:.4g} by reweighting the particles "
                f"(effective sample size {ess:.0f} of {n}), {counter} simulations in all, "
                f"{time.perf_counter() - start:.0f} s")
            break
        pick = systematic_rows(w, n, rng)
        moving, moving_dist = theta[pick].copy(), dist[pick].copy()
        cov = np.atleast_2d(np.cov(moving.T)) * (2.38**2 / len(names))
        chol = np.linalg.cholesky(cov + 1e-12 * np.diag(np.diag(cov) + 1e-12))
        try:
            accepted = tried = 0
            # One trial step estimates the acceptance rate; then enough steps that a
            # particle moves with probability 1 - MOVE_FAILURE.
            s = 0
            while s < steps:
                proposal = moving + rng.standard_normal(moving.shape) @ chol.T
                log_u = np.log(rng.random(n))
                inside = np.all((proposal >= low) & (proposal <= high), axis=1)
                new_dist = np.full(n, np.inf)
                if inside.any():
                    new_dist[inside] = run(proposal[inside])
                ok = inside & (log_u < -0.5 * new_beta * (new_dist**2 - moving_dist**2))
                moving[ok], moving_dist[ok] = proposal[ok], new_dist[ok]
                accepted += int(ok.sum())
                tried += n
                s += 1
                if s == 1:
                    steps = _steps(accepted / tried)
        except KeyboardInterrupt:
            result.interrupted, result.stop_reason = True, f"interrupted in generation {t}"
            break
        rate = accepted / max(tried, 1)
        theta, dist, beta = moving, moving_dist, new_beta
        steps = _steps(rate)
        eps = 1.0 / math.sqrt(beta)
        result.particles = pd.DataFrame(theta, columns=names)
        result.distances, result.simulations, result.epsilon = dist, counter, eps
        result.weights = np.full(n, 1.0 / n)
        result.generations.append(Generation(t, eps, ess, rate, s, counter - sims0,
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


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights, normalised or not: n when
    they are equal, 1 when one particle carries them all (0 for no particles)."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w**2)) if len(w) else 0.0


def equally_weighted(weights: np.ndarray) -> bool:
    """Whether every particle carries the same weight (no reweighted generation)."""
    return bool(np.ptp(np.asarray(weights, float)) == 0) if len(weights) else True


def next_temperature(d2: np.ndarray, beta: float, beta_target: float, ess: float) -> float:
    """The largest inverse temperature up to ``beta_target`` at which the weights
    exp(-(b - beta) d2 / 2) keep an effective sample size of at least ``ess``."""

    def ess_at(b: float) -> float:
        logw = -0.5 * (b - beta) * d2
        return effective_sample_size(np.exp(logw - logw.max()))

    if ess_at(beta_target) >= ess:
        return beta_target
    lo, hi = beta, beta_target  # ess_at(lo) = n >= ess > ess_at(hi)
    for _ in range(100):  # bisection: the ESS falls monotonically in b
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess_at(mid) >= ess else (lo, mid)
    return lo if lo > beta else hi


def systematic_rows(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of a weighted sample by systematic resampling (Kitagawa 1996), in
    random order: each row appears floor(n w) or ceil(n w) times (w its normalised
    weight), so with n equal to the number of equally weighted particles every particle
    is used once. Independent draws with replacement (multinomial resampling) leave out
    about a third of the particles and repeat others: Monte Carlo error that the
    weighted sample does not contain."""
    w = np.asarray(weights, dtype=float)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    positions = (rng.random() + np.arange(n)) / n
    return rng.permutation(np.searchsorted(cdf, positions, side="right"))


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
