"""The one error type the model raises for bad input, and small checks that build it.

Every message names the offending field (as a dotted path such as
``policy.subsidy[0].rate``) and what would have been allowed, so a researcher
who mistypes a config sees at once what to change.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


class ModelInputError(ValueError):
    """A parameter, policy or run setting that the model cannot accept."""

    def __init__(self, field: str, message: str, allowed: str | None = None) -> None:
        self.field = field
        self.allowed = allowed
        text = f"{field}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


def check_keys(mapping: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    """Reject keys that are not in ``allowed``, suggesting the closest allowed key."""
    if not isinstance(mapping, Mapping):
        raise ModelInputError(path, f"expected a mapping (table), got {type(mapping).__name__}")
    allowed = list(allowed)
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ModelInputError(
                f"{path}.{key}" if path else str(key),
                f"unknown key{hint}",
                ", ".join(sorted(allowed)),
            )


def check_number(
    value: Any,
    path: str,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    range_name: str | None = None,
) -> float:
    """Return ``value`` as a float (or int) after checking type, finiteness and range
    (``range_name`` says whose range it is, for the message).

    Python and numpy numbers are accepted; integers of any size are compared exactly.
    """
    bounds = _range_text(low, high, range_name)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        kind = "an integer" if integer else "a number"
        raise ModelInputError(path, f"expected {kind}, got {value!r}", bounds)
    if isinstance(value, numbers.Integral):
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ModelInputError(path, f"must be finite, got {value!r}", bounds)
        if integer and not value.is_integer():
            raise ModelInputError(path, f"expected a whole number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        shown = repr(value) if len(repr(value)) <= 30 else f"{repr(value)[:12]}... (a huge number)"
        raise ModelInputError(path, f"{shown} is out of range", bounds)
    return int(value) if integer else float(value)


def check_choice(value: Any, allowed: Iterable[str], path: str) -> str:
    """Check one name against the allowed names."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ModelInputError(path, f"unknown value {value!r}", ", ".join(allowed))
    return value


def check_choices(values: Any, allowed: Iterable[str], path: str) -> tuple[str, ...]:
    """Check a list of names against the allowed names; returns them as a tuple."""
    allowed = list(allowed)
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ModelInputError(path, f"expected a list, got {values!r}", ", ".join(allowed))
    values = tuple(values)
    for v in values:
        if v not in allowed:
            raise ModelInputError(path, f"unknown value {v!r}", ", ".join(allowed))
    if len(set(values)) != len(values):
        raise ModelInputError(path, f"duplicate values in {list(values)!r}")
    return values


def collect_keys(table: Any, allowed: Iterable[str], path: str, errors: list[str]) -> bool:
    """``check_keys`` that appends every unknown key to ``errors`` instead of raising;
    False (with an error) when ``table`` is not a table at all."""
    if not isinstance(table, Mapping):
        errors.append(f"{path or 'file'}: expected a table, got {table!r}")
        return False
    allowed = list(allowed)
    for key in table:
        try:
            check_keys({key: None}, allowed, path)
        except ModelInputError as err:
            errors.append(str(err))
    return True


Field = tuple
"""A field's rule: ("number", low, high[, range name]), ("integer", low, high[, range
name]), ("choice", allowed[, noun]), ("names", allowed), ("text",) or ("boolean",); None
for no bound. A range name says whose range the bounds are (e.g. "range of peer_weight")."""


def check_field(value: Any, rule: Field, path: str) -> Any:
    """``value`` checked against ``rule`` (raises ModelInputError naming ``path``)."""
    kind = rule[0]
    if kind in ("number", "integer"):
        return check_number(value, path, rule[1], rule[2], integer=kind == "integer",
                            range_name=rule[3] if len(rule) > 3 else None)
    if kind == "choice":
        noun = rule[2] if len(rule) > 2 else "value"
        if not _one_of(value, rule[1]):
            close = difflib.get_close_matches(value, [str(a) for a in rule[1]], n=1) \
                if isinstance(value, str) else []
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ModelInputError(path, f"unknown {noun} {value!r}{hint}", allowed_text(rule))
        return value
    if kind == "names":
        return check_choices(value, rule[1], path)
    if kind == "text":
        if not isinstance(value, str) or not value:
            raise ModelInputError(path, f"expected a non-empty string, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ModelInputError(path, f"expected true or false, got {value!r}", "true, false")
        return value
    raise ValueError(f"unknown field rule {rule!r}")


def _one_of(value: Any, allowed: Iterable[Any]) -> bool:
    # Exact type, so that true is not taken for 1 nor 3.0 for the DII version 3.
    return any(type(value) is type(a) and value == a for a in allowed)


def allowed_text(rule: Field) -> str | None:
    """What a rule allows, as the messages show it."""
    if rule[0] in ("number", "integer"):
        return _range_text(rule[1], rule[2], rule[3] if len(rule) > 3 else None)
    if rule[0] in ("choice", "names"):
        return ", ".join(map(str, rule[1]))
    if rule[0] == "boolean":
        return "true, false"
    return None


def check_table(table: Any, spec: Mapping[str, Field | None], path: str,
                errors: list[str] | None = None,
                required: Iterable[str] = ()) -> dict[str, Any]:
    """The fields of ``table`` checked against ``spec`` (name -> rule; None: checked by
    the caller); each name in ``required`` must be present. Without ``errors`` the first
    problem raises ModelInputError; with it, every problem is appended (unknown keys
    with a did-you-mean) and the valid fields are returned, so a file's problems are all
    reported at once."""
    if errors is None:
        check_keys(table, spec, path)
    elif not collect_keys(table, spec, path, errors):
        return {}
    out: dict[str, Any] = {}
    for key in required:
        if key not in table:
            rule = spec.get(key)
            err = ModelInputError(f"{path}.{key}" if path else key, "required",
                                  allowed_text(rule) if rule else None)
            if errors is None:
                raise err
            errors.append(str(err))
    for key, value in table.items():
        rule = spec.get(key)
        if rule is None:
            continue
        try:
            out[key] = check_field(value, rule, f"{path}.{key}" if path else str(key))
        except ModelInputError as err:
            if errors is None:
                raise
            errors.append(str(err))
    return out


def check_year_span(start: int, end: int, path: str) -> None:
    if end < start:
        raise ModelInputError(
            f"{path}.end_year", f"{end} is before start_year {start}", f">= {start}"
        )


def _range_text(low: float | None, high: float | None,
                range_name: str | None = None) -> str | None:
    if low is None and high is None:
        return None
    if high is None:
        text = f">= {_fmt(low)}"
    elif low is None:
        text = f"<= {_fmt(high)}"
    else:
        text = f"{_fmt(low)} to {_fmt(high)}"
    return f"{text}, the {range_name}" if range_name else text


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"
