"""model/errors.py: the one validation engine (fields, tables) and its messages."""

from __future__ import annotations

import pytest

from model.errors import ModelInputError, check_field, check_table, collect_keys

SPEC = {"rate": ("number", 0.0, 1.0), "count": ("integer", 1, 10),
        "kind": ("choice", ("a", "b"), "kind"), "tags": ("names", ("x", "y")),
        "label": ("text",), "on": ("boolean",), "free": None}


@pytest.mark.parametrize(("rule", "value", "message"), [
    (("number", 0.0, 1.0), 1.5, "f: 1.5 is out of range (allowed: 0 to 1)"),
    (("integer", 1, 10), 2.5, "f: expected a whole number, got 2.5"),
    (("choice", ("a", "b"), "kind"), "c", "f: unknown kind 'c' (allowed: a, b)"),
    (("names", ("x", "y")), ["z"], "f: unknown value 'z' (allowed: x, y)"),
    (("text",), "", "f: expected a non-empty string, got ''"),
    (("boolean",), 1, "f: expected true or false, got 1 (allowed: true, false)"),
])
def test_each_rule_names_the_field_and_what_is_allowed(rule, value, message):
    with pytest.raises(ModelInputError) as info:
        check_field(value, rule, "f")
    assert str(info.value) == message


def test_a_table_reports_every_problem_at_once_or_raises_the_first():
    table = {"rate": 2, "count": 3, "kindd": "a", "on": "yes", "free": object()}
    errors: list[str] = []
    values = check_table(table, SPEC, "t", errors)
    assert values == {"count": 3}  # the valid fields come back; 'free' is the caller's
    # unknown keys first (with a suggestion), then the fields, in the table's order
    assert errors == ["t.kindd: unknown key; did you mean 'kind'? (allowed: count, free, "
                      "kind, label, on, rate, tags)",
                      "t.rate: 2 is out of range (allowed: 0 to 1)",
                      "t.on: expected true or false, got 'yes' (allowed: true, false)"]
    with pytest.raises(ModelInputError, match=r"t\.rate: 2 is out of range"):
        check_table({"rate": 2}, SPEC, "t")
    assert not collect_keys([1, 2], SPEC, "t", errors)
    assert errors[-1] == "t: expected a table, got [1, 2]"
