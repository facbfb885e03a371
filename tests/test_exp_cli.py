"""experiments/cli.py: ``sme-abm validate | run | report``: exit codes and messages.

Exit codes: 0 success, 1 some runs failed, 2 a bad config, directory or option.
Most commands run in-process (``run_cli``); a few run as real subprocesses to see
what a user sees (no traceback).
"""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from exp_helpers import (
    cli_command,
    copy_results,
    outcomes_of,
    run_cli,
    tiny_mapping,
    write_config,
)

from experiments import runner


def three_mistakes(directory):
    raw = tiny_mapping(firms=10)
    raw["targets"]["basic"]["indicator"] = "dii_at_least_basik"
    raw["scenarios"]["subsidy"]["subsidy"]["rate"] = 1.5
    return write_config(directory, raw, "three.toml")


# ------------------------------------------------------------------ validate
def test_validate_a_good_file(tmp_path):
    cfg = write_config(tmp_path)
    code, out, err = run_cli("validate", str(cfg))
    assert code == 0 and err == ""
    assert out.startswith(f"{cfg}: valid. 2 scenarios x 4 replications = 8 runs of 500 "
                          "firms; targets: basic, advanced. Estimated run time on ")
    assert out.strip().endswith("minutes.")


def test_validate_reports_every_mistake_and_exits_2(tmp_path):
    cfg = three_mistakes(tmp_path)
    code, out, err = run_cli("validate", str(cfg))
    assert code == 2 and out == ""
    assert err.startswith(f"sme-abm: {cfg}: 3 problem(s):\n")
    assert "  - run.firms: 10 is out of range (allowed: 500 to 5000000)" in err
    assert ("  - targets.basic.indicator: unknown target indicator 'dii_at_least_basik'; did "
            "you mean 'dii_at_least_basic'?") in err
    assert "  - scenarios.subsidy.subsidy.rate: 1.5 is out of range" in err


def test_validate_typo_and_missing_posterior(tmp_path):
    raw = tiny_mapping()
    raw["run"]["replicatons"] = raw["run"].pop("replications")
    raw["uncertainties"] = {"posterior": "missing.parquet"}
    code, _, err = run_cli("validate", str(write_config(tmp_path, raw)))
    assert code == 2
    assert "run.replicatons: unknown key; did you mean 'replications'?" in err
    assert "uncertainties.posterior: file not found" in err


def test_validate_refuses_drawing_a_calibrated_parameter_on_its_own(tmp_path):
    raw = tiny_mapping(exploratory=False)
    code, out, err = run_cli("validate", str(write_config(tmp_path, raw)))
    assert code == 2 and out == ""
    assert "uncertainties.basic_intercept: shapes the observed 2021-2025 history" in err
    assert "uncertainties.peer_weight: shapes the observed 2021-2025 history" in err
    raw["run"]["exploratory"] = True
    code, out, err = run_cli("validate", str(write_config(tmp_path, raw)))
    assert code == 0, err


def test_validate_missing_file(tmp_path):
    code, _, err = run_cli("validate", str(tmp_path / "nope.toml"))
    assert code == 2 and "file not found" in err


@pytest.mark.parametrize("case", ["not_toml", "three_mistakes"])
def test_validate_as_a_command_exits_2_without_a_traceback(tmp_path, case):
    if case == "not_toml":
        cfg = tmp_path / "bad.toml"
        cfg.write_text("name = 'x'\n[run\nfirms = 500\n")
    else:
        cfg = three_mistakes(tmp_path)
    res = subprocess.run(cli_command("validate", str(cfg)), capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith(f"sme-abm: {cfg}: ")
    assert "Traceback" not in res.stderr
    if case == "not_toml":
        assert "not valid TOML" in res.stderr
    else:
        assert "3 problem(s)" in res.stderr and "run.firms" in res.stderr


# ------------------------------------------------------------------ run
def test_a_failed_run_makes_the_command_exit_1_naming_it(ref, tmp_path, monkeypatch):
    cfg, ref_root = ref
    real = runner.run_one

    def flaky(spec, targets):
        if spec.key == ("subsidy", 1):
            raise RuntimeError("injected failure")
        return real(spec, targets)

    monkeypatch.setattr(runner, "run_one", flaky)
    out = tmp_path / "res"
    args = ("run", str(cfg), "--out", str(out), "--workers", "1", "--quiet")
    code, stdout, err = run_cli(*args)
    assert code == 1
    assert "7 runs in" in stdout and "(0 already done)" in stdout
    assert "1 run(s) failed:" in err
    assert "subsidy replication 1: RuntimeError: injected failure" in err
    assert "--resume" in err and "failures/" in err
    assert "Traceback" not in err

    monkeypatch.undo()
    code, stdout, err = run_cli(*args, "--resume")
    assert code == 0, err
    assert "1 runs in" in stdout and "(7 already done)" in stdout and err == ""
    pd.testing.assert_frame_equal(outcomes_of(out), outcomes_of(ref_root))


def test_run_into_results_of_another_config_exits_2(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    other = write_config(tmp_path, seed=99)
    for extra in ((), ("--resume",)):
        code, out, err = run_cli("run", str(other), "--out", str(root), "--workers", "1",
                                 "--quiet", *extra)
        assert code == 2 and out == ""
        assert err.startswith(f"sme-abm: {root} holds results of a different configuration")
        assert "--overwrite" in err
    pd.testing.assert_frame_equal(outcomes_of(root), outcomes_of(ref[1]))


def test_rerun_without_resume_exits_2_suggesting_resume(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    code, _, err = run_cli("run", str(ref[0]), "--out", str(root), "--quiet")
    assert code == 2
    assert "already holds runs of this configuration. Pass --resume" in err


def test_resume_of_a_complete_run_and_overwrite(ref, tmp_path):
    root = copy_results(ref[1], tmp_path / "res")
    code, out, err = run_cli("run", str(ref[0]), "--out", str(root), "--workers", "1",
                             "--quiet", "--resume")
    assert code == 0, err
    assert out.startswith("0 runs in") and "(8 already done)" in out
    code, out, err = run_cli("run", str(ref[0]), "--out", str(root), "--workers", "1",
                             "--quiet", "--overwrite")
    assert code == 0, err
    assert out.startswith("8 runs in") and "(0 already done)" in out
    pd.testing.assert_frame_equal(outcomes_of(root), outcomes_of(ref[1]))
    for scenario in ("baseline", "subsidy"):
        assert scenario in out  # the headline table


def test_default_results_directory_is_results_slash_name(tmp_path, monkeypatch):
    cfg = write_config(tmp_path, replications=2)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("run", str(cfg), "--workers", "1", "--quiet")
    assert code == 0, err
    assert "results in results/tiny/" in out
    assert (tmp_path / "results" / "tiny" / "outcomes.parquet").is_file()


def test_bad_options_exit_2(ref, tmp_path):
    code, _, err = run_cli("run", str(ref[0]), "--out", str(tmp_path / "a"),
                           "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and "--scheduler needs --executor dask" in err
    for option in ("--workers", "--replications"):
        code, _, err = run_cli("run", str(ref[0]), option, "0")
        assert code == 2 and "must be at least 1" in err
    code, _, err = run_cli("run", str(ref[0]), "--executor", "ray")
    assert code == 2 and "invalid choice" in err
    code, _, err = run_cli("run", str(tmp_path / "missing.toml"))
    assert code == 2 and "file not found" in err


def test_report_of_a_directory_without_results_exits_2(tmp_path):
    code, _, err = run_cli("report", str(tmp_path))
    assert code == 2 and err.startswith("sme-abm: ") and "not a results directory" in err
    write_config(tmp_path, filename="config.toml")
    (tmp_path / "manifest.json").write_text("{}")
    code, _, err = run_cli("report", str(tmp_path))
    assert code == 2 and "holds no outcomes" in err


def test_replications_not_a_multiple_of_seeds_per_draw_exits_2(ref, tmp_path):
    code, _, err = run_cli("run", str(ref[0]), "--out", str(tmp_path / "res"), "--quiet",
                           "--workers", "1", "--replications", "5")
    assert code == 2 and "seeds_per_draw" in err


@pytest.mark.parametrize("name", ["policy_comparison", "baseline", "smoke", "sensitivity",
                                  "calibration"])
def test_shipped_configs_validate(name):
    """The shipped experiment, sensitivity and calibration files are valid against the
    committed posterior (which must hold every calibrated parameter)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / "configs" / f"{name}.toml"
    code, out, err = run_cli("validate", str(path))
    assert code == 0, err
    assert "valid" in out


def test_validate_checks_a_calibration_file_as_one(tmp_path):
    """A calibration file is recognised by its priors and checked against the
    calibration's own rules, not refused for keys an experiment file lacks."""
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "experiments" / "configs"
    code, out, _ = run_cli("validate", str(shipped / "calibration.toml"))
    assert code == 0 and "valid calibration" in out and "37 calibrated parameters" in out
    bad = tmp_path / "calibration.toml"
    bad.write_text('name = "c"\n[priors]\npeer_weight = { low = 2.0, high = 1.0 }\n'
                   "[abc]\nchains = 0\n", encoding="utf-8")
    code, _, err = run_cli("validate", str(bad))
    assert code == 2 and "abc.chains" in err and "priors.peer_weight" in err


def test_no_command_exits_2_with_help_and_version_is_printed():
    code, out, err = run_cli()
    assert code == 2 and out == ""
    assert "a command is needed" in err and "validate" in err and "report" in err
    code, out, _ = run_cli("--version")
    assert code == 0 and out.startswith("sme-abm ")


def test_resume_and_overwrite_exclude_each_other(tmp_path):
    cfg = write_config(tmp_path)
    code, _, err = run_cli("run", str(cfg), "--resume", "--overwrite")
    assert code == 2 and "not allowed with argument --resume" in err


# ------------------------------------------------------------------ faults, no traceback
def test_out_that_is_a_file_or_under_a_file_fails_before_any_run(tmp_path):
    cfg = write_config(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        code, _, err = run_cli("run", str(cfg), "--out", str(out))
        assert code == 2 and err.startswith("sme-abm: --out:") and "Traceback" not in err


def test_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    from experiments import executors

    monkeypatch.setattr(executors, "SCHEDULER_TIMEOUT_S", 1)
    cfg = write_config(tmp_path)
    code, _, err = run_cli("run", str(cfg), "--out", str(tmp_path / "o"), "--executor",
                           "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 1 and "cannot reach a Dask scheduler" in err


def test_corrupt_part_names_the_file_and_the_fix(ref, tmp_path):
    from exp_helpers import copy_results

    root = copy_results(ref[1], tmp_path / "res")
    part = sorted((root / "parts").glob("outcomes-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:40])  # truncated
    code, _, err = run_cli("report", str(root))
    assert code == 2 and str(part) in err and "--resume" in err
    assert "Traceback" not in err


def test_a_write_failure_is_one_line(tmp_path, monkeypatch):
    """A file-system error while writing (here: simulated read-only disk) ends in one
    sme-abm line and a non-zero exit, never a traceback."""
    import pandas as pd

    def read_only(*_a, **_k):
        raise OSError(30, "Read-only file system", str(tmp_path / "x.csv"))

    monkeypatch.setattr(pd.DataFrame, "to_csv", read_only)
    code, _, err = run_cli("simulate", "--firms", "500", "--end-year", "2021", "--csv",
                           str(tmp_path / "x.csv"))
    assert code == 1 and err.startswith("sme-abm: cannot write") and "Read-only" in err


def test_overlong_experiment_name_is_refused_by_validate(tmp_path):
    raw = tiny_mapping(name="x" * 300)
    code, _, err = run_cli("validate", str(write_config(tmp_path, raw)))
    assert code == 2 and "name: expected a name of" in err and "100 characters" in err


def test_argument_mistakes_are_caught_before_any_simulation(tmp_path, monkeypatch):
    import model

    calls = []
    monkeypatch.setattr(model, "simulate", lambda *a, **k: calls.append(1))
    code, _, err = run_cli("simulate", "--segment", "bogus")
    assert code == 2 and err.startswith("sme-abm: --segment: unknown segment 'bogus'")
    assert calls == []
    code, _, err = run_cli("validate", str(tmp_path))
    assert code == 2 and "is a directory; give the path of a TOML file" in err
    raw = tiny_mapping()
    del raw["name"]
    del raw["targets"]["basic"]["indicator"]
    code, _, err = run_cli("validate", str(write_config(tmp_path, raw)))
    assert "name: required" in err and "targets.basic.indicator: required" in err
    assert "None" not in err


def test_discover_blames_the_option_not_the_file(ref):
    code, _, err = run_cli("discover", str(ref[1]), "--target", "nope")
    assert code == 2 and err.startswith("sme-abm: --target: no target 'nope'")


@pytest.mark.parametrize("command", ["simulate", "validate", "run", "calibrate", "sensitivity",
                                     "discover", "report"])
def test_every_command_help_shows_examples(command):
    code, out, _ = run_cli(command, "--help")
    assert code == 0 and "examples:" in out and f"sme-abm {command}" in out


def test_numpy_warnings_become_one_line_each_and_reach_the_manifest(tmp_path):
    import json

    raw = tiny_mapping(replications=2)
    raw["scenarios"]["subsidy"]["subsidy"]["cap_eur"] = 1e300  # overflows float32 sums
    cfg = write_config(tmp_path, raw)
    with _no_warnings():  # none escapes to the terminal
        code, _, err = run_cli("run", str(cfg), "--out", str(tmp_path / "o"), "--workers",
                                 "1", "--quiet")
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if "numerical" in ln]
    assert lines and all(ln.startswith("sme-abm: warning: numerical: RuntimeWarning")
                         for ln in lines)
    assert len(lines) == len(set(lines))
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["runtime_warnings"] and "cap_eur" in " ".join(manifest["warnings"])


def _no_warnings():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def guard():
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            yield
        assert not [w for w in seen if issubclass(w.category, RuntimeWarning)], seen

    return guard()


def test_ctrl_c_then_the_printed_command_completes_the_run(tmp_path, monkeypatch):
    """Interrupted with --replications and --out, the command printed runs as printed
    and completes exactly the missing runs."""
    import shlex

    from exp_helpers import interrupt_at

    from experiments import runner

    cfg = write_config(tmp_path, batch_size=1)
    monkeypatch.setattr(runner, "run_one", interrupt_at(("baseline", 1)))
    out = tmp_path / "res"
    code, _, err = run_cli("run", str(cfg), "--replications", "2", "--out", str(out),
                           "--workers", "1", "--quiet")
    assert code == 130
    printed = err.split("continue with: ", 1)[1].strip()
    assert "--resume" in printed and "--replications 2" in printed
    monkeypatch.undo()
    argv = shlex.split(printed)
    assert argv[0] == "sme-abm"
    code, out_text, err = run_cli(*argv[1:], "--workers", "1", "--quiet")
    assert code == 0, err
    assert "2 runs in" in out_text and "(2 already done)" in out_text


@pytest.mark.parametrize("command", ["run", "resume", "report"])
def test_unwritable_results_end_in_one_line_even_for_root(ref, tmp_path, monkeypatch,
                                                          command):
    """Writes that fail however permissions look (read-only disk, root or not): one
    sme-abm line, exit 1, nothing stored lost."""
    from exp_helpers import copy_results

    from experiments import store

    root = copy_results(ref[1], tmp_path / "res")
    before = sorted(p.name for p in (root / "parts").iterdir())

    def read_only(path, *_a, **_k):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(store, "atomic_write_text", read_only)
    monkeypatch.setattr(store, "atomic_write_bytes", read_only)
    if command == "report":
        monkeypatch.setattr("experiments.report.atomic_write_text", read_only)
        args = ("report", str(root))
    else:
        out = root if command == "resume" else tmp_path / "new"
        args = ("run", str(ref[0]), "--out", str(out), "--workers", "1", "--quiet",
                *(("--resume",) if command == "resume" else ()))
    code, _, err = run_cli(*args)
    assert code == 1 and err.startswith("sme-abm: cannot write") and "Read-only" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in (root / "parts").iterdir()) == before


def test_simulate_names_the_option_in_its_errors():
    code, _, err = run_cli("simulate", "--firms", "10")
    assert code == 2 and err.startswith("sme-abm: --firms: 10 is out of range")
    code, _, err = run_cli("simulate", "--end-year", "1990")
    assert code == 2 and err.startswith("sme-abm: --end-year: 1990 is out of range")


# ------------------------------------------------------------------ ad-hoc simulate
def test_simulate_with_a_policy_file_set_parameters_a_posterior_and_a_plot(tmp_path):
    import pandas as pd

    policy = tmp_path / "scenario.toml"
    policy.write_text('subsidy = { rate = 0.5, cap_eur = 10000, technologies = ["ai"] }\n')
    posterior = tmp_path / "post.parquet"
    pd.DataFrame({"cost_weight": [0.5, 0.9, 1.3], "weight": [0.2, 0.5, 0.3]}).to_parquet(
        posterior)
    plot = tmp_path / "run.png"
    code, out, err = run_cli("simulate", "--firms", "600", "--end-year", "2023",
                             "--policy", str(policy), "--posterior", str(posterior),
                             "--set", "peer_weight=1.5", "--plot", str(plot))
    assert code == 0, err
    assert "posterior central draw" in out and "peer_weight=1.5" in out
    assert str(policy) in out and plot.stat().st_size > 10_000
    code, out, err = run_cli("simulate", "--firms", "600", "--end-year", "2022",
                             "--posterior", str(posterior), "--draw", "2")
    assert code == 0 and "posterior draw 2 of 3 (weight 0.9 times the average)" in out


@pytest.mark.parametrize(("args", "message"), [
    (("--set", "peer_wieght=1"), "did you mean 'peer_weight'"),
    (("--set", "peer_weight"), "expected name=value"),
    (("--set", "peer_weight=9"), "parameters.peer_weight: 9.0 is out of range (allowed: 0"),
    (("--draw", "1"), "--draw needs --posterior"),
])
def test_simulate_refuses_bad_ad_hoc_input_naming_it(args, message):
    code, _, err = run_cli("simulate", "--firms", "600", "--end-year", "2022", *args)
    assert code == 2 and message in err, err


def test_simulate_refuses_a_bad_policy_file_naming_the_field(tmp_path):
    policy = tmp_path / "bad.toml"
    policy.write_text("subsidy = { rate = 1.5 }\n")
    code, _, err = run_cli("simulate", "--policy", str(policy))
    assert code == 2 and "policy.subsidy.rate: 1.5 is out of range" in err


def test_app_without_solara_says_which_extra(monkeypatch, capsys):
    import importlib.util

    from experiments import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "solara" else real(name, *a))
    assert cli.main(["app"]) == 2
    assert capsys.readouterr().err.strip() == (
        'sme-abm: the app needs the app extra: pip install -e ".[app]"')


def test_app_runs_solara_with_the_results_directory(monkeypatch):
    import importlib.util

    from experiments import cli

    seen = {}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(subprocess, "call",
                        lambda cmd, env: seen.update(cmd=cmd, env=env) or 0)
    assert cli.main(["app", "--results", "results/x", "--port", "8800"]) == 0
    assert seen["cmd"][1:] == ["-m", "solara", "run", "explorer.app", "--port", "8800",
                               "--host", "localhost"]
    assert seen["env"]["SME_ABM_RESULTS"] == "results/x"
