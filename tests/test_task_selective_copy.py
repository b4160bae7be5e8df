"""Selective copy: semantics checked independently of any model (plain-Python parsing, explicit copier)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import get_task

NAME = "selective_copy"


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: collect the data tokens, count the markers, return the next datum."""
    data = [token for token in prefix if token < task.vocab]
    markers = sum(1 for token in prefix if token == task.marker)
    return data[markers - 1]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.spec().num_classes, lambda prefix: solve_prefix(task, prefix))


def test_layout_and_targets_by_brute_force_parsing() -> None:
    task = get_task(NAME)
    k, V = task.num_tokens, task.vocab
    for length in task.all_lengths:
        batch = task.sample(200, length, torch.Generator().manual_seed(length))
        assert batch.x.shape == (200, length + k)
        spread = set()
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            body, tail = x[:length], x[length:]
            assert tail == [V + 1] * k  # MARKER positions last
            data_positions = [i for i, token in enumerate(body) if token != V]  # everything else BLANK
            assert len(data_positions) == k and all(0 <= body[i] < V for i in data_positions)
            spread.update(data_positions)
            assert mask == [False] * length + [True] * k
            assert [y[t] for t in range(length + k) if mask[t]] == [body[i] for i in data_positions]
        assert len(spread) > 0.9 * length  # data positions are spread over the whole sequence


def test_reference_solver_on_prefixes_is_perfect_at_every_length() -> None:
    task = get_task(NAME)
    for length, batch, preds in checks.assert_solves_every_length(
        task, 64, lambda batch: causal_predictions(task, batch)
    ):
        assert checks.score(task, length, preds, batch, "exact_match") == 1.0  # the stricter variant
        checks.corrupt_first_target(preds, batch, task.vocab)
        assert checks.score(task, length, preds, batch) == pytest.approx(1 - 1 / (64 * task.num_tokens))


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    assert task.chance == pytest.approx(1 / 16)
    checks.assert_chance_baselines(task, 4000, 0.01)


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task(NAME)
    checks.assert_deterministic_and_disjoint(task, 16, 64)

    def check(length: int, spec, batch) -> None:
        assert int((batch.x == task.blank).sum(1).min()) == length - task.num_tokens  # same data, more noise
        assert int(batch.mask.sum(1).min()) == task.num_tokens

    checks.assert_ood_longer(task, 4, check, max_seq_len=256 + 8)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"num_tokens": 0}, r"num_tokens must be > 0; got 0"),
        ({"num_tokens": 65}, r"num_tokens must be <= length=64; got num_tokens=65"),
        ({"vocab": 1}, r"vocab must be >= 2.*got 1"),
        ({"length": 0, "num_tokens": 1}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (64, 128)}, r"eval_lengths must all exceed length=64; got 64"),
        ({"solved_at": 0.05}, r"solved_at must be in \(0.0625, 1\]; got 0.05"),
        ({"num_token": 3}, r"no parameter 'num_token'.*Did you mean 'num_tokens'"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused(NAME, params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task(NAME, 40)
    checks.assert_solves_every_length(task, 32, lambda batch: causal_predictions(task, batch))
