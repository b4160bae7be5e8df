"""The Lightning harness: train any architecture on any task, then score it at every length.

One `LightningModule` (`BenchModule`) owns the masked loss, the optimizer and the torchmetrics metric;
everything model-specific stays in the architecture. `run_one` wires task, model, data and Trainer
together and returns the measurements for the run record. Settings that cost throughput on tiny
models are off: no logger, no checkpointing, no per-step `.item()`, metrics only at validation.

Lightning's loop costs about half a millisecond per batch in hooks, which is 15-20% of an optimizer step
of the quick profile's tiny models. So one Lightning batch carries a *group* of consecutive training
batches (`steps_per_call` of them, stacked) and `training_step` takes one optimizer step per batch of the
group, through Lightning's manual optimization (so precision, strategy and clipping still go through
Lightning). The optimizer steps, their data and their order are exactly those of one batch per call;
only the hook overhead is shared by the group.
"""

from __future__ import annotations

import itertools
import logging
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import nn
from torch.utils.data import DataLoader

from bench.contract.model import diagnostics, num_parameters, state_size, supports_length
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from bench.train.config import TrainConfig
from bench.train.data import TrainStream, fixed_set
from bench.train.measurements import RunMetrics
from bench.train.metrics import make_metric, masked_loss

ProgressFn = Callable[[int, int, "float | None"], None]  # (step, max_steps, last validation metric)

for _name in ("lightning", "lightning.pytorch", "lightning.fabric"):
    logging.getLogger(_name).setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*IterableDataset.*__len__.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")

MAX_STEPS_PER_CALL = 10


def steps_per_call(eval_every: int, limit: int = MAX_STEPS_PER_CALL) -> int:
    """How many optimizer steps one Lightning batch carries: the largest divisor of `eval_every` up to
    `limit`, so validation still falls exactly every `eval_every` optimizer steps."""
    return max(d for d in range(1, limit + 1) if eval_every % d == 0)


class StepGroups(torch.utils.data.IterableDataset):
    """The first `total` batches of a training stream, `size` at a time, stacked along a new first
    dimension. Ending at `total` matters: Lightning fetches one batch ahead, and an endless stream
    would make it generate a whole group that is never trained on."""

    def __init__(self, stream: Iterable[Batch], size: int, total: int) -> None:
        super().__init__()
        self.stream, self.size, self.total = stream, size, total

    def __iter__(self) -> Iterator[Batch]:
        batches = itertools.islice(self.stream, self.total)
        while group := list(itertools.islice(batches, self.size)):
            yield Batch(*(torch.stack(t) for t in zip(*group)))


class BenchModule(L.LightningModule):
    """Masked loss, AdamW and the task's metric around an arbitrary sequence model."""

    def __init__(self, model: nn.Module, task: Task, spec: TaskSpec, config: TrainConfig) -> None:
        super().__init__()
        self.model, self.task, self.spec, self.config = model, task, spec, config
        self.val_metric = make_metric(task.metric, spec)
        self.last_loss: torch.Tensor | None = None
        self.last_val_loss: float | None = None  # mean masked loss over the last validation pass
        self._val_loss = [torch.zeros(()), torch.zeros(())]  # (sum of per-batch loss x targets, targets)
        self.automatic_optimization = False  # several optimizer steps per call: see the module docstring

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, group: Batch, batch_idx: int) -> None:
        """One optimizer step per batch of the group (zero grad, loss, backward, clip, step), stopping
        at the step budget."""
        optimizer = cast(LightningOptimizer, self.optimizers())  # configure_optimizers returns exactly one
        steps_left = self.trainer.max_steps - self.trainer.global_step
        clip = self.config.grad_clip
        for x, y, mask in itertools.islice(zip(*group), steps_left):
            optimizer.zero_grad(set_to_none=True)
            loss = masked_loss(self.spec, self.model(x), y, mask)
            self.manual_backward(loss)
            if clip:
                # a LightningOptimizer's class is made a subclass of the optimizer it wraps, so it is one
                self.clip_gradients(
                    cast(torch.optim.Optimizer, optimizer), gradient_clip_val=clip, gradient_clip_algorithm="norm"
                )
            optimizer.step()
            self.last_loss = loss.detach()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        x, y, mask = batch
        preds = self.model(x)
        self.val_metric.update(preds, y, mask)
        targets = mask.sum().to(preds.dtype)
        self._val_loss[0] = self._val_loss[0].to(preds.device) + masked_loss(self.spec, preds, y, mask) * targets
        self._val_loss[1] = self._val_loss[1].to(preds.device) + targets

    def on_validation_epoch_end(self) -> None:
        self.log("val_metric", self.val_metric.compute(), prog_bar=False)
        self.val_metric.reset()
        total, count = self._val_loss
        self.last_val_loss = float(total / count) if float(count) > 0 else None  # this rank's validation data
        self._val_loss = [torch.zeros(()), torch.zeros(())]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        if self.config.optimizer == "sgd":  # plain gradient descent on each batch (Wang et al. 2024)
            return torch.optim.SGD(self.model.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)
        return torch.optim.AdamW(self.model.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)


class RunMonitor(Callback):
    """Times the training loop (data generation included, validation excluded, as a hand-written loop
    would be timed), notes when the run is first solved, and reports progress."""

    def __init__(self, solved_at: float, progress: ProgressFn | None, every: int = 10) -> None:
        self.solved_at, self.progress, self.every = solved_at, progress, every
        self.val_seconds = 0.0
        self.train_seconds = 0.0
        self.solved_step: int | None = None
        self.solved_seconds: float | None = None
        self.val_history: list[tuple[int, float]] = []
        self.val_loss_history: list[tuple[int, float]] = []
        self.diagnostics_history: list[tuple[int, dict[str, float]]] = []
        self._train_start = self._val_start = 0.0
        self._reported = 0  # progress is reported each time the step count passes a multiple of `every`

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._train_start = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.train_seconds = time.perf_counter() - self._train_start - self.val_seconds

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if self.progress is not None and step // self.every != self._reported:
            self._reported = step // self.every
            self.progress(step, trainer.max_steps, self.last_val)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val_start = time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        now = time.perf_counter()
        self.val_seconds += now - self._val_start
        if trainer.sanity_checking or "val_metric" not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics["val_metric"])
        self.val_history.append((trainer.global_step, value))
        loss = getattr(pl_module, "last_val_loss", None)
        if loss is not None:
            self.val_loss_history.append((trainer.global_step, loss))
        model = getattr(pl_module, "model", None)
        found = diagnostics(model) if isinstance(model, nn.Module) else {}
        if found:
            self.diagnostics_history.append((trainer.global_step, found))
        if self.solved_step is None and value >= self.solved_at:
            self.solved_step = trainer.global_step
            self.solved_seconds = now - self._train_start
        if self.progress is not None:
            self.progress(trainer.global_step, trainer.max_steps, value)

    @property
    def last_val(self) -> float | None:
        return self.val_history[-1][1] if self.val_history else None


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, length: int, batch: Batch, device: torch.device, chunk: int = 512) -> float:
    """The task's metric of `model` on `batch` (problem size `length`), in chunks, eval mode, no gradients."""
    metric = make_metric(task.metric, task.spec(length)).to(device)
    model.eval()
    for start in range(0, batch.x.shape[0], chunk):
        x, y, mask = (t[start : start + chunk].to(device) for t in batch)
        metric.update(model(x), y, mask)
    return float(metric.compute())


def run_one(
    task: Task,
    model_factory: Callable[[TaskSpec], nn.Module],
    config: TrainConfig,
    seed: int,
    progress: ProgressFn | None = None,
) -> RunMetrics:
    """Train one model on one task with one seed; return the measurements (the record's `metrics`).

    Raw measurements only: figures derived from them (the mean beyond the training length, medians over
    seeds, ...) are computed when records are read, by `bench.results.measures`, so that one definition
    serves every page."""
    started = time.perf_counter()
    L.seed_everything(seed, verbose=False)
    spec = task.spec()
    model = model_factory(spec)
    module = BenchModule(model, task, spec, config)
    monitor = RunMonitor(task.solved_at, progress)
    callbacks: list[Callback] = [monitor]
    if config.early_stop:
        # patience=sys.maxsize: no stop for lack of improvement (a run has far fewer validations), only at solved_at
        callbacks.append(
            EarlyStopping(
                "val_metric", mode="max", stopping_threshold=task.solved_at, patience=sys.maxsize, check_finite=False
            )
        )
    group = steps_per_call(config.eval_every)
    trainer = L.Trainer(
        max_steps=config.steps,
        val_check_interval=config.eval_every // group,  # counted in Lightning batches, i.e. groups
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        limit_val_batches=1.0,
        accelerator=config.accelerator,
        devices=config.devices,
        precision=config.precision,  # type: ignore[arg-type]
        strategy=config.strategy,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        deterministic=False,
    )
    train_loader = DataLoader(
        StepGroups(TrainStream(task, config.batch_size, seed, config.n_train), group, config.steps), batch_size=None
    )
    val = fixed_set(task, config.val_samples, task.length, seed, "val")
    val_loader = DataLoader(_Batches(val, 512), batch_size=None)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(module, train_loader, val_loader)
    fit_seconds = time.perf_counter() - started

    device = module.device
    by_length: dict[str, float | None] = {}
    inference_rate = None
    for length in task.all_lengths:
        positions = task.spec(length).seq_len
        if not supports_length(model, positions):
            by_length[str(length)] = None
            continue
        test = fixed_set(task, config.test_samples, length, seed, "test")
        t0 = time.perf_counter()
        by_length[str(length)] = evaluate(model, task, length, test, device)
        if length == task.length:
            inference_rate = config.test_samples / (time.perf_counter() - t0)

    steps = trainer.global_step
    metrics: RunMetrics = {
        "metric": task.metric,
        "in_distribution": by_length[str(task.length)],
        "by_length": by_length,
        "val_best": max((v for _, v in monitor.val_history), default=None),
        "val_history": monitor.val_history,
        "solved": monitor.solved_step is not None,
        "steps": steps,
        "samples_seen": steps * config.batch_size,
        "steps_to_solve": monitor.solved_step,
        "samples_to_solve": None if monitor.solved_step is None else monitor.solved_step * config.batch_size,
        "time_to_solve_s": monitor.solved_seconds,
        "final_loss": float(module.last_loss) if module.last_loss is not None else None,
        "train_samples_per_s": steps * config.batch_size * trainer.world_size / monitor.train_seconds
        if monitor.train_seconds > 0
        else None,
        "train_samples_per_s_per_device": steps * config.batch_size / monitor.train_seconds
        if monitor.train_seconds > 0
        else None,
        "devices": trainer.world_size,
        "train_tokens_per_s": steps * config.batch_size * trainer.world_size * spec.seq_len / monitor.train_seconds
        if monitor.train_seconds > 0
        else None,
        "inference_samples_per_s": inference_rate,
        "fit_seconds": fit_seconds,
        "wall_time_s": time.perf_counter() - started,
        "peak_memory_mb": _peak_memory_mb(device),
        "num_parameters": num_parameters(model),
        "state_size": state_size(model),
        "device": str(device),
    }
    metrics["val_loss_history"] = monitor.val_loss_history
    if monitor.diagnostics_history:
        metrics["diagnostics_history"] = monitor.diagnostics_history
    return metrics


class _Batches(torch.utils.data.IterableDataset):
    """A fixed set served as consecutive chunks (the validation loader)."""

    def __init__(self, data: Batch, chunk: int) -> None:
        super().__init__()
        self.data, self.chunk = data, chunk

    def __iter__(self) -> Iterator[Batch]:
        for start in range(0, self.data.x.shape[0], self.chunk):
            yield Batch(*(t[start : start + self.chunk] for t in self.data))


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
