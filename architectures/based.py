"""Based (Arora et al. 2024, "Simple linear attention language models balance the recall-throughput tradeoff").

Based stacks two sub-quadratic attention primitives (and, in the released models, gated short convolutions):

- **Taylor linear attention** (global, fixed state): `q, k` projected to a small `feature_dim` f per head,
  mapped by the 2nd-order Taylor feature map `phi(x) = [1, x / d^(1/4), (x x^T).flatten / (sqrt 2 sqrt d)]`
  (`1 + f + f^2` features, d = f), so `phi(q).phi(k) = 1 + q.k/sqrt d + (q.k)^2 / (2 d)`, the Taylor
  expansion of `exp(q.k / sqrt d)`; then causal linear attention
  `y_t = phi(q_t)^T S_t / (phi(q_t)^T z_t)`, `S_t = sum_{s<=t} phi(k_s) v_s^T`, `z_t = sum_{s<=t} phi(k_s)`.
  The denominator is >= (t+1)/2 (`1 + a + a^2/2 >= 1/2`), so it never vanishes.
- **Sliding-window softmax attention** (local, exact): each position attends to itself and the
  `window - 1` positions before it (window 64 in the paper), rotary positions as in the paper's code.
- **BaseConv** (the released checkpoints' third mixer): `out_proj(silu(shortconv(u1)) * u2)`.

Layer mix (`layer_mix`): `"alternate"` (default) alternates Taylor linear attention (even layers) and
sliding-window attention (odd layers), the two primitives the paper is about, so a 2-layer model has one
of each (a 1-layer model only the linear attention). `"paper"` is the released Based checkpoints' order
(`alt_mixer_layers = [1, 6, 11, ...]` linear attention, `alt_mixer_2_layers = [2, 7, 12, ...]` sliding
window, every other layer BaseConv), i.e. the period-5 pattern conv, linear, sliding, conv, conv; at 1-2
layers that is mostly convolution, so it is meant for deeper stacks. Each mixer is followed by the
backbone's MLP (the paper uses a SwiGLU MLP; the GELU MLP here keeps size matching comparable).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.positions import apply_rope, rope_tables
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

LinearMode = Literal["chunk", "quadratic", "cumsum", "recurrent"]
LINEAR_MODES = ("chunk", "quadratic", "cumsum", "recurrent")
LayerMix = Literal["alternate", "paper"]
LAYER_MIXES = ("alternate", "paper")
PAPER_PERIOD = ("conv", "linear", "sliding", "conv", "conv")  # layer i of the released models: PAPER_PERIOD[i % 5]
CHUNK = 64  # chunk length of the chunked linear-attention form


def taylor_feature_map(x: torch.Tensor) -> torch.Tensor:
    """`(..., f)` -> `(..., 1 + f + f^2)`: `[1, x / d^(1/4), (x x^T).flatten / (sqrt(2) sqrt(d))]`, d = f, so
    `phi(q).phi(k) = 1 + q.k / sqrt(d) + (q.k)^2 / (2 d)` (the paper's `TaylorExp`)."""
    d = x.shape[-1]
    outer = (x.unsqueeze(-1) * x.unsqueeze(-2)).flatten(-2) / (math.sqrt(2) * math.sqrt(d))
    return torch.cat([torch.ones_like(x[..., :1]), x / d**0.25, outer], dim=-1)


def taylor_linear_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mode: str = "quadratic", eps: float = 1e-12
) -> torch.Tensor:
    """Causal linear attention with the Taylor feature map; `q, k` `(B, H, T, f)`, `v` `(B, H, T, e)`.

    Every mode computes `phi(q_t)^T S_t / (phi(q_t)^T z_t + eps)` (module docstring); they differ in how:
    `quadratic`: the masked `(T, T)` matrix `phi(q) phi(k)^T = 1 + a + a^2/2` (`a = q.k / sqrt f`), O(T^2);
    `cumsum`: every `S_t` materialised by a cumulative sum, O(T (1+f+f^2) e) memory;
    `chunk`: `quadratic` inside chunks of `CHUNK` positions, the state `S` carried across chunks;
    `recurrent`: one position at a time (the RNN form, what `step` does).
    """
    length = q.shape[-2]
    if mode == "quadratic":
        a = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        mask = torch.ones(length, length, dtype=torch.bool, device=q.device).tril()
        scores = (1 + a + 0.5 * a * a).masked_fill(~mask, 0.0)
        return (scores @ v) / (scores.sum(-1, keepdim=True) + eps)
    pq, pk = taylor_feature_map(q), taylor_feature_map(k)  # (B, H, T, D)
    if mode == "cumsum":
        S = (pk.unsqueeze(-1) * v.unsqueeze(-2)).cumsum(dim=2)  # (B, H, T, D, e)
        num = (pq.unsqueeze(-1) * S).sum(-2)
        return num / ((pq * pk.cumsum(dim=2)).sum(-1, keepdim=True) + eps)
    if mode == "recurrent":
        S = v.new_zeros(*v.shape[:2], pk.shape[-1], v.shape[-1])
        z = v.new_zeros(*v.shape[:2], pk.shape[-1])
        outputs = []
        for q_t, k_t, v_t in zip(pq.unbind(2), pk.unbind(2), v.unbind(2)):
            S = S + k_t.unsqueeze(-1) * v_t.unsqueeze(-2)
            z = z + k_t
            outputs.append((q_t.unsqueeze(-1) * S).sum(-2) / ((q_t * z).sum(-1, keepdim=True) + eps))
        return torch.stack(outputs, dim=2)
    if mode != "chunk":
        raise ValueError(f"linear attention mode must be one of {', '.join(LINEAR_MODES)}; got {mode!r}")
    S = v.new_zeros(*v.shape[:2], pk.shape[-1], v.shape[-1])  # state of every earlier chunk
    z = v.new_zeros(*v.shape[:2], 1, pk.shape[-1])
    outputs = []
    for start in range(0, length, CHUNK):
        cq, ck, cv = (
            pq[..., start : start + CHUNK, :],
            pk[..., start : start + CHUNK, :],
            v[..., start : start + CHUNK, :],
        )
        n = cq.shape[-2]
        scores = (cq @ ck.transpose(-1, -2)).tril()  # within the chunk, causal
        num = cq @ S + scores @ cv
        den = (cq * z).sum(-1, keepdim=True) + scores.sum(-1, keepdim=True)
        outputs.append(num / (den + eps))
        if start + n < length:
            S = S + ck.transpose(-1, -2) @ cv
            z = z + ck.sum(-2, keepdim=True)
    return torch.cat(outputs, dim=2)


class TaylorLinearAttention(nn.Module):
    """Based's linear attention mixer: `q, k` at `feature_dim` per head, `v` at `d_model / heads`."""

    def __init__(self, d_model: int, heads: int, feature_dim: int, mode: str, eps: float = 1e-12) -> None:
        super().__init__()
        self.heads, self.feature_dim, self.head_dim, self.mode, self.eps = (
            heads,
            feature_dim,
            d_model // heads,
            mode,
            eps,
        )
        self.proj_q = nn.Linear(d_model, heads * feature_dim, bias=False)
        self.proj_k = nn.Linear(d_model, heads * feature_dim, bias=False)
        self.proj_v = nn.Linear(d_model, d_model, bias=False)
        self.out_proj = nn.Linear(d_model, d_model, bias=False)

    @property
    def state_size(self) -> int:
        # per head: S is (1 + f + f^2) x d_head, the normaliser z is (1 + f + f^2)
        expanded = 1 + self.feature_dim + self.feature_dim**2
        return self.heads * (expanded * self.head_dim + expanded)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(B, T, d_model)` -> q, k `(B, H, T, f)`, v `(B, H, T, d_head)`."""
        q = self.proj_q(x).unflatten(-1, (self.heads, self.feature_dim)).transpose(1, 2)
        k = self.proj_k(x).unflatten(-1, (self.heads, self.feature_dim)).transpose(1, 2)
        v = self.proj_v(x).unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = taylor_linear_attention(*self._qkv(x), mode=self.mode, eps=self.eps)
        return self.out_proj(y.transpose(1, 2).flatten(-2))

    def step(
        self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        q, k, v = (t.squeeze(2) for t in self._qkv(x_t.unsqueeze(1)))
        pq, pk = taylor_feature_map(q), taylor_feature_map(k)  # (B, H, D)
        if state is None:
            state = (v.new_zeros(*v.shape[:2], pk.shape[-1], v.shape[-1]), v.new_zeros(*pk.shape))
        S = state[0] + pk.unsqueeze(-1) * v.unsqueeze(-2)
        z = state[1] + pk
        y = (pq.unsqueeze(-1) * S).sum(-2) / ((pq * z).sum(-1, keepdim=True) + self.eps)
        return self.out_proj(y.flatten(-2)), (S, z)


class SlidingWindowAttention(nn.Module):
    """Causal softmax attention over the last `window` positions (itself included), rotary q/k."""

    def __init__(self, d_model: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads, self.head_dim, self.window = heads, d_model // heads, window
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    @property
    def state_size(self) -> int:
        # the keys and values of the last window - 1 positions (the current one is computed at the step);
        # rotary needs no position counter: the cache is rotated by offsets within the window
        return 2 * (self.window - 1) * self.heads * self.head_dim

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, self.head_dim)).permute(2, 0, 3, 1, 4)
        return q, k, v  # (B, H, T, d_head)

    def _rope(self, x: torch.Tensor, start: int) -> torch.Tensor:
        cos, sin = rope_tables(x.shape[2], self.head_dim, x.device, start=start)
        return apply_rope(x, cos.to(x.dtype), sin.to(x.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self._heads(x)
        q, k = self._rope(q, 0), self._rope(k, 0)
        i = torch.arange(length, device=x.device)
        allowed = (i.view(-1, 1) >= i.view(1, -1)) & (i.view(-1, 1) - i.view(1, -1) < self.window)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.proj(out.transpose(1, 2).reshape(batch, length, width))

    def step(
        self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One position against the cached (unrotated) keys and values of the previous `window - 1`
        positions; rotary by position within the window (relative, so equal to `forward`'s absolute)."""
        q, k, v = self._heads(x_t.unsqueeze(1))  # (B, H, 1, d_head)
        keys = k if state is None else torch.cat([state[0], k], dim=2)
        values = v if state is None else torch.cat([state[1], v], dim=2)
        n = keys.shape[2]
        out = F.scaled_dot_product_attention(self._rope(q, n - 1), self._rope(keys, 0), values)
        drop = max(0, n - (self.window - 1))  # keep the last window - 1 positions (none for window 1)
        cache = (keys[:, :, drop:], values[:, :, drop:])
        return self.proj(out.reshape(x_t.shape[0], -1)), cache


class BaseConv(nn.Module):
    """The released Based models' gated short convolution: `out_proj(silu(conv(u1)) * u2)`, `(u1, u2) = in_proj(x)`."""

    def __init__(self, d_model: int, kernel: int = 3) -> None:
        super().__init__()
        self.d_model, self.kernel = d_model, kernel
        self.in_proj = nn.Linear(d_model, 2 * d_model)
        self.conv = nn.Conv1d(d_model, d_model, kernel, groups=d_model, bias=False)  # causal by left padding
        self.out_proj = nn.Linear(d_model, d_model)

    @property
    def state_size(self) -> int:
        return self.d_model * (self.kernel - 1)  # the last kernel - 1 inputs of the convolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u1, u2 = self.in_proj(x).chunk(2, dim=-1)
        conv = self.conv(F.pad(u1.transpose(1, 2), (self.kernel - 1, 0))).transpose(1, 2)
        return self.out_proj(F.silu(conv) * u2)

    def step(self, x_t: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        u1, u2 = self.in_proj(x_t).chunk(2, dim=-1)
        if state is None:
            state = u1.new_zeros(u1.shape[0], self.d_model, self.kernel - 1)
        window = torch.cat([state, u1.unsqueeze(-1)], dim=-1)
        conv = (window * self.conv.weight.squeeze(1)).sum(-1)
        return self.out_proj(F.silu(conv) * u2), window[..., 1:]


def layer_kind(layer: int, layer_mix: str) -> str:
    """`linear`, `sliding` or `conv` for layer `layer` (module docstring)."""
    if layer_mix == "alternate":
        return ("linear", "sliding")[layer % 2]
    return PAPER_PERIOD[layer % len(PAPER_PERIOD)]


@register_architecture(
    "based",
    presets={
        "tiny": {"layers": 1, "heads": 2},
        "small": {"layers": 2, "heads": 4},
        "base": {"layers": 4, "heads": 4},
    },
    width_param="d_model",
    width_multiple=4,
)
def build_based(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    feature_dim: int = 16,
    window: int = 64,
    layer_mix: LayerMix = "alternate",
    conv_kernel: int = 3,
    mode: LinearMode = "quadratic",
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """Based (Arora et al. 2024): Taylor-feature-map linear attention and sliding-window softmax attention.

    `feature_dim`: the per-head size of q and k before the Taylor map (16 in the paper; the state grows
    as its square). `window`: positions a sliding-window layer sees, itself included (64 in the paper).
    `layer_mix`: `alternate` (linear, sliding, linear, ...) or `paper` (the released models' period of
    conv, linear, sliding, conv, conv; `conv_kernel` is its short convolution's width). `mode`: how the
    linear attention is computed in `forward` (`quadratic`, `chunk`, `cumsum`, `recurrent`; equal outputs;
    `quadratic`, the default, was the fastest forward+backward on one CPU thread at the benchmark's
    lengths; `chunk` keeps memory linear in T for long sequences). State per layer: linear attention
    `heads * ((1 + f + f^2) * d_head + (1 + f + f^2))`; sliding window `2 * (window - 1) * d_model`
    (its key/value cache is bounded by the window); conv `d_model * (conv_kernel - 1)`.
    """
    check_sizes(
        "based",
        d_model=d_model,
        layers=layers,
        heads=heads,
        feature_dim=feature_dim,
        window=window,
        conv_kernel=conv_kernel,
    )
    require(d_model % heads == 0, f"architecture 'based': d_model={d_model} must be divisible by heads={heads}")
    require(
        layer_mix in LAYER_MIXES,
        f"architecture 'based': layer_mix must be one of {', '.join(LAYER_MIXES)}; got {layer_mix!r}",
    )
    require(mode in LINEAR_MODES, f"architecture 'based': mode must be one of {', '.join(LINEAR_MODES)}; got {mode!r}")
    require(mlp_ratio > 0, f"architecture 'based': mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'based': dropout must be in [0, 1); got {dropout!r}")

    def mixer(layer: int) -> nn.Module:
        kind = layer_kind(layer, layer_mix)
        if kind == "linear":
            return TaylorLinearAttention(d_model, heads, feature_dim, mode)
        if kind == "sliding":
            return SlidingWindowAttention(d_model, heads, window)
        return BaseConv(d_model, conv_kernel)

    return Backbone(spec, d_model, layers, mixer, mlp=mlp_every_layer(d_model, mlp_ratio, mlp), dropout=dropout)
