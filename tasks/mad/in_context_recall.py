"""mad_in_context_recall: MAD's multi-query associative recall (keys and values are single tokens).

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_in_context_recall_instance` with
`multi_query=True`, baseline `configs/tasks/in-context-recall.yml`: vocab_size 16, seq_len 128; the grid
varies vocab_size (32, 64, 128) and seq_len (256, 512, 1024).

Layout (`tasks.mad.base.KeyValueRecall`, no noise): keys 0..V/2-1, values V/2..V-1; length/2 - 1 context
pairs (uniform key, its value, the value drawn uniformly the first time the key appears and repeated after),
then a final query: a key shown before, uniform over the distinct keys shown. The model sees the length - 1
tokens up to the query; the target at every key that was shown before is its value (mask True there,
targets "several"). Example (V=8, keys 0-3, values 4-7), length 10:
    x = 2 5 0 7 2 5 1 4 0    y at the 3rd key (2, shown before) = 5, at the query 0 = 7.

Chance: every target is a value, uniform over the V/2 value tokens, so K = V/2 classes and the best constant
scores 1/K = 2/V under the macro average (derivation in `tasks.mad.base`).

Departures from MAD-Lab's generator: the common ones in `tasks.mad.base` (loss only on the scored positions;
training-set size a harness setting; longer lengths as evaluation lengths). The value of a key is drawn from a
per-sequence table (one uniform value per key) instead of at its first occurrence: the same distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bench.contract.registry import register_task
from tasks.mad.base import KeyValueRecall, reported

NAME = "mad_in_context_recall"


@register_task(NAME)
@dataclass
class MadInContextRecall(KeyValueRecall):
    """Recall the value of every key already shown, single-token keys and values (MAD, Poli et al. 2024)."""

    reported = reported(
        "DeltaNet recalls perfectly and the Transformer nearly so, Mamba is close behind, Hyena and GLA trail"
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 8, "length": 16, "eval_lengths": (24,)},
        # MAD's baseline; its grid's longer sequence lengths become evaluation lengths
        "paper": {"vocab_size": 16, "length": 128, "eval_lengths": (256, 512, 1024)},
    }

    vocab_size: int = 16
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        self.check_vocabulary()
        self.check_common(4, even=True)
