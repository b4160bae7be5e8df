"""Estimate what a profile costs in core-hours, from measured optimizer-step times at its sizes.

    OMP_NUM_THREADS=1 python benchmarks/estimate_profile_cost.py --profile paper --archs transformer,lstm,mamba,fcn

Why an estimate and not a run: `paper` is cluster-sized. Per
task and listed architecture it builds the profile's model, times one training step on one thread after
a warm-up step (every registered architecture unless `--archs` names a sample), at `--batch` samples (scaled linearly to the profile's batch size, so that the longest
tasks fit in memory), then multiplies the mean over the listed architectures by the profile's steps,
seeds and the number of registered architectures. No early stopping and no evaluation are counted, so
it is an upper bound on training and a lower bound on nothing else.
"""

from __future__ import annotations

import argparse
import time

import torch

from bench import build_architecture, list_architectures, list_tasks
from bench.run.plan import plan
from bench.run.profiles import get_profile
from bench.train.data import TrainStream
from bench.train.speed import make_optimizer, train_step


def step_seconds(task: str, arch: str, profile_name: str, batch: int) -> float:
    """Seconds of one optimizer step at the profile's sizes, scaled to its batch size."""
    profile = get_profile(profile_name)
    [run] = plan(task, [arch], profile, seeds=[0], train_overrides={"batch_size": batch})
    spec = run.task.spec()
    model = build_architecture(arch, spec, **run.arch_config)
    optimizer = make_optimizer(model, run.train)
    data = next(iter(TrainStream(run.task, batch, 0, None)))
    train_step(model, optimizer, spec, data, run.train.grad_clip)  # warm-up: allocation, kernel choice
    started = time.perf_counter()
    train_step(model, optimizer, spec, data, run.train.grad_clip)
    return (time.perf_counter() - started) * profile.train_overrides(task)["batch_size"] / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument(
        "--archs",
        default=None,
        help="comma-separated architectures timed (their mean stands for all); default: every registered one",
    )
    parser.add_argument("--batch", type=int, default=8, help="samples per timed step (default 8)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    profile = get_profile(args.profile)
    families, total = len(list_architectures()), 0.0
    for task in list_tasks():
        archs = args.archs.split(",") if args.archs else list_architectures()
        times = {arch: step_seconds(task, arch, args.profile, args.batch) for arch in archs}
        steps = profile.train_overrides(task)["steps"]
        hours = sum(times.values()) / len(times) * steps * len(profile.seeds) * families / 3600
        total += hours
        print(
            f"{task}: " + ", ".join(f"{a} {t:.2f} s/step" for a, t in times.items()) + f" -> {hours:,.0f} core-hours",
            flush=True,
        )
    print(
        f"{args.profile}: about {total:,.0f} core-hours of training ({families} families x {len(profile.seeds)} seeds, no early stopping)"
    )


if __name__ == "__main__":
    main()
