"""What is observed: Eurostat-style weighted shares, means and totals per segment.

Each indicator is a per-firm column (numerator) and, for shares and means, a
denominator column; per segment both are weighted sums, computed for all
indicators and segments in one sparse matrix product.

Segments: ``all`` (every simulated firm), ``10-249`` (the official SME frame),
each size class, each sector (``sector:<name>``) and each region
(``region:<name>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .datasets import SIZE_CLASSES
from .population import REGION_NAMES, SECTOR_NAMES, Population
from .technologies import BANDS, SECURITY_THRESHOLD, band_codes


@dataclass(frozen=True)
class Indicator:
    name: str
    kind: str  # "share", "mean" or "total"
    unit: str
    description: str
    denominator: str = "firms"  # column the numerator is divided by (share/mean)


def _band_indicators(prefix: str, version: int) -> list[Indicator]:
    out = [Indicator(f"{prefix}at_least_basic", "share", "share of firms",
                     f"At least 4 of the 12 DII v{version} items (basic level or above)")]
    out += [Indicator(f"{prefix}{b}", "share", "share of firms",
                      f"DII v{version} band {b.replace('_', ' ')}") for b in BANDS]
    return out


INDICATORS: tuple[Indicator, ...] = (
    *_band_indicators("dii_", 3),
    *_band_indicators("dii_v4_", 4),
    Indicator("dii_items_mean", "mean", "items", "Mean number of DII v3 items"),
    Indicator("cloud", "share", "share of firms", "Uses sophisticated or intermediate cloud"),
    Indicator("data_analytics", "share", "share of firms", "Performs data analytics"),
    Indicator("ai", "share", "share of firms", "Uses at least one AI technology"),
    Indicator("advanced_any", "share", "share of firms", "Uses cloud, data analytics or AI"),
    Indicator("advanced_all", "share", "share of firms", "Uses cloud, data analytics and AI"),
    Indicator("security_5plus", "share", "share of firms", "Has at least 5 security measures"),
    Indicator("security_measures_mean", "mean", "measures", "Mean number of security measures"),
    Indicator("security_aware", "share", "share of firms", "Aware of cyber risk"),
    Indicator("incident_past_year", "share", "share of firms",
              "Had an ICT security incident in the last four quarters"),
    Indicator("incident_reported_share", "share", "share of firms with an incident",
              "Reported its last incident, among firms with an incident in the last year",
              denominator="incident_past_year"),
    Indicator("gigabit_available", "share", "share of firms", "Gigabit connection available"),
    Indicator("edih_served", "share", "share of firms", "Has been served by an EDIH"),
    Indicator("firms", "total", "firms", "Real firms represented"),
    Indicator("edih_firms_served", "total", "firms", "Real firms served by EDIHs, cumulative"),
    Indicator("subsidised_adoptions", "total", "adoptions",
              "Adoptions paid for by a subsidy, cumulative (real firms)"),
    Indicator("deadweight_adoptions", "total", "adoptions",
              "Subsidised adoptions that would have happened that quarter without the "
              "subsidy, cumulative"),
    Indicator("subsidy_spend_eur", "total", "EUR", "Subsidy paid out, cumulative"),
    Indicator("edih_spend_eur", "total", "EUR", "Cost of EDIH services delivered, cumulative"),
    Indicator("campaign_spend_eur", "total", "EUR",
              "Cost of awareness campaigns, cumulative (attributed by firm weight)"),
)
INDICATOR_NAMES: tuple[str, ...] = tuple(i.name for i in INDICATORS)
_INDICATOR_INDEX = {name: k for k, name in enumerate(INDICATOR_NAMES)}
_BY_NAME = {i.name: i for i in INDICATORS}

HEADLINE = ("dii_at_least_basic", "dii_v4_at_least_basic", "cloud", "data_analytics", "ai",
            "advanced_any", "security_5plus", "incident_past_year", "subsidy_spend_eur",
            "edih_firms_served")
"""Indicators (segment ``all``) that Mesa's DataCollector reports each step."""


def headline_reporters() -> dict[str, Callable[[Any], float]]:
    """Model reporters for Mesa's DataCollector, one per ``HEADLINE`` indicator."""
    return {name: partial(_latest, indicator=name) for name in HEADLINE}


def _latest(model: Any, indicator: str) -> float:
    # A module-level function under functools.partial pickles; a lambda would not.
    return model.latest(indicator)


def segment_names(size_classes: tuple[int, ...]) -> tuple[str, ...]:
    return (
        "all",
        "10-249",
        *(SIZE_CLASSES[s] for s in size_classes),
        *(f"sector:{s}" for s in SECTOR_NAMES),
        *(f"region:{r}" for r in REGION_NAMES),
    )


class Observer:
    """Weighted indicator values per segment for a fixed population.

    Every segment is a union of cells (size class x sector x region), so the
    weighted sums are taken once per cell, over firms stored cell by cell, and
    then added up per segment with a small 0/1 matrix.
    """

    def __init__(
        self, size_class: np.ndarray, sector: np.ndarray, region: np.ndarray,
        weight: np.ndarray,
    ) -> None:
        present = tuple(int(s) for s in np.unique(size_class))
        self.segments = segment_names(present)
        n_sec, n_reg = len(SECTOR_NAMES), len(REGION_NAMES)
        cell = (size_class.astype(np.int64) * n_sec + sector) * n_reg + region
        order = np.argsort(cell, kind="stable")
        # Populations are built stratum by stratum, so this is usually the identity.
        self._order = None if np.array_equal(order, np.arange(len(cell))) else order
        cell = cell[order]
        self._weight = weight[order]
        self._starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
        codes = cell[self._starts]
        c_size, rest = np.divmod(codes, n_sec * n_reg)
        c_sector, c_region = np.divmod(rest, n_reg)
        member = [np.ones(len(codes), bool), c_size >= SIZE_CLASSES.index("10-49")]
        member += [c_size == s for s in present]
        member += [c_sector == k for k in range(n_sec)]
        member += [c_region == k for k in range(n_reg)]
        self._cell_to_segment = np.array(member, dtype=float).T  # cells x segments
        names = list(INDICATOR_NAMES)
        self._firms_row = names.index("firms")
        den_row = [
            None if i.kind == "total"
            else self._firms_row if i.denominator == "firms" else names.index(i.denominator)
            for i in INDICATORS
        ]
        self._share_rows = np.array([k for k, d in enumerate(den_row) if d is not None])
        self._den_rows = np.array([d for d in den_row if d is not None])

    def observe(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Indicator x segment values from per-firm columns (one per indicator)."""
        # Column by column: a firm-length buffer stays in cache, a whole matrix would not.
        cell_sums = np.empty((len(INDICATORS), len(self._starts)))
        buf = np.empty(len(self._weight))
        for k, name in enumerate(INDICATOR_NAMES):
            col = columns[name]
            np.multiply(col if self._order is None else col[self._order], self._weight, out=buf)
            cell_sums[k] = np.add.reduceat(buf, self._starts)
        sums = cell_sums @ self._cell_to_segment
        out = sums.copy()
        den = sums[self._den_rows]
        out[self._share_rows] = np.divide(sums[self._share_rows], den,
                                          out=np.full_like(den, np.nan), where=den > 0)
        return out


def indicator(name: str) -> Indicator:
    return _BY_NAME[name]


def firm_columns(firms: Population, dii_counts: dict[int, np.ndarray],
                 quarter_index: int) -> dict[str, np.ndarray]:
    """Each firm's contribution to every indicator (numerators and denominators), from
    its state and its DII item counts per version. Some columns are views of the live
    state."""
    f = firms
    cols: dict[str, np.ndarray] = {}
    for version, prefix in ((3, "dii_"), (4, "dii_v4_")):
        count = dii_counts[version]
        band = band_codes(count)
        cols[f"{prefix}at_least_basic"] = count >= 4
        for b, name in enumerate(BANDS):
            cols[f"{prefix}{name}"] = band == b
        if version == 3:
            cols["dii_items_mean"] = count
    a = f.adopted
    cols.update(
        cloud=a["cloud"], data_analytics=a["data_analytics"], ai=a["ai"],
        advanced_any=a["cloud"] | a["data_analytics"] | a["ai"],
        advanced_all=a["cloud"] & a["data_analytics"] & a["ai"],
        security_5plus=f.measures >= SECURITY_THRESHOLD,
        security_measures_mean=f.measures,
        security_aware=f.aware["security"],
        incident_past_year=(quarter_index - f.last_incident) < 4,
        gigabit_available=f.gigabit,
        edih_served=f.edih_served,
        firms=np.ones(f.n),
        edih_firms_served=f.edih_served,
        subsidised_adoptions=f.subsidised,
        deadweight_adoptions=f.deadweight,
        subsidy_spend_eur=f.subsidy_eur,
        edih_spend_eur=f.edih_eur,
        campaign_spend_eur=f.campaign_eur,
    )
    cols["incident_reported_share"] = cols["incident_past_year"] & f.last_reported
    return cols


class Recorder:
    """The observations of one run: indicator x segment values, quarter by quarter."""

    def __init__(self, firms: Population) -> None:
        self._observer = Observer(firms.size_class, firms.sector, firms.region, firms.weight)
        self.segments = self._observer.segments
        self._records: list[np.ndarray] = []
        self._labels: list[tuple[int, int]] = []

    def record(self, columns: dict[str, np.ndarray], year: int, quarter: int) -> None:
        self._records.append(self._observer.observe(columns))
        self._labels.append((year, quarter))

    def latest(self, indicator: str, segment: str = "all") -> float:
        """The most recent value of an indicator for a segment."""
        return float(self._records[-1][_INDICATOR_INDEX[indicator],
                                       self.segments.index(segment)])

    def survey_values(self) -> SurveyValues:
        """What the surveys read: each year's first-quarter values so far."""
        keep = [k for k, (_, quarter) in enumerate(self._labels) if quarter == 1]
        return SurveyValues(np.stack([self._records[k] for k in keep]),
                            tuple(self._labels[k][0] for k in keep), self.segments)

    def frame(self, quarter: int | None = None, segments: Sequence[str] | None = None
              ) -> pd.DataFrame:
        """All observations so far, tidy: year, quarter, indicator, segment, value; only
        those of one ``quarter`` of each year, or of some ``segments``, if given (the
        rows of the whole frame that match, in its order, with the same categories)."""
        steps = [k for k, label in enumerate(self._labels)
                 if quarter is None or label[1] == quarter]
        seg = (np.arange(len(self.segments)) if segments is None
               else np.flatnonzero(np.isin(np.array(self.segments), list(segments))))
        values = np.stack([self._records[k] for k in steps])[:, :, seg]
        n_steps, n_ind, n_seg = values.shape  # steps x indicators x segments
        labels = np.array([self._labels[k] for k in steps]).reshape(-1, 2)
        return pd.DataFrame({
            "year": np.repeat(labels[:, 0], n_ind * n_seg).astype(np.int16),
            "quarter": np.repeat(labels[:, 1], n_ind * n_seg).astype(np.int8),
            "indicator": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n_ind), n_seg), n_steps), INDICATOR_NAMES),
            "segment": pd.Categorical.from_codes(np.tile(seg, n_steps * n_ind), self.segments),
            "value": values.ravel(),
        })


class SurveyValues(Mapping[tuple[str, str, int], float]):
    """First-quarter values of a run keyed ``(indicator, segment, year)``: the readings
    of the surveys, which observe quarter 1. A read-only view of the recorded array
    (years x indicators x segments), so that no run builds a dictionary of thousands of
    entries to look up a few dozen."""

    def __init__(self, values: np.ndarray, years: tuple[int, ...],
                 segments: tuple[str, ...]) -> None:
        self._values = values
        self._year = {int(y): k for k, y in enumerate(years)}
        self._segment = {s: k for k, s in enumerate(segments)}

    def __getitem__(self, key: tuple[str, str, int]) -> float:
        indicator, segment, year = key
        try:
            return self._values[self._year[year], _INDICATOR_INDEX[indicator],
                                self._segment[segment]]
        except (KeyError, TypeError):
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[tuple[str, str, int]]:
        for year in self._year:
            for indicator in INDICATOR_NAMES:
                for segment in self._segment:
                    yield indicator, segment, year

    def __len__(self) -> int:
        return self._values.size
