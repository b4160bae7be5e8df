"""What one run measured: the type of the `metrics` dict that `bench.train.harness.run_one` returns.

Defined here, in the training layer that produces it, so that the harness can name its own return type
without importing the results layer (which stores the dict as a record's `metrics` and may import this).
A `TypedDict` rather than a dataclass: the dict is written to JSON as it is and read back as a dict, and
the type checker still knows every field and its type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict


class _RunMetricsRequired(TypedDict):
    """One run's measurements (a successful run's; a failed run's record has `metrics: None`): raw
    measurements only, the figures derived from them are computed at read time by `bench.results.measures`."""

    metric: str  # the task's metric name ("accuracy", "r2", ...)
    in_distribution: float | None  # the test metric at the training length
    by_length: dict[str, float | None]  # test metric per evaluated length (str keys, JSON); None: length not supported
    val_best: float | None
    val_history: Sequence[Sequence[float]]  # (step, value) pairs: tuples from the harness, lists once read back
    solved: bool  # validation reached the task's solved_at within the budget
    steps: int
    samples_seen: int
    steps_to_solve: int | None
    samples_to_solve: int | None
    time_to_solve_s: float | None
    final_loss: float | None
    train_samples_per_s: float | None  # over all devices
    train_samples_per_s_per_device: float | None
    devices: int  # the Trainer's world size
    train_tokens_per_s: float | None
    inference_samples_per_s: float | None
    fit_seconds: float
    wall_time_s: float
    peak_memory_mb: float
    num_parameters: int
    state_size: int | None
    device: str


class RunMetrics(_RunMetricsRequired, total=False):
    """One run's measurements (a successful run's; a failed run's record has `metrics: None`): raw
    measurements only, the figures derived from them are computed at read time by `bench.results.measures`.
    The optional fields are curves over training added after the first records (older records lack them)."""

    # (step, mean loss on the validation set) at every validation: the training objective itself, on
    # held-out data (the loss curve of Wang et al. 2024's figures)
    val_loss_history: Sequence[Sequence[float]]
    # (step, {name: value}) at every validation: the model's own `diagnostics()` (`bench.contract.model`),
    # absent for a model that declares none
    diagnostics_history: Sequence[tuple[int, Mapping[str, float]]]
