"""``sme-abm``: the command line.

For now one command, ``simulate``: a single run printing the yearly indicator
table (survey years: quarter 1). Batch experiments come with the experiments
module (see the README).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

TABLE_INDICATORS = (
    "dii_at_least_basic", "dii_very_low", "dii_low", "dii_high", "dii_very_high",
    "dii_v4_at_least_basic", "cloud", "data_analytics", "ai", "advanced_any",
    "security_5plus", "incident_past_year",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sme-abm",
        description="Agent-based model of digital adoption by Dutch SMEs (the mkb).",
    )
    sub = parser.add_subparsers(dest="command")
    sim = sub.add_parser("simulate", help="run one simulation and print the yearly indicators")
    sim.add_argument("--firms", type=int, default=20_000, help="simulated firms (default 20000)")
    sim.add_argument("--seed", type=int, default=2030, help="random seed (default 2030)")
    sim.add_argument("--end-year", type=int, default=2030, help="last year (default 2030)")
    sim.add_argument("--population", default="10-249", choices=["10-249", "2-249"],
                     help="firms in the model (default 10-249, the official SME frame)")
    sim.add_argument("--segment", default="10-249",
                     help="segment to print: all, 10-249, 10-49, 50-249, 2-9, sector:<name>, "
                          "region:<name> (default 10-249)")
    sim.add_argument("--csv", metavar="FILE", help="also write the full tidy frame to FILE")
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command == "simulate":
        from model import ModelInputError, simulate

        try:
            frame = simulate(n_firms=args.firms, seed=args.seed, end_year=args.end_year,
                             population=args.population)
        except ModelInputError as err:
            print(f"sme-abm: {err}", file=sys.stderr)
            return 2
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(f"Survey-year indicators (% of firms, segment {args.segment}, "
                  f"{args.firms} simulated firms, seed {args.seed}):")
            print(yearly_table(frame, args.segment).to_string())
        if args.csv:
            frame.to_csv(args.csv, index=False)
            print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
