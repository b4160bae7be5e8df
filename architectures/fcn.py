"""Fully connected network on the flattened sequence, made causal with MADE-style autoregressive masks.

Every unit of the network is assigned a position: input feature `i` of the flattened `(T * embed_dim)`
vector sits at position `i // embed_dim`; hidden unit `j` of a layer of width `hidden` sits at position
`floor(j * T / hidden)` (spread evenly over the sequence; with `hidden < T` some positions own no unit of
that layer and their outputs read only earlier positions' units); output feature `i` of the last layer, reshaped
to `(T, embed_dim)`, sits at position `i // embed_dim`. A weight from a unit at position `p` to a unit at
position `q` exists only when `p <= q`, so the output at position t is a function of inputs `<= t`
(Germain et al. 2015, MADE, with "<=" because a position's output may read its own input).

Only the allowed weights are parameters (stored packed, scattered into the dense matrix in forward), so
`num_parameters` counts what the model can actually learn.

Why it is not on the shared backbone (`architectures.backbone`): a backbone layer maps `(B, T, d_model)`
to itself position by position, with a residual stream per position; this network has no per-position
stream at all. Its hidden layers are units of the whole flattened sequence (a unit belongs to a
position only through its mask), the widths change from layer to layer, and it takes one fixed length.
Forcing it into blocks would make it a different (and no longer "fully connected") model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from architectures.base import check_sizes, input_adapter, output_head
from bench.contract.errors import ArchbenchError
from bench.contract.registry import register_architecture
from bench.contract.spec import TaskSpec


def unit_positions(units: int, length: int) -> torch.Tensor:
    """Spread `units` hidden units evenly over `length` positions (non-decreasing, first 0, last <= T-1)."""
    return torch.arange(units, device="cpu") * length // units


def block_positions(length: int, width: int) -> torch.Tensor:
    """Positions of a flattened `(length, width)` block: `[0]*width + [1]*width + ...`."""
    return torch.arange(length, device="cpu").repeat_interleave(width)


class MaskedLinear(nn.Module):
    """Linear map keeping only the weights from inputs at position <= the output's position.

    Input positions are non-decreasing, so each output row keeps a prefix of the inputs: row r keeps the
    first `counts[r]` of them. The kept weights live in one packed parameter vector; `index` (a buffer)
    says where they go in the dense `(out, in)` matrix. Initialisation is PyTorch's default uniform bound
    with each row's fan-in counted over its kept inputs only.
    """

    index: torch.Tensor  # buffer: where each packed weight goes in the dense matrix

    def __init__(self, in_pos: torch.Tensor, out_pos: torch.Tensor) -> None:
        super().__init__()
        self.in_features, self.out_features = len(in_pos), len(out_pos)
        counts = torch.searchsorted(in_pos, out_pos, right=True)  # kept inputs per output row (CPU)
        total = int(counts.sum())
        fan_in = counts.clamp(min=1).to(torch.float32)
        if torch.empty(()).device.type == "meta":  # counting parameters only (bench.run.presets): skip the index
            index, bound = torch.empty(total, dtype=torch.long), torch.empty(total)
        else:
            rows = torch.repeat_interleave(torch.arange(self.out_features, device="cpu"), counts)
            starts = torch.repeat_interleave(counts.cumsum(0) - counts, counts)
            index = rows * self.in_features + (torch.arange(total, device="cpu") - starts)
            bound = fan_in.rsqrt()[rows]
        self.register_buffer("index", index, persistent=False)
        self.weight = nn.Parameter(torch.empty(total))
        self.bias = nn.Parameter(torch.empty(self.out_features))
        with torch.no_grad():
            self.weight.uniform_(-1.0, 1.0).mul_(bound.to(self.weight.device))
            self.bias.uniform_(-1.0, 1.0).mul_(fan_in.rsqrt().to(self.bias.device))

    def dense_weight(self) -> torch.Tensor:
        flat = self.weight.new_zeros(self.out_features * self.in_features)
        return flat.index_copy(0, self.index, self.weight).view(self.out_features, self.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.dense_weight(), self.bias)


class FCN(nn.Module):
    """Per-position embedding, flatten, (masked) MLP, unflatten, per-position head."""

    state_size = None  # not a recurrent model: it reads the whole (fixed-length) sequence at once

    def __init__(self, spec: TaskSpec, hidden: int, layers: int, embed_dim: int, causal: bool) -> None:
        super().__init__()
        self.seq_len, self.embed_dim, self.causal = spec.seq_len, embed_dim, causal
        length = spec.seq_len
        self.embed = input_adapter(spec, embed_dim)
        widths = [length * embed_dim] + [hidden] * layers + [length * embed_dim]
        positions = (
            [block_positions(length, embed_dim)]
            + [unit_positions(hidden, length)] * layers
            + [block_positions(length, embed_dim)]
        )
        self.linears = nn.ModuleList(
            MaskedLinear(positions[i], positions[i + 1]) if causal else nn.Linear(widths[i], widths[i + 1])
            for i in range(len(widths) - 1)
        )
        self.head = output_head(spec, embed_dim)

    def supports_length(self, seq_len: int) -> bool:
        return seq_len == self.seq_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length = x.shape[0], x.shape[1]
        if length != self.seq_len:
            raise ArchbenchError(
                f"architecture 'fcn' was built for sequence length {self.seq_len} and cannot take length {length}"
            )
        h = self.embed(x).reshape(batch, length * self.embed_dim)
        for i, linear in enumerate(self.linears):
            h = linear(h)
            if i < len(self.linears) - 1:
                h = F.gelu(h)
        return self.head(h.view(batch, length, self.embed_dim))


@register_architecture(
    "fcn",
    presets={"tiny": {"layers": 1}, "small": {"layers": 2}, "base": {"layers": 4}},
    width_param="hidden",
)
def build_fcn(
    spec: TaskSpec, *, hidden: int = 256, layers: int = 2, embed_dim: int = 8, causal: bool = True
) -> nn.Module:
    """MLP on the flattened sequence, causal through MADE-style autoregressive masks (fixed length only).

    Each position is embedded to `embed_dim` numbers, the `(T * embed_dim)` vector passes `layers` hidden
    layers of width `hidden` (GELU), and the last layer maps back to `(T, embed_dim)` for a shared
    per-position head. With `causal=True` (default) every unit is tied to a position and reads only units at
    positions <= its own, so output t depends only on inputs <= t. `causal=False` is the plain dense MLP:
    every output then depends on the whole sequence, so the model is NOT causal and is only valid for tasks
    whose single target is the last position. Either way it takes only the build length `spec.seq_len`.
    """
    check_sizes("fcn", hidden=hidden, layers=layers, embed_dim=embed_dim)
    return FCN(spec, hidden, layers, embed_dim, causal)
