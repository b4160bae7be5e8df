"""The six MAD tasks: semantics checked independently of any model and of the generators' own code.

Each task's targets and mask are recomputed from the input tokens alone by a plain-Python parser (for
memorization, from the task's key -> value map), a causal solver that sees only x[:t+1] scores exactly 1 at
every length, the best constant class and a random guess over the target classes score the task's chance
(MAD's macro-averaged accuracy), streams are deterministic and disjoint, and bad parameters are one-line errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
import task_checks as checks
import torch

from bench import get_task
from bench.train.data import fixed_set

ICR, FUZZY, NOISY = "mad_in_context_recall", "mad_fuzzy_recall", "mad_noisy_recall"
COPYING, COMPRESSION, MEMORIZATION = "mad_selective_copying", "mad_compression", "mad_memorization"
NAMES = (ICR, FUZZY, NOISY, COPYING, COMPRESSION, MEMORIZATION)


def rows(batch) -> list[tuple[list[int], list[int], list[bool]]]:
    return list(zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()))


def scored(y: list[int], mask: list[bool]) -> dict[int, int]:
    return {t: y[t] for t in range(len(y)) if mask[t]}


# ---------------------------------------------------------------- brute-force targets, from the input alone


def recall_expected(x: list[int], num_keys: int) -> dict[int, int]:
    """Single-token recall: a key token seen before is scored, its target the token that followed its first
    occurrence (the value); also checks that a repeated key is followed by that same value."""
    expected: dict[int, int] = {}
    first: dict[int, int] = {}
    for t, token in enumerate(x):
        if token >= num_keys:
            continue
        if token in first:
            expected[t] = x[first[token] + 1]
            if t + 1 < len(x):
                assert x[t + 1] == expected[t]  # a key keeps its value within a sequence
        else:
            first[token] = t
    return expected


def runs(tokens: list[int], kind: Callable[[int], str]) -> list[tuple[str, int, list[int]]]:
    """Maximal runs of tokens of one kind: (kind, start, tokens)."""
    out: list[tuple[str, int, list[int]]] = []
    for t, token in enumerate(tokens):
        if out and out[-1][0] == kind(token):
            out[-1][2].append(token)
        else:
            out.append((kind(token), t, [token]))
    return out


def fuzzy_kind(task) -> Callable[[int], str]:
    return lambda token: "pad" if token == task.pad else ("key" if token < task.num_keys else "value")


def fuzzy_expected(task, x: list[int]) -> dict[int, int]:
    """Multi-token recall parsed from the whole input: PAD run, then alternating key and value runs. A key run
    equal to an earlier complete key is scored at its last token (the value's first token) and at each value
    token with a successor in the stored value (the next token)."""
    parts = runs(x, fuzzy_kind(task))
    if parts[0][0] == "pad":
        parts = parts[1:]
    assert all(kind != "pad" for kind, _, _ in parts)  # padding only at the front
    expected: dict[int, int] = {}
    stored: dict[tuple[int, ...], tuple[int, ...]] = {}
    for j in range(0, len(parts), 2):
        kind, start, key_tokens = parts[j]
        assert kind == "key" and 1 <= len(key_tokens) <= task.k_motif_size and len(set(key_tokens)) == len(key_tokens)
        key = tuple(key_tokens)
        value_start, value = (parts[j + 1][1], tuple(parts[j + 1][2])) if j + 1 < len(parts) else (len(x), ())
        last = j + 2 >= len(parts)  # the final query (its value cut by one token by the shift)
        if key in stored:
            full = stored[key]
            assert value == full[: len(value)] and (last or value == full)
            expected[start + len(key) - 1] = full[0]
            for i in range(len(value)):
                if i + 1 < len(full):
                    expected[value_start + i] = full[i + 1]
        else:
            assert not last, "the final query asks for a key never shown"
            assert 1 <= len(value) <= task.v_motif_size and len(set(value)) == len(value)
            stored[key] = value
    return expected


def copying_expected(task, x: list[int]) -> dict[int, int]:
    """Data tokens in order before COPY; the i-th position after COPY gets the i-th."""
    copy_at = x.index(task.copy)
    data = [token for token in x[:copy_at] if token < task.blank]
    assert len(data) == task.num_tokens_to_copy and x[copy_at - 1] == data[-1]  # last datum right before COPY
    assert all(token == task.blank for token in x[copy_at + 1 :]) and len(x) - copy_at - 1 == len(data)
    return {copy_at + 1 + i: token for i, token in enumerate(data)}


def compression_expected(task, x: list[int]) -> dict[int, int]:
    """The first L tokens end with the aggregation token; the i-th readout gets the i-th input token."""
    length = x.index(task.aggregate) + 1
    assert all(token < task.aggregate for token in x[: length - 1]) and x[length:] == [task.readout] * length
    return {length + i: x[i] for i in range(length)}


def memorization_expected(value_of: dict[int, int], insert: int, x: list[int]) -> dict[int, int]:
    """(key, INSERT) pairs; the target at each INSERT is the map's value of the key."""
    assert x[1::2] == [insert] * (len(x) // 2)
    return {t + 1: value_of[key] for t, key in enumerate(x) if t % 2 == 0}


def brute_force(task, x: list[int]) -> dict[int, int]:
    if task.name in (ICR, NOISY):
        return recall_expected(x, task.num_keys)
    if task.name == FUZZY:
        return fuzzy_expected(task, x)
    if task.name == COPYING:
        return copying_expected(task, x)
    if task.name == COMPRESSION:
        return compression_expected(task, x)
    return memorization_expected(dict(enumerate(task.value_of.tolist())), task.insert, x)


# ---------------------------------------------------------------- causal solvers, from x[:t+1] only


def solver(task) -> Callable[[list[int]], int]:
    if task.name in (ICR, NOISY):
        return lambda prefix: prefix[prefix.index(prefix[-1]) + 1]  # the token after the key's first occurrence
    if task.name == FUZZY:
        return lambda prefix: fuzzy_next(task, prefix)
    if task.name == COPYING:

        def copy_next(prefix: list[int]) -> int:
            copy_at = prefix.index(task.copy)
            data = [token for token in prefix[:copy_at] if token < task.blank]
            return data[len(prefix) - copy_at - 2]

        return copy_next
    if task.name == COMPRESSION:
        return lambda prefix: prefix[len(prefix) - 1 - (prefix.index(task.aggregate) + 1)]
    value_of = task.value_of.tolist()
    return lambda prefix: value_of[prefix[-2]]


def fuzzy_next(task, prefix: list[int]) -> int:
    """The next token when the current key run is a key shown before (else 0, never scored)."""
    parts = [part for part in runs(prefix, fuzzy_kind(task)) if part[0] != "pad"]
    stored: dict[tuple[int, ...], tuple[int, ...]] = {}
    for j in range(0, len(parts) - 2, 2):
        stored.setdefault(tuple(parts[j][2]), tuple(parts[j + 1][2]))
    if parts[-1][0] == "key":
        return stored.get(tuple(parts[-1][2]), (0,))[0]
    full = stored.get(tuple(parts[-2][2]), ())
    i = len(parts[-1][2])
    return full[i] if i < len(full) else 0


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.spec().num_classes, solver(task))


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize("name", NAMES)
def test_targets_and_mask_recomputed_from_the_input_alone(name: str) -> None:
    task = get_task(name)
    for length in task.all_lengths:
        batch = task.sample(200, length, torch.Generator().manual_seed(length))
        spec = task.spec(length)
        checks.assert_token_batch(spec, batch)
        for x, y, mask in rows(batch):
            assert scored(y, mask) == brute_force(task, x)


@pytest.mark.parametrize("name", NAMES)
def test_causal_solver_is_perfect_at_every_length_and_one_error_costs(name: str) -> None:
    task = get_task(name)
    assert task.metric == "macro_accuracy" and task.family == "mad" and task.spec().targets == "several"
    for length, batch, preds in checks.assert_solves_every_length(task, 64, lambda b: causal_predictions(task, b)):
        checks.corrupt_first_target(preds, batch, task.spec().num_classes)
        assert checks.score(task, length, preds, batch) < 1.0


def target_support(task) -> list[int]:
    """The classes the scored targets take: values (recall), data tokens (copying), every class (compression),
    the map's image (memorization)."""
    if task.name in (ICR, NOISY, FUZZY):
        return list(range(task.num_keys, task.num_keys + task.num_values))
    if task.name == COPYING:
        return list(range(task.blank))
    if task.name == COMPRESSION:
        return list(range(task.vocab_size))
    return sorted(task.value_of.tolist())


EXACT_CHANCE = {  # at the default (quick) settings, from each module's derivation
    ICR: 1 / 8,  # V = 16: values 8..15
    NOISY: 1 / 8,  # V = 32, 16 noise tokens: values 8..15
    FUZZY: 1 / 8,  # V = 16: PAD 15, keys 0..6, values 7..14
    COPYING: 1 / 14,  # V = 16: data 0..13
    COMPRESSION: 1 / 16,  # V = 16: 15 data tokens and the aggregation token
    MEMORIZATION: 1 / 31,  # V = 64: 31 keys, each mapped to its own value
}


@pytest.mark.parametrize("name", NAMES)
def test_chance_is_the_best_constant_and_a_random_guess_over_the_target_classes(name: str) -> None:
    task = get_task(name)
    assert task.chance == pytest.approx(EXACT_CHANCE[name])
    support = target_support(task)
    assert len(support) == task.target_classes
    classes = task.spec().num_classes

    def guess(shape: torch.Size) -> torch.Tensor:
        scores = torch.zeros(*shape, classes)
        scores[..., support] = 1.0 + checks.uniform_scores(shape, len(support))
        return scores

    _, test = checks.assert_chance_baselines(task, 2000, 0.01, random=guess)
    assert sorted(set(test.y[test.mask].tolist())) == support  # every target class occurs: 1/K is exact here
    outside = next(c for c in range(classes) if c not in support) if len(support) < classes else None
    if outside is not None:  # a constant outside the target classes scores 0 under the macro average
        constant = checks.one_hot_constant(test.y.shape, classes, outside)
        assert checks.score(task, task.length, constant, test) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_determinism_disjoint_streams_and_longer_ood(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 16, task.length)
    positions = {ICR: lambda n: n - 1, NOISY: lambda n: n - 1, COMPRESSION: lambda n: 2 * n}.get(name, lambda n: n)

    def check(length: int, spec, batch) -> None:
        assert bool(batch.mask.any(dim=1).all())
        for x, y, mask in rows(batch):
            assert scored(y, mask) == brute_force(task, x)

    checks.assert_ood_longer(task, 8, check, seq_len=positions)


def test_in_context_recall_query_is_uniform_over_the_distinct_keys_shown() -> None:
    """MAD draws the final query among the distinct keys presented (not in proportion to their occurrences):
    the chance that it is a key shown once equals the mean share of once-shown keys among the keys shown."""
    task = get_task(ICR, length=16)
    batch = task.sample(6000, 16, torch.Generator().manual_seed(3))
    hits, share = 0.0, 0.0
    for x in batch.x.tolist():
        counts = Counter(x[0:-1:2])
        once = [key for key, c in counts.items() if c == 1]
        hits += x[-1] in once
        share += len(once) / len(counts)
    assert abs(hits / 6000 - share / 6000) < 0.02


def test_noisy_recall_noise_pairs_and_their_rate() -> None:
    task = get_task(NOISY, frac_noise=0.4)
    batch = task.sample(3000, task.length, torch.Generator().manual_seed(4))
    first_noise = task.num_keys + task.num_values
    pairs = task.length // 2 - 1
    noise_pairs = 0
    for x in batch.x.tolist():
        kinds = [(a >= first_noise, b >= first_noise) for a, b in zip(x[0:-1:2], x[1:-1:2])]
        assert all(a == b for a, b in kinds)  # noise comes in whole pairs
        assert sum(a for a, _ in kinds) < pairs  # one context pair is always a key-value pair
        noise_pairs += sum(a for a, _ in kinds)
    expected = 0.4 * (pairs - 1) / pairs  # every pair but the protected one is noise with probability 0.4
    assert abs(noise_pairs / (3000 * pairs) - expected) < 0.01


def test_fuzzy_recall_draws_every_key_and_value_size() -> None:
    task = get_task(FUZZY)
    batch = task.sample(300, task.length, torch.Generator().manual_seed(5))
    key_sizes: Counter[int] = Counter()
    value_sizes: Counter[int] = Counter()
    for x in batch.x.tolist():
        parts = [part for part in runs(x, fuzzy_kind(task)) if part[0] != "pad"][:-2]  # complete pairs only
        key_sizes.update(len(tokens) for kind, _, tokens in parts if kind == "key")
        value_sizes.update(len(tokens) for kind, _, tokens in parts if kind == "value")
    assert set(key_sizes) == set(range(1, task.k_motif_size + 1))
    assert set(value_sizes) == set(range(1, task.v_motif_size + 1))
    total = sum(key_sizes.values())
    assert all(abs(c / total - 1 / task.k_motif_size) < 0.03 for c in key_sizes.values())  # sizes uniform


def test_selective_copying_spacing_is_multinomial_with_the_last_datum_next_to_copy() -> None:
    """MAD inserts each blank before a uniformly chosen data token: the mean gap before each token is B / n and
    no blank ever follows the last one."""
    task = get_task(COPYING)
    n, length = task.num_tokens_to_copy, task.length
    blanks = length - 2 * n - 1
    batch = task.sample(4000, length, torch.Generator().manual_seed(6))
    is_data = batch.x[:, : length - n - 1] < task.blank
    positions = is_data.nonzero()[:, 1].view(4000, n)
    gaps = torch.diff(positions, dim=1, prepend=torch.full((4000, 1), -1)) - 1
    assert bool((positions[:, -1] == length - n - 2).all())
    assert torch.allclose(gaps.float().mean(0), torch.full((n,), blanks / n), atol=0.15)


def test_memorization_map_is_fixed_one_to_one_and_shared_by_every_stream() -> None:
    task = get_task(MEMORIZATION)
    value_of = task.value_of.tolist()
    assert len(value_of) == task.num_keys and len(set(value_of)) == task.num_keys
    assert all(task.num_keys <= v < task.insert for v in value_of)
    seen: dict[int, int] = {}
    for stream in ("train", "val", "test"):  # the map as read off the data alone, across the three streams
        batch = fixed_set(task, 200, task.length, seed=0, stream=stream)
        for x, y, _ in rows(batch):
            for key, value in zip(x[0::2], y[1::2]):
                assert seen.setdefault(key, value) == value
    assert len(seen) == task.num_keys
    assert get_task(MEMORIZATION).value_of.tolist() == value_of  # a fresh instance: the same map
    assert get_task(MEMORIZATION, map_seed=1).value_of.tolist() != value_of


def test_compression_readouts_see_no_answer() -> None:
    task = get_task(COMPRESSION)
    batch = task.sample(50, task.length, torch.Generator().manual_seed(7))
    assert bool((batch.x[:, task.length :] == task.readout).all()) and task.spec().vocab_size == task.vocab_size + 1
    assert task.spec().num_classes == task.vocab_size


PAPER_BASELINES: dict[str, dict[str, float]] = {  # MAD-Lab configs/tasks/*.yml, "baseline"
    ICR: {"vocab_size": 16, "length": 128},
    NOISY: {"vocab_size": 32, "noise_vocab_size": 16, "frac_noise": 0.2, "length": 128},
    FUZZY: {"vocab_size": 16, "k_motif_size": 3, "v_motif_size": 3, "length": 128},
    COPYING: {"vocab_size": 16, "num_tokens_to_copy": 16, "length": 256},
    COMPRESSION: {"vocab_size": 16, "length": 32},
    MEMORIZATION: {"vocab_size": 256, "length": 32},
}


@pytest.mark.parametrize("name", NAMES)
def test_paper_profile_is_mads_baseline_and_smoke_is_tiny_and_solvable(name: str) -> None:
    config = get_task(name, **type(get_task(name)).profile_params["paper"]).config()
    assert {key: config[key] for key in PAPER_BASELINES[name]} == PAPER_BASELINES[name]
    task = checks.smoke_task(name, 32)
    checks.assert_solves_every_length(task, 32, lambda batch: causal_predictions(task, batch))


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (ICR, {"vocab_size": 3}, r"vocab_size must be >= 4 \(at least 2 keys and 2 values\); got 3"),
        (ICR, {"length": 63}, r"every length must be even \(key-value pairs\); got 63"),
        (ICR, {"eval_lengths": (64,)}, r"eval_lengths must all exceed length=64; got 64"),
        (ICR, {"length": 2, "eval_lengths": (8,)}, r"length must be >= 4; got 2"),
        (ICR, {"solved_at": 0.1}, r"solved_at must be in \(0.125, 1\]; got 0.1"),
        (NOISY, {"noise_vocab_size": 0}, r"noise_vocab_size must be >= 1 \(the noise tokens\); got 0"),
        (NOISY, {"frac_noise": 1.0}, r"frac_noise must be in \[0, 1\); got 1.0"),
        (NOISY, {"vocab_size": 19}, r"vocab_size - noise_vocab_size must be >= 4 .*; got 3"),
        (FUZZY, {"k_motif_size": 0}, r"k_motif_size must be >= 1 \(tokens per key\); got 0"),
        (FUZZY, {"v_motif_size": 0}, r"v_motif_size must be >= 1 \(tokens per value\); got 0"),
        (FUZZY, {"k_motif_size": 8}, r"vocab_size must be >= 17 \(PAD plus 8 distinct key tokens.*; got 16"),
        (FUZZY, {"length": 12, "eval_lengths": (16,)}, r"length must be >= 13; got 12"),
        (COPYING, {"vocab_size": 3}, r"vocab_size must be >= 4 \(2 data tokens plus BLANK and COPY\); got 3"),
        (COPYING, {"num_tokens_to_copy": 0}, r"num_tokens_to_copy must be >= 1 \(a token to copy\); got 0"),
        (COPYING, {"num_tokens_to_copy": 32}, r"length must be >= 66; got 64"),
        (COMPRESSION, {"vocab_size": 2}, r"vocab_size must be >= 3 .*; got 2"),
        (COMPRESSION, {"length": 1, "eval_lengths": (4,)}, r"length must be >= 2; got 1"),
        (MEMORIZATION, {"vocab_size": 4}, r"vocab_size must be >= 5 \(INSERT plus 2 keys and 2 values\); got 4"),
        (MEMORIZATION, {"map_seed": -1}, r"map_seed must be >= 0 \(a seed\); got -1"),
        (MEMORIZATION, {"eval_lengths": (63,)}, r"every length must be even \(key-value pairs\); got 63"),
        (MEMORIZATION, {"map_sed": 3}, r"no parameter 'map_sed'.*Did you mean 'map_seed'"),
    ],
)
def test_invalid_parameters_name_value_and_range(name: str, params: dict, message: str) -> None:
    checks.assert_refused(name, params, message)
