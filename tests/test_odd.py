"""docs/ODD.md must stay true to the code: its parameter table is the generated one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from model.parameters import PARAMETERS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("make_parameter_table",
                                                  DOCS / "make_parameter_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_table_in_odd_is_current():
    text = (DOCS / "ODD.md").read_text(encoding="utf-8")
    assert _generator().updated(text) == text, (
        "docs/ODD.md parameter table is stale: run python docs/make_parameter_table.py"
    )


def test_every_parameter_documented_with_unit_range_and_source():
    text = (DOCS / "ODD.md").read_text(encoding="utf-8")
    for name, spec in PARAMETERS.items():
        assert f"| `{name}` |" in text
        assert spec.unit and spec.source and spec.description
        assert spec.low <= spec.default <= spec.high
