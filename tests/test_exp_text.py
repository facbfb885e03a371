"""experiments/text.py: how numbers and tables are written in reports."""

from __future__ import annotations

import math

import pandas as pd

from experiments.text import count, markdown_table, meur, pct, pp


def test_formatters_write_units_and_a_dash_for_missing_values():
    assert pct(0.9534) == "95.3%" and pp(0.021) == "+2.1 pp" and pp(-0.5, 0) == "-50 pp"
    assert meur(1.8e7) == "EUR 18 m" and count(49193.2) == "49,193"
    for f in (pct, pp, meur, count):
        assert f(math.nan) == "-" and f(None) == "-"


def test_markdown_table_from_a_frame_or_from_rows():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    expected = "| a | b |\n|---|---|\n| 1 | x |\n| 2 | y |"
    assert markdown_table(frame) == expected
    assert markdown_table([(1, "x"), (2, "y")], ["a", "b"]) == expected
