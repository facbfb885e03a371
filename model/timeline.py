"""The model's calendar.

One step is one quarter. A run starts in the first quarter of ``START_YEAR``: the
state that year's Eurostat survey (the first Digital Intensity Index reading of the
Dutch strategy) saw. The survey of year Y reads quarter 1 of Y.
"""

START_YEAR = 2021
MAX_YEAR = 2050
"""Latest year a run, a lever or a target may name."""
