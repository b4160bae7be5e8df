"""Fabricated but realistic run records for the leaderboard tests (publish, results).

The records go through `bench.results.store.make_record`, so they carry the real environment and code version
(they are "current"); the metrics have every field the harness writes, with chosen values so a test can
recompute a cell by hand.
"""

from __future__ import annotations

from typing import Any

from bench.results.schema import make_record, run_key
from bench.results.store import RecordStore

TASK = "sparse_token_selection"
TASK_CONFIG = {
    "code_dim": 64,
    "code_seed": 0,
    "codes": "stochastic",
    "d": 8,
    "eval_lengths": [32, 64, 128],
    "length": 16,
    "q": 3,
    "solved_at": 0.9,
}
TRAIN = {
    "accelerator": "auto",
    "batch_size": 64,
    "devices": "auto",
    "early_stop": True,
    "eval_every": 100,
    "grad_clip": 1.0,
    "lr": 0.003,
    "n_train": None,
    "precision": "32-true",
    "steps": 3000,
    "strategy": "auto",
    "test_samples": 1024,
    "val_samples": 512,
    "weight_decay": 0.01,
}
PARAMS = {"transformer": 105_352, "fcn": 105_153, "lstm": 104_996, "gru": 105_668}
STATE = {"transformer": None, "fcn": None, "lstm": 312, "gru": 180}


def metrics(value: float, arch: str, solved_step: int | None = None, ood: float | None = 0.5) -> dict[str, Any]:
    """Harness-shaped measurements with in-distribution `value` and `ood` at every longer length (fcn: n/a
    beyond the training length); solved at `solved_step` (None: never, the 3000-step budget used up)."""
    by_length = {"16": value, **{str(n): (None if arch == "fcn" else ood) for n in (32, 64, 128)}}
    return {
        "metric": "r2",
        "in_distribution": value,
        "by_length": by_length,
        "val_best": value,
        "val_history": [[100, value]],
        "solved": solved_step is not None,
        "steps": solved_step or 3000,
        "samples_seen": (solved_step or 3000) * 64,
        "steps_to_solve": solved_step,
        "samples_to_solve": solved_step * 64 if solved_step else None,
        "time_to_solve_s": solved_step / 100 if solved_step else None,
        "final_loss": 1 - value,
        "train_samples_per_s": 1800.0 + value,
        "train_tokens_per_s": 30000.0,
        "inference_samples_per_s": 50000.0,
        "fit_seconds": 100.0,
        "wall_time_s": 101.0,
        "peak_memory_mb": 400.0,
        "num_parameters": PARAMS.get(arch, 1000),
        "state_size": STATE.get(arch),
        "device": "cpu",
    }


def record(
    arch: str,
    seed: int,
    value: float | None,
    *,
    label: str | None = None,
    n_train: int | None = None,
    error: str = "RuntimeError: boom at model.py:1",
    task_config: dict | None = None,
    solved_step: int | None = None,
    ood: float | None = 0.5,
    **train: Any,
) -> dict[str, Any]:
    """One run record; `value=None` makes a failed run (`solved_step`, `ood`: see `metrics`)."""
    task_config = task_config or TASK_CONFIG
    train_config = {**TRAIN, **train, "n_train": n_train}
    arch_config = {"layers": 2, "width": 64}
    rec = make_record(
        key=run_key(TASK, task_config, arch, arch_config, train_config, seed),
        task=TASK,
        task_config=task_config,
        arch=arch,
        arch_config=arch_config,
        preset="small",
        train_config=train_config,
        seed=seed,
        metrics=None if value is None else metrics(value, arch, solved_step, ood),
        status="failed" if value is None else "ok",
        error=error if value is None else None,
        command=f"archbench run --task {TASK} --arch {arch} --profile quick",
    )
    rec["label"] = label or arch
    return rec


VALUES = {"transformer": [0.92, 0.91, 0.93], "gru": [0.90, 0.95, 0.85], "lstm": [0.20, 0.22, 0.18]}


def standard_store(root) -> RecordStore:
    """transformer best, gru within noise of it, lstm clearly worse, fcn failed on every seed."""
    store = RecordStore(root)
    for arch, values in VALUES.items():
        for seed, value in enumerate(values):
            store.append(record(arch, seed, value))
    for seed in range(3):
        store.append(record("fcn", seed, None))
    return store
