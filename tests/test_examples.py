"""The example notebook runs from start to end on the committed results."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def test_the_results_notebook_runs(tmp_path):
    if not (REPO / "results" / "policy_comparison" / "outcomes.parquet").exists():
        pytest.skip("no committed policy_comparison results")
    notebook = tmp_path / "explore_results.ipynb"
    shutil.copy(REPO / "examples" / "explore_results.ipynb", notebook)
    nb = nbformat.read(notebook, as_version=4)
    # Run from a scratch copy of the repository root's view: results are read from REPO.
    (tmp_path / "results").symlink_to(REPO / "results")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert (tmp_path / "notebook_figures" / "ai_50.png").stat().st_size > 5_000
    outputs = "".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "runs:" in outputs and "wrote" in outputs
