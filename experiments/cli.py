"""``sme-abm``: the command line.

- ``sme-abm run CONFIG``: run an experiment (scenarios x replications) into results/<name>/.
- ``sme-abm validate CONFIG``: check an experiment, sensitivity or calibration file,
  reporting every problem at once.
- ``sme-abm report DIR``: rebuild summary, figures and report from stored results.
- ``sme-abm calibrate CONFIG``: ABC-SMC calibration, posterior for experiments.
- ``sme-abm sensitivity CONFIG``: Morris and Sobol indices (SALib).
- ``sme-abm discover DIR --target NAME``: scenario discovery (PRIM).
- ``sme-abm simulate``: one run, printing the yearly indicator table.
- ``sme-abm app``: the browser app (one run, stored results); needs the ``app`` extra.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

TABLE_INDICATORS = (
    "dii_at_least_basic", "dii_very_low", "dii_low", "dii_high", "dii_very_high",
    "dii_v4_at_least_basic", "cloud", "data_analytics", "ai", "advanced_any",
    "security_5plus", "incident_past_year",
)


EXAMPLES = {
    "simulate": (
        'sme-abm simulate --posterior results/calibration/posterior.parquet --plot run.png',
        'sme-abm simulate --firms 5000 --seed 1',
        'sme-abm simulate --population 2-249 --segment 2-9 --csv out/run.csv',
        'sme-abm simulate --policy my_scenario.toml --set cost_weight=0.8',
    ),
    "validate": (
        'sme-abm validate experiments/configs/policy_comparison.toml',
        'sme-abm validate experiments/configs/sensitivity.toml',
    ),
    "run": (
        'sme-abm run experiments/configs/policy_comparison.toml --overwrite',
        'sme-abm run my.toml --replications 40 --out results/try   # a quick look',
        'sme-abm run my.toml --resume --out results/try             # after Ctrl-C',
        'sme-abm run my.toml --executor dask --scheduler tcp://HOST:8786',
    ),
    "calibrate": (
        'sme-abm calibrate experiments/configs/calibration.toml',
        'sme-abm calibrate experiments/configs/calibration.toml --fit-until 2023 '
        '--out results/calibration_backtest',
        'sme-abm calibrate experiments/configs/calibration.toml --chain 1 --out cal_1'
        '     # one chain (a cluster job)',
        'sme-abm calibrate experiments/configs/calibration.toml --pool cal_0 cal_1 cal_2 cal_3',
        'sme-abm calibrate experiments/configs/calibration.toml --pool results/calibration '
        'cal_3 cal_4 --out more    # chains added to an earlier calibration',
    ),
    "sensitivity": (
        'sme-abm sensitivity experiments/configs/sensitivity.toml',
        'sme-abm sensitivity experiments/configs/sensitivity.toml --resume',
    ),
    "discover": (
        'sme-abm discover results/policy_comparison --target basic',
        'sme-abm discover results/policy_comparison --target advanced_each --interest hit',
    ),
    "compare": (
        'sme-abm compare results/baseline results/policy_comparison',
        'sme-abm compare results/run_a results/run_b --out results/a_vs_b',
    ),
    "export": (
        'sme-abm export results/policy_comparison                 # CSV files in DIR/export/',
        'sme-abm export results/policy_comparison --format xlsx --out ~/tables',
    ),
    "app": (
        'sme-abm app                                   # http://localhost:8765',
        'sme-abm app --results results/baseline --port 8800',
    ),
    "report": (
        'sme-abm report results/policy_comparison',
        'sme-abm report results/try --partial      # an interrupted run, marked INCOMPLETE',
    ),
}
"""Shown under each command's --help."""


def _command(sub: Any, name: str, summary: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="examples:\n" + "\n".join(f"  {e}" for e in EXAMPLES[name]))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sme-abm",
        description="Agent-based model of digital adoption by Dutch SMEs (the mkb).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command")
    sim = _command(sub, "simulate", "run one simulation and print the yearly indicators")
    sim.add_argument("--firms", type=int, default=20_000, help="simulated firms (default 20000)")
    sim.add_argument("--seed", type=int, default=2030, help="random seed (default 2030)")
    sim.add_argument("--end-year", type=int, default=2030, help="last year (default 2030)")
    sim.add_argument("--population", default="10-249", choices=["10-249", "2-249"],
                     help="firms in the model (default 10-249, the official SME frame)")
    sim.add_argument("--segment", default="10-249",
                     help="segment to print: all, 10-249, 10-49, 50-249, 2-9, sector:<name>, "
                          "region:<name> (default 10-249)")
    sim.add_argument("--csv", metavar="FILE", help="also write the full tidy frame to FILE")
    sim.add_argument("--policy", metavar="FILE",
                     help="a TOML file holding one scenario table, e.g. "
                          "'subsidy = { rate = 0.5, cap_eur = 10000 }' (default: current policy)")
    sim.add_argument("--set", metavar="NAME=VALUE", action="append", default=[],
                     help="set a parameter (repeatable; docs/ODD.md lists them)")
    sim.add_argument("--posterior", metavar="FILE",
                     help="take the calibrated parameters from a posterior sample, e.g. "
                          "results/calibration/posterior.parquet (its central draw: the joint "
                          "draw nearest every median)")
    sim.add_argument("--draw", type=int, metavar="N",
                     help="with --posterior: use joint draw N instead of the central draw")
    sim.add_argument("--plot", metavar="FILE",
                     help="also plot the target indicators against targets and observations")

    val = _command(sub, "validate", "check an experiment, sensitivity or calibration file")
    val.add_argument("config", help="experiment file (TOML)")

    run = _command(sub, "run", "run an experiment")
    run.add_argument("config", help="experiment file (TOML)")
    run.add_argument("--replications", type=_positive, help="override run.replications")
    run.add_argument("--workers", type=_positive,
                     help="worker processes (default: all cores)")
    run.add_argument("--executor", choices=["local", "dask"], default="local",
                     help="local processes (default) or Dask distributed")
    run.add_argument("--scheduler", metavar="ADDR",
                     help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                          "(default with --executor dask: a local cluster)")
    run.add_argument("--out", metavar="DIR", help="results directory (default results/<name>)")
    again = run.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                     help="run only the runs missing from DIR (after an interruption)")
    again.add_argument("--overwrite", action="store_true",
                     help="delete results already in DIR and start again")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    cal = _command(sub, "calibrate", "fit the calibrated parameters (ABC-SMC)")
    cal.add_argument("config", help="calibration file (TOML)")
    cal.add_argument("--fit-until", type=int, metavar="YEAR",
                     help="fit observations up to YEAR only and report the forecast error "
                          "for the later years (back-test)")
    cal.add_argument("--out", metavar="DIR", help="output directory (default results/<name>)")
    cal.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    cal.add_argument("--executor", choices=["local", "dask"], default=None,
                     help="local processes (default) or Dask distributed")
    cal.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address")
    part = cal.add_mutually_exclusive_group()
    part.add_argument("--chain", type=int, metavar="N",
                      help="run chain N of the file's chains only (seed + N), e.g. one "
                           "cluster job per chain")
    part.add_argument("--pool", nargs="+", metavar="DIR",
                      help="pool the outputs in DIR ... (one-chain jobs, or an earlier "
                           "calibration of the file with fewer chains) into the "
                           "calibration, without simulating")

    sen = _command(sub, "sensitivity", "Morris and Sobol sensitivity analysis (SALib)")
    sen.add_argument("config", help="sensitivity file (TOML)")
    sen.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    sen.add_argument("--executor", choices=["local", "dask"], default="local")
    sen.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address")
    sen.add_argument("--out", metavar="DIR", help="results directory (default results/<name>)")
    sen_again = sen.add_mutually_exclusive_group()
    sen_again.add_argument("--resume", action="store_true", help="run only the missing runs")
    sen_again.add_argument("--overwrite", action="store_true",
                           help="delete results in DIR first")
    sen.add_argument("--quiet", action="store_true", help="no progress bar")

    dis = _command(sub, "discover", "scenario discovery (PRIM) over stored runs")
    dis.add_argument("dir", help="results directory of an experiment or sensitivity analysis")
    dis.add_argument("--target", required=True, help="target name from the config")
    dis.add_argument("--interest", choices=["miss", "hit"], default="miss",
                     help="find where the target is missed (default) or hit")
    dis.add_argument("--threshold", type=float, default=0.8,
                     help="least density of the chosen box (default 0.8)")

    cmp_ = _command(sub, "compare", "compare two experiments scenario by scenario")
    cmp_.add_argument("dir_a", help="results directory A (the reference)")
    cmp_.add_argument("dir_b", help="results directory B (changes are B minus A)")
    cmp_.add_argument("--out", metavar="DIR",
                      help="where to write compare.csv, compare.md and the figure "
                           "(default results/compare_<A>_<B>)")

    exp = _command(sub, "export", "write outcomes, summary and time series as CSV or Excel")
    exp.add_argument("dir", help="results directory of an experiment")
    exp.add_argument("--format", choices=["csv", "xlsx"], default="csv",
                     help="CSV files (default) or one Excel workbook with a README sheet")
    exp.add_argument("--out", metavar="DIR", help="where to write (default DIR/export)")

    rep = _command(sub, "report", "rebuild summary, figures and report from results")
    rep.add_argument("dir", help="results directory of an experiment")
    rep.add_argument("--partial", action="store_true",
                     help="report an incomplete directory (marked INCOMPLETE) and exit 0")
    app = _command(sub, "app", "explore one run and stored results in the browser")
    app.add_argument("--results", metavar="DIR", default="results/policy_comparison",
                     help="results directory for the results page "
                          "(default results/policy_comparison)")
    app.add_argument("--port", type=_positive, default=8765, help="port (default 8765)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def yearly_table(frame: pd.DataFrame, segment: str) -> pd.DataFrame:
    """Survey-year values (quarter 1) of the headline indicators, in percent."""
    if segment not in set(frame["segment"].astype(str)):
        raise SystemExit(
            f"--segment: unknown segment {segment!r} (allowed: "
            f"{', '.join(frame['segment'].cat.categories)})"
        )
    sel = frame[(frame["segment"] == segment) & (frame["quarter"] == 1)
                & frame["indicator"].isin(TABLE_INDICATORS)]
    table = sel.pivot(index="year", columns="indicator", values="value")
    return (table[list(TABLE_INDICATORS)] * 100).round(1)


def output_problem(path: Path, what: str) -> str | None:
    """Why ``path`` cannot serve as an output directory (None if it can), checked before
    any simulation so a long run never fails at its first write."""
    if path.exists() and not path.is_dir():
        return f"{what}: {path} is a file, not a directory; choose a directory"
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{what}: {ancestor} is a file, so {path} cannot be created"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{what}: no permission to write in {ancestor}; choose another directory"
    return None


def file_problem(path: Path, what: str) -> str | None:
    """Why ``path`` cannot serve as an output file (None if it can)."""
    if path.is_dir():
        return f"{what}: {path} is a directory; give a file name"
    return output_problem(path.parent, what)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sme-abm")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def _app(args: argparse.Namespace) -> int:
    """``solara run explorer.app`` with SME_ABM_RESULTS set; solara is imported only here."""
    import importlib.util
    import subprocess

    if importlib.util.find_spec("solara") is None:
        print('sme-abm: the app needs the app extra: pip install -e ".[app]"', file=sys.stderr)
        return 2
    env = {**os.environ, "SME_ABM_RESULTS": str(args.results)}
    cmd = [sys.executable, "-m", "solara", "run", "explorer.app", "--port", str(args.port),
           "--host", "localhost"]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except OSError as err:
        # File-system faults met while writing (a read-only disk, a full one, a directory
        # removed under us): one line, no traceback. What was written stays.
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"sme-abm: cannot write{where}: {err.strerror or err}; results already "
              "stored are kept (continue with --resume where it applies)", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help(sys.stderr)
        print("sme-abm: a command is needed (validate, run, report, compare, export, "
              "simulate, calibrate, sensitivity, discover, app)", file=sys.stderr)
        return 2
    if args.command == "app":
        return _app(args)
    if args.command == "validate":
        return _validate(args.config)
    if args.command == "run":
        return _run(args)
    if args.command == "report":
        return _report(args.dir, args.partial)
    if args.command == "compare":
        return _compare(args)
    if args.command == "export":
        return _export(args)
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "sensitivity":
        return _sensitivity(args)
    if args.command == "discover":
        return _discover(args)
    if args.command == "simulate":
        from model import ModelInputError, simulate
        from model.datasets import SIZE_CLASSES
        from model.indicators import segment_names
        from model.population import POPULATIONS

        present = tuple(SIZE_CLASSES.index(c) for c in POPULATIONS[args.population])
        if args.segment not in segment_names(present):
            print(f"sme-abm: --segment: unknown segment {args.segment!r} for population "
                  f"{args.population} (allowed: {', '.join(segment_names(present))})",
                  file=sys.stderr)
            return 2
        for flag, name in (("--csv", args.csv), ("--plot", args.plot)):
            problem = file_problem(Path(name), flag) if name else None
            if problem:
                print(f"sme-abm: {problem}", file=sys.stderr)
                return 2
        from .adhoc import parse_sets, plot_run, posterior_point, read_policy
        from .config import ConfigError

        try:
            if args.draw is not None and not args.posterior:
                raise ConfigError("--draw", ["--draw needs --posterior FILE"])
            params, used = {}, "the defaults of docs/ODD.md (prior values, not calibrated)"
            if args.posterior:
                params, used = posterior_point(args.posterior, args.draw)
            sets = parse_sets(args.set)
            params.update(sets)
            policy = read_policy(args.policy) if args.policy else None
        except ConfigError as err:
            print(f"sme-abm: {err}", file=sys.stderr)
            return 2
        print(f"Parameters: {used}" + (f"; set: {', '.join(f'{k}={v:g}' for k, v in sets.items())}"
                                       if sets else "") + ".")
        print(f"Policy: {args.policy or 'current policy (EDIHs at their present capacity)'}.")
        if not args.posterior:
            print("  (for calibrated values: --posterior results/calibration/posterior.parquet)")
        try:
            frame = simulate(n_firms=args.firms, seed=args.seed, end_year=args.end_year,
                             population=args.population, parameters=params, policy=policy)
        except ModelInputError as err:
            # Name the option the user typed, not the API argument behind it.
            text = str(err)
            for api, flag in (("n_firms", "--firms"), ("end_year", "--end-year"),
                              ("seed", "--seed")):
                if text.startswith(f"{api}:"):
                    text = flag + text[len(api):]
            print(f"sme-abm: {text}", file=sys.stderr)
            return 2
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(f"Survey-year indicators (% of firms, segment {args.segment}, "
                  f"{args.firms} simulated firms, seed {args.seed}):")
            print(yearly_table(frame, args.segment).to_string())
        if args.csv:
            Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(args.csv, index=False)
            print(f"wrote {args.csv}")
        if args.plot:
            seg = args.segment if args.segment in ("10-249", "10-49", "50-249") else "10-249"
            plot_run(frame, seg, args.plot,
                     f"One run: {args.firms:,} firms, seed {args.seed}, firms {seg}; {used}")
            print(f"wrote {args.plot}")
    return 0


def _validate(path: str) -> int:
    from .config import ConfigError, load_config, read_toml
    from .sensitivity import load_sensitivity_config

    try:
        raw = read_toml(Path(path))
        if isinstance(raw.get("sensitivity"), dict):
            sens = load_sensitivity_config(path)
            print(f"{path}: valid sensitivity analysis. {len(sens.factors)} factors, "
                  f"methods {', '.join(sens.methods)}, {sens.samples} samples.")
            return 0
        if isinstance(raw.get("priors"), dict):  # what only a calibration file has
            from .calibration import load_calibration_config

            cal = load_calibration_config(path)
            print(f"{path}: valid calibration. {len(cal.priors)} calibrated parameters, "
                  f"{cal.chains} chain(s) of {cal.population_size} particles, "
                  f"{cal.firms} firms, fitted up to {cal.fit_until}.")
            return 0
        config = load_config(path)
    except ConfigError as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    from .config import config_warnings
    from .runner import estimated_seconds

    for warning in config_warnings(config):
        print(f"sme-abm: warning: {warning}", file=sys.stderr)
    workers = os.cpu_count() or 1
    minutes = estimated_seconds(config) / workers / 60
    print(f"{path}: valid. {len(config.scenarios)} scenarios x {config.run.replications} "
          f"replications = {config.n_runs} runs of {config.run.firms} firms; targets: "
          f"{', '.join(config.targets)}. Estimated run time on {workers} worker(s): about "
          f"{minutes:.1f} minutes.")
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import ConfigError, config_warnings, load_config
    from .report import headline
    from .runner import run_experiment
    from .store import StoreError

    # SIGTERM (a scheduler's time limit, `kill`) stops like Ctrl-C: batches already
    # finished stay stored and --resume continues.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        config = load_config(args.config)
        problem = output_problem(Path(args.out or Path("results") / config.name), "--out")
        if problem:
            print(f"sme-abm: {problem}", file=sys.stderr)
            return 2
        for warning in config_warnings(config):
            print(f"sme-abm: warning: {warning}", file=sys.stderr)
        result = run_experiment(config, out=args.out, workers=args.workers,
                                executor=args.executor, scheduler=args.scheduler,
                                resume=args.resume, overwrite=args.overwrite,
                                replications=args.replications, progress=not args.quiet)
    except (ConfigError, StoreError, ValueError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 1
    if result.interrupted:
        again = [f"sme-abm run {args.config} --resume"]
        if args.out:
            again.append(f"--out {args.out}")
        if args.replications:
            again.append(f"--replications {args.replications}")
        print(f"\nInterrupted. {result.ran} runs of this session are saved in {result.out}; "
              f"continue with: {' '.join(again)}", file=sys.stderr)
        return 130
    for warning in result.warnings:
        print(f"sme-abm: warning: numerical: {warning}", file=sys.stderr)
    print(f"{result.ran} runs in {result.seconds:.0f} s ({result.skipped} already done); "
          f"results in {result.out}/")
    if result.summary is not None and len(result.summary):
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(headline(result.summary).to_string(index=False))
    if result.failures:
        print(f"\n{len(result.failures)} run(s) failed:", file=sys.stderr)
        for f in result.failures[:20]:
            print(f"  {f['scenario']} replication {f['replication']}: {f['error']}",
                  file=sys.stderr)
        print(f"Details in {result.out}/failures/; rerun them with --resume.", file=sys.stderr)
        return 1
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from model import ModelInputError

    from .calibration import (
        calibrate,
        load_calibration_config,
        pool_calibrations,
        survey_shares,
    )
    from .config import ConfigError

    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop, keeping finished generations
    sampler = "dask" if args.executor == "dask" or args.scheduler else (
        "multicore" if args.executor == "local" else None)
    try:
        config = load_calibration_config(args.config)
        problem = output_problem(Path(args.out or Path("results") / config.name), "--out")
        if problem:
            print(f"sme-abm: {problem}", file=sys.stderr)
            return 2
        if args.pool:
            result = pool_calibrations(config, args.pool, out=args.out,
                                       fit_until=args.fit_until)
        else:
            result = calibrate(config, out=args.out, fit_until=args.fit_until,
                               sampler=sampler, workers=args.workers,
                               scheduler=args.scheduler, chain=args.chain)
    except (ConfigError, ModelInputError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200):
        print(result.summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"{result.simulations} simulations in {result.seconds / 60:.1f} min; "
          f"results in {result.out}/")
    if not result.reached_target:
        print("sme-abm: warning: not every chain reached the target tolerance (a safety "
              "stop came first): the posterior is wider than the data leave; see "
              f"{result.out}/report.md", file=sys.stderr)
    # Survey shares only: the size gradient's errors are in log-odds, not points.
    held = survey_shares(result.forecast, held_out=True)
    if len(held):
        print(f"back-test: mean absolute error on {len(held)} held-out survey shares "
              f"{held['error_pp'].abs().mean():.2f} pp; {int(held['inside_90'].sum())} inside "
              "the 90% band")
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .sensitivity import load_sensitivity_config, run_sensitivity
    from .store import StoreError

    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        config = load_sensitivity_config(args.config)
        problem = output_problem(Path(args.out or Path("results") / config.name), "--out")
        if problem:
            print(f"sme-abm: {problem}", file=sys.stderr)
            return 2
        result, indices = run_sensitivity(
            config, out=args.out, workers=args.workers, executor=args.executor,
            scheduler=args.scheduler, resume=args.resume, overwrite=args.overwrite,
            progress=not args.quiet)
    except (ConfigError, StoreError, ValueError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 1
    if result.interrupted:
        print(f"Interrupted; continue with: sme-abm sensitivity {args.config} --resume",
              file=sys.stderr)
        return 130
    if result.failures:
        for f in result.failures[:20]:
            print(f"  {f['scenario']} replication {f['replication']}: {f['error']}",
                  file=sys.stderr)
        print(f"{len(result.failures)} run(s) failed; rerun them with --resume.",
              file=sys.stderr)
        return 1
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"results in {result.out}/ (sensitivity.csv, figures/, report.md)")
    return 0


def _discover(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .discovery import discover_dir
    from .store import StoreError

    try:
        d, paths = discover_dir(args.dir, args.target, args.interest, args.threshold)
    except (ConfigError, StoreError, ValueError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    print(f"{d.n_cases} of {d.n_runs} runs {args.interest} {args.target}; box {d.chosen}: "
          f"coverage {d.coverage:.2f}, density {d.density:.2f}, mass {d.mass:.2f}")
    print(d.limits[d.limits["restricted"]].to_string(index=False))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _export(args: argparse.Namespace) -> int:
    from .export import export
    from .store import StoreError

    out = Path(args.out) if args.out else Path(args.dir) / "export"
    problem = output_problem(out, "--out")
    if problem:
        print(f"sme-abm: {problem}", file=sys.stderr)
        return 2
    try:
        written = export(args.dir, out, args.format)
    except StoreError as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare, figure, load_experiment, render
    from .config import ConfigError
    from .store import StoreError, atomic_write_text

    try:
        a, b = load_experiment(args.dir_a), load_experiment(args.dir_b)
    except (ConfigError, StoreError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("results") / f"compare_{a.name}_{b.name}"
    problem = output_problem(out, "--out")
    if problem:
        print(f"sme-abm: {problem}", file=sys.stderr)
        return 2
    table, notes = compare(a, b)
    if table.empty:
        print("sme-abm: nothing to compare: no scenario and target in both experiments "
              "with the same definition", file=sys.stderr)
        for n in notes:
            print(f"  {n}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "compare.csv", index=False)
    fig = figure(table, out / "compare.png", a.name, b.name)
    text = render(a, b, table, notes, fig)
    atomic_write_text(out / "compare.md", text)
    shown = table.assign(**{c: (100 * table[c]).round(1) for c in table.columns
                            if c.startswith(("p_hit", "value"))})
    print(shown[["scenario", "target", "paired", "p_hit_a", "p_hit_b", "p_hit_diff",
                 "p_hit_diff_low", "p_hit_diff_high", "value_diff"]].to_string(index=False))
    for n in notes:
        print(f"note: {n}")
    print(f"wrote {out}/compare.csv, compare.md and compare.png (percent / percentage points)")
    return 0


def _report(directory: str, partial: bool = False) -> int:
    from .config import ConfigError
    from .report import build, headline
    from .store import ResultStore, StoreError

    store = ResultStore(directory)
    problem = (f"{directory} is not a results directory (no manifest.json)"
               if not store.manifest_path.exists() else output_problem(Path(directory), "DIR"))
    if problem:
        print(f"sme-abm: {problem}", file=sys.stderr)
        return 2
    try:
        config = store.stored_config()
        summary = build(store, config)
    except (ConfigError, StoreError) as err:
        print(f"sme-abm: {err}", file=sys.stderr)
        return 2
    print(headline(summary).to_string(index=False))
    print(f"rebuilt {directory}/summary.csv, report.md and figures/")
    done, total = len(store.outcomes()), config.n_runs
    if done < total:
        print(f"sme-abm: INCOMPLETE: {done} of {total} runs; the report says so. Complete "
              f"them with: sme-abm run {directory}/config.toml --resume --out {directory}",
              file=sys.stderr)
        return 0 if partial else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
