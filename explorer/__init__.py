"""A browser app (Solara, Mesa's SolaraViz) over the model and stored experiment results.

- ``explorer.model``: ``ExplorerModel``, SMEEconomy built from flat lever arguments;
- ``explorer.single_run``: one run, stepped in the browser (Mesa SolaraViz);
- ``explorer.results``: P(hit) and trajectories of a results directory;
- ``explorer.app``: both pages, for ``solara run explorer.app`` (``sme-abm app``).

Only ``explorer.model`` and the loaders in ``explorer.results`` work without the
``app`` extra; the pages need it (``pip install -e ".[app]"``).
"""
