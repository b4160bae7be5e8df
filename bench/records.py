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
HARNESS_PACKAGES = ("bench",)  # shared by every run: all of it (minus presentation) is in every digest
SOURCE_PACKAGES = ("architectures", "tasks")  # a run's digest covers only its own modules of these


def _package_root(package: str) -> Path | None:
    """Where `package` lives, found without importing it (so `publish` stays fast)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _source_path(relative: str) -> Path | None:
    package, _, rest = relative.partition("/")
    root = _package_root(package)
    return root / rest if root is not None else None


@functools.lru_cache(maxsize=256)
def code_version(sources: tuple[str, ...] = ()) -> str:
    """A 12-hex digest of the source that produced a run: every `.py` file of the harness (the bench
    package minus the presentation-only modules above) plus `sources`, the run's own task and
    architecture modules and what they import from those packages (`code_sources`).

    Why a content hash rather than the git commit: an installed package (a wheel in site-packages) has
    no `.git`, and in a checkout the commit lies about uncommitted edits, which are exactly the changes
    that silently mix results. Hashing the files that Python actually imports works for a checkout, an
    editable install and a wheel alike, and two machines running the same code agree on the digest.
    Paths are hashed relative to the package (so the install location does not matter), and each file
    as its syntax tree without docstrings, so comments, docstrings and formatting are not a new version.
    Why per run rather than one digest of every task and architecture: adding an option to the
    transformer cannot change what an LSTM measured on parity, and one global digest made every stored
    run stale on any edit. A source file that no longer exists hashes as missing (the run is stale).
    Cached per argument: a run measures the code it imported at start.
    Third-party plugin code is not covered (records name the plugin architecture, not its source).
    """
    digest = hashlib.sha256()
    for package in HARNESS_PACKAGES:
        root = _package_root(package)
        for path in sorted(root.rglob("*.py")) if root is not None else []:
            relative = f"{package}/{path.relative_to(root).as_posix()}"
            if "__pycache__" in relative or relative in PRESENTATION_ONLY or relative.startswith(PRESENTATION_DIRS):
                continue
            digest.update(relative.encode() + b"\0" + _code_only(path.read_bytes()) + b"\0")
    for relative in sorted(set(sources)):
        path = _source_path(relative)
        code = _code_only(path.read_bytes()) if path is not None and path.is_file() else b"<missing>"
        digest.update(relative.encode() + b"\0" + code + b"\0")
    return digest.hexdigest()[:12]


def code_sources(*objects: Any) -> tuple[str, ...]:
    """The files of `SOURCE_PACKAGES` that define `objects` (a task class, an architecture builder) and,
    transitively, the modules of those packages they import (`architectures/hybrid.py` brings
    `architectures/ssm.py`, `architectures/transformer.py`, `architectures/base.py`), as sorted
    package-relative paths. Package `__init__` files only register plugins and are left out; objects
    defined elsewhere (a third-party plugin, a test) contribute nothing."""
    found: set[str] = set()
    pending = [module for module in (getattr(obj, "__module__", None) for obj in objects) if module]
    while pending:
        relative = _module_file(pending.pop())
        if relative is None or relative in found:
            continue
        found.add(relative)
        path = _source_path(relative)
        pending.extend(_imported_modules(path.read_bytes(), relative) if path is not None else [])
    return tuple(sorted(found))


def _module_file(module: str) -> str | None:
    """`architectures.ssm` -> `architectures/ssm.py` when it is a module file of a source package."""
    package, _, rest = module.partition(".")
    if package not in SOURCE_PACKAGES or not rest:
        return None
    relative = f"{package}/{rest.replace('.', '/')}.py"
    path = _source_path(relative)
    return relative if path is not None and path.is_file() else None


def _imported_modules(source: bytes, relative: str) -> list[str]:
    """Module names `source` imports: `from a.b import c` gives `a.b` and `a.b.c` (c may be a module)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    here = relative[: -len(".py")].split("/")
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level] + ([node.module] if node.module else [])) if node.level else node.module
            if base:
                names.append(base)
                names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


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


def environment(sources: tuple[str, ...] = ()) -> dict[str, Any]:
    """Package versions, the run's code version (and the `sources` it covers) and hardware, stored with
    every record (`bench.freshness` uses them to mark records made by other code as stale)."""
    import lightning
    import torch
    import torchmetrics

    from bench import __version__

    return {
        "archbench": __version__,
        "code_version": code_version(sources),
        "code_sources": list(sources),
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
    sources: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One run's record; `sources` are the task's and architecture's own files (`code_sources`)."""
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
        "environment": environment(sources),
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
