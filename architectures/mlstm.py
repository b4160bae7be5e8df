"""mLSTM (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory"): the matrix-memory LSTM as a
backbone mixer, in plain PyTorch.

Per head, with an exponential input gate `i_t = exp(ĩ_t)` and a sigmoid forget gate `f_t = σ(f̃_t)`:
`C_t = f_t C_{t-1} + i_t k_t v_tᵀ` (a `d_head x d_head` matrix memory), `n_t = f_t n_{t-1} + i_t k_t`,
`h̃_t = C_tᵀ q_t / max(|n_tᵀ q_t|, 1)`, with `k_t` scaled by `1/sqrt(d_head)`. An exponential input gate
overflows, so both forms carry a stabiliser `m_t = max(log f_t + m_{t-1}, ĩ_t)` and store `C_t e^{-m_t}`,
`n_t e^{-m_t}`; the lower bound 1 of the normaliser becomes `e^{-m_t}`, so the output is unchanged.

- `mlstm_parallel`: the stabilised parallel form (the paper's Appendix; xlstm's
  `parallel_stabilized_simple`): a `T x T` gate matrix `log D[t, s] = Σ_{s<r<=t} log f_r + ĩ_s`,
  stabilised by its row maximum (which is exactly `m_t` of the recurrence started at `m_0 = -inf`).
- `mlstm_recurrent` / `mlstm_step`: the stabilised recurrence (xlstm's `recurrent_step_stabilized_simple`).

Why both: the parallel form is a few matrix products (fast to train at the lengths here); the recurrent
form is the constant-memory inference mode, and the reference it is tested against.
"""

from __future__ import annotations

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

Mode = Literal["parallel", "sequential"]
MODES = ("parallel", "sequential")
EPS = 1e-6  # added to the stabilised normaliser, as xlstm does (keeps 0/0 away when q ⊥ n)
CellState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # C (B, H, d, d), n (B, H, d), m (B, H)
State = tuple[torch.Tensor, CellState]  # conv inputs (B, d_inner, d_conv-1), the cell's state


def mlstm_parallel(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, i_pre: torch.Tensor, f_pre: torch.Tensor, eps: float = EPS
) -> torch.Tensor:
    """q, k, v `(B, H, T, d)`, gate pre-activations `(B, H, T)` -> h̃ `(B, H, T, d)`, all positions at once."""
    length, d = q.shape[-2], q.shape[-1]
    cum = torch.cumsum(F.logsigmoid(f_pre), dim=-1)
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool, device=q.device))
    log_d = (cum.unsqueeze(-1) - cum.unsqueeze(-2) + i_pre.unsqueeze(-2)).masked_fill(~causal, -torch.inf)
    m = log_d.amax(dim=-1, keepdim=True)  # (B, H, T, 1): the stabiliser m_t
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(d) * torch.exp(log_d - m)
    normaliser = torch.maximum(scores.sum(-1, keepdim=True).abs(), torch.exp(-m)) + eps
    return (scores / normaliser) @ v


def mlstm_step(
    state: CellState | None,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    i_pre: torch.Tensor,
    f_pre: torch.Tensor,
    eps: float = EPS,
) -> tuple[torch.Tensor, CellState]:
    """One step: q, k, v `(B, H, d)`, gate pre-activations `(B, H)`; `state` None is the empty memory with
    `m_0 = -inf` (so `m_1 = ĩ_1`, the parallel form's row maximum)."""
    k = k / math.sqrt(k.shape[-1])
    log_f = F.logsigmoid(f_pre)
    if state is None:
        m = i_pre
        C = torch.exp(i_pre - m)[..., None, None] * (k.unsqueeze(-1) * v.unsqueeze(-2))
        n = torch.exp(i_pre - m).unsqueeze(-1) * k
    else:
        C, n, m_prev = state
        m = torch.maximum(log_f + m_prev, i_pre)
        f_act, i_act = torch.exp(log_f + m_prev - m), torch.exp(i_pre - m)
        C = f_act[..., None, None] * C + i_act[..., None, None] * (k.unsqueeze(-1) * v.unsqueeze(-2))
        n = f_act.unsqueeze(-1) * n + i_act.unsqueeze(-1) * k
    numerator = (q.unsqueeze(-1) * C).sum(-2)  # C_tᵀ q_t: (B, H, d_v)
    denominator = torch.maximum((q * n).sum(-1).abs(), torch.exp(-m)) + eps
    return numerator / denominator.unsqueeze(-1), (C, n, m)


def mlstm_recurrent(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, i_pre: torch.Tensor, f_pre: torch.Tensor, eps: float = EPS
) -> torch.Tensor:
    """The same map as `mlstm_parallel`, step by step over T (dimension 2)."""
    state: CellState | None = None
    hs = []
    for t in range(q.shape[2]):
        h, state = mlstm_step(state, q[:, :, t], k[:, :, t], v[:, :, t], i_pre[:, :, t], f_pre[:, :, t], eps)
        hs.append(h)
    return torch.stack(hs, dim=2)


class HeadwiseLinear(nn.Module):
    """Block-diagonal linear map: blocks of `block` features each mapped by their own `block x block`
    matrix (xlstm's `LinearHeadwiseExpand` with expansion 1): the q, k, v projections of the mLSTM block,
    at `block / width` of a dense projection's parameters."""

    def __init__(self, width: int, block: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(width // block, block, block))
        nn.init.normal_(self.weight, std=math.sqrt(2 / 5 / block))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...hd,hod->...ho", x.unflatten(-1, (self.weight.shape[0], -1)), self.weight).flatten(-2)


class MLSTMMixer(nn.Module):
    """The mLSTM block of xLSTM (pre up-projection; xlstm's `mLSTMLayer`), in plain PyTorch.

    `proj_up` -> `(x, z)`, width `d_inner = expand * d_model`; `x` through a causal depthwise conv and SiLU
    gives q and k (block-diagonal projections), `x` itself gives v; the gate pre-activations `ĩ, f̃` (one
    per head) are linear in `[q, k, v]`; the cell; a per-head LayerNorm (weight only); `+ skip * conv(x)`;
    times `silu(z)` (the block's output gate, in place of the cell's sigmoid `o_t`); `proj_down`.
    Initialisation as xlstm: forget-gate bias linearly spaced in [3, 6], input-gate bias N(0, 0.1), both
    gate weights zero.
    """

    def __init__(
        self, d_model: int, heads: int, expand: int, d_conv: int, qkv_block: int, mode: str, layers: int
    ) -> None:
        super().__init__()
        self.d_inner, self.heads, self.d_conv, self.mode = expand * d_model, heads, d_conv, mode
        d_inner = self.d_inner
        self.head_dim = d_inner // heads
        self.proj_up = nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv1d = nn.Conv1d(d_inner, d_inner, d_conv, groups=d_inner, padding=0)
        self.q_proj, self.k_proj, self.v_proj = (HeadwiseLinear(d_inner, qkv_block) for _ in range(3))
        self.igate = nn.Linear(3 * d_inner, heads)
        self.fgate = nn.Linear(3 * d_inner, heads)
        self.outnorm_weight = nn.Parameter(torch.ones(d_inner))
        self.skip = nn.Parameter(torch.ones(d_inner))
        self.proj_down = nn.Linear(d_inner, d_model, bias=False)
        with torch.no_grad():
            nn.init.normal_(self.proj_up.weight, std=math.sqrt(2 / (5 * d_model)))
            nn.init.normal_(self.proj_down.weight, std=2 / layers / math.sqrt(d_model))
            nn.init.zeros_(self.fgate.weight)
            self.fgate.bias.copy_(torch.linspace(3.0, 6.0, heads, device=self.fgate.bias.device))
            nn.init.zeros_(self.igate.weight)
            nn.init.normal_(self.igate.bias, std=0.1)

    @property
    def state_size(self) -> int:
        """Per sequence: per head the matrix memory C (d_head²), the normaliser n (d_head) and the
        stabiliser m (1); plus the conv buffer, the last d_conv - 1 inputs of d_inner channels."""
        return self.heads * (self.head_dim**2 + self.head_dim + 1) + self.d_inner * (self.d_conv - 1)

    def _qkv_gates(
        self, x: torch.Tensor, x_conv: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k, v `(..., H, d)` and gate pre-activations `(..., H)` from the branch input and its conv."""
        q, k, v = self.q_proj(x_conv), self.k_proj(x_conv), self.v_proj(x)
        qkv = torch.cat([q, k, v], dim=-1)
        heads = (t.unflatten(-1, (self.heads, self.head_dim)) for t in (q, k, v))
        return (*heads, self.igate(qkv), self.fgate(qkv))

    def _out(self, h: torch.Tensor, x_conv: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """h̃ `(..., H, d)`: per-head LayerNorm (no bias), skip, output gate, down-projection."""
        h = F.layer_norm(h, (self.head_dim,), eps=1e-5).flatten(-2) * self.outnorm_weight
        return self.proj_down((h + self.skip * x_conv) * F.silu(z))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        length = hidden.shape[1]
        x, z = self.proj_up(hidden).chunk(2, dim=-1)
        x_conv = F.silu(self.conv1d(F.pad(x.transpose(1, 2), (self.d_conv - 1, 0)))[..., :length].transpose(1, 2))
        q, k, v, i_pre, f_pre = self._qkv_gates(x, x_conv)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, H, T, d)
        i_pre, f_pre = i_pre.transpose(1, 2), f_pre.transpose(1, 2)  # (B, H, T)
        cell = mlstm_parallel if self.mode == "parallel" else mlstm_recurrent
        return self._out(cell(q, k, v, i_pre, f_pre).transpose(1, 2), x_conv, z)

    def step(self, hidden_t: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One position `(B, d_model)`: the conv over the cached last `d_conv - 1` inputs, one cell step."""
        x, z = self.proj_up(hidden_t).chunk(2, dim=-1)
        conv_in = x.new_zeros(x.shape[0], self.d_inner, self.d_conv - 1) if state is None else state[0]
        window = torch.cat([conv_in, x.unsqueeze(-1)], dim=-1)
        x_conv = F.silu((window * self.conv1d.weight.squeeze(1)).sum(-1) + cast(torch.Tensor, self.conv1d.bias))
        h, cell = mlstm_step(None if state is None else state[1], *self._qkv_gates(x, x_conv))
        return self._out(h, x_conv, z), (window[..., 1:], cell)


@register_architecture(
    "mlstm",
    presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}},
    width_param="d_model",
    width_multiple=2,
)
def build_mlstm(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    expand: int = 2,
    d_conv: int = 4,
    qkv_block: int = 4,
    mode: Mode = "parallel",
) -> nn.Module:
    """mLSTM (Beck et al. 2024, xLSTM): matrix-memory LSTM blocks with exponential gating, on the shared backbone.

    Pre-LayerNorm residual mLSTM blocks (no MLP: the block up-projects by `expand` itself), final norm,
    head. `heads` split `d_inner = expand * d_model`; q, k, v are block-diagonal projections with blocks of
    `qkv_block`. `mode="parallel"` (default: the faster on CPU, measured at the sizes here) is the
    stabilised quadratic form, `mode="sequential"` the stabilised recurrence (what `step` runs); both give
    the same outputs. State per layer: `heads * (d_head² + d_head + 1)` (C, n, m) plus
    `d_inner * (d_conv - 1)` conv inputs.
    """
    check_sizes("mlstm", d_model=d_model, layers=layers, heads=heads, expand=expand, d_conv=d_conv, qkv_block=qkv_block)
    d_inner = expand * d_model
    require(
        d_inner % heads == 0, f"architecture 'mlstm': expand * d_model = {d_inner} must be divisible by heads={heads}"
    )
    require(
        d_inner % qkv_block == 0,
        f"architecture 'mlstm': expand * d_model = {d_inner} must be divisible by qkv_block={qkv_block}",
    )
    require(mode in MODES, f"architecture 'mlstm': mode must be one of {', '.join(MODES)}; got {mode!r}")
    return Backbone(
        spec, d_model, layers, lambda _layer: MLSTMMixer(d_model, heads, expand, d_conv, qkv_block, mode, layers)
    )
