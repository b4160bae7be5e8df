"""The six context-sensitive Chomsky tasks added after duplicate_string, one registered task each: semantics checked
independently of the generators (plain Python: Python's own integers for the binary numbers, in the paper's bit
order, `math.isqrt` and the defining inequality for the square root, `sorted`, string slicing), input
distributions checked against the authors' sampling rules, chance levels against exact enumeration."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from functools import partial

import pytest
import task_checks as checks
import torch

from bench import get_task, list_tasks
from bench.contract.registry import get_task_entry
from tasks.chomsky.cs import binary_addition, binary_multiplication, compute_sqrt
from tasks.chomsky.cs._chance import LengthSummary, best_constant, per_sequence

TASKS = [
    "missing_duplicate_string",
    "odds_first",
    "binary_addition",
    "binary_multiplication",
    "compute_sqrt",
    "bucket_sort",
]
SEQUENCE_TASKS = TASKS[1:]
END = 2  # the end class of binary addition and multiplication
PER_SEQUENCE = "per-sequence"  # any metric name but the pooled "accuracy" averages per sequence (`_chance`)


def little_endian(bits: list[int]) -> int:
    return sum(bit << i for i, bit in enumerate(bits))


def little_endian_digits(value: int) -> list[int]:
    """Binary digits, least significant first, without leading zeros; 0 is [0]."""
    return [int(c) for c in reversed(bin(value)[2:])]


def operands(inputs: list[int]) -> tuple[int, int]:
    """The two numbers of a binary expression `a 2 b` (little-endian), checking the paper's layout."""
    split = inputs.index(2)
    assert inputs.count(2) == 1 and 1 <= split <= len(inputs) - 2
    a, b = little_endian(inputs[:split]), little_endian(inputs[split + 1 :])
    assert a >= 1 and b >= 1  # each operand in [1, 2**bits - 1]
    return a, b


def expected_output(name: str, inputs: list[int]) -> list[int]:
    """The answer from the raw input tokens, in plain Python, asserting the input follows the authors' rules."""
    n = len(inputs)
    if name == "odds_first":
        return inputs[1::2] + inputs[::2]  # the authors' code: 0-based odd indices first
    if name == "bucket_sort":
        return sorted(inputs)
    if name == "compute_sqrt":
        x = int("".join(map(str, inputs)), 2)  # big-endian
        root = math.isqrt(x)
        assert x >= 1 and root * root <= x < (root + 1) ** 2
        return [int(c) for c in format(root, f"0{math.ceil(n / 2)}b")]
    if name == "missing_duplicate_string":
        if n == 1:
            assert inputs == [1]
            return [1]
        half = n // 2
        body, tail = inputs[: 2 * half], inputs[2 * half :]
        assert tail == ([3] if n % 2 else []) and body.count(2) == 1
        hidden = body.index(2)
        twin = (hidden + half) % (2 * half)
        filled = body[:hidden] + [body[twin]] + body[hidden + 1 :]
        assert filled[:half] == filled[half:]
        return [body[twin]]
    if n <= 2:  # binary addition and multiplication: one number in [0, 2**n - 2], no operator
        assert 2 not in inputs and little_endian(inputs) <= 2**n - 2
        return (
            little_endian_digits(little_endian(inputs)) + [END] if name == "binary_addition" else [0] * (n - 1) + [END]
        )
    a, b = operands(inputs)
    return little_endian_digits(a + b if name == "binary_addition" else a * b) + [END]


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: read the input up to SEP, compute the answer, emit its next token."""
    n = prefix.index(task.sep)
    return expected_output(task.name, prefix[:n])[len(prefix) - 1 - n]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.num_classes, lambda prefix: solve_prefix(task, prefix))


def fixed_length(task, n: int, length: int, seed: int = 0) -> list[list[int]]:
    """`n` inputs of exactly `length` tokens from the task's generator."""
    inputs, _, _ = task.generate(torch.full((n,), length), length, torch.Generator().manual_seed(seed))
    return inputs.tolist()


# ---------------------------------------------------------------------------------------------- semantics


@pytest.mark.parametrize(
    ("name", "mode"), [(name, "teacher_forced") for name in TASKS] + [(name, "blank") for name in SEQUENCE_TASKS]
)
def test_layout_and_targets_by_brute_force(name: str, mode: str) -> None:
    """At the training length and two longer ones (out of distribution), every example's targets are the
    plain-Python answer, the mask covers exactly the scored tokens, and what is fed back is right."""
    for task in (get_task(name, output_mode=mode), get_task(name, output_mode=mode, length=6, eval_lengths=(9,))):
        INPUTS, SEP, PAD = task.input_symbols, task.sep, task.pad
        for length in task.all_lengths:
            batch = task.sample(200, length, torch.Generator().manual_seed(length))
            assert batch.x.shape == (200, task.spec(length).seq_len)
            seen = set()
            for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
                n = x.index(SEP)
                inputs = x[:n]
                seen.add(n)
                assert all(0 <= token < INPUTS for token in inputs)
                out = expected_output(name, inputs)
                m = len(out)
                assert m <= task.max_output_length(length)
                assert mask == [False] * n + [True] * m + [False] * (len(x) - n - m)
                assert [y[t] for t in range(n, n + m)] == out
                fed = [SEP] + ([INPUTS + token for token in out[:-1]] if mode == "teacher_forced" else [SEP] * (m - 1))
                assert x[n : n + m] == fed and all(token == PAD for token in x[n + m :])
            if length <= task.length:
                assert min(seen) == 1 and max(seen) == length
            else:
                assert min(seen) > task.length  # out of distribution: every input longer than any training input


@pytest.mark.parametrize("name", TASKS)
def test_reference_solver_on_prefixes_is_perfect_at_every_length(name: str) -> None:
    for mode in ("teacher_forced", "blank") if name in SEQUENCE_TASKS else ("teacher_forced",):
        task = get_task(name, output_mode=mode)
        for length, batch, preds in checks.assert_solves_every_length(task, 32, partial(causal_predictions, task)):
            checks.corrupt_first_target(preds, batch, task.num_classes)
            row = int(batch.mask.nonzero()[0, 0])
            if per_sequence(task.metric):  # one wrong token of that row's tokens, that row one of the batch's
                cost = 1 / (int(batch.mask[row].sum()) * batch.mask.shape[0])
            else:  # one wrong token among the batch's pooled tokens
                cost = 1 / int(batch.mask.sum())
            assert checks.score(task, length, preds, batch) == pytest.approx(1 - cost)


def test_the_authors_examples() -> None:
    """The examples in the authors' docstrings (google-deepmind/neural_networks_chomsky_hierarchy, tasks/cs/)."""
    tokens = lambda text: [int(c) for c in text]  # noqa: E731
    assert expected_output("binary_addition", tokens("001201101")) == tokens("010112")  # 4 + 22 = 26
    assert expected_output("binary_addition", tokens("10012000001")) == tokens("1001012")  # 9 + 32 = 41
    assert expected_output("binary_multiplication", tokens("001201101")) == tokens("00011012")  # 4 * 22
    assert expected_output("binary_multiplication", tokens("10012000001")) == tokens("0000010012")  # 9 * 32
    assert expected_output("missing_duplicate_string", tokens("01100210")) == [1]
    assert expected_output("missing_duplicate_string", tokens("1011213")) == [0]
    assert expected_output("bucket_sort", tokens("10204112")) == tokens("00111224")
    assert expected_output("compute_sqrt", tokens("111")) == tokens("10")  # isqrt(7) = 2
    # The authors' docstring writes isqrt(37) = 6 as "101"; 6 is 110 in binary, which their code outputs.
    assert expected_output("compute_sqrt", tokens("100101")) == tokens("110")
    # Their docstring puts 1-based odd positions first (00110101 -> 0100 0111); their code, followed here,
    # puts 0-based odd indices first.
    assert expected_output("odds_first", tokens("00110101")) == tokens("01110100")
    assert expected_output("odds_first", tokens("110")) == tokens("110")


# ------------------------------------------------------------------------------------ input distributions


def frequencies(values: list) -> dict:
    counts = Counter(values)
    return {value: count / len(values) for value, count in counts.items()}


def assert_uniform(values: list, support: set, tolerance: float = 0.02) -> None:
    found = frequencies(values)
    assert set(found) == support
    assert all(abs(share - 1 / len(support)) < tolerance for share in found.values()), found


@pytest.mark.parametrize("name", ["binary_addition", "binary_multiplication"])
def test_binary_operands_follow_the_authors_sampling(name: str) -> None:
    """N <= 2: a number uniform in [0, 2**N - 2]; N >= 3: the first operand's bit count uniform in [1, N-2],
    each operand uniform over [1, 2**bits - 1]."""
    task = get_task(name)
    assert set(map(tuple, fixed_length(task, 50, 1))) == {(0,)}
    assert_uniform([little_endian(row) for row in fixed_length(task, 6000, 2)], {0, 1, 2})
    assert_uniform([row.index(2) for row in fixed_length(task, 8000, 6)], {1, 2, 3, 4})
    five = [operands(row) for row in fixed_length(task, 12000, 5) if row.index(2) == 2]  # two 2-bit operands
    assert_uniform([pair[0] for pair in five], {1, 2, 3}, 0.03)
    assert_uniform(five, {(a, b) for a in (1, 2, 3) for b in (1, 2, 3)}, 0.03)


def test_square_root_input_is_uniform_and_never_zero() -> None:
    task = get_task("compute_sqrt")
    values = [int("".join(map(str, row)), 2) for row in fixed_length(task, 7000, 3)]
    assert_uniform(values, set(range(1, 8)))


def test_missing_duplicate_hides_a_uniform_position() -> None:
    task = get_task("missing_duplicate_string")
    odd = fixed_length(task, 6000, 7)
    assert_uniform([row.index(2) for row in odd], set(range(6)))  # a position of w w, never the filler
    assert all(row[-1] == 3 and 3 not in row[:-1] for row in odd)
    assert all(3 not in row for row in fixed_length(task, 100, 6))  # an even length has no filler
    assert_uniform([bit for row in odd for bit in row[:6] if bit != 2], {0, 1})
    assert set(map(tuple, fixed_length(task, 20, 1))) == {(1,)}


@pytest.mark.parametrize("name", ["odds_first", "bucket_sort"])
def test_string_symbols_are_uniform(name: str) -> None:
    task = get_task(name)
    symbols = [token for row in fixed_length(task, 2000, 5) for token in row]
    assert_uniform(symbols, set(range(task.input_symbols)))


# ------------------------------------------------------------------------------------------ chance levels


def all_outcomes(name: str, n: int) -> list[tuple[Fraction, list[int]]]:
    """Every (probability, scored answer) at input length n, enumerated from the authors' sampling rules."""
    if name == "compute_sqrt":
        return [
            (Fraction(1, 2**n - 1), expected_output(name, [int(c) for c in format(x, f"0{n}b")]))
            for x in range(1, 2**n)
        ]
    if n <= 2:
        numbers = range(2**n - 1)
        return [
            (
                Fraction(1, len(numbers)),
                expected_output(name, little_endian_digits(v) + [0] * (n - len(little_endian_digits(v)))),
            )
            for v in numbers
        ]
    found = []
    for p in range(1, n - 1):
        q = n - 1 - p
        weight = Fraction(1, (n - 2) * (2**p - 1) * (2**q - 1))
        for a in range(1, 2**p):
            for b in range(1, 2**q):
                a_bits = [(a >> i) & 1 for i in range(p)]
                b_bits = [(b >> i) & 1 for i in range(q)]
                found.append((weight, expected_output(name, a_bits + [2] + b_bits)))
    return found


def exact_chance(name: str, length: int, classes: int) -> tuple[float, float]:
    """The best constant class, tokens pooled and per sequence, N uniform in 1..length, by enumeration."""
    pooled, shares, size = [Fraction(0)] * classes, [Fraction(0)] * classes, Fraction(0)
    for n in range(1, length + 1):
        for probability, answer in all_outcomes(name, n):
            size += probability * len(answer)
            for c in range(classes):
                pooled[c] += probability * answer.count(c)
                shares[c] += probability * Fraction(answer.count(c), len(answer))
    return float(max(pooled) / size), float(max(shares) / length)


@pytest.mark.parametrize(
    ("name", "length"),
    [("binary_addition", n) for n in (1, 2, 3, 6, 9)]
    + [("binary_multiplication", n) for n in (2, 3, 6, 9)]
    + [("compute_sqrt", n) for n in (3, 4, 7, 10)],
)
def test_chance_equals_exact_enumeration_at_small_lengths(name: str, length: int) -> None:
    task = get_task(name, length=length, eval_lengths=(length + 1,))
    pooled, per_seq = exact_chance(name, length, task.num_classes)
    assert task.chance == pytest.approx(per_seq if per_sequence(task.metric) else pooled, abs=1e-12)
    summaries = SUMMARIES[name](length)  # the same figures, combined the other way too
    assert best_constant(summaries, PER_SEQUENCE) == pytest.approx(per_seq, abs=1e-12)
    assert best_constant(summaries, "accuracy") == pytest.approx(pooled, abs=1e-12)


SUMMARIES: dict[
    str, Callable[[int], list[LengthSummary]]
] = {  # the per-length summaries each task's chance level combines, input lengths 1..length
    "binary_addition": binary_addition._summaries,
    "binary_multiplication": lambda length: [binary_multiplication._summary(n) for n in range(1, length + 1)],
    "compute_sqrt": lambda length: [compute_sqrt._summary(n) for n in range(1, length + 1)],
}


def test_binary_multiplication_sampled_chance_matches_enumeration() -> None:
    """Beyond the enumeration budget the chance level is estimated from seeded draws: at lengths 11 and 12
    (still enumerable here) the estimated shares of 0, 1 and the end token agree with exact ones."""
    for n in (11, 12):
        assert sum((2**p - 1) * (2 ** (n - 1 - p) - 1) for p in range(1, n - 1)) > binary_multiplication.SAMPLES
        shares = [Fraction(0)] * 3
        for p in range(1, n - 1):
            q = n - 1 - p
            weight = Fraction(1, (n - 2) * (2**p - 1) * (2**q - 1))
            for a in range(1, 2**p):
                for b in range(1, 2**q):
                    digits, ones = (a * b).bit_length(), (a * b).bit_count()
                    for c, count in enumerate((digits - ones, ones, 1)):
                        shares[c] += weight * Fraction(count, digits + 1)
        estimated = binary_multiplication._summary(n)
        assert all(abs(estimated.shares[c] - float(shares[c])) < 0.02 for c in range(3))


@pytest.mark.parametrize("name", TASKS)
def test_chance_from_constant_and_random_predictors(name: str) -> None:
    task = get_task(name)
    classes = task.num_classes
    checks.assert_chance_baselines(
        task, 1000 if name in SEQUENCE_TASKS else 8000, 0.02, classes=classes, random_level=1 / classes
    )
    exact = {"missing_duplicate_string": 41 / 80, "odds_first": 1 / 2, "bucket_sort": 1 / 5}
    if name in exact:
        assert task.chance == pytest.approx(exact[name])
    if name == "missing_duplicate_string":  # N = 1 answers 1, longer inputs a uniform bit
        assert get_task(name, length=10, eval_lengths=(20,)).chance == pytest.approx((1 + 9 / 2) / 10)


# ----------------------------------------------------------------------------------- contract and params


@pytest.mark.parametrize("name", TASKS)
def test_determinism_disjoint_streams_and_longer_ood(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 16, 40)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.int().argmax(1).min()) > task.length  # the first target comes after a longer input

    checks.assert_ood_longer(task, 64, check, max_seq_len=task.spec(100).seq_len)


@pytest.mark.parametrize(
    ("name", "length", "outputs"),
    [
        ("binary_addition", 40, 41),  # the authors' output_length: N + 1 (sum digits, end token, zero padding)
        ("binary_multiplication", 40, 40),  # N
        ("compute_sqrt", 41, 21),  # ceil(N / 2)
        ("odds_first", 40, 40),
        ("bucket_sort", 40, 40),
        ("missing_duplicate_string", 40, 1),
    ],
)
def test_output_lengths_are_the_authors(name: str, length: int, outputs: int) -> None:
    task = get_task(name)
    assert task.max_output_length(length) == outputs
    assert task.spec(length).seq_len == length + outputs


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("odds_first", {"output_mode": "greedy"}, r"'output_mode' must be one of teacher_forced, blank; got 'greedy'"),
        ("binary_addition", {"length": 0}, r"task 'binary_addition': length must be >= 1; got 0"),
        ("compute_sqrt", {"eval_lengths": (40, 100)}, r"eval_lengths must all exceed length=40; got 40"),
        ("bucket_sort", {"solved_at": 0.2}, r"solved_at must be in \(0.2, 1\]; got 0.2"),
        ("missing_duplicate_string", {"solved_at": 0.5}, r"solved_at must be in \(0.5125, 1\]; got 0.5"),
        ("binary_multiplication", {"lenght": 10}, r"no parameter 'lenght'.*Did you mean 'length'"),
        ("odds_first", {"vocab_size": 3}, r"no parameter 'vocab_size'"),  # the paper's binary alphabet is fixed
        # a constant answer below (the lone end token; isqrt(1..3) = 1; the authors' fixed "1"): chance would be 1
        ("binary_multiplication", {"length": 1}, r"task 'binary_multiplication': length must be >= 2; got 1"),
        ("compute_sqrt", {"length": 2}, r"task 'compute_sqrt': length must be >= 3; got 2"),
        ("missing_duplicate_string", {"length": 1}, r"task 'missing_duplicate_string': length must be >= 2; got 1"),
    ],
)
def test_invalid_parameters_name_value_and_range(name: str, params: dict, message: str) -> None:
    checks.assert_refused(name, params, message)


def test_each_task_is_registered_by_its_own_name_in_its_level() -> None:
    assert set(TASKS) <= set(list_tasks())
    for name in TASKS:
        cls = type(get_task(name))
        assert get_task_entry(name).obj is cls and cls.name == name and cls.family == "chomsky/cs"
        assert cls.__module__ == f"tasks.chomsky.cs.{name}"  # one module per task, in its level folder
        assert "Delétang et al. 2023" in (cls.__doc__ or "") and cls.paper.startswith("Delétang et al. 2023")


@pytest.mark.parametrize("name", TASKS)
def test_targets_last_only_for_a_single_answer(name: str) -> None:
    task = get_task(name)
    single = name not in SEQUENCE_TASKS
    assert task.spec().targets == ("last" if single else "several")
    if single:  # the one target follows the whole input, and only padding follows it
        batch = task.sample(200, task.length, torch.Generator().manual_seed(0))
        for x, mask in zip(batch.x.tolist(), batch.mask.tolist()):
            t = mask.index(True)
            assert sum(mask) == 1 and x[t] == task.sep and all(token == task.pad for token in x[t + 1 :])


@pytest.mark.parametrize("name", TASKS)
def test_smoke_profile_is_tiny_and_solvable(name: str) -> None:
    task = checks.smoke_task(name, 90)
    assert task.length == 20
    checks.assert_solves_every_length(task, 16, lambda batch: causal_predictions(task, batch))
