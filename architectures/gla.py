"""Gated Linear Attention (Yang, Wang, Shen, Panda & Kim 2024, "Gated Linear Attention Transformers with
Hardware-Efficient Training", ICML 2024).

Linear attention with a data-dependent decay on each key feature, per head:

    S_t = diag(alpha_t) S_{t-1} + k_t v_t^T,    o_t = S_t^T q_t / sqrt(d_k),
    alpha_t = sigmoid(W_a2 W_a1 x_t + b)^(1 / tau)   (a rank-`gate_low_rank_dim` gate, tau = `gate_logit_normalizer`)

so a head forgets each key direction at its own, input-chosen rate. As the paper (and flash-linear-attention's
`GatedLinearAttention` layer): keys are `expand_k * d_model` wide (half the values' width by default), no
feature map, and the output is `RMSNorm(o) * swish(W_g x)` per head (`output_gate`), then a projection.
The op (chunked and recurrent forms) is `decayed_linear_attention`.
"""

from __future__ import annotations

import functools
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.decayed_linear_attention import decayed_chunked, decayed_recurrent, decayed_step
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Mode = Literal["chunk", "recurrent"]
MODES = ("chunk", "recurrent")
RMSNORM = functools.partial(nn.RMSNorm, eps=1e-5)


class GLAMixer(nn.Module):
    """Multi-head gated linear attention; `mode` picks the chunked or the recurrent form for `forward`."""

    def __init__(
        self,
        d_model: int,
        heads: int,
        key_dim: int,
        gate_low_rank_dim: int = 16,
        gate_logit_normalizer: int = 16,
        output_gate: bool = True,
        mode: str = "chunk",
        chunk_size: int = 16,
    ) -> None:
        super().__init__()
        self.heads, self.head_k, self.head_v = heads, key_dim // heads, d_model // heads
        self.normalizer, self.mode, self.chunk_size = gate_logit_normalizer, mode, chunk_size
        self.q_proj = nn.Linear(d_model, key_dim, bias=False)
        self.k_proj = nn.Linear(d_model, key_dim, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.gk_proj = nn.Sequential(
            nn.Linear(d_model, gate_low_rank_dim, bias=False), nn.Linear(gate_low_rank_dim, key_dim)
        )
        self.g_proj = nn.Linear(d_model, d_model, bias=False) if output_gate else None
        self.g_norm = nn.RMSNorm(self.head_v, eps=1e-5)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)

    @property
    def state_size(self) -> int:
        """Per layer: one `d_k x d_v` matrix per head, `heads * (key_dim / heads) * (d_model / heads)`."""
        return self.heads * self.head_k * self.head_v

    def _inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """q (scaled by `d_k ** -0.5`), k, v and the log-decay `log sigmoid(.) / tau`, split into heads `(..., H, d)`."""
        q, k, g = (
            t.unflatten(-1, (self.heads, self.head_k)) for t in (self.q_proj(x), self.k_proj(x), self.gk_proj(x))
        )
        v = self.v_proj(x).unflatten(-1, (self.heads, self.head_v))
        return q * self.head_k**-0.5, k, v, F.logsigmoid(g) / self.normalizer

    def _output(self, o: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        o = self.g_norm(o)
        if self.g_proj is not None:
            o = o * F.silu(self.g_proj(x).unflatten(-1, (self.heads, self.head_v)))
        return self.o_proj(o.flatten(-2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v, g = (t.transpose(1, 2) for t in self._inputs(x))  # (B, H, T, d)
        if self.mode == "chunk":
            o, _ = decayed_chunked(q, k, v, g, self.chunk_size)
        else:
            o, _ = decayed_recurrent(q, k, v, g)
        return self._output(o.transpose(1, 2), x)

    def step(self, x_t: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One position `(B, d_model)`; the state is the `(B, H, d_k, d_v)` matrix."""
        q, k, v, g = self._inputs(x_t)
        o, state = decayed_step(q, k, v, g, state)
        return self._output(o, x_t), state


@register_architecture(
    "gla",
    presets={"tiny": {"layers": 1, "heads": 2}, "small": {"layers": 2, "heads": 4}, "base": {"layers": 4, "heads": 4}},
    width_param="d_model",
    width_multiple=8,
)
def build_gla(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    expand_k: float = 0.5,
    gate_low_rank_dim: int = 16,
    gate_logit_normalizer: int = 16,
    output_gate: bool = True,
    mode: Mode = "chunk",
    chunk_size: int = 16,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """Gated Linear Attention (Yang et al. 2024): linear attention with a data-dependent decay per key feature.

    Pre-norm residual blocks (RMSNorm) of the GLA mixer and an MLP on the shared backbone, final RMSNorm.
    Keys are `expand_k * d_model` wide, values `d_model`, split over `heads`; the decay gate has rank
    `gate_low_rank_dim` and its log is divided by `gate_logit_normalizer` (16 in the paper: decays near 1).
    `mode`: `"chunk"` (chunks of `chunk_size`, the state carried between them) or `"recurrent"`, the same
    outputs. State per layer: `heads * (expand_k * d_model / heads) * (d_model / heads)` numbers.
    """
    check_sizes(
        "gla",
        d_model=d_model,
        layers=layers,
        heads=heads,
        gate_low_rank_dim=gate_low_rank_dim,
        gate_logit_normalizer=gate_logit_normalizer,
        chunk_size=chunk_size,
    )
    require(expand_k > 0, f"architecture 'gla': expand_k must be > 0; got {expand_k!r}")
    key_dim = d_model * expand_k
    require(
        key_dim == int(key_dim) and int(key_dim) % heads == 0 and d_model % heads == 0,
        f"architecture 'gla': d_model={d_model} and expand_k * d_model={key_dim:g} must be integers divisible by heads={heads}",
    )
    require(mode in MODES, f"architecture 'gla': mode must be one of {', '.join(MODES)}; got {mode!r}")
    require(mlp_ratio > 0, f"architecture 'gla': mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'gla': dropout must be in [0, 1); got {dropout!r}")
    mixer = {
        "gate_low_rank_dim": gate_low_rank_dim,
        "gate_logit_normalizer": gate_logit_normalizer,
        "output_gate": output_gate,
        "mode": mode,
        "chunk_size": chunk_size,
    }
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: GLAMixer(d_model, heads, int(key_dim), **mixer),  # type: ignore[arg-type]
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        norm=RMSNORM,
        dropout=dropout,
    )
