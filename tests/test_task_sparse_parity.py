"""Sparse parity: semantics checked independently of any model (plain-Python XOR of the hidden set)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, get_task
from bench.train.data import fixed_set


def solve_prefix(relevant: tuple[int, ...], prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: XOR of the bits at the known hidden positions."""
    out = 0
    for i in relevant:
        assert i < len(prefix) - 1  # every relevant bit lies strictly before the query token
        out ^= prefix[i]
    return out


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(
        batch, task.spec().num_classes, lambda prefix: solve_prefix(task.relevant, prefix)
    )


def test_labels_equal_brute_force_xor_and_hidden_set_is_fixed() -> None:
    task = get_task("sparse_parity")
    n, k = task.length, task.k
    relevant = task.relevant
    assert len(relevant) == k == len(set(relevant)) and all(0 <= i < n for i in relevant)
    assert get_task("sparse_parity").relevant == relevant  # fixed by subset_seed, not by the instance
    assert len({get_task("sparse_parity", subset_seed=s).relevant for s in range(8)}) > 1
    for length in task.all_lengths:
        batch = task.sample(200, length, torch.Generator().manual_seed(length))
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            assert len(x) == length + 1 and x[-1] == 2 and set(x[:-1]) <= {0, 1}
            assert mask == [False] * length + [True]
            parity = 0
            for i in relevant:  # the same hidden set at every length: among the first n positions
                parity ^= x[i]
            assert y[-1] == parity


def test_no_single_bit_predicts_the_label() -> None:
    """With k >= 2 every single bit is independent of the label: the set must really be found."""
    task = get_task("sparse_parity")
    batch = fixed_set(task, 4000, task.length, seed=0, stream="train")
    label = batch.y[:, -1].float()
    for i in range(task.length):
        agreement = (batch.x[:, i].float() == label).float().mean()
        assert abs(float(agreement) - 0.5) < 0.04


def test_reference_solver_on_prefixes_reaches_accuracy_one_at_every_length() -> None:
    task = get_task("sparse_parity")
    checks.assert_solves_every_length(task, 500, lambda batch: causal_predictions(task, batch))


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task("sparse_parity")
    random_logits = lambda shape: torch.randn(*shape, 2, generator=torch.Generator().manual_seed(0))  # noqa: E731
    checks.assert_chance_baselines(task, 4000, 0.03, classes=2, random=random_logits)


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("sparse_parity")
    checks.assert_deterministic_and_disjoint(task, 16, 20)
    checks.assert_ood_longer(task, 2)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"k": 21}, r"k must be in \[1, length=20\].*got k=21"),
        ({"k": 0}, r"k must be > 0; got 0"),
        ({"length": 0, "k": 1}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (20,)}, r"eval_lengths must all exceed length=20; got 20"),
        ({"solved_at": 0.5}, r"solved_at must be in \(0.5, 1\]; got 0.5"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused("sparse_parity", params, message)


def test_shorter_than_the_hidden_set_is_refused() -> None:
    with pytest.raises(ArchbenchError, match=r"length must be >= 20; got 10"):
        get_task("sparse_parity").sample(2, 10, torch.Generator())


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task("sparse_parity", 16)
    checks.assert_solves_every_length(task, 64, lambda batch: causal_predictions(task, batch))
