"""odds_first (context-sensitive): a binary string, its odd-indexed tokens first, then its even-indexed ones.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Odds First. A string of N
uniform bits s_0 .. s_{N-1}; output N tokens: s_1 s_3 s_5 .. then s_0 s_2 s_4 .. This follows the authors'
code (google-deepmind/neural_networks_chomsky_hierarchy, `tasks/cs/odds_first.py`), which concatenates
`strings[:, 1::2]` and `strings[:, ::2]` (0-based odd indices first). The docstring there describes the other
order (1-based odd positions s_1 s_3 .. of s_1 .. s_n first, with examples 00110101 -> 0100 0111 and
110 -> 10 1); the code, which produced the paper's numbers, is what is followed here. Chance: every output
token is one of the uniform input bits, so every constant class scores 1/2 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED


@register_task("odds_first")
@dataclass
class OddsFirst(ChomskyTask):
    """Chomsky context-sensitive: a bit string, odd-indexed bits then even-indexed ones (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 2
    num_classes = 2

    def max_output_length(self, length: int) -> int:
        return length

    @property
    def chance(self) -> float:
        return 0.5

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        bits = torch.randint(0, 2, (lengths.shape[0], width), generator=generator)
        out_pos = torch.arange(width)[None, :]
        odd_count = (lengths // 2)[:, None]  # indices 1, 3, .. below N
        index = torch.where(out_pos < odd_count, 2 * out_pos + 1, 2 * (out_pos - odd_count))
        return bits, bits.gather(1, index.clamp(0, width - 1)), lengths
