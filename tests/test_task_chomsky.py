"""Chomsky-hierarchy tasks, one registered task each: semantics checked independently of any model (plain-Python
evaluation: Python's own arithmetic, an explicit list as the stack, string reversal and duplication)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, get_task, list_tasks
from bench.contract.registry import get_task_entry
from tasks.chomsky.regular.modular_arithmetic import ModularArithmetic

# registered name -> the level folder it lives in (its `family`)
FAMILIES = {
    "even_pairs": "chomsky/regular",
    "cycle_navigation": "chomsky/regular",
    "modular_arithmetic": "chomsky/regular",
    "reverse_string": "chomsky/dcf",
    "stack_manipulation": "chomsky/dcf",
    "duplicate_string": "chomsky/cs",
}
TASKS = list(FAMILIES)
SEQUENCE_TASKS = ["reverse_string", "stack_manipulation", "duplicate_string"]


def expected_output(name: str, inputs: list[int]) -> list[int]:
    """The answer from the raw input tokens, in plain Python."""
    if name == "even_pairs":
        return [sum(a != b for a, b in zip(inputs, inputs[1:])) % 2]
    if name == "cycle_navigation":
        return [sum({0: 0, 1: 1, 2: -1}[move] for move in inputs) % 5]
    if name == "modular_arithmetic":
        text = "".join(str(token) if token < 5 else "+-*"[token - 5] for token in inputs)
        return [eval(text) % 5]  # Python's precedence: * before + and -, left to right
    if name == "reverse_string":
        return inputs[::-1]
    if name == "duplicate_string":
        return inputs + inputs
    stack: list[int] = []
    for token in inputs:
        if token in (0, 1):
            stack.append(token)
        elif token == 2:
            if stack:
                stack.pop()
        else:
            stack.append(token - 3)
    return stack[::-1] + [2]


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: read the input up to SEP, compute the answer, emit its next token."""
    n = prefix.index(task.sep)
    return expected_output(task.name, prefix[:n])[len(prefix) - 1 - n]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.num_classes, lambda prefix: solve_prefix(task, prefix))


@pytest.mark.parametrize(
    ("name", "mode"), [(name, "teacher_forced") for name in TASKS] + [(name, "blank") for name in SEQUENCE_TASKS]
)
def test_layout_and_targets_by_brute_force(name: str, mode: str) -> None:
    task = get_task(name, output_mode=mode)
    INPUTS, SEP, PAD = task.input_symbols, task.sep, task.pad
    for length in task.all_lengths:
        batch = task.sample(300 if length == task.length else 60, length, torch.Generator().manual_seed(length))
        assert batch.x.shape == (batch.x.shape[0], task.spec(length).seq_len)
        seen = set()
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            n = x.index(SEP)
            inputs = x[:n]
            seen.add(n)
            assert all(0 <= token < INPUTS for token in inputs)
            if name == "modular_arithmetic":
                assert n % 2 == 1 and all((token < 5) == (i % 2 == 0) for i, token in enumerate(inputs))
            if name == "stack_manipulation" and n > 1:
                first_action = min(i for i, token in enumerate(inputs + [2]) if token >= 2)
                assert 1 <= first_action < n and all(token >= 2 for token in inputs[first_action:])
            out = expected_output(name, inputs)
            m = len(out)
            assert mask == [False] * n + [True] * m + [False] * (len(x) - n - m)
            assert [y[t] for t in range(n, n + m)] == out
            fed = [SEP] + ([INPUTS + token for token in out[:-1]] if mode == "teacher_forced" else [SEP] * (m - 1))
            assert x[n : n + m] == fed and all(token == PAD for token in x[n + m :])
        if length <= task.length:
            assert seen == set(task.input_length_choices(length)) and min(seen) == 1
        else:
            assert min(seen) > task.length  # out of distribution: every input longer than any training input


@pytest.mark.parametrize("name", TASKS)
def test_reference_solver_on_prefixes_is_perfect_at_every_length(name: str) -> None:
    for mode in ("teacher_forced", "blank") if name in SEQUENCE_TASKS else ("teacher_forced",):
        task = get_task(name, output_mode=mode)
        for length, batch, preds in checks.assert_solves_every_length(
            task, 32, lambda batch, task=task: causal_predictions(task, batch)
        ):
            checks.corrupt_first_target(preds, batch, task.num_classes)
            assert checks.score(task, length, preds, batch) == pytest.approx(1 - 1 / int(batch.mask.sum()))


def test_known_examples_from_the_paper() -> None:
    assert expected_output("modular_arithmetic", [1, 5, 2, 7, 3]) == [2]  # 1 + 2 * 3 = 2 (mod 5)
    assert expected_output("modular_arithmetic", [1, 6, 1, 6, 1]) == [4]  # 1 - 1 - 1 = 4
    assert expected_output("stack_manipulation", [0, 1, 1, 0, 4, 2, 2]) == [1, 1, 0, 2]
    assert expected_output("cycle_navigation", [1, 2, 0, 2, 2]) == [3]
    task = get_task("modular_arithmetic")
    inputs, out, _ = task.generate(torch.tensor([5, 5]), 5, torch.Generator())
    for row, value in zip(inputs.tolist(), out[:, 0].tolist()):
        assert [value] == expected_output("modular_arithmetic", row)


@pytest.mark.parametrize("name", TASKS)
def test_chance_from_constant_and_random_predictors(name: str) -> None:
    task = get_task(name)
    n = 8000 if name not in SEQUENCE_TASKS else 1000
    C = task.num_classes
    checks.assert_chance_baselines(task, n, 0.02, classes=C, random_level=1 / C)
    assert 1 / C <= task.chance + 1e-9
    expected = {"even_pairs": 41 / 80, "reverse_string": 0.5, "duplicate_string": 0.5}
    if name in expected:
        assert task.chance == pytest.approx(expected[name])


@pytest.mark.parametrize("name", TASKS)
def test_determinism_disjoint_streams_and_longer_ood(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 16, 40)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.int().argmax(1).min()) > task.length  # the first target comes after a longer input

    checks.assert_ood_longer(task, 64, check, max_seq_len=task.spec(100).seq_len)


@pytest.mark.parametrize(
    "name, params, message",
    [
        (
            "reverse_string",
            {"output_mode": "greedy"},
            r"'output_mode' must be one of teacher_forced, blank; got 'greedy'",
        ),
        ("cycle_navigation", {"length": 0}, r"task 'cycle_navigation': length must be >= 1; got 0"),
        ("duplicate_string", {"eval_lengths": (40, 100)}, r"eval_lengths must all exceed length=40; got 40"),
        (
            "modular_arithmetic",
            {"length": 41, "eval_lengths": (42,)},
            r"'modular_arithmetic': needs an odd input length in \(length=41, 42\]",
        ),
        ("even_pairs", {"solved_at": 0.5}, r"solved_at must be in \(0.5125, 1\]; got 0.5"),
        ("stack_manipulation", {"lenght": 10}, r"no parameter 'lenght'.*Did you mean 'length'"),
        (
            "even_pairs",
            {"task": "even_pairs"},
            r"no parameter 'task'",
        ),  # a sub-task is a task of its own, not a parameter
    ],
)
def test_invalid_parameters_name_value_and_range(name: str, params: dict, message: str) -> None:
    checks.assert_refused(name, params, message)


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ArchbenchError, match=r"needs an odd input length in \(length=41, 42\]"):
        ModularArithmetic(length=41, eval_lengths=(42,))


def test_each_task_is_registered_by_its_own_name_in_its_level() -> None:
    assert set(TASKS) <= set(list_tasks())
    assert "chomsky" not in list_tasks()
    for name, family in FAMILIES.items():
        cls = get_task_entry(name).obj
        assert cls.name == name and cls.family == family
        assert cls.__module__ == f"tasks.{family.replace('/', '.')}.{name}"  # one module per task, in its level folder


@pytest.mark.parametrize("name", TASKS)
def test_targets_last_only_for_a_single_answer(name: str) -> None:
    task = get_task(name)
    single = name not in SEQUENCE_TASKS
    assert task.spec().targets == ("last" if single else "several")
    if single:  # the one target follows the whole input, and only padding follows it
        batch = task.sample(200, task.length, torch.Generator().manual_seed(0))
        for x, mask in zip(batch.x.tolist(), batch.mask.tolist()):
            t = mask.index(True)
            assert sum(mask) == 1 and x[t] == task.sep and all(token == task.pad for token in x[t + 1 :])


@pytest.mark.parametrize("name", TASKS)
def test_smoke_profile_is_tiny_and_solvable(name: str) -> None:
    task = checks.smoke_task(name, 90)
    assert task.length == 20
    checks.assert_solves_every_length(task, 16, lambda batch: causal_predictions(task, batch))
