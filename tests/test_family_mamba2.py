"""Mamba-2: the SSD chunked form equals the recurrence and a per-step transcription of the paper's
recurrence; the whole mixer equals transformers' `Mamba2Mixer` torch path with the same weights."""

from __future__ import annotations

import pytest
import torch

from architectures.mamba2 import Mamba2Mixer, segment_sum, ssd_chunked, ssd_recurrent
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=12, max_seq_len=12, vocab_size=5, num_classes=3)


def ssd_inputs(
    batch: int = 2,
    length: int = 11,
    heads: int = 4,
    head_dim: int = 3,
    d_state: int = 5,
    groups: int = 2,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, heads, head_dim, generator=g, dtype=dtype)
    dt = torch.nn.functional.softplus(torch.randn(batch, length, heads, generator=g, dtype=dtype))
    A = -torch.rand(heads, generator=g, dtype=dtype) * 2 - 0.1
    B = torch.randn(batch, length, groups, d_state, generator=g, dtype=dtype)
    C = torch.randn(batch, length, groups, d_state, generator=g, dtype=dtype)
    return x, dt, A, B, C


def slow_ssd(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, signed: bool
) -> torch.Tensor:
    """The paper's recurrence, one head and one step at a time: a = exp(dt A) (or 2 exp(dt A) - 1),
    H_t = a H_{t-1} + dt B_t x_tᵀ (d_state x head_dim), y_t = H_tᵀ C_t."""
    batch, length, heads, head_dim = x.shape
    per_group = heads // B.shape[2]
    y = torch.zeros_like(x)
    for b in range(batch):
        for h in range(heads):
            state = torch.zeros(B.shape[-1], head_dim, dtype=x.dtype)
            for t in range(length):
                a = torch.exp(dt[b, t, h] * A[h])
                if signed:
                    a = 2 * a - 1
                g = h // per_group
                state = a * state + dt[b, t, h] * torch.outer(B[b, t, g], x[b, t, h])
                y[b, t, h] = state.T @ C[b, t, g]
    return y


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("chunk_size", [1, 4, 11, 16])
def test_chunked_and_recurrent_forms_equal_the_slow_loop(signed: bool, chunk_size: int) -> None:
    x, dt, A, B, C = ssd_inputs()
    reference = slow_ssd(x, dt, A, B, C, signed)
    chunked = ssd_chunked(x, dt, A, B, C, chunk_size, signed)
    recurrent = ssd_recurrent(x, dt, A, B, C, signed)
    assert (chunked - reference).abs().max() < 1e-10
    assert (recurrent - reference).abs().max() < 1e-10


def test_signed_decays_are_negative_for_large_steps() -> None:
    """With a large dt the signed decay is near -1, so the state flips sign each step (what parity needs)."""
    x, dt, A, B, C = ssd_inputs(length=6, groups=1)
    dt = torch.full_like(dt, 50.0)
    y = ssd_chunked(
        torch.zeros_like(x).index_fill(1, torch.tensor([0]), 1.0), dt, A, B, torch.ones_like(C), 4, signed=True
    )
    signs = torch.sign(y[:, :, 0, 0])  # one component: a fixed state read out, flipping sign
    assert torch.equal(signs[:, 1:], -signs[:, :-1])


def test_segment_sum_is_the_sum_over_the_segment() -> None:
    x = torch.randn(3, 6, dtype=torch.float64)
    out = segment_sum(x)
    for i in range(6):
        for j in range(6):
            expected = x[:, j + 1 : i + 1].sum(-1) if i >= j else torch.full((3,), -torch.inf, dtype=torch.float64)
            assert torch.allclose(out[:, i, j], expected)


def test_gradients_of_chunked_and_recurrent_forms_agree() -> None:
    inputs = [t.requires_grad_() for t in ssd_inputs(length=9)]
    grads = []
    for run in (lambda *a: ssd_chunked(*a, chunk_size=4, signed=True), lambda *a: ssd_recurrent(*a, signed=True)):
        out = run(*inputs)
        grads.append(torch.autograd.grad(out.square().sum(), inputs))
    for g_chunked, g_recurrent in zip(*grads):
        assert torch.allclose(g_chunked, g_recurrent, atol=1e-9)


def test_core_scan_matches_transformers_chunk_scan() -> None:
    """transformers' reference `mamba2_chunk_scan` (the torch fallback of mamba-ssm's chunk scan), fed
    dt after softplus and no dt_bias, computes y + D x in float32."""
    modeling = pytest.importorskip("transformers.models.mamba2.modeling_mamba2")
    x, dt, A, B, C = ssd_inputs(length=13, dtype=torch.float32, seed=3)
    D = torch.randn(A.shape[0])
    expected = modeling.mamba2_chunk_scan(x, dt, A, B, C, chunk_size=4, D=D)
    ours = ssd_chunked(x, dt, A, B, C, 5) + D[:, None] * x
    assert (ours - expected).abs().max() < 2e-5


@pytest.mark.parametrize("mode", ["chunked", "sequential"])
def test_mixer_matches_transformers_mamba2_mixer(mode: str) -> None:
    """The whole block (projections, causal conv on x, B, C, gate, gated RMSNorm) with transformers'
    weights: parameter names are the same, so its state dict loads strictly."""
    modeling = pytest.importorskip("transformers.models.mamba2.modeling_mamba2")
    from transformers import Mamba2Config

    torch.manual_seed(0)
    config = Mamba2Config(
        hidden_size=16,
        num_heads=8,
        head_dim=4,
        state_size=6,
        expand=2,
        n_groups=2,
        conv_kernel=4,
        chunk_size=8,
        layer_norm_epsilon=1e-5,
        num_hidden_layers=1,
    )
    theirs = modeling.Mamba2Mixer(config, layer_idx=0).eval()
    ours = Mamba2Mixer(
        16, d_state=6, d_conv=4, expand=2, heads=8, groups=2, chunk_size=8, mode=mode, negative_eigenvalues=False
    ).eval()
    with torch.no_grad():
        for p in theirs.parameters():  # random values everywhere, so no parameter goes untested
            p.copy_(torch.randn_like(p) * 0.5)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 19, 16)
    with torch.no_grad():
        assert (ours(x) - theirs(x)).abs().max() < 1e-4


def test_mixer_step_equals_forward_with_signed_decays_and_groups() -> None:
    torch.manual_seed(1)
    mixer = Mamba2Mixer(
        16, d_state=4, d_conv=3, expand=2, heads=4, groups=2, chunk_size=5, mode="chunked", negative_eigenvalues=True
    ).double()
    x = torch.randn(2, 13, 16, dtype=torch.float64)
    state = None
    steps = []
    for x_t in x.unbind(1):
        y_t, state = mixer.step(x_t, state)
        steps.append(y_t)
    assert (torch.stack(steps, 1) - mixer(x)).abs().max() < 1e-10


def test_inner_width_is_rounded_up_to_whole_heads() -> None:
    mixer = build_architecture("mamba2", SPEC, d_model=10, layers=1, heads=8).blocks[0].mixer
    assert (mixer.d_inner, mixer.head_dim) == (24, 3)  # 2 * 10 = 20, rounded up to 3 per head


def test_model_modes_agree_and_state_size_counts_ssm_and_conv() -> None:
    torch.manual_seed(0)
    chunked = build_architecture("mamba2", SPEC, d_model=16, layers=2, heads=4, d_state=4, chunk_size=5).double()
    sequential = build_architecture(
        "mamba2", SPEC, d_model=16, layers=2, heads=4, d_state=4, mode="sequential"
    ).double()
    sequential.load_state_dict(chunked.state_dict())
    x = torch.randint(0, 5, (3, 12))
    with torch.no_grad():
        assert (chunked(x) - sequential(x)).abs().max() < 1e-10
        assert (chunked(x) - chunked.recurrent_forward(x)).abs().max() < 1e-10
    # per layer: d_inner * d_state = 32 * 4, plus (d_inner + 2 * d_state) * (d_conv - 1) = 40 * 3
    assert state_size(chunked) == 2 * (32 * 4 + 40 * 3)


@pytest.mark.parametrize(
    ("hparams", "fragment"),
    [
        ({"heads": 0}, "heads must be a positive integer; got 0"),
        ({"groups": 3}, "heads=8 must be divisible by groups=3"),
        ({"mode": "parallel"}, "'mode' must be one of chunked, sequential; got 'parallel'"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer; got 0"),
    ],
)
def test_bad_hyper_parameters_name_the_value(hparams: dict, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        build_architecture("mamba2", SPEC, **hparams)
