"""Throughput pieces for the pytest-benchmark suite (`benchmarks/`): the facts that go with every speed
figure, one plain optimizer step, and a hand-written training loop.

The hand loop is the reference the Lightning harness is measured against (`benchmarks/test_overhead.py`),
so it is written the way any PyTorch user would write it, deliberately without Lightning or
`BenchModule`; it shares only what defines "the same training": the task's whole-batch stream, the
masked loss, AdamW with the run's lr / weight decay, and gradient-norm clipping.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from bench.train.config import TrainConfig
from bench.train.data import TrainStream
from bench.train.metrics import masked_loss


def default_device() -> torch.device:
    """The device Lightning's `accelerator="auto"` trains on here (CUDA when present, else the CPU)."""
    return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so a timer stopped after this call has timed the work, not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def environment(device: torch.device) -> dict[str, Any]:
    """Device, threads and torch version: a throughput figure means nothing without them."""
    return {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch": torch.__version__,
    }


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, spec: TaskSpec, batch: Batch, grad_clip: float
) -> torch.Tensor:
    """One optimizer step on one whole batch; returns the loss without reading it (no host sync)."""
    optimizer.zero_grad(set_to_none=True)
    loss = masked_loss(spec, model(batch.x), batch.y, batch.mask)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()


def to_device(batch: Batch, device: torch.device) -> Batch:
    return Batch(*(t.to(device, non_blocking=True) for t in batch))


@dataclass(frozen=True)
class HandLoopResult:
    """`seconds`: seeding, model construction and the loop (the span of the harness's `fit_seconds`);
    `loop_seconds`: the loop alone, data generation included (the span of its `train_samples_per_s`);
    both on the clock `hand_loop` was given."""

    steps: int
    seconds: float
    loop_seconds: float
    final_loss: float


def hand_loop(
    task: Task,
    model_factory: Callable[[TaskSpec], nn.Module],
    config: TrainConfig,
    seed: int,
    steps: int,
    device: torch.device,
    clock: Callable[[], float] = time.perf_counter,
) -> HandLoopResult:
    """Train `steps` optimizer steps on the task's training stream, exactly as `run_one` would (same
    initial weights for the same seed, same batches, same optimizer and clipping), without validation.
    `clock` times it: wall time by default; `time.process_time` counts only this process's CPU time."""
    started = clock()
    torch.manual_seed(seed)  # what Lightning's seed_everything does for torch, so the weights match
    spec = task.spec()
    model = model_factory(spec).to(device).train()
    optimizer = make_optimizer(model, config)
    loop_started = clock()
    loss = torch.tensor(float("nan"))
    for batch in itertools.islice(TrainStream(task, config.batch_size, seed, config.n_train), steps):
        loss = train_step(model, optimizer, spec, to_device(batch, device), config.grad_clip)
    final_loss = float(loss)  # the loop's only host sync
    ended = clock()
    return HandLoopResult(steps, ended - started, ended - loop_started, final_loss)
