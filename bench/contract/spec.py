"""The two data types every task and every architecture agree on: `TaskSpec` and `Batch`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple

import torch

InputKind = Literal["tokens", "vectors"]
OutputKind = Literal["class", "vector"]
Targets = Literal["last", "several"]  # where a task's targets sit: only the last position, or several positions


@dataclass(frozen=True)
class TaskSpec:
    """What an architecture needs to know to build its input adapter and output head.

    `seq_len` is the number of positions the model sees at the task's training length; `max_seq_len`
    is the longest sequence the harness may evaluate it on (so a learned positional table can be sized
    for it). Inputs are `(B, T)` integer tokens below `vocab_size`, or `(B, T, input_dim)` floats;
    outputs are `(B, T, num_classes)` logits or `(B, T, output_dim)` vectors.
    """

    input_kind: InputKind
    output_kind: OutputKind
    seq_len: int
    max_seq_len: int
    vocab_size: int | None = None
    input_dim: int | None = None
    num_classes: int | None = None
    output_dim: int | None = None
    # "last": the single target is the last position, so a model that sees the whole input at once (a
    # non-causal one) is still a fair contender; "several": targets at several positions, which a
    # non-causal model could read from later inputs (teacher-forced answers), so it is refused there.
    targets: Targets = "several"
    # A named promise about what each input feature means, for a model that reads features by position
    # instead of through a learned input map (None: no promise, the usual case). "sts": every position is
    # [data (output_dim) | position code (input_dim - output_dim - 1) | query flag (1)], the query last
    # (sparse token selection). An architecture registered with `layout=` runs only on tasks that make
    # the same promise (`bench.run.admission`).
    layout: str | None = None

    def __post_init__(self) -> None:
        if self.input_kind == "tokens" and not self.vocab_size:
            raise ValueError("a tokens TaskSpec needs vocab_size")
        if self.input_kind == "vectors" and not self.input_dim:
            raise ValueError("a vectors TaskSpec needs input_dim")
        if self.output_kind == "class" and not self.num_classes:
            raise ValueError("a class TaskSpec needs num_classes")
        if self.output_kind == "vector" and not self.output_dim:
            raise ValueError("a vector TaskSpec needs output_dim")
        if self.targets not in ("last", "several"):
            raise ValueError(f"targets must be 'last' or 'several'; got {self.targets!r}")
        if self.max_seq_len < self.seq_len:
            raise ValueError("max_seq_len must be >= seq_len")

    @property
    def output_size(self) -> int:
        """Width of the model's last dimension: classes or vector components."""
        return int(self.num_classes if self.output_kind == "class" else self.output_dim)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return asdict(self)


class Batch(NamedTuple):
    """`x` model input, `y` targets at every position, `mask` (B, T) bool: True where a target counts.

    `y` is `(B, T)` long class indices for class outputs, `(B, T, output_dim)` floats for vector outputs.
    Positions where `mask` is False carry arbitrary values and are ignored by loss and metric.
    """

    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor
