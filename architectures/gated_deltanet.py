"""Gated DeltaNet (Yang, Kautz & Hatamizadeh 2025, "Gated Delta Networks: Improving Mamba2 with Delta Rule").

The delta rule with Mamba-2's data-dependent decay in front of it, per head:

    S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,    o_t = S_t q_t / sqrt(d_k)

`alpha_t = exp(-exp(A_log) softplus(w_a . x_t + dt_bias))` in (0, 1) lets a head forget quickly (Mamba-2's
gating), and the delta rule lets it overwrite one key precisely. The mixer is `deltanet.DeltaRuleMixer`
with `decay=True` and, as fla's `GatedDeltaNet` layer, an output gate `RMSNorm(o) * silu(W_g x)` by
default; the op (chunked and recurrent) is `delta_rule`.
"""

from __future__ import annotations

from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.deltanet import PRESETS, RMSNORM, DeltaRuleMixer, Eigenvalues, Mode, check_delta_sizes
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec


@register_architecture("gated_deltanet", presets=PRESETS, width_param="d_model", width_multiple=2)
def build_gated_deltanet(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    eigenvalues: Eigenvalues = "[0,1]",
    short_conv: bool = True,
    conv_size: int = 4,
    output_gate: bool = True,
    mode: Mode = "chunk",
    chunk_size: int = 32,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """Gated DeltaNet (Yang, Kautz & Hatamizadeh 2025): the delta rule with a data-dependent decay alpha_t.

    Pre-norm residual blocks (RMSNorm) of the gated delta-rule mixer and an MLP on the shared backbone.
    `eigenvalues="[-1,1]"` gives `beta = 2 sigmoid(.)` in (0, 2), so the transition `alpha (I - beta k k^T)`
    has eigenvalues in (-1, 1) (Grazzi et al. 2025); `"[0,1]"`: `beta = sigmoid(.)`, eigenvalues in (0, 1).
    `mode`: `"chunk"` (UT-transform chunks of `chunk_size`) or `"recurrent"`, the same outputs. Each head is
    `d_model // heads` wide. State per layer: `heads * (d_model // heads)^2` matrix entries plus, with
    `short_conv`, `3 * heads * (d_model // heads) * (conv_size - 1)` convolution inputs.
    """
    check_delta_sizes(
        "gated_deltanet", d_model, layers, heads, conv_size, chunk_size, mlp_ratio, dropout, eigenvalues, mode
    )
    mixer = {
        "eigenvalues": eigenvalues,
        "short_conv": short_conv,
        "conv_size": conv_size,
        "output_gate": output_gate,
        "decay": True,
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
