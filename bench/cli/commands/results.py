"""`archbench results`: list what the record store holds, one row per configuration, stale ones marked.

A row is a configuration (everything but the seed, `bench.report.aggregate`) and, unless `--include-stale`,
one freshness status (`bench.results.freshness`): records made by another code or package version get their
own row marked stale, so they are never silently averaged with current ones; with `--include-stale`
they are counted together, as `archbench publish --include-stale` would.
"""

from __future__ import annotations

import argparse
import collections

from tabulate import tabulate

from bench.cli.commands.common import parse_csv
from bench.contract.errors import ArchbenchError
from bench.results.schema import DEFAULT_ROOT, RunRecord
from bench.results.store import RecordStore

NAME = "results"
HELP = "list stored runs: task, architecture, preset, seeds, status, metric, when, stale?"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", help="comma-separated task names")
    parser.add_argument("--arch", help="comma-separated architecture families or labels (e.g. transformer)")
    parser.add_argument(
        "--stale", action="store_true", help="only stale records (another code, package or record-schema version)"
    )
    parser.add_argument(
        "--include-stale",
        action="store_true",
        help="count stale records with the current ones of their configuration (as publish --include-stale)",
    )
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")


def select(records: list[RunRecord], tasks: list[str] | None, archs: list[str] | None) -> list[RunRecord]:
    """Records of the given tasks and architecture families/labels (None: all)."""
    return [
        r
        for r in records
        if (not tasks or r["task"] in tasks) and (not archs or r["arch"] in archs or r["label"] in archs)
    ]


def results_rows(records: list[RunRecord], include_stale: bool = False) -> list[list[str]]:
    """One row per (configuration, freshness) -- per configuration with `include_stale`."""
    from bench.report.aggregate import distinguish, group_cells, validation_keys
    from bench.results.freshness import freshness
    from bench.results.measures import in_distribution

    status = {r["key"]: freshness(r) for r in records}
    partitions: dict[str, list[RunRecord]] = collections.defaultdict(list)
    for record in records:
        partitions["all" if include_stale else status[record["key"]].status].append(record)
    validation = validation_keys(records)
    cells = [cell for part in partitions.values() for cell in group_cells(part)]
    names = distinguish(cells)
    rows = []
    for cell in sorted(cells, key=lambda c: (c.key.task, c.label, c.created[-1] if c.created else "")):
        train = cell.key.train
        fresh = [status[r["key"]] for r in cell.records]
        stale = [f for f in fresh if f.stale]
        if include_stale:
            stale_text = f"{len(stale)}/{len(fresh)} stale" if stale else "no"
        else:
            stale_text = fresh[0].describe()
        estimate = cell.figure_estimate(in_distribution)
        role = " (lr validation)" if any(r["key"] in validation for r in cell.records) else ""
        state = f"{len(cell.ok)} ok" + (f", {len(cell.failed)} failed" if cell.failed else "") + role
        rows.append(
            [
                cell.key.task,
                names[id(cell)],
                cell.key.preset or "-",
                train.get("n_train") or "online",
                train.get("steps", "?"),
                f"{train['lr']:g}" if train.get("lr") else "?",
                ",".join(map(str, sorted(r["seed"] for r in cell.records))),
                state,
                f"{cell.metric} {estimate.interval_text()}" if estimate else ("failed" if cell.all_failed else "n/a"),
                (cell.created[-1] if cell.created else "?").replace("T", " ")[:16],
                stale_text,
            ]
        )
    return rows


HEADERS = [
    "task",
    "architecture",
    "preset",
    "n_train",
    "steps",
    "lr",
    "seeds",
    "status",
    "metric (in distribution)",
    "latest (UTC)",
    "stale?",
]


def main(args: argparse.Namespace) -> int:
    from bench.results.freshness import STALE, freshness

    store = RecordStore(args.results)
    records = list(store.latest(store.load()).values())
    if not records:
        raise ArchbenchError(f"no records in {store.root}; run `archbench sweep --profile smoke` first")
    tasks = parse_csv(args.task) if args.task else None
    archs = parse_csv(args.arch) if args.arch else None
    chosen = select(records, tasks, archs)
    if not chosen:
        stored_tasks = ", ".join(sorted({r["task"] for r in records}))
        stored_archs = ", ".join(sorted({r["arch"] for r in records}))
        filters = " ".join(f"--{k} {v}" for k, v in (("task", args.task), ("arch", args.arch)) if v)
        raise ArchbenchError(
            f"no records match {filters} in {store.root}; stored tasks: {stored_tasks}; architectures: {stored_archs}"
        )
    status = [freshness(r).status for r in chosen]
    stale = [r for r, s in zip(chosen, status) if s == STALE]
    if args.stale:
        if not stale:
            print(f"no stale records among the {len(chosen)} listed in {store.root}")
            return 0
        chosen = stale
    print(
        tabulate(results_rows(chosen, args.include_stale), headers=HEADERS, tablefmt=args.format, disable_numparse=True)
    )
    print(
        f"\n{len(chosen)} runs in {store.root}"
        + (
            f"; {len(stale)} stale (made by another code, package or record-schema version): left out of `archbench publish` "
            "unless --include-stale"
            if stale
            else ""
        )
    )
    if store.report.problems:
        print(f"{len(store.report.problems)} unreadable line(s) skipped (see the warnings above)")
    return 0
