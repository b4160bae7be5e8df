"""MQAR: semantics checked independently of any model (plain-Python parsing and a dict lookup)."""
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


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: remember every key followed by a value, look up the last token."""
    is_key = lambda tok: 1 <= tok <= task.num_keys  # noqa: E731
    is_value = lambda tok: tok > task.num_keys  # noqa: E731
    memory: dict[int, int] = {}
    for i in range(len(prefix) - 1):
        if is_key(prefix[i]) and is_value(prefix[i + 1]):
            memory[prefix[i]] = prefix[i + 1]
    return memory.get(prefix[-1], 0)


def causal_predictions(task, batch) -> torch.Tensor:
    preds = torch.zeros(*batch.y.shape, task.spec().num_classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        preds[b, t, solve_prefix(task, xs[b][: t + 1])] = 1.0
    return preds


def test_layout_and_targets_by_brute_force_parsing() -> None:
    task = get_task("mqar")
    K = task.num_keys
    assert K + task.num_values == task.vocab_size - 1 and task.num_values == 128
    for length in task.all_lengths:
        lo, hi = task.pair_range(length)
        pair_counts = set()
        batch = task.sample(300, length, torch.Generator().manual_seed(length))
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            assert len(x) == length
            pairs: dict[int, int] = {}
            p = 0
            while 2 * p + 1 < length and 1 <= x[2 * p] <= K and x[2 * p + 1] > K:
                pairs[x[2 * p]] = x[2 * p + 1]
                p += 1
            assert lo <= p <= hi and len(pairs) == p
            assert len(set(pairs.values())) == p  # distinct values
            pair_counts.add(p)
            queried = []
            for t in range(2 * p, length):
                assert x[t] == 0 or x[t] in pairs  # only filler and earlier keys after the pairs
                if x[t] in pairs:
                    queried.append(x[t])
                    assert mask[t] and y[t] == pairs[x[t]]
                else:
                    assert not mask[t]
            assert sorted(queried) == sorted(pairs)  # every key queried exactly once
            assert not any(mask[: 2 * p])
        assert pair_counts == set(range(lo, hi + 1))  # the whole pair range occurs
    assert task.pair_range(task.length) == (4, 8)
    assert task.pair_range(128) == (8, 16) and task.pair_range(256) == (16, 32)  # pairs scale with length


def test_reference_solver_on_prefixes_reaches_accuracy_one_at_every_length() -> None:
    task = get_task("mqar")
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task("mqar")
    assert task.chance == pytest.approx(1 / 128)
    train = fixed_set(task, 2000, task.length, seed=0, stream="train")
    test = fixed_set(task, 2000, task.length, seed=0, stream="test")
    majority = int(train.y[train.mask].mode().values)  # best constant, chosen on training data
    constant = torch.zeros(*test.y.shape, task.vocab_size)
    constant[..., majority] = 1.0
    tolerance = 0.004  # ~5 standard errors with ~12000 queries
    assert abs(_score(task, task.length, constant, test) - task.chance) < tolerance
    rng = torch.Generator().manual_seed(0)
    random_values = torch.zeros(*test.y.shape, task.vocab_size)
    random_values[..., task.num_keys + 1 :] = torch.rand(*test.y.shape, task.num_values, generator=rng)
    assert abs(_score(task, task.length, random_values, test) - task.chance) < tolerance
    random_tokens = torch.rand(*test.y.shape, task.vocab_size, generator=rng)
    assert _score(task, task.length, random_tokens, test) < task.chance  # guessing outside the values is worse


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("mqar")
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
        batch = task.sample(8, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == batch.y.shape == batch.mask.shape == (8, spec.seq_len)
        assert int(batch.x.max()) < spec.vocab_size and int(batch.y.max()) < spec.num_classes
        assert int(batch.mask.sum(1).max()) > task.max_pairs  # more pairs than ever seen in training
        previous = spec.seq_len
    assert task.spec().max_seq_len == 256


def test_fixed_pair_range_when_not_scaling() -> None:
    task = get_task("mqar", vocab_size=20, scale_pairs=False)  # 9 keys suffice for at most 8 pairs
    assert task.pair_range(256) == (4, 8)
    assert int(task.sample(32, 256, torch.Generator().manual_seed(0)).mask.sum(1).max()) <= 8


@pytest.mark.parametrize(
    "params, message",
    [
        ({"vocab_size": 40}, r"vocab_size=40 gives 19 keys, too few for 32 distinct keys at length 256; need vocab_size >= 65"),
        ({"vocab_size": 16, "eval_lengths": ()}, r"vocab_size=16 gives 7 keys, too few for 8 distinct keys at length 64; need vocab_size >= 17"),
        ({"vocab_size": 2}, r"vocab_size must be >= 3.*got 2"),
        ({"length": 20}, r"length 20 fits at most 6 pairs.*got 8 pairs"),
        ({"min_pairs": 9}, r"min_pairs must be <= max_pairs=8; got min_pairs=9"),
        ({"min_pairs": 0}, r"min_pairs must be > 0; got 0"),
        ({"max_pairs": 0}, r"max_pairs must be > 0; got 0"),
        ({"eval_lengths": (32,)}, r"eval_lengths must all exceed length=64; got 32"),
        ({"solved_at": 0.001}, r"solved_at must be in \(0.0078125, 1\]; got 0.001"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        get_task("mqar", **params)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    profiles = get_task_entry("mqar").obj.profile_params
    task = get_task("mqar", **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 32
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
    get_task("mqar", **profiles["paper"])
