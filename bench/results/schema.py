"""The run record: its schema version, its key and how one is made."""
from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.results.code_version import code_version

SCHEMA = 1
DEFAULT_ROOT = Path("results/runs")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_key(task: str, task_config: dict, arch: str, arch_config: dict, train_config: dict, seed: int) -> str:
    """Content address of a run: the same inputs always give the same key (and skip the rerun)."""
    payload = {"schema": SCHEMA, "task": task, "task_config": task_config, "arch": arch,
               "arch_config": arch_config, "train_config": train_config, "seed": seed}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:24]


# Code whose edits cannot change a run's measurements (it parses the command line, stores, aggregates or
# renders records): left out of `code_version`, so fixing a table never makes every stored run stale.

def environment(sources: tuple[str, ...] = ()) -> dict[str, Any]:
    """Package versions, the run's code version (and the `sources` it covers) and hardware, stored with
    every record (`bench.results.freshness` uses them to mark records made by other code as stale)."""
    import lightning
    import torch
    import torchmetrics

    from bench import __version__

    return {
        "archbench": __version__,
        "code_version": code_version(sources),
        "code_sources": list(sources),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "torchmetrics": torchmetrics.__version__,
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }



def make_record(
    *,
    key: str,
    task: str,
    task_config: dict,
    arch: str,
    arch_config: dict,
    preset: str | None,
    train_config: dict,
    seed: int,
    metrics: dict[str, Any] | None,
    status: str = "ok",
    error: str | None = None,
    command: str | None = None,
    sources: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One run's record; `sources` are the task's and architecture's own files (`code_sources`)."""
    return {
        "schema": SCHEMA,
        "key": key,
        "task": task,
        "task_config": task_config,
        "arch": arch,
        "arch_config": arch_config,
        "preset": preset,
        "train_config": train_config,
        "seed": seed,
        "n_train": train_config.get("n_train"),
        "status": status,
        "error": error,
        "metrics": metrics,
        "environment": environment(sources),
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
