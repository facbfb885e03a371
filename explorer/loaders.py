"""Loaders and the trajectory figure for the results page (pandas and matplotlib only).

The directory is ``SME_ABM_RESULTS`` (default ``results/policy_comparison``); it holds
``summary.csv`` and ``trajectories.parquet`` as written by ``sme-abm run``/``report``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

DEFAULT_RESULTS = Path("results/policy_comparison")
SUMMARY_COLUMNS = ["scenario", "target", "p_hit", "ci_low", "ci_high", "n_runs",
                   "diff_vs_baseline", "diff_ci_low", "diff_ci_high", "p_hit_forecast",
                   "forecast_ci_low", "forecast_ci_high"]


def results_dir() -> Path:
    return Path(os.environ.get("SME_ABM_RESULTS", str(DEFAULT_RESULTS)))


def load_summary(directory: str | Path) -> pd.DataFrame:
    """One row per scenario and target: P(hit) and its interval (``ci_low``, ``ci_high``),
    scenarios in the order of the file."""
    frame = pd.read_csv(Path(directory) / "summary.csv")
    cols = [c for c in SUMMARY_COLUMNS if c in frame.columns]
    out = frame[cols].drop_duplicates(["scenario", "target"]).reset_index(drop=True)
    return out


def load_trajectories(directory: str | Path) -> pd.DataFrame:
    """Quantiles (q05..q95) per scenario, indicator, segment and year."""
    return pd.read_parquet(Path(directory) / "trajectories.parquet")


def _by_target(summary: pd.DataFrame, cell: pd.Series) -> pd.DataFrame:
    """One cell per scenario (rows, in the file's order) and target (columns)."""
    wide = (summary.assign(cell=cell)
            .pivot(index="scenario", columns="target", values="cell")
            .reindex(index=summary["scenario"].unique(), columns=summary["target"].unique()))
    return wide.reset_index()


def p_hit_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Scenarios as rows, targets as columns, cells ``p (low-high)`` in percent."""
    return _by_target(summary, summary.apply(
        lambda r: f"{100 * r.p_hit:.1f}% ({100 * r.ci_low:.1f}-{100 * r.ci_high:.1f})"
        if "ci_low" in summary else f"{100 * r.p_hit:.1f}%", axis=1))


def forecast_table(summary: pd.DataFrame) -> pd.DataFrame:
    """P(hit) allowing for the model's forecast error (docs/ODD.md 7.7) with its interval,
    like ``p_hit_table``; empty when the experiment named no back-test."""
    if "p_hit_forecast" not in summary or summary["p_hit_forecast"].isna().all():
        return pd.DataFrame()
    return _by_target(summary, summary.apply(
        lambda r: "-" if pd.isna(r.p_hit_forecast) else
        f"{100 * r.p_hit_forecast:.1f}% ({100 * r.forecast_ci_low:.1f}-"
        f"{100 * r.forecast_ci_high:.1f})", axis=1))


def paired_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Paired difference in P(hit) against the baseline (same draws and seeds), in
    percentage points with its interval; scenarios as rows, targets as columns."""
    if "diff_vs_baseline" not in summary:
        return pd.DataFrame()
    return _by_target(summary, summary.apply(
        lambda r: f"{100 * r.diff_vs_baseline:+.1f} pp "
        f"({100 * r.diff_ci_low:+.1f} to {100 * r.diff_ci_high:+.1f})", axis=1))


def trajectory_figure(traj: pd.DataFrame, indicator: str, scenarios: list[str]) -> Figure:
    """Median and 5-95% band per scenario for one indicator (first segment stored)."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    sel = traj[traj["indicator"] == indicator]
    if len(sel):
        segment = sel["segment"].iloc[0]
        sel = sel[sel["segment"] == segment]
    for k, name in enumerate(scenarios):
        s = sel[sel["scenario"] == name].drop_duplicates("year").sort_values("year")
        if not len(s):
            continue
        colour = f"C{k % 10}"
        ax.fill_between(s["year"], 100 * s["q05"], 100 * s["q95"], color=colour, alpha=0.15)
        ax.plot(s["year"], 100 * s["q50"], color=colour, label=name)
    target = 95 if "at_least_basic" in indicator else 75
    ax.axhline(target, ls="--", color="grey", lw=1, label=f"2030 target ({target}%)")
    ax.set_xlabel("year")
    ax.set_ylabel("% of firms")
    ax.set_title(f"{indicator}: median and 5-95% band", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return fig
