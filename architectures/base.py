"""Pieces every architecture shares: the input adapter, the output head, and the optional contract hooks.

An architecture is any `nn.Module` mapping `(B, T)` tokens or `(B, T, d_in)` vectors to `(B, T, C)`.
Three optional members refine it, read through the functions below so plain modules work too:
`supports_length(seq_len) -> bool`, `state_size -> int | None` (numbers carried from step to step at
inference) and nothing else; the parameter count is computed here.
"""

from __future__ import annotations

from torch import nn

from bench.contract.errors import require
from bench.contract.spec import TaskSpec


def input_adapter(spec: TaskSpec, width: int) -> nn.Module:
    """Token embedding for token inputs, a linear map for vector inputs."""
    if spec.input_kind == "tokens":
        return nn.Embedding(int(spec.vocab_size), width)  # type: ignore[arg-type]
    return nn.Linear(int(spec.input_dim), width)  # type: ignore[arg-type]


def output_head(spec: TaskSpec, width: int) -> nn.Module:
    """Linear read-out to class logits or to the target vector."""
    return nn.Linear(width, spec.output_size)


def check_sizes(arch: str, **sizes: int) -> None:
    """Every size hyper-parameter must be a positive integer (one-line error naming it otherwise)."""
    for key, value in sizes.items():
        require(
            isinstance(value, int) and value > 0,
            f"architecture {arch!r}: {key} must be a positive integer; got {value!r}",
        )
