"""binary_multiplication (context-sensitive): the product of two binary numbers, little-endian.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Binary Multiplication; the
layout follows the authors' code (google-deepmind/neural_networks_chomsky_hierarchy,
`tasks/cs/binary_multiplication.py`). Input of length N >= 3: as in binary addition, operand a in n bits,
the operator token 2, operand b in N-1-n bits, n uniform in [1, N-2], each operand uniform over
[1, 2**bits - 1], little-endian with its leading zeros. Output: the product, little-endian without leading
zeros (at most N-1 digits), then the end class 2. N <= 2 (the authors' special case): the input is a number
uniform in [0, 2**N - 2] in N bits, and the answer is fixed: N-1 zeros then the end token (only the end
token at N = 1, so the training length must be at least 2). The authors pad the answer with zeros to N
tokens (their `output_length`) and score only up to and including the end token (their `accuracy_mask`);
here the same tokens are the targets and the positions after them are padding, so `max_output_length(N)` is
N. As in binary addition, the authors' loss also covers the zero padding after the end token, which this
benchmark's mask leaves out.

Chance: the best constant class among 0, 1 and the end class (tokens pooled, or per sequence under a
per-sequence metric: `tasks.chomsky.cs._chance`). The answer's distribution has no closed form,
so at each training input length it is computed by exact enumeration of every (split, a, b) where there are
at most `SAMPLES` of them (N <= 10), and beyond that estimated from `SAMPLES` seeded draws of the same
distribution (Python's `random.Random(N)`, independent of any training stream). An estimated share per
length (a class's fraction of one answer) is a mean of `SAMPLES` values in [0, 1], so its standard error is at
most 0.5 / sqrt(SAMPLES), under 0.008; the chance level averages such figures over the training lengths, which
shrinks the error further (the tests compare the estimate with full enumeration at N = 11 and 12).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED
from tasks.chomsky.cs._chance import LengthSummary, best_constant, digits_then_end
from tasks.chomsky.cs._numbers import bit_length, sample_expressions
from tasks.common import check_lengths

END = 2  # end-of-product class
SAMPLES = 4096  # enumeration budget, and seeded draws per input length beyond it (chance level only)


@register_task("binary_multiplication")
@dataclass
class BinaryMultiplication(ChomskyTask):
    """Chomsky context-sensitive: two little-endian binary numbers, their product (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 3
    num_classes = 3

    def __post_init__(self) -> None:
        # length 1 has a constant answer (every answer at input length 1 is the lone end token): chance would be 1
        check_lengths(self.name, self.length, self.eval_lengths, minimum=2)
        super().__post_init__()

    def max_output_length(self, length: int) -> int:
        return length

    @property
    def chance(self) -> float:
        lengths = self.input_length_choices(self.length)
        return best_constant([_summary(n) for n in lengths], self.metric)

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs, first, second = sample_expressions(lengths, width, generator)
        product = _multiply(first, second)
        digits = torch.where(lengths <= 2, lengths - 1, bit_length(product))  # N <= 2: N-1 zeros
        pos = torch.arange(width)[None, :]
        product = product[:, :width]  # a product has at most N-1 digits
        outputs = torch.where(pos < digits[:, None], product, torch.where(pos == digits[:, None], END, 0))
        return inputs, outputs, digits + 1


@cache
def _summary(n: int) -> LengthSummary:
    """The constant predictor's summary at input length `n`: exact, or from `SAMPLES` seeded draws."""
    probability, ones = [0.0] * (n + 1), [0.0] * (n + 1)
    if n <= 2:  # the answer is n-1 zeros whatever the input
        probability[n - 1] = 1.0
        return digits_then_end(probability, ones)
    splits = [(p, n - 1 - p) for p in range(1, n - 1)]
    if sum((2**p - 1) * (2**q - 1) for p, q in splits) <= SAMPLES:
        for p, q in splits:
            weight = 1 / (len(splits) * (2**p - 1) * (2**q - 1))
            for a in range(1, 2**p):
                for b in range(1, 2**q):
                    probability[(a * b).bit_length()] += weight
                    ones[(a * b).bit_length()] += weight * (a * b).bit_count()
        return digits_then_end(probability, ones)
    rng = random.Random(n)
    counts, total_ones = [0] * (n + 1), [0] * (n + 1)
    for _ in range(SAMPLES):
        p = 1 + int(rng.random() * (n - 2))
        a = b = 0
        while not a:  # uniform in [1, 2**p - 1]: p random bits, drawn again while all zero
            a = rng.getrandbits(p)
        while not b:
            b = rng.getrandbits(n - 1 - p)
        digits = (a * b).bit_length()
        counts[digits] += 1
        total_ones[digits] += (a * b).bit_count()
    probability = [c / SAMPLES for c in counts]
    ones = [c / SAMPLES for c in total_ones]
    return digits_then_end(probability, ones)


def _multiply(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """`(n, 2 * width)` little-endian bits of the products of two `(n, width)` little-endian bit rows."""
    n, width = first.shape
    columns = torch.zeros(n, 2 * width, dtype=torch.long)
    for j in range(width):  # schoolbook: the first operand shifted by j, where the second has a 1 at j
        columns[:, j : j + width] += first * second[:, j : j + 1]
    product = torch.zeros(n, 2 * width, dtype=torch.long)
    carry = torch.zeros(n, dtype=torch.long)
    for i in range(2 * width):  # carries, least significant column first
        column = columns[:, i] + carry
        product[:, i], carry = column % 2, column // 2
    return product
