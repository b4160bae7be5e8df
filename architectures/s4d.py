"""S4D (Gu et al. 2022): a diagonal linear time-invariant SSM per channel, as a backbone mixer."""

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


class S4DKernel(nn.Module):
    """Per-channel diagonal SSM `x' = A x + B u, y = C x + D u`, discretised with zero-order hold.

    `init="lin"`: S4D-Lin, complex `A_n = -1/2 + i*pi*n` for `n < d_state/2` modes, each complex mode
    (with its implicit conjugate) holding two real state numbers, so the output is `2 * Re(...)`.
    `init="real"`: S4D-Real, real `A_n = -(n + 1)` for `n < d_state`. The step `dt` is learned per channel,
    initialised log-uniform in [dt_min, dt_max]. `Re(A)` is kept negative as `-exp(log_A_real)`.
    """

    def __init__(self, d_model: int, d_state: int, init: str, dt_min: float, dt_max: float) -> None:
        super().__init__()
        self.complex = init == "lin"
        modes = d_state // 2 if self.complex else d_state
        self.log_dt = nn.Parameter(torch.empty(d_model))
        self.log_A_real = nn.Parameter(torch.empty(d_model, modes))
        self.D = nn.Parameter(torch.empty(d_model))
        if self.complex:
            self.A_imag = nn.Parameter(torch.empty(d_model, modes))
            # B and C complex, stored as (..., 2) real pairs so the optimizer sees real parameters
            self.B = nn.Parameter(torch.empty(d_model, modes, 2))
            self.C = nn.Parameter(torch.empty(d_model, modes, 2))
        else:
            self.B = nn.Parameter(torch.empty(d_model, modes))
            self.C = nn.Parameter(torch.empty(d_model, modes))
        with torch.no_grad():
            self.log_dt.uniform_(math.log(dt_min), math.log(dt_max))
            n = torch.arange(modes, dtype=torch.float32, device=self.log_dt.device).expand(d_model, modes)
            if self.complex:
                self.log_A_real.fill_(math.log(0.5))
                self.A_imag.copy_(math.pi * n)
                self.B.zero_()[..., 0] = 1.0
                self.C.normal_(std=math.sqrt(0.5))
            else:
                self.log_A_real.copy_(torch.log(n + 1))
                self.B.fill_(1.0)
                self.C.normal_()
            self.D.normal_()

    def discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(dt*A, dB, C)` per channel and mode: `h_t = exp(dt*A) h_{t-1} + dB u_t`, `y_t = sum_n C h_t`."""
        dt = self.log_dt.exp().unsqueeze(-1)
        if self.complex:
            A = torch.complex(-self.log_A_real.exp(), self.A_imag)
            B, C = torch.view_as_complex(self.B), torch.view_as_complex(self.C)
        else:
            A, B, C = -self.log_A_real.exp(), self.B, self.C
        dtA = dt * A
        dB = torch.expm1(dtA) / A * B if not self.complex else (torch.exp(dtA) - 1) / A * B  # zero-order hold
        return dtA, dB, C

    def kernel(self, length: int) -> torch.Tensor:
        """Convolution kernel `K[c, l] = sum_n C exp(dt*A)^l dB` (`2 Re` for conjugate pairs): `(d_model, T)`."""
        dtA, dB, C = self.discrete()
        steps = torch.arange(length, device=dtA.device, dtype=torch.float32)
        powers = torch.exp(dtA.unsqueeze(-1) * steps)  # (H, N, T)
        k = torch.einsum("hn,hnl->hl", C * dB, powers)
        return 2 * k.real if self.complex else k

    def _read(self, h: torch.Tensor, C: torch.Tensor) -> torch.Tensor:
        y = (h * C).sum(-1)
        return 2 * y.real if self.complex else y

    def forward(self, u: torch.Tensor, mode: str) -> torch.Tensor:
        """`u` `(B, T, H)` -> `(B, T, H)`: `fft` (causal convolution with the kernel) or a scan."""
        length = u.shape[1]
        if mode == "fft":
            k = self.kernel(length)
            n = 2 * length
            y = torch.fft.irfft(torch.fft.rfft(u.transpose(1, 2), n=n) * torch.fft.rfft(k, n=n), n=n)[..., :length]
            y = y.transpose(1, 2)
        else:
            dtA, dB, C = self.discrete()
            h = run_scan(
                torch.exp(dtA).unsqueeze(0).unsqueeze(0), dB * u.unsqueeze(-1).to(dB.dtype), mode
            )  # (B, T, H, N)
            y = self._read(h, C)
        return y + self.D * u

    def step(self, u_t: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One position `(B, H)` with the state `h` `(B, H, N)` (complex for S4D-Lin)."""
        dtA, dB, C = self.discrete()
        h_new = dB * u_t.unsqueeze(-1).to(dB.dtype) + (0.0 if h is None else torch.exp(dtA) * h)
        return self._read(h_new, C) + self.D * u_t, h_new


class S4DMixer(nn.Module):
    """S4D kernel, GELU, dropout, then a pointwise linear GLU (the S4D paper's layer, minus norm and residual)."""

    def __init__(
        self, d_model: int, d_state: int, init: str, dt_min: float, dt_max: float, dropout: float, mode: str
    ) -> None:
        super().__init__()
        self.mode = mode
        self.state_size = d_model * d_state  # real numbers (a complex mode counts twice)
        self.ssm = S4DKernel(d_model, d_state, init, dt_min, dt_max)
        self.out = nn.Linear(d_model, 2 * d_model)
        self.drop = nn.Dropout(dropout)

    def _out(self, y: torch.Tensor) -> torch.Tensor:
        return F.glu(self.out(self.drop(F.gelu(y))), dim=-1)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self._out(self.ssm(u, self.mode))

    def step(self, u_t: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.ssm.step(u_t, h)
        return self._out(y), h


@register_architecture(
    "s4d", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_s4d(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    d_state: int = 32,
    init: Literal["lin", "real"] = "lin",
    dt_min: float = 1e-3,
    dt_max: float = 1e-1,
    dropout: float = 0.0,
    mode: Literal["fft", "parallel", "sequential"] = "fft",
) -> nn.Module:
    """S4D: diagonal linear time-invariant SSM per channel (Gu et al. 2022), as a causal convolution.

    Pre-LN residual blocks on the shared backbone; each mixer: per-channel SSM (S4D-Lin complex init by
    default, or S4D-Real), D skip, GELU, linear GLU. `d_state` counts real state numbers per channel
    (S4D-Lin: `d_state/2` complex modes). `mode="fft"` computes the SSM kernel and convolves by FFT
    (training default); `"parallel"`/`"sequential"` run the same recurrence as a scan (used to test the
    two agree).
    """
    check_sizes("s4d", d_model=d_model, layers=layers, d_state=d_state)
    require(init in ("lin", "real"), f"architecture 's4d': init must be lin or real; got {init!r}")
    require(
        init == "real" or d_state % 2 == 0,
        f"architecture 's4d': S4D-Lin needs an even d_state (complex pairs); got {d_state}",
    )
    require(
        0.0 < dt_min <= dt_max,
        f"architecture 's4d': need 0 < dt_min <= dt_max; got dt_min={dt_min!r}, dt_max={dt_max!r}",
    )
    require(0.0 <= dropout < 1.0, f"architecture 's4d': dropout must be in [0, 1); got {dropout!r}")
    require(
        mode in ("fft", "parallel", "sequential"),
        f"architecture 's4d': mode must be fft, parallel or sequential; got {mode!r}",
    )
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: S4DMixer(d_model, d_state, init, dt_min, dt_max, dropout, mode),
        dropout=dropout,
    )
