"""The job a worker runs: train one planned run and turn the outcome (metrics or error) into a record."""

from __future__ import annotations

import traceback

from bench.contract.registry import (
    build_architecture,
    get_architecture,
)
from bench.results.code_version import code_sources
from bench.results.schema import RunRecord, make_record
from bench.run.plan import PlannedRun
from bench.train.config import ProgressFn
from bench.train.harness import run_one
from bench.train.loggers import make_logger, run_folder
from bench.train.measurements import RunMetrics


def run_record(run: PlannedRun, command: str | None = None, progress: ProgressFn | None = None) -> RunRecord:
    """Train one run and return its record, not stored (executors in other processes or on other machines
    send it back to the driver); an exception inside the run becomes a failed record, not a crash."""
    metrics: RunMetrics | None = None
    error: str | None = None
    try:
        logger = None
        if run.log is not None:
            logger = make_logger(run.log, *run_folder(run.task_name, run.label, run.seed, run.key))
        metrics = run_one(
            run.task,
            lambda spec: build_architecture(run.arch, spec, **run.arch_config),
            run.train,
            run.seed,
            progress,
            logger=logger,
            segment=run.segment,
        )
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded with its reason; the sweep goes on
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}" if last else ""
        error = f"{type(exc).__name__}: {exc}{where}"
    return make_run_record(run, metrics, error, command)


def make_run_record(run: PlannedRun, metrics: RunMetrics | None, error: str | None, command: str | None) -> RunRecord:
    """The record of `run`; failed with `error` when there is one (also for a worker process that died)."""
    return make_record(
        key=run.key,
        task=run.task_name,
        task_config=run.task.config(),
        arch=run.arch,
        arch_config=run.arch_config,
        preset=run.preset,
        train_config=run.train.to_dict(),
        seed=run.seed,
        metrics=metrics,
        status="ok" if error is None else "failed",
        error=error,
        command=command,
        sources=code_sources(type(run.task), get_architecture(run.arch).obj),
        label=run.label,
        extra=run.record_extra,
    )
