"""The model's own forecast error, measured by its back-test, and P(hit) allowing for it.

P(hit) is the share of runs that reach a target: it takes the model's mechanisms as
right. The back-test (``sme-abm calibrate --fit-until 2023``) measures how far they are
from right when the model forecasts: fitted to the record up to 2023, it missed the
held-out 2024-2025 shares by more than its predictive bands allow (AI by 9 and 17
points). This module turns those misses into a forecast error and asks what P(hit)
would be if the target year carried an error of that size.

The error model (a stated assumption): beyond the last fitted year a series' survey
reading drifts from the model's by a discrepancy in log-odds that grows as a random
walk, variance ``tau^2 x lead`` after ``lead`` years, one ``tau^2`` per family of series
(at-least-basic, advanced technologies, security). A held-out value ``lead`` years
after the back-test's last fitted year then misses the posterior-predictive median by
``e ~ N(0, v + tau^2 x lead)`` in log-odds, ``v`` the predictive variance its 90% band
already holds (parameters, simulation and sampling error), and two years of one
statistic share the walk up to the earlier one; ``tau^2`` is the maximum likelihood
estimate over the family's held-out values (zero when the bands already cover the
misses). At a target ``lead`` years after the experiment's own calibration,
a run whose reading is ``x`` hits with probability ``Phi((logit x - logit t) / sd)``,
``sd = tau x sqrt(lead)``, and P(hit) allowing for the forecast error is the mean of
that over the runs (a Rao-Blackwellised share: no random draw, so it is reproducible
from the stored runs). A target on several indicators (``advanced_each``, read as their
lowest) takes one discrepancy for them all, as the back-test missed AI and cloud in
the same direction; independent discrepancies would give a lower P(hit).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import expit

from .observations import clipped_logit

FAMILIES: dict[str, tuple[str, ...]] = {
    "basic": ("dii_v3_basic", "dii_v4"),
    "advanced": ("ai", "cloud", "data_analytics", "advanced_any"),
    "security": ("security",),
}
"""The back-test series (``fit.csv``'s ``series``) whose held-out misses measure each
family's forecast error; the intensity bands, incidents and size gradients are not a
target's indicator and stay out."""

TARGET_FAMILY: dict[str, str] = {
    "dii_at_least_basic": "basic", "advanced_any": "advanced", "advanced_each": "advanced",
    "cloud": "advanced", "data_analytics": "advanced", "ai": "advanced",
    "security_5plus": "security",
}
"""The family whose forecast error a target's indicator carries."""

Z90 = float(stats.norm.ppf(0.95))
CHI2_95 = float(stats.chi2.ppf(0.95, 1))


@dataclass(frozen=True)
class FamilyError:
    """One family's forecast error: ``variance_per_year`` is tau^2 (log-odds squared per
    year of lead), estimated from ``n_values`` held-out values 1 to ``max_lead`` years
    ahead, with its 95% interval (``variance_low``, ``variance_high``)."""

    family: str
    variance_per_year: float
    variance_low: float
    variance_high: float
    n_values: int
    max_lead: int

    def sd(self, lead: float, variance: float | None = None) -> float:
        """Standard deviation, in log-odds, of the discrepancy ``lead`` years ahead (at
        ``variance`` per year instead of the estimate, if given)."""
        tau2 = self.variance_per_year if variance is None else variance
        return math.sqrt(tau2 * max(lead, 0.0))

    def describe(self) -> str:
        """The family's tau with its interval and the values it rests on, for reports."""
        ahead = "1 year ahead" if self.max_lead == 1 else f"1-{self.max_lead} years ahead"
        plural = "" if self.n_values == 1 else "s"
        return (f"{self.family}: tau {math.sqrt(self.variance_per_year):.2f} log-odds per "
                f"sqrt(year) (95% interval {math.sqrt(self.variance_low):.2f}-"
                f"{math.sqrt(self.variance_high):.2f}), from {self.n_values} held-out "
                f"share{plural} {ahead}")


@dataclass(frozen=True)
class ForecastError:
    """The forecast errors measured by one back-test, applied to an experiment whose
    calibration fitted the record up to ``fit_until``."""

    families: dict[str, FamilyError]
    backtest_fit_until: int
    fit_until: int
    source: str
    check: str = ""  # the leave-one-out check on the back-test (``describe_check``)

    def sd(self, indicator: str, year: int) -> tuple[float, float, float]:
        """Discrepancy sd (log-odds) of a target on ``indicator`` in ``year``, at the
        estimate and at the ends of its 95% interval; NaN when no family measures the
        indicator."""
        family = self.families.get(TARGET_FAMILY.get(indicator, ""))
        if family is None:
            return (math.nan, math.nan, math.nan)
        lead = year - self.fit_until
        return (family.sd(lead), family.sd(lead, family.variance_low),
                family.sd(lead, family.variance_high))


def variance_per_year(errors: np.ndarray, band_variance: np.ndarray, lead: np.ndarray,
                      track: np.ndarray | None = None) -> tuple[float, float, float]:
    """Maximum likelihood tau^2 >= 0 for misses ``errors`` (log-odds) of a random-walk
    discrepancy: jointly normal, variance ``band_variance + tau^2 x lead`` (``lead`` in
    years) and, between two values of one ``track`` (one statistic read in several
    years), covariance ``tau^2 x`` the shorter lead (the walk they share); values of
    different tracks are independent. Returned with its 95% profile-likelihood interval
    (where twice the log-likelihood lies within the chi-square(1) quantile of its
    maximum): a handful of held-out values pins tau^2 down only loosely."""
    e, v, h = (np.asarray(a, dtype=float) for a in (errors, band_variance, lead))
    if len(e) == 0:
        return (math.nan, math.nan, math.nan)
    codes = pd.factorize(np.arange(len(e)) if track is None else np.asarray(track))[0]
    # Tracks are independent: the covariance is block-diagonal, one block per track,
    # and blocks of one size are stacked so that numpy takes them all at once.
    members = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
    stacks = []
    for k in sorted({len(m) for m in members}):
        idx = np.array([m for m in members if len(m) == k])  # (blocks, k)
        hk = h[idx]
        stacks.append((e[idx][..., None], v[idx][..., None] * np.eye(k),
                       np.minimum(hk[:, :, None], hk[:, None, :])))

    def nll(tau2: float) -> float:  # minus twice the log-likelihood, less a constant
        total = 0.0
        for eb, diag, shared in stacks:
            cov = diag + tau2 * shared
            total += np.linalg.slogdet(cov)[1].sum()
            total += float(np.sum(eb * np.linalg.solve(cov, eb)))
        return float(total)

    upper = float(np.max(e**2 / h)) + 1.0
    found = optimize.minimize_scalar(nll, bounds=(0.0, upper), method="bounded",
                                     options={"xatol": 1e-10})
    best = 0.0 if nll(0.0) <= found.fun else float(found.x)
    level = nll(best) + CHI2_95

    def gap(tau2: float) -> float:
        return nll(tau2) - level

    low = 0.0 if best == 0.0 or gap(0.0) <= 0 else optimize.brentq(gap, 0.0, best)
    high = upper
    while gap(high) <= 0:  # the likelihood is flat far out only with huge band variances
        high *= 2
    return (best, low, float(optimize.brentq(gap, best, high)))


@dataclass(frozen=True)
class _Misses:
    """One family's held-out shares in a back-test's ``fit.csv``: the rows, their misses
    of the predictive median in log-odds, the variance their 90% band holds, their lead
    after the back-test's last fitted year and their track (one statistic read in
    several years)."""

    rows: pd.DataFrame
    errors: np.ndarray
    band: np.ndarray
    lead: np.ndarray
    track: np.ndarray

    def variance_per_year(self, keep: np.ndarray | None = None) -> tuple[float, float, float]:
        """``variance_per_year`` of these misses (or of those ``keep`` selects)."""
        k = np.ones(len(self.errors), bool) if keep is None else keep
        return variance_per_year(self.errors[k], self.band[k], self.lead[k], self.track[k])


def _family_misses(fit: pd.DataFrame, fit_until: int) -> dict[str, _Misses]:
    """Each family's held-out shares in a back-test's ``fit.csv`` (``fit_until`` its last
    fitted year); families without one are left out."""
    held = fit[(fit["role"] == "held out") & (fit["kind"] == "share")]
    out = {}
    for family, series in FAMILIES.items():
        rows = held[held["series"].isin(series)]
        if rows.empty:
            continue
        errors = clipped_logit(rows["observed"]) - clipped_logit(rows["median"])
        band = ((clipped_logit(rows["p95"]) - clipped_logit(rows["p05"])) / (2 * Z90)) ** 2
        track = ((rows["code"] if "code" in rows else rows["series"]).astype(str) + "@" + (
            rows["segment"].astype(str) if "segment" in rows else "")).to_numpy()
        out[family] = _Misses(rows, np.asarray(errors, float), np.asarray(band, float),
                              rows["year"].to_numpy(float) - fit_until, track)
    return out


def estimate(fit: pd.DataFrame, fit_until: int) -> dict[str, FamilyError]:
    """Each family's forecast error from a back-test's ``fit.csv`` (its held-out shares,
    ``fit_until`` the back-test's last fitted year). Families without a held-out value
    are left out."""
    return {family: FamilyError(family, *m.variance_per_year(), len(m.rows),
                                int(m.lead.max()))
            for family, m in _family_misses(fit, fit_until).items()}


def leave_one_out(fit: pd.DataFrame, fit_until: int) -> pd.DataFrame:
    """A check of the error model on the back-test itself: each held-out share's miss
    against its 90% band widened by the forecast error estimated from the other
    statistics of its family (every year of its own statistic left out too, since they
    share its walk). Columns: key, family, track, lead, error (log-odds), band_sd,
    tau (estimated without the statistic; NaN when its family has no other), and
    whether the miss lies inside the plain band and inside the widened one (both as
    normal bands in log-odds)."""
    frames = []
    for family, m in _family_misses(fit, fit_until).items():
        tau2 = np.full(len(m.rows), math.nan)
        for t in np.unique(m.track):
            mine = m.track == t
            if (~mine).any():
                tau2[mine] = m.variance_per_year(~mine)[0]
        frames.append(pd.DataFrame({
            "key": m.rows["key"].to_numpy() if "key" in m.rows else np.arange(len(m.rows)),
            "family": family, "track": m.track, "lead": m.lead, "error": m.errors,
            "band_sd": np.sqrt(m.band), "tau": np.sqrt(tau2),
            "inside_plain": np.abs(m.errors) <= Z90 * np.sqrt(m.band),
            "inside_with_error": np.where(
                np.isnan(tau2), np.nan,
                np.abs(m.errors) <= Z90 * np.sqrt(m.band + tau2 * m.lead)),
        }))
    columns = ["key", "family", "track", "lead", "error", "band_sd", "tau", "inside_plain",
               "inside_with_error"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


class ForecastErrorFileError(ValueError):
    """A back-test or calibration directory lacks what the forecast error needs."""


def _fit_until(directory: Path) -> int:
    path = directory / "manifest.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["fit_until"]
    except (OSError, ValueError, KeyError) as err:
        raise ForecastErrorFileError(
            f"{path}: a calibration's manifest with its fit_until is needed ({err})") from None
    return int(value)


def load(backtest: Path, calibration: Path) -> ForecastError:
    """The forecast error a back-test directory (``fit.csv``, ``manifest.json``) measured,
    for an experiment drawn from the calibration in directory ``calibration``."""
    path = backtest / "fit.csv"
    try:
        fit = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise ForecastErrorFileError(f"{path}: a back-test's fit.csv is needed ({err})") from None
    missing = {"series", "kind", "year", "observed", "median", "p05", "p95", "role"} - set(fit)
    if missing:
        raise ForecastErrorFileError(f"{path}: no column {', '.join(sorted(missing))}")
    until, own = _fit_until(backtest), _fit_until(calibration)
    if until >= own:
        raise ForecastErrorFileError(
            f"{backtest}: the back-test fitted up to {until}, not before the experiment's "
            f"calibration ({own}): it holds no forecast to measure")
    return ForecastError(estimate(fit, until), until, own, str(backtest),
                         describe_check(leave_one_out(fit, until)))


def for_experiment(backtest: Path | None, posterior: Path | None) -> ForecastError | None:
    """The forecast error an experiment's ``[forecast_error]`` names, its lead counted
    from the calibration beside its posterior file; None without one, or when its files
    cannot be read (``validate`` refuses that before a run; a report says why, from
    ``load``), so that a moved back-test never fails a summary."""
    if backtest is None or posterior is None:
        return None
    try:
        return load(backtest, posterior.parent)
    except ForecastErrorFileError:
        return None


def describe_check(check: pd.DataFrame) -> str:
    """The leave-one-out check in a sentence, for reports (empty when nothing could be
    checked: no family with two statistics)."""
    done = check[check["inside_with_error"].notna()]
    if done.empty:
        return ""
    return (f"checked on the back-test itself, statistic by statistic (each held-out "
            f"share's 90% band widened by the error estimated from the other statistics "
            f"of its family), {int(done['inside_with_error'].sum())} of {len(done)} shares "
            f"lie inside the widened band, against {int(done['inside_plain'].sum())} inside "
            f"the plain one")


def hit_probability(values: np.ndarray, threshold: float, sd: float) -> np.ndarray:
    """Each run's chance of reaching ``threshold`` when its reading ``values`` carries a
    discrepancy of ``sd`` in log-odds (``sd = 0``: whether it reaches it)."""
    x = np.asarray(values, dtype=float)
    if sd == 0:
        return (x >= threshold).astype(float)
    return stats.norm.cdf((clipped_logit(x) - clipped_logit(threshold)) / sd)


def mixture_quantiles(values: np.ndarray, sd: float, q: tuple[float, ...]) -> np.ndarray:
    """Quantiles ``q`` of the readings over runs when each run's reading carries a
    discrepancy of ``sd`` in log-odds: the mixture, over the runs, of logit-normal
    distributions centred on their values (``sd = 0``: the runs' own quantiles)."""
    x = np.asarray(values, dtype=float)
    if sd == 0 or len(x) == 0:
        return np.quantile(x, q) if len(x) else np.full(len(q), np.nan)
    centre = clipped_logit(x)
    lo = np.full(len(q), centre.min() - 10 * sd)
    hi = np.full(len(q), centre.max() + 10 * sd)
    target = np.asarray(q, dtype=float)
    for _ in range(60):  # bisection on the mixture's distribution function
        mid = (lo + hi) / 2
        below = stats.norm.cdf((mid[:, None] - centre[None, :]) / sd).mean(axis=1) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return expit((lo + hi) / 2)
