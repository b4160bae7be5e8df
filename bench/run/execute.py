"""Execute planned runs: skip what is stored and current, train the rest on an executor, store every record."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from bench.results.schema import RunRecord, with_fields
from bench.results.store import RecordStore
from bench.train.config import ProgressFn

if TYPE_CHECKING:
    from bench.run.executors import Executor


from bench.run.job import run_record
from bench.run.plan import PlannedRun

RunCallback = Callable[[PlannedRun, RunRecord, bool], None]  # (run, record, skipped)


def split_stored(runs: list[PlannedRun], store: RecordStore, force: bool = False) -> tuple[list[tuple[PlannedRun, RunRecord]], list[PlannedRun]]:
    """(runs whose successful, current record is stored, with it; runs still to do): how an interrupted
    sweep resumes. A stale record (made by other code or package versions, `bench.results.freshness`) does not
    count as done: the run is trained again and its new record supersedes the old one, which is kept."""
    from bench.results.freshness import freshness, reference

    latest = {} if force else store.latest()
    ref = reference()
    stored: list[tuple[PlannedRun, RunRecord]] = []
    pending: list[PlannedRun] = []
    for run in runs:
        record = latest.get(run.key)
        if record is not None and record["status"] == "ok" and not freshness(record, ref).stale:
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
) -> list[RunRecord]:
    """Run what is not stored yet (everything with `force`) on `executor` (default: one at a time, in this
    process), append every record to `store` here, in the driver; return the records in plan order."""
    from bench.run.executors import SerialExecutor

    stored, pending = split_stored(runs, store, force)
    records = {id(run): with_fields(record, run.record_extra) for run, record in stored}  # e.g. how its lr was chosen
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
                          command: str | None = None) -> list[RunRecord]:
    """`execute` under a progress display (one bar over runs, one over the current run's steps)."""
    from bench.run.progress import RunProgress

    with RunProgress(len(runs)) as progress:
        return execute(runs, store, force=force, command=command,
                       progress_for=progress.start_run, on_done=progress.finish_run)


def execute_one(run: PlannedRun, store: RecordStore, command: str | None, progress: ProgressFn | None) -> RunRecord:
    """Train and record one run; an exception inside it becomes a failed record, not a crash."""
    record = run_record(run, command, progress)
    store.append(record)
    return record




def _rank_zero() -> bool:
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0
