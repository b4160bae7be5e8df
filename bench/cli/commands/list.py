"""`archbench list`: the registered tasks and architectures, or architecture sizes for a task's spec."""

from __future__ import annotations

import argparse
from typing import cast

from tabulate import tabulate

from bench.contract.errors import ArchbenchError
from bench.contract.registry import (
    get_architecture,
    get_task_entry,
    list_architectures,
    list_tasks,
)
from bench.contract.task import Task

NAME = "list"
HELP = "list registered tasks and architectures"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=["tasks", "architectures"], help="only this registry")
    parser.add_argument("--pattern", default="*", help="glob filter on names, e.g. 'trans*'")
    parser.add_argument("--task", help="with --preset: show each architecture's size for this task's spec")
    parser.add_argument("--preset", help="with --task: the size preset to resolve (tiny, small, base)")


def main(args: argparse.Namespace) -> int:
    if args.what in (None, "tasks"):
        rows = []
        for name in list_tasks(args.pattern):
            cls = cast("type[Task]", get_task_entry(name).obj)
            task = cls()
            rows.append(
                [
                    getattr(cls, "family", ""),
                    name,
                    cls.metric,
                    task.length,
                    ",".join(map(str, task.eval_lengths)),
                    task.solved_at,
                    f"{task.chance:g}",
                    cls.paper,
                ]
            )
        rows.sort(key=lambda row: (row[0], row[1]))  # grouped by family (suite/level), stand-alone tasks first
        print(
            tabulate(
                rows,
                headers=["family", "task", "metric", "train length", "eval lengths", "solved_at", "chance", "source"],
                tablefmt="github",
            )
        )
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
        print(
            tabulate(
                rows,
                headers=["architecture", "description", "presets", "hyper-parameters (defaults)"],
                tablefmt="github",
            )
        )
    return 0


def sizes_table(task_name: str | None, preset: str | None, pattern: str) -> str:
    """Parameters and state size of every architecture at `preset` for `task_name`'s spec, side by side."""
    from bench.contract.model import state_size
    from bench.contract.registry import build_architecture, get_architecture, get_task
    from bench.run.presets import count_parameters, resolve_hparams

    if not (task_name and preset):
        raise ArchbenchError("list architectures needs both --task and --preset to show sizes")
    spec = get_task(task_name).spec()
    rows = []
    for name in list_architectures(pattern):
        layout = get_architecture(name).layout
        if layout is not None and layout != spec.layout:  # a family bound to another input layout
            rows.append([name, "n/a", "n/a", f"(runs only on tasks of input layout {layout!r})"])
            continue
        hparams = resolve_hparams(name, spec, preset)
        model = build_architecture(name, spec, **hparams)
        state = state_size(model)
        rows.append(
            [
                name,
                f"{count_parameters(name, spec, hparams):,}",
                f"{state:,}" if state is not None else "n/a",
                ", ".join(f"{k}={v}" for k, v in hparams.items()),
            ]
        )
    return tabulate(
        rows,
        headers=["architecture", f"parameters ({preset}, {task_name})", "state size", "hyper-parameters"],
        tablefmt="github",
    )
