"""mad_memorization: MAD's memorization -- a fixed key-to-value map, the same in every sequence, learned in weights.

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_memorization_instance` with the map of
`generate_kv_map`, baseline `configs/tasks/memorization.yml`: vocab_size 256, seq_len 32, 256 training
sequences; the grid varies vocab_size (512, 1024, 2048, 4096, 8192).

Tokens (V = vocab_size): INSERT = V - 1; the other V - 1 are keys (the lower half, K = (V-1)//2 of them) and
values (the rest). The map sends each key to a distinct value: a uniformly random injection, drawn once from
`map_seed` and identical in the training, validation and test streams (MAD draws it once from its config seed
and shares it between its train and test sets). A sequence of length L is L/2 pairs (uniform key, INSERT); the
target at each INSERT is the map's value of the key before it (mask True on the INSERTs, targets "several";
inputs and targets aligned). Nothing in the sequence reveals the map: it must be learned across training.
Example (V=9: keys 0-3, values 4-7, INSERT 8; map 0->6, 1->4, 2->7, 3->5; L = 6):
    x = 2 8 0 8 2 8     targets at the INSERTs: 7 6 7.

Chance: keys are uniform and the map is one-to-one, so each target is uniform over the K mapped values:
1/K = 1/((V-1)//2) (derivation of the macro rule in `tasks.mad.base`). A model that memorizes the map
scores 1 at every length.

Departures from MAD-Lab's generator, besides the common ones in `tasks.mad.base`: the map is drawn with torch
from `map_seed` (the same distribution as MAD's zip of two shuffled lists, not the same map as MAD's seed
12345 gives); MAD's noise options (never set by its benchmark) are not exposed; and an odd length is refused
(MAD silently drops the last position).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.seeds import stable_seed
from bench.contract.spec import Batch, TaskSpec
from tasks.common import token_spec
from tasks.mad.base import MadTask, check_at_least, reported

NAME = "mad_memorization"


@register_task(NAME)
@dataclass
class MadMemorization(MadTask):
    """Answer each key with its value under a map fixed across all sequences (MAD, Poli et al. 2024)."""

    reported = reported("Hyena and Mamba memorize best with the Transformer close behind, GLA and DeltaNet well behind")
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 9, "length": 8, "eval_lengths": (12,)},
        "paper": {"vocab_size": 256, "length": 32, "eval_lengths": (64,)},
    }

    vocab_size: int = 64  # keys, values and INSERT (MAD's convention)
    map_seed: int = 0  # the key -> value map; every stream shares it
    length: int = 32
    eval_lengths: tuple[int, ...] = (64,)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_at_least(NAME, "vocab_size", self.vocab_size, 5, "INSERT plus 2 keys and 2 values")
        check_at_least(NAME, "map_seed", self.map_seed, 0, "a seed")
        self.check_common(2, even=True)

    @property
    def insert(self) -> int:
        return self.vocab_size - 1

    @property
    def num_keys(self) -> int:
        return (self.vocab_size - 1) // 2

    @property
    def num_values(self) -> int:
        return self.vocab_size - 1 - self.num_keys

    @property
    def target_classes(self) -> int:
        return self.num_keys

    @cached_property
    def value_of(self) -> torch.Tensor:
        """`(K,)`: the value token of each key, a uniformly random injection into the values from `map_seed`."""
        generator = torch.Generator().manual_seed(stable_seed(NAME, "map", self.map_seed))
        return self.num_keys + torch.randperm(self.num_values, generator=generator)[: self.num_keys]

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= 2 and length % 2 == 0, f"task {NAME!r}: length must be even and >= 2; got {length}")
        keys = torch.randint(0, self.num_keys, (n, length // 2), generator=generator)
        x = torch.full((n, length), self.insert, dtype=torch.long)
        x[:, 0::2] = keys
        y = torch.zeros(n, length, dtype=torch.long)
        y[:, 1::2] = self.value_of[keys]
        mask = torch.zeros(n, length, dtype=torch.bool)
        mask[:, 1::2] = True
        return Batch(x, y, mask)
