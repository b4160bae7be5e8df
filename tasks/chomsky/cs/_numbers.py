"""Sampling shared by the binary-number tasks of the Chomsky suite (addition, multiplication, square root).

Delétang et al. 2023 draw these numbers with Python's and NumPy's global random state (their `sample_batch`
ignores the JAX key); here every draw comes from the task's `torch.Generator`, so a stream is reproducible,
with the same distributions: an integer uniform in a range is a uniform bit string redrawn while it falls
outside the range (rejection keeps it uniform over the strings that remain).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

OPERATOR = 2  # input token between the two operands (the paper's placeholder for + or *)


def uniform_below(bounds: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Row i uniform in [0, bounds[i]) (every bound >= 1), from 62 random bits: the bias is below bound / 2**62."""
    return torch.randint(0, 2**62, bounds.shape, generator=generator) % bounds


def redraw_rows(bits: torch.Tensor, bad: Callable[[torch.Tensor], torch.Tensor], generator: torch.Generator) -> None:
    """Redraw, in place, every row of uniform bits for which `bad(bits)` holds, until none does."""
    while True:
        rows = bad(bits).nonzero().flatten()
        if rows.numel() == 0:
            return
        bits[rows] = torch.randint(0, 2, (rows.numel(), bits.shape[1]), generator=generator)


def bit_length(bits: torch.Tensor) -> torch.Tensor:
    """`(n,)` binary length of little-endian bit rows: one past the highest 1, 0 for zero."""
    pos = torch.arange(1, bits.shape[1] + 1)
    return (bits.bool() * pos).amax(dim=1)


def sample_expressions(
    lengths: torch.Tensor, width: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The paper's binary-operation inputs: `(n, width)` tokens and the two operands' little-endian bits.

    Input length N >= 3: the first operand gets n uniform in [1, N-2] bits, then the operator token, then the
    second operand's N-1-n bits; each operand is uniform over [1, 2**bits - 1] (never zero), written
    little-endian with its leading zeros (the authors' `_sample_expressions_and_results`). N <= 2: no
    operator, just a number uniform in [0, 2**N - 2] in N little-endian bits (the authors' special case);
    it is returned as the first operand, the second is zero.
    """
    pos = torch.arange(width)[None, :]
    small = lengths <= 2
    first_bits = torch.where(small, lengths, 1 + uniform_below((lengths - 2).clamp(min=1), generator))
    second_bits = torch.where(small, 0, lengths - 1 - first_bits)
    in_first = pos < first_bits[:, None]
    in_second = (pos > first_bits[:, None]) & (pos < lengths[:, None])

    def bad(bits: torch.Tensor) -> torch.Tensor:
        ones = bits.bool()
        zero_operand = ~(ones & in_first).any(1) | ~(ones & in_second).any(1)
        all_ones = (ones | ~in_first).all(1)  # a small row may not be 2**N - 1
        return torch.where(small, all_ones, zero_operand)

    bits = torch.randint(0, 2, (lengths.shape[0], width), generator=generator)
    redraw_rows(bits, bad, generator)
    inputs = torch.where((pos == first_bits[:, None]) & ~small[:, None], OPERATOR, bits)
    first = torch.where(in_first, bits, 0)
    shifted = bits.gather(1, (pos + first_bits[:, None] + 1).clamp(max=width - 1))
    second = torch.where(pos < second_bits[:, None], shifted, 0)
    return inputs, first, second
