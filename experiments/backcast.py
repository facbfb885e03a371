"""A backcast: what the calibrated adoption mechanism says about cloud and data
analytics before 2021, set against the observations of those years.

Why. The simulation starts in 2021, its state matched to that year's surveys, so the
record before it (any cloud, E_CC, 2014-2020; big data, E_BD 2016 and 2018 and E_BDA
2020) is not fitted. It can still test the mechanism the calibration fitted to
2021-2025: a mechanism whose cloud users in 2021 could not have come about in the way
that mechanism adopts is one whose projection to 2030 rests on a dynamic the longer
record contradicts.

Method. Per posterior draw, the 2021 firms and ties of one calibration simulation (the
calibration's firm count and frame). At the first observed year's first quarter a
share ``s`` of the frame uses the technology, placed as the 2021 state places its users
(``population.placement``, ``population.users_by_quota``), and aware of it as in 2021
(``population.initial_awareness``); then the model's own quarterly awareness, adoption
(``Adoption.advanced_inputs`` through the decision rule) and discontinuance run to 2021
Q1, with each quarter's benefit trend and cost index. ``s`` is solved (bisection, the
same random numbers throughout) so that 2021 Q1 holds the draw's own 2021 share. The
readings go through the survey's observation rule (``observations.readings``: any
cloud through the fitted offset). Stated assumptions: the firms, their traits, ties and
size as in 2021; gigabit access and awareness at the start as in 2021, when both were
wider than before, so the backcast overstates how fast firms could adopt and with it
the rise it gives; no levers; the benefit multiplier floored at 0.

Read the levels with care where a definition changes (big data's three questions; the
cloud questions were revised in 2021): the change in log-odds between the first and
last year of one definition (``changes``) does not depend on the level a question
reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from model import SMEEconomy
from model.adoption import Adoption
from model.population import SIZE_CLASSES, initial_awareness, placement, users_by_quota
from model.timeline import START_YEAR

from . import observations as ob
from .abc import systematic_rows
from .analysis import posterior_row
from .text import markdown_table

Build = Callable[[Mapping[str, float], int], SMEEconomy]
"""The calibration's model for a parameter set and seed, set up and not stepped
(``calibration.calibration_model`` with the calibration's settings)."""
BACKCAST_DRAWS = 40
"""Posterior draws the backcast runs (one calibration simulation's firms each); a
calibration with fewer ``predictive_draws`` runs that many."""
BISECTION_STEPS = 12
"""Halvings of the starting share: within 2.5e-4 of the share that meets 2021."""
TECHNOLOGIES = ("cloud", "data_analytics")
"""The advanced technologies with Dutch observations before 2021."""


def before_start(obs: pd.DataFrame) -> pd.DataFrame:
    """The observations before the simulated period, of the technologies backcast."""
    rows = obs[(obs["role"] == "before start") & obs["indicator"].isin(TECHNOLOGIES)]
    return rows.reset_index(drop=True)


def share_path(adoption: Adoption, tech: str, count_v3: np.ndarray, frame: np.ndarray,
               start_share: float, start_year: int, rng: np.random.Generator
               ) -> dict[int, float]:
    """The frame's weighted share of ``tech`` users in the first quarter of each year
    from ``start_year`` to 2021, starting from ``start_share`` (the module docstring).
    ``count_v3``: the firms' 2021 item counts, which place the first users."""
    f, p = adoption.firms, adoption.params
    n = f.n
    lead, eligible = placement(tech, count_v3, p)
    users = users_by_quota(tech, start_share, lead + rng.standard_normal(n), eligible,
                           f.size_class, f.weight)
    aware = users | (rng.random(n) < initial_awareness(tech, count_v3))
    weight = np.where(frame, f.weight, 0.0)
    first = 4 * (start_year - START_YEAR)
    shares = {start_year: float(weight @ users / weight.sum())}
    for q in range(first + 1, 1):
        t = START_YEAR + q / 4.0  # as the model's step into quarter q reads it
        peers = adoption.ties @ users.astype(np.float32)
        aware |= rng.random(n) < adoption.awareness_probability(peers)
        inputs, _ = adoption.advanced_inputs(tech, t, peers)
        users = users | (aware & (rng.random(n) < adoption.rule.probability(inputs)))
        users &= ~(rng.random(n) < p["discontinuance_rate"])
        if q % 4 == 0:
            shares[START_YEAR + q // 4] = float(weight @ users / weight.sum())
    return shares


def backcast_draw(params: Mapping[str, float], build: Build, seed: int, start_year: int
                  ) -> dict[str, tuple[float, float, dict[int, float]]]:
    """Per technology: the draw's own 2021 share, the starting share that meets it,
    and the yearly shares of the frame (10-249 firms) from ``start_year`` to 2021 (whose
    last is that share unless no starting share meets it: then the nearest end)."""
    model = build(params, seed)
    f = model.firms
    frame = f.size_class >= SIZE_CLASSES.index("10-49")
    count = model.dii_count()
    out = {}
    for k, tech in enumerate(TECHNOLOGIES):
        target = float(f.weight[frame] @ f.adopted[tech][frame] / f.weight[frame].sum())

        def path(s: float, k: int = k, tech: str = tech) -> dict[int, float]:
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k,)))
            return share_path(model.adoption, tech, count, frame, s, start_year, rng)

        # More users at the start leave more in 2021 (more peers, the same draws).
        lo, hi = 0.0, 1.0
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if path(mid)[START_YEAR] < target else (lo, mid)
        s = 0.5 * (lo + hi)
        out[tech] = (target, s, path(s))
    return out


def _yearly(stats: pd.DataFrame) -> pd.DataFrame:
    """Each question's rows for every year from its first observed one to 2021 (its
    value missing where it was not asked, and in 2021, which the calibration fits)."""
    rows = []
    for code, part in stats.groupby("code", sort=False):
        first = part.iloc[0]
        asked = dict(zip(part["year"], part["value"], strict=True))
        for year in range(int(part["year"].min()), START_YEAR + 1):
            rows.append({**first.to_dict(), "year": year, "value": asked.get(year, np.nan),
                         "key": ob.statistic_key(code, first["indicator"], first["segment"],
                                                 year)})
    return pd.DataFrame(rows)


def backcast(posterior: pd.DataFrame, obs: pd.DataFrame, build: Build, seed: int,
             draws: int = BACKCAST_DRAWS, fixed: Mapping[str, float] | None = None
             ) -> pd.DataFrame:
    """The survey readings the backcast gives, per posterior draw (``draws`` drawn by
    weight; ``fixed``: the calibration's fixed parameters), for each question observed
    before 2021 in every year from its first observation to 2021: one row per draw,
    question and year (``observed`` missing in years the question was not asked, and in
    2021), with the starting share, the 2021 share it reaches and the draw's own 2021
    share. ``seed``: the calibration's."""
    stats = before_start(obs)
    if stats.empty:
        return pd.DataFrame()
    start = int(stats["year"].min())
    yearly = _yearly(stats)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    rows = systematic_rows(posterior["weight"].to_numpy(), draws, rng)
    seeds = rng.integers(0, 2**31 - 1, size=draws)
    out = []
    for d, (row, draw_seed) in enumerate(zip(rows, seeds, strict=True)):
        params = {**(fixed or {}), **posterior_row(posterior, int(row))}
        paths = backcast_draw(params, build, int(draw_seed), start)
        values = {(tech, "10-249", year): share
                  for tech, (_, _, shares) in paths.items() for year, share in shares.items()}
        reading = ob.readings(yearly, values, params)
        for r, value in zip(yearly.itertuples(), reading, strict=True):
            target, s, shares = paths[r.indicator]
            out.append({"draw": d, "key": r.key, "series": r.series, "code": r.code,
                        "indicator": r.indicator, "segment": r.segment, "year": r.year,
                        "observed": r.value, "reading": float(value), "start_share": s,
                        "share_2021": shares[START_YEAR], "target_2021": target})
    return pd.DataFrame(out)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per observation: observed, the backcast's median and 90% band (of the readings
    over draws; no survey error added), and whether the observation lies inside."""
    if frame.empty:
        return pd.DataFrame()
    g = frame[frame["observed"].notna()].groupby(["key", "code", "indicator", "year"],
                                                 sort=False)
    out = g.agg(observed=("observed", "first"), median=("reading", "median"),
                p05=("reading", lambda x: x.quantile(0.05)),
                p95=("reading", lambda x: x.quantile(0.95))).reset_index()
    out["inside_90"] = (out["observed"] >= out["p05"]) & (out["observed"] <= out["p95"])
    return out


def changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per definition observed in more than one year before 2021: the change in
    log-odds from its first to its last year, observed and backcast (median and 90%
    band over the draws). Unlike a level, it does not depend on what the question
    reads, so it holds across a revision of the question at 2021."""
    rows = []
    for code, part in frame[frame["observed"].notna()].groupby("code", sort=False):
        years = sorted(part["year"].unique())
        if len(years) < 2:
            continue
        first, last = part[part["year"] == years[0]], part[part["year"] == years[-1]]
        sim = (ob.clipped_logit(last.sort_values("draw")["reading"].to_numpy())
               - ob.clipped_logit(first.sort_values("draw")["reading"].to_numpy()))
        observed = float(ob.clipped_logit(last["observed"].iloc[0])
                         - ob.clipped_logit(first["observed"].iloc[0]))
        rows.append({"code": code, "indicator": part["indicator"].iloc[0],
                     "from": int(years[0]), "to": int(years[-1]), "observed": observed,
                     "median": float(np.median(sim)), "p05": float(np.quantile(sim, 0.05)),
                     "p95": float(np.quantile(sim, 0.95)),
                     "inside_90": bool(np.quantile(sim, 0.05) <= observed
                                       <= np.quantile(sim, 0.95))})
    return pd.DataFrame(rows)


def manifest_entry(frame: pd.DataFrame) -> dict[str, object]:
    """The backcast's changes in log-odds, for the calibration's manifest."""
    if frame.empty:
        return {}
    return {"backcast_changes": [
        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
        for r in changes(frame).to_dict("records")]}


def section(frame: pd.DataFrame | None) -> str:
    """The calibration report's section on the backcast (empty without one)."""
    if frame is None or frame.empty:
        return ""
    levels = summary(frame)
    moves = changes(frame)
    rows = [(f"{r.code} ({r.indicator.replace('_', ' ')})", int(r.year),
             f"{100 * r.observed:.1f}", f"{100 * r.median:.1f}",
             f"{100 * r.p05:.1f} to {100 * r.p95:.1f}", "yes" if r.inside_90 else "no")
            for r in levels.itertuples()]
    level_table = markdown_table(rows, ["statistic", "year", "observed %", "backcast %",
                                        "90% band", "inside"])
    move_table = markdown_table(
        [(r.code, f"{r['from']}-{r.to}", f"{r.observed:+.2f}", f"{r['median']:+.2f}",
          f"{r.p05:+.2f} to {r.p95:+.2f}", "yes" if r.inside_90 else "no")
         for _, r in moves.iterrows()],
        ["statistic", "years", "observed", "backcast", "90% band", "inside"])
    draws = frame["draw"].nunique()
    missed = frame.drop_duplicates(["draw", "indicator"])
    missed = int((np.abs(missed["share_2021"] - missed["target_2021"]) > 0.005).sum())
    gap = ("" if not missed else
           f" In {missed} of the draws' paths no starting share met the 2021 share within "
           "half a point (the nearest is used).")
    outside = moves.loc[~moves["inside_90"], "code"].tolist()
    named = " and ".join([", ".join(outside[:-1]), outside[-1]] if len(outside) > 1
                         else outside)
    verdict = (
        "Every observed change lies inside the backcast's 90% band."
        if not outside else
        f"The observed change of {named} lies outside the backcast's 90% band: the "
        "fitted mechanism does not reproduce how use moved before 2021 (docs/ODD.md 7.8, "
        "10).")
    return f"""
## Before 2021: a backcast (not fitted)

The simulation starts in 2021, so the observations before it are not fitted. They test
the mechanism instead: for {draws} posterior draws, the fitted awareness, adoption and
discontinuance of cloud and data analytics run from the first observed year to 2021,
from the starting share that meets the draw's own 2021 state, with the firms as they are
in 2021 and no levers (`experiments/backcast.py`, docs/ODD.md 7.8).{gap} A level
depends on what a question reads (big data's questions differ from each other and
from data analytics'; the cloud questions were revised in 2021), a change in log-odds
within one question does not:

{move_table}

{verdict}

Levels, survey readings of the backcast (the fitted offset for any cloud; no sampling
error added):

{level_table}

![backcast](figures/backcast.png)
"""


def experiment_note(calibration: Path) -> str:
    """What an experiment report says of the backcast of the calibration it draws from
    (its directory; empty if that calibration has none)."""
    try:
        changes = json.loads((calibration / "manifest.json").read_text()).get(
            "backcast_changes") or []
    except (OSError, ValueError):
        return ""
    if not changes:
        return ""
    parts = [f"{c['code']} {c['from']}-{c['to']} observed {c['observed']:+.2f} log-odds, "
             f"backcast {c['median']:+.2f} ({c['p05']:+.2f} to {c['p95']:+.2f}"
             f"{')' if c['inside_90'] else '; outside)'}" for c in changes]
    missed = " and ".join(dict.fromkeys(c["indicator"].replace("_", " ")
                                        for c in changes if not c["inside_90"]))
    verdict = (f"The mechanism behind these runs does not reproduce how use of {missed} "
               "moved before 2021: a target that rests on their rise after 2025 rests on a "
               "route the longer record does not show." if missed else
               "The observed changes lie inside the backcast's bands.")
    return (f"Before 2021 (not fitted), the calibration's mechanism run back from 2021 (its "
            f"report, \"Before 2021\"; docs/ODD.md 7.8): {'; '.join(parts)}. {verdict}")
