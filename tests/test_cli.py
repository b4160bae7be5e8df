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
    args = [
        "--plugin",
        PLUGIN,
        "run",
        "--task",
        "sparse_token_selection",
        "--arch",
        "mean_pool",
        "--profile",
        "smoke",
        "--seeds",
        "0,1",
        "--results",
        str(tmp_path),
        "--set",
        "task.codes=stochastic",
        "--set",
        "task.codes=fixed",
    ]
    assert main(args) == 0
    out, err = capsys.readouterr()
    # stochastic is the task's default: that row is the plain mean_pool, not a departure
    rows = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| mean_pool")}
    assert rows == {"mean_pool", "mean_pool [codes=fixed]"}
    assert "r2 @16 (train)" in out and "r2 @128" in out
    assert "4 runs: 0 stored already, 4 to train" in err and "4 runs: 4 trained now, 0 stored already" in out
    lines = (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["status"] == "ok" for line in lines)
    # a second identical invocation skips every stored run, and says so and how to retrain
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "4 runs: 4 stored already (skipped; --force retrains them), 0 to train" in err
    assert "4 runs: 0 trained now, 4 stored already (shown from their records; --force retrains them)" in out
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 4
    assert main(args + ["--force"]) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 8


def test_failing_architecture_fails_alone(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "--plugin",
            PLUGIN,
            "--plugin",
            str(PLUGINS / "broken_plugin.py"),
            "run",
            "--task",
            "sparse_token_selection",
            "--arch",
            "broken,mean_pool",
            "--profile",
            "smoke",
            "--results",
            str(tmp_path),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "failed: RuntimeError: broken plugin" in captured.out
    records = [json.loads(line) for line in (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()]
    assert {(r["arch"], r["status"]) for r in records} == {("broken", "failed"), ("mean_pool", "ok")}


BAD = [
    (["--task", "nope", "--arch", "mean_pool"], "unknown task 'nope'"),
    (["--task", "sparse_token_selection", "--arch", "mean_poo"], "Did you mean 'mean_pool'"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "arch.depth=2"], "has no parameter 'depth'"),
    (
        ["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.d=abc"],
        "must be an integer; got 'abc'",
    ),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.d=0"], "d must be > 0; got 0"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.q=-1"], "q must be > 0; got -1"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "task.codes=onehot"], "code_dim >= 128"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--set", "d=3"], "task.KEY=VALUE or arch.KEY=VALUE"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--steps", "0"], "steps must be > 0; got 0"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--seeds", "a,b"], "list of ints"),
    (
        ["--task", "sparse_token_selection", "--arch", "mean_pool", "--profile", "huge"],
        "unknown profile 'huge'; valid: smoke, quick",
    ),
    (
        ["--task", "sparse_token_selection", "--arch", "mean_pool", "--seeds", "0,0"],
        "--seeds lists 0 more than once; got '0,0'",
    ),
    (["--task", "sparse_token_selection", "--arch", "mean_pool,mean_pool"], "--arch lists mean_pool more than once"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--seeds", ","], "--seeds needs at least one value"),
    (
        ["--task", "sparse_token_selection", "--arch", "mean_pool", "--format", "nope"],
        "unknown table format 'nope' (--format); valid: ",
    ),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--threads", "0"], "--threads must be > 0; got 0"),
    (["--task", "sparse_token_selection", "--arch", "mean_pool", "--lr-grid", "a"], "list of floats"),
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
    assert (
        main(
            [
                "--plugin",
                PLUGIN,
                "run",
                "--task",
                "sparse_token_selection",
                "--arch",
                "mean_pool",
                "--profile",
                "smoke",
                "--results",
                str(tmp_path),
                "--set",
                "task.codes=fixed",
            ]
        )
        == 0
    )
    assert "mean_pool [codes=fixed] seed 0:" in capsys.readouterr().err


def test_list_sizes_side_by_side(capsys) -> None:
    assert main(["list", "architectures", "--preset", "small", "--task", "sparse_token_selection"]) == 0
    out = capsys.readouterr().out
    assert "parameters (small, sparse_token_selection)" in out and "state size" in out
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.splitlines()[2:]}
    from bench.contract.registry import get_architecture

    # families whose width is fitted to the presets (sts_attention's size is set by the task: no width)
    counts = {
        name: int(value.replace(",", ""))
        for name, value in rows.items()
        if get_architecture(name).presets and get_architecture(name).width_param
    }
    assert len(counts) >= 10
    reference = counts["transformer"]
    assert all(abs(c - reference) <= 0.1 * reference for c in counts.values())  # matched within ±10%
    assert main(["list", "architectures", "--preset", "small"]) == 2


def test_bad_results_directory_is_refused_before_training(tmp_path: Path, capsys) -> None:
    (tmp_path / "file").write_text("")
    assert (
        main(
            [
                "--plugin",
                PLUGIN,
                "run",
                "--task",
                "sparse_token_selection",
                "--arch",
                "mean_pool",
                "--profile",
                "smoke",
                "--results",
                str(tmp_path / "file"),
            ]
        )
        == 2
    )
    assert "archbench: error: --results" in capsys.readouterr().err


def test_version(capsys) -> None:
    from bench import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"archbench {__version__}"


@pytest.mark.parametrize("where", ["before", "after"])
def test_plugin_before_or_after_the_subcommand(where: str, capsys) -> None:
    argv = (
        ["--plugin", PLUGIN, "list", "architectures"]
        if where == "before"
        else ["list", "architectures", "--plugin", PLUGIN]
    )
    assert main(argv) == 0
    assert "mean_pool" in capsys.readouterr().out


def test_plugin_given_before_and_after_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.cli.main import parse_args

    args = parse_args(["--plugin", "a.py", "run", "--task", "t", "--arch", "x", "--plugin", "b.py", "--plugin", "a.py"])
    assert args.plugin == ["a.py", "b.py"]


BROKEN_PLUGINS = [
    ("syntax.py", "def build(:\n    pass\n", "failed to import: SyntaxError: invalid syntax (syntax.py, line 1)"),
    (
        "raises.py",
        "x = 1\nraise RuntimeError('no GPU here')\n",
        "failed to import: RuntimeError: no GPU here (raises.py, line 2)",
    ),
    (
        "needs.py",
        "import no_such_dependency_anywhere\n",
        "failed to import: ModuleNotFoundError: No module named 'no_such_dependency_anywhere' (needs.py, line 1)",
    ),
]


@pytest.mark.parametrize(("name", "source", "message"), BROKEN_PLUGINS)
@pytest.mark.parametrize(
    "command", [["list"], ["check-arch", "all"], ["run", "--task", "sparse_token_selection", "--arch", "lstm"]]
)
def test_plugin_that_fails_to_import_is_one_line_exit_2(
    tmp_path: Path, capsys, name: str, source: str, message: str, command: list[str]
) -> None:
    plugin = tmp_path / name
    plugin.write_text(source)
    assert (
        main(
            [*command, "--plugin", str(plugin), *(["--results", str(tmp_path / "runs")] if command[0] == "run" else [])]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err == f"archbench: error: plugin {str(plugin)!r} {message}\n"
    assert not (tmp_path / "runs").exists()


def test_plugin_without_presets_under_a_preset_is_warned_about(capsys) -> None:
    from bench.cli.commands.common import warn_presetless
    from bench.run.plan import plan
    from bench.run.profiles import get_profile

    main(["--plugin", PLUGIN, "list", "architectures"])  # registers mean_pool
    capsys.readouterr()
    warn_presetless(
        plan("sparse_token_selection", ["mean_pool", "lstm", "mean_pool"], get_profile("smoke"), seeds=[0, 1])
    )
    err = capsys.readouterr().err
    assert err == (
        "archbench: warning: architecture 'mean_pool' has no size presets; it runs at width=16, "
        "not matched to preset 'tiny'\n"
    )


@pytest.mark.parametrize(
    ("task_params", "arch_params", "label"),
    [
        ({}, {}, "transformer"),
        ({"codes": "stochastic"}, {}, "transformer"),  # the task's default: not a departure
        ({"codes": "fixed"}, {}, "transformer [codes=fixed]"),
        ({}, {"layers": "1"}, "transformer"),  # the tiny preset's own value
        ({}, {"pos": "none"}, "transformer"),  # the builder's default
        ({}, {"pos": "rope", "layers": "2"}, "transformer [pos=rope, layers=2]"),
        (
            {"codes": "fixed", "length": "16"},
            {"mlp": "false"},
            "transformer [codes=fixed, mlp=false]",
        ),  # length 16: smoke's own
    ],
)
def test_labels_name_only_departures_from_the_plain_configuration(
    task_params: dict, arch_params: dict, label: str
) -> None:
    from bench.run.plan import plan
    from bench.run.profiles import get_profile

    (run,) = plan(
        "sparse_token_selection",
        ["transformer"],
        get_profile("smoke"),
        seeds=[0],
        task_grid=[task_params],
        arch_grid=[arch_params],
    )
    assert run.label == label


def test_same_configuration_gets_the_same_label_whichever_way_it_was_asked() -> None:
    """The leaderboard bug: the plain transformer and `--set task.codes=stochastic` (the default) are one
    configuration (one run key), so they must carry one label."""
    from bench.run.plan import plan
    from bench.run.profiles import get_profile

    smoke = get_profile("smoke")
    plain = plan("sparse_token_selection", ["transformer"], smoke, seeds=[0])[0]
    spelled = plan("sparse_token_selection", ["transformer"], smoke, seeds=[0], task_grid=[{"codes": "stochastic"}])[0]
    assert plain.key == spelled.key and plain.label == spelled.label == "transformer"
