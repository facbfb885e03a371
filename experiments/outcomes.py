"""The layout of an experiment's stored outcomes: what each run keeps besides its
target values (read by the runner that writes them and the report that reads them)."""

from __future__ import annotations

SERIES_SEGMENTS = ("all", "10-249", "2-9", "10-49", "50-249")
"""Segments whose survey-year series are stored for every run."""
OUTCOME_INDICATORS = ("dii_at_least_basic", "dii_very_high", "cloud", "data_analytics", "ai",
                      "advanced_any", "advanced_all", "security_5plus", "security_aware",
                      "incident_past_year", "incident_reported_share", "gigabit_available")
"""Indicators whose final-year values are stored per run, for these segments."""
SPEND = ("subsidy_spend_eur", "edih_spend_eur", "campaign_spend_eur")
COUNTS = ("subsidised_adoptions", "deadweight_adoptions", "edih_firms_served")
