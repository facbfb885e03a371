"""How numbers and tables are written in reports: one formatter per kind of number
(a missing value shows as '-'), one Markdown table writer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

MISSING = "-"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, digits: int = 1) -> str:
    """A share as a percentage: 0.953 -> '95.3%'."""
    return MISSING if _missing(x) else f"{100 * x:.{digits}f}%"


def pp(x: float | None, digits: int = 1) -> str:
    """A difference of shares in percentage points, signed: 0.021 -> '+2.1 pp'."""
    return MISSING if _missing(x) else f"{100 * x:+.{digits}f} pp"


def meur(x: float | None) -> str:
    """EUR in millions: 1.8e7 -> 'EUR 18 m'."""
    return MISSING if _missing(x) else f"EUR {x / 1e6:,.0f} m"


def count(x: float | None) -> str:
    """A count or amount without decimals: 49193.2 -> '49,193'."""
    return MISSING if _missing(x) else f"{x:,.0f}"


def markdown_table(rows: pd.DataFrame | Iterable[Sequence[Any]],
                   header: Sequence[str] | None = None) -> str:
    """A Markdown table from a frame (its columns are the header) or from rows and a
    header; cells are written with ``str``."""
    if isinstance(rows, pd.DataFrame):
        header = list(rows.columns)
        body = list(rows.itertuples(index=False))
    else:
        body = list(rows)
    assert header is not None, "a header is needed for plain rows"
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in body]
    return "\n".join(lines)
