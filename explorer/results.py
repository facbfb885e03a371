"""Stored experiment results in the browser: P(hit) per scenario and target (with
intervals), and the trajectories (median and 5-95% band) of the indicators."""

from __future__ import annotations

import solara

from .loaders import (
    forecast_table,
    load_summary,
    load_trajectories,
    p_hit_table,
    paired_table,
    results_dir,
    trajectory_figure,
)

__all__ = ["Page", "ResultsPage"]


@solara.component
def ResultsPage() -> None:
    directory = results_dir()
    summary = solara.use_memo(lambda: load_summary(directory), [str(directory)])
    traj = solara.use_memo(lambda: load_trajectories(directory), [str(directory)])
    indicators = list(dict.fromkeys(traj["indicator"]))
    scenarios = list(dict.fromkeys(summary["scenario"]))
    indicator, set_indicator = solara.use_state(indicators[0] if indicators else "")
    chosen, set_chosen = solara.use_state(scenarios)
    with solara.Column(style={"padding": "16px"}):
        solara.Markdown(f"## Experiment results: `{directory}`\n\n"
                        "Probability of hitting each 2030 target, P(hit) with its 95% "
                        "interval, per scenario (rows) and target (columns). The interval "
                        "carries the runs' sampling error and the calibration chains' "
                        "disagreement, whichever is wider.")
        solara.DataFrame(p_hit_table(summary), items_per_page=50)
        forecast = forecast_table(summary)
        if len(forecast):
            solara.Markdown("### Allowing for the model's forecast error\n\nP(hit) above "
                            "takes the model as right. Here each run's reading also carries "
                            "the forecast error the back-test measured (fitted up to 2023, "
                            "the model missed 2024-2025 by more than its bands allowed), "
                            "grown to the target year; docs/ODD.md 7.7.")
            solara.DataFrame(forecast, items_per_page=50)
        solara.Markdown("### Paired differences against the baseline\n\nEvery scenario "
                        "runs the baseline's parameter draws and seeds, so the difference in "
                        "P(hit) is paired (Newcombe's interval, widened likewise).")
        solara.DataFrame(paired_table(summary), items_per_page=50)
        with solara.Row():
            solara.Select("Indicator", values=indicators, value=indicator,
                          on_value=set_indicator)
            solara.SelectMultiple("Scenarios", values=chosen, all_values=scenarios,
                                  on_value=set_chosen)
        solara.FigureMatplotlib(trajectory_figure(traj, indicator, list(chosen)),
                                format="png", bbox_inches="tight")


Page = ResultsPage
