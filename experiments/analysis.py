"""Statistics researchers expect: P(hit) with Wilson intervals, paired differences,
the split of uncertainty between parameters and run-to-run noise, shortfall, cost.

Runs are not independent trials when they share a parameter set: an experiment draws
its calibrated parameters from a posterior of a few hundred particles, many of them
copies of one another (ABC-SMC resamples), so its 400 runs may rest on 60 distinct
parameter sets. Intervals therefore use the runs' effective number (Kish's design
effect from the between-set variance) and Student's t on the number of sets less
one (Korn and Graubard 1998, Survey Methodology 24: 193-201): copying runs adds no
information, and the interval says so.

Nor does a posterior sampled by a few calibration chains pin P(hit) down: each chain
is an independent run of the sampler, and when the chains disagree the answer moves
with the chain. The reported interval is therefore the wider, at each end, of the
runs' interval and the chains' (``chain_interval``: Student's t on the spread of the
chains' own estimates), so that it carries the calibration's Monte Carlo error too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from . import forecast_error
from .config import POSTERIOR_META, ExperimentConfig

Z95 = float(stats.norm.ppf(0.975))

SUMMARY_COLUMNS = (
    "scenario", "target", "p_hit", "ci_low", "ci_high", "ci_runs_low", "ci_runs_high",
    "n_runs", "n_parameter_sets", "n_effective", "n_chains", "p_hit_chain_low",
    "p_hit_chain_high", "mean_target_year", "p05_target_year", "p95_target_year",
    "expected_shortfall", "diff_vs_baseline", "diff_ci_low", "diff_ci_high",
    "diff_ci_runs_low", "diff_ci_runs_high",
    "spend_eur", "additional_spend_eur", "additional_firms", "eur_per_additional_firm",
    "supported_firms", "additional_share", "brought_forward_share", "deadweight_share",
    "sd_parameters", "sd_noise", "p_hit_draw_p05", "p_hit_draw_p50",
    "p_hit_draw_p95", "forecast_sd", "forecast_sd_low", "forecast_sd_high", "p_hit_forecast",
    "forecast_ci_low", "forecast_ci_high", "diff_forecast", "diff_forecast_ci_low",
    "diff_forecast_ci_high",
)


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q: list[float]) -> list[float]:
    """Quantiles of a weighted sample (mid-point interpolation of the weighted CDF)."""
    keep = w > 0
    x, w = np.asarray(x)[keep], np.asarray(w)[keep]
    order = np.argsort(x)
    x, w = x[order], w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(qq, cum, x)) for qq in q]


def central_draw(posterior: pd.DataFrame) -> int:
    """Row of the joint posterior draw nearest every parameter's weighted median, each
    parameter's distance in units of its weighted 5-95% range (constant columns, the
    parameters a calibration held fixed, count for nothing; draws of zero weight are
    never chosen).

    The point the project uses where one parameter set must stand for the posterior
    (model defaults, ``sme-abm simulate --posterior``, the explorer, the sensitivity
    analysis' fixed parameters): the marginal medians together are not a draw, and
    where parameters trade off (the security intercept against the lapse rate) they
    reproduce the record less well than any draw near them."""
    w = (posterior["weight"].to_numpy(float) if "weight" in posterior
         else np.ones(len(posterior)))
    names = [c for c in posterior.columns if c not in POSTERIOR_META]
    z = np.zeros(len(posterior))
    for c in names:
        x = posterior[c].to_numpy(float)
        q05, q50, q95 = weighted_quantiles(x, w, [0.05, 0.5, 0.95])
        if q95 > q05:
            z += ((x - q50) / (q95 - q05)) ** 2
    z[w <= 0] = np.inf
    return int(np.argmin(z))


def posterior_row(posterior: pd.DataFrame, row: int) -> dict[str, float]:
    """The parameters of one joint posterior draw (every column but ``POSTERIOR_META``)."""
    return {c: float(posterior[c].iloc[row]) for c in posterior.columns
            if c not in POSTERIOR_META}


def wilson_interval(hits: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); ``hits`` and
    ``n`` may be effective (non-integer) counts."""
    if n <= 0:
        return (math.nan, math.nan)
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # min/max guard against rounding putting p a hair outside its own interval.
    return (min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def effective_runs(x: np.ndarray, groups: np.ndarray | None) -> tuple[float, float]:
    """Effective number of independent runs behind the mean of ``x``, and the normal
    quantile of a 95% interval for it, when runs in the same group (parameter set)
    are alike.

    The effective number is n over Kish's design effect: the cluster-robust variance
    of the mean (between groups, with the k / (k - 1) small-sample factor) against the
    variance of independent runs; at most n. When ``x`` does not vary at all, each group
    counts once (no more information than k distinct parameter sets hold). The
    quantile is Student's t with k - 1 degrees of freedom (Korn and Graubard 1998).
    Without groups, or with every run its own group, it is n and the normal quantile.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if groups is None or n == 0:
        return float(n), Z95
    codes = pd.factorize(np.asarray(groups))[0]
    k = int(codes.max()) + 1
    if k == n:
        return float(n), Z95
    if k < 2:
        return 1.0, math.inf
    z = float(stats.t.ppf(0.975, k - 1))
    mean = x.mean()
    var_runs = float(np.mean((x - mean) ** 2)) / n
    resid = np.bincount(codes, weights=x - mean, minlength=k)
    var_groups = k / (k - 1) * float(np.sum(resid**2)) / n**2
    if var_runs <= 0:
        return float(k), z
    if var_groups <= 0:
        return float(n), z
    return min(float(n), n * var_runs / var_groups), z


def clustered_wilson_interval(hit: np.ndarray, groups: np.ndarray | None
                              ) -> tuple[float, float]:
    """Wilson interval for the share of runs that hit, at the runs' effective number
    (``effective_runs``): Korn and Graubard's interval for clustered samples."""
    hit = np.asarray(hit, dtype=bool)
    n_eff, z = effective_runs(hit, groups)
    if len(hit) == 0:
        return (math.nan, math.nan)
    if math.isinf(z):
        return (0.0, 1.0)
    return wilson_interval(float(hit.mean()) * n_eff, n_eff, z)


def paired_difference_interval(a: np.ndarray, b: np.ndarray, z: float = Z95,
                               groups: np.ndarray | None = None
                               ) -> tuple[float, float, float]:
    """Difference of two paired proportions, mean(a) - mean(b), with Newcombe's
    hybrid score interval for paired data (Newcombe 1998, method 10). With ``groups``
    (the parameter set of each pair), the four counts are scaled to the pairs'
    effective number (``effective_runs`` of the differences) and ``z`` becomes
    Student's t on the number of groups less one."""
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    n = len(a)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    scale = 1.0
    if groups is not None:
        n_eff, z = effective_runs(a.astype(float) - b, groups)
        if math.isinf(z):
            d = float(a.mean() - b.mean())
            return (d, -1.0, 1.0)
        scale = n_eff / n
    both = float(np.sum(a & b)) * scale
    only_a = float(np.sum(a & ~b)) * scale
    only_b = float(np.sum(~a & b)) * scale
    n = n * scale
    neither = n - both - only_a - only_b
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    l1, u1 = wilson_interval(both + only_a, n, z)
    l2, u2 = wilson_interval(both + only_b, n, z)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = (both * neither - only_a * only_b) / math.sqrt(denom) if denom > 0 else 0.0
    d = p1 - p2
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (d, max(-1.0, d - delta), min(1.0, d + eps))


def chain_error(x: np.ndarray, chains: np.ndarray | None) -> tuple[float, int]:
    """Standard error of the mean of ``x`` from the spread between calibration chains,
    s / sqrt(k), with s the standard deviation of the k chains' own means of ``x``
    (independent replications: each chain is one run of the sampler, started afresh
    from the prior), and k. Each chain's mean carries both its runs' sampling error and
    the Monte Carlo error of its own posterior sample, so this error holds both. NaN
    and k < 2 without at least two chains."""
    x = np.asarray(x, dtype=float)
    if chains is None or len(x) == 0:
        return (math.nan, 0)
    means = pd.Series(x).groupby(np.asarray(chains)).mean()
    k = len(means)
    if k < 2:
        return (math.nan, k)
    return (float(means.std(ddof=1)) / math.sqrt(k), k)


def chain_interval(x: np.ndarray, chains: np.ndarray | None,
                   bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    """95% interval for the mean of ``x`` from the calibration chains' disagreement:
    mean(x) +- t(k - 1) times ``chain_error``; with k - 1 degrees of freedom it is wide
    when the chains are few (t = 4.30 for three). Clipped to ``bounds``; NaN without at
    least two chains."""
    se, k = chain_error(x, chains)
    if k < 2:
        return (math.nan, math.nan)
    half = float(stats.t.ppf(0.975, k - 1)) * se
    m = float(np.mean(x))
    return (max(bounds[0], m - half), min(bounds[1], m + half))


def widest(*intervals: tuple[float, float]) -> tuple[float, float]:
    """The lowest low and highest high of the intervals that are defined."""
    lows = [lo for lo, _ in intervals if not math.isnan(lo)]
    highs = [hi for _, hi in intervals if not math.isnan(hi)]
    return (min(lows) if lows else math.nan, max(highs) if highs else math.nan)


def proportion_interval(hit: np.ndarray, groups: np.ndarray | None,
                        chains: np.ndarray | None) -> tuple[float, float]:
    """95% interval for P(hit): the wider, at each end, of the runs' interval
    (``clustered_wilson_interval``) and the calibration chains' (``chain_interval``).
    The chains' interval alone would cover both errors, but from three chains its
    spread is itself a rough estimate and may by chance be small."""
    hit = np.asarray(hit, dtype=bool)
    return widest(clustered_wilson_interval(hit, groups), chain_interval(hit, chains))


def paired_interval(a: np.ndarray, b: np.ndarray, groups: np.ndarray | None,
                    chains: np.ndarray | None) -> tuple[float, float, float]:
    """Paired difference in P(hit), mean(a) - mean(b), with the wider, at each end, of
    Newcombe's interval at the pairs' effective number (``paired_difference_interval``)
    and the calibration chains' interval for the mean difference (``chain_interval``)."""
    d, lo, hi = paired_difference_interval(a, b, groups=groups)
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return (d, *widest((lo, hi), chain_interval(diff, chains, bounds=(-1.0, 1.0))))


def mean_interval(x: np.ndarray, groups: np.ndarray | None, chains: np.ndarray | None,
                  bounds: tuple[float, float] = (-math.inf, math.inf)
                  ) -> tuple[float, float, float]:
    """Mean of per-run values with its 95% interval: Student's t on the runs' effective
    number (``effective_runs``), widened where the calibration chains disagree more
    (``chain_interval``), within ``bounds``; no interval from fewer than two runs."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 2:
        return (float(x.mean()) if n else math.nan, math.nan, math.nan)
    n_eff, t = effective_runs(x, groups)
    m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(n_eff))
    runs = (max(bounds[0], m - t * se), min(bounds[1], m + t * se))
    return (m, *widest(runs, chain_interval(x, chains, bounds)))


S = TypeVar("S")  # an sd of the forecast error, or a pair of them


def forecast_mean(chance: Callable[[S], np.ndarray], sd: Sequence[S],
                  groups: np.ndarray | None, chains: np.ndarray | None,
                  bounds: tuple[float, float]) -> tuple[float, float, float]:
    """The mean over runs of ``chance(sd)`` (a per-run chance of a hit, or a pair's
    difference of two, under a forecast error of sd log-odds) at the estimated ``sd[0]``,
    with the widest of its intervals (``mean_interval``) at that sd and at the ends of
    its 95% interval (``sd[1:]``), so that it also carries how loosely the back-test
    measured the error (``experiments.forecast_error``). An sd may be a pair, one per
    experiment, when two experiments are compared (``experiments.compare``)."""
    found = [mean_interval(chance(s), groups, chains, bounds) for s in sd]
    return (found[0][0], *widest(*(f[1:] for f in found)))


def forecast_columns(value: pd.Series, threshold: float, sd: tuple[float, float, float],
                     groups: np.ndarray, chains: np.ndarray | None) -> dict[str, float]:
    """P(hit) allowing for the model's forecast error: the mean over runs of each run's
    chance of a hit under a discrepancy of ``sd[0]`` log-odds (``forecast_mean``)."""
    if math.isnan(sd[0]):
        return {}
    x = value.to_numpy(float)
    p, lo, hi = forecast_mean(lambda s: forecast_error.hit_probability(x, threshold, s), sd,
                              groups, chains, (0.0, 1.0))
    return {"forecast_sd": sd[0], "forecast_sd_low": sd[1], "forecast_sd_high": sd[2],
            "p_hit_forecast": p, "forecast_ci_low": lo, "forecast_ci_high": hi}


def forecast_difference(a: pd.Series, b: pd.Series, threshold: float,
                        sd: tuple[float, float, float], groups: np.ndarray,
                        chains: np.ndarray | None) -> dict[str, float]:
    """Paired difference in P(hit) allowing for the forecast error, between a scenario's
    target-year values ``a`` and its baseline's ``b`` (the same replications): the mean
    of each pair's difference in the chance of a hit. The discrepancy is the model's, not
    the policy's, so a pair shares it."""
    if math.isnan(sd[0]):
        return {}
    x, y = a.to_numpy(float), b.to_numpy(float)
    d, lo, hi = forecast_mean(lambda s: (forecast_error.hit_probability(x, threshold, s)
                                         - forecast_error.hit_probability(y, threshold, s)),
                              sd, groups, chains, (-1.0, 1.0))
    return {"diff_forecast": d, "diff_forecast_ci_low": lo, "diff_forecast_ci_high": hi}


def parameter_split(values: pd.Series, draws: pd.Series, threshold: float
                    ) -> dict[str, float]:
    """Separate parameter (epistemic) uncertainty from run-to-run noise.

    Needs two or more seeds per draw: the within-draw spread is the noise of one
    run; the between-draw spread of draw means, less the noise share, is due to the
    parameters. P(hit | draw) = Phi((mean of draw - threshold) / noise sd), and its
    quantiles over draws say how much the parameters decide.
    """
    nan = {"sd_parameters": math.nan, "sd_noise": math.nan, "p_hit_draw_p05": math.nan,
           "p_hit_draw_p50": math.nan, "p_hit_draw_p95": math.nan}
    groups = values.groupby(draws)
    sizes = groups.size()
    if len(sizes) < 2 or sizes.min() < 2:
        return nan
    within = float(np.sqrt(groups.var(ddof=1).mean()))
    means = groups.mean()
    k = float(sizes.mean())
    between_var = max(0.0, float(means.var(ddof=1)) - within**2 / k)
    if within > 0:
        p_draw = stats.norm.cdf((means.to_numpy() - threshold) / within)
    else:
        p_draw = (means.to_numpy() >= threshold).astype(float)
    q05, q50, q95 = np.quantile(p_draw, [0.05, 0.5, 0.95])
    return {"sd_parameters": math.sqrt(between_var), "sd_noise": within,
            "p_hit_draw_p05": float(q05), "p_hit_draw_p50": float(q50),
            "p_hit_draw_p95": float(q95)}


def firm_additionality(runs: pd.DataFrame, target: str, extra_spend: float | None
                       ) -> dict[str, float]:
    """Firm-by-firm additionality at the target date (``experiments.additionality``),
    averaged over a scenario's runs: additional firms on the target's own indicator,
    EUR per additional firm, and how the supported firms that meet the indicator split
    into additional, brought forward and deadweight (shares of those firms)."""
    nan = math.nan
    col = f"additional_firms:{target}"
    if col not in runs or runs[col].isna().all():
        return {}
    extra_firms = float(runs[col].mean())
    parts = {k: float(runs[f"supported_{k}:{target}"].sum())
             for k in ("additional", "brought_forward", "deadweight")}
    meeting = sum(parts.values())
    return {
        "additional_firms": extra_firms,
        "eur_per_additional_firm": (extra_spend / extra_firms
                                    if extra_spend is not None and extra_firms > 0 else nan),
        "supported_firms": float(runs[f"supported_firms:{target}"].mean()),
        "additional_share": parts["additional"] / meeting if meeting > 0 else nan,
        "brought_forward_share": parts["brought_forward"] / meeting if meeting > 0 else nan,
        "deadweight_share": parts["deadweight"] / meeting if meeting > 0 else nan,
    }


def _chain_range(hit: pd.Series, chains: pd.Series | None) -> dict[str, float]:
    """How many calibration chains the runs' parameters come from, and the lowest and
    highest P(hit) over the runs of each chain alone."""
    if chains is None:
        return {"n_chains": math.nan, "p_hit_chain_low": math.nan,
                "p_hit_chain_high": math.nan}
    by = hit.groupby(chains).mean()
    return {"n_chains": len(by), "p_hit_chain_low": float(by.min()),
            "p_hit_chain_high": float(by.max())}


def parameter_sets(runs: pd.DataFrame, config: ExperimentConfig) -> pd.Series:
    """The parameter set of each run, as a group number: runs drawn from the same
    posterior particle (equal values of every parameter the posterior holds) share
    one, whatever their draw; without a posterior, each draw is one."""
    if config.posterior is not None:
        own = {f"param:{k}" for k in config.uncertainties}
        cols = [c for c in runs.columns if c.startswith("param:") and c not in own]
        if cols:
            return runs.groupby(cols, sort=False, dropna=False).ngroup()
    return runs["draw"]


def posterior_chains(runs: pd.DataFrame, config: ExperimentConfig) -> pd.Series | None:
    """The calibration chain each run's parameter set came from (the posterior file's
    ``chain`` column, matched on the parameters it holds); None without chains or when
    some run matches no particle (the posterior changed since the runs)."""
    path = config.posterior
    if path is None or not Path(path).is_file():
        return None
    frame = pd.read_parquet(path)
    if "chain" not in frame or frame["chain"].nunique() < 2:
        return None
    cols = [c for c in frame.columns if c not in POSTERIOR_META]
    if not all(f"param:{c}" in runs for c in cols):
        return None
    lookup = frame.drop_duplicates(cols).set_index(cols)["chain"]
    key = pd.MultiIndex.from_frame(runs[[f"param:{c}" for c in cols]].set_axis(cols, axis=1))
    chains = pd.Series(lookup.reindex(key).to_numpy(), index=runs.index)
    return None if chains.isna().any() else chains.astype(int)


def summarise(outcomes: pd.DataFrame, config: ExperimentConfig) -> pd.DataFrame:
    """One row per scenario and target (columns: SUMMARY_COLUMNS). Intervals allow for
    runs that share a parameter set (``effective_runs``) and for the disagreement of the
    calibration chains (``chain_interval``); ``ci_runs_*`` and ``diff_ci_runs_*`` are
    the runs' intervals alone."""
    rows = []
    base = outcomes[outcomes["scenario"] == config.baseline].set_index("replication")
    all_chains = posterior_chains(outcomes, config)
    errors = forecast_error.for_experiment(config.forecast_error, config.posterior)
    for scenario in config.scenarios:
        in_scenario = outcomes["scenario"] == scenario
        runs = outcomes[in_scenario].set_index("replication")
        if runs.empty:
            continue
        sets = parameter_sets(runs, config)
        chains = (None if all_chains is None
                  else all_chains[in_scenario].set_axis(runs.index))
        paired = runs.index.intersection(base.index)
        for name, target in config.targets.items():
            value = runs[f"value:{name}"]
            hit = runs[f"hit:{name}"].astype(bool)
            n = len(runs)
            run_lo, run_hi = clustered_wilson_interval(hit.to_numpy(), sets.to_numpy())
            lo, hi = widest((run_lo, run_hi), chain_interval(
                hit.to_numpy(), None if chains is None else chains.to_numpy()))
            row = {
                "scenario": scenario, "target": name, "p_hit": hit.mean(),
                "ci_low": lo, "ci_high": hi, "ci_runs_low": run_lo, "ci_runs_high": run_hi,
                "n_runs": n,
                "n_parameter_sets": int(sets.nunique()),
                "n_effective": effective_runs(hit.to_numpy(), sets.to_numpy())[0],
                **_chain_range(hit, chains),
                "mean_target_year": value.mean(), "p05_target_year": value.quantile(0.05),
                "p95_target_year": value.quantile(0.95),
                "expected_shortfall": (target.threshold - value).clip(lower=0).mean(),
                "spend_eur": runs[f"spend_eur:{name}"].mean(),
            }
            if scenario == config.baseline:  # against itself: zero by construction
                row.update(diff_vs_baseline=0.0, diff_ci_low=0.0, diff_ci_high=0.0,
                           diff_ci_runs_low=0.0, diff_ci_runs_high=0.0,
                           additional_spend_eur=0.0)
            elif len(paired):
                a = hit.loc[paired].to_numpy()
                b = base.loc[paired, f"hit:{name}"].to_numpy()
                groups = sets.loc[paired].to_numpy()
                d, run_dlo, run_dhi = paired_difference_interval(a, b, groups=groups)
                dlo, dhi = widest((run_dlo, run_dhi), chain_interval(
                    a.astype(float) - b.astype(float),
                    None if chains is None else chains.loc[paired].to_numpy(), (-1.0, 1.0)))
                extra_spend = (runs.loc[paired, f"spend_eur:{name}"]
                               - base.loc[paired, f"spend_eur:{name}"]).mean()
                row.update(diff_vs_baseline=d, diff_ci_low=dlo, diff_ci_high=dhi,
                           diff_ci_runs_low=run_dlo, diff_ci_runs_high=run_dhi,
                           additional_spend_eur=extra_spend)
            row.update(firm_additionality(runs, name, row.get("additional_spend_eur")))
            row.update(parameter_split(value, runs["draw"], target.threshold))
            if errors is not None:
                sd = errors.sd(target.indicator, target.year)
                row.update(forecast_columns(value, target.threshold, sd, sets.to_numpy(),
                                            None if chains is None else chains.to_numpy()))
                if scenario == config.baseline and not math.isnan(sd[0]):
                    row.update(diff_forecast=0.0, diff_forecast_ci_low=0.0,
                               diff_forecast_ci_high=0.0)
                elif len(paired):
                    row.update(forecast_difference(
                        value.loc[paired], base.loc[paired, f"value:{name}"], target.threshold,
                        sd, sets.loc[paired].to_numpy(),
                        None if chains is None else chains.loc[paired].to_numpy()))
            rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=list(SUMMARY_COLUMNS))
