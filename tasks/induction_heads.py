"""Induction heads: after a trigger token reappears, predict the token that followed its first occurrence.

Olsson et al. 2022, "In-context Learning and Induction Heads"; Gu & Dao 2023, "Mamba: Linear-Time
Sequence Modeling with Selective State Spaces" (section 4.1.2: induction heads, vocabulary 16, trained
at 256 tokens and tested on sequences up to 2^20 long).

Encoding (`vocab` content symbols, tokens 0..vocab-1, plus TRIGGER = vocab, so the model's vocabulary
is vocab + 1): a sequence of `length` positions, `spec(length).seq_len == length`. Every position
holds a uniformly random content token, except that TRIGGER sits once at a uniformly random position
p of the first part, p in [0, (length - 1) // 2), and again at the last position. The target at the
last position is x[p + 1], the token that followed the first trigger; the mask is True only there.
Longer lengths spread the same two-token pattern over more noise (p ranges over the first half).

Metric: accuracy at the last position. Chance: the answer is a uniform content token independent of
where it sits, so the best input-independent predictor scores exactly 1 / vocab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

NAME = "induction_heads"
MIN_LENGTH = 3  # trigger, its answer, the final trigger


@register_task(NAME)
@dataclass
class InductionHeads(Task):
    """Recall the token that followed the trigger's first occurrence (Olsson et al. 2022; Gu & Dao 2023)."""

    metric = "accuracy"
    paper = "Olsson et al. 2022, In-context Learning and Induction Heads; Gu & Dao 2023, Mamba"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Induction heads form in transformers and drive in-context copying (Olsson); Mamba solves the "
        "task and extrapolates to sequences far longer than its training length, where attention models "
        "fail (Gu & Dao)."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab": 8, "length": 16, "eval_lengths": (32,)},
        # The paper evaluates up to 2^20 positions; 2^16 keeps one test chunk of examples in memory.
        "paper": {"vocab": 16, "length": 256, "eval_lengths": tuple(2**k for k in range(9, 17))},
    }

    vocab: int = 16  # content symbols; the model's vocabulary adds TRIGGER
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256, 512, 1024)
    solved_at: float = 0.95

    def __post_init__(self) -> None:
        require(self.vocab >= 2, f"task {NAME!r}: vocab must be >= 2 (content symbols); got {self.vocab}")
        check_lengths(NAME, self.length, self.eval_lengths, minimum=MIN_LENGTH)
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def trigger(self) -> int:
        return self.vocab

    @property
    def chance(self) -> float:
        return 1.0 / self.vocab

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab + 1, self.vocab, targets="last")

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= MIN_LENGTH, f"task {NAME!r}: length must be >= {MIN_LENGTH}; got {length}")
        x = torch.randint(0, self.vocab, (n, length), generator=generator)
        first_part = (length - 1) // 2
        first = torch.randint(0, first_part, (n,), generator=generator)
        rows = torch.arange(n)
        x[rows, first] = self.trigger
        x[:, -1] = self.trigger
        y = torch.zeros(n, length, dtype=torch.long)
        y[:, -1] = x[rows, first + 1]
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[:, -1] = True
        return Batch(x, y, mask)
