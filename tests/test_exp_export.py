"""`sme-abm export`: results as CSV files or an Excel workbook with a README sheet."""

from __future__ import annotations

import pandas as pd
from exp_helpers import copy_results, run_cli


def test_csv_export_holds_the_stored_tables(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    code, _stdout, err = run_cli("export", str(root))
    assert code == 0, err
    out = root / "export"
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == len(pd.read_parquet(root / "outcomes.parquet"))
    assert {"summary.csv", "timeseries.csv", "README.csv"} <= {p.name for p in out.iterdir()}
    notes = pd.read_csv(out / "README.csv")
    assert "value:<target>" in set(notes["column"])


def test_xlsx_export_has_a_readme_sheet_and_one_sheet_per_table(ref, tmp_path):
    out = tmp_path / "xl"
    code, _stdout, err = run_cli("export", str(ref[1]), "--format", "xlsx", "--out", str(out))
    assert code == 0, err
    [book] = list(out.glob("*.xlsx"))
    sheets = pd.read_excel(book, sheet_name=None)
    assert next(iter(sheets)) == "README"
    assert {"outcomes", "summary", "timeseries"} <= set(sheets)
    assert len(sheets["outcomes"]) == len(pd.read_parquet(ref[1] / "outcomes.parquet"))


def test_export_of_a_directory_without_results_is_a_clear_error(tmp_path):
    code, _, err = run_cli("export", str(tmp_path), "--out", str(tmp_path / "x"))
    assert code == 2 and "holds no outcomes" in err
