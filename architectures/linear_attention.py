"""Causal linear attention (Katharopoulos et al. 2020, "Transformers are RNNs").

Softmax attention's `exp(q.k)` is replaced by `phi(q).phi(k)` with `phi(x) = elu(x) + 1`, so causal
attention becomes a running sum: `S_t = sum_{s<=t} phi(k_s) v_s^T`, `z_t = sum_{s<=t} phi(k_s)`,
`out_t = phi(q_t)^T S_t / (phi(q_t)^T z_t)`. The mixer's `forward` computes every `S_t` at once with
cumulative sums (the parallel training form); its `step` carries `(S, z)` position by position (the RNN
form, constant memory per step), and the backbone's `recurrent_forward` gives the same outputs.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.attention import check_attention_sizes
from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.positions import AdditivePositions
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

State = tuple[torch.Tensor, torch.Tensor]  # S (B, H, d_head, d_head), z (B, H, d_head)


def feature_map(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x) + 1


class CausalLinearAttention(nn.Module):
    """Multi-head linear attention mixer; `forward` (cumulative sums) and `step` (recurrent) agree."""

    def __init__(self, d_model: int, heads: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.heads, self.head_dim, self.eps = heads, d_model // heads, eps
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    @property
    def state_size(self) -> int:
        return self.heads * (self.head_dim * self.head_dim + self.head_dim)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, self.head_dim)).unbind(-3)  # (..., H, d_head)
        return feature_map(q), feature_map(k), v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._qkv(x)  # (B, T, H, d)
        kv = (k.unsqueeze(-1) * v.unsqueeze(-2)).cumsum(dim=1)  # (B, T, H, d, d): S_t for every t
        z = k.cumsum(dim=1)  # (B, T, H, d)
        num = (q.unsqueeze(-1) * kv).sum(-2)  # phi(q_t)^T S_t
        den = (q * z).sum(-1, keepdim=True)
        return self.proj((num / (den + self.eps)).flatten(-2))

    def step(self, x_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position: `x_t` `(B, d_model)` -> output `(B, d_model)` and the updated `(S, z)`."""
        q, k, v = self._qkv(x_t)  # (B, H, d)
        if state is None:
            state = (
                x_t.new_zeros(x_t.shape[0], self.heads, self.head_dim, self.head_dim),
                x_t.new_zeros(x_t.shape[0], self.heads, self.head_dim),
            )
        S, z = state
        S = S + k.unsqueeze(-1) * v.unsqueeze(-2)
        z = z + k
        num = (q.unsqueeze(-1) * S).sum(-2)
        den = (q * z).sum(-1, keepdim=True)
        return self.proj((num / (den + self.eps)).flatten(-2)), (S, z)


@register_architecture(
    "linear_attention",
    presets={
        "tiny": {"layers": 1, "heads": 2},
        "small": {"layers": 2, "heads": 4},
        "base": {"layers": 4, "heads": 4},
    },
    width_param="d_model",
    width_multiple=4,
)
def build_linear_attention(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
    pos: Literal["none", "learned", "sinusoidal"] = "none",
) -> nn.Module:
    """Causal linear-attention transformer (elu+1 feature map; Katharopoulos et al. 2020).

    Same pre-LN block layout as `transformer`, with softmax attention replaced by kernelised attention:
    a parallel form via cumulative sums for training and an equivalent recurrent form
    (`model.recurrent_forward`) whose state is `heads * (d_head^2 + d_head)` numbers per layer.
    """
    check_sizes("linear_attention", layers=layers)
    check_attention_sizes("linear_attention", d_model, heads, mlp_ratio, dropout)
    require(
        pos in ("none", "learned", "sinusoidal"),
        f"architecture 'linear_attention': pos must be none, learned or sinusoidal; got {pos!r}",
    )
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: CausalLinearAttention(d_model, heads),
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        pos=AdditivePositions(pos, d_model, spec.max_seq_len, spec.max_seq_len) if pos != "none" else None,
        dropout=dropout,
    )
