"""bucket_sort (context-sensitive): a string over a five-symbol alphabet, sorted.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Bucket Sort; as in the
authors' code (google-deepmind/neural_networks_chomsky_hierarchy, `tasks/cs/bucket_sort.py`, vocabulary 5
as in the paper): N symbols uniform over 0..4, output the same N symbols in increasing order. Chance: the
output holds exactly the input's symbols, so a constant class c is right on the input's count of c, N/5 in
expectation at every N and 1/5 of every sequence in expectation: 1/5 exactly, tokens pooled or per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED

SYMBOLS = 5  # the paper's vocabulary size


@register_task("bucket_sort")
@dataclass
class BucketSort(ChomskyTask):
    """Chomsky context-sensitive: a string over 0..4, sorted (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = SYMBOLS
    num_classes = SYMBOLS

    def max_output_length(self, length: int) -> int:
        return length

    @property
    def chance(self) -> float:
        return 1 / SYMBOLS

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        symbols = torch.randint(0, SYMBOLS, (lengths.shape[0], width), generator=generator)
        beyond = torch.arange(width)[None, :] >= lengths[:, None]
        ordered = torch.where(beyond, SYMBOLS, symbols).sort(dim=1).values  # the N symbols first, in order
        return symbols, ordered, lengths
