"""pytest options and fixtures shared by the benchmark suite (`pytest --benchmark-only`).

Options (declared in the repository's root `conftest.py`, which pytest loads before parsing the command
line): `--archbench-profile NAME` (budget of the training runs; default `smoke`) and
`--archbench-results DIR` (where the run records go; default a temporary directory, so a benchmark
run never touches `results/runs/` unless asked to).

The benchmarks here train models, which is slow; so that the plain `pytest` of CI (whose `testpaths`
include this directory, which is what makes `pytest --benchmark-only` find the suite) does not run
them, a benchmark in this directory runs only with `--benchmark-only` or when its file or this
directory is named on the command line (`pytest benchmarks/test_overhead.py`). pytest-benchmark's own
`--benchmark-skip` and `--benchmark-disable` work as usual.

Threads: the suite trains and times on the thread count every training command uses
(`bench.run.executors.default_threads`: 1, or OMP_NUM_THREADS when set), never torch's one per core,
which another process on the machine turns into a many-fold slowdown; the count is printed with the
results and stored in every record and `extra_info`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.results.store import RecordStore
from bench.run.profiles import Profile, get_profile

HERE = Path(__file__).resolve().parent
SKIP_REASON = "benchmark suite: run `pytest --benchmark-only` (or name benchmarks/ on the command line)"
_SUMMARY = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SUMMARY] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this directory's benchmarks unless the suite was asked for (see the module docstring)."""
    if config.getoption("benchmark_only", default=False) or _named_on_command_line(config):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()) and HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


def _named_on_command_line(config: pytest.Config) -> bool:
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False  # no paths given: pytest collected `testpaths`
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY, [])
    if lines:
        terminalreporter.section("archbench")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def archbench_threads(archbench_report: Callable[[str], None]) -> int:
    """Pin this session's torch threads (see the module docstring) before any benchmark trains or times."""
    from bench.run.executors import THREADS_ENV, default_threads, set_threads

    threads = default_threads()
    set_threads(threads)
    archbench_report(f"torch threads: {threads} ({THREADS_ENV} to change)")
    return threads


@pytest.fixture(scope="session")
def archbench_profile(pytestconfig: pytest.Config) -> Profile:
    return get_profile(pytestconfig.getoption("archbench_profile"))


@pytest.fixture(scope="session")
def archbench_store(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory, archbench_report: Callable[[str], None]
) -> RecordStore:
    """The record store of this session: `--archbench-results DIR`, else a fresh temporary directory."""
    chosen = pytestconfig.getoption("archbench_results")
    root = Path(chosen) if chosen else tmp_path_factory.mktemp("archbench-runs")
    archbench_report(f"run records: {root}")
    return RecordStore(root)


@pytest.fixture(scope="session")
def archbench_report(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Add a line to the `archbench` section printed after pytest-benchmark's tables (not captured)."""
    return pytestconfig.stash[_SUMMARY].append


@pytest.fixture(scope="session")
def archbench_command(pytestconfig: pytest.Config) -> str:
    """The command line, stored in every run record this session writes."""
    return " ".join(["pytest", *pytestconfig.invocation_params.args])
