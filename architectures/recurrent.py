"""Recurrent families: torch's LSTM, GRU and tanh RNN, and a diagonal linear recurrent unit (LRU)."""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from architectures.scan import scan as run_scan
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

RECURRENT_PRESETS = {"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}


class TorchRecurrent(nn.Module):
    """Input adapter, a stacked `nn.LSTM` / `nn.GRU` / `nn.RNN` (batch first), linear head."""

    def __init__(self, spec: TaskSpec, cell: type[nn.RNNBase], hidden: int, layers: int, dropout: float, states_per_unit: int) -> None:
        super().__init__()
        self.embed = input_adapter(spec, hidden)
        self.rnn = cell(hidden, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.head = output_head(spec, hidden)
        self.state_size = states_per_unit * hidden * layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(x))
        return self.head(out)


def _check_recurrent(arch: str, hidden: int, layers: int, dropout: float) -> None:
    check_sizes(arch, hidden=hidden, layers=layers)
    require(0.0 <= dropout < 1.0, f"architecture {arch!r}: dropout must be in [0, 1); got {dropout!r}")


@register_architecture("lstm", presets=RECURRENT_PRESETS, width_param="hidden")
def build_lstm(spec: TaskSpec, *, hidden: int = 64, layers: int = 2, dropout: float = 0.0) -> nn.Module:
    """Stacked LSTM (torch.nn.LSTM); state: cell and hidden vectors, 2 * hidden * layers numbers."""
    _check_recurrent("lstm", hidden, layers, dropout)
    return TorchRecurrent(spec, nn.LSTM, hidden, layers, dropout, states_per_unit=2)


@register_architecture("gru", presets=RECURRENT_PRESETS, width_param="hidden")
def build_gru(spec: TaskSpec, *, hidden: int = 64, layers: int = 2, dropout: float = 0.0) -> nn.Module:
    """Stacked GRU (torch.nn.GRU); state: hidden * layers numbers."""
    _check_recurrent("gru", hidden, layers, dropout)
    return TorchRecurrent(spec, nn.GRU, hidden, layers, dropout, states_per_unit=1)


@register_architecture("rnn", presets=RECURRENT_PRESETS, width_param="hidden")
def build_rnn(spec: TaskSpec, *, hidden: int = 64, layers: int = 2, dropout: float = 0.0) -> nn.Module:
    """Stacked Elman RNN with tanh (torch.nn.RNN); state: hidden * layers numbers."""
    _check_recurrent("rnn", hidden, layers, dropout)
    return TorchRecurrent(spec, nn.RNN, hidden, layers, dropout, states_per_unit=1)


# ---------------------------------------------------------------------------------------------
# LRU


Eigenvalues = Literal["[0,1]", "[-1,1]"]


class LRULayer(nn.Module):
    """Pre-LN residual layer: real diagonal linear recurrence, then a GLU.

    `h_t = a * h_{t-1} + sqrt(1 - a^2) * (B u_t)`, `y_t = C h_t + D * u_t`, `out = GLU(W y)`. The diagonal
    `a` is `sigmoid(theta)` (eigenvalues in [0, 1]) or `2 * sigmoid(theta) - 1` (in [-1, 1], Grazzi et al.
    2024: negative eigenvalues let a linear recurrence flip its state, which parity needs). `theta` starts
    so that `a` is uniform in [r_min, r_max] (Orvieto et al. 2023's ring initialisation, real case); the
    `sqrt(1 - a^2)` factor is their normalisation keeping the state's scale independent of `a`.
    """

    def __init__(self, d_model: int, d_state: int, eigenvalues: str, r_min: float, r_max: float, dropout: float, scan: str) -> None:
        super().__init__()
        self.eigenvalues, self.scan = eigenvalues, scan
        self.norm = nn.LayerNorm(d_model)
        self.B = nn.Linear(d_model, d_state, bias=False)
        self.C = nn.Linear(d_state, d_model, bias=False)
        self.D = nn.Parameter(torch.empty(d_model))
        self.theta = nn.Parameter(torch.empty(d_state))
        self.glu = nn.Linear(d_model, 2 * d_model)
        self.drop = nn.Dropout(dropout)
        with torch.no_grad():
            nn.init.normal_(self.B.weight, std=1.0 / math.sqrt(d_model))
            nn.init.normal_(self.C.weight, std=1.0 / math.sqrt(d_state))
            nn.init.normal_(self.D)
            a = torch.empty_like(self.theta).uniform_(r_min, r_max)
            # invert the parametrisation: sigmoid(theta) = a, or 2 sigmoid(theta) - 1 = a
            p = a if eigenvalues == "[0,1]" else (a + 1) / 2
            self.theta.copy_(torch.log(p) - torch.log1p(-p))

    def decay(self) -> torch.Tensor:
        s = torch.sigmoid(self.theta)
        return s if self.eigenvalues == "[0,1]" else 2 * s - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.norm(x)
        a = self.decay()
        gamma = torch.sqrt((1 - a * a).clamp(min=1e-8))
        h = run_scan(a.view(1, 1, -1), gamma * self.B(u), self.scan)
        y = self.C(h) + self.D * u
        return x + self.drop(F.glu(self.glu(F.gelu(y)), dim=-1))


class LRU(nn.Module):
    """Input adapter, LRU layers, final LayerNorm, head."""

    def __init__(self, spec: TaskSpec, d_model: int, layers: int, d_state: int, eigenvalues: str, r_min: float, r_max: float, dropout: float, scan: str) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.layers = nn.ModuleList(LRULayer(d_model, d_state, eigenvalues, r_min, r_max, dropout, scan) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = output_head(spec, d_model)
        self.state_size = d_state * layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(self.norm(h))


@register_architecture("lru", presets=RECURRENT_PRESETS, width_param="d_model")
def build_lru(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    expand: int = 1,
    eigenvalues: Eigenvalues = "[0,1]",
    r_min: float = 0.5,
    r_max: float = 0.99,
    dropout: float = 0.0,
    scan: Literal["parallel", "sequential"] = "parallel",
) -> nn.Module:
    """Linear recurrent unit: real diagonal recurrence h_t = a * h_{t-1} + B x_t, GLU between layers.

    The state has `d_state = expand * d_model` channels per layer. `eigenvalues="[-1,1]"` lets the
    recurrence use negative eigenvalues (Grazzi et al. 2024), which makes parity-like tasks learnable;
    `"[0,1]"` is the usual decaying memory. Computed with the parallel (log-depth) scan by default;
    `scan="sequential"` is the step-by-step reference.
    """
    check_sizes("lru", d_model=d_model, layers=layers, expand=expand)
    require(eigenvalues in ("[0,1]", "[-1,1]"), f"architecture 'lru': eigenvalues must be [0,1] or [-1,1]; got {eigenvalues!r}")
    require(0.0 <= r_min <= r_max < 1.0, f"architecture 'lru': need 0 <= r_min <= r_max < 1; got r_min={r_min!r}, r_max={r_max!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'lru': dropout must be in [0, 1); got {dropout!r}")
    require(scan in ("parallel", "sequential"), f"architecture 'lru': scan must be parallel or sequential; got {scan!r}")
    return LRU(spec, d_model, layers, expand * d_model, eigenvalues, r_min, r_max, dropout, scan)
