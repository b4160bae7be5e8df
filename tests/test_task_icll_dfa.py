"""In-context language learning: semantics checked independently of any model (the automaton walked in
plain Python, an oracle that knows it)."""
from __future__ import annotations

import pytest
import torch

from bench import ArchbenchError, Batch, get_task
from bench.data import fixed_set, stream_generator
from bench.metrics import make_metric
from bench.registry import get_task_entry
from tasks.icll_dfa import DFABatch, dfa_validity, valid_next_tokens

NAME = "icll_dfa"


def _score(task, length: int, preds: torch.Tensor, batch) -> float:
    metric = make_metric(task.metric, task.spec(length))
    metric.update(preds, batch.y, batch.mask)
    return float(metric.compute())


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
    for length in task.all_lengths:
        batch = task.sample(40, length, stream_generator(0, "test", length))
        preds = torch.zeros(40, length, C)
        tables, xs = batch.transitions.tolist(), batch.x.tolist()
        for b, t in batch.mask.nonzero().tolist():
            preds[b, t, oracle(task, tables[b], xs[b][: t + 1])] = 1.0  # the solver never sees x[:, t+1:]
        assert dfa_validity(preds, batch) == 1.0
        assert task.dfa_validity(preds.argmax(-1), batch) == 1.0
        assert task.solved_at < _score(task, length, preds, batch) < 0.6
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
    train = fixed_set(task, 4000, task.length, seed=0, stream="train")
    test = fixed_set(task, 4000, task.length, seed=0, stream="test")
    C = task.spec().num_classes
    targets = train.y[train.mask]
    majority = int(targets.mode().values)
    assert majority == task.delim
    symbol_rates = torch.bincount(targets, minlength=C)[: task.vocab].float() / targets.numel()
    assert float(symbol_rates.max() - symbol_rates.min()) < 0.01  # symbols equally frequent, by symmetry
    constant = torch.zeros(*test.y.shape, C)
    constant[..., majority] = 1.0
    assert abs(_score(task, task.length, constant, test) - task.chance) < 0.01
    random = torch.rand(*test.y.shape, C, generator=torch.Generator().manual_seed(0))
    assert abs(_score(task, task.length, random, test) - 1 / C) < 0.01 and 1 / C < task.chance
    for length in task.eval_lengths:  # the renewal recursion at other lengths too
        batch = fixed_set(task, 1000, length, seed=0, stream="test")
        assert float((batch.y == task.delim).float().mean()) == pytest.approx(task.delim_rate(length), abs=0.01)


def test_determinism_disjoint_streams_and_automata_and_longer_ood() -> None:
    task = get_task(NAME)
    a = task.sample(16, 64, stream_generator(1, "train", 64))
    b = task.sample(16, 64, stream_generator(1, "train", 64))
    assert all(torch.equal(u, v) for u, v in zip(a, b)) and torch.equal(a.transitions, b.transitions)
    assert all(torch.equal(u, v) for u, v in zip(a, fixed_set(task, 16, 64, seed=1, stream="train")))
    val = fixed_set(task, 16, 64, seed=1, stream="val")
    test = fixed_set(task, 16, 64, seed=1, stream="test")
    assert not torch.equal(a.x, val.x) and not torch.equal(val.x, test.x) and not torch.equal(a.x, test.x)
    assert not torch.equal(a.x, fixed_set(task, 16, 64, seed=2, stream="train").x)
    automata = {}
    for stream in ("train", "val", "test"):
        tables = task.sample(1000, 8, stream_generator(0, stream, 8)).transitions
        automata[stream] = {bytes(t.to(torch.int8).numpy()) for t in tables}
        assert len(automata[stream]) == 1000  # a fresh automaton per example
    assert not automata["train"] & automata["val"] and not automata["train"] & automata["test"]
    assert not automata["val"] & automata["test"]
    previous = task.spec().seq_len
    for length in task.eval_lengths:
        spec = task.spec(length)
        assert length > task.length and spec.seq_len == length > previous
        batch = task.sample(8, length, torch.Generator().manual_seed(0))
        assert batch.x.shape == (8, length) and int(batch.x.max()) < spec.vocab_size
        assert int((batch.x == task.delim).sum(1).min()) > 64 / task.max_string_length  # more strings in context
        previous = spec.seq_len
    assert task.spec().max_seq_len == 256


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
    with pytest.raises(ArchbenchError, match=message):
        get_task(NAME, **params)


def test_smoke_profile_is_tiny_and_consistent() -> None:
    profiles = get_task_entry(NAME).obj.profile_params
    task = get_task(NAME, **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= 48 and task.chance < task.solved_at
    for length in task.all_lengths:
        batch = task.sample(32, length, stream_generator(0, "test", length))
        valid = valid_next_tokens(batch)
        assert bool(valid.gather(-1, batch.y.unsqueeze(-1)).all())  # every actual next token is valid
    get_task(NAME, **profiles["paper"])
