"""Sample complexity: the smallest fixed training-set size n at which a configuration reaches `solved_at`.

The search (`search`, in `bench.run.bracket`, shared with `bench.run.width_complexity`) is a pure
function of a `solves(n) -> bool` oracle, so it is tested on synthetic "models" with a known threshold: a
geometric phase evaluates n_min, 2·n_min, 4·n_min, … (the last step
clamped to n_max) until one n passes; a bisection in log space then narrows [last failing, first passing]
until first/last <= `ratio` (default 1.25, two bisections after a doubling) or they are adjacent integers.
The reported estimate is the first passing n with that bracket; "> n_max" when no n passed, "<= n_min"
when the first did — never an interpolated or extrapolated number.

For real runs (`measure`), n passes when the median over seeds of the best validation metric
(`bench.results.measures.median_best_validation`, a failed seed counting as the worst; held-out
data, the same measurement early stopping uses) reaches the task's `solved_at`. Each run trains on a
fixed set of n samples (`TrainConfig.n_train`), stops early at `solved_at` and gets the step budget
`StepRule.steps(n, batch)` = clamp(ceil(epochs · n / min(batch, n)), min_steps, max_steps), by default
epochs 20, min_steps = the profile's step budget (a small set gets at least as many updates as an online
run, so failing means too few samples, not too few steps), max_steps = 4 × that. Every training run goes
through the normal runner and record store (stored runs are skipped, so searches resume and the
leaderboard sees the runs); the search itself is stored as one JSON line in
`<results>/sample_complexity/<task>.jsonl` (`load_results` reads them back). The online figure, fresh
samples seen until solved (`measures.median_samples_to_solve`, an unsolved seed counting as infinitely
many), comes from the profile's ordinary online runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.contract.errors import ArchbenchError, require
from bench.results.measures import median_samples_to_solve, median_to_solve
from bench.results.schema import run_key
from bench.results.store import JsonLines
from bench.run.bracket import (  # the search itself, shared with the width-complexity search
    DEFAULT_RATIO,
    ExecuteFn,
    SearchFailed,
    configuration_fields,
    configurations,
    geometric_sizes,
    judge,
    median_passes,
    search,
)
from bench.run.bracket import BracketResult as SearchResult
from bench.run.plan import PlannedRun

__all__ = [
    "DEFAULT_RATIO",
    "SearchFailed",
    "SearchResult",
    "StepRule",
    "configurations",
    "geometric_sizes",
    "median_passes",
    "search",
]

SUBDIR = "sample_complexity"


@dataclass(frozen=True)
class StepRule:
    """Optimizer-step budget of a run on a fixed set of n samples (see the module docstring)."""

    epochs: float
    min_steps: int
    max_steps: int

    def __post_init__(self) -> None:
        require(self.epochs > 0, f"--epochs must be > 0; got {self.epochs}")
        require(
            0 < self.min_steps <= self.max_steps,
            f"step budget needs 0 < min_steps <= max_steps; got {self.min_steps}, {self.max_steps}",
        )

    def steps(self, n: int, batch_size: int) -> int:
        return min(max(math.ceil(self.epochs * n / min(batch_size, n)), self.min_steps), self.max_steps)

    def describe(self) -> str:
        return f"steps = clamp(ceil({self.epochs:g} * n / min(batch, n)), {self.min_steps}, {self.max_steps})"


def runs_at(runs: Sequence[PlannedRun], n: int, rule: StepRule) -> list[PlannedRun]:
    """The configuration's seeds trained on a fixed set of n samples under the step rule, stopping at solved_at."""
    return [
        dataclasses.replace(
            r, train=dataclasses.replace(r.train, n_train=n, early_stop=True, steps=rule.steps(n, r.train.batch_size))
        )
        for r in runs
    ]


def measure(
    runs: Sequence[PlannedRun], execute: ExecuteFn, n_min: int, n_max: int, rule: StepRule, ratio: float = DEFAULT_RATIO
) -> dict[str, Any]:
    """Search one configuration (`runs`: its seeds, online) and return the stored result (without provenance)."""
    solved_at = runs[0].task.solved_at
    evaluations: list[dict[str, Any]] = []

    def solves(n: int) -> bool:
        records = execute(runs_at(runs, n, rule))
        passed, seen = judge(records, solved_at)
        evaluations.append({"n": n, "steps": records[0]["train_config"]["steps"], **seen})
        return passed

    result: dict[str, Any] = {"status": "ok", "error": None}
    try:
        found = search(solves, n_min, n_max, ratio)
        result.update(estimate=found.estimate, bracket=list(found.bracket), text=found.text(), path=found.path())
    except SearchFailed as exc:
        result.update(status="failed", error=str(exc), estimate=None, bracket=[None, None], text="failed", path="")
    online = execute(list(runs))
    result.update(evaluations=evaluations, online=online_figure(online))
    return result


def online_figure(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fresh samples seen until solved, per seed and as a median (an unsolved seed counts as infinitely many)."""
    metrics = [r["metrics"] for r in records if r.get("status") == "ok"]
    per_seed = [m["samples_to_solve"] for m in metrics]
    median = median_samples_to_solve(metrics)
    return {
        "samples_to_solve": per_seed,
        "median": None if math.isinf(median) else median,
        "text": median_to_solve(metrics) if metrics else "failed",
        "keys": [r["key"] for r in records],
    }


def search_key(runs: Sequence[PlannedRun], n_min: int, n_max: int, ratio: float, rule: StepRule) -> str:
    """Content address of a search: its configuration, seeds, range, resolution and step rule."""
    first = runs[0]
    train = {
        **first.train.to_dict(),
        "search": {
            "n_min": n_min,
            "n_max": n_max,
            "ratio": ratio,
            "rule": dataclasses.asdict(rule),
            "seeds": [r.seed for r in runs],
        },
    }
    return run_key(first.task_name, first.task.config(), first.arch, first.arch_config, train, -1)


def make_result(
    runs: Sequence[PlannedRun],
    measured: dict[str, Any],
    n_min: int,
    n_max: int,
    ratio: float,
    rule: StepRule,
    profile: str,
    command: str | None,
) -> dict[str, Any]:
    """The stored line: configuration, search settings, outcome, and the keys of every run it used."""
    return {
        "key": search_key(runs, n_min, n_max, ratio, rule),
        "kind": "sample_complexity",
        **configuration_fields(runs, profile),
        "n_min": n_min,
        "n_max": n_max,
        "ratio": ratio,
        "step_rule": {**dataclasses.asdict(rule), "text": rule.describe()},
        **measured,
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def result_store(results_root: str | Path, subdir: str = SUBDIR) -> JsonLines[dict[str, Any]]:
    """Search results live beside the run records, in a subdirectory the run-record reader never globs
    (`sample_complexity/`, `width_complexity/`)."""
    return JsonLines(Path(results_root) / subdir, dict)


def load_results(results_root: str | Path, task: str | None = None, subdir: str = SUBDIR) -> list[dict[str, Any]]:
    """The latest stored search per configuration (a rerun supersedes an earlier one), optionally of one task."""
    latest = result_store(results_root, subdir).latest().values()
    return [r for r in latest if task is None or r["task"] == task]


def check_range(n_min: int | None, n_max: int | None) -> tuple[int, int]:
    """The search range from flags or the profile; a missing or bad one is a user error."""
    if n_min is None or n_max is None:
        raise ArchbenchError("sample-complexity needs --n-min and --n-max (the profile sets none)")
    require(1 <= n_min <= n_max, f"--n-min must be >= 1 and <= --n-max; got --n-min {n_min}, --n-max {n_max}")
    return n_min, n_max
