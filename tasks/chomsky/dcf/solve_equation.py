"""solve_equation (deterministic context-free): the digit hidden as x in a bracketed + - equation mod 5.

Generated as the authors' `SolveEquation` (Delétang et al. 2023, github.com/google-deepmind/
neural_networks_chomsky_hierarchy, tasks/dcf/solve_equation.py): a bracketed expression of N - 2 characters
from the modular_arithmetic_brackets grammar with + and - only (the authors leave * out so that the solution
is unique: x then enters with coefficient +1 or -1), one of its digits replaced by x, then "=" and the
expression's value mod 5; N characters in all. The digit to hide: a position uniform over the expression,
then the first digit at or after it, wrapping around (the authors' rule, so a digit after a run of brackets
and operators is hidden more often). 1 output token: the hidden digit (5 classes).

Tokens (the authors' ids): digits 0..4, + 5, - 6, ( 7, ) 8, x 9, = 10. Input lengths N >= 3 (the shortest
equation is "x=v"); the authors' generator answers an all-zero input with class 0 below 3, which is not a
task, so here N is drawn from [3, length] instead of [1, length].

Chance: exactly 1/5. Every digit of the expression is uniform and independent of the expression's shape,
and which position is hidden depends on the shape only, so the hidden digit is uniform at every length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.dcf import FAMILY, REPORTED
from tasks.chomsky.dcf.modular_arithmetic_brackets import (
    MODULUS,
    expressions_to_tokens,
    random_expression,
    seeded_rng,
)

ALPHABET = {**{str(d): d for d in range(MODULUS)}, "+": 5, "-": 6, "(": 7, ")": 8, "x": 9, "=": 10}
DIGITS = frozenset(str(d) for d in range(MODULUS))


@register_task("solve_equation")
@dataclass
class SolveEquation(SingleAnswerTask):
    """Chomsky deterministic context-free: solve a bracketed + - equation mod 5 for its unknown x (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = len(ALPHABET)
    num_classes = MODULUS
    shortest_input: ClassVar[int] = 3  # "x=v"

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        return {n: [1.0 / MODULUS] * MODULUS for n in range(self.shortest_input, longest + 1)}

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rng = seeded_rng(generator)
        rows, answers = [], []
        for n in lengths.tolist():
            chars, value = random_expression(n - 2, rng, "+-")
            hidden = rng.randrange(n - 2)
            while chars[hidden] not in DIGITS:
                hidden = (hidden + 1) % (n - 2)
            answers.append(int(chars[hidden]))
            chars[hidden] = "x"
            rows.append([ALPHABET[c] for c in [*chars, "=", str(value)]])
        ones = torch.ones(len(answers), dtype=torch.long)
        return expressions_to_tokens(rows, width), torch.tensor(answers, dtype=torch.long)[:, None], ones
