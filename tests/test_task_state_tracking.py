"""State tracking: semantics checked independently of any model (group products in plain Python)."""
from __future__ import annotations

import itertools

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, get_task
from tasks.state_tracking import StateTracking

GROUPS = [("parity", {}), ("cyclic", {}), ("cyclic", {"modulus": 7}), ("S5", {}), ("A5", {})]
IDS = ["parity", "cyclic5", "cyclic7", "S5", "A5"]


def _sign_by_cycles(perm: tuple[int, ...]) -> int:
    """Permutation sign from its cycle decomposition (independent of the task's inversion count)."""
    seen, sign = set(), 1
    for start in range(len(perm)):
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = perm[i]
            length += 1
        if length and length % 2 == 0:
            sign = -sign
    return sign


def reference_group(group: str, modulus: int):
    """(elements, identity, multiply) built here from scratch, with (a b)(i) = a(b(i)) for permutations."""
    if group == "parity":
        return [0, 1], 0, lambda a, b: a ^ b
    if group == "cyclic":
        return list(range(modulus)), 0, lambda a, b: (a + b) % modulus
    perms = list(itertools.permutations(range(5)))
    if group == "A5":
        perms = [p for p in perms if _sign_by_cycles(p) == 1]
    return perms, tuple(range(5)), lambda a, b: tuple(a[b[i]] for i in range(5))


def solve_prefix(group: str, modulus: int, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: multiply the group elements of the prefix, left to right."""
    elements, state, multiply = reference_group(group, modulus)
    for token in prefix:
        state = multiply(state, elements[token])
    return elements.index(state)


def causal_predictions(task, batch) -> torch.Tensor:
    solver = lambda prefix: solve_prefix(task.group, task.modulus, prefix)  # noqa: E731
    return checks.predict_from_prefixes(batch, task.spec().num_classes, solver)


@pytest.mark.parametrize("group, extra", GROUPS, ids=IDS)
def test_targets_equal_brute_force_running_product(group: str, extra: dict) -> None:
    task = get_task("state_tracking", group=group, **extra)
    elements, identity, multiply = reference_group(group, task.modulus)
    assert list(task.elements) == elements and task.order == len(elements)
    assert {"parity": 2, "cyclic": task.modulus, "S5": 120, "A5": 60}[group] == task.order
    if group in ("S5", "A5"):
        assert elements[0] == identity
        a, b = (1, 2, 0, 3, 4), (0, 2, 3, 1, 4)  # two 3-cycles: even, in S5 and in A5
        assert a in elements and b in elements
        assert multiply(a, b) != multiply(b, a)  # non-abelian: the order of composition matters
    batch = task.sample(50, 30, torch.Generator().manual_seed(1))
    assert bool(batch.mask.all())
    for x, y in zip(batch.x.tolist(), batch.y.tolist()):
        state = identity
        for t, token in enumerate(x):
            state = multiply(state, elements[token])
            assert y[t] == elements.index(state)


@pytest.mark.parametrize("group, extra", GROUPS, ids=IDS)
def test_reference_solver_on_prefixes_reaches_accuracy_one_at_every_length(group: str, extra: dict) -> None:
    task = get_task("state_tracking", group=group, **extra)
    checks.assert_solves_every_length(task, 12, lambda batch: causal_predictions(task, batch))


@pytest.mark.parametrize("group, extra", GROUPS, ids=IDS)
def test_chance_from_constant_and_random_predictors(group: str, extra: dict) -> None:
    task = get_task("state_tracking", group=group, **extra)
    n = 1000
    tolerance = 5 * (task.chance / (n * task.length)) ** 0.5 + 0.002  # 20000 targets
    train, test = checks.assert_chance_baselines(task, n, tolerance, classes=task.order)
    assert bool(train.mask.all()) and test.y.numel() == n * task.length  # every position scored


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("state_tracking")
    checks.assert_deterministic_and_disjoint(task, 16, 20)
    checks.assert_ood_longer(task, 2, max_seq_len=100)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"group": "S4"}, r"group.*must be one of parity, cyclic, S5, A5; got 'S4'"),
        ({"modulus": 1, "group": "cyclic"}, r"modulus must be >= 2.*got 1"),
        ({"length": 0}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (10,)}, r"eval_lengths must all exceed length=20; got 10"),
        ({"solved_at": 0.0}, r"solved_at must be in \(0.00833333, 1\]; got 0.0"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused("state_tracking", params, message)


def test_unknown_group_refused_without_the_registry_too() -> None:
    with pytest.raises(ArchbenchError, match=r"group must be one of parity, cyclic, S5, A5; got 'Z3'"):
        StateTracking(group="Z3")  # type: ignore[arg-type]


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task("state_tracking", 16)
    checks.assert_solves_every_length(task, 16, lambda batch: causal_predictions(task, batch))
