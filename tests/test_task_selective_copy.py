"""Selective copy: semantics checked independently of any model (plain-Python parsing, explicit copier)."""
from __future__ import annotations

import pytest
import torch

from bench import ArchbenchError, get_task
from bench.data import fixed_set
from bench.metrics import make_metric
from bench.registry import get_task_entry

NAME = "selective_copy"


def _score(task, length: int, preds: torch.Tensor, batch, metric: str | None = None) -> float:
    scorer = make_metric(metric or task.metric, task.spec(length))
    scorer.update(preds, batch.y, batch.mask)
    return float(scorer.compute())


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: collect the data tokens, count the markers, return the next datum."""
    data = [token for token in prefix if token < task.vocab]
    markers = sum(1 for token in prefix if token == task.marker)
    return data[markers - 1]


def causal_predictions(task, batch) -> torch.Tensor:
    preds = torch.zeros(*batch.y.shape, task.spec().num_classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        preds[b, t, solve_prefix(task, xs[b][: t + 1])] = 1.0  # the solver never sees x[:, t+1:]
    return preds


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
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        preds = causal_predictions(task, batch)
        assert _score(task, length, preds, batch) == 1.0
        assert _score(task, length, preds, batch, "exact_match") == 1.0  # the stricter variant
        b, t = batch.mask.nonzero()[0].tolist()
        preds[b, t] = 0.0
        preds[b, t, (int(batch.y[b, t]) + 1) % task.vocab] = 1.0
        assert _score(task, length, preds, batch) == pytest.approx(1 - 1 / (64 * task.num_tokens))


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    assert task.chance == pytest.approx(1 / 16)
    train = fixed_set(task, 4000, task.length, seed=0, stream="train")
    test = fixed_set(task, 4000, task.length, seed=0, stream="test")
    C = task.spec().num_classes
    majority = int(train.y[train.mask].mode().values)  # best constant, chosen on training data
    constant = torch.zeros(*test.y.shape, C)
    constant[..., majority] = 1.0
    assert abs(_score(task, task.length, constant, test) - task.chance) < 0.01
    random = torch.rand(*test.y.shape, C, generator=torch.Generator().manual_seed(0))
    assert abs(_score(task, task.length, random, test) - task.chance) < 0.01


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
        assert length > task.length and spec.seq_len > previous
        batch = task.sample(4, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == (4, spec.seq_len) and int(batch.x.max()) < spec.vocab_size
        assert int((batch.x == task.blank).sum(1).min()) == length - task.num_tokens  # same data, more noise
        assert int(batch.mask.sum(1).min()) == task.num_tokens
        previous = spec.seq_len
    assert task.spec().max_seq_len == 256 + 8


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
    with pytest.raises(ArchbenchError, match=message):
        get_task(NAME, **params)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    profiles = get_task_entry(NAME).obj.profile_params
    task = get_task(NAME, **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 40
    for length in task.all_lengths:
        batch = fixed_set(task, 32, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
    get_task(NAME, **profiles["paper"])
