"""compute_sqrt (context-sensitive): the floor of the square root of a binary number, big-endian.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Compute Sqrt; the layout
follows the authors' code (google-deepmind/neural_networks_chomsky_hierarchy, `tasks/cs/compute_sqrt.py`).
Input of length N: a number x uniform in [1, 2**N - 1] in N bits, big-endian (most significant bit first)
with its leading zeros. Output: floor(sqrt(x)) in ceil(N/2) bits, big-endian with leading zeros (the
authors' `output_length`), every bit scored; no end token. The training length must be at least 3: every
input of length 1 or 2 (1, 2, 3) has the answer 1, so at a training length below 3 chance would be 1.

Chance: the best constant bit (tokens pooled, or per sequence under a per-sequence metric:
`tasks.chomsky.cs._chance`), computed exactly. The answer r = isqrt(x) comes from 2r + 1 inputs
(x in [r**2, (r+1)**2 - 1]) for every r below R = isqrt(2**N - 1) and from 2**N - R**2 inputs for r = R, so
the expected number of 1 bits is a weighted count over r. Over the r below a bound K with bit j set, the
weights 2r + 1 sum blockwise (the sum of 2r + 1 over r in [lo, hi) is hi**2 - lo**2), which gives it in
closed form per bit (`_weighted_bit_count`); the output length is fixed at each N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED
from tasks.chomsky.cs._chance import LengthSummary, best_constant
from tasks.chomsky.cs._numbers import redraw_rows
from tasks.common import check_lengths


@register_task("compute_sqrt")
@dataclass
class ComputeSqrt(ChomskyTask):
    """Chomsky context-sensitive: a big-endian binary number, the floor of its square root (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 2
    num_classes = 2

    def __post_init__(self) -> None:
        # every input of length 1 or 2 has the answer 1: below 3 the chance level would be 1
        check_lengths(self.name, self.length, self.eval_lengths, minimum=3)
        super().__post_init__()

    def max_output_length(self, length: int) -> int:
        return (length + 1) // 2

    @property
    def chance(self) -> float:
        return best_constant([_summary(n) for n in self.input_length_choices(self.length)], self.metric)

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pos = torch.arange(width)[None, :]
        valid = pos < lengths[:, None]
        bits = torch.randint(0, 2, (lengths.shape[0], width), generator=generator)
        redraw_rows(bits, lambda b: ~(b.bool() & valid).any(1), generator)  # x >= 1
        digits = (lengths + 1) // 2
        outputs = torch.zeros(lengths.shape[0], self.max_output_length(width), dtype=torch.long)
        for row, (n, m) in enumerate(zip(lengths.tolist(), digits.tolist())):
            root = math.isqrt(int("".join(map(str, bits[row, :n].tolist())), 2))
            outputs[row, :m] = torch.tensor([int(d) for d in format(root, f"0{m}b")])
        return bits, outputs, digits


def _weighted_bit_count(bound: int, bit: int) -> int:
    """The sum of 2r + 1 over the r in [0, bound) whose bit `bit` is 1.

    Such r form the upper halves [pT + h, (p+1)T) of the blocks of T = 2**(bit+1) numbers (h = T/2). A full
    block adds ((p+1)T)**2 - (pT+h)**2 = T**2 (p+1) - h**2, so the P full blocks add T**2 P(P+1)/2 - P h**2;
    the last, partial block adds bound**2 - (PT+h)**2 if it reaches its upper half."""
    half = 2**bit
    block = 2 * half
    full = bound // block
    total = block * block * full * (full + 1) // 2 - full * half * half
    start = full * block + half
    return total + max(bound * bound - start * start, 0)


@cache
def _summary(n: int) -> LengthSummary:
    """The constant predictor's summary at input length `n`, exact (output length ceil(n/2), no end token)."""
    largest = 2**n - 1
    top = math.isqrt(largest)  # the answers are 1..top; top has 2**n - top**2 inputs, r < top has 2r + 1
    ones = sum(_weighted_bit_count(top, j) for j in range(top.bit_length()))
    ones += (largest - top * top + 1) * top.bit_count()
    expected_ones = Fraction(ones, largest)
    size = (n + 1) // 2
    counts = (size - expected_ones, expected_ones)
    return LengthSummary(tuple(map(float, counts)), float(size), tuple(float(c / size) for c in counts))
