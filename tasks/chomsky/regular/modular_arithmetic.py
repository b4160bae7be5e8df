"""modular_arithmetic (regular; the paper's bracket-free "simple" version): the value of an expression mod 5.

Numbers 0..4 (tokens 0..4) and operators + - * (tokens 5, 6, 7) alternate, starting and ending with a
number, so input lengths are odd (the paper drops one token from even ones; here only odd N are drawn).
1 output token: the value mod 5 with the standard precedence (multiplications first, then + and - left to
right), as in the paper's code: 1 + 2 * 3 = 2, 1 - 1 - 1 = 4. Chance: the most likely value under N uniform
over the odd lengths in [1, length], from the exact distribution of the value (dynamic programming over the
sum of closed terms and the open product term).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.regular import FAMILY, REPORTED

MODULUS = 5
PLUS, MINUS, TIMES = MODULUS, MODULUS + 1, MODULUS + 2  # operator tokens


def _odd_range(low: int, high: int) -> tuple[int, int]:
    return (low if low % 2 else low + 1), (high if high % 2 else high - 1)


@register_task("modular_arithmetic")
@dataclass
class ModularArithmetic(SingleAnswerTask):
    """Chomsky regular: a bracket-free + - * expression over 0..4, evaluated mod 5 (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = MODULUS + 3
    num_classes = MODULUS
    length_rule: ClassVar[str] = "an odd"

    def input_length_choices(self, length: int) -> list[int]:
        low, high = _odd_range(*self.input_length_range(length))
        return list(range(low, high + 1, 2))

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        """dist[N][c] = P(value = c) of a random expression of odd length N, standard precedence."""
        state = {(0, a): 1.0 / MODULUS for a in range(MODULUS)}  # (sum of closed terms, open term)
        dist: dict[int, list[float]] = {}
        for n in range(1, longest + 1, 2):
            result = [0.0] * MODULUS
            for (total, term), p in state.items():
                result[(total + term) % MODULUS] += p
            dist[n] = result
            following: dict[tuple[int, int], float] = {}
            for (total, term), p in state.items():
                for number in range(MODULUS):
                    closed = (total + term) % MODULUS
                    for nxt in ((closed, number), (closed, -number % MODULUS), (total, term * number % MODULUS)):
                        following[nxt] = following.get(nxt, 0.0) + p / (3 * MODULUS)
            state = following
        return dist

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        pos = torch.arange(width)[None, :]
        numbers = torch.randint(0, MODULUS, (n, width), generator=generator)
        operators = PLUS + torch.randint(0, 3, (n, width), generator=generator)
        inputs = torch.where(pos % 2 == 0, numbers, operators)
        total, term = torch.zeros(n, dtype=torch.long), inputs[:, 0].clone()
        for j in range(1, width - 1, 2):
            active = j < lengths
            op, number = inputs[:, j], inputs[:, j + 1]
            new_total = torch.where(op == TIMES, total, (total + term) % MODULUS)
            new_term = torch.where(op == TIMES, term * number, torch.where(op == PLUS, number, -number)) % MODULUS
            total, term = torch.where(active, new_total, total), torch.where(active, new_term, term)
        return inputs, ((total + term) % MODULUS)[:, None], torch.ones(n, dtype=torch.long)
