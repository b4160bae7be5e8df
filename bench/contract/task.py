"""The task contract: a configurable generator plus its scoring rule (see DESIGN.md, "Task contract").

A task is a dataclass (its fields are its parameters, validated in `__post_init__`) registered with
`@register_task`. It never depends on an architecture.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.metrics import METRICS
from bench.contract.spec import Batch, TaskSpec


class Task(ABC):
    """Base class of every task.

    Subclasses are dataclasses whose fields include `length` (the in-distribution problem size),
    `eval_lengths` (longer, out-of-distribution sizes) and `solved_at` (threshold on `metric`).
    "Length" is the task's own size parameter (e.g. T data tokens); `spec(length).seq_len` is the
    number of positions the model actually sees (e.g. T + 1 with the query token).
    """

    name: ClassVar[str] = ""  # set by @register_task
    metric: ClassVar[str] = "accuracy"  # a name in bench.contract.metrics.METRICS; never mixed in one table column
    paper: ClassVar[str] = ""  # the source, "Author et al. YEAR, Title"
    # The suite a task belongs to, "suite/level" (e.g. "chomsky/regular", "state_tracking"; "" for a
    # stand-alone task): one class per task keeps every sub-task a first-class name for `sweep` and the
    # leaderboard, and this is what still groups them (`archbench list tasks` sorts by it).
    family: ClassVar[str] = ""
    # Parameter overrides per budget profile: the field defaults are the `quick` (CPU) setting;
    # e.g. {"smoke": {"length": 8, "eval_lengths": (16,)}, "paper": {"length": 64, ...}}.
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {}

    length: int
    eval_lengths: tuple[int, ...]
    solved_at: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A task class naming an unregistered metric fails when it is defined, not after a training run."""
        super().__init_subclass__(**kwargs)
        require(
            cls.metric in METRICS,
            f"task class {cls.__module__}.{cls.__qualname__}: metric must be one of "
            f"{', '.join(METRICS)}; got {cls.metric!r}",
        )

    @property
    @abstractmethod
    def chance(self) -> float:
        """Metric of the best input-independent predictor (constant class / mean vector)."""

    @abstractmethod
    def spec(self, length: int | None = None) -> TaskSpec:
        """The TaskSpec at `length` (default: the training length); `max_seq_len` covers all eval lengths."""

    @abstractmethod
    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        """`n` examples of problem size `length`, a deterministic function of the generator's state."""

    @property
    def all_lengths(self) -> tuple[int, ...]:
        """Training length followed by every out-of-distribution length, ascending, no repeats."""
        return tuple(sorted({self.length, *self.eval_lengths}))

    def config(self) -> dict:
        """Every parameter, JSON-ready, for the run record and its key."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
