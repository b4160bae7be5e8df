"""Stored lines: one JSON object per line in `<root>/<task>.jsonl`, each with a `key`.

`RecordStore` holds run records (`results/runs`) and reads every one through `migrate`, so what it
returns is always a current-format `RunRecord`; `JsonLines` is the same file format for other stored
lines (the sample-complexity searches), read as they are.

Appends are atomic and safe across processes: each line is one `os.write` of a whole line to a file
opened with O_APPEND, under an exclusive `flock`. A file whose last line was cut short (a killed
writer) gets a newline before the next line, so one bad line never swallows a good one; bad lines
(corrupt JSON, or a record `migrate` cannot read) are reported and skipped on reading, never fatal and
never rewritten.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from bench.results.schema import DEFAULT_ROOT, RunRecord, canonical_json, migrate

Line = TypeVar("Line", bound=Mapping[str, Any])


@dataclass
class LoadReport:
    """What `load` found besides good lines: the bad ones, by file and line number."""

    problems: list[str] = field(default_factory=list)


class JsonLines(Generic[Line]):
    """A directory of JSON-lines files: append lines, read them back (each through `parse`), find by key."""

    def __init__(self, root: str | Path, parse: Callable[[dict[str, Any]], Line]) -> None:
        self.root = Path(root)
        self.parse = parse
        self.report = LoadReport()

    def path_for(self, task: str) -> Path:
        return self.root / f"{task}.jsonl"

    def append(self, line: Line) -> None:
        """Write one line, atomically with respect to other writers."""
        self.root.mkdir(parents=True, exist_ok=True)
        data = (canonical_json(line) + "\n").encode()
        fd = os.open(self.path_for(line["task"]), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # seal a line a killed writer left unfinished
            os.write(fd, data)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def load(self, warn: bool = True) -> list[Line]:
        """Every readable line, parsed, in file order; bad lines are collected in `self.report` and
        warned about on stderr."""
        self.report = LoadReport()
        lines: list[Line] = []
        for path in sorted(self.root.glob("*.jsonl")) if self.root.is_dir() else []:
            with path.open("rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    if not raw.strip():
                        continue
                    try:
                        value = json.loads(raw)
                        if not isinstance(value, dict) or "key" not in value:
                            raise ValueError("no key")
                    except ValueError as exc:
                        self.report.problems.append(
                            f"{path}:{number}: skipped a corrupt line ({exc.__class__.__name__})"
                        )
                        continue
                    try:
                        lines.append(self.parse(value))
                    except (ValueError, KeyError, TypeError) as exc:
                        self.report.problems.append(f"{path}:{number}: skipped an unreadable record ({exc})")
        if warn:
            for problem in self.report.problems:
                print(f"archbench: warning: {problem}", file=sys.stderr)
        return lines

    def latest(self, lines: Iterable[Line] | None = None) -> dict[str, Line]:
        """Key -> the last line written for it (a `--force` rerun supersedes the earlier one)."""
        out: dict[str, Line] = {}
        for line in self.load() if lines is None else lines:
            out[line["key"]] = line
        return out


class RecordStore(JsonLines[RunRecord]):
    """The run records: every record read is migrated to the current schema (`bench.results.schema.migrate`)."""

    def __init__(self, root: str | Path = DEFAULT_ROOT) -> None:
        super().__init__(root, migrate)

    def completed_keys(self) -> set[str]:
        """Keys of runs that finished successfully (failed runs are retried)."""
        return {k for k, r in self.latest().items() if r["status"] == "ok"}
