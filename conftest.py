"""Repository-wide pytest setup: the benchmark suite's command-line options.

They live here rather than in `benchmarks/conftest.py` (which holds everything else about the suite)
because pytest must know an option before it parses the command line: in `pytest --benchmark-only
--archbench-profile smoke` an unknown option's value would be taken for a path, and pytest would then
not load `benchmarks/conftest.py` at all. This file is loaded for every invocation from the repository.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("archbench", "archbench benchmark suite (benchmarks/)")
    group.addoption(
        "--archbench-profile",
        default="smoke",
        metavar="NAME",
        help="budget profile of the benchmark training runs: smoke (default, CI-sized) or quick "
        "(or any profile `archbench run --profile` accepts)",
    )
    group.addoption(
        "--archbench-results",
        default=None,
        metavar="DIR",
        help="directory of the run records the benchmarks write (default: a temporary directory; "
        "pass results/runs to feed the leaderboard)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """A mistyped profile is a usage error at once, before collection (the default needs no check)."""
    name = config.getoption("archbench_profile")
    if name != "smoke":
        from bench.contract.errors import ArchbenchError
        from bench.run.profiles import get_profile

        try:
            get_profile(name)
        except ArchbenchError as exc:
            raise pytest.UsageError(f"--archbench-profile: {exc}") from None
