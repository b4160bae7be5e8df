"""RWKV-7 "Goose" (Peng et al. 2025, "RWKV-7 'Goose' with Expressive Dynamic State Evolution").

Each RWKV-7 layer is a time mix (the recurrence) and a channel mix (the feed-forward), each a pre-norm
residual branch with token shift. Here a layer is two backbone blocks: block 2i's mixer is `TimeMix`,
block 2i+1's is `ChannelMix` (no separate MLP), which reproduces RWKV's `x + tmix(ln1(x))`,
`x + cmix(ln2(x))` exactly on the shared backbone.

Time mix, per head (size N), with row vectors as in the paper and the state `S` of shape `(N_v, N_k)`:

    S_t = S_{t-1} (diag(w_t) - kappa_t^T (a_t * kappa_t)) + v_t^T k_t,        o_t = S_t r_t^T

the *generalized delta rule*: `w_t = exp(-e^{-1/2} sigmoid(w0 + tanh(x W1) W2))` in (0.545, 1) is a
vector-valued decay, `a_t = sigmoid(a0 + x A1 A2)` the vector-valued in-context learning rate,
`kappa_t` the L2-normalised (per head) "removal key" `k * k_k`, and the replacement key
`k_t <- k_t * (1 + (a_t - 1) k_a)`. Then a per-head GroupNorm, the bonus `(r . (k * r_k)) v`, a gate
`g = sigmoid(x G1) G2`, and the output projection. Every projection reads its own token-shift mix
`x + (x_{t-1} - x) * mu`. Layers after the first mix their value toward the first layer's
("value residual"): `v <- v + (v_first - v) sigmoid(v0 + x V1 V2)`; `value_residual=False` drops it.

Channel mix: `W_v relu(W_k (x + (x_{t-1} - x) mu_k))^2`.

Two forms of the recurrence: `mode="chunk"` (default; `generalized_delta_rule_chunked`: a triangular
solve per chunk of 16 positions, a Python step per chunk) and `mode="recurrent"` (one Python step per
position, the form `step` uses). They agree to float rounding; on one CPU thread the chunked form
trained 2-3x faster at the benchmark's sizes (measured).

Initialisation follows the official `train_temp` code (token-shift ratios, decay and in-context-rate
offsets, `k_k = 0.71 - 0.1 linear`, `k_a = 1.02`, `r_k = -0.04`) except that the low-rank factors and
output projections the official code zero-initialises start small and random here, so that every
parameter receives a gradient from the first step (the architecture contract checks it).
"""

from __future__ import annotations

import math
from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from architectures.backbone import Backbone
from architectures.base import check_sizes
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

Mode = Literal["chunk", "recurrent"]
MODES = ("chunk", "recurrent")
CHUNK = 16  # positions per chunk of the chunked form
DECAY_SCALE = math.exp(-0.5)  # w = exp(-e^{-1/2} sigmoid(.)): the official soft clamp of log-decay to (-e^{-1/2}, 0)


def lora_rank(d_model: int, factor: float, power: float) -> int:
    """The official low-rank sizes: `max(32, round(factor * C^power / 32) * 32)`."""
    return max(32, round(factor * d_model**power / 32) * 32)


def generalized_delta_step(
    S: torch.Tensor,
    r: torch.Tensor,
    w: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kappa: torch.Tensor,
    a: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of `S <- S (diag(w) - kappa^T (a kappa)) + v^T k`, `o = S r^T`, batched over `(B, H)`.

    `S` `(B, H, N_v, N_k)`; `r, w, k, kappa, a` `(B, H, N_k)`; `v` `(B, H, N_v)`. Written as
    `S w + (S kappa^T)(-(a kappa)) + v^T k` so no `N_k x N_k` matrix is formed.
    """
    removed = (S @ kappa.unsqueeze(-1)) * (a * kappa).unsqueeze(-2)  # (S kappa^T)(a kappa): (B, H, N_v, N_k)
    S = S * w.unsqueeze(-2) - removed + v.unsqueeze(-1) * k.unsqueeze(-2)
    return S, (S @ r.unsqueeze(-1)).squeeze(-1)


def generalized_delta_rule(
    r: torch.Tensor,
    w: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kappa: torch.Tensor,
    a: torch.Tensor,
    S: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The recurrence over a sequence: inputs `(B, T, H, N)`, outputs `(B, T, H, N_v)` and the last state."""
    if S is None:
        S = v.new_zeros(v.shape[0], v.shape[2], v.shape[3], k.shape[3])
    outputs = []
    for r_t, w_t, k_t, v_t, kappa_t, a_t in zip(*(x.unbind(1) for x in (r, w, k, v, kappa, a))):
        S, o_t = generalized_delta_step(S, r_t, w_t, k_t, v_t, kappa_t, a_t)
        outputs.append(o_t)
    return torch.stack(outputs, dim=1), S


def generalized_delta_rule_chunked(
    r: torch.Tensor,
    w: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kappa: torch.Tensor,
    a: torch.Tensor,
    chunk: int = 16,
) -> torch.Tensor:
    """The same outputs as `generalized_delta_rule` with `chunk` positions at a time (inputs `(B, T, H, N)`).

    Within a chunk, with `G_t` the cumulative log-decay since the chunk start, `beta_t = -(a_t kappa_t)`,
    the incoming state `S_0`, and `u_s = S_{s-1} kappa_s^T` (the part the delta rule removes):

        S_t = S_0 diag(e^{G_t}) + sum_{s<=t} (u_s beta_s^T + v_s k_s^T) diag(e^{G_t - G_s})
        u_s = S_0 (e^{G_{s-1}} kappa_s) + sum_{j<s} u_j [beta_j . e^{G_{s-1} - G_j} kappa_s]
                                        + v_j [k_j . e^{G_{s-1} - G_j} kappa_s]

    so the `u`s solve one unit lower-triangular system `(I - P) U = K0 S_0^T + Q V` per chunk (`K0` has rows
    `e^{G_{s-1}} kappa_s`), and the outputs and the next state are matrix products. Everything but the
    `S_0` terms is computed for every chunk at once; the loop over chunks carries `S` only. The pairwise
    decays are factored as `e^{G_s} e^{-G_j}`, which needs `w^-chunk` to stay finite: the time mix's decays
    are at least exp(-e^{-1/2}) ~ 0.545, so chunk 16 keeps every factor below 2e4.
    """
    batch, length, heads, n = k.shape
    pad = (-length) % chunk
    if pad:  # padded positions: no decay, nothing written, nothing read (they come after every real one)
        r, k, v, kappa, a = (F.pad(x, (0, 0, 0, 0, 0, pad)) for x in (r, k, v, kappa, a))
        w = F.pad(w, (0, 0, 0, 0, 0, pad), value=1.0)
    chunks = (length + pad) // chunk

    def blocks(x: torch.Tensor) -> torch.Tensor:  # (B, T, H, N) -> (B, H, chunks, C, N)
        return x.transpose(1, 2).unflatten(2, (chunks, chunk))

    r, w, k, v, kappa, a = (blocks(x) for x in (r, w, k, v, kappa, a))
    beta = -(a * kappa)
    log_w = torch.log(w)
    g = log_w.cumsum(-2)  # G_t, t = 1..C within each chunk
    g_prev = g - log_w  # G_{t-1}
    # e^{G_{s-1} - G_j} = e^{G_{s-1}} e^{-G_j}: two factors instead of a (C, C, N) tensor. Safe because the
    # time mix bounds every decay below by exp(-e^{-1/2}) ~ 0.545, so e^{-G} <= 0.545^-C (1.7e4 at C = 16)
    kappa_prev, r_now = torch.exp(g_prev) * kappa, torch.exp(g) * r
    beta_inv, k_inv = beta * torch.exp(-g), k * torch.exp(-g)
    strict = torch.ones(chunk, chunk, dtype=torch.bool, device=k.device).tril(-1)
    inclusive = torch.ones(chunk, chunk, dtype=torch.bool, device=k.device).tril()
    P = (kappa_prev @ beta_inv.transpose(-1, -2)) * strict
    Q = (kappa_prev @ k_inv.transpose(-1, -2)) * strict
    R_beta = (r_now @ beta_inv.transpose(-1, -2)) * inclusive
    R_k = (r_now @ k_inv.transpose(-1, -2)) * inclusive
    eye = torch.eye(chunk, dtype=P.dtype, device=P.device)
    solve = torch.linalg.solve_triangular(
        eye - P, torch.cat([kappa_prev, Q @ v], dim=-1), upper=False, unitriangular=True
    )
    U_state, U_value = solve.split([n, v.shape[-1]], dim=-1)  # U = U_state S_0^T + U_value
    end = g[..., -1:, :]  # G_C
    beta_end, k_end = beta * torch.exp(end - g), k * torch.exp(end - g)  # decayed to the chunk's end
    S = v.new_zeros(batch, heads, v.shape[-1], n)
    outputs = []
    for c in range(chunks):
        U = U_state[:, :, c] @ S.transpose(-1, -2) + U_value[:, :, c]  # (B, H, C, N_v)
        outputs.append(r_now[:, :, c] @ S.transpose(-1, -2) + R_beta[:, :, c] @ U + R_k[:, :, c] @ v[:, :, c])
        S = (
            S * torch.exp(end[:, :, c])
            + U.transpose(-1, -2) @ beta_end[:, :, c]
            + v[:, :, c].transpose(-1, -2) @ k_end[:, :, c]
        )
    out = torch.stack(outputs, dim=2).flatten(2, 3)[:, :, :length]  # (B, H, T, N_v)
    return out.transpose(1, 2)


class ValueResidual:
    """The first layer's value, shared with the later layers of one model (a plain holder, not a module).

    The backbone runs its blocks in order, in `forward` and in `recurrent_forward` alike, so layer 0 has
    always written the value of the same positions before a later layer reads it.
    """

    def __init__(self) -> None:
        self.value: torch.Tensor | None = None


def shift_ratios(d_model: int, layer: int, layers: int) -> tuple[torch.Tensor, float, float]:
    """The official init's `ddd = i / C`, `ratio_0_to_1`, `ratio_1_to_almost0`."""
    ddd = torch.arange(d_model, dtype=torch.float32) / d_model
    return ddd, layer / max(layers - 1, 1), 1.0 - layer / layers


class TimeMix(nn.Module):
    """RWKV-7's time mix for one layer (the generalized delta rule, recurrent form)."""

    def __init__(
        self,
        d_model: int,
        heads: int,
        layer: int,
        layers: int,
        shared: ValueResidual | None,
        mode: str = "chunk",
        chunk: int = CHUNK,
    ) -> None:
        super().__init__()
        self.d_model, self.heads, self.head_dim, self.layer = d_model, heads, d_model // heads, layer
        self.mode, self.chunk = mode, chunk
        self.shared = shared
        C, N = d_model, d_model // heads
        self.mu = nn.Parameter(torch.empty(6, C))  # token-shift mixes for r, w, k, v, a, g
        self.receptance = nn.Linear(C, C, bias=False)
        self.key = nn.Linear(C, C, bias=False)
        self.value = nn.Linear(C, C, bias=False)
        self.output = nn.Linear(C, C, bias=False)
        ranks = {
            "w": lora_rank(C, 1.8, 0.5),
            "a": lora_rank(C, 1.8, 0.5),
            "v": lora_rank(C, 1.3, 0.5),
            "g": lora_rank(C, 0.6, 0.8),
        }
        names = ["w", "a", "g"] + (["v"] if layer > 0 and shared is not None else [])
        self.down = nn.ModuleDict({n: nn.Linear(C, ranks[n], bias=False) for n in names})
        self.up = nn.ModuleDict({n: nn.Linear(ranks[n], C, bias=False) for n in names})
        self.w0, self.a0 = nn.Parameter(torch.empty(C)), nn.Parameter(torch.empty(C))
        self.v0 = nn.Parameter(torch.empty(C)) if "v" in names else None
        self.k_k, self.k_a = nn.Parameter(torch.empty(C)), nn.Parameter(torch.empty(C))
        self.r_k = nn.Parameter(torch.empty(heads, N))
        self.ln_x = nn.GroupNorm(heads, C, eps=N * 1e-5)
        self._init(layers)

    @torch.no_grad()
    def _init(self, layers: int) -> None:
        C, N = self.d_model, self.head_dim
        ddd, ratio_0_to_1, ratio_1_to_almost0 = shift_ratios(C, self.layer, layers)
        ddd = ddd.to(self.mu.device)
        for i, power in enumerate((0.2, 0.9, 0.7, 0.7, 0.9, 0.2)):  # r, w, k, v, a, g
            self.mu[i].copy_(1.0 - ddd.pow(power * ratio_1_to_almost0))
        n = torch.arange(C, dtype=torch.float32, device=self.mu.device)
        linear = n / max(C - 1, 1) - 0.5
        zigzag = ((n % N) - (N - 1) / 2) / max((N - 1) / 2, 1e-9)
        zigzag = zigzag * zigzag.abs()
        www = -6 + 6 * (n / max(C - 1, 1)) ** (1 + ratio_0_to_1**0.3)
        self.w0.copy_(www + 0.5 + zigzag * 2.5)
        self.a0.copy_(-0.19 + zigzag * 0.3 + linear * 0.4)
        if self.v0 is not None:
            self.v0.copy_(0.73 - linear * 0.4)
        self.k_k.copy_(0.71 - linear * 0.1)
        self.k_a.fill_(1.02)
        self.r_k.fill_(-0.04)
        for name in self.down:
            nn.init.normal_(cast(nn.Linear, self.down[name]).weight, std=0.1 / math.sqrt(C))
            nn.init.orthogonal_(cast(nn.Linear, self.up[name]).weight, gain=0.1)

    @property
    def state_size(self) -> int:
        # per head the N x N matrix state, plus the previous position's input (one d_model token-shift vector)
        return self.heads * self.head_dim * self.head_dim + self.d_model

    def _lora(self, name: str, x: torch.Tensor, inner: Any = None) -> torch.Tensor:
        h = self.down[name](x)
        return self.up[name](inner(h) if inner is not None else h)

    def _mix(self, x: torch.Tensor, previous: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Projections of one or many positions (`x` and `previous` of the same shape `(..., C)`)."""
        delta = previous - x
        xr, xw, xk, xv, xa, xg = (x + delta * self.mu[i] for i in range(6))
        r, k, v = self.receptance(xr), self.key(xk), self.value(xv)
        w = torch.exp(-DECAY_SCALE * torch.sigmoid(self.w0 + self._lora("w", xw, torch.tanh)))
        a = torch.sigmoid(self.a0 + self._lora("a", xa))
        g = self.up["g"](torch.sigmoid(self.down["g"](xg)))
        if self.shared is not None:
            if self.layer == 0:
                self.shared.value = v
            else:
                first = self.shared.value
                require(
                    first is not None and first.shape == v.shape,
                    "rwkv7: the first layer's value is missing (layers must run in order)",
                )
                v = v + (first - v) * torch.sigmoid(self.v0 + self._lora("v", xv))  # type: ignore[operator]
        heads = (*x.shape[:-1], self.heads, self.head_dim)
        kappa = F.normalize((k * self.k_k).view(heads), dim=-1)
        k = k * (1 + (a - 1) * self.k_a)
        return r.view(heads), w.view(heads), k.view(heads), v.view(heads), kappa, a.view(heads), g

    def _read_out(
        self, o: torch.Tensor, r: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor
    ) -> torch.Tensor:
        """GroupNorm per head, the bonus `(r . (k r_k)) v`, gate, output projection; inputs `(..., H, N)`."""
        shape = o.shape[:-2]
        normed = self.ln_x(o.reshape(-1, self.d_model)).view(o.shape)
        bonus = (r * k * self.r_k).sum(-1, keepdim=True) * v
        return self.output((normed + bonus).reshape(*shape, self.d_model) * g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        previous = F.pad(x, (0, 0, 1, -1))  # x_{t-1}, zeros before the first position
        r, w, k, v, kappa, a, g = self._mix(x, previous)
        if self.mode == "chunk":
            o = generalized_delta_rule_chunked(r, w, k, v, kappa, a, self.chunk)
        else:
            o, _ = generalized_delta_rule(r, w, k, v, kappa, a)
        return self._read_out(o, r, k, v, g)

    def step(
        self, x_t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        if state is None:
            state = (x_t.new_zeros(x_t.shape[0], self.heads, self.head_dim, self.head_dim), torch.zeros_like(x_t))
        S, previous = state
        r, w, k, v, kappa, a, g = self._mix(x_t, previous)
        S, o = generalized_delta_step(S, r, w, k, v, kappa, a)
        return self._read_out(o, r, k, v, g), (S, x_t)


class ChannelMix(nn.Module):
    """RWKV's channel mix: `W_v relu(W_k (x + (x_{t-1} - x) mu_k))^2`, hidden width `ratio * C`."""

    def __init__(self, d_model: int, layer: int, layers: int, ratio: float = 4.0) -> None:
        super().__init__()
        self.d_model = d_model
        hidden = max(1, round(ratio * d_model))
        self.mu_k = nn.Parameter(torch.empty(d_model))
        self.key = nn.Linear(d_model, hidden, bias=False)
        self.value = nn.Linear(hidden, d_model, bias=False)
        with torch.no_grad():
            ddd, _, ratio_1_to_almost0 = shift_ratios(d_model, layer, layers)
            self.mu_k.copy_(1.0 - ddd.to(self.mu_k.device).pow(ratio_1_to_almost0**4))

    @property
    def state_size(self) -> int:
        return self.d_model  # the previous position's input (token shift)

    def _ffn(self, x: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        return self.value(torch.relu(self.key(x + (previous - x) * self.mu_k)).square())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._ffn(x, F.pad(x, (0, 0, 1, -1)))

    def step(self, x_t: torch.Tensor, previous: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        return self._ffn(x_t, torch.zeros_like(x_t) if previous is None else previous), x_t


@register_architecture(
    "rwkv7",
    presets={  # two heads at every preset: heads of 13-60 channels, as near the paper's 64 as these widths allow
        "tiny": {"layers": 1, "heads": 2},
        "small": {"layers": 2, "heads": 2},
        "base": {"layers": 4, "heads": 2},
    },
    width_param="d_model",
    width_multiple=2,  # steps of 4 channels change the size by ~20% at tiny (the low-rank factors are >= 32 wide)
)
def build_rwkv7(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 2,
    ffn_ratio: float = 4.0,
    value_residual: bool = True,
    mode: Mode = "chunk",
    dropout: float = 0.0,
) -> nn.Module:
    """RWKV-7 (Peng et al. 2025): the generalized delta rule with vector decay and in-context learning rate.

    `layers` RWKV-7 layers, each a time mix and a channel mix (two backbone blocks, LayerNorm, no extra
    MLP); `heads` heads of size `d_model / heads`; `ffn_ratio`: the channel mix's hidden width over
    `d_model` (4 in the paper); `value_residual`: later layers mix in the first layer's value (as the
    paper); `mode`: `chunk` (default, faster) or `recurrent` computes the time mix in `forward` (equal
    outputs). Low-rank sizes follow the official formulas (at least 32). State per layer: `heads * (d_model / heads)^2` for the matrix states
    plus `2 * d_model` for the two token-shift vectors (time mix and channel mix).
    """
    check_sizes("rwkv7", d_model=d_model, layers=layers, heads=heads)
    require(d_model % heads == 0, f"architecture 'rwkv7': d_model={d_model} must be divisible by heads={heads}")
    require(ffn_ratio > 0, f"architecture 'rwkv7': ffn_ratio must be > 0; got {ffn_ratio!r}")
    require(
        isinstance(value_residual, bool),
        f"architecture 'rwkv7': value_residual must be true or false; got {value_residual!r}",
    )
    require(mode in MODES, f"architecture 'rwkv7': mode must be one of {', '.join(MODES)}; got {mode!r}")
    require(0.0 <= dropout < 1.0, f"architecture 'rwkv7': dropout must be in [0, 1); got {dropout!r}")
    shared = ValueResidual() if value_residual else None

    def mixer(block: int) -> nn.Module:
        layer = block // 2
        return (
            TimeMix(d_model, heads, layer, layers, shared, mode)
            if block % 2 == 0
            else ChannelMix(d_model, layer, layers, ffn_ratio)
        )

    return Backbone(spec, d_model, 2 * layers, mixer, dropout=dropout)
