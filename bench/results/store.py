"""Run records: one JSON object per line in `results/runs/<task>.jsonl`, keyed by a hash of every input.

Appends are atomic and safe across processes: each record is one `os.write` of a whole line to a file
opened with O_APPEND, under an exclusive `flock`. A file whose last line was cut short (a killed
writer) gets a newline before the next record, so one bad line never swallows a good one; bad lines
are reported and skipped on reading, never fatal and never rewritten.
"""
from __future__ import annotations

import fcntl
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bench.results.schema import DEFAULT_ROOT, canonical_json


@dataclass
class LoadReport:
    """What `RecordStore.load` found besides good records: the bad lines, by file and line number."""

    problems: list[str] = field(default_factory=list)


class RecordStore:
    """The results directory: append records, read them back, find a run by key."""

    def __init__(self, root: str | Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        self.report = LoadReport()

    def path_for(self, task: str) -> Path:
        return self.root / f"{task}.jsonl"

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, atomically with respect to other writers."""
        self.root.mkdir(parents=True, exist_ok=True)
        line = (canonical_json(record) + "\n").encode()
        fd = os.open(self.path_for(record["task"]), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # seal a line a killed writer left unfinished
            os.write(fd, line)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def load(self, warn: bool = True) -> list[dict[str, Any]]:
        """Every valid record, in file order; bad lines are collected in `self.report` and warned about."""
        self.report = LoadReport()
        records: list[dict[str, Any]] = []
        for path in sorted(self.root.glob("*.jsonl")) if self.root.is_dir() else []:
            with path.open("rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    if not raw.strip():
                        continue
                    try:
                        record = json.loads(raw)
                        if not isinstance(record, dict) or "key" not in record:
                            raise ValueError("not a run record")
                    except ValueError as exc:
                        self.report.problems.append(f"{path}:{number}: skipped a corrupt line ({exc.__class__.__name__})")
                        continue
                    records.append(record)
        if warn:
            for problem in self.report.problems:
                print(f"archbench: warning: {problem}", file=sys.stderr)
        return records

    def latest(self, records: Iterable[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        """Key -> the last record written for it (a `--force` rerun supersedes the earlier one)."""
        out: dict[str, dict[str, Any]] = {}
        for record in self.load() if records is None else records:
            out[record["key"]] = record
        return out

    def completed_keys(self) -> set[str]:
        """Keys of runs that finished successfully (failed runs are retried)."""
        return {k for k, r in self.latest().items() if r.get("status") == "ok"}


