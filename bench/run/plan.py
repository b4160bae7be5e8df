"""Plan runs (validating every name and parameter before any training), then execute and record them.

Planning resolves the task, the preset-matched hyper-parameters and the run key of every (task,
architecture, seed) so that a typo fails in milliseconds with exit code 2 and nothing written.
Execution records every run, failed ones too (with the error), so one broken architecture never
stops the others or loses their records.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from bench.contract.errors import ArchbenchError
from bench.contract.registry import (
    get_task,
)
from bench.contract.task import Task
from bench.results.schema import run_key
from bench.run.admission import admit
from bench.run.presets import resolve_hparams
from bench.run.profiles import Profile
from bench.train.config import TrainConfig

if TYPE_CHECKING:
    pass


@dataclass
class PlannedRun:
    """One fully resolved run: everything that goes into its key."""

    task_name: str
    task: Task
    arch: str
    arch_config: dict[str, Any]
    preset: str | None
    train: TrainConfig
    seed: int
    user_task_params: dict[str, Any] = field(default_factory=dict)
    user_arch_params: dict[str, Any] = field(default_factory=dict)
    # Fields added to the record but not to its key: how a setting was chosen (e.g. `lr_selection`)
    # describes the run without making it a different run.
    record_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return run_key(self.task_name, self.task.config(), self.arch, self.arch_config, self.train.to_dict(), self.seed)

    @property
    def label(self) -> str:
        """Architecture plus whatever the user set, e.g. `transformer [codes=fixed]`."""
        extras = {**self.user_task_params, **self.user_arch_params}
        return self.arch + (" [" + ", ".join(f"{k}={v}" for k, v in extras.items()) + "]" if extras else "")


def parse_assignments(items: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`task.KEY=VALUE` / `arch.KEY=VALUE` strings -> grids of task and architecture overrides.

    A key given more than once is a grid axis: `--set task.codes=stochastic --set task.codes=fixed`
    runs both. Returns the cross product of the task axes and of the architecture axes.
    """
    axes: dict[str, dict[str, list[str]]] = {"task": {}, "arch": {}}
    for item in items:
        target, _, rest = item.partition(".")
        key, eq, value = rest.partition("=")
        if target not in axes or not key or not eq:
            raise ArchbenchError(f"--set expects task.KEY=VALUE or arch.KEY=VALUE; got {item!r}")
        axes[target].setdefault(key, []).append(value)

    def grid(axis: dict[str, list[str]]) -> list[dict[str, Any]]:
        keys = list(axis)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(axis[k] for k in keys))] or [{}]

    return grid(axes["task"]), grid(axes["arch"])


def plan(
    task_name: str,
    archs: list[str],
    profile: Profile,
    seeds: list[int] | None = None,
    preset: str | None = None,
    task_grid: list[dict[str, Any]] | None = None,
    arch_grid: list[dict[str, Any]] | None = None,
    train_overrides: dict[str, Any] | None = None,
) -> list[PlannedRun]:
    """Every run of (task settings x architectures x architecture settings x seeds), fully validated."""
    preset = preset or profile.preset
    runs: list[PlannedRun] = []
    for task_params in task_grid or [{}]:
        task = get_task(task_name, **{**profile.task_params(task_name), **task_params})
        spec = task.spec()
        train_fields = {**profile.train_overrides(task_name), **(train_overrides or {})}
        unknown = set(train_fields) - set(TrainConfig.__dataclass_fields__)
        if unknown:
            raise ArchbenchError(f"unknown training setting(s) {', '.join(sorted(unknown))}; valid: {', '.join(TrainConfig.__dataclass_fields__)}")
        train = TrainConfig(**train_fields)
        for arch in archs:
            for arch_params in arch_grid or [{}]:
                overrides = {**profile.arch_overrides(task_name, arch), **arch_params}
                hparams = resolve_hparams(arch, spec, preset, overrides)
                admit(arch, task_name, spec, hparams)  # builds once: range checks, and a non-causal model on a task it could cheat
                for seed in seeds if seeds is not None else profile.seeds:
                    runs.append(PlannedRun(task_name, task, arch, hparams, preset, train, seed, task_params, arch_params))
    return runs


