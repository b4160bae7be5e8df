"""reverse_string (deterministic context-free): write a binary string backwards.

A binary string w of N uniform bits; output reverse(w), N tokens. Chance: every output bit is uniform, so
every constant class scores 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.dcf import FAMILY, REPORTED


@register_task("reverse_string")
@dataclass
class ReverseString(ChomskyTask):
    """Chomsky deterministic context-free: a bit string, reversed (Delétang et al. 2023)."""

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
        index = (lengths[:, None] - 1 - torch.arange(width)[None, :]).clamp(min=0)
        return bits, bits.gather(1, index), lengths
