"""State tracking, one registered task per group: semantics checked independently of any model (group products
in plain Python)."""

from __future__ import annotations

import itertools

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, get_task, list_tasks
from bench.contract.registry import get_task_entry
from tasks.state_tracking.cyclic import StateCyclic

# (registered task, parameters, the group it names, |G|)
GROUPS = [
    ("state_parity", {}, "parity", 2),
    ("state_cyclic", {}, "cyclic", 5),
    ("state_cyclic", {"modulus": 7}, "cyclic", 7),
    ("state_s5", {}, "S5", 120),
    ("state_a5", {}, "A5", 60),
]
IDS = ["parity", "cyclic5", "cyclic7", "S5", "A5"]
NAMES = ["state_parity", "state_cyclic", "state_s5", "state_a5"]


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


def reference_group(group: str, order: int):
    """(elements, identity, multiply) built here from scratch, with (a b)(i) = a(b(i)) for permutations."""
    if group == "parity":
        return [0, 1], 0, lambda a, b: a ^ b
    if group == "cyclic":
        return list(range(order)), 0, lambda a, b: (a + b) % order
    perms = list(itertools.permutations(range(5)))
    if group == "A5":
        perms = [p for p in perms if _sign_by_cycles(p) == 1]
    return perms, tuple(range(5)), lambda a, b: tuple(a[b[i]] for i in range(5))


def solve_prefix(group: str, order: int, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: multiply the group elements of the prefix, left to right."""
    elements, state, multiply = reference_group(group, order)
    for token in prefix:
        state = multiply(state, elements[token])
    return elements.index(state)


def causal_predictions(task, group: str, batch) -> torch.Tensor:
    solver = lambda prefix: solve_prefix(group, task.order, prefix)  # noqa: E731
    return checks.predict_from_prefixes(batch, task.spec().num_classes, solver)


@pytest.mark.parametrize("name, extra, group, order", GROUPS, ids=IDS)
def test_targets_equal_brute_force_running_product(name: str, extra: dict, group: str, order: int) -> None:
    task = get_task(name, **extra)
    elements, identity, multiply = reference_group(group, order)
    assert list(task.elements) == elements and task.order == len(elements) == order
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


@pytest.mark.parametrize("name, extra, group, order", GROUPS, ids=IDS)
def test_reference_solver_on_prefixes_reaches_accuracy_one_at_every_length(
    name: str, extra: dict, group: str, order: int
) -> None:
    task = get_task(name, **extra)
    checks.assert_solves_every_length(task, 12, lambda batch: causal_predictions(task, group, batch))


@pytest.mark.parametrize("name, extra, group, order", GROUPS, ids=IDS)
def test_chance_from_constant_and_random_predictors(name: str, extra: dict, group: str, order: int) -> None:
    task = get_task(name, **extra)
    assert task.chance == 1 / order
    n = 1000
    tolerance = 5 * (task.chance / (n * task.length)) ** 0.5 + 0.002  # 20000 targets
    train, test = checks.assert_chance_baselines(task, n, tolerance, classes=task.order)
    assert bool(train.mask.all()) and test.y.numel() == n * task.length  # every position scored


@pytest.mark.parametrize("name", NAMES)
def test_determinism_disjoint_streams_and_longer_ood(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 16, 20)
    checks.assert_ood_longer(task, 2, max_seq_len=100)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("state_s5", {"group": "S5"}, r"task 'state_s5' has no parameter 'group'"),  # each group is a task of its own
        ("state_cyclic", {"modulus": 1}, r"task 'state_cyclic': modulus must be >= 2.*got 1"),
        ("state_parity", {"modulus": 3}, r"task 'state_parity' has no parameter 'modulus'"),
        ("state_a5", {"length": 0}, r"length must be >= 1; got 0"),
        ("state_parity", {"eval_lengths": (10,)}, r"eval_lengths must all exceed length=20; got 10"),
        ("state_s5", {"solved_at": 0.0}, r"solved_at must be in \(0.00833333, 1\]; got 0.0"),
        ("state_a5", {"solved_at": 0.01}, r"solved_at must be in \(0.0166667, 1\]; got 0.01"),
    ],
)
def test_invalid_parameters_name_value_and_range(name: str, params: dict, message: str) -> None:
    checks.assert_refused(name, params, message)


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ArchbenchError, match=r"modulus must be >= 2 \(the cyclic group Z_modulus\); got 0"):
        StateCyclic(modulus=0)


def test_each_group_is_registered_by_its_own_name() -> None:
    assert set(NAMES) <= set(list_tasks()) and "state_tracking" not in list_tasks()
    for name in NAMES:
        cls = get_task_entry(name).obj
        assert (
            cls.family == "state_tracking" and get_task(name).spec().targets == "several"
        )  # a target at every position


@pytest.mark.parametrize("name, extra, group, order", GROUPS, ids=IDS)
def test_smoke_profile_is_tiny_and_solvable(name: str, extra: dict, group: str, order: int) -> None:
    task = checks.smoke_task(name, 16, **extra)
    checks.assert_solves_every_length(task, 16, lambda batch: causal_predictions(task, group, batch))
