"""The leaderboard's "cost of the learning-rate search" section, from the records' `lr_selection`.

The standard protocol chooses each cell's learning rate by successive halving on a validation seed
(`bench.run.lr_search`), and promises that the search costs about 2 budgets of training per cell, far
below the full grid (every value trained to the budget). That promise is checked here from what the
searches actually trained (`cost_steps`, which counts early stops) against the full grid's steps and
against the steps the same cells' reported runs trained (their own early stops included), per task.
One row per task and profile; each search (a journal) is counted once however many seeds used it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tabulate import tabulate

from bench.report.provenance import profile_of
from bench.results.measures import run_metrics

HEADERS = [
    "task",
    "profile",
    "searches",
    "search steps",
    "full grid steps",
    "search / full grid",
    "search per cell / budget",
    "search per cell / reported run",
]


@dataclass
class _Row:
    searches: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # study -> lr_selection
    run_steps: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # study -> steps trained


def _halving(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    selection = record.get("lr_selection")
    if not isinstance(selection, Mapping) or selection.get("method") != "successive_halving":
        return None
    if not all(isinstance(selection.get(k), int) for k in ("cost_steps", "full_grid_steps", "budget")):
        return None
    return selection


def search_cost_rows(records: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    """Per (task, profile): searches, their steps, the full grid's, and the two ratios (see the module)."""
    groups: dict[tuple[str, str], _Row] = defaultdict(_Row)
    for record in records:
        selection = _halving(record)
        if selection is None or record.get("status") != "ok":
            continue
        study = str(selection.get("study") or selection.get("storage"))
        row = groups[(record["task"], profile_of(record) or "?")]
        row.searches[study] = selection
        steps = run_metrics(record).get("steps")
        if isinstance(steps, int):
            row.run_steps[study].append(steps)
    rows = []
    for (task, profile), row in sorted(groups.items()):
        cost = sum(int(s["cost_steps"]) for s in row.searches.values())
        grid = sum(int(s["full_grid_steps"]) for s in row.searches.values())
        per_budget = statistics.mean(int(s["cost_steps"]) / int(s["budget"]) for s in row.searches.values())
        per_run = [
            int(s["cost_steps"]) / statistics.mean(row.run_steps[study])
            for study, s in row.searches.items()
            if row.run_steps.get(study)
        ]
        rows.append(
            [
                task,
                profile,
                len(row.searches),
                f"{cost:,}",
                f"{grid:,}",
                f"{cost / grid:.0%}" if grid else "-",
                f"{per_budget:.2f}",
                f"{statistics.median(per_run):.2f} (median)" if per_run else "-",
            ]
        )
    return rows


def search_cost_section(records: Iterable[Mapping[str, Any]], tablefmt: str = "github") -> list[str]:
    """The section's lines; empty when no counted record carries a successive-halving selection."""
    rows = search_cost_rows(records)
    if not rows:
        return []
    return [
        "## Cost of the learning-rate search",
        "",
        "Successive halving per cell on a validation seed (`bench/run/lr_search.py`): the steps the searches "
        "trained (early stops included) against the full grid (every value trained to the budget), and one "
        "search's steps in units of the cell's budget and of the mean steps its reported runs trained "
        "(runs stop early at solved_at, so a cell that solves fast has a high ratio).",
        "",
        tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True),
        "",
    ]
