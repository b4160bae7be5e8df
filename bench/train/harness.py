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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.loggers import Logger
from torch import nn
from torch.utils.data import DataLoader

from bench.contract.model import diagnostics, num_parameters, state_size, supports_length
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from bench.train.config import TrainConfig
from bench.train.data import TrainStream, fixed_set
from bench.train.measurements import RunMetrics
from bench.train.metrics import make_metric, masked_loss
from bench.train.schedule import lr_multiplier
from bench.train.segment import Segment

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
    """Batches `start` to `total` of a training stream, `size` at a time, stacked along a new first
    dimension. Ending at `total` matters: Lightning fetches one batch ahead, and an endless stream
    would make it generate a whole group that is never trained on. `start` > 0 continues a run from a
    checkpoint (`Segment`): the skipped batches are generated and dropped, so the continued run sees
    exactly the batches an uninterrupted one would."""

    def __init__(self, stream: Iterable[Batch], size: int, total: int, start: int = 0) -> None:
        super().__init__()
        self.stream, self.size, self.total, self.start = stream, size, total, start

    def __iter__(self) -> Iterator[Batch]:
        batches = itertools.islice(self.stream, self.start, self.total)
        while group := list(itertools.islice(batches, self.size)):
            yield Batch(*(torch.stack(t) for t in zip(*group)))


class BenchModule(L.LightningModule):
    """Masked loss, AdamW and the task's metric around an arbitrary sequence model."""

    def __init__(self, model: nn.Module, task: Task, spec: TaskSpec, config: TrainConfig) -> None:
        super().__init__()
        self.model, self.task, self.spec, self.config = model, task, spec, config
        self.val_metric = make_metric(task.metric, spec)
        self.last_loss: torch.Tensor | None = None
        self._val_loss_sum: torch.Tensor | None = None  # on the model's device once validation starts
        self._val_count = 0
        self.automatic_optimization = False  # several optimizer steps per call: see the module docstring

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, group: Batch, batch_idx: int) -> None:
        """One optimizer step per batch of the group (zero grad, loss, backward, clip, step), stopping
        at the step budget."""
        optimizer = cast(LightningOptimizer, self.optimizers())  # configure_optimizers returns exactly one
        # manual optimization: Lightning leaves stepping the scheduler to us, once per optimizer step
        scheduler = cast("torch.optim.lr_scheduler.LRScheduler | None", self.lr_schedulers())
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
            if scheduler is not None:
                scheduler.step()
            self.last_loss = loss.detach()
        if self.logger is not None and self.last_loss is not None:  # curves for a user's logger, once per group
            self.log("train_loss", self.last_loss, on_step=True, on_epoch=False)
            self.log("lr", optimizer.param_groups[0]["lr"], on_step=True, on_epoch=False)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        x, y, mask = batch
        out = self.model(x)
        self.val_metric.update(out, y, mask)
        # the validation loss breaks ties between learning rates whose metric still sits at chance
        # (`bench.run.lr_search`); weighted by batch size so chunking does not change it
        part = masked_loss(self.spec, out, y, mask).detach() * x.shape[0]
        self._val_loss_sum = part if self._val_loss_sum is None else self._val_loss_sum + part
        self._val_count += x.shape[0]

    def on_validation_epoch_end(self) -> None:
        self.log("val_metric", self.val_metric.compute(), prog_bar=False)
        if self._val_loss_sum is not None:
            self.log("val_loss", self._val_loss_sum / self._val_count, prog_bar=False)
        self.val_metric.reset()
        self._val_loss_sum, self._val_count = None, 0

    def configure_optimizers(self) -> Any:
        config = self.config
        optimizer: torch.optim.Optimizer
        if config.optimizer == "sgd":  # plain gradient descent on each batch (Wang et al. 2024)
            optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        else:
            optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        if config.schedule == "constant":
            return optimizer  # no scheduler object at all: the runs of before schedules, unchanged
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_multiplier(config.schedule, step, config.warmup_steps, config.steps)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


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
        if "val_loss" in trainer.callback_metrics:
            self.val_loss_history.append((trainer.global_step, float(trainer.callback_metrics["val_loss"])))
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
    *,
    logger: Logger | None = None,
    segment: Segment | None = None,
    callbacks: Sequence[Callback] = (),
) -> RunMetrics:
    """Train one model on one task with one seed; return the measurements (the record's `metrics`).

    Raw measurements only: figures derived from them (the mean beyond the training length, medians over
    seeds, ...) are computed when records are read, by `bench.results.measures`, so that one definition
    serves every page. `logger`: a Lightning logger that receives the training loss, learning rate and
    validation curves (none by default: logging costs time and nothing reads it); `segment`: train only
    part of the budget (see `Segment`); `callbacks`: more Lightning callbacks."""
    started = time.perf_counter()
    L.seed_everything(seed, verbose=False)
    spec = task.spec()
    model = model_factory(spec)
    module = BenchModule(model, task, spec, config)
    monitor = RunMonitor(task.solved_at, progress)
    callbacks = [monitor, *callbacks]
    start = 0 if segment is None or segment.resume is None else _checkpoint_step(segment.resume)
    max_steps = config.steps if segment is None else min(segment.stop, config.steps)
    if config.early_stop:
        # patience=sys.maxsize: no stop for lack of improvement (a run has far fewer validations), only at solved_at
        callbacks.append(
            EarlyStopping(
                "val_metric", mode="max", stopping_threshold=task.solved_at, patience=sys.maxsize, check_finite=False
            )
        )
    group = steps_per_call(config.eval_every)
    trainer = L.Trainer(
        max_steps=max_steps,
        val_check_interval=config.eval_every // group,  # counted in Lightning batches, i.e. groups
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        limit_val_batches=1.0,
        accelerator=config.accelerator,
        devices=config.devices,
        precision=config.precision,  # type: ignore[arg-type]
        strategy=config.strategy,
        logger=logger if logger is not None else False,
        log_every_n_steps=1,  # one Lightning batch is a group of `group` optimizer steps
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        deterministic=False,
    )
    train_loader = DataLoader(
        StepGroups(TrainStream(task, config.batch_size, seed, config.n_train), group, max_steps, start), batch_size=None
    )
    val = fixed_set(task, config.val_samples, task.length, seed, "val")
    val_loader = DataLoader(_Batches(val, 512), batch_size=None)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(module, train_loader, val_loader, ckpt_path=segment.resume if segment else None)
    if segment is not None:
        trainer.save_checkpoint(segment.save)
    fit_seconds = time.perf_counter() - started

    device = module.device
    by_length: dict[str, float | None] = {}
    inference_rate = None
    for length in task.all_lengths if segment is None or segment.evaluate else ():
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
    trained = steps - start  # optimizer steps taken here (all of them unless a segment continued a run)
    metrics: RunMetrics = {
        "metric": task.metric,
        "in_distribution": by_length.get(str(task.length)),
        "by_length": by_length,
        "val_best": max((v for _, v in monitor.val_history), default=None),
        "val_history": monitor.val_history,
        "val_loss_history": monitor.val_loss_history,
        "solved": monitor.solved_step is not None,
        "steps": steps,
        "samples_seen": steps * config.batch_size,
        "steps_to_solve": monitor.solved_step,
        "samples_to_solve": None if monitor.solved_step is None else monitor.solved_step * config.batch_size,
        "time_to_solve_s": monitor.solved_seconds,
        "final_loss": float(module.last_loss) if module.last_loss is not None else None,
        "train_samples_per_s": trained * config.batch_size * trainer.world_size / monitor.train_seconds
        if monitor.train_seconds > 0
        else None,
        "train_samples_per_s_per_device": trained * config.batch_size / monitor.train_seconds
        if monitor.train_seconds > 0
        else None,
        "devices": trainer.world_size,
        "train_tokens_per_s": trained * config.batch_size * trainer.world_size * spec.seq_len / monitor.train_seconds
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


def _checkpoint_step(path: str) -> int:
    """The optimizer steps a Lightning checkpoint has trained (where a continued segment starts)."""
    return int(torch.load(path, map_location="cpu", weights_only=False)["global_step"])


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
