"""Firm-by-firm additionality at the target date (experiments/additionality.py)."""

from __future__ import annotations

import numpy as np
import pytest
from exp_helpers import tiny_mapping

from experiments.additionality import FirmRecord, compare, paired_columns
from experiments.config import Target, parse_config
from experiments.design import build_design
from experiments.runner import run_one

T = Target(name="x", indicator="cloud", threshold=0.75, population="all", year=2030)


def record(holds, first, grant=(), edih=(), weight=None) -> FirmRecord:
    n = len(holds)
    flag = np.zeros(n, dtype=bool)
    return FirmRecord(
        weight=np.ones(n) if weight is None else np.asarray(weight, dtype=float),
        support={"grant": np.isin(np.arange(n), grant), "edih": np.isin(np.arange(n), edih),
                 "campaign": flag.copy()},
        holds={"x": np.asarray(holds, dtype=bool)},
        first={"x": np.asarray(first, dtype=np.int32)},
        member={"x": np.ones(n, dtype=bool)})


def test_each_supported_firm_is_classified_against_itself():
    #            firm: 0 brought forward, 1 deadweight, 2 additional, 3 spill-over,
    #                  4 served by an EDIH in the baseline too (not support), 5 not reached
    base = record([1, 1, 0, 0, 0, 0], [20, 12, -1, -1, -1, -1], edih=[4])
    run = record([1, 1, 1, 1, 1, 0], [8, 12, 30, 33, 25, -1], grant=[0, 1, 2, 5],
                 edih=[4], weight=[1, 2, 3, 4, 5, 6])
    out = compare(run, base, [T])
    assert out["supported_firms:x"] == 1 + 2 + 3 + 6
    assert out["supported_brought_forward:x"] == 1
    assert out["supported_deadweight:x"] == 2
    assert out["supported_additional:x"] == 3
    # net change in firms meeting the indicator, spill-overs included
    assert out["additional_firms:x"] == 3 + 4 + 5


def test_a_lever_that_only_brings_adoption_forward_adds_no_firm_at_the_target_date():
    base = record([1, 1, 1, 0], [30, 28, 10, -1])
    run = record([1, 1, 1, 0], [9, 10, 10, -1], grant=[0, 1, 2, 3])
    out = compare(run, base, [T])
    assert out["additional_firms:x"] == 0
    assert out["supported_additional:x"] == 0
    assert out["supported_brought_forward:x"] == 2 and out["supported_deadweight:x"] == 1


def test_the_baseline_pairs_with_itself_and_nothing_pairs_without_it():
    base = record([1, 0], [3, -1])
    cols = paired_columns({"baseline": base, "s": record([1, 1], [3, 5], grant=[1])},
                          "baseline", [T])
    assert all(v == 0 for v in cols["baseline"].values())
    assert cols["s"]["supported_additional:x"] == 1
    assert paired_columns({"s": base}, "baseline", [T]) == {}


@pytest.fixture(scope="module")
def subsidy_pair():
    config = parse_config(tiny_mapping(), source="<test>")
    specs = {s.key: s for s in build_design(config)}
    targets = tuple(config.targets.values())
    return (config, run_one(specs[("subsidy", 0)], targets),
            run_one(specs[("baseline", 0)], targets))


def test_in_the_model_grants_split_into_the_three_kinds_and_no_more(subsidy_pair):
    config, (_, _, run), (_, _, base) = subsidy_pair
    assert run.support["grant"].any() and not base.support["grant"].any()
    for name in config.targets:
        out = compare(run, base, list(config.targets.values()))
        parts = sum(out[f"supported_{k}:{name}"]
                    for k in ("additional", "brought_forward", "deadweight"))
        assert parts <= out[f"supported_firms:{name}"] + 1e-6
        # the paired run is the same population: same firms, same weights
        np.testing.assert_array_equal(run.weight, base.weight)
