"""experiments/executors.py: local processes and Dask; results never depend on the
executor or the number of workers."""

from __future__ import annotations

import json
import math
import operator

import pandas as pd
import pytest
from exp_helpers import outcomes_of, plain_series, write_config

from experiments.config import load_config
from experiments.executors import LocalExecutor, make_executor
from experiments.runner import run_experiment
from experiments.store import ResultStore


def test_make_executor_kinds_and_errors():
    ex = make_executor("local", 3)
    assert isinstance(ex, LocalExecutor) and ex.workers == 3
    assert ex.describe() == "local processes (3 workers)"
    assert make_executor("local", 1).describe() == "local processes (1 worker)"
    assert make_executor("local").workers >= 1  # default: all cores
    with pytest.raises(ValueError, match="--scheduler needs --executor dask"):
        make_executor("local", 2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match=r"unknown executor 'ray' \(allowed: local, dask\)"):
        make_executor("ray")


def test_one_local_worker_runs_in_this_process_in_order():
    calls = []

    def record(x):  # a closure: not picklable, so this must run in-process
        calls.append(x)
        return x * 10

    assert list(LocalExecutor(1).imap_unordered(record, [3, 1, 2])) == [30, 10, 20]
    assert calls == [3, 1, 2]
    assert list(LocalExecutor(1).imap_unordered(record, [])) == []


def test_local_pool_returns_every_result_and_raises_worker_errors():
    ex = LocalExecutor(2)
    items = list(range(-7, 8))
    assert sorted(ex.imap_unordered(operator.neg, items)) == sorted(-i for i in items)
    with pytest.raises(ValueError, match="math domain error"):
        list(ex.imap_unordered(math.sqrt, [4.0, -1.0, 9.0]))


@pytest.fixture(scope="module")
def batched(ref, tmp_path_factory):
    """The reference experiment in batches of one replication, so that two workers
    really share the work; with the reference's outcomes and series."""
    ref_root = ref[1]
    config = load_config(write_config(tmp_path_factory.mktemp("batched"), batch_size=1))
    return config, outcomes_of(ref_root), plain_series(ResultStore(ref_root).series())


def test_results_are_identical_with_1_and_2_local_workers(ref, batched, tmp_path):
    config, expected, expected_series = batched
    two = tmp_path / "two"
    report = run_experiment(config, out=two, workers=2, progress=False)
    assert report.ran == 8 and report.failures == []
    assert len(list((two / "parts").glob("*.parquet"))) == 4
    assert json.loads((two / "manifest.json").read_text())["executor"] == \
        "local processes (2 workers)"
    pd.testing.assert_frame_equal(outcomes_of(two), expected)
    pd.testing.assert_frame_equal(plain_series(ResultStore(two).series()), expected_series)
    assert (two / "summary.csv").read_bytes() == (ref[1] / "summary.csv").read_bytes()


def test_results_are_identical_on_a_dask_local_cluster(ref, batched, tmp_path):
    config, expected, expected_series = batched
    dask = tmp_path / "dask"
    report = run_experiment(config, out=dask, workers=2, executor="dask", progress=False)
    pd.testing.assert_frame_equal(ResultStore(dask).outcomes(), expected)
    pd.testing.assert_frame_equal(plain_series(ResultStore(dask).series()), expected_series)
    assert report.ran == 8 and report.failures == []
    manifest = json.loads((dask / "manifest.json").read_text())
    assert manifest["executor"] == "Dask local cluster (2 workers)"
    assert manifest["status"] == "complete"
    pd.testing.assert_frame_equal(outcomes_of(dask), expected)
    assert (dask / "summary.csv").read_bytes() == (ref[1] / "summary.csv").read_bytes()
