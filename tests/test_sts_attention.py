"""`sts_attention`, the paper-form model of Wang, Wei, Hsu, Lee 2024: its forward equals the hand-computed
attention average, it reads only its layout (refused elsewhere at planning), its alignment diagnostic is
the cosine with the identity and reaches the run record, and the plain gradient-descent option trains it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import pytest
import torch

from architectures.sts_attention import STSAttention
from bench import ArchbenchError, build_architecture, get_task
from bench.contract.model import diagnostics
from bench.run.plan import plan
from bench.run.profiles import get_profile
from bench.train.config import TrainConfig
from bench.train.harness import BenchModule, run_one
from tasks.sparse_token_selection import random_codes


def model_for(task, gamma: float | None = None) -> STSAttention:
    torch.manual_seed(0)
    model = cast(STSAttention, build_architecture("sts_attention", task.spec()))
    if gamma is not None:
        with torch.no_grad():
            model.W.copy_(gamma * torch.eye(task.code_dim))
    return model.eval()


def test_forward_on_a_hand_set_example_equals_the_hand_computed_average() -> None:
    """T = 3 data tokens (d = 1) with codes e1, e2, e3, the query code (e1 + e3) / 2, W = 2 I: the query's
    scores are (1, 0, 1), so the output is (e x1 + x2 + e x3) / (2e + 1)."""
    task = get_task("sparse_token_selection", d=1, q=2, code_dim=3, length=3, eval_lengths=(4,))
    model = model_for(task, gamma=2.0)
    x = torch.zeros(1, 4, 1 + 3 + 1)
    x[0, :3, 0] = torch.tensor([1.0, 10.0, 100.0])
    x[0, :3, 1:4] = torch.eye(3)
    x[0, 3, 1:4] = torch.tensor([0.5, 0.0, 0.5])
    x[0, 3, -1] = 1.0
    with torch.no_grad():
        out = model(x)[0, :, 0]
    e = math.e
    assert out[3].item() == pytest.approx((e * 1 + 10 + e * 100) / (2 * e + 1), rel=1e-6)
    # data position t attends to data tokens s <= t with score c_t^T W c_s = 2 [s == t]
    assert out[0].item() == pytest.approx(1.0)
    assert out[1].item() == pytest.approx((e**2 * 10 + 1) / (e**2 + 1), rel=1e-6)


@pytest.mark.parametrize("codes", ["stochastic", "fixed"])
def test_forward_on_task_batches_equals_the_softmax_average_over_data_tokens(codes: str) -> None:
    """W = gamma I on a real batch: the query output is sum_s softmax_s(gamma c_q . c_s) x_s over the data
    tokens only (the query does not attend to itself), computed here token by token."""
    task = get_task("sparse_token_selection", codes=codes)
    batch = task.sample(4, 16, torch.Generator().manual_seed(1000))
    model = model_for(task, gamma=5.0)
    with torch.no_grad():
        out = model(batch.x)[:, -1]
    d, k = task.d, task.code_dim
    for i in range(4):
        query = batch.x[i, -1, d : d + k]
        scores = torch.stack([5.0 * query @ batch.x[i, s, d : d + k] for s in range(16)])
        expected = sum(w * batch.x[i, s, :d] for s, w in enumerate(scores.softmax(0)))
        assert torch.allclose(out[i], expected, atol=1e-5)


def test_a_large_multiple_of_the_identity_solves_the_task_at_every_length_up_to_the_code_dimension() -> None:
    """The ground-truth direction: with orthonormal stochastic codes, W = gamma I with gamma large puts
    weight 1/q on each selected token, at any length up to code_dim."""
    task = get_task("sparse_token_selection")
    model = model_for(task, gamma=60.0)
    for length in (16, 32, 64):
        batch = task.sample(256, length, torch.Generator().manual_seed(1001))
        with torch.no_grad():
            error = (model(batch.x)[:, -1] - batch.y[:, -1]).pow(2).sum(-1).mean()
        variance = batch.y[:, -1].pow(2).sum(-1).mean()
        assert 1 - error / variance > 0.999, length


def test_causal_and_the_query_reads_no_value_of_its_own() -> None:
    task = get_task("sparse_token_selection", code_dim=16)
    model = model_for(task)
    batch = task.sample(2, 16, torch.Generator().manual_seed(1002))
    with torch.no_grad():
        base = model(batch.x)
        later = batch.x.clone()
        later[:, 10:, :] += 1.0  # change positions 10 and later (their flags stay 0/1 apart)
        assert torch.allclose(model(later)[:, :10], base[:, :10])
        own = batch.x.clone()
        own[:, -1, : task.d] = 7.0  # the query's data slot is not a value
        assert torch.allclose(model(own)[:, -1], base[:, -1])


def test_size_is_the_code_dimension_squared_and_init_std_zero_is_uniform_attention() -> None:
    task = get_task("sparse_token_selection", code_dim=12)
    model = cast(STSAttention, build_architecture("sts_attention", task.spec(), init_std=0.0))
    assert sum(p.numel() for p in model.parameters()) == 144 and torch.equal(model.W, torch.zeros(12, 12))
    batch = task.sample(3, 16, torch.Generator().manual_seed(1003))
    with torch.no_grad():
        assert torch.allclose(model(batch.x)[:, -1], batch.x[:, :16, : task.d].mean(1), atol=1e-6)
    with pytest.raises(ArchbenchError, match="init_std must be >= 0"):
        build_architecture("sts_attention", task.spec(), init_std=-1.0)


def test_alignment_is_the_cosine_with_the_identity() -> None:
    task = get_task("sparse_token_selection", code_dim=16)
    assert diagnostics(model_for(task, gamma=3.0)) == pytest.approx({"alignment": 1.0, "w_norm": 12.0, "w_scale": 3.0})
    model = model_for(task)
    w = model.W.detach()
    expected = float(torch.trace(w) / (w.norm() * 4.0))
    assert diagnostics(model)["alignment"] == pytest.approx(expected)
    with torch.no_grad():
        model.W.copy_(-torch.eye(16))
    assert diagnostics(model)["alignment"] == pytest.approx(-1.0)


def test_refused_on_a_task_with_another_layout_naming_the_supported_one() -> None:
    with pytest.raises(ArchbenchError) as refused:
        plan("mqar", ["sts_attention"], get_profile("smoke"))
    message = str(refused.value)
    assert "\n" not in message and "'mqar'" in message and "sparse_token_selection" in message
    assert plan("sparse_token_selection", ["sts_attention"], get_profile("smoke"))  # admitted on its own task


def test_plain_gradient_descent_option_keeps_the_old_run_keys() -> None:
    """`optimizer` joined TrainConfig after runs were stored: at its default it stays out of the dict (and
    the key); "sgd" is one plain step lr * gradient."""
    assert "optimizer" not in TrainConfig().to_dict()
    assert TrainConfig(optimizer="sgd").to_dict()["optimizer"] == "sgd"
    with pytest.raises(ArchbenchError, match="optimizer must be one of adamw, sgd"):
        TrainConfig(optimizer="lbfgs")
    task = get_task("sparse_token_selection", code_dim=8)
    config = TrainConfig(optimizer="sgd", lr=0.5, weight_decay=0.0, grad_clip=0.0)
    model = cast(STSAttention, build_architecture("sts_attention", task.spec()))
    optimizer = BenchModule(model, task, task.spec(), config).configure_optimizers()
    assert type(optimizer) is torch.optim.SGD
    batch = task.sample(8, 16, torch.Generator().manual_seed(1004))
    before = model.W.detach().clone()
    loss = (model(batch.x)[:, -1] - batch.y[:, -1]).pow(2).sum(-1).mean()
    loss.backward()
    assert model.W.grad is not None
    grad = model.W.grad.detach().clone()
    optimizer.step()
    assert torch.allclose(model.W.detach(), before - 0.5 * grad)


def test_the_harness_stores_loss_and_alignment_at_every_validation(tmp_path: Path) -> None:
    task = get_task("sparse_token_selection", code_dim=16, eval_lengths=(32,))
    config = TrainConfig(
        steps=30, batch_size=16, lr=20.0, eval_every=10, val_samples=64, test_samples=64, optimizer="sgd",
        weight_decay=0.0, grad_clip=0.0, early_stop=False,
    )  # fmt: skip
    metrics = run_one(task, lambda spec: build_architecture("sts_attention", spec), config, seed=1000)
    assert [s for s, _ in metrics["val_loss_history"]] == [10, 20, 30]
    assert [s for s, _ in metrics["diagnostics_history"]] == [10, 20, 30]
    assert all(set(d) == {"alignment", "w_norm", "w_scale"} for _, d in metrics["diagnostics_history"])
    losses = [v for _, v in metrics["val_loss_history"]]
    assert losses[-1] < losses[0]  # gradient descent lowers the held-out loss
    # the validation loss and r2 describe the same predictions: r2 = 1 - loss / E|y|^2 (E|y|^2 = d / q)
    for (_, loss), (_, r2) in zip(metrics["val_loss_history"], metrics["val_history"]):
        assert r2 == pytest.approx(1 - loss / (task.d / task.q), abs=0.15)
    attention = run_one(task, lambda spec: build_architecture("attention1", spec, d_model=8), config, seed=1000)
    assert "diagnostics_history" not in attention and len(attention["val_loss_history"]) == 3


def test_random_codes_beyond_the_code_dimension_are_unit_vectors() -> None:
    """Lengths beyond code_dim (evaluated on the seed-paper page) get near-orthogonal unit codes."""
    codes = random_codes(2, 40, 16, torch.Generator().manual_seed(1005))
    assert torch.allclose(codes.norm(dim=-1), torch.ones(2, 40), atol=1e-5)
    gram = codes[:, :16] @ codes[:, :16].transpose(1, 2)
    assert torch.allclose(gram, torch.eye(16).expand(2, 16, 16), atol=1e-5)


def test_a_default_sweep_leaves_layout_bound_families_out_of_other_tasks() -> None:
    from bench.run.admission import layout_fits

    assert layout_fits("sts_attention", get_task("sparse_token_selection").spec())
    assert not layout_fits("sts_attention", get_task("mqar").spec())
    assert layout_fits("transformer", get_task("mqar").spec())
