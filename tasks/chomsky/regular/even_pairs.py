"""even_pairs (regular): is the number of unequal adjacent pairs of a binary string even?

A binary string of N uniform bits; 1 output token: class 1 when the number of unequal adjacent pairs
("ab" or "ba") is odd, which is when the first and last symbols differ, class 0 when it is even.
Chance: N = 1 is always class 0, every longer string is either class with probability 1/2, so the best
constant (class 0) scores (length + 1) / (2 length) over N uniform in [1, length].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.regular import FAMILY, REPORTED


@register_task("even_pairs")
@dataclass
class EvenPairs(SingleAnswerTask):
    """Chomsky regular: whether a bit string has an odd number of unequal adjacent pairs (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 2
    num_classes = 2

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        return {n: [1.0, 0.0] if n == 1 else [0.5, 0.5] for n in range(1, longest + 1)}

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        bits = torch.randint(0, 2, (n, width), generator=generator)
        odd = bits[:, 0] != bits[torch.arange(n), lengths - 1]
        return bits, odd.long()[:, None], torch.ones(n, dtype=torch.long)
