"""The smallest passing value of an integer axis, with the bracket it was found in: the one search behind
`archbench sample-complexity` (the axis is the training-set size n) and `archbench width-complexity` (a
model's width, or any integer task or architecture setting).

The search (`search`) is a pure function of a `passes(value) -> bool` oracle, so it is tested on synthetic
"models" with a known threshold: a geometric phase evaluates start, 2·start, 4·start, … (the last step
clamped to the limit) until one value passes; a bisection in log space then narrows [last failing, first
passing] until first/last <= `ratio` or they are adjacent integers. The reported estimate is the first
passing value with that bracket; "> limit" when nothing passed, "<= start" when the first did — never an
interpolated or extrapolated number.

For real runs a value passes when the median over seeds of the best validation metric reaches the task's
`solved_at` (`median_passes`; a failed seed counts as the worst), judged from the records of that value's
runs by `judge`, which both searches share.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.contract.errors import require
from bench.results.measures import Metrics, best_validation, median_best_validation, run_metrics, solved
from bench.results.schema import canonical_json
from bench.run.plan import PlannedRun

DEFAULT_RATIO = 1.25


@dataclass(frozen=True)
class BracketResult:
    """What the search saw: every (value, passed) in evaluation order and the final bracket."""

    start: int
    limit: int
    ratio: float
    evaluated: tuple[tuple[int, bool], ...]
    last_failing: int | None  # largest value seen failing below first_passing (None: start passed)
    first_passing: int | None  # smallest value seen passing (None: nothing up to limit passed)

    @property
    def estimate(self) -> int | None:
        return self.first_passing

    @property
    def bracket(self) -> tuple[int | None, int | None]:
        return (self.last_failing, self.first_passing)

    def text(self) -> str:
        """`181 in [152, 181]`, `> 65536` or `<= 64`."""
        if self.first_passing is None:
            return f"> {self.limit:,}"
        if self.last_failing is None:
            return f"<= {self.first_passing:,}"
        return f"{self.first_passing:,} in [{self.last_failing:,}, {self.first_passing:,}]"

    def path(self) -> str:
        """Evaluation order with outcomes, e.g. `64✗ 128✗ 256✓ 181✓ 152✗`."""
        return " ".join(f"{n}{'✓' if ok else '✗'}" for n, ok in self.evaluated)

    def scaled(self, factor: int) -> BracketResult:
        """The same search with every value multiplied by `factor` (a search run in units of a width
        that must be a multiple of `factor`)."""

        def times(value: int | None) -> int | None:
            return None if value is None else value * factor

        return dataclasses.replace(
            self,
            start=self.start * factor,
            limit=self.limit * factor,
            evaluated=tuple((n * factor, ok) for n, ok in self.evaluated),
            last_failing=times(self.last_failing),
            first_passing=times(self.first_passing),
        )


def geometric_sizes(start: int, limit: int) -> list[int]:
    """start, 2·start, 4·start, … below limit, then limit itself (so "> limit" means limit was tried)."""
    sizes, n = [], start
    while n < limit:
        sizes.append(n)
        n *= 2
    return sizes + [limit]


def search(
    passes: Callable[[int], bool],
    start: int,
    limit: int,
    ratio: float = DEFAULT_RATIO,
    what: str = "sample-complexity",
    var: str = "n",
) -> BracketResult:
    """Smallest passing value by doubling from `start`, then log-space bisection to resolution `ratio`.

    Every value is evaluated at most once. With a monotone oracle whose threshold v* lies in [start,
    limit] the bracket holds v* (last_failing < v* <= first_passing) and first/last <= ratio (or they
    differ by 1). With a noisy oracle the bracket still records exactly what was seen: last_failing
    failed, first_passing passed, and nothing between them was evaluated. `what` and `var` name the
    search and its axis in error messages (`sample-complexity`, `n`).
    """
    require(
        1 <= start <= limit,
        f"{what} range needs 1 <= {var}_min <= {var}_max; got {var}_min={start}, {var}_max={limit}",
    )
    require(ratio > 1, f"{what} resolution ratio must be > 1; got {ratio}")
    evaluated: list[tuple[int, bool]] = []

    def check(n: int) -> bool:
        passed = bool(passes(n))
        evaluated.append((n, passed))
        return passed

    low: int | None = None
    high: int | None = None
    for n in geometric_sizes(start, limit):
        if check(n):
            high = n
            break
        low = n
    if high is not None and low is not None:
        while high / low > ratio and high - low > 1:
            mid = min(max(round(math.sqrt(low * high)), low + 1), high - 1)
            if check(mid):
                high = mid
            else:
                low = mid
    return BracketResult(start, limit, ratio, tuple(evaluated), low, high)


def median_passes(runs: Sequence[Metrics], threshold: float) -> bool:
    """The median over seeds of the best validation metric reaches `threshold`
    (`measures.median_best_validation`: a seed without one, a failed run, counts as -inf; without seeds, no)."""
    return median_best_validation(runs) >= threshold


class SearchFailed(Exception):
    """Every run at some value failed (a crash, not a result): the search stops rather than report "> limit"."""


def judge(records: Sequence[Mapping[str, Any]], solved_at: float) -> tuple[bool, dict[str, Any]]:
    """Whether one value passes, from the records of its seeds, and what the stored search keeps of them
    (per seed: best validation metric, solved; the run keys). Raises `SearchFailed` when every run failed."""
    if not any(r.get("status") == "ok" for r in records):
        raise SearchFailed(records[0].get("error") or "failed")
    metrics = [run_metrics(r) for r in records]
    passed = median_passes(metrics, solved_at)
    return passed, {
        "passed": passed,
        "val_best": [best_validation(m) for m in metrics],
        "solved": [solved(m) for m in metrics],
        "keys": [r["key"] for r in records],
    }


ExecuteFn = Callable[[list[PlannedRun]], Sequence[Mapping[str, Any]]]  # runs -> their records


def configurations(runs: Sequence[PlannedRun]) -> list[list[PlannedRun]]:
    """Planned runs grouped by configuration (everything but the seed), in plan order."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in runs:
        groups.setdefault(canonical_json([run.task.config(), run.arch, run.arch_config, run.label]), []).append(run)
    return list(groups.values())


def configuration_fields(runs: Sequence[PlannedRun], profile: str) -> dict[str, Any]:
    """What a stored search line says about the configuration it searched (task, model, training, seeds):
    the same fields for every search over one axis, so the result pages read them alike."""
    first = runs[0]
    return {
        "task": first.task_name,
        "task_config": first.task.config(),
        "arch": first.arch,
        "label": first.label,
        "arch_config": first.arch_config,
        "preset": first.preset,
        "profile": profile,
        "train_config": first.train.to_dict(),
        "seeds": [r.seed for r in runs],
        "solved_at": first.task.solved_at,
        "metric": first.task.metric,
    }
