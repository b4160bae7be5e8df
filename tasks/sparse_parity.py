"""Sparse parity: the XOR of k hidden positions among n uniform bits.

Barak, Edelman, Goel, Kakade, Malach, Zhang 2022, "Hidden Progress in Deep Learning: SGD Learns
Parities Near the Computational Limit".

Input: n = `length` uniform bits as tokens 0/1, then one query token (token 2); n + 1 positions.
A hidden set S of k positions, drawn once from `subset_seed` among the first n positions and the same
for every sample (finding it is the task), defines the label XOR_{i in S} b_i, a class in {0, 1}
read at the query token (the last position; mask True only there). Metric: accuracy; chance 0.5
(the parity of k >= 1 uniform bits is itself uniform, so no input-independent guess beats a coin).

Out of distribution: longer inputs (eval_lengths) with the SAME hidden set, so the extra bits are pure
distractors; a model that found S keeps its accuracy, one that memorised position-dependent noise
does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import (
    check_lengths,
    check_positive,
    check_threshold,
    random_subsets,
    stable_seed,
    token_spec,
)

NAME = "sparse_parity"
QUERY = 2  # the token after the n bits, where the label is read


@register_task(NAME)
@dataclass
class SparseParity(Task):
    """XOR of k hidden positions of n uniform bits, read at a final query token (Barak et al. 2022)."""

    metric = "accuracy"
    paper = "Barak, Edelman, Goel, Kakade, Malach, Zhang 2022, Hidden Progress in Deep Learning: SGD Learns Parities Near the Computational Limit"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "SGD on standard networks (MLPs, transformers) learns k-sparse parities of n bits in about n^O(k)"
        " steps, near the computational limit, with long loss plateaus that hide steady progress."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"length": 8, "k": 2, "eval_lengths": (12,)},
        "paper": {"length": 50, "k": 3, "eval_lengths": (100,)},
    }

    k: int = 3
    length: int = 20  # n, the number of bits
    eval_lengths: tuple[int, ...] = (30, 40)
    solved_at: float = 0.95
    subset_seed: int = 0

    def __post_init__(self) -> None:
        check_positive(NAME, k=self.k)
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.k <= self.length,
            f"task {NAME!r}: k must be in [1, length={self.length}] (k of the n={self.length} bits); got k={self.k}",
        )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def chance(self) -> float:
        return 0.5

    @cached_property
    def relevant(self) -> tuple[int, ...]:
        """The hidden set S: k sorted positions among the first `length` bits, fixed by `subset_seed`."""
        generator = torch.Generator().manual_seed(
            stable_seed("sparse-parity-subset", self.subset_seed, self.length, self.k)
        )
        return tuple(sorted(random_subsets(1, self.length, self.k, generator)[0].tolist()))

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, 3, 2, positions=lambda n: n + 1, targets="last")

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(
            length >= self.length,
            f"task {NAME!r}: the hidden set lives in the first {self.length} bits; length must be >= {self.length}; got {length}",
        )
        bits = torch.randint(0, 2, (n, length), generator=generator)
        label = bits[:, list(self.relevant)].sum(dim=1) % 2
        x = torch.cat([bits, torch.full((n, 1), QUERY, dtype=torch.long)], dim=1)
        y = torch.zeros(n, length + 1, dtype=torch.long)
        y[:, length] = label
        mask = torch.zeros(n, length + 1, dtype=torch.bool)
        mask[:, length] = True
        return Batch(x, y, mask)
