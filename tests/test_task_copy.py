"""Copy: semantics checked independently of any model (plain-Python parsing and string copy)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import get_task


def solve_prefix(sep: int, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: the j-th token after the separator predicts string token j."""
    start = prefix.index(sep)
    return prefix[len(prefix) - 1 - start]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.spec().num_classes, lambda prefix: solve_prefix(task.sep, prefix))


def test_layout_and_targets_by_brute_force_parsing() -> None:
    task = get_task("copy")
    A, SEP, PAD = task.alphabet_size, task.sep, task.pad
    for length in task.all_lengths:
        lo, hi = task.string_lengths(length)
        if length > task.length:
            assert lo > task.length  # out of distribution: every string longer than any training string
        seen = set()
        batch = task.sample(400, length, torch.Generator().manual_seed(length))
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            assert len(x) == 2 * length
            L = x.index(SEP)
            seen.add(L)
            assert lo <= L <= hi and x.count(SEP) == 1
            string = x[:L]
            assert all(0 <= c < A for c in string)
            assert x[L + 1 : 2 * L] == string[:-1]  # teacher forcing: the copy so far
            assert all(c == PAD for c in x[2 * L :])
            assert mask == [False] * L + [True] * L + [False] * (2 * length - 2 * L)
            for j in range(L):
                assert y[L + j] == string[j]
        assert seen == set(range(lo, hi + 1))
    assert task.string_lengths(task.length) == (5, 20)
    assert task.string_lengths(40) == (25, 40) and task.string_lengths(80) == (65, 80)


def test_reference_solver_on_prefixes_reaches_exact_match_one_at_every_length() -> None:
    task = get_task("copy")
    for length, batch, preds in checks.assert_solves_every_length(
        task, 64, lambda batch: causal_predictions(task, batch)
    ):
        checks.corrupt_first_target(preds, batch, task.alphabet_size)  # one wrong token ruins that sequence
        assert checks.score(task, length, preds, batch) == pytest.approx(63 / 64)


@pytest.mark.parametrize("params", [{}, {"alphabet_size": 2, "min_length": 1, "length": 3, "eval_lengths": (6,)}])
def test_chance_from_constant_and_random_predictors(params: dict) -> None:
    """Defaults: chance ~6e-8 (nothing matches); a 2-letter alphabet of strings 1..3 makes it measurable."""
    task = get_task("copy", **params)
    if params:
        assert task.chance == pytest.approx((1 / 2 + 1 / 4 + 1 / 8) / 3)

    def random_letters(shape: torch.Size) -> torch.Tensor:  # uniform over the letters, never SEP or PAD
        preds = torch.zeros(*shape, task.spec().num_classes)
        generator = torch.Generator().manual_seed(0)
        preds[..., : task.alphabet_size] = torch.rand(*shape, task.alphabet_size, generator=generator)
        return preds

    checks.assert_chance_baselines(task, 4000, 0.03, random=random_letters)


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("copy")
    checks.assert_deterministic_and_disjoint(task, 16, 20)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.sum(1).min()) > task.length  # every copy longer than any training copy

    checks.assert_ood_longer(task, 4, check, max_seq_len=160)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"min_length": 21}, r"min_length must be in \[1, length=20\]; got 21"),
        ({"min_length": 0}, r"min_length must be > 0; got 0"),
        ({"alphabet_size": 1}, r"alphabet_size must be >= 2.*got 1"),
        ({"length": 0, "min_length": 1}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (20, 40)}, r"eval_lengths must all exceed length=20; got 20"),
        ({"solved_at": 1.2}, r"solved_at must be in \(.*, 1\]; got 1.2"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused("copy", params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task("copy", 16)
    checks.assert_solves_every_length(task, 32, lambda batch: causal_predictions(task, batch))
