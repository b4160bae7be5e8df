"""sLSTM (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory"): the scalar-memory LSTM with
exponential gating as a backbone mixer, in plain PyTorch.

Per unit, from pre-activations `ĩ, f̃, z̃, õ` (each `W x_t + R h_{t-1} + b`, with `R` block-diagonal: one
dense `d_head x d_head` block per head and gate, so memory mixes within a head only):
`c_t = f_t c_{t-1} + i_t tanh(z̃_t)`, `n_t = f_t n_{t-1} + i_t`, `h_t = σ(õ_t) c_t / n_t`, with the
exponential input gate `i_t = exp(ĩ_t)` and a sigmoid forget gate. Stabilised as in the paper:
`m_t = max(log σ(f̃_t) + m_{t-1}, ĩ_t)`, `i_t = exp(ĩ_t - m_t)`, `f_t = exp(log σ(f̃_t) + m_{t-1} - m_t)`
(the ratio `c_t / n_t` is unchanged by the common factor `e^{-m_t}`).

Recurrent only: the gates read `h_{t-1}` through `R`, a nonlinear dependence on the past, so there is no
parallel or chunked form (the paper says so: sLSTM is not parallelisable; it trades that for
state-tracking ability). `forward` is the step loop; `step` is one step of it.
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.mlstm import HeadwiseLinear
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

CellState = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # h, c, n, m, each (B, d_model)
State = tuple[torch.Tensor, CellState]  # conv inputs (B, d_model, d_conv-1), the cell's state


def slstm_step(state: CellState | None, wx: torch.Tensor, R: torch.Tensor, bias: torch.Tensor) -> CellState:
    """One stabilised step. `wx` `(B, 4, d)`: the input parts of the gate pre-activations `ĩ, f̃, z̃, õ`;
    `R` `(heads, 4, d_head, d_head)` the block-diagonal recurrent weights, `bias` `(4, d)`. `state` None
    is the empty memory (`h = c = n = 0`, `m_0 = -inf`, so `m_1 = ĩ_1`); returns the new `(h, c, n, m)`."""
    heads, _, d_head, _ = R.shape
    if state is None:
        raw = wx + bias
    else:
        h = state[0].unflatten(-1, (heads, d_head))  # (B, H, d_head)
        recurrent = torch.einsum("bhd,hgdo->bgho", h, R).flatten(-2)  # (B, 4, d)
        raw = wx + recurrent + bias
    i_raw, f_raw, z_raw, o_raw = raw.unbind(1)
    log_f = F.logsigmoid(f_raw)
    if state is None:
        m = i_raw
        c, n = torch.tanh(z_raw), torch.ones_like(i_raw)  # i = exp(ĩ - m) = 1, nothing to forget
    else:
        _, c_prev, n_prev, m_prev = state
        m = torch.maximum(log_f + m_prev, i_raw)
        i, f = torch.exp(i_raw - m), torch.exp(log_f + m_prev - m)
        c, n = f * c_prev + i * torch.tanh(z_raw), f * n_prev + i
    return torch.sigmoid(o_raw) * c / n, c, n, m


def slstm_recurrent(wx: torch.Tensor, R: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """`slstm_step` over T: `wx` `(B, T, 4, d)` -> h `(B, T, d)`."""
    state: CellState | None = None
    hs = []
    for wx_t in wx.unbind(1):
        state = slstm_step(state, wx_t, R, bias)
        hs.append(state[0])
    return torch.stack(hs, dim=1)


class SLSTMMixer(nn.Module):
    """The sLSTM layer of xLSTM (xlstm's `sLSTMLayer`), in plain PyTorch.

    A causal depthwise conv (width `d_conv`) and SiLU on the input feed the input and forget gates; the
    input itself feeds `z` and the output gate; each gate's input part is a block-diagonal (per head)
    projection without bias; the cell; a per-head LayerNorm (weight only). Initialisation as xlstm:
    recurrent weights zero, forget-gate bias by its "powerlaw_blockdependent" rule (per unit from 5 down to
    -7, shaped by the layer's depth), other biases zero, gate projections N(0, 2 / (5 d_model)).
    """

    def __init__(self, d_model: int, heads: int, d_conv: int, layer: int, layers: int) -> None:
        super().__init__()
        self.d_model, self.heads, self.head_dim, self.d_conv = d_model, heads, d_model // heads, d_conv
        d_head = self.head_dim
        self.conv1d = nn.Conv1d(d_model, d_model, d_conv, groups=d_model, padding=0)
        self.i_proj, self.f_proj, self.z_proj, self.o_proj = (HeadwiseLinear(d_model, d_head) for _ in range(4))
        self.R = nn.Parameter(torch.zeros(heads, 4, d_head, d_head))
        self.bias = nn.Parameter(torch.zeros(4, d_model))
        self.norm_weight = nn.Parameter(torch.ones(d_model))
        with torch.no_grad():
            for proj in (self.i_proj, self.f_proj, self.z_proj, self.o_proj):
                nn.init.normal_(proj.weight, std=math.sqrt(2 / (5 * d_model)))
            depth = layer / (layers - 1) if layers > 1 else 0.0
            unit = torch.arange(d_head, dtype=torch.float32, device=self.bias.device) / max(d_head - 1, 1)
            self.bias[1].copy_((5.0 - 12.0 * unit ** (0.3 + 1.3 * depth)).repeat(heads))

    @property
    def state_size(self) -> int:
        """Per sequence: h, c, n and m, one number each per unit (4 d_model), plus the conv buffer, the last
        d_conv - 1 inputs of d_model channels."""
        return 4 * self.d_model + self.d_model * (self.d_conv - 1)

    def _gate_inputs(self, x: torch.Tensor, x_conv: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.i_proj(x_conv), self.f_proj(x_conv), self.z_proj(x), self.o_proj(x)], dim=-2)

    def _out(self, h: torch.Tensor) -> torch.Tensor:
        normed = F.layer_norm(h.unflatten(-1, (self.heads, self.head_dim)), (self.head_dim,), eps=1e-5)
        return normed.flatten(-2) * self.norm_weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        x_conv = F.silu(self.conv1d(F.pad(x.transpose(1, 2), (self.d_conv - 1, 0)))[..., :length].transpose(1, 2))
        return self._out(slstm_recurrent(self._gate_inputs(x, x_conv), self.R, self.bias))

    def step(self, x_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position `(B, d_model)`: the conv over the cached last `d_conv - 1` inputs, one cell step."""
        conv_in = x_t.new_zeros(x_t.shape[0], self.d_model, self.d_conv - 1) if state is None else state[0]
        window = torch.cat([conv_in, x_t.unsqueeze(-1)], dim=-1)
        x_conv = F.silu((window * self.conv1d.weight.squeeze(1)).sum(-1) + cast(torch.Tensor, self.conv1d.bias))
        cell = slstm_step(None if state is None else state[1], self._gate_inputs(x_t, x_conv), self.R, self.bias)
        return self._out(cell[0]), (window[..., 1:], cell)


@register_architecture(
    "slstm",
    presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}},
    width_param="d_model",
    width_multiple=4,
)
def build_slstm(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    d_conv: int = 4,
    mlp_ratio: float = 4 / 3,
) -> nn.Module:
    """sLSTM (Beck et al. 2024, xLSTM): scalar-memory LSTM blocks, exponential gating, per-head recurrence.

    Each layer is xLSTM's sLSTM block: pre-LayerNorm residual sLSTM layer, then a pre-LayerNorm residual
    MLP of hidden width `mlp_ratio * d_model` (xLSTM's post up-projection, factor 4/3; here the backbone's
    plain GELU MLP rather than xLSTM's gated one). Recurrent only (no parallel form exists), so there is
    no `mode`. State per layer: `4 * d_model` (h, c, n, m) plus `d_model * (d_conv - 1)` conv inputs.
    """
    check_sizes("slstm", d_model=d_model, layers=layers, heads=heads, d_conv=d_conv)
    require(d_model % heads == 0, f"architecture 'slstm': d_model={d_model} must be divisible by heads={heads}")
    require(mlp_ratio > 0, f"architecture 'slstm': mlp_ratio must be > 0; got {mlp_ratio!r}")
    return Backbone(
        spec,
        d_model,
        layers,
        lambda layer: SLSTMMixer(d_model, heads, d_conv, layer, layers),
        mlp=mlp_every_layer(d_model, mlp_ratio),
    )
