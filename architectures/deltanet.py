"""DeltaNet (Schlag, Irie & Schmidhuber 2021, "Linear Transformers Are Secretly Fast Weight Programmers";
Yang, Wang, Zhang, Shen & Kim 2024, "Parallelizing Linear Transformers with the Delta Rule over Sequence
Length"): linear attention whose state is corrected towards each new value instead of summed into.

Per head, with `q_t, k_t` L2-normalised and `beta_t = sigmoid(w_b . x_t)`:

    S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,    o_t = S_t q_t / sqrt(d_k)

i.e. the state's prediction `S_{t-1} k_t` for key `k_t` moves a fraction `beta_t` of the way to `v_t`.
`eigenvalues="[-1,1]"` doubles beta to `2 sigmoid(.)` in (0, 2): the transition `I - beta k k^T` then has
the eigenvalue `1 - beta` in (-1, 1) along `k` (a reflection as beta -> 2), which Grazzi et al. 2025
("Unlocking State-Tracking in Linear RNNs Through Negative Eigenvalues") show lets it track parity.
The mixer follows flash-linear-attention's `DeltaNet` layer: bias-free q/k/v projections, a short causal
convolution with SiLU on each (`short_conv`, as fla; without it SiLU directly), per-head RMSNorm on the
output (times `silu(W_g x)` with `output_gate`), output projection. The op itself is `delta_rule`.
The same mixer with a data-dependent decay is Gated DeltaNet (`gated_deltanet`).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.delta_rule import delta_rule_chunked, delta_rule_recurrent, delta_rule_step, l2_normalize
from architectures.short_conv import ShortConvolution
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Eigenvalues = Literal["[0,1]", "[-1,1]"]
EIGENVALUES = ("[0,1]", "[-1,1]")
Mode = Literal["chunk", "recurrent"]
MODES = ("chunk", "recurrent")
RMSNORM = functools.partial(nn.RMSNorm, eps=1e-5)  # fla's models: RMSNorm in the blocks and before the head
PRESETS = {"tiny": {"layers": 1, "heads": 2}, "small": {"layers": 2, "heads": 4}, "base": {"layers": 4, "heads": 4}}


def beta_from_logits(logits: torch.Tensor, eigenvalues: str) -> torch.Tensor:
    """`sigmoid(logits)` in (0, 1), or `2 sigmoid(logits)` in (0, 2) for `eigenvalues="[-1,1]"` (fla's
    `allow_neg_eigval`): the transition's eigenvalue along `k` is `1 - beta`, so (0, 1] or (-1, 1]."""
    beta = torch.sigmoid(logits)
    return 2.0 * beta if eigenvalues == "[-1,1]" else beta


class DeltaRuleMixer(nn.Module):
    """Multi-head (gated) delta-rule mixer; key and value head width `d_model // heads` (rounded down, so any
    width works: the projections map `d_model` to `heads * head_width` and back).

    `decay=True` adds Gated DeltaNet's decay `alpha_t = exp(-exp(A_log) softplus(w_a . x_t + dt_bias))` in
    (0, 1) per head and step (Mamba-2's parametrisation, as fla's `GatedDeltaNet`). `mode="chunk"` runs
    the chunked (UT-transform) form in `forward`, `"recurrent"` the step loop; `step` is always recurrent.
    """

    def __init__(
        self,
        d_model: int,
        heads: int,
        eigenvalues: str = "[0,1]",
        short_conv: bool = True,
        conv_size: int = 4,
        output_gate: bool = False,
        decay: bool = False,
        mode: str = "chunk",
        chunk_size: int = 32,
    ) -> None:
        super().__init__()
        self.heads, self.head_dim, self.eigenvalues = heads, d_model // heads, eigenvalues
        self.mode, self.chunk_size, self.decay = mode, chunk_size, decay
        inner = heads * self.head_dim
        self.q_proj = nn.Linear(d_model, inner, bias=False)
        self.k_proj = nn.Linear(d_model, inner, bias=False)
        self.v_proj = nn.Linear(d_model, inner, bias=False)
        self.b_proj = nn.Linear(d_model, heads, bias=False)
        self.convs = nn.ModuleList(ShortConvolution(inner, conv_size) for _ in range(3)) if short_conv else None
        if decay:
            self.a_proj = nn.Linear(d_model, heads, bias=False)
            self.A_log = nn.Parameter(torch.empty(heads))
            self.dt_bias = nn.Parameter(torch.empty(heads))
            with torch.no_grad():  # fla's GatedDeltaNet: A ~ U(0, 16), softplus(dt_bias) log-uniform in [1e-3, 0.1]
                self.A_log.uniform_(0.0, 16.0).log_()
                dt = self.dt_bias.uniform_(math.log(1e-3), math.log(0.1)).exp_().clamp_(min=1e-4)
                dt.add_(torch.log(-torch.expm1(-dt)))  # inverse softplus
        self.g_proj = nn.Linear(d_model, inner, bias=False) if output_gate else None
        self.o_norm = nn.RMSNorm(self.head_dim, eps=1e-5)
        self.o_proj = nn.Linear(inner, d_model, bias=False)

    @property
    def state_size(self) -> int:
        """Per layer: one `d_k x d_v` matrix per head (`heads * head_dim**2`), plus the three short
        convolutions' last `conv_size - 1` inputs (`3 * d_inner * (conv_size - 1)`) when present."""
        convs = sum(cast(ShortConvolution, conv).state_size for conv in self.convs) if self.convs is not None else 0
        return self.heads * self.head_dim * self.head_dim + convs

    def _gates(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """beta and the log-decay (or None), `(..., H)`."""
        beta = beta_from_logits(self.b_proj(x), self.eigenvalues)
        if not self.decay:
            return beta, None
        return beta, -self.A_log.exp() * F.softplus(self.a_proj(x) + self.dt_bias)

    def _heads(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(..., inner)` activations -> per-head q (normalised and scaled by `d_k ** -0.5`), k (normalised), v."""
        q, k, v = (t.unflatten(-1, (self.heads, self.head_dim)) for t in (q, k, v))
        return l2_normalize(q) * self.head_dim**-0.5, l2_normalize(k), v

    def _output(self, o: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-head RMSNorm of `o` `(..., H, d_v)`, the optional SiLU gate, the output projection."""
        o = self.o_norm(o)
        if self.g_proj is not None:
            o = o * F.silu(self.g_proj(x).unflatten(-1, (self.heads, self.head_dim)))
        return self.o_proj(o.flatten(-2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.convs is not None:
            q, k, v = (conv(t) for conv, t in zip(self.convs, (q, k, v)))
        else:
            q, k, v = F.silu(q), F.silu(k), F.silu(v)
        q, k, v = (t.transpose(1, 2) for t in self._heads(q, k, v))  # (B, H, T, d)
        beta, log_decay = (None if t is None else t.transpose(1, 2) for t in self._gates(x))
        if self.mode == "chunk":
            o, _ = delta_rule_chunked(q, k, v, beta, log_decay, self.chunk_size)  # type: ignore[arg-type]
        else:
            o, _ = delta_rule_recurrent(q, k, v, beta, log_decay)  # type: ignore[arg-type]
        return self._output(o.transpose(1, 2), x)

    def step(self, x_t: torch.Tensor, state: tuple[Any, ...] | None) -> tuple[torch.Tensor, tuple[Any, ...]]:
        """One position `(B, d_model)`; the state is the three convolution caches and the `(B, H, d_k, d_v)` matrix."""
        caches: list[Any] = [None, None, None]
        matrix = None
        if state is not None:
            *caches, matrix = state
        q, k, v = self.q_proj(x_t), self.k_proj(x_t), self.v_proj(x_t)
        if self.convs is not None:
            (q, caches[0]), (k, caches[1]), (v, caches[2]) = (
                cast(ShortConvolution, conv).step(t, cache) for conv, t, cache in zip(self.convs, (q, k, v), caches)
            )
        else:
            q, k, v = F.silu(q), F.silu(k), F.silu(v)
        q, k, v = self._heads(q, k, v)
        beta, log_decay = self._gates(x_t)
        o, matrix = delta_rule_step(q, k, v, beta, log_decay, matrix)
        return self._output(o, x_t), (*caches, matrix)


def check_delta_sizes(
    arch: str,
    d_model: int,
    layers: int,
    heads: int,
    conv_size: int,
    chunk_size: int,
    mlp_ratio: float,
    dropout: float,
    eigenvalues: str,
    mode: str,
) -> None:
    """Validation shared by `deltanet` and `gated_deltanet` (one-line errors naming the value)."""
    check_sizes(arch, d_model=d_model, layers=layers, heads=heads, conv_size=conv_size, chunk_size=chunk_size)
    require(d_model >= heads, f"architecture {arch!r}: d_model={d_model} must be at least heads={heads}")
    require(
        eigenvalues in EIGENVALUES,
        f"architecture {arch!r}: eigenvalues must be one of {', '.join(EIGENVALUES)}; got {eigenvalues!r}",
    )
    require(mode in MODES, f"architecture {arch!r}: mode must be one of {', '.join(MODES)}; got {mode!r}")
    require(mlp_ratio > 0, f"architecture {arch!r}: mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture {arch!r}: dropout must be in [0, 1); got {dropout!r}")


@register_architecture("deltanet", presets=PRESETS, width_param="d_model", width_multiple=2)
def build_deltanet(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    eigenvalues: Eigenvalues = "[0,1]",
    short_conv: bool = True,
    conv_size: int = 4,
    output_gate: bool = False,
    mode: Mode = "chunk",
    chunk_size: int = 32,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """DeltaNet (Schlag et al. 2021; Yang et al. 2024): linear attention with the delta-rule state update.

    Pre-norm residual blocks (RMSNorm) of the DeltaNet mixer and an MLP on the shared backbone, final RMSNorm.
    `eigenvalues`: `"[0,1]"` gives `beta = sigmoid(.)` in (0, 1); `"[-1,1]"` gives `beta = 2 sigmoid(.)` in
    (0, 2), the transition `I - beta k k^T` then reaching eigenvalues in (-1, 1) (Grazzi et al. 2025, for
    parity). `mode`: `"chunk"` (WY/UT-transform chunks of `chunk_size`) or `"recurrent"` (a step loop),
    the same outputs. Each head is `d_model // heads` wide. State per layer: `heads * (d_model // heads)^2`
    matrix entries plus, with `short_conv`, `3 * heads * (d_model // heads) * (conv_size - 1)` convolution inputs.
    """
    check_delta_sizes("deltanet", d_model, layers, heads, conv_size, chunk_size, mlp_ratio, dropout, eigenvalues, mode)
    mixer = {
        "eigenvalues": eigenvalues,
        "short_conv": short_conv,
        "conv_size": conv_size,
        "output_gate": output_gate,
        "mode": mode,
        "chunk_size": chunk_size,
    }
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: DeltaRuleMixer(d_model, heads, **mixer),  # type: ignore[arg-type]
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        norm=RMSNORM,
        dropout=dropout,
    )
