"""Run an experiment: the missing runs of its design, in batches, on an executor,
each finished batch stored at once; then the summary, figures and report.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import SMEEconomy
from model.timeline import START_YEAR

from . import additionality
from .config import ExperimentConfig, Target
from .design import RunSpec, build_design
from .executors import make_executor
from .observations import history_check, survey_value
from .outcomes import COUNTS, OUTCOME_INDICATORS, SERIES_SEGMENTS, SPEND
from .store import ResultStore, now

SECONDS_PER_FIRM_STEP = 5.5e-7
"""CPU seconds per firm and quarter of a whole run (set-up, observation and history check
included): policy_comparison took 491 CPU-s for 2,400 runs x 10,000 firms x 37
quarters. For sizing batches and estimating run times only."""


def estimated_seconds(config: Any) -> float:
    """Rough single-worker cost of an experiment (SECONDS_PER_FIRM_STEP, measured on this
    project's benchmark machine), for planning only."""
    steps = 4 * (config.run.end_year - START_YEAR + 1)
    return config.n_runs * config.run.firms * steps * SECONDS_PER_FIRM_STEP


@dataclass(frozen=True)
class BatchTask:
    """A picklable unit of work: several runs and what to extract from them."""

    runs: tuple[RunSpec, ...]
    targets: tuple[Target, ...]
    series: bool = True
    baseline: str | None = None  # scenario every other is paired with, firm by firm
    reference: tuple[RunSpec, ...] = ()  # baseline runs to repeat (not stored) for pairing


@dataclass
class RunResult:
    config: ExperimentConfig
    out: Path
    ran: int = 0
    skipped: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    summary: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


def run_one(spec: RunSpec, targets: Sequence[Target]
            ) -> tuple[dict[str, Any], pd.DataFrame, additionality.FirmRecord]:
    """One simulation: its outcome row, its survey-year series and the per-firm record
    that pairs it with its baseline."""
    model = SMEEconomy(n_firms=spec.firms, seed=spec.seed_sequence(), policy=spec.policy,
                       parameters=spec.parameters, end_year=spec.end_year,
                       population=spec.population, record="survey_quarters")
    tracker = additionality.Tracker(model, targets)
    # Survey values are quarter 1 of each year: nothing after the final survey is needed.
    model.run_until(spec.end_year, 1, each_step=tracker.update)
    simulated = model.survey_values()

    row: dict[str, Any] = {"scenario": spec.scenario, "replication": spec.replication,
                           "draw": spec.draw, "seed": spec.seed}
    if spec.point is not None:
        row["point"] = spec.point
    row.update({f"param:{k}": v for k, v in spec.parameters.items()})
    for t in targets:
        values = [survey_value(ind, t.segment, t.year, simulated, spec.parameters)
                  for ind in t.indicators]
        value = float(min(values))
        row[f"value:{t.name}"] = value
        row[f"hit:{t.name}"] = bool(value >= t.threshold)
        row[f"spend_eur:{t.name}"] = float(sum(simulated[(s, "all", t.year)] for s in SPEND))
        row[f"firms:{t.name}"] = float(simulated[("firms", t.segment, t.year)])
    final = spec.end_year
    for ind in OUTCOME_INDICATORS:
        for seg in SERIES_SEGMENTS:
            if (ind, seg, final) in simulated:
                row[f"{ind}@{seg}"] = float(simulated[(ind, seg, final)])
    for name in (*SPEND, *COUNTS):
        row[name] = float(simulated[(name, "all", final)])
    row.update(history_check(simulated, spec.parameters, spec.end_year))

    series = model.indicator_frame(quarter=1, segments=SERIES_SEGMENTS).drop(columns="quarter")
    series.insert(0, "replication", np.int32(spec.replication))
    series.insert(0, "scenario", spec.scenario)
    return row, series, tracker.record(model)


def run_batch(task: BatchTask) -> dict[str, Any]:
    """Run a batch; a run that raises is recorded and the others go on. With a
    baseline, each run's row gains its firm-by-firm additionality against the paired
    baseline run (``experiments.additionality``)."""
    rows, series, failures = [], [], []
    records: dict[int, dict[str, additionality.FirmRecord]] = {}
    caught: list[warnings.WarningMessage] = []
    stored_keys = {s.key for s in task.runs}
    for spec in (*task.runs, *task.reference):
        stored = spec.key in stored_keys
        try:
            with warnings.catch_warnings(record=True) as seen:
                # numpy's floating-point warnings become one line each at the end of the
                # experiment (and in the manifest) instead of scrolling past mid-run.
                warnings.simplefilter("always", RuntimeWarning)
                row, s, record = run_one(spec, task.targets)
            caught.extend(seen)
        except Exception as err:
            if stored:
                failures.append({"scenario": spec.scenario, "point": spec.point,
                                 "replication": spec.replication,
                                 "error": f"{type(err).__name__}: {err}",
                                 "traceback": traceback.format_exc(), "time": now()})
            continue
        if record is not None:
            records.setdefault(spec.replication, {})[spec.scenario] = record
        if not stored:
            continue
        rows.append(row)
        if task.series:
            series.append(s)
    if task.baseline is not None:
        paired = {r: additionality.paired_columns(recs, task.baseline, task.targets)
                  for r, recs in records.items()}
        for row in rows:
            row.update(paired.get(row["replication"], {}).get(row["scenario"], {}))
    return {
        "outcomes": pd.DataFrame(rows),
        "series": pd.concat(series, ignore_index=True) if series else pd.DataFrame(),
        "failures": failures,
        "n": len(task.runs),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
    }


def batches(specs: Sequence[RunSpec], config: Any, workers: int, group: int = 1,
            series: bool = True, baseline: str | None = None,
            design: Sequence[RunSpec] = ()) -> list[BatchTask]:
    """Cut the ordered runs into batches of whole groups of ``group`` runs (for an
    experiment: the scenarios of one replication, kept together).

    Batches are large enough that process start-up and ``import mesa`` (about a
    second) do not dominate, small enough for several per worker (load balance,
    progress, little lost on interruption).
    """
    n_groups = math.ceil(len(specs) / group) if specs else 0
    if getattr(config.run, "batch_size", None):
        per = config.run.batch_size
    else:
        run_seconds = (config.run.firms * 4 * (config.run.end_year - START_YEAR + 1)
                       * SECONDS_PER_FIRM_STEP)
        group_seconds = max(run_seconds * group, 1e-9)
        most = max(1, math.floor(10.0 / group_seconds))
        least = max(1, math.ceil(2.0 / group_seconds))
        per = min(most, max(least, math.ceil(n_groups / (4 * max(workers, 1)))))
    size = per * group
    targets = tuple(config.targets.values())
    base = {s.replication: s for s in design if s.scenario == baseline}
    tasks = []
    for i in range(0, len(specs), size):
        runs = tuple(specs[i:i + size])
        # A resumed replication whose baseline is already stored repeats it, unstored:
        # same seed, same firms, so the pairing is as if they had run together.
        have = {s.replication for s in runs if s.scenario == baseline}
        need = sorted({s.replication for s in runs} - have)
        reference = tuple(base[r] for r in need if r in base) if baseline else ()
        tasks.append(BatchTask(runs=runs, targets=targets, series=series,
                               baseline=baseline, reference=reference))
    return tasks


def execute(config: Any, specs: list[RunSpec], out: Path, workers: int | None = None,
            executor: str = "local", scheduler: str | None = None, resume: bool = False,
            overwrite: bool = False, progress: bool = True, group: int = 1,
            series: bool = True) -> RunResult:
    """Run the ``specs`` missing from ``out`` on an executor, storing each batch."""
    store = ResultStore(out)
    store.prepare(config, resume=resume, overwrite=overwrite)
    result = RunResult(config=config, out=out)
    done = store.done_keys()
    todo = [s for s in specs if s.key not in done]
    result.skipped = len(specs) - len(todo)
    ex = make_executor(executor, workers, scheduler)
    where = ex.describe()
    n_workers = getattr(ex, "workers", None) or workers or 1
    baseline = config.baseline if isinstance(config, ExperimentConfig) else None
    tasks = batches(todo, config, n_workers, group=group, series=series,
                    baseline=baseline, design=specs)
    from .config import config_warnings

    warnings = config_warnings(config) if isinstance(config, ExperimentConfig) else []
    store.write_manifest(config, executor=where, runs_total=len(specs),
                         runs_done=len(done), status="running", warnings=warnings)

    bar = _progress(len(todo), config.name, progress)
    start = time.perf_counter()
    runtime: dict[str, int] = {}
    try:
        for res in ex.imap_unordered(run_batch, tasks):
            for w in res.get("warnings", ()):
                runtime[w] = runtime.get(w, 0) + 1
            store.write_batch(res["outcomes"], res["series"], res["failures"])
            result.ran += len(res["outcomes"])
            result.failures.extend(res["failures"])
            bar.update(res["n"])
    except KeyboardInterrupt:
        result.interrupted = True
    except BrokenProcessPool as err:
        raise RuntimeError(
            f"a worker process died ({err}); perhaps out of memory: try fewer --workers or "
            f"firms. Finished batches are kept in {out}; continue with --resume."
        ) from None
    finally:
        bar.close()
        if hasattr(ex, "close"):
            ex.close()
        result.seconds = time.perf_counter() - start

    failed = store.failed_runs()
    n_done = len(store.done_keys())
    status = ("interrupted" if result.interrupted else
              "complete" if n_done == len(specs) else "incomplete")
    store.write_manifest(config, executor=where, runs_total=len(specs), warnings=warnings,
                         runs_done=n_done, runs_failed=len(failed), status=status,
                         finished=now(), seconds_last_session=round(result.seconds, 1),
                         runtime_warnings=[f"{w} (in {n} batch(es))"
                                           for w, n in sorted(runtime.items())])
    result.warnings = [f"{w} (in {n} batch(es))" for w, n in sorted(runtime.items())]
    result.failures = failed
    if not result.interrupted and n_done:
        store.consolidate()
    return result


def run_experiment(
    config: ExperimentConfig,
    out: str | Path | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    replications: int | None = None,
    progress: bool = True,
) -> RunResult:
    """Run what is missing of ``config`` into ``out`` (default ``results/<name>``)."""
    from . import report as report_mod

    out = Path(out) if out else Path("results") / config.name
    if replications is None and resume:
        # A run started with --replications continues with the same number: the manifest
        # holds it, so `--resume` alone cannot be mistaken for a different experiment.
        replications = ResultStore(out).stored_replications(config)
    if replications is not None:
        if replications < 1 or replications % config.run.seeds_per_draw:
            raise ValueError(f"--replications: {replications} must be a positive multiple of "
                             f"run.seeds_per_draw ({config.run.seeds_per_draw})")
        run = replace(config.run, replications=replications)
        config = replace(config, run=run)
    result = execute(config, build_design(config), out, workers=workers, executor=executor,
                     scheduler=scheduler, resume=resume, overwrite=overwrite,
                     progress=progress, group=len(config.scenarios))
    if not result.interrupted and (out / "outcomes.parquet").exists():
        result.summary = report_mod.build(ResultStore(out), config)
    return result


def _progress(total: int, name: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="run", dynamic_ncols=True,
                disable=not enabled or total == 0,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs "
                           "[{elapsed}<{remaining}, {rate_fmt}]")
