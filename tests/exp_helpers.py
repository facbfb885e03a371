"""Shared helpers for the experiment-system tests (tests/test_exp_*.py).

The standard experiment is tiny (500 firms, 2021-2024, two scenarios, two
targets, 4 replications with 2 seeds per parameter draw) so a full run with its
report takes a couple of seconds. ``reference_run`` runs it once per test
session (in-process, one worker) and caches the results directory; tests that
change a results directory must work on a copy (``copy_results``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.store import KEY

SCENARIOS = ("baseline", "subsidy")
TARGETS = ("basic", "advanced")
SERIES_KEY = [*KEY, "year", "indicator", "segment"]

_TINY: dict[str, Any] = {
    "name": "tiny",
    "description": "Tiny experiment for the tests: two scenarios, 500 firms, 2021-2024.",
    # exploratory: it draws two history-shaping parameters without a posterior (the
    # machinery under test does not depend on a calibration).
    "run": {"end_year": 2024, "firms": 500, "replications": 4, "seeds_per_draw": 2, "seed": 7,
            "exploratory": True},
    "targets": {
        "basic": {"indicator": "dii_at_least_basic", "threshold": 0.87, "year": 2024},
        "advanced": {"indicator": "advanced_any", "threshold": 0.77},
    },
    "uncertainties": {
        "peer_weight": {"distribution": "uniform", "low": 0.6, "high": 2.0},
        "basic_intercept": {"distribution": "normal", "mean": -3.29, "sd": 0.15},
    },
    "scenarios": {
        "baseline": {},
        "subsidy": {"subsidy": {"rate": 0.5, "cap_eur": 10000, "yearly_budget_eur": 20e6,
                                "technologies": ["cloud", "data_analytics", "ai"],
                                "start_year": 2022}},
    },
}


def tiny_mapping(**run: Any) -> dict[str, Any]:
    """The standard tiny experiment as a parsed-TOML mapping; keyword arguments
    override [run] settings (``name=`` renames the experiment)."""
    raw = copy.deepcopy(_TINY)
    if "name" in run:
        raw["name"] = run.pop("name")
    raw["run"].update(run)
    return raw


def write_config(directory: Path, mapping: Mapping[str, Any] | None = None,
                 filename: str = "tiny.toml", **run: Any) -> Path:
    """Write an experiment file (the tiny one by default) and return its path."""
    path = Path(directory) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(mapping if mapping is not None else tiny_mapping(**run)),
                    encoding="utf-8")
    return path


# ----------------------------------------------------------------- TOML writer
def to_toml(mapping: Mapping[str, Any]) -> str:
    """A mapping as a TOML document (the same writer the experiments use)."""
    from experiments.store import to_toml as write

    return write(dict(mapping))


# ----------------------------------------------------------------- running
_CACHE: dict[str, tuple[Path, Path]] = {}


def reference_run(tmp_path_factory) -> tuple[Path, Path]:
    """(config file, results directory) of an uninterrupted one-worker run of the
    tiny experiment; run once per session. Do not modify the directory."""
    if "tiny" not in _CACHE:
        from experiments.config import load_config
        from experiments.runner import run_experiment

        base = tmp_path_factory.mktemp("reference")
        cfg = write_config(base)
        out = base / "results"
        report = run_experiment(load_config(cfg), out=out, workers=1, progress=False)
        assert report.failures == [] and report.ran == len(SCENARIOS) * 4
        _CACHE["tiny"] = (cfg, out)
    return _CACHE["tiny"]


def copy_results(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def outcomes_of(root: Path) -> pd.DataFrame:
    """outcomes.parquet of a results directory, sorted by (scenario, replication)."""
    return sort_runs(pd.read_parquet(Path(root) / "outcomes.parquet"))


def sort_runs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(KEY, ignore_index=True)


def raw_parts(root: Path) -> pd.DataFrame:
    """Every committed outcome row as stored, duplicates NOT removed."""
    parts = sorted((Path(root) / "parts").glob("outcomes-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def raw_series(root: Path) -> pd.DataFrame:
    """Every stored time-series row, duplicates NOT removed."""
    parts = sorted((Path(root) / "timeseries").glob("series-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def plain_series(frame: pd.DataFrame) -> pd.DataFrame:
    """A series frame in a canonical form (plain string labels, sorted)."""
    frame = frame.copy()
    for col in ("indicator", "segment", "scenario"):
        frame[col] = frame[col].astype(str)
    return frame.sort_values(SERIES_KEY, ignore_index=True)


def tmp_files(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.name.endswith(".tmp"))


def cli_command(*args: str) -> list[str]:
    """The ``sme-abm`` command line, run with this interpreter."""
    return [sys.executable, "-m", "experiments.cli", *args]


def run_cli(*args: str) -> tuple[int, str, str]:
    """``sme-abm ARGS`` in this process: (return code, stdout, stderr)."""
    from experiments.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def interrupt_at(key: tuple[str, int]):
    """A stand-in for ``runner.run_one`` that raises KeyboardInterrupt (Ctrl-C) when it
    reaches the run ``key`` = (scenario, replication) and runs every other normally."""
    from experiments import runner

    real = runner.run_one

    def run_one(spec, targets):
        if spec.key == key:
            raise KeyboardInterrupt
        return real(spec, targets)

    return run_one
