"""`archbench check-arch` and `bench.run.contract_checks`: every registered architecture passes; plugins that break one
rule each are rejected naming that rule; exit codes 0 (all pass), 1 (a rule fails), 2 (user error)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench import list_architectures
from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.contract.model import materialize, num_parameters
from bench.contract.registry import load_plugins
from bench.run.contract_checks import CHECKS, SIZE_SPEC, SPECS, check_architecture
from bench.run.presets import resolve_hparams
from tests.conftest import PLUGINS

ARCHS = list_architectures()  # taken at collection, before any test loads the breaking plugins below
BREAKERS = str(PLUGINS / "contract_breakers.py")
BROKEN = str(PLUGINS / "broken_plugin.py")


@pytest.fixture(scope="module")
def breakers() -> None:
    load_plugins([BREAKERS, BROKEN])


def failures(report) -> dict[str, str]:
    return {r.name: r.reason for r in report.results if r.status == "fail"}


@pytest.mark.parametrize("name", ARCHS)
def test_every_registered_architecture_passes(name: str) -> None:
    report = check_architecture(name)
    assert [r.name for r in report.results] == list(CHECKS)
    assert report.passed, failures(report)
    assert all(r.status == "pass" for r in report.results), report.results
    assert report.parameters and report.parameters > 0
    assert report.state_size is None or report.state_size > 0


@pytest.mark.parametrize(
    ("name", "rule", "fragment"),
    [
        ("peeks_ahead", "causality", "tokens->class: eval mode, T=8: output at position 0 changed"),
        ("batchnorm_over_time", "causality", "tokens->class: train mode, T=8: output at position 0 changed"),
        ("unused_parameter", "gradients", "no gradient reaches unused.weight, unused.bias"),
        ("wrong_shape", "shape", "tokens->class: output shape (2, 3), expected (2, 8, 3)"),
        ("unseeded", "determinism", "seed 0 twice gives different initial values for head.weight"),
        ("claims_fixed_length", "lengths", "supports_length(1) is False but forward accepted length 1"),
        ("bad_state_size", "size", "state_size must be None or a positive integer; got -1"),
        ("broken", "shape", "raised RuntimeError: broken plugin: forward is not implemented (fails on 3 more spec(s))"),
    ],
)
def test_a_plugin_breaking_one_rule_fails_that_rule_with_its_reason(
    breakers: None, name: str, rule: str, fragment: str
) -> None:
    report = check_architecture(name)
    assert not report.passed
    assert list(failures(report)) == [rule]
    assert fragment in failures(report)[rule]
    if rule == "shape":  # nothing else can run on a model without a working forward
        assert {r.status for r in report.results if r.name not in ("shape", "size")} == {"skip"}


def test_zero_initialised_layer_is_not_mistaken_for_an_unused_parameter(breakers: None) -> None:
    report = check_architecture("zero_init_head")
    assert report.passed and report.status("gradients") == "pass"


def test_a_lazy_model_passes_every_rule(breakers: None) -> None:
    """`nn.LazyLinear` is ordinary PyTorch: materialized after the build, it is counted, seeded and checked."""
    report = check_architecture("lazy_honest")
    assert report.passed and all(r.status == "pass" for r in report.results), report.results
    width, spec = 8, SPECS[SIZE_SPEC]
    assert report.parameters == (spec.input_dim + 1) * width + (width + 1) * width + (width + 1) * spec.output_size


def test_counting_an_unmaterialized_lazy_model_is_one_clear_error() -> None:
    model = nn.Sequential(nn.Embedding(5, 4), nn.LazyLinear(3))
    with pytest.raises(ArchbenchError, match="lazy parameters whose shapes are not known yet"):
        num_parameters(model)
    spec = SPECS["tokens->class"]
    assert num_parameters(materialize(model, spec)) == 5 * 4 + 4 * 3 + 3
    assert model.training  # the dry forward restores the mode


@pytest.mark.parametrize("arch", ["transformer", "linear_attention"])
def test_dropout_is_not_a_false_causality_alarm_in_train_mode(arch: str) -> None:
    """Both forwards of a comparison start from the same random state; dropout really is live in train mode."""
    from bench.contract.registry import build_architecture
    from bench.run.contract_checks import sample_input

    report = check_architecture(arch, overrides={"dropout": "0.3"})
    assert report.status("causality") == "pass", failures(report)
    spec = SPECS["vectors->vector"]
    model = build_architecture(arch, spec, **resolve_hparams(arch, spec, "tiny", {"dropout": 0.3})).train()
    x = sample_input(spec, 2, spec.seq_len, seed=0)
    with torch.no_grad():
        assert not torch.equal(model(x), model(x))


def test_a_causal_declaration_must_be_a_bool() -> None:
    from bench.contract.registry import build_architecture
    from bench.run.contract_checks import Violation, check_causality

    def build(label: str, seed: int):
        model = build_architecture("gru", SPECS[label], hidden=8, layers=1)
        model.causal = "yes"
        return model

    with pytest.raises(Violation, match="causal must be True or False; got 'yes'"):
        check_causality(build, "vectors->vector")


def test_declared_non_causal_model_skips_causality_with_the_reason() -> None:
    report = check_architecture("fcn", overrides={"causal": "false"})
    assert report.passed and report.status("causality") == "skip"
    assert "causal=False" in next(r.reason for r in report.results if r.name == "causality")


def test_an_undeclared_non_causal_model_fails() -> None:
    """fcn's plain mode with its `causal` flag hidden: the perturbation test alone must catch it."""
    from bench.contract.registry import build_architecture
    from bench.run.contract_checks import SPECS, Violation, check_causality

    def build(label: str, seed: int):
        model = build_architecture("fcn", SPECS[label], hidden=16, causal=False)
        del model.causal
        return model

    with pytest.raises(
        Violation, match=r"output at position 0 changed \(by .*\) when only inputs after position 0 changed"
    ):
        check_causality(build, "vectors->vector")


# ---------------------------------------------------------------------------------------------
# the command


def test_cli_all_pass_exit_0_with_table(capsys) -> None:
    assert main(["check-arch", "gru", "l[rsi]*"]) == 0  # not lazy_honest, a plugin an earlier test may load
    out = capsys.readouterr().out
    for name in ("gru", "lru", "lstm", "linear_attention"):
        assert f"| {name} " in out
    assert "FAIL" not in out and "4 of 4 architecture(s) pass" in out


def test_cli_failure_exit_1_names_arch_rule_and_reason(capsys) -> None:
    assert main(["check-arch", "--plugin", BREAKERS, "peeks_ahead", "unused_parameter", "zero_init_head"]) == 1
    out = capsys.readouterr().out
    assert "peeks_ahead: causality FAIL: tokens->class: eval mode, T=8: output at position 0 changed" in out
    assert "unused_parameter: gradients FAIL: tokens->class: no gradient reaches unused.weight" in out
    assert "zero_init_head:" not in out and "1 of 3 architecture(s) pass" in out


def test_cli_skip_does_not_fail(capsys) -> None:
    assert main(["check-arch", "fcn", "--set", "causal=false"]) == 0
    assert "fcn: causality skip: declares causal=False" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "unknown architecture 'nope'"),
        (["tranformer"], "Did you mean 'transformer'"),
        (["zz*"], "no registered architecture matches 'zz*'"),
        (["gru", "--set", "depth=2"], "has no parameter 'depth'"),
        (["gru", "--set", "hidden"], "--set expects KEY=VALUE; got 'hidden'"),
        (["gru", "--set", "hidden=0"], "hidden must be a positive integer; got 0"),
        (["gru", "--preset", "huge"], "unknown preset 'huge'"),
        (["gru", "--plugin", "no_such_plugin_module"], "cannot be imported"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(capsys, args: list[str], message: str) -> None:
    assert main(["check-arch", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""
