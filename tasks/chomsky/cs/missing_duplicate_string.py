"""missing_duplicate_string (context-sensitive): a string written twice with one bit hidden; that bit.

Delétang et al. 2023 (ICLR), "Neural Networks and the Chomsky Hierarchy", task Missing Duplicate; as in the
authors' code (google-deepmind/neural_networks_chomsky_hierarchy, `tasks/cs/missing_duplicate_string.py`):
at input length N >= 2, a string w of N // 2 uniform bits is written twice (ww), the bit at a uniform
position of ww is replaced by the placeholder token 2, and an odd N ends with the filler token 3; the
answer is the hidden bit (one token). N = 1 has no string: the authors set input and answer to 1, so the
training length must be at least 2 (at length 1 chance would be 1).
Chance: the answer is a uniform bit at every N >= 2 and 1 at N = 1, so with N uniform in 1..length the
best constant is 1, right with probability (1 + (length - 1) / 2) / length (41/80 at length 40).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.contract.registry import register_task
from tasks.chomsky.base import SingleAnswerTask
from tasks.chomsky.cs import FAMILY, REPORTED
from tasks.chomsky.cs._numbers import uniform_below
from tasks.common import check_lengths

MISSING, FILLER = 2, 3  # input tokens: the hidden bit's placeholder, the odd length's last token


@register_task("missing_duplicate_string")
@dataclass
class MissingDuplicateString(SingleAnswerTask):
    """Chomsky context-sensitive: a bit string written twice, one bit hidden; output it (Delétang et al. 2023)."""

    family = FAMILY
    reported = REPORTED
    input_symbols = 4
    num_classes = 2

    def __post_init__(self) -> None:
        # length 1 has a constant answer (the authors' input of length 1 is always 1, with answer 1): chance would be 1
        check_lengths(self.name, self.length, self.eval_lengths, minimum=2)
        super().__post_init__()

    def answer_distributions(self, longest: int) -> dict[int, list[float]]:
        return {n: [0.0, 1.0] if n == 1 else [0.5, 0.5] for n in range(1, longest + 1)}

    def generate(
        self, lengths: torch.Tensor, width: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = lengths.shape[0]
        rows, pos = torch.arange(n), torch.arange(width)[None, :]
        half = (lengths // 2)[:, None]
        bits = torch.randint(0, 2, (n, width), generator=generator)
        doubled = bits.gather(1, torch.where(pos < half, pos, pos - half).clamp(0, width - 1))  # w w
        hidden = uniform_below((2 * half[:, 0]).clamp(min=1), generator)  # a position of w w
        answer = torch.where(lengths == 1, 1, doubled[rows, hidden])
        inputs = torch.where(pos == hidden[:, None], MISSING, torch.where(pos < 2 * half, doubled, FILLER))
        inputs = torch.where((lengths == 1)[:, None], 1, inputs)
        return inputs, answer[:, None], torch.ones(n, dtype=torch.long)
