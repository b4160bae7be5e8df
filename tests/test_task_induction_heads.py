"""Induction heads: semantics checked independently of any model (plain-Python scan, explicit lookup)."""
from __future__ import annotations

import pytest
import torch

from bench import ArchbenchError, get_task
from bench.data import fixed_set
from bench.metrics import make_metric
from bench.registry import get_task_entry

NAME = "induction_heads"


def _score(task, length: int, preds: torch.Tensor, batch) -> float:
    metric = make_metric(task.metric, task.spec(length))
    metric.update(preds, batch.y, batch.mask)
    return float(metric.compute())


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: find the earlier trigger, answer the token after it."""
    earlier = prefix[:-1].index(task.trigger)
    return prefix[earlier + 1]


def causal_predictions(task, batch) -> torch.Tensor:
    preds = torch.zeros(*batch.y.shape, task.spec().num_classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        preds[b, t, solve_prefix(task, xs[b][: t + 1])] = 1.0  # the solver never sees x[:, t+1:]
    return preds


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
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
        # the answer is not the last content token or a fixed position: copying x[t-1] fails
        naive = torch.nn.functional.one_hot(batch.x[:, -2].clamp(max=task.vocab - 1), task.vocab).float()
        preds = torch.zeros(*batch.y.shape, task.vocab)
        preds[:, -1] = naive
        assert _score(task, length, preds, batch) < 0.3


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    assert task.chance == pytest.approx(1 / 16)
    train = fixed_set(task, 8000, task.length, seed=0, stream="train")
    test = fixed_set(task, 8000, task.length, seed=0, stream="test")
    C = task.spec().num_classes
    majority = int(train.y[train.mask].mode().values)
    constant = torch.zeros(*test.y.shape, C)
    constant[..., majority] = 1.0
    assert abs(_score(task, task.length, constant, test) - task.chance) < 0.015
    random = torch.rand(*test.y.shape, C, generator=torch.Generator().manual_seed(0))
    assert abs(_score(task, task.length, random, test) - task.chance) < 0.015


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task(NAME)
    a = fixed_set(task, 16, 64, seed=1, stream="train")
    b = fixed_set(task, 16, 64, seed=1, stream="train")
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    val = fixed_set(task, 16, 64, seed=1, stream="val")
    test = fixed_set(task, 16, 64, seed=1, stream="test")
    assert not torch.equal(a.x, val.x) and not torch.equal(val.x, test.x) and not torch.equal(a.x, test.x)
    assert not torch.equal(a.x, fixed_set(task, 16, 64, seed=2, stream="train").x)
    previous = task.spec().seq_len
    for length in task.eval_lengths:
        spec = task.spec(length)
        assert length > task.length and spec.seq_len == length > previous
        batch = task.sample(4, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == (4, length) and int(batch.x.max()) < spec.vocab_size
        previous = spec.seq_len
    assert task.spec().max_seq_len == 1024


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
    with pytest.raises(ArchbenchError, match=message):
        get_task(NAME, **params)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    profiles = get_task_entry(NAME).obj.profile_params
    task = get_task(NAME, **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 32
    for length in task.all_lengths:
        batch = fixed_set(task, 32, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
    get_task(NAME, **profiles["paper"])
