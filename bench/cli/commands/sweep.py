"""`archbench sweep`: every task x every architecture under a profile, on one executor, then `publish`.

The whole cross product is planned (and validated) first, so a typo fails in milliseconds; runs whose
successful record is stored are skipped, so an interrupted sweep resumes where it stopped, under any
executor. One progress bar covers the sweep, with the time left. A failed run is recorded with its
reason and the others go on; the exit status is 1 if any run failed, 2 for a user error.

Under a profile with `core_tasks` (standard) the sweep runs those tasks unless `--tasks` names others
(`--tasks all`: every task); it runs the profile's reported seeds and its check seeds; under a profile
with an `lr_search` table it first chooses the learning rate of every cell on validation seeds (the
search resumes from its journals too). `--dry-run` prints what would run and the estimated time from
measured speeds (`bench.run.cost`), and trains nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.cli.commands.common import (
    invoked_command,
    parse_seeds,
    parse_unique,
    warn_presetless,
)
from bench.cli.commands.lr_flags import add_logger_arguments, add_lr_arguments, log_target, lr_settings
from bench.cli.commands.trainer_flags import add_trainer_arguments, trainer_overrides
from bench.contract.errors import ArchbenchError
from bench.results.schema import DEFAULT_ROOT, RunRecord
from bench.results.store import RecordStore
from bench.run.profiles import PROFILES, get_profile

NAME = "sweep"
HELP = "run every task x architecture of a profile (resumable; serial, local processes or Ray), then publish"
EXECUTOR_CHOICES = ("serial", "local", "ray")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        default="quick",
        help=f"budget profile: {', '.join(PROFILES)}, or FILE.toml[:NAME] (default: quick)",
    )
    parser.add_argument(
        "--tasks",
        help="comma-separated tasks, or `all` (default: the profile's core_tasks if it has them, else every "
        "registered task, plugins included)",
    )
    parser.add_argument(
        "--archs", help="comma-separated architectures (default: every registered one, plugins included)"
    )
    parser.add_argument("--seeds", help="comma-separated seeds (default: the profile's seeds, then its check_seeds)")
    parser.add_argument("--preset", help="size preset (default: the profile's): tiny, small, base")
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--force", action="store_true", help="rerun runs whose records already exist")
    parser.add_argument("--no-publish", action="store_true", help="do not write the leaderboard at the end")
    parser.add_argument("--out", help="leaderboard page (default: LEADERBOARD.md beside the record directory)")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the planned runs and learning-rate search per task x architecture and the estimated time "
        "from measured speeds (stored records), for this executor and as CPU-hours; train nothing",
    )
    parser.add_argument(
        "--probe-steps",
        type=int,
        default=0,
        metavar="N",
        help="with --dry-run: measure cells that no stored record measured by training N steps here "
        "(default: 0, leave them unmeasured)",
    )
    add_lr_arguments(parser)
    add_logger_arguments(parser)
    group = parser.add_argument_group("where the runs train")
    group.add_argument(
        "--executor",
        default="local",
        choices=EXECUTOR_CHOICES,
        help="serial: one at a time here; local: a pool of worker processes, one single-thread worker "
        "per core (why: docs/results.md); ray: tasks on a Ray cluster (default: local)",
    )
    group.add_argument("--workers", type=int, help="local: worker processes (default: one per usable core)")
    group.add_argument(
        "--threads",
        "--threads-per-worker",
        dest="threads",
        type=int,
        metavar="N",
        help="torch threads per worker, per Ray task, or of the serial process (default: OMP_NUM_THREADS "
        "when set, else 1; ray: --cpus-per-run)",
    )
    group.add_argument(
        "--ray-address", help="ray: cluster address, e.g. 10.0.0.1:6379 or auto (default: start a local Ray instance)"
    )
    group.add_argument("--cpus-per-run", type=float, help="ray: CPUs each run requests (default: --threads or 1)")
    group.add_argument(
        "--gpus-per-run",
        type=float,
        help="ray: GPUs each run requests (default: 1 with --accelerator gpu/cuda, else 0)",
    )
    add_trainer_arguments(parser)


def main(args: argparse.Namespace) -> int:
    from bench.contract.registry import list_architectures, list_tasks
    from bench.results.measures import run_metrics, solved
    from bench.run.execute import execute
    from bench.run.executors import make_executor
    from bench.run.lr_select import parse_lr
    from bench.run.plan import sweep_runs
    from bench.run.sweep_progress import SweepProgress

    profile = get_profile(args.profile)
    if args.tasks is None:
        tasks = list(profile.core_tasks) or list_tasks()
    elif args.tasks.strip() == "all":
        tasks = list_tasks()
    else:
        tasks = parse_unique(args.tasks, "--tasks")
    archs = parse_unique(args.archs, "--archs") if args.archs is not None else list_architectures()
    if not tasks or not archs:
        raise ArchbenchError("--tasks and --archs need at least one name each")
    seeds = parse_seeds(args.seeds) or list(profile.all_seeds)
    lr = parse_lr(args.lr)
    search = lr_settings(args, profile)
    log = log_target(args)
    if args.probe_steps < 0 or (args.probe_steps and not args.dry_run):
        raise ArchbenchError(f"--probe-steps needs --dry-run and a count >= 0; got {args.probe_steps}")
    train = trainer_overrides(args) | ({"lr": lr} if isinstance(lr, float) else {})

    runs = sweep_runs(tasks, archs, profile, seeds, args.preset, train, archs_named=args.archs is not None)
    store = RecordStore(args.results)
    if args.dry_run:
        return dry_run(args, profile, tasks, archs, seeds, runs, search, store, train)
    gpus = args.gpus_per_run if args.gpus_per_run is not None else (1 if args.accelerator in ("gpu", "cuda") else 0)
    executor = make_executor(
        args.executor, args.workers, args.threads, args.ray_address, args.cpus_per_run, gpus, args.plugin
    )
    warn_presetless(runs)

    print(
        f"sweep: {len(tasks)} tasks x {len(archs)} architectures x {len(seeds)} seeds = {len(runs)} runs; "
        f"profile {profile.name}, preset {args.preset or profile.preset}; executor {executor.describe()}; records in {store.root}/",
        file=sys.stderr,
    )
    if search is not None:
        from bench.cli.commands.run import search_progress
        from bench.run.lr_select import choose_lrs

        runs = choose_lrs(runs, store, search, command=invoked_command(), executor=executor, on_rung=search_progress)
    if log is not None:
        runs = [dataclasses.replace(run, log=log) for run in runs]
    tally: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    with SweepProgress(len(runs)) as progress:

        def on_done(run: Any, record: RunRecord, skipped: bool) -> None:
            progress.finish_run(run, record, skipped)
            tally[(run.task_name, "stored" if skipped else record["status"])] += 1
            tally[(run.task_name, "solved")] += solved(run_metrics(record))

        records = execute(
            runs,
            store,
            force=args.force,
            command=invoked_command(),
            progress_for=progress.start_run,
            on_done=on_done,
            executor=executor,
            on_split=progress.planned,
        )
    wall = time.perf_counter() - started

    print(summary_table(tasks, tally, args.format))
    failed = [r for r in records if r["status"] != "ok"]
    print(
        f"\n{len(runs)} runs: {tally_total(tally, 'ok')} trained, {tally_total(tally, 'stored')} stored "
        f"(skipped), {len(failed)} failed; wall time {wall:.0f} s with executor {executor.name}"
    )
    for record in failed:
        print(
            f"archbench: run failed: {record['task']}: {record.get('label', record['arch'])} seed {record['seed']}: {record['error']}",
            file=sys.stderr,
        )
    if not args.no_publish:
        publish_leaderboard(store, Path(args.out) if args.out else None, args.format, invoked_command())
    return 1 if failed else 0


def tally_total(tally: Counter[tuple[str, str]], kind: str) -> int:
    return sum(v for (_, k), v in tally.items() if k == kind)


def summary_table(tasks: list[str], tally: Counter[tuple[str, str]], tablefmt: str) -> str:
    """Per task: runs trained now, stored (skipped), failed, solved."""
    rows = [[t, tally[(t, "ok")], tally[(t, "stored")], tally[(t, "failed")], tally[(t, "solved")]] for t in tasks]
    return tabulate(rows, headers=["task", "trained", "stored (skipped)", "failed", "solved"], tablefmt=tablefmt)


def publish_leaderboard(store: RecordStore, out: Path | None, tablefmt: str, command: str) -> None:
    """Write the leaderboard of the whole store (not just this sweep's tasks: the page is the store's)."""
    try:
        from bench.report.publish import publish
    except ModuleNotFoundError as exc:
        if exc.name != "bench.report.publish":
            raise
        print("archbench: note: bench.report.publish is not available; leaderboard not written", file=sys.stderr)
        return
    from bench.cli.commands.publish import default_out

    path = publish(store, out or default_out(store.root), None, tablefmt, command=command)
    print(f"leaderboard: {path}")


def dry_run(
    args: argparse.Namespace,
    profile: Any,
    tasks: list[str],
    archs: list[str],
    seeds: list[int],
    runs: list[Any],
    search: Any,
    store: RecordStore,
    train: dict[str, Any],
) -> int:
    """Print the plan per task x architecture and the estimated time (`bench.run.cost`); train nothing."""
    from bench.contract.registry import list_tasks
    from bench.results.freshness import freshness, reference
    from bench.run.cost import HEADERS, SpeedBook, describe, plan_cells, probe_speed, summary, totals
    from bench.run.executors import usable_cores
    from bench.run.lr_search import finished_choice
    from bench.run.plan import sweep_runs

    book = SpeedBook(store.load(warn=False))
    probed: dict[str, Any] = {}

    def speed_of(run: Any) -> Any:
        speed = book.speed(run)
        if speed.rate is None and args.probe_steps:
            key = f"{run.task_name}/{run.label}"
            if key not in probed:
                print(f"archbench: probing {key} ({args.probe_steps} steps)", file=sys.stderr)
                probed[key] = probe_speed(run, args.probe_steps)
            speed = probed[key]
        return speed

    latest, ref = store.latest(), reference()
    halving = search is not None and search.method == "halving"

    def chosen(run: Any) -> float | None:
        return finished_choice(run, search, store.root) if halving else None

    def run_done(run: Any) -> bool:
        if search is not None:
            lr = chosen(run)
            if lr is None:
                return False
            run = dataclasses.replace(run, train=dataclasses.replace(run.train, lr=lr))
        record = latest.get(run.key)
        return record is not None and record["status"] == "ok" and not freshness(record, ref).stale

    cells = plan_cells(runs, speed_of, search, search_done=lambda run: chosen(run) is not None, run_done=run_done)
    method = (
        "none (fixed lr)"
        if search is None
        else f"{search.method}, grid {', '.join(f'{v:g}' for v in search.grid)}, seeds {', '.join(map(str, search.seeds))}"
    )
    print(
        f"sweep --dry-run: profile {profile.name}, preset {args.preset or profile.preset}; {len(tasks)} tasks x "
        f"{len(archs)} architectures; seeds {', '.join(map(str, seeds))}; learning rate: {method}\n"
    )
    print(tabulate(describe(cells), headers=HEADERS, tablefmt=args.format))
    workers = 1 if args.executor == "serial" else (args.workers or usable_cores())
    runs_left = sum(c.runs for c in cells)
    print(
        f"\n{runs_left} of {len(runs)} runs to train"
        + (f", {sum(1 for c in cells if c.search_steps)} learning-rate searches" if search is not None else "")
    )
    print(
        summary(f"this sweep ({len(tasks)} tasks)", totals(cells, workers), workers if args.executor != "ray" else None)
    )
    everything = list_tasks()
    if set(tasks) != set(everything):
        # Estimated, never run here: no need to build every model of the full matrix to admit it.
        full = sweep_runs(
            everything, archs, profile, seeds, args.preset, train, archs_named=args.archs is not None, validate=False
        )
        full_cells = plan_cells(
            full, speed_of, search, search_done=lambda run: chosen(run) is not None, run_done=run_done
        )
        print(
            summary(
                f"full matrix ({len(everything)} tasks, for the Ray executor: one CPU per run)",
                totals(full_cells, 1),
                None,
            )
        )
    print(
        "speeds: records = stored runs of the same configuration; records~ = same task, family and preset; probe = measured now"
    )
    return 0
