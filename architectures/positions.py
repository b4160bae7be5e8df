"""Positional schemes, kept apart from any one family so every mixer can share them.

Two kinds: *additive* codes added to the embedded input once (`AdditivePositions`, the backbone's `pos`
hook: `learned`, `sinusoidal`, `randomized`), and schemes that act *inside* attention on each layer's
queries and keys (`rope_tables` / `apply_rope`) or on its scores (`attention_bias`: `alibi`,
`hard_alibi`). Plain functions of shapes and positions; no family logic lives here.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench.contract.errors import ArchbenchError

POS_KINDS = ("none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi", "randomized")
ADDITIVE = ("learned", "sinusoidal", "randomized")  # added to the embeddings; the others act inside attention
IN_ATTENTION = ("rope", "alibi", "hard_alibi")
BIASED = ("alibi", "hard_alibi")  # the ones that are an additive bias on attention scores


def sinusoidal_encoding(positions: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Vaswani et al. sin/cos features of (possibly non-consecutive) `positions` `(..., T)` -> `(..., T, dim)`."""
    half = (dim + 1) // 2
    freqs = torch.exp(-math.log(base) * torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions.to(torch.float32).unsqueeze(-1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)[..., :dim]


class AdditivePositions(nn.Module):
    """Position vectors added to the embedded input: `learned`, `sinusoidal` or `randomized`.

    This is the backbone's `pos` hook: `forward(h)` returns `h` plus the codes, `supports_length` says
    which lengths the scheme covers. `randomized` (Ruoss et al. 2023): while training, each sequence gets
    the sinusoidal codes of a sorted random subset of `range(max_pos)`, so the model sees position values
    up to `max_pos` without ever training on sequences that long; in eval mode it uses positions `0 .. T-1`.
    """

    def __init__(self, kind: str, d_model: int, max_seq_len: int, max_pos: int) -> None:
        super().__init__()
        self.kind, self.d_model, self.max_seq_len, self.max_pos = kind, d_model, max_seq_len, max_pos
        self.table = nn.Embedding(max_seq_len, d_model) if kind == "learned" else None
        if self.table is not None:
            nn.init.normal_(self.table.weight, std=0.02)

    def supports_length(self, seq_len: int) -> bool:
        if self.kind == "learned":
            return seq_len <= self.max_seq_len
        if self.kind == "randomized" and self.training:
            return seq_len <= self.max_pos
        return True

    def codes(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
        """`(1 or B, T, d_model)` position vectors."""
        if self.kind == "learned":
            if length > self.max_seq_len:
                raise ArchbenchError(
                    f"learned positions cover {self.max_seq_len} positions (the spec's max_seq_len); got a sequence of length {length}"
                )
            return self.table.weight[:length].unsqueeze(0)  # type: ignore[union-attr]
        if self.kind == "randomized" and self.training:
            if length > self.max_pos:
                raise ArchbenchError(
                    f"randomized positions draw from max_pos={self.max_pos} positions; got a sequence of length {length}"
                )
            # A sorted random subset of range(max_pos) per sequence: the first T of a random permutation.
            ranks = torch.rand(batch, self.max_pos, device=device).argsort(dim=1)[:, :length]
            positions = ranks.sort(dim=1).values
            return sinusoidal_encoding(positions, self.d_model)
        positions = torch.arange(length, device=device)
        return sinusoidal_encoding(positions, self.d_model).unsqueeze(0)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.codes(h.shape[0], h.shape[1], h.device).to(h.dtype)


def rope_tables(
    length: int, head_dim: int, device: torch.device, base: float = 10000.0, start: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin `(T, head_dim // 2)` of positions `start .. start+T-1` for rotary embeddings (Su et al. 2021)."""
    pairs = head_dim // 2
    inv_freq = torch.exp(-math.log(base) * torch.arange(pairs, device=device, dtype=torch.float32) / max(pairs, 1))
    angles = torch.arange(start, start + length, device=device, dtype=torch.float32).unsqueeze(1) * inv_freq
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the first `2 * (head_dim // 2)` features of `x` `(B, H, T, head_dim)` pairwise (half-split
    convention); an odd last feature is left as is."""
    pairs = cos.shape[-1]
    x1, x2, rest = x[..., :pairs], x[..., pairs : 2 * pairs], x[..., 2 * pairs :]
    rotated = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return torch.cat([rotated, rest], dim=-1) if rest.shape[-1] else rotated


def alibi_slopes(heads: int) -> torch.Tensor:
    """Press et al. 2022 head slopes: the geometric sequence 2^(-8/n), interleaved for non-powers of two."""

    def power_of_two(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(heads).is_integer():
        slopes = power_of_two(heads)
    else:
        closest = 2 ** math.floor(math.log2(heads))
        slopes = power_of_two(closest) + power_of_two(2 * closest)[0::2][: heads - closest]
    return torch.tensor(slopes, dtype=torch.float32, device="cpu")


def hard_alibi_windows(heads: int) -> torch.Tensor:
    """Hard-ALiBi (Jelassi et al. 2024) per-head windows: the first half of the heads (rounded up) see the
    whole prefix (NoPE heads, window infinite); local head k sees only its last `2**(k+1)` tokens, itself
    included (2: itself and the previous token; 4; 8; ...). Why this split: copying by n-gram lookup
    needs short local heads to form the n-gram and global heads to find its earlier occurrence, and the
    paper uses the same mix of windowed and position-free heads; every window is a count of tokens, so
    nothing about it depends on the training length."""
    global_heads = (heads + 1) // 2
    windows = [math.inf] * global_heads + [float(2 ** (k + 1)) for k in range(heads - global_heads)]
    return torch.tensor(windows, dtype=torch.float32, device="cpu")


def distance_bias(pos: str, per_head: torch.Tensor, distance: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive bias `(H, *distance.shape)` for query-key distances `i - j` (negative: a future key,
    -inf): ALiBi's `-slope * (i - j)`, or Hard-ALiBi's 0 inside each head's window and -inf outside."""
    distance = distance.to(dtype)
    shape = (-1,) + (1,) * distance.dim()
    if pos == "alibi":
        bias = -per_head.to(distance.device, dtype).view(shape) * distance
    else:
        outside = distance >= per_head.to(distance.device).view(shape)
        bias = torch.zeros(outside.shape, dtype=dtype, device=distance.device).masked_fill(outside, float("-inf"))
    return bias.masked_fill(distance < 0, float("-inf"))


def attention_bias(
    pos: str, per_head: torch.Tensor, length: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """The causal attention bias `(H, T, T)` of `alibi` or `hard_alibi` (see `distance_bias`)."""
    idx = torch.arange(length, device=device)
    return distance_bias(pos, per_head, idx.view(-1, 1) - idx.view(1, -1), dtype)
