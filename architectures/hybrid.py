"""Hybrid: Mamba mixers with a causal softmax attention mixer every `attention_every` layers (Jamba-style).

One backbone, two mixer kinds chosen per layer index: the mixers of `architectures.mamba` and
`architectures.attention`, imported, not copied.
"""

from __future__ import annotations

from typing import Literal

from torch import nn

from architectures.attention import CausalSelfAttention, check_attention_sizes
from architectures.backbone import MLP, Backbone
from architectures.base import check_sizes
from architectures.mamba import RMSNORM, MambaMixer, ScanMode, check_mamba_sizes
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec


def is_attention_layer(layer: int, attention_every: int) -> bool:
    """Layer i (from 0) is attention when (i+1) % attention_every == 0: the last of every group."""
    return (layer + 1) % attention_every == 0


@register_architecture(
    "hybrid",
    presets={
        "tiny": {"layers": 2, "heads": 2, "attention_every": 2},
        "small": {"layers": 2, "heads": 4, "attention_every": 2},
        "base": {"layers": 4, "heads": 4, "attention_every": 2},
    },
    width_param="d_model",
    width_multiple=4,
)
def build_hybrid(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 4,
    attention_every: int = 2,
    heads: int = 4,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    pos: Literal["none", "rope", "alibi"] = "none",
    d_state: int = 16,
    d_conv: int = 4,
    expand: int = 2,
    dt_rank: int | None = None,
    scan: ScanMode = "auto",
) -> nn.Module:
    """Mamba blocks interleaved with causal attention: layer i is attention when (i+1) % attention_every == 0.

    With `layers=4, attention_every=2`: mamba, attention, mamba, attention. Every layer is a pre-norm
    residual block of the shared backbone with RMSNorm (as in mamba-ssm's hybrid models); the attention
    layers add the transformer's MLP sub-block (unless `mlp=False`) and take `pos` as in `transformer`
    (rope/alibi or none, since the Mamba layers already carry order); the Mamba layers have no MLP.
    There must be at least one attention layer (`attention_every <= layers`); the tiny preset therefore
    has 2 layers, not 1.
    """
    check_sizes("hybrid", layers=layers, attention_every=attention_every)
    require(
        attention_every <= layers,
        f"architecture 'hybrid': attention_every={attention_every} > layers={layers} leaves no attention layer",
    )
    check_attention_sizes("hybrid", d_model, heads, mlp_ratio, 0.0)
    require(pos in ("none", "rope", "alibi"), f"architecture 'hybrid': pos must be none, rope or alibi; got {pos!r}")
    check_mamba_sizes("hybrid", d_model, d_state, d_conv, expand, dt_rank, 1e-3, 1e-1, scan)

    def mixer(layer: int) -> nn.Module:
        if is_attention_layer(layer, attention_every):
            return CausalSelfAttention(d_model, heads, 0.0, pos)
        return MambaMixer(d_model, d_state=d_state, d_conv=d_conv, expand=expand, dt_rank=dt_rank, scan=scan)

    def mlp_block(layer: int) -> nn.Module | None:
        return MLP(d_model, mlp_ratio) if mlp and is_attention_layer(layer, attention_every) else None

    return Backbone(spec, d_model, layers, mixer, mlp=mlp_block, norm=RMSNORM)
