"""The (gated) delta rule as plain-PyTorch ops: a recurrent form, one recurrent step, and a chunked form.

The recurrence (Schlag et al. 2021; with the decay `alpha_t`, Yang, Kautz & Hatamizadeh 2025):

    S_t = alpha_t * S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,    o_t = S_t q_t

with `S_t` a `(d_v, d_k)` matrix per head. The ops store its transpose `(d_k, d_v)` (flash-linear-attention's
layout), so they compute `S_t = alpha_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T` and `o_t = S_t^T q_t`,
the same numbers. `alpha_t` is given in log space (`log_decay`, `<= 0`); `None` is the plain delta rule
(`alpha_t = 1`). Nothing here scales `q` or normalises `q, k`: the mixers do (so a reference that scales
`q` by `d_k ** -0.5` inside is matched by passing it the unscaled `q`).

Why two forms: the recurrent loop touches one `(d_k, d_v)` state per step and needs `T` sequential steps;
the chunked form (Yang et al. 2024, "Parallelizing Linear Transformers with the Delta Rule over Sequence
Length") folds the `C` rank-one updates of a chunk into a few matrix products with the WY / UT transform
(one unit-lower-triangular solve per chunk), so only `T / C` steps are sequential. Both are plain autograd.

Shapes: `q, k` `(B, H, T, d_k)`, `v` `(B, H, T, d_v)`, `beta` and `log_decay` `(B, H, T)`, state `(B, H, d_k, d_v)`.
`beta` may lie anywhere in (0, 2): the transition `I - beta k k^T` (unit `k`) then has the eigenvalue `1 - beta`
in (-1, 1) along `k` (Grazzi et al. 2025), and neither form assumes `beta <= 1`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def l2_normalize(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """`x / sqrt(|x|^2 + eps)` over the last dimension (flash-linear-attention's `l2norm`, so references match)."""
    return x * torch.rsqrt(x.square().sum(-1, keepdim=True) + eps)


def delta_rule_step(
    q_t: torch.Tensor,
    k_t: torch.Tensor,
    v_t: torch.Tensor,
    beta_t: torch.Tensor,
    log_decay_t: torch.Tensor | None,
    state: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One position: `q_t, k_t` `(B, H, d_k)`, `v_t` `(B, H, d_v)`, `beta_t` `(B, H)`; returns `o_t` `(B, H, d_v)`
    and the new state `(B, H, d_k, d_v)` (`None`: a zero state)."""
    if state is None:
        state = q_t.new_zeros(*k_t.shape, v_t.shape[-1])
    if log_decay_t is not None:
        state = state * log_decay_t.exp()[..., None, None]
    # S (I - b k k^T) + b v k^T in the transposed layout: S + k (b (v - S^T k))^T
    correction = beta_t.unsqueeze(-1) * (v_t - (state * k_t.unsqueeze(-1)).sum(-2))
    state = state + k_t.unsqueeze(-1) * correction.unsqueeze(-2)
    return (state * q_t.unsqueeze(-1)).sum(-2), state


def delta_rule_recurrent(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    beta: torch.Tensor,
    log_decay: torch.Tensor | None = None,
    state: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`delta_rule_step` over every position: outputs `(B, H, T, d_v)` and the final state."""
    decays = log_decay.unbind(2) if log_decay is not None else [None] * q.shape[2]
    outputs = []
    # unbind, not indexing: an index's backward writes a full-size zero tensor per step
    for q_t, k_t, v_t, beta_t, decay_t in zip(q.unbind(2), k.unbind(2), v.unbind(2), beta.unbind(2), decays):
        o_t, state = delta_rule_step(q_t, k_t, v_t, beta_t, decay_t, state)
        outputs.append(o_t)
    return torch.stack(outputs, dim=2), state  # type: ignore[return-value]


def delta_rule_chunked(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    beta: torch.Tensor,
    log_decay: torch.Tensor | None = None,
    chunk_size: int = 64,
    state: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same outputs and final state as `delta_rule_recurrent`, chunk by chunk (UT transform).

    Inside a chunk with cumulative log-decay `g_i` (positions `i = 0..C-1`) and the state `S` it starts from:
    `A_ij = beta_i k_i.k_j exp(g_i - g_j)` for `j < i` (else 0); `T = (I + A)^{-1}` (a unit-lower-triangular
    solve); `U = T (beta v)`, `W = T (beta k exp(g))` are the chunk's pseudo-values and keys. Then the new
    values `U - W S`, the outputs `exp(g) q S + tril(q k^T exp(g_i - g_j)) (U - W S)` and the next state
    `exp(g_C) S + (k exp(g_C - g))^T (U - W S)`. Every exponent used is `<= 0`, so nothing overflows.
    The length is padded to a multiple of `chunk_size` with `k = v = beta = 0` (no update) and cut back.
    """
    batch, heads, length, d_k = k.shape
    d_v = v.shape[-1]
    pad = (-length) % chunk_size
    if log_decay is None:
        log_decay = beta.new_zeros(())
    log_decay = log_decay.expand_as(beta)
    if pad:
        q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
        beta, log_decay = F.pad(beta, (0, pad)), F.pad(log_decay, (0, pad))
    chunks = (length + pad) // chunk_size

    def split(x: torch.Tensor) -> torch.Tensor:  # (B, H, T, ...) -> (B, H, N, C, ...)
        return x.unflatten(2, (chunks, chunk_size))

    q, k, v, beta, g = split(q), split(k), split(v), split(beta), split(log_decay).cumsum(-1)
    lower = torch.ones(chunk_size, chunk_size, dtype=torch.bool, device=q.device).tril()
    pair = (g.unsqueeze(-1) - g.unsqueeze(-2)).masked_fill(~lower, float("-inf")).exp()  # exp(g_i - g_j), j <= i
    k_beta = k * beta.unsqueeze(-1)
    system = (k_beta @ k.transpose(-1, -2) * pair).tril(-1) + torch.eye(chunk_size, dtype=q.dtype, device=q.device)
    u = torch.linalg.solve_triangular(system, v * beta.unsqueeze(-1), upper=False, unitriangular=True)
    w = torch.linalg.solve_triangular(system, k_beta * g.exp().unsqueeze(-1), upper=False, unitriangular=True)
    inner = q @ k.transpose(-1, -2) * pair  # the within-chunk attention, causal by `pair`
    q_decayed = q * g.exp().unsqueeze(-1)
    g_last = g[..., -1:]
    k_to_end = k * (g_last - g).exp().unsqueeze(-1)
    chunk_decay = g_last.exp().unsqueeze(-1)  # (B, H, N, 1, 1)
    if state is None:
        state = q.new_zeros(batch, heads, d_k, d_v)
    outputs = []
    for u_n, w_n, inner_n, q_n, k_n, decay_n in zip(
        u.unbind(2), w.unbind(2), inner.unbind(2), q_decayed.unbind(2), k_to_end.unbind(2), chunk_decay.unbind(2)
    ):
        new_v = u_n - w_n @ state
        outputs.append(q_n @ state + inner_n @ new_v)
        state = state * decay_n + k_n.transpose(-1, -2) @ new_v
    out = torch.stack(outputs, dim=2).flatten(2, 3)
    return (out[:, :, :length] if pad else out), state
