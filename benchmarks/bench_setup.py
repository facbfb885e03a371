"""Set-up and whole-run time of 10,000-firm runs in one process with warm data caches,
as the workers of an experiment run them (bench_model.py measures fresh processes).

    python benchmarks/bench_setup.py [N_FIRMS]

Prints medians over 9 runs after one warm-up run, for

* the model alone: ``SMEEconomy(...)`` and ``run()`` to the end of 2030, recording
  every quarter;
* a batch run as the main command's workers do it: ``experiments.runner.run_one`` on
  the first baseline runs of ``experiments/configs/policy_comparison.toml`` (posterior
  draws, survey-quarter recording, the additionality tracker, the outcome row and the
  survey series), with the firm count set to N_FIRMS;
* a replication as the main command's workers run it: ``run_one`` on each scenario of
  one replication in turn, the 2021 firms built once and copied (``model.economy``),
  and, alternating with it, built afresh for every scenario (the cache emptied before
  each run, as before it existed); the median paired ratio says what sharing saves.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

from model import SMEEconomy

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 9


def model_run(n_firms: int) -> tuple[float, float]:
    SMEEconomy(n_firms, seed=0, end_year=2030).run()
    setup, total = [], []
    for r in range(REPEATS):
        t0 = time.perf_counter()
        model = SMEEconomy(n_firms, seed=r + 1, end_year=2030)
        t1 = time.perf_counter()
        model.run()
        setup.append(t1 - t0)
        total.append(time.perf_counter() - t0)
    return statistics.median(setup), statistics.median(total)


def batch_run(n_firms: int) -> float:
    from experiments.config import load_config
    from experiments.design import build_design
    from experiments.runner import run_one

    config = load_config(ROOT / "experiments" / "configs" / "policy_comparison.toml")
    specs = [dataclasses.replace(s, firms=n_firms) for s in build_design(config)
             if s.scenario == config.baseline][: REPEATS + 1]
    targets = list(config.targets.values())
    run_one(specs[0], targets)
    times = []
    for spec in specs[1:]:
        t0 = time.perf_counter()
        run_one(spec, targets)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def replication_run(n_firms: int) -> tuple[float, float, float]:
    from experiments.config import load_config
    from experiments.design import build_design
    from experiments.runner import run_one
    from model import economy

    config = load_config(ROOT / "experiments" / "configs" / "policy_comparison.toml")
    specs = [dataclasses.replace(s, firms=n_firms) for s in build_design(config)]
    targets = list(config.targets.values())
    reps = sorted({s.replication for s in specs})[: REPEATS + 1]
    groups = [[s for s in specs if s.replication == r] for r in reps]
    shared, fresh = [], []
    for k, group in enumerate(groups):
        for share in ((True, False) if k % 2 else (False, True)):
            economy._LAST_FIRMS.clear()
            t0 = time.perf_counter()
            for spec in group:
                if not share:
                    economy._LAST_FIRMS.clear()
                run_one(spec, targets)
            if k:  # the first replication warms the caches
                (shared if share else fresh).append(time.perf_counter() - t0)
    ratio = statistics.median(a / b for a, b in zip(shared, fresh, strict=True))
    return statistics.median(shared), statistics.median(fresh), ratio


def main(n_firms: int = 10_000) -> tuple[float, float, float]:
    s, t = model_run(n_firms)
    b = batch_run(n_firms)
    print(f"{n_firms:,} firms, warm caches (medians of {REPEATS}): model set-up {s:.4f} s, "
          f"whole model run {t:.4f} s; batch run as the main command's workers do it "
          f"{b:.4f} s")
    shared, fresh, ratio = replication_run(n_firms)
    print(f"one replication's scenarios in turn: {shared:.3f} s with the 2021 firms built "
          f"once, {fresh:.3f} s built for every scenario (median paired ratio {ratio:.3f})")
    return s, t, b


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
