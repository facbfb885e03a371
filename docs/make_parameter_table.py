"""Rewrite the parameter table in docs/ODD.md from model.parameters (the source of truth).

Run: python docs/make_parameter_table.py. tests/test_odd.py fails when the table
is out of date.
"""

from __future__ import annotations

from pathlib import Path

from model.parameters import parameter_table

ODD = Path(__file__).with_name("ODD.md")
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"


def render() -> str:
    table = parameter_table()
    lines = [
        "| name | group | role | default | range | unit | calibrated | meaning | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| `{row.name}` | {row.group} | {row.role} | {row.default:g} | {row.low:g} to "
            f"{row.high:g} "
            f"| {row.unit} | {'yes' if row.calibrated else 'no'} | {row.description} "
            f"| {row.source} |"
        )
    return "\n".join(lines)


def updated(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render()}\n{END}{tail}"


if __name__ == "__main__":
    ODD.write_text(updated(ODD.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {ODD}")
