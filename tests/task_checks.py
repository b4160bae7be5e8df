"""Checks shared by the task test files: scoring, stream determinism, longer out-of-distribution specs, baselines.

Every task test file makes the same contract checks (seeded streams repeat and differ, evaluation lengths are
longer, constant and random predictors score the task's chance level, a reference solver is perfect at every
length, the smoke profile is tiny). They live here once so that each `tests/test_task_*.py` keeps only what is
specific to its task: the independent semantic check (brute force, reference solver), its chance level, its
parameters. The test files import this module as `import task_checks as checks` (calls then read
`checks.assert_ood_longer(...)`, naming where a check lives): `tests/` has no `__init__.py`, so pytest's default
(prepend) import mode puts `tests/` itself on `sys.path`, under `python -m pytest` and a bare `pytest` alike,
from any working directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import pytest
import torch

from bench import ArchbenchError, get_task
from bench.contract.registry import get_task_entry
from bench.train.data import fixed_set
from bench.train.metrics import make_metric

Batch = Any  # a task batch: `x`, `y`, `mask` (and whatever a task adds, e.g. the DFA tables)
BatchCheck = Callable[[int, Any, Batch], None]  # (length, spec, batch) -> None, asserting


def score(task, length: int, preds: torch.Tensor, batch, metric: str | None = None) -> float:
    """`preds` scored on `batch` by the task's metric (or `metric`) under the spec at `length`."""
    scorer = make_metric(metric or task.metric, task.spec(length))
    scorer.update(preds, batch.y, batch.mask)
    return float(scorer.compute())


def train_and_test(task, n: int, length: int | None = None):
    """The seed-0 train and test fixed sets of `n` examples at `length` (default the training length)."""
    length = task.length if length is None else length
    return fixed_set(task, n, length, seed=0, stream="train"), fixed_set(task, n, length, seed=0, stream="test")


def majority_class(batch) -> int:
    """The most frequent scored target of `batch`: the best constant class, chosen on training data."""
    return int(batch.y[batch.mask].mode().values)


def one_hot_constant(shape: torch.Size, classes: int, index: int) -> torch.Tensor:
    """Predictions of shape `(*shape, classes)` that always put all mass on class `index`."""
    preds = torch.zeros(*shape, classes)
    preds[..., index] = 1.0
    return preds


def uniform_scores(shape: torch.Size, classes: int) -> torch.Tensor:
    """Seed-0 uniform random scores `(*shape, classes)`: a predictor that guesses uniformly among the classes."""
    return torch.rand(*shape, classes, generator=torch.Generator().manual_seed(0))


def assert_chance_baselines(
    task,
    n: int,
    tolerance: float,
    *,
    classes: int | None = None,
    random: Callable[[torch.Size], torch.Tensor] | None = None,
    random_level: float | None = None,
):
    """Classification chance level, measured on `n` seed-0 examples at the training length.

    The best constant class (the training majority) must score `task.chance` on the test set, and a random
    predictor (`random(test.y.shape)`, default uniform scores over the `classes`) must score `random_level`
    (default `task.chance`), both within `tolerance`. Returns `(train, test)` for the task's own extra checks.
    """
    classes = task.spec().num_classes if classes is None else classes
    train, test = train_and_test(task, n)
    constant = one_hot_constant(test.y.shape, classes, majority_class(train))
    assert abs(score(task, task.length, constant, test) - task.chance) < tolerance
    guesses = uniform_scores(test.y.shape, classes) if random is None else random(test.y.shape)
    level = task.chance if random_level is None else random_level
    assert abs(score(task, task.length, guesses, test) - level) < tolerance
    return train, test


def assert_mean_constant_at_chance(task, n: int, tolerance: float):
    """Regression chance level: predicting the training mean target everywhere scores `task.chance` on the
    test set (`n` seed-0 examples at the training length) within `tolerance`. Returns `(train, test)`."""
    train, test = train_and_test(task, n)
    constant = train.y[train.mask].mean(dim=0).expand_as(test.y).clone()
    assert abs(score(task, task.length, constant, test) - task.chance) < tolerance
    return train, test


def predict_from_prefixes(
    batch, classes: int, solver: Callable[..., int], per_example: Sequence[Any] | None = None
) -> torch.Tensor:
    """One-hot predictions at every scored position t, each from `solver(x[b, :t+1])` (it never sees later tokens).

    With `per_example` the solver is called as `solver(x[b, :t+1], per_example[b])`, for what the task gives
    each example besides its tokens (e.g. the example's own automaton)."""
    preds = torch.zeros(*batch.y.shape, classes)
    xs = batch.x.tolist()
    for b, t in batch.mask.nonzero().tolist():
        prefix = xs[b][: t + 1]
        preds[b, t, solver(prefix) if per_example is None else solver(prefix, per_example[b])] = 1.0
    return preds


def assert_solves_every_length(
    task, n: int, predict: Callable[[Batch], torch.Tensor], above: float | None = None, metric: str | None = None
) -> list[tuple[int, Batch, torch.Tensor]]:
    """`predict(batch)` on the seed-0 test set of `n` examples at every length of `task` scores exactly 1.0
    (or, for a regression metric, strictly more than `above`). Returns each `(length, batch, preds)` so a test
    can check more on the same data (e.g. that one wrong token costs what it should)."""
    solved = []
    for length in task.all_lengths:
        batch = fixed_set(task, n, length, seed=0, stream="test")
        preds = predict(batch)
        value = score(task, length, preds, batch, metric)
        assert value == 1.0 if above is None else value > above, (length, value)
        solved.append((length, batch, preds))
    return solved


def corrupt_first_target(preds: torch.Tensor, batch, classes: int) -> None:
    """Make the one-hot prediction at the first scored position wrong, in place: class `(y + 1) % classes`."""
    b, t = batch.mask.nonzero()[0].tolist()
    preds[b, t] = 0.0
    preds[b, t, (int(batch.y[b, t]) + 1) % classes] = 1.0


def assert_deterministic_and_disjoint(task, n: int, length: int, same: Callable = torch.equal) -> None:
    """Seed-1 train sets repeat exactly; train/val/test streams and seed 2 all differ (`same` compares inputs:
    `torch.equal` for tokens, `torch.allclose` for real-valued inputs)."""
    a = fixed_set(task, n, length, seed=1, stream="train")
    b = fixed_set(task, n, length, seed=1, stream="train")
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    val = fixed_set(task, n, length, seed=1, stream="val")
    test = fixed_set(task, n, length, seed=1, stream="test")
    assert not same(a.x, val.x) and not same(val.x, test.x) and not same(a.x, test.x)
    assert not same(a.x, fixed_set(task, n, length, seed=2, stream="train").x)


def assert_ood_longer(
    task,
    n: int,
    check: BatchCheck | None = None,
    *,
    inputs: Literal["tokens", "vectors"] = "tokens",
    seq_len: Callable[[int], int] | None = None,
    max_seq_len: int | None = None,
) -> None:
    """Evaluation lengths really are out of distribution.

    Each eval length exceeds the training length and has a strictly longer spec (exactly `seq_len(length)`
    when given); `n` samples at it have `n` rows, fit that spec (`assert_token_batch`, or `assert_vector_batch`
    for real-valued `inputs="vectors"`) and pass the task's own `check(length, spec, batch)`. The training
    spec's `max_seq_len` is the longest eval spec's length (and `max_seq_len` when given), so models are
    built long enough for every evaluation.
    """
    fits = assert_token_batch if inputs == "tokens" else assert_vector_batch
    previous = task.spec().seq_len
    for length in task.eval_lengths:
        spec = task.spec(length)
        assert length > task.length and spec.seq_len > previous
        if seq_len is not None:
            assert spec.seq_len == seq_len(length)
        batch = task.sample(n, length, torch.Generator().manual_seed(0))
        assert batch.x.shape[0] == n
        fits(spec, batch)
        if check is not None:
            check(length, spec, batch)
        previous = spec.seq_len
    assert task.spec().max_seq_len == task.spec(max(task.eval_lengths)).seq_len
    if max_seq_len is not None:
        assert task.spec().max_seq_len == max_seq_len


def assert_token_batch(spec, batch) -> None:
    """Inputs, targets and mask all `(n, spec.seq_len)`; tokens and targets within the spec's vocabulary and classes."""
    assert batch.x.shape == batch.y.shape == batch.mask.shape == (batch.x.shape[0], spec.seq_len)
    assert int(batch.x.max()) < spec.vocab_size and int(batch.y.max()) < spec.num_classes


def assert_vector_batch(spec, batch) -> None:
    """Inputs `(n, seq_len, input_dim)`, targets `(n, seq_len, output_dim)`, mask `(n, seq_len)` under `spec`."""
    n = batch.x.shape[0]
    assert batch.x.shape == (n, spec.seq_len, spec.input_dim)
    assert batch.y.shape == (n, spec.seq_len, spec.output_dim) and batch.mask.shape == (n, spec.seq_len)


def assert_refused(name: str, params: dict, message: str) -> None:
    """Building task `name` with `params` is a user error: an `ArchbenchError` whose text matches `message`
    (which names the bad value and the valid range or choices)."""
    with pytest.raises(ArchbenchError, match=message):
        get_task(name, **params)


def smoke_task(name: str, max_seq_len: int, **params):
    """The task under its `smoke` profile (plus `params`), asserted tiny: no spec longer than `max_seq_len`.
    Its `paper` profile must construct too, so both registered profiles stay valid."""
    profiles = get_task_entry(name).obj.profile_params
    task = get_task(name, **params, **profiles["smoke"])
    assert task.spec(max(task.all_lengths)).seq_len <= max_seq_len
    get_task(name, **params, **profiles["paper"])
    return task
