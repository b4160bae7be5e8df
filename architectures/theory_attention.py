"""One softmax attention layer in the form the theory papers analyse: no MLP, no LayerNorm, no residual.

Sanford, Hsu, Telgarsky 2023 ("Representational Strengths and Limitations of Transformers") prove their
q-sparse-averaging upper bound for a single self-attention unit `f(X) = psi(softmax(phi(X) Q K^T
phi(X)^T) phi(X) V)` with a token-wise input map `phi` and output map `psi`; Wang, Wei, Hsu, Lee 2024
("Transformers Provably Learn Sparse Token Selection While Fully-Connected Nets Cannot") train one
softmax attention layer with a merged key-query matrix `W_KQ` on sparse token selection. `attention1`
is that model, made causal so it satisfies the archbench contract; the multi-layer `transformer` is the
practical counterpart.

Why it is not on the shared backbone (`architectures.backbone`): the backbone wraps every mixer in a
pre-norm residual block and adds a final norm, and the analysed model has exactly none of those (its
output is the read-out of the attention output alone; see the tests). Its attention also differs from
the backbone's attention mixer (no biases, an optional merged `W_KQ`). On the backbone it would stop
being the model the theorems are about.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from bench.contract.errors import require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

PRESETS = {"tiny": {"heads": 1}, "small": {"heads": 1}, "base": {"heads": 1}}


class OneLayerAttention(nn.Module):
    """Embedding, one causal softmax attention layer, linear read-out."""

    state_size = None  # attention keeps every past key and value: no fixed-size state

    def __init__(self, spec: TaskSpec, d_model: int, heads: int, merged_kq: bool) -> None:
        super().__init__()
        self.heads, self.head_dim, self.merged_kq = heads, d_model // heads, merged_kq
        self.embed = input_adapter(spec, d_model)
        query = nn.Linear(d_model, d_model, bias=False)
        key = nn.Linear(d_model, d_model, bias=False)
        if merged_kq:
            # W_KQ[h] = W_Q,h^T W_K,h / sqrt(d_head): the separate form's initial bilinear form, so both
            # parametrisations start from the same distribution of functions.
            wq = query.weight.detach().view(heads, self.head_dim, d_model)
            wk = key.weight.detach().view(heads, self.head_dim, d_model)
            self.W_KQ = nn.Parameter(torch.einsum("hed,hef->hdf", wq, wk) / math.sqrt(self.head_dim))
        else:
            self.query, self.key = query, key
        self.value = nn.Linear(d_model, d_model, bias=False)
        self.head = output_head(spec, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        batch, length, width = h.shape
        v = self.value(h).view(batch, length, self.heads, self.head_dim).transpose(1, 2)  # (B, H, T, d_head)
        if self.merged_kq:
            # score(t, s) = h_t^T W_KQ h_s: "queries" h_t W_KQ (B, H, T, d_model) against the raw tokens
            q = torch.einsum("btd,hdf->bhtf", h, self.W_KQ)
            k = h.unsqueeze(1).expand(batch, self.heads, length, width)
            scale = 1.0
        else:
            q = self.query(h).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
            k = self.key(h).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
            scale = 1.0 / math.sqrt(self.head_dim)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
        return self.head(out.transpose(1, 2).reshape(batch, length, width))


@register_architecture("attention1", presets=PRESETS, width_param="d_model", width_multiple=4)
def build_attention1(
    spec: TaskSpec,
    *,
    d_model: int = 64,
    heads: int = 1,
    merged_kq: bool = False,
) -> nn.Module:
    """One causal softmax attention layer, no MLP / LayerNorm / residual (Sanford 2023; Wang et al. 2024).

    Exact form, with `e_t` the embedded input at position t (token embedding or linear map of the vector)
    and `W_Q, W_K, W_V` bias-free `d_model x d_model` maps split into `heads` heads of `d_head = d_model /
    heads`: `a_h(t, s) = softmax_{s <= t}(<W_Q,h e_t, W_K,h e_s> / sqrt(d_head))`, or with `merged_kq=True`
    the theory papers' single matrix `a_h(t, s) = softmax_{s <= t}(e_t^T W_KQ,h e_s)` (no scaling; `W_KQ,h`
    is a full `d_model x d_model` matrix initialised as `W_Q,h^T W_K,h / sqrt(d_head)`); then
    `y_t = W_out concat_h(sum_{s <= t} a_h(t, s) W_V,h e_s) + b_out`, a linear read-out.
    The softmax runs over `s <= t` only (causal), so every position is a prediction; on a task whose query
    is last (sparse token selection) this is exactly the papers' model read at the query token. As in the
    papers, positions come only from the input (the task's position codes) and the causal mask, so any
    length works; for a positional scheme use `transformer` with `layers=1, mlp=False` and `pos` (which
    keeps LayerNorm and the residual).

    Sizes: the parameter count grows as `3 d_model^2` (`2 d_model^2 + heads d_model^2` merged), so the
    presets match the transformer's count by fitting `d_model` like every other family; a single layer
    therefore becomes wide (about 4x the transformer's `d_model` at `base`), not deep. `state_size` is
    None: the keys and values of every past position are kept.
    """
    check_sizes("attention1", d_model=d_model, heads=heads)
    require(d_model % heads == 0, f"architecture 'attention1': d_model={d_model} must be divisible by heads={heads}")
    return OneLayerAttention(spec, d_model, heads, merged_kq)
