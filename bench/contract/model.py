"""The model protocol: what every architecture is, and the three optional members the harness reads.

An architecture is any `nn.Module` mapping `(B, T)` tokens or `(B, T, d_in)` vectors to `(B, T, C)`.
Optional members refine it; they are read through the functions below, so plain modules work too:
`supports_length(seq_len) -> bool`, `state_size -> int | None` (numbers carried from step to step at
inference) and `causal -> bool`. The parameter count is computed here.
"""
from __future__ import annotations

from torch import nn


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def state_size(model: nn.Module) -> int | None:
    value = getattr(model, "state_size", None)
    return int(value) if value is not None else None


def supports_length(model: nn.Module, seq_len: int) -> bool:
    check = getattr(model, "supports_length", None)
    return bool(check(seq_len)) if callable(check) else True
