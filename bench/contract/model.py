"""The model protocol: what every architecture is, the optional members the harness reads, and their defaults.

An architecture is any `nn.Module` mapping `(B, T)` tokens or `(B, T, d_in)` vectors to `(B, T, C)`. The
members of `SequenceModel` beyond `forward` are optional: they are read only through the functions below,
which supply the defaults, so a plain module (or one from another codebase) is a valid architecture as is.
`bench.run.contract_checks` (`archbench check-arch`) holds a model to what it declares here.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from bench.contract.errors import ArchbenchError
from bench.contract.spec import TaskSpec

DEFAULT_CAUSAL = True  # an architecture is causal unless it says otherwise; check-arch verifies the claim
DEFAULT_STATE_SIZE = None  # no fixed-size state (e.g. attention's growing KV cache), or not stated
DRY_BATCH = 2  # batch of the dry forward that materializes lazy parameters


class SequenceModel(Protocol):
    """The architecture contract (documentation and type hints; plain modules need declare none of the members).

    - `forward(x)`: `(B, T)` long tokens or `(B, T, d_in)` floats -> `(B, T, spec.output_size)` floats.
    - `causal` (default True): the output at position t depends only on inputs at positions <= t, in train mode
      and in eval mode. A model declaring `causal = False` sees the whole sequence at once (e.g. `fcn
      causal=false`); it is admitted only on tasks whose single target is the last position
      (`TaskSpec.targets == "last"`), where reading later inputs cannot reveal an answer.
    - `state_size` (default None): numbers carried from step to step at inference, a positive integer, or None
      when the state grows with the sequence (attention) or is not stated.
    - `supports_length(seq_len)` (default: every length): whether forward takes `seq_len` positions; a length
      it refuses must make forward raise an `ArchbenchError` naming it (the harness records "n/a").
    - `diagnostics()` (default: none): named numbers about the model's own parameters (say the alignment
      of a learned matrix with a known solution), read by the harness at every validation and stored
      with the run as a curve over training (`RunMetrics.diagnostics_history`).

    Lazy parameters (`nn.LazyLinear` and the like) are allowed: `materialize` runs one dry forward after the
    build, so counting, seeding and the optimizer see real parameters.
    """

    causal: bool
    state_size: int | None

    def supports_length(self, seq_len: int) -> bool: ...

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


def is_causal(model: nn.Module) -> bool:
    """The model's `causal` declaration, True when it makes none."""
    return bool(getattr(model, "causal", DEFAULT_CAUSAL))


def state_size(model: nn.Module) -> int | None:
    value = getattr(model, "state_size", DEFAULT_STATE_SIZE)
    return int(value) if value is not None else None


def supports_length(model: nn.Module, seq_len: int) -> bool:
    check = getattr(model, "supports_length", None)
    return bool(check(seq_len)) if callable(check) else True


def diagnostics(model: nn.Module) -> dict[str, float]:
    """The model's `diagnostics()` as plain floats; `{}` when it declares none."""
    hook = getattr(model, "diagnostics", None)
    if not callable(hook):
        return {}
    with torch.no_grad():
        return {str(name): float(value) for name, value in dict(hook()).items()}


def has_lazy_parameters(model: nn.Module) -> bool:
    """Whether some parameter or buffer still waits for the first forward to learn its shape."""
    return any(is_lazy(t) for t in (*model.parameters(), *model.buffers()))


def materialize(model: nn.Module, spec: TaskSpec) -> nn.Module:
    """Give lazy parameters their shapes with one dry forward at the build length; a no-op otherwise.

    Runs in eval mode without gradients (so no BatchNorm statistic moves), on the device the model lives on
    (the `meta` device too, for counting), and restores every submodule's mode afterwards. The lazy
    initialisation draws from the global generators right after the build, so a seeded build stays
    reproducible.
    """
    if not has_lazy_parameters(model):
        return model
    tensors = [*model.parameters(), *model.buffers()]
    device = tensors[0].device if tensors else None
    if spec.input_kind == "tokens":
        x = torch.zeros(DRY_BATCH, spec.seq_len, dtype=torch.long, device=device)
    else:
        x = torch.zeros(DRY_BATCH, spec.seq_len, int(spec.input_dim), device=device)  # type: ignore[arg-type]
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for module, training in modes.items():
            module.training = training
    return model


def num_parameters(model: nn.Module) -> int:
    """Trainable parameters; a lazy model must be materialized first (its shapes are unknown until then)."""
    params = [p for p in model.parameters() if p.requires_grad]
    if any(is_lazy(p) for p in params):
        raise ArchbenchError(
            f"{type(model).__name__} has lazy parameters whose shapes are not known yet: "
            "count them after `materialize(model, spec)` (build_architecture does it)"
        )
    return sum(p.numel() for p in params)
