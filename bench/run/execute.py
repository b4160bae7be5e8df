"""Execute planned runs: skip what is stored and current, train the rest on an executor, store every record."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bench.results.schema import RunRecord, with_fields
from bench.results.store import RecordStore
from bench.run.interrupt import Interrupted, Kept, deferred
from bench.run.job import run_record
from bench.run.plan import PlannedRun
from bench.train.config import ProgressFn

if TYPE_CHECKING:
    from bench.run.executors import Executor


RunCallback = Callable[[PlannedRun, RunRecord, bool], None]  # (run, record, skipped)
SplitCallback = Callable[[int, int], None]  # (runs stored already, runs to train), before any training


def split_stored(
    runs: list[PlannedRun], store: RecordStore, force: bool = False
) -> tuple[list[tuple[PlannedRun, RunRecord]], list[PlannedRun]]:
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
    executor: Executor | None = None,
    on_split: SplitCallback | None = None,
) -> list[RunRecord]:
    """Run what is not stored yet (everything with `force`) on `executor` (default: one at a time, in this
    process), append every record to `store` here, in the driver; return the records in plan order.

    Interrupted (`bench.run.interrupt`), it stores nothing of the runs in progress and attaches to the
    exception what it kept, for the command to report."""
    from bench.run.executors import SerialExecutor

    stored, pending = split_stored(runs, store, force)
    if on_split:
        on_split(len(stored), len(pending))
    records = {id(run): with_fields(record, run.record_extra) for run, record in stored}  # e.g. how its lr was chosen
    for run, record in stored:
        if on_done:
            on_done(run, record, True)
    in_flight: dict[int, PlannedRun] = {}

    def started(run: PlannedRun) -> ProgressFn | None:
        in_flight[id(run)] = run
        return progress_for(run) if progress_for else None

    try:
        for run, record in (executor or SerialExecutor()).map(pending, command, started):
            with deferred():  # a signal now waits until the record is whole on disk
                if _rank_zero():  # under a multi-process Lightning strategy every rank runs this loop; one writes
                    store.append(record)
                records[id(run)] = record
                in_flight.pop(id(run), None)
            if on_done:
                on_done(run, record, False)
    except Interrupted as exc:
        if exc.kept is None:  # the innermost batch reports; an outer one (e.g. a claim's) keeps its words
            trained = len(records) - len(stored)
            exc.kept = Kept(len(runs), len(stored), trained, [f"{r.label} seed {r.seed}" for r in in_flight.values()])
        raise
    return [records[id(run)] for run in runs]


def execute_with_progress(
    runs: list[PlannedRun],
    store: RecordStore,
    force: bool = False,
    command: str | None = None,
    on_split: SplitCallback | None = None,
) -> list[RunRecord]:
    """`execute` under a progress display (one bar over runs, one over the current run's steps)."""
    from bench.run.progress import RunProgress

    with RunProgress(len(runs)) as progress:

        def split(stored: int, pending: int) -> None:
            progress.planned(stored, pending)
            if on_split:
                on_split(stored, pending)

        return execute(
            runs,
            store,
            force=force,
            command=command,
            progress_for=progress.start_run,
            on_done=progress.finish_run,
            on_split=split,
        )


def execute_one(run: PlannedRun, store: RecordStore, command: str | None, progress: ProgressFn | None) -> RunRecord:
    """Train and record one run; an exception inside it becomes a failed record, not a crash."""
    record = run_record(run, command, progress)
    store.append(record)
    return record


def _rank_zero() -> bool:
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0) == 0
