"""Budgets as data: how big, how long and how many seeds a run gets.

`smoke` is for CI (seconds per run); `quick` is the CPU default that shows each task's real behaviour
in minutes. A profile sets the preset, the seeds, the TrainConfig fields, and per-task overrides
(`tasks[name]["params"]` for task parameters, `["train"]` for TrainConfig fields, `["arch"][family]`
for architecture hyper-parameters). Command-line flags override the profile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.errors import ArchbenchError


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    preset: str
    seeds: tuple[int, ...]
    train: dict[str, Any]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def task_params(self, task: str) -> dict[str, Any]:
        return dict(self.tasks.get(task, {}).get("params", {}))

    def train_overrides(self, task: str) -> dict[str, Any]:
        return {**self.train, **self.tasks.get(task, {}).get("train", {})}

    def arch_overrides(self, task: str, arch: str) -> dict[str, Any]:
        return dict(self.tasks.get(task, {}).get("arch", {}).get(arch, {}))


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI-sized: one seed, a few dozen steps, tiny models; checks that everything runs",
        preset="tiny",
        seeds=(0,),
        train={"steps": 20, "batch_size": 16, "eval_every": 10, "val_samples": 64, "test_samples": 64},
    ),
    "quick": Profile(
        name="quick",
        description="CPU default: three seeds, up to a few thousand steps with early stopping at solved_at",
        preset="small",
        seeds=(0, 1, 2),
        train={"steps": 3000, "batch_size": 64, "lr": 3e-3, "eval_every": 100, "val_samples": 512, "test_samples": 1024},
        tasks={},
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ArchbenchError(f"unknown profile {name!r}; valid: {', '.join(PROFILES)}")
    return PROFILES[name]
