"""Export a results directory for spreadsheets and other tools: outcomes, summary and
time series in tidy form, with a description of every column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .store import ResultStore

EXCEL_MAX_ROWS = 1_048_575
"""Rows a worksheet holds below its header."""

COLUMN_NOTES: tuple[tuple[str, str], ...] = (
    ("scenario", "scenario name from the experiment file"),
    ("replication", "replication number; every scenario's replication r shares its seed "
                    "and parameter draw (common random numbers)"),
    ("draw", "parameter draw (replication // seeds_per_draw)"),
    ("seed", "the experiment seed (a run's randomness is SeedSequence(seed, "
             "spawn_key=(replication,)))"),
    ("param:<name>", "parameter value of the run (docs/ODD.md section 8: unit, range, source)"),
    ("value:<target>", "the target's indicator in the target year as the survey reads it "
                       "(share of firms, 0-1)"),
    ("hit:<target>", "whether the value reaches the target's threshold"),
    ("spend_eur:<target>", "public spend (subsidies, EDIH services, campaigns) up to the "
                           "target year, EUR"),
    ("firms:<target>", "real firms in the target's population in the target year"),
    ("additional_firms:<target>", "change in real firms meeting the target's indicator at "
                                  "the target date against the paired baseline run"),
    ("supported_firms:<target>", "real firms the scenario supported (grant, or EDIH or "
                                 "campaign contact the baseline did not give)"),
    ("supported_additional / _brought_forward / _deadweight:<target>",
     "supported firms meeting the indicator only with support / earlier with support / "
     "no earlier with support (real firms)"),
    ("<indicator>@<segment>", "indicator in the final year for a segment (share 0-1)"),
    ("history:<series>", "root-mean-square standardised error of the run's simulated "
                         "2021-2025 survey readings of a fitted series; history:ok: all <= 2"),
    ("subsidy_spend_eur, edih_spend_eur, campaign_spend_eur", "cumulative spend, EUR"),
    ("subsidised_adoptions, deadweight_adoptions, edih_firms_served",
     "cumulative counts, real firms"),
    ("summary.csv columns", "see README.md, 'What an experiment writes'"),
    ("timeseries: year, indicator, segment, value", "survey-year (Q1) value of every "
     "indicator for the segments all, 10-249 and each size class, per run"),
    ("trajectories: q05 ... q95", "quantiles over runs of each target indicator's survey "
                                  "reading, per scenario and year"),
)


def tables(directory: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of a results directory, by name (raises StoreError if there are none)."""
    store = ResultStore(directory)
    root = Path(directory)
    out = {"outcomes": store.outcomes()}
    if (root / "summary.csv").exists():
        out["summary"] = pd.read_csv(root / "summary.csv")
    series = store.series()
    if not series.empty:
        out["timeseries"] = series
    if (root / "trajectories.parquet").exists():
        out["trajectories"] = pd.read_parquet(root / "trajectories.parquet")
    return out


def readme() -> pd.DataFrame:
    return pd.DataFrame(COLUMN_NOTES, columns=["column", "meaning"])


def export(directory: str | Path, out: str | Path, fmt: str = "csv") -> list[Path]:
    """Write the tables as CSV files or one Excel workbook (with a README sheet); returns
    the files written. Tables too long for a worksheet are written as CSV beside it."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"--format: {fmt!r} is not a format (allowed: csv, xlsx)")
    data = tables(directory)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if fmt == "csv":
        for name, frame in {"README": readme(), **data}.items():
            path = out / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
        return written
    path = out / f"{Path(directory).resolve().name}.xlsx"
    too_long = {k: v for k, v in data.items() if len(v) > EXCEL_MAX_ROWS}
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        notes = readme()
        if too_long:
            notes = pd.concat([notes, pd.DataFrame(
                [{"column": k, "meaning": f"{len(v):,} rows, more than a worksheet holds: "
                                          f"written to {k}.csv beside this workbook"}
                 for k, v in too_long.items()])], ignore_index=True)
        notes.to_excel(xl, sheet_name="README", index=False)
        for name, frame in data.items():
            if name not in too_long:
                frame.to_excel(xl, sheet_name=name, index=False)
    written.append(path)
    for name, frame in too_long.items():
        csv = out / f"{name}.csv"
        frame.to_csv(csv, index=False)
        written.append(csv)
    return written

