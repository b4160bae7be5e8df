"""A plugin whose forward sleeps, so that a sweep of it lasts long enough to be killed midway."""

import time

import torch
from torch import nn

from architectures.base import input_adapter, output_head
from bench import register_architecture


@register_architecture("slow")
def build_slow(spec, width: int = 8) -> nn.Module:
    """Running mean of embedded inputs through a linear head, 20 ms per forward."""
    return Slow(spec, width)


class Slow(nn.Module):
    def __init__(self, spec, width: int) -> None:
        super().__init__()
        self.embed, self.head = input_adapter(spec, width), output_head(spec, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.02)
        h = self.embed(x)
        steps = torch.arange(1, h.shape[1] + 1, device=h.device, dtype=h.dtype).view(1, -1, 1)
        return self.head(h.cumsum(1) / steps)
