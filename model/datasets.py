"""Read the data tables shipped in ``model/data`` (sources in ``model/data/README.md``).

Reading package data is the one file access the model does; results are cached
because the tables never change within a process.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

SIZE_CLASSES: tuple[str, ...] = ("2-9", "10-49", "50-249")


def _read(name: str) -> pd.DataFrame:
    with resources.files("model.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


@cache
def dii() -> pd.DataFrame:
    """Eurostat isoc_e_dii, Netherlands: size_class, year, dii_version, level, value (a share)."""
    df = _read("eurostat_isoc_e_dii.csv")
    df = df[df["geo"] == "NL"].copy()
    df["value"] = df["value_pct"] / 100.0
    return df[["size_class", "year", "dii_version", "level", "value", "flag"]].reset_index(
        drop=True
    )


def dii_bands(year: int = 2021) -> pd.DataFrame:
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


@cache
def advanced_technologies() -> pd.DataFrame:
    return _read("advanced_technologies.csv")

