"""Every figure computed from run records, defined once.

The run table, the leaderboard, the claims, learning-rate selection, the sample-complexity search and the
benchmark suite all call these functions; none of them computes a figure of its own. Why: the same
figure computed in several places drifts (the median samples to solve once counted unsolved seeds as
infinite in three places and skipped them in a fourth; the mean beyond the training length once skipped
lengths a model cannot take in one place and was n/a in another), and then two pages disagree about one
set of records. Records store raw measurements only (the metric at every length, whether and when
validation first reached `solved_at`, samples seen, the validation history); everything derived is
computed here, at read time. A field an old record still carries with a derived figure in it (`ood_mean`)
is never read.

`metrics` below is one run's `metrics` dict. A failed run has none: `run_metrics` gives it `{}`, which has
no figure (not solved, infinitely many samples to solve, no validation metric), for the places that count
a failed seed as the worst outcome (learning-rate selection, the sample-complexity search). Pages leave
failed seeds out of their figures and count them apart.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from bench.results.stats import DEFAULT_METHOD, Estimate, MedianEstimate, mean_ci, median_interval

Metrics = Mapping[str, Any]
Figure = Callable[[Metrics], float | None]  # one seed's figure from its metrics (None: n/a)
Verdict = Literal["all", "some", "none"]  # how many seeds of a configuration did something


def run_metrics(record: Mapping[str, Any]) -> Metrics:
    """A record's metrics; `{}` for a failed run (no figure: unsolved, no validation metric)."""
    return (record.get("metrics") or {}) if record.get("status") == "ok" else {}


# --- per seed: the metric -----------------------------------------------------------------------------


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
    known = [float(value) for value in beyond if value is not None]
    if not beyond or len(known) < len(beyond):
        return None
    return sum(known) / len(known)


def run_beyond_training_mean(metrics: Metrics, train_length: int) -> float | None:
    """`beyond_training_mean` of one run's metrics."""
    return beyond_training_mean(metrics.get("by_length") or {}, train_length)


def first_beyond_training(metrics: Metrics, train_length: int) -> float | None:
    """The test metric at the shortest evaluated length beyond `train_length` (whatever the profile's
    lengths are); None when there is no such length or the model cannot take it."""
    beyond = sorted(int(key) for key in (metrics.get("by_length") or {}) if int(key) > train_length)
    return at_length(metrics, beyond[0]) if beyond else None


def best_validation(metrics: Metrics) -> float | None:
    """The best validation metric seen during training (what learning-rate selection and the
    sample-complexity search score, and what early stopping compares with `solved_at`)."""
    history: Iterable[Sequence[float]] = metrics.get("val_history") or ()
    values = [float(v) for _, v in history]
    if values:
        return max(values)
    value = metrics.get("val_best")
    return None if value is None else float(value)


# --- per seed: solving --------------------------------------------------------------------------------


def solved(metrics: Metrics) -> bool:
    """Validation reached the task's `solved_at` within the budget (the harness's `solved`)."""
    return bool(metrics.get("solved"))


def samples_to_solve(metrics: Metrics) -> float:
    """Training samples seen when validation first reached `solved_at`; infinite for an unsolved run."""
    value = metrics.get("samples_to_solve")
    return math.inf if value is None or not solved(metrics) else float(value)


def samples_to_solve_lower_bound(metrics: Metrics) -> float:
    """Samples to solve, an unsolved run counting at the samples it saw: a lower bound on what it would
    need (censored data; the claims' `FewerSamples` rule uses it, which can only favour the unsolved arm)."""
    value = samples_to_solve(metrics)
    return float(metrics.get("samples_seen") or 0) if math.isinf(value) else value


def time_to_solve(metrics: Metrics) -> float:
    """Training seconds until validation first reached `solved_at`; infinite for an unsolved run."""
    value = metrics.get("time_to_solve_s")
    return math.inf if value is None or not solved(metrics) else float(value)


# --- over seeds ---------------------------------------------------------------------------------------


def over_seeds(values: Iterable[float | None], method: str = DEFAULT_METHOD) -> Estimate | None:
    """Mean and 95% interval over the seeds that have the figure; None (n/a) when none has it. Every
    mean-over-seeds on every page is this one."""
    present = [float(v) for v in values if v is not None]
    return mean_ci(present, method) if present else None


def solved_count(runs: Sequence[Metrics]) -> tuple[int, int]:
    """(seeds solved, seeds) over one configuration's runs."""
    return sum(solved(m) for m in runs), len(runs)


def solved_fraction(runs: Sequence[Metrics]) -> float | None:
    """Fraction of seeds solved; None without runs."""
    done, total = solved_count(runs)
    return done / total if total else None


def median_samples_to_solve(runs: Sequence[Metrics]) -> float:
    """Median over seeds of samples to solve, an unsolved seed counting as infinitely many (so the median
    is infinite when half or more of the seeds did not solve); infinite without runs."""
    if not runs:
        return math.inf
    return float(statistics.median(sorted(samples_to_solve(m) for m in runs)))


def median_time_to_solve(runs: Sequence[Metrics]) -> float:
    """Median over seeds of seconds to solve, an unsolved seed counting as infinitely many (as
    `median_samples_to_solve`); infinite without runs."""
    if not runs:
        return math.inf
    return float(statistics.median(sorted(time_to_solve(m) for m in runs)))


def median_best_validation(runs: Sequence[Metrics]) -> float:
    """Median over seeds of `best_validation`, a seed without one (a failed run) counting as -inf (so a
    configuration whose seeds fail cannot pass on one lucky seed); -inf without runs."""
    if not runs:
        return -math.inf
    return float(statistics.median(sorted(-math.inf if (v := best_validation(m)) is None else v for m in runs)))


def samples_to_solve_interval(runs: Sequence[Metrics]) -> MedianEstimate | None:
    """Median samples to solve over seeds (unsolved: infinitely many) with its distribution-free order-statistic
    interval (`stats.median_interval`); None without runs."""
    return median_interval([samples_to_solve(m) for m in runs]) if runs else None


# --- verdicts over seeds (what the literature agreement compares with a paper) -------------------------


def verdict(flags: Sequence[bool]) -> Verdict | None:
    """`all`, `some` or `none` of the seeds; None without seeds."""
    if not flags:
        return None
    done = sum(bool(f) for f in flags)
    return "all" if done == len(flags) else ("some" if done else "none")


def solve_verdict(runs: Sequence[Metrics]) -> Verdict | None:
    """Solved in all / some / no seeds (`solved`: validation reached `solved_at` within the budget)."""
    return verdict([solved(m) for m in runs])


def generalizes(metrics: Metrics, train_length: int, threshold: float) -> bool | None:
    """One seed keeps the task beyond its training length: its mean metric over every longer evaluated length
    (`run_beyond_training_mean`) reaches `threshold`. None when it has no such figure (no longer length, or
    one it cannot take)."""
    value = run_beyond_training_mean(metrics, train_length)
    return None if value is None else value >= threshold


def beyond_verdict(runs: Sequence[Metrics], train_length: int, threshold: float) -> Verdict | None:
    """`generalizes` in all / some / no seeds; None without runs or when any seed has no figure (a verdict over
    fewer seeds than the cell has would hide the ones that could not be judged)."""
    flags = [generalizes(m, train_length, threshold) for m in runs]
    if not flags or any(f is None for f in flags):
        return None
    return verdict([bool(f) for f in flags])


def above(values: Iterable[float | None], level: float) -> bool | None:
    """The mean over seeds exceeds `level` beyond noise: its 95% interval lies above it (one seed: the value
    does). None without values. Used to tell "learned something" from "at chance"."""
    estimate = over_seeds(values)
    if estimate is None:
        return None
    return (estimate.low if estimate.low is not None else estimate.mean) > level


# --- as table text ------------------------------------------------------------------------------------


def _median_text(median: float, budgets: Iterable[Any], digits: int) -> str:
    """A to-solve median as text; `> B` (B the largest budget any seed had) when it is infinite."""
    if math.isinf(median):
        return f"> {max((float(b) for b in budgets if b is not None), default=0.0):,.{digits}f}"
    return f"{median:,.{digits}f}"


def median_to_solve(runs: Sequence[Metrics]) -> str:
    """`median_samples_to_solve` as table text: `12,800`, or `> N` (N the most samples any seed saw)."""
    return _median_text(median_samples_to_solve(runs), (m.get("samples_seen") for m in runs), 0)


def median_time_to_solve_text(runs: Sequence[Metrics]) -> str:
    """`median_time_to_solve` as table text: `12.5`, or `> S` (S the longest training time of any seed)."""
    return _median_text(median_time_to_solve(runs), (m.get("fit_seconds") for m in runs), 1)


def median_to_solve_interval(runs: Sequence[Metrics]) -> str:
    """`samples_to_solve_interval` as text: `12,800 [9,600, 25,600]`; an infinite bound (an unsolved seed)
    reads `> N`, N the most samples any seed saw; one seed: the bare figure."""
    estimate = samples_to_solve_interval(runs)
    if estimate is None:
        return "n/a"
    seen = [m.get("samples_seen") for m in runs]
    core = _median_text(estimate.median, seen, 0)
    if estimate.low is None or estimate.high is None or math.isinf(estimate.median) or estimate.low == estimate.high:
        return core  # one seed, an unsolved median, or every seed alike: no interval to show
    return f"{core} [{_median_text(estimate.low, seen, 0)}, {_median_text(estimate.high, seen, 0)}]"


# --- curves over training (the seed-paper page) --------------------------------------------------------


def samples_to_reach(metrics: Metrics, threshold: float, batch_size: int) -> float:
    """Training samples seen at the first validation whose metric reached `threshold` (whatever the task's
    own `solved_at`); infinite when none did. Read from the validation history, so one run answers for any
    threshold (e.g. r2 0.95 for a task solved at 0.9)."""
    for step, value in metrics.get("val_history") or ():
        if float(value) >= threshold:
            return float(step) * batch_size
    return math.inf


def val_loss_curve(metrics: Metrics) -> list[tuple[int, float]]:
    """(step, mean validation loss) at every validation; empty for a record from before the curve was stored."""
    return [(int(step), float(value)) for step, value in metrics.get("val_loss_history") or ()]


def diagnostic_curve(metrics: Metrics, name: str) -> list[tuple[int, float]]:
    """(step, value) of the model's diagnostic `name` at every validation (`RunMetrics.diagnostics_history`)."""
    return [
        (int(step), float(values[name])) for step, values in metrics.get("diagnostics_history") or () if name in values
    ]
