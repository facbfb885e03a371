"""experiments/report.py (and plots.py): summary.csv, figures and report.md, built
from the results directory alone so ``sme-abm report DIR`` can rebuild them."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from exp_helpers import (
    SCENARIOS,
    TARGETS,
    copy_results,
    run_cli,
    tiny_mapping,
    write_config,
)

from experiments.analysis import SUMMARY_COLUMNS, summarise
from experiments.config import load_config, parse_config
from experiments.report import NO_SPLIT, headline, render
from experiments.runner import run_experiment

FIGURE_LINK = re.compile(r"!\[([^\]]*)\]\(figures/([^)]+)\)")



def embedded(report_md: str) -> list[str]:
    return [m.group(2) for m in FIGURE_LINK.finditer(report_md)]


# ------------------------------------------------------------------ summary.csv
def test_summary_csv_has_every_column_and_a_row_per_scenario_and_target(ref):
    summary = pd.read_csv(ref[1] / "summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert sorted(zip(summary["scenario"], summary["target"], strict=True)) == \
        sorted((s, t) for s in SCENARIOS for t in TARGETS)
    assert (summary["n_runs"] == 4).all()
    assert ((summary["ci_low"] <= summary["p_hit"])
            & (summary["p_hit"] <= summary["ci_high"])).all()
    assert summary["ci_low"].between(0, 1).all() and summary["ci_high"].between(0, 1).all()
    base = summary[summary["scenario"] == "baseline"]
    assert (base["diff_vs_baseline"] == 0).all()
    assert ((base["diff_ci_low"] <= 0) & (base["diff_ci_high"] >= 0)).all()
    sub = summary[summary["scenario"] == "subsidy"]
    assert (sub["spend_eur"] > 0).all() and (sub["additional_spend_eur"] > 0).all()
    assert ((sub["diff_ci_low"] <= sub["diff_vs_baseline"])
            & (sub["diff_vs_baseline"] <= sub["diff_ci_high"])).all()
    # two seeds per draw: the parameter/noise split is estimated
    assert summary["sd_noise"].notna().all() and summary["sd_parameters"].notna().all()


def test_summary_csv_matches_the_stored_outcomes(ref):
    cfg, root = ref
    config = load_config(cfg)
    outcomes = pd.read_parquet(root / "outcomes.parquet")
    expected = summarise(outcomes, config)
    got = pd.read_csv(root / "summary.csv")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    for row in got.itertuples():
        runs = outcomes[outcomes["scenario"] == row.scenario]
        assert row.p_hit == runs[f"hit:{row.target}"].mean()
        assert row.mean_target_year == pytest.approx(runs[f"value:{row.target}"].mean())


# ------------------------------------------------------------------ figures, report.md
def test_report_embeds_exactly_the_figures_that_exist(ref):
    root = ref[1]
    figures = sorted(p.name for p in (root / "figures").glob("*.png"))
    text = (root / "report.md").read_text()
    assert sorted(embedded(text)) == figures
    assert {"p_hit.png", "paired_differences.png", "cost_vs_p_hit.png",
            "by_size_class.png", "trajectories_basic_dii_at_least_basic.png",
            "trajectories_advanced_advanced_any.png"} == set(figures)
    for name in figures:
        assert (root / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_text(ref):
    cfg, root = ref
    text = (root / "report.md").read_text()
    assert text.startswith("# tiny\n")
    assert "Tiny experiment for the tests" in text
    assert "4 replications x 2 scenarios, 500 simulated" in text
    assert "Runs completed: 8." in text
    assert "- **basic**: `dii_at_least_basic` of firms 10-249 at least 87% in 2024" in text
    assert "parameters from declared distributions: basic_intercept, peer_weight" in text
    # the tiny experiment draws history-shaping parameters without a posterior: flagged
    assert "History check:" in text and "**Exploratory run" in text
    assert "## History check" in text
    for scenario in SCENARIOS:
        assert f"| {scenario} | basic |" in text and f"| {scenario} | advanced |" in text
    assert NO_SPLIT not in text  # two seeds per draw
    assert cfg.read_text().strip() in text  # the configuration as run
    # additionality is counted firm by firm and explained; the gigabit ambition stated
    assert "## Cost and additionality" in text and "| subsidy | basic |" in text
    for header in ("EUR per additional firm", "brought forward", "deadweight"):
        assert header in text
    assert "compared with itself in the baseline" in text
    assert "**1 Gbit/s for every firm**" in text
    assert "## What each scenario buys" in text and "- **subsidy**: `basic`" in text
    # a first page in words, the scenarios described, every code explained
    assert text.index("## Summary") < text.index("## Headline")
    assert "under current policy" in text and "**Caveats.**" in text
    assert "| subsidy | subsidy 'subsidy': 50% of the cost up to EUR 10,000" in text
    assert "## Glossary" in text and "| advanced_each |" in text
    assert "Subsidy take-up: with the default application friction" in text


def test_report_html_is_self_contained(ref):
    page = (ref[1] / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page
    assert 'src="figures/' not in page and page.count('src="data:image/png;base64,') >= 3


def test_report_command_rebuilds_summary_report_and_figures_identically(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    (root / "summary.csv").unlink()
    (root / "report.md").unlink()
    shutil.rmtree(root / "figures")
    code, out, err = run_cli("report", str(root))
    assert code == 0, err
    assert (root / "summary.csv").read_bytes() == (ref[1] / "summary.csv").read_bytes()
    assert (root / "report.md").read_text() == (ref[1] / "report.md").read_text()
    assert sorted(p.name for p in (root / "figures").iterdir()) == \
        sorted(p.name for p in (ref[1] / "figures").iterdir())
    assert "rebuilt" in out and "P(hit)" in out and "subsidy" in out


def test_report_from_the_consolidated_outcomes_only(ref, tmp_path):
    """A checkout holds outcomes.parquet and trajectories.parquet but not the git-ignored
    parts/ and timeseries/: `report` redraws every figure and the same report."""
    root = copy_results(ref[1], tmp_path / "res")
    for sub in ("parts", "timeseries", "figures"):
        shutil.rmtree(root / sub)
    (root / "summary.csv").unlink()
    (root / "report.md").unlink()
    code, _, err = run_cli("report", str(root))
    assert code == 0, err
    assert (root / "summary.csv").read_bytes() == (ref[1] / "summary.csv").read_bytes()
    assert (root / "report.md").read_text() == (ref[1] / "report.md").read_text()
    figures = sorted(p.name for p in (root / "figures").glob("*.png"))
    assert figures == sorted(p.name for p in (ref[1] / "figures").glob("*.png"))
    assert sorted(embedded((root / "report.md").read_text())) == figures


def test_report_without_any_time_series_says_which_figures_are_missing(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    for sub in ("parts", "timeseries", "figures"):
        shutil.rmtree(root / sub)
    (root / "trajectories.parquet").unlink()
    code, _, err = run_cli("report", str(root))
    assert code == 0, err
    text = (root / "report.md").read_text()
    assert "Not drawn:" in text and "trajectory figures" in text
    assert not list((root / "figures").glob("trajectories_*"))


# ------------------------------------------------------------------ units
def _synthetic_summary(config):
    rows = []
    for sc in config.scenarios:
        for r in range(4):
            rows.append({"scenario": sc, "replication": r, "draw": r, "seed": 7,
                         "value:basic": 0.85 + 0.01 * r, "hit:basic": r >= 2,
                         "spend_eur:basic": 0.0 if sc == "baseline" else 2e6,
                         "firms:basic": 1000.0,
                         "value:advanced": 0.7, "hit:advanced": False,
                         "spend_eur:advanced": 0.0, "firms:advanced": 1000.0,
                         "subsidised_adoptions": 0.0, "deadweight_adoptions": 0.0})
    outcomes = pd.DataFrame(rows)
    return outcomes, summarise(outcomes, config)


def test_headline_formats_percentages_money_and_missing_values():
    config = parse_config(tiny_mapping(replications=4, seeds_per_draw=1), source="<test>")
    _, summary = _synthetic_summary(config)
    table = headline(summary)
    assert list(table.columns) == ["scenario", "target", "P(hit)", "95% CI", "mean in target year",
                                   "vs baseline", "extra spend", "EUR/extra firm", "runs",
                                   "parameter sets"]
    first = table.iloc[0]
    assert first["P(hit)"] == "50.0%" and first["vs baseline"] == "+0.0 pp"
    assert re.fullmatch(r"\d+\.\d%-\d+\.\d%", first["95% CI"])
    assert first["extra spend"] == "EUR 0 m" and first["EUR/extra firm"] == "-"
    sub = table[(table["scenario"] == "subsidy") & (table["target"] == "basic")].iloc[0]
    assert sub["extra spend"] == "EUR 2 m" and sub["EUR/extra firm"] == "-"  # no extra firms


def test_render_without_repeated_seeds_explains_the_missing_split(tmp_path):
    config = parse_config(tiny_mapping(replications=4, seeds_per_draw=1), source="<test>")
    outcomes, summary = _synthetic_summary(config)
    assert summary["sd_noise"].isna().all()
    text = render(config, summary, outcomes, [tmp_path / "figures" / "p_hit.png"], tmp_path, {})
    assert NO_SPLIT in text
    assert "![p_hit](figures/p_hit.png)" in text
    assert "Model commit: `unknown`" in text
    assert "Runs completed: 8." in text
    assert not math.isnan(summary["p_hit"].iloc[0])


def test_report_command_works_for_a_config_with_a_relative_posterior(tmp_path):
    posterior = tmp_path / "fits" / "posterior.parquet"
    posterior.parent.mkdir()
    pd.DataFrame({"peer_weight": [0.8, 1.4, 2.0], "weight": [1.0, 1.0, 2.0]}).to_parquet(
        posterior)
    raw = tiny_mapping(replications=2, seeds_per_draw=1)
    raw["uncertainties"] = {"posterior": "fits/posterior.parquet"}
    cfg = write_config(tmp_path, raw)
    out = tmp_path / "results"
    run_experiment(load_config(cfg), out=out, workers=1, progress=False)
    (out / "summary.csv").unlink()
    # the calibration's backcast before 2021 reaches the experiment's history check
    import json

    (posterior.parent / "manifest.json").write_text(json.dumps({"backcast_changes": [
        {"code": "E_CC", "indicator": "cloud", "from": 2014, "to": 2020, "observed": 1.06,
         "median": 0.07, "p05": -0.25, "p95": 0.43, "inside_90": False}]}))
    code, _, err = run_cli("report", str(out))
    assert code == 0, err
    text = (out / "report.md").read_text()
    assert "Before 2021 (not fitted)" in text and "E_CC 2014-2020 observed +1.06" in text


def test_report_on_a_half_written_directory_says_incomplete(ref, tmp_path):
    """Half the runs gone: `report` marks the report INCOMPLETE and exits 1, or 0 with
    --partial."""
    root = copy_results(ref[1], tmp_path / "res")
    shutil.rmtree(root / "parts")
    shutil.rmtree(root / "timeseries")
    out = pd.read_parquet(root / "outcomes.parquet")
    out[out["replication"] < 2].to_parquet(root / "outcomes.parquet")
    code, _, err = run_cli("report", str(root))
    assert code == 1 and "INCOMPLETE: 4 of 8 runs" in err and "--resume" in err
    assert "**INCOMPLETE: 4 of 8 runs.**" in (root / "report.md").read_text()
    code, _, _ = run_cli("report", str(root), "--partial")
    assert code == 0


def test_report_states_the_replications_actually_run(ref, tmp_path):
    run_experiment(load_config(ref[0]), out=tmp_path / "two", workers=1, replications=2,
                   progress=False)
    (tmp_path / "two" / "report.md").unlink()
    code, _, err = run_cli("report", str(tmp_path / "two"))
    assert code == 0, err
    text = (tmp_path / "two" / "report.md").read_text()
    assert "2 replications x 2 scenarios" in text and "INCOMPLETE" not in text


def test_every_figure_is_written_as_png_and_svg_without_raw_indicator_codes(ref):
    """Titles and labels in plain language: no model indicator codes in any figure."""
    import re

    from model.indicators import INDICATOR_NAMES

    figures = sorted((ref[1] / "figures").glob("*.png"))
    assert len(figures) >= 4
    codes = {c for c in INDICATOR_NAMES if "_" in c} | {"advanced_each"}  # not plain words
    for png in figures:
        svg = png.with_suffix(".svg")
        assert png.stat().st_size > 5_000 and svg.exists(), png.name
        text = " ".join(re.findall(r">([^<>]+)</text>", svg.read_text()))
        assert text, png.name  # the text is in the SVG as text
        found = {c for c in codes if re.search(rf"\b{c}\b", text)}
        assert not found, (png.name, found)


def test_the_summary_says_when_chain_disagreement_sets_the_interval():
    from experiments.report import chain_caveat

    base = pd.DataFrame({"n_chains": [3, 3], "ci_low": [0.0, 0.80], "ci_high": [0.5, 0.88],
                         "ci_runs_low": [0.1, 0.80], "ci_runs_high": [0.18, 0.88]})
    text = chain_caveat(base)
    assert "3 chains disagree" in text and "1 of 2 targets" in text and "--chain" in text
    agree = base.assign(ci_low=base["ci_runs_low"], ci_high=base["ci_runs_high"])
    assert chain_caveat(agree) == ""
    assert chain_caveat(base.assign(n_chains=math.nan)) == ""


def test_the_report_sets_p_hit_with_forecast_error_beside_p_hit_or_says_why_not(tmp_path):
    import dataclasses
    import json

    from experiments.report import forecast_section

    config = parse_config(tiny_mapping(replications=4, seeds_per_draw=1), source="<test>")
    _, summary = _synthetic_summary(config)
    assert "Not computed: the experiment file names no back-test" in forecast_section(
        summary, config)
    missing = dataclasses.replace(config, forecast_error=tmp_path / "bt",
                                  posterior=tmp_path / "cal" / "posterior.parquet")
    assert "Not computed: " in forecast_section(summary, missing)
    assert "fit.csv" in forecast_section(summary, missing)

    for name, until in (("bt", 2022), ("cal", 2023)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"fit_until": until}))
    pd.DataFrame({"series": ["dii_v4", "ai", "cloud"], "kind": "share", "year": 2023,
                  "observed": [0.7, 0.3, 0.75], "median": 0.8, "p05": 0.79, "p95": 0.81,
                  "role": "held out"}).to_csv(tmp_path / "bt" / "fit.csv", index=False)
    summary = summarise(_synthetic_summary(config)[0], missing)
    table = headline(summary)
    assert list(table.columns[:5]) == ["scenario", "target", "P(hit)", "95% CI",
                                       "with forecast error"]
    text = forecast_section(summary, missing)
    assert "basic: tau" in text and "advanced: tau" in text and "from 1 held-out share" in text
    # the two advanced shares check each other; the lone basic one cannot be checked
    assert "checked on the back-test itself" in text and "inside the widened band" in text
    assert "of 2 shares" in text
    assert "| with forecast error |" in text


def test_trajectory_bands_widen_with_the_forecast_error_after_the_fitted_years():
    """The trajectory table's forecast band (f05, f95) is the runs' own 90% band up to the
    calibration's last fitted year and wider after it, the more so the later."""
    from experiments import forecast_error as fe
    from experiments.plots import trajectory_table

    config = parse_config(tiny_mapping(replications=4, seeds_per_draw=1), source="<test>")
    rng = np.random.default_rng(6)
    rows = [{"scenario": sc, "replication": r, "year": y, "indicator": "advanced_any",
             "segment": "10-249", "value": 0.5 + 0.05 * (y - 2021) + rng.normal(0, 0.01)}
            for sc in ("baseline", "subsidy") for r in range(40) for y in range(2021, 2025)]
    errors = fe.ForecastError({"advanced": fe.FamilyError("advanced", 0.1, 0.05, 0.2, 8, 2)},
                              backtest_fit_until=2021, fit_until=2022, source="bt")
    table = trajectory_table(pd.DataFrame(rows), config, errors=errors)
    base = table[(table["scenario"] == "baseline")
                 & (table["target"] == "advanced")].set_index("year")
    fitted, later = base.loc[[2021, 2022]], base.loc[[2023, 2024]]
    assert np.allclose(fitted["f05"], fitted["q05"]) and np.allclose(fitted["f95"], fitted["q95"])
    assert (later["f05"] < later["q05"]).all() and (later["f95"] > later["q95"]).all()
    width = later["f95"] - later["f05"]
    assert width.loc[2024] > width.loc[2023]
    assert "f05" not in trajectory_table(pd.DataFrame(rows), config)
