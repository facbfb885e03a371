"""The browser app's pieces that need no browser and no solara: ExplorerModel builds the
policy from flat lever values, and the results loaders (explorer.model, explorer.loaders)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from explorer.charts import observed_points, size_class_figure, spend_figure, survey_step
from explorer.loaders import (
    forecast_table,
    load_summary,
    load_trajectories,
    p_hit_table,
    paired_table,
    trajectory_figure,
)
from explorer.model import (
    EDIH_OFFERS,
    SUBSIDY_COVERS,
    ExplorerModel,
    behavioural_parameters,
    build_policy,
)
from model.policy import parse_policy

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results" / "policy_comparison"


def test_build_policy_switches_levers_off_at_zero():
    assert build_policy() == {"edih": {"capacity_per_year": 1200.0,
                                       "services": ["scan", "test_before_invest", "training"]}}
    assert parse_policy(build_policy()).subsidies == ()


def test_explorer_model_builds_the_policy_from_flat_arguments():
    m = ExplorerModel(n_firms=500, seed=3, subsidy_rate=0.4, subsidy_cap_eur=8000,
                      subsidy_budget_eur=2e7, edih_capacity=2400, campaign_reach=0.3,
                      obligation_min_measures=6, end_year=2022)
    (scheme,) = m.policy.subsidies
    assert (scheme.rate, scheme.cap_eur, scheme.yearly_budget_eur) == (0.4, 8000.0, 2e7)
    assert set(scheme.technologies) == {"cloud", "data_analytics", "ai"}
    assert m.policy.edih.capacity_per_year == 2400.0
    assert m.policy.cyber_campaign.reach_per_year == 0.3
    assert m.policy.security_obligation.min_measures == 6
    assert m.n_firms == 500 and m.end_year == 2022
    m.step()
    assert len(m.datacollector.get_model_vars_dataframe()) == 2


def test_posterior_central_draw_or_a_draw(tmp_path):
    frame = pd.DataFrame({"cost_weight": [0.5, 0.7, 0.9], "weight": [0.0, 1.0, 0.0]})
    path = tmp_path / "posterior.parquet"
    frame.to_parquet(path)
    central, source = behavioural_parameters(False, 1, path)
    assert central == {"cost_weight": pytest.approx(0.7)}
    assert source.startswith("posterior central draw 1")
    draw, source = behavioural_parameters(True, 5, path)
    assert draw == {"cost_weight": 0.7} and source.startswith("posterior draw 1")
    assert behavioural_parameters(False, 1, tmp_path / "none.parquet")[0] == {}


def test_results_loader_one_row_per_scenario_and_target():
    summary = load_summary(RESULTS)
    raw = pd.read_csv(RESULTS / "summary.csv")
    assert len(summary) == raw.groupby(["scenario", "target"]).ngroups
    assert not summary.duplicated(["scenario", "target"]).any()
    assert {"p_hit", "ci_low", "ci_high"} <= set(summary.columns)
    table = p_hit_table(summary)
    assert list(table["scenario"]) == list(dict.fromkeys(raw["scenario"]))
    assert table.shape[1] == 1 + raw["target"].nunique()


def test_trajectory_figure_draws_each_chosen_scenario():
    traj = load_trajectories(RESULTS)
    fig = trajectory_figure(traj, "cloud", ["baseline", "mix"])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["baseline", "mix"]


def test_paired_table_shows_each_difference_with_its_interval():
    summary = load_summary(RESULTS)
    table = paired_table(summary).set_index("scenario")
    raw = pd.read_csv(RESULTS / "summary.csv").set_index(["scenario", "target"])
    cell = table.loc["edih_double", "basic"]
    assert cell.startswith(f"{100 * raw.loc[('edih_double', 'basic'), 'diff_vs_baseline']:+.1f} pp")
    assert table.loc["baseline"].str.startswith("+0.0 pp").all()


def test_observed_points_are_the_surveys_and_sit_on_their_quarter():
    points = observed_points()
    assert [y for y, _ in points["dii_at_least_basic"]] == [2021, 2023, 2025]
    assert [y for y, _ in points["dii_v4_at_least_basic"]] == [2022, 2024]
    assert dict(points["ai"])[2025] == pytest.approx(0.3187)
    assert survey_step(2021) == 0 and survey_step(2025) == 16


def test_size_class_and_spend_figures_draw_the_run():
    m = ExplorerModel(n_firms=600, seed=2, subsidy_rate=0.5, end_year=2027)
    m.run()
    frame = m.indicator_frame()
    sizes = size_class_figure(frame)
    assert len(sizes.axes[0].lines) == 8  # four indicators x two size classes
    spend = spend_figure(frame)
    subsidy = spend.axes[0].lines[0].get_ydata()
    assert subsidy[-1] > 0 and subsidy[0] == 0  # the subsidy pays from 2026 on


def test_the_page_chooses_what_a_subsidy_pays_for_and_which_edih_services_run():
    policy = parse_policy(build_policy(subsidy_rate=0.5, subsidy_covers="AI only",
                                       edih_services="training only"))
    assert policy.subsidies[0].technologies == ("ai",)
    assert policy.edih.services == ("training",)
    for choice in SUBSIDY_COVERS:
        parse_policy(build_policy(subsidy_rate=0.5, subsidy_covers=choice))
    for choice in EDIH_OFFERS:
        parse_policy(build_policy(edih_services=choice))


def test_forecast_table_sets_out_p_hit_with_the_forecast_error_when_there_is_one():
    summary = load_summary(RESULTS)
    raw = pd.read_csv(RESULTS / "summary.csv").set_index(["scenario", "target"])
    table = forecast_table(summary).set_index("scenario")
    expected = raw.loc[("baseline", "basic"), "p_hit_forecast"]
    assert table.loc["baseline", "basic"].startswith(f"{100 * expected:.1f}% (")
    assert forecast_table(summary.drop(columns="p_hit_forecast")).empty
