"""In-context linear regression: semantics checked independently of any model (plain parsing, least squares)."""

from __future__ import annotations

import pytest
import task_checks as checks
import torch

from bench import Batch, get_task
from bench.train.data import fixed_set

NAME = "icl_regression"


def normal_equations_prediction(prefix: list[list[float]], d: int) -> float:
    """Independent reference on x[:t+1] (t an x position): parse the pairs, solve X^T X w = X^T y."""
    pairs = [(prefix[j][:d], prefix[j + 1][d]) for j in range(0, len(prefix) - 1, 2)]
    gram = [[sum(p[a] * p[b] for p, _ in pairs) for b in range(d)] for a in range(d)]
    moment = [sum(p[a] * v for p, v in pairs) for a in range(d)]
    w = torch.linalg.solve(torch.tensor(gram, dtype=torch.float64), torch.tensor(moment, dtype=torch.float64))
    return sum(float(w[a]) * prefix[-1][a] for a in range(d))


def test_layout_and_targets_by_brute_force_parsing() -> None:
    task = get_task(NAME)
    d = task.d
    for length in task.all_lengths:
        batch = task.sample(30, length, torch.Generator().manual_seed(length))
        assert batch.x.shape == (30, 2 * length, d + 1) and batch.y.shape == (30, 2 * length, 1)
        for x, y, mask in zip(batch.x.tolist(), batch.y.tolist(), batch.mask.tolist()):
            assert mask == [i % 2 == 0 and i // 2 >= d for i in range(2 * length)]  # x positions after the first d
            points, values = [], []
            for i in range(length):
                x_token, y_token = x[2 * i], x[2 * i + 1]
                assert x_token[d] == 0.0 and all(c == 0.0 for c in y_token[:d])
                assert y[2 * i][0] == y_token[d]  # the target at an x token is the y revealed right after it
                points.append(x_token[:d])
                values.append(y_token[d])
            # one linear function explains every pair (noise_std = 0): fit it on all points, no residual
            A = torch.tensor(points, dtype=torch.float64)
            b = torch.tensor(values, dtype=torch.float64)
            w = torch.linalg.lstsq(A, b[:, None]).solution[:, 0]
            assert torch.allclose(A @ w, b, atol=1e-4)


def test_least_squares_baseline_matches_normal_equations_and_solves_every_length() -> None:
    task = get_task(NAME)
    d = task.d
    for length, batch, preds in checks.assert_solves_every_length(task, 500, task.least_squares_baseline, above=0.9999):
        assert preds.shape == batch.y.shape
        error = (preds - batch.y).abs()[..., 0]
        for i in range(length):  # exact once the preceding points determine w
            assert (error[:, 2 * i].max() < 1e-3) == (i >= d)
        xs = batch.x.tolist()
        for b in range(3):
            for i in (d, length - 1):
                expected = normal_equations_prediction(xs[b][: 2 * i + 1], d)
                assert float(preds[b, 2 * i, 0]) == pytest.approx(expected, abs=1e-3)


def test_least_squares_baseline_is_causal() -> None:
    """At x position t it uses x[:, :t+1] only: prefixes, scrambled futures and the targets change nothing."""
    task = get_task(NAME)
    batch = fixed_set(task, 50, task.length, seed=0, stream="val")
    full = task.least_squares_baseline(batch)
    generator = torch.Generator().manual_seed(1)
    for t in range(0, 2 * task.length, 2):
        prefix = Batch(batch.x[:, : t + 1], batch.y[:, : t + 1], batch.mask[:, : t + 1])
        assert torch.allclose(task.least_squares_baseline(prefix)[:, t], full[:, t], atol=1e-5)
        scrambled = batch.x.clone()
        scrambled[:, t + 1 :] = torch.randn(scrambled[:, t + 1 :].shape, generator=generator)
        other = Batch(scrambled, torch.randn(batch.y.shape, generator=generator), batch.mask)
        assert torch.allclose(task.least_squares_baseline(other)[:, : t + 1], full[:, : t + 1], atol=1e-5)


def test_skip_zero_scores_garg_curve_and_noise_limits_least_squares() -> None:
    task = get_task(NAME, skip=0)
    batch = fixed_set(task, 4000, task.length, seed=0, stream="test")
    assert batch.mask[:, 0::2].all()
    expected = 1 - (task.d + 1) / (2 * task.length)  # the first d points are under-determined
    assert checks.score(task, task.length, task.least_squares_baseline(batch), batch) == pytest.approx(
        expected, abs=0.02
    )
    noisy = get_task(NAME, noise_std=0.5)
    batch = fixed_set(noisy, 2000, noisy.length, seed=0, stream="test")
    assert abs(float((batch.y[:, 0::2] - batch.x[:, 1::2, -1:]).abs().max())) == 0.0  # target = noisy y shown next
    ridge = noisy.least_squares_baseline(batch, ridge=0.25)  # the posterior mean under the noise
    residual = (ridge - batch.y)[batch.mask]
    assert 0.5 < float(residual.std()) < 0.8  # the noise floor 0.5, plus the estimation error
    assert (
        0.85 < checks.score(noisy, noisy.length, ridge, batch) < 0.95
    )  # below 1 - 0.25 / 5.25: noise is unpredictable
    ordinary = noisy.least_squares_baseline(batch)
    peak = (ordinary - batch.y)[:, 2 * noisy.d, 0].pow(2).mean()  # i = d points: interpolating the noise
    assert float(peak) > 2 * float((ridge - batch.y)[:, 2 * noisy.d, 0].pow(2).mean())


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task(NAME)
    assert task.chance == 0.0
    train, test = checks.assert_mean_constant_at_chance(task, 4000, 0.01)  # best constant: the training mean
    assert abs(checks.score(task, task.length, torch.zeros_like(test.y), test) - task.chance) < 0.01
    scale = float(train.y[train.mask].std())
    random = torch.randn(test.y.shape, generator=torch.Generator().manual_seed(0)) * scale
    assert checks.score(task, task.length, random, test) < task.chance - 0.5  # a random guess is worse than chance


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task(NAME)
    checks.assert_deterministic_and_disjoint(task, 16, 20, same=torch.allclose)

    def check(length: int, spec, batch) -> None:
        assert int(batch.mask.sum(1).min()) == length - task.d  # more in-context points scored

    checks.assert_ood_longer(task, 4, check, inputs="vectors", seq_len=lambda length: 2 * length, max_seq_len=160)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"d": 0}, r"d must be > 0; got 0"),
        ({"length": 0, "eval_lengths": (4,)}, r"length must be >= 1; got 0"),
        ({"skip": 20}, r"skip must be in \[0, length=20\).*got 20"),
        ({"d": 25}, r"skip must be in \[0, length=20\).*got 25"),
        ({"skip": -1}, r"skip must be in \[0, length=20\).*got -1"),
        ({"noise_std": -0.1}, r"noise_std must be >= 0; got -0.1"),
        ({"eval_lengths": (10, 40)}, r"eval_lengths must all exceed length=20; got 10"),
        ({"solved_at": 0.0}, r"solved_at must be in \(0, 1\]; got 0.0"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused(NAME, params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task(NAME, 24)
    checks.assert_solves_every_length(task, 64, task.least_squares_baseline, above=0.9999)
    assert get_task(NAME, skip="none").skipped == 5 and get_task(NAME, skip="2").skipped == 2  # CLI strings
