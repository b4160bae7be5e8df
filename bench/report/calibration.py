"""The leaderboard's "budgets checked on validation seeds" section: runs on seeds 1000 and up.

A protocol's step budget must be long enough that the literature's winner solves each task at that size,
and that has to be shown on seeds that are never reported (a budget chosen on the reported seeds would
fit their noise, as a learning rate would). Such runs are ordinary records on validation seeds; `publish`
never counts them in a cell (`bench.report.publish.load`), and this section lists them instead, so a
reader sees, per task, which family was trained at which budget and learning rate on which fresh seeds,
and whether (and when) it solved. Learning-rate grid runs that an `lr_selection` names are left out here:
the cell's learning-rate column already says what they chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tabulate import tabulate

from bench.report import aggregate
from bench.report.provenance import profile_of
from bench.results.measures import run_metrics
from bench.run.lr_config import VALIDATION_SEED_MIN

HEADERS = ["task", "family", "setting", "lr", "seed", "solved", "in distribution"]


def is_validation(record: Mapping[str, Any]) -> bool:
    return int(record["seed"]) >= VALIDATION_SEED_MIN


def calibration_records(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Successful validation-seed runs that no learning-rate selection names, by task, family, seed."""
    records = list(records)
    named = aggregate.validation_keys(records)
    chosen = [r for r in records if is_validation(r) and r["key"] not in named and r.get("status") == "ok"]
    return sorted(
        chosen, key=lambda r: (r["task"], r.get("label") or r["arch"], r["train_config"].get("steps") or 0, r["seed"])
    )


def _task_departures(record: Mapping[str, Any]) -> str:
    """The task parameters the run changed from the task's defaults (evaluation lengths aside): budget
    checks of one task at two sizes must not read as the same setting."""
    from bench.contract.errors import ArchbenchError
    from bench.contract.registry import get_task

    try:
        defaults = get_task(record["task"]).config()
    except (ArchbenchError, KeyError, TypeError):
        return ""
    config = record.get("task_config") or {}
    changed = [
        f"{k}={config[k]}"
        for k in sorted(config)
        if k != "eval_lengths"
        and k in defaults
        and config[k] != defaults[k]
        and _plain(config[k]) != _plain(defaults[k])
    ]
    return f", task {' '.join(changed)}" if changed else ""


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _lr(record: Mapping[str, Any]) -> str:
    lr = record["train_config"].get("lr")
    text = f"{lr:g}" if isinstance(lr, (int, float)) else "?"
    selection = record.get("lr_selection") or {}
    seeds = selection.get("seeds")
    if selection and isinstance(seeds, list):
        text += f" (chosen on seed{'s' if len(seeds) > 1 else ''} {','.join(map(str, seeds))})"
    return text


def _solved(record: Mapping[str, Any]) -> str:
    metrics = run_metrics(record)
    steps = record["train_config"].get("steps")
    if metrics.get("solved"):
        return f"yes, step {metrics.get('steps_to_solve')}"
    return f"no, within {steps:,}" if isinstance(steps, int) else "no"


def _metric(record: Mapping[str, Any]) -> str:
    value = run_metrics(record).get("in_distribution")
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def calibration_section(records: Iterable[Mapping[str, Any]], tablefmt: str = "github") -> list[str]:
    """The section's lines; empty when no such run is stored."""
    rows = [
        [
            r["task"],
            r.get("label") or r["arch"],
            f"profile {profile_of(r) or '?'}, preset {r.get('preset') or 'none'}, "
            f"{r['train_config'].get('steps')} steps of batch {r['train_config'].get('batch_size')}"
            + _task_departures(r),
            _lr(r),
            r["seed"],
            _solved(r),
            _metric(r),
        ]
        for r in calibration_records(records)
    ]
    if not rows:
        return []
    return [
        "## Budgets checked on validation seeds",
        "",
        f"Runs on validation seeds ({VALIDATION_SEED_MIN} and up), never counted in a cell above: the literature's "
        "winner of a task trained at a protocol's budget and learning rate on fresh seeds, to show the budget "
        "suffices (or that it does not). A budget is enlarged when its winner fails here; seeds are never chosen.",
        "",
        tabulate(rows, headers=HEADERS, tablefmt=tablefmt, disable_numparse=True),
        "",
    ]
