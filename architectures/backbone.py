"""The shared backbone: input adapter -> optional positions -> `layers` x `Block` -> final norm -> head.

Most sequence families differ only in how a layer mixes information across positions (softmax
attention, linear attention, a diagonal recurrence, a selective SSM ...); everything around that mixer is
the same pre-norm residual stack. So a family here is a *mixer* plus a *builder* that validates its
hyper-parameters and calls `Backbone(spec, d_model, layers, mixer_factory, ...)`. Why a shared stack
rather than one per family: a comparison between families then compares mixers, not incidental
differences in the wrapper, and a new family is one class plus a builder.

The mixer protocol (what a new family implements)
-------------------------------------------------

A mixer is an `nn.Module` built for one layer of width `d_model`:

- `forward(x: Tensor) -> Tensor`: `(B, T, d_model) -> (B, T, d_model)`, **causal**: output t reads
  inputs `<= t` only. It receives the normed residual stream and returns the branch added back to it
  (the block does the norm, the residual and the dropout; the mixer does neither).
- `state_size: int | None` (optional attribute or property): the numbers one layer carries from step to
  step at inference, per sequence, as a fixed count; `None` when that memory grows with the sequence
  (attention's key/value cache). A mixer without the attribute counts as `None` (no claim of a fixed state).
- `supports_length(seq_len: int) -> bool` (optional): False for lengths the mixer cannot take; its
  `forward` must then raise an `ArchbenchError` naming the length. Absent: every length is supported.
- `causal: bool` (optional, default True): a mixer that reads the future says `causal = False`.
- `step(x_t: Tensor, state: S | None) -> tuple[Tensor, S]` (optional): the recurrent form. `x_t` is one
  position `(B, d_model)` (already normed), `state` is what the previous call returned, or `None` at the
  first position (the mixer makes its own initial state, so no separate `initial_state` is needed); it
  returns the output `(B, d_model)` and the new state. Running `step` over positions 0..T-1 must give
  `forward`'s outputs (the tests check it for every family where every mixer has `step`).

Rules for the builder: build on whatever device is current (parameter counting builds on `meta`, so no
`.to(device)` and no arithmetic on parameter values at construction beyond in-place init), make no
tensor on a fixed device, and keep the family's registered name, hyper-parameter names and presets.

The backbone reads the protocol back: `Backbone.state_size` (the sum over layers, `None` if any mixer's is
`None`), `supports_length` (the positional scheme's and every mixer's), `causal` (every mixer's) and
`recurrent_forward` (every mixer's `step`). Families that are not a stack of mixers (a flattened MADE
network, torch's fused multi-layer RNNs, the one-layer theory attention) stay standalone modules; their
docstrings say why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

import torch
from torch import nn

from architectures.base import input_adapter, output_head
from bench.contract.errors import ArchbenchError
from bench.contract.spec import TaskSpec

MixerFactory = Callable[[int], nn.Module]  # layer index -> mixer
MlpFactory = Callable[[int], "nn.Module | None"]  # layer index -> MLP sub-block, or None for none in that layer
NormFactory = Callable[[int], nn.Module]  # width -> norm (nn.LayerNorm, or functools.partial(nn.RMSNorm, eps=...))


class SteppingMixer(Protocol):
    """A mixer with the optional recurrent form (the protocol's `step`), for the type checker: `nn.Module`
    types an attribute it does not know as a tensor or a module."""

    def step(self, x_t: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]: ...


def _supports_length(part: nn.Module, seq_len: int) -> bool:
    """The part's `supports_length(seq_len)`, or True for a part without one (the protocol's default)."""
    check = getattr(part, "supports_length", None)
    return not callable(check) or bool(check(seq_len))


class MLP(nn.Module):
    """Position-wise feed-forward sub-block: Linear, GELU, Linear (hidden width `ratio * d_model`)."""

    def __init__(self, d_model: int, ratio: float = 4.0) -> None:
        super().__init__()
        hidden = max(1, round(ratio * d_model))
        self.net = nn.Sequential(nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def mlp_every_layer(d_model: int, ratio: float, enabled: bool = True) -> MlpFactory | None:
    """The usual MLP factory: the same `MLP` after every mixer, or None (attention-only / mixer-only)."""
    return (lambda _layer: MLP(d_model, ratio)) if enabled else None


class Block(nn.Module):
    """Pre-norm residual block: `x + drop(mixer(norm(x)))`, then, with an MLP, `x + drop(mlp(norm(x)))`."""

    def __init__(
        self,
        d_model: int,
        mixer: nn.Module,
        mlp: nn.Module | None = None,
        norm: NormFactory = nn.LayerNorm,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.norm1 = norm(d_model)
        self.mixer = mixer
        self.norm2: nn.Module | None = norm(d_model) if mlp is not None else None
        self.mlp = mlp
        self.drop = nn.Dropout(dropout)

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        if self.mlp is None or self.norm2 is None:  # both or neither: norm2 exists only with an MLP
            return x
        return x + self.drop(self.mlp(self.norm2(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._mlp(x + self.drop(self.mixer(self.norm1(x))))

    def step(self, x_t: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """One position `(B, d_model)` through the block with the mixer's recurrent form."""
        out, state = cast(SteppingMixer, self.mixer).step(self.norm1(x_t), state)
        return self._mlp(x_t + self.drop(out)), state


class Backbone(nn.Module):
    """Input adapter, optional positional hook, `layers` pre-norm `Block`s around mixers, final norm, head.

    `mixer_factory(i)` builds layer i's mixer (a hybrid returns different kinds per layer); `mlp(i)`, when
    given, builds layer i's MLP sub-block or returns None for a mixer-only layer; `norm(width)` builds
    every norm (the blocks' and the final one); `pos`, when given, maps the embedded input `(B, T, d_model)`
    to itself plus position information (`positions.AdditivePositions`) and may define `supports_length`.
    `dropout` applies to the embedded input and to every residual branch.
    """

    def __init__(
        self,
        spec: TaskSpec,
        d_model: int,
        layers: int,
        mixer_factory: MixerFactory,
        *,
        mlp: MlpFactory | None = None,
        norm: NormFactory = nn.LayerNorm,
        pos: nn.Module | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embed = input_adapter(spec, d_model)
        self.pos = pos
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(d_model, mixer_factory(i), mlp(i) if mlp is not None else None, norm, dropout) for i in range(layers)
        )
        self.norm = norm(d_model)
        self.head = output_head(spec, d_model)

    @property
    def mixers(self) -> list[nn.Module]:
        return [cast(Block, block).mixer for block in self.blocks]

    @property
    def state_size(self) -> int | None:
        total = 0
        for mixer in self.mixers:
            size = getattr(mixer, "state_size", None)
            if size is None:
                return None
            total += size
        return int(total)

    @property
    def causal(self) -> bool:
        return all(getattr(mixer, "causal", True) for mixer in self.mixers)

    def supports_length(self, seq_len: int) -> bool:
        parts = [*([] if self.pos is None else [self.pos]), *self.mixers]
        return all(_supports_length(part, seq_len) for part in parts)

    @property
    def has_step(self) -> bool:
        """Whether every mixer has a recurrent form, so `recurrent_forward` can run."""
        return all(callable(getattr(mixer, "step", None)) for mixer in self.mixers)

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        if self.pos is not None:
            h = self.pos(h)
        return self.drop(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))

    def recurrent_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same outputs as `forward`, one position at a time through every mixer's `step` (positions
        are embedded up front: additive codes depend on the position only)."""
        if not self.has_step:
            missing = sorted({type(m).__name__ for m in self.mixers if not callable(getattr(m, "step", None))})
            raise ArchbenchError(f"no recurrent form: mixer {', '.join(missing)} has no step(x_t, state)")
        h = self._embed(x)
        states: list[Any] = [None] * len(self.blocks)
        outputs = []
        for h_t in h.unbind(1):
            for i, block in enumerate(self.blocks):
                h_t, states[i] = block.step(h_t, states[i])  # type: ignore[operator]
            outputs.append(h_t)
        return self.head(self.norm(torch.stack(outputs, dim=1)))
