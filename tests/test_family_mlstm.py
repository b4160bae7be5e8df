"""mLSTM: the stabilised parallel and recurrent forms equal a per-step transcription of the paper's
(unstabilised) recurrence and xlstm's native PyTorch backends; the whole block equals xlstm's `mLSTMLayer`
with the same weights."""

from __future__ import annotations

import math

import pytest
import torch

from architectures.mlstm import MLSTMMixer, mlstm_parallel, mlstm_recurrent
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=12, max_seq_len=12, vocab_size=5, num_classes=3)


def cell_inputs(
    batch: int = 2,
    heads: int = 3,
    length: int = 10,
    d: int = 4,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
    gate_scale: float = 1.0,
) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, length, d, generator=g, dtype=dtype) for _ in range(3))
    i_pre, f_pre = (gate_scale * torch.randn(batch, heads, length, generator=g, dtype=dtype) for _ in range(2))
    return q, k, v, i_pre, f_pre


def slow_mlstm(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, i_pre: torch.Tensor, f_pre: torch.Tensor
) -> torch.Tensor:
    """The paper's recurrence without stabiliser, one head and one step at a time:
    C_t = f C + i v kᵀ, n_t = f n + i k, h_t = C_t q_t / max(|n_tᵀ q_t|, 1), i = exp(ĩ), f = σ(f̃), k / sqrt(d)."""
    batch, heads, length, d = q.shape
    out = torch.zeros_like(v)
    for b in range(batch):
        for h in range(heads):
            C = torch.zeros(d, d, dtype=q.dtype)
            n = torch.zeros(d, dtype=q.dtype)
            for t in range(length):
                i, f = torch.exp(i_pre[b, h, t]), torch.sigmoid(f_pre[b, h, t])
                key = k[b, h, t] / math.sqrt(d)
                C = f * C + i * torch.outer(v[b, h, t], key)
                n = f * n + i * key
                out[b, h, t] = C @ q[b, h, t] / torch.clamp((n @ q[b, h, t]).abs(), min=1.0)
    return out


@pytest.mark.parametrize("gate_scale", [1.0, 8.0])
def test_parallel_and_recurrent_forms_equal_the_slow_loop(gate_scale: float) -> None:
    """Large gate pre-activations (scale 8: exp(ĩ) up to ~e^30) are where the stabiliser matters."""
    inputs = cell_inputs(gate_scale=gate_scale)
    reference = slow_mlstm(*inputs)
    for form in (mlstm_parallel, mlstm_recurrent):
        out = form(*inputs, eps=0.0)
        assert ((out - reference).abs() / (1 + reference.abs())).max() < 1e-10, form.__name__


def test_stabilised_forms_survive_gates_that_overflow_unstabilised() -> None:
    """ĩ + 200 overflows exp in float32; stabilised, both forms stay finite and near the float64 result
    (relative 1e-3: the normaliser |nᵀq| can be small, which amplifies float32 rounding)."""
    inputs = list(cell_inputs(dtype=torch.float32))
    inputs[3] = inputs[3] + 200.0
    reference = mlstm_parallel(*[t.double() for t in inputs])
    for form in (mlstm_parallel, mlstm_recurrent):
        out = form(*inputs)
        assert torch.isfinite(out).all()
        assert ((out.double() - reference).abs() / (1 + reference.abs())).max() < 1e-3, form.__name__


def test_gradients_of_both_forms_agree() -> None:
    inputs = [t.requires_grad_() for t in cell_inputs(length=7)]
    grads = [torch.autograd.grad(form(*inputs).square().sum(), inputs) for form in (mlstm_parallel, mlstm_recurrent)]
    for g_parallel, g_recurrent in zip(*grads):
        assert torch.allclose(g_parallel, g_recurrent, atol=1e-9)


def test_cell_matches_xlstm_backends() -> None:
    """xlstm's `parallel_stabilized_simple` (gates as (B, H, T, 1)) against our parallel form, and its
    `recurrent_step_stabilized_simple` (which starts from m_0 = 0, ours from m_0 = -inf: the stabiliser
    cancels in the output, so only its eps term can differ) against our recurrence."""
    backends = pytest.importorskip("xlstm.blocks.mlstm.backends")
    q, k, v, i_pre, f_pre = cell_inputs(gate_scale=3.0)
    expected = backends.parallel_stabilized_simple(q, k, v, i_pre.unsqueeze(-1), f_pre.unsqueeze(-1))
    assert (mlstm_parallel(q, k, v, i_pre, f_pre) - expected).abs().max() < 1e-10
    C = torch.zeros(*q.shape[:2], q.shape[-1], q.shape[-1], dtype=q.dtype)
    n = torch.zeros(*q.shape[:2], q.shape[-1], 1, dtype=q.dtype)
    m = torch.zeros(*q.shape[:2], 1, 1, dtype=q.dtype)
    steps = []
    for t in range(q.shape[2]):
        h, (C, n, m) = backends.recurrent_step_stabilized_simple(
            C,
            n,
            m,
            q[:, :, t : t + 1].clone(),
            k[:, :, t : t + 1].clone(),
            v[:, :, t : t + 1].clone(),
            i_pre[:, :, t, None, None],
            f_pre[:, :, t, None, None],
        )
        steps.append(h.squeeze(2))
    ours = mlstm_recurrent(q, k, v, i_pre, f_pre)
    assert (ours - torch.stack(steps, dim=2)).abs().max() < 1e-5


def test_block_matches_xlstm_mlstm_layer() -> None:
    """xlstm's `mLSTMLayer` (float64; pre up-projection block: conv, headwise q/k/v, gates, cell, multi-head norm,
    learnable skip, SiLU output gate) with its weights mapped onto ours by name; its norm weight is
    stored as `w - 1` (it applies `1 + w`)."""
    layer = pytest.importorskip("xlstm.blocks.mlstm.layer")
    torch.manual_seed(0)
    theirs = layer.mLSTMLayer(layer.mLSTMLayerConfig(embedding_dim=32, num_heads=4, context_length=11)).eval().double()
    ours = MLSTMMixer(32, heads=4, expand=2, d_conv=4, qkv_block=4, mode="parallel", layers=1).eval().double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    sd = theirs.state_dict()
    names = {
        "conv1d.conv.weight": "conv1d.weight",
        "conv1d.conv.bias": "conv1d.bias",
        "learnable_skip": "skip",
        "mlstm_cell.outnorm.weight": "outnorm_weight",
    }
    mapped = {names.get(key, key.removeprefix("mlstm_cell.")): value for key, value in sd.items()}
    mapped["outnorm_weight"] = 1.0 + mapped["outnorm_weight"]
    ours.load_state_dict(mapped, strict=True)
    x = torch.randn(2, 11, 32, dtype=torch.float64)
    with torch.no_grad():
        expected = theirs(x)
        assert (ours(x) - expected).abs().max() < 1e-10
        ours.mode = "sequential"
        assert (ours(x) - expected).abs().max() < 1e-10


def test_step_equals_forward_and_state_size_counts_c_n_m_and_conv() -> None:
    torch.manual_seed(0)
    model = build_architecture("mlstm", SPEC, d_model=8, layers=2, heads=2).double()
    x = torch.randint(0, 5, (3, 12))
    sequential = build_architecture("mlstm", SPEC, d_model=8, layers=2, heads=2, mode="sequential").double()
    sequential.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert (model(x) - model.recurrent_forward(x)).abs().max() < 1e-10
        assert (model(x) - sequential(x)).abs().max() < 1e-10
    # per layer: d_inner = 16, 2 heads of d_head 8: 2 * (64 + 8 + 1), plus 16 * 3 conv inputs
    assert state_size(model) == 2 * (2 * (64 + 8 + 1) + 16 * 3)


@pytest.mark.parametrize(
    ("hparams", "fragment"),
    [
        ({"heads": 3}, "expand \\* d_model = 128 must be divisible by heads=3"),
        ({"qkv_block": 5}, "must be divisible by qkv_block=5"),
        ({"mode": "chunked"}, "'mode' must be one of parallel, sequential; got 'chunked'"),
    ],
)
def test_bad_hyper_parameters_name_the_value(hparams: dict, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        build_architecture("mlstm", SPEC, **hparams)
