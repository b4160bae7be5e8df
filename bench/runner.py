"""Plan runs (validating every name and parameter before any training), then execute and record them.

Planning resolves the task, the preset-matched hyper-parameters and the run key of every (task,
architecture, seed) so that a typo fails in milliseconds with exit code 2 and nothing written.
Execution records every run, failed ones too (with the error), so one broken architecture never
stops the others or loses their records.
"""
from __future__ import annotations

import itertools
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from bench.errors import ArchbenchError
from bench.harness import ProgressFn, TrainConfig, run_one
from bench.presets import count_parameters, resolve_hparams
from bench.profiles import Profile
from bench.records import RecordStore, code_sources, make_record, run_key
from bench.registry import build_architecture, get_architecture, get_task, get_task_entry
from bench.task import Task

if TYPE_CHECKING:
    from bench.executors import Executor


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
        return run_key(self.task_name, self.task.config(), self.arch, self.arch_config, train_key(self.train), self.seed)

    @property
    def label(self) -> str:
        """Architecture plus whatever the user set, e.g. `transformer [codes=fixed]`."""
        extras = {**self.user_task_params, **self.user_arch_params}
        return self.arch + (" [" + ", ".join(f"{k}={v}" for k, v in extras.items()) + "]" if extras else "")


# TrainConfig fields added after the first records were written: left out of the run key while at
# their default, so that adding a field does not orphan every stored run.
LATER_TRAIN_DEFAULTS: dict[str, Any] = {"strategy": "auto"}


def train_key(train: TrainConfig) -> dict[str, Any]:
    """The training settings that enter the run key (the record stores all of them)."""
    return {k: v for k, v in train.to_dict().items() if k not in LATER_TRAIN_DEFAULTS or LATER_TRAIN_DEFAULTS[k] != v}


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
                count_parameters(arch, spec, hparams)  # builds once: the builder's own range checks run now
                for seed in seeds if seeds is not None else profile.seeds:
                    runs.append(PlannedRun(task_name, task, arch, hparams, preset, train, seed, task_params, arch_params))
    return runs


RunCallback = Callable[[PlannedRun, dict[str, Any], bool], None]  # (run, record, skipped)


def split_stored(runs: list[PlannedRun], store: RecordStore, force: bool = False) -> tuple[list[tuple[PlannedRun, dict[str, Any]]], list[PlannedRun]]:
    """(runs whose successful, current record is stored, with it; runs still to do): how an interrupted
    sweep resumes. A stale record (made by other code or package versions, `bench.freshness`) does not
    count as done: the run is trained again and its new record supersedes the old one, which is kept."""
    from bench.freshness import freshness, reference

    latest = {} if force else store.latest()
    ref = reference()
    stored, pending = [], []
    for run in runs:
        record = latest.get(run.key)
        if record is not None and record.get("status") == "ok" and not freshness(record, ref).stale:
            stored.append((run, record))
        else:
            pending.append(run)
    return stored, pending


def execute(
    runs: list[PlannedRun],
    store: RecordStore,
    force: bool = False,
    command: str | None = None,
    progress_for: Callable[[PlannedRun], ProgressFn | None] | None = None,
    on_done: RunCallback | None = None,
    executor: "Executor | None" = None,
) -> list[dict[str, Any]]:
    """Run what is not stored yet (everything with `force`) on `executor` (default: one at a time, in this
    process), append every record to `store` here, in the driver; return the records in plan order."""
    from bench.executors import SerialExecutor

    stored, pending = split_stored(runs, store, force)
    records = {id(run): {**record, **run.record_extra} for run, record in stored}  # e.g. how its lr was chosen
    for run, record in stored:
        if on_done:
            on_done(run, record, True)
    for run, record in (executor or SerialExecutor()).map(pending, command, progress_for):
        if _rank_zero():  # under a multi-process Lightning strategy every rank runs this loop; one writes
            store.append(record)
        records[id(run)] = record
        if on_done:
            on_done(run, record, False)
    return [records[id(run)] for run in runs]


def execute_with_progress(runs: list[PlannedRun], store: RecordStore, force: bool = False,
                          command: str | None = None) -> list[dict[str, Any]]:
    """`execute` under a progress display (one bar over runs, one over the current run's steps)."""
    from bench.progress import RunProgress

    with RunProgress(len(runs)) as progress:
        return execute(runs, store, force=force, command=command,
                       progress_for=progress.start_run, on_done=progress.finish_run)


def execute_one(run: PlannedRun, store: RecordStore, command: str | None, progress: ProgressFn | None) -> dict[str, Any]:
    """Train and record one run; an exception inside it becomes a failed record, not a crash."""
    record = run_record(run, command, progress)
    store.append(record)
    return record


def run_record(run: PlannedRun, command: str | None = None, progress: ProgressFn | None = None) -> dict[str, Any]:
    """Train one run and return its record, not stored (executors in other processes or on other machines
    send it back to the driver); an exception inside the run becomes a failed record, not a crash."""
    metrics, error = None, None
    try:
        metrics = run_one(run.task, lambda spec: build_architecture(run.arch, spec, **run.arch_config), run.train, run.seed, progress)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded with its reason; the sweep goes on
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}" if last else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    return make_run_record(run, metrics, error, command)


def make_run_record(run: PlannedRun, metrics: dict[str, Any] | None, error: str | None, command: str | None) -> dict[str, Any]:
    """The record of `run`; failed with `error` when there is one (also for a worker process that died)."""
    record = make_record(
        key=run.key, task=run.task_name, task_config=run.task.config(), arch=run.arch,
        arch_config=run.arch_config, preset=run.preset, train_config=run.train.to_dict(), seed=run.seed,
        metrics=metrics, status="ok" if error is None else "failed", error=error, command=command,
        sources=code_sources(type(run.task), get_architecture(run.arch).obj),
    )
    record["label"] = run.label
    record.update(run.record_extra)
    return record


def _rank_zero() -> bool:
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0
