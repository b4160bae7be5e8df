"""Hybrid: Mamba blocks with a causal self-attention block every `attention_every` layers (Jamba-style).

The blocks are the ones of `architectures.transformer` (`TransformerBlock`) and `architectures.ssm`
(`ResidualBlock(MambaMixer)`), imported, not copied.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from architectures.ssm import MambaMixer, ResidualBlock, ScanMode, check_mamba_sizes
from architectures.transformer import TransformerBlock, check_attention_sizes
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec


class Hybrid(nn.Module):
    """Input adapter, interleaved Mamba / attention blocks, final LayerNorm, head."""

    state_size = None  # the attention layers' KV cache grows with the sequence

    def __init__(self, spec: TaskSpec, d_model: int, layers: int, attention_every: int, heads: int, mlp: bool,
                 mlp_ratio: float, pos: str, mamba: dict) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.kinds = ["attention" if (i + 1) % attention_every == 0 else "mamba" for i in range(layers)]
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, heads, mlp, mlp_ratio, 0.0, pos) if kind == "attention"
            else ResidualBlock(d_model, MambaMixer(d_model, **mamba))
            for kind in self.kinds
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = output_head(spec, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


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

    With `layers=4, attention_every=2`: mamba, attention, mamba, attention. The attention layers are the
    transformer's pre-LN blocks (with MLP unless `mlp=False`; `pos` as in `transformer`, rope/alibi or
    none, since the Mamba layers already carry order); the others are Mamba's RMSNorm residual blocks.
    There must be at least one attention layer (`attention_every <= layers`); the tiny preset therefore
    has 2 layers, not 1.
    """
    check_sizes("hybrid", layers=layers, attention_every=attention_every)
    require(attention_every <= layers,
            f"architecture 'hybrid': attention_every={attention_every} > layers={layers} leaves no attention layer")
    check_attention_sizes("hybrid", d_model, heads, mlp_ratio, 0.0)
    require(pos in ("none", "rope", "alibi"), f"architecture 'hybrid': pos must be none, rope or alibi; got {pos!r}")
    check_mamba_sizes("hybrid", d_model, d_state, d_conv, expand, dt_rank, 1e-3, 1e-1, scan)
    mamba = {"d_state": d_state, "d_conv": d_conv, "expand": expand, "dt_rank": dt_rank, "scan": scan}
    return Hybrid(spec, d_model, layers, attention_every, heads, mlp, mlp_ratio, pos, mamba)
