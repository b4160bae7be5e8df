"""What every Chomsky-hierarchy task shares: input lengths, output encoding, output modes, chance levels.

Delétang, Ruoss, Grau-Moya, Genewein, Wenliang, Catt, Cundy, Hutter, Legg, Veness, Ortega 2023 (ICLR); the
output formats follow the authors' code (github.com/google-deepmind/neural_networks_chomsky_hierarchy).
A task (`ChomskyTask` subclass) declares its alphabet (`input_symbols` input tokens, `num_classes` output
classes), the longest output it writes (`max_output_length`) and its generator (`generate`); this module
turns that into sequences.

Encoding, with I input symbols and O output classes (tokens: inputs 0..I-1, outputs fed back I..I+O-1,
SEP = I+O, PAD = I+O+1; vocabulary I+O+2): [input_1..input_N, SEP, out_1, .., out_{m-1}] then PAD.
The targets out_1..out_m sit at positions N..N+m-1 (the SEP and the fed-back outputs), the mask is
True exactly there: teacher-forced, like copy, so every target comes after the whole input. With
output_mode="blank" (the paper's default) every output position holds SEP instead of the previous
output: the model must write the answer without seeing its earlier tokens.

Lengths: at a size L <= `length`, N is uniform over the task's valid input lengths in [shortest_input, L]
(1 unless a task needs longer inputs; the paper trains on 1..40); at an out-of-distribution size
L > `length`, N is uniform over the unseen lengths (length, L]. `spec(L).seq_len` = L + the longest output
at L. The `paper` profile is the paper's protocol: train on 1..40, one evaluation size 500, so the test
inputs are uniform over 41..500, the lengths the paper averages over. The defaults (`quick`) keep the same
definition on a cheap sample of those lengths, 41..100: the longest test sequence is then at most 100
inputs (plus the output), five times shorter than the paper's, which keeps a CPU evaluation (and a
transformer's attention, quadratic in it) cheap, and the figure still means what the paper's means.

Targets: a task with one answer token (`SingleAnswerTask`) has its one target at the SEP, after the whole
input, and only PAD follows it: nothing after the target carries information, so it declares
`targets="last"` (a non-causal model is a fair contender). A task with a longer answer declares
"several": in teacher-forced mode later positions hold the earlier answer tokens.

Metric: `sequence_mean_accuracy`, the paper's accuracy: the per-token accuracy over a sequence's output
positions, averaged over sequences (every sequence weighs the same, however long its output). The paper
averages per length and then over lengths with equal weight; since N is uniform over the lengths, the
mean over sequences is that mean in expectation (exactly so where the output length is fixed by N; the
paper's stack manipulation pools the tokens of the sequences of one length, here each sequence weighs
the same). For a one-answer task it is plain accuracy. Chance: the score of the best constant class
under this metric, computed exactly for the training distribution (N uniform over the valid lengths in
[shortest_input, length]): for a sequence task the expected per-sequence fraction of output tokens
equal to that class; each task defines its own (`SingleAnswerTask` from the distribution of its
answer at each input length).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch

from bench.contract.errors import require
from bench.contract.spec import Batch, Targets, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_threshold, token_spec

OutputMode = Literal["teacher_forced", "blank"]
PAPER = "Delétang et al. 2023 (ICLR), Neural Networks and the Chomsky Hierarchy"


@dataclass
class ChomskyTask(Task):
    """A Chomsky-hierarchy task: train on input lengths 1..length, score on longer ones (not registered)."""

    metric = "sequence_mean_accuracy"
    paper = PAPER
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"length": 20, "eval_lengths": (30,)},
        "paper": {"length": 40, "eval_lengths": (500,)},  # train 1..40, test uniform over 41..500
    }
    input_symbols: ClassVar[int]  # I: input tokens 0..I-1
    num_classes: ClassVar[int]  # O: output classes, fed back as tokens I..I+O-1
    targets: ClassVar[Targets] = "several"
    length_rule: ClassVar[str] = "an"  # the valid input lengths, in words ("an odd"), for error messages
    shortest_input: ClassVar[int] = 1  # the shortest input length N drawn (and the least `length`)

    length: int = 40  # longest training input length N
    eval_lengths: tuple[int, ...] = (100,)  # quick: test inputs uniform over 41..100
    output_mode: OutputMode = "teacher_forced"
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_lengths(self.name, self.length, self.eval_lengths, minimum=self.shortest_input)
        for ev in self.eval_lengths:
            require(
                len(self.input_length_choices(ev)) > 0,
                f"task {self.name!r}: needs {self.length_rule} input length in (length={self.length}, {ev}]; got eval length {ev}",
            )
        check_threshold(self.name, self.solved_at, self.chance)

    # ------------------------------------------------------------------ what a task defines

    def max_output_length(self, length: int) -> int:
        """The longest output at input length `length`."""
        return 1

    @abstractmethod
    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(n, width)` input tokens (valid below `lengths`), `(n, M)` outputs and `(n,)` output lengths."""

    # ------------------------------------------------------------------ encoding

    @property
    def sep(self) -> int:
        return self.input_symbols + self.num_classes

    @property
    def pad(self) -> int:
        return self.sep + 1

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(
            self,
            length,
            self.pad + 1,
            self.num_classes,
            positions=lambda n: n + self.max_output_length(n),
            targets=self.targets,
        )

    # ------------------------------------------------------------------ input lengths

    def input_length_range(self, length: int) -> tuple[int, int]:
        """The input lengths N drawn at size `length`: [shortest_input, length] in distribution, (self.length,
        length] beyond."""
        low = self.shortest_input if length <= self.length else self.length + 1
        return low, length

    def input_length_choices(self, length: int) -> list[int]:
        """Every input length N that size `length` draws, each equally likely."""
        low, high = self.input_length_range(length)
        return list(range(low, high + 1))

    def _input_lengths(self, n: int, length: int, generator: torch.Generator) -> torch.Tensor:
        choices = self.input_length_choices(length)
        require(len(choices) > 0, f"task {self.name!r}: no valid input length at size {length}")
        return torch.tensor(choices)[torch.randint(0, len(choices), (n,), generator=generator)]

    # ------------------------------------------------------------------ sampling

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= 1, f"task {self.name!r}: length must be >= 1; got {length}")
        lengths = self._input_lengths(n, length, generator)
        inputs, outputs, out_lengths = self.generate(lengths, length, generator)
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


@dataclass
class SingleAnswerTask(ChomskyTask):
    """A Chomsky task whose answer is one class token: its one target is the last informative position."""

    targets: ClassVar[Targets] = "last"

    @abstractmethod
    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        """`dist[N][c]` = P(answer = c) at input length N, for every valid N up to `longest`."""

    @property
    def chance(self) -> float:
        """The best constant class: the most likely answer under N uniform over the training lengths."""
        choices = self.input_length_choices(self.length)
        table = self.answer_distributions(max(choices))
        return max(sum(table[n][c] for n in choices) / len(choices) for c in range(self.num_classes))
