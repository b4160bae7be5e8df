"""cycle_navigation (regular): where on a cycle of 5 does a walk of moves end?

N uniform moves, token 0 = stay, 1 = +1, 2 = -1, starting at position 0; 1 output token, the final
position on the cycle of 5. Chance: the most likely final position under N uniform in [1, length], from the
exact distribution of the position after n moves (dynamic programming over the 5 positions).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.regular import FAMILY, REPORTED

MODULUS = 5  # positions on the cycle


@register_task("cycle_navigation")
@dataclass
class CycleNavigation(SingleAnswerTask):
    """Chomsky regular: the final position of a walk of stay/+1/-1 moves on a cycle of 5 (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 3
    num_classes = MODULUS

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        """dist[n][c] = P(final position = c) after n uniform moves in {0, +1, -1}."""
        dist = {0: [1.0] + [0.0] * (MODULUS - 1)}
        for n in range(1, longest + 1):
            prev = dist[n - 1]
            dist[n] = [(prev[c] + prev[(c - 1) % MODULUS] + prev[(c + 1) % MODULUS]) / 3 for c in range(MODULUS)]
        return dist

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        valid = torch.arange(width)[None, :] < lengths[:, None]
        inputs = torch.randint(0, 3, (n, width), generator=generator)
        steps = torch.where(inputs == 2, -1, inputs) * valid
        return inputs, (steps.sum(1) % MODULUS)[:, None], torch.ones(n, dtype=torch.long)
