"""Induction heads: semantics checked independently of any model (plain-Python scan, explicit lookup)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import get_task

NAME = "induction_heads"


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: find the earlier trigger, answer the token after it."""
    earlier = prefix[:-1].index(task.trigger)
    return prefix[earlier + 1]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.spec().num_classes, lambda prefix: solve_prefix(task, prefix))


def test_layout_and_target_by_brute_force_scan() -> None:
    task = get_task(NAME)
    V = task.vocab
    for length in task.all_lengths:
        batch = task.sample(200, length, torch.Generator().manual_seed(length))
        assert batch.x.shape == (200, length)
        firsts = set()
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            triggers = [i for i, token in enumerate(x) if token == V]
            assert len(triggers) == 2 and triggers[1] == length - 1
            first = triggers[0]
            assert first < (length - 1) // 2  # in the first part
            firsts.add(first)
            assert all(0 <= token < V for i, token in enumerate(x) if i not in triggers)
            assert mask == [False] * (length - 1) + [True]
            assert y[-1] == x[first + 1]
        assert min(firsts) < 0.1 * length and max(firsts) > 0.4 * length  # spread over the whole first half


def test_reference_solver_on_prefixes_is_perfect_at_every_length() -> None:
    task = get_task(NAME)
    for length, batch, _ in checks.assert_solves_every_length(task, 64, lambda batch: causal_predictions(task, batch)):
        # the answer is not the last content token or a fixed position: copying x[t-1] fails
        naive = torch.nn.functional.one_hot(batch.x[:, -2].clamp(max=task.vocab - 1), task.vocab).float()
        preds = torch.zeros(*batch.y.shape, task.vocab)
        preds[:, -1] = naive
        assert checks.score(task, length, preds, batch) < 0.3


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    assert task.chance == pytest.approx(1 / 16)
    checks.assert_chance_baselines(task, 8000, 0.015)


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task(NAME)
    checks.assert_deterministic_and_disjoint(task, 16, 64)
    checks.assert_ood_longer(task, 4, seq_len=lambda length: length, max_seq_len=1024)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"vocab": 1}, r"vocab must be >= 2.*got 1"),
        ({"vocab": 0}, r"vocab must be >= 2.*got 0"),
        ({"length": 2, "eval_lengths": (8,)}, r"length must be >= 3; got 2"),
        ({"eval_lengths": (32, 128)}, r"eval_lengths must all exceed length=64; got 32"),
        ({"solved_at": 0}, r"solved_at must be in \(0.0625, 1\]; got 0"),
        ({"vocab": "many"}, r"parameter 'vocab' must be an integer; got 'many'"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused(NAME, params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task(NAME, 32)
    checks.assert_solves_every_length(task, 32, lambda batch: causal_predictions(task, batch))
