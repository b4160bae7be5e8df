"""Copy: repeat a random string after a separator.

Jelassi, Brandfonbrener, Kakade, Malach 2024, "Repeat After Me: Transformers are Better than State
Space Models at Copying".

Tokens: letters 0..A-1 (A = `alphabet_size`), SEP = A, PAD = A + 1 (vocab_size A + 2; the output is a
class over the same vocabulary, as for a language-model head). An example with a string s_1..s_L is
    s_1 ... s_L  SEP  s_1 ... s_{L-1}  PAD ...
(2L positions, right-padded to 2 * length): teacher forcing, the input after the separator is the
string again shifted by one, so the prediction at position L - 1 + i (SEP for i = 1, else s_{i-1}) is
s_i. Mask True exactly on those L copy positions (never on the string, never on pads). Metric:
exact_match -- the whole copy must be right. Chance: an input-independent predictor gets a uniform
string of length L right with probability A^-L, so chance = mean over the allowed L of A^-L (~1e-6).

String lengths: uniform in [min_length, length] at the training length (and [min(min_length, L), L] at
any shorter L). At an out-of-distribution length L > length they are uniform in a window of the same
width ending at L, but never reaching the training range: [max(length + 1, L - (length - min_length)), L]
-- every evaluated string is longer than any training string (e.g. defaults: 25..40 at 40, 65..80 at 80).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_positive, check_threshold, token_spec

NAME = "copy"


@register_task(NAME)
@dataclass
class Copy(Task):
    """Repeat a random string after a separator, teacher-forced, exact match (Jelassi et al. 2024)."""

    metric = "exact_match"
    paper = "Jelassi, Brandfonbrener, Kakade, Malach 2024, Repeat After Me: Transformers are Better than State Space Models at Copying"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Transformers learn to copy from far fewer samples than same-size state-space models and "
        "generalize to longer strings; a fixed-size state provably limits the length an SSM can copy."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"alphabet_size": 4, "min_length": 2, "length": 5, "eval_lengths": (8,)},
        "paper": {"alphabet_size": 26, "min_length": 5, "length": 50, "eval_lengths": (100, 200, 400)},
    }

    alphabet_size: int = 16
    min_length: int = 5
    length: int = 20
    eval_lengths: tuple[int, ...] = (40, 80)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_positive(NAME, min_length=self.min_length)
        require(
            self.alphabet_size >= 2,
            f"task {NAME!r}: alphabet_size must be >= 2 (one letter leaves nothing to copy); got {self.alphabet_size}",
        )
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.min_length <= self.length,
            f"task {NAME!r}: min_length must be in [1, length={self.length}]; got {self.min_length}",
        )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def sep(self) -> int:
        return self.alphabet_size

    @property
    def pad(self) -> int:
        return self.alphabet_size + 1

    @property
    def vocab_size(self) -> int:
        return self.alphabet_size + 2

    def string_lengths(self, length: int) -> tuple[int, int]:
        """(shortest, longest) string of an example at problem size `length`, both inclusive."""
        if length <= self.length:
            return min(self.min_length, length), length
        return max(self.length + 1, length - (self.length - self.min_length)), length

    @property
    def chance(self) -> float:
        lo, hi = self.string_lengths(self.length)
        return sum(float(self.alphabet_size) ** -n for n in range(lo, hi + 1)) / (hi - lo + 1)

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size, positions=lambda n: 2 * n)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= 1, f"task {NAME!r}: length must be >= 1; got {length}")
        lo, hi = self.string_lengths(length)
        lengths = torch.randint(lo, hi + 1, (n, 1), generator=generator)  # L per example
        letters = torch.randint(0, self.alphabet_size, (n, length), generator=generator)
        position = torch.arange(2 * length).expand(n, -1)
        in_string = position < lengths
        is_sep = position == lengths
        in_echo = (position > lengths) & (position < 2 * lengths)  # s_1..s_{L-1} after SEP
        target = (position >= lengths) & (position < 2 * lengths)  # predicts s_{position - L + 1}

        def take(offset: torch.Tensor) -> torch.Tensor:
            return letters.gather(1, offset.clamp(0, length - 1))

        x = torch.full((n, 2 * length), self.pad, dtype=torch.long)
        x = torch.where(in_string, take(position), x)
        x = torch.where(is_sep, torch.full_like(x, self.sep), x)
        x = torch.where(in_echo, take(position - lengths - 1), x)
        y = torch.where(target, take(position - lengths), torch.zeros_like(x))
        return Batch(x, y, target)
