"""Sparse token selection: semantics checked independently of any model (brute force, hand-set attention)."""

from __future__ import annotations

import itertools

import pytest
import task_checks as checks
import torch

from bench import get_task
from bench.train.data import fixed_set


@pytest.mark.parametrize("codes", ["stochastic", "fixed", "onehot"])
def test_target_equals_brute_force_mean_of_selected_tokens(codes: str) -> None:
    """Recover S by trying every q-subset against the query code, then recompute the target."""
    task = get_task("sparse_token_selection", d=4, q=2, code_dim=16, codes=codes, length=6, eval_lengths=(8,))
    batch = task.sample(20, 6, torch.Generator().manual_seed(3))
    d, k = task.d, task.code_dim
    for x, y, mask in zip(*batch):
        assert mask.tolist() == [False] * 6 + [True]
        assert x[6, -1] == 1 and torch.all(x[6, :d] == 0) and torch.all(x[:6, -1] == 0)
        codes_, query = x[:6, d : d + k], x[6, d : d + k]
        matches = [
            s for s in itertools.combinations(range(6), 2) if torch.allclose(codes_[list(s)].mean(0), query, atol=1e-6)
        ]
        assert len(matches) == 1
        assert torch.allclose(y[6], x[list(matches[0]), :d].mean(0), atol=1e-6)


def handset_attention(task, batch, beta: float = 60.0) -> torch.Tensor:
    """The theory papers' solution: attention score beta * <query code, position code>, values = data."""
    d, k = task.d, task.code_dim
    data, codes, query = batch.x[:, :-1, :d], batch.x[:, :-1, d : d + k], batch.x[:, -1, d : d + k]
    weights = torch.softmax(beta * torch.einsum("ntk,nk->nt", codes, query), dim=1)
    preds = torch.zeros_like(batch.y)
    preds[:, -1] = torch.einsum("nt,ntd->nd", weights, data)
    return preds


def test_handset_attention_solves_every_length_with_stochastic_codes() -> None:
    task = get_task("sparse_token_selection", code_dim=64, eval_lengths=(32, 64))
    checks.assert_solves_every_length(task, 2000, lambda batch: handset_attention(task, batch), above=0.99, metric="r2")


def test_chance_baseline_mean_predictor_scores_zero() -> None:
    task = get_task("sparse_token_selection")
    batch = fixed_set(task, 4000, task.length, seed=0, stream="test")
    assert abs(checks.score(task, task.length, torch.zeros_like(batch.y), batch, "r2") - task.chance) < 0.02
    noise = torch.randn(batch.y.shape, generator=torch.Generator().manual_seed(0)) * batch.y[batch.mask].std()
    assert checks.score(task, task.length, noise, batch, "r2") < task.chance  # a random predictor is worse than chance


def test_codes_are_orthonormal_within_code_dim_and_fixed_codes_shared() -> None:
    stochastic = get_task("sparse_token_selection", code_dim=32, eval_lengths=(32,))
    fixed = get_task("sparse_token_selection", code_dim=32, codes="fixed", eval_lengths=(32,))
    for task in (stochastic, fixed):
        codes = task.position_codes(4, 32, torch.Generator().manual_seed(0))
        gram = codes @ codes.transpose(1, 2)
        assert torch.allclose(gram, torch.eye(32).expand_as(gram), atol=1e-5)
    s = stochastic.position_codes(2, 16, torch.Generator().manual_seed(0))
    assert not torch.allclose(s[0], s[1])  # fresh codes per sample
    f = fixed.position_codes(2, 16, torch.Generator().manual_seed(0))
    assert torch.equal(f[0], f[1])  # one code per position index, shared by all samples
    assert torch.equal(f[0, :8], fixed.position_codes(1, 8, torch.Generator())[0])  # independent of the length asked


def test_determinism_disjoint_streams_and_longer_ood() -> None:
    task = get_task("sparse_token_selection")
    checks.assert_deterministic_and_disjoint(task, 8, 16, same=torch.allclose)
    # `length` data tokens, then the query token
    checks.assert_ood_longer(task, 2, inputs="vectors", seq_len=lambda length: length + 1)


def test_onehot_needs_enough_code_dimensions() -> None:
    with pytest.raises(Exception, match="code_dim >= 128"):
        get_task("sparse_token_selection", codes="onehot", code_dim=64)
