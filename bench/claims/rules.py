"""What a claim compares (quantities) and how a verdict is decided (rules): pure functions of run records.

Every figure a rule reads comes from `bench.results.measures`, so a claim's "median samples to solve" or
"mean beyond the training length" is the same number the leaderboard shows for the same records. Rules
read successful run records (`metrics` and `task_config`, whose `length` is the training length that the
beyond-training quantities need), so the verdict of a stored sweep can be recomputed at any time and
tested on fabricated records.

Verdicts are deliberately three-valued: with the few seeds a CPU affords, "the interval overlaps" is
common and must read as "inconclusive", never as "reproduced" or as "refuted".
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bench.results import measures
from bench.results.stats import differ, mean_ci

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
MIN_SEEDS = 2  # a 95% interval needs at least two values per arm

Run = Mapping[str, Any]  # a successful run record: its `metrics` and its `task_config`
RunsByArm = Mapping[str, Sequence[Run]]


def metrics_of(run: Run) -> Mapping[str, Any]:
    return run.get("metrics") or {}


def train_length(run: Run) -> int:
    """The length the run trained at (every task's config has one)."""
    return int(run["task_config"]["length"])


@dataclass(frozen=True)
class Quantity:
    """What is compared, read from one run: `in_distribution`, `ood_mean` (the mean over every evaluated
    length beyond the training length), `at_length` (the metric at test length `length`) or
    `first_beyond` (at the shortest evaluated length beyond the training length, whatever the profile's
    lengths are). None when the run has no such figure (say a model that cannot take that length); rules
    drop None values, so a missing figure can only make a verdict inconclusive."""

    kind: str
    length: int | None = None

    KINDS = ("in_distribution", "ood_mean", "at_length", "first_beyond")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown quantity {self.kind!r}; valid: {', '.join(self.KINDS)}")
        if (self.kind == "at_length") != (self.length is not None):
            raise ValueError("quantity 'at_length' needs a length, and only it")

    def value(self, run: Run) -> float | None:
        metrics = metrics_of(run)
        if self.kind == "in_distribution":
            return measures.in_distribution(metrics)
        if self.kind == "at_length":
            assert self.length is not None
            return measures.at_length(metrics, self.length)
        if self.kind == "ood_mean":
            return measures.run_beyond_training_mean(metrics, train_length(run))
        return measures.first_beyond_training(metrics, train_length(run))

    def describe(self) -> str:
        return {
            "in_distribution": "in-distribution metric",
            "ood_mean": "mean metric beyond the training length",
            "at_length": f"metric at length {self.length}",
            "first_beyond": "metric at the shortest test length beyond the training length",
        }[self.kind]


IN_DISTRIBUTION = Quantity("in_distribution")
OOD_MEAN = Quantity("ood_mean")
FIRST_BEYOND = Quantity("first_beyond")


def at_length(length: int) -> Quantity:
    return Quantity("at_length", length)


@dataclass(frozen=True)
class Outcome:
    """One rule's verdict with our figure as text (means, intervals, seed counts) and why."""

    verdict: str
    figure: str
    reason: str = ""


class Rule(Protocol):
    """A pure function of the run records by arm name -> Outcome; `arms` names the arms it reads."""

    @property
    def arms(self) -> tuple[str, ...]: ...

    def describe(self) -> str: ...

    def judge(self, runs_by_arm: RunsByArm) -> Outcome: ...


def combine(verdicts: Sequence[str]) -> str:
    """All rules reproduced -> reproduced; any not reproduced -> not reproduced; else inconclusive."""
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if verdicts and all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE


def _values(runs: Sequence[Run], quantity: Quantity) -> list[float]:
    return [float(v) for v in (quantity.value(r) for r in runs) if v is not None]


def _estimate_text(values: Sequence[float]) -> str:
    return mean_ci(values).format() if values else "no value (n=0)"


def solve_text(runs: Sequence[Run]) -> str:
    """`solved 2/3, median samples to solve 6,400`: the seeds solved and `measures.median_to_solve`
    (an unsolved seed counts as infinitely many samples, so the median reads `> N` when half or more of
    the seeds did not solve)."""
    metrics = [metrics_of(r) for r in runs]
    done, total = measures.solved_count(metrics)
    if not total:
        return "solved 0/0"
    return f"solved {done}/{total}, median samples to solve {measures.median_to_solve(metrics)}"


@dataclass(frozen=True)
class Exceeds:
    """Arm `a`'s quantity exceeds arm `b`'s: the headline form of a separation ("attention solves it, the
    recurrent model does not").

    Why these thresholds: reproduced when the 95% Welch interval of mean(a) - mean(b) lies above 0 (the
    ordering is beyond seed noise); not reproduced when it lies at or below 0, or entirely below `margin`
    (then a is shown to be at most `margin` better, too little to be the claimed separation); otherwise,
    and with fewer than two seeds per arm, inconclusive.
    """

    a: str
    b: str
    quantity: Quantity
    margin: float = 0.0

    @property
    def arms(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def describe(self) -> str:
        return f"{self.a} > {self.b} on the {self.quantity.describe()}"

    def judge(self, runs_by_arm: RunsByArm) -> Outcome:
        a, b = (_values(runs_by_arm.get(arm, ()), self.quantity) for arm in (self.a, self.b))
        diff = differ(a, b)
        figure = f"{self.quantity.describe()}: {self.a} {_estimate_text(a)} vs {self.b} {_estimate_text(b)}"
        if diff.low is None or diff.high is None:
            return Outcome(
                INCONCLUSIVE,
                figure,
                f"too few seeds: needs at least {MIN_SEEDS} values per arm, got {len(a)} and {len(b)}",
            )
        figure += f"; difference {diff.format()}"
        if diff.high <= 0 or diff.high < self.margin:
            return Outcome(
                NOT_REPRODUCED,
                figure,
                f"{self.a} is not above {self.b}" + (f" by {self.margin:g}" if self.margin else ""),
            )
        if diff.low > 0:
            return Outcome(REPRODUCED, figure)
        return Outcome(INCONCLUSIVE, figure, "the 95% interval of the difference contains 0")


@dataclass(frozen=True)
class AtLeast:
    """Every arm in `arm_names` reaches `threshold` on the quantity: the form of "every family eventually
    learns it" or "the error approaches least squares" (an absolute level, not an ordering).

    Why: reproduced when every arm's 95% interval lies at or above the threshold; not reproduced when some
    arm's interval lies entirely below it; otherwise, or with fewer than two seeds, inconclusive. The
    figure also gives each arm's solved seeds and median samples to solve, which the papers report.
    """

    arm_names: tuple[str, ...]
    threshold: float
    quantity: Quantity

    @property
    def arms(self) -> tuple[str, ...]:
        return self.arm_names

    def describe(self) -> str:
        return f"{', '.join(self.arm_names)} reach {self.threshold:g} on the {self.quantity.describe()}"

    def judge(self, runs_by_arm: RunsByArm) -> Outcome:
        parts: list[str] = []
        verdicts: list[bool | None] = []  # per arm: reaches the threshold, stays below, or undecided
        for arm in self.arm_names:
            runs = runs_by_arm.get(arm, ())
            values = _values(runs, self.quantity)
            parts.append(f"{arm} {_estimate_text(values)}" + (f" ({solve_text(runs)})" if runs else ""))
            estimate = mean_ci(values) if values else None
            if estimate is None or estimate.low is None or estimate.high is None:
                verdicts.append(None)
            elif estimate.high < self.threshold:
                verdicts.append(False)
            else:  # True: shown to reach it; None: the interval contains the threshold
                verdicts.append(True if estimate.low >= self.threshold else None)
        figure = f"{self.quantity.describe()} (threshold {self.threshold:g}): " + "; ".join(parts)
        if False in verdicts:
            below = [arm for arm, v in zip(self.arm_names, verdicts) if v is False]
            return Outcome(NOT_REPRODUCED, figure, f"{', '.join(below)} stay below {self.threshold:g}")
        if all(verdicts):
            return Outcome(REPRODUCED, figure)
        few = [arm for arm in self.arm_names if len(_values(runs_by_arm.get(arm, ()), self.quantity)) < MIN_SEEDS]
        if few:
            return Outcome(INCONCLUSIVE, figure, f"too few seeds: {', '.join(few)} need at least {MIN_SEEDS} values")
        return Outcome(INCONCLUSIVE, figure, f"an interval contains the threshold {self.threshold:g}")


@dataclass(frozen=True)
class Solves:
    """Every arm in `arm_names` solves the task: in every seed its validation metric reached the task's
    `solved_at` within the budget (`measures.solved`, the definition behind "samples to solve").

    Why not `AtLeast(solved_at)` on the test metric: runs stop at the first validation that reaches
    solved_at, so a solved run's test metric sits *at* the threshold by construction and its interval
    straddles it — "inconclusive" however clearly the arm solved. Reproduced when every seed of every arm
    solved; not reproduced when some arm solved in no seed; otherwise (some seeds only) inconclusive.
    """

    arm_names: tuple[str, ...]

    @property
    def arms(self) -> tuple[str, ...]:
        return self.arm_names

    def describe(self) -> str:
        return f"{', '.join(self.arm_names)} solve the task (reach solved_at) in every seed"

    def judge(self, runs_by_arm: RunsByArm) -> Outcome:
        runs = {arm: runs_by_arm.get(arm, ()) for arm in self.arm_names}
        counts = {arm: measures.solved_count([metrics_of(r) for r in rs]) for arm, rs in runs.items()}
        figure = "; ".join(
            f"{arm} {solve_text(rs)}, in distribution {_estimate_text(_values(rs, IN_DISTRIBUTION))}"
            for arm, rs in runs.items()
        )
        few = [arm for arm, (_, total) in counts.items() if total < MIN_SEEDS]
        if few:
            return Outcome(INCONCLUSIVE, figure, f"too few seeds: {', '.join(few)} need at least {MIN_SEEDS} runs")
        never = [arm for arm, (done, _) in counts.items() if done == 0]
        if never:
            return Outcome(NOT_REPRODUCED, figure, f"{', '.join(never)} solved in no seed")
        if all(done == total for done, total in counts.values()):
            return Outcome(REPRODUCED, figure)
        return Outcome(INCONCLUSIVE, figure, "solved in some seeds only")


@dataclass(frozen=True)
class FewerSamples:
    """Arm `a` solves the task (reaches its solved_at) with fewer training samples than arm `b`: the form
    of a sample-complexity separation ("an FCN needs far more samples").

    Why the censoring: a seed that never solved counts at the samples it saw
    (`measures.samples_to_solve_lower_bound`), a lower bound on what it would need. That can only shrink
    the unsolved arm's figure, so a verdict drawn from it is conservative: reproduced when every seed of
    `a` solved and the 95% Welch interval of (b's lower bounds - a's samples) lies above 0; not reproduced
    when every seed of `b` solved and (a's lower bounds - b's samples) lies above 0; otherwise (neither
    solves within the budget, or overlapping intervals, or fewer than two seeds) inconclusive. The ratio
    of means is reported, with ">=" when the denominator's side was censored; the median samples to solve
    (unsolved seeds as infinite) is reported beside it.
    """

    a: str
    b: str

    @property
    def arms(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def describe(self) -> str:
        return f"{self.a} solves with fewer samples than {self.b}"

    def judge(self, runs_by_arm: RunsByArm) -> Outcome:
        (a, a_solved), (b, b_solved) = (_censored(runs_by_arm.get(arm, ())) for arm in (self.a, self.b))
        figure = (
            f"samples to solve: {self.a} {_censored_text(runs_by_arm.get(self.a, ()), a, a_solved)} vs "
            f"{self.b} {_censored_text(runs_by_arm.get(self.b, ()), b, b_solved)}"
        )
        if len(a) < MIN_SEEDS or len(b) < MIN_SEEDS:
            return Outcome(
                INCONCLUSIVE,
                figure,
                f"too few seeds: needs at least {MIN_SEEDS} runs per arm, got {len(a)} and {len(b)}",
            )
        if all(a_solved) and statistics.mean(a) > 0:
            ratio = statistics.mean(b) / statistics.mean(a)
            figure += f"; ratio {self.b}/{self.a} {'>= ' if not all(b_solved) else ''}{ratio:.2g}"
        b_minus_a, a_minus_b = differ(b, a), differ(a, b)
        if all(a_solved) and b_minus_a.low is not None and b_minus_a.low > 0:
            return Outcome(REPRODUCED, figure)
        if all(b_solved) and a_minus_b.low is not None and a_minus_b.low > 0:
            return Outcome(NOT_REPRODUCED, figure, f"{self.b} solves with fewer samples than {self.a}")
        if not any(a_solved) and not any(b_solved):
            return Outcome(INCONCLUSIVE, figure, "neither arm solved within the budget")
        return Outcome(INCONCLUSIVE, figure, "unsolved seeds or overlapping intervals leave the order open")


def _censored(runs: Sequence[Run]) -> tuple[list[float], list[bool]]:
    """Per seed: samples to solve, an unsolved seed at the samples it saw; and whether it solved."""
    metrics = [metrics_of(r) for r in runs]
    return [measures.samples_to_solve_lower_bound(m) for m in metrics], [measures.solved(m) for m in metrics]


def _censored_text(runs: Sequence[Run], values: Sequence[float], solved: Sequence[bool]) -> str:
    if not values:
        return "no run (n=0)"
    return (
        f"{mean_ci(values).format(0)} ({solve_text(runs)}"
        f"{'; mean with unsolved seeds counted at their budget' if not all(solved) else ''})"
    )
