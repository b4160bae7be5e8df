"""In-context language learning: semantics checked independently of any model (the automaton walked in
plain Python, an oracle that knows it)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import ArchbenchError, Batch, get_task
from bench.train.data import fixed_set, stream_generator
from tasks.icll_dfa import DFABatch, dfa_validity, valid_next_tokens

NAME = "icll_dfa"


def python_valid(table: list[list[int]], prefix: list[int], delim: int) -> set[int]:
    """Valid continuations of `prefix` (which starts with DELIM) by walking the automaton in Python."""
    state, in_string = 0, False
    for token in prefix:
        if token == delim:
            state, in_string = 0, False
        else:
            state, in_string = (table[state][token] if state >= 0 else -1), True
    symbols = {s for s in range(delim) if state >= 0 and table[state][s] >= 0}
    return symbols | ({delim} if in_string else set())


def oracle(task, table: list[list[int]], prefix: list[int]) -> int:
    """Reference solver on x[:t+1]: knows the automaton and the string-length law, picks the likeliest token.

    After p >= 1 symbols the string ends with probability 1 / (max_string_length - p + 1); otherwise
    one of the current state's k edges is taken uniformly."""
    delim = task.delim
    written = len(prefix) - 1 - max(i for i, token in enumerate(prefix) if token == delim)
    symbols = sorted(python_valid(table, prefix, delim) - {delim})
    end = 0.0 if written == 0 else 1.0 / (task.max_string_length - written + 1)
    return delim if end >= (1 - end) / len(symbols) else symbols[0]


def test_automata_and_prompts_by_brute_force_walk() -> None:
    task = get_task(NAME)
    D, V = task.delim, task.vocab
    for length in task.all_lengths:
        batch = task.sample(40, length, torch.Generator().manual_seed(length))
        assert isinstance(batch, DFABatch) and batch.transitions.shape == (40, task.max_states, V)
        assert batch.x.shape == batch.y.shape == (40, length) and bool(batch.mask.all())
        vectorised = valid_next_tokens(batch)
        for b, (x, y, table) in enumerate(zip(batch.x.tolist(), batch.y.tolist(), batch.transitions.tolist())):
            live = [row for row in table if any(target >= 0 for target in row)]
            assert task.min_states <= len(live) <= task.max_states and table[: len(live)] == live
            labels = {s for row in live for s, target in enumerate(row) if target >= 0}
            assert len(labels) <= task.max_alphabet
            for row in live:
                assert 1 <= sum(target >= 0 for target in row) <= task.max_out_edges
                assert all(target < len(live) for target in row)
            prompt = [x[0]] + y
            assert x[0] == D and x[1:] == y[:-1]  # next-token targets
            strings = [[]]
            for token in prompt[1:]:
                if token == D:
                    strings.append([])
                else:
                    strings[-1].append(token)
            assert all(1 <= len(s) <= task.max_string_length for s in strings[:-1])
            assert len(strings[-1]) <= task.max_string_length
            for s in strings:  # every string is a walk of the automaton from the start state
                state = 0
                for token in s:
                    assert table[state][token] >= 0
                    state = table[state][token]
            for t in range(length):
                valid = python_valid(table, x[: t + 1], D)
                assert y[t] in valid
                assert {c for c in range(V + 1) if vectorised[b, t, c]} == valid


def test_oracle_on_prefixes_is_always_valid_and_beats_solved_at() -> None:
    """The automaton itself: DFA validity 1 (the paper's maximum); next-token accuracy is bounded by the
    randomness of the next token, the oracle's is the best achievable and clears solved_at."""
    task = get_task(NAME)
    C = task.spec().num_classes
    solver = lambda prefix, table: oracle(task, table, prefix)  # noqa: E731
    for length in task.all_lengths:
        batch = task.sample(40, length, stream_generator(0, "test", length))
        preds = checks.predict_from_prefixes(batch, C, solver, per_example=batch.transitions.tolist())
        assert preds.shape == (40, length, C)
        assert dfa_validity(preds, batch) == 1.0
        assert task.dfa_validity(preds.argmax(-1), batch) == 1.0
        assert task.solved_at < checks.score(task, length, preds, batch) < 0.6
    wrong = torch.zeros(40, length, C)
    wrong[..., task.delim] = 1.0  # DELIM everywhere: invalid right after every DELIM
    assert dfa_validity(wrong, batch) == pytest.approx(1 - float((batch.x == task.delim).float().mean()))


def test_validity_is_causal_and_needs_the_automata() -> None:
    task = get_task(NAME)
    batch = task.sample(16, 64, torch.Generator().manual_seed(0))
    full = valid_next_tokens(batch)
    for t in (0, 10, 40, 63):
        prefix = Batch(batch.x[:, : t + 1], batch.y[:, : t + 1], batch.mask[:, : t + 1])
        assert torch.equal(valid_next_tokens(prefix, batch.transitions)[:, t], full[:, t])
    stored = fixed_set(task, 16, 64, seed=0, stream="test")
    with pytest.raises(ArchbenchError, match="needs the automata"):
        valid_next_tokens(stored)


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    C = task.spec().num_classes
    train, _ = checks.assert_chance_baselines(task, 4000, 0.01, random_level=1 / C)
    assert 1 / C < task.chance
    assert checks.majority_class(train) == task.delim
    targets = train.y[train.mask]
    symbol_rates = torch.bincount(targets, minlength=C)[: task.vocab].float() / targets.numel()
    assert float(symbol_rates.max() - symbol_rates.min()) < 0.01  # symbols equally frequent, by symmetry
    for length in task.eval_lengths:  # the renewal recursion at other lengths too
        batch = fixed_set(task, 1000, length, seed=0, stream="test")
        assert float((batch.y == task.delim).float().mean()) == pytest.approx(task.delim_rate(length), abs=0.01)


def test_determinism_disjoint_streams_and_automata_and_longer_ood() -> None:
    task = get_task(NAME)
    a = task.sample(16, 64, stream_generator(1, "train", 64))
    b = task.sample(16, 64, stream_generator(1, "train", 64))
    assert all(torch.equal(u, v) for u, v in zip(a, b)) and torch.equal(a.transitions, b.transitions)
    assert all(torch.equal(u, v) for u, v in zip(a, fixed_set(task, 16, 64, seed=1, stream="train")))
    checks.assert_deterministic_and_disjoint(task, 16, 64)
    automata = {}
    for stream in ("train", "val", "test"):
        tables = task.sample(1000, 8, stream_generator(0, stream, 8)).transitions
        automata[stream] = {bytes(t.to(torch.int8).numpy()) for t in tables}
        assert len(automata[stream]) == 1000  # a fresh automaton per example
    assert not automata["train"] & automata["val"] and not automata["train"] & automata["test"]
    assert not automata["val"] & automata["test"]

    def check(length: int, spec, batch) -> None:
        assert int((batch.x == task.delim).sum(1).min()) > 64 / task.max_string_length  # more strings in context

    checks.assert_ood_longer(task, 8, check, seq_len=lambda length: length, max_seq_len=256)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"vocab": 1, "min_alphabet": 1, "max_alphabet": 1}, r"vocab must be >= 2; got 1"),
        ({"max_alphabet": 21}, r"max_alphabet must be in \[min_alphabet=4, vocab=20\]; got 21"),
        ({"max_alphabet": 3}, r"max_alphabet must be in \[min_alphabet=4, vocab=20\]; got 3"),
        ({"min_states": 0}, r"min_states must be > 0; got 0"),
        ({"max_states": 3}, r"max_states must be >= min_states=4; got 3"),
        ({"max_out_edges": 0}, r"max_out_edges must be > 0; got 0"),
        ({"max_string_length": 0}, r"max_string_length must be > 0; got 0"),
        ({"length": 0, "eval_lengths": (8,)}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (64,)}, r"eval_lengths must all exceed length=64; got 64"),
        ({"solved_at": 0.1}, r"solved_at must be in \(0.148761, 1\]; got 0.1"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused(NAME, params, message)


def test_smoke_profile_is_tiny_and_consistent() -> None:
    task = checks.smoke_task(NAME, 48)
    assert task.chance < task.solved_at
    for length in task.all_lengths:
        batch = task.sample(32, length, stream_generator(0, "test", length))
        valid = valid_next_tokens(batch)
        assert bool(valid.gather(-1, batch.y.unsqueeze(-1)).all())  # every actual next token is valid
