"""How far the calibration's final MCMC moves carry the particles per simulation, at the
committed posterior (epsilon = 1): the sampler's random-walk proposal against
alternatives tried for the chains' disagreement (docs/ODD.md 9).

    python benchmarks/bench_abc_moves.py [--chain C] [--burn-in B] [--steps S]
        [--workers W] [--firms N] [--scale F] [--moves joint de correlated]

Starts from one chain's particles in results/calibration/posterior.parquet, each with a
fresh simulation, and makes B joint random-walk moves first, so that the particles'
distances are about as lucky as the sampler's own (a pseudo-marginal particle keeps the
distance of the simulation that accepted it). Then, from that same state, each kind of
move for 2 S simulations per particle:

* ``joint``: the sampler's (experiments/abc.py): a Gaussian random walk with 2.38^2 / d
  times the particles' covariance and a fresh seed, pseudo-marginal;
* ``de``: differential-evolution proposals (ter Braak 2006): the difference of two
  particles of the starting state times 2.38 / sqrt(2 d), plus a little noise, with a
  fresh seed;
* ``correlated``: three random-walk moves that keep the particle's seed, then one move
  of the seed alone (tried and not adopted: docs/ODD.md 9).

``--scale`` multiplies the random walk's step (F = 1: the sampler's 2.38 / sqrt(d)).
``--firms`` simulates N firms instead of the calibration file's (its simulation noise
falls as 1/sqrt(N), its cost rises with N). Prints, per kind: the acceptance of its
moves, the squared jumping distance per simulation (in posterior standard deviations,
summed over the parameters), the share of particles that moved, the mean squared
distance from the start, and the wall seconds per simulation on the W workers (so kinds
and firm counts compare per second too).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.calibration import (
    DistanceTask,
    distances,
    load_calibration_config,
    observations,
    statistic_weights,
)
from experiments.observations import fitted

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "calibration.toml"
_STATE: dict = {}


def _init(firms: int | None = None) -> None:
    config = load_calibration_config(CONFIG)
    if firms is not None:
        config = dataclasses.replace(config, firms=firms)
    fit = fitted(observations(config), config.fit_until)
    _STATE.update(config=config, fit=fit, weights=statistic_weights(fit, config.likelihood),
                  names=list(config.priors))


def _d2(job: tuple[np.ndarray, int]) -> float:
    """The sampler's squared distance of ``theta`` simulated with seed number ``seed``
    (``experiments.calibration.distances``, as the calibration's workers compute it)."""
    theta, seed = job
    s = _STATE
    params = dict(zip(s["names"], map(float, theta), strict=True))
    [(_, distance)] = distances(DistanceTask(s["config"], s["fit"], s["weights"],
                                             ((seed, params),)))
    return distance**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chain", type=int, default=0)
    ap.add_argument("--burn-in", type=int, default=20)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--firms", type=int, default=None)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--moves", nargs="+", default=["joint", "de", "correlated"],
                    choices=["joint", "de", "correlated"])
    args = ap.parse_args()
    _init(args.firms)
    config, names = _STATE["config"], _STATE["names"]
    low = np.array([config.priors[k][0] for k in names])
    high = np.array([config.priors[k][1] for k in names])
    post = pd.read_parquet(ROOT / "results" / "calibration" / "posterior.parquet")
    start_theta = post[post["chain"] == args.chain][names].to_numpy()
    n, d = start_theta.shape
    sd = start_theta.std(axis=0)
    chol = np.linalg.cholesky(np.cov(start_theta.T) * 2.38**2 / d)
    burn_chol, chol = chol, chol * args.scale
    rng = np.random.default_rng(3)
    pool = get_context("spawn").Pool(args.workers, initializer=_init,
                                      initargs=(args.firms,))
    fresh = iter(range(10**9))

    def seeds(k: int) -> np.ndarray:
        return np.array([next(fresh) for _ in range(k)])

    def simulate(theta: np.ndarray, seed: np.ndarray) -> np.ndarray:
        return np.array(pool.map(_d2, list(zip(theta, seed.tolist(), strict=True)),
                                 chunksize=4))

    def move(state, proposal, keep_seed: bool):
        theta, seed, d2 = state
        inside = np.all((proposal >= low) & (proposal <= high), axis=1)
        new_seed = seed.copy() if keep_seed else seeds(n)
        new = np.full(n, np.inf)
        new[inside] = simulate(proposal[inside], new_seed[inside])
        ok = inside & (np.log(rng.random(n)) < -0.5 * (new - d2))
        theta, seed, d2 = theta.copy(), seed.copy(), d2.copy()
        theta[ok], seed[ok], d2[ok] = proposal[ok], new_seed[ok], new[ok]
        return (theta, seed, d2), ok

    def walk(theta, factor=None):
        return theta + rng.standard_normal(theta.shape) @ (chol if factor is None else factor).T

    def evolve(theta):
        a, b = rng.integers(n, size=n), rng.integers(n, size=n)
        return (theta + 2.38 / np.sqrt(2 * d) * (start_state[0][a] - start_state[0][b])
                + 1e-3 * sd * rng.standard_normal(theta.shape))

    def reseed(state):
        theta, seed, d2 = state
        new_seed = seeds(n)
        new = simulate(theta, new_seed)
        ok = np.log(rng.random(n)) < -0.5 * (new - d2)
        seed, d2 = seed.copy(), d2.copy()
        seed[ok], d2[ok] = new_seed[ok], new[ok]
        return (theta, seed, d2), ok

    s0 = seeds(n)
    state = (start_theta.copy(), s0, simulate(start_theta, s0))
    for _ in range(args.burn_in):  # at the sampler's scale, whatever --scale
        state, ok = move(state, walk(state[0], burn_chol), keep_seed=False)
    start_state = state
    print(f"{n} particles of chain {args.chain}, {config.firms:,} firms per simulation, "
          f"step x{args.scale:g}; after "
          f"{args.burn_in} joint moves: acceptance {ok.mean():.3f}, median squared distance "
          f"{np.median(state[2]):.1f}")
    plans = {"joint": ["walk"] * 2, "de": ["evolve"] * 2,
             "correlated": ["walk_same_seed"] * 3 + ["reseed"]}
    rows = []
    for kind in args.moves:
        s, moved, jump, sims = start_state, np.zeros(n, bool), 0.0, 0
        t0 = time.perf_counter()
        accepted: dict[str, list[float]] = {}
        reps = args.steps if kind != "correlated" else args.steps // 2
        for _ in range(reps):
            for step in plans[kind]:
                before = s[0]
                if step == "reseed":
                    s, ok = reseed(s)
                elif step == "evolve":
                    s, ok = move(s, evolve(s[0]), keep_seed=False)
                else:
                    s, ok = move(s, walk(s[0]), keep_seed=step == "walk_same_seed")
                sims += n
                accepted.setdefault(step, []).append(ok.mean())
                jump += float(np.sum(((s[0] - before) / sd) ** 2))
                moved |= np.any(s[0] != before, axis=1)
        far = float(np.mean(np.sum(((s[0] - start_state[0]) / sd) ** 2, axis=1)))
        rows.append({"moves": kind, "simulations": sims,
                     **{f"acceptance ({k})": np.mean(v) for k, v in accepted.items()},
                     "jump^2 per simulation": jump / sims, "moved": moved.mean(),
                     "distance^2 from start": far,
                     "seconds per simulation": (time.perf_counter() - t0) / sims})
    pool.close()
    print(pd.DataFrame(rows).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
