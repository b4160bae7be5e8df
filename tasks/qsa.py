"""q-sparse averaging (qSA) in its original many-query form: every position averages its own q pointers.

Sanford, Hsu, Telgarsky 2023, "Representational Strengths and Limitations of Transformers". In the
paper each of the T positions carries a data vector x_i and a q-subset S_i of [T], and the output at
every position i is (1/q) sum_{j in S_i} x_j -- a non-causal map (position 1 may point at position T).

Causal encoding used here (the same for every architecture): first the T data tokens [x_j, p_j, 0]
(x_j ~ N(0, I_d), p_j a stochastic position code: a fresh Haar-random orthonormal frame per sample,
`tasks.sparse_token_selection.random_codes`), then the T query tokens [0, (1/q) sum_{j in S_i} p_j, 1],
one per original position i, in order. The target of query i, (1/q) sum_{j in S_i} x_j, is read at
query token T + i (mask True on the T query positions only), so every pointed-at data token lies
before the position that predicts from it. Sequence length 2T; vector output of dimension d, scored by
r2 over all query positions. S_i are independent uniformly random q-subsets of [T].

The codes are exactly orthogonal while T <= code_dim (defaults: code_dim 64 covers every length up to
64); beyond that they are only near-orthogonal, and even the reference solver becomes approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    vector_spec,
)
from tasks.sparse_token_selection import random_codes

NAME = "qsa"


@register_task(NAME)
@dataclass
class QSparseAverage(Task):
    """T queries, each averaging its own q pointed-at Gaussian tokens (Sanford 2023 qSA, causal)."""

    metric = "r2"
    paper = "Sanford, Hsu, Telgarsky 2023, Representational Strengths and Limitations of Transformers"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Representation bounds: transformers compute qSA with size growing only with q, while recurrent "
        "and fully-connected networks need size polynomial in the input length."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"d": 4, "q": 2, "code_dim": 16, "length": 6, "eval_lengths": (12,)},
        "paper": {"d": 16, "q": 4, "code_dim": 128, "length": 64, "eval_lengths": (128,)},
    }

    d: int = 8
    q: int = 3
    code_dim: int = 64
    length: int = 16
    eval_lengths: tuple[int, ...] = (32, 64)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_positive(NAME, d=self.d, q=self.q, code_dim=self.code_dim)
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.q <= self.length,
            f"task {NAME!r}: q must be in [1, length={self.length}] (a q-subset of the T data tokens); got q={self.q}",
        )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def chance(self) -> float:
        return 0.0  # the mean target (zero) at every query gives r2 = 0

    def spec(self, length: int | None = None) -> TaskSpec:
        return vector_spec(self, length, self.d + self.code_dim + 1, self.d, positions=lambda n: 2 * n)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= self.q, f"task {NAME!r}: length must be >= q={self.q}; got {length}")
        d, k = self.d, self.code_dim
        data = torch.randn(n, length, d, generator=generator)
        codes = random_codes(n, length, k, generator)
        chosen = random_subsets(n * length, length, self.q, generator).view(n, length, self.q)
        weights = torch.zeros(n, length, length).scatter_(2, chosen, 1.0 / self.q)  # [b, query i, data j]
        target = weights @ data  # (n, T, d)
        query_codes = weights @ codes  # (n, T, code_dim)

        x = torch.zeros(n, 2 * length, d + k + 1)
        x[:, :length, :d] = data
        x[:, :length, d : d + k] = codes
        x[:, length:, d : d + k] = query_codes
        x[:, length:, -1] = 1.0
        y = torch.zeros(n, 2 * length, d)
        y[:, length:] = target
        mask = torch.zeros(n, 2 * length, dtype=torch.bool)
        mask[:, length:] = True
        return Batch(x, y, mask)
