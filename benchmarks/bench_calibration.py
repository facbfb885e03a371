"""Time of one calibration simulation, the unit a calibration's wall time is made of
(224,011 of them for the committed six chains, spread over the cores).

    python benchmarks/bench_calibration.py [DRAWS]

Simulates DRAWS (default 40) parameter sets of results/calibration/posterior.parquet as
the calibration's workers do (``experiments.calibration.simulated_readings``: the
shipped calibration file's firm count and frame, 2021 to the last fitted survey, the
survey readings), one process, after one warm-up simulation, and prints the median and
quartiles of the seconds per simulation, and the set-up's share (building the
population, the network and the model) measured on the same draws with seeds of their
own. Posterior draws only: a calibration also simulates the prior-like draws of its
early generations, and its main process shares the cores; chain 0, rerun on 30 November,
spent 66 ms of CPU per simulation (2,666 s for 40,330) on a day this benchmark gave 47.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from experiments.calibration import (
    calibration_model,
    load_calibration_config,
    observations,
    simulated_readings,
)
from experiments.observations import fitted

ROOT = Path(__file__).resolve().parents[1]


def main(draws: int) -> None:
    config = load_calibration_config(ROOT / "experiments" / "configs" / "calibration.toml")
    fit = fitted(observations(config), config.fit_until)
    posterior = pd.read_parquet(ROOT / "results" / "calibration" / "posterior.parquet")
    names = list(config.priors)
    rows = posterior[names].to_numpy()
    params = [dict(zip(names, map(float, rows[k % len(rows)]), strict=True))
              for k in range(0, draws * 7, 7)]
    simulated_readings(config, fit, params[0], 0)
    whole, setup = [], []
    for k, p in enumerate(params):
        t0 = time.perf_counter()
        simulated_readings(config, fit, p, k + 1)
        whole.append(time.perf_counter() - t0)
        # A seed of its own: on the simulation's seed the model would copy the firms
        # that simulation built (model/economy.py, _initial_firms), and a calibration,
        # whose simulations each have their own seed, never does.
        t0 = time.perf_counter()
        calibration_model(p, config, draws + k + 1, int(fit["year"].max()))
        setup.append(time.perf_counter() - t0)
    q1, med, q3 = statistics.quantiles(whole, n=4)
    print(f"{draws} calibration simulations ({config.firms:,} firms, {config.population}, "
          f"2021 to {int(fit['year'].max())}):")
    print(f"- per simulation: median {1000 * med:.1f} ms (quartiles {1000 * q1:.1f}-"
          f"{1000 * q3:.1f})")
    print(f"- set-up: median {1000 * statistics.median(setup):.1f} ms "
          f"({statistics.median(setup) / med:.0%} of a simulation)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
