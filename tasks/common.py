"""Validation and sampling helpers shared by the task modules."""

from __future__ import annotations

from collections.abc import Callable

import torch

from bench.contract.errors import require
from bench.contract.seeds import stable_seed  # noqa: F401  (re-exported for task modules)
from bench.contract.spec import Targets, TaskSpec


def check_lengths(task: str, length: int, eval_lengths: tuple[int, ...], minimum: int = 1) -> None:
    """Training length >= minimum; every out-of-distribution length strictly longer than it."""
    require(length >= minimum, f"task {task!r}: length must be >= {minimum}; got {length}")
    for ev in eval_lengths:
        require(ev > length, f"task {task!r}: eval_lengths must all exceed length={length}; got {ev}")


def check_positive(task: str, **values: int | float) -> None:
    for key, value in values.items():
        require(value > 0, f"task {task!r}: {key} must be > 0; got {value}")


def check_threshold(task: str, solved_at: float, chance: float, best: float = 1.0) -> None:
    require(chance < solved_at <= best, f"task {task!r}: solved_at must be in ({chance:g}, {best:g}]; got {solved_at}")


def random_subsets(n: int, population: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """`(n, size)` indices: for each row a uniformly random `size`-subset of `range(population)`."""
    return torch.rand(n, population, generator=generator).argsort(dim=1)[:, :size]


def _same(length: int) -> int:
    return length


def _sequence_spec(task, length: int | None, positions: Callable[[int], int], **kinds_and_sizes) -> TaskSpec:
    length = task.length if length is None else length
    return TaskSpec(seq_len=positions(length), max_seq_len=positions(max(task.all_lengths)), **kinds_and_sizes)


def token_spec(
    task,
    length: int | None,
    vocab_size: int,
    num_classes: int,
    positions: Callable[[int], int] = _same,
    targets: Targets = "several",
) -> TaskSpec:
    """Spec of a token-in/class-out task: `positions(length)` positions (default `length`, `task.length` when None),
    sized for `positions` of the task's longest length; `targets` says where its targets sit (`TaskSpec.targets`)."""
    return _sequence_spec(
        task,
        length,
        positions,
        input_kind="tokens",
        output_kind="class",
        vocab_size=vocab_size,
        num_classes=num_classes,
        targets=targets,
    )


def vector_spec(
    task,
    length: int | None,
    input_dim: int,
    output_dim: int,
    positions: Callable[[int], int] = _same,
    targets: Targets = "several",
    layout: str | None = None,
) -> TaskSpec:
    """Spec of a vector-in/vector-out task, with positions and targets as in `token_spec`; `layout` names
    what each input feature means when the task promises it (`TaskSpec.layout`)."""
    return _sequence_spec(
        task,
        length,
        positions,
        input_kind="vectors",
        output_kind="vector",
        input_dim=input_dim,
        output_dim=output_dim,
        targets=targets,
        layout=layout,
    )
