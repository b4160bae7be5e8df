"""The run record: its typed fields, its schema version, its key, how one is made and how an old one is read.

A record is one JSON object per line (`bench.results.store`). `RunRecord` is a `TypedDict`: at run time
it is the plain dict that `json` reads and writes, and the type checker knows every field.

`SCHEMA` is the version of the record format. Every reader gets records through `migrate`, the one place
that knows older formats (`RecordStore.load` applies it to every line), so no other module carries
shims for fields that older records lack. The schema is part of the run key, so a record written under
an older schema is never "the same run" as one planned now: its key is the one it was written with, and
`bench.results.freshness` reports it as stale (`schema 1 -> 2`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from bench.results.code_version import code_version
from bench.train.measurements import RunMetrics

SCHEMA = 2
DEFAULT_ROOT = Path("results/runs")

Status = Literal["ok", "failed"]


class RunEnvironment(TypedDict):
    """Versions and hardware a run was measured with (`bench.results.freshness` compares the versions)."""

    archbench: str
    code_version: str | None  # None only in records migrated from schema 1 that predate the stamp
    code_sources: list[str]  # the run's own task and architecture files the digest covers (`code_sources`)
    python: str
    torch: str
    lightning: str
    torchmetrics: str
    platform: str
    cpu: str
    cpu_count: int | None
    torch_threads: int
    gpu: str | None


class _RunRecordRequired(TypedDict):
    schema: int
    key: str  # `run_key` of the inputs, under the schema the record was written with
    task: str
    task_config: dict[str, Any]
    arch: str
    arch_config: dict[str, Any]
    preset: str | None
    train_config: dict[str, Any]  # `TrainConfig.to_dict()`: every training setting, also those not in the key
    seed: int
    n_train: int | None  # fixed training-set size, None for online (fresh samples every step)
    status: Status
    error: str | None  # why a failed run failed
    metrics: RunMetrics | None  # None for a failed run
    environment: RunEnvironment
    command: str | None
    created: str  # ISO 8601, UTC
    label: str  # the architecture plus what the user set, e.g. `transformer [codes=fixed]`


class RunRecord(_RunRecordRequired, total=False):
    """One stored run. The optional fields describe a run without entering its key."""

    lr_selection: dict[str, Any]  # how the learning rate was chosen (`bench.run.lr_select`)
    migrated_from: int  # the schema the record was written under, when older than `SCHEMA`


REQUIRED_FIELDS = _RunRecordRequired.__required_keys__


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_key(task: str, task_config: dict, arch: str, arch_config: dict, train_config: dict, seed: int) -> str:
    """Content address of a run: the same inputs always give the same key (and skip the rerun)."""
    payload = {
        "schema": SCHEMA,
        "task": task,
        "task_config": task_config,
        "arch": arch,
        "arch_config": arch_config,
        "train_config": train_config,
        "seed": seed,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:24]


def environment(sources: tuple[str, ...] = ()) -> RunEnvironment:
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
    task_config: dict[str, Any],
    arch: str,
    arch_config: dict[str, Any],
    preset: str | None,
    train_config: dict[str, Any],
    seed: int,
    metrics: RunMetrics | None,
    status: Status = "ok",
    error: str | None = None,
    command: str | None = None,
    sources: tuple[str, ...] = (),
    label: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> RunRecord:
    """One run's record; `sources` are the task's and architecture's own files (`code_sources`), `label`
    defaults to the architecture name, `extra` adds fields that describe the run but are not in its key
    (`lr_selection`)."""
    record: RunRecord = {
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
        "label": label or arch,
    }
    return with_fields(record, extra or {})


def with_fields(record: RunRecord, extra: Mapping[str, Any]) -> RunRecord:
    """A copy of `record` with `extra` fields set (e.g. a stored run's `lr_selection` from this plan)."""
    return cast(RunRecord, {**record, **extra})


# --------------------------------------------------------------------------- reading older records

# Tasks that became several registered tasks: old name -> (the task_config key that chose the variant,
# variant -> new task name). The key leaves the task config; the new name replaces the task.
RENAMED_TASKS: dict[str, tuple[str, dict[str, str]]] = {
    "chomsky": (
        "task",
        {
            name: name
            for name in (
                "even_pairs",
                "cycle_navigation",
                "modular_arithmetic",
                "reverse_string",
                "stack_manipulation",
                "duplicate_string",
            )
        },
    ),
    "state_tracking": (
        "group",
        {"parity": "state_parity", "cyclic": "state_cyclic", "S5": "state_s5", "A5": "state_a5"},
    ),
}
# TrainConfig fields added after the first schema-1 records, at the value those runs used.
ADDED_TRAIN_FIELDS: dict[str, Any] = {"strategy": "auto"}


def migrate(record: Mapping[str, Any]) -> RunRecord:
    """`record` (as read from JSON, any schema up to `SCHEMA`) in the current format; the input is not changed.

    Schema 1 -> 2: the Chomsky and state-tracking variants become tasks of their own (`RENAMED_TASKS`:
    `chomsky` with `task=even_pairs` -> `even_pairs`, `state_tracking` with `group=S5` -> `state_s5`; the
    variant setting leaves the task config and the label); training settings added later get the value
    those runs used (`strategy: auto`); records from before the code-version stamp get `code_version:
    None` and empty `code_sources`; metrics from before multi-device runs get `devices: 1` and a per-device
    rate equal to the total; a missing label is the architecture name; the derived `ood_mean` leaves the metrics (measures computes it);
    Z_m's `modulus` stays only with `state_cyclic`. The key is kept (it is the key
    the run was stored under) and `migrated_from` says which schema it came from, which makes the record
    stale (`bench.results.freshness`).

    Raises ValueError for a record of an unknown or newer schema, or one missing required fields (the
    store reports it and skips the line).
    """
    version = record.get("schema")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"no valid schema version ({version!r})")
    if version > SCHEMA:
        raise ValueError(f"schema {version}, newer than this archbench reads: {SCHEMA} and older")
    out = dict(record)
    if version < 2:
        out = _from_schema_1(out)
        out["migrated_from"] = version
        out["schema"] = SCHEMA
    missing = sorted(REQUIRED_FIELDS - out.keys())
    if missing:
        raise ValueError(f"a schema {version} record without {', '.join(missing)}")
    return cast(RunRecord, out)


def _from_schema_1(record: dict[str, Any]) -> dict[str, Any]:
    task, task_config = record.get("task"), dict(record.get("task_config") or {})
    if task in RENAMED_TASKS:
        setting, names = RENAMED_TASKS[task]
        variant = task_config.get(setting)
        if variant in names:
            record["task"] = names[variant]
            del task_config[setting]
            if record["task"] != "state_cyclic":  # only Z_m keeps its modulus as a parameter
                task_config.pop("modulus", None)
            if isinstance(record.get("label"), str):
                record["label"] = _without_setting(record["label"], setting)
    record["task_config"] = task_config
    if not record.get("label"):
        record["label"] = record.get("arch")
    if isinstance(record.get("train_config"), dict):
        record["train_config"] = {**ADDED_TRAIN_FIELDS, **record["train_config"]}
    if isinstance(record.get("environment"), dict):
        record["environment"] = {"code_version": None, "code_sources": [], **record["environment"]}
    metrics = record.get("metrics")
    if isinstance(metrics, dict) and "ood_mean" in metrics:  # a derived figure: `bench.results.measures` computes it
        metrics = {k: v for k, v in metrics.items() if k != "ood_mean"}
        record["metrics"] = metrics
    if isinstance(metrics, dict) and "devices" not in metrics:
        record["metrics"] = {
            "devices": 1,
            "train_samples_per_s_per_device": metrics.get("train_samples_per_s"),
            **metrics,
        }
    return record


def _without_setting(label: str, setting: str) -> str:
    """`transformer [group=S5, layers=2]` without `group` -> `transformer [layers=2]`."""
    arch, bracket, rest = label.partition(" [")
    if not bracket or not rest.endswith("]"):
        return label
    kept = [item for item in rest[:-1].split(", ") if item.partition("=")[0] != setting]
    return arch + (" [" + ", ".join(kept) + "]" if kept else "")
