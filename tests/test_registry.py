"""Registry: lookup errors, parameter validation and coercion, glob listing, plugin discovery."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from bench import (
    ArchbenchError,
    get_task,
    list_architectures,
    list_tasks,
    register_architecture,
)
from bench.contract.registry import ARCHITECTURES, coerce, load_plugins, validate_params
from tests.conftest import ROOT


def test_unknown_task_names_registered_and_closest() -> None:
    with pytest.raises(ArchbenchError) as err:
        get_task("sparse_token_selectoin")
    message = str(err.value)
    assert "'sparse_token_selectoin'" in message
    assert "Did you mean 'sparse_token_selection'" in message
    assert "Registered:" in message


def test_unknown_parameter_names_accepted_ones() -> None:
    with pytest.raises(ArchbenchError) as err:
        get_task("sparse_token_selection", qq=3)
    assert "'qq'" in str(err.value) and "Did you mean 'q'" in str(err.value) and "code_dim" in str(err.value)


@pytest.mark.parametrize(
    ("value", "annotation", "expected"),
    [
        ("3", int, 3),
        ("0.5", float, 0.5),
        ("true", bool, True),
        ("off", bool, False),
        ("32,64", tuple[int, ...], (32, 64)),
        ("none", int | None, None),
        ("7", int | None, 7),
    ],
)
def test_coercion_from_command_line_strings(value: str, annotation: object, expected: object) -> None:
    assert coerce(value, annotation, "x") == expected


@pytest.mark.parametrize(
    ("value", "annotation", "fragment"),
    [
        ("abc", int, "must be an integer; got 'abc'"),
        ("1.5", int, "must be an integer"),
        ("x", float, "must be a number"),
        ("maybe", bool, "true or false"),
        ("sideways", Literal["left", "right"], "one of left, right; got 'sideways'"),
    ],
)
def test_coercion_errors_name_value_and_choices(value: str, annotation: object, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        coerce(value, annotation, "param")


def test_task_range_checks() -> None:
    with pytest.raises(ArchbenchError, match="q must be <= length=4; got q=5"):
        get_task("sparse_token_selection", q=5, length=4, eval_lengths=(8,))
    with pytest.raises(ArchbenchError, match="d must be > 0; got 0"):
        get_task("sparse_token_selection", d=0)
    with pytest.raises(ArchbenchError, match="'codes' must be one of stochastic, fixed, onehot; got 'random'"):
        get_task("sparse_token_selection", codes="random")


def test_glob_listing() -> None:
    assert "sparse_token_selection" in list_tasks("sparse*")
    assert list_tasks("no_such_*") == []
    assert all(name.startswith("l") for name in list_architectures("l*"))


def test_plugin_file_registers_and_duplicate_name_is_refused(mean_pool_plugin: Path) -> None:
    assert "mean_pool" in list_architectures()
    load_plugins([str(mean_pool_plugin)])  # loading the same plugin twice is harmless
    with pytest.raises(ArchbenchError, match="already registered"):

        @register_architecture("mean_pool")
        def other(spec):  # pragma: no cover - never built
            return None

    entry = ARCHITECTURES.get("mean_pool")
    assert validate_params(entry, {"width": "12"}) == {"width": 12}


def test_missing_plugin_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArchbenchError, match="does not exist"):
        load_plugins([str(tmp_path / "nope.py")])
    with pytest.raises(ArchbenchError, match="cannot be imported"):
        load_plugins(["no_such_module_anywhere"])


def test_entry_point_plugin_installed_as_separate_package(tmp_path: Path) -> None:
    """pip-install the example package into a fresh target directory; it must appear and run, no edit here."""
    target = tmp_path / "site"
    example = ROOT / "examples" / "archbench-plugin-example"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(example),
        ],
        check=True,
        capture_output=True,
    )
    env_path = f"{target}:{ROOT}"
    listing = subprocess.run(
        [sys.executable, "-m", "bench", "list", "architectures"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert listing.returncode == 0, listing.stderr
    assert "causal_conv" in listing.stdout
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--task",
            "sparse_token_selection",
            "--arch",
            "causal_conv",
            "--profile",
            "smoke",
            "--results",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "causal_conv" in run.stdout and "r2 @16" in run.stdout
    assert list((tmp_path / "runs").glob("*.jsonl"))


def test_env_var_plugins_are_loaded(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        from bench import list_architectures
        print("mean_pool" in list_architectures())
    """)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "ARCHBENCH_PLUGINS": str(ROOT / "tests/plugins/mean_pool_plugin.py"),
            "PYTHONPATH": str(ROOT),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.stdout.strip() == "True", result.stderr
