"""CLI: list, a smoke run with a plugin, and one-line errors (exit 2, nothing written) for bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli.main import main
from tests.conftest import PLUGINS

PLUGIN = str(PLUGINS / "mean_pool_plugin.py")


def test_list_shows_tasks_and_architectures(capsys) -> None:
    assert main(["--plugin", PLUGIN, "list"]) == 0
    out = capsys.readouterr().out
    assert "sparse_token_selection" in out and "r2" in out and "mean_pool" in out


def test_run_smoke_with_plugin_prints_table_and_records(tmp_path: Path, capsys) -> None:
    args = ["--plugin", PLUGIN, "run", "--task", "sparse_token_selection", "--arch", "mean_pool", "--profile", "smoke",
            "--seeds", "0,1", "--results", str(tmp_path), "--set", "task.codes=stochastic", "--set", "task.codes=fixed"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "mean_pool [codes=stochastic]" in out and "mean_pool [codes=fixed]" in out
    assert "r2 @16 (train)" in out and "r2 @128" in out
    lines = (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["status"] == "ok" for line in lines)
    # a second identical invocation skips every stored run
    assert main(args) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 4
    assert main(args + ["--force"]) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 8


def test_failing_architecture_fails_alone(tmp_path: Path, capsys) -> None:
    code = main(["--plugin", PLUGIN, "--plugin", str(PLUGINS / "broken_plugin.py"), "run", "--task", "sparse_token_selection",
                 "--arch", "broken,mean_pool", "--profile", "smoke", "--results", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "failed: RuntimeError: broken plugin" in captured.out
    records = [json.loads(line) for line in (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()]
    assert {(r["arch"], r["status"]) for r in records} == {("broken", "failed"), ("mean_pool", "ok")}


BAD = [
    (["--task", "nope", "--arch", "mean_pool"], "unknown task 'nope'"),
    (["--task", "sparse_token_selection", "--arch", "mean_poo"], "Did you mean 'mean_pool'"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "arch.depth=2"], "has no parameter 'depth'"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.d=abc"], "must be an integer; got 'abc'"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.d=0"], "d must be > 0; got 0"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.q=-1"], "q must be > 0; got -1"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.codes=onehot"], "code_dim >= 128"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "d=3"], "task.KEY=VALUE or arch.KEY=VALUE"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--steps", "0"], "steps must be > 0; got 0"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--seeds", "a,b"], "list of ints"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--profile", "huge"], "unknown profile 'huge'; valid: smoke, quick"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    profile = [] if "--profile" in args else ["--profile", "smoke"]
    code = main(["--plugin", PLUGIN, "run", "--results", str(tmp_path / "runs"), *profile, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.startswith("archbench: error:") and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_progress_lines_keep_bracketed_labels(tmp_path: Path, capsys) -> None:
    """Labels such as `mean_pool [codes=fixed]` must not be eaten as rich markup in the progress lines."""
    assert main(["--plugin", PLUGIN, "run", "--task", "sparse_token_selection", "--arch", "mean_pool", "--profile", "smoke",
                 "--results", str(tmp_path), "--set", "task.codes=fixed"]) == 0
    assert "mean_pool [codes=fixed] seed 0:" in capsys.readouterr().err


def test_list_sizes_side_by_side(capsys) -> None:
    assert main(["list", "architectures", "--preset", "small", "--task", "sparse_token_selection"]) == 0
    out = capsys.readouterr().out
    assert "parameters (small, sparse_token_selection)" in out and "state size" in out
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.splitlines()[2:]}
    from bench.contract.registry import get_architecture

    counts = {name: int(value.replace(",", "")) for name, value in rows.items() if get_architecture(name).presets}
    assert len(counts) >= 10
    reference = counts["transformer"]
    assert all(abs(c - reference) <= 0.1 * reference for c in counts.values())  # matched within ±10%
    assert main(["list", "architectures", "--preset", "small"]) == 2
