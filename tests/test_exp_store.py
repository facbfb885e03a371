"""experiments/store.py: the results directory, its manifest, atomic writes, and the
refusal to mix results of different configurations."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from exp_helpers import (
    SERIES_KEY,
    copy_results,
    outcomes_of,
    tiny_mapping,
    tmp_files,
    write_config,
)

from experiments import store as store_mod
from experiments.config import ConfigError, load_config, parse_config
from experiments.runner import run_experiment
from experiments.store import (
    KEY,
    ResultStore,
    StoreError,
    atomic_write_bytes,
    atomic_write_parquet,
    atomic_write_text,
)


@pytest.fixture
def config():
    return parse_config(tiny_mapping(), source="<test>")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ a finished run
def test_results_directory_layout(ref):
    cfg, root = ref
    for name in ("manifest.json", "config.toml", "outcomes.parquet", "summary.csv",
                 "report.md"):
        assert (root / name).is_file(), name
    assert (root / "config.toml").read_bytes() == cfg.read_bytes()
    assert list((root / "parts").glob("outcomes-*.parquet"))
    series = sorted(p.stem.removeprefix("series-")
                    for p in (root / "timeseries").glob("series-*.parquet"))
    parts = sorted(p.stem.removeprefix("outcomes-")
                   for p in (root / "parts").glob("outcomes-*.parquet"))
    assert series == parts  # one series file per committed batch
    assert list((root / "figures").glob("*.png"))
    assert not list((root / "failures").glob("*.json"))


def test_manifest_records_config_versions_seed_and_status(ref):
    cfg, root = ref
    config = load_config(cfg)
    m = json.loads((root / "manifest.json").read_text())
    assert m["name"] == "tiny"
    assert m["config_hash"] == config.digest() and len(m["config_hash"]) == 64
    assert m["config"] == json.loads(json.dumps(config.canonical(), default=str))
    assert m["seed"] == 7
    for pkg in ("python", "numpy", "mesa"):
        assert m["versions"][pkg], pkg
    assert m["versions"]["numpy"] == np.__version__
    assert m["runs_total"] == 8 and m["runs_done"] == 8 and m["runs_failed"] == 0
    assert m["status"] == "complete"
    assert m["started"] <= m["finished"]
    assert "git_commit" in m and m["executor"].startswith("local processes (1 worker")


def test_atomic_writes_leave_no_temporary_files(ref):
    assert tmp_files(ref[1]) == []


def test_committed_outcomes_have_no_duplicates(ref):
    parts = pd.concat([pd.read_parquet(p) for p in (ref[1] / "parts").glob("*.parquet")])
    assert not parts.duplicated(KEY).any() and len(parts) == 8
    series = ResultStore(ref[1]).series()
    assert not series.duplicated(SERIES_KEY).any()


# ------------------------------------------------------------------ refusals
def test_results_of_a_different_config_are_refused(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    before = snapshot(root)
    other = parse_config(tiny_mapping(seed=8), source="<test>")
    for resume in (False, True):
        with pytest.raises(StoreError) as info:
            run_experiment(other, out=root, workers=1, resume=resume, progress=False)
        msg = str(info.value)
        assert "holds results of a different configuration" in msg
        assert "--out" in msg and "--overwrite" in msg
    assert snapshot(root) == before  # nothing touched


def test_rerunning_without_resume_is_refused_suggesting_resume(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    before = snapshot(root)
    with pytest.raises(StoreError, match="already holds runs") as info:
        run_experiment(load_config(ref[0]), out=root, workers=1, progress=False)
    assert "--resume" in str(info.value) and "--overwrite" in str(info.value)
    assert snapshot(root) == before


def test_a_directory_that_is_not_an_experiment_is_refused(tmp_path, config):
    root = tmp_path / "other"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not an experiment directory"):
        ResultStore(root).prepare(config, resume=True)
    assert (root / "notes.txt").read_text() == "mine"
    ResultStore(tmp_path / "empty").prepare(config, resume=False)  # new or empty: fine
    (tmp_path / "empty2").mkdir()
    ResultStore(tmp_path / "empty2").prepare(config, resume=False)


def test_overwrite_replaces_results_of_another_config(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    (root / "failures").mkdir(exist_ok=True)
    (root / "failures" / "baseline-0000009.json").write_text("{}")
    (root / "figures" / "stale.png").write_bytes(b"old")
    cfg = write_config(tmp_path, tiny_mapping(seed=8), "seed8.toml")
    other = load_config(cfg)
    report = run_experiment(other, out=root, workers=1, overwrite=True, progress=False)
    assert (report.ran, report.skipped, report.failures) == (8, 0, [])
    out = outcomes_of(root)
    assert len(out) == 8 and (out["seed"] == 8).all()
    assert not (root / "failures" / "baseline-0000009.json").exists()
    assert not (root / "figures" / "stale.png").exists()
    m = json.loads((root / "manifest.json").read_text())
    assert m["config_hash"] == other.digest() and m["status"] == "complete"
    assert (root / "config.toml").read_bytes() == cfg.read_bytes()
    assert len(list((root / "parts").glob("*.parquet"))) == 1


def test_resume_of_a_complete_directory_runs_nothing(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    started = json.loads((root / "manifest.json").read_text())["started"]
    parts_before = sorted(p.name for p in (root / "parts").iterdir())
    report = run_experiment(load_config(ref[0]), out=root, workers=1, resume=True,
                            progress=False)
    assert (report.ran, report.skipped, report.failures) == (0, 8, [])
    assert not report.interrupted
    pd.testing.assert_frame_equal(outcomes_of(root), outcomes_of(ref[1]))
    assert (root / "summary.csv").read_bytes() == (ref[1] / "summary.csv").read_bytes()
    assert sorted(p.name for p in (root / "parts").iterdir()) == parts_before
    m = json.loads((root / "manifest.json").read_text())
    assert m["status"] == "complete" and m["runs_done"] == 8 and m["started"] == started


# ------------------------------------------------------------------ store units
def _outcome_rows(keys, value=0.5):
    return pd.DataFrame({"scenario": [k[0] for k in keys],
                         "replication": [k[1] for k in keys],
                         "value:basic": [value] * len(keys)})


def _series_rows(keys):
    rows = [{"scenario": s, "replication": np.int32(r), "year": y, "indicator": "ai",
             "segment": "all", "value": 0.1 * y}
            for s, r in keys for y in (2021, 2022)]
    return pd.DataFrame(rows)


def test_write_batch_commits_outcomes_and_clears_failures(tmp_path, config):
    store = ResultStore(tmp_path / "res")
    store.prepare(config, resume=False)
    assert not store.has_runs() and store.done_keys() == set()
    failure = {"scenario": "subsidy", "replication": 1, "error": "RuntimeError: x",
               "traceback": "...", "time": "now"}
    store.write_batch(_outcome_rows([("baseline", 0), ("baseline", 1), ("subsidy", 0)]),
                      _series_rows([("baseline", 0), ("baseline", 1), ("subsidy", 0)]),
                      [failure])
    assert store.has_runs()
    assert store.done_keys() == {("baseline", 0), ("baseline", 1), ("subsidy", 0)}
    assert store.failed_runs() == [failure]
    assert (store.failures / "subsidy-0000001.json").is_file()
    # a later success of the failed run removes its failure record
    store.write_batch(_outcome_rows([("subsidy", 1)]), _series_rows([("subsidy", 1)]), [])
    assert store.failed_runs() == []
    assert len(store.done_keys()) == 4
    # a batch where everything failed writes no (empty) outcome or series part
    store.write_batch(pd.DataFrame(), pd.DataFrame(), [dict(failure, replication=2)])
    assert len(list(store.parts.glob("*.parquet"))) == 2
    assert len(list(store.timeseries.glob("*.parquet"))) == 2
    assert [f["replication"] for f in store.failed_runs()] == [2]


def test_outcomes_and_series_drop_duplicates_and_sort(tmp_path, config):
    store = ResultStore(tmp_path / "res")
    store.prepare(config, resume=False)
    store.write_batch(_outcome_rows([("subsidy", 1), ("baseline", 0)]),
                      _series_rows([("subsidy", 1), ("baseline", 0)]), [])
    store.write_batch(_outcome_rows([("baseline", 0)]), _series_rows([("baseline", 0)]), [])
    out = store.outcomes()
    assert list(zip(out["scenario"], out["replication"], strict=True)) == \
        [("baseline", 0), ("subsidy", 1)]
    series = store.series()
    assert len(series) == 4 and not series.duplicated(SERIES_KEY).any()
    consolidated = store.consolidate()
    pd.testing.assert_frame_equal(pd.read_parquet(store.root / "outcomes.parquet"),
                                  consolidated)


def test_outcomes_fall_back_to_the_consolidated_file(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    for p in (root / "parts").iterdir():  # parts/ is git-ignored: a checkout lacks it
        p.unlink()
    pd.testing.assert_frame_equal(ResultStore(root).outcomes(), outcomes_of(ref[1]))
    (root / "outcomes.parquet").unlink()
    with pytest.raises(StoreError, match="holds no outcomes"):
        ResultStore(root).outcomes()
    assert ResultStore(tmp_path / "nothing").series().empty


def test_prepare_removes_orphan_series_and_temporary_files(tmp_path, config):
    store = ResultStore(tmp_path / "res")
    store.prepare(config, resume=False)
    store.write_manifest(config, status="running")
    store.write_batch(_outcome_rows([("baseline", 0)]), _series_rows([("baseline", 0)]), [])
    committed = sorted(p.name for p in store.timeseries.iterdir())
    # a batch killed between its series and its outcomes, and half-written files
    atomic_write_parquet(store.timeseries / "series-deadbeef0000.parquet",
                         _series_rows([("baseline", 1)]))
    for d in (store.root, store.parts, store.timeseries):
        (d / ".outcomes-x.parquet.1234abcd.tmp").write_bytes(b"partial")
    store.prepare(config, resume=True)
    assert sorted(p.name for p in store.timeseries.iterdir()) == committed
    assert tmp_files(store.root) == []
    assert store.done_keys() == {("baseline", 0)}
    assert len(store.series()) == 2


def test_clear_removes_results_but_not_other_files(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    (root / "notes.txt").write_text("keep")
    ResultStore(root).clear()
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------------ atomic writes
def test_atomic_writes_replace_whole_files(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    frame = pd.DataFrame({"a": [1, 2]})
    atomic_write_parquet(tmp_path / "p" / "f.parquet", frame)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p" / "f.parquet"), frame)
    assert tmp_files(tmp_path) == []


def test_an_interrupted_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "file.txt"
    atomic_write_text(target, "old")

    def crash(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_mod.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new")
    monkeypatch.setattr(store_mod.os, "replace", os.replace)
    assert target.read_text() == "old"
    assert [p.name.endswith(".tmp") for p in tmp_path.iterdir()].count(True) == 1


def test_versions_and_git_commit():
    v = store_mod.versions()
    assert v["python"].count(".") == 2 and "pandas" in v and "mesa" in v
    commit = store_mod.git_commit()
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)


def test_scenario_names_with_a_slash_cannot_hide_failures(tmp_path):
    raw = tiny_mapping()
    raw["scenarios"]["a/b"] = raw["scenarios"].pop("subsidy")
    try:
        config = parse_config(raw, source="<test>")
    except ConfigError:
        return  # refusing such names up front is a fix too
    store = ResultStore(tmp_path / "res")
    store.prepare(config, resume=False)
    failure = {"scenario": "a/b", "replication": 1, "error": "RuntimeError: x",
               "traceback": "", "time": ""}
    store.write_batch(pd.DataFrame(), pd.DataFrame(), [failure])
    assert [f["scenario"] for f in store.failed_runs()] == ["a/b"]
    assert all(p.parent == store.failures for p in store.failures.rglob("*.json"))


def test_a_moved_repository_still_finds_the_files_its_experiments_name(tmp_path):
    """The manifest records where the experiment file was relative to the results, so
    a clone elsewhere (or a results directory rebuilt with ``sme-abm report`` there)
    still finds the posterior the file names."""
    import shutil

    repo = tmp_path / "clone"
    calibration = repo / "results" / "calibration"
    calibration.mkdir(parents=True)
    shipped = Path(__file__).resolve().parents[1] / "results" / "calibration"
    shutil.copy(shipped / "posterior.parquet", calibration / "posterior.parquet")
    mapping = tiny_mapping()
    mapping["uncertainties"] = {"posterior": "../../results/calibration/posterior.parquet"}
    cfg = write_config(repo / "experiments" / "configs", mapping)
    store = ResultStore(repo / "results" / "tiny")
    store.root.mkdir()
    (store.root / "config.toml").write_bytes(cfg.read_bytes())
    store.write_manifest(load_config(cfg))
    assert store.manifest()["config_dir"] == os.path.join("..", "..", "experiments", "configs")

    moved = tmp_path / "elsewhere"
    shutil.move(repo, moved)
    config = ResultStore(moved / "results" / "tiny").stored_config()
    assert config.posterior is not None and config.posterior.is_file()
    assert config.posterior.resolve() == (moved / "results" / "calibration"
                                          / "posterior.parquet").resolve()


def test_an_older_manifest_with_an_absolute_config_dir_still_reads(ref, tmp_path):
    cfg, root = ref
    copy = copy_results(root, tmp_path / "copy")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["config_dir"] = str(cfg.parent.resolve())
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert ResultStore(copy).stored_config().digest() == load_config(cfg).digest()
