"""The observed record and the survey observation model.

Every statistic the model is compared with, calibration and history check alike:

- DII v3 (2021, 2023, 2025): at-least-basic and the low, high and very high bands
  (very low is one minus at-least-basic), for 10-49 and 50-249 firms;
- DII v4 (2022, 2024): at-least-basic, for 10-49 and 50-249 firms, read through a
  measurement offset per size class (v4 counts another item set than v3);
- AI (E_AI_TANY 2021, 2023, 2024, 2025; a measurement offset for the 2025 break),
  sophisticated/intermediate cloud (E_CC1_SI) and any cloud (E_CC, through an offset),
  2021-2025; data analytics (E_DA) and the Digital Decade aggregate "AI, cloud or data
  analytics" (E_AI_CC1SI_DA_ANY), 2023 and 2025; all for NL 10-249;
- the size gradient of AI, cloud and data analytics (log-odds of 50-249 over 10-49
  firms): NL's own split is held out, so the statistic is the median of the other
  member states, with their spread as its standard deviation;
- security: firms with at least 5 ICT security measures (E_SECMGE5) and firms with an
  ICT security incident in the year before the survey (E_SEC2IANY), surveys of 2022
  and 2024, for 10-49 and 50-249 firms (2-9 firms, outside the survey frame the
  calibration simulates, are a held-out check).

Observations before 2021 (cloud since 2014, big data 2016-2020) lie before the
simulated period: they are kept in the record (``role = "before start"``) and shown in
figures, not fitted.

A survey reading of a simulated share is ``expit(logit(share) + offset)`` where a
measurement parameter applies, plus the survey's sampling error when drawing a
predictive value. Each statistic's standard deviation combines sampling error
(effective sample sizes below) and a model-error allowance per series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import expit, logit

from model import PARAMETERS, datasets
from model.datasets import segment_size_classes
from model.timeline import START_YEAR

LAST_OBSERVED_YEAR = 2025
SIZES = ("10-49", "50-249")
BANDS_FITTED = ("low", "high", "very_high")

SERIES = ("dii_v3_basic", "dii_v3_bands", "dii_v4", "ai", "cloud", "data_analytics",
          "advanced_any", "size_gradient", "security", "incidents")
"""Groups of statistics; each has one model-error allowance and, in the ABC distance,
the same total weight (so no group dominates by its number of statistics)."""

MODEL_SD = {"dii_v3_basic": 0.008, "dii_v3_bands": 0.015, "dii_v4": 0.01, "ai": 0.01,
            "cloud": 0.012, "data_analytics": 0.012, "advanced_any": 0.012,
            "size_gradient": 0.0, "security": 0.015, "incidents": 0.015}
"""Model-error allowance per series (share units), added in quadrature to the
sampling error; for the size gradient the cross-country spread stands in for both."""

EFFECTIVE_SAMPLE = {"10-49": 3000, "50-249": 2000, "10-249": 4500}
"""Effective sample sizes of the Dutch ICT survey (stated assumption derived from
Eurostat's 2021 quality report for NL, isoc_sdds_nl: 13,600 sampled enterprises of 10+
persons, 75% response, Neyman allocation over 32 NACE x 6 size strata, 100+ fully
included; a design effect of about 1.5-2 is assumed)."""

ADVANCED_STATISTICS = (
    # series, Eurostat code, model indicator, years, offset of a question that differs
    # from the model's definition (else the indicator's own rule, measurement_offset)
    ("ai", "E_AI_TANY", "ai", (2021, 2023, 2024, 2025), ""),
    ("cloud", "E_CC1_SI", "cloud", (2021, 2023, 2024, 2025), ""),
    ("cloud", "E_CC", "cloud", (2014, 2016, 2018, 2020, 2021, 2023, 2024, 2025),
     "survey_cloud_any_offset"),
    ("data_analytics", "E_DA", "data_analytics", (2023, 2025), ""),
    ("data_analytics", "E_BD", "data_analytics", (2016, 2018), ""),
    ("data_analytics", "E_BDA", "data_analytics", (2020,), ""),
    ("advanced_any", "E_AI_CC1SI_DA_ANY", "advanced_any", (2023, 2025), ""),
)
GRADIENT_STATISTICS = (("E_AI_TANY", "ai", (2023, 2024, 2025)),
                       ("E_CC1_SI", "cloud", (2023, 2025)),
                       ("E_DA", "data_analytics", (2023, 2025)))
CYBER_STATISTICS = (
    # series, Eurostat code, model indicator, survey years (E_SEC2IANY asks about the
    # year before the survey: the model's incidents of the four quarters to its Q1)
    ("security", "E_SECMGE5", "security_5plus", (2022, 2024)),
    ("incidents", "E_SEC2IANY", "incident_past_year", (2022, 2024)),
)
V4_OFFSET = {"10-49": "survey_dii_v4_offset_10_49", "50-249": "survey_dii_v4_offset_50_249"}


def measurement_offset(indicator: str, segment: str, year: int) -> str:
    """The measurement parameter through which the survey reads a model indicator (empty:
    read as simulated). The one home of these rules, for fitting and for targets alike:
    the 2025 AI break applies from 2025 on (a break puts the survey on a new basis); DII
    v4 has an offset per size class, 2-9 firms (never surveyed) taking that of 10-49."""
    if indicator == "ai" and year >= 2025:
        return "survey_ai_2025_offset"
    if indicator == "dii_v4_at_least_basic" and segment in ("2-9", *V4_OFFSET):
        return V4_OFFSET.get(segment, V4_OFFSET["10-49"])
    return ""


@dataclass(frozen=True)
class Record:
    """The observed statistics (one row each) with what the model reads for them.

    Columns: ``key``, ``series``, ``code`` (Eurostat), ``indicator`` (model),
    ``segment``, ``year``, ``value``, ``flag``, ``kind`` (``share`` or ``gradient``),
    ``offset`` (measurement parameter or empty), ``sd`` (sampling and model error),
    ``sampling_sd``, ``role`` (``initial``, ``fit`` or ``before start``).
    """

    table: pd.DataFrame

    def fitted(self, fit_until: int = LAST_OBSERVED_YEAR) -> pd.DataFrame:
        return fitted(self.table, fit_until)


def fitted(table: pd.DataFrame, fit_until: int = LAST_OBSERVED_YEAR) -> pd.DataFrame:
    """The statistics fitted: from 2021 (where the initial state is not matched by
    construction) up to ``fit_until``; later ones are held out for the back-test."""
    return table[(table["role"] == "fit") & (table["year"] <= fit_until)].reset_index(drop=True)


def load_record(dii: pd.DataFrame | None = None, advanced: pd.DataFrame | None = None,
                model_sd: Mapping[str, float] | None = None,
                cyber: pd.DataFrame | None = None) -> Record:
    """The record from the shipped data, or from tables in the shipped layouts
    (``datasets.normalise_dii`` / ``normalise_advanced`` / ``normalise_cyber`` are
    applied here).

    ``model_sd``: model-error allowance per series (default ``MODEL_SD``), added in
    quadrature to each statistic's sampling error (for the size gradient, to the
    cross-country spread)."""
    allowance = {**MODEL_SD, **(model_sd or {})}
    dii = datasets.dii() if dii is None else datasets.normalise_dii(dii)
    adv = (datasets.advanced_history() if advanced is None
           else datasets.normalise_advanced(advanced))
    rows: list[dict] = []
    for size in SIZES:
        for year in (2021, 2023, 2025):
            for level in ("at_least_basic", *BANDS_FITTED):
                v = _one(dii, size_class=size, year=year, dii_version=3, level=level)
                if v is not None:
                    series = "dii_v3_basic" if level == "at_least_basic" else "dii_v3_bands"
                    rows.append(_row(series, "E_DI3_" + level, f"dii_{level}", size, year,
                                     v, "", allowance))
        for year in (2022, 2024):
            v = _one(dii, size_class=size, year=year, dii_version=4, level="at_least_basic")
            if v is not None:
                rows.append(_row("dii_v4", "E_DI4_GELO", "dii_v4_at_least_basic", size, year,
                                 v, "", allowance))
    sec = datasets.cybersecurity() if cyber is None else datasets.normalise_cyber(cyber)
    for series, code, indicator, years in CYBER_STATISTICS:
        for size in SIZES:
            for year in years:
                try:
                    v = datasets.cyber_value(sec, code, size, year)
                except ValueError:
                    continue
                rows.append(_row(series, code, indicator, size, year, v, "", allowance))
    nl = adv[(adv["geo"] == "NL") & (adv["size_class"] == "10-249")]
    for series, code, indicator, years, question_offset in ADVANCED_STATISTICS:
        for year in years:
            sel = nl[(nl["indicator"] == code) & (nl["year"] == year)]
            if len(sel) == 1:
                rows.append(_row(series, code, indicator, "10-249", year,
                                 float(sel["value"].iloc[0]), sel["flag"].iloc[0], allowance,
                                 question_offset))
    for code, indicator, years in GRADIENT_STATISTICS:
        for year in years:
            try:
                median, sd, n = datasets.size_gradient(adv, code, year)
            except ValueError:
                continue
            if n >= 5:
                rows.append({**_row("size_gradient", code, indicator, "50-249 vs 10-49",
                                    year, median, "", allowance), "kind": "gradient",
                             "offset": "",
                             "sd": float(np.hypot(sd, allowance["size_gradient"])),
                             "sampling_sd": 0.0})
    table = pd.DataFrame(rows)
    if table.empty:
        raise ValueError("no observations found in the data")
    table["key"] = [statistic_key(*r) for r in zip(table["code"], table["indicator"],
                                                   table["segment"], table["year"],
                                                   strict=True)]
    return Record(table.reset_index(drop=True))


def statistic_key(code: str, indicator: str, segment: str, year: int) -> str:
    """The key of one statistic (``Record``'s ``key`` column)."""
    return f"{code}:{indicator}@{segment}:{int(year)}"


def _one(df: pd.DataFrame, **where) -> float | None:
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return float(sel["value"].iloc[0]) if len(sel) == 1 else None


def _row(series: str, code: str, indicator: str, segment: str, year: int, value: float,
         flag: str, allowance: Mapping[str, float], question_offset: str = "") -> dict:
    n = EFFECTIVE_SAMPLE.get(segment, EFFECTIVE_SAMPLE["10-249"])
    sampling = float(np.sqrt(max(value * (1 - value), 0.0) / n))
    role = ("before start" if year < START_YEAR else
            "initial" if year == START_YEAR and series.startswith("dii_v3") else "fit")
    return {"series": series, "code": code, "indicator": indicator, "segment": segment,
            "year": int(year), "value": float(value), "flag": str(flag or ""),
            "kind": "share",
            "offset": question_offset or measurement_offset(indicator, segment, year),
            "sd": float(np.hypot(sampling, allowance[series])), "sampling_sd": sampling,
            "role": role}


# --------------------------------------------------------------------- survey readings
def clipped_logit(x: ArrayLike) -> np.ndarray:
    """Log-odds of shares clipped to [1e-6, 1 - 1e-6]: a simulated share of exactly 0 or
    1 (a small segment), or a band reaching 0 or 1, stays finite."""
    return logit(np.clip(np.asarray(x, dtype=float), 1e-6, 1 - 1e-6))


def readings(stats: pd.DataFrame, simulated: Mapping[tuple[str, str, int], float],
             params: Mapping[str, float], rng: np.random.Generator | None = None
             ) -> np.ndarray:
    """What the survey would report for each statistic (rows of ``stats``), given the
    simulated survey-year values (indicator, segment, year) and the parameters.

    With ``rng``, a predictive draw: the error of the fit's error model is added, the
    survey's sampling error and the series' model-error allowance (``sd``), the error
    the calibration's Gaussian kernel stands for (Wilkinson 2013, Stat. Appl. Genet.
    Mol. Biol. 12(2), 129-141). Without, the reading itself (what the ABC distance
    compares)."""
    out = np.empty(len(stats))
    rows = zip(*(stats[c].tolist() for c in ("kind", "indicator", "segment", "year", "offset")),
               strict=True)
    for k, (kind, indicator, segment, year, offset) in enumerate(rows):
        if kind == "gradient":
            out[k] = (clipped_logit(simulated[(indicator, "50-249", year)])
                      - clipped_logit(simulated[(indicator, "10-49", year)]))
            continue
        out[k] = _read(simulated[(indicator, segment, year)], offset, params)
    if rng is not None:
        noise = rng.standard_normal(len(stats)) * stats["sd"].to_numpy()
        out = np.where(stats["kind"].to_numpy() == "share", np.clip(out + noise, 0, 1), out)
    return out


def _param(params: Mapping[str, float], name: str) -> float:
    return float(params[name]) if name in params else PARAMETERS[name].default


def survey_value(indicator: str, segment: str, year: int,
                 simulated: Mapping[tuple[str, str, int], float],
                 params: Mapping[str, float]) -> float:
    """What the official survey would report for a model indicator (a target's reading).

    The AI reading carries the 2025 break from 2025 on (a break in series puts the
    survey on a new basis). The DII v4 reading of a segment mixes its size classes'
    readings, each with its offset (2-9 firms, never surveyed, take the 10-49 one).
    Everything else is read as simulated.
    """
    if indicator == "dii_v4_at_least_basic":
        parts = [s for s in segment_size_classes(segment) if (indicator, s, year) in simulated]
        firms = np.array([simulated[("firms", s, year)] for s in parts])
        read = [_read(simulated[(indicator, s, year)], measurement_offset(indicator, s, year),
                      params) for s in parts]
        return float(np.dot(firms, read) / firms.sum())
    return _read(simulated[(indicator, segment, year)],
                 measurement_offset(indicator, segment, year), params)


def _read(value: float, offset: str, params: Mapping[str, float]) -> float:
    return float(expit(clipped_logit(value) + _param(params, offset))) if offset else float(value)


def survey_series(series: pd.DataFrame, params: pd.DataFrame, indicator: str,
                  segment: str) -> pd.DataFrame:
    """Survey readings (``survey_value``) of one indicator for many runs at once.

    ``series``: stored survey-year values (scenario, replication, year, indicator,
    segment, value); ``params``: one row per run (scenario, replication) with the
    measurement parameters it used (missing ones at their defaults). Returns
    scenario, replication, year, value.
    """
    key = ["scenario", "replication"]

    def run_param(frame: pd.DataFrame, name: str) -> np.ndarray:
        if name in params:
            merged = frame[key].merge(params[[*key, name]], on=key, how="left")[name]
            return merged.fillna(PARAMETERS[name].default).to_numpy()
        return np.full(len(frame), PARAMETERS[name].default)

    def pick(ind: str, seg: str) -> pd.DataFrame:
        sel = series[(series["indicator"] == ind) & (series["segment"] == seg)]
        return sel[[*key, "year", "value"]].reset_index(drop=True)

    def read(frame: pd.DataFrame, seg: str) -> np.ndarray:
        values = frame["value"].to_numpy(dtype=float).copy()
        for year in frame["year"].unique():
            name = measurement_offset(indicator, seg, int(year))
            if name:
                rows = (frame["year"] == year).to_numpy()
                values[rows] = expit(clipped_logit(values[rows]) + run_param(frame[rows], name))
        return values

    if indicator == "dii_v4_at_least_basic":
        sizes = [s for s in segment_size_classes(segment) if not pick(indicator, s).empty]
        total = None
        for s in sizes:
            part = pick(indicator, s).merge(pick("firms", s), on=[*key, "year"],
                                            suffixes=("", "_firms"))
            num = read(part, s) * part["value_firms"]
            part = part.assign(num=num, den=part["value_firms"])[[*key, "year", "num", "den"]]
            total = part if total is None else total.merge(part, on=[*key, "year"]).assign(
                num=lambda d: d["num_x"] + d["num_y"], den=lambda d: d["den_x"] + d["den_y"]
            )[[*key, "year", "num", "den"]]
        if total is None:
            return pd.DataFrame(columns=[*key, "year", "value"])
        return total.assign(value=total["num"] / total["den"])[[*key, "year", "value"]]
    out = pick(indicator, segment)
    out["value"] = read(out, segment)
    return out


# --------------------------------------------------------------------- history check
HISTORY_Z = 2.0
"""A run reproduces a series when the root-mean-square of its standardised errors
(reading minus observation, over the statistic's sd) is at most this."""


def history_scores(stats: pd.DataFrame, simulated: Mapping[tuple[str, str, int], float],
                   params: Mapping[str, float]) -> dict[str, float]:
    """Root-mean-square standardised error per series (keys ``SERIES`` present)."""
    z = (readings(stats, simulated, params) - stats["value"].to_numpy()) / stats["sd"].to_numpy()
    codes, series = pd.factorize(stats["series"], sort=True)
    # Grouped by integer codes: pandas' own grouped mean (so the same sums, bit for bit),
    # a third of the time of grouping a frame by the names, once per experiment run.
    means = pd.Series(z**2).groupby(codes).mean().to_numpy()
    return {k: float(np.sqrt(v)) for k, v in zip(series, means, strict=True)}


def history_ok(scores: Mapping[str, float]) -> bool:
    return all(v <= HISTORY_Z for v in scores.values())


@cache
def shipped_record() -> Record:
    """The record from the shipped data, built once per process."""
    return load_record()


@lru_cache(maxsize=8)
def _fitted_shipped(until: int) -> pd.DataFrame:
    # Every run of an experiment checks the same statistics: select them once.
    return shipped_record().fitted(until)


def history_check(simulated: Mapping[tuple[str, str, int], float],
                  params: Mapping[str, float], end_year: int) -> dict[str, float | bool]:
    """Outcome columns of one run: ``history:<series>`` (RMS standardised error over the
    fitted statistics it simulated) and ``history:ok`` (every series within
    HISTORY_Z). Statistics after ``end_year`` are skipped."""
    stats = _fitted_shipped(min(end_year, LAST_OBSERVED_YEAR))
    if stats.empty:
        return {}
    scores = history_scores(stats, simulated, params)
    return {**{f"history:{k}": v for k, v in scores.items()}, "history:ok": history_ok(scores)}
