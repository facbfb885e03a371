"""Read the data tables shipped in ``model/data`` (sources in ``model/data/README.md``).

Reading package data is the one file access the model does; results are cached
because the tables never change within a process.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

SIZE_CLASSES: tuple[str, ...] = ("2-9", "10-49", "50-249")


def segment_size_classes(segment: str) -> tuple[str, ...]:
    """The size classes a size segment covers: ``all`` every one, ``10-249`` the survey
    frame, a size class itself (empty for sector and region segments)."""
    if segment == "all":
        return SIZE_CLASSES
    if segment == "10-249":
        return ("10-49", "50-249")
    return (segment,) if segment in SIZE_CLASSES else ()


def _read(name: str) -> pd.DataFrame:
    with resources.files("model.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


@cache
def dii() -> pd.DataFrame:
    """Eurostat isoc_e_dii, Netherlands: size_class, year, dii_version, level, value (a share)."""
    return normalise_dii(_read("eurostat_isoc_e_dii.csv"))


def normalise_dii(df: pd.DataFrame) -> pd.DataFrame:
    """NL rows of an isoc_e_dii table in the shipped layout, values as shares."""
    df = df[df["geo"] == "NL"].copy()
    df["value"] = df["value_pct"] / 100.0
    if "flag" not in df:
        df["flag"] = ""
    return df[["size_class", "year", "dii_version", "level", "value", "flag"]].reset_index(
        drop=True
    )


def dii_bands(year: int) -> pd.DataFrame:
    """Shares of the four DII bands by size class in a v3 year (rows: size class)."""
    df = dii()
    df = df[(df["year"] == year) & (df["level"] != "at_least_basic")]
    if df.empty:
        raise ValueError(f"no DII band data for {year}")
    return df.pivot(index="size_class", columns="level", values="value")


@cache
def firm_counts() -> pd.DataFrame:
    """CBS 81588NED (2024Q2) counts: columns indicator, size_class, value."""
    df = _read("firm_population.csv")
    df = df[(df["geo"] == "NL") & (df["year"] == "2024Q2")]
    df = df.assign(section=df["indicator"].str.replace("number of firms, ", "", regex=False))
    return df[["section", "size_class", "value"]].reset_index(drop=True)


GIGABIT_ROWS: tuple[tuple[str, str, int], ...] = (
    ("households/connections with access to fast internet via cable or fibre (VHCN)",
     "2021 (DESI 2022)", 2021),
    ("addresses with access to 1 Gbit/s (fibre or cable)", "2022", 2022),
    ("households covered by fixed VHCN", "2023", 2023),
    ("households covered by fixed VHCN (gigabit) [DESI bb_vhcncov]", "2025", 2025),
)
"""The NL gigabit-coverage observations the model follows: (indicator, year as written
in connectivity.csv, calendar year). Households for DESI, addresses for NLconnect's
2022 count: the closest series there are to business addresses (docs/ODD.md)."""


@cache
def gigabit_coverage_observed() -> tuple[tuple[int, float], ...]:
    """Observed NL gigabit (VHCN) coverage: (year, share), oldest first."""
    df = _read("connectivity.csv")
    df = df[df["geo"] == "NL"]
    out = []
    for indicator, label, year in GIGABIT_ROWS:
        row = df[(df["indicator"] == indicator) & (df["year"].astype(str) == label)]
        if len(row) != 1:
            raise ValueError(f"connectivity.csv: expected one NL row {indicator!r} {label}")
        out.append((year, float(row["value"].iloc[0]) / 100.0))
    return tuple(out)


@cache
def cybersecurity() -> pd.DataFrame:
    """cybersecurity.csv, NL rows whose year is a number: indicator, size_class, year,
    value (a share of enterprises, or of those with an incident)."""
    return normalise_cyber(_read("cybersecurity.csv"))


def normalise_cyber(df: pd.DataFrame) -> pd.DataFrame:
    """NL rows of a table in the layout of cybersecurity.csv whose year is a number,
    values as shares."""
    df = df[(df["geo"] == "NL") & df["year"].astype(str).str.fullmatch(r"\d{4}")].copy()
    df["year"] = df["year"].astype(int)
    df["value"] = pd.to_numeric(df["value"], errors="coerce") / 100.0
    return df[["indicator", "size_class", "year", "value"]].reset_index(drop=True)


def cyber_figure(code: str, size_class: str, year: int) -> float:
    """One Eurostat cyber figure of ``cybersecurity()`` by its code (E_SECMGE5, ...)."""
    return cyber_value(cybersecurity(), code, size_class, year)


def cyber_value(table: pd.DataFrame, code: str, size_class: str, year: int) -> float:
    """``cyber_figure`` on a table in the layout of ``cybersecurity``."""
    row = table[table["indicator"].str.contains(f" {code}]", regex=False)
                & (table["size_class"] == size_class) & (table["year"] == year)]
    if len(row) != 1:
        raise ValueError(f"cybersecurity.csv: no single NL row {code} {size_class} {year}")
    return float(row["value"].iloc[0])


@cache
def policy_programmes() -> pd.DataFrame:
    """policy_programmes.csv as shipped: indicator, geo, size_class, year, value, unit,
    source (values as written)."""
    return _read("policy_programmes.csv")


EU_MEMBER_STATES: tuple[str, ...] = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)


@cache
def advanced_history() -> pd.DataFrame:
    """Eurostat AI, cloud, data-analytics and big-data use by country, size class and year
    (isoc_eb_ai, isoc_cicce_use, isoc_eb_das, isoc_eb_bd; see SOURCES_advanced_history.md):
    dataset, indicator, geo, size_class, year, value (a share), flag."""
    return normalise_advanced(_read("eurostat_advanced_history.csv"))


def normalise_advanced(df: pd.DataFrame) -> pd.DataFrame:
    """An advanced-technology table in the shipped layout, values as shares."""
    df = df.copy()
    df["value"] = df["value"] / 100.0
    df["flag"] = df["flag"].fillna("").astype(str) if "flag" in df else ""
    return df[["dataset", "indicator", "geo", "size_class", "year", "value", "flag"]]


@cache
def eu_size_gradient(indicator: str, year: int) -> tuple[float, float, int]:
    """Log-odds of use by 50-249 firms over 10-49 firms across the other member states:
    (median, standard deviation, number of countries).

    NL's own split by size class is not in the shipped data (kept out as a test of the
    model's size mechanism); other member states say how large the gap usually is.
    """
    return size_gradient(advanced_history(), indicator, year)


def size_gradient(table: pd.DataFrame, indicator: str, year: int) -> tuple[float, float, int]:
    """``eu_size_gradient`` on a table in the layout of ``advanced_history``."""
    df = table[(table["indicator"] == indicator) & (table["year"] == year)
               & table["geo"].isin(EU_MEMBER_STATES) & (table["geo"] != "NL")]
    wide = df.pivot_table(index="geo", columns="size_class", values="value")
    if not {"10-49", "50-249"} <= set(wide.columns):
        raise ValueError(f"no size classes for {indicator} in {year}")
    wide = wide.dropna(subset=["10-49", "50-249"])
    lor = _logit(wide["50-249"]) - _logit(wide["10-49"])
    return float(lor.median()), float(lor.std()), len(lor)


def _logit(x: pd.Series) -> pd.Series:
    return np.log(x / (1.0 - x))
