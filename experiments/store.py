"""The results directory of one experiment, and atomic writes into it.

::

    results/<name>/
      manifest.json        config and its hash, versions, git commit, seed, times, counts
      config.toml          the experiment file as run
      parts/               outcomes of finished batches, one Parquet file each (git-ignored)
      timeseries/          survey-year indicator series of finished batches (git-ignored)
      failures/            one JSON file per failed run, until a later run of it succeeds
      outcomes.parquet     one row per run (consolidated from parts/)
      summary.csv  figures/  report.md

A batch writes its time series first and its outcomes part last; the outcomes
part is the commit record, so a run counts as done only once it is in one. Every
file is written to a temporary name and renamed into place, so a process killed
at any moment leaves either the whole file or none of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from .config import ExperimentConfig

KEY = ["scenario", "replication"]
"""Key of an experiment's runs; a sensitivity analysis keys them by sample point
instead (``point``, then replication), its scenario being one and the same."""


def run_keys(frame: pd.DataFrame) -> list[str]:
    """The columns that identify a stored run (``KEY``, or point and replication)."""
    return ["point", "replication"] if "point" in frame.columns else KEY


def _failure_file(label: str, replication: int) -> str:
    return f"{label}-{replication:07d}.json"


class StoreError(RuntimeError):
    """The results directory cannot be used for this experiment."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"
        self.timeseries = self.root / "timeseries"
        self.failures = self.root / "failures"
        self.figures = self.root / "figures"
        self.manifest_path = self.root / "manifest.json"

    # ------------------------------------------------------------- lifecycle
    def prepare(self, config: ExperimentConfig, resume: bool, overwrite: bool = False) -> None:
        """Make the directory ready for ``config``; refuse to mix experiments."""
        digest = config.digest()
        if self.manifest_path.exists():
            old = self.manifest()
            if overwrite:
                self.clear()
            elif old.get("config_hash") != digest:
                runs = len(self.done_keys()) if self.has_runs() else 0
                hint = ("Choose another --out directory"
                        + (f"; --overwrite would delete the {runs} saved runs." if runs
                           else ", or pass --overwrite to replace it."))
                stored = _stored_replications(old)
                if stored is not None and _same_but_replications(old, config):
                    hint = (f"They differ only in run.replications: these were run with "
                            f"--replications {stored}; pass the same to continue them.")
                raise StoreError(
                    f"{self.root} holds results of a different configuration "
                    f"(config hash {old.get('config_hash', '?')[:12]}, this one {digest[:12]}). "
                    + hint
                )
            elif self.has_runs() and not resume:
                raise StoreError(
                    f"{self.root} already holds runs of this configuration. Pass --resume to "
                    "run only the missing ones, or --overwrite to start again."
                )
        elif self.root.exists() and any(self.root.iterdir()) and not overwrite:
            raise StoreError(f"{self.root} exists and is not an experiment directory "
                             "(no manifest.json); choose another --out directory.")
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_orphans()
        src = Path(config.source)
        if src.is_file():
            atomic_write_bytes(self.root / "config.toml", src.read_bytes())
        else:  # built in Python: write what was given, so `sme-abm report` can reload it
            atomic_write_text(self.root / "config.toml", to_toml(config.raw))

    def stored_replications(self, config: ExperimentConfig) -> int | None:
        """The replications of the runs stored here when they differ from ``config``'s
        only in that number (a run started with --replications), else None."""
        if not self.manifest_path.exists():
            return None
        old = self.manifest()
        stored = _stored_replications(old)
        if stored is None or stored == config.run.replications:
            return None
        return stored if _same_but_replications(old, config) else None

    def stored_config(self) -> ExperimentConfig:
        """The experiment as it was run here: its config.toml (files it names are not
        read again), with the replications actually run (a --replications override is
        in the manifest). Raises StoreError if this is not a results directory."""
        from dataclasses import replace

        from .config import load_config

        if not self.manifest_path.exists():
            raise StoreError(f"{self.root} is not a results directory (no manifest.json)")
        # Relative to this directory (absolute in older manifests): the files the
        # experiment names, such as its posterior, are found wherever the repository
        # was cloned to, and whether the package was installed editable or not.
        recorded = self.manifest().get("config_dir")
        config = load_config(self.root / "config.toml",
                             base_dir=self.root / recorded if recorded else None,
                             check_files=False)
        stored = self.stored_replications(config)
        if stored is not None:
            config = replace(config, run=replace(config.run, replications=stored))
        return config

    def clear(self) -> None:
        for sub in (self.parts, self.timeseries, self.failures, self.figures):
            shutil.rmtree(sub, ignore_errors=True)
        for name in ("outcomes.parquet", "summary.csv", "report.md", "report.html", "manifest.json",
                     "config.toml", "points.csv", "sensitivity.csv", "trajectories.parquet"):
            (self.root / name).unlink(missing_ok=True)
        for stale in self.root.glob("discovery_*"):  # derived from the runs being deleted
            stale.unlink()

    def _remove_orphans(self) -> None:
        """Time-series parts of batches killed before their outcomes were committed, and
        temporary files of interrupted writes."""
        committed = {p.stem.removeprefix("outcomes-")
                     for p in self.parts.glob("outcomes-*.parquet")}
        for p in self.timeseries.glob("series-*.parquet"):
            if p.stem.removeprefix("series-") not in committed:
                p.unlink()
        for d in (self.root, self.parts, self.timeseries, self.failures):
            for tmp in d.glob(".*.tmp"):
                tmp.unlink()

    # ------------------------------------------------------------- manifest
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, config: ExperimentConfig, **extra: Any) -> dict[str, Any]:
        old = self.manifest() if self.manifest_path.exists() else {}
        manifest = {
            "name": config.name,
            "config_hash": config.digest(),
            "config": config.canonical(),
            "seed": config.run.seed,
            "config_dir": self._relative(Path(config.source).resolve().parent)
            if Path(config.source).is_file() else None,
            "versions": versions(),
            "git_commit": git_commit(),
            "started": old.get("started", now()),
            **extra,
        }
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")
        return manifest

    def _relative(self, path: Path) -> str:
        # Relative to the results, not to the repository as calibration._portable does
        # for the shipped data: after `pip install .` (the README's main command) the
        # package, and so its idea of the repository, lies in site-packages.
        try:
            return os.path.relpath(path, self.root.resolve())
        except ValueError:  # another drive
            return str(path)

    # ------------------------------------------------------------- batches
    def write_batch(self, outcomes: pd.DataFrame, series: pd.DataFrame,
                    failures: list[dict[str, Any]]) -> None:
        batch = uuid.uuid4().hex[:12]
        if len(series):
            atomic_write_parquet(self.timeseries / f"series-{batch}.parquet", series)
        for failure in failures:
            label = failure.get("point") or failure["scenario"]
            name = _failure_file(label, failure["replication"])
            atomic_write_text(self.failures / name, json.dumps(failure, indent=2) + "\n")
        if len(outcomes):
            atomic_write_parquet(self.parts / f"outcomes-{batch}.parquet", outcomes)
            for label, replication in outcomes[run_keys(outcomes)].itertuples(index=False):
                (self.failures / _failure_file(label, replication)).unlink(missing_ok=True)

    def has_runs(self) -> bool:
        return any(self.parts.glob("outcomes-*.parquet"))

    def done_keys(self) -> set[tuple[str, int]]:
        keys: set[tuple[str, int]] = set()
        for p in self.parts.glob("outcomes-*.parquet"):
            # Only the key columns: parts of a large experiment are read on every resume.
            df = _read_part(p, columns=run_keys(_read_part(p, schema_only=True)))
            label, replication = run_keys(df)
            keys.update(zip(df[label], df[replication].astype(int), strict=True))
        return keys

    def failed_runs(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted(self.failures.glob("*.json"))]

    def outcomes(self) -> pd.DataFrame:
        """All committed outcomes, one row per run, sorted; duplicates dropped."""
        parts = sorted(self.parts.glob("outcomes-*.parquet"))
        if not parts:
            path = self.root / "outcomes.parquet"
            if path.exists():
                return _read_part(path)
            raise StoreError(f"{self.root} holds no outcomes")
        df = pd.concat([_read_part(p) for p in parts], ignore_index=True)
        return _tidy_runs(df)

    def series(self) -> pd.DataFrame:
        parts = sorted(self.timeseries.glob("series-*.parquet"))
        if not parts:
            return pd.DataFrame()
        df = pd.concat([_read_part(p) for p in parts], ignore_index=True)
        df = df.drop_duplicates([*KEY, "year", "indicator", "segment"])
        return df.sort_values([*KEY, "indicator", "segment", "year"], ignore_index=True)

    def consolidate(self) -> pd.DataFrame:
        out = self.outcomes()
        atomic_write_parquet(self.root / "outcomes.parquet", out)
        return out


def _tidy_runs(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop_duplicates(run_keys(df), keep="first")
    return df.sort_values(run_keys(df), ignore_index=True)


def to_toml(data: dict[str, Any]) -> str:
    """A TOML rendering of a config mapping (tomli-w)."""
    import tomli_w

    return tomli_w.dumps(data)


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in ("sme-abm", "numpy", "pandas", "mesa", "scipy", "pyarrow", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stored_replications(manifest: dict[str, Any]) -> int | None:
    try:
        return int(manifest["config"]["run"]["replications"])
    except (KeyError, TypeError, ValueError):
        return None


def _same_but_replications(manifest: dict[str, Any], config: ExperimentConfig) -> bool:
    """Whether the stored configuration is ``config`` with another replications count."""
    from dataclasses import replace

    stored = _stored_replications(manifest)
    if stored is None:
        return False
    other = replace(config, run=replace(config.run, replications=stored))
    try:
        return other.digest() == manifest.get("config_hash")
    except (TypeError, ValueError):
        return False


def _read_part(path: Path, columns: list[str] | None = None,
               schema_only: bool = False) -> pd.DataFrame:
    """A stored Parquet file (or an empty frame with its columns), or a StoreError naming
    it when it cannot be read."""
    try:
        if schema_only:
            return pq.read_schema(path).empty_table().to_pandas()
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, KeyError) as err:
        fix = ("delete it and run again with --resume: exactly the runs it held are "
               "recomputed" if path.parent.name in ("parts", "timeseries")
               else "restore it (e.g. from git) or rerun the experiment")
        raise StoreError(f"{path} is corrupt or unreadable ({type(err).__name__}); {fix}"
                         ) from None
