"""Scenario discovery with PRIM (the EMA workbench's implementation).

Over an experiment's (or a sensitivity analysis's) runs, PRIM peels the space of
uncertain parameters and levers down to boxes where a target is missed (or hit)
much more often than overall. The peeling trajectory shows the trade-off between
coverage (the share of all cases of interest inside the box) and density (the
share of the box's runs that are cases of interest); the chosen box is, among
those at least ``threshold`` dense, the one with the best balance of the two
(their harmonic mean).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import parse_config, read_toml
from .store import ResultStore, atomic_write_text
from .text import markdown_table

INTERESTS = ("miss", "hit")
SCENARIO_COLUMN = "policy_scenario"


@dataclass
class Discovery:
    target: str
    interest: str
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    coverage: float
    density: float
    mass: float
    n_cases: int
    n_runs: int


def _prim():
    with warnings.catch_warnings():
        # The workbench warns at import about optional extras it does not need here.
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def discover(x: pd.DataFrame, cases: np.ndarray, threshold: float = 0.8,
             mass_min: float = 0.05, target: str = "", interest: str = "miss") -> Discovery:
    """PRIM on inputs ``x`` (numeric or categorical columns) and a boolean ``cases``."""
    if not 0 < threshold <= 1:
        raise ValueError(f"--threshold: {threshold} must be in (0, 1]")
    cases = np.asarray(cases, dtype=bool)
    if cases.sum() == 0:
        raise ValueError(f"no run is a case of interest ({interest} {target}): nothing to find")
    if cases.all():
        raise ValueError(f"every run is a case of interest ({interest} {target}): nothing "
                         "tells them apart")
    reserved = {"scenario", "policy", "model"} & set(x.columns)
    if reserved:
        raise ValueError(f"input columns {sorted(reserved)} are reserved by the EMA workbench's "
                         "PRIM; rename them")
    x = x.loc[:, x.nunique() > 1].reset_index(drop=True)
    if x.shape[1] == 0:
        raise ValueError("every input is constant across the runs: nothing to peel")
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, cases, threshold=threshold, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.copy()
    f1 = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
    dense = f1[traj["density"] >= threshold]
    chosen = int(dense.idxmax() if len(dense) else traj["density"].idxmax())
    lims, init = box.box_lims[chosen], box.box_lims[0]
    # Quasi-p-values: how likely each restriction would arise by chance (-1: side free).
    qps = box.qp[chosen] if chosen < len(box.qp) else {}
    rows = []
    for col in x.columns:
        if pd.api.types.is_numeric_dtype(x[col]):
            lo, hi = float(lims[col].iloc[0]), float(lims[col].iloc[1])
            ilo, ihi = float(init[col].iloc[0]), float(init[col].iloc[1])
            rows.append({"dimension": col, "kind": "numeric", "low": lo, "high": hi,
                         "categories": "", "full_low": ilo, "full_high": ihi,
                         "restricted": bool(lo > ilo or hi < ihi)})
        else:
            cats, icats = set(lims[col].iloc[0]), set(init[col].iloc[0])
            rows.append({"dimension": col, "kind": "categorical", "low": np.nan,
                         "high": np.nan, "categories": ", ".join(sorted(map(str, cats))),
                         "full_low": np.nan, "full_high": np.nan,
                         "restricted": cats != icats})
    for r in rows:
        sides = [v for v in qps.get(r["dimension"], []) if v is not None and v >= 0]
        r["qp"] = max(sides) if sides else np.nan
    limits = pd.DataFrame(rows).sort_values(["restricted", "qp", "dimension"],
                                            ascending=[False, True, True], ignore_index=True)
    row = traj.loc[chosen]
    return Discovery(target=target, interest=interest, trajectory=traj, chosen=chosen,
                     limits=limits, coverage=float(row["coverage"]),
                     density=float(row["density"]), mass=float(row["mass"]),
                     n_cases=int(cases.sum()), n_runs=len(cases))


def inputs_of(outcomes: pd.DataFrame, root: Path) -> pd.DataFrame:
    """The uncertain inputs of each run: drawn parameters, sensitivity factors (when the
    directory holds a sensitivity analysis) and the scenario (categorical)."""
    x = outcomes[[c for c in outcomes.columns if c.startswith("param:")]].copy()
    x.columns = [c.removeprefix("param:") for c in x.columns]
    points = root / "points.csv"
    if points.exists():
        pts = pd.read_csv(points).set_index("point")
        factors = [c for c in pts.columns if c not in ("method", "index")]
        lever = pts.loc[outcomes["scenario"], [f for f in factors if f not in x.columns]]
        x = pd.concat([x.reset_index(drop=True), lever.reset_index(drop=True)], axis=1)
    elif outcomes["scenario"].nunique() > 1:
        # Not "scenario": the workbench drops columns named scenario, policy or model.
        x[SCENARIO_COLUMN] = outcomes["scenario"].astype(str).to_numpy()
    return x


def discover_dir(root: str | Path, target: str, interest: str = "miss",
                 threshold: float = 0.8) -> tuple[Discovery, list[Path]]:
    """Run PRIM on a results directory; write a table, a figure and a report."""
    from . import plots

    root = Path(root)
    if interest not in INTERESTS:
        raise ValueError(f"--interest: {interest!r} (allowed: {', '.join(INTERESTS)})")
    store = ResultStore(root)
    outcomes = store.outcomes()
    cfg = root / "config.toml"
    raw = read_toml(cfg)
    raw.pop("sensitivity", None)
    config = parse_config(raw, source=str(cfg), check_files=False)
    if target not in config.targets:
        raise ValueError(f"--target: no target {target!r} in {root} "
                         f"(allowed: {', '.join(config.targets)})")
    hit = outcomes[f"hit:{target}"].astype(bool).to_numpy()
    cases = ~hit if interest == "miss" else hit
    d = discover(inputs_of(outcomes, root), cases, threshold=threshold, target=target,
                 interest=interest)
    stem = f"discovery_{target}_{interest}"
    atomic_write_text(root / f"{stem}.csv", d.limits.to_csv(index=False))
    fig = plots.peeling_trajectory(
        d.trajectory, d.chosen, f"PRIM: runs that {interest} '{target}' "
        f"({d.n_cases} of {d.n_runs})", root / "figures" / f"{stem}.png")
    restricted = d.limits[d.limits["restricted"]]
    lines = [f"# Scenario discovery: runs that {interest} `{target}`\n",
             f"{d.n_cases} of {d.n_runs} runs are cases of interest. Chosen box "
             f"{d.chosen}: coverage {d.coverage:.2f}, density {d.density:.2f}, "
             f"mass {d.mass:.2f} (threshold {threshold}). "
             + ("No box restricts any input: PRIM's peeling found no region where the cases "
                f"reach a density of {threshold}, so they are spread over many combinations "
                "of inputs (a lower `--threshold` shows the densest regions there are).\n"
                if restricted.empty else
                "Restrictions with a quasi-p-value above 0.05 could well be chance.\n"),
             markdown_table(
                 [(f"`{r.dimension}`",
                   f"{r.low:.4g} to {r.high:.4g}" if r.kind == "numeric" else r.categories,
                   f"{r.full_low:.4g} to {r.full_high:.4g}" if r.kind == "numeric" else "all",
                   f"{r.qp:.2g}") for r in restricted.itertuples()],
                 ["dimension", "box", "full range", "quasi-p"])]
    lines.append(f"\n![peeling trajectory](figures/{fig.name})\n")
    report = root / f"{stem}.md"
    atomic_write_text(report, "\n".join(lines))
    return d, [root / f"{stem}.csv", fig, report]
