"""State-space families in plain PyTorch: S4D (diagonal, time-invariant) and Mamba (selective)."""
from __future__ import annotations

import functools
import math
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from architectures.scan import parallel_scan
from architectures.scan import scan as run_scan
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

SSM_PRESETS = {"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}
ScanMode = Literal["auto", "parallel", "sequential", "kernel"]
SCAN_MODES = ("auto", "parallel", "sequential", "kernel")


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


# ---------------------------------------------------------------------------------------------
# S4D


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
            h = run_scan(torch.exp(dtA).unsqueeze(0).unsqueeze(0), dB * u.unsqueeze(-1).to(dB.dtype), mode)  # (B, T, H, N)
            y = (h * C).sum(-1)
            y = 2 * y.real if self.complex else y
        return y + self.D * u


class S4DLayer(nn.Module):
    """Pre-LN residual layer: S4D kernel, GELU, dropout, then a pointwise linear GLU."""

    def __init__(self, d_model: int, d_state: int, init: str, dt_min: float, dt_max: float, dropout: float, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.norm = nn.LayerNorm(d_model)
        self.ssm = S4DKernel(d_model, d_state, init, dt_min, dt_max)
        self.out = nn.Linear(d_model, 2 * d_model)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.drop(F.gelu(self.ssm(self.norm(x), self.mode)))
        return x + self.drop(F.glu(self.out(y), dim=-1))


class S4D(nn.Module):
    def __init__(self, spec: TaskSpec, d_model: int, layers: int, d_state: int, init: str, dt_min: float, dt_max: float, dropout: float, mode: str) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.layers = nn.ModuleList(S4DLayer(d_model, d_state, init, dt_min, dt_max, dropout, mode) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = output_head(spec, d_model)
        self.state_size = d_model * d_state * layers  # real numbers (a complex mode counts twice)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(self.norm(h))


@register_architecture("s4d", presets=SSM_PRESETS, width_param="d_model")
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

    Each layer: LayerNorm, per-channel SSM (S4D-Lin complex init by default, or S4D-Real), D skip, GELU,
    linear GLU, residual. `d_state` counts real state numbers per channel (S4D-Lin: `d_state/2` complex
    modes). `mode="fft"` computes the SSM kernel and convolves by FFT (training default);
    `"parallel"`/`"sequential"` run the same recurrence as a scan (used to test the two agree).
    """
    check_sizes("s4d", d_model=d_model, layers=layers, d_state=d_state)
    require(init in ("lin", "real"), f"architecture 's4d': init must be lin or real; got {init!r}")
    require(init == "real" or d_state % 2 == 0, f"architecture 's4d': S4D-Lin needs an even d_state (complex pairs); got {d_state}")
    require(0.0 < dt_min <= dt_max, f"architecture 's4d': need 0 < dt_min <= dt_max; got dt_min={dt_min!r}, dt_max={dt_max!r}")
    require(0.0 <= dropout < 1.0, f"architecture 's4d': dropout must be in [0, 1); got {dropout!r}")
    require(mode in ("fft", "parallel", "sequential"), f"architecture 's4d': mode must be fft, parallel or sequential; got {mode!r}")
    return S4D(spec, d_model, layers, d_state, init, dt_min, dt_max, dropout, mode)


# ---------------------------------------------------------------------------------------------
# Mamba


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

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2, dt_rank: int | None = None,
                 dt_min: float = 1e-3, dt_max: float = 1e-1, scan: str = "parallel", negative_eigenvalues: bool = False) -> None:
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
            dt = torch.exp(torch.empty(d_inner, device=self.D.device).uniform_(math.log(dt_min), math.log(dt_max))).clamp(min=1e-4)
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
    def selective_scan_kernel(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                              D: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """`(y + D x) * silu(z)` by mamba-ssm's kernel, which takes channels-first `(B, d_inner, T)` tensors."""
        kernel = mamba_kernel()
        require(kernel is not None and x.is_cuda,
                f"mamba scan='kernel' needs mamba-ssm and CUDA tensors; got {x.device.type} tensors"
                + ("" if kernel is not None else " and no usable mamba-ssm kernel"))
        u, delta, b, c, gate = (t.transpose(1, 2).contiguous() for t in (x, dt, B, C, z))
        y = kernel(u, delta, A.float(), b, c, D.float(), gate)  # type: ignore[misc]
        return y.transpose(1, 2)

    @staticmethod
    def selective_scan_parallel(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                                signed: bool = False) -> torch.Tensor:
        """All states at once: materialise the transitions and `dt B x` as `(B, T, d_inner, N)`, `parallel_scan`."""
        dA = transition(dt.unsqueeze(-1) * A, signed)
        dBx = (dt * x).unsqueeze(-1) * B.unsqueeze(2)
        h = parallel_scan(dA, dBx)
        return (h * C.unsqueeze(2)).sum(-1)  # contract the state with C_t (an elementwise sum beats bmm on CPU)

    @staticmethod
    def selective_scan_recurrent(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                                 signed: bool = False) -> torch.Tensor:
        """Step by step (the sequential reference, and Mamba's inference mode): only one `(B, d_inner, N)`
        state is alive at a time, so memory does not grow with T."""
        h = x.new_zeros(x.shape[0], x.shape[2], A.shape[-1])
        ys = []
        for dt_t, dtx_t, B_t, C_t in zip(dt.unbind(1), (dt * x).unbind(1), B.unbind(1), C.unbind(1)):
            h = torch.addcmul(transition(dt_t.unsqueeze(-1) * A, signed) * h, dtx_t.unsqueeze(-1), B_t.unsqueeze(1))
            ys.append((h * C_t.unsqueeze(1)).sum(-1))
        return torch.stack(ys, dim=1)


class ResidualBlock(nn.Module):
    """`x + mixer(RMSNorm(x))` (the pre-norm residual wrapper of Mamba's `Block`)."""

    def __init__(self, d_model: int, mixer: nn.Module) -> None:
        super().__init__()
        self.norm = nn.RMSNorm(d_model, eps=1e-5)
        self.mixer = mixer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mixer(self.norm(x))


class Mamba(nn.Module):
    def __init__(self, spec: TaskSpec, d_model: int, layers: int, **mixer: object) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.blocks = nn.ModuleList(ResidualBlock(d_model, MambaMixer(d_model, **mixer)) for _ in range(layers))  # type: ignore[arg-type]
        self.norm = nn.RMSNorm(d_model, eps=1e-5)
        self.head = output_head(spec, d_model)
        self.state_size = sum(block.mixer.state_size for block in self.blocks)  # type: ignore[union-attr]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))


def check_mamba_sizes(arch: str, d_model: int, d_state: int, d_conv: int, expand: int, dt_rank: int | None,
                      dt_min: float, dt_max: float, scan: str) -> None:
    check_sizes(arch, d_model=d_model, d_state=d_state, d_conv=d_conv, expand=expand)
    if dt_rank is not None:
        check_sizes(arch, dt_rank=dt_rank)
    require(0.0 < dt_min <= dt_max, f"architecture {arch!r}: need 0 < dt_min <= dt_max; got dt_min={dt_min!r}, dt_max={dt_max!r}")
    require(scan in SCAN_MODES, f"architecture {arch!r}: scan must be one of {', '.join(SCAN_MODES)}; got {scan!r}")
    require(scan != "kernel" or mamba_kernel() is not None,
            f"architecture {arch!r}: scan='kernel' needs the mamba-ssm package and a CUDA device; use scan='auto' to take it where present")


@register_architecture("mamba", presets=SSM_PRESETS, width_param="d_model")
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

    Pre-norm residual blocks (RMSNorm) of the Mamba mixer, final RMSNorm, head. `d_inner = expand *
    d_model`; `dt_rank` defaults to `ceil(d_model / 16)`. `scan="auto"` (default) uses the step-by-step
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
    require(isinstance(negative_eigenvalues, bool),
            f"architecture 'mamba': negative_eigenvalues must be true or false; got {negative_eigenvalues!r}")
    require(not (negative_eigenvalues and scan == "kernel"),
            "architecture 'mamba': scan='kernel' (mamba-ssm's fused scan) supports only negative_eigenvalues=false; use scan='auto'")
    check_mamba_sizes("mamba", d_model, d_state, d_conv, expand, dt_rank, dt_min, dt_max, scan)
    return Mamba(spec, d_model, layers, d_state=d_state, d_conv=d_conv, expand=expand, dt_rank=dt_rank,
                 dt_min=dt_min, dt_max=dt_max, scan=scan, negative_eigenvalues=negative_eigenvalues)
