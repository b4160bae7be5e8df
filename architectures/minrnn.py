"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): GRU and LSTM stripped to gates
that read the input only, so the recurrence is linear in `h` and trains by a parallel scan.

- minGRU: `z_t = σ(W_z x_t)`, `h̃_t = g(W_h x_t)`, `h_t = (1 - z_t) h_{t-1} + z_t h̃_t`.
- minLSTM: `f_t = σ(W_f x_t)`, `i_t = σ(W_i x_t)`, `h̃_t = g(W_h x_t)`, normalised gates
  `f'_t = f_t / (f_t + i_t)`, `i'_t = i_t / (f_t + i_t)` (the paper's time-independent scaling),
  `h_t = f'_t h_{t-1} + i'_t h̃_t`.

`g(x) = x + 0.5` for `x >= 0`, `σ(x)` otherwise, keeps `h̃` positive, which the paper's log-space scan
needs (`log h_t = log Σ_s exp(log b_s + Σ_{s<r<=t} log a_r)`, a `logcumsumexp`); every mode here uses
`g`, so all modes compute the same function. Three modes, the same outputs:
`"log"` the paper's log-space parallel scan (its Appendix pseudo-code), `"scan"` the linear-space
odd-even parallel scan shared with the other families (`architectures.scan.parallel_scan`), and
`"sequential"` the step-by-step recurrence (what `step` runs).

Why two registered names sharing one mixer rather than a `cell` option of one family: the paper presents
them as two models, they differ in parameter count (two projections vs three) and the leaderboard lists
families by name, so each gets its own row and its own fitted width.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from architectures.scan import parallel_scan, sequential_scan
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Mode = Literal["log", "scan", "sequential"]
MODES = ("log", "scan", "sequential")
CELLS = ("gru", "lstm")


def g(x: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation for the candidate state: `x + 0.5` for `x >= 0`, `σ(x)` below."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: torch.Tensor) -> torch.Tensor:
    """`log g(x)`, computed without forming `g` (`-softplus(-x)` is `log σ(x)`)."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def log_coefficients(cell: str, gates: torch.Tensor, candidate: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(log a_t, log b_t)` of `h_t = a_t h_{t-1} + b_t`. `gates` `(..., 1 or 2, d)`: minGRU's `z`
    pre-activation, or minLSTM's `f` and `i` pre-activations; `candidate` the pre-activation of `h̃`."""
    if cell == "gru":
        k = gates[..., 0, :]
        return -F.softplus(k), -F.softplus(-k) + log_g(candidate)  # log(1 - z), log z + log h̃
    diff = F.softplus(-gates[..., 0, :]) - F.softplus(-gates[..., 1, :])  # log i - log f
    return -F.softplus(diff), -F.softplus(-diff) + log_g(candidate)  # log f', log i' + log h̃


def coefficients(cell: str, gates: torch.Tensor, candidate: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(a_t, b_t)` in linear space, as the paper's sequential form writes them."""
    if cell == "gru":
        z = torch.sigmoid(gates[..., 0, :])
        return 1 - z, z * g(candidate)
    f, i = torch.sigmoid(gates[..., 0, :]), torch.sigmoid(gates[..., 1, :])
    return f / (f + i), i / (f + i) * g(candidate)


def log_space_scan(log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """The paper's `parallel_scan_log` with `h_0 = 0`: `h_t = exp(A_t + logcumsumexp_s(log b_s - A_s))`,
    `A_t = Σ_{r<=t} log a_r`, over dimension 1."""
    a_star = torch.cumsum(log_a, dim=1)
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))


def min_rnn(cell: str, gates: torch.Tensor, candidate: torch.Tensor, mode: str) -> torch.Tensor:
    """All states `(B, T, d)` from gate pre-activations `(B, T, 1 or 2, d)` and candidates `(B, T, d)`."""
    if mode == "log":
        return log_space_scan(*log_coefficients(cell, gates, candidate))
    a, b = coefficients(cell, gates, candidate)
    return parallel_scan(a, b) if mode == "scan" else sequential_scan(a, b)


class MinRNNMixer(nn.Module):
    """One minGRU or minLSTM layer of width `hidden = expand * d_model`: one bias-free projection to the
    gates and the candidate, the recurrence, and a projection back to `d_model` when `expand != 1`."""

    def __init__(self, d_model: int, cell: str, expand: int, mode: str) -> None:
        super().__init__()
        self.cell, self.mode, self.hidden = cell, mode, expand * d_model
        self.gates = 1 if cell == "gru" else 2
        self.in_proj = nn.Linear(d_model, (self.gates + 1) * self.hidden, bias=False)
        self.out_proj = nn.Linear(self.hidden, d_model, bias=False) if expand != 1 else nn.Identity()
        self.state_size = self.hidden  # h_t, one number per hidden unit: the gates read x_t only

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gates, candidate = self.in_proj(x).split([self.gates * self.hidden, self.hidden], dim=-1)
        return gates.unflatten(-1, (self.gates, self.hidden)), candidate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_proj(min_rnn(self.cell, *self._split(x), self.mode))

    def step(self, x_t: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = coefficients(self.cell, *self._split(x_t))
        h = b if h is None else torch.addcmul(b, a, h)
        return self.out_proj(h), h


def build_min_rnn(
    arch: str, cell: str, spec: TaskSpec, d_model: int, layers: int, expand: int, mlp_ratio: float, mode: str
) -> nn.Module:
    check_sizes(arch, d_model=d_model, layers=layers, expand=expand)
    require(mlp_ratio >= 0, f"architecture {arch!r}: mlp_ratio must be >= 0 (0: no MLP); got {mlp_ratio!r}")
    require(mode in MODES, f"architecture {arch!r}: mode must be one of {', '.join(MODES)}; got {mode!r}")
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: MinRNNMixer(d_model, cell, expand, mode),
        mlp=mlp_every_layer(d_model, mlp_ratio, enabled=mlp_ratio > 0),
    )


DOC = """{title} (Feng et al. 2024, "Were RNNs All We Needed?") on the shared backbone.

    Pre-LayerNorm residual blocks of the {title} mixer (hidden width `expand * d_model`, projected back
    when `expand != 1`), each followed by a pre-LayerNorm residual GELU MLP of width `mlp_ratio * d_model`
    (0: none). `mode`: "scan" (default: the fastest on CPU, measured at the sizes here) the odd-even
    parallel scan, "log" the paper's log-space scan, "sequential" the recurrence; all give the same outputs.
    State per layer: `expand * d_model` (h only: the gates read the input, not the state).
    """


@register_architecture(
    "mingru", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_mingru(
    spec: TaskSpec, *, d_model: int = 64, layers: int = 2, expand: int = 1, mlp_ratio: float = 4.0, mode: Mode = "scan"
) -> nn.Module:
    return build_min_rnn("mingru", "gru", spec, d_model, layers, expand, mlp_ratio, mode)


@register_architecture(
    "minlstm", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_minlstm(
    spec: TaskSpec, *, d_model: int = 64, layers: int = 2, expand: int = 1, mlp_ratio: float = 4.0, mode: Mode = "scan"
) -> nn.Module:
    return build_min_rnn("minlstm", "lstm", spec, d_model, layers, expand, mlp_ratio, mode)


build_mingru.__doc__ = DOC.format(title="minGRU")
build_minlstm.__doc__ = DOC.format(title="minLSTM")
