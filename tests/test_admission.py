"""Planning refuses a non-causal model on a task with targets at several positions, before anything runs or is
written; it admits it where the single target is the last position, and admits every causal model anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from torch import nn

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.contract.model import is_causal
from bench.contract.spec import TaskSpec
from bench.run.admission import check_admissible, last_target_tasks
from bench.run.plan import plan
from bench.run.profiles import get_profile

SEVERAL = TaskSpec("tokens", "class", seq_len=8, max_seq_len=8, vocab_size=4, num_classes=4)
LAST = TaskSpec("tokens", "class", seq_len=8, max_seq_len=8, vocab_size=4, num_classes=4, targets="last")


class Plain(nn.Linear):
    """Declares nothing: causal by default."""


class Bidirectional(nn.Linear):
    causal = False


def test_is_causal_defaults_to_true_and_reads_the_declaration() -> None:
    assert is_causal(Plain(2, 2)) and not is_causal(Bidirectional(2, 2))


def test_the_rule_on_built_models() -> None:
    check_admissible(Plain(2, 2), "plain", "t", SEVERAL)
    check_admissible(Bidirectional(2, 2), "bi", "t", LAST)
    with pytest.raises(
        ArchbenchError,
        match=r"^architecture 'bi' declares causal=False and cannot run task 't': its targets sit at several positions",
    ):
        check_admissible(Bidirectional(2, 2), "bi", "t", SEVERAL)


def test_plan_refuses_on_copy_and_lists_the_valid_tasks() -> None:
    with pytest.raises(ArchbenchError) as info:
        plan("copy", ["fcn"], get_profile("smoke"), arch_grid=[{"causal": "false"}])
    message = str(info.value)
    assert "'fcn' declares causal=False and cannot run task 'copy'" in message and "\n" not in message
    assert message.endswith(": " + ", ".join(last_target_tasks()))
    assert "sparse_token_selection" in last_target_tasks()


def test_plan_admits_causal_fcn_on_copy_and_non_causal_fcn_on_a_last_target_task() -> None:
    assert plan("copy", ["fcn"], get_profile("smoke"))
    runs = plan("sparse_parity", ["fcn"], get_profile("smoke"), arch_grid=[{"causal": "false"}])
    assert runs and runs[0].arch_config["causal"] is False


def test_cli_refuses_before_training_exit_2_one_line_nothing_written(tmp_path: Path, capsys) -> None:
    results = tmp_path / "runs"
    code = main(
        [
            "run",
            "--task",
            "copy",
            "--arch",
            "fcn",
            "--set",
            "arch.causal=false",
            "--profile",
            "smoke",
            "--steps",
            "200",
            "--results",
            str(results),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("archbench: error: architecture 'fcn' declares causal=False and cannot run task 'copy'")
    assert err.count("\n") == 1
    assert not results.exists()


def test_cli_admits_non_causal_fcn_where_the_target_is_last(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "run",
            "--task",
            "sparse_token_selection",
            "--arch",
            "fcn",
            "--set",
            "arch.causal=false",
            "--profile",
            "smoke",
            "--steps",
            "2",
            "--results",
            str(tmp_path),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert list(tmp_path.rglob("*.jsonl"))
