"""Recurrent families on torch's fused multi-layer RNNs: LSTM, GRU and tanh RNN.

Why these stay off the shared backbone (`architectures.backbone`): the model *is* `nn.LSTM` / `nn.GRU` /
`nn.RNN` with `num_layers` stacked inside one fused (cuDNN on a GPU) call, layer outputs fed straight to
the next layer with torch's inter-layer dropout, and no norm or residual anywhere. Splitting it into one
single-layer RNN mixer per pre-norm residual block would be a different model (norms and skip
connections the classic stacked RNN does not have) and would lose the fused multi-layer kernel. The
linear recurrences that do fit a mixer (`lru`, `s4d`, `mamba`) are on the backbone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

RECURRENT_PRESETS = {"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}


class TorchRecurrent(nn.Module):
    """Input adapter, a stacked `nn.LSTM` / `nn.GRU` / `nn.RNN` (batch first), linear head."""

    def __init__(
        self,
        spec: TaskSpec,
        cell: Callable[..., nn.RNNBase],
        hidden: int,
        layers: int,
        dropout: float,
        states_per_unit: int,
    ) -> None:
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
