"""Hyena (Poli et al. 2023, "Hyena Hierarchy: Towards Larger Convolutional Language Models").

A Hyena operator of order N replaces attention by N-1 rounds of "gate, then long convolution": the
input is projected to N+1 streams (`x_0 .. x_{N-1}, v`), each smoothed by a short causal depthwise
convolution; then `z = v`, and for the stages `x_{N-1}, .., x_1`: `z <- h_o * (z . x_o) + b_o (z . x_o)`
(`*` a causal convolution as long as the sequence, `.` elementwise), and finally `y = out_proj(z . x_0)`.

The long filters are *implicit*: `h_o[i]` (lag i, one value per channel) is a small FFN of positional
features of the lag (`[t, cos(f w), -sin(f w)]` as the paper's code, with `t = i / l` and
`w = 2 pi i / l` for a fixed scale `l`), with sine activations, multiplied by an exponential decay
`exp(-t |delta_c|)` whose rate differs per channel (the paper's `ExponentialModulation`). The features
are computed on the fly for the lags needed, so the filter, and the model, take any length. The scale
`l` is the task's `max_seq_len` (the paper's `l_max`), fixed at build: the filter at lag i must not
depend on the length of the sequence it is applied to, or outputs would depend on how much future there is.

The long convolution is computed by FFT (zero-padded to 2T, so the circular convolution is the causal
one), O(T log T). There is no finite recurrent state: the filter is as long as the sequence, so step t
needs every earlier input of every stage; `state_size` is None, and `step` carries that growing history
(like attention's key/value cache), which is also the direct O(T^2) form the FFT path is tested against.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone, mlp_every_layer
from architectures.base import check_sizes
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

# state of `step`: the short conv's last `short_kernel - 1` projected inputs (B, (N+1) d, k-1), and per
# long-convolution stage the inputs seen so far (B, d, t): it grows with t
State = tuple[torch.Tensor, list[torch.Tensor]]


def fft_causal_conv(u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """`y[..., t] = sum_{s <= t} h[..., t - s] u[..., s]` for `u` `(B, C, T)` and `h` `(C, T)` by FFT.

    Zero-padding both to 2T makes the circular convolution of the FFT equal the linear one on the first
    T outputs (a lag never wraps around), which is what makes the FFT form causal.
    """
    length = u.shape[-1]
    n = 2 * length
    y = torch.fft.irfft(torch.fft.rfft(u, n=n) * torch.fft.rfft(h, n=n), n=n)
    return y[..., :length]


class Sin(nn.Module):
    """`sin(freq * x)` with a trainable frequency per feature (the paper's filter activation)."""

    def __init__(self, dim: int, w: float = 1.0) -> None:
        super().__init__()
        self.freq = nn.Parameter(torch.full((dim,), float(w)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.freq * x)


class ImplicitFilter(nn.Module):
    """`channels` long filters as a function of the lag: positional features -> FFN (sine activations)
    -> exponential decay per channel. `filter(length)` gives `(channels, length)`, lags 0..length-1."""

    def __init__(
        self,
        channels: int,
        scale: int,
        emb_dim: int = 3,
        filter_order: int = 16,
        inner_mlps: int = 2,
        fast_decay_pct: float = 0.3,
        slow_decay_pct: float = 1.5,
        target: float = 1e-2,
    ) -> None:
        super().__init__()
        self.channels, self.scale, self.emb_dim = channels, scale, emb_dim
        layers: list[nn.Module] = [nn.Linear(emb_dim, filter_order), Sin(filter_order)]
        for _ in range(inner_mlps):
            layers += [nn.Linear(filter_order, filter_order), Sin(filter_order)]
        layers.append(nn.Linear(filter_order, channels, bias=False))
        self.mlp = nn.Sequential(*layers)
        # decay rates |delta_c|: channel c's filter falls to `target` at t = fast_decay_pct .. slow_decay_pct
        # (linearly spaced over channels); constants, as the paper's (learning rate 0)
        self.max_decay, self.min_decay = math.log(target) / fast_decay_pct, math.log(target) / slow_decay_pct

    def features(self, length: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """Positional features `(length, emb_dim)` of the lags 0..length-1, and the normalised time `(length, 1)`."""
        lag = torch.arange(length, device=device, dtype=dtype).unsqueeze(-1)
        t = lag / self.scale
        bands = (self.emb_dim - 1) // 2
        freqs = torch.linspace(1e-4, bands - 1, bands, device=device, dtype=dtype)
        angle = freqs * (2 * math.pi * lag / self.scale)  # z = exp(-i f w): real part cos, imaginary part -sin
        return torch.cat([t, torch.cos(angle), -torch.sin(angle)], dim=-1), t

    def filter(self, length: int, like: torch.Tensor) -> torch.Tensor:
        z, t = self.features(length, like.device, like.dtype)
        deltas = torch.linspace(
            self.min_decay, self.max_decay, self.channels, device=like.device, dtype=like.dtype
        ).abs()
        return (self.mlp(z) * torch.exp(-t * deltas)).transpose(0, 1)  # (channels, length)


class HyenaMixer(nn.Module):
    """The Hyena operator of order N (the paper's `HyenaOperator`), causal, FFT long convolutions."""

    state_size = None  # the long filters span the whole sequence: step t needs all earlier inputs

    def __init__(
        self, d_model: int, scale: int, order: int = 2, filter_order: int = 16, emb_dim: int = 3, short_kernel: int = 3
    ) -> None:
        super().__init__()
        self.d_model, self.order, self.short_kernel = d_model, order, short_kernel
        width = (order + 1) * d_model
        self.in_proj = nn.Linear(d_model, width)
        self.short_conv = nn.Conv1d(width, width, short_kernel, groups=width)  # causal by left padding
        self.filter = ImplicitFilter(d_model * (order - 1), scale, emb_dim, filter_order)
        self.bias = nn.Parameter(torch.empty(d_model * (order - 1)))  # the skip `b_o (z . x_o)` of each stage
        self.out_proj = nn.Linear(d_model, d_model)
        with torch.no_grad():
            self.bias.normal_()

    def _streams(self, u: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """`(B, (N+1) d, T)` after the short conv -> gates `x_0 .. x_{N-1}` and `v`, each `(B, d, T)`."""
        *x, v = u.split(self.d_model, dim=1)
        return x, v

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        length = hidden.shape[1]
        u = F.pad(self.in_proj(hidden).transpose(1, 2), (self.short_kernel - 1, 0))
        x, v = self._streams(self.short_conv(u))
        h = self.filter.filter(length, hidden).view(self.order - 1, self.d_model, length)
        bias = self.bias.view(self.order - 1, self.d_model, 1)
        for stage, x_i in enumerate(reversed(x[1:])):
            v = v * x_i
            v = fft_causal_conv(v, h[stage]) + bias[stage] * v
        return self.out_proj((v * x[0]).transpose(1, 2))

    def step(self, hidden_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position against the history: the short conv over its cached window, then each stage's
        long convolution as the direct sum `sum_{s <= t} h[t - s] z_s` over that stage's cached inputs."""
        p = self.in_proj(hidden_t)  # (B, (N+1) d)
        if state is None:
            state = (p.new_zeros(p.shape[0], p.shape[1], self.short_kernel - 1), [])
        window = torch.cat([state[0], p.unsqueeze(-1)], dim=-1)  # (B, (N+1) d, k)
        u = (window * self.short_conv.weight.squeeze(1)).sum(-1) + cast(torch.Tensor, self.short_conv.bias)
        x, v = self._streams(u.unsqueeze(-1))
        length = 1 + (state[1][0].shape[-1] if state[1] else 0)  # positions 0..t
        h = self.filter.filter(length, hidden_t).view(self.order - 1, self.d_model, length)
        bias = self.bias.view(self.order - 1, self.d_model, 1)
        history: list[torch.Tensor] = []
        for stage, x_i in enumerate(reversed(x[1:])):
            v = v * x_i  # (B, d, 1)
            past = v if not state[1] else torch.cat([state[1][stage], v], dim=-1)  # (B, d, t + 1)
            history.append(past)
            v = (past * h[stage].flip(-1)).sum(-1, keepdim=True) + bias[stage] * v
        return self.out_proj((v * x[0]).squeeze(-1)), (window[..., 1:], history)


@register_architecture(
    "hyena", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_hyena(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    order: int = 2,
    filter_order: int = 16,
    emb_dim: int = 3,
    short_kernel: int = 3,
    mlp: bool = True,
    mlp_ratio: float = 4.0,
    dropout: float = 0.0,
) -> nn.Module:
    """Hyena (Poli et al. 2023): gated implicit long convolutions (FFT) in place of attention.

    Pre-LN residual blocks of the order-`order` Hyena operator, each followed by an MLP (as the paper's
    GPT-style Hyena models), on the shared backbone. `filter_order`: hidden width of the implicit filter's
    FFN; `emb_dim`: positional features it reads (odd, >= 3: time, then cosine/sine pairs);
    `short_kernel`: width of the short causal depthwise convolution. The filter's time scale is the
    task's `max_seq_len` and the filter is defined for every lag, so every length is supported.
    No fixed-size state (`state_size` None): inference needs the whole input history.
    """
    check_sizes(
        "hyena",
        d_model=d_model,
        layers=layers,
        order=order,
        filter_order=filter_order,
        emb_dim=emb_dim,
        short_kernel=short_kernel,
    )
    require(
        order >= 2, f"architecture 'hyena': order must be >= 2 (one long convolution per order above 1); got {order!r}"
    )
    require(
        emb_dim >= 3 and emb_dim % 2 == 1,
        f"architecture 'hyena': emb_dim must be odd and >= 3 (time, then cosine/sine pairs); got {emb_dim!r}",
    )
    require(mlp_ratio > 0, f"architecture 'hyena': mlp_ratio must be > 0; got {mlp_ratio!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'hyena': dropout must be in [0, 1); got {dropout!r}")
    mixer: dict[str, Any] = {
        "order": order,
        "filter_order": filter_order,
        "emb_dim": emb_dim,
        "short_kernel": short_kernel,
    }
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: HyenaMixer(d_model, spec.max_seq_len, **mixer),
        mlp=mlp_every_layer(d_model, mlp_ratio, mlp),
        dropout=dropout,
    )
