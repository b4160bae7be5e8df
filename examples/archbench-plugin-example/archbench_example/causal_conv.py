"""A causal convolution model in about 20 lines: the whole contract of an archbench architecture."""

import torch.nn.functional as F
from torch import nn

from architectures.base import input_adapter, output_head
from bench import register_architecture


@register_architecture("causal_conv", presets={"tiny": {}, "small": {}, "base": {}}, width_param="width")
def build_causal_conv(spec, width: int = 32, kernel: int = 4) -> nn.Module:
    """Embedding, one left-padded (hence causal) convolution, GELU, linear head."""
    return CausalConv(spec, width, kernel)


class CausalConv(nn.Module):
    def __init__(self, spec, width: int, kernel: int) -> None:
        super().__init__()
        self.embed, self.head = input_adapter(spec, width), output_head(spec, width)
        self.conv, self.kernel = nn.Conv1d(width, width, kernel), kernel
        self.state_size = width * (kernel - 1)  # numbers carried between steps at inference

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)  # (B, width, T)
        h = F.gelu(self.conv(F.pad(h, (self.kernel - 1, 0))))  # pad on the left only: causal
        return self.head(h.transpose(1, 2))
