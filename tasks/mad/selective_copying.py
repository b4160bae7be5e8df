"""mad_selective_copying: MAD's selective copying -- copy the data tokens scattered among blanks, in order.

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_selective_copying_instance` (the copying generator
with `selective=True`), baseline `configs/tasks/selective-copying.yml`: vocab_size 16, seq_len 256,
num_tokens_to_copy 16; the grid varies vocab_size (32, 64, 128), seq_len (512, 1024) and
num_tokens_to_copy (32, 64, 96).

Tokens (V = vocab_size, MAD's count includes the special tokens): data 0..V-3, BLANK = V-2, COPY = V-1. With
n = num_tokens_to_copy and L = length, a sequence is n uniform data tokens with B = L - 2n - 1 blanks inserted
among them, then COPY, then n blanks; the target at the i-th blank after COPY is the i-th data token (mask True
on those n positions, targets "several"; inputs and targets are aligned, no shift). Each blank is inserted
before a uniformly chosen data token (MAD's `np.insert` at `randint(0, n)` positions), so the gap before each
data token is multinomial (nearly even spacing) and the last data token always sits right before COPY.
Example (V=6: data 0-3, BLANK 4, COPY 5; n = 3, L = 12):
    x = 4 2 4 4 0 4 4 3 5 4 4 4     targets at the last 3 positions: 2 0 3.

Chance: every target is a data token, uniform over the V - 2 of them: 1/(V - 2) (derivation of the macro rule
in `tasks.mad.base`).

Departures from MAD-Lab's generator, besides the common ones in `tasks.mad.base`: MAD draws the blank positions
from numpy's global random state (not its seeded generator, so they are not reproducible); here they come from
the task's generator with the same distribution. Compared with the stand-alone `selective_copy` (Gu & Dao
2023): the vocabulary count includes BLANK and COPY, one COPY token then blanks instead of n markers, and the
near-even multinomial spacing with the last data token next to COPY instead of a uniform set of positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from tasks.common import token_spec
from tasks.mad.base import MadTask, check_at_least, reported

NAME = "mad_selective_copying"


@register_task(NAME)
@dataclass
class MadSelectiveCopying(MadTask):
    """Copy, in order, the data tokens scattered among blanks after a COPY token (MAD, Poli et al. 2024)."""

    reported = reported("the Transformer and DeltaNet copy almost perfectly, Hyena is next, GLA and Mamba trail")
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 6, "num_tokens_to_copy": 3, "length": 12, "eval_lengths": (16,)},
        "paper": {"vocab_size": 16, "num_tokens_to_copy": 16, "length": 256, "eval_lengths": (512, 1024)},
    }

    vocab_size: int = 16  # data tokens plus BLANK and COPY (MAD's convention)
    num_tokens_to_copy: int = 8
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_at_least(NAME, "vocab_size", self.vocab_size, 4, "2 data tokens plus BLANK and COPY")
        check_at_least(NAME, "num_tokens_to_copy", self.num_tokens_to_copy, 1, "a token to copy")
        self.check_common(self.min_length)

    @property
    def min_length(self) -> int:
        """MAD asserts seq_len > 2 * num_tokens_to_copy + 1: at least one blank among the data."""
        return 2 * self.num_tokens_to_copy + 2

    @property
    def blank(self) -> int:
        return self.vocab_size - 2

    @property
    def copy(self) -> int:
        return self.vocab_size - 1

    @property
    def target_classes(self) -> int:
        return self.vocab_size - 2

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= self.min_length, f"task {NAME!r}: length must be >= {self.min_length}; got {length}")
        k = self.num_tokens_to_copy
        blanks = length - 2 * k - 1
        data = torch.randint(0, self.vocab_size - 2, (n, k), generator=generator)
        before = torch.randint(0, k, (n, blanks), generator=generator)  # the data token each blank precedes
        gaps = torch.zeros(n, k, dtype=torch.long).scatter_add_(1, before, torch.ones_like(before))
        positions = gaps.cumsum(1) + torch.arange(k)  # where the data tokens land
        x = torch.full((n, length), self.blank, dtype=torch.long)
        x.scatter_(1, positions, data)
        x[:, length - k - 1] = self.copy
        y = torch.zeros(n, length, dtype=torch.long)
        y[:, length - k :] = data
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[:, length - k :] = True
        return Batch(x, y, mask)
