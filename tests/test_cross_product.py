"""Every registered task trains against every registered architecture on the smoke profile without error."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import get_task, list_architectures, list_tasks
from bench.results.store import RecordStore
from bench.run.admission import layout_fits
from bench.run.execute import execute
from bench.run.plan import plan
from bench.run.profiles import get_profile

# The smoke profile's task sizes and models, with the fewest steps that still train, validate twice and
# test at every length: with 38 tasks x 23 families the full smoke budget alone would take most of CI.
TRAIN = {"steps": 4, "eval_every": 2, "val_samples": 16, "test_samples": 16, "batch_size": 8}
# every pair planning admits: a family bound to an input layout (sts_attention) only on tasks of that layout
PAIRS = [
    (task, arch)
    for task in list_tasks()
    for arch in list_architectures()
    if layout_fits(arch, get_task(task, **get_profile("smoke").task_params(task)).spec())
]


@pytest.mark.parametrize(("task", "arch"), PAIRS, ids=[f"{t}-{a}" for t, a in PAIRS])
def test_smoke_pair_runs(task: str, arch: str, tmp_path: Path) -> None:
    runs = plan(task, [arch], get_profile("smoke"), train_overrides=TRAIN)
    [record] = execute(runs, RecordStore(tmp_path))
    assert record["status"] == "ok", record["error"]
    metrics = record["metrics"]
    assert metrics["steps"] == runs[0].train.steps or metrics["solved"]
    assert metrics["in_distribution"] is not None  # every model takes its training length
    assert set(metrics["by_length"]) == {str(n) for n in runs[0].task.all_lengths}
    assert metrics["num_parameters"] > 0
