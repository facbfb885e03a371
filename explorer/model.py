"""ExplorerModel: SMEEconomy from flat keyword arguments (what sliders can set).

The levers are built into the policy mapping of ``model.policy``; the behavioural
parameters come from the calibrated posterior (its central draw, or one joint draw
chosen by the seed), or the model defaults when there is no posterior file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from model import SMEEconomy
from model.technologies import ADVANCED, DECISIONS

POSTERIOR = Path("results/calibration/posterior.parquet")
"""Default posterior (relative to the working directory); ``SME_ABM_POSTERIOR`` overrides."""

SUBSIDY_COVERS = {
    "cloud, data analytics, AI": ADVANCED,
    "AI only": ("ai",),
    "basic items": ("basic",),
    "security measures": ("security",),
    "everything": DECISIONS,
}
"""What a subsidy may pay for (the page's choices; keys are what it shows)."""

EDIH_OFFERS = {
    "scan, test-before-invest, training": ("scan", "test_before_invest", "training"),
    "scan only": ("scan",),
    "test-before-invest only": ("test_before_invest",),
    "training only": ("training",),
}
"""Which EDIH services the hubs offer (the page's choices)."""


def posterior_path() -> Path:
    return Path(os.environ.get("SME_ABM_POSTERIOR", str(POSTERIOR)))


def behavioural_parameters(from_posterior: bool, seed: int,
                           path: str | Path | None = None) -> tuple[dict[str, float], str]:
    """Parameters for a run and a sentence saying where they came from.

    ``from_posterior``: one joint draw (weighted, chosen by ``seed``); otherwise the
    posterior's central draw (``experiments.adhoc.posterior_point``, as ``sme-abm
    simulate --posterior``). Without a posterior file: model defaults.
    """
    from experiments.adhoc import posterior_point
    from experiments.config import read_posterior

    path = Path(path) if path is not None else posterior_path()
    if not path.is_file():
        return {}, f"model defaults (no posterior at {path})"
    row = None
    if from_posterior:
        frame = read_posterior(path)
        weights = (frame["weight"].to_numpy(float) if "weight" in frame
                   else np.ones(len(frame)))
        row = int(np.random.default_rng(seed).choice(len(frame), p=weights / weights.sum()))
    return posterior_point(path, row)


def build_policy(subsidy_rate: float = 0.0, subsidy_cap_eur: float = 10_000.0,
                 subsidy_budget_eur: float = 50e6, edih_capacity: float = 1200.0,
                 campaign_reach: float = 0.0, obligation_min_measures: int = 0,
                 subsidy_covers: str = "cloud, data analytics, AI",
                 edih_services: str = "scan, test-before-invest, training",
                 ) -> dict[str, Any]:
    """The policy mapping of ``model.policy`` for flat lever values.

    A subsidy rate of 0, a campaign reach of 0 and a minimum of 0 measures switch the
    lever off (current policy); the EDIHs always run at ``edih_capacity``.
    """
    policy: dict[str, Any] = {"edih": {"capacity_per_year": float(edih_capacity),
                                       "services": list(EDIH_OFFERS[edih_services])}}
    if subsidy_rate > 0:
        policy["subsidy"] = {"rate": float(subsidy_rate), "cap_eur": float(subsidy_cap_eur),
                             "yearly_budget_eur": float(subsidy_budget_eur),
                             "technologies": list(SUBSIDY_COVERS[subsidy_covers])}
    if campaign_reach > 0:
        policy["cyber_campaign"] = {"reach_per_year": float(campaign_reach)}
    if obligation_min_measures > 0:
        policy["security_obligation"] = {"min_measures": int(obligation_min_measures)}
    return policy


class ExplorerModel(SMEEconomy):
    """SMEEconomy whose levers are flat keyword arguments (see ``build_policy``)."""

    def __init__(
        self,
        n_firms: int = 5000,
        seed: int = 1,
        subsidy_rate: float = 0.0,
        subsidy_cap_eur: float = 10_000.0,
        subsidy_budget_eur: float = 50e6,
        edih_capacity: float = 1200.0,
        campaign_reach: float = 0.0,
        obligation_min_measures: int = 0,
        subsidy_covers: str = "cloud, data analytics, AI",
        edih_services: str = "scan, test-before-invest, training",
        draw_from_posterior: bool = False,
        end_year: int = 2030,
    ) -> None:
        policy = build_policy(subsidy_rate, subsidy_cap_eur, subsidy_budget_eur,
                              edih_capacity, campaign_reach, obligation_min_measures,
                              subsidy_covers, edih_services)
        parameters, source = behavioural_parameters(bool(draw_from_posterior), int(seed))
        super().__init__(n_firms=int(n_firms), seed=int(seed), policy=policy,
                         parameters=parameters, end_year=int(end_year))
        self.policy_mapping = policy
        self.parameter_source = source
