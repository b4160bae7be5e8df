"""Linear recurrent unit (LRU): a real diagonal linear recurrence as a backbone mixer."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone
from architectures.base import check_sizes
from architectures.scan import scan as run_scan
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Eigenvalues = Literal["[0,1]", "[-1,1]"]


class LRUMixer(nn.Module):
    """Real diagonal linear recurrence, then a GLU.

    `h_t = a * h_{t-1} + sqrt(1 - a^2) * (B u_t)`, `y_t = C h_t + D * u_t`, `out = GLU(W gelu(y))`. The
    diagonal `a` is `sigmoid(theta)` (eigenvalues in [0, 1]) or `2 * sigmoid(theta) - 1` (in [-1, 1], Grazzi
    et al. 2024: negative eigenvalues let a linear recurrence flip its state, which parity needs). `theta`
    starts so that `a` is uniform in [r_min, r_max] (Orvieto et al. 2023's ring initialisation, real
    case); the `sqrt(1 - a^2)` factor is their normalisation keeping the state's scale independent of `a`.
    """

    def __init__(self, d_model: int, d_state: int, eigenvalues: str, r_min: float, r_max: float, scan: str) -> None:
        super().__init__()
        self.eigenvalues, self.scan, self.state_size = eigenvalues, scan, d_state
        self.B = nn.Linear(d_model, d_state, bias=False)
        self.C = nn.Linear(d_state, d_model, bias=False)
        self.D = nn.Parameter(torch.empty(d_model))
        self.theta = nn.Parameter(torch.empty(d_state))
        self.glu = nn.Linear(d_model, 2 * d_model)
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

    def _gain(self, a: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((1 - a * a).clamp(min=1e-8))

    def _read_out(self, h: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return F.glu(self.glu(F.gelu(self.C(h) + self.D * u)), dim=-1)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        a = self.decay()
        h = run_scan(a.view(1, 1, -1), self._gain(a) * self.B(u), self.scan)
        return self._read_out(h, u)

    def step(self, u_t: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.decay()
        h_new = self._gain(a) * self.B(u_t) + (0.0 if h is None else a * h)
        return self._read_out(h_new, u_t), h_new


@register_architecture(
    "lru", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
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

    Pre-LN residual blocks of the LRU mixer on the shared backbone (no MLP: the GLU is the channel mix).
    The state has `d_state = expand * d_model` channels per layer. `eigenvalues="[-1,1]"` lets the
    recurrence use negative eigenvalues (Grazzi et al. 2024), which makes parity-like tasks learnable;
    `"[0,1]"` is the usual decaying memory. Computed with the parallel (log-depth) scan by default;
    `scan="sequential"` is the step-by-step reference.
    """
    check_sizes("lru", d_model=d_model, layers=layers, expand=expand)
    require(
        eigenvalues in ("[0,1]", "[-1,1]"),
        f"architecture 'lru': eigenvalues must be [0,1] or [-1,1]; got {eigenvalues!r}",
    )
    require(
        0.0 <= r_min <= r_max < 1.0,
        f"architecture 'lru': need 0 <= r_min <= r_max < 1; got r_min={r_min!r}, r_max={r_max!r}",
    )
    require(0.0 <= dropout < 1.0, f"architecture 'lru': dropout must be in [0, 1); got {dropout!r}")
    require(
        scan in ("parallel", "sequential"), f"architecture 'lru': scan must be parallel or sequential; got {scan!r}"
    )
    d_state = expand * d_model
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: LRUMixer(d_model, d_state, eigenvalues, r_min, r_max, scan),
        dropout=dropout,
    )
