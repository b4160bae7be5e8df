"""`archbench run`: train architectures on one task under a profile, record every run, print the table.

Runs whose records are stored already are not trained again; the command says how many there were and
that `--force` retrains them. Training uses one torch thread unless `--threads` or OMP_NUM_THREADS says
otherwise (`bench.run.executors.default_threads`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from bench.cli.commands.common import (
    add_threads_argument,
    invoked_command,
    parse_seeds,
    parse_unique,
    use_threads,
    warn_presetless,
)
from bench.cli.commands.lr_flags import add_logger_arguments, add_lr_arguments, log_target, lr_settings
from bench.cli.commands.trainer_flags import add_trainer_arguments, trainer_overrides
from bench.results.schema import DEFAULT_ROOT
from bench.results.store import RecordStore
from bench.run.profiles import PROFILES, get_profile

if TYPE_CHECKING:
    from bench.run.plan import PlannedRun

NAME = "run"
HELP = "train architectures on a task and print what they reached"


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """What selects the runs (task, architectures, profile, preset, seeds, settings, record directory);
    shared with other commands that plan runs (`sample-complexity`)."""
    parser.add_argument("--task", required=True, help="task name (see `archbench list tasks`)")
    parser.add_argument("--arch", required=True, help="comma-separated architecture names")
    parser.add_argument("--profile", default="quick", help=f"budget profile: {', '.join(PROFILES)} (default: quick)")
    parser.add_argument("--preset", help="size preset (default: the profile's): tiny, small, base")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the profile's)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="task.KEY=VALUE|arch.KEY=VALUE",
        help="set a task parameter or architecture hyper-parameter; repeat a key to run a grid",
    )
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser)
    parser.add_argument(
        "--n-train", type=int, help="fixed training-set size (default: online, fresh samples every step)"
    )
    parser.add_argument("--steps", type=int, help="optimizer-step budget (default: the profile's)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the profile's)")
    parser.add_argument("--force", action="store_true", help="rerun runs whose records already exist")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
    add_threads_argument(parser)
    add_lr_arguments(parser)
    add_logger_arguments(parser)
    add_trainer_arguments(parser)


def plan_from_args(args: argparse.Namespace, train_overrides: dict[str, Any]) -> list[PlannedRun]:
    """The validated runs that the `add_plan_arguments` flags and the given TrainConfig fields describe."""
    from bench.run.plan import parse_assignments, plan

    archs = parse_unique(args.arch, "--arch")
    task_grid, arch_grid = parse_assignments(args.set)
    seeds = parse_seeds(args.seeds)
    return plan(
        args.task,
        archs,
        get_profile(args.profile),
        seeds=seeds,
        preset=args.preset,
        task_grid=task_grid,
        arch_grid=arch_grid,
        train_overrides=train_overrides,
    )


def main(args: argparse.Namespace) -> int:
    from bench.report.tables import run_table
    from bench.run.execute import execute_with_progress
    from bench.run.lr_select import choose_lrs, describe, parse_lr

    profile = get_profile(args.profile)
    lr = parse_lr(args.lr)
    search = lr_settings(args, profile)
    log = log_target(args)
    train = {
        k: v
        for k, v in {
            "steps": args.steps,
            "batch_size": args.batch_size,
            "n_train": args.n_train,
            "lr": lr if isinstance(lr, float) else None,
        }.items()
        if v is not None
    } | trainer_overrides(args)
    threads = use_threads(args.threads)
    runs = plan_from_args(args, train)
    store = RecordStore(args.results)
    command = invoked_command()
    warn_presetless(runs)
    if search is not None:
        runs = choose_lrs(runs, store, search, command=command, on_rung=search_progress)
    if log is not None:
        runs = [dataclasses.replace(run, log=log) for run in runs]
    split: list[int] = []
    records = execute_with_progress(
        runs, store, force=args.force, command=command, on_split=lambda *counts: split.extend(counts)
    )
    task = runs[0].task
    print(
        f"\n{args.task} — metric {task.metric} (chance {task.chance:g}, solved at {task.solved_at}), "
        f"profile {profile.name}, preset {runs[0].preset}, {threads} torch thread{'s' if threads != 1 else ''}; "
        f"records in {store.root}/"
    )
    print("\n".join(describe(runs) + [run_table(records, args.format)]))
    stored, trained = split
    print(
        f"\n{len(runs)} runs: {trained} trained now, {stored} stored already"
        + (" (shown from their records; --force retrains them)" if stored else "")
    )
    failed = [r for r in records if r["status"] != "ok"]
    for record in failed:
        print(
            f"archbench: run failed: {record.get('label', record['arch'])} seed {record['seed']}: {record['error']}",
            file=sys.stderr,
        )
    return 1 if failed else 0


def search_progress(rung: int, rungs: int, segments: int) -> None:
    """One line per rung of a successive-halving learning-rate search."""
    if segments:
        print(
            f"archbench: learning-rate search, rung {rung + 1} of {rungs}: {segments} segment(s) to train",
            file=sys.stderr,
        )
