"""Compare two experiments' results, scenario by scenario and target by target.

Where both experiments ran the same runs (same seeds, the same parameter draw for each
replication, the same firms), replication r of a scenario in one is the same
simulated world as replication r in the other, and differences are paired: Newcombe's
interval for paired proportions for P(hit), a paired t interval for the target-year
value. Otherwise the two are independent samples, and the table says so: Newcombe's
interval for two independent proportions (method 10) and Welch's interval.

Runs that share a posterior parameter set are not independent: every interval uses
the runs' effective number and Student's t on the parameter sets less one
(``analysis.effective_runs``), widened where the calibration chains behind the runs
disagree (``analysis.chain_error``), as in an experiment's own summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import forecast_error
from .analysis import (
    chain_error,
    effective_runs,
    forecast_mean,
    mean_interval,
    paired_interval,
    parameter_sets,
    posterior_chains,
    proportion_interval,
    widest,
)
from .config import ExperimentConfig, Target
from .store import ResultStore
from .text import markdown_table, pct, pp

COLUMNS = ("scenario", "target", "paired", "n_a", "n_b", "p_hit_a", "p_hit_b", "p_hit_diff",
           "p_hit_diff_low", "p_hit_diff_high", "value_a", "value_b", "value_diff",
           "value_diff_low", "value_diff_high", "p_hit_forecast_a", "p_hit_forecast_b",
           "forecast_diff", "forecast_diff_low", "forecast_diff_high")


@dataclass(frozen=True)
class Experiment:
    """A results directory: its name, the design as run, and its outcomes."""

    path: Path
    config: ExperimentConfig
    outcomes: pd.DataFrame

    @property
    def name(self) -> str:
        return self.config.name


def load_experiment(directory: str | Path) -> Experiment:
    """Read a results directory (raises StoreError with the reason if it is not one)."""
    store = ResultStore(directory)
    return Experiment(Path(directory), store.stored_config(), store.outcomes())


def same_target(a: ExperimentConfig, b: ExperimentConfig, name: str) -> bool:
    return name in a.targets and a.targets.get(name) == b.targets.get(name)


def runs_pair(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether replication r is the same simulated world in both: same seed and the
    same value of every parameter both record, replication by replication."""
    key = ["replication"]
    left = a.drop_duplicates("replication").set_index(key)
    right = b.drop_duplicates("replication").set_index(key)
    common = left.index.intersection(right.index)
    if common.empty or not (left.loc[common, "seed"] == right.loc[common, "seed"]).all():
        return False
    params = sorted({c for c in left.columns if c.startswith("param:")}
                    | {c for c in right.columns if c.startswith("param:")})
    for c in params:
        if c not in left or c not in right:
            return False
        if not np.allclose(left.loc[common, c].to_numpy(float),
                           right.loc[common, c].to_numpy(float), rtol=0, atol=0):
            return False
    return True


def _chains(runs: pd.DataFrame, config: ExperimentConfig) -> np.ndarray | None:
    chains = posterior_chains(runs, config)
    return None if chains is None else chains.to_numpy()


def _independent_interval(x: np.ndarray, y: np.ndarray, gx: np.ndarray, gy: np.ndarray,
                          cx: np.ndarray | None, cy: np.ndarray | None
                          ) -> tuple[float, float, float]:
    """Difference of two independent proportions with Newcombe's hybrid score interval
    (Newcombe 1998, method 10), from each side's interval for P(hit)
    (``analysis.proportion_interval``: effective number and chains)."""
    if len(x) == 0 or len(y) == 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x.mean(), y.mean()
    l1, u1 = proportion_interval(x, gx, cx)
    l2, u2 = proportion_interval(y, gy, cy)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _welch(d: float, vx: float, vy: float, dfx: float, dfy: float) -> tuple[float, float]:
    """Welch's 95% interval for a difference d of two means with variances vx and vy
    (of the means) on dfx and dfy degrees of freedom (Welch-Satterthwaite)."""
    se = math.sqrt(vx + vy)
    if se == 0:
        return (d, d)
    if dfx <= 0 or dfy <= 0:
        return (-math.inf, math.inf)
    df = (vx + vy) ** 2 / (vx**2 / dfx + vy**2 / dfy)
    t = float(stats.t.ppf(0.975, df))
    return (d - t * se, d + t * se)


def _welch_interval(x: np.ndarray, y: np.ndarray, gx: np.ndarray, gy: np.ndarray,
                    cx: np.ndarray | None, cy: np.ndarray | None
                    ) -> tuple[float, float, float]:
    if len(x) < 2 or len(y) < 2:
        return (float(x.mean() - y.mean()) if len(x) and len(y) else math.nan,
                math.nan, math.nan)
    nx, ny = effective_runs(x, gx)[0], effective_runs(y, gy)[0]
    d = float(x.mean() - y.mean())
    runs = _welch(d, x.var(ddof=1) / nx, y.var(ddof=1) / ny, nx - 1, ny - 1)
    (sx, kx), (sy, ky) = chain_error(x, cx), chain_error(y, cy)
    chains = (_welch(d, sx**2, sy**2, kx - 1, ky - 1) if kx >= 2 and ky >= 2
              else (math.nan, math.nan))
    return (d, *widest(runs, chains))


def compare(a: Experiment, b: Experiment) -> tuple[pd.DataFrame, list[str]]:
    """B minus A for every scenario and target both hold with the same definition; and
    the notes on what could not be compared."""
    notes: list[str] = []
    for name in sorted(set(a.config.targets) | set(b.config.targets)):
        if not same_target(a.config, b.config, name):
            notes.append(f"target {name!r}: not in both experiments with the same definition; "
                         "not compared")
    rows = []
    errors_a, errors_b = (forecast_error.for_experiment(e.config.forecast_error,
                                                        e.config.posterior) for e in (a, b))
    for scenario in [s for s in b.config.scenarios if s in a.config.scenarios]:
        ra = a.outcomes[a.outcomes["scenario"] == scenario]
        rb = b.outcomes[b.outcomes["scenario"] == scenario]
        paired = runs_pair(ra, rb)
        ra_i, rb_i = ra.set_index("replication"), rb.set_index("replication")
        common = ra_i.index.intersection(rb_i.index)
        sets_a = parameter_sets(ra, a.config).to_numpy()
        sets_b = parameter_sets(rb, b.config).to_numpy()
        sets_common = parameter_sets(rb_i.loc[common], b.config).to_numpy()
        chains_a, chains_b = _chains(ra, a.config), _chains(rb, b.config)
        chains_common = _chains(rb_i.loc[common], b.config)
        for name in b.config.targets:
            if not same_target(a.config, b.config, name):
                continue
            ha, hb = (ra[f"hit:{name}"].to_numpy(bool), rb[f"hit:{name}"].to_numpy(bool))
            va, vb = (ra[f"value:{name}"].to_numpy(float), rb[f"value:{name}"].to_numpy(float))
            if paired:
                d = paired_interval(rb_i.loc[common, f"hit:{name}"].to_numpy(),
                                    ra_i.loc[common, f"hit:{name}"].to_numpy(),
                                    sets_common, chains_common)
                pa, pb = (r.loc[common, f"value:{name}"].to_numpy(float) for r in (ra_i, rb_i))
                v = mean_interval(pb - pa, sets_common, chains_common)
            else:
                d = _independent_interval(hb, ha, sets_b, sets_a, chains_b, chains_a)
                v = _welch_interval(vb, va, sets_b, sets_a, chains_b, chains_a)
            sds = _forecast_sds(errors_a, errors_b, b.config.targets[name], va, vb)
            f, chance = (math.nan,) * 3, (math.nan, math.nan)
            if sds is not None:
                threshold = b.config.targets[name].threshold
                chance = tuple(float(forecast_error.hit_probability(x, threshold, s).mean())
                               for x, s in ((va, sds[0][0]), (vb, sds[0][1])))
                if paired:
                    f = _paired_forecast_change(pa, pb, threshold, sds, sets_common,
                                                chains_common)
                else:
                    f = _independent_forecast_change(va, vb, threshold, sds, sets_a, sets_b,
                                                     chains_a, chains_b)
            rows.append({
                "forecast_diff": f[0], "forecast_diff_low": f[1], "forecast_diff_high": f[2],
                "p_hit_forecast_a": chance[0], "p_hit_forecast_b": chance[1],
                "scenario": scenario, "target": name, "paired": paired,
                "n_a": len(ra), "n_b": len(rb), "p_hit_a": ha.mean() if len(ha) else math.nan,
                "p_hit_b": hb.mean() if len(hb) else math.nan,
                "p_hit_diff": d[0], "p_hit_diff_low": d[1], "p_hit_diff_high": d[2],
                "value_a": va.mean() if len(va) else math.nan,
                "value_b": vb.mean() if len(vb) else math.nan,
                "value_diff": v[0], "value_diff_low": v[1], "value_diff_high": v[2],
            })
    for s in sorted(set(a.config.scenarios) ^ set(b.config.scenarios)):
        notes.append(f"scenario {s!r}: only in one experiment; not compared")
    return pd.DataFrame(rows, columns=list(COLUMNS)), notes


def _forecast_sds(errors_a: forecast_error.ForecastError | None,
                  errors_b: forecast_error.ForecastError | None, target: Target,
                  va: np.ndarray, vb: np.ndarray
                  ) -> tuple[tuple[float, float], ...] | None:
    """The forecast error's sd (log-odds) for a target in experiment A and in B, at the
    estimate and at the ends of each one's 95% interval (docs/ODD.md 7.7), when both
    experiments name a back-test that measures the target's family and both have runs."""
    if errors_a is None or errors_b is None or len(va) == 0 or len(vb) == 0:
        return None
    sd_a = errors_a.sd(target.indicator, target.year)
    sd_b = errors_b.sd(target.indicator, target.year)
    if math.isnan(sd_a[0]) or math.isnan(sd_b[0]):
        return None
    return tuple(zip(sd_a, sd_b, strict=True))


def _paired_forecast_change(va: np.ndarray, vb: np.ndarray, threshold: float,
                            sds: tuple[tuple[float, float], ...], groups: np.ndarray,
                            chains: np.ndarray | None) -> tuple[float, float, float]:
    """Mean over paired runs of B's chance of a hit minus A's, each under its own
    experiment's forecast error, with the widest interval over the error's ends
    (``analysis.forecast_mean``)."""
    def change(s: tuple[float, float]) -> np.ndarray:
        return (forecast_error.hit_probability(vb, threshold, s[1])
                - forecast_error.hit_probability(va, threshold, s[0]))

    return forecast_mean(change, sds, groups, chains, (-1.0, 1.0))


def _independent_forecast_change(va: np.ndarray, vb: np.ndarray, threshold: float,
                                 sds: tuple[tuple[float, float], ...], sets_a: np.ndarray,
                                 sets_b: np.ndarray, chains_a: np.ndarray | None,
                                 chains_b: np.ndarray | None) -> tuple[float, float, float]:
    """The same for independent runs: Welch's interval at each of the error's sds, the
    widest of them."""
    found = [_welch_interval(forecast_error.hit_probability(vb, threshold, s[1]),
                             forecast_error.hit_probability(va, threshold, s[0]),
                             sets_b, sets_a, chains_b, chains_a) for s in sds]
    lo, hi = widest(*(x[1:] for x in found))
    return (found[0][0], *(float(np.clip(v, -1.0, 1.0)) for v in (lo, hi)))


def render(a: Experiment, b: Experiment, table: pd.DataFrame, notes: list[str],
           figure: Path | None) -> str:
    """The comparison as Markdown."""
    def change(x: float, lo: float, hi: float) -> str:
        ci = "" if math.isnan(lo) else f" ({100 * lo:+.1f} to {100 * hi:+.1f})"
        return pp(x) + ("" if math.isnan(x) else ci)

    rows = [(r.scenario, r.target, f"{r.n_a} / {r.n_b}", pct(r.p_hit_a), pct(r.p_hit_b),
             change(r.p_hit_diff, r.p_hit_diff_low, r.p_hit_diff_high), pct(r.value_a),
             pct(r.value_b), change(r.value_diff, r.value_diff_low, r.value_diff_high),
             "yes" if r.paired else "no",
             change(r.forecast_diff, r.forecast_diff_low, r.forecast_diff_high))
            for r in table.itertuples()]
    headers = ["scenario", "target", "runs A / B", "P(hit) A", "P(hit) B",
               "change in P(hit) (95% CI)", "value A", "value B", "change in value (95% CI)",
               "paired", "change with forecast error (95% CI)"]
    with_forecast = not table.empty and table["forecast_diff"].notna().any()
    if not with_forecast:  # the column needs both experiments to name a back-test
        rows, headers = [r[:-1] for r in rows], headers[:-1]
    lines = [markdown_table(rows, headers)]
    any_unpaired = not table.empty and not table["paired"].all()
    text = [f"# Comparison: {b.name} ({b.path}) against {a.name} ({a.path})", "",
            "Changes are B minus A, means over runs; the value is the target indicator's "
            "survey reading in the target year.",
            ("Paired rows: both experiments ran the same simulated worlds (same seeds and "
             "parameter draws), so each replication is compared with itself (Newcombe's "
             "paired interval; paired t interval for the value; both at the runs' effective "
             "number, as runs sharing a posterior parameter set are alike)."),
            ("Unpaired rows: the runs are independent samples (different seeds or draws); "
             "intervals are for independent samples (Newcombe method 10; Welch) and wider."
             if any_unpaired else ""),
            ("Change with forecast error: the change in P(hit) when each run's reading also "
             "carries its experiment's forecast error as its back-test measured it "
             "(docs/ODD.md 7.7; intervals from the runs and chains, the widest at the estimated "
             "error and at the ends of its 95% interval, as in the experiment reports)."
             if with_forecast else ""), "", "\n".join(lines), ""]
    if notes:
        text += ["Not compared:", "", *[f"- {n}" for n in notes], ""]
    if figure is not None:
        text += [f"![change in P(hit)]({figure.name})", ""]
    return "\n".join(t for t in text if t is not None)


def figure(table: pd.DataFrame, path: Path, label_a: str, label_b: str) -> Path | None:
    """Change in P(hit) per scenario, one panel per target, on a shared axis."""
    from .plots import PALETTE, plt, save_figure

    if table.empty:
        return None
    targets = list(dict.fromkeys(table["target"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets) + 1.5,
                                                       0.45 * len(scenarios) + 1.4),
                             sharex=True, sharey=True, squeeze=False)
    for ax, target in zip(axes[0], targets, strict=True):
        t = table[table["target"] == target].set_index("scenario").reindex(scenarios)
        y = np.arange(len(scenarios))
        d = 100 * t["p_hit_diff"].to_numpy(float)
        lo = 100 * t["p_hit_diff_low"].to_numpy(float)
        hi = 100 * t["p_hit_diff_high"].to_numpy(float)
        paired = t["paired"].fillna(False).to_numpy(bool)
        err = [np.clip(d - lo, 0, None), np.clip(hi - d, 0, None)]
        for mask, marker, label in ((paired, "o", "paired"), (~paired, "s", "unpaired")):
            if mask.any():
                ax.errorbar(d[mask], y[mask], xerr=[e[mask] for e in err], fmt=marker,
                            color=PALETTE[0] if marker == "o" else PALETTE[1], capsize=3,
                            label=label)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set_title(f"Target: {target}")
        ax.set_xlabel("Change in P(hit), percentage points")
        ax.set_yticks(y, scenarios)
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{label_b} against {label_a} (95% intervals)")
    return save_figure(fig, path)
