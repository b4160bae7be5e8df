"""A user's own `tasks`, `architectures` or `bench` module on the import path cannot stand in for
archbench's: the built-in packages are loaded from the directory beside `bench`, by location.

Each case runs in a fresh interpreter whose current directory (first on `sys.path` under `python -m`
and `python -c`) holds modules with those names that would announce themselves if imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PLUGINS, ROOT

HIJACK = "raise SystemExit(\"hijacked: the user's {name}.py was imported instead of archbench's\")\n"


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """A project folder with its own `tasks.py`, `architectures.py` and `bench.py`."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("tasks", "architectures", "bench"):
        (folder / f"{name}.py").write_text(HIJACK.format(name=name))
    return folder


def python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_user_tasks_and_architectures_in_the_current_directory_do_not_shadow_the_builtins(user_dir: Path) -> None:
    """`python -m bench` from a folder with `tasks.py` and `architectures.py`: the current directory comes
    first on sys.path, yet every built-in task and architecture is there, a plugin importing
    `architectures.base` works, and a run trains and is stored with the code version of archbench's files."""
    (
        user_dir / "bench.py"
    ).unlink()  # `python -m bench` itself would run it: Python resolves -m before archbench starts
    plugin = str(PLUGINS / "mean_pool_plugin.py")
    listing = python(["-m", "bench", "list", "--plugin", plugin], user_dir)
    assert listing.returncode == 0, listing.stderr
    assert "hijacked" not in listing.stdout + listing.stderr
    for name in ("sparse_token_selection", "mqar", "transformer", "lstm", "mean_pool"):
        assert name in listing.stdout

    results = user_dir / "runs"
    run = python(
        [
            "-m",
            "bench",
            "run",
            "--task",
            "sparse_token_selection",
            "--arch",
            "lstm",
            "--profile",
            "smoke",
            "--steps",
            "2",
            "--results",
            str(results),
        ],
        user_dir,
    )
    assert run.returncode == 0, run.stderr
    (record,) = [json.loads(line) for line in (results / "sparse_token_selection.jsonl").read_text().splitlines()]
    from bench.results.code_version import code_version

    assert record["environment"]["code_version"] == code_version(tuple(record["environment"]["code_sources"]))
    # `results` judges freshness without importing the built-ins: it must still read archbench's files
    listed = python(["-m", "bench", "results", "--results", str(results)], user_dir)
    assert listed.returncode == 0, listed.stderr
    assert "1 runs in" in listed.stdout and "stale" not in listed.stdout.split("1 runs in", 1)[1]


def test_user_modules_put_first_on_the_path_after_bench_loaded_do_not_shadow_it(user_dir: Path) -> None:
    """A session that imported archbench, then put a folder with `tasks.py`, `architectures.py` and `bench.py`
    first on sys.path (a notebook changing directory, a script adding its own folder): the registry,
    plugins (`from bench import ...`, `from architectures.base import ...`) and records use archbench's."""
    code = textwrap.dedent(f"""
        import sys
        from bench.cli.main import main
        sys.path.insert(0, {str(user_dir)!r})
        sys.exit(main(["--plugin", {str(PLUGINS / "mean_pool_plugin.py")!r}, "check-arch", "mean_pool", "lstm"]))
    """)
    result = python(["-c", code], ROOT)
    assert result.returncode == 0, result.stderr
    assert "hijacked" not in result.stdout + result.stderr
    assert "2 of 2 architecture(s) pass the contract" in result.stdout


def test_a_user_module_already_imported_under_a_builtin_name_is_one_line_exit_2(user_dir: Path) -> None:
    """The name is taken in this process before archbench needed it: refused with one line naming both."""
    (user_dir / "tasks.py").write_text("USER = True\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(user_dir)!r})
        import tasks
        sys.path.pop(0)
        from bench.cli.main import main
        sys.exit(main(["list", "tasks"]))
    """)
    result = python(["-c", code], ROOT)
    assert result.returncode == 2
    assert result.stderr == (
        f"archbench: error: a module named 'tasks' ({user_dir / 'tasks.py'}) was imported before "
        f"archbench's built-in tasks ({ROOT / 'tasks'}); rename that module so that it does not "
        "shadow archbench's\n"
    )
