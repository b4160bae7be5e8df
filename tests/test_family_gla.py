"""Gated Linear Attention: the decayed linear-attention op against the paper's recurrence (a per-step loop
written here) and flash-linear-attention's `naive_recurrent_gla`; chunked = recurrent = stepped; the gate's
range; exact state sizes."""

from __future__ import annotations

import pytest
import torch

from architectures.decayed_linear_attention import decayed_chunked, decayed_recurrent
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size
from tests.family_references import fla_naive

SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=8, max_seq_len=40, input_dim=3, output_dim=2)


def paper_gla(q, k, v, alpha):
    """The paper's recurrence, slowest form: per batch, head and step, `S` a `(d_k, d_v)` matrix,
    `S_t = diag(alpha_t) S_{t-1} + k_t v_t^T`, `o_t = S_t^T q_t`."""
    batch, heads, length, d_k = q.shape
    out = torch.zeros(*q.shape[:3], v.shape[-1], dtype=q.dtype)
    for b in range(batch):
        for h in range(heads):
            S = torch.zeros(d_k, v.shape[-1], dtype=q.dtype)
            for t in range(length):
                S = torch.diag(alpha[b, h, t]) @ S + torch.outer(k[b, h, t], v[b, h, t])
                out[b, h, t] = S.T @ q[b, h, t]
    return out


def random_inputs(seed: int, batch=2, heads=3, length=37, d_k=5, d_v=4, dtype=torch.float64, strongest=-3.0):
    g = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(batch, heads, length, d_k, generator=g, dtype=dtype) for _ in range(2))
    v = torch.randn(batch, heads, length, d_v, generator=g, dtype=dtype)
    log_alpha = strongest * torch.rand(batch, heads, length, d_k, generator=g, dtype=dtype)
    return q, k, v, log_alpha


@pytest.mark.parametrize("chunk_size", [1, 8, 16, 64])
@pytest.mark.parametrize("strongest", [-3.0, -60.0])
def test_chunked_and_recurrent_ops_equal_the_paper_recurrence(chunk_size: int, strongest: float) -> None:
    """float64, 1e-10; decays down to exp(-60) per step must not overflow the chunked form."""
    q, k, v, log_alpha = random_inputs(0, strongest=strongest)
    expected = paper_gla(q, k, v, log_alpha.exp())
    recurrent, final_r = decayed_recurrent(q, k, v, log_alpha)
    chunked, final_c = decayed_chunked(q, k, v, log_alpha, chunk_size)
    assert torch.isfinite(chunked).all()
    assert (recurrent - expected).abs().max() < 1e-10
    assert (chunked - expected).abs().max() < 1e-10
    assert (final_c - final_r).abs().max() < 1e-10


def test_chunked_op_gradients_equal_the_recurrent_ones() -> None:
    inputs = [t.requires_grad_() for t in random_inputs(1, length=20)]
    grads = [
        torch.autograd.grad(fn(*inputs)[0].sin().sum(), inputs)
        for fn in (decayed_recurrent, lambda *a: decayed_chunked(*a, chunk_size=8))
    ]
    for a, b in zip(*grads):
        assert (a - b).abs().max() < 1e-10


def test_matches_flash_linear_attention_naive_recurrent_gla() -> None:
    """fla's `naive_recurrent_gla`: `(B, T, H, K)` tensors, `gk` = log alpha, `q` scaled by `K ** -0.5` inside, float32."""
    naive = fla_naive("gla")
    q, k, v, log_alpha = random_inputs(2, d_k=8, dtype=torch.float32)
    ours, final = decayed_chunked(q * 8**-0.5, k, v, log_alpha, chunk_size=16)
    ref, ref_final = naive.naive_recurrent_gla(
        *(t.transpose(1, 2) for t in (q, k, v, log_alpha)), output_final_state=True
    )
    assert (ours - ref.transpose(1, 2)).abs().max() < 1e-5
    assert (final - ref_final).abs().max() < 1e-5


@pytest.mark.parametrize("options", [{}, {"output_gate": False, "expand_k": 1.0}, {"gate_logit_normalizer": 1}])
def test_chunk_recurrent_and_step_forms_agree(options: dict) -> None:
    x = torch.randn(2, 37, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    outputs = []
    for mode in ("chunk", "recurrent"):
        torch.manual_seed(0)
        model = build_architecture("gla", SPEC, d_model=16, heads=2, mode=mode, chunk_size=8, **options).double().eval()
        with torch.no_grad():
            outputs += [model(x), model.recurrent_forward(x)]
    for other in outputs[1:]:
        assert (other - outputs[0]).abs().max() < 1e-10


def test_decay_is_a_sigmoid_to_the_power_one_over_tau() -> None:
    """alpha = sigmoid(gate logits)^(1/16): in (0, 1), and never below sigmoid(logits) (decays stay near 1)."""
    mixer = build_architecture("gla", SPEC, d_model=16, heads=2).blocks[0].mixer
    x = 3 * torch.randn(9, 16)
    with torch.no_grad():
        log_alpha = mixer._inputs(x)[3].flatten(-2)
        logits = mixer.gk_proj(x)
    assert torch.allclose(log_alpha.exp(), torch.sigmoid(logits) ** (1 / 16), atol=1e-6)
    assert (log_alpha < 0).all() and (log_alpha.exp() >= torch.sigmoid(logits)).all()


@pytest.mark.parametrize(("d_model", "heads", "expand_k"), [(16, 2, 0.5), (24, 3, 1.0)])
def test_state_size_counts_exactly_what_step_carries(d_model: int, heads: int, expand_k: float) -> None:
    model = build_architecture("gla", SPEC, d_model=d_model, heads=heads, expand_k=expand_k, layers=3)
    expected = 3 * heads * int(expand_k * d_model / heads) * (d_model // heads)
    assert state_size(model) == expected
    _, matrix = model.blocks[0].mixer.step(torch.randn(4, d_model), None)
    assert 3 * matrix.numel() // 4 == expected


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"d_model": 12, "heads": 4}, r"expand_k \* d_model=6 must be integers divisible by heads=4"),
        ({"mode": "parallel"}, "mode'? must be one of chunk, recurrent; got 'parallel'"),
        ({"gate_logit_normalizer": 0}, "gate_logit_normalizer must be a positive integer; got 0"),
    ],
)
def test_bad_hyper_parameters_are_one_line_errors(params: dict, match: str) -> None:
    with pytest.raises(ArchbenchError, match=match):
        build_architecture("gla", SPEC, **params)
