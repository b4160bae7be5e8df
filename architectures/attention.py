"""Multi-head causal softmax attention as a backbone mixer (used by `transformer` and `hybrid`).

`forward` is `scaled_dot_product_attention` over the whole sequence; `step` is the same attention for
one new position against a key/value cache, the cache being the state (it grows with the sequence, so
`state_size` is None). In-attention positional schemes (`rope`, `alibi`, `hard_alibi`) act here; additive
ones are the backbone's `pos` hook.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes
from architectures.positions import (
    BIASED,
    alibi_slopes,
    apply_rope,
    attention_bias,
    distance_bias,
    hard_alibi_windows,
    rope_tables,
)
from bench.contract.errors import require

Cache = tuple[torch.Tensor, torch.Tensor]  # keys, values (B, H, t, d_head) of the positions seen so far


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention; `pos` is `none` or one of the in-attention schemes."""

    state_size = None  # the key/value cache grows with the sequence: no fixed state
    per_head: torch.Tensor  # buffer registered only for the BIASED schemes (ALiBi slopes / Hard-ALiBi windows)

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0, pos: str = "none") -> None:
        super().__init__()
        self.heads, self.head_dim, self.dropout, self.pos = heads, d_model // heads, dropout, pos
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        if pos in BIASED:  # ALiBi's slopes or Hard-ALiBi's windows, one per head
            self.register_buffer(
                "per_head", alibi_slopes(heads) if pos == "alibi" else hard_alibi_windows(heads), persistent=False
            )

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(B, T, d_model)` -> q, k, v `(B, H, T, d_head)`."""
        batch, length, _ = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return q, k, v

    def _rope(self, q: torch.Tensor, k: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor]:
        cos, sin = rope_tables(q.shape[2], self.head_dim, q.device, start=start)
        return apply_rope(q, cos.to(q.dtype), sin.to(q.dtype)), apply_rope(k, cos.to(k.dtype), sin.to(k.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self._heads(x)
        if self.pos == "rope":
            q, k = self._rope(q, k, start=0)
        dropout = self.dropout if self.training else 0.0
        if self.pos in BIASED:
            bias = attention_bias(self.pos, self.per_head, length, q.dtype, x.device)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0), dropout_p=dropout)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(batch, length, width))

    def step(self, x_t: torch.Tensor, state: Cache | None) -> tuple[torch.Tensor, Cache]:
        """One position `(B, d_model)` against the cache of every earlier key and value."""
        q, k, v = self._heads(x_t.unsqueeze(1))  # (B, H, 1, d_head)
        position = 0 if state is None else state[0].shape[2]
        if self.pos == "rope":
            q, k = self._rope(q, k, start=position)
        keys = k if state is None else torch.cat([state[0], k], dim=2)
        values = v if state is None else torch.cat([state[1], v], dim=2)
        bias = None
        if self.pos in BIASED:
            distance = position - torch.arange(position + 1, device=x_t.device)  # to every cached key, >= 0
            bias = distance_bias(self.pos, self.per_head, distance.view(1, -1), q.dtype).unsqueeze(0)  # (1, H, 1, t+1)
        out = F.scaled_dot_product_attention(
            q, keys, values, attn_mask=bias
        )  # no mask needed: nothing is in the future
        return self.proj(out.reshape(x_t.shape[0], -1)), (keys, values)


def check_attention_sizes(arch: str, d_model: int, heads: int, mlp_ratio: float, dropout: float) -> None:
    """Shared validation for the attention families (one-line errors naming the value)."""
    check_sizes(arch, d_model=d_model, heads=heads)
    require(d_model % heads == 0, f"architecture {arch!r}: d_model={d_model} must be divisible by heads={heads}")
    require(mlp_ratio > 0, f"architecture {arch!r}: mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture {arch!r}: dropout must be in [0, 1); got {dropout!r}")
