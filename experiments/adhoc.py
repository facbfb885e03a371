"""What `sme-abm simulate` needs beyond the model: a policy from a file, parameters from
the command line or a calibrated posterior, and a plot of one run against the targets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from model import ModelInputError, parse_policy
from model.parameters import PARAMETERS

from .analysis import central_draw, posterior_row
from .config import ConfigError, read_posterior, read_toml
from .plots import LABELS

PLOTTED = ("dii_at_least_basic", "dii_v4_at_least_basic", "advanced_any", "cloud",
           "data_analytics", "ai")
TARGETS = {"dii_at_least_basic": 0.95, "dii_v4_at_least_basic": 0.95, "advanced_any": 0.75,
           "cloud": 0.75, "data_analytics": 0.75, "ai": 0.75}
"""The 2030 thresholds drawn in the plot (the strategy's 95% basic and 75% advanced)."""
TITLES = {**LABELS,
          "dii_v4_at_least_basic": "At least basic (DII v4 items, before survey offset)",
          "ai": "Uses AI (before the 2025 survey break)"}
"""Panel titles: a single run shows model values, not survey readings."""


def read_policy(path: str | Path) -> dict[str, Any]:
    """A scenario table from a TOML file (the body of a ``[scenarios.<name>]`` table),
    validated: raises ConfigError naming the file and the field."""
    raw = read_toml(Path(path))
    try:
        parse_policy(raw)
    except ModelInputError as err:
        raise ConfigError(str(path), [str(err)]) from None
    return raw


def parse_sets(items: Sequence[str]) -> dict[str, float]:
    """``name=value`` pairs as parameter overrides (names and ranges are checked by the
    model)."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError("--set", [f"--set: expected name=value, got {item!r}"])
        if name not in PARAMETERS:
            from difflib import get_close_matches

            near = get_close_matches(name, PARAMETERS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError("--set", [f"--set: {name!r} is not a model parameter{hint}; "
                                        "the parameters are listed in docs/ODD.md section 8"])
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError("--set", [f"--set {name}: expected a number, got {value!r}"]
                              ) from None
    return out


def posterior_point(path: str | Path, draw: int | None) -> tuple[dict[str, float], str]:
    """Parameters from a posterior sample: draw ``draw`` (a joint draw) or, without one,
    its central draw (``analysis.central_draw``); and a sentence saying which."""
    try:
        frame = read_posterior(path)
    except (OSError, ValueError) as err:
        raise ConfigError(str(path), [f"--posterior: cannot read {path} ({err})"]) from None
    if draw is not None:
        if not 0 <= draw < len(frame):
            raise ConfigError("--draw", [f"--draw: {draw} is out of range (allowed: 0 to "
                                         f"{len(frame) - 1})"])
        weight = ""
        if "weight" in frame and frame["weight"].nunique() > 1:
            # A reweighted calibration's particles are not equally likely draws.
            relative = float(frame["weight"].iloc[draw] / frame["weight"].mean())
            weight = f" (weight {relative:.2g} times the average)"
        return (posterior_row(frame, draw),
                f"posterior draw {draw} of {len(frame)}{weight} from {path}")
    row = central_draw(frame)
    return (posterior_row(frame, row),
            f"posterior central draw {row} of {len(frame)} (the joint draw nearest every "
            f"parameter's median) from {path}")


def plot_run(frame: pd.DataFrame, segment: str, path: str | Path, title: str) -> Path:
    """The target indicators of one run (survey years) against the 2030 thresholds and
    the observed points."""
    from . import plots

    plt = plots.plt
    sel = frame[(frame["segment"] == segment) & (frame["quarter"] == 1)
                & frame["indicator"].isin(PLOTTED)]
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.6), sharex=True, sharey=True)
    for ax, name in zip(axes.flat, PLOTTED, strict=True):
        s = sel[sel["indicator"] == name].sort_values("year")
        ax.plot(s["year"], 100 * s["value"], marker="o", ms=3, color=plots.PALETTE[0],
                label="this run (model value)")
        obs = plots.observed_points(name, segment)
        if len(obs):
            ax.scatter(obs["year"], 100 * obs["value"], marker="x", color="black", zorder=3,
                       label="observed (Eurostat)")
        ax.axhline(100 * TARGETS[name], ls="--", color=plots.PALETTE[1], lw=1, label="2030 target")
        ax.set_title(TITLES[name], fontsize=8)
        ax.set_ylim(0, 100)
    for ax in axes[:, 0]:
        ax.set_ylabel("% of firms")
    for ax in axes[-1]:
        ax.set_xlabel("year")
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=9)
    return plots.save_figure(fig, Path(path))
