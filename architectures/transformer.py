"""Decoder-only (causal) transformer: the reference family every other one is size-matched against.

The blocks here (`CausalSelfAttention`, `MLP`, `TransformerBlock`, `AdditivePositions`) are reused by
`architectures.hybrid` and `architectures.linear_attention`.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from bench.contract.errors import ArchbenchError, require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

PosKind = Literal["none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi", "randomized"]
POS_KINDS = ("none", "learned", "sinusoidal", "rope", "alibi", "hard_alibi", "randomized")
ADDITIVE = ("learned", "sinusoidal", "randomized")  # added to the embeddings; the others act inside attention
IN_ATTENTION = ("rope", "alibi", "hard_alibi")


# ---------------------------------------------------------------------------------------------
# positions


def sinusoidal_encoding(positions: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Vaswani et al. sin/cos features of (possibly non-consecutive) `positions` `(..., T)` -> `(..., T, dim)`."""
    half = (dim + 1) // 2
    freqs = torch.exp(-math.log(base) * torch.arange(half, device=positions.device, dtype=torch.float32) / half)
    angles = positions.to(torch.float32).unsqueeze(-1) * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)[..., :dim]


class AdditivePositions(nn.Module):
    """Position vectors added to the input embeddings: `learned`, `sinusoidal` or `randomized`.

    `randomized` (Ruoss et al. 2023): while training, each sequence gets the sinusoidal codes of a sorted
    random subset of `range(max_pos)`, so the model sees position values up to `max_pos` without ever
    training on sequences that long; in eval mode it uses positions `0 .. T-1`.
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

    def forward(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
        """`(1 or B, T, d_model)` position vectors."""
        if self.kind == "learned":
            if length > self.max_seq_len:
                raise ArchbenchError(
                    f"learned positions cover {self.max_seq_len} positions (the spec's max_seq_len); got a sequence of length {length}"
                )
            return self.table.weight[:length].unsqueeze(0)  # type: ignore[union-attr]
        if self.kind == "randomized" and self.training:
            if length > self.max_pos:
                raise ArchbenchError(f"randomized positions draw from max_pos={self.max_pos} positions; got a sequence of length {length}")
            # A sorted random subset of range(max_pos) per sequence: the first T of a random permutation.
            ranks = torch.rand(batch, self.max_pos, device=device).argsort(dim=1)[:, :length]
            positions = ranks.sort(dim=1).values
            return sinusoidal_encoding(positions, self.d_model)
        positions = torch.arange(length, device=device)
        return sinusoidal_encoding(positions, self.d_model).unsqueeze(0)


def rope_tables(length: int, head_dim: int, device: torch.device, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin `(T, head_dim // 2)` for rotary embeddings (Su et al. 2021)."""
    pairs = head_dim // 2
    inv_freq = torch.exp(-math.log(base) * torch.arange(pairs, device=device, dtype=torch.float32) / max(pairs, 1))
    angles = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1) * inv_freq
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


def attention_bias(pos: str, per_head: torch.Tensor, length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The additive causal attention bias `(H, T, T)`: ALiBi's `-slope * (i - j)`, or Hard-ALiBi's
    0 inside each head's window and -inf outside; -inf above the diagonal in both."""
    idx = torch.arange(length, device=device)
    distance = (idx.view(-1, 1) - idx.view(1, -1)).to(dtype)  # i - j >= 0 where allowed
    if pos == "alibi":
        bias = -per_head.to(device, dtype).view(-1, 1, 1) * distance
    else:
        outside = distance >= per_head.to(device).view(-1, 1, 1)
        bias = torch.zeros(outside.shape, dtype=dtype, device=device).masked_fill(outside, float("-inf"))
    return bias.masked_fill(distance < 0, float("-inf"))


# ---------------------------------------------------------------------------------------------
# blocks


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention via `scaled_dot_product_attention`; rope/alibi/hard_alibi applied here."""

    def __init__(self, d_model: int, heads: int, dropout: float = 0.0, pos: str = "none") -> None:
        super().__init__()
        self.heads, self.head_dim, self.dropout, self.pos = heads, d_model // heads, dropout, pos
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        if pos in ("alibi", "hard_alibi"):  # ALiBi's slopes or Hard-ALiBi's windows, one per head
            self.register_buffer("per_head", alibi_slopes(heads) if pos == "alibi" else hard_alibi_windows(heads), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.pos == "rope":
            cos, sin = rope_tables(length, self.head_dim, x.device)
            q, k = apply_rope(q, cos.to(q.dtype), sin.to(q.dtype)), apply_rope(k, cos.to(k.dtype), sin.to(k.dtype))
        dropout = self.dropout if self.training else 0.0
        if self.pos in ("alibi", "hard_alibi"):
            bias = attention_bias(self.pos, self.per_head, length, q.dtype, x.device)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0), dropout_p=dropout)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        return self.proj(out.transpose(1, 2).reshape(batch, length, width))


class MLP(nn.Module):
    """Position-wise feed-forward: Linear, GELU, Linear, dropout."""

    def __init__(self, d_model: int, ratio: float = 4.0, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = max(1, round(ratio * d_model))
        self.net = nn.Sequential(nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TransformerBlock(nn.Module):
    """Pre-LN block: `x + attn(LN(x))`, then `x + mlp(LN(x))` (the MLP is optional)."""

    def __init__(self, d_model: int, heads: int, mlp: bool = True, mlp_ratio: float = 4.0, dropout: float = 0.0, pos: str = "none") -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads, dropout, pos)
        self.drop = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model) if mlp else None
        self.mlp = MLP(d_model, mlp_ratio, dropout) if mlp else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        if self.mlp is not None:
            x = x + self.mlp(self.norm2(x))  # type: ignore[misc]
        return x


class Transformer(nn.Module):
    """Embedding (+ additive positions), pre-LN blocks, final LayerNorm, linear head."""

    state_size = None  # the KV cache grows with the sequence: no fixed state

    def __init__(self, spec: TaskSpec, d_model: int, layers: int, heads: int, mlp: bool, mlp_ratio: float,
                 dropout: float, pos: str, max_pos: int) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.positions = AdditivePositions(pos, d_model, spec.max_seq_len, max_pos) if pos in ADDITIVE else None
        self.drop = nn.Dropout(dropout)
        attn_pos = pos if pos in IN_ATTENTION else "none"
        self.blocks = nn.ModuleList(TransformerBlock(d_model, heads, mlp, mlp_ratio, dropout, attn_pos) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = output_head(spec, d_model)

    def supports_length(self, seq_len: int) -> bool:
        return self.positions is None or self.positions.supports_length(seq_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        if self.positions is not None:
            h = h + self.positions(h.shape[0], h.shape[1], h.device).to(h.dtype)
        h = self.drop(h)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


def check_attention_sizes(arch: str, d_model: int, heads: int, mlp_ratio: float, dropout: float) -> None:
    """Shared validation for the attention families (one-line errors naming the value)."""
    check_sizes(arch, d_model=d_model, heads=heads)
    require(d_model % heads == 0, f"architecture {arch!r}: d_model={d_model} must be divisible by heads={heads}")
    require(mlp_ratio > 0, f"architecture {arch!r}: mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture {arch!r}: dropout must be in [0, 1); got {dropout!r}")


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
    """
    check_sizes("transformer", layers=layers)
    check_attention_sizes("transformer", d_model, heads, mlp_ratio, dropout)
    require(pos in POS_KINDS, f"architecture 'transformer': pos must be one of {', '.join(POS_KINDS)}; got {pos!r}")
    if max_pos is None:
        max_pos = 4 * spec.max_seq_len
    require(isinstance(max_pos, int) and max_pos >= spec.max_seq_len,
            f"architecture 'transformer': max_pos must be an integer >= max_seq_len={spec.max_seq_len}; got {max_pos!r}")
    return Transformer(spec, d_model, layers, heads, mlp, mlp_ratio, dropout, pos, max_pos)
