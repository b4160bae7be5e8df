"""mad_fuzzy_recall: MAD's multi-query recall whose keys and values are runs of several adjacent tokens.

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_fuzzy_in_context_recall_instance` with
`multi_query=True`, baseline `configs/tasks/fuzzy-in-context-recall.yml`: vocab_size 16, seq_len 128,
k_motif_size 3, v_motif_size 3; the grid varies vocab_size (32, 64, 128) and seq_len (256, 512, 1024).

Tokens (V = vocab_size): PAD = V - 1; the other V - 1 are keys (the lower half, 0..(V-1)//2 - 1) and values
(the rest). A key is 1..k_motif_size distinct key tokens, a value 1..v_motif_size distinct value tokens (each
size uniform, the tokens a uniform ordered draw without repetition). A sequence is built as MAD builds it:
1. draw the query pair (a key and its value) and an insertion point, uniform over [0, L - 2 * its size);
2. while the sequence is shorter than L - (query size) - (k_motif_size + v_motif_size): append a key and its
   value (a key seen before keeps its value; a new key gets a fresh one; drawing the query key gives the
   query value), or, once the insertion point is reached, the query pair itself;
3. append the query pair again, left-pad with PAD to L + 1 tokens, and shift by one: the model sees the first
   L tokens and the target at each position is the next token where that token is scored.
Scored (mask True): the next token when it belongs to the value of a key shown before, i.e. at the last token
of a repeated key (the value's first token) and at each value token but the last (the value's next token);
the final query's value is always scored. Targets "several". Example (V=10: keys 0-3, values 4-8, PAD 9;
k_motif_size = v_motif_size = 2; L = 15): the query pair (2,) -> (5, 8) inserted first, then the key (1, 3)
with value (6,) twice, then the query:
    x = 9 9 9 9 2 5 8 1 3 6 1 3 6 2 5   scored: y = 6 at the second 3, y = 5 at the last 2, y = 8 at the last 5.

Chance: every scored target is a token of a value; the generator treats the value tokens symmetrically (any
relabelling of them leaves the distribution unchanged), so each target is uniform over the
K = (V - 1) - (V - 1) // 2 value tokens: 1/K (derivation of the macro rule in `tasks.mad.base`).

Departures from MAD-Lab's generator, besides the common ones in `tasks.mad.base`:
- Key sizes: MAD's training instances draw each key's size from 1..k_motif_size, its test instances use
  k_motif_size-token keys only. One `sample` serves every stream here, so training, validation and test all
  use the training distribution (which contains MAD's test sequences); scores include shorter keys.
- Query insertion: MAD inserts the query pair at the first step that starts at or past its insertion point
  (uniform below L - 2 * query size). When no step starts there before the loop stops (at L - query size -
  k_motif_size - v_motif_size tokens), the pair is never shown (unless its key comes up by chance) and the
  final query asks for a value the sequence never showed: an unpredictable target. Here a pair that would end
  the loop while the query pair is still unshown is replaced by the query pair, so the query is always
  answerable; every sequence in which MAD shows the query pair is generated exactly as MAD generates it.
- MAD's fuzzy generator also takes noise_vocab_size and frac_noise, which MAD's benchmark never sets: not
  exposed here (`mad_noisy_recall` is the noise task).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from tasks.common import token_spec
from tasks.mad.base import MadTask, check_at_least, reported

NAME = "mad_fuzzy_recall"
IGNORE = -1  # an unscored position while a sequence is built


class _Draws:
    """Uniform draws from one pre-generated row of `torch.rand` (one batch-wide call keeps `sample` fast)."""

    def __init__(self, row: list[float]) -> None:
        self.row, self.next = row, 0

    def index(self, count: int) -> int:
        """Uniform over 0..count-1."""
        u = self.row[self.next]
        self.next += 1
        return int(u * count)

    def motif(self, size: int, first: int, count: int) -> tuple[int, ...]:
        """`size` distinct tokens of first..first+count-1 in uniform random order (uniform over ordered draws)."""
        pool = list(range(first, first + count))
        return tuple(pool.pop(self.index(len(pool))) for _ in range(size))


@register_task(NAME)
@dataclass
class MadFuzzyRecall(MadTask):
    """Recall multi-token values of multi-token keys already shown (MAD, Poli et al. 2024)."""

    reported = reported(
        "no architecture comes close to solving it; DeltaNet and the Transformer lead, while Hyena, Mamba and "
        "GLA stay far below them"
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 10, "k_motif_size": 2, "v_motif_size": 2, "length": 24, "eval_lengths": (32,)},
        "paper": {
            "vocab_size": 16,
            "k_motif_size": 3,
            "v_motif_size": 3,
            "length": 128,
            "eval_lengths": (256, 512, 1024),
        },
    }

    vocab_size: int = 16
    k_motif_size: int = 3  # longest key, in tokens
    v_motif_size: int = 3  # longest value, in tokens
    length: int = 64
    eval_lengths: tuple[int, ...] = (128, 256)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_at_least(NAME, "k_motif_size", self.k_motif_size, 1, "tokens per key")
        check_at_least(NAME, "v_motif_size", self.v_motif_size, 1, "tokens per value")
        check_at_least(
            NAME,
            "vocab_size",
            self.vocab_size,
            self._smallest_vocab(),
            f"PAD plus {self.k_motif_size} distinct key tokens and {max(2, self.v_motif_size)} value tokens, "
            "keys taking the lower half",
        )
        self.check_common(self.min_length)

    def _smallest_vocab(self) -> int:
        vocab = 4
        while (vocab - 1) // 2 < self.k_motif_size or vocab - 1 - (vocab - 1) // 2 < max(2, self.v_motif_size):
            vocab += 1
        return vocab

    @property
    def min_length(self) -> int:
        """MAD's insertion point must have room for the query pair twice at its longest."""
        return 2 * (self.k_motif_size + self.v_motif_size) + 1

    @property
    def pad(self) -> int:
        return self.vocab_size - 1

    @property
    def num_keys(self) -> int:
        return (self.vocab_size - 1) // 2

    @property
    def num_values(self) -> int:
        return self.vocab_size - 1 - self.num_keys

    @property
    def target_classes(self) -> int:
        return self.num_values

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size, self.vocab_size)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length >= self.min_length, f"task {NAME!r}: length must be >= {self.min_length}; got {length}")
        widest = self.k_motif_size + self.v_motif_size
        budget = (length // 2 + 2) * (2 + widest) + 1  # draws per sequence: steps add >= 2 tokens each
        rows = torch.rand(n, budget, generator=generator).tolist()
        x = torch.empty(n, length, dtype=torch.long)
        y = torch.zeros(n, length, dtype=torch.long)
        for i, row in enumerate(rows):
            tokens, targets = self._sequence(length, _Draws(row))
            x[i] = torch.tensor(tokens[:-1])
            y[i] = torch.tensor(targets[1:])
        mask = y != IGNORE
        return Batch(x, y.clamp(min=0), mask)

    def _sequence(self, length: int, draws: _Draws) -> tuple[list[int], list[int]]:
        """One sequence of length + 1 tokens and the target of each token (IGNORE where unscored)."""
        kmax, vmax, keys_n, values_n = self.k_motif_size, self.v_motif_size, self.num_keys, self.num_values
        query_key = draws.motif(1 + draws.index(kmax), 0, keys_n)
        query_value = draws.motif(1 + draws.index(vmax), keys_n, values_n)
        query_size = len(query_key) + len(query_value)
        insert_at = draws.index(length - 2 * query_size)
        stop = length - query_size - (kmax + vmax)
        tokens: list[int] = []
        targets: list[int] = []
        value_of: dict[tuple[int, ...], tuple[int, ...]] = {}
        while len(tokens) < stop:
            key_size, value_size = 1 + draws.index(kmax), 1 + draws.index(vmax)
            if query_key not in value_of and len(tokens) >= insert_at:
                self._show_query(tokens, targets, value_of, query_key, query_value)
                continue
            key = draws.motif(key_size, 0, keys_n)
            shown = key in value_of
            if key == query_key:
                value = query_value
            elif shown:
                value = value_of[key]
            else:
                value = draws.motif(value_size, keys_n, values_n)
            if query_key not in value_of and key != query_key and len(tokens) + len(key) + len(value) >= stop:
                # this pair would end the loop with the query pair never shown (MAD's generator lets it): show it
                self._show_query(tokens, targets, value_of, query_key, query_value)
                continue
            tokens += [*key, *value]
            targets += [IGNORE] * len(key) + (list(value) if shown else [IGNORE] * len(value))
            value_of[key] = value
        tokens += [*query_key, *query_value]
        targets += [IGNORE] * len(query_key) + list(query_value)
        padding = length + 1 - len(tokens)
        return [self.pad] * padding + tokens, [IGNORE] * padding + targets

    @staticmethod
    def _show_query(
        tokens: list[int],
        targets: list[int],
        value_of: dict[tuple[int, ...], tuple[int, ...]],
        key: tuple[int, ...],
        value: tuple[int, ...],
    ) -> None:
        """Append the query pair where it is first shown (unscored: its key is new) and remember it."""
        tokens += [*key, *value]
        targets += [IGNORE] * (len(key) + len(value))
        value_of[key] = value
