"""experiments/runner.py: running the missing runs of a design in batches, storing
each batch at once, failures, interruption (Ctrl-C and SIGKILL) and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from exp_helpers import (
    SCENARIOS,
    SERIES_KEY,
    cli_command,
    interrupt_at,
    outcomes_of,
    plain_series,
    raw_parts,
    raw_series,
    tiny_mapping,
    tmp_files,
    write_config,
)

from experiments import runner
from experiments.config import ConfigError, load_config, parse_config
from experiments.design import build_design
from experiments.outcomes import SERIES_SEGMENTS
from experiments.runner import BatchTask, batches, run_batch, run_experiment
from experiments.store import KEY, ResultStore


def config_of(**run):
    return parse_config(tiny_mapping(**run), source="<test>")


# ------------------------------------------------------------------ batching
@pytest.mark.parametrize(("replications", "batch_size", "workers"),
                         [(4, None, 1), (4, None, 8), (10, 3, 2), (10, 1, 1), (6, 100, 4)])
def test_batches_cover_every_run_once_and_keep_replications_together(
        replications, batch_size, workers):
    extra = {"batch_size": batch_size} if batch_size else {}
    config = config_of(replications=replications, seeds_per_draw=1, **extra)
    specs = build_design(config)
    tasks = batches(specs, config, workers, group=len(config.scenarios))
    keys = [s.key for t in tasks for s in t.runs]
    assert sorted(keys) == sorted(s.key for s in specs) and len(set(keys)) == len(keys)
    reps_of = [sorted({s.replication for s in t.runs}) for t in tasks]
    for task, reps in zip(tasks, reps_of, strict=True):
        assert len(task.runs) == len(reps) * len(SCENARIOS)  # all scenarios together
        assert tuple(t.name for t in task.targets) == ("basic", "advanced")
        if batch_size:
            assert len(reps) <= batch_size
    if batch_size:
        assert len(tasks) == -(-replications // batch_size)
    assert len({r for reps in reps_of for r in reps}) == replications


def test_batches_of_a_resumed_subset_hold_only_the_missing_runs():
    config = config_of(replications=6, seeds_per_draw=1, batch_size=2)
    specs = [s for s in build_design(config) if s.replication in (1, 4, 5)]
    tasks = batches(specs, config, 1, group=len(config.scenarios))
    assert [[s.key for s in t.runs] for t in tasks] == [
        [("baseline", 1), ("subsidy", 1), ("baseline", 4), ("subsidy", 4)],
        [("baseline", 5), ("subsidy", 5)]]


# ------------------------------------------------------------------ one run
@pytest.fixture(scope="module")
def one_run():
    config = config_of()
    spec = build_design(config)[1]  # subsidy, replication 0
    return config, spec, *runner.run_one(spec, tuple(config.targets.values()))


def test_run_one_outcome_row(one_run):
    config, spec, row, _, _ = one_run
    assert (row["scenario"], row["replication"], row["draw"], row["seed"]) == \
        ("subsidy", 0, 0, 7)
    for name, target in config.targets.items():
        value = row[f"value:{name}"]
        assert 0.0 <= value <= 1.0
        assert row[f"hit:{name}"] == (value >= target.threshold)
        assert row[f"firms:{name}"] > 0 and row[f"spend_eur:{name}"] > 0
    assert row["value:basic"] == row["dii_at_least_basic@10-249"]
    assert {f"param:{k}" for k in spec.parameters} <= set(row)
    assert row["subsidised_adoptions"] >= row["deadweight_adoptions"] >= 0
    # the history check: one score per series observed by the run's last year (2024)
    assert isinstance(row["history:ok"], bool)
    assert {"history:dii_v3_basic", "history:dii_v4", "history:ai"} <= set(row)
    assert row["history:ok"] == all(row[k] <= 2.0 for k in row
                                    if k.startswith("history:") and k != "history:ok")


def test_run_one_series(one_run):
    series = one_run[3]
    assert list(series.columns[:2]) == ["scenario", "replication"]
    assert set(series["scenario"]) == {"subsidy"} and set(series["replication"]) == {0}
    assert sorted(series["year"].unique()) == [2021, 2022, 2023, 2024]
    assert set(series["segment"].astype(str)) <= set(SERIES_SEGMENTS)
    assert not series.duplicated(["year", "indicator", "segment"]).any()


def test_run_one_is_deterministic(one_run):
    config, spec, row, series, _ = one_run
    row2, series2, _ = runner.run_one(spec, tuple(config.targets.values()))
    assert row2 == row
    pd.testing.assert_frame_equal(series2, series)


def test_run_batch_records_a_failing_run_and_goes_on(monkeypatch):
    config = config_of()
    specs = build_design(config)[:4]

    def fake(spec, targets):
        if spec.key == ("baseline", 1):
            raise ValueError("boom")
        return ({"scenario": spec.scenario, "replication": spec.replication},
                pd.DataFrame({"scenario": [spec.scenario], "replication": [spec.replication]}),
                None)

    monkeypatch.setattr(runner, "run_one", fake)
    res = run_batch(BatchTask(runs=tuple(specs), targets=tuple(config.targets.values())))
    assert res["n"] == 4 and len(res["outcomes"]) == 3 and len(res["series"]) == 3
    [failure] = res["failures"]
    assert (failure["scenario"], failure["replication"]) == ("baseline", 1)
    assert failure["error"] == "ValueError: boom"
    assert "Traceback" in failure["traceback"] and "boom" in failure["traceback"]


# ------------------------------------------------------------------ failures
def test_an_injected_failure_is_reported_and_resume_completes_it(ref, tmp_path, monkeypatch):
    cfg, ref_root = ref
    config = load_config(cfg)
    real = runner.run_one

    def flaky(spec, targets):
        if spec.key == ("subsidy", 1):
            raise RuntimeError("injected failure")
        return real(spec, targets)

    monkeypatch.setattr(runner, "run_one", flaky)
    out = tmp_path / "res"
    report = run_experiment(config, out=out, workers=1, progress=False)
    assert report.ran == 7 and not report.interrupted
    assert [(f["scenario"], f["replication"]) for f in report.failures] == [("subsidy", 1)]
    assert report.failures[0]["error"] == "RuntimeError: injected failure"
    files = list((out / "failures").glob("*.json"))
    assert [f.name for f in files] == ["subsidy-0000001.json"]
    assert json.loads(files[0].read_text())["error"] == "RuntimeError: injected failure"
    expected = outcomes_of(ref_root)
    missing = (expected["scenario"] == "subsidy") & (expected["replication"] == 1)
    pd.testing.assert_frame_equal(outcomes_of(out),
                                  expected[~missing].reset_index(drop=True))
    m = json.loads((out / "manifest.json").read_text())
    assert (m["status"], m["runs_done"], m["runs_failed"]) == ("incomplete", 7, 1)
    summary = report.summary.set_index(["scenario", "target"])
    assert summary.loc[("subsidy", "basic"), "n_runs"] == 3
    assert summary.loc[("baseline", "basic"), "n_runs"] == 4

    monkeypatch.undo()
    again = run_experiment(config, out=out, workers=1, resume=True, progress=False)
    assert (again.ran, again.skipped, again.failures) == (1, 7, [])
    assert not list((out / "failures").glob("*.json"))
    pd.testing.assert_frame_equal(outcomes_of(out), expected)
    assert not raw_parts(out).duplicated(KEY).any()
    m = json.loads((out / "manifest.json").read_text())
    assert (m["status"], m["runs_done"], m["runs_failed"]) == ("complete", 8, 0)


def test_when_every_run_fails_nothing_is_consolidated(tmp_path, monkeypatch):
    def broken(spec, targets):
        raise RuntimeError("no model today")

    monkeypatch.setattr(runner, "run_one", broken)
    out = tmp_path / "res"
    report = run_experiment(config_of(replications=2), out=out, workers=1, progress=False)
    assert report.ran == 0 and len(report.failures) == 4 and report.summary is None
    assert not (out / "outcomes.parquet").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"


# ------------------------------------------------------------------ interruption
def test_ctrl_c_stops_cleanly_and_resume_equals_an_uninterrupted_run(ref, tmp_path,
                                                                      monkeypatch):
    ref_root = ref[1]
    # Same experiment in batches of one replication: results must not depend on it.
    config = load_config(write_config(tmp_path, batch_size=1))
    monkeypatch.setattr(runner, "run_one", interrupt_at(("baseline", 2)))
    out = tmp_path / "res"
    report = run_experiment(config, out=out, workers=1, progress=False)
    assert report.interrupted and report.summary is None and report.ran == 4
    assert ResultStore(out).done_keys() == {(s, r) for s in SCENARIOS for r in (0, 1)}
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "interrupted" and m["runs_done"] == 4
    assert not (out / "outcomes.parquet").exists()

    monkeypatch.undo()
    again = run_experiment(config, out=out, workers=1, resume=True, progress=False)
    assert (again.ran, again.skipped, again.interrupted) == (4, 4, False)
    pd.testing.assert_frame_equal(outcomes_of(out), outcomes_of(ref_root))
    pd.testing.assert_frame_equal(plain_series(ResultStore(out).series()),
                                  plain_series(ResultStore(ref_root).series()))


def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path):
    cfg = write_config(tmp_path, name="killme", replications=20, batch_size=1)
    n_runs = 20 * len(SCENARIOS)
    out = tmp_path / "killed"
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(
        cli_command("run", str(cfg), "--out", str(out), "--workers", "1", "--quiet"),
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300  # a safety net against hanging, not a timing test
        while not list((out / "parts").glob("outcomes-*.parquet")):
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()
            assert time.monotonic() < deadline, "no batch was committed"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "outcomes.parquet").exists(), "the run finished before it was killed"
    done_before = ResultStore(out).done_keys()
    assert 0 < len(done_before) < n_runs
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"

    resumed = subprocess.run(
        cli_command("run", str(cfg), "--out", str(out), "--workers", "1", "--quiet",
                    "--resume"),
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    ran = n_runs - len(done_before)
    assert f"{ran} runs in " in resumed.stdout
    assert f"({len(done_before)} already done)" in resumed.stdout

    clean = tmp_path / "clean"
    run_experiment(load_config(cfg), out=clean, workers=1, progress=False)
    pd.testing.assert_frame_equal(outcomes_of(out), outcomes_of(clean))
    # no duplicates anywhere, not merely removed on reading
    parts = raw_parts(out)
    assert len(parts) == n_runs and not parts.duplicated(KEY).any()
    series = raw_series(out)
    assert not series.duplicated(SERIES_KEY).any()
    assert len(series) == len(raw_series(clean))
    pd.testing.assert_frame_equal(plain_series(ResultStore(out).series()),
                                  plain_series(ResultStore(clean).series()))
    assert tmp_files(out) == []
    m = json.loads((out / "manifest.json").read_text())
    assert (m["status"], m["runs_done"], m["runs_total"]) == ("complete", n_runs, n_runs)
    assert (out / "summary.csv").read_bytes() == (clean / "summary.csv").read_bytes()


# ------------------------------------------------------------------ overrides
def test_replications_override(tmp_path, ref):
    report = run_experiment(load_config(ref[0]), out=tmp_path / "res", workers=1,
                            replications=2, progress=False)
    assert report.ran == 4 and report.config.run.replications == 2
    m = json.loads((tmp_path / "res" / "manifest.json").read_text())
    assert m["runs_total"] == 4 and m["config"]["run"]["replications"] == 2
    out = outcomes_of(tmp_path / "res")
    assert sorted(set(out["replication"])) == [0, 1]
    # with two seeds per draw the single draw of 2 replications is not the reference's
    # first draw (the Latin hypercube depends on the number of draws): just check the
    # draw structure.
    assert np.all(out["draw"] == 0)


def test_resume_continues_with_the_stored_replications(tmp_path, ref):
    """A run started with --replications 2 continues with `--resume` alone, and a new
    run with another count is refused with the exact flag, never by deleting runs."""
    from experiments.store import StoreError

    config = load_config(ref[0])
    first = run_experiment(config, out=tmp_path / "res", workers=1, replications=2,
                           progress=False)
    assert first.ran == 4
    again = run_experiment(config, out=tmp_path / "res", workers=1, resume=True,
                           progress=False)
    assert again.ran == 0 and again.skipped == 4 and again.config.run.replications == 2
    with pytest.raises(StoreError) as err:
        run_experiment(config, out=tmp_path / "res", workers=1, progress=False)
    assert "--replications 2" in str(err.value) and "--overwrite" not in str(err.value)
    assert len(outcomes_of(tmp_path / "res")) == 4  # nothing was lost


def test_replications_override_must_be_a_multiple_of_seeds_per_draw(tmp_path, ref):
    with pytest.raises((ConfigError, ValueError)):
        run_experiment(load_config(ref[0]), out=tmp_path / "res", workers=1,
                       replications=5, progress=False)
