"""Sparse parity: semantics checked independently of any model (plain-Python XOR of the hidden set)."""
from __future__ import annotations

import pytest
import torch

from bench import ArchbenchError, get_task
from bench.data import fixed_set
from bench.metrics import make_metric
from bench.registry import get_task_entry


def _score(task, length: int, preds: torch.Tensor, batch) -> float:
    metric = make_metric(task.metric, task.spec(length))
    metric.update(preds, batch.y, batch.mask)
    return float(metric.compute())


def solve_prefix(relevant: tuple[int, ...], prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: XOR of the bits at the known hidden positions."""
    out = 0
    for i in relevant:
        assert i < len(prefix) - 1  # every relevant bit lies strictly before the query token
        out ^= prefix[i]
    return out


def causal_predictions(task, batch) -> torch.Tensor:
    preds = torch.zeros(*batch.y.shape, task.spec().num_classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        preds[b, t, solve_prefix(task.relevant, xs[b][: t + 1])] = 1.0
    return preds


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
    for length in task.all_lengths:
        batch = fixed_set(task, 500, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task("sparse_parity")
    train = fixed_set(task, 4000, task.length, seed=0, stream="train")
    test = fixed_set(task, 4000, task.length, seed=0, stream="test")
    majority = int(train.y[train.mask].mode().values)
    constant = torch.zeros(*test.y.shape, 2)
    constant[..., majority] = 1.0
    assert abs(_score(task, task.length, constant, test) - task.chance) < 0.03
    random_logits = torch.randn(*test.y.shape, 2, generator=torch.Generator().manual_seed(0))
    assert abs(_score(task, task.length, random_logits, test) - task.chance) < 0.03


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("sparse_parity")
    a = fixed_set(task, 16, 20, seed=1, stream="train")
    b = fixed_set(task, 16, 20, seed=1, stream="train")
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    val = fixed_set(task, 16, 20, seed=1, stream="val")
    test = fixed_set(task, 16, 20, seed=1, stream="test")
    assert not torch.equal(a.x, val.x) and not torch.equal(val.x, test.x) and not torch.equal(a.x, test.x)
    assert not torch.equal(a.x, fixed_set(task, 16, 20, seed=2, stream="train").x)
    previous = task.spec().seq_len
    for length in task.eval_lengths:
        spec = task.spec(length)
        assert length > task.length and spec.seq_len > previous
        batch = task.sample(2, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == batch.y.shape == batch.mask.shape == (2, spec.seq_len)
        assert int(batch.x.max()) < spec.vocab_size and int(batch.y.max()) < spec.num_classes
        previous = spec.seq_len
    assert task.spec().max_seq_len == task.spec(max(task.eval_lengths)).seq_len


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
    with pytest.raises(ArchbenchError, match=message):
        get_task("sparse_parity", **params)


def test_shorter_than_the_hidden_set_is_refused() -> None:
    with pytest.raises(ArchbenchError, match=r"length must be >= 20; got 10"):
        get_task("sparse_parity").sample(2, 10, torch.Generator())


def test_smoke_profile_is_tiny_and_solvable() -> None:
    profiles = get_task_entry("sparse_parity").obj.profile_params
    task = get_task("sparse_parity", **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 16
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
    get_task("sparse_parity", **profiles["paper"])
