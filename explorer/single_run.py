"""One run in the browser: Mesa's SolaraViz over ExplorerModel.

Sliders set the levers; *Reset* builds a new model with them, *Step* and play advance
it a quarter at a time. The charts read Mesa's DataCollector (the HEADLINE
indicators of ``model.indicators``, all simulated firms = the 10-249 frame).
"""

from __future__ import annotations

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from experiments.report import describe_policy
from model.datasets import SIZE_CLASSES

from .charts import add_observed, size_class_figure, spend_figure
from .model import EDIH_OFFERS, SUBSIDY_COVERS, ExplorerModel

__all__ = ["ExplorerModel", "Page", "SingleRunPage", "model_params"]

TARGET_BASIC = 0.95
TARGET_ADVANCED = 0.75
SAMPLE = 300

model_params = {
    "n_firms": {"type": "SliderInt", "value": 5000, "label": "Simulated firms",
                "min": 500, "max": 20_000, "step": 500},
    "seed": {"type": "InputText", "value": 1, "label": "Seed"},
    "subsidy_rate": {"type": "SliderFloat", "value": 0.0, "label": "Subsidy rate",
                     "min": 0.0, "max": 0.8, "step": 0.05},
    "subsidy_cap_eur": {"type": "SliderInt", "value": 10_000, "label": "Subsidy cap per firm (EUR)",
                        "min": 1_000, "max": 50_000, "step": 1_000},
    "subsidy_budget_eur": {"type": "SliderInt", "value": 50_000_000,
                           "label": "Subsidy yearly budget (EUR)",
                           "min": 0, "max": 500_000_000, "step": 10_000_000},
    "subsidy_covers": {"type": "Select", "value": next(iter(SUBSIDY_COVERS)),
                       "values": list(SUBSIDY_COVERS), "label": "Subsidy pays for"},
    "edih_capacity": {"type": "SliderInt", "value": 1200, "label": "EDIH capacity (firms/year)",
                      "min": 0, "max": 10_000, "step": 100},
    "edih_services": {"type": "Select", "value": next(iter(EDIH_OFFERS)),
                      "values": list(EDIH_OFFERS), "label": "EDIH services"},
    "campaign_reach": {"type": "SliderFloat", "value": 0.0,
                       "label": "Campaign reach/yr",
                       "min": 0.0, "max": 1.0, "step": 0.05},
    "obligation_min_measures": {"type": "SliderInt", "value": 0,
                                "label": "Obligation: min measures",
                                "min": 0, "max": 11, "step": 1},
    "draw_from_posterior": {"type": "Checkbox", "value": False,
                            "label": "Draw behavioural parameters from the posterior"},
}


def _note_off() -> None:
    solara.Markdown("A subsidy rate, campaign reach or minimum of 0 leaves that lever off "
                    "(current policy). Set the levers, then press *Reset* to start the run.")


ADOPTION_COLOURS = {"dii_at_least_basic": "tab:blue", "dii_v4_at_least_basic": "tab:cyan",
                    "cloud": "tab:orange", "data_analytics": "tab:green", "ai": "tab:red",
                    "security_5plus": "tab:purple"}


def _targets(ax) -> None:
    for line in ax.lines:
        line.set_marker(".")
    add_observed(ax, ADOPTION_COLOURS)
    ax.axhline(TARGET_BASIC, ls="--", lw=1, color="grey")
    ax.axhline(TARGET_ADVANCED, ls=":", lw=1, color="grey")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of firms (10-249)")
    ax.set_title("2030 targets: 95% at least basic (--), 75% advanced (:); diamonds: "
                 "observed (Eurostat); step = quarter from 2021 Q1", fontsize=8)


adoption_plot = make_plot_component(ADOPTION_COLOURS, post_process=_targets)


def sample_firms(model, k: int = SAMPLE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed sample of k firms (agents): size class index, DII items, colour code
    (0 neither, 1 cloud only, 2 AI)."""
    agents = list(model.agents)
    idx = np.random.default_rng(0).choice(len(agents), size=min(k, len(agents)), replace=False)
    chosen = [agents[i] for i in np.sort(idx)]
    size = np.array([SIZE_CLASSES.index(a.size_class) for a in chosen], dtype=float)
    items = np.array([a.dii_items for a in chosen], dtype=float)
    code = np.array([2 if a.ai else (1 if a.cloud else 0) for a in chosen])
    return size, items, code


def firm_figure(model) -> Figure:
    size, items, code = sample_firms(model)
    jitter = np.random.default_rng(1)
    fig = Figure(figsize=(5, 3.6))
    ax = fig.subplots()
    for c, label, colour in ((0, "neither", "lightgrey"), (1, "cloud, no AI", "tab:orange"),
                             (2, "AI", "tab:red")):
        m = code == c
        ax.scatter(size[m] + jitter.uniform(-0.3, 0.3, m.sum()),
                   items[m] + jitter.uniform(-0.25, 0.25, m.sum()),
                   s=10, color=colour, label=label, alpha=0.8)
    ax.axhline(3.5, ls="--", lw=1, color="grey")
    ax.set_xticks(range(len(SIZE_CLASSES)), [f"{s} employees" for s in SIZE_CLASSES])
    ax.set_ylabel("DII items (at least basic above the line)")
    ax.set_title(f"{len(size)} sampled firms, {model.year} Q{model.quarter}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return fig


@solara.component
def FirmView(model):
    update_counter.get()
    solara.FigureMatplotlib(firm_figure(model), format="png", bbox_inches="tight")


@solara.component
def SizeClassView(model):
    update_counter.get()
    solara.FigureMatplotlib(size_class_figure(model.indicator_frame()), format="png",
                            bbox_inches="tight")


@solara.component
def SpendView(model):
    update_counter.get()
    solara.FigureMatplotlib(spend_figure(model.indicator_frame()), format="png",
                            bbox_inches="tight")


@solara.component
def Status(model):
    update_counter.get()
    solara.Markdown(
        f"**{model.year} Q{model.quarter}** ({model.n_firms:,} simulated firms, "
        f"{model.parameter_source}). At least basic (v3): "
        f"{model.latest('dii_at_least_basic', '10-249'):.1%} (target 95%); "
        f"cloud {model.latest('cloud', '10-249'):.1%}, data analytics "
        f"{model.latest('data_analytics', '10-249'):.1%}, AI "
        f"{model.latest('ai', '10-249'):.1%} (target 75% each).\n\n"
        f"Levers in force: {describe_policy(model.policy_mapping)}.")
    _note_off()


def initial_model() -> ExplorerModel:
    return ExplorerModel(**{k: v["value"] for k, v in model_params.items()})


@solara.component
def SingleRunPage() -> None:
    model = solara.use_memo(initial_model, [])
    SolaraViz(model, components=[(Status, 0), adoption_plot, (FirmView, 0),
                                 (SizeClassView, 0), (SpendView, 0)],
              model_params=model_params, name="SME digital adoption: one run")


Page = SingleRunPage
