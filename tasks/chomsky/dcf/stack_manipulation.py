"""stack_manipulation (deterministic context-free): play stack actions, then read the stack out.

A non-empty initial stack of uniform bits (bottom to top, tokens 0/1) then uniform actions POP / PUSH 0 /
PUSH 1 (tokens 2/3/4); the split is uniform (stack length in [1, N-1]; N = 1 is a single bit). POP on an
empty stack does nothing. Output: the final stack top to bottom, then an end token (class 2), size + 1
tokens, at most N + 1. Chance, under the per-sequence mean accuracy (`base`): a sequence with final stack
size s has s uniform bits (initial bits and pushes are each 0 or 1 with probability 1/2, whatever the size)
and one end token, so a constant bit scores s / (2 (s + 1)) on it in expectation and the end class
1 / (s + 1); the best constant is the larger of the two expectations over s, computed exactly under N
uniform in [1, length] (dynamic programming over the stack size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.dcf import FAMILY, REPORTED

POP, PUSH0, PUSH1 = 2, 3, 4  # action tokens
END = 2  # end-of-stack class


@register_task("stack_manipulation")
@dataclass
class StackManipulation(ChomskyTask):
    """Chomsky deterministic context-free: an initial bit stack and POP/PUSH actions; output the final stack (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 5
    num_classes = 3

    def max_output_length(self, length: int) -> int:
        return length + 1

    @property
    def chance(self) -> float:
        choices = self.input_length_choices(self.length)
        bit = _expected_over_final_size(max(choices), lambda s: s / (2 * (s + 1)))
        end = _expected_over_final_size(max(choices), lambda s: 1 / (s + 1))
        return max(sum(bit[n] for n in choices), sum(end[n] for n in choices)) / len(choices)

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        rows = torch.arange(n)
        pos = torch.arange(width)[None, :]
        stack_length = 1 + (torch.rand(n, generator=generator) * (lengths - 1)).long()  # [1, N-1]; 1 when N = 1
        bits = torch.randint(0, 2, (n, width), generator=generator)
        actions = torch.randint(POP, PUSH1 + 1, (n, width), generator=generator)
        inputs = torch.where(pos < stack_length[:, None], bits, actions)
        stack = torch.zeros(n, width + 1, dtype=torch.long)
        size = torch.zeros(n, dtype=torch.long)
        for t in range(width):
            token, active = inputs[:, t], t < lengths
            is_bit = t < stack_length
            push = active & (is_bit | (token >= PUSH0))
            pop = active & ~is_bit & (token == POP) & (size > 0)
            value = torch.where(is_bit, token, token - PUSH0)
            stack[rows, size] = torch.where(push, value, stack[rows, size])
            size = size + push.long() - pop.long()
        out_pos = torch.arange(width + 1)[None, :]
        top_down = stack.gather(1, (size[:, None] - 1 - out_pos).clamp(min=0))
        outputs = torch.where(out_pos < size[:, None], top_down, torch.where(out_pos == size[:, None], END, 0))
        return inputs, outputs, size + 1


def _expected_over_final_size(longest: int, f: Callable[[int], float]) -> list[float]:
    """values[n] = E[f(final stack size)] at input length n: stack length uniform in [1, n-1], then actions."""
    top = longest + 2  # from size s with a actions left, s + a <= longest: sizes above top are never read
    expected = [[f(s) for s in range(top)]]  # expected[a][s]: E[f(final size)] with a actions left from size s
    for _ in range(longest):
        prev = expected[-1]
        expected.append([(prev[max(s - 1, 0)] + 2 * prev[min(s + 1, top - 1)]) / 3 for s in range(top)])
    values = [0.0, f(1)]  # n = 1: a single bit, no actions
    for n in range(2, longest + 1):
        values.append(sum(expected[n - s][s] for s in range(1, n)) / (n - 1))
    return values
