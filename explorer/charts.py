"""Figures of the single-run page beyond Mesa's line chart: the observed survey points,
adoption and cyber outcomes per size class, and public spend (matplotlib only)."""

from __future__ import annotations

from functools import cache

import pandas as pd
from matplotlib.figure import Figure

from experiments.plots import PALETTE
from model import datasets
from model.timeline import START_YEAR, quarter_index

OBSERVED_CODES = {"cloud": "E_CC1_SI", "data_analytics": "E_DA", "ai": "E_AI_TANY"}
"""Eurostat series whose NL 10-249 values are shown beside the simulated shares."""


@cache
def observed_points() -> dict[str, tuple[tuple[int, float], ...]]:
    """Observed NL 10-249 values (year, share) of the indicators on the adoption chart:
    DII at least basic (v3 in odd years, v4 in even years), cloud, data analytics, AI."""
    out: dict[str, tuple[tuple[int, float], ...]] = {}
    dii = datasets.dii()
    basic = dii[(dii["size_class"] == "10-249") & (dii["level"] == "at_least_basic")]
    for version, name in ((3, "dii_at_least_basic"), (4, "dii_v4_at_least_basic")):
        rows = basic[basic["dii_version"] == version].sort_values("year")
        out[name] = tuple(zip(rows["year"].astype(int), rows["value"].astype(float),
                              strict=True))
    hist = datasets.advanced_history()
    nl = hist[(hist["geo"] == "NL") & (hist["size_class"] == "10-249")
              & (hist["year"] >= START_YEAR)]
    for name, code in OBSERVED_CODES.items():
        rows = nl[nl["indicator"] == code].sort_values("year")
        out[name] = tuple(zip(rows["year"].astype(int), rows["value"].astype(float),
                              strict=True))
    return out


def survey_step(year: int) -> int:
    """The DataCollector row (one a quarter from 2021 Q1) a year's survey reads."""
    return quarter_index(year, 1)


def add_observed(ax, colours: dict[str, str]) -> None:
    """The observed points on a chart whose x axis counts quarters from 2021 Q1."""
    for name, points in observed_points().items():
        if name in colours and points:
            ax.scatter([survey_step(y) for y, _ in points], [v for _, v in points],
                       marker="D", s=18, color=colours[name], edgecolor="black",
                       linewidth=0.5, zorder=3)


def _series(frame: pd.DataFrame, indicator: str, segment: str) -> pd.DataFrame:
    s = frame[(frame["indicator"] == indicator) & (frame["segment"] == segment)]
    return s.assign(time=s["year"] + (s["quarter"] - 1) / 4.0).sort_values("time")


def size_class_figure(frame: pd.DataFrame) -> Figure:
    """At least basic, AI, 5+ security measures and incidents per size class (10-49 solid,
    50-249 dashed), from the model's indicator frame."""
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    shown = (("dii_at_least_basic", "at least basic"), ("ai", "AI"),
             ("security_5plus", "5+ security measures"),
             ("incident_past_year", "incident in the past year"))
    for k, (indicator, label) in enumerate(shown):
        for segment, style in (("10-49", "-"), ("50-249", "--")):
            s = _series(frame, indicator, segment)
            ax.plot(s["time"], s["value"], style, color=PALETTE[k % len(PALETTE)],
                    label=f"{label}, {segment}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of firms")
    ax.set_title("By size class (solid 10-49, dashed 50-249)", fontsize=9)
    ax.legend(fontsize=6, ncol=2, loc="lower right")
    return fig


def spend_figure(frame: pd.DataFrame) -> Figure:
    """Cumulative public spend (EUR m) by lever, and the firms served by EDIHs and the
    subsidised adoptions (real firms, right axis)."""
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    for k, (indicator, label) in enumerate((("subsidy_spend_eur", "subsidies"),
                                            ("edih_spend_eur", "EDIH services"),
                                            ("campaign_spend_eur", "campaign"))):
        s = _series(frame, indicator, "all")
        ax.plot(s["time"], s["value"] / 1e6, color=PALETTE[k], label=f"{label} (EUR m)")
    ax.set_ylabel("EUR m, cumulative")
    right = ax.twinx()
    for k, (indicator, label) in enumerate((("subsidised_adoptions", "subsidised adoptions"),
                                            ("edih_firms_served", "firms served by EDIHs"))):
        s = _series(frame, indicator, "all")
        right.plot(s["time"], s["value"], ":", color=PALETTE[3 + k], label=label)
    right.set_ylabel("real firms, cumulative")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=6, loc="upper left")
    ax.set_title("Public spend and grants", fontsize=9)
    return fig
