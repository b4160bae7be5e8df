"""MQAR: semantics checked independently of any model (plain-Python parsing and a dict lookup)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import task_checks as checks
import torch

from bench import get_task
from bench.results.schema import run_key


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


# --- Zoology's layout (zoology/data/multiquery_ar.py) ---------------------------------------------------------

ZOOLOGY = {"layout": "zoology", "length": 64, "min_pairs": 4, "max_pairs": 4, "eval_lengths": ()}


def solve_prefix_first(task, prefix: list[int]) -> int:
    """Reference solver that keeps each key's first value: random non-query tokens can form a key-value bigram
    after the context, but the context (the pairs) comes first."""
    memory: dict[int, int] = {}
    for i in range(len(prefix) - 1):
        if 1 <= prefix[i] <= task.num_keys and prefix[i + 1] > task.num_keys:
            memory.setdefault(prefix[i], prefix[i + 1])
    return memory.get(prefix[-1], 0)


def first_value_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.vocab_size, lambda prefix: solve_prefix_first(task, prefix))


@pytest.mark.parametrize("random_non_queries", [False, True])
@pytest.mark.parametrize(
    "params",
    [ZOOLOGY, {"layout": "zoology", "length": 48, "min_pairs": 2, "max_pairs": 6, "eval_lengths": (96,)}],
    ids=["fixed-pairs", "pair-range"],
)
def test_zoology_layout_invariants_by_parsing(params: dict, random_non_queries: bool) -> None:
    """Queries only at even offsets 2P + 2g (g < (L - 2P) // 2), every key once, 4P <= L; non-query positions
    filler 0 or random tokens; the first-value solver is perfect."""
    task = get_task("mqar", **params, random_non_queries=random_non_queries)
    K = task.num_keys
    for length in task.all_lengths:
        lo, hi = task.pair_range(length)
        batch = task.sample(300, length, torch.Generator().manual_seed(length))
        nonzero_fill = fill_positions = 0
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            queries = [t for t in range(length) if mask[t]]
            p = len(queries)
            assert lo <= p <= hi and 4 * p <= length
            pairs = {x[2 * j]: x[2 * j + 1] for j in range(p)}
            assert all(1 <= k <= K for k in pairs) and all(v > K for v in pairs.values())
            assert len(pairs) == p and len(set(pairs.values())) == p  # distinct keys, distinct values
            assert sorted(x[t] for t in queries) == sorted(pairs)  # every key queried exactly once
            assert all(y[t] == pairs[x[t]] for t in queries)
            assert all(
                t >= 2 * p and (t - 2 * p) % 2 == 0 and (t - 2 * p) // 2 < (length - 2 * p) // 2 for t in queries
            )
            fill = [x[t] for t in range(2 * p, length) if not mask[t]]
            if random_non_queries:
                nonzero_fill += sum(tok != 0 for tok in fill)
                fill_positions += len(fill)
            else:
                assert all(tok == 0 for tok in fill)
        if random_non_queries:
            assert nonzero_fill > 0.95 * fill_positions  # uniform random tokens: the filler 0 only 1/vocab of them
    checks.assert_solves_every_length(task, 64, lambda batch: first_value_predictions(task, batch))


@pytest.mark.parametrize("power_a", [0.01, 1.0])
def test_zoology_gaps_follow_the_power_law(power_a: float) -> None:
    """The first key's gap g is drawn from p(g) ~ (g + 1)^(a - 1) over g < (L - 2P) // 2 (Zoology's `p`), the
    second key's from p without the first's gap; a = 1 is uniform over the even offsets."""
    task = get_task("mqar", **ZOOLOGY, power_a=power_a)
    n, space = 6000, (64 - 8) // 2
    batch = task.sample(n, 64, torch.Generator().manual_seed(0))
    first_gap = torch.zeros(space)
    for x, mask in zip(batch.x.tolist(), batch.mask.tolist()):
        where = {x[t]: t for t in range(64) if mask[t]}
        first_gap[(where[x[0]] - 8) // 2] += 1
    p = torch.tensor([power_a * (g + 1) ** (power_a - 1) for g in range(space)], dtype=torch.float64)
    p = p / p.sum()
    se = (p * (1 - p) / n).sqrt()
    assert torch.all((first_gap / n - p).abs() <= 4 * se + 1e-3), (first_gap[:6] / n, p[:6])


def test_zoology_layout_at_zoology_sizes_vocab_8192() -> None:
    """Figure 2's largest point: L = 256, 16 pairs, vocabulary 8192 (keys 1..4095, values 4096..8191, Zoology's
    split)."""
    task = get_task("mqar", **{**ZOOLOGY, "length": 256, "min_pairs": 16, "max_pairs": 16}, vocab_size=8192)
    assert (task.num_keys, task.num_values, task.chance) == (4095, 4096, 1 / 4096)
    batch = task.sample(32, 256, torch.Generator().manual_seed(0))
    checks.assert_token_batch(task.spec(), batch)
    assert torch.all(batch.mask.sum(1) == 16)
    keys = batch.x[:, 0:32:2]
    assert int(keys.min()) >= 1 and int(keys.max()) <= 4095 and int(batch.x[:, 1:32:2].min()) >= 4096
    assert checks.score(task, 256, first_value_predictions(task, batch), batch) == 1.0


def test_zoology_chance_from_constant_and_random_predictors() -> None:
    task = get_task("mqar", **ZOOLOGY, random_non_queries=True)
    rng = torch.Generator().manual_seed(0)

    def random_values(shape: torch.Size) -> torch.Tensor:  # uniform over the value tokens only
        preds = torch.zeros(*shape, task.vocab_size)
        preds[..., task.num_keys + 1 :] = torch.rand(*shape, task.num_values, generator=rng)
        return preds

    # 2000 examples x 4 queries: tolerance about 5 standard errors of 1/128
    checks.assert_chance_baselines(task, 2000, 0.007, classes=task.vocab_size, random=random_values)


def test_zoology_determinism_and_disjoint_streams() -> None:
    task = get_task("mqar", **ZOOLOGY, random_non_queries=True)
    checks.assert_deterministic_and_disjoint(task, 16, 64)


OLD_CONFIG_KEYS = {"vocab_size", "length", "min_pairs", "max_pairs", "scale_pairs", "eval_lengths", "solved_at"}


def test_new_parameters_leave_default_configs_and_keys_unchanged() -> None:
    """The run key hashes `config()`: at the defaults of layout, power_a and random_non_queries it is the
    configuration (and so the key) a record got before those parameters existed; otherwise all three show."""
    default = get_task("mqar")
    assert set(default.config()) == OLD_CONFIG_KEYS
    old = {
        "vocab_size": 256,
        "length": 64,
        "min_pairs": 4,
        "max_pairs": 8,
        "scale_pairs": True,
        "eval_lengths": [128, 256],
        "solved_at": 0.9,
    }
    assert run_key("mqar", default.config(), "lstm", {}, {}, 0) == run_key("mqar", old, "lstm", {}, {}, 0)
    for params in ({"layout": "zoology"}, {"random_non_queries": True}, {**ZOOLOGY, "power_a": 0.5}):
        config = get_task("mqar", **params).config()
        assert set(config) == OLD_CONFIG_KEYS | {"layout", "power_a", "random_non_queries"}
        assert run_key("mqar", config, "lstm", {}, {}, 0) != run_key("mqar", old, "lstm", {}, {}, 0)


def test_stored_records_configurations_round_trip() -> None:
    """Every stored MQAR record's task configuration builds the task whose `config()` is that configuration."""
    path = Path(__file__).resolve().parents[1] / "results" / "runs" / "mqar.jsonl"
    if not path.is_file():
        pytest.skip("no stored MQAR records")
    configs = [json.loads(line)["task_config"] for line in path.read_text().splitlines() if line.strip()]
    assert configs and all(get_task("mqar", **c).config() == c for c in configs)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {**ZOOLOGY, "max_pairs": 17, "min_pairs": 17},
            r"length 64 fits at most 16 pairs \(the zoology layout needs 4P <= L\); got 17",
        ),
        (
            {"layout": "zoology", "min_pairs": 17, "max_pairs": 20, "eval_lengths": ()},
            r"length 64 fits at most 16 pairs \(the zoology layout needs 4P <= L\); got 20 pairs",
        ),
        ({**ZOOLOGY, "power_a": 0.0}, r"power_a must be > 0; got 0.0"),
        ({"power_a": 0.5}, r"power_a applies only to layout='zoology'; got power_a=0.5 with layout='uniform'"),
        ({"layout": "zoo"}, r"parameter 'layout' must be one of uniform, zoology; got 'zoo'"),
    ],
)
def test_zoology_invalid_parameters(params: dict, message: str) -> None:
    checks.assert_refused("mqar", params, message)


def test_twenty_pairs_fit_64_positions_only_in_the_uniform_layout() -> None:
    assert get_task("mqar", min_pairs=17, max_pairs=20, eval_lengths=()).pair_range(64) == (17, 20)  # 3P <= L
