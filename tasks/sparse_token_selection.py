"""Sparse token selection (STS_q): average the q data tokens a query points at.

Sanford, Hsu, Telgarsky 2023, "Representational Strengths and Limitations of Transformers" (q-sparse
averaging); Wang, Wei, Hsu, Lee 2024 (ICML), "Transformers Provably Learn Sparse Token Selection While
Fully-Connected Nets Cannot".

Data tokens x_1..x_T ~ N(0, I_d); S, a uniformly random q-subset of [T]; target (1/q) sum_{i in S} x_i.
Generic encoding, identical for every architecture: data token i is [x_i, p_i, 0] with p_i a position
code; after the T data tokens one query token [0, (1/q) sum_{i in S} p_i, 1]; the target is read at the
query (the last position), scored by r2. Position codes:
  * stochastic: for every sample a fresh Haar-random orthonormal frame of T codes (the paper's
    stochastic positional encoding; exactly orthogonal while T <= code_dim, independent uniform unit
    vectors, only near-orthogonal, beyond). Nothing ties a code to an index, the codes span the whole
    code space during training, so a model that matches codes works at any T;
  * fixed: one random orthonormal code per position index (same construction, drawn once from
    `code_seed`), shared by all samples. Training sees only the span of the first `length` codes, so
    nothing constrains what a model does with the codes of longer positions;
  * onehot: p_i = e_i (needs code_dim >= the longest length).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

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
    vector_spec,
)

CodeKind = Literal["stochastic", "fixed", "onehot"]


def random_codes(n: int, length: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """`(n, length, dim)` unit codes: the first min(length, dim) form a Haar-random orthonormal frame,
    any further ones are independent uniform unit vectors (only near-orthogonal: dim is exhausted)."""
    frame_size = min(length, dim)
    gaussian = torch.randn(n, dim, frame_size, generator=generator)
    frame, upper = torch.linalg.qr(gaussian)  # (n, dim, frame_size), orthonormal columns
    signs = torch.sign(torch.diagonal(upper, dim1=-2, dim2=-1))  # makes the frame Haar-distributed
    codes = (frame * signs.unsqueeze(-2)).transpose(1, 2)
    if length > dim:
        extra = torch.randn(n, length - dim, dim, generator=generator)
        codes = torch.cat([codes, extra / extra.norm(dim=-1, keepdim=True)], dim=1)
    return codes


@register_task("sparse_token_selection")
@dataclass
class SparseTokenSelection(Task):
    """Average of q selected Gaussian tokens, selected by position codes (Sanford 2023; Wang 2024)."""

    metric = "r2"
    paper = "Wang, Wei, Hsu, Lee 2024 (ICML); Sanford, Hsu, Telgarsky 2023"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "A one-layer transformer trained by gradient descent provably learns STS_q and, with stochastic "
        "positional encoding, keeps its accuracy on longer sequences; fully-connected networks provably "
        "cannot learn it efficiently."
    )

    d: int = 8
    q: int = 3
    code_dim: int = 64
    codes: CodeKind = "stochastic"
    length: int = 16
    eval_lengths: tuple[int, ...] = (32, 64, 128)
    solved_at: float = 0.9
    code_seed: int = 0

    def __post_init__(self) -> None:
        name = "sparse_token_selection"
        check_positive(name, d=self.d, q=self.q, code_dim=self.code_dim)
        check_lengths(name, self.length, self.eval_lengths)
        require(self.q <= self.length, f"task {name!r}: q must be <= length={self.length}; got q={self.q}")
        check_threshold(name, self.solved_at, self.chance)
        if self.codes == "onehot":
            longest = max(self.all_lengths)
            require(
                self.code_dim >= longest,
                f"task {name!r}: codes='onehot' needs code_dim >= {longest} (the longest length); got {self.code_dim}",
            )

    @property
    def chance(self) -> float:
        return 0.0  # predicting the mean target (zero) gives r2 = 0

    def spec(self, length: int | None = None) -> TaskSpec:
        # layout "sts": [data | code | query flag] per position, the query last (what `sts_attention` reads)
        return vector_spec(
            self, length, self.d + self.code_dim + 1, self.d, positions=lambda n: n + 1, targets="last", layout="sts"
        )

    @cached_property
    def _fixed_table(self) -> torch.Tensor:
        """Fixed codes for every position up to the longest length, drawn once from `code_seed`."""
        generator = torch.Generator().manual_seed(stable_seed("sts-fixed-codes", self.code_seed))
        return random_codes(1, max(self.all_lengths), self.code_dim, generator)[0]

    def position_codes(self, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
        """`(n, length, code_dim)` position codes of the configured kind."""
        if self.codes == "stochastic":
            return random_codes(n, length, self.code_dim, generator)
        if self.codes == "fixed":
            require(
                length <= self._fixed_table.shape[0],
                f"length {length} exceeds the fixed-code table ({self._fixed_table.shape[0]})",
            )
            return self._fixed_table[:length].expand(n, length, self.code_dim)
        require(length <= self.code_dim, f"onehot codes need length <= code_dim={self.code_dim}; got {length}")
        return torch.eye(self.code_dim)[:length].expand(n, length, self.code_dim)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= self.q, f"task 'sparse_token_selection': length must be >= q={self.q}; got {length}")
        data = torch.randn(n, length, self.d, generator=generator)
        codes = self.position_codes(n, length, generator)
        chosen = random_subsets(n, length, self.q, generator)
        weights = torch.zeros(n, length).scatter_(1, chosen, 1.0 / self.q)  # (n, T): 1/q on S
        target = torch.einsum("nt,ntd->nd", weights, data)
        query_code = torch.einsum("nt,ntk->nk", weights, codes)

        x = torch.zeros(n, length + 1, self.d + self.code_dim + 1)
        x[:, :length, : self.d] = data
        x[:, :length, self.d : self.d + self.code_dim] = codes
        x[:, length, self.d : self.d + self.code_dim] = query_code
        x[:, length, -1] = 1.0
        y = torch.zeros(n, length + 1, self.d)
        y[:, length] = target
        mask = torch.zeros(n, length + 1, dtype=torch.bool)
        mask[:, length] = True
        return Batch(x, y, mask)
