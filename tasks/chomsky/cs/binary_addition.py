"""binary_addition (context-sensitive): the sum of two binary numbers, little-endian.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Binary Addition; the layout
follows the authors' code (google-deepmind/neural_networks_chomsky_hierarchy, `tasks/cs/binary_addition.py`).
Input of length N >= 3: operand a in n bits, the operator token 2, operand b in N-1-n bits, n uniform in
[1, N-2], each operand uniform over [1, 2**bits - 1], little-endian (least significant bit first) with its
leading zeros. N <= 2 (the authors' special case): no operator, one number uniform in [0, 2**N - 2] in N bits,
and the answer is that number. Output: the sum, little-endian without leading zeros (the number 0 is "0"),
then the end class 2. The authors pad it with zeros to N+1 tokens (their `output_length`) and score only up
to and including the end token (their `accuracy_mask`); here the same tokens are the targets and the
positions after them are padding, so `max_output_length(N)` is N+1 and the scored tokens are the paper's. One
difference: the authors' loss also covers the zero padding after the end token, which this benchmark's mask
(the loss's and the metric's alike) leaves out.

Chance: the best constant class among 0, 1 and the end class (tokens pooled, or per sequence under a
per-sequence metric: `tasks.chomsky.cs._chance`), from exact integer counts combined in double precision
(checked against full enumeration at small lengths in the tests). At N >= 3 a dynamic program
over the sum's bits, least significant first, counts the operand pairs by the sum's binary length and their
total number of 1 bits: pairs over [0, 2**p) x [0, 2**q) (both operands' bits free below min(p, q), one
operand's up to max(p, q), then the last carry), with the zero operands taken out by inclusion-exclusion.
That gives each class's expected count and share per input length.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.cs import FAMILY, REPORTED
from tasks.chomsky.cs._chance import LengthSummary, best_constant, digits_then_end
from tasks.chomsky.cs._numbers import bit_length, sample_expressions

END = 2  # end-of-sum class

# Exact counts of operand pairs and of their sums' 1 bits, by the sum's binary length: (pairs[k], ones[k]).
Table = tuple[np.ndarray, np.ndarray]
# The same, by carry and binary length so far, while the bits are added: (pairs[carry, k], ones[carry, k]).
State = tuple[np.ndarray, np.ndarray]


@register_task("binary_addition")
@dataclass
class BinaryAddition(ChomskyTask):
    """Chomsky context-sensitive: two little-endian binary numbers, their sum (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 3
    num_classes = 3

    def max_output_length(self, length: int) -> int:
        return length + 1

    @property
    def chance(self) -> float:
        summaries = _summaries(max(self.input_length_choices(self.length)))
        return best_constant([summaries[n - 1] for n in self.input_length_choices(self.length)], self.metric)

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs, first, second = sample_expressions(lengths, width, generator)
        total = torch.zeros(lengths.shape[0], width + 1, dtype=torch.long)
        carry = torch.zeros(lengths.shape[0], dtype=torch.long)
        for i in range(width):  # ripple-carry addition, least significant bit first
            column = first[:, i] + second[:, i] + carry
            total[:, i], carry = column % 2, column // 2
        total[:, width] = carry
        digits = bit_length(total).clamp(min=1)  # 0 (only at N <= 2) is written as one digit
        pos = torch.arange(width + 1)[None, :]
        outputs = torch.where(pos < digits[:, None], total, torch.where(pos == digits[:, None], END, 0))
        return inputs, outputs, digits + 1


def _add_position(state: State, position: int, free_operands: int) -> State:
    """The state after bit `position`, where `free_operands` (1 or 2) operands have a free bit there.

    A column adds the carry and the free bits: with two free bits it adds 0, 1 or 2 in 1, 2 and 1 ways, with one
    0 or 1 in one way each. A written 0 keeps every binary length; a written 1 makes it `position + 1`."""
    pairs, ones = state
    new_pairs, new_ones = _counters(pairs.shape[1]), _counters(pairs.shape[1])
    for carry in (0, 1):
        for extra, ways in enumerate((1, 2, 1) if free_operands == 2 else (1, 1)):
            column = carry + extra
            moved_pairs, moved_ones = pairs[carry] * ways, ones[carry] * ways
            if column % 2:
                new_pairs[column // 2, position + 1] += moved_pairs.sum()
                new_ones[column // 2, position + 1] += moved_ones.sum() + moved_pairs.sum()
            else:
                new_pairs[column // 2] += moved_pairs
                new_ones[column // 2] += moved_ones
    return new_pairs, new_ones


def _finish(state: State, position: int) -> Table:
    """The table once the last carry is written at bit `position`."""
    pairs, ones = state
    table_pairs, table_ones = pairs[0].copy(), ones[0].copy()
    table_pairs[position + 1] += pairs[1].sum()
    table_ones[position + 1] += ones[1].sum() + pairs[1].sum()
    return table_pairs, table_ones


def _counters(lengths: int) -> np.ndarray:
    """Exact integer counters by carry (0, 1) and binary length (Python ints: the counts outgrow 64 bits)."""
    return np.zeros((2, lengths), dtype=object)


@cache
def _sum_tables(longest: int) -> dict[tuple[int, int], Table]:
    """Tables for a in [0, 2**p), b in [0, 2**q), p <= q, p + q <= longest - 1 (prefixes shared across q)."""
    tables: dict[tuple[int, int], Table] = {}
    pairs, ones = _counters(longest + 1), _counters(longest + 1)
    pairs[0, 0] = 1  # before any bit: one pair (the empty one), no carry, length 0
    state = (pairs, ones)
    p = 0
    while 2 * p <= longest - 1:
        if p:
            state = _add_position(state, p - 1, 2)
        tail = state
        for q in range(p, longest - p):
            if q > p:
                tail = _add_position(tail, q - 1, 1)
            tables[(p, q)] = _finish(tail, q)
        p += 1
    return tables


@cache
def _summaries(longest: int) -> list[LengthSummary]:
    """The constant predictor's summary at each input length 1..`longest` (index N-1)."""
    tables = _sum_tables(longest)
    summaries = []
    for n in range(1, longest + 1):
        probability, ones = np.zeros(longest + 1), np.zeros(longest + 1)
        if n <= 2:  # the answer is the input number, uniform in [0, 2**n - 2]
            for value in range(2**n - 1):
                probability[max(value.bit_length(), 1)] += 1 / (2**n - 1)
                ones[max(value.bit_length(), 1)] += value.bit_count() / (2**n - 1)
        for p in range(1, n - 1):  # the first operand's bits, each split equally likely
            q = n - 1 - p
            low, high = sorted((p, q))  # a in [1, 2**p - 1], b in [1, 2**q - 1]: take out a = 0 and b = 0
            parts = (tables[(low, high)], tables[(0, high)], tables[(0, low)], tables[(0, 0)])
            pairs = parts[0][0] - parts[1][0] - parts[2][0] + parts[3][0]
            total_ones = parts[0][1] - parts[1][1] - parts[2][1] + parts[3][1]
            weight = (n - 2) * (2**p - 1) * (2**q - 1)
            probability += np.array([int(c) / weight for c in pairs])
            ones += np.array([int(c) / weight for c in total_ones])
        summaries.append(digits_then_end(probability.tolist(), ones.tolist()))
    return summaries
