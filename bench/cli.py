"""The `archbench` command line: list, run (more subcommands arrive with the measurement issues).

Every user mistake is an `ArchbenchError`, printed as one line with exit status 2 before anything runs.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, Sequence

from tabulate import tabulate

from bench.errors import ArchbenchError
from bench.profiles import PROFILES, get_profile
from bench.records import DEFAULT_ROOT, RecordStore
from bench.registry import get_architecture, get_task_entry, list_architectures, list_tasks, load_plugins


def parse_csv(text: str, item: type = str) -> list[Any]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [item(p) for p in parts]
    except ValueError:
        raise ArchbenchError(f"expected a comma-separated list of {item.__name__}s; got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archbench",
        description="Which sequence architecture learns which synthetic task, from how many samples, how fast, "
        "and does it generalize to longer inputs?",
    )
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="import a plugin module or .py file that registers tasks/architectures (repeatable; "
                        "also ARCHBENCH_PLUGINS=a,b and the entry-point groups archbench.tasks / archbench.architectures)")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="list registered tasks and architectures")
    p_list.add_argument("what", nargs="?", choices=["tasks", "architectures"], help="only this registry")
    p_list.add_argument("--pattern", default="*", help="glob filter on names, e.g. 'trans*'")
    p_list.add_argument("--task", help="with --preset: show each architecture's size for this task's spec")
    p_list.add_argument("--preset", help="with --task: the size preset to resolve (tiny, small, base)")

    p_run = sub.add_parser("run", help="train architectures on a task and print what they reached")
    p_run.add_argument("--task", required=True, help="task name (see `archbench list tasks`)")
    p_run.add_argument("--arch", required=True, help="comma-separated architecture names")
    p_run.add_argument("--profile", default="quick", help=f"budget profile: {', '.join(PROFILES)} (default: quick)")
    p_run.add_argument("--preset", help="size preset (default: the profile's): tiny, small, base")
    p_run.add_argument("--seeds", help="comma-separated seeds (default: the profile's)")
    p_run.add_argument("--n-train", type=int, help="fixed training-set size (default: online, fresh samples every step)")
    p_run.add_argument("--steps", type=int, help="optimizer-step budget (default: the profile's)")
    p_run.add_argument("--batch-size", type=int, help="batch size (default: the profile's)")
    p_run.add_argument("--lr", type=float, help="learning rate (default: the profile's)")
    p_run.add_argument("--set", action="append", default=[], metavar="task.KEY=VALUE|arch.KEY=VALUE",
                       help="set a task parameter or architecture hyper-parameter; repeat a key to run a grid")
    p_run.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    p_run.add_argument("--force", action="store_true", help="rerun runs whose records already exist")
    p_run.add_argument("--format", default="github", help="tabulate table format (default: github)")
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    if args.what in (None, "tasks"):
        rows = []
        for name in list_tasks(args.pattern):
            cls = get_task_entry(name).obj
            task = cls()
            rows.append([name, cls.metric, task.length, ",".join(map(str, task.eval_lengths)), task.solved_at, f"{task.chance:g}", cls.paper])
        print(tabulate(rows, headers=["task", "metric", "train length", "eval lengths", "solved_at", "chance", "source"], tablefmt="github"))
    if args.what is None:
        print()
    if args.what in (None, "architectures") and (args.task or args.preset):
        print(sizes_table(args.task, args.preset, args.pattern))
    elif args.what in (None, "architectures"):
        rows = []
        for name in list_architectures(args.pattern):
            entry = get_architecture(name)
            params = ", ".join(f"{k}={p.default!r}" for k, p in entry.parameters().items())
            rows.append([name, entry.summary, ", ".join(entry.presets) or "-", params])
        print(tabulate(rows, headers=["architecture", "description", "presets", "hyper-parameters (defaults)"], tablefmt="github"))
    return 0


def sizes_table(task_name: str | None, preset: str | None, pattern: str) -> str:
    """Parameters and state size of every architecture at `preset` for `task_name`'s spec, side by side."""
    from architectures.base import state_size
    from bench.presets import count_parameters, resolve_hparams
    from bench.registry import build_architecture, get_task

    if not (task_name and preset):
        raise ArchbenchError("list architectures needs both --task and --preset to show sizes")
    spec = get_task(task_name).spec()
    rows = []
    for name in list_architectures(pattern):
        hparams = resolve_hparams(name, spec, preset)
        model = build_architecture(name, spec, **hparams)
        state = state_size(model)
        rows.append([name, f"{count_parameters(name, spec, hparams):,}", f"{state:,}" if state is not None else "n/a",
                     ", ".join(f"{k}={v}" for k, v in hparams.items())])
    return tabulate(rows, headers=["architecture", f"parameters ({preset}, {task_name})", "state size", "hyper-parameters"], tablefmt="github")


def cmd_run(args: argparse.Namespace) -> int:
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
    command = "archbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
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


COMMANDS = {"list": cmd_list, "run": cmd_run}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        load_plugins(args.plugin)
        return COMMANDS[args.command](args)
    except ArchbenchError as exc:
        print(f"archbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archbench: interrupted; finished runs are recorded and will be skipped next time", file=sys.stderr)
        return 130
