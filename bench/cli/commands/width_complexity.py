"""`archbench width-complexity`: smallest width (or any integer setting) at which each architecture reaches
the task's solved_at (median over seeds), with the bracket it was found in and the parameter count there."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.cli.commands.common import add_threads_argument, invoked_command, use_threads, warn_presetless
from bench.cli.commands.run import add_plan_arguments, plan_from_args
from bench.contract.errors import require
from bench.results.store import RecordStore
from bench.run.profiles import get_profile

NAME = "width-complexity"
HELP = "find the smallest width at which architectures solve a task"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    parser.add_argument(
        "--axis",
        help="the integer setting searched, arch.NAME or task.NAME (default: the family's width parameter, "
        "e.g. arch.hidden for fcn; sts_attention's width is task.code_dim)",
    )
    parser.add_argument("--w-min", type=int, default=4, help="first width of the doubling search (default: 4)")
    parser.add_argument("--w-max", type=int, default=1024, help="largest width tried (default: 1024)")
    parser.add_argument(
        "--ratio",
        type=float,
        default=1.25,
        help="bisect until first passing / last failing width <= this (default: 1.25)",
    )
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
    add_threads_argument(parser)


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from bench.run.bracket import configurations
    from bench.run.execute import execute_with_progress
    from bench.run.sample_complexity import result_store
    from bench.run.width_complexity import SUBDIR, make_result, measure, parse_axis

    require(
        args.ratio > 1,
        f"--ratio must be > 1 (the bisection stops when first passing / last failing width <= it); got {args.ratio}",
    )
    require(
        1 <= args.w_min <= args.w_max,
        f"--w-min must be >= 1 and <= --w-max; got --w-min {args.w_min}, --w-max {args.w_max}",
    )
    profile = get_profile(args.profile)
    runs = plan_from_args(args, {})
    axes = {run.arch: parse_axis(args.axis, run.arch) for run in runs}  # a bad --axis fails before training
    use_threads(args.threads)
    warn_presetless(runs)
    store = RecordStore(args.results)
    searches = result_store(args.results, SUBDIR)
    command = invoked_command()
    results: list[dict[str, Any]] = []
    for config in configurations(runs):
        axis = axes[config[0].arch]
        print(
            f"{config[0].label}: searching {axis.text} in [{args.w_min:,}, {args.w_max:,}] on seeds "
            f"{','.join(str(r.seed) for r in config)}",
            file=sys.stderr,
        )
        measured = measure(
            config,
            axis,
            profile,
            lambda planned: execute_with_progress(planned, store, command=command),
            args.w_min,
            args.w_max,
            args.ratio,
        )
        result = make_result(config, axis, measured, args.w_min, args.w_max, args.ratio, profile.name, command)
        searches.append(result)
        results.append(result)
    task = runs[0].task
    print(
        f"\n{args.task} — smallest width whose median best validation {task.metric} over seeds reaches solved_at "
        f"{task.solved_at}; profile {profile.name}, preset {runs[0].preset}, {runs[0].train.steps} steps per run; "
        f"runs in {store.root}/, searches in {searches.root}/"
    )
    print(
        tabulate(
            [row(r) for r in results],
            tablefmt=args.format,
            disable_numparse=True,
            headers=[
                "architecture",
                "seeds",
                "axis",
                "width to solve [last failing, first passing]",
                "parameters there",
                "search (width: ✓ passed, ✗ failed)",
            ],
        )
    )
    failed = [r for r in results if r["status"] != "ok"]
    for result in failed:
        print(f"archbench: search failed: {result['label']}: {result['error']}", file=sys.stderr)
    return 1 if failed else 0


def row(result: dict[str, Any]) -> list[Any]:
    parameters = result.get("parameters") or []
    first = parameters[1] if len(parameters) > 1 and parameters[1] is not None else None
    return [
        result["label"],
        len(result["seeds"]),
        result["axis"],
        result["text"],
        f"{first:,}" if first is not None else "n/a",
        result["path"],
    ]
