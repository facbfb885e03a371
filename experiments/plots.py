"""Figures of an experiment, readable in a paper: labelled axes with units, observed
data where there are data, the target where there is a target."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")  # files only; never a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from model import datasets
from model.parameters import PARAMETERS

from . import forecast_error
from .config import ExperimentConfig, Target
from .observations import START_YEAR, load_record, survey_series

LABELS = {
    "dii_at_least_basic": "At least basic digital intensity (DII v3)",
    "dii_v4_at_least_basic": "At least basic digital intensity (DII v4 survey reading)",
    "advanced_any": "Uses cloud, data analytics or AI",
    "advanced_each": "Uses each of cloud, data analytics and AI",
    "cloud": "Uses sophisticated/intermediate cloud",
    "data_analytics": "Performs data analytics",
    "ai": "Uses AI (survey reading)",
    "security_5plus": "Has at least 5 ICT security measures",
    "incident_reported_share": "Reports its ICT security incidents",
}
"""Plain-language names of the indicators, for titles and axes."""
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
"""Okabe-Ito colours: told apart with colour-blindness, and paired with MARKERS."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "font.size": 9,
                     "axes.spines.top": False, "axes.spines.right": False,
                     "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
                     "svg.fonttype": "none",  # text stays text in SVG: editable, searchable
                     "svg.hashsalt": "sme-abm"})  # same figure, same SVG bytes


def target_title(target: Target) -> str:
    """A target in words: '95% at least basic digital intensity (DII v3), firms 10-249,
    2030'."""
    name = (LABELS["dii_v4_at_least_basic"] if target.indicator == "dii_at_least_basic"
            and target.dii_version == 4 else LABELS.get(target.indicator, target.indicator))
    return f"{target.threshold:.0%}: {name[0].lower()}{name[1:]}, firms {target.population}, " \
           f"{target.year}"


def _style(k: int) -> dict:
    return {"color": PALETTE[k % len(PALETTE)], "marker": MARKERS[k % len(MARKERS)]}


def observed_points(indicator: str, segment: str) -> pd.DataFrame:
    """Observed NL values (share) by year for an indicator, where the survey measures
    what the model counts (no measurement offset): DII v3 by size class and 10-249;
    AI, cloud, data analytics and the Digital Decade aggregate for 10-249."""
    for version, name in ((3, "dii_at_least_basic"), (4, "dii_v4_at_least_basic")):
        if indicator == name and segment in ("10-249", "10-49", "50-249"):
            d = datasets.dii()
            d = d[(d["level"] == "at_least_basic") & (d["size_class"] == segment)
                  & (d["dii_version"] == version)]
            return pd.DataFrame({"year": d["year"], "value": d["value"],
                                 "source": f"Eurostat DII v{version}"})
    t = load_record().table
    # The survey's own series for the indicator (AI's 2025 break included: the plotted
    # lines are survey readings too); not "any cloud", a different question.
    t = t[(t["indicator"] == indicator) & (t["segment"] == segment)
          & t["offset"].isin(["", "survey_ai_2025_offset"])
          & (t["kind"] == "share") & (t["year"] >= START_YEAR)]
    return pd.DataFrame({"year": t["year"], "value": t["value"],
                         "source": "Eurostat " + t["code"]}).reset_index(drop=True)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


def _err(centre: pd.Series, low: pd.Series, high: pd.Series, scale: float = 100.0):
    """Error-bar lengths, never negative."""
    return [np.clip((centre - low) * scale, 0, None), np.clip((high - centre) * scale, 0, None)]


def save_figure(fig, path: Path) -> Path:
    """PNG for reports, SVG beside it for print."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    fig.savefig(path.with_suffix(".svg"), bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return path


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def trajectory_table(series: pd.DataFrame, config: ExperimentConfig,
                     params: pd.DataFrame | None = None,
                     errors: forecast_error.ForecastError | None = None) -> pd.DataFrame:
    """Quantiles over runs of each target indicator's survey reading, per scenario and
    year (measurement offsets of each run's ``params`` applied): all the trajectory
    figures need, small enough to commit with the results. With the ``errors`` of a
    back-test, also the 90% band when each reading carries the model's forecast error
    (``f05``, ``f95``; the runs' own band up to the calibration's last fitted year)."""
    params = params if params is not None else pd.DataFrame(columns=["scenario",
                                                                      "replication"])
    frames = []
    for target in config.targets.values():
        for indicator in target.indicators:
            sel = survey_series(series, params, indicator, target.segment)
            if sel.empty:
                continue
            groups = sel.groupby(["scenario", "year"])["value"]
            q = groups.quantile(list(QUANTILES)).unstack()
            q.columns = [f"q{round(100 * c):02d}" for c in q.columns]
            if errors is not None and not math.isnan(errors.sd(target.indicator,
                                                               target.year)[0]):
                band = {key: forecast_error.mixture_quantiles(
                            v.to_numpy(), errors.sd(target.indicator, int(key[1]))[0],
                            (0.05, 0.95)) for key, v in groups}
                q["f05"] = [band[k][0] for k in q.index]
                q["f95"] = [band[k][1] for k in q.index]
            frames.append(q.reset_index().assign(target=target.name, indicator=indicator,
                                                 segment=target.segment))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def trajectories(table: pd.DataFrame, config: ExperimentConfig, target: Target,
                 out: Path) -> list[Path]:
    """Per target indicator: one panel per scenario, median with 50% and 90% bands of
    the survey reading (``trajectory_table``), and the 90% band with the model's forecast
    error where the table has it."""
    paths = []
    for indicator in target.indicators:
        sel = table[(table["target"] == target.name) & (table["indicator"] == indicator)]
        if sel.empty:
            continue
        scen = list(config.scenarios)
        ncol = min(3, len(scen))
        nrow = int(np.ceil(len(scen) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), sharex=True,
                                 sharey=True, squeeze=False)
        q = sel.set_index(["scenario", "year"])[[f"q{round(100 * c):02d}" for c in QUANTILES]]
        q.columns = list(QUANTILES)
        obs = observed_points(indicator, target.segment)
        base = q.loc[config.baseline] if config.baseline in q.index.get_level_values(0) else None
        for ax, name in zip(axes.flat, scen, strict=False):
            if name not in q.index.get_level_values(0):
                ax.set_visible(False)
                continue
            d = q.loc[name] * 100
            years = d.index.to_numpy()
            ax.fill_between(years, d[0.05], d[0.95], color="C0", alpha=0.18, lw=0,
                            label="90% band")
            ax.fill_between(years, d[0.25], d[0.75], color="C0", alpha=0.35, lw=0,
                            label="50% band")
            ax.plot(years, d[0.5], color="C0", lw=1.6, label="median")
            if "f05" in sel and sel["f05"].notna().any():
                f = sel[sel["scenario"] == name].set_index("year")[["f05", "f95"]] * 100
                for col in ("f05", "f95"):
                    ax.plot(f.index, f[col], color="C1", lw=1, ls="--",
                            label="90% band with the forecast error")
            if base is not None and name != config.baseline:
                ax.plot(years, base[0.5] * 100, color="0.4", lw=1, ls="--",
                        label="baseline median")
            if len(obs):
                ax.plot(obs["year"], obs["value"] * 100, "o", color="k", ms=3.5,
                        label="observed")
            ax.axhline(target.threshold * 100, color="C3", lw=1, ls=":",
                       label=f"target {target.threshold:.0%}")
            ax.set_title(name)
        for ax in axes[-1]:
            ax.set_xlabel("year (survey, Q1)")
        for ax in axes[:, 0]:
            ax.set_ylabel(f"% of firms {target.segment}")
        legend: dict[str, object] = {}
        for ax in axes.flat:  # every entry once, the baseline line included
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(lab, h)
        fig.suptitle(f"{LABELS.get(indicator, indicator)}, firms {target.segment}")
        fig.tight_layout()
        # below the axes, however many rows it takes (saved with a tight bounding box)
        fig.legend(list(legend.values()), list(legend), loc="upper center", ncol=4,
                   frameon=False, bbox_to_anchor=(0.5, 0.0))
        paths.append(save_figure(fig, out / f"trajectories_{target.name}_{indicator}.png"))
    return paths


INTERVAL_NOTE = "(95% interval; thick: runs alone)"


def _runs_bar(ax: Any, s: pd.DataFrame, centre: str, low: str, high: str, y: np.ndarray,
              color: Any) -> None:
    """The runs' own interval as a thick bar under the full one (which carries the
    calibration chains' error too), so a reader sees which of the two sets the width."""
    if low not in s or s[low].isna().all():
        return
    ax.errorbar(s[centre] * 100, y, xerr=_err(s[centre], s[low], s[high]), fmt="none",
                color=color, lw=5, alpha=0.35, capsize=0)


def p_hit(summary: pd.DataFrame, config: ExperimentConfig, out: Path) -> Path:
    targets = list(config.targets)
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 0.45 *
                             len(config.scenarios) + 1.4), sharey=True, squeeze=False)
    for ax, t in zip(axes[0], targets, strict=True):
        s = summary[summary["target"] == t].set_index("scenario").reindex(config.scenarios)
        y = np.arange(len(s))[::-1]
        _runs_bar(ax, s, "p_hit", "ci_runs_low", "ci_runs_high", y, "C0")
        if "p_hit_chain_low" in s and s["p_hit_chain_low"].notna().any():
            for col in ("p_hit_chain_low", "p_hit_chain_high"):
                ax.plot(s[col] * 100, y, "d", color="0.2", mfc="white", ms=5, zorder=3,
                        label="one calibration chain alone: lowest, highest")
        ax.errorbar(s["p_hit"] * 100, y, xerr=_err(s["p_hit"], s["ci_low"], s["ci_high"]),
                    fmt="o", color="C0", capsize=3)
        if "p_hit_forecast" in s and s["p_hit_forecast"].notna().any():
            ax.errorbar(s["p_hit_forecast"] * 100, y - 0.3,
                        xerr=_err(s["p_hit_forecast"], s["forecast_ci_low"],
                                  s["forecast_ci_high"]),
                        fmt="s", color="C1", ms=4, capsize=2, lw=1,
                        label="allowing for the model's forecast error (back-test)")
        ax.set_yticks(y, s.index)
        ax.set_xlim(-3, 103)
        ax.set_xlabel("Chance of reaching the target, %\n" + INTERVAL_NOTE)
        tg = config.targets[t]
        ax.set_title("\n".join(_wrap(target_title(tg), 40)), fontsize=8)
        if s["p_hit"].notna().all() and (s["p_hit"] == 1).all():
            ax.text(50, np.mean(y), "reached in every run\nof every scenario", ha="center",
                    va="center", fontsize=8, color="0.3")
        ax.grid(axis="x", alpha=0.3)
    legend: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    if legend:
        fig.legend(list(legend.values()), list(legend), loc="lower center", frameon=False,
                   ncol=len(legend), bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return save_figure(fig, out / "p_hit.png")


def paired_differences(summary: pd.DataFrame, config: ExperimentConfig, out: Path) -> Path:
    targets = list(config.targets)
    scen = [s for s in config.scenarios if s != config.baseline]
    # One shared axis: a null +-1 point interval must not look as wide as a 20-point one.
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets),
                             0.45 * max(len(scen), 1) + 1.6), sharey=True, sharex=True,
                             squeeze=False)
    for ax, t in zip(axes[0], targets, strict=True):
        s = summary[summary["target"] == t].set_index("scenario").reindex(scen)
        y = np.arange(len(s))[::-1]
        ax.axvline(0, color="0.5", lw=0.8)
        _runs_bar(ax, s, "diff_vs_baseline", "diff_ci_runs_low", "diff_ci_runs_high", y,
                  PALETTE[2])
        ax.errorbar(s["diff_vs_baseline"] * 100, y,
                    xerr=_err(s["diff_vs_baseline"], s["diff_ci_low"], s["diff_ci_high"]),
                    fmt="o", color=PALETTE[2], capsize=3)
        ax.set_yticks(y, s.index)
        ax.set_xlabel(f"Change in chance of reaching the target\nagainst {config.baseline}, "
                      "percentage points\n(paired " + INTERVAL_NOTE[1:])
        ax.set_title("\n".join(_wrap(target_title(config.targets[t]), 40)), fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out / "paired_differences.png")


def cost_vs_p_hit(summary: pd.DataFrame, config: ExperimentConfig, out: Path) -> Path:
    """P(hit) against the extra public spend it costs, one panel per target."""
    targets = list(config.targets)
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 3.6), sharey=True,
                             squeeze=False)
    for ax, t in zip(axes[0], targets, strict=True):
        s = summary[summary["target"] == t].reset_index(drop=True)
        x = s["additional_spend_eur"].fillna(0) / 1e6
        for k, row in s.iterrows():
            style = _style(k)
            ax.errorbar(x[k], row["p_hit"] * 100,
                        yerr=np.array(_err(pd.Series([row["p_hit"]]), pd.Series([row["ci_low"]]),
                                           pd.Series([row["ci_high"]]))),
                        fmt=style["marker"], color=style["color"], capsize=2, ms=6,
                        mfc="none" if k % 2 else style["color"], label=row["scenario"])
        ax.set_xlabel(f"Extra public spend against {config.baseline}\n"
                      "(EUR million, cumulative to the target year)")
        ax.set_title("\n".join(_wrap(target_title(config.targets[t]), 40)), fontsize=8)
        ax.set_ylim(-3, 103)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("Chance of reaching the target, % (95% interval)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), frameon=False,
               bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return save_figure(fig, out / "cost_vs_p_hit.png")


def by_size_class(outcomes: pd.DataFrame, config: ExperimentConfig, out: Path) -> Path | None:
    indicators = [i for i in ("dii_at_least_basic", "advanced_any")
                  if f"{i}@10-49" in outcomes]
    sizes = [s for s in ("2-9", "10-49", "50-249") if f"{indicators[0]}@{s}" in outcomes] \
        if indicators else []
    if not sizes:
        return None
    scen = list(config.scenarios)
    fig, axes = plt.subplots(1, len(indicators), figsize=(4.6 * len(indicators), 3.4),
                             squeeze=False)
    width = 0.8 / len(sizes)
    for ax, ind in zip(axes[0], indicators, strict=True):
        x = np.arange(len(scen))
        for k, size in enumerate(sizes):
            g = outcomes.groupby("scenario")[f"{ind}@{size}"]
            med = g.median().reindex(scen) * 100
            lo = g.quantile(0.05).reindex(scen) * 100
            hi = g.quantile(0.95).reindex(scen) * 100
            ax.bar(x + (k - (len(sizes) - 1) / 2) * width, med, width,
                   label=f"{size} persons", yerr=_err(med, lo, hi, 1.0), capsize=2,
                   color=PALETTE[k], hatch=("", "//", "..")[k % 3], edgecolor="white")
        target = 95 if ind == "dii_at_least_basic" else 75
        ax.axhline(target, color="0.2", ls="--", lw=1, label=f"2030 target ({target}%)")
        ax.set_xticks(x, scen, rotation=30, ha="right")
        ax.set_ylabel(f"% of firms in {config.run.end_year}\n(median of runs, 5-95% range)")
        ax.set_title(LABELS.get(ind, ind))
        ax.set_ylim(0, 100)  # from zero: gaps between size classes are not exaggerated
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    return save_figure(fig, out / "by_size_class.png")


FIT_PANELS = (
    ("Basic level or above (DII v3 odd years, v4 even years)", "% of firms",
     (("E_DI3_at_least_basic", "10-49"), ("E_DI3_at_least_basic", "50-249"),
      ("E_DI4_GELO", "10-49"), ("E_DI4_GELO", "50-249"))),
    ("DII v3 bands, firms of 10-49", "% of firms",
     (("E_DI3_low", "10-49"), ("E_DI3_high", "10-49"), ("E_DI3_very_high", "10-49"))),
    ("DII v3 bands, firms of 50-249", "% of firms",
     (("E_DI3_low", "50-249"), ("E_DI3_high", "50-249"), ("E_DI3_very_high", "50-249"))),
    ("Advanced technologies, firms of 10-249", "% of firms",
     (("E_AI_TANY", "10-249"), ("E_CC1_SI", "10-249"), ("E_CC", "10-249"),
      ("E_DA", "10-249"), ("E_AI_CC1SI_DA_ANY", "10-249"))),
    ("Size gradient: 50-249 over 10-49 firms", "log-odds ratio",
     (("E_AI_TANY", "50-249 vs 10-49"), ("E_CC1_SI", "50-249 vs 10-49"),
      ("E_DA", "50-249 vs 10-49"))),
)
CODE_LABELS = {
    "E_DI3_at_least_basic": "basic+ v3", "E_DI4_GELO": "basic+ v4", "E_DI3_low": "low",
    "E_DI3_high": "high", "E_DI3_very_high": "very high", "E_AI_TANY": "AI",
    "E_CC1_SI": "cloud (soph./interm.)", "E_CC": "any cloud", "E_DA": "data analytics",
    "E_AI_CC1SI_DA_ANY": "AI, cloud or data analytics", "E_BD": "big data (2016/2018)",
    "E_BDA": "big data (2020)",
}


def calibration_fit(predictive: pd.DataFrame, forecast: pd.DataFrame, out: Path) -> Path:
    """Observed statistics against posterior-predictive 50% and 90% bands (model and
    survey sampling error), per series.

    Filled markers were fitted; open markers were held out (back-test); crosses are
    the 2021 initial state.
    """
    pred = predictive.merge(forecast[["key", "code", "segment", "year"]], on="key")
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.6), squeeze=False)
    for ax, (title, unit, lines) in zip(axes.flat, FIT_PANELS, strict=False):
        scale = 1.0 if unit == "log-odds ratio" else 100.0
        for k, (code, seg) in enumerate(lines):
            p = pred[(pred["code"] == code) & (pred["segment"] == seg)]
            if p.empty:
                continue
            q = p.groupby("year")["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
            color = f"C{k % 10}"
            label = CODE_LABELS.get(code, code)
            if lines is FIT_PANELS[0][2]:
                label += f" {seg}"
            yrs = q.index.to_numpy()
            ax.fill_between(yrs, q[0.05] * scale, q[0.95] * scale, color=color, alpha=0.15, lw=0)
            ax.fill_between(yrs, q[0.25] * scale, q[0.75] * scale, color=color, alpha=0.3, lw=0)
            ax.plot(yrs, q[0.5] * scale, color=color, lw=1.2, label=label)
            o = forecast[(forecast["code"] == code) & (forecast["segment"] == seg)]
            for role, style in (("fitted", {"mfc": color}), ("held out", {"mfc": "white"}),
                                ("initial", {"marker": "x"})):
                sel = o[o["role"] == role]
                kw = {"marker": "o", "ls": "none", "color": color, "ms": 4.5, **style}
                ax.plot(sel["year"], sel["observed"] * scale, **kw)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("survey year")
        ax.set_ylabel(unit if scale == 1.0 else "% of firms")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.legend(frameon=False, fontsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(FIT_PANELS):]:
        ax.set_visible(False)
    fig.suptitle("Posterior-predictive 50% and 90% bands (lines: median) against "
                 "observations (filled: fitted; open: held out; x: 2021 initial state)")
    fig.tight_layout()
    return save_figure(fig, out / "calibration_fit.png")


def backcast(frame: pd.DataFrame, fitted: pd.DataFrame, out: Path) -> Path:
    """The backcast's readings before 2021 (median and 90% band over posterior draws)
    against the observations of those years, one panel per technology, with the
    fitted observations from 2021 for context (``experiments.backcast``). Questions
    read the same way (big data's two, through no offset) share one band."""
    techs = list(dict.fromkeys(frame["indicator"]))
    fig, axes = plt.subplots(1, len(techs), figsize=(5.2 * len(techs), 3.8), squeeze=False)
    for ax, tech in zip(axes.flat, techs, strict=True):
        part = frame[frame["indicator"] == tech]
        codes = list(dict.fromkeys(part["code"]))
        q = (part[part["code"] == codes[0]].groupby("year")["reading"]
             .quantile([0.05, 0.5, 0.95]).unstack())
        yrs = q.index.to_numpy()
        ax.fill_between(yrs, 100 * q[0.05], 100 * q[0.95], color=PALETTE[0], alpha=0.2, lw=0)
        ax.plot(yrs, 100 * q[0.5], color=PALETTE[0], lw=1.2, label="backcast")
        for k, code in enumerate(codes):
            color = PALETTE[(k + 1) % len(PALETTE)]
            obs = part[(part["code"] == code) & part["observed"].notna()].drop_duplicates("year")
            ax.plot(obs["year"], 100 * obs["observed"], "o", color=color, ms=5,
                    label=f"{CODE_LABELS.get(code, code)} (not fitted)")
            later = fitted[(fitted["code"] == code) & (fitted["segment"] == "10-249")]
            if len(later):
                ax.plot(later["year"], 100 * later["observed"], "o", mfc="white",
                        color=color, ms=5, label=f"{CODE_LABELS.get(code, code)} (fitted)")
        ax.set_title(tech.replace("_", " "), fontsize=9)
        ax.set_xlabel("survey year")
        ax.set_ylabel("% of firms (10-249)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.legend(frameon=False, fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Before 2021: the fitted mechanism run back from each draw's 2021 state "
                 "(median and 90% band over draws)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out / "backcast.png")


def posterior_marginals(posterior: pd.DataFrame, priors: dict[str, tuple[float, float]],
                        out: Path) -> Path:
    """Weighted posterior histogram of each parameter over its prior range."""
    names = list(priors)
    ncol = min(4, len(names))
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 2.4 * nrow), squeeze=False)
    for k, (ax, name) in enumerate(zip(axes.flat, names, strict=False)):
        low, high = priors[name]
        w = posterior["weight"].to_numpy(float)
        ax.hist(posterior[name], bins=25, range=(low, high), weights=w, density=True,
                color=PALETTE[0], alpha=0.75, label="posterior")
        if "chain" in posterior:  # independent chains should tell the same story
            for c, part in posterior.groupby("chain"):
                ax.hist(part[name], bins=25, range=(low, high), weights=part["weight"],
                        density=True, histtype="step", lw=0.9,
                        color=PALETTE[2 + int(c) % (len(PALETTE) - 2)], label=f"chain {c}")
        ax.axhline(1.0 / (high - low), color=PALETTE[1], lw=1.2, ls="--",
                   label="prior (uniform)")
        order = np.argsort(posterior[name].to_numpy())
        cum = np.cumsum(w[order]) / w.sum()
        median = float(posterior[name].to_numpy()[order][np.searchsorted(cum, 0.5)])
        ax.axvline(median, color="k", lw=1, label="posterior median")
        ax.set_xlim(low, high)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(PARAMETERS[name].unit if name in PARAMETERS else "value", fontsize=7)
        if k % ncol == 0:
            ax.set_ylabel("density")
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout()
    return save_figure(fig, out / "posterior_marginals.png")


def sensitivity_bars(indices: pd.DataFrame, out: Path, morris_levels: int = 4
                     ) -> list[Path]:
    """Per method: one panel per output. Sobol: total and first-order indices with 95%
    intervals, hollow where the interval includes zero. Morris: the mean absolute change
    of the output over one Morris step (mu* x step) with its 95% interval, and the spread
    of the changes (sigma x step: interactions and non-linearity), in the output's units
    (percentage points for shares and P(hit))."""
    paths = []
    step = morris_levels / (2.0 * (morris_levels - 1))  # SALib's step, share of the range
    for method, sub in indices.groupby("method", sort=False):
        outputs = list(dict.fromkeys(sub["output"]))
        ncol = min(2, len(outputs))
        nrow = int(np.ceil(len(outputs) / ncol))
        factors = list(dict.fromkeys(sub["factor"]))
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 0.32 * len(factors) * nrow
                                                      + 1.5 * nrow), squeeze=False)
        for ax, output in zip(axes.flat, outputs, strict=False):
            d = sub[sub["output"] == output].set_index("factor").reindex(factors)
            y = np.arange(len(factors))[::-1]
            ax.set_yticks(y, factors, fontsize=7)
            ax.set_title(_output_title(output), fontsize=9)
            values = d["ST"] if method == "sobol" else d["mu_star"]
            if values.isna().all() or (values.fillna(0) == 0).all():
                ax.text(0.5, 0.5, "the output does not vary\nacross the sample: no index",
                        transform=ax.transAxes, ha="center", va="center", fontsize=8,
                        color="0.3")
                continue
            if method == "sobol":
                for k, (col, off, label) in enumerate((("ST", 0.18, "total (ST)"),
                                                       ("S1", -0.18, "first order (S1)"))):
                    zero = (d[col] - d[f"{col}_conf"]) <= 0
                    ax.barh(y + off, d[col], 0.36, xerr=d[f"{col}_conf"], label=label,
                            color=[("none" if z else PALETTE[k]) for z in zero],
                            edgecolor=PALETTE[k], capsize=2)
                ax.set_xlabel("Sobol index (95% interval; hollow: includes 0)")
            else:
                scale = 100.0 * step if _in_shares(output) else step
                ax.barh(y, d["mu_star"] * scale, 0.6, xerr=d["mu_star_conf"] * scale,
                        color=PALETTE[2], capsize=2, label="mean |change| (mu*)")
                ax.plot(d["sigma"] * scale, y, "D", color=PALETTE[1], ms=4,
                        label="spread of changes (sigma)")
                unit = "percentage points" if _in_shares(output) else "output units"
                ax.set_xlabel(f"Change over a step of {step:.0%} of the factor's range, "
                              f"{unit}")
            ax.axvline(0, color="0.5", lw=0.6)
            ax.grid(axis="x", alpha=0.3)
        for ax in list(axes.flat)[len(outputs):]:
            ax.set_visible(False)
        handles, labels = [], []
        if method == "sobol":  # filled swatches: a bar's own fill may be hollow
            from matplotlib.patches import Patch

            handles = [Patch(color=PALETTE[0]), Patch(color=PALETTE[1]),
                       Patch(facecolor="none", edgecolor="0.3")]
            labels = ["total (ST)", "first order (S1)", "hollow: interval includes 0"]
        for ax in axes.flat if method != "sobol" else ():
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
                   bbox_to_anchor=(0.5, -0.03))
        fig.suptitle(f"{method.capitalize()} sensitivity")
        fig.tight_layout()
        paths.append(save_figure(fig, out / f"sensitivity_{method}.png"))
    return paths


def _in_shares(output: str) -> bool:
    return output.startswith(("value:", "p_hit:", "share:"))


def _output_title(output: str) -> str:
    kind, _, name = output.partition(":")
    what = {"value": "target-year value", "p_hit": "chance of reaching",
            "share": "final-year share"}.get(kind, kind)
    return f"{what}: target {name}" if kind in ("value", "p_hit") else f"{what}: {name}"


def peeling_trajectory(trajectory: pd.DataFrame, chosen: int, title: str, out: Path) -> Path:
    """PRIM's peeling trajectory: coverage against density, coloured by restricted dims."""
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    sc = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"],
                    cmap="viridis", s=18)
    row = trajectory.loc[chosen]
    ax.scatter([row["coverage"]], [row["density"]], s=120, facecolors="none",
               edgecolors="C3", linewidths=1.6, label=f"chosen box {chosen}")
    fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.set_xlabel("coverage (share of cases of interest inside the box)")
    ax.set_ylabel("density (share of the box that are cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out)
