"""Progress of a sweep: one bar over every run with the time left, and one row per run in flight.

The same display whatever the executor: executors call `start_run` when a run starts on a worker (so
several rows may be live at once) and forward its step reports; `finish_run` takes the row away. The
time left is measured, not guessed: wall time per finished run so far (parallel workers included)
times the runs left. Stored runs that are skipped count as done from the start ("12 stored, 0 to
train") but not in that rate.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from bench.results.schema import RunRecord
from bench.run.progress import stored_line


def record_status(record: RunRecord, skipped: bool = False) -> str:
    """One short phrase for a finished run: its metric, solved or not, FAILED, or skipped."""
    if skipped:
        return "stored, skipped"
    m = record["metrics"]
    if record["status"] != "ok" or m is None:
        return "FAILED"
    return f"{m['metric']} {'n/a' if m['in_distribution'] is None else format(m['in_distribution'], '.3f')}" + (
        " solved" if m["solved"] else ""
    )


class TimeLeftColumn(ProgressColumn):
    """Time left of the sweep bar: (seconds since the first run started / runs finished) x runs left."""

    def render(self, task: Task) -> Text:
        started, executed = task.fields.get("started"), task.fields.get("executed", 0)
        if task.total is None or started is None or not executed:
            return Text("left -:--:--", style="progress.remaining")
        left = (time.monotonic() - started) / executed * (task.total - task.completed)
        return Text(f"left {timedelta(seconds=round(left))}", style="progress.remaining")


class SweepProgress:
    """Context manager; `start_run(run)` returns the step callback, `finish_run(run, record, skipped)`."""

    def __init__(self, total_runs: int) -> None:
        self.console = Console(file=sys.stderr)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeLeftColumn(),
            console=self.console,
        )
        self.total_runs = total_runs
        self.overall: TaskID | None = None
        self.rows: dict[int, TaskID] = {}  # id(run) -> its row
        self.counts = {"ok": 0, "failed": 0, "skipped": 0}

    def __enter__(self) -> SweepProgress:
        self.progress.__enter__()
        self.overall = self.progress.add_task("sweep", total=self.total_runs, status="", started=None, executed=0)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def planned(self, stored: int, pending: int) -> None:
        """Before any training: stored runs count as done at once; say how many will train."""
        assert self.overall is not None
        self.counts["skipped"] = stored
        self.progress.update(self.overall, completed=stored, status=f"{stored} stored, {pending} to train")
        self.console.print(escape(stored_line(stored, pending)))

    def start_run(self, run: Any):
        assert self.overall is not None
        if self.progress.tasks[self.overall].fields["started"] is None:
            self.progress.update(self.overall, started=time.monotonic())
        row = self.progress.add_task(
            escape(f"  {run.task_name}: {run.label} seed {run.seed}"), total=run.train.steps, status="", started=None
        )
        self.rows[id(run)] = row

        def report(step: int, max_steps: int, val: float | None) -> None:
            status = f"val {run.task.metric} {val:.3f}" if val is not None else ""
            self.progress.update(row, completed=step, status=status)

        return report

    def finish_run(self, run: Any, record: RunRecord, skipped: bool) -> None:
        assert self.overall is not None
        if skipped:  # counted as done by `planned`
            return
        row = self.rows.pop(id(run), None)
        if row is not None:
            self.progress.remove_task(row)
        status = record_status(record, skipped)
        self.counts["ok" if record["status"] == "ok" else "failed"] += 1
        executed = self.counts["ok"] + self.counts["failed"]
        summary = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n)
        self.progress.update(self.overall, advance=1, executed=executed, status=summary)
        if not self.console.is_terminal:  # no live bars (CI, a pipe): one line per finished run
            self.console.print(
                escape(
                    f"{run.task_name}: {run.label} seed {run.seed}: {status}"
                    + (f" ({record['error']})" if record.get("error") else "")
                ),
                soft_wrap=True,
            )
