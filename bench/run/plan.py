"""Plan runs (validating every name and parameter before any training), then execute and record them.

Planning resolves the task, the preset-matched hyper-parameters and the run key of every (task,
architecture, seed) so that a typo fails in milliseconds with exit code 2 and nothing written.
Execution records every run, failed ones too (with the error), so one broken architecture never
stops the others or loses their records.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.contract.errors import ArchbenchError
from bench.contract.registry import get_architecture, get_task
from bench.contract.task import Task
from bench.results.schema import canonical_json, run_key
from bench.run.admission import admit, layout_fits
from bench.run.presets import REFERENCE, resolve_hparams
from bench.run.profiles import Profile
from bench.train.config import TrainConfig
from bench.train.loggers import LogTarget
from bench.train.segment import Segment

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
    # The user's settings that depart from the plain configuration, with their resolved values (filled
    # by `plan`, see `label_departures`); None (a run built by hand): every user setting counts.
    departures: dict[str, Any] | None = None
    # How the run is carried out, not what it is (neither in the key nor in the record): a Lightning
    # logger for the user's curves, and a segment of a learning-rate search (`bench.run.lr_search`).
    log: LogTarget | None = None
    segment: Segment | None = None

    @property
    def key(self) -> str:
        return run_key(self.task_name, self.task.config(), self.arch, self.arch_config, self.train.to_dict(), self.seed)

    @property
    def label(self) -> str:
        """Architecture plus the settings in which this run departs from the plain configuration, e.g.
        `transformer [codes=fixed]`. Derived from the configuration, not from how it was asked for: a
        setting given at its default (`--set task.codes=stochastic` where stochastic is the default) is
        not named, so one configuration has one label whichever command wrote it."""
        extras = self.departures if self.departures is not None else {**self.user_task_params, **self.user_arch_params}
        return self.arch + (" [" + ", ".join(f"{k}={show_value(v)}" for k, v in extras.items()) + "]" if extras else "")


def show_value(value: Any) -> str:
    """A setting as a label shows it, in the `--set` spelling: `true`, `0.5`, `[20,40]`, `rope`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(show_value(v) for v in value) + "]"
    return "none" if value is None else str(value)


_ABSENT = object()


def _same(a: Any, b: Any) -> bool:
    return a is not _ABSENT and b is not _ABSENT and canonical_json(a) == canonical_json(b)


def label_departures(runs: list[PlannedRun], profile: Profile) -> list[PlannedRun]:
    """Fill each run's `departures`: the task and architecture settings the user gave (`--set`, a claim's
    arm) whose resolved value differs from the plain configuration, which is what `archbench run` plans
    without `--set` under the same profile and preset: the task with the profile's sizes, the
    architecture's preset-matched hyper-parameters and the profile's overrides, then the builder's own
    defaults. Returns `runs` (changed in place)."""
    plain_tasks: dict[str, dict[str, Any]] = {}
    plain_archs: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for run in runs:
        if run.task_name not in plain_tasks:
            try:
                plain_tasks[run.task_name] = get_task(run.task_name, **profile.task_params(run.task_name)).config()
            except ArchbenchError:  # the task has no valid plain configuration: every setting counts
                plain_tasks[run.task_name] = {}
        config, plain_task = run.task.config(), plain_tasks[run.task_name]
        departures = {
            k: config.get(k, v)
            for k, v in run.user_task_params.items()
            if not _same(config.get(k, _ABSENT), plain_task.get(k, _ABSENT))
        }
        if run.user_arch_params:
            where = (run.arch, canonical_json(config), run.preset)
            if where not in plain_archs:
                entry = get_architecture(run.arch)
                defaults = {k: p.default for k, p in entry.parameters().items() if p.default is not p.empty}
                overrides = profile.arch_overrides(run.task_name, run.arch)
                reference = profile.arch_overrides(run.task_name, REFERENCE)
                plain_archs[where] = {
                    **defaults,
                    **resolve_hparams(run.arch, run.task.spec(), run.preset, overrides, reference),
                }
            plain_arch = plain_archs[where]
            departures.update(
                {
                    k: run.arch_config.get(k, v)
                    for k, v in run.user_arch_params.items()
                    if not _same(run.arch_config.get(k, _ABSENT), plain_arch.get(k, _ABSENT))
                }
            )
        run.departures = departures
    return runs


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
    validate: bool = True,
) -> list[PlannedRun]:
    """Every run of (task settings x architectures x architecture settings x seeds), fully validated
    (`validate=False` skips building each model once: for reading back what a past sweep planned)."""
    preset = preset or profile.preset
    runs: list[PlannedRun] = []
    for task_params in task_grid or [{}]:
        task = get_task(task_name, **{**profile.task_params(task_name), **task_params})
        spec = task.spec()
        train_fields = {**profile.train_overrides(task_name), **(train_overrides or {})}
        unknown = set(train_fields) - set(TrainConfig.__dataclass_fields__)
        if unknown:
            raise ArchbenchError(
                f"unknown training setting(s) {', '.join(sorted(unknown))}; valid: {', '.join(TrainConfig.__dataclass_fields__)}"
            )
        train = TrainConfig(**train_fields)
        for arch in archs:
            for arch_params in arch_grid or [{}]:
                overrides = {**profile.arch_overrides(task_name, arch), **arch_params}
                hparams = resolve_hparams(arch, spec, preset, overrides, profile.arch_overrides(task_name, REFERENCE))
                if validate:  # builds once: range checks, and a non-causal model on a task it could cheat
                    admit(arch, task_name, spec, hparams)
                for seed in seeds if seeds is not None else profile.seeds:
                    runs.append(
                        PlannedRun(task_name, task, arch, hparams, preset, train, seed, task_params, arch_params)
                    )
    return label_departures(runs, profile)


def fitting_archs(task_name: str, archs: list[str], profile: Profile) -> list[str]:
    """The families a sweep plans on a task by default: those that can read its input layout (a family
    bound to another layout, like sts_attention, sits such tasks out)."""
    spec = get_task(task_name, **profile.task_params(task_name)).spec()
    return [arch for arch in archs if layout_fits(arch, spec)]


def sweep_runs(
    tasks: list[str],
    archs: list[str],
    profile: Profile,
    seeds: list[int],
    preset: str | None = None,
    train_overrides: dict[str, Any] | None = None,
    archs_named: bool = False,
    validate: bool = True,
) -> list[PlannedRun]:
    """A sweep's cross product, tasks x architectures x seeds: every named architecture when the user
    named them (`archs_named`), else on each task the families that fit its layout (`fitting_archs`)."""
    return [
        run
        for task in tasks
        for run in plan(
            task,
            archs if archs_named else fitting_archs(task, archs, profile),
            profile,
            seeds=seeds,
            preset=preset,
            train_overrides=train_overrides,
            validate=validate,
        )
    ]
