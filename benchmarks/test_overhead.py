"""Harness overhead: the same model trained on the same data by a hand-written PyTorch loop and by the
Lightning harness (`bench.train.harness.run_one`), side by side in one process, interleaved round by round.

Per pair, `benchmark.pedantic` times `run_one` (the harness; pytest-benchmark's statistics) and its
`setup` runs the hand loop just before each harness round, so both see the same machine state. The
figure that matters is the ratio harness samples/s / hand samples/s, paired per round and summarised
as a mean with a 95% interval over rounds; it is in `extra_info` and printed in the `archbench`
section. Both sides span the same work: seeding, model construction and `steps` optimizer steps on
data generated in whole batches from the task's training stream; the harness runs with validation
off and then scores two test examples per length (a few milliseconds, counted against it).

On the CPU both sides are timed in process CPU time (`time.process_time`, also pytest-benchmark's timer
here): on a machine shared with other jobs, wall time mostly measures the other jobs, while CPU time
measures the work this process did. On a GPU the timer is wall time (work is asynchronous there).

Sizes are the quick profile's (its preset, batch size and lr) whatever `--archbench-profile` says;
that option sets only how many steps and rounds are measured. Run:
`OMP_NUM_THREADS=1 python -m pytest benchmarks/test_overhead.py --benchmark-only --archbench-profile quick`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pytest

from bench import build_architecture
from bench.results.stats import mean_ci
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import Profile, get_profile
from bench.train.harness import run_one
from bench.train.speed import HandLoopResult, default_device, environment, hand_loop

# A sample, not the registry: the overhead is the harness's, nearly independent of the model, so one
# family per kind of model (softmax attention, torch's fused RNN, a backbone recurrence) is enough.
PAIRS = [(task, arch) for task in ("sparse_token_selection", "mqar") for arch in ("transformer", "lstm", "mamba")]
SIZES_FROM = "quick"
# --archbench-profile -> (steps per round, rounds). `quick` measures whole quick-length runs (500 steps),
# so the harness's fixed cost per run (Trainer set-up, the test scoring: about 40 ms) weighs as it does
# in the sweep; shorter rounds overstate it.
MEASURE = {"smoke": (40, 3), "quick": (500, 4)}
DEFAULT_MEASURE = (100, 5)
DEVICE = default_device()
CLOCK = time.process_time if DEVICE.type == "cpu" else time.perf_counter


def planned(task: str, arch: str, steps: int) -> PlannedRun:
    """The quick profile's run of the pair, cut to `steps` steps with validation and early stopping off."""
    [run] = plan(
        task,
        [arch],
        get_profile(SIZES_FROM),
        seeds=[0],
        train_overrides={
            "steps": steps,
            "eval_every": 10 * steps,
            "early_stop": False,
            "val_samples": 2,
            "test_samples": 2,
        },
    )
    return run


@pytest.mark.benchmark(group=f"harness overhead (run_one, quick preset, {CLOCK.__name__})", timer=CLOCK)
@pytest.mark.parametrize(("task", "arch"), PAIRS, ids=[f"{t}-{a}" for t, a in PAIRS])
def test_harness_overhead(
    benchmark: Any, archbench_profile: Profile, archbench_report: Callable[[str], None], task: str, arch: str
) -> None:
    steps, rounds = MEASURE.get(archbench_profile.name, DEFAULT_MEASURE)
    run = planned(task, arch, steps)
    factory = lambda spec: build_architecture(arch, spec, **run.arch_config)  # noqa: E731
    hand: list[HandLoopResult] = []
    harness: list[tuple[float, dict[str, Any]]] = []  # (seconds on CLOCK, run_one's metrics)

    def harness_round() -> None:
        started = CLOCK()
        metrics = run_one(run.task, factory, run.train, run.seed)
        harness.append((CLOCK() - started, metrics))

    warm = planned(task, arch, 2)  # first calls allocate and pick kernels; keep that out of round one
    hand_loop(warm.task, factory, warm.train, warm.seed, 2, DEVICE)
    run_one(warm.task, factory, warm.train, warm.seed)

    benchmark.pedantic(
        harness_round,
        rounds=rounds,
        setup=lambda: hand.append(hand_loop(run.task, factory, run.train, run.seed, steps, DEVICE, CLOCK)),
    )

    samples = steps * run.train.batch_size
    ratio = mean_ci([h.seconds / seconds for h, (seconds, _) in zip(hand, harness)])
    hand_rate = mean_ci([samples / h.seconds for h in hand])
    harness_rate = mean_ci([samples / seconds for seconds, _ in harness])
    first = harness[0][1]
    benchmark.extra_info.update(
        {
            "task": task,
            "arch": arch,
            "preset": run.preset,
            "steps": steps,
            "rounds": len(harness),
            "batch_size": run.train.batch_size,
            "num_parameters": first["num_parameters"],
            "clock": CLOCK.__name__,
            "hand_samples_per_s": hand_rate.mean,
            "harness_samples_per_s": harness_rate.mean,
            "ratio": ratio.mean,
            "ratio_ci": [ratio.low, ratio.high],
            "ci_method": ratio.method,
            "hand_final_loss": hand[0].final_loss,
            "harness_final_loss": first["final_loss"],
            **environment(DEVICE),
        }
    )
    archbench_report(
        f"overhead {task} x {arch} ({run.preset}, {steps} steps x {len(harness)} rounds, "
        f"{environment(DEVICE)['threads']} thread(s), {CLOCK.__name__}): hand {hand_rate.format(0)} samples/s, "
        f"harness {harness_rate.format(0)} samples/s, ratio {ratio.format(3)}"
    )
    # Same seed, same batches, same optimizer: the two sides must have trained the same model, or the
    # comparison is not of the same work.
    assert math.isclose(hand[0].final_loss, first["final_loss"], rel_tol=1e-3, abs_tol=1e-5), (
        hand[0].final_loss,
        first["final_loss"],
    )
