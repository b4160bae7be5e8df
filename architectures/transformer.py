"""Decoder-only (causal) transformer: the reference family every other one is size-matched against.

Softmax attention (`architectures.attention`) as the mixer of the shared backbone, with an MLP after
every mixer and LayerNorm; `pos` picks an additive scheme (the backbone's `pos` hook) or an in-attention
one (`architectures.positions`).
"""

from __future__ import annotations

from typing import Literal

from torch import nn

from architectures.attention import CausalSelfAttention, check_attention_sizes
from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.positions import ADDITIVE, IN_ATTENTION, POS_KINDS, AdditivePositions
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

PosKind = Literal["none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi", "randomized"]


@register_architecture(
    "transformer",
    presets={
        "tiny": {"d_model": 32, "layers": 1, "heads": 2},
        "small": {"d_model": 64, "layers": 2, "heads": 4},
        "base": {"d_model": 128, "layers": 4, "heads": 4},
    },
    width_param="d_model",
    width_multiple=4,
)
def build_transformer(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
    pos: PosKind = "none",
    max_pos: int | None = None,
) -> nn.Module:
    """Pre-LN decoder-only transformer with causal self-attention (the size reference).

    `pos` chooses the positional scheme. The default is `none` (NoPE): causal masking alone already
    breaks permutation symmetry (position t attends over exactly t+1 tokens, so counts and positions are
    recoverable), and Kazemnejad et al. 2023 ("The Impact of Positional Encoding on Length Generalization
    in Transformers") find NoPE length-generalizes best among absolute, relative, rotary and ALiBi schemes.
    `learned`: a table sized to the spec's `max_seq_len` (longer inputs are unsupported). `sinusoidal`:
    Vaswani et al. `rope`: rotary q/k. `alibi`: per-head linear distance bias. `hard_alibi` (Jelassi et
    al. 2024): half the heads see the whole prefix, the others a window of the last 2, 4, 8, ... tokens
    (`hard_alibi_windows`). `randomized` (Ruoss et al.
    2023): in training, sinusoidal codes of a sorted random subset of `range(max_pos)` (default
    `4 * max_seq_len`); in eval, positions `0..T-1`. `mlp=False` gives an attention-only transformer.
    `dropout` applies to the attention weights, the embedded input and every residual branch.
    """
    check_sizes("transformer", layers=layers)
    check_attention_sizes("transformer", d_model, heads, mlp_ratio, dropout)
    require(pos in POS_KINDS, f"architecture 'transformer': pos must be one of {', '.join(POS_KINDS)}; got {pos!r}")
    if max_pos is None:
        max_pos = 4 * spec.max_seq_len
    require(
        isinstance(max_pos, int) and max_pos >= spec.max_seq_len,
        f"architecture 'transformer': max_pos must be an integer >= max_seq_len={spec.max_seq_len}; got {max_pos!r}",
    )
    attention_pos = pos if pos in IN_ATTENTION else "none"
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: CausalSelfAttention(d_model, heads, dropout, attention_pos),
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        pos=AdditivePositions(pos, d_model, spec.max_seq_len, max_pos) if pos in ADDITIVE else None,
        dropout=dropout,
    )
