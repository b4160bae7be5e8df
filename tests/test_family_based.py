"""Based: the Taylor feature map, every linear-attention mode against a per-step loop of the paper's
recurrence and against fla's naive references, the sliding window against a per-position loop, every
mixer's `step` against its `forward`, the declared state size against the state `step` really carries,
and the layer mix."""

from __future__ import annotations

import math

import pytest
import torch

from architectures.based import (
    LINEAR_MODES,
    BaseConv,
    SlidingWindowAttention,
    TaylorLinearAttention,
    layer_kind,
    taylor_feature_map,
    taylor_linear_attention,
)
from architectures.positions import apply_rope, rope_tables
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size
from tests.reference_files import load_reference_file

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=8, max_seq_len=16, vocab_size=5, num_classes=3)


def paper_phi(x: list[float]) -> list[float]:
    """The paper's 2nd-order Taylor feature map, element by element: 1, x_i / d^(1/4), x_i x_j / (sqrt 2 sqrt d)."""
    d = len(x)
    return [1.0] + [xi / d**0.25 for xi in x] + [xi * xj / (math.sqrt(2) * math.sqrt(d)) for xi in x for xj in x]


def slow_taylor_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, eps: float) -> torch.Tensor:
    """The recurrence `S_t = S_{t-1} + phi(k_t) v_t^T`, `z_t = z_{t-1} + phi(k_t)`,
    `y_t = phi(q_t)^T S_t / (phi(q_t)^T z_t + eps)`, one scalar at a time."""
    batch, heads, length, _ = q.shape
    e = v.shape[-1]
    y = torch.zeros(batch, heads, length, e, dtype=v.dtype)
    for b in range(batch):
        for h in range(heads):
            n = len(paper_phi(q[b, h, 0].tolist()))
            S = [[0.0] * e for _ in range(n)]
            z = [0.0] * n
            for t in range(length):
                pk, pq = paper_phi(k[b, h, t].tolist()), paper_phi(q[b, h, t].tolist())
                for i in range(n):
                    z[i] += pk[i]
                    for j in range(e):
                        S[i][j] += pk[i] * float(v[b, h, t, j])
                den = sum(pq[i] * z[i] for i in range(n)) + eps
                for j in range(e):
                    y[b, h, t, j] = sum(pq[i] * S[i][j] for i in range(n)) / den
    return y


def qkv(length: int, f: int = 3, e: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(2, 2, length, f, generator=g, dtype=torch.float64) for _ in range(2))
    return q, k, torch.randn(2, 2, length, e, generator=g, dtype=torch.float64)


def test_feature_map_is_the_second_order_taylor_expansion_of_exp() -> None:
    q, k, _ = qkv(5, f=6)
    a = (q * k).sum(-1) / math.sqrt(6)
    assert taylor_feature_map(q).shape[-1] == 1 + 6 + 36
    assert ((taylor_feature_map(q) * taylor_feature_map(k)).sum(-1) - (1 + a + a * a / 2)).abs().max() < 1e-12


@pytest.mark.parametrize("mode", LINEAR_MODES)
def test_every_mode_equals_the_papers_recurrence_as_a_loop(mode: str) -> None:
    q, k, v = qkv(70)  # longer than one chunk: the chunked form carries its state across a boundary
    slow = slow_taylor_linear_attention(q[:1, :1], k[:1, :1], v[:1, :1], eps=1e-12)
    fast = taylor_linear_attention(q, k, v, mode=mode)
    assert (fast[:1, :1] - slow).abs().max() < 1e-10
    assert (fast - taylor_linear_attention(q, k, v, mode="recurrent")).abs().max() < 1e-10


def test_linear_attention_equals_flas_naive_references() -> None:
    """fla's `naive_parallel_based` and `naive_chunk_based` take q, k at feature size f and compute the same
    `1 + a + a^2 / 2` attention (scale f^-1/2) with eps 1e-6 and `(B, H, T, d)` layout."""
    naive = load_reference_file("fla", "ops/based/naive.py")
    q, k, v = qkv(32, f=4, e=5)
    ours = taylor_linear_attention(q, k, v, mode="recurrent", eps=1e-6)
    assert (ours - naive.naive_parallel_based(q, k, v, use_norm=True)).abs().max() < 1e-10
    assert (ours - naive.naive_chunk_based(q, k, v, chunk_size=16)).abs().max() < 1e-10


def slow_sliding_window(mixer: SlidingWindowAttention, x: torch.Tensor) -> torch.Tensor:
    """Per position and head: softmax over the keys at t - window + 1 .. t (rotary by absolute position)."""
    q, k, v = mixer._heads(x)
    cos, sin = rope_tables(x.shape[1], mixer.head_dim, x.device)
    q, k = apply_rope(q, cos.double(), sin.double()), apply_rope(k, cos.double(), sin.double())
    out = torch.zeros_like(q)
    for t in range(x.shape[1]):
        lo = max(0, t - mixer.window + 1)
        scores = (q[:, :, t : t + 1] * k[:, :, lo : t + 1]).sum(-1) / math.sqrt(mixer.head_dim)
        out[:, :, t] = (scores.softmax(-1).unsqueeze(-1) * v[:, :, lo : t + 1]).sum(2)
    return mixer.proj(out.transpose(1, 2).flatten(-2))


def run_steps(mixer: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, object]:
    state, outputs = None, []
    for x_t in x.unbind(1):
        out, state = mixer.step(x_t, state)
        outputs.append(out)
    return torch.stack(outputs, 1), state


def state_numbers(state: object) -> int:
    """Numbers per sequence in a step state (tensors with the batch first, nested in tuples)."""
    if isinstance(state, torch.Tensor):
        return state[0].numel()
    return sum(state_numbers(part) for part in state)  # type: ignore[union-attr]


@pytest.mark.parametrize("window", [1, 4])
def test_sliding_window_equals_a_per_position_loop(window: int) -> None:
    torch.manual_seed(0)
    mixer = SlidingWindowAttention(8, heads=2, window=window).double()
    x = torch.randn(2, 11, 8, dtype=torch.float64)
    assert (mixer(x) - slow_sliding_window(mixer, x)).abs().max() < 1e-12


@pytest.mark.parametrize(
    "make",
    [
        lambda: TaylorLinearAttention(8, heads=2, feature_dim=3, mode="quadratic"),
        lambda: SlidingWindowAttention(8, heads=2, window=4),
        lambda: SlidingWindowAttention(8, heads=2, window=1),
        lambda: BaseConv(8, kernel=3),
    ],
    ids=["linear", "sliding", "sliding1", "conv"],
)
def test_step_equals_forward_and_carries_exactly_state_size_numbers(make) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    mixer = make().double()
    x = torch.randn(3, 12, 8, dtype=torch.float64)  # longer than the window: the cache is full and bounded
    stepped, state = run_steps(mixer, x)
    # 1e-7, not 1e-12: the rotary tables are float32 (`rope_tables`), and the step rotates by offsets within
    # the window where forward rotates by absolute position (equal in exact arithmetic)
    assert (stepped - mixer(x)).abs().max() < 1e-7
    assert state_numbers(state) == mixer.state_size


def test_layer_mixes() -> None:
    assert [layer_kind(i, "alternate") for i in range(4)] == ["linear", "sliding", "linear", "sliding"]
    # the released checkpoints: linear attention at 1, 6, 11, ..., sliding window at 2, 7, 12, ..., conv elsewhere
    paper = [layer_kind(i, "paper") for i in range(12)]
    assert [i for i, kind in enumerate(paper) if kind == "linear"] == [1, 6, 11]
    assert [i for i, kind in enumerate(paper) if kind == "sliding"] == [2, 7]


@pytest.mark.parametrize("layer_mix", ["alternate", "paper"])
def test_model_recurrent_form_equals_forward_and_state_is_the_sum(layer_mix: str) -> None:
    torch.manual_seed(0)
    model = build_architecture(
        "based", SPEC, d_model=8, heads=2, feature_dim=4, window=3, layers=3, layer_mix=layer_mix
    ).eval()
    x = torch.randint(0, 5, (2, 16))
    with torch.no_grad():
        assert torch.allclose(model(x), model.recurrent_forward(x), atol=1e-5, rtol=1e-4)
    assert state_size(model) == sum(m.state_size for m in model.mixers)
    linear = 2 * ((1 + 4 + 16) * 4 + (1 + 4 + 16))
    sliding, conv = 2 * (3 - 1) * 8, 8 * (3 - 1)
    assert state_size(model) == (2 * linear + sliding if layer_mix == "alternate" else conv + linear + sliding)


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        ({"mode": "fft"}, "'mode' must be one of"),
        ({"layer_mix": "mixed"}, "'layer_mix' must be one of"),
        ({"window": 0}, "window must be a positive integer"),
        ({"d_model": 10, "heads": 4}, "divisible by heads"),
    ],
)
def test_bad_hyperparameters_are_one_line_errors(hparams: dict, message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        build_architecture("based", SPEC, **hparams)
