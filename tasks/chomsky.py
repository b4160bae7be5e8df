"""Six tasks from "Neural Networks and the Chomsky Hierarchy" (Delétang et al. 2023, ICLR), one registered task.

Delétang, Ruoss, Grau-Moya, Genewein, Wenliang, Catt, Cundy, Hutter, Legg, Veness, Ortega 2023; the
output formats follow the authors' code (github.com/google-deepmind/neural_networks_chomsky_hierarchy):
  * even_pairs (regular): a binary string; 1 output token, class 1 when the number of unequal
    adjacent pairs ("ab" or "ba") is odd, i.e. when the first and last symbols differ, class 0 if even.
  * cycle_navigation (regular): moves, token 0 = stay, 1 = +1, 2 = -1; 1 output token, the final
    position on a cycle of 5 starting at 0.
  * modular_arithmetic (regular; the paper's bracket-free version): numbers 0..4 (tokens 0..4) and
    operators + - * (tokens 5, 6, 7) alternating, odd length; 1 output token, the value mod 5 with
    the standard precedence (multiplications first, then + and - left to right), as in the paper's
    code: 1 + 2 * 3 = 2, 1 - 1 - 1 = 4. Input lengths are odd (the paper drops one token from even ones).
  * reverse_string (deterministic context-free): a binary string w; output reverse(w).
  * stack_manipulation (deterministic context-free): a non-empty initial stack of bits (bottom to top,
    tokens 0/1) then actions POP / PUSH 0 / PUSH 1 (tokens 2/3/4), the split uniform (stack length in
    [1, N-1]; N = 1 is a single bit); POP on an empty stack does nothing; output the final stack top
    to bottom, then an end token (class 2).
  * duplicate_string (context-sensitive): a binary string w; output ww.
Symbols and actions are uniform. N, the input length, is the paper's length.

Encoding, with I input symbols and O output classes (tokens: inputs 0..I-1, outputs fed back I..I+O-1,
SEP = I+O, PAD = I+O+1; vocabulary I+O+2): [input_1..input_N, SEP, out_1, .., out_{m-1}] then PAD.
The targets out_1..out_m sit at positions N..N+m-1 (the SEP and the fed-back outputs), the mask is
True exactly there: teacher-forced, like copy, so every target comes after the whole input. With
output_mode="blank" (the paper's default) every output position holds SEP instead of the previous
output: the model must write the answer without seeing its earlier tokens.

Lengths: at a size L <= `length`, N is uniform in [1, L] (the paper trains on 1..40); at an
out-of-distribution size L > `length`, N is uniform over the unseen lengths (length, L] (the paper
scores the mean over 41..500). `spec(L).seq_len` = L + the longest output at L (1; L; L + 1; 2L).

Metric: per-token accuracy over the output positions, as in the paper, which averages the per-token
accuracy of each sequence and then over lengths; here tokens are pooled over the batch, so longer
outputs weigh more. Chance: accuracy of the best constant class on every output token, computed
exactly from the parameters for the training distribution (N uniform in [1, length]):
even_pairs (length + 1) / (2 length); cycle_navigation and modular_arithmetic by dynamic programming
over the value distribution; reverse_string and duplicate_string 1/2; stack_manipulation
max(E[size] / 2, 1) / (E[size] + 1) from the expected final stack size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

NAME = "chomsky"
ChomskyTask = Literal["even_pairs", "cycle_navigation", "modular_arithmetic", "reverse_string", "stack_manipulation", "duplicate_string"]
OutputMode = Literal["teacher_forced", "blank"]
TASKS: tuple[str, ...] = ChomskyTask.__args__  # type: ignore[attr-defined]
MODULUS = 5
# task -> (input symbols, output classes)
SIZES: dict[str, tuple[int, int]] = {
    "even_pairs": (2, 2),
    "cycle_navigation": (3, MODULUS),
    "modular_arithmetic": (MODULUS + 3, MODULUS),
    "reverse_string": (2, 2),
    "stack_manipulation": (5, 3),
    "duplicate_string": (2, 2),
}
PLUS, MINUS, TIMES = MODULUS, MODULUS + 1, MODULUS + 2  # operator tokens of modular_arithmetic
POP, PUSH0, PUSH1 = 2, 3, 4  # action tokens of stack_manipulation
END = 2  # end-of-stack class of stack_manipulation


@register_task(NAME)
@dataclass
class Chomsky(Task):
    """Chomsky-hierarchy tasks (Delétang et al. 2023): train on input lengths 1..length, score on longer."""

    metric = "accuracy"
    paper = "Delétang et al. 2023 (ICLR), Neural Networks and the Chomsky Hierarchy"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = ("RNNs and LSTMs generalize to longer inputs on the regular tasks, transformers fail to length-"
                "generalize even on some regular ones, and only stack- or tape-augmented networks solve the "
                "context-free and context-sensitive tasks.")
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"length": 20, "eval_lengths": (30,)},
        "paper": {"length": 40, "eval_lengths": (100, 500)},
    }

    task: ChomskyTask = "even_pairs"
    length: int = 40  # longest training input length N
    eval_lengths: tuple[int, ...] = (60, 100)
    output_mode: OutputMode = "teacher_forced"
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        require(self.task in TASKS, f"task {NAME!r}: task must be one of {', '.join(TASKS)}; got {self.task!r}")
        check_lengths(NAME, self.length, self.eval_lengths)
        if self.task == "modular_arithmetic":
            for ev in self.eval_lengths:
                require(self._odd_range(self.length + 1, ev)[0] <= ev,
                        f"task {NAME!r}: modular_arithmetic needs an odd input length in (length={self.length}, {ev}]; got eval length {ev}")
        check_threshold(NAME, self.solved_at, self.chance)

    # ------------------------------------------------------------------ sizes

    @property
    def input_symbols(self) -> int:
        return SIZES[self.task][0]

    @property
    def num_classes(self) -> int:
        return SIZES[self.task][1]

    @property
    def sep(self) -> int:
        return self.input_symbols + self.num_classes

    @property
    def pad(self) -> int:
        return self.sep + 1

    def max_output_length(self, length: int) -> int:
        """The longest output at input length `length` (an answer token, the string, stack + end, ww)."""
        return {"reverse_string": length, "stack_manipulation": length + 1, "duplicate_string": 2 * length}.get(self.task, 1)

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.pad + 1, self.num_classes, positions=lambda n: n + self.max_output_length(n))

    # ------------------------------------------------------------------ input lengths

    @staticmethod
    def _odd_range(low: int, high: int) -> tuple[int, int]:
        return (low if low % 2 else low + 1), (high if high % 2 else high - 1)

    def input_length_range(self, length: int) -> tuple[int, int]:
        """The input lengths N drawn at size `length`: [1, length] in distribution, (self.length, length] beyond."""
        low = 1 if length <= self.length else self.length + 1
        return low, length

    def input_length_choices(self, length: int) -> list[int]:
        """Every input length N that size `length` draws, each equally likely."""
        low, high = self.input_length_range(length)
        if self.task == "modular_arithmetic":
            low, high = self._odd_range(low, high)
            return list(range(low, high + 1, 2))
        return list(range(low, high + 1))

    def _input_lengths(self, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
        choices = self.input_length_choices(length)
        require(len(choices) > 0, f"task {NAME!r}: no valid {self.task} input length at size {length}")
        return torch.tensor(choices)[torch.randint(0, len(choices), (n,), generator=generator)]

    # ------------------------------------------------------------------ chance

    @property
    def chance(self) -> float:
        choices = self.input_length_choices(self.length)
        if self.task in ("reverse_string", "duplicate_string"):
            return 0.5
        if self.task == "stack_manipulation":
            sizes = _expected_stack_sizes(max(choices))
            size = sum(sizes[n] for n in choices) / len(choices)
            return max(size / 2, 1.0) / (size + 1)
        if self.task == "even_pairs":
            even = sum(1.0 if n == 1 else 0.5 for n in choices) / len(choices)
            return max(even, 1 - even)
        table = _cycle_distributions(max(choices)) if self.task == "cycle_navigation" else _arithmetic_distributions(max(choices))
        dist = [sum(table[n][c] for n in choices) / len(choices) for c in range(MODULUS)]
        return max(dist)

    # ------------------------------------------------------------------ generation

    def _inputs_and_outputs(self, lengths: torch.Tensor, width: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(n, width)` input tokens (valid below `lengths`), `(n, M)` outputs and `(n,)` output lengths."""
        n = lengths.shape[0]
        rows = torch.arange(n)
        pos = torch.arange(width)[None, :]
        valid = pos < lengths[:, None]
        if self.task == "modular_arithmetic":
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
        if self.task == "cycle_navigation":
            inputs = torch.randint(0, 3, (n, width), generator=generator)
            steps = torch.where(inputs == 2, -1, inputs) * valid
            return inputs, (steps.sum(1) % MODULUS)[:, None], torch.ones(n, dtype=torch.long)
        if self.task == "stack_manipulation":
            return self._stack(lengths, width, generator)
        bits = torch.randint(0, 2, (n, width), generator=generator)
        if self.task == "even_pairs":
            return bits, (bits[:, 0] != bits[rows, lengths - 1]).long()[:, None], torch.ones(n, dtype=torch.long)
        if self.task == "reverse_string":
            index = (lengths[:, None] - 1 - pos).clamp(min=0)
            return bits, bits.gather(1, index), lengths
        # duplicate_string
        out_pos = torch.arange(2 * width)[None, :]
        index = torch.where(out_pos < lengths[:, None], out_pos, out_pos - lengths[:, None]).clamp(0, width - 1)
        return bits, bits.gather(1, index), 2 * lengths

    def _stack(self, lengths: torch.Tensor, width: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= 1, f"task {NAME!r}: length must be >= 1; got {length}")
        lengths = self._input_lengths(n, length, generator)
        inputs, outputs, out_lengths = self._inputs_and_outputs(lengths, length, generator)
        positions = length + self.max_output_length(length)
        pos = torch.arange(positions)[None, :]
        rel = pos - lengths[:, None]  # index into the output, 0 at SEP
        in_output = (rel >= 0) & (rel < out_lengths[:, None])
        padded = torch.cat([inputs, torch.zeros(n, positions - length, dtype=torch.long)], dim=1)
        previous = outputs.gather(1, (rel - 1).clamp(0, outputs.shape[1] - 1))
        if self.output_mode == "teacher_forced":
            fed = torch.where(rel == 0, self.sep, self.input_symbols + previous)
        else:
            fed = torch.full_like(previous, self.sep)
        x = torch.where(rel < 0, padded, torch.where(in_output, fed, self.pad))
        y = torch.where(in_output, outputs.gather(1, rel.clamp(0, outputs.shape[1] - 1)), 0)
        return Batch(x, y, in_output)


def _cycle_distributions(longest: int) -> list[list[float]]:
    """dist[n][c] = P(final position = c) after n uniform moves in {0, +1, -1} on a cycle of 5."""
    dist = [[1.0] + [0.0] * (MODULUS - 1)]
    for _ in range(longest):
        prev = dist[-1]
        dist.append([(prev[c] + prev[(c - 1) % MODULUS] + prev[(c + 1) % MODULUS]) / 3 for c in range(MODULUS)])
    return dist


def _arithmetic_distributions(longest: int) -> dict[int, list[float]]:
    """dist[N][c] = P(value = c) of a random bracket-free expression of odd length N, standard precedence."""
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
                for nxt in (((total + term) % MODULUS, number), ((total + term) % MODULUS, -number % MODULUS), (total, term * number % MODULUS)):
                    following[nxt] = following.get(nxt, 0.0) + p / (3 * MODULUS)
        state = following
    return dist


def _expected_stack_sizes(longest: int) -> list[float]:
    """sizes[n] = E[final stack size] at input length n: stack length uniform in [1, n-1], then actions."""
    top = longest + 2  # from size s with a actions left, s + a <= longest: sizes above top are never read
    expected = [[float(s) for s in range(top)]]  # expected[a][s]: a actions left from size s
    for _ in range(longest):
        prev = expected[-1]
        expected.append([(prev[max(s - 1, 0)] + 2 * prev[min(s + 1, top - 1)]) / 3 for s in range(top)])
    sizes = [0.0, 1.0]  # n = 1: a single bit, no actions
    for n in range(2, longest + 1):
        sizes.append(sum(expected[n - s][s] for s in range(1, n)) / (n - 1))
    return sizes
