"""The experiment report: summary.csv, figures/*.png and report.md, from stored results.

``build`` reads only the results directory, so ``sme-abm report DIR`` can rebuild
everything from what a run stored.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from model.parameters import LEVER_RESPONSE, PARAMETERS

from . import backcast, forecast_error, plots
from .analysis import summarise
from .config import ExperimentConfig
from .observations import HISTORY_Z
from .outcomes import OUTCOME_INDICATORS
from .plots import target_title
from .store import ResultStore, atomic_write_parquet, atomic_write_text
from .text import count, markdown_table, meur, pct, pp

TRAJECTORIES = "trajectories.parquet"
"""Quantiles of the target indicators per scenario and year: committed with the results
so `sme-abm report` on a fresh clone redraws every figure."""

NO_SPLIT = "Needs two or more seeds per parameter draw (run.seeds_per_draw)."


def build(store: ResultStore, config: ExperimentConfig) -> pd.DataFrame:
    outcomes = store.outcomes()
    summary = summarise(outcomes, config)
    atomic_write_text(store.root / "summary.csv", summary.to_csv(index=False))
    figures = store.figures
    paths: list[Path] = []
    series = store.series()
    table_path = store.root / TRAJECTORIES
    missing = []
    if not series.empty:
        measurement = [c for c in outcomes.columns if c.startswith("param:survey_")]
        params = outcomes[["scenario", "replication", *measurement]].rename(
            columns=lambda c: c.removeprefix("param:"))
        errors = forecast_error.for_experiment(config.forecast_error, config.posterior)
        table = plots.trajectory_table(series, config, params, errors)
        if len(table):
            atomic_write_parquet(table_path, table)
    elif table_path.exists():  # a fresh clone: the runs' time series are not committed
        table = pd.read_parquet(table_path)
    else:
        table = pd.DataFrame()
        missing.append("trajectory figures: no time series stored (timeseries/ and "
                       f"{TRAJECTORIES} are both missing); rerun with --resume to rebuild")
    if len(table):
        for target in config.targets.values():
            paths += plots.trajectories(table, config, target, figures)
    paths.append(plots.p_hit(summary, config, figures))
    if len(config.scenarios) > 1:
        paths.append(plots.paired_differences(summary, config, figures))
        paths.append(plots.cost_vs_p_hit(summary, config, figures))
    size_fig = plots.by_size_class(outcomes, config, figures)
    if size_fig:
        paths.append(size_fig)
    manifest = store.manifest() if store.manifest_path.exists() else {}
    text = render(config, summary, outcomes, paths, store.root, manifest, missing)
    atomic_write_text(store.root / "report.md", text)
    atomic_write_text(store.root / "report.html", to_html(text, store.root, config.name))
    return summary


HTML_STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;line-height:1.45;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}
img{max-width:100%;height:auto}pre{background:#f6f6f6;padding:.75rem;overflow-x:auto;
font-size:.8rem}code{font-size:.9em}"""


def to_html(markdown_text: str, root: Path, title: str) -> str:
    """The report as one self-contained HTML page: figures embedded, no outside files."""
    import base64
    import html
    import re

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown_text)

    def embed(match: re.Match[str]) -> str:
        src = html.unescape(match.group(1))
        path = root / src
        if not path.is_file():
            return match.group(0)
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:{mime};base64,{data}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head>"
            f"<body>\n{body}</body></html>\n")


COST_NOTE = """Counted firm by firm at the target date. Every scenario of a replication
simulates the same firms as the baseline (same seed and parameters), so each firm a
scenario supports (a grant, or an EDIH service or campaign contact the baseline did not
give it) is compared with itself in the baseline, on the target's own indicator (for
`advanced_each`: using all three technologies). Of the supported firms that meet the
indicator at the target date, *additional* ones meet it only with support, *brought
forward* ones meet it in both runs but earlier with support, *deadweight* ones meet it in
both runs no earlier. *Additional firms* is the change in real firms meeting the indicator
at the target date, spill-overs to unsupported firms included; *EUR per additional firm*
divides the extra public spend up to the target year (subsidies, EDIH services,
campaigns) by it. *Spend to target year* is the scenario's total, current policy
included. Means over runs; real firms are simulated firms times their weights."""


def _intervals(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"{pct(a)}-{pct(b)}" for a, b in zip(low, high, strict=True)]


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The short table printed at the end of a run."""
    t = pd.DataFrame({
        "scenario": summary["scenario"],
        "target": summary["target"],
        "P(hit)": summary["p_hit"].map(pct),
        "95% CI": _intervals(summary["ci_low"], summary["ci_high"]),
        "mean in target year": summary["mean_target_year"].map(pct),
        "vs baseline": summary["diff_vs_baseline"].map(pp),
        "extra spend": summary["additional_spend_eur"].map(meur),
        "EUR/extra firm": summary["eur_per_additional_firm"].map(count),
        "runs": summary["n_runs"],
        "parameter sets": summary["n_parameter_sets"],
    })
    if "p_hit_forecast" in summary and summary["p_hit_forecast"].notna().any():
        # beside P(hit): the answer if the model forecasts as its back-test did
        t.insert(4, "with forecast error", summary["p_hit_forecast"].map(pct))
    return t


def cost_table(summary: pd.DataFrame) -> pd.DataFrame:
    """What each scenario costs and buys, target by target, with readable headers."""
    rows = summary[summary["additional_spend_eur"].fillna(0) != 0]
    if rows.empty:
        rows = summary
    return pd.DataFrame({
        "scenario": rows["scenario"], "target": rows["target"],
        "spend to target year": rows["spend_eur"].map(meur),
        "extra spend": rows["additional_spend_eur"].map(meur),
        "additional firms (real)": rows["additional_firms"].map(count),
        "EUR per additional firm": rows["eur_per_additional_firm"].map(count),
        "supported firms (real)": rows["supported_firms"].map(count),
        "of those meeting it: additional": rows["additional_share"].map(pct),
        "brought forward": rows["brought_forward_share"].map(pct),
        "deadweight": rows["deadweight_share"].map(pct),
    })


def evidence_sentence(config: ExperimentConfig) -> str:
    """Where the lever effects come from, and how strong that evidence is (the sources
    of the parameter table, which cite docs/EVIDENCE.md)."""
    drawn = [f"`{n}`: {PARAMETERS[n].source}" for n in config.uncertainties
             if n in LEVER_RESPONSE]
    text = ("Lever effects are drawn from the distributions of docs/EVIDENCE.md; the "
            "evidence behind them: " + "; ".join(drawn) + "." if drawn else
            "Lever effects are at their defaults (docs/EVIDENCE.md).")
    if any(policy.get("subsidy") for policy in config.scenarios.values()):
        text += (" Subsidy take-up: with the default application friction (0.95) an open "
                 "voucher reaches about 2% of firms in its year, as Italy's 2018 "
                 "digitalisation voucher did (tests/test_policy.py). Additionality in the "
                 "quarter of the grant: an allowance for advanced technologies like "
                 "Italy's 2017 hyper-depreciation is between 10% and 47.6% additional in "
                 "the model at the posterior's central draw (tested), below the evaluated "
                 "upper bound (47.6% of firms called it relevant); "
                 "grants for cheap basic items and security measures are mostly "
                 "deadweight (docs/EVIDENCE.md).")
    return text


def lever_sentences(summary: pd.DataFrame, config: ExperimentConfig) -> str:
    """What each scenario buys, in words: per target, the change in P(hit) and in the
    target-year value, the additional firms and what each costs, and how much of the
    support went to firms that would have got there anyway."""
    lines = []
    for scenario in config.scenarios:
        if scenario == config.baseline:
            continue
        rows = summary[summary["scenario"] == scenario]
        base = summary[summary["scenario"] == config.baseline].set_index("target")
        parts = []
        for r in rows.itertuples():
            if r.target not in base.index:
                continue
            change = r.mean_target_year - base.loc[r.target, "mean_target_year"]
            text = (f"`{r.target}` {pp(change)} in the target-year value, P(hit) "
                    f"{pp(r.diff_vs_baseline)}")
            if isinstance(r.additional_firms, float) and not math.isnan(r.additional_firms):
                text += f", {r.additional_firms:,.0f} additional firms"
                if not math.isnan(r.eur_per_additional_firm):
                    text += f" at EUR {r.eur_per_additional_firm:,.0f} each"
                if not math.isnan(r.deadweight_share):
                    text += (f" ({pct(r.deadweight_share + r.brought_forward_share)} of the "
                             f"supported firms meeting it would have met it anyway)")
            parts.append(text)
        if parts:
            lines.append(f"- **{scenario}**: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def other_outcomes(outcomes: pd.DataFrame, config: ExperimentConfig) -> pd.DataFrame:
    """Final-year adoption and cyber indicators per scenario: median (5%-95%)."""
    seg = "10-249" if config.run.population == "10-249" else "all"
    cols = [f"{i}@{seg}" for i in OUTCOME_INDICATORS if f"{i}@{seg}" in outcomes]
    rows = []
    for scenario in config.scenarios:
        runs = outcomes[outcomes["scenario"] == scenario]
        if runs.empty:
            continue
        row = {"scenario": scenario}
        for c in cols:
            v = runs[c].dropna()
            row[c.split("@")[0]] = (f"{pct(v.median())} ({pct(v.quantile(0.05))}-"
                                    f"{pct(v.quantile(0.95))})") if len(v) else "-"
        rows.append(row)
    return pd.DataFrame(rows)


def _pass_rates(runs: pd.DataFrame) -> dict[str, float]:
    """Share of ``runs`` that reproduce each fitted series (``history:<series>``)."""
    return {c.split(":", 1)[1]: float((runs[c] <= HISTORY_Z).mean())
            for c in runs.columns if c.startswith("history:") and c != "history:ok"}


def history_table(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: share of runs whose simulated 2021-2025 survey readings reproduce
    every fitted series (``history:ok``), and per series."""
    if "history:ok" not in outcomes or outcomes.empty:
        return pd.DataFrame()
    return pd.DataFrame([
        {"scenario": scenario, "every series": pct(runs["history:ok"].mean()),
         **{k: pct(v) for k, v in _pass_rates(runs).items()}}
        for scenario, runs in outcomes.groupby("scenario", sort=False)])


def describe_policy(policy: dict) -> str:
    """A scenario's levers in words (current policy where a lever is not named)."""
    from model import parse_policy

    p = parse_policy(policy)
    parts = []
    for sc in p.subsidies:
        parts.append(f"subsidy '{sc.name}': {sc.rate:.0%} of the cost up to EUR "
                     f"{sc.cap_eur:,.0f} a firm, EUR {sc.yearly_budget_eur / 1e6:,.0f} m a year, "
                     f"for {', '.join(t.replace('_', ' ') for t in sc.technologies)}, "
                     f"{sc.start_year}-{sc.end_year}")
    if "edih" in policy:
        e = p.edih
        parts.append(f"EDIHs serve {e.capacity_per_year:,.0f} firms a year from {e.from_year} "
                     f"({', '.join(s.replace('_', '-') for s in e.services)})")
    if p.cyber_campaign:
        c = p.cyber_campaign
        parts.append(f"cyber campaign reaching {c.reach_per_year:.0%} of firms a year, "
                     f"{c.start_year}-{c.end_year}, EUR {c.cost_per_year_eur / 1e6:,.1f} m a year")
    if p.security_obligation:
        o = p.security_obligation
        parts.append(f"duty of {o.min_measures} security measures for firms of "
                     f"{', '.join(o.size_classes)}, from {o.start_year}")
    return "; ".join(parts) if parts else "current policy (EDIHs at their present capacity)"


def scenario_table(config: ExperimentConfig) -> pd.DataFrame:
    return pd.DataFrame({"scenario": list(config.scenarios),
                         "levers": [describe_policy(v) for v in config.scenarios.values()]})


GLOSSARY = (
    ("P(hit)", "share of runs that reach the target; 95% interval: Wilson's at the runs' "
               "effective number, which allows for runs sharing a posterior parameter set "
               "(Korn and Graubard 1998), widened where the calibration chains disagree "
               "more (Student's t on the chains' own P(hit)); `ci_runs_*` in "
               "`summary.csv` is the runs' interval alone"),
    ("each calibration chain alone", "P(hit) over the runs whose parameters come from "
                                     "one calibration chain: far apart, and the posterior "
                                     "sample, not the world, decides the answer; the "
                                     "interval carries that"),
    ("parameter sets", "distinct posterior parameter sets behind a scenario's runs: the "
                       "posterior sample, not the number of runs, bounds what P(hit) can "
                       "resolve"),
    ("vs baseline", "paired difference in P(hit) against the baseline scenario"),
    ("with forecast error", "P(hit) if each run's target-year reading also carries the "
                            "model's forecast error as its back-test measured it: the mean "
                            "of each run's chance of a hit (docs/ODD.md 7.7)"),
    ("target-year value", "the target's indicator in the target year as the survey reads it"),
    ("advanced_each", "strict reading of the advanced target: each of cloud, data "
                      "analytics and AI used by at least the threshold"),
    ("advanced / advanced_any", "cloud, data analytics or AI (Eurostat E_AI_CC1SI_DA_ANY)"),
    ("basic / basic_v4", "at least basic digital intensity on DII v3 / on DII v4"),
    ("additional firms", "real firms (not simulated ones) meeting the indicator at the "
                         "target date only because of the scenario, spill-overs included"),
    ("brought forward / deadweight", "supported firms that would have met the indicator "
                                     "by the target date anyway, earlier / no earlier"),
    ("sd_parameters / sd_noise", "spread of the target-year value due to the parameters / "
                                 "to chance at fixed parameters"),
    ("P(hit | draw) p05/p50/p95", "quantiles over parameter draws of the chance of a hit"),
    ("history check", "share of runs whose simulated 2021-2025 survey readings reproduce "
                      "the observed series (RMS standardised error at most 2)"),
)


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def chain_caveat(base: pd.DataFrame) -> str:
    """Whether the calibration chains' disagreement, not the number of runs, sets the
    width of the baseline's intervals, and what would narrow them."""
    if "n_chains" not in base or base["n_chains"].isna().all():
        return ""
    runs = base["ci_runs_high"] - base["ci_runs_low"]
    wider = base["ci_high"] - base["ci_low"] > runs + 1e-9
    if not wider.any():
        return ""
    k = int(base["n_chains"].max())
    return (f"the calibration's {k} chains disagree, and that, not the number of runs, "
            f"sets the width of the interval for {int(wider.sum())} of {len(base)} targets "
            "under current policy; more chains (cluster `--chain` jobs pooled with "
            "`--pool`) would narrow them, more runs would not")


def forecast_section(summary: pd.DataFrame, config: ExperimentConfig) -> str:
    """P(hit) beside P(hit) allowing for the model's forecast error as its back-test
    measured it (``experiments.forecast_error``), or why there is none."""
    if config.forecast_error is None:
        return ("Not computed: the experiment file names no back-test (`[forecast_error] "
                "backtest = ...`). P(hit) above takes the model's mechanisms as right.")
    if config.posterior is None:
        return "Not computed: the experiment draws from no calibrated posterior."
    try:
        errors = forecast_error.load(config.forecast_error, config.posterior.parent)
    except forecast_error.ForecastErrorFileError as err:
        return f"Not computed: {err}."
    if "p_hit_forecast" not in summary or summary["p_hit_forecast"].isna().all():
        return "Not computed: no target's indicator has a family the back-test measures."
    rows = summary[summary["p_hit_forecast"].notna()]
    table = pd.DataFrame({
        "scenario": rows["scenario"], "target": rows["target"],
        "P(hit)": rows["p_hit"].map(pct),
        "95% CI": _intervals(rows["ci_low"], rows["ci_high"]),
        "with forecast error": rows["p_hit_forecast"].map(pct),
        "its 95% CI": _intervals(rows["forecast_ci_low"], rows["forecast_ci_high"]),
        "vs baseline": [f"{pp(d)} ({100 * a:+.1f} to {100 * b:+.1f})" for d, a, b in zip(
            rows["diff_forecast"], rows["diff_forecast_ci_low"], rows["diff_forecast_ci_high"],
            strict=True)],
        "sd (log-odds)": [f"{a:.2f} ({b:.2f}-{c:.2f})" for a, b, c in zip(
            rows["forecast_sd"], rows["forecast_sd_low"], rows["forecast_sd_high"],
            strict=True)],
    })
    families = "; ".join(f.describe() for f in errors.families.values())
    check = f"; {errors.check}" if errors.check else ""
    return f"""P(hit) above takes the model's mechanisms as right. The back-test
(`{Path(errors.source).name}`: fitted up to {errors.backtest_fit_until}, the later shares
held out) measures how far they are from right when the model forecasts: its misses on the
held-out shares, beyond what their predictive bands allow, give each family of series a
forecast error that grows as a random walk in log-odds ({families}){check}. Carried to the target
year ({errors.fit_until} is the last year this experiment's calibration fitted), each run's
reading hits with probability Phi((logit value - logit threshold) / sd); "with forecast
error" is the mean of that over the runs. Its 95% interval is the widest of the runs' and
chains' intervals at the estimated sd and at the ends of the sd's own 95% interval (in
brackets): a few held-out values pin the error down only loosely. A target on several
indicators takes one error for all of them (independent errors would lower it). "vs
baseline" is the paired difference in that chance: the error is the model's, not the
policy's, so a scenario and its baseline share it. Read
"P(hit)" as the answer if the model is right, and "with forecast error" as the answer if
it forecasts the target year as well as it forecast its back-test's held-out years.

{markdown_table(table)}"""


def plain_summary(summary: pd.DataFrame, outcomes: pd.DataFrame,
                  config: ExperimentConfig) -> str:
    """The first page: the question, the answer per target, what moves it, the caveats."""
    base = summary[summary["scenario"] == config.baseline].set_index("target")
    answers = []
    for name, t in config.targets.items():
        if name not in base.index:
            continue
        b = base.loc[name]
        rows = summary[summary["target"] == name]
        best = rows.loc[rows["p_hit"].idxmax()]

        text = (f"- **{target_title(t)}** (`{name}`): {pct(b.p_hit)} "
                f"({pct(b.ci_low)}-{pct(b.ci_high)}) under current policy, expected value "
                f"{pct(b.mean_target_year)}")
        if not math.isnan(b.get("p_hit_chain_low", math.nan)):
            text += (f" (each calibration chain alone: {pct(b.p_hit_chain_low)} to "
                     f"{pct(b.p_hit_chain_high)})")
        if not math.isnan(b.get("p_hit_forecast", math.nan)):
            text += (f"; allowing for the model's forecast error {pct(b.p_hit_forecast)} "
                     f"({pct(b.forecast_ci_low)}-{pct(b.forecast_ci_high)})")
        if best["scenario"] != config.baseline and best["p_hit"] > b.p_hit:
            text += (f"; highest under `{best['scenario']}`: {pct(best['p_hit'])}"
                     f" ({pct(best['ci_low'])}-{pct(best['ci_high'])})")
            if not math.isnan(best["eur_per_additional_firm"]):
                text += f", at EUR {best['eur_per_additional_firm']:,.0f} per additional firm"
        answers.append(text + ".")
    caveats = []
    chain_note = chain_caveat(base)
    if chain_note:
        caveats.append(chain_note)
    if "history:ok" in outcomes:
        caveats.append(f"{outcomes['history:ok'].mean():.0%} of runs reproduce every observed "
                       "2021-2025 series within tolerance (History check below)")
    if config.posterior is not None:
        ps = config.posterior.parent / "posterior_summary.csv"
        if ps.exists():
            weak = pd.read_csv(ps)
            if "identified" in weak:
                n = int((~weak["identified"].astype(bool)).sum())
                caveats.append(f"{n} of {len(weak)} calibrated parameters are weakly "
                               "identified by the data; they are drawn from their posterior, "
                               "so their uncertainty is in P(hit)")
    if config.uncertainties:
        caveats.append("lever effects rest mostly on weak evidence (docs/EVIDENCE.md)")
    desc = config.description.strip()
    question = " ".join(desc.split("\n\n")[0].split()) if desc else config.name
    return (f"**Question.** {question}\n\n"
            "**Answer: the chance of reaching each target.**\n\n" + "\n".join(answers)
            + "\n\n**What moves it** and at what cost: see *What each scenario buys*.\n\n"
            + ("**Caveats.** " + capitalised("; ".join(caveats)) + "." if caveats else ""))


def connectivity_sentence(outcomes: pd.DataFrame, config: ExperimentConfig) -> str:
    """Where the 1 Gbit/s ambition stands in the target year (no lever acts on it)."""
    from model.datasets import gigabit_coverage_observed

    col = "gigabit_available@all"
    if col not in outcomes or outcomes[col].dropna().empty:
        return ""
    seen = gigabit_coverage_observed()
    (y0, v0), (y1, v1) = seen[0], seen[-1]
    return (f"**1 Gbit/s for every firm**: a gigabit connection is available to "
            f"{pct(outcomes[col].median())} of firms in {config.run.end_year} (median of the "
            f"runs). Coverage follows the observed NL series ({pct(v0)} in {y0}, "
            f"{pct(v1)} in {y1}; `model/data/connectivity.csv`), extended at its "
            f"{seen[-2][0]}-{y1} pace: the ambition is close to met, not met, and no "
            f"lever of these scenarios acts on it.")


def discovery_section(root: Path) -> str:
    """What scenario discovery (`sme-abm discover`) found, if it was run on these results:
    each box's coverage and density, and what a box does and does not show."""
    found = sorted(root.glob("discovery_*.md"))
    if not found:
        return ("Not run on these results (`sme-abm discover DIR --target NAME`; then "
                "`sme-abm report DIR` adds it here).")
    lines = []
    for path in found:
        text = path.read_text(encoding="utf-8").splitlines()
        title = text[0].lstrip("# ").strip() if text else path.stem
        summary = next((t for t in text[1:] if t.strip()), "")
        lines.append(f"- **{title}** ([{path.name}]({path.name})): {summary}")
    return ("\n".join(lines) + "\n\nA box describes where the runs of interest concentrate "
            "in this sample of parameter draws and scenarios (coverage: the share of those "
            "runs inside it; density: the share of runs inside it that are of interest). It "
            "is a description, not a cause, and restrictions with a quasi-p-value above 0.05 "
            "could well be chance.")


def history_sentence(outcomes: pd.DataFrame, config: ExperimentConfig) -> str:
    """One line for the top of a report: how many runs reproduce the observed past."""
    if "history:ok" not in outcomes or outcomes.empty:
        return "History check: not available (no run simulated an observed year)."
    share = outcomes["history:ok"].mean()
    flag = ""
    if config.run.exploratory:
        flag = (" **Exploratory run (run.exploratory = true): parameters that shape the "
                "observed past were drawn outside the calibrated posterior; P(hit) is not "
                "calibrated to the observed record.**")
    elif config.posterior is None:
        flag = (" No posterior: the parameters that shape the observed past are at their "
                "defaults, not calibrated.")
    worst = sorted(_pass_rates(outcomes).items(), key=lambda kv: kv[1])[:3]
    detail = ""
    if worst and share < 1:
        detail = " Series reproduced least often: " + ", ".join(
            f"{name} ({rate:.0%} of runs)" for name, rate in worst) + "."
    return (f"History check: {share:.0%} of runs reproduce every fitted 2021-2025 series "
            f"(root-mean-square standardised error at most {HISTORY_Z:g} per series)."
            f"{detail}{flag}")


def render(config: ExperimentConfig, summary: pd.DataFrame, outcomes: pd.DataFrame,
           figures: list[Path], root: Path, manifest: dict,
           missing: list[str] | None = None) -> str:
    run = config.run
    targets = "\n".join(
        f"- **{t.name}**: `{t.indicator}` of firms {t.population} at least "
        f"{t.threshold:.0%} in {t.year} (survey reading"
        + (f", DII v{t.dii_version}" if t.indicator == "dii_at_least_basic" else "") + ")"
        for t in config.targets.values())
    history = history_table(outcomes)
    split = summary[["scenario", "target", "sd_parameters", "sd_noise", "p_hit_draw_p05",
                     "p_hit_draw_p50", "p_hit_draw_p95"]].copy()
    has_split = split["sd_noise"].notna().any()
    for c in ("sd_parameters", "sd_noise"):
        split[c] = split[c].map(lambda v: pp(v, 2).lstrip("+"))
    for c in ("p_hit_draw_p05", "p_hit_draw_p50", "p_hit_draw_p95"):
        split[c] = split[c].map(pct)
    cost = cost_table(summary)
    others = other_outcomes(outcomes, config)
    figs = "\n\n".join(f"![{p.stem}](figures/{p.name})" for p in figures)
    if missing:
        figs += "\n\nNot drawn:\n\n" + "\n".join(f"- {m}" for m in missing)
    parts = []
    if config.posterior:
        drawn = sorted(c.split(":", 1)[1] for c in outcomes.columns
                       if c.startswith("param:") and c.split(":", 1)[1] not in
                       config.uncertainties)
        parts.append(f"Parameters that shape the observed past are drawn jointly from the "
                     f"calibrated posterior `{config.posterior.name}` ({len(drawn)}: "
                     + ", ".join(drawn) + ")")
    if config.uncertainties:
        parts.append("parameters from declared distributions: "
                     + ", ".join(sorted(config.uncertainties)))
    uncertainty = ("; ".join(parts) if parts else
                   "No parameter uncertainty declared: P(hit) then reflects run-to-run "
                   "noise only")
    config_text = ""
    cfg = root / "config.toml"
    if cfg.exists():
        config_text = cfg.read_text(encoding="utf-8")
    incomplete = ""
    if len(outcomes) < config.n_runs:
        incomplete = (f"\n**INCOMPLETE: {len(outcomes)} of {config.n_runs} runs.** The "
                      "probabilities below rest on the runs completed so far; complete them "
                      "with `sme-abm run ... --resume`.\n")
    return f"""# {config.name}
{incomplete}
{config.description}

{run.replications} replications x {len(config.scenarios)} scenarios, {run.firms:,} simulated
firms ({run.population} persons), 2021-{run.end_year}, seed {run.seed},
{run.seeds_per_draw} seed(s) per parameter draw. {uncertainty}.
Every scenario of a replication shares its parameter draw and seed (common random numbers),
so differences against `{config.baseline}` are paired. Runs completed: {len(outcomes)}.
Model commit: `{manifest.get('git_commit') or 'unknown'}`.

{history_sentence(outcomes, config)}

## Summary

{plain_summary(summary, outcomes, config)}

## Scenarios

{markdown_table(scenario_table(config))}

## Targets

{targets}

## Headline

{markdown_table(headline(summary))}

P(hit) is the share of runs that reach the target, with a 95% interval that carries both
the runs' sampling error (Wilson's interval at their effective number) and the
calibration chains' disagreement (Student's t on each chain's own P(hit)), whichever is
wider at each end; "vs baseline" is the paired difference in P(hit) (Newcombe's interval,
likewise widened, in `summary.csv`). "Extra spend" is
public spend (subsidies, EDIH services, campaigns) up to the target year beyond the
baseline's; "EUR/extra firm" divides it by the additional firms meeting the target indicator.

## Allowing for the model's forecast error

{forecast_section(summary, config)}

## Parameter uncertainty and run-to-run noise

{markdown_table(split) if has_split else NO_SPLIT}

`sd_parameters` is the spread of the target-year value due to the parameters, `sd_noise`
that of one run at fixed parameters. P(hit | draw) is the chance of a hit at one parameter
draw; its 5/50/95% quantiles over draws show how far the parameters, not chance, decide.

## History check

Each run's simulated survey readings of 2021-2025 (the statistics the calibration fits,
read through the same measurement model) against the observations: the share of runs
whose root-mean-square standardised error is at most {HISTORY_Z:g} in each series. A
coherent uncertainty model keeps this high in every scenario (the scenarios share their
past).

{markdown_table(history) if len(history) else "-"}

{backcast.experiment_note(config.posterior.parent) if config.posterior else ""}

## What each scenario buys

Against `{config.baseline}`, paired run by run (means over runs):

{lever_sentences(summary, config) or "-"}

{evidence_sentence(config)}

## Cost and additionality

{markdown_table(cost)}

{COST_NOTE}

## Other outcomes in {run.end_year} (firms {run.population}, median and 90% range)

{markdown_table(others) if len(others) else "-"}

{connectivity_sentence(outcomes, config)}

## Scenario discovery

{discovery_section(root)}

## Figures

{figs}

## Glossary

{markdown_table(pd.DataFrame(GLOSSARY, columns=["term", "meaning"]))}

## Configuration

```toml
{config_text.strip()}
```
"""
