"""Multi-query associative recall (MQAR): recall the value of every key queried again later.

Arora, Eyuboglu, Timalsina, Johnson, Poli, Zou, Rudra, Re 2023, "Zoology: Measuring and Improving
Recall in Efficient Language Models".

Vocabulary (`vocab_size` tokens in all): token 0 is filler; keys are tokens 1..K and values tokens
K+1..vocab_size-1, with K = (vocab_size - 1) // 2 (disjoint halves; there are V = vocab_size - 1 - K
values). A sequence of `length` (the context length) positions holds:
  * P key-value pairs k_1 v_1 k_2 v_2 ... k_P v_P at positions 0..2P-1 (P uniform in the pair range,
    per example; keys distinct, values distinct, both uniformly random);
  * then the query region, positions 2P..length-1: every key is queried exactly once, at P uniformly
    random positions of the region, in uniformly random order; every other position is filler 0.
The target at a query position (the key token itself) is that key's value -- a class over the whole
vocabulary; mask True only at query positions (so the number of targets varies with P). Metric:
accuracy over all query positions. Chance 1/V: each queried value is uniform over the V value tokens
whatever the position, so no input-independent guess beats 1/V (the random-query placement differs
from Zoology's power-law gaps; the pair/query layout is the same).

Pair range: [min_pairs, max_pairs] at the training length; at any other length L both ends scale with
L / length (floor, at least 1) when `scale_pairs` is true, so longer contexts (eval_lengths) also hold
proportionally more pairs -- out of distribution in both context length and number of associations.
Every length must fit its pairs (3 * max pairs <= L: a key, a value and a query each) and the
vocabulary must have at least as many keys as the most pairs needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import (
    check_lengths,
    check_positive,
    check_threshold,
    random_subsets,
    token_spec,
)

NAME = "mqar"
FILLER = 0


@register_task(NAME)
@dataclass
class MultiQueryAssociativeRecall(Task):
    """Key-value pairs, then every key queried again: predict its value (Zoology MQAR, Arora 2023)."""

    metric = "accuracy"
    paper = "Arora, Eyuboglu, Timalsina, Johnson, Poli, Zou, Rudra, Re 2023, Zoology: Measuring and Improving Recall in Efficient Language Models"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Attention solves MQAR at small model width, while gated-convolution and recurrent models need "
        "width growing with the sequence length and number of pairs."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 32, "length": 12, "min_pairs": 1, "max_pairs": 3, "eval_lengths": (24,)},
        "paper": {"vocab_size": 8192, "length": 256, "min_pairs": 16, "max_pairs": 64, "eval_lengths": (512, 1024)},
    }

    vocab_size: int = 256
    length: int = 64
    min_pairs: int = 4
    max_pairs: int = 8
    scale_pairs: bool = True
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_positive(NAME, min_pairs=self.min_pairs, max_pairs=self.max_pairs)
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.vocab_size >= 3,
            f"task {NAME!r}: vocab_size must be >= 3 (filler, one key, one value); got {self.vocab_size}",
        )
        require(
            self.min_pairs <= self.max_pairs,
            f"task {NAME!r}: min_pairs must be <= max_pairs={self.max_pairs}; got min_pairs={self.min_pairs}",
        )
        for length in self.all_lengths:
            _, most = self.pair_range(length)
            require(
                3 * most <= length,
                f"task {NAME!r}: length {length} fits at most {length // 3} pairs (key, value and query each take a position); got {most} pairs (max_pairs={self.max_pairs})",
            )
            require(
                most <= self.num_keys,
                f"task {NAME!r}: vocab_size={self.vocab_size} gives {self.num_keys} keys, too few for {most} distinct keys at length {length}; need vocab_size >= {2 * most + 1}",
            )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def num_keys(self) -> int:
        return (self.vocab_size - 1) // 2

    @property
    def num_values(self) -> int:
        return self.vocab_size - 1 - self.num_keys

    @property
    def chance(self) -> float:
        return 1.0 / self.num_values

    def pair_range(self, length: int) -> tuple[int, int]:
        """(fewest, most) key-value pairs of an example at `length`, both inclusive."""
        if not self.scale_pairs or length == self.length:
            return self.min_pairs, self.max_pairs
        fewest = max(1, self.min_pairs * length // self.length)
        return fewest, max(fewest, self.max_pairs * length // self.length)

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        fewest, most = self.pair_range(length)
        require(
            3 * most <= length and most <= self.num_keys,
            f"task {NAME!r}: length {length} cannot hold {most} pairs (needs 3 * pairs <= length and pairs <= {self.num_keys} keys)",
        )
        pairs = torch.randint(fewest, most + 1, (n,), generator=generator)
        keys = random_subsets(n, self.num_keys, most, generator) + 1  # (n, most), distinct per row
        values = random_subsets(n, self.num_values, most, generator) + 1 + self.num_keys
        slot = torch.arange(most)
        used = slot < pairs[:, None]  # (n, most): slot j holds a pair iff j < P
        rows = torch.arange(n)[:, None].expand(n, most)[used]

        # Query positions: `most` distinct uniformly random positions of the region [2P, length) (it has
        # length - 2P >= most positions), of which the first P are used; in random order, so key j is
        # queried at position where[:, j] and the query order is a uniform permutation of the pairs.
        position = torch.arange(length)
        scores = torch.rand(n, length, generator=generator).masked_fill(position < 2 * pairs[:, None], 2.0)
        where = scores.argsort(dim=1)[:, :most]

        key_position = 2 * slot.expand(n, most)[used]
        x = torch.full((n, length), FILLER, dtype=torch.long)
        x[rows, key_position] = keys[used]
        x[rows, key_position + 1] = values[used]
        x[rows, where[used]] = keys[used]
        y = torch.zeros(n, length, dtype=torch.long)
        y[rows, where[used]] = values[used]
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[rows, where[used]] = True
        return Batch(x, y, mask)
