"""The model's calendar.

One step is one quarter. A run starts in the first quarter of ``START_YEAR``: the
state that year's Eurostat survey (the first Digital Intensity Index reading of the
Dutch strategy) saw. The survey of year Y reads quarter 1 of Y.
"""

START_YEAR = 2021
MAX_YEAR = 2050
"""Latest year a run, a lever or a target may name."""


def quarter_index(year: int, quarter: int = 1) -> int:
    """Steps from the start (2021 Q1 = 0) to quarter ``quarter`` of ``year``."""
    return (year - START_YEAR) * 4 + quarter - 1
