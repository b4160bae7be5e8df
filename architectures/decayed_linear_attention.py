"""Linear attention with a decay along the key dimension, as plain-PyTorch ops (used by `gla` and `retnet`).

Per head, with `S_t` a `(d_k, d_v)` matrix and `a_t` a decay vector over the key dimension:

    S_t = diag(a_t) S_{t-1} + k_t v_t^T,    o_t = S_t^T q_t

Gated Linear Attention (Yang et al. 2024) has a data-dependent `a_t` per key feature; RetNet's retention
(Sun et al. 2023) a fixed scalar `gamma` per head (`a_t = gamma 1`); both are this op. Decays are given in log
space, `log_decay` `(B, H, T, d_k)`, or `(B, H, T, 1)` / `(1, H, 1, 1)` for one per head (it broadcasts).
Nothing here scales `q`: the mixers do.

Three forms with the same outputs: `recurrent` (one `(d_k, d_v)` state, `T` sequential steps), `chunked`
(Yang et al. 2024's chunkwise form: the state is carried only across chunks, within a chunk the
contributions are an attention matrix) and, for a decay that is one number per head and fixed,
`retention_parallel` (RetNet's parallel form, the full `T x T` decay mask `D_nm = gamma^(n-m)`).
Shapes: `q, k` `(B, H, T, d_k)`, `v` `(B, H, T, d_v)`, state `(B, H, d_k, d_v)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def decayed_step(
    q_t: torch.Tensor, k_t: torch.Tensor, v_t: torch.Tensor, log_decay_t: torch.Tensor, state: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """One position: `q_t, k_t` `(B, H, d_k)`, `v_t` `(B, H, d_v)`, `log_decay_t` `(B, H, d_k)` or broadcastable;
    returns `o_t` `(B, H, d_v)` and the new state (`None`: a zero state)."""
    update = k_t.unsqueeze(-1) * v_t.unsqueeze(-2)
    state = update if state is None else torch.addcmul(update, log_decay_t.exp().unsqueeze(-1), state)
    return (state * q_t.unsqueeze(-1)).sum(-2), state


def decayed_recurrent(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, log_decay: torch.Tensor, state: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`decayed_step` over every position: outputs `(B, H, T, d_v)` and the final state."""
    log_decay = log_decay.expand(*q.shape[:3], log_decay.shape[-1])
    outputs = []
    for q_t, k_t, v_t, g_t in zip(q.unbind(2), k.unbind(2), v.unbind(2), log_decay.unbind(2)):
        o_t, state = decayed_step(q_t, k_t, v_t, g_t, state)
        outputs.append(o_t)
    return torch.stack(outputs, dim=2), state  # type: ignore[return-value]


def decayed_chunked(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    log_decay: torch.Tensor,
    chunk_size: int = 16,
    state: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same outputs and final state as `decayed_recurrent`, chunk by chunk.

    With `G_i` the cumulative log-decay inside a chunk (per key feature) and `S` the state it starts from:
    `o_i = (q_i exp(G_i))^T S + sum_{j <= i} (sum_d q_id k_jd exp(G_id - G_jd)) v_j` and the next state
    `exp(G_C) S + sum_j (k_j exp(G_C - G_j)) v_j^T`. The within-chunk weights are formed pairwise, so every
    exponent is `<= 0` (the `q exp(G)`, `k exp(-G)` factorisation overflows under strong decay); that
    costs a `(C, C, d_k)` tensor per chunk, which is why chunks stay short. The length is padded to a
    multiple of `chunk_size` with zeros (no update, no decay) and cut back.
    """
    batch, heads, length, d_k = q.shape
    d_v = v.shape[-1]
    log_decay = log_decay.expand(batch, heads, length, log_decay.shape[-1])
    pad = (-length) % chunk_size
    if pad:
        q, k, v, log_decay = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v, log_decay))
    chunks = (length + pad) // chunk_size
    q, k, v, g = (x.unflatten(2, (chunks, chunk_size)) for x in (q, k, v, log_decay))  # (B, H, N, C, .)
    g = g.cumsum(3)
    lower = torch.ones(chunk_size, chunk_size, dtype=torch.bool, device=q.device).tril()
    pair = (g.unsqueeze(4) - g.unsqueeze(3)).masked_fill(~lower.unsqueeze(-1), float("-inf")).exp()  # (B,H,N,C,C,dk|1)
    if pair.shape[-1] == 1:  # one decay per head: the weights factor out of the key sum
        inner = (q @ k.transpose(-1, -2)) * pair.squeeze(-1)
    else:
        inner = torch.einsum("bhnid,bhnjd,bhnijd->bhnij", q, k, pair)
    q_decayed = q * g.exp()
    g_last = g[:, :, :, -1:]  # (B, H, N, 1, dk|1)
    k_to_end = k * (g_last - g).exp()
    chunk_decay = g_last.exp().transpose(-1, -2)  # (B, H, N, dk|1, 1): scales the state's rows
    if state is None:
        state = q.new_zeros(batch, heads, d_k, d_v)
    outputs = []
    for q_n, inner_n, v_n, k_n, decay_n in zip(
        q_decayed.unbind(2), inner.unbind(2), v.unbind(2), k_to_end.unbind(2), chunk_decay.unbind(2)
    ):
        outputs.append(q_n @ state + inner_n @ v_n)
        state = decay_n * state + k_n.transpose(-1, -2) @ v_n
    out = torch.stack(outputs, dim=2).flatten(2, 3)
    return (out[:, :, :length] if pad else out), state


def retention_parallel(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, log_gamma: torch.Tensor) -> torch.Tensor:
    """RetNet's parallel form `(q k^T * D) v` with `D_nm = gamma^(n - m)` for `n >= m`, else 0; `log_gamma` `(H,)`."""
    length = q.shape[2]
    position = torch.arange(length, device=q.device)
    distance = (position.view(-1, 1) - position.view(1, -1)).to(q.dtype)  # n - m
    exponent = (distance * log_gamma.view(-1, 1, 1)).masked_fill(distance < 0, float("-inf"))
    return (q @ k.transpose(-1, -2) * exponent.exp()) @ v
