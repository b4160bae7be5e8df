"""Every figure computed from run records, defined once.

The run table, the leaderboard, the claims, learning-rate selection, the sample-complexity search and the
benchmark suite all call these functions; none of them computes a figure of its own. Why: the same
figure computed in several places drifts (the median samples to solve once counted unsolved seeds as
infinite in three places and skipped them in a fourth), and then two pages disagree about one set of
records. Records store raw measurements only (the metric at every length, the step at which validation
first reached `solved_at`, samples seen); everything derived is computed here, at read time.

`metrics` below is one run's `metrics` dict (a successful run's; failed runs have none).
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Iterable, Mapping, Sequence

Metrics = Mapping[str, Any]


def in_distribution(metrics: Metrics) -> float | None:
    """The test metric at the training length."""
    value = metrics.get("in_distribution")
    return None if value is None else float(value)


def at_length(metrics: Metrics, length: int) -> float | None:
    """The test metric at problem size `length`; None where the model cannot take that length or it was
    not evaluated."""
    value = (metrics.get("by_length") or {}).get(str(length))
    return None if value is None else float(value)


def beyond_training_mean(by_length: Mapping[str, float | None], train_length: int) -> float | None:
    """One seed's mean metric over every evaluated length beyond `train_length`.

    None when there is no such length, or when any of them is n/a (a model that cannot take a length has
    no figure beyond the training length: averaging only the lengths it can take would compare it with
    other models on an easier set of lengths).
    """
    beyond = [value for key, value in by_length.items() if int(key) > train_length]
    if not beyond or any(value is None for value in beyond):
        return None
    return sum(float(v) for v in beyond) / len(beyond)  # type: ignore[arg-type]


def run_beyond_training_mean(metrics: Metrics, train_length: int) -> float | None:
    """`beyond_training_mean` of one run's metrics."""
    return beyond_training_mean(metrics.get("by_length") or {}, train_length)


def first_beyond_training(metrics: Metrics, train_length: int) -> float | None:
    """The metric at the smallest evaluated length beyond `train_length`; None when there is no such
    length or the model cannot take it (n/a)."""
    beyond = sorted(int(key) for key in (metrics.get("by_length") or {}) if int(key) > train_length)
    return at_length(metrics, beyond[0]) if beyond else None


def solved(metrics: Metrics) -> bool:
    """Validation reached the task's `solved_at` within the budget (the harness's `solved`)."""
    return bool(metrics.get("solved"))


def solved_count(runs: Sequence[Metrics]) -> tuple[int, int]:
    """(seeds solved, seeds) over one configuration's successful runs."""
    return sum(solved(m) for m in runs), len(runs)


def solved_fraction(runs: Sequence[Metrics]) -> float | None:
    """Fraction of seeds solved; None without runs."""
    done, total = solved_count(runs)
    return done / total if total else None


def samples_to_solve(metrics: Metrics) -> float:
    """Training samples seen when validation first reached `solved_at`; infinite for an unsolved run."""
    value = metrics.get("samples_to_solve")
    return math.inf if value is None or not solved(metrics) else float(value)


def samples_to_solve_lower_bound(metrics: Metrics) -> float:
    """Samples to solve, an unsolved run counting at the samples it saw: a lower bound on what it would
    need (censored data; the claims' `FewerSamples` rule uses it, which can only favour the unsolved arm)."""
    value = samples_to_solve(metrics)
    return float(metrics.get("samples_seen") or 0) if math.isinf(value) else value


def median_samples_to_solve(runs: Sequence[Metrics]) -> float:
    """Median over seeds of samples to solve, an unsolved seed counting as infinitely many (so the median
    is infinite when half or more of the seeds did not solve); infinite without runs."""
    if not runs:
        return math.inf
    return float(statistics.median(sorted(samples_to_solve(m) for m in runs)))


def median_to_solve(runs: Sequence[Metrics]) -> str:
    """`median_samples_to_solve` as table text: `12,800`, or `> N` (N the most samples any seed saw)."""
    median = median_samples_to_solve(runs)
    if math.isinf(median):
        return f"> {max((int(m.get('samples_seen') or 0) for m in runs), default=0):,}"
    return f"{median:,.0f}"


def best_validation(metrics: Metrics) -> float | None:
    """The best validation metric seen during training (learning-rate selection's score)."""
    history: Iterable[Sequence[float]] = metrics.get("val_history") or ()
    values = [float(v) for _, v in history]
    if values:
        return max(values)
    value = metrics.get("val_best")
    return None if value is None else float(value)
