"""Selective copying: reproduce, in order, the few data tokens scattered among noise.

Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces" (section 3.1: the
selective copying task, a variant of the copying task whose spacing between tokens varies, so a
time-invariant model cannot solve it by a fixed delay).

Encoding (`vocab` data symbols, tokens 0..vocab-1, plus BLANK = vocab and MARKER = vocab + 1, so the
model's vocabulary is vocab + 2): the first `length` positions hold `num_tokens` data tokens, drawn
uniformly and independently from the data symbols, at a uniformly random set of positions (kept in
order), and BLANK everywhere else; then come `num_tokens` MARKER positions. The target at the j-th
marker is the j-th data token; the mask is True only on the markers. `spec(length).seq_len` is
length + num_tokens. Out-of-distribution lengths keep the same number of data tokens and add noise.

Metric: per-token accuracy over the marker positions (exact match of the whole copied sequence would
be the stricter variant). Chance: every data token is uniform over the symbols whatever the input,
so the best input-independent predictor (any constant symbol) scores exactly 1 / vocab.
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
    token_spec,
)

NAME = "selective_copy"


@register_task(NAME)
@dataclass
class SelectiveCopy(Task):
    """Copy the num_tokens data tokens hidden among blanks, in order, at the markers (Gu & Dao 2023)."""

    metric = "accuracy"
    paper = "Gu & Dao 2023, Mamba: Linear-Time Sequence Modeling with Selective State Spaces"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = "The selective SSM of Mamba solves selective copying, while time-invariant SSMs such as S4 do not."
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"num_tokens": 4, "vocab": 8, "length": 16, "eval_lengths": (32,)},
        # the paper: 4096 positions, 16 tokens to copy, vocabulary 16 (no length generalization tested)
        "paper": {"num_tokens": 16, "vocab": 16, "length": 4096, "eval_lengths": (8192,)},
    }

    num_tokens: int = 8
    vocab: int = 16  # data symbols; the model's vocabulary adds BLANK and MARKER
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.95

    def __post_init__(self) -> None:
        check_positive(NAME, num_tokens=self.num_tokens)
        require(self.vocab >= 2, f"task {NAME!r}: vocab must be >= 2 (data symbols); got {self.vocab}")
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.num_tokens <= self.length,
            f"task {NAME!r}: num_tokens must be <= length={self.length}; got num_tokens={self.num_tokens}",
        )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def blank(self) -> int:
        return self.vocab

    @property
    def marker(self) -> int:
        return self.vocab + 1

    @property
    def chance(self) -> float:
        return 1.0 / self.vocab

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab + 2, self.vocab, positions=lambda n: n + self.num_tokens)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(
            length >= self.num_tokens, f"task {NAME!r}: length must be >= num_tokens={self.num_tokens}; got {length}"
        )
        k = self.num_tokens
        positions = random_subsets(n, length, k, generator).sort(dim=1).values  # (n, k), ascending
        data = torch.randint(0, self.vocab, (n, k), generator=generator)
        x = torch.full((n, length + k), self.blank, dtype=torch.long)
        x.scatter_(1, positions, data)
        x[:, length:] = self.marker
        y = torch.zeros(n, length + k, dtype=torch.long)
        y[:, length:] = data
        mask = torch.zeros(n, length + k, dtype=torch.bool)
        mask[:, length:] = True
        return Batch(x, y, mask)
