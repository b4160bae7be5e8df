"""`archbench run`: train architectures on one task under a profile, record every run, print the table."""
from __future__ import annotations

import argparse
import sys

from bench.commands.common import invoked_command, parse_csv
from bench.errors import ArchbenchError
from bench.profiles import PROFILES, get_profile
from bench.records import DEFAULT_ROOT, RecordStore

NAME = "run"
HELP = "train architectures on a task and print what they reached"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="task name (see `archbench list tasks`)")
    parser.add_argument("--arch", required=True, help="comma-separated architecture names")
    parser.add_argument("--profile", default="quick", help=f"budget profile: {', '.join(PROFILES)} (default: quick)")
    parser.add_argument("--preset", help="size preset (default: the profile's): tiny, small, base")
    parser.add_argument("--seeds", help="comma-separated seeds (default: the profile's)")
    parser.add_argument("--n-train", type=int, help="fixed training-set size (default: online, fresh samples every step)")
    parser.add_argument("--steps", type=int, help="optimizer-step budget (default: the profile's)")
    parser.add_argument("--batch-size", type=int, help="batch size (default: the profile's)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the profile's)")
    parser.add_argument("--set", action="append", default=[], metavar="task.KEY=VALUE|arch.KEY=VALUE",
                       help="set a task parameter or architecture hyper-parameter; repeat a key to run a grid")
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--force", action="store_true", help="rerun runs whose records already exist")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")


def main(args: argparse.Namespace) -> int:
    from bench.progress import RunProgress
    from bench.runner import execute, parse_assignments, plan
    from bench.tables import run_table

    profile = get_profile(args.profile)
    archs = parse_csv(args.arch)
    if not archs:
        raise ArchbenchError("--arch needs at least one architecture name")
    task_grid, arch_grid = parse_assignments(args.set)
    train = {k: v for k, v in {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "n_train": args.n_train}.items() if v is not None}
    seeds = parse_csv(args.seeds, int) if args.seeds else None
    runs = plan(args.task, archs, profile, seeds=seeds, preset=args.preset, task_grid=task_grid,
                arch_grid=arch_grid, train_overrides=train)
    store = RecordStore(args.results)
    command = invoked_command()
    with RunProgress(len(runs)) as progress:
        records = execute(runs, store, force=args.force, command=command,
                          progress_for=progress.start_run, on_done=progress.finish_run)
    task = runs[0].task
    print(f"\n{args.task} — metric {task.metric} (chance {task.chance:g}, solved at {task.solved_at}), "
          f"profile {profile.name}, preset {runs[0].preset}; records in {store.root}/")
    print(run_table(records, args.format))
    failed = [r for r in records if r["status"] != "ok"]
    for record in failed:
        print(f"archbench: run failed: {record.get('label', record['arch'])} seed {record['seed']}: {record['error']}", file=sys.stderr)
    return 1 if failed else 0


