"""Run records: one JSON object per line in `results/runs/<task>.jsonl`, keyed by a hash of every input.

Appends are atomic and safe across processes: each record is one `os.write` of a whole line to a file
opened with O_APPEND, under an exclusive `flock`. A file whose last line was cut short (a killed
writer) gets a newline before the next record, so one bad line never swallows a good one; bad lines
are reported and skipped on reading, never fatal and never rewritten.
"""
from __future__ import annotations

import ast
import fcntl
import functools
import hashlib
import importlib.util
import json
import os
import platform
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

SCHEMA = 1
DEFAULT_ROOT = Path("results/runs")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def run_key(task: str, task_config: dict, arch: str, arch_config: dict, train_config: dict, seed: int) -> str:
    """Content address of a run: the same inputs always give the same key (and skip the rerun)."""
    payload = {"schema": SCHEMA, "task": task, "task_config": task_config, "arch": arch,
               "arch_config": arch_config, "train_config": train_config, "seed": seed}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:24]


# Code whose edits cannot change a run's measurements (it parses the command line, stores, aggregates or
# renders records): left out of `code_version`, so fixing a table never makes every stored run stale.
PRESENTATION_ONLY = frozenset({
    "bench/__main__.py", "bench/cli.py", "bench/records.py", "bench/stats.py", "bench/tables.py",
    "bench/progress.py", "bench/freshness.py", "bench/aggregate.py", "bench/publish.py", "bench/plots.py",
    # The claim catalogue picks configurations and judges their records; every setting it chooses is part
    # of the run key, so editing it never changes what a stored run measured.
    "bench/claims.py", "bench/reproductions.py",
})
PRESENTATION_DIRS = ("bench/commands/",)
RESULT_PACKAGES = ("bench", "architectures", "tasks")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A 12-hex digest of the source that produces results: every `.py` file of the bench, architectures
    and tasks packages, wherever they are installed, minus the presentation-only modules above.

    Why a content hash rather than the git commit: an installed package (a wheel in site-packages) has
    no `.git`, and in a checkout the commit lies about uncommitted edits, which are exactly the changes
    that silently mix results. Hashing the files that Python actually imports works for a checkout, an
    editable install and a wheel alike, and two machines running the same code agree on the digest.
    Paths are hashed relative to the package (so the install location does not matter), and each file
    as its syntax tree without docstrings, so comments, docstrings and formatting are not a new version.
    Computed once per process: a run measures the code it imported at start.
    Third-party plugin code is not covered (records name the plugin architecture, not its source).
    """
    digest = hashlib.sha256()
    for package in RESULT_PACKAGES:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            root = Path(location)
            for path in sorted(root.rglob("*.py")):
                relative = f"{package}/{path.relative_to(root).as_posix()}"
                if "__pycache__" in relative or relative in PRESENTATION_ONLY or relative.startswith(PRESENTATION_DIRS):
                    continue
                digest.update(relative.encode() + b"\0" + _code_only(path.read_bytes()) + b"\0")
    return digest.hexdigest()[:12]


def _code_only(source: bytes) -> bytes:
    """The syntax tree without docstrings (comments never reach it): editing documentation is not a new
    code version. Source that does not parse is hashed as it is."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree).encode()  # source text, so the digest does not depend on the Python version's AST fields


def environment() -> dict[str, Any]:
    """Package versions, the code version and hardware, stored with every record (`bench.freshness` uses
    the versions to mark records made by other code as stale)."""
    import lightning
    import torch
    import torchmetrics

    from bench import __version__

    return {
        "archbench": __version__,
        "code_version": code_version(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "torchmetrics": torchmetrics.__version__,
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


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


def make_record(
    *,
    key: str,
    task: str,
    task_config: dict,
    arch: str,
    arch_config: dict,
    preset: str | None,
    train_config: dict,
    seed: int,
    metrics: dict[str, Any] | None,
    status: str = "ok",
    error: str | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "key": key,
        "task": task,
        "task_config": task_config,
        "arch": arch,
        "arch_config": arch_config,
        "preset": preset,
        "train_config": train_config,
        "seed": seed,
        "n_train": train_config.get("n_train"),
        "status": status,
        "error": error,
        "metrics": metrics,
        "environment": environment(),
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
