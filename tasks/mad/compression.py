"""mad_compression: MAD's compression -- squeeze a random sequence into its last token, then read it back.

Poli et al. 2024 (see `tasks.mad.base`); MAD-Lab `generate_compression_instance` and its `AutoEncoder`
backbone (README: compression uses it instead of the language model), baseline `configs/tasks/compression.yml`:
vocab_size 16, seq_len 32; the grid varies vocab_size (32, 64, 128) and seq_len (64, 128, 256).

MAD: the input is L - 1 uniform data tokens (0..V-2) then the aggregation token C = V-1; the encoder's output at
the last position (C) is the only thing its fixed MLP decoder sees, together with a sinusoidal code of the
position i, and the decoder must return the input token at every position i = 1..L (C included).

Encoding here (a causal token model `(B, T) -> (B, T, C)` has no separate decoder): the L input tokens, then L
readout tokens R = V (an input-only token; the model's vocabulary is V + 1, its classes the V of MAD). The
target at the i-th readout is the i-th input token, C included (mask True on the L readouts, targets
"several"); readout inputs are all R, so, as in MAD's decoder, no readout sees an earlier answer.
`spec(L).seq_len` = 2L. Example (V=6: data 0-4, C 5, R 6; L = 4):
    x = 3 0 3 5 6 6 6 6     targets at the readouts: 3 0 3 5.

What differs from MAD's task, and why: MAD forces everything through one vector (the aggregation token's) and
a small MLP; here the readout positions are ordinary positions of the same model. A model with a fixed-size
state (an RNN, an SSM) must still carry the whole sequence across the aggregation token in its state, as in
MAD; attention can instead look back at the inputs from each readout, which turns compression into copying.
No data layout can impose MAD's bottleneck on an architecture; compare attention's score here with care.
MAD's generator also takes noise_vocab_size and frac_noise (its noise path returns the noised inputs as targets,
and the benchmark never sets them): not exposed. Plus the common departures in `tasks.mad.base`.

Chance: the targets take all V classes (the V - 1 data tokens and C, which is the last readout's target in
every sequence), so the best constant scores 1/V under the macro average (`tasks.mad.base`). A predictor that
knows only the position does better -- C at the last readout and any constant elsewhere scores 2/V -- because
MAD counts the aggregation token's own, always-known position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from tasks.common import token_spec
from tasks.mad.base import MadTask, check_at_least, reported

NAME = "mad_compression"


@register_task(NAME)
@dataclass
class MadCompression(MadTask):
    """Read back every input token after the aggregation token (MAD, Poli et al. 2024)."""

    reported = reported(
        "no architecture comes close to solving it; Mamba, the Transformer and Hyena do best, DeltaNet and GLA "
        "less well"
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"vocab_size": 6, "length": 6, "eval_lengths": (8,)},
        "paper": {"vocab_size": 16, "length": 32, "eval_lengths": (64, 128, 256)},
    }

    vocab_size: int = 16  # data tokens plus the aggregation token (MAD's convention); the readout token is extra
    length: int = 16
    eval_lengths: tuple[int, ...] = (32, 64)
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_at_least(NAME, "vocab_size", self.vocab_size, 3, "2 data tokens plus the aggregation token")
        self.check_common(2)

    @property
    def aggregate(self) -> int:
        return self.vocab_size - 1

    @property
    def readout(self) -> int:
        return self.vocab_size

    @property
    def target_classes(self) -> int:
        return self.vocab_size

    def spec(self, length: int | None = None) -> TaskSpec:
        return token_spec(self, length, self.vocab_size + 1, self.vocab_size, positions=lambda n: 2 * n)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        data = torch.randint(0, self.vocab_size - 1, (n, length - 1), generator=generator)
        inputs = torch.cat([data, torch.full((n, 1), self.aggregate)], dim=1)
        x = torch.cat([inputs, torch.full((n, length), self.readout)], dim=1)
        y = torch.cat([torch.zeros(n, length, dtype=torch.long), inputs], dim=1)
        mask = torch.zeros(n, 2 * length, dtype=torch.bool)
        mask[:, length:] = True
        return Batch(x, y, mask)
