"""parity_check (regular): does a bit string hold an odd number of 1s?

A binary string of N uniform bits (tokens 0, 1); 1 output token: the number of 1s mod 2 (class 1 odd, class 0
even), as the authors' `ParityCheck` (Delétang et al. 2023, github.com/google-deepmind/
neural_networks_chomsky_hierarchy, tasks/regular/parity_check.py). A two-state automaton solves it at every
length. Chance: for every N >= 1 the parity of N uniform bits is uniform (flipping the last bit swaps the
classes), so every constant class scores exactly 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.regular import FAMILY, REPORTED


@register_task("parity_check")
@dataclass
class ParityCheck(SingleAnswerTask):
    """Chomsky regular: whether a bit string holds an odd number of 1s (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 2
    num_classes = 2

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        return {n: [0.5, 0.5] for n in range(1, longest + 1)}

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        bits = torch.randint(0, 2, (n, width), generator=generator)
        valid = torch.arange(width)[None, :] < lengths[:, None]
        return bits, ((bits * valid).sum(1) % 2)[:, None], torch.ones(n, dtype=torch.long)
