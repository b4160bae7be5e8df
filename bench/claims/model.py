"""A claim as data: its arms, budgets per profile, follow-ups and rules; judging it and planning its runs.

A `Claim` carries the paper, the claim in one sentence, what the paper reports (in words, never invented
digits), the task and its parameters, the arms (architecture + its own task/architecture parameters),
the budget per profile (`claims` sized for a 2-core CPU in about ten minutes, `paper` the source sizes)
and the rules (`bench.claims.rules`) that decide the verdict. Measured numbers never live here: they are
computed from stored records when the page is generated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.claims.rules import Outcome, Rule, combine


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: an architecture with its own parameters (e.g. `codes=fixed`)."""

    name: str
    arch: str
    arch_params: Mapping[str, Any] = field(default_factory=dict)
    task_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budget:
    """A claim's settings under one profile, on top of the profile's: task sizes, TrainConfig fields,
    architecture settings by arm name (e.g. a position scheme a follow-up tries for one arm; on top of
    the arm's own), and optionally seeds and preset (None: the profile's)."""

    task_params: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    arch_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] | None = None
    preset: str | None = None


@dataclass(frozen=True)
class FollowUp:
    """What we try when a claim does not reproduce at a profile's budget: a larger budget (preset, steps,
    task size) for some arms (all when `arms` is empty), judged by the rules those arms decide. `why` says
    what the first verdict suggested and why these settings (in words: the page shows the figures). A
    follow-up that reproduces backs the explanation "budget or size"; one that does not is reported just
    the same."""

    why: str
    budget: Budget
    arms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A paper's headline claim as an experiment. Profiles without a budget here (`smoke`, a user's
    file) run the claim with the profile's own settings."""

    name: str
    paper: str
    claim: str
    paper_figure: str  # what the paper reports, in words where we have no exact number
    task: str
    arms: tuple[Arm, ...]
    rules: tuple[Rule, ...]
    task_params: Mapping[str, Any] = field(default_factory=dict)
    budgets: Mapping[str, Budget] = field(default_factory=dict)
    follow_ups: Mapping[str, FollowUp] = field(default_factory=dict)  # profile -> what to try if not reproduced
    # What the runs say beyond the verdict (a shortcut the models found, the method, a qualitative finding),
    # printed on the reproductions page. No measured number: the page shows those from the stored records.
    note: str = ""

    def __post_init__(self) -> None:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.name!r}: arm names repeat: {names}")
        for follow_up in self.follow_ups.values():
            unknown = [arm for arm in follow_up.arms if arm not in names]
            if unknown:
                raise ValueError(f"claim {self.name!r}: follow-up names unknown arm(s) {unknown}; arms: {names}")
        for budget in [*self.budgets.values(), *(f.budget for f in self.follow_ups.values())]:
            unknown = [arm for arm in budget.arch_params if arm not in names]
            if unknown:
                raise ValueError(
                    f"claim {self.name!r}: budget sets architecture settings for unknown arm(s) {unknown}; arms: {names}"
                )
        for rule in self.rules:
            missing = [arm for arm in rule.arms if arm not in names]
            if missing:
                raise ValueError(
                    f"claim {self.name!r}: rule {rule.describe()!r} names unknown arm(s) {missing}; arms: {names}"
                )

    def budget(self, profile: str) -> Budget:
        return self.budgets.get(profile, Budget())


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim's verdict: reproduced only when every rule is; not reproduced when any rule is not."""

    claim: Claim
    verdict: str
    outcomes: tuple[Outcome, ...]

    @property
    def figure(self) -> str:
        return "; ".join(o.figure for o in self.outcomes)

    @property
    def reasons(self) -> str:
        return "; ".join(o.reason for o in self.outcomes if o.reason)


def ok_runs(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The successful runs among `records` (a failed run has no metrics and no vote)."""
    return [r for r in records if r.get("status") == "ok" and r.get("metrics")]


def judge(claim: Claim, records_by_arm: Mapping[str, Sequence[Mapping[str, Any]]]) -> ClaimVerdict:
    """The claim's verdict from its run records by arm name; failed runs are left out. Only the rules
    whose arms all have records are judged (a follow-up may run some arms only)."""
    runs = {arm: ok_runs(records) for arm, records in records_by_arm.items()}
    outcomes = tuple(rule.judge(runs) for rule in claim.rules if all(arm in records_by_arm for arm in rule.arms))
    return ClaimVerdict(claim, combine([o.verdict for o in outcomes]), outcomes)


def plan_claim(
    claim: Claim, profile: Any, follow_up: FollowUp | None = None, seeds: Sequence[int] | None = None
) -> dict[str, list[Any]]:
    """Arm name -> its validated runs (`bench.run.plan.plan`) under `profile`, with the claim's budget, or
    with `follow_up`'s budget for its arms; `seeds` (e.g. fresh check seeds) replace the budget's and the
    profile's, so a verdict can be rechecked on seeds its settings were never looked at with."""
    from bench.run.plan import plan

    budget = follow_up.budget if follow_up else claim.budget(profile.name)
    arms = [arm for arm in claim.arms if not follow_up or not follow_up.arms or arm.name in follow_up.arms]
    return {
        arm.name: plan(
            claim.task,
            [arm.arch],
            profile,
            seeds=list(seeds) if seeds else list(budget.seeds) if budget.seeds else None,
            preset=budget.preset,
            task_grid=[{**claim.task_params, **budget.task_params, **arm.task_params}],
            arch_grid=[{**arm.arch_params, **budget.arch_params.get(arm.name, {})}],
            train_overrides=dict(budget.train),
        )
        for arm in arms
    }


def describe_budget(budget: Budget) -> str:
    """`preset small, steps 6000, task length 10`: a budget's departures from the profile, in words."""
    parts = [f"preset {budget.preset}"] if budget.preset else []
    parts += [f"{key} {value}" for key, value in budget.train.items()]
    parts += [f"{arm} {key} {value}" for arm, params in budget.arch_params.items() for key, value in params.items()]
    parts += [f"task {key} {value}" for key, value in budget.task_params.items()]
    parts += [f"seeds {','.join(map(str, budget.seeds))}"] if budget.seeds else []
    return ", ".join(parts) or "the profile's settings"
