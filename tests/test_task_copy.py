"""Copy: semantics checked independently of any model (plain-Python parsing and string copy)."""
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


def solve_prefix(sep: int, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: the j-th token after the separator predicts string token j."""
    start = prefix.index(sep)
    return prefix[len(prefix) - 1 - start]


def causal_predictions(task, batch) -> torch.Tensor:
    preds = torch.zeros(*batch.y.shape, task.spec().num_classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        preds[b, t, solve_prefix(task.sep, xs[b][: t + 1])] = 1.0
    return preds


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
    for length in task.all_lengths:
        batch = fixed_set(task, 64, length, seed=0, stream="test")
        preds = causal_predictions(task, batch)
        assert _score(task, length, preds, batch) == 1.0
        b, t = batch.mask.nonzero()[0].tolist()
        preds[b, t] = 0.0
        preds[b, t, (int(batch.y[b, t]) + 1) % task.alphabet_size] = 1.0  # one wrong token ruins that sequence
        assert _score(task, length, preds, batch) == pytest.approx(63 / 64)


@pytest.mark.parametrize("params", [{}, {"alphabet_size": 2, "min_length": 1, "length": 3, "eval_lengths": (6,)}])
def test_chance_from_constant_and_random_predictors(params: dict) -> None:
    """Defaults: chance ~6e-8 (nothing matches); a 2-letter alphabet of strings 1..3 makes it measurable."""
    task = get_task("copy", **params)
    if params:
        assert task.chance == pytest.approx((1 / 2 + 1 / 4 + 1 / 8) / 3)
    train = fixed_set(task, 4000, task.length, seed=0, stream="train")
    test = fixed_set(task, 4000, task.length, seed=0, stream="test")
    C = task.spec().num_classes
    majority = int(train.y[train.mask].mode().values)  # best constant letter, chosen on training data
    constant = torch.zeros(*test.y.shape, C)
    constant[..., majority] = 1.0
    tolerance = 0.03
    assert abs(_score(task, task.length, constant, test) - task.chance) < tolerance
    random_letters = torch.zeros(*test.y.shape, C)
    random_letters[..., : task.alphabet_size] = torch.rand(*test.y.shape, task.alphabet_size, generator=torch.Generator().manual_seed(0))
    assert abs(_score(task, task.length, random_letters, test) - task.chance) < tolerance


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("copy")
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
        batch = task.sample(4, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == batch.y.shape == batch.mask.shape == (4, spec.seq_len)
        assert int(batch.x.max()) < spec.vocab_size and int(batch.y.max()) < spec.num_classes
        assert int(batch.mask.sum(1).min()) > task.length  # every copy longer than any training copy
        previous = spec.seq_len
    assert task.spec().max_seq_len == 160


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
    with pytest.raises(ArchbenchError, match=message):
        get_task("copy", **params)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    profiles = get_task_entry("copy").obj.profile_params
    task = get_task("copy", **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 16
    for length in task.all_lengths:
        batch = fixed_set(task, 32, length, seed=0, stream="test")
        assert _score(task, length, causal_predictions(task, batch), batch) == 1.0
    get_task("copy", **profiles["paper"])
