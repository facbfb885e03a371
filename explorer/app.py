"""Both pages for ``solara run explorer.app`` (``sme-abm app``): one run at ``/``, stored
experiment results at ``/results``."""

from __future__ import annotations

import solara

from .results import ResultsPage
from .single_run import SingleRunPage

routes = [
    solara.Route(path="/", component=SingleRunPage, label="Single run"),
    solara.Route(path="results", component=ResultsPage, label="Experiment results"),
]


@solara.component
def Page() -> None:
    """Fallback when mounted without routes: both pages as tabs."""
    with solara.lab.Tabs():
        with solara.lab.Tab("Single run"):
            SingleRunPage()
        with solara.lab.Tab("Experiment results"):
            ResultsPage()
