"""RetNet: retention against the paper's recurrent and parallel forms (per-step and per-pair loops written
here) and flash-linear-attention's `naive_retention` and `naive_recurrent_simple_gla`; parallel = chunkwise =
recurrent = stepped; the fixed decays; the per-head GroupNorm; exact state sizes."""

from __future__ import annotations

import pytest
import torch

from architectures.decayed_linear_attention import decayed_chunked, decayed_recurrent, retention_parallel
from architectures.retnet import retention_log_decays
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size
from tests.family_references import fla_naive

SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=8, max_seq_len=40, input_dim=3, output_dim=2)


def paper_recurrent(q, k, v, gamma):
    """`S_n = gamma S_{n-1} + k_n^T v_n`, `o_n = q_n S_n`, one batch, head and step at a time."""
    out = torch.zeros(*q.shape[:3], v.shape[-1], dtype=q.dtype)
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            S = torch.zeros(q.shape[-1], v.shape[-1], dtype=q.dtype)
            for n in range(q.shape[2]):
                S = gamma[h] * S + torch.outer(k[b, h, n], v[b, h, n])
                out[b, h, n] = q[b, h, n] @ S
    return out


def paper_parallel(q, k, v, gamma):
    """`o_n = sum_{m <= n} gamma^(n-m) (q_n . k_m) v_m`, one pair at a time."""
    out = torch.zeros(*q.shape[:3], v.shape[-1], dtype=q.dtype)
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            for n in range(q.shape[2]):
                for m in range(n + 1):
                    out[b, h, n] += gamma[h] ** (n - m) * (q[b, h, n] @ k[b, h, m]) * v[b, h, m]
    return out


def random_inputs(seed: int, batch=2, heads=3, length=23, d_k=5, d_v=4, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(batch, heads, length, d_k, generator=g, dtype=dtype) for _ in range(2))
    return q, k, torch.randn(batch, heads, length, d_v, generator=g, dtype=dtype)


def test_fixed_decays_are_the_papers() -> None:
    assert torch.allclose(
        retention_log_decays(4, dtype=torch.float64).exp(),
        torch.tensor([1 - 1 / 32, 1 - 1 / 64, 1 - 1 / 128, 1 - 1 / 256], dtype=torch.float64),
    )


def test_parallel_chunked_and_recurrent_forms_equal_the_papers() -> None:
    q, k, v = random_inputs(0)
    log_gamma = torch.tensor([-0.05, -0.7, -3.0], dtype=torch.float64)  # stronger than the paper's, to test the mask
    expected = paper_recurrent(q, k, v, log_gamma.exp())
    assert (paper_parallel(q, k, v, log_gamma.exp()) - expected).abs().max() < 1e-10  # the paper's two forms agree
    assert (retention_parallel(q, k, v, log_gamma) - expected).abs().max() < 1e-10
    scalar = log_gamma.view(1, -1, 1, 1)
    assert (decayed_recurrent(q, k, v, scalar)[0] - expected).abs().max() < 1e-10
    for chunk_size in (1, 4, 16, 64):
        assert (decayed_chunked(q, k, v, scalar, chunk_size)[0] - expected).abs().max() < 1e-10


def test_matches_flash_linear_attention_naive_retention_and_simple_gla() -> None:
    """fla's `naive_retention` ((B, H, T, D), gammas 1 - 2^(-5-h), `q` scaled by `D ** -0.5` inside) and
    `naive_recurrent_simple_gla` ((B, T, H, D), `g` = log gamma per step and head, explicit `scale`), float32."""
    retention, simple_gla = fla_naive("retention"), fla_naive("simple_gla")
    q, k, v = random_inputs(1, heads=4, length=40, d_k=8, d_v=8, dtype=torch.float32)
    log_gamma = retention_log_decays(4)
    ours = retention_parallel(q * 8**-0.5, k, v, log_gamma)
    assert (ours - retention.naive_retention(q, k, v)).abs().max() < 1e-5
    g = log_gamma.view(1, 1, 4).expand(2, 40, 4)
    ref, _ = simple_gla.naive_recurrent_simple_gla(*(t.transpose(1, 2) for t in (q, k, v)), g=g, scale=8**-0.5)
    assert (ours - ref.transpose(1, 2)).abs().max() < 1e-5


@pytest.mark.parametrize("options", [{}, {"rotary": False}, {"expand_v": 1, "heads": 4}])
def test_parallel_chunk_recurrent_and_step_forms_agree(options: dict) -> None:
    x = torch.randn(2, 37, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    outputs = []
    for mode in ("parallel", "chunk", "recurrent"):
        torch.manual_seed(0)
        model = build_architecture(
            "retnet", SPEC, **{"d_model": 16, "heads": 2, "mode": mode, "chunk_size": 8, **options}
        )
        model = model.double().eval()
        with torch.no_grad():
            outputs += [model(x), model.recurrent_forward(x)]
    for other in outputs[1:]:
        assert (other - outputs[0]).abs().max() < 1e-10


def test_rotation_makes_scores_depend_on_the_distance_only() -> None:
    """q and k rotated by absolute position: shifting both by the same offset leaves `q_n . k_m` unchanged."""
    mixer = build_architecture("retnet", SPEC, d_model=16, heads=2).blocks[0].mixer.double()
    x = torch.randn(1, 6, 16, dtype=torch.float64)
    with torch.no_grad():
        q0, k0, _ = mixer._heads(x, start=0)
        q9, k9, _ = mixer._heads(x, start=9)
    assert torch.allclose(q0 @ k0.transpose(-1, -2), q9 @ k9.transpose(-1, -2), atol=1e-12)
    assert not torch.allclose(q0, q9)


def test_group_norm_normalises_each_head_separately() -> None:
    """Scaling one head's retention output by any positive number per position changes nothing (up to the
    norm's epsilon): why the paper's row normalisations of D and of the scores can be left out."""
    mixer = build_architecture("retnet", SPEC, d_model=16, heads=2).blocks[0].mixer.double()
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    o = torch.randn(2, 2, 5, 16, dtype=torch.float64)
    scale = torch.ones(2, 2, 5, 1, dtype=torch.float64)
    scale[:, 1] = torch.rand(2, 5, 1, dtype=torch.float64) * 10 + 0.5
    with torch.no_grad():
        assert torch.allclose(mixer._output(o, x), mixer._output(o * scale, x), atol=1e-4)
        assert not torch.allclose(mixer._output(o, x), mixer._output(o * torch.rand_like(o), x), atol=1e-2)


@pytest.mark.parametrize(("rotary", "expand_v"), [(True, 2), (False, 2), (True, 1)])
def test_state_size_counts_exactly_what_step_carries(rotary: bool, expand_v: int) -> None:
    """`heads * d_k * d_v` per layer, plus the position counter (one number) that the rotation needs."""
    model = build_architecture("retnet", SPEC, d_model=12, heads=3, layers=2, rotary=rotary, expand_v=expand_v)
    expected = 2 * (3 * 4 * (4 * expand_v) + int(rotary))
    assert state_size(model) == expected
    _, (matrix, position) = model.blocks[0].mixer.step(torch.randn(5, 12), None)
    assert position == 1 and 2 * (matrix.numel() // 5 + int(rotary)) == expected


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"d_model": 10, "heads": 4}, "d_model=10 must be divisible by heads=4"),
        ({"mode": "fused"}, "mode'? must be one of parallel, chunk, recurrent; got 'fused'"),
        ({"expand_v": 0}, "expand_v must be a positive integer; got 0"),
    ],
)
def test_bad_hyper_parameters_are_one_line_errors(params: dict, match: str) -> None:
    with pytest.raises(ArchbenchError, match=match):
        build_architecture("retnet", SPEC, **params)
