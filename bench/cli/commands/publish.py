"""`archbench publish`: write the leaderboard page (tables, plots, provenance) from the stored run records."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.commands.common import invoked_command, parse_csv
from bench.results.schema import DEFAULT_ROOT
from bench.results.store import RecordStore

NAME = "publish"
HELP = "write results/LEADERBOARD.md (tables, plots, provenance) from the stored runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        help="page to write (default: LEADERBOARD.md next to the record directory, "
        "i.e. results/LEADERBOARD.md); plots go to plots/ beside it",
    )
    parser.add_argument("--task", help="comma-separated tasks to include (default: every task with records)")
    parser.add_argument("--format", default="github", help="tabulate table format: github, pipe, ... (default: github)")
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument(
        "--include-stale",
        action="store_true",
        help="count records made by another code or package version (default: left out)",
    )
    parser.add_argument("--no-plots", action="store_true", help="tables only (no matplotlib needed)")
    parser.add_argument("--plot-format", default="png", choices=["png", "svg"], help="plot file type (default: png)")


def default_out(results: str | Path) -> Path:
    """`results/runs` -> `results/LEADERBOARD.md`: a page about a scratch directory never overwrites the
    repository's leaderboard."""
    return Path(results).parent / "LEADERBOARD.md"


def main(args: argparse.Namespace) -> int:
    from bench.report.publish import publish

    tasks = parse_csv(args.task) if args.task else None
    out = Path(args.out) if args.out else default_out(args.results)
    path = publish(
        RecordStore(args.results),
        out,
        tasks,
        args.format,
        include_stale=args.include_stale,
        plots=not args.no_plots,
        plot_format=args.plot_format,
        command=invoked_command(),
    )
    print(f"wrote {path}" + ("" if args.no_plots else f" (plots in {path.parent / 'plots'}/)"))
    return 0
