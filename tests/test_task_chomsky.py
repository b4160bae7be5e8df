"""Chomsky-hierarchy tasks, one registered task each: semantics checked independently of any model (plain-Python
evaluation: Python's own parser and arithmetic, an explicit list as the stack, string reversal and duplication,
every value of an unknown tried in turn). The two Grazzi et al. 2025 protocol tasks (`state_modular_arithmetic`,
`state_modular_arithmetic_brackets`) run the Chomsky generators at other lengths and are checked beside them."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, get_task, list_tasks
from bench.contract.registry import get_task_entry
from tasks.chomsky.base import ChomskyTask
from tasks.chomsky.dcf.modular_arithmetic_brackets import value_distributions
from tasks.chomsky.regular.modular_arithmetic import ModularArithmetic

# registered name -> the level folder it lives in (its `family`)
FAMILIES = {
    "even_pairs": "chomsky/regular",
    "cycle_navigation": "chomsky/regular",
    "modular_arithmetic": "chomsky/regular",
    "parity_check": "chomsky/regular",
    "reverse_string": "chomsky/dcf",
    "stack_manipulation": "chomsky/dcf",
    "modular_arithmetic_brackets": "chomsky/dcf",
    "solve_equation": "chomsky/dcf",
    "duplicate_string": "chomsky/cs",
}
# Grazzi et al. 2025 (Table 3) protocol task -> the Chomsky task whose generator it runs
PROTOCOL = {
    "state_modular_arithmetic": "modular_arithmetic",
    "state_modular_arithmetic_brackets": "modular_arithmetic_brackets",
}
TASKS = list(FAMILIES) + list(PROTOCOL)
SEQUENCE_TASKS = ["reverse_string", "stack_manipulation", "duplicate_string"]
BRACKETS = "01234+-*()"  # modular_arithmetic_brackets: token -> character (the authors' ids)
EQUATION = "01234+-()x="  # solve_equation: token -> character (the authors' ids)
DIGITS = set("01234")


def evaluate(text: str) -> int:
    """A bracketed + - * expression over single digits, by Python's own parser and arithmetic, mod 5."""
    return eval(text, {"__builtins__": {}}) % 5


def solutions(equation: str) -> list[int]:
    """Every x in 0..4 that satisfies `lhs=v` mod 5, by trying each."""
    lhs, rhs = equation.split("=")
    return [x for x in range(5) if evaluate(lhs.replace("x", str(x))) == int(rhs)]


def is_terminal(text: str) -> bool:
    return text in DIGITS or (len(text) == 2 and text[0] == "-" and text[1] in DIGITS)


def in_grammar(text: str, operators: str) -> bool:
    """Whether `text` is an expression of the authors' grammar: d, -d, (d), (-d), or (L op R) of two expressions."""
    if is_terminal(text):
        return True
    if len(text) < 3 or text[0] != "(" or text[-1] != ")":
        return False
    inner = text[1:-1]
    if is_terminal(inner):
        return True
    if inner[0] == "(":  # a bracketed left operand ends where its bracket closes
        depth, left_end = 0, 0
        while left_end < len(inner):
            depth += {"(": 1, ")": -1}.get(inner[left_end], 0)
            left_end += 1
            if depth == 0:
                break
    else:
        left_end = 2 if inner[0] == "-" else 1
    left, op, right = inner[:left_end], inner[left_end : left_end + 1], inner[left_end + 1 :]
    return op != "" and op in operators and in_grammar(left, operators) and in_grammar(right, operators)


def expected_output(name: str, inputs: list[int]) -> list[int]:
    """The answer from the raw input tokens, in plain Python."""
    name = PROTOCOL.get(name, name)
    if name == "even_pairs":
        return [sum(a != b for a, b in zip(inputs, inputs[1:])) % 2]
    if name == "cycle_navigation":
        return [sum({0: 0, 1: 1, 2: -1}[move] for move in inputs) % 5]
    if name == "parity_check":
        return [sum(inputs) % 2]
    if name == "modular_arithmetic":
        text = "".join(str(token) if token < 5 else "+-*"[token - 5] for token in inputs)
        return [eval(text) % 5]  # Python's precedence: * before + and -, left to right
    if name == "modular_arithmetic_brackets":
        return [evaluate("".join(BRACKETS[token] for token in inputs))]
    if name == "solve_equation":
        return solutions("".join(EQUATION[token] for token in inputs))
    if name == "reverse_string":
        return inputs[::-1]
    if name == "duplicate_string":
        return inputs + inputs
    stack: list[int] = []
    for token in inputs:
        if token in (0, 1):
            stack.append(token)
        elif token == 2:
            if stack:
                stack.pop()
        else:
            stack.append(token - 3)
    return stack[::-1] + [2]


def solve_prefix(task, prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: read the input up to SEP, compute the answer, emit its next token."""
    n = prefix.index(task.sep)
    return expected_output(task.name, prefix[:n])[len(prefix) - 1 - n]


def causal_predictions(task, batch) -> torch.Tensor:
    return checks.predict_from_prefixes(batch, task.num_classes, lambda prefix: solve_prefix(task, prefix))


def check_input_shape(name: str, inputs: list[int]) -> None:
    """What each generator promises about its input, beyond the answer."""
    name = PROTOCOL.get(name, name)
    n = len(inputs)
    if name == "modular_arithmetic":
        assert n % 2 == 1 and all((token < 5) == (i % 2 == 0) for i, token in enumerate(inputs))
    if name == "stack_manipulation" and n > 1:
        first_action = min(i for i, token in enumerate(inputs + [2]) if token >= 2)
        assert 1 <= first_action < n and all(token >= 2 for token in inputs[first_action:])
    if name == "modular_arithmetic_brackets":
        assert in_grammar("".join(BRACKETS[token] for token in inputs), "+-*")
    if name == "solve_equation":
        text = "".join(EQUATION[token] for token in inputs)
        lhs, rhs = text.split("=")
        assert text.count("x") == 1 and rhs in DIGITS and in_grammar(lhs.replace("x", "0"), "+-")
        assert len(solutions(text)) == 1  # without * the unknown has exactly one solution


@pytest.mark.parametrize(
    ("name", "mode"), [(name, "teacher_forced") for name in TASKS] + [(name, "blank") for name in SEQUENCE_TASKS]
)
def test_layout_and_targets_by_brute_force(name: str, mode: str) -> None:
    task = get_task(name, output_mode=mode)
    INPUTS, SEP, PAD = task.input_symbols, task.sep, task.pad
    for length in task.all_lengths:
        batch = task.sample(300 if length == task.length else 60, length, torch.Generator().manual_seed(length))
        assert batch.x.shape == (batch.x.shape[0], task.spec(length).seq_len)
        seen = set()
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            n = x.index(SEP)
            inputs = x[:n]
            seen.add(n)
            assert all(0 <= token < INPUTS for token in inputs)
            check_input_shape(name, inputs)
            out = expected_output(name, inputs)
            m = len(out)
            assert mask == [False] * n + [True] * m + [False] * (len(x) - n - m)
            assert [y[t] for t in range(n, n + m)] == out
            fed = [SEP] + ([INPUTS + token for token in out[:-1]] if mode == "teacher_forced" else [SEP] * (m - 1))
            assert x[n : n + m] == fed and all(token == PAD for token in x[n + m :])
        if length <= task.length:
            assert seen == set(task.input_length_choices(length)) and min(seen) == task.shortest_input
        else:
            assert min(seen) > task.length  # out of distribution: every input longer than any training input


@pytest.mark.parametrize("name", TASKS)
def test_reference_solver_on_prefixes_is_perfect_at_every_length(name: str) -> None:
    for mode in ("teacher_forced", "blank") if name in SEQUENCE_TASKS else ("teacher_forced",):
        task = get_task(name, output_mode=mode)
        assert task.metric == "sequence_mean_accuracy"
        for length, batch, preds in checks.assert_solves_every_length(
            task, 32, lambda batch, task=task: causal_predictions(task, batch)
        ):
            checks.corrupt_first_target(preds, batch, task.num_classes)
            # one wrong token costs 1/(its sequence's targets) of one sequence's accuracy, out of 32 sequences
            first = int(batch.mask.nonzero()[0, 0])
            lost = 1 / (int(batch.mask.any(dim=1).sum()) * int(batch.mask[first].sum()))
            assert checks.score(task, length, preds, batch) == pytest.approx(1 - lost)


def test_known_examples_from_the_paper() -> None:
    assert expected_output("modular_arithmetic", [1, 5, 2, 7, 3]) == [2]  # 1 + 2 * 3 = 2 (mod 5)
    assert expected_output("modular_arithmetic", [1, 6, 1, 6, 1]) == [4]  # 1 - 1 - 1 = 4
    assert expected_output("stack_manipulation", [0, 1, 1, 0, 4, 2, 2]) == [1, 1, 0, 2]
    assert expected_output("cycle_navigation", [1, 2, 0, 2, 2]) == [3]
    assert expected_output("parity_check", [1, 0, 1, 0, 1, 0, 0]) == [1]  # the authors' docstring: 1010100 -> 1
    assert expected_output("parity_check", [0, 1, 1, 1, 1]) == [0]  # 01111 -> 0
    task = get_task("modular_arithmetic")
    inputs, out, _ = task.generate(torch.tensor([5, 5]), 5, torch.Generator())
    for row, value in zip(inputs.tolist(), out[:, 0].tolist()):
        assert [value] == expected_output("modular_arithmetic", row)


def test_bracket_and_equation_examples_by_hand() -> None:
    brackets = {char: token for token, char in enumerate(BRACKETS)}
    assert expected_output("modular_arithmetic_brackets", [brackets[c] for c in "((-3)*(-3))"]) == [4]  # 9 mod 5
    assert expected_output("modular_arithmetic_brackets", [brackets[c] for c in "(1--2)"]) == [3]
    equation = {char: token for token, char in enumerate(EQUATION)}
    assert expected_output("solve_equation", [equation[c] for c in "((x)+(-0))=1"]) == [1]
    assert expected_output("solve_equation", [equation[c] for c in "(1-x)=3"]) == [3]  # 1 - 3 = -2 = 3 (mod 5)
    assert in_grammar("((-3)*((4)+2))", "+-*") and not in_grammar("((-3)*((4)+2))", "+-")
    assert not in_grammar("((-3)*(4+2)+1)", "+-*") and not in_grammar("(3)(4)", "+-*") and not in_grammar("--3", "+-")
    task = get_task("solve_equation")
    inputs, out, _ = task.generate(torch.tensor([3, 3, 3]), 3, torch.Generator().manual_seed(0))
    for row, answer in zip(inputs.tolist(), out[:, 0].tolist()):  # the shortest equation: x=v, so x = v
        assert "".join(EQUATION[t] for t in row) == f"x={answer}"


def test_solve_equation_hides_the_first_digit_at_or_after_a_uniform_position() -> None:
    """The authors' rule: a position uniform over the expression, then the first digit from there on, wrapping
    around; so a digit after k non-digits is hidden with probability (k + 1) / (expression length)."""
    n = 9  # expressions of 7 characters: (d op (d)), (-d op -d), ((d) op d)
    inputs, _, _ = get_task("solve_equation").generate(torch.full((30000,), n), n, torch.Generator().manual_seed(1))
    counts: dict[tuple[str, int], int] = {}
    for row in inputs.tolist():
        expression = "".join(EQUATION[t] for t in row)[: n - 2]
        shape = "".join("d" if c in DIGITS or c == "x" else c for c in expression)
        counts[(shape, expression.index("x"))] = counts.get((shape, expression.index("x")), 0) + 1
    shapes = {shape for shape, _ in counts}
    assert shapes == {f"(d{op}(d))" for op in "+-"} | {f"(-d{op}-d)" for op in "+-"} | {f"((d){op}d)" for op in "+-"}
    for shape in shapes:
        total = sum(c for (s, _), c in counts.items() if s == shape)
        for position, char in enumerate(shape):
            if char != "d":
                continue
            before = 0  # the non-digits just before this digit, wrapping around
            while shape[(position - before - 1) % len(shape)] != "d":
                before += 1
            observed = counts.get((shape, position), 0) / total
            assert observed == pytest.approx((before + 1) / len(shape), abs=0.03), (shape, position)


@pytest.mark.parametrize("name", TASKS)
def test_chance_from_constant_and_random_predictors(name: str) -> None:
    task = get_task(name)
    n = 8000 if name not in SEQUENCE_TASKS else 1000
    C = task.num_classes
    checks.assert_chance_baselines(task, n, 0.02, classes=C, random_level=1 / C)
    assert 1 / C <= task.chance + 1e-9
    expected = {
        "even_pairs": 41 / 80,
        "reverse_string": 0.5,
        "duplicate_string": 0.5,
        "parity_check": 0.5,  # the parity of n >= 1 uniform bits is uniform
        "solve_equation": 0.2,  # the hidden digit is uniform, whatever the equation's shape
    }
    if name in expected:
        assert task.chance == pytest.approx(expected[name])


@cache
def bracket_values(n: int) -> tuple[Fraction, ...]:
    """P(value = c) of a length-n bracketed + - * expression, in exact fractions straight from the grammar."""
    if n <= 4:
        return (Fraction(1, 5),) * 5  # d, -d, (d), (-d) with d uniform
    probability = [Fraction(0)] * 5
    for left in range(1, n - 3):
        for a, pa in enumerate(bracket_values(left)):
            for b, pb in enumerate(bracket_values(n - 3 - left)):
                for value in (a + b, a - b, a * b):
                    probability[value % 5] += pa * pb / (3 * (n - 4))
    return tuple(probability)


def test_bracket_value_distribution_and_chance_exactly() -> None:
    """The task's dynamic programme matches exact fractions from the grammar; chance is the best class's mean."""
    table = value_distributions(16, "+-*")
    for n in range(1, 17):
        assert table[n] == pytest.approx([float(p) for p in bracket_values(n)], abs=1e-12)
    assert sum(bracket_values(16)) == 1 and max(bracket_values(16)) == bracket_values(16)[0]  # * favours 0
    task = get_task("modular_arithmetic_brackets", length=16, eval_lengths=(20,))
    exact = max(sum(bracket_values(n)[c] for n in range(1, 17)) / 16 for c in range(5))
    assert task.chance == pytest.approx(float(exact), abs=1e-12)
    protocol = get_task("state_modular_arithmetic_brackets", length=16, eval_lengths=(20,))  # lengths 3..16
    exact = max(sum(bracket_values(n)[c] for n in range(3, 17)) / 14 for c in range(5))
    assert protocol.chance == pytest.approx(float(exact), abs=1e-12)


def test_stack_manipulation_chance_is_the_per_sequence_mean() -> None:
    """The best constant under sequence_mean_accuracy from 20000 plain-Python answers (not the task's own dynamic
    programme): each sequence's fraction of output tokens equal to the constant, averaged over sequences."""
    task = get_task("stack_manipulation", length=12, eval_lengths=(13,))
    batch = task.sample(20000, 12, torch.Generator().manual_seed(3))
    fractions = torch.zeros(3, dtype=torch.float64)
    for x in batch.x.tolist():
        out = expected_output("stack_manipulation", x[: x.index(task.sep)])
        fractions += torch.tensor([out.count(c) / len(out) for c in range(3)], dtype=torch.float64)
    assert float(fractions.max()) / 20000 == pytest.approx(task.chance, abs=0.005)


@pytest.mark.parametrize("name", TASKS)
def test_determinism_disjoint_streams_and_longer_ood(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 16, 40)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.int().argmax(1).min()) > task.length  # the first target comes after a longer input

    checks.assert_ood_longer(task, 64, check, max_seq_len=task.spec(max(task.eval_lengths)).seq_len)


@pytest.mark.parametrize(
    "name, params, message",
    [
        (
            "reverse_string",
            {"output_mode": "greedy"},
            r"'output_mode' must be one of teacher_forced, blank; got 'greedy'",
        ),
        ("cycle_navigation", {"length": 0}, r"task 'cycle_navigation': length must be >= 1; got 0"),
        ("duplicate_string", {"eval_lengths": (40, 100)}, r"eval_lengths must all exceed length=40; got 40"),
        (
            "modular_arithmetic",
            {"length": 41, "eval_lengths": (42,)},
            r"'modular_arithmetic': needs an odd input length in \(length=41, 42\]",
        ),
        ("even_pairs", {"solved_at": 0.5}, r"solved_at must be in \(0.5125, 1\]; got 0.5"),
        ("stack_manipulation", {"lenght": 10}, r"no parameter 'lenght'.*Did you mean 'length'"),
        (
            "even_pairs",
            {"task": "even_pairs"},
            r"no parameter 'task'",
        ),  # a sub-task is a task of its own, not a parameter
        ("parity_check", {"solved_at": 0.5}, r"task 'parity_check': solved_at must be in \(0.5, 1\]; got 0.5"),
        ("parity_check", {"length": 0}, r"task 'parity_check': length must be >= 1; got 0"),
        (
            "modular_arithmetic_brackets",
            {"eval_lengths": (30,)},
            r"task 'modular_arithmetic_brackets': eval_lengths must all exceed length=40; got 30",
        ),
        ("modular_arithmetic_brackets", {"modulus": 7}, r"no parameter 'modulus'"),
        ("solve_equation", {"length": 2}, r"task 'solve_equation': length must be >= 3; got 2"),
        ("solve_equation", {"solved_at": 0.2}, r"task 'solve_equation': solved_at must be in \(0.2, 1\]; got 0.2"),
        ("state_modular_arithmetic", {"length": 2}, r"task 'state_modular_arithmetic': length must be >= 3; got 2"),
        (
            "state_modular_arithmetic",
            {"length": 39, "eval_lengths": (40,)},
            r"'state_modular_arithmetic': needs an odd input length in \(length=39, 40\]",
        ),
        (
            "state_modular_arithmetic_brackets",
            {"eval_lengths": (40,)},
            r"task 'state_modular_arithmetic_brackets': eval_lengths must all exceed length=40; got 40",
        ),
    ],
)
def test_invalid_parameters_name_value_and_range(name: str, params: dict, message: str) -> None:
    checks.assert_refused(name, params, message)


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ArchbenchError, match=r"needs an odd input length in \(length=41, 42\]"):
        ModularArithmetic(length=41, eval_lengths=(42,))


def test_a_size_below_the_shortest_input_is_refused() -> None:
    with pytest.raises(ArchbenchError, match=r"^task 'solve_equation': no valid input length at size 2$"):
        get_task("solve_equation").sample(4, 2, torch.Generator())


def task_class(name: str) -> type[ChomskyTask]:
    """The registered class of Chomsky task `name` (typed, for the class-level checks)."""
    cls = get_task_entry(name).obj
    assert isinstance(cls, type) and issubclass(cls, ChomskyTask)
    return cls


def test_each_task_is_registered_by_its_own_name_in_its_level() -> None:
    assert set(TASKS) <= set(list_tasks())
    assert "chomsky" not in list_tasks()
    for name, family in FAMILIES.items():
        cls = task_class(name)
        assert cls.name == name and cls.family == family
        assert cls.__module__ == f"tasks.{family.replace('/', '.')}.{name}"  # one module per task, in its level folder
        assert cls.metric == "sequence_mean_accuracy"  # the paper's accuracy, inherited from the base


@pytest.mark.parametrize("name", list(PROTOCOL))
def test_protocol_tasks_are_the_chomsky_tasks_at_grazzis_lengths(name: str) -> None:
    """Grazzi et al. 2025 (Table 3): train 3..40, test up to 256; the Chomsky generator itself, not a copy."""
    cls, chomsky = task_class(name), task_class(PROTOCOL[name])
    assert issubclass(cls, chomsky) and cls.family == "state_tracking"
    assert cls.__module__.startswith("tasks.state_tracking.") and "Grazzi" in cls.paper
    assert cls.generate is chomsky.generate and cls.metric == chomsky.metric
    task = get_task(name)
    assert (task.length, task.eval_lengths) == (40, (256,))
    assert cls.profile_params["paper"] == {"length": 40, "eval_lengths": (256,)}
    train, test = task.input_length_choices(40), task.input_length_choices(256)
    assert min(train) == 3 and max(train) >= 39 and min(test) == 41 and max(test) >= 255
    same = get_task(PROTOCOL[name], length=40, eval_lengths=(256,))  # beyond the training length: the same stream
    a, b = (t.sample(32, 256, torch.Generator().manual_seed(5)) for t in (task, same))
    assert all(torch.equal(u, v) for u, v in zip(a, b))


def test_chomsky_profiles_follow_the_paper_protocol() -> None:
    """Delétang et al. 2023: train on 1..40, score the mean over 41..500 (one size 500 draws N uniform there);
    quick keeps the same definition over 41..100."""
    for name in FAMILIES:
        cls = task_class(name)
        assert cls.profile_params["paper"] == {"length": 40, "eval_lengths": (500,)}
        task = get_task(name, **cls.profile_params["paper"])
        assert task.input_length_range(500) == (41, 500)
        assert task.input_length_range(40) == (task.shortest_input, 40)
        assert (get_task(name).length, get_task(name).eval_lengths) == (40, (100,))


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
