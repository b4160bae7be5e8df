"""Progress display for long work: one bar over all runs, one over the current run's steps (rich).

Runs whose records are stored already count as done from the start, and the bar says how many there
are ("12 stored, 0 to train"), so a command that has nothing to train says so instead of jumping to the end.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench.results.schema import RunRecord


class RunProgress:
    """Context manager; `start_run` returns the per-step callback the harness calls."""

    def __init__(self, total_runs: int) -> None:
        self.console = Console(file=sys.stderr)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.total_runs = total_runs
        self.overall: TaskID = self.progress.add_task("runs", total=total_runs, status="")
        self.current: TaskID | None = None

    def __enter__(self) -> RunProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def planned(self, stored: int, pending: int) -> None:
        """Before any training: how many runs are stored already (shown as done) and how many will train."""
        self.progress.update(self.overall, completed=stored, description=f"runs ({stored} stored, {pending} to train)")
        self.console.print(escape(stored_line(stored, pending)))

    def start_run(self, run: Any):
        if self.current is not None:
            self.progress.remove_task(self.current)
        self.current = self.progress.add_task(escape(f"{run.label} seed {run.seed}"), total=run.train.steps, status="")

        current = self.current

        def report(step: int, max_steps: int, val: float | None) -> None:
            status = f"val {run.task.metric} {val:.3f}" if val is not None else ""
            self.progress.update(current, completed=step, status=status)

        return report

    def finish_run(self, run: Any, record: RunRecord, skipped: bool) -> None:
        if skipped:  # counted as done by `planned`
            return
        m = record["metrics"]
        if record["status"] != "ok" or m is None:
            status = "FAILED"
        else:
            status = (
                f"{m['metric']} {'n/a' if m['in_distribution'] is None else format(m['in_distribution'], '.3f')}"
                + (" solved" if m["solved"] else "")
            )
        if self.current is not None:
            self.progress.update(self.current, completed=m["steps"] if m is not None else 0, status=status)
        if not self.console.is_terminal:  # no live bars (CI, a pipe): one line per finished run instead
            self.console.print(escape(f"{run.label} seed {run.seed}: {status}"))
        self.progress.advance(self.overall)


def stored_line(stored: int, pending: int) -> str:
    """`12 runs: 12 stored already (skipped; --force retrains them), 0 to train`."""
    total = stored + pending
    hint = " (skipped; --force retrains them)" if stored else ""
    return f"{total} run{'s' if total != 1 else ''}: {stored} stored already{hint}, {pending} to train"
