"""Width-complexity search: a synthetic family with a known width threshold (a fake executor that "trains"
by looking at the planned width), on an architecture axis and on a task axis, and the CLI around it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import get_profile
from bench.run.sample_complexity import load_results
from bench.run.width_complexity import SUBDIR, Axis, make_result, measure, parse_axis, runs_at

SMOKE = get_profile("smoke")
TASK_SETTINGS = {"q": 2, "code_dim": 8, "eval_lengths": (32,)}


def fake_executor(width_of, threshold: int, seen: list[PlannedRun], failing_seed: int | None = None):
    """Records as the harness would write them, from a model that solves iff its width >= `threshold`:
    the best validation metric is 0.95 above the threshold and 0.2 below; the parameter count is width^2."""

    def execute(runs: list[PlannedRun]) -> Sequence[dict[str, Any]]:
        seen.extend(runs)
        records: list[dict[str, Any]] = []
        for run in runs:
            width = width_of(run)
            best = 0.95 if width >= threshold else 0.2
            if run.seed == failing_seed:
                records.append({"key": run.key, "status": "failed", "error": "boom", "metrics": None})
                continue
            metrics = {"val_history": [[10, best]], "solved": best >= 0.9, "num_parameters": width * width}
            records.append({"key": run.key, "status": "ok", "metrics": metrics, "train_config": run.train.to_dict()})
        return records

    return execute


def fcn_runs(seeds: tuple[int, ...] = (0, 1, 2)) -> list[PlannedRun]:
    return plan("sparse_token_selection", ["fcn"], SMOKE, seeds=list(seeds), task_grid=[dict(TASK_SETTINGS)])


@pytest.mark.parametrize("threshold", [5, 8, 37, 100, 301])
def test_finds_a_known_width_threshold_on_the_architecture_axis(threshold: int) -> None:
    runs, seen = fcn_runs(), list[PlannedRun]()
    axis = parse_axis(None, "fcn")
    assert axis == Axis("arch", "hidden", 1)
    result = measure(runs, axis, SMOKE, fake_executor(lambda r: r.arch_config["hidden"], threshold, seen), 4, 1024)
    low, high = result["bracket"]
    assert result["status"] == "ok" and result["estimate"] == high
    assert (low is None or low < threshold) and threshold <= high  # the bracket holds the threshold
    assert low is None or high / low <= 1.25 or high - low == 1
    assert result["parameters"] == [None if low is None else low * low, high * high]
    widths = [e["width"] for e in result["evaluations"]]
    assert len(widths) == len(set(widths)) and result["path"].startswith("4")
    assert {r.seed for r in seen} == {0, 1, 2}  # every width trained every seed of the configuration
    assert all(r.task.config()["q"] == 2 for r in seen)  # the user's task settings are kept


def test_widths_are_multiples_of_the_family_width_multiple() -> None:
    runs = plan("sparse_token_selection", ["attention1"], SMOKE, seeds=[0], task_grid=[dict(TASK_SETTINGS)])
    axis = parse_axis(None, "attention1")
    assert axis.multiple == 4
    seen: list[PlannedRun] = []
    result = measure(runs, axis, SMOKE, fake_executor(lambda r: r.arch_config["d_model"], 50, seen), 4, 512)
    assert all(r.arch_config["d_model"] % 4 == 0 for r in seen)
    low, high = result["bracket"]
    assert low is not None and high is not None and low < 50 <= high and high % 4 == 0 and low % 4 == 0


def test_a_task_axis_reshapes_the_task_the_model_is_built_for() -> None:
    """sts_attention's width is the task's code dimension: searched on task.code_dim, each width re-plans
    the task, so the model is built for that code dimension."""
    runs = plan("sparse_token_selection", ["sts_attention"], SMOKE, seeds=[0, 1], task_grid=[dict(TASK_SETTINGS)])
    with pytest.raises(ArchbenchError, match="no width parameter.*--axis"):
        parse_axis(None, "sts_attention")
    axis = parse_axis("task.code_dim", "sts_attention")
    seen: list[PlannedRun] = []
    result = measure(runs, axis, SMOKE, fake_executor(lambda r: r.task.config()["code_dim"], 12, seen), 2, 64)
    assert result["path"] == "2✗ 4✗ 8✗ 16✓ 11✗ 13✓" and result["text"] == "13 in [11, 13]"  # 13/11 <= 1.25
    assert all(r.task.spec().input_dim == r.task.config()["d"] + r.task.config()["code_dim"] + 1 for r in seen)


def test_a_failed_seed_counts_as_the_worst_and_all_failed_stops_the_search() -> None:
    runs, seen = fcn_runs(), list[PlannedRun]()
    axis = parse_axis("arch.hidden", "fcn")
    one_failed = measure(runs, axis, SMOKE, fake_executor(lambda r: r.arch_config["hidden"], 20, seen, 0), 4, 64)
    # seeds 1 and 2 pass at width >= 20, seed 0 fails: the median of (-inf, 0.95, 0.95) still passes
    assert one_failed["estimate"] is not None and one_failed["estimate"] >= 20
    every = measure(fcn_runs((0,)), axis, SMOKE, fake_executor(lambda r: 0, 1, [], 0), 4, 64)
    assert every["status"] == "failed" and every["error"] == "boom" and every["estimate"] is None


def test_never_solved_reports_above_the_largest_width() -> None:
    result = measure(fcn_runs((0,)), parse_axis(None, "fcn"), SMOKE, fake_executor(lambda r: 1, 10**6, []), 4, 40)
    assert result["text"] == "> 40" and result["path"] == "4✗ 8✗ 16✗ 32✗ 40✗" and result["bracket"] == [40, None]


def test_bad_axes_and_ranges_are_one_line_errors() -> None:
    with pytest.raises(ArchbenchError, match="arch.NAME or task.NAME"):
        parse_axis("hidden", "fcn")
    runs = plan("sparse_token_selection", ["attention1"], SMOKE, seeds=[0], task_grid=[dict(TASK_SETTINGS)])
    with pytest.raises(ArchbenchError, match="no multiple of 4"):
        measure(runs, parse_axis(None, "attention1"), SMOKE, fake_executor(lambda r: 1, 1, []), 5, 7)
    with pytest.raises(ArchbenchError, match="w_min <= w_max"):
        measure(fcn_runs((0,)), parse_axis(None, "fcn"), SMOKE, fake_executor(lambda r: 1, 1, []), 8, 4)


def test_runs_at_sets_only_the_axis() -> None:
    runs = fcn_runs((0,))
    [moved] = runs_at(runs, Axis("arch", "hidden"), 77, SMOKE)
    assert moved.arch_config == {**runs[0].arch_config, "hidden": 77} and moved.train == runs[0].train
    assert moved.task.config() == runs[0].task.config() and moved.label.endswith(", hidden=77]")


def test_stored_line_names_axis_range_and_runs(tmp_path: Path) -> None:
    runs = fcn_runs((0,))
    axis = parse_axis(None, "fcn")
    measured = measure(runs, axis, SMOKE, fake_executor(lambda r: r.arch_config["hidden"], 9, []), 4, 64)
    line = make_result(runs, axis, measured, 4, 64, 1.25, "smoke", "archbench width-complexity ...")
    assert line["kind"] == "width_complexity" and line["axis"] == "arch.hidden" and line["seeds"] == [0]
    assert all(len(e["keys"]) == 1 for e in line["evaluations"])
    other = make_result(runs, axis, measured, 4, 128, 1.25, "smoke", None)
    assert other["key"] != line["key"]  # another range is another search


def test_cli_end_to_end_with_a_fake_executor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import bench.run.execute as execute_module

    executor = fake_executor(lambda r: r.arch_config["hidden"], 24, [])
    monkeypatch.setattr(execute_module, "execute_with_progress", lambda runs, store, **kw: executor(runs))
    args = ["width-complexity", "--task", "sparse_token_selection", "--arch", "fcn", "--profile", "smoke"]
    args += ["--set", "task.q=2", "--set", "task.code_dim=8", "--w-min", "8", "--w-max", "64"]
    assert main([*args, "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "27 in [23, 27]" in out and "729" in out and "8✗ 16✗ 32✓ 23✗ 27✓" in out
    )  # the width and its parameter count (width^2 here)
    [stored] = load_results(tmp_path, "sparse_token_selection", SUBDIR)
    assert stored["estimate"] == 27 and stored["axis"] == "arch.hidden"
    assert json.loads(json.dumps(stored)) == stored
    assert main([*args, "--axis", "code_dim", "--results", str(tmp_path)]) == 2
    assert main([*args, "--w-min", "0", "--results", str(tmp_path)]) == 2
