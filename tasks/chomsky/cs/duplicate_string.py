"""duplicate_string (context-sensitive): write a binary string twice.

A binary string w of N uniform bits; output ww, 2N tokens. Chance: every output bit is uniform, so every
constant class scores 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED


@register_task("duplicate_string")
@dataclass
class DuplicateString(ChomskyTask):
    """Chomsky context-sensitive: a bit string, written twice (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 2
    num_classes = 2

    def max_output_length(self, length: int) -> int:
        return 2 * length

    @property
    def chance(self) -> float:
        return 0.5

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        bits = torch.randint(0, 2, (lengths.shape[0], width), generator=generator)
        out_pos = torch.arange(2 * width)[None, :]
        index = torch.where(out_pos < lengths[:, None], out_pos, out_pos - lengths[:, None]).clamp(0, width - 1)
        return bits, bits.gather(1, index), 2 * lengths
