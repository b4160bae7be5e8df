"""Validation and sampling helpers shared by the task modules."""
from __future__ import annotations

import hashlib

import torch

from bench.errors import require


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


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from any parts, identical on every machine and Python run (unlike `hash`)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def random_subsets(n: int, population: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """`(n, size)` indices: for each row a uniformly random `size`-subset of `range(population)`."""
    return torch.rand(n, population, generator=generator).argsort(dim=1)[:, :size]
