"""Multi-query associative recall (MQAR): recall the value of every key queried again later.

Arora, Eyuboglu, Timalsina, Johnson, Poli, Zou, Rudra, Re 2023, "Zoology: Measuring and Improving
Recall in Efficient Language Models".

Vocabulary (`vocab_size` tokens in all, up to Zoology's 8192 and beyond): token 0 is filler; keys are
tokens 1..K and values tokens K+1..vocab_size-1, with K = (vocab_size - 1) // 2 (disjoint halves; there
are V = vocab_size - 1 - K values; for an even vocab_size this is Zoology's split, keys 1..vocab_size/2-1).
A sequence of `length` (the context length L) positions holds P key-value pairs k_1 v_1 ... k_P v_P at
positions 0..2P-1 (P uniform in the pair range, per example; keys distinct, values distinct, both
uniformly random), then the query region, positions 2P..L-1, where every key is queried exactly once.
Where the queries sit is the `layout`:
  * "uniform" (the default, archbench's own): at P uniformly random positions of the region, in
    uniformly random order; needs 3P <= L (a key, a value and a query each).
  * "zoology" (Zoology's generator, `zoology/data/multiquery_ar.py`): only at even offsets from the
    region's start, positions 2P + 2g with g < (L - 2P) // 2; the gaps g of keys 1, 2, ..., P are drawn in
    that order without replacement with P(g) proportional to (g + 1)^(power_a - 1) (a power law; Zoology's
    power_a = 0.01, power_a = 1 is uniform over the even offsets). Small gaps are far likelier, so key j
    tends to be queried early and the query order follows the key order more often than not (it is not
    forced). Needs 4P <= L (Zoology's assertion). Same distribution as Zoology's numpy draw, not the same
    random stream. Zoology fixes P per dataset: set min_pairs == max_pairs to match (a range draws P per
    example, as in the uniform layout).
Every other position of the region is filler 0, or a uniformly random token of the whole vocabulary with
`random_non_queries` (Zoology's default; its figure-2 configurations turn it off). Such a random token may
be a key, even one of the context's, but it is never scored.
The target at a query position (the key token itself) is that key's value -- a class over the whole
vocabulary; mask True only at query positions (so the number of targets varies with P). Metric: accuracy
over all query positions. Chance 1/V: each queried value is uniform over the V value tokens whatever the
position, so no input-independent guess beats 1/V.

Pair range: [min_pairs, max_pairs] at the training length; at any other length L both ends scale with
L / length (floor, at least 1) when `scale_pairs` is true, so longer contexts (eval_lengths) also hold
proportionally more pairs -- out of distribution in both context length and number of associations.
Every length must fit its pairs (3P <= L, or 4P <= L for the zoology layout) and the vocabulary must have
at least as many keys as the most pairs needed.

Run keys: `layout`, `power_a` and `random_non_queries` came after records were stored, so `config()` leaves
all three out while every one is at its default (the uniform layout's data are unchanged); any other value
is in the configuration and its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

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
Layout = Literal["uniform", "zoology"]
LAYOUTS = ("uniform", "zoology")
# Parameters added after records were stored, with their defaults: left out of `config()` while all are at
# these values, so the run keys of the records stored before them do not change.
LATER_DEFAULTS: dict[str, Any] = {"layout": "uniform", "power_a": 0.01, "random_non_queries": False}


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
    layout: Layout = "uniform"
    power_a: float = 0.01  # the zoology layout's power law over query gaps (Zoology's default)
    random_non_queries: bool = False

    def __post_init__(self) -> None:
        check_positive(NAME, min_pairs=self.min_pairs, max_pairs=self.max_pairs)
        require(
            self.layout in LAYOUTS, f"task {NAME!r}: layout must be one of {', '.join(LAYOUTS)}; got {self.layout!r}"
        )
        require(self.power_a > 0, f"task {NAME!r}: power_a must be > 0; got {self.power_a}")
        require(
            self.layout == "zoology" or self.power_a == LATER_DEFAULTS["power_a"],
            f"task {NAME!r}: power_a applies only to layout='zoology'; got power_a={self.power_a} with layout={self.layout!r}",
        )
        check_lengths(NAME, self.length, self.eval_lengths)
        require(
            self.vocab_size >= 3,
            f"task {NAME!r}: vocab_size must be >= 3 (filler, one key, one value); got {self.vocab_size}",
        )
        require(
            self.min_pairs <= self.max_pairs,
            f"task {NAME!r}: min_pairs must be <= max_pairs={self.max_pairs}; got min_pairs={self.min_pairs}",
        )
        per_pair = self.positions_per_pair
        why = "key, value and query each take a position" if per_pair == 3 else "the zoology layout needs 4P <= L"
        for length in self.all_lengths:
            _, most = self.pair_range(length)
            require(
                per_pair * most <= length,
                f"task {NAME!r}: length {length} fits at most {length // per_pair} pairs ({why}); got {most} pairs (max_pairs={self.max_pairs})",
            )
            require(
                most <= self.num_keys,
                f"task {NAME!r}: vocab_size={self.vocab_size} gives {self.num_keys} keys, too few for {most} distinct keys at length {length}; need vocab_size >= {2 * most + 1}",
            )
        check_threshold(NAME, self.solved_at, self.chance)

    def config(self) -> dict:
        """Every parameter, except the later ones while all are at their defaults (see the module docstring)."""
        config = super().config()
        if all(config[key] == default for key, default in LATER_DEFAULTS.items()):
            for key in LATER_DEFAULTS:
                del config[key]
        return config

    @property
    def positions_per_pair(self) -> int:
        """Positions one pair needs at least: 3 (uniform layout) or 4 (zoology layout, 4P <= L)."""
        return 4 if self.layout == "zoology" else 3

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
        per_pair = self.positions_per_pair
        require(
            per_pair * most <= length and most <= self.num_keys,
            f"task {NAME!r}: length {length} cannot hold {most} pairs (needs {per_pair} * pairs <= length and pairs <= {self.num_keys} keys)",
        )
        pairs = torch.randint(fewest, most + 1, (n,), generator=generator)
        keys = random_subsets(n, self.num_keys, most, generator) + 1  # (n, most), distinct per row
        values = random_subsets(n, self.num_values, most, generator) + 1 + self.num_keys
        slot = torch.arange(most)
        used = slot < pairs[:, None]  # (n, most): slot j holds a pair iff j < P
        rows = torch.arange(n)[:, None].expand(n, most)[used]

        # Key j is queried at position where[:, j] (only the first P columns are used).
        if self.layout == "zoology":
            where = self.zoology_queries(pairs, length, most, generator)
        else:
            # `most` distinct uniformly random positions of the region [2P, length) (it has length - 2P >=
            # most positions), in random order: the query order is a uniform permutation of the pairs.
            position = torch.arange(length)
            scores = torch.rand(n, length, generator=generator).masked_fill(position < 2 * pairs[:, None], 2.0)
            where = scores.argsort(dim=1)[:, :most]

        key_position = 2 * slot.expand(n, most)[used]
        x = torch.full((n, length), FILLER, dtype=torch.long)
        x[rows, key_position] = keys[used]
        x[rows, key_position + 1] = values[used]
        x[rows, where[used]] = keys[used]
        if self.random_non_queries:  # Zoology: every filler position becomes a uniformly random token
            noise = torch.randint(0, self.vocab_size, (n, length), generator=generator)
            x = torch.where(x == FILLER, noise, x)
        y = torch.zeros(n, length, dtype=torch.long)
        y[rows, where[used]] = values[used]
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[rows, where[used]] = True
        return Batch(x, y, mask)

    def zoology_queries(self, pairs: torch.Tensor, length: int, most: int, generator: torch.Generator) -> torch.Tensor:
        """`(n, most)` query positions of Zoology's layout: 2P + 2g, with the gaps g of the keys drawn in key
        order without replacement, P(g) proportional to (g + 1)^(power_a - 1) over g < (length - 2P) // 2
        (Zoology's `p = a * arange(1, space + 1) ** (a - 1)`). Each example's space holds >= most gaps
        because 4 * most <= length."""
        space = (length - 2 * pairs) // 2  # (n,) gaps available to each example
        gap = torch.arange(int(space.max()), dtype=torch.float64)
        weights = (gap + 1) ** (self.power_a - 1)
        weights = torch.where(gap < space[:, None], weights, torch.zeros(()))
        gaps = torch.multinomial(weights, most, replacement=False, generator=generator)
        return 2 * pairs[:, None] + 2 * gaps
