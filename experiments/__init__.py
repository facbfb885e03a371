"""The experiment system around the model: configs, batch runs, analysis, the ``sme-abm`` CLI.

``experiments`` imports ``model``; the model never imports ``experiments``.
"""
