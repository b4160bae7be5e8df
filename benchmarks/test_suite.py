"""The benchmark suite: every registered task x every registered architecture, plugins included.

`pytest --benchmark-only` runs it (`-k "mqar and lstm"` picks pairs; `--archbench-profile quick` the
budget). Per pair, two benchmarks with stable ids:

* `test_train[TASK-ARCH]` times one optimizer step on one whole training batch (samples/s, tokens/s);
* `test_inference[TASK-ARCH]` times one forward pass on the same batch, in eval mode, without gradients.

Both use the `benchmark` fixture itself, so pytest-benchmark's calibration, rounds, statistics, JSON and
compare apply to exactly those callables. The pair's training runs (the profile's seeds, through the
normal runner, records written to the session's store) happen once per pair, outside the timed part;
their figures go into `benchmark.extra_info` of both benchmarks, with the device, threads and torch
version the speed was measured with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch

from bench import build_architecture, list_architectures, list_tasks
from bench.contract.spec import Batch
from bench.report.lengths import length_curves
from bench.results.measures import (
    in_distribution,
    median_samples_to_solve,
    over_seeds,
    solved_count,
)
from bench.results.store import RecordStore
from bench.run.execute import execute
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import Profile
from bench.train.data import TrainStream
from bench.train.speed import (
    default_device,
    environment,
    make_optimizer,
    synchronize,
    to_device,
    train_step,
)

PAIRS = [(task, arch) for task in list_tasks() for arch in list_architectures()]
IDS = [f"{task}-{arch}" for task, arch in PAIRS]
TrainedPair = tuple[PlannedRun, list[dict[str, Any]]]  # (the first planned run, the records of every seed)


@pytest.fixture(scope="session")
def trained(
    archbench_profile: Profile, archbench_store: RecordStore, archbench_command: str
) -> Callable[[str, str], TrainedPair]:
    """Train a pair on the profile (every seed) the first time it is asked for; later calls reuse it."""
    cache: dict[tuple[str, str], TrainedPair] = {}

    def get(task: str, arch: str) -> TrainedPair:
        if (task, arch) not in cache:
            runs = plan(task, [arch], archbench_profile)
            cache[task, arch] = (runs[0], execute(runs, archbench_store, command=archbench_command))
        run, records = cache[task, arch]
        failed = [r["error"] for r in records if r["status"] != "ok"]
        if failed:  # a pair that cannot train is a bug to see, not a benchmark to time
            pytest.fail(f"{task} x {arch}: training failed: {failed[0]}")
        return run, records

    return get


def run_summary(run: PlannedRun, records: list[dict[str, Any]], profile: Profile) -> dict[str, Any]:
    """What the pair's runs measured, for `extra_info`: metric over seeds with its 95% interval, the
    metric at every length (None = n/a, a length the model cannot take), the mean beyond the training
    length, and per seed the steps / samples / seconds until `solved_at` (None = not solved) with the
    median samples to solve (None when the median seed did not solve). Every figure is the
    `bench.results.measures` one, so it matches the run table and the leaderboard for the same records."""
    [curve] = length_curves(records)
    metrics = [r["metrics"] for r in records]
    point = {p.length: p.estimate for p in curve.points}
    in_dist = over_seeds(in_distribution(m) for m in metrics)
    median = median_samples_to_solve(metrics)
    return {
        "task": run.task_name,
        "arch": run.arch,
        "profile": profile.name,
        "preset": run.preset,
        "seeds": [r["seed"] for r in records],
        "metric": curve.metric,
        "in_distribution": in_dist.mean if in_dist else None,
        "in_distribution_ci": [in_dist.low, in_dist.high] if in_dist else None,
        "beyond_training_mean": curve.summary.mean if curve.summary else None,
        "beyond_training_mean_ci": [curve.summary.low, curve.summary.high] if curve.summary else None,
        "by_length": {str(n): (e.mean if e else None) for n, e in point.items()},
        "ci_method": in_dist.method if in_dist else None,
        "solved_at": run.task.solved_at,
        "solved_seeds": solved_count(metrics)[0],
        "steps_to_solve": [m["steps_to_solve"] for m in metrics],
        "samples_to_solve": [m["samples_to_solve"] for m in metrics],
        "samples_to_solve_median": None if math.isinf(median) else median,
        "time_to_solve_s": [m["time_to_solve_s"] for m in metrics],
        "num_parameters": metrics[0]["num_parameters"],
        "arch_config": run.arch_config,
        "run_keys": [r["key"] for r in records],
    }


def timed_setup(run: PlannedRun) -> tuple[torch.nn.Module, Batch, torch.device]:
    """A fresh model of the pair's size on the benchmark device and one whole training batch. Speed does
    not depend on the weights, so the model trained by the runs is not needed."""
    device = default_device()
    torch.manual_seed(run.seed)
    model = build_architecture(run.arch, run.task.spec(), **run.arch_config).to(device)
    batch = next(iter(TrainStream(run.task, run.train.batch_size, run.seed, run.train.n_train)))
    return model, to_device(batch, device), device


def record_speed(benchmark: Any, run: PlannedRun, batch: Batch, device: torch.device, prefix: str) -> None:
    """samples/s and tokens/s from pytest-benchmark's median round (None under --benchmark-disable)."""
    median = benchmark.stats.stats.median if benchmark.stats is not None else None
    samples = batch.x.shape[0]
    benchmark.extra_info.update(
        {
            f"{prefix}_batch_size": samples,
            f"{prefix}_seq_len": run.task.spec().seq_len,
            f"{prefix}_samples_per_s": samples / median if median else None,
            f"{prefix}_tokens_per_s": samples * run.task.spec().seq_len / median if median else None,
            **environment(device),
        }
    )


@pytest.mark.benchmark(group="train step")
@pytest.mark.parametrize(("task", "arch"), PAIRS, ids=IDS)
def test_train(
    benchmark: Any, trained: Callable[[str, str], TrainedPair], archbench_profile: Profile, task: str, arch: str
) -> None:
    run, records = trained(task, arch)
    benchmark.extra_info.update(run_summary(run, records, archbench_profile))
    model, batch, device = timed_setup(run)
    model.train()
    optimizer = make_optimizer(model, run.train)
    spec = run.task.spec()

    def step() -> torch.Tensor:
        loss = train_step(model, optimizer, spec, batch, run.train.grad_clip)
        synchronize(device)
        return loss

    loss = benchmark(step)
    assert torch.isfinite(loss), f"{task} x {arch}: non-finite training loss"
    record_speed(benchmark, run, batch, device, "train")


@pytest.mark.benchmark(group="inference")
@pytest.mark.parametrize(("task", "arch"), PAIRS, ids=IDS)
def test_inference(
    benchmark: Any, trained: Callable[[str, str], TrainedPair], archbench_profile: Profile, task: str, arch: str
) -> None:
    run, records = trained(task, arch)
    benchmark.extra_info.update(run_summary(run, records, archbench_profile))
    model, batch, device = timed_setup(run)
    model.eval()

    @torch.no_grad()
    def forward() -> torch.Tensor:
        out = model(batch.x)
        synchronize(device)
        return out

    out = benchmark(forward)
    assert out.shape[:2] == batch.x.shape[:2], f"{task} x {arch}: output shape {tuple(out.shape)}"
    record_speed(benchmark, run, batch, device, "inference")
