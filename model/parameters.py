"""Every behavioural and structural parameter of the model, with its unit, default,
range and source.

This table is the single source of truth: docs/ODD.md shows it (a test keeps the
two in step), experiments sample within the ranges, and calibration fits the
entries marked ``calibrated``. Logit coefficients act on the quarterly log-odds
of a decision.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import check_table


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    default: float
    low: float
    high: float
    unit: str
    group: str
    description: str
    source: str
    calibrated: bool = False
    integer: bool = False
    role: str = "history"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"{self.name}: role must be one of {ROLES}")


ROLES = ("history", "lever", "measurement")
"""What a parameter shapes. ``history``: the simulated 2021-2025 path that the
surveys observed (calibrated, or fixed at its default by assumption: experiments
draw these only from a calibration's posterior). ``lever``: what a policy lever
does to a firm; acts only when a lever is in force, after the observed period, so
experiments give it its own distribution from evaluation evidence.
``measurement``: how a survey reads the simulated firms where a definition changes;
it never changes the simulation."""

ASSUMPTION = "stated assumption"
_SECTOR_NOTE = (
    "stated assumption: ordering of sectors in Eurostat's DII by NACE section "
    "(ICT highest, hospitality and construction lowest)"
)

_SPECS: tuple[ParameterSpec, ...] = (
    # --- adoption: intercepts of the TOE logit --------------------------------------
    ParameterSpec("basic_intercept", -3.5, -6.0, 2.0, "log-odds/quarter", "adoption",
                  "Intercept for taking the next basic item on the firm's ladder",
                  "calibrated to Eurostat DII 2021-2025", calibrated=True),
    ParameterSpec("cloud_intercept", -6.1, -8.0, 1.0, "log-odds/quarter", "adoption",
                  "Intercept for adopting sophisticated/intermediate cloud services (its "
                  "complexity included)",
                  "calibrated to Eurostat E_CC1_SI and E_CC 2021-2025", calibrated=True),
    ParameterSpec("data_analytics_intercept", -6.0, -8.0, 1.0, "log-odds/quarter", "adoption",
                  "Intercept for adopting data analytics (its complexity included)",
                  "calibrated to Eurostat E_DA 2023-2025", calibrated=True),
    ParameterSpec("ai_intercept", -4.7, -9.0, 0.0, "log-odds/quarter", "adoption",
                  "Intercept for adopting AI (its complexity included)",
                  "calibrated to Eurostat E_AI_TANY 2021-2025",
                  calibrated=True),
    ParameterSpec("security_intercept", -4.6, -7.0, 1.0, "log-odds/quarter", "cyber",
                  "Intercept for adding one security measure (security-aware firms)",
                  "calibrated to Eurostat E_SECMGE5 2022 and 2024 by size class",
                  calibrated=True),
    # --- adoption: firm characteristics ----------------------------------------------
    ParameterSpec("size_effect_2_9", -0.5, -3.0, 1.0, "log-odds", "adoption",
                  "Shift for firms of 2-9 persons relative to 10-49",
                  "stated assumption (no survey of 2-9 firms; CBS 2018 shows them lagging)"),
    ParameterSpec("size_effect_50_249", 0.21, -1.0, 2.0, "log-odds", "adoption",
                  "Shift for firms of 50-249 persons relative to 10-49",
                  "calibrated to the DII gap between size classes and the EU size gradient of "
                  "advanced technologies", calibrated=True),
    ParameterSpec("innovativeness_effect", 0.4, 0.0, 2.0, "log-odds per s.d.", "adoption",
                  "Effect of the firm's innovativeness trait", ASSUMPTION),
    ParameterSpec("benefit_weight", 1.0, 0.0, 3.0, "log-odds per unit", "adoption",
                  "Weight of perceived benefit x capability", ASSUMPTION),
    ParameterSpec("cost_weight", 0.99, 0.0, 3.0, "log-odds per EUR 10k/slack", "adoption",
                  "Weight of net cost (after subsidy) relative to financial slack",
                  "calibrated (identified through the size gradient: medium firms pay "
                  "cost_scale_50_249 times as much from more slack)", calibrated=True),
    ParameterSpec("peer_weight", 1.6, 0.0, 4.0, "log-odds per share", "adoption",
                  "Effect of the share of tied firms that have adopted",
                  "calibrated", calibrated=True),
    ParameterSpec("edih_weight", 0.4, 0.0, 2.0, "log-odds", "policy",
                  "Effect of having been served by an EDIH on every decision",
                  "docs/EVIDENCE.md: triangular(0, 0.3, 1.0) in policy_comparison; weak "
                  "evidence (no causal EDIH estimate)", role="lever"),
    ParameterSpec("complexity_weight", 1.0, 0.0, 3.0, "log-odds per unit", "policy",
                  "Weight of an advanced technology's complexity; acts through the share "
                  "that EDIH test-before-invest removes (without support the complexity is "
                  "part of the calibrated intercept)",
                  "stated assumption: scales the test-before-invest effect (docs/EVIDENCE.md)",
                  role="lever"),
    ParameterSpec("ladder_complexity_weight", 2.0, 0.0, 6.0, "log-odds per unit", "adoption",
                  "Weight of a basic item's complexity: how much harder the later items of "
                  "the basic ladder are (sets how fast firms move between the DII bands)",
                  "calibrated to the DII bands", calibrated=True),
    ParameterSpec("ladder_skill_size_effect", 0.43, 0.0, 2.0, "log per size class",
                  "adoption",
                  "How much less the complexity of the later basic items weighs for each "
                  "size class up (ICT skills rise with size): the ladder's complexity term "
                  "is multiplied by exp(-this x (size class - 10-49))",
                  "calibrated to the DII bands by size class; Eurostat (isoc_ske_itspen2, "
                  "2020): ICT specialists in 14% of small, 42% of medium, 76% of large EU "
                  "enterprises", calibrated=True),
    ParameterSpec("test_before_invest_effect", 0.5, 0.0, 1.0, "share", "policy",
                  "Share of complexity removed by an EDIH test-before-invest service",
                  "docs/EVIDENCE.md: triangular(0, 0.3, 0.7); no quantitative evidence",
                  role="lever"),
    ParameterSpec("training_capability_gain", 0.2, 0.0, 1.0, "capability units", "policy",
                  "Capability added by EDIH training (capability has median 1)",
                  "docs/EVIDENCE.md: triangular(0.05, 0.2, 0.5); cyber-training "
                  "meta-analysis (Pruemmer et al. 2025)", role="lever"),
    ParameterSpec("ai_cloud_complementarity", 0.8, 0.0, 3.0, "log-odds", "adoption",
                  "Extra log-odds of AI for firms that use cloud",
                  "stated assumption: most AI users also use cloud (Eurostat)"),
    ParameterSpec("gigabit_effect", 0.3, 0.0, 2.0, "log-odds", "adoption",
                  "Extra log-odds of cloud where gigabit is available", ASSUMPTION),
    # --- environment -----------------------------------------------------------------
    # Benefit trends rise along a logistic curve in time and saturate: the benefit
    # multiplier is 1 in 2021 and tends to 1 + gain (environment.benefit_trend).
    ParameterSpec("basic_benefit_gain", 1.1, 0.0, 3.0, "x 2021 benefit", "environment",
                  "Eventual rise of the benefit of basic items (saturating)",
                  "calibrated to the DII v3/v4 series", calibrated=True),
    ParameterSpec("cloud_benefit_gain", 0.82, 0.0, 3.0, "x 2021 benefit", "environment",
                  "Eventual rise of the benefit of cloud (saturating)",
                  "calibrated to E_CC1_SI/E_CC 2021-2025", calibrated=True),
    ParameterSpec("data_analytics_benefit_gain", 1.2, 0.0, 3.0, "x 2021 benefit",
                  "environment", "Eventual rise of the benefit of data analytics (saturating)",
                  "calibrated to E_DA 2023-2025", calibrated=True),
    ParameterSpec("ai_benefit_gain", 4.4, 0.0, 8.0, "x 2021 benefit", "environment",
                  "Eventual rise of the benefit of AI (saturating; generative AI from 2023)",
                  "calibrated to E_AI_TANY 2021-2025", calibrated=True),
    ParameterSpec("security_benefit_gain", 0.0, 0.0, 3.0, "x 2021 benefit", "environment",
                  "Eventual rise of the perceived benefit of security measures "
                  "(threat growth acts separately)", ASSUMPTION),
    ParameterSpec("benefit_midyear", 2023.6, 2015.0, 2032.0, "year", "environment",
                  "Year by which basic items, cloud and data analytics have gained half "
                  "of their eventual benefit rise", "calibrated", calibrated=True),
    ParameterSpec("ai_benefit_midyear", 2023.2, 2021.0, 2032.0, "year", "environment",
                  "Year by which AI has gained half of its eventual benefit rise",
                  "calibrated to the AI take-off after 2023", calibrated=True),
    ParameterSpec("ai_benefit_width", 2.0, 0.2, 4.0, "years", "environment",
                  "Scale of AI's logistic benefit curve: its rise goes from 27% to 73% of "
                  "its course within this many years either side of the mid-year (small: "
                  "an abrupt take-off)",
                  "calibrated to E_AI_TANY 2021-2025 (flat to 2023, then 13% to 32% in "
                  "two years); basic items, cloud and data analytics keep 1.5 "
                  "(environment.BENEFIT_TREND_WIDTH, stated assumption)", calibrated=True),
    ParameterSpec("cost_decline", 0.05, 0.0, 0.2, "per year", "environment",
                  "Yearly fall in the real cost of digital technology", ASSUMPTION),
    ParameterSpec("threat_growth", -0.075, -0.3, 0.3, "per year", "environment",
                  "Yearly growth of the cyber threat level (of incidents at equal exposure "
                  "and protection; negative: fewer)",
                  "calibrated to Eurostat E_SEC2IANY 2022 and 2024 (incidents fell: NL "
                  "10+ 30.1% to 25.8%, while measures spread)", calibrated=True),
    # --- awareness -------------------------------------------------------------------
    ParameterSpec("awareness_base_rate", 0.087, 0.0, 0.3, "per quarter", "awareness",
                  "Hazard of becoming aware of an advanced technology through media",
                  "calibrated", calibrated=True),
    ParameterSpec("awareness_peer_rate", 0.35, 0.0, 1.0, "per quarter per share", "awareness",
                  "Extra hazard of awareness per share of tied firms that use it",
                  "calibrated", calibrated=True),
    ParameterSpec("security_awareness_rate", 0.03, 0.0, 0.3, "per quarter", "cyber",
                  "Hazard of becoming aware of cyber risk without an incident or campaign",
                  "stated assumption: small firms neglect cyber risk (progress report 2023)"),
    # --- discontinuance --------------------------------------------------------------
    ParameterSpec("remote_meetings_drop", 0.51, 0.0, 0.8, "share of 2022 holders",
                  "adoption",
                  "Share of the firms holding remote meetings in 2022 that stop by 2024 (an "
                  "activity the survey asks about for the past year; pandemic habits fall "
                  "away evenly over 2022 Q2-2024 Q1, none after)",
                  "calibrated to DII v4 2022-2024; remote meetings 2024: 46% of "
                  "Slovenian, 59% of Cypriot firms (SURS, CYSTAT), 47% of Italian SMEs "
                  "(Istat); Dutch telework 84% (2022) -> 80% (2023) (CBS 83249NED)",
                  calibrated=True),
    ParameterSpec("discontinuance_rate", 0.005, 0.0, 0.05, "per quarter", "adoption",
                  "Hazard that a user of cloud, data analytics or AI stops (cancelled "
                  "subscriptions)", ASSUMPTION),
    # --- cyber -----------------------------------------------------------------------
    ParameterSpec("incident_rate", 0.27, 0.02, 0.6, "per year", "cyber",
                  "Yearly probability of an ICT security incident at median exposure "
                  "and protection in 2021",
                  "calibrated to Eurostat E_SEC2IANY 2022 and 2024 by size class "
                  "(incidents of 2021 and 2023); CBS 84410NED (2018: 29-30% of 2-249 "
                  "firms had an incident)", calibrated=True),
    ParameterSpec("exposure_effect", 1.0, 0.0, 3.0, "log-hazard per unit", "cyber",
                  "Rise in incident log-hazard per unit digital exposure (DII items / 12)",
                  ASSUMPTION),
    ParameterSpec("protection_effect", 1.5, 0.0, 4.0, "log-hazard per unit", "cyber",
                  "Fall in incident log-hazard per unit protection (measures / 11)", ASSUMPTION),
    ParameterSpec("incident_size_effect", 0.41, 0.0, 1.5, "elasticity", "cyber",
                  "Elasticity of the incident hazard with the number of persons employed "
                  "(more people and systems to attack, and more incidents noticed), at "
                  "equal exposure and protection",
                  "calibrated to Eurostat E_SEC2IANY 2022 and 2024, 10-49 and 50-249 "
                  "(2-9, never fitted, is a held-out check)", calibrated=True),
    ParameterSpec("security_lapse_rate", 0.028, 0.0, 0.2, "per quarter", "cyber",
                  "Hazard that a firm loses one of its security measures (a policy not "
                  "renewed, backups no longer made); an obligation's minimum is kept",
                  "calibrated to Eurostat E_SECMGE5 2022-2024 (weakly: the surveys see "
                  "the net rise, adding less lapsing); CBS Cybersecuritymonitor 2023: "
                  "firms taking half or more of the measures fell from 52% (2021) to 47% "
                  "(2022)", calibrated=True),
    ParameterSpec("security_awareness_lapse", 0.1, 0.0, 0.5, "per quarter", "cyber",
                  "Hazard that a firm with fewer than 5 measures stops attending to cyber "
                  "risk (awareness fades unless security is part of how the firm works)",
                  "stated assumption (progress report 2023: small firms neglect cyber risk)"),
    ParameterSpec("reporting_warning_rate", 0.3, 0.0, 2.0, "per quarter per share", "cyber",
                  "Extra hazard of cyber awareness per share of tied firms that reported an "
                  "incident in the past year (what reporting does for others)",
                  ASSUMPTION),
    ParameterSpec("incident_response_weight", 1.5, 0.0, 4.0, "log-odds", "cyber",
                  "Extra log-odds of adding a measure just after an incident", ASSUMPTION),
    ParameterSpec("incident_memory_halflife", 4.0, 1.0, 20.0, "quarters", "cyber",
                  "Half-life of the effect of an incident on adding measures", ASSUMPTION),
    ParameterSpec("reporting_intercept", -3.0, -5.0, 3.0, "log-odds", "cyber",
                  "Log-odds that a firm reports an incident to the police or another "
                  "authority (few small firms report)",
                  "set so that about 6% (2-9) and 9% (10+) of firms with an incident report "
                  "it (CBS Cybersecuritymonitor 2018); cybercrime against entrepreneurs: 14% "
                  "reported to the police (NSCR/Erasmus University 2020)"),
    ParameterSpec("reporting_protection_effect", 1.5, 0.0, 4.0, "log-odds per unit", "cyber",
                  "Rise in reporting log-odds per unit protection (measures / 11)", ASSUMPTION),
    ParameterSpec("campaign_measure_effect", 0.5, 0.0, 2.0, "log-odds", "policy",
                  "Extra log-odds of adding a measure for firms reached by a campaign, "
                  "while it runs", "docs/EVIDENCE.md: triangular(0, 0.2, 0.65); the "
                  "evaluated Dutch campaign changed no behaviour", role="lever"),
    ParameterSpec("campaign_reporting_effect", 0.7, 0.0, 3.0, "log-odds", "policy",
                  "Extra log-odds of reporting for firms reached by a campaign",
                  "docs/EVIDENCE.md: triangular(0, 0.3, 1.0); no evaluation found",
                  role="lever"),
    ParameterSpec("obligation_effect", 2.0, 0.0, 5.0, "log-odds", "policy",
                  "Extra log-odds of adding a measure for firms under a security obligation "
                  "that are below its minimum", "docs/EVIDENCE.md: triangular(0.5, 2.0, "
                  "3.0); NIS1 compliance rates (ENISA 2021)", role="lever"),
    # --- costs (for the logit and for subsidy accounting) ---------------------------
    ParameterSpec("cost_basic_eur", 3_000.0, 0.0, 50_000.0, "EUR", "costs",
                  "Cost of one basic item for a firm of 10-49 persons", ASSUMPTION),
    ParameterSpec("cost_cloud_eur", 8_000.0, 0.0, 100_000.0, "EUR", "costs",
                  "Cost of adopting cloud services (first year) for a firm of 10-49", ASSUMPTION),
    ParameterSpec("cost_data_analytics_eur", 15_000.0, 0.0, 200_000.0, "EUR", "costs",
                  "Cost of adopting data analytics for a firm of 10-49", ASSUMPTION),
    ParameterSpec("cost_ai_eur", 25_000.0, 0.0, 300_000.0, "EUR", "costs",
                  "Cost of adopting AI for a firm of 10-49", ASSUMPTION),
    ParameterSpec("cost_security_eur", 2_000.0, 0.0, 50_000.0, "EUR", "costs",
                  "Cost of one security measure for a firm of 10-49", ASSUMPTION),
    ParameterSpec("cost_scale_2_9", 0.4, 0.1, 1.0, "x cost of 10-49", "costs",
                  "Cost multiplier for firms of 2-9 persons", ASSUMPTION),
    ParameterSpec("cost_scale_50_249", 2.1, 1.0, 10.0, "x cost of 10-49", "costs",
                  "Cost multiplier for firms of 50-249 persons",
                  "calibrated (with cost_weight) to the size gradient", calibrated=True),
    ParameterSpec("slack_size_effect", 0.67, 0.0, 2.0, "log slack", "costs",
                  "Financial slack of firms of 50-249 persons over 10-49 (log ratio; 2-9 "
                  "firms lie as far below 10-49)",
                  "calibrated (with the cost parameters) to the size gradient",
                  calibrated=True),
    # --- 2021 starting levels (true shares of 10-249 firms; the survey reads them
    # through the measurement model) ---------------------------------------------------
    ParameterSpec("initial_cloud", 0.6, 0.3, 0.85, "share of 10-249 firms", "population",
                  "Firms using sophisticated or intermediate cloud in early 2021",
                  "calibrated; Eurostat E_CC1_SI 2021: 59.45%", calibrated=True),
    ParameterSpec("initial_data_analytics", 0.5, 0.15, 0.7, "share of 10-249 firms",
                  "population", "Firms performing data analytics in early 2021",
                  "calibrated; unobserved in 2021 (E_DA from 2023: 49.43%)", calibrated=True),
    ParameterSpec("initial_ai", 0.11, 0.03, 0.3, "share of 10-249 firms", "population",
                  "Firms using at least one AI technology in early 2021",
                  "calibrated; Eurostat E_AI_TANY 2021: 12.10%", calibrated=True),
    ParameterSpec("initial_data_analytics_loading", 0.47, 0.0, 1.0, "score per DII item",
                  "population",
                  "How closely the 2021 users of data analytics follow the firms' 2021 DII "
                  "item count: the count's weight in the noisy score (noise sd 1) that "
                  "picks them (0: unrelated to it; cloud and AI: 0.45, assumption)",
                  "calibrated to the 2023 DII, whose swap of IoT for data analytics lifts "
                  "the firms near 4 items that analyse data", calibrated=True),
    ParameterSpec("initial_security_5plus", 0.68, 0.4, 0.95, "share of 10-249 firms",
                  "population",
                  "Firms with at least 5 of the 11 security measures in early 2021",
                  "calibrated to Eurostat E_SECMGE5 2022 and 2024 (10-249: 71.0%, 75.5%)",
                  calibrated=True),
    ParameterSpec("security_size_gradient", 0.59, 0.0, 2.0, "sd per size class",
                  "population",
                  "Rise of the latent 2021 security score per size class (2-9, 10-49, "
                  "50-249), in standard deviations of its noise",
                  "calibrated to Eurostat E_SECMGE5 2022 and 2024, 10-49 and 50-249 (2-9, "
                  "never fitted, is a held-out check)", calibrated=True),
    # --- population and network -----------------------------------------------------
    ParameterSpec("trait_digital_correlation", 0.15, 0.0, 0.9, "correlation", "population",
                  "Correlation of capability and innovativeness with the initial digital level",
                  "calibrated to the DII bands (how fast each band moves up)", calibrated=True),
    ParameterSpec("network_local_degree", 4.0, 0.0, 20.0, "ties per firm", "network",
                  "Ties drawn per firm to firms of its own sector and region", ASSUMPTION,
                  integer=True),
    ParameterSpec("network_supply_degree", 2.0, 0.0, 20.0, "ties per firm", "network",
                  "Ties drawn per firm along supply chains (other sectors, any region)",
                  ASSUMPTION, integer=True),
    # --- measurement: how the surveys read the simulated firms -------------------------
    ParameterSpec("survey_cloud_any_offset", 0.16, -1.0, 2.0, "log-odds", "measurement",
                  "Log-odds of buying any cloud service (E_CC) over buying "
                  "sophisticated or intermediate cloud (E_CC1_SI, the model's cloud)",
                  "calibrated; both series observed 2021-2025", calibrated=True,
                  role="measurement"),
    ParameterSpec("survey_ai_2025_offset", 0.089, -1.5, 1.5, "log-odds", "measurement",
                  "Shift of the 2025 AI reading (Eurostat flags a break in series for NL)",
                  "calibrated; Eurostat break flag b on E_AI_TANY NL 2025", calibrated=True,
                  role="measurement"),
    ParameterSpec("survey_dii_v4_offset_10_49", 0.044, -1.5, 1.5, "log-odds", "measurement",
                  "Shift of the DII v4 at-least-basic reading for 10-49 firms against the "
                  "model's v4 item mapping", "calibrated to E_DI4_GELO 2022, 2024",
                  calibrated=True, role="measurement"),
    ParameterSpec("survey_dii_v4_offset_50_249", 0.47, -1.5, 1.5, "log-odds", "measurement",
                  "Shift of the DII v4 at-least-basic reading for 50-249 firms against the "
                  "model's v4 item mapping", "calibrated to E_DI4_GELO 2022, 2024",
                  calibrated=True, role="measurement"),
)

SECTOR_EFFECT_DEFAULTS = {
    "manufacturing": 0.0,
    "energy_water": 0.2,
    "construction": -0.4,
    "trade": 0.0,
    "transport": -0.3,
    "hospitality": -0.5,
    "information_communication": 1.0,
    "business_services": 0.3,
}
_SPECS += tuple(
    ParameterSpec(f"sector_effect_{s}", v, -2.0, 2.0, "log-odds", "adoption",
                  f"Shift for the sector {s.replace('_', ' ')} relative to manufacturing",
                  _SECTOR_NOTE)
    for s, v in SECTOR_EFFECT_DEFAULTS.items()
)

PARAMETERS: dict[str, ParameterSpec] = {s.name: s for s in _SPECS}
CALIBRATED: tuple[str, ...] = tuple(s.name for s in _SPECS if s.calibrated)
HISTORY: tuple[str, ...] = tuple(s.name for s in _SPECS if s.role != "lever")
"""Parameters that shape (or read) the observed 2021-2025 record: an experiment takes
them only from a calibration's posterior (or leaves them at their defaults)."""
LEVER_RESPONSE: tuple[str, ...] = tuple(s.name for s in _SPECS if s.role == "lever")


PARAMETER_RULES = {name: ("integer" if spec.integer else "number", spec.low, spec.high)
                   for name, spec in PARAMETERS.items()}
"""Each parameter's validation rule (model.errors.check_field), from the table above."""


class Parameters(Mapping[str, float]):
    """An immutable, validated set of parameter values (defaults plus overrides)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != PARAMETERS[k].default}
        return f"Parameters({changed!r})"

    def __reduce__(self):  # picklable for process pools
        return (Parameters, (self._values,))


def resolve_parameters(overrides: Mapping[str, Any] | None = None) -> Parameters:
    """Defaults overlaid with ``overrides``, each checked against its range.

    Raises ModelInputError naming the parameter and its allowed range, or the
    allowed names for an unknown one.
    """
    overrides = {} if overrides is None else overrides
    values = {name: spec.default for name, spec in PARAMETERS.items()}
    values.update(check_table(overrides, PARAMETER_RULES, "parameters"))
    return Parameters(values)


def parameter_table() -> pd.DataFrame:
    """All parameters as a table (what docs/ODD.md shows)."""
    return pd.DataFrame(
        [
            {
                "name": s.name,
                "group": s.group,
                "default": s.default,
                "low": s.low,
                "high": s.high,
                "unit": s.unit,
                "calibrated": s.calibrated,
                "role": s.role,
                "description": s.description,
                "source": s.source,
            }
            for s in _SPECS
        ]
    )
