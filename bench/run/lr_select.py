"""Learning-rate selection: a small grid per (task, architecture configuration), scored on validation seeds
(the `grid` method), and `choose_lrs`, which applies the method a profile or the command line names
(`halving`: `bench.run.lr_search`).

Why validation seeds: choosing the learning rate on the seeds that are then reported would let the
choice fit their noise and flatter the reported figure. The grid is trained on seeds from 1000 up,
which `select_lrs` refuses to let overlap the reported seeds; the reported runs then train with the
chosen value (`train_config.lr`, part of their key) and carry the evidence in their record as
`lr_selection` (grid, seeds, scores per value, the rule, the validation runs' keys). Validation runs are
ordinary runs in the record store, so a repeated selection is read back, not retrained.

Rule (`choose`): per value, the median over validation seeds of the best validation metric, capped at the
task's `solved_at`, is the score; among equal scores (typically: every value solves) the value whose
median samples-to-solve is smallest wins; remaining ties go to the smaller learning rate. Both medians are
`bench.results.measures`' (an unsolved seed needs infinitely many samples, as on every page); a failed
validation run counts as a seed with no figure at all (worst metric, never solved), so a value cannot win
on the seeds it did not crash on.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.contract.errors import ArchbenchError
from bench.results.measures import (
    median_best_validation,
    median_samples_to_solve,
    run_metrics,
)
from bench.results.store import RecordStore
from bench.run.execute import execute_with_progress
from bench.run.lr_config import DEFAULTS, LrSearchSettings, check_validation_seeds, config_id
from bench.run.plan import PlannedRun

if TYPE_CHECKING:
    from bench.run.executors import Executor

DEFAULT_GRID, VALIDATION_SEEDS = DEFAULTS["grid"]
RULE = (
    "max median over validation seeds of best validation metric (capped at solved_at), "
    "then min median samples to solve, then smaller lr"
)

ExecuteFn = Callable[[list[PlannedRun], RecordStore, str | None], Sequence[Mapping[str, Any]]]


def parse_lr(text: str | None) -> float | str | None:
    """`--lr` value: None (the profile's), `"auto"` (select on validation seeds) or a positive float."""
    if text is None or text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise ArchbenchError(f"--lr expects a positive number or 'auto'; got {text!r}") from None
    if not value > 0:
        raise ArchbenchError(f"--lr expects a positive number or 'auto'; got {text!r}")
    return value


def score(records: Sequence[Mapping[str, Any]], solved_at: float) -> dict[str, Any]:
    """One grid value's validation runs -> `{val_best, samples_to_solve, runs}` (medians over seeds).

    A failed run counts as the worst value (no best metric, never solved: `measures.run_metrics`);
    `samples_to_solve` is None when the median seed did not solve.
    """
    metrics = [run_metrics(r) for r in records]
    ok = sum(1 for m in metrics if m)
    val_best = median_best_validation(metrics)
    samples = median_samples_to_solve(metrics)
    return {
        "val_best": None if math.isinf(val_best) else val_best,
        "samples_to_solve": None if math.isinf(samples) else samples,
        "runs": ok,
        "failed": len(records) - ok,
    }


def choose(scores: dict[float, dict[str, Any]], solved_at: float) -> float:
    """The grid value `RULE` prefers (see the module docstring)."""

    def preference(lr: float) -> tuple[float, float, float]:
        s = scores[lr]
        metric = -math.inf if s["val_best"] is None else min(s["val_best"], solved_at)
        samples = math.inf if s["samples_to_solve"] is None else s["samples_to_solve"]
        return (metric, -samples, -lr)

    return max(scores, key=preference)


def validation_runs(run: PlannedRun, grid: Sequence[float], seeds: Sequence[int]) -> list[PlannedRun]:
    """The grid x validation seeds for one configuration, as ordinary planned runs."""
    return [
        dataclasses.replace(run, train=dataclasses.replace(run.train, lr=lr), seed=seed, record_extra={})
        for lr in grid
        for seed in seeds
    ]


def select_lrs(
    runs: list[PlannedRun],
    store: RecordStore,
    grid: Sequence[float] = DEFAULT_GRID,
    seeds: Sequence[int] = VALIDATION_SEEDS,
    command: str | None = None,
    execute_fn: ExecuteFn | None = None,
) -> list[PlannedRun]:
    """Select a learning rate for every configuration among `runs`; return the runs with it set and
    `record_extra["lr_selection"]` filled. Validation runs go through `execute_fn` (default: the normal
    runner with a progress display), so they are stored and skipped when already done."""
    grid = tuple(sorted({float(lr) for lr in grid}))
    seeds = tuple(seeds)
    if not grid or any(lr <= 0 for lr in grid):
        raise ArchbenchError(f"--lr-grid needs positive learning rates; got {', '.join(map(str, grid)) or 'none'}")
    check_validation_seeds(seeds)
    overlap = sorted(set(seeds) & {r.seed for r in runs})
    if overlap:
        raise ArchbenchError(
            f"seed(s) {', '.join(map(str, overlap))} are learning-rate validation seeds "
            f"({', '.join(map(str, seeds))}); report other seeds"
        )
    execute_fn = execute_fn or (lambda planned, st, cmd: execute_with_progress(planned, st, command=cmd))
    representatives: dict[str, PlannedRun] = {}
    for run in runs:
        representatives.setdefault(config_id(run), run)
    planned = {cid: validation_runs(r, grid, seeds) for cid, r in representatives.items()}
    records = execute_fn([v for group in planned.values() for v in group], store, command)
    by_key = {r["key"]: r for r in records}
    selections: dict[str, dict[str, Any]] = {}
    for cid, group in planned.items():
        solved_at = group[0].task.solved_at
        scores = {lr: score([by_key[v.key] for v in group if v.train.lr == lr], solved_at) for lr in grid}
        if all(s["runs"] == 0 for s in scores.values()):
            first = next((by_key[v.key].get("error") for v in group if by_key[v.key].get("error")), "no record")
            raise ArchbenchError(f"learning-rate selection for {group[0].label}: every validation run failed ({first})")
        selections[cid] = {
            "method": "grid",
            "chosen": choose(scores, solved_at),
            "grid": list(grid),
            "seeds": list(seeds),
            "scores": {repr(lr): s for lr, s in scores.items()},
            "rule": RULE,
            "validation_keys": [v.key for v in group],
        }
    return [
        dataclasses.replace(
            r,
            train=dataclasses.replace(r.train, lr=selections[config_id(r)]["chosen"]),
            record_extra={**r.record_extra, "lr_selection": selections[config_id(r)]},
        )
        for r in runs
    ]


def choose_lrs(
    runs: list[PlannedRun],
    store: RecordStore,
    settings: LrSearchSettings,
    command: str | None = None,
    executor: Executor | None = None,
    on_rung: Callable[[int, int, int], None] | None = None,
) -> list[PlannedRun]:
    """The runs with the learning rate `settings` chooses per cell, and its evidence in `lr_selection`."""
    if settings.method == "grid":
        execute_fn: ExecuteFn | None = None
        if executor is not None:
            from bench.run.execute import execute

            execute_fn = lambda planned, st, cmd: execute(planned, st, command=cmd, executor=executor)  # noqa: E731
        return select_lrs(runs, store, settings.grid, settings.seeds, command=command, execute_fn=execute_fn)
    from bench.run.lr_search import select_lrs_halving

    return select_lrs_halving(runs, Path(store.root), settings, executor=executor, command=command, on_rung=on_rung)


def describe(runs: Sequence[PlannedRun]) -> list[str]:
    """One line per configuration: the chosen value and every grid value's score (grid) or where each
    trial stopped (halving)."""
    lines, seen = [], set()
    for run in runs:
        selection = run.record_extra.get("lr_selection")
        if selection is None or (run.task_name, run.label) in seen:
            continue
        seen.add((run.task_name, run.label))
        seeds = ",".join(map(str, selection["seeds"]))
        if selection.get("method") == "successive_halving":
            trials = ", ".join(
                f"{t['lr']:g}: "
                + (
                    f"pruned at step {t['pruned_at']}"
                    if t["pruned_at"] is not None
                    else f"{t['state']} at step {t['steps']}"
                )
                + (f", val {t['value']:.3f}" if t["value"] is not None else "")
                for t in selection["trials"]
            )
            lines.append(
                f"lr for {run.label}: {selection['chosen']:g} (successive halving on validation seeds {seeds}, "
                f"{selection['cost_steps']:,} steps of the full grid's {selection['full_grid_steps']:,}; {trials})"
            )
            continue
        scores = ", ".join(
            f"{lr}: best val {s['val_best'] if s['val_best'] is None else round(s['val_best'], 3)}"
            + (f", solved after {s['samples_to_solve']:,.0f} samples" if s["samples_to_solve"] is not None else "")
            for lr, s in selection["scores"].items()
        )
        lines.append(f"lr for {run.label}: {selection['chosen']:g} (validation seeds {seeds}; {scores})")
    return lines
