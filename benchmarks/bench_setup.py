"""Set-up and whole-run time of 10,000-firm runs in one process with warm data caches,
as the workers of an experiment run them (bench_model.py measures fresh processes).

    python benchmarks/bench_setup.py [N_FIRMS]

Prints medians over 7 runs to 2030 after one warm-up run.
"""

from __future__ import annotations

import statistics
import sys
import time

from model import SMEEconomy


def main(n_firms: int = 10_000) -> tuple[float, float]:
    SMEEconomy(n_firms, seed=0, end_year=2030).run()
    setup, total = [], []
    for r in range(7):
        t0 = time.perf_counter()
        model = SMEEconomy(n_firms, seed=r + 1, end_year=2030)
        t1 = time.perf_counter()
        model.run()
        setup.append(t1 - t0)
        total.append(time.perf_counter() - t0)
    s, t = statistics.median(setup), statistics.median(total)
    print(f"{n_firms:,} firms, warm caches: set-up {s:.4f} s, whole run {t:.4f} s "
          "(medians of 7)")
    return s, t


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
