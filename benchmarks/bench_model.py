"""Benchmark full 2021-2030 runs of ``model.SMEEconomy``.

Usage::

    python benchmarks/bench_model.py            # 10k and 50k firms x 5, 420k firms x 2
    python benchmarks/bench_model.py --quick    # 10k and 50k firms x 1, no 420k
    python benchmarks/bench_model.py --profile  # also cProfile one 50k run (model/ code)

Every measurement runs in a fresh Python process pinned to one BLAS/OpenMP
thread, so sizes and repeats do not share caches or memory. In the child:

* set-up   = ``SMEEconomy(...)``: population, network, Mesa agent creation and
             collection of the first observation (2021 Q1), including the first
             read of the data tables (cached per process afterwards);
* stepping = ``model.run()``: the 39 quarterly steps 2021 Q2 .. 2030 Q4;
* firm-steps/s = n_firms x steps / stepping time;
* peak RSS = ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the
             run (the whole process: interpreter, imports and model).

Times are ``time.perf_counter`` wall times; the table shows medians over repeats.
Only the standard library is used here; the child imports the project.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "model"

TARGET_TOTAL_S = 2.0  # a 50,000-firm run, set-up and data collection included
TARGET_FIRM_STEPS = 5e6  # stepping throughput, firm-steps per second
TARGET_FIRMS = 50_000

# (firms, population, repeats, repeats with --quick; 0 = skipped)
CASES = (
    (10_000, "10-249", 5, 1),
    (50_000, "10-249", 5, 1),
    # About the real number of Dutch firms of 2-249 persons (CBS, all sectors); the
    # model's 2-249 frame (8 sector groups) holds 308,620, so weights are below 1 here.
    (420_000, "2-249", 2, 0),
)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------- child side
def _max_rss_mb() -> float:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def _child(n_firms: int, population: str, seed: int, profile: bool) -> None:
    t0 = time.perf_counter()
    import model
    from model import SMEEconomy

    t_import = time.perf_counter() - t0
    if not Path(model.__file__).resolve().is_relative_to(MODEL_DIR):
        raise RuntimeError(f"imported {model.__file__}, not the model in {MODEL_DIR}")
    rss_import = _max_rss_mb()

    if profile:
        _child_profile(SMEEconomy, n_firms, population, seed)
        return

    t1 = time.perf_counter()
    m = SMEEconomy(n_firms=n_firms, seed=seed, population=population)
    t2 = time.perf_counter()
    m.run()
    t3 = time.perf_counter()

    steps = m.steps
    if len(m.agents) != m.n_firms or len(m.datacollector.model_vars["ai"]) != steps + 1:
        raise RuntimeError("unexpected model state after the run")
    print(json.dumps({
        "n_firms": m.n_firms,
        "population": population,
        "steps": steps,
        "import_s": t_import,
        "setup_s": t2 - t1,
        "step_s": t3 - t2,
        "rss_import_mb": rss_import,
        "peak_rss_mb": _max_rss_mb(),
    }))


def _child_profile(model_cls, n_firms: int, population: str, seed: int) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    m = model_cls(n_firms=n_firms, seed=seed, population=population)
    m.run()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    prefix = str(MODEL_DIR) + os.sep
    for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        if file.startswith(prefix):
            where = f"{Path(file).relative_to(ROOT)}:{line}({func})"
            rows.append((cumtime, tottime, ncalls, where))
    rows.sort(reverse=True)
    print(f"Profile of one run, {n_firms:,} firms ({population}): {total:.2f} s under cProfile")
    print("(cProfile overhead inflates many small calls; shares are indicative)\n")
    print("| cumulative s | share | own s | calls | function |")
    print("|---:|---:|---:|---:|---|")
    for cum, own, ncalls, name in rows[:10]:
        print(f"| {cum:.3f} | {cum / total:.0%} | {own:.3f} | {ncalls:,} | `{name}` |")


# ---------------------------------------------------------------------- parent side
def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def _spawn(n_firms: int, population: str, seed: int, profile: bool = False) -> str:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child",
           str(n_firms), population, str(seed)]
    if profile:
        cmd.append("--profile")
    done = subprocess.run(cmd, env=_child_env(), cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child failed: {' '.join(cmd[2:])}")
    return done.stdout


def _measure(n_firms: int, population: str, repeats: int, seed: int) -> dict:
    runs = []
    for r in range(repeats):
        out = json.loads(_spawn(n_firms, population, seed).strip().splitlines()[-1])
        runs.append(out)
        print(f"  {n_firms:>7,} firms ({population}) run {r + 1}/{repeats}: "
              f"set-up {out['setup_s']:.3f} s, stepping {out['step_s']:.3f} s",
              file=sys.stderr, flush=True)
    med = {k: statistics.median(run[k] for run in runs)
           for k in ("import_s", "setup_s", "step_s", "rss_import_mb", "peak_rss_mb")}
    med["total_s"] = statistics.median(run["setup_s"] + run["step_s"] for run in runs)
    med["firm_steps_per_s"] = statistics.median(
        run["n_firms"] * run["steps"] / run["step_s"] for run in runs)
    med.update(n_firms=runs[0]["n_firms"], population=population, steps=runs[0]["steps"],
               repeats=repeats)
    return med


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _code_state() -> str:
    """Commit of the checkout, and whether the model code differs from it."""
    try:
        git = ["git", "-C", str(ROOT)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "model/*.py"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {head}" + (" with uncommitted changes in model/*.py" if dirty else "")


def _machine() -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cpus = f"{os.cpu_count()} logical" + (f", {usable} usable" if usable is not None else "")
    return [
        f"- platform: {platform.platform()}",
        f"- CPU: {_cpu_name()} ({cpus}); children pinned with "
        + ", ".join(f"{v}=1" for v in THREAD_VARS),
        f"- python {platform.python_version()} ({platform.python_implementation()}), "
        f"numpy {_version('numpy')}, pandas {_version('pandas')}, scipy {_version('scipy')}, "
        f"mesa {_version('mesa')}",
        f"- code: {_code_state()}",
    ]


def _table(results: list[dict]) -> list[str]:
    lines = [
        "| firms | population | steps | repeats | set-up s | stepping s | total s "
        "| firm-steps/s | peak RSS MB | RSS after import MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['n_firms']:,} | {r['population']} | {r['steps']} | {r['repeats']} "
            f"| {r['setup_s']:.3f} | {r['step_s']:.3f} | {r['total_s']:.3f} "
            f"| {r['firm_steps_per_s'] / 1e6:.2f} M | {r['peak_rss_mb']:.0f} "
            f"| {r['rss_import_mb']:.0f} |"
        )
    return lines


def _verdict(results: list[dict]) -> list[str]:
    ref = next((r for r in results if r["n_firms"] == TARGET_FIRMS), None)
    lines = [
        "Targets:",
        f"- a {TARGET_FIRMS:,}-firm run 2021-2030, set-up and data collection included, "
        f"in at most {TARGET_TOTAL_S:g} s",
        f"- stepping at least {TARGET_FIRM_STEPS / 1e6:g} million firm-steps per second",
    ]
    if ref is None:
        return lines
    ok_total = ref["total_s"] <= TARGET_TOTAL_S
    lines.append(f"- {TARGET_FIRMS:,} firms: total {ref['total_s']:.2f} s -> "
                 + ("met" if ok_total else "NOT met"))
    for r in results:
        ok = r["firm_steps_per_s"] >= TARGET_FIRM_STEPS
        lines.append(f"- {r['n_firms']:,} firms: {r['firm_steps_per_s'] / 1e6:.2f} M "
                     "firm-steps/s -> " + ("met" if ok else "NOT met"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one repeat each and skip the 420,000-firm case")
    parser.add_argument("--seed", type=int, default=1, help="model seed (same for all runs)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one 50,000-firm run with cProfile")
    parser.add_argument("--child", nargs=3, metavar=("N_FIRMS", "POPULATION", "SEED"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        n, pop, seed = args.child
        _child(int(n), pop, int(seed), args.profile)
        return 0

    started = time.perf_counter()
    results = []
    for n_firms, population, repeats, quick_repeats in CASES:
        reps = quick_repeats if args.quick else repeats
        if reps:
            results.append(_measure(n_firms, population, reps, args.seed))

    out = ["## SMEEconomy benchmark: full runs 2021 Q1 - 2030 Q4", "", *_machine(), "",
           *_table(results), "",
           "Medians over repeats, each run in a fresh process. Set-up = construction "
           "(population, network, Mesa agents, first data collection); stepping = "
           "model.run(); firm-steps/s = firms x steps / stepping time. "
           f"Importing the model takes {statistics.median(r['import_s'] for r in results):.2f} s "
           "per process (not included).", "", *_verdict(results)]
    print("\n".join(out))
    if args.profile:
        print()
        print(_spawn(TARGET_FIRMS, "10-249", args.seed, profile=True))
    print(f"\n(benchmark wall time {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
