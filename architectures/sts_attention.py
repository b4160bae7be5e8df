"""`sts_attention`: the one-layer transformer of Wang, Wei, Hsu, Lee 2024 in the paper's own form.

Wang, Wei, Hsu, Lee 2024 (ICML), "Transformers Provably Learn Sparse Token Selection While Fully-Connected
Nets Cannot" (arXiv 2406.06893) train one softmax attention layer on sparse token selection STS_q: the
attention scores come from one trainable matrix acting on the position codes of the query and of the data
tokens, the values read the data part, and gradient descent alone finds the solution (the score matrix
turns towards the identity, the "ground-truth direction"). What the paper fixes and what this module had
to choose is written out in docs/seed-paper.md ("What the paper fixes, what we assumed").

Why not `attention1`: `attention1` is the generic one-layer attention. It learns an input map, queries,
keys, values and a read-out from scratch, so it must first discover which input columns are codes and
which are data; that is a different optimisation problem from the one the paper analyses (docs/seed-paper.md
puts the two side by side). This family has none of those maps: it reads the task's input
*layout* (`TaskSpec.layout == "sts"`: every position is [data (d) | position code (k) | query flag (1)])
by column, which is why it is registered with `layout="sts"` and refused on every other task at planning
time (`bench.run.admission`).

Why not on the shared backbone: the backbone adds embeddings, norms, residual blocks and a head; the
paper's model is the attention read-out alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench.contract.errors import ArchbenchError, require
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec

LAYOUT = "sts"
# The family's size is set by the task (k^2 for code dimension k), not by a preset: nothing to fit.
PRESETS: dict[str, dict[str, float]] = {"tiny": {}, "small": {}, "base": {}}


class STSAttention(nn.Module):
    """`y_t = sum_{s <= t, s a data token} softmax_s(c_t^T W c_s) v_s` with the data part `v` as the values."""

    state_size = None  # attention keeps every past code and value: no fixed-size state

    def __init__(self, data_dim: int, code_dim: int, init_std: float) -> None:
        super().__init__()
        self.data_dim, self.code_dim = data_dim, code_dim
        self.W = nn.Parameter(torch.empty(code_dim, code_dim))
        with torch.no_grad():
            self.W.normal_(0.0, init_std) if init_std > 0 else self.W.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        if width != self.data_dim + self.code_dim + 1:
            raise ArchbenchError(
                f"architecture 'sts_attention' was built for {self.data_dim + self.code_dim + 1} input features "
                f"(data {self.data_dim}, code {self.code_dim}, flag 1); got {width}"
            )
        values = x[..., : self.data_dim]
        codes = x[..., self.data_dim : self.data_dim + self.code_dim]
        is_data = x[..., -1] < 0.5  # the query token carries flag 1, data tokens 0
        scores = (codes @ self.W) @ codes.transpose(1, 2)  # (B, T, T): c_t^T W c_s
        causal = torch.ones(length, length, dtype=torch.bool, device=x.device).tril()
        allowed = causal & is_data.unsqueeze(1)  # key s: earlier or equal position, and a data token
        has_key = allowed.any(-1, keepdim=True)  # a leading query token has no data key to read
        # such a row attends to itself only to stay finite; its output is then set to zero
        own = torch.eye(length, dtype=torch.bool, device=x.device)
        allowed = allowed | (~has_key & own)
        weights = scores.masked_fill(~allowed, -math.inf).softmax(-1)
        return (weights @ values) * has_key

    def diagnostics(self) -> dict[str, float]:
        """The paper's convergence measure: the cosine between W and the ground-truth direction I (the
        solution of STS_q with orthogonal codes is W = gamma * I, gamma -> infinity), plus the scale."""
        w = self.W.detach()
        norm = float(w.norm())
        trace = float(torch.diagonal(w).sum())
        return {
            "alignment": trace / (norm * math.sqrt(self.code_dim)) if norm > 0 else 0.0,
            "w_norm": norm,
            "w_scale": trace / self.code_dim,  # gamma of the projection of W on the I direction
        }


@register_architecture("sts_attention", presets=PRESETS, layout=LAYOUT)
def build_sts_attention(spec: TaskSpec, *, init_std: float = 0.02) -> nn.Module:
    """One softmax attention layer in the form of Wang, Wei, Hsu, Lee 2024 (sparse token selection only).

    Exact form, for the task layout "sts" (every position `[v_t | c_t | f_t]`: data `v_t` of the task's
    output size d, position code `c_t` of size k = input_dim - d - 1, query flag `f_t`):
    `y_t = sum_{s <= t, f_s = 0} softmax_s(c_t^T W c_s) v_s`, read at the query (the last position). `W`
    (k x k) is the only parameter; the values are fixed to the data part (V = [I_d 0 0]), with no input
    map, norm, residual or read-out. The query attends to the data tokens only. Initialisation
    `W_ij ~ N(0, init_std^2)`; `init_std=0` starts from W = 0 (uniform attention). `diagnostics()`
    reports the cosine of W with the identity (the ground-truth direction) at every validation.

    Size: k^2 parameters (4,096 at the task's default code_dim 64); the paper's width is the token
    width m = d + k + 1, set by the task's `code_dim` (search it with `archbench width-complexity --axis
    task.code_dim`). Any length runs (the codes carry the positions); `state_size` is None.
    """
    require(init_std >= 0, f"architecture 'sts_attention': init_std must be >= 0; got {init_std}")
    code_dim = (spec.input_dim or 0) - spec.output_size - 1
    if spec.input_kind != "vectors" or spec.output_kind != "vector" or code_dim < 1:
        raise ArchbenchError(
            "architecture 'sts_attention' reads vector inputs [data (output size) | position code | query flag]; "
            f"got {spec.input_kind} -> {spec.output_kind} with input_dim {spec.input_dim}"
        )
    return STSAttention(spec.output_size, code_dim, init_std)
