"""Harness: same seed gives the same numbers, early stopping at solved_at, fixed training sets, bookkeeping."""

from __future__ import annotations

import pytest

from bench import build_architecture, get_task
from bench.train.config import TrainConfig
from bench.train.harness import run_one

TINY = dict(steps=20, batch_size=16, eval_every=10, val_samples=64, test_samples=64)


def _run(seed: int = 0, **overrides):
    task = get_task("sparse_token_selection", code_dim=16, eval_lengths=(32,), **overrides.pop("task", {}))
    config = TrainConfig(**{**TINY, **overrides})
    return run_one(task, lambda spec: build_architecture("mean_pool", spec), config, seed)


def test_same_seed_same_numbers(mean_pool_plugin) -> None:
    a, b, c = _run(0), _run(0), _run(1)
    for key in ("by_length", "final_loss", "val_history"):
        assert a[key] == b[key]
    assert a["by_length"] != c["by_length"]


def test_records_every_length_and_bookkeeping(mean_pool_plugin) -> None:
    result = _run(0)
    assert set(result["by_length"]) == {"16", "32"}
    assert result["in_distribution"] == result["by_length"]["16"]
    assert "ood_mean" not in result  # a derived figure: computed at read time (bench.results.measures)
    assert result["steps"] == 20 and result["samples_seen"] == 320
    assert [step for step, _ in result["val_history"]] == [10, 20]
    assert result["train_samples_per_s"] > 0 and result["num_parameters"] > 0


def test_early_stop_at_solved_at(mean_pool_plugin) -> None:
    # q = length: the target is the mean of all tokens, which a running mean learns quickly.
    result = _run(0, steps=400, task={"solved_at": 0.5, "q": 16})
    assert result["solved"] and result["steps"] == result["steps_to_solve"] < 400  # stopped at that validation
    assert result["val_history"][-1][1] >= 0.5 > max(v for _, v in result["val_history"][:-1])
    assert result["samples_to_solve"] == result["steps_to_solve"] * 16
    no_stop = _run(0, steps=result["steps"] + 20, early_stop=False, task={"solved_at": 0.5, "q": 16})
    assert no_stop["steps"] == result["steps"] + 20 and no_stop["steps_to_solve"] == result["steps_to_solve"]


def test_fixed_training_set(mean_pool_plugin) -> None:
    result = _run(0, n_train=48)
    assert result["steps"] == 20 and result["by_length"]["16"] is not None


def test_bad_train_config() -> None:
    from bench import ArchbenchError

    with pytest.raises(ArchbenchError, match="steps must be > 0; got 0"):
        TrainConfig(steps=0)


def test_steps_per_call_divides_the_validation_interval() -> None:
    from bench.train.harness import MAX_STEPS_PER_CALL, steps_per_call

    assert steps_per_call(100) == 10 and steps_per_call(25) == 5 and steps_per_call(7) == 7 and steps_per_call(13) == 1
    for every in range(1, 200):
        group = steps_per_call(every)
        assert every % group == 0 and group <= MAX_STEPS_PER_CALL


def test_grouped_steps_train_exactly_like_a_hand_loop(mean_pool_plugin) -> None:
    """Several optimizer steps per Lightning call change nothing about the training: same batches, same
    order, same updates as the hand-written loop, also when the budget ends inside a group."""
    import torch

    from bench.train.speed import hand_loop

    task = get_task("sparse_token_selection", code_dim=16, eval_lengths=(32,))
    factory = lambda spec: build_architecture("mean_pool", spec)  # noqa: E731
    config = TrainConfig(**{**TINY, "steps": 23, "early_stop": False})
    result = run_one(task, factory, config, seed=3)
    hand = hand_loop(task, factory, config, 3, 23, torch.device("cpu"))
    # validation every eval_every steps, and once more where the budget ends (the stream ends there)
    assert result["steps"] == 23 and [step for step, _ in result["val_history"]] == [10, 20, 23]
    assert result["final_loss"] == hand.final_loss
