"""Plugin architectures that each break exactly one rule of the contract (`archbench check-arch` must name
that rule), plus valid models that must not be mistaken for broken ones: `zero_init_head` (a zero-initialised
head is not a parameter that gradients never reach) and `lazy_honest` (lazy parameters, ordinary PyTorch).
Loaded with `--plugin tests/plugins/contract_breakers.py`."""

import os

import torch
from torch import nn

from architectures.base import input_adapter, output_head
from bench import register_architecture


class RunningMean(nn.Module):
    """A valid model: causal running mean of the embedded inputs, then a linear head. The breakers below
    change one thing each."""

    def __init__(self, spec, width: int) -> None:
        super().__init__()
        self.embed, self.head = input_adapter(spec, width), output_head(spec, width)

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        steps = torch.arange(1, h.shape[1] + 1, device=h.device, dtype=h.dtype).view(1, -1, 1)
        return h.cumsum(1) / steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.mix(self.embed(x)))


class PeeksAhead(RunningMean):
    """Breaks causality: every position also sees the mean of the whole sequence."""

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        return super().mix(h) + h.mean(1, keepdim=True)


class UnusedParameter(RunningMean):
    """Breaks gradients: a layer that forward never uses."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        self.unused = nn.Linear(width, width)


class WrongShape(RunningMean):
    """Breaks the output shape: returns only the last position, `(B, C)`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[:, -1]


class Unseeded(RunningMean):
    """Breaks determinism: the head is drawn from OS entropy, not from torch's seeded generator."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        generator = torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator))


class ClaimsFixedLength(RunningMean):
    """Breaks the length rule: `supports_length` accepts only the build length, forward takes any."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        self.seq_len = spec.seq_len

    def supports_length(self, seq_len: int) -> bool:
        return seq_len == self.seq_len


class BadStateSize(RunningMean):
    """Breaks the size rule: a negative state size."""

    state_size = -1


class BatchNormOverTime(RunningMean):
    """Breaks causality in train mode only: BatchNorm1d over `(B, C, T)` normalises with statistics over every
    position, later ones included; in eval mode its running statistics make it a causal per-position map."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        self.norm = nn.BatchNorm1d(width)

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        return super().mix(self.norm(h.transpose(1, 2)).transpose(1, 2))


class LazyHonest(RunningMean):
    """Valid: a causal model whose projection is an `nn.LazyLinear`, shaped by its first forward."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        self.project = nn.LazyLinear(width)

    def mix(self, h: torch.Tensor) -> torch.Tensor:
        return super().mix(torch.tanh(self.project(h)))


class ZeroInitHead(RunningMean):
    """Valid: the head starts at zero, so at initialisation no gradient flows below it."""

    def __init__(self, spec, width: int) -> None:
        super().__init__(spec, width)
        nn.init.zeros_(self.head.weight)


BREAKERS = {
    "peeks_ahead": PeeksAhead,
    "unused_parameter": UnusedParameter,
    "wrong_shape": WrongShape,
    "unseeded": Unseeded,
    "claims_fixed_length": ClaimsFixedLength,
    "bad_state_size": BadStateSize,
    "batchnorm_over_time": BatchNormOverTime,
    "zero_init_head": ZeroInitHead,
    "lazy_honest": LazyHonest,
}


def _register(name: str, cls: type) -> None:
    def build(spec, width: int = 8) -> nn.Module:
        return cls(spec, width)

    build.__doc__ = cls.__doc__
    build.__qualname__ = f"build_{name}"  # distinct names: the registry refuses one name from two builders
    register_architecture(name)(build)


for _name, _cls in BREAKERS.items():
    _register(_name, _cls)
