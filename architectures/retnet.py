"""RetNet (Sun, Dong, Huang, Ma, Xia, Xue, Wang & Wei 2023, "Retentive Network: A Successor to Transformer
for Large Language Models"): multi-scale retention, linear attention with a fixed decay per head.

Per head `h`, with the fixed decay `gamma_h = 1 - 2^(-5-h)` (the paper's multi-scale choice):

    S_n = gamma_h S_{n-1} + k_n^T v_n,    o_n = q_n S_n                     (recurrent form)
    O = (Q K^T * D) V,   D_nm = gamma_h^(n-m) if n >= m else 0               (parallel form)

with `q, k` rotated by their absolute position (the paper's `Theta`, xPos without its length decay, as
flash-linear-attention's `MultiScaleRetention`) so `q_n . k_m` depends on `n - m`, and `q` scaled by
`d_k ** -0.5`. Heads are normalised separately (`GroupNorm` with one group per head, the paper's choice:
the decays differ per head, so do the output scales), gated by `swish(X W_G)` and projected:
`MSR(X) = (swish(X W_G) * GroupNorm(heads)) W_O`. Values are `expand_v` (2) times wider than keys, as the paper.
The paper's two further normalisations (dividing `D`'s rows and the scores' rows by their sums) multiply
each head's output at each position by a positive number, which the per-head GroupNorm removes again (up
to its epsilon), so they are left out. The op is `decayed_linear_attention`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.decayed_linear_attention import decayed_chunked, decayed_recurrent, decayed_step, retention_parallel
from architectures.positions import apply_rope, rope_tables
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Mode = Literal["parallel", "chunk", "recurrent"]
MODES = ("parallel", "chunk", "recurrent")
State = tuple[torch.Tensor, int]  # S (B, H, d_k, d_v), the position of the next input


def retention_log_decays(
    heads: int, device: torch.device | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """`log gamma_h`, `gamma_h = 1 - 2^(-5-h)` for `h = 0..heads-1` (RetNet's fixed multi-scale decays)."""
    return torch.log1p(-torch.exp2(-5.0 - torch.arange(heads, device=device, dtype=dtype)))


class RetentionMixer(nn.Module):
    """Multi-scale retention; `mode` picks the parallel, chunkwise or recurrent form for `forward`."""

    def __init__(
        self,
        d_model: int,
        heads: int,
        expand_v: int = 2,
        rotary: bool = True,
        mode: str = "chunk",
        chunk_size: int = 32,
    ) -> None:
        super().__init__()
        self.heads, self.head_k, self.head_v = heads, d_model // heads, expand_v * d_model // heads
        self.rotary, self.mode, self.chunk_size = rotary, mode, chunk_size
        value_dim = expand_v * d_model
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, value_dim, bias=False)
        self.g_proj = nn.Linear(d_model, value_dim, bias=False)
        self.group_norm = nn.GroupNorm(heads, value_dim)
        self.o_proj = nn.Linear(value_dim, d_model, bias=False)

    @property
    def state_size(self) -> int:
        """Per layer: one `d_k x d_v` matrix per head, `heads * (d_model / heads) * (expand_v d_model / heads)`, and,
        with `rotary`, the position counter the rotation of the next `q, k` needs (one number)."""
        return self.heads * self.head_k * self.head_v + int(self.rotary)

    def _heads(self, x: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(B, T, d_model)` -> q (rotated, scaled), k (rotated), v as `(B, H, T, d)`; positions start at `start`."""
        q, k = (p(x).unflatten(-1, (self.heads, self.head_k)).transpose(1, 2) for p in (self.q_proj, self.k_proj))
        v = self.v_proj(x).unflatten(-1, (self.heads, self.head_v)).transpose(1, 2)
        if self.rotary:
            cos, sin = (t.to(q.dtype) for t in rope_tables(q.shape[2], self.head_k, q.device, start=start))
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        return q * self.head_k**-0.5, k, v

    def _output(self, o: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """`o` `(B, H, T, d_v)` -> GroupNorm per head, times `swish(x W_G)`, projected: `(B, T, d_model)`."""
        o = o.transpose(1, 2).flatten(-2)  # (B, T, value_dim), heads concatenated
        o = self.group_norm(o.flatten(0, 1)).view_as(o)
        return self.o_proj(F.silu(self.g_proj(x)) * o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self._heads(x, start=0)
        log_gamma = retention_log_decays(self.heads, x.device, q.dtype)
        if self.mode == "parallel":
            o = retention_parallel(q, k, v, log_gamma)
        elif self.mode == "chunk":
            o, _ = decayed_chunked(q, k, v, log_gamma.view(1, -1, 1, 1), self.chunk_size)
        else:
            o, _ = decayed_recurrent(q, k, v, log_gamma.view(1, -1, 1, 1))
        return self._output(o, x)

    def step(self, x_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position `(B, d_model)`; the state is the `(B, H, d_k, d_v)` matrix and the position counter."""
        matrix, position = (None, 0) if state is None else state
        q, k, v = (t.squeeze(2) for t in self._heads(x_t.unsqueeze(1), start=position))
        log_gamma = retention_log_decays(self.heads, x_t.device, q.dtype).view(1, -1, 1)
        o, matrix = decayed_step(q, k, v, log_gamma, matrix)
        return self._output(o.unsqueeze(2), x_t.unsqueeze(1)).squeeze(1), (matrix, position + 1)


@register_architecture(
    "retnet",
    presets={"tiny": {"layers": 1, "heads": 2}, "small": {"layers": 2, "heads": 4}, "base": {"layers": 4, "heads": 4}},
    width_param="d_model",
    width_multiple=4,
)
def build_retnet(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    expand_v: int = 2,
    rotary: bool = True,
    mode: Mode = "chunk",
    chunk_size: int = 32,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """RetNet (Sun et al. 2023): multi-scale retention, a fixed decay gamma_h = 1 - 2^(-5-h) per head.

    Pre-LN residual blocks of multi-scale retention and an MLP on the shared backbone. Keys `d_model`, values
    `expand_v * d_model` wide, split over `heads`; `rotary` rotates q and k by position (the paper's Theta).
    `mode`: `"parallel"` (the `T x T` decay mask), `"chunk"` (chunkwise, the state carried between chunks of
    `chunk_size`) or `"recurrent"`, the same outputs. State per layer: `heads * d_k * d_v` numbers (plus one
    position counter with `rotary`).
    """
    check_sizes("retnet", d_model=d_model, layers=layers, heads=heads, expand_v=expand_v, chunk_size=chunk_size)
    require(d_model % heads == 0, f"architecture 'retnet': d_model={d_model} must be divisible by heads={heads}")
    require(mode in MODES, f"architecture 'retnet': mode must be one of {', '.join(MODES)}; got {mode!r}")
    require(mlp_ratio > 0, f"architecture 'retnet': mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'retnet': dropout must be in [0, 1); got {dropout!r}")
    mixer = {"expand_v": expand_v, "rotary": rotary, "mode": mode, "chunk_size": chunk_size}
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: RetentionMixer(d_model, heads, **mixer),  # type: ignore[arg-type]
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        dropout=dropout,
    )
