"""Additionality at the target date, firm by firm.

Every scenario of a replication runs with the same seed and parameter draw as the
baseline (common random numbers), so simulated firm i is the same firm in both runs.
Each firm a scenario supports (a grant, or an EDIH service or campaign contact the
baseline did not give it) is compared with itself in the paired baseline, on the
target's own indicator (for the strict advanced target: using all three
technologies):

- **additional**: meets the indicator at the target date only with support;
- **brought forward**: meets it in both runs, earlier with support;
- **deadweight**: meets it in both runs, no earlier with support;
- **not reached**: meets it in neither (or only in the baseline).

Counts are real firms (simulated firms times their weights) in the target's
population. ``additional_firms`` is the net change in firms meeting the indicator at
the target date, spill-overs to unsupported firms included: the denominator of the
cost per additional firm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model import SMEEconomy
from model.datasets import SIZE_CLASSES, segment_size_classes

from .config import Target

SUPPORT = ("grant", "edih", "campaign")
"""What counts as support; EDIH and campaign contact count only where the baseline
did not give it (current hubs serve some firms in every scenario)."""

COLUMNS = ("additional_firms", "supported_firms", "supported_additional",
           "supported_brought_forward", "supported_deadweight")
"""Per-run outcome columns, each suffixed ``:<target>``."""


@dataclass
class FirmRecord:
    """What the comparison needs of one run, per simulated firm."""

    weight: np.ndarray
    support: dict[str, np.ndarray]  # SUPPORT -> bool
    holds: dict[str, np.ndarray]  # target -> meets its indicator at the target date
    first: dict[str, np.ndarray]  # target -> quarter index first met (-1: not by then)
    member: dict[str, np.ndarray]  # target -> in the target's population


class Tracker:
    """Follows, quarter by quarter, when each firm first meets each target's indicator."""

    def __init__(self, model: SMEEconomy, targets: Sequence[Target]) -> None:
        self.targets = tuple(targets)
        n = model.n_firms
        self.first = {t.name: np.full(n, -1, dtype=np.int32) for t in self.targets}
        self.holds: dict[str, np.ndarray] = {}
        self.member = {t.name: _members(model.firms.size_class, t.segment)
                       for t in self.targets}
        self.update(model)

    def update(self, model: SMEEconomy) -> None:
        """Call after every step (and once at the start)."""
        cols = model.firm_columns()
        for t in self.targets:
            if t.name in self.holds:  # past its date
                continue
            held = np.logical_and.reduce([np.asarray(cols[i], dtype=bool)
                                          for i in t.indicators])
            first = self.first[t.name]
            first[held & (first < 0)] = model.quarter_index
            if model.year == t.year and model.quarter == 1:
                self.holds[t.name] = held.copy()

    def record(self, model: SMEEconomy) -> FirmRecord:
        f = model.firms
        return FirmRecord(
            weight=f.weight.copy(),
            support={"grant": f.subsidy_eur > 0, "edih": f.edih_served.copy(),
                     "campaign": f.campaign_reached.copy()},
            holds=self.holds, first=self.first, member=self.member)


def _members(size: np.ndarray, segment: str) -> np.ndarray:
    return np.isin(size, [SIZE_CLASSES.index(s) for s in segment_size_classes(segment)])


def compare(run: FirmRecord, baseline: FirmRecord, targets: Sequence[Target]
            ) -> dict[str, float]:
    """The COLUMNS of one scenario run against its paired baseline run."""
    supported = run.support["grant"].copy()
    for kind in ("edih", "campaign"):
        supported |= run.support[kind] & ~baseline.support[kind]
    w = run.weight
    out: dict[str, float] = {}
    for t in targets:
        name = t.name
        if name not in run.holds or name not in baseline.holds:
            continue
        m = run.member[name]
        s, b = run.holds[name], baseline.holds[name]
        sup = supported & m
        both = sup & s & b
        earlier = both & (run.first[name] < baseline.first[name])
        out[f"additional_firms:{name}"] = float(w[m] @ (s[m].astype(float) - b[m]))
        out[f"supported_firms:{name}"] = float(w[sup].sum())
        out[f"supported_additional:{name}"] = float(w[sup & s & ~b].sum())
        out[f"supported_brought_forward:{name}"] = float(w[earlier].sum())
        out[f"supported_deadweight:{name}"] = float(w[both & ~earlier].sum())
    return out


def zero(targets: Sequence[Target]) -> dict[str, float]:
    """The columns of the baseline against itself."""
    return {f"{c}:{t.name}": 0.0 for t in targets for c in COLUMNS}


def paired_columns(records: Mapping[str, FirmRecord], baseline: str,
                   targets: Sequence[Target]) -> dict[str, dict[str, float]]:
    """Columns for each scenario of one replication (empty without its baseline)."""
    base = records.get(baseline)
    if base is None:
        return {}
    return {scenario: (zero(targets) if scenario == baseline
                       else compare(rec, base, targets))
            for scenario, rec in records.items()}
