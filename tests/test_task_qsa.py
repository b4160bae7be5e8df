"""qSA (many-query q-sparse averaging): semantics checked independently of any model."""

from __future__ import annotations

import itertools

import pytest
import task_checks as checks
import torch

from bench import get_task


def solve_prefix(task, prefix: torch.Tensor) -> torch.Tensor:
    """Reference solver that sees only x[:, :t+1]: average the data vectors whose code the query points at.

    With orthonormal codes <p_j, (1/q) sum_{i in S} p_i> is 1/q on S and 0 elsewhere, so thresholding at
    half of the largest score recovers S exactly.
    """
    d, k = task.d, task.code_dim
    is_data = prefix[:, :, -1] == 0  # (n, t+1); the data tokens come first
    data, codes, query = prefix[:, :, :d], prefix[:, :, d : d + k], prefix[:, -1, d : d + k]
    scores = torch.einsum("ntk,nk->nt", codes, query).masked_fill(~is_data, -1.0)
    selected = (scores > scores.max(dim=1, keepdim=True).values / 2).float()
    return torch.einsum("nt,ntd->nd", selected, data) / selected.sum(dim=1, keepdim=True)


def causal_predictions(task, batch) -> torch.Tensor:
    """Predictions at every masked position t, each computed from the prefix x[:, :t+1] alone."""
    preds = torch.zeros_like(batch.y)
    for t in range(batch.x.shape[1]):
        if batch.mask[:, t].any():
            assert batch.mask[:, t].all()  # every example has its queries at the same positions
            preds[:, t] = solve_prefix(task, batch.x[:, : t + 1])
    return preds


def test_targets_equal_brute_force_mean_of_pointed_tokens() -> None:
    """Recover every S_i by trying all q-subsets against query i's code, then average by hand."""
    task = get_task("qsa", d=3, q=2, code_dim=8, length=5, eval_lengths=(6,))
    T, d, k = 5, task.d, task.code_dim
    batch = task.sample(10, T, torch.Generator().manual_seed(3))
    subsets_seen = set()
    for x, y, mask in zip(*batch):
        assert mask.tolist() == [False] * T + [True] * T
        for j in range(T):  # data tokens: [x_j, p_j, 0]
            assert x[j, -1] == 0
        for i in range(T):  # query tokens: [0, code mean, 1]
            row = x[T + i]
            assert row[-1] == 1 and all(row[c] == 0 for c in range(d))
            matches = []
            for subset in itertools.combinations(range(T), 2):
                mean_code = [sum(float(x[j, d + c]) for j in subset) / 2 for c in range(k)]
                if all(abs(mean_code[c] - float(row[d + c])) < 1e-5 for c in range(k)):
                    matches.append(subset)
            assert len(matches) == 1
            subsets_seen.add(matches[0])
            expected = [sum(float(x[j, c]) for j in matches[0]) / 2 for c in range(d)]
            assert all(abs(expected[c] - float(y[T + i, c])) < 1e-5 for c in range(d))
    assert len(subsets_seen) > 5  # each query draws its own subset


def test_reference_solver_on_prefixes_reaches_r2_one_at_every_length() -> None:
    task = get_task("qsa")
    solved = checks.assert_solves_every_length(task, 128, lambda batch: causal_predictions(task, batch), above=1 - 1e-6)
    for _, batch, preds in solved:
        assert torch.allclose(preds[batch.mask], batch.y[batch.mask], atol=1e-4)


def test_chance_from_constant_and_random_predictors() -> None:
    task = get_task("qsa")
    _, test = checks.assert_mean_constant_at_chance(task, 1000, 0.01)  # the best constant: the mean target
    scale = test.y[test.mask].std()
    rng = torch.Generator().manual_seed(0)
    for s in (0.1, 1.0):  # independent noise of std s * target std scores r2 = -s^2, at best chance
        noise = torch.randn(test.y.shape, generator=rng) * scale * s
        r2 = checks.score(task, task.length, noise, test)
        assert abs(r2 - (task.chance - s**2)) < 0.02 + 0.05 * s**2
        assert r2 <= task.chance


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("qsa")
    checks.assert_deterministic_and_disjoint(task, 8, 16, same=torch.allclose)

    def check(length: int, spec, batch) -> None:
        assert spec.max_seq_len >= spec.seq_len  # every eval spec is built long enough for itself

    checks.assert_ood_longer(task, 2, check, inputs="vectors")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": 17}, r"q must be in \[1, length=16\].*got q=17"),
        ({"q": 0}, r"q must be > 0; got 0"),
        ({"d": 0}, r"d must be > 0; got 0"),
        ({"code_dim": 0}, r"code_dim must be > 0; got 0"),
        ({"length": 0}, r"length must be >= 1; got 0"),
        ({"eval_lengths": (8,)}, r"eval_lengths must all exceed length=16; got 8"),
        ({"solved_at": 1.5}, r"solved_at must be in \(0, 1\]; got 1.5"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    checks.assert_refused("qsa", params, message)


def test_smoke_profile_is_tiny_and_solvable() -> None:
    task = checks.smoke_task("qsa", 32)  # the paper setting is checked to be valid too
    assert max(task.all_lengths) <= 16
    checks.assert_solves_every_length(task, 16, lambda batch: causal_predictions(task, batch), above=1 - 1e-6)
