"""DeltaNet and Gated DeltaNet: the delta-rule op against the paper's recurrence (a per-step loop written
here) and the installed references (flash-linear-attention's naive ops, transformers' Qwen3-Next torch
fallbacks); chunked = recurrent = stepped; the beta range behind `eigenvalues`; exact state sizes."""

from __future__ import annotations

import math

import pytest
import torch

from architectures.delta_rule import delta_rule_chunked, delta_rule_recurrent, l2_normalize
from architectures.deltanet import beta_from_logits
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size
from tests.family_references import fla_naive

FAMILIES = ("deltanet", "gated_deltanet")
SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=8, max_seq_len=40, input_dim=3, output_dim=2)


def paper_delta_rule(q, k, v, beta, alpha=None):
    """The paper's recurrence, slowest form: per batch, head and step, `S` a `(d_v, d_k)` matrix,
    `S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T`, `o_t = S_t q_t` (`alpha = 1`: DeltaNet)."""
    batch, heads, length, d_k = q.shape
    out = torch.zeros(*q.shape[:3], v.shape[-1], dtype=q.dtype)
    eye = torch.eye(d_k, dtype=q.dtype)
    for b in range(batch):
        for h in range(heads):
            S = torch.zeros(v.shape[-1], d_k, dtype=q.dtype)
            for t in range(length):
                kt, vt, bt = k[b, h, t], v[b, h, t], beta[b, h, t]
                a = 1.0 if alpha is None else alpha[b, h, t]
                S = a * S @ (eye - bt * torch.outer(kt, kt)) + bt * torch.outer(vt, kt)
                out[b, h, t] = S @ q[b, h, t]
    return out


def random_inputs(seed: int, batch=2, heads=3, length=37, d_k=5, d_v=4, dtype=torch.float64, beta_max=2.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, length, d_k, generator=g, dtype=dtype)
    k = l2_normalize(torch.randn(batch, heads, length, d_k, generator=g, dtype=dtype))
    v = torch.randn(batch, heads, length, d_v, generator=g, dtype=dtype)
    beta = beta_max * torch.rand(batch, heads, length, generator=g, dtype=dtype)
    log_alpha = -2.0 * torch.rand(batch, heads, length, generator=g, dtype=dtype)
    return q, k, v, beta, log_alpha


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("chunk_size", [1, 8, 16, 64])
def test_chunked_and_recurrent_ops_equal_the_paper_recurrence(gated: bool, chunk_size: int) -> None:
    """float64, beta anywhere in (0, 2), a length that no chunk size divides: agreement to 1e-10."""
    q, k, v, beta, log_alpha = random_inputs(0)
    log_decay = log_alpha if gated else None
    expected = paper_delta_rule(q, k, v, beta, log_alpha.exp() if gated else None)
    recurrent, final_r = delta_rule_recurrent(q, k, v, beta, log_decay)
    chunked, final_c = delta_rule_chunked(q, k, v, beta, log_decay, chunk_size=chunk_size)
    assert (recurrent - expected).abs().max() < 1e-10
    assert (chunked - expected).abs().max() < 1e-10
    assert (final_c - final_r).abs().max() < 1e-10


def test_chunked_op_gradients_equal_the_recurrent_ones() -> None:
    inputs = [t.requires_grad_() for t in random_inputs(1, length=20)]
    q, k, v, beta, log_alpha = inputs
    grads = []
    for fn in (
        lambda: delta_rule_recurrent(q, k, v, beta, log_alpha)[0],
        lambda: delta_rule_chunked(q, k, v, beta, log_alpha, 8)[0],
    ):
        grads.append(torch.autograd.grad(fn().sin().sum(), inputs))
    for a, b in zip(*grads):
        assert (a - b).abs().max() < 1e-10


def test_delta_rule_matches_flash_linear_attention_naive_ops() -> None:
    """fla's `delta_rule_recurrence` / `delta_rule_chunkwise` (float32 inside, `q` scaled by `d_k ** -0.5`
    inside; the chunkwise one needs a length that is a multiple of its chunk)."""
    naive = fla_naive("delta_rule")
    q, k, v, beta, _ = random_inputs(2, length=32, d_k=8, d_v=8, dtype=torch.float32, beta_max=1.0)
    ours, _ = delta_rule_recurrent(q * 8**-0.5, k, v, beta)
    ref_recurrent, _ = naive.delta_rule_recurrence(q, k, v, beta)
    ref_chunk, _ = naive.delta_rule_chunkwise(q, k, v, beta, chunk_size=16)
    assert (ours - ref_recurrent).abs().max() < 1e-5
    assert (ours - ref_chunk).abs().max() < 1e-5
    ours_2, _ = delta_rule_chunked(q * 8**-0.5, k, v, 2 * beta, chunk_size=16)  # beta in (0, 2): fla's allow_neg_eigval
    assert (ours_2 - naive.delta_rule_recurrence(q, k, v, 2 * beta)[0]).abs().max() < 1e-5


def test_gated_delta_rule_matches_flash_linear_attention_naive_ops() -> None:
    """fla's gated naive ops take `(B, T, H, K)` tensors, `g` = log alpha, and an explicit `scale` (1 here)."""
    naive = fla_naive("gated_delta_rule")
    q, k, v, beta, log_alpha = random_inputs(3, dtype=torch.float32, beta_max=2.0)
    ours, final = delta_rule_recurrent(q, k, v, beta, log_alpha)
    t = [x.transpose(1, 2) for x in (q, k, v, beta, log_alpha)]
    ref, ref_final = naive.naive_recurrent_gated_delta_rule(
        *t[:3], beta=t[3], g=t[4], scale=1.0, output_final_state=True
    )
    assert (ours - ref.transpose(1, 2)).abs().max() < 1e-5 and (final - ref_final).abs().max() < 1e-5
    ref_chunk, _ = naive.naive_chunk_gated_delta_rule(*t[:3], g=t[4], beta=t[3], chunk_size=16, scale=1.0)
    assert (ours - ref_chunk.transpose(1, 2)).abs().max() < 1e-5


@pytest.fixture(scope="module")
def qwen3_next():
    return pytest.importorskip("transformers.models.qwen3_next.modeling_qwen3_next")


def test_gated_delta_rule_matches_transformers_torch_fallbacks(qwen3_next) -> None:
    """transformers' `torch_chunk_gated_delta_rule` / `torch_recurrent_gated_delta_rule` (Qwen3-Next):
    `(B, T, H, K)`, `g` = log alpha, `q` always scaled by `d_k ** -0.5` inside."""
    q, k, v, beta, log_alpha = random_inputs(4, d_k=8, dtype=torch.float32, beta_max=2.0)
    ours, _ = delta_rule_chunked(q * 8**-0.5, k, v, beta, log_alpha, chunk_size=16)
    t = [x.transpose(1, 2) for x in (q, k, v, beta, log_alpha)]
    chunk, _ = qwen3_next.torch_chunk_gated_delta_rule(*t[:3], g=t[4], beta=t[3], chunk_size=16)
    recurrent, _ = qwen3_next.torch_recurrent_gated_delta_rule(*t[:3], g=t[4], beta=t[3])
    assert (ours - chunk.transpose(1, 2)).abs().max() < 1e-5
    assert (ours - recurrent.transpose(1, 2)).abs().max() < 1e-5


# ---------------------------------------------------------------------------------------------
# the beta range: eigenvalues of I - beta k k^T


def test_beta_range_is_sigmoid_or_twice_sigmoid() -> None:
    logits = torch.linspace(-40, 40, 101, dtype=torch.float64)
    assert torch.equal(beta_from_logits(logits, "[0,1]"), torch.sigmoid(logits))
    assert torch.equal(beta_from_logits(logits, "[-1,1]"), 2 * torch.sigmoid(logits))
    # the transition's eigenvalue along a unit k is 1 - beta: (0, 1) versus (-1, 1), reaching -1 in the limit
    assert (1 - beta_from_logits(logits, "[0,1]")).min() >= 0.0
    assert (1 - beta_from_logits(logits, "[-1,1]")).min() == -1.0


@pytest.mark.parametrize("name", FAMILIES)
def test_the_mixer_uses_the_doubled_beta(name: str) -> None:
    """With `b_proj` pushed to large logits, the mixer's beta reaches 2 and the transition's smallest eigenvalue
    (alpha (1 - beta), checked on the matrix itself) is near -alpha; with `[0,1]` it stays >= 0."""
    for eigenvalues, low in (("[-1,1]", -1.0), ("[0,1]", 0.0)):
        mixer = build_architecture(name, SPEC, d_model=8, heads=2, eigenvalues=eigenvalues).blocks[0].mixer
        with torch.no_grad():
            mixer.b_proj.weight.fill_(100.0)
        with torch.no_grad():
            beta, log_decay = mixer._gates(torch.ones(1, 8))
        alpha = torch.ones_like(beta) if log_decay is None else log_decay.exp()
        k = l2_normalize(torch.randn(2, 4))
        for h in range(2):
            transition = alpha[0, h] * (torch.eye(4) - beta[0, h] * torch.outer(k[h], k[h]))
            smallest = torch.linalg.eigvalsh(transition).min()
            assert math.isclose(float(smallest), low * float(alpha[0, h]), abs_tol=1e-5)


def test_doubled_beta_tracks_parity_and_the_unit_range_cannot_flip_sign() -> None:
    """The delta rule with beta from `2 sigmoid(.)` tracks parity: write `v = 1` at `k` once (beta = 1), then
    for each bit beta = 2 sigmoid(+-30) (~2: a reflection along k, ~0: nothing) and v = 0; the read-out
    `S k` is (-1)^parity. With beta = sigmoid(.) the same read-out `(1 - beta) S k` can never turn negative."""
    g = torch.Generator().manual_seed(5)
    bits = torch.randint(0, 2, (4, 30), generator=g, dtype=torch.float64)
    logits = torch.cat([torch.zeros(4, 1, dtype=torch.float64), 60 * bits - 30], dim=1)
    length = logits.shape[1]
    k = torch.zeros(4, 1, length, 3, dtype=torch.float64)
    k[..., 0] = 1.0
    v = torch.zeros(4, 1, length, 1, dtype=torch.float64)
    v[:, 0, 0] = 1.0
    out, _ = delta_rule_recurrent(k, k, v, beta_from_logits(logits, "[-1,1]").unsqueeze(1))
    parity = torch.cat([torch.zeros(4, 1, dtype=torch.float64), bits.cumsum(1) % 2], dim=1)
    assert torch.allclose(out[:, 0, :, 0], 1 - 2 * parity, atol=1e-6)
    out_unit, _ = delta_rule_recurrent(k, k, v, beta_from_logits(logits, "[0,1]").unsqueeze(1))
    assert (out_unit >= 0).all()


# ---------------------------------------------------------------------------------------------
# the mixers


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize(
    "options",
    [{}, {"eigenvalues": "[-1,1]"}, {"short_conv": False, "output_gate": True}, {"output_gate": False, "conv_size": 1}],
)
def test_chunk_recurrent_and_step_forms_agree(name: str, options: dict) -> None:
    """float64: forward in `chunk` mode, forward in `recurrent` mode and `recurrent_forward` (the mixers' `step`)."""
    x = torch.randn(2, 37, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    outputs = []
    for mode in ("chunk", "recurrent"):
        torch.manual_seed(0)
        model = build_architecture(name, SPEC, d_model=16, heads=2, mode=mode, chunk_size=8, **options).double().eval()
        with torch.no_grad():
            outputs += [model(x), model.recurrent_forward(x)]
    for other in outputs[1:]:
        assert (other - outputs[0]).abs().max() < 1e-10


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize(
    ("d_model", "short_conv", "conv_size"), [(12, True, 4), (12, True, 2), (12, False, 4), (14, True, 4)]
)
def test_state_size_counts_exactly_what_step_carries(name: str, d_model: int, short_conv: bool, conv_size: int) -> None:
    """`heads * d_head^2` matrix entries + `3 * heads * d_head * (conv_size - 1)` conv inputs per layer
    (`d_head = d_model // heads`: 4 for both widths at 3 heads), which is the number of entries in the state
    `step` returns, per sequence."""
    model = build_architecture(
        name, SPEC, d_model=d_model, heads=3, layers=2, short_conv=short_conv, conv_size=conv_size
    )
    expected = 2 * (3 * 4 * 4 + (3 * 3 * 4 * (conv_size - 1) if short_conv else 0))
    assert state_size(model) == expected
    mixer = model.blocks[0].mixer
    _, state = mixer.step(torch.randn(5, d_model), None)
    assert 2 * sum(t.numel() for t in state if t is not None) // 5 == expected


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"eigenvalues": "[-2,2]"}, r"eigenvalues'? must be one of \[0,1\], \[-1,1\]; got '\[-2,2\]'"),
        ({"mode": "fused"}, "mode'? must be one of chunk, recurrent; got 'fused'"),
        ({"d_model": 3, "heads": 4}, "d_model=3 must be at least heads=4"),
        ({"chunk_size": 0}, "chunk_size must be a positive integer; got 0"),
    ],
)
def test_bad_hyper_parameters_are_one_line_errors(name: str, params: dict, match: str) -> None:
    with pytest.raises(ArchbenchError, match=match):
        build_architecture(name, SPEC, **params)


def test_gated_deltanet_decay_is_in_zero_one_and_initialised_as_fla() -> None:
    mixer = build_architecture("gated_deltanet", SPEC, d_model=16, heads=4).blocks[0].mixer
    A = mixer.A_log.exp()
    dt = torch.nn.functional.softplus(mixer.dt_bias)
    assert ((A > 0) & (A <= 16)).all() and ((dt >= 1e-3 - 1e-6) & (dt <= 0.1 + 1e-6)).all()
    _, log_decay = mixer._gates(torch.randn(7, 16))
    assert (log_decay < 0).all()
