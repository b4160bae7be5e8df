"""A plugin architecture in a file outside any package, loaded with `--plugin path/to/this.py`."""

import torch
from torch import nn

from architectures.base import input_adapter, output_head
from bench import register_architecture


@register_architecture("mean_pool")
def build_mean_pool(spec, width: int = 16) -> nn.Module:
    """Running (causal) mean of embedded inputs, then a linear head."""
    return MeanPool(spec, width)


class MeanPool(nn.Module):
    def __init__(self, spec, width: int) -> None:
        super().__init__()
        self.embed, self.head = input_adapter(spec, width), output_head(spec, width)
        self.state_size = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        steps = torch.arange(1, h.shape[1] + 1, device=h.device, dtype=h.dtype).view(1, -1, 1)
        return self.head(h.cumsum(1) / steps)
