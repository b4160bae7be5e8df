"""`archbench sweep`: every task x every architecture under a profile, on one executor, then `publish`.

The whole cross product is planned (and validated) first, so a typo fails in milliseconds; runs whose
successful record is stored are skipped, so an interrupted sweep resumes where it stopped, under any
executor. One progress bar covers the sweep, with the time left. A failed run is recorded with its
reason and the others go on; the exit status is 1 if any run failed, 2 for a user error.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--tasks", help="comma-separated tasks (default: every registered task, plugins included)")
    parser.add_argument(
        "--archs", help="comma-separated architectures (default: every registered one, plugins included)"
    )
    parser.add_argument("--seeds", help="comma-separated seeds (default: the profile's)")
    parser.add_argument("--preset", help="size preset (default: the profile's): tiny, small, base")
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--force", action="store_true", help="rerun runs whose records already exist")
    parser.add_argument("--no-publish", action="store_true", help="do not write the leaderboard at the end")
    parser.add_argument("--out", help="leaderboard page (default: LEADERBOARD.md beside the record directory)")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
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
    from bench.contract.registry import get_task, list_architectures, list_tasks
    from bench.results.measures import run_metrics, solved
    from bench.run.admission import layout_fits
    from bench.run.execute import execute
    from bench.run.executors import make_executor
    from bench.run.plan import plan
    from bench.run.sweep_progress import SweepProgress

    profile = get_profile(args.profile)
    tasks = parse_unique(args.tasks, "--tasks") if args.tasks is not None else list_tasks()
    archs = parse_unique(args.archs, "--archs") if args.archs is not None else list_architectures()
    if not tasks or not archs:
        raise ArchbenchError("--tasks and --archs need at least one name each")
    seeds = parse_seeds(args.seeds)
    train = trainer_overrides(args)

    def fitting(task: str) -> list[str]:
        """Every family when the user named them; by default those that can read the task's input layout
        (a family bound to another layout, like sts_attention, sits such tasks out)."""
        if args.archs is not None:
            return archs
        spec = get_task(task, **profile.task_params(task)).spec()
        return [arch for arch in archs if layout_fits(arch, spec)]

    runs = [
        run
        for task in tasks
        for run in plan(task, fitting(task), profile, seeds=seeds, preset=args.preset, train_overrides=train)
    ]
    gpus = args.gpus_per_run if args.gpus_per_run is not None else (1 if args.accelerator in ("gpu", "cuda") else 0)
    executor = make_executor(
        args.executor, args.workers, args.threads, args.ray_address, args.cpus_per_run, gpus, args.plugin
    )
    store = RecordStore(args.results)
    warn_presetless(runs)

    print(
        f"sweep: {len(tasks)} tasks x {len(archs)} architectures x {len(seeds or profile.seeds)} seeds = {len(runs)} runs; "
        f"profile {profile.name}, preset {args.preset or profile.preset}; executor {executor.describe()}; records in {store.root}/",
        file=sys.stderr,
    )
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
