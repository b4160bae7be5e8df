"""Short causal depthwise convolution with a step form (the "ShortConvolution" of flash-linear-attention).

DeltaNet, Gated DeltaNet and most 2024-25 linear-attention layers put a width-4 causal depthwise
convolution (no bias, SiLU after it) on their query, key and value projections: it lets a position mix in
its few predecessors before the recurrence, which recall tasks depend on (Yang et al. 2024 find DeltaNet
much worse without it). Its recurrent form carries the last `kernel_size - 1` inputs per channel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ShortConvolution(nn.Module):
    """Causal depthwise `Conv1d` over time on `(B, T, channels)`, no bias, then SiLU; `step` is one position."""

    def __init__(self, channels: int, kernel_size: int = 4) -> None:
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.conv = nn.Conv1d(channels, channels, kernel_size, groups=channels, bias=False)

    @property
    def state_size(self) -> int:
        """The cached inputs: `kernel_size - 1` per channel."""
        return self.channels * (self.kernel_size - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x.transpose(1, 2), (self.kernel_size - 1, 0))
        return F.silu(self.conv(padded).transpose(1, 2))

    def step(self, x_t: torch.Tensor, cache: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """`x_t` `(B, channels)` and the last `kernel_size - 1` inputs `(B, channels, kernel_size - 1)` (None: zeros)."""
        if cache is None:
            cache = x_t.new_zeros(x_t.shape[0], self.channels, self.kernel_size - 1)
        window = torch.cat([cache, x_t.unsqueeze(-1)], dim=-1)  # inputs t-kernel_size+1 .. t
        return F.silu((window * self.conv.weight.squeeze(1)).sum(-1)), window[..., 1:]
