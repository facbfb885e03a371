"""experiments/compare.py and `sme-abm compare`: two experiments side by side, paired
where they ran the same simulated worlds."""

from __future__ import annotations

import pytest
from exp_helpers import run_cli, tiny_mapping, write_config

from experiments.compare import compare, load_experiment
from experiments.config import load_config
from experiments.runner import run_experiment


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory):
    """The tiny experiment with another seed and a stricter basic target."""
    base = tmp_path_factory.mktemp("other")
    raw = tiny_mapping(seed=8)
    raw["targets"]["basic"]["threshold"] = 0.9
    cfg = write_config(base, raw)
    out = base / "results"
    run_experiment(load_config(cfg), out=out, workers=1, progress=False)
    return out


def test_an_experiment_against_itself_is_paired_and_unchanged(ref):
    a = load_experiment(ref[1])
    table, notes = compare(a, a)
    assert notes == []
    assert len(table) == 4 and table["paired"].all()
    assert (table["p_hit_diff"] == 0).all() and (table["value_diff"] == 0).all()
    assert (table["p_hit_diff_low"] <= 0).all() and (table["p_hit_diff_high"] >= 0).all()


def test_different_seeds_are_compared_unpaired_and_changed_targets_not_at_all(ref,
                                                                            other_seed):
    a, b = load_experiment(ref[1]), load_experiment(other_seed)
    table, notes = compare(a, b)
    assert set(table["target"]) == {"advanced"}  # basic's threshold differs
    assert any("'basic'" in n and "same definition" in n for n in notes)
    assert not table["paired"].any()
    for r in table.itertuples():
        assert r.p_hit_diff == pytest.approx(r.p_hit_b - r.p_hit_a)
        assert r.p_hit_diff_low <= r.p_hit_diff <= r.p_hit_diff_high
        assert r.value_diff == pytest.approx(r.value_b - r.value_a)


def test_compare_command_writes_table_report_and_figure(ref, other_seed, tmp_path):
    out = tmp_path / "cmp"
    code, stdout, err = run_cli("compare", str(ref[1]), str(other_seed), "--out", str(out))
    assert code == 0, err
    assert "advanced" in stdout and "note: target 'basic'" in stdout
    text = (out / "compare.md").read_text()
    assert "| subsidy | advanced |" in text and "Unpaired rows" in text
    for name in ("compare.csv", "compare.png", "compare.svg"):
        assert (out / name).stat().st_size > 100
    code, _, err = run_cli("compare", str(tmp_path / "nothing"), str(other_seed))
    assert code == 2 and "not a results directory" in err


def test_compare_widens_intervals_where_the_calibration_chains_disagree(tmp_path):
    """Two experiments on the same worlds, their runs drawn from a posterior of two
    chains: B gains nothing on chain 0's runs and half of chain 1's. The paired
    interval then carries the chains' disagreement, as an experiment's summary does."""
    import dataclasses

    import numpy as np
    import pandas as pd
    from exp_helpers import tiny_mapping

    from experiments.compare import Experiment
    from experiments.config import parse_config

    particles = np.linspace(-6.5, -5.0, 8)
    path = tmp_path / "posterior.parquet"
    pd.DataFrame({"cloud_intercept": particles, "chain": np.repeat([0, 1], 4),
                  "weight": 1 / 8}).to_parquet(path)
    config = parse_config(tiny_mapping(), source="<test>")
    runs = pd.DataFrame({"scenario": "baseline", "replication": range(16), "draw": range(16),
                         "seed": 3, "param:cloud_intercept": np.tile(particles, 2)})
    for target in ("basic", "advanced"):
        runs[f"value:{target}"] = 0.7
        runs[f"hit:{target}"] = False
    later = runs.copy()
    gain = (runs["param:cloud_intercept"] > -5.8) & (runs["replication"] % 2 == 0)
    later.loc[gain, ["value:advanced", "hit:advanced"]] = (0.8, True)
    tables = {}
    for name, posterior in (("no chains", None), ("chains", path)):
        cfg = dataclasses.replace(config, posterior=posterior)
        table, _ = compare(Experiment(tmp_path, cfg, runs), Experiment(tmp_path, cfg, later))
        tables[name] = table.set_index(["scenario", "target"]).loc[("baseline", "advanced")]
    plain, chains = tables["no chains"], tables["chains"]
    assert plain["paired"] and chains["p_hit_diff"] == plain["p_hit_diff"] == 0.25
    assert chains["p_hit_diff_low"] < plain["p_hit_diff_low"]
    assert chains["p_hit_diff_high"] > plain["p_hit_diff_high"]
    assert chains["value_diff_low"] < plain["value_diff_low"]


def test_compare_gives_the_change_allowing_for_each_experiments_forecast_error(tmp_path):
    """Where both experiments name a back-test, the change in P(hit) is also given with
    each run's chance of a hit under its experiment's forecast error: zero against
    itself, the paired mean of the chances' differences otherwise, with an interval over
    the error's own interval, and absent from the table (and the report) when a
    back-test is missing."""
    import dataclasses
    import json

    import numpy as np
    import pandas as pd

    from experiments import forecast_error as fe
    from experiments.compare import Experiment, render
    from experiments.config import parse_config

    for name, until in (("bt", 2022), ("cal", 2023)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"fit_until": until}))
    pd.DataFrame({"series": ["ai", "cloud"], "segment": "10-249", "kind": "share",
                  "year": 2023, "observed": [0.3, 0.6], "median": [0.2, 0.65],
                  "p05": [0.18, 0.63], "p95": [0.22, 0.67], "role": "held out"}
                 ).to_csv(tmp_path / "bt" / "fit.csv", index=False)
    config = dataclasses.replace(parse_config(tiny_mapping(), source="<test>"),
                                 posterior=tmp_path / "cal" / "posterior.parquet",
                                 forecast_error=tmp_path / "bt")
    runs = pd.DataFrame({"scenario": "baseline", "replication": range(8), "draw": range(8),
                         "seed": 3})
    runs["value:basic"], runs["hit:basic"] = 0.9, True
    runs["value:advanced"] = np.linspace(0.70, 0.84, 8)
    runs["hit:advanced"] = runs["value:advanced"] >= 0.77
    later = runs.assign(**{"value:advanced": runs["value:advanced"] + 0.02})
    later["hit:advanced"] = later["value:advanced"] >= 0.77
    a, b = Experiment(tmp_path, config, runs), Experiment(tmp_path, config, later)

    same = compare(a, a)[0].set_index(["scenario", "target"]).loc["baseline"]
    assert same.loc["advanced", "forecast_diff"] == 0.0
    assert np.isnan(same.loc["basic", "forecast_diff"])  # no basic share was held out
    table, _ = compare(a, b)
    row = table.set_index(["scenario", "target"]).loc[("baseline", "advanced")]
    sd = fe.load(tmp_path / "bt", tmp_path / "cal").sd("advanced_any", 2024)[0]
    expected = (fe.hit_probability(later["value:advanced"], 0.77, sd)
                - fe.hit_probability(runs["value:advanced"], 0.77, sd)).mean()
    assert row["paired"] and row["forecast_diff"] == pytest.approx(expected) and expected > 0
    assert row["forecast_diff_low"] <= row["forecast_diff"] <= row["forecast_diff_high"]
    assert row["p_hit_forecast_b"] - row["p_hit_forecast_a"] == pytest.approx(expected)
    # The interval also carries how loosely the back-test measured the error: it holds
    # the interval at each end of the error's 95% interval, as the reports' does.
    from experiments.analysis import mean_interval
    for s in fe.load(tmp_path / "bt", tmp_path / "cal").sd("advanced_any", 2024):
        diff = (fe.hit_probability(later["value:advanced"], 0.77, s)
                - fe.hit_probability(runs["value:advanced"], 0.77, s))
        _, lo, hi = mean_interval(diff, np.arange(8), None, (-1.0, 1.0))
        assert row["forecast_diff_low"] <= lo + 1e-12 and hi - 1e-12 <= row["forecast_diff_high"]
    assert "change with forecast error" in render(a, b, table, [], None)

    plain = dataclasses.replace(config, forecast_error=None)
    table, _ = compare(Experiment(tmp_path, plain, runs), b)
    assert table["forecast_diff"].isna().all()
    assert "change with forecast error" not in render(a, b, table, [], None)
