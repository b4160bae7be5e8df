"""Hyena: the FFT long convolution against a direct O(T^2) loop and fla's `fft_conv`, the whole operator
against a per-position transcription of the paper's, the filter's independence from the sequence length,
the growing-history `step`, and hyper-parameter validation."""

from __future__ import annotations

import pytest
import torch

from architectures.hyena import HyenaMixer, ImplicitFilter, fft_causal_conv
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size, supports_length
from tests.reference_files import load_reference_file

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=8, max_seq_len=16, vocab_size=5, num_classes=3)


def direct_causal_conv(u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The slowest form: `y[b, c, t] = sum_{s <= t} h[c, t - s] u[b, c, s]`, one scalar at a time."""
    batch, channels, length = u.shape
    y = torch.zeros_like(u)
    for b in range(batch):
        for c in range(channels):
            for t in range(length):
                for s in range(t + 1):
                    y[b, c, t] += h[c, t - s] * u[b, c, s]
    return y


def paper_hyena(mixer: HyenaMixer, hidden: torch.Tensor) -> torch.Tensor:
    """The paper's operator (its `HyenaOperator.forward`), written per position with direct convolutions:
    in_proj, causal short conv, `v <- h_o * (v x_o) + b_o (v x_o)` for x_{N-1} .. x_1, `out_proj(v x_0)`."""
    batch, length, d = hidden.shape
    n = mixer.order
    k = mixer.short_kernel
    proj = mixer.in_proj(hidden)  # (B, T, (N+1) d)
    w = mixer.short_conv.weight.squeeze(1)  # ((N+1) d, k): w[:, k-1] multiplies the current input
    u = torch.zeros_like(proj)
    for t in range(length):
        u[:, t] = mixer.short_conv.bias
        for j in range(k):
            if t - (k - 1 - j) >= 0:
                u[:, t] += w[:, j] * proj[:, t - (k - 1 - j)]
    streams = u.split(d, dim=-1)
    x, v = streams[:n], streams[n]
    h = mixer.filter.filter(length, hidden).view(n - 1, d, length)
    bias = mixer.bias.view(n - 1, d)
    for stage, x_i in enumerate(reversed(x[1:])):
        z = v * x_i
        v = torch.stack(
            [sum(h[stage, :, t - s] * z[:, s] for s in range(t + 1)) + bias[stage] * z[:, t] for t in range(length)],
            dim=1,
        )
    return mixer.out_proj(v * x[0])


def test_fft_convolution_equals_the_direct_loop_and_flas() -> None:
    g = torch.Generator().manual_seed(0)
    u, h = torch.randn(2, 3, 11, generator=g, dtype=torch.float64), torch.randn(3, 11, generator=g, dtype=torch.float64)
    ours = fft_causal_conv(u, h)
    assert (ours - direct_causal_conv(u, h)).abs().max() < 1e-12
    long_conv = load_reference_file("fla", "modules/long_conv.py")
    # fla's fft_conv adds the input once more (a unit skip): conv(u, h) + u
    theirs = long_conv.fft_conv(u, h, dropout_mask=None, gelu=False) - u
    assert (ours - theirs).abs().max() < 1e-12


@pytest.mark.parametrize("order", [2, 3])
def test_operator_equals_the_papers_per_position_transcription(order: int) -> None:
    torch.manual_seed(order)
    mixer = HyenaMixer(6, scale=16, order=order, filter_order=8, emb_dim=5).double()
    hidden = torch.randn(2, 9, 6, dtype=torch.float64)
    assert (mixer(hidden) - paper_hyena(mixer, hidden)).abs().max() < 1e-10


@pytest.mark.parametrize("order", [2, 3])
def test_step_with_its_growing_history_equals_forward(order: int) -> None:
    torch.manual_seed(0)
    mixer = HyenaMixer(5, scale=16, order=order).double()
    hidden = torch.randn(3, 12, 5, dtype=torch.float64)
    state, outputs = None, []
    for h_t in hidden.unbind(1):
        out, state = mixer.step(h_t, state)
        outputs.append(out)
    assert (torch.stack(outputs, 1) - mixer(hidden)).abs().max() < 1e-10
    assert state is not None and all(past.shape == (3, 5, 12) for past in state[1])  # the history grows with t


def test_filter_depends_on_the_lag_not_on_the_sequence_length() -> None:
    """A filter rebuilt for a longer sequence agrees on the common lags (so outputs cannot depend on how
    much future follows) and is defined beyond the build scale."""
    torch.manual_seed(0)
    filt = ImplicitFilter(4, scale=16)
    like = torch.zeros((), dtype=torch.float64)
    filt = filt.double()
    short, long = filt.filter(5, like), filt.filter(40, like)
    assert short.shape == (4, 5) and long.shape == (4, 40)
    assert (short - long[:, :5]).abs().max() < 1e-14
    z, t = filt.features(3, like.device, like.dtype)
    assert z.shape == (3, 3) and torch.allclose(t.squeeze(-1), torch.tensor([0, 1, 2], dtype=torch.float64) / 16)


def test_positional_features_match_flas_at_the_build_scale() -> None:
    """The cosine/sine features are fla's `PositionalEmbedding` (the paper code's) at `seq_len = scale`;
    the time feature is `i / scale` (fla: `i / (scale - 1)`, which would tie it to one length)."""
    long_conv = load_reference_file("fla", "modules/long_conv.py")
    ref = long_conv.PositionalEmbedding(emb_dim=5, seq_len=16).z[0].double()
    ours, _ = ImplicitFilter(3, scale=16, emb_dim=5).features(16, torch.device("cpu"), torch.float64)
    assert (ours[:, 1:] - ref[:, 1:]).abs().max() < 1e-6  # fla builds them in float32


def test_model_declares_no_fixed_state_and_takes_every_length() -> None:
    model = build_architecture("hyena", SPEC, d_model=8, layers=2).eval()
    assert state_size(model) is None and model.has_step
    assert supports_length(model, 1) and supports_length(model, 10 * SPEC.max_seq_len)
    x = torch.randint(0, 5, (2, 3 * SPEC.max_seq_len))
    with torch.no_grad():
        assert torch.allclose(model(x), model.recurrent_forward(x), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        ({"order": 1}, "order must be >= 2"),
        ({"emb_dim": 4}, "emb_dim must be odd"),
        ({"short_kernel": 0}, "short_kernel must be a positive integer"),
    ],
)
def test_bad_hyperparameters_are_one_line_errors(hparams: dict, message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        build_architecture("hyena", SPEC, **hparams)
