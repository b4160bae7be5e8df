"""Mamba-2 (Dao & Gu 2024, "Transformers are SSMs: Generalized Models and Efficient Algorithms Through
Structured State Space Duality"): the SSD layer as a backbone mixer, in plain PyTorch.

Per head h the state is a `d_state x head_dim` matrix with a *scalar* decay:
`a_t = exp(dt_t A_h)`, `H_t = a_t H_{t-1} + dt_t B_t x_tᵀ`, `y_t = C_tᵀ H_t + D_h x_t`. Because the decay is
one number per head and step, the whole sequence map is `y = (L ∘ C Bᵀ) (dt x)` with the 1-semiseparable
mask `L[i, j] = a_{j+1} ... a_i` (the "state space duality"). Two forms compute it here:

- `ssd_chunked` (the paper's SSD algorithm, Listing 1 "ssd_minimal"): split the sequence into chunks of
  `chunk_size`; inside a chunk the quadratic masked form (`L` from a segment sum of `log a`); between
  chunks the recurrence on the chunk-boundary states. Work O(T Q (N + P)) with Q the chunk size.
- `ssd_recurrent`: the step-by-step recurrence (also what `step` runs at inference).

Why both: the chunked form trades the T sequential steps for a few matrix products per chunk, which is
what makes Mamba-2 fast to train; the recurrent form is the constant-memory inference mode and the
reference the chunked form is tested against.
"""

from __future__ import annotations

import functools
import math
from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone
from architectures.base import check_sizes
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Mode = Literal["chunked", "sequential"]
MODES = ("chunked", "sequential")
RMSNORM = functools.partial(nn.RMSNorm, eps=1e-5)
State = tuple[torch.Tensor, torch.Tensor]  # conv inputs (B, conv_dim, d_conv-1), SSM state (B, H, head_dim, d_state)


def log_transition(dt_a: torch.Tensor, signed: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`(log |a_t|, sign a_t)` for `a_t = exp(dt A)` (sign None: all positive) or, `signed`, `2 exp(dt A) - 1`
    in (-1, 1) (Grazzi et al. 2025, "Unlocking state-tracking in linear RNNs through negative
    eigenvalues": a positive scalar decay cannot flip the state, which parity needs). The chunked form
    works in log space, so a signed decay is carried as its log-magnitude plus a sign; `|a|` is floored at
    1e-30 so an exact zero gives a finite log (its product is then ~0, as it should be)."""
    if not signed:
        return dt_a, None
    a = 2.0 * torch.exp(dt_a) - 1.0
    return a.abs().clamp(min=1e-30).log(), torch.where(a < 0, -1.0, 1.0).to(a.dtype)


def transition(dt_a: torch.Tensor, signed: bool) -> torch.Tensor:
    """The decay `a_t` itself (the recurrent form's view of `log_transition`)."""
    return 2.0 * torch.exp(dt_a) - 1.0 if signed else torch.exp(dt_a)


def segment_sum(x: torch.Tensor) -> torch.Tensor:
    """`out[..., i, j] = x[..., j+1] + ... + x[..., i]` for `i >= j`, `-inf` above the diagonal.

    Built from a masked cumulative sum rather than `cumsum_i - cumsum_j`: the difference of two large
    cumulative sums loses precision when decays are strong (the "stable segsum" of the reference code).
    """
    q = x.shape[-1]
    x = x.unsqueeze(-1).expand(*x.shape, q)  # [..., k, j] = x_k
    strictly_lower = torch.tril(torch.ones(q, q, dtype=torch.bool, device=x.device), diagonal=-1)
    out = torch.cumsum(x.masked_fill(~strictly_lower, 0.0), dim=-2)
    return out.masked_fill(~torch.tril(torch.ones(q, q, dtype=torch.bool, device=x.device)), -torch.inf)


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    """B or C `(..., G, N)` shared by `heads // G` consecutive heads -> `(..., heads, N)`."""
    return t.repeat_interleave(heads // t.shape[-2], dim=-2)


def ssd_chunked(
    x: torch.Tensor,
    dt: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    chunk_size: int,
    signed: bool = False,
) -> torch.Tensor:
    """SSD by chunks. x `(b, T, H, P)`, dt `(b, T, H)` (after softplus), A `(H,)` (negative), B and C
    `(b, T, G, N)` with G dividing H; returns y `(b, T, H, P)` without the `D x` skip."""
    batch, length, heads, _ = x.shape
    pad = (-length) % chunk_size
    log_a, sign = log_transition(dt * A, signed)  # (b, T, H)
    u = x * dt.unsqueeze(-1)  # the input term dt_t x_t
    B, C = _heads(B, heads), _heads(C, heads)
    if pad:  # zero inputs and log a = 0 (a = 1) past the end: they change nothing before it
        u, B, C = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (u, B, C))
        log_a = F.pad(log_a, (0, 0, 0, pad))
        sign = None if sign is None else F.pad(sign, (0, 0, 0, pad), value=1.0)
    chunks = (length + pad) // chunk_size
    u, B, C = (t.unflatten(1, (chunks, chunk_size)) for t in (u, B, C))  # (b, c, Q, H, .)
    log_a = log_a.unflatten(1, (chunks, chunk_size)).permute(0, 1, 3, 2)  # (b, c, H, Q)
    cum = torch.cumsum(log_a, dim=-1)
    decay = torch.exp(segment_sum(log_a))  # (b, c, H, Q, Q): L[l, s] = a_{s+1} .. a_l
    to_end = torch.exp(cum[..., -1:] - cum)  # (b, c, H, Q): a_{s+1} .. a_{Q-1}, from s to the chunk's end
    from_start = torch.exp(cum)  # (b, c, H, Q): a_0 .. a_l, from the previous chunk's end to l
    if sign is not None:  # a product of signs s_{j+1} .. s_i is S_i S_j with S the running product (S_j = ±1)
        run = torch.cumprod(sign.unflatten(1, (chunks, chunk_size)).permute(0, 1, 3, 2), dim=-1)
        decay = decay * run.unsqueeze(-1) * run.unsqueeze(-2)
        to_end = to_end * run[..., -1:] * run
        from_start = from_start * run
    # 1. within a chunk: the quadratic ("attention-like") form
    scores = torch.einsum("bclhn,bcshn->bchls", C, B) * decay
    y = torch.einsum("bchls,bcshp->bclhp", scores, u)
    # 2. each chunk's contribution to the state at its end
    chunk_states = torch.einsum("bclhn,bchl,bclhp->bchpn", B, to_end, u)
    # 3. between chunks: the recurrence on boundary states (few chunks: a short loop)
    chunk_decay = from_start[..., -1]  # (b, c, H): the whole chunk's product a_0 .. a_{Q-1}
    state = torch.zeros_like(chunk_states[:, 0])
    starts = []
    for c in range(chunks):
        starts.append(state)
        state = chunk_decay[:, c, :, None, None] * state + chunk_states[:, c]
    start = torch.stack(starts, dim=1)  # (b, c, H, P, N): the state entering each chunk
    # 4. the entering state read out inside each chunk
    y = y + torch.einsum("bclhn,bchpn,bchl->bclhp", C, start, from_start)
    return y.flatten(1, 2)[:, :length]


def ssd_step(
    h: torch.Tensor,
    x_t: torch.Tensor,
    dt_t: torch.Tensor,
    A: torch.Tensor,
    B_t: torch.Tensor,
    C_t: torch.Tensor,
    signed: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step: h `(b, H, P, N)`, x_t `(b, H, P)`, dt_t `(b, H)`, B_t and C_t `(b, G, N)` -> (y_t, h_t)."""
    heads = x_t.shape[1]
    a = transition(dt_t * A, signed)[..., None, None]
    h = torch.addcmul(a * h, (dt_t.unsqueeze(-1) * x_t).unsqueeze(-1), _heads(B_t, heads).unsqueeze(-2))
    return (h * _heads(C_t, heads).unsqueeze(-2)).sum(-1), h


def ssd_recurrent(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, signed: bool = False
) -> torch.Tensor:
    """The same map as `ssd_chunked`, step by step (only one state alive at a time)."""
    h = x.new_zeros(x.shape[0], x.shape[2], x.shape[3], B.shape[-1])
    ys = []
    for x_t, dt_t, B_t, C_t in zip(x.unbind(1), dt.unbind(1), B.unbind(1), C.unbind(1)):
        y_t, h = ssd_step(h, x_t, dt_t, A, B_t, C_t, signed)
        ys.append(y_t)
    return torch.stack(ys, dim=1)


class GatedRMSNorm(nn.Module):
    """`RMSNorm(y * silu(z))` over groups of `width / groups` channels (mamba-ssm's `RMSNormGated` with
    `norm_before_gate=False`): each group of heads is normalised on its own, as its B and C are its own."""

    def __init__(self, width: int, groups: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gated = (y * F.silu(z)).unflatten(-1, (self.groups, -1))
        normed = gated * torch.rsqrt(gated.square().mean(-1, keepdim=True) + self.eps)
        return self.weight * normed.flatten(-2)


class Mamba2Mixer(nn.Module):
    """The Mamba-2 block (mamba-ssm's `Mamba2`, as transformers' `Mamba2Mixer.torch_forward`), plain PyTorch.

    `in_proj` -> `[z, x, B, C, dt]`; a causal depthwise conv (width `d_conv`) and SiLU on `[x, B, C]`;
    `dt = softplus(dt + dt_bias)`, one per head; `A_h = -exp(A_log_h)` (init `A_h = -h`, h = 1..heads, as
    transformers does); the SSD recurrence per head with `B, C` shared by the heads of a group; `+ D x`;
    the gated RMSNorm `RMSNorm(y * silu(z))` (norm after the gate, per group of heads); `out_proj`.
    Parameter names follow transformers', so its mixer's weights load as they are (the reference test).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int,
        d_conv: int,
        expand: int,
        heads: int,
        groups: int,
        chunk_size: int,
        mode: str,
        negative_eigenvalues: bool,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ) -> None:
        super().__init__()
        self.d_inner = heads * math.ceil(expand * d_model / heads)  # expand * d_model, rounded up to whole heads
        self.heads, self.head_dim, self.groups, self.d_state = heads, self.d_inner // heads, groups, d_state
        self.d_conv, self.chunk_size, self.mode, self.signed = d_conv, chunk_size, mode, negative_eigenvalues
        self.conv_dim = self.d_inner + 2 * groups * d_state
        self.in_proj = nn.Linear(d_model, self.d_inner + self.conv_dim + self.heads, bias=False)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, d_conv, groups=self.conv_dim, padding=0)
        self.dt_bias = nn.Parameter(torch.empty(self.heads))
        self.A_log = nn.Parameter(torch.empty(self.heads))
        self.D = nn.Parameter(torch.empty(self.heads))
        self.norm = GatedRMSNorm(self.d_inner, groups)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=False)
        with torch.no_grad():
            dt = torch.exp(
                torch.empty(self.heads, device=self.D.device).uniform_(math.log(dt_min), math.log(dt_max))
            ).clamp(min=1e-4)
            self.dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
            self.A_log.copy_(torch.log(torch.arange(1, self.heads + 1, dtype=torch.float32, device=self.A_log.device)))
            self.D.fill_(1.0)

    @property
    def state_size(self) -> int:
        """Per sequence: the SSM state, heads x head_dim x d_state = d_inner * d_state numbers, plus the conv
        buffer, the last d_conv - 1 inputs of the conv's conv_dim = d_inner + 2 groups d_state channels."""
        return self.d_inner * self.d_state + self.conv_dim * (self.d_conv - 1)

    def _split(self, xbc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, B, C = xbc.split([self.d_inner, self.groups * self.d_state, self.groups * self.d_state], dim=-1)
        lead = x.shape[:-1]
        return (
            x.view(*lead, self.heads, self.head_dim),
            B.view(*lead, self.groups, self.d_state),
            C.view(*lead, self.groups, self.d_state),
        )

    def _out(self, y: torch.Tensor, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        y = y + self.D[:, None] * x  # (..., H, P)
        return self.out_proj(self.norm(y.flatten(-2), z))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        length = hidden.shape[1]
        z, xbc, dt = self.in_proj(hidden).split([self.d_inner, self.conv_dim, self.heads], dim=-1)
        xbc = F.silu(self.conv1d(F.pad(xbc.transpose(1, 2), (self.d_conv - 1, 0)))[..., :length].transpose(1, 2))
        x, B, C = self._split(xbc)
        dt = F.softplus(dt + self.dt_bias)
        A = -self.A_log.exp()
        if self.mode == "chunked":
            y = ssd_chunked(x, dt, A, B, C, self.chunk_size, self.signed)
        else:
            y = ssd_recurrent(x, dt, A, B, C, self.signed)
        return self._out(y, x, z)

    def step(self, hidden_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position `(b, d_model)`: the conv over the cached last `d_conv - 1` inputs, one SSD step."""
        z, xbc, dt = self.in_proj(hidden_t).split([self.d_inner, self.conv_dim, self.heads], dim=-1)
        if state is None:
            state = (
                xbc.new_zeros(xbc.shape[0], self.conv_dim, self.d_conv - 1),
                xbc.new_zeros(xbc.shape[0], self.heads, self.head_dim, self.d_state),
            )
        window = torch.cat([state[0], xbc.unsqueeze(-1)], dim=-1)  # inputs t-d_conv+1 .. t
        x, B, C = self._split(
            F.silu((window * self.conv1d.weight.squeeze(1)).sum(-1) + cast(torch.Tensor, self.conv1d.bias))
        )
        y, h = ssd_step(state[1], x, F.softplus(dt + self.dt_bias), -self.A_log.exp(), B, C, self.signed)
        return self._out(y, x, z), (window[..., 1:], h)


@register_architecture(
    "mamba2", presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}}, width_param="d_model"
)
def build_mamba2(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    d_state: int = 16,
    d_conv: int = 4,
    expand: int = 2,
    heads: int = 8,
    groups: int = 1,
    chunk_size: int = 16,
    mode: Mode = "chunked",
    negative_eigenvalues: bool = False,
) -> nn.Module:
    """Mamba-2 (Dao & Gu 2024): SSD blocks, a scalar decay per head, on the shared backbone (RMSNorm, no MLP).

    `d_inner = expand * d_model`, rounded up to a multiple of `heads`, split into `heads` heads; `B, C` of
    size `d_state` shared by the heads of each of `groups` groups. `mode="chunked"` (default: the faster on CPU, measured at the
    sizes here, as is the default chunk size 16) is the SSD chunked algorithm with chunks of `chunk_size`;
    `mode="sequential"` the step-by-step recurrence; both give the same outputs (`step` is the recurrence).
    `negative_eigenvalues=True`: decays `2 exp(dt A) - 1` in (-1, 1) (Grazzi et al. 2025), in both modes.
    State per layer: `d_inner * d_state` SSM numbers plus `(d_inner + 2 groups d_state) * (d_conv - 1)`
    conv inputs. The default sizes are smaller than the paper's (d_state 128, head_dim 64), which are
    meant for models of 100M+ parameters. The head count, not the head width, is the hyper-parameter
    and `d_inner` is rounded up to whole heads (as xLSTM rounds its up-projection), so any `d_model` is
    valid and the width can be fitted to the reference's parameter count in steps of 1.
    """
    check_sizes(
        "mamba2",
        d_model=d_model,
        layers=layers,
        d_state=d_state,
        d_conv=d_conv,
        expand=expand,
        heads=heads,
        groups=groups,
        chunk_size=chunk_size,
    )
    require(heads % groups == 0, f"architecture 'mamba2': heads={heads} must be divisible by groups={groups}")
    require(mode in MODES, f"architecture 'mamba2': mode must be one of {', '.join(MODES)}; got {mode!r}")
    require(
        isinstance(negative_eigenvalues, bool),
        f"architecture 'mamba2': negative_eigenvalues must be true or false; got {negative_eigenvalues!r}",
    )
    return Backbone(
        spec,
        d_model,
        layers,
        lambda _layer: Mamba2Mixer(
            d_model, d_state, d_conv, expand, heads, groups, chunk_size, mode, negative_eigenvalues
        ),
        norm=RMSNORM,
    )
