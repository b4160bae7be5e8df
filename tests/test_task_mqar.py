"""MQAR: semantics checked independently of any model (plain-Python parsing and a dict lookup)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import get_task


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
    return checks.predict_from_prefixes(batch, task.spec().num_classes, lambda prefix: solve_prefix(task, prefix))


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
    checks.assert_solves_every_length(task, 64, lambda batch: causal_predictions(task, batch))


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task("mqar")
    assert task.chance == pytest.approx(1 / 128)
    rng = torch.Generator().manual_seed(0)

    def random_values(shape: torch.Size) -> torch.Tensor:  # uniform over the value tokens only
        preds = torch.zeros(*shape, task.vocab_size)
        preds[..., task.num_keys + 1 :] = torch.rand(*shape, task.num_values, generator=rng)
        return preds

    # tolerance ~5 standard errors with ~12000 queries
    _, test = checks.assert_chance_baselines(task, 2000, 0.004, classes=task.vocab_size, random=random_values)
    random_tokens = torch.rand(*test.y.shape, task.vocab_size, generator=rng)
    assert checks.score(task, task.length, random_tokens, test) < task.chance  # guessing outside the values is worse


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("mqar")
    checks.assert_deterministic_and_disjoint(task, 16, 64)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.sum(1).max()) > task.max_pairs  # more pairs than ever seen in training

    checks.assert_ood_longer(task, 8, check, max_seq_len=256)


def test_fixed_pair_range_when_not_scaling() -> None:
    task = get_task("mqar", vocab_size=20, scale_pairs=False)  # 9 keys suffice for at most 8 pairs
    assert task.pair_range(256) == (4, 8)
    assert int(task.sample(32, 256, torch.Generator().manual_seed(0)).mask.sum(1).max()) <= 8


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"vocab_size": 40},
            r"vocab_size=40 gives 19 keys, too few for 32 distinct keys at length 256; need vocab_size >= 65",
        ),
        (
            {"vocab_size": 16, "eval_lengths": ()},
            r"vocab_size=16 gives 7 keys, too few for 8 distinct keys at length 64; need vocab_size >= 17",
        ),
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
    checks.assert_refused("mqar", params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task("mqar", 32)
    checks.assert_solves_every_length(task, 64, lambda batch: causal_predictions(task, batch))
