"""`archbench sample-complexity`: smallest fixed training-set size at which each architecture reaches
the task's solved_at (median over seeds), with the bracket it was found in, plus the online figure."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.cli.commands.common import (
    add_threads_argument,
    invoked_command,
    use_threads,
    warn_presetless,
)
from bench.cli.commands.run import add_plan_arguments, plan_from_args
from bench.contract.errors import require
from bench.results.store import RecordStore
from bench.run.profiles import get_profile

NAME = "sample-complexity"
HELP = "find the smallest training-set size n at which architectures solve a task"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    parser.add_argument(
        "--n-min", type=int, help="first training-set size of the doubling search (default: the profile's)"
    )
    parser.add_argument("--n-max", type=int, help="largest training-set size tried (default: the profile's)")
    parser.add_argument(
        "--ratio", type=float, default=1.25, help="bisect until first passing / last failing n <= this (default: 1.25)"
    )
    parser.add_argument(
        "--epochs",
        type=float,
        default=20.0,
        help="step rule: ceil(EPOCHS * n / batch) steps, clamped to [--min-steps, --max-steps] (default: 20)",
    )
    parser.add_argument(
        "--min-steps", type=int, help="step rule floor (default: the profile's steps, the online budget)"
    )
    parser.add_argument("--max-steps", type=int, help="step rule cap (default: 4 x --min-steps)")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
    add_threads_argument(parser)


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from bench.run.execute import execute_with_progress
    from bench.run.sample_complexity import (
        StepRule,
        check_range,
        configurations,
        make_result,
        measure,
        result_store,
    )

    require(
        args.ratio > 1,
        f"--ratio must be > 1 (the bisection stops when first passing / last failing n <= it); got {args.ratio}",
    )
    profile = get_profile(args.profile)
    n_min, n_max = check_range(
        args.n_min if args.n_min is not None else profile.sample_complexity.get("n_min"),
        args.n_max if args.n_max is not None else profile.sample_complexity.get("n_max"),
    )
    runs = plan_from_args(args, {})
    min_steps = args.min_steps if args.min_steps is not None else runs[0].train.steps
    rule = StepRule(args.epochs, min_steps, args.max_steps if args.max_steps is not None else 4 * min_steps)
    use_threads(args.threads)
    warn_presetless(runs)
    store = RecordStore(args.results)
    command = invoked_command()
    results: list[dict[str, Any]] = []
    for config in configurations(runs):
        print(
            f"{config[0].label}: searching n in [{n_min:,}, {n_max:,}] on seeds "
            f"{','.join(str(r.seed) for r in config)}",
            file=sys.stderr,
        )
        measured = measure(
            config,
            lambda planned: execute_with_progress(planned, store, command=command),
            n_min,
            n_max,
            rule,
            args.ratio,
        )
        result = make_result(config, measured, n_min, n_max, args.ratio, rule, profile.name, command)
        result_store(args.results).append(result)
        results.append(result)
    task = runs[0].task
    print(
        f"\n{args.task} — smallest training-set size n whose median best validation {task.metric} over seeds "
        f"reaches solved_at {task.solved_at}; profile {profile.name}, preset {runs[0].preset}; {rule.describe()}, "
        f"early stop at solved_at; runs in {store.root}/, searches in {result_store(args.results).root}/"
    )
    print(
        tabulate(
            [row(r) for r in results],
            tablefmt=args.format,
            disable_numparse=True,
            headers=[
                "architecture",
                "seeds",
                "n to solve [last failing, first passing]",
                "search (n: ✓ passed, ✗ failed)",
                "online: samples to solve (median)",
            ],
        )
    )
    failed = [r for r in results if r["status"] != "ok"]
    for result in failed:
        print(f"archbench: search failed: {result['label']}: {result['error']}", file=sys.stderr)
    return 1 if failed else 0


def row(result: dict[str, Any]) -> list[Any]:
    return [result["label"], len(result["seeds"]), result["text"], result["path"], result["online"]["text"]]
