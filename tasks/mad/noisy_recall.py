"""mad_noisy_recall: MAD's multi-query associative recall with pairs of noise tokens among the key-value pairs.

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_noisy_in_context_recall_instance` with
`multi_query=True`, baseline `configs/tasks/noisy-in-context-recall.yml`: vocab_size 32 of which
noise_vocab_size 16, seq_len 128, frac_noise 0.2; the grid varies vocab_size (48, 80, 144: 16 of them noise),
seq_len (256, 512, 1024) and frac_noise (0.4, 0.6, 0.8).

Layout (`tasks.mad.base.KeyValueRecall`): the non-special tokens are the first V - N (N = noise_vocab_size):
keys their lower half, values the upper half; noise tokens the top N. Each of the length/2 - 1 context pairs is,
with probability frac_noise, two uniform noise tokens (never scored), else a key and its value; one context
pair is always a key-value pair; the final query is a key shown before. Targets: the value at every key shown
before, including the query (mask True there, targets "several"). A model must learn which tokens are noise.

Chance: every target is a value, uniform over the (V - N) - (V - N) // 2 value tokens: K of them, 1/K.

Departures from MAD-Lab's generator: the common ones in `tasks.mad.base`; the per-sequence value table (same
distribution, see `mad_in_context_recall`); and the pair that is never noise is drawn among the length/2 - 1
context pairs, where MAD draws it among length/2 indices of which the last is the final query's slot (so with
probability 2/length MAD protects nothing, and if every pair then came out noise its generator would fail for
want of a key to query; here a key is always shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bench.contract.errors import require
from bench.contract.registry import register_task
from tasks.mad.base import KeyValueRecall, check_at_least, reported

NAME = "mad_noisy_recall"


@register_task(NAME)
@dataclass
class MadNoisyRecall(KeyValueRecall):
    """Recall the value of every key already shown while ignoring noise pairs (MAD, Poli et al. 2024)."""

    reported = reported("DeltaNet recalls perfectly, Mamba and the Transformer come next, GLA and Hyena trail")
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 12, "noise_vocab_size": 4, "frac_noise": 0.2, "length": 16, "eval_lengths": (24,)},
        "paper": {
            "vocab_size": 32,
            "noise_vocab_size": 16,
            "frac_noise": 0.2,
            "length": 128,
            "eval_lengths": (256, 512, 1024),
        },
    }

    vocab_size: int = 32  # all tokens, the noise tokens included (MAD's convention)
    noise_vocab_size: int = 16
    frac_noise: float = 0.2  # probability that a context pair is noise
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_at_least(NAME, "noise_vocab_size", self.noise_vocab_size, 1, "the noise tokens")
        require(0.0 <= self.frac_noise < 1.0, f"task {NAME!r}: frac_noise must be in [0, 1); got {self.frac_noise}")
        self.check_vocabulary()
        self.check_common(4, even=True)

    def noise(self) -> tuple[int, float]:
        return self.noise_vocab_size, self.frac_noise
