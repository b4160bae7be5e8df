"""Mamba (Gu & Dao 2023): the selective SSM as a backbone mixer, in plain PyTorch (mamba-ssm's kernel optional)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone
from architectures.base import check_sizes
from architectures.scan import parallel_scan
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

ScanMode = Literal["auto", "parallel", "sequential", "kernel"]
SCAN_MODES = ("auto", "parallel", "sequential", "kernel")
RMSNORM = functools.partial(nn.RMSNorm, eps=1e-5)  # Mamba's norm, in its blocks and before the head
State = tuple[torch.Tensor, torch.Tensor]  # the last d_conv-1 conv inputs (B, d_inner, d_conv-1), h (B, d_inner, N)


@functools.lru_cache(maxsize=1)
def mamba_kernel() -> Callable[..., torch.Tensor] | None:
    """mamba-ssm's fused CUDA `selective_scan_fn`, or None without the package or a CUDA device.

    Imported lazily and never required: archbench runs everywhere in plain PyTorch; the kernel only makes
    Mamba faster where it exists (`scan="auto"` on a CUDA tensor, or `scan="kernel"` to insist on it).
    """
    if not torch.cuda.is_available():
        return None
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except Exception:  # not installed, or built against another torch / CUDA: fall back to plain PyTorch
        return None
    return selective_scan_fn


def transition(dt_a: torch.Tensor, signed: bool) -> torch.Tensor:
    """Mamba's state transition `exp(dt A)`, in (0, 1); `signed`: `2 exp(dt A) - 1`, in (-1, 1), the range
    extension of Grazzi et al. 2024 ("Unlocking state-tracking in linear RNNs through negative
    eigenvalues"). Why it matters: with every transition positive, a diagonal linear recurrence cannot
    flip its state's sign, and running parity is exactly a sign flip per 1; large `dt` now gives -1."""
    decay = torch.exp(dt_a)
    return 2.0 * decay - 1.0 if signed else decay


class MambaMixer(nn.Module):
    """The selective SSM block of Gu & Dao 2023 (the `Mamba` mixer of `mamba_simple.py`), plain PyTorch.

    in_proj -> (x, z); x: causal depthwise conv (left padding d_conv-1), SiLU; per-step `dt, B, C` from x
    (`dt` through a rank-`dt_rank` projection, softplus, bias initialised so softplus(bias) is log-uniform
    in [dt_min, dt_max]); `A = -exp(A_log)` with S4D-Real init `A_n = -(n+1)`; selective scan
    `h_t = exp(dt_t A) * h_{t-1} + dt_t B_t x_t`, `y_t = C_t h_t + D x_t`; `y * silu(z)`; out_proj.

    `scan="parallel"`: while gradients are on, all `(B, T, d_inner, N)` states are computed by
    `parallel_scan`; with gradients off (evaluation) the recurrent form runs instead, as Mamba itself does
    at inference, so memory stays O(B * d_inner * N) at any length (outputs agree to float rounding).
    `scan="sequential"`: the recurrent form always (the step-by-step reference). `scan="kernel"`: mamba-ssm's
    fused CUDA selective scan (`mamba_kernel`), which `scan="auto"` also uses on CUDA tensors when present.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        scan: str = "parallel",
        negative_eigenvalues: bool = False,
    ) -> None:
        super().__init__()
        self.d_inner, self.d_state, self.d_conv, self.scan = expand * d_model, d_state, d_conv, scan
        self.negative_eigenvalues = negative_eigenvalues
        self.dt_rank = dt_rank if dt_rank is not None else math.ceil(d_model / 16)
        d_inner = self.d_inner
        self.in_proj = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=0)
        self.x_proj = nn.Linear(d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, d_inner)
        self.A_log = nn.Parameter(torch.empty(d_inner, d_state))
        self.D = nn.Parameter(torch.empty(d_inner))
        self.out_proj = nn.Linear(d_inner, d_model, bias=False)
        with torch.no_grad():
            bound = self.dt_rank**-0.5
            self.dt_proj.weight.uniform_(-bound, bound)
            dt = torch.exp(
                torch.empty(d_inner, device=self.D.device).uniform_(math.log(dt_min), math.log(dt_max))
            ).clamp(min=1e-4)
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
            n = torch.arange(1, d_state + 1, dtype=torch.float32, device=self.A_log.device)
            self.A_log.copy_(torch.log(n).expand(d_inner, d_state))
            self.D.fill_(1.0)

    @property
    def state_size(self) -> int:
        return self.d_inner * self.d_state + self.d_inner * (self.d_conv - 1)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        length = hidden.shape[1]
        x, z = self.in_proj(hidden).chunk(2, dim=-1)
        x = self.conv(F.pad(x.transpose(1, 2), (self.d_conv - 1, 0)))[..., :length].transpose(1, 2)
        x = F.silu(x)
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(self.dt_proj(dt))  # (B, T, d_inner)
        A = -self.A_log.exp()  # (d_inner, N)
        signed = self.negative_eigenvalues  # the fused kernel knows only exp(dt A) in (0, 1)
        if not signed and (self.scan == "kernel" or (self.scan == "auto" and x.is_cuda and mamba_kernel() is not None)):
            return self.out_proj(self.selective_scan_kernel(x, dt, A, B, C, self.D, z))
        parallel = self.scan == "parallel" or (self.scan == "auto" and x.device.type != "cpu")
        if parallel and torch.is_grad_enabled():
            y = self.selective_scan_parallel(x, dt, A, B, C, signed)
        else:
            y = self.selective_scan_recurrent(x, dt, A, B, C, signed)
        return self.out_proj((y + self.D * x) * F.silu(z))

    @staticmethod
    def selective_scan_kernel(
        x: torch.Tensor,
        dt: torch.Tensor,
        A: torch.Tensor,
        B: torch.Tensor,
        C: torch.Tensor,
        D: torch.Tensor,
        z: torch.Tensor,
    ) -> torch.Tensor:
        """`(y + D x) * silu(z)` by mamba-ssm's kernel, which takes channels-first `(B, d_inner, T)` tensors."""
        kernel = mamba_kernel()
        require(
            kernel is not None and x.is_cuda,
            f"mamba scan='kernel' needs mamba-ssm and CUDA tensors; got {x.device.type} tensors"
            + ("" if kernel is not None else " and no usable mamba-ssm kernel"),
        )
        u, delta, b, c, gate = (t.transpose(1, 2).contiguous() for t in (x, dt, B, C, z))
        y = kernel(u, delta, A.float(), b, c, D.float(), gate)  # type: ignore[misc]
        return y.transpose(1, 2)

    @staticmethod
    def selective_scan_parallel(
        x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, signed: bool = False
    ) -> torch.Tensor:
        """All states at once: materialise the transitions and `dt B x` as `(B, T, d_inner, N)`, `parallel_scan`."""
        dA = transition(dt.unsqueeze(-1) * A, signed)
        dBx = (dt * x).unsqueeze(-1) * B.unsqueeze(2)
        h = parallel_scan(dA, dBx)
        return (h * C.unsqueeze(2)).sum(-1)  # contract the state with C_t (an elementwise sum beats bmm on CPU)

    @staticmethod
    def selective_scan_recurrent(
        x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, signed: bool = False
    ) -> torch.Tensor:
        """Step by step (the sequential reference, and Mamba's inference mode): only one `(B, d_inner, N)`
        state is alive at a time, so memory does not grow with T."""
        h = x.new_zeros(x.shape[0], x.shape[2], A.shape[-1])
        ys = []
        for dt_t, dtx_t, B_t, C_t in zip(dt.unbind(1), (dt * x).unbind(1), B.unbind(1), C.unbind(1)):
            h = torch.addcmul(transition(dt_t.unsqueeze(-1) * A, signed) * h, dtx_t.unsqueeze(-1), B_t.unsqueeze(1))
            ys.append((h * C_t.unsqueeze(1)).sum(-1))
        return torch.stack(ys, dim=1)

    def step(self, hidden_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position `(B, d_model)`: the convolution over the cached last `d_conv - 1` inputs and this
        one, then one step of the selective recurrence (what `state_size` counts)."""
        x, z = self.in_proj(hidden_t).chunk(2, dim=-1)  # (B, d_inner)
        if state is None:
            state = (
                x.new_zeros(x.shape[0], self.d_inner, self.d_conv - 1),
                x.new_zeros(x.shape[0], self.d_inner, self.d_state),
            )
        window = torch.cat([state[0], x.unsqueeze(-1)], dim=-1)  # (B, d_inner, d_conv): inputs t-d_conv+1 .. t
        conv_bias = self.conv.bias
        assert conv_bias is not None  # the convolution is built with a bias (nn.Conv1d's default)
        x = F.silu((window * self.conv.weight.squeeze(1)).sum(-1) + conv_bias)
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = F.softplus(self.dt_proj(dt))
        h = torch.addcmul(
            transition(dt.unsqueeze(-1) * -self.A_log.exp(), self.negative_eigenvalues) * state[1],
            (dt * x).unsqueeze(-1),
            B.unsqueeze(1),
        )
        y = (h * C.unsqueeze(1)).sum(-1) + self.D * x
        return self.out_proj(y * F.silu(z)), (window[..., 1:], h)


def check_mamba_sizes(
    arch: str,
    d_model: int,
    d_state: int,
    d_conv: int,
    expand: int,
    dt_rank: int | None,
    dt_min: float,
    dt_max: float,
    scan: str,
) -> None:
    check_sizes(arch, d_model=d_model, d_state=d_state, d_conv=d_conv, expand=expand)
    if dt_rank is not None:
        check_sizes(arch, dt_rank=dt_rank)
    require(
        0.0 < dt_min <= dt_max,
        f"architecture {arch!r}: need 0 < dt_min <= dt_max; got dt_min={dt_min!r}, dt_max={dt_max!r}",
    )
    require(scan in SCAN_MODES, f"architecture {arch!r}: scan must be one of {', '.join(SCAN_MODES)}; got {scan!r}")
    require(
        scan != "kernel" or mamba_kernel() is not None,
        f"architecture {arch!r}: scan='kernel' needs the mamba-ssm package and a CUDA device; use scan='auto' to take it where present",
    )


@register_architecture(
    "mamba", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_mamba(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    d_state: int = 16,
    d_conv: int = 4,
    expand: int = 2,
    dt_rank: int | None = None,
    dt_min: float = 1e-3,
    dt_max: float = 1e-1,
    scan: ScanMode = "auto",
    negative_eigenvalues: bool = False,
) -> nn.Module:
    """Mamba (Gu & Dao 2023): selective SSM blocks with input-dependent step, B and C, in plain PyTorch.

    Pre-norm residual blocks (RMSNorm) of the Mamba mixer on the shared backbone (no MLP), final RMSNorm,
    head. `d_inner = expand * d_model`; `dt_rank` defaults to `ceil(d_model / 16)`. `scan="auto"` (default) uses the step-by-step
    loop on CPU, where it trains 2-6x faster for these sizes (measured), and elsewhere mamba-ssm's fused
    CUDA kernel where that package is installed (`scan="kernel"` insists on it), else the parallel scan.
    With `scan="parallel"`, in training the selective scan runs as a
    log-depth parallel scan by default; `scan="sequential"` is the step-by-step recurrence (the reference,
    and on a CPU often the faster one). Without gradients (evaluation) both use the recurrence, whose
    memory does not grow with the length. State per layer:
    `d_inner * d_state` SSM numbers plus `d_inner * (d_conv - 1)` convolution inputs.
    `negative_eigenvalues=True`: transitions `2 exp(dt A) - 1` in (-1, 1) instead of `exp(dt A)` in (0, 1)
    (Grazzi et al. 2024; `transition`), which lets one layer track parity; mamba-ssm's kernel is then
    not used (it knows only the positive range).
    """
    check_sizes("mamba", layers=layers)
    require(
        isinstance(negative_eigenvalues, bool),
        f"architecture 'mamba': negative_eigenvalues must be true or false; got {negative_eigenvalues!r}",
    )
    require(
        not (negative_eigenvalues and scan == "kernel"),
        "architecture 'mamba': scan='kernel' (mamba-ssm's fused scan) supports only negative_eigenvalues=false; use scan='auto'",
    )
    check_mamba_sizes("mamba", d_model, d_state, d_conv, expand, dt_rank, dt_min, dt_max, scan)
    mixer = {
        "d_state": d_state,
        "d_conv": d_conv,
        "expand": expand,
        "dt_rank": dt_rank,
        "dt_min": dt_min,
        "dt_max": dt_max,
        "scan": scan,
        "negative_eigenvalues": negative_eigenvalues,
    }
    return Backbone(spec, d_model, layers, lambda _layer: MambaMixer(d_model, **mixer), norm=RMSNORM)  # type: ignore[arg-type]
