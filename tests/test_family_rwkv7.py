"""RWKV-7: the generalized delta rule against the paper's equation as a per-step loop with the explicit
transition matrix, against rwkv7-hf's `rwkv7_recurrent` and fla's `dplr_recurrence`; `step` against
`forward` for both mixers and the whole model (value residual included); the chunked form against the
recurrence (float64, and float32 at the fastest decay); the declared state size against
the state `step` really carries."""

from __future__ import annotations

import math

import pytest
import torch

from architectures.rwkv7 import (
    ChannelMix,
    TimeMix,
    ValueResidual,
    generalized_delta_rule,
    generalized_delta_rule_chunked,
)
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size
from tests.reference_files import load_reference_file

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=8, max_seq_len=16, vocab_size=5, num_classes=3)


def inputs(batch: int = 2, length: int = 9, heads: int = 2, n: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random r, w, k, v, kappa, a of the shapes and ranges the time mix produces: w in (0.545, 1),
    a in (0, 1), kappa of unit norm per head; `(B, T, H, N)`."""
    g = torch.Generator().manual_seed(seed)

    def rand() -> torch.Tensor:
        return torch.randn(batch, length, heads, n, generator=g, dtype=torch.float64)

    r, k, v = rand(), rand(), rand()
    w = torch.exp(-math.exp(-0.5) * torch.sigmoid(rand()))
    kappa = torch.nn.functional.normalize(rand(), dim=-1)
    return {"r": r, "w": w, "k": k, "v": v, "kappa": kappa, "a": torch.sigmoid(rand())}


def paper_recurrence(x: dict[str, torch.Tensor]) -> torch.Tensor:
    """`S_t = S_{t-1} (diag(w_t) - kappa_t^T (a_t kappa_t)) + v_t^T k_t`, `o_t = S_t r_t^T`, row vectors,
    one (batch, head) at a time with the N x N transition matrix written out."""
    batch, length, heads, n = x["r"].shape
    out = torch.zeros_like(x["v"])
    for b in range(batch):
        for h in range(heads):
            S = torch.zeros(n, n, dtype=torch.float64)
            for t in range(length):
                row = {name: value[b, t, h].view(1, n) for name, value in x.items()}
                transition = torch.diag(row["w"][0]) - row["kappa"].T @ (row["a"] * row["kappa"])
                S = S @ transition + row["v"].T @ row["k"]
                out[b, t, h] = (S @ row["r"].T)[:, 0]
    return out


def ours(x: dict[str, torch.Tensor]) -> torch.Tensor:
    return generalized_delta_rule(x["r"], x["w"], x["k"], x["v"], x["kappa"], x["a"])[0]


def test_recurrence_equals_the_papers_equation_as_a_loop() -> None:
    x = inputs()
    assert (ours(x) - paper_recurrence(x)).abs().max() < 1e-12


def test_recurrence_equals_rwkv7_hf() -> None:
    """rwkv7-hf's operator takes the in-context terms as `a = -kappa`, `b = kappa * a` and a `[K, V]` state."""
    ops = load_reference_file("rwkv7_hf", "ops_rwkv7.py")
    x = inputs(length=12, n=5)
    state = torch.zeros(2, 2, 5, 5, dtype=torch.float64)
    theirs, _ = ops.rwkv7_recurrent(x["r"], x["w"], x["k"], x["v"], -x["kappa"], x["kappa"] * x["a"], state)
    assert (ours(x) - theirs).abs().max() < 1e-12


def test_recurrence_equals_flas_dplr_naive() -> None:
    """fla's `dplr_recurrence` (`S <- diag(exp(gk)) S + beta alpha^T S + k v^T`, `[K, V]` state, `(B, H, T, N)`
    layout, q scaled by N^-1/2, computed in float32): alpha = -kappa, beta = a kappa, gk = log w, q = r sqrt(N)."""
    naive = load_reference_file("fla", "ops/generalized_delta_rule/dplr/naive.py")
    x = inputs(length=12, n=4)
    bhtn = {name: value.transpose(1, 2).float() for name, value in x.items()}
    theirs, _ = naive.dplr_recurrence(
        bhtn["r"] * 2.0, bhtn["k"], bhtn["v"], -bhtn["kappa"], bhtn["a"] * bhtn["kappa"], bhtn["w"].log()
    )
    assert (ours(x) - theirs.transpose(1, 2).double()).abs().max() < 1e-5  # their float32 arithmetic


@pytest.mark.parametrize(("length", "chunk"), [(9, 4), (16, 16), (37, 16), (5, 16)])
def test_chunked_form_equals_the_recurrence(length: int, chunk: int) -> None:
    """Lengths that are and are not multiples of the chunk, shorter than one chunk too (float64)."""
    x = inputs(length=length, n=5)
    chunked = generalized_delta_rule_chunked(x["r"], x["w"], x["k"], x["v"], x["kappa"], x["a"], chunk=chunk)
    assert (chunked - ours(x)).abs().max() < 1e-12


def test_chunked_form_in_float32_at_the_fastest_decay() -> None:
    """Every decay at the time mix's floor exp(-e^{-1/2}) makes the factored decays e^{-G} largest (~2e4 at
    chunk 16): float32 still agrees with the recurrence to 1e-5."""
    x = {name: value.float() for name, value in inputs(length=64, n=8).items()}
    x["w"] = torch.full_like(x["w"], math.exp(-math.exp(-0.5)))
    chunked = generalized_delta_rule_chunked(x["r"], x["w"], x["k"], x["v"], x["kappa"], x["a"], chunk=16)
    assert (chunked - ours(x)).abs().max() < 1e-5


def run_steps(mixer: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, object]:
    state, outputs = None, []
    for x_t in x.unbind(1):
        out, state = mixer.step(x_t, state)
        outputs.append(out)
    return torch.stack(outputs, 1), state


def numbers(state: object) -> int:
    if isinstance(state, torch.Tensor):
        return state[0].numel()
    return sum(numbers(part) for part in state)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "make",
    [
        lambda: TimeMix(8, heads=2, layer=0, layers=2, shared=None, mode="chunk"),
        lambda: TimeMix(8, heads=2, layer=0, layers=2, shared=None, mode="recurrent"),
        lambda: ChannelMix(8, layer=1, layers=2),
    ],
    ids=["time_mix_chunk", "time_mix_recurrent", "channel_mix"],
)
def test_step_equals_forward_and_carries_exactly_state_size_numbers(make) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    mixer = make().double()
    x = torch.randn(3, 10, 8, dtype=torch.float64)
    stepped, state = run_steps(mixer, x)
    assert (stepped - mixer(x)).abs().max() < 1e-12
    assert numbers(state) == mixer.state_size


def test_state_size_is_matrix_states_plus_two_shift_vectors_per_layer() -> None:
    model = build_architecture("rwkv7", SPEC, d_model=16, heads=2, layers=3)
    assert state_size(model) == 3 * (2 * 8 * 8 + 2 * 16)


@pytest.mark.parametrize(("value_residual", "mode"), [(True, "chunk"), (False, "chunk"), (True, "recurrent")])
def test_model_recurrent_form_equals_forward(value_residual: bool, mode: str) -> None:
    torch.manual_seed(0)
    model = build_architecture(
        "rwkv7", SPEC, d_model=8, heads=2, layers=2, value_residual=value_residual, mode=mode
    ).eval()
    x = torch.randint(0, 5, (2, 16))
    with torch.no_grad():
        assert torch.allclose(model(x), model.recurrent_forward(x), atol=1e-5, rtol=1e-4)
    has_v = any(name.endswith("v0") for name, _ in model.named_parameters())
    assert has_v == value_residual  # only later layers, and only with the value residual, own v0


def test_value_residual_reaches_later_layers() -> None:
    """Layer 1's time mix reads layer 0's value: changing the shared value changes its output."""
    torch.manual_seed(0)
    shared = ValueResidual()
    first, second = TimeMix(8, 2, 0, 2, shared).double(), TimeMix(8, 2, 1, 2, shared).double()
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    first(x)
    before = second(x)
    shared.value = shared.value + 1.0  # type: ignore[operator]
    assert not torch.allclose(before, second(x))


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        ({"d_model": 10, "heads": 4}, "divisible by heads"),
        ({"ffn_ratio": 0.0}, "ffn_ratio must be > 0"),
        ({"mode": "parallel"}, "'mode' must be one of"),
    ],
)
def test_bad_hyperparameters_are_one_line_errors(hparams: dict, message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        build_architecture("rwkv7", SPEC, **hparams)
