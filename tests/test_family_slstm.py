"""sLSTM: the stabilised recurrence equals a per-step transcription of the paper's (unstabilised)
recurrence and xlstm's vanilla PyTorch cell; the whole layer equals xlstm's `sLSTMLayer` (vanilla
backend) with the same weights. sLSTM has no parallel form, so there is no second form to compare."""

from __future__ import annotations

import pytest
import torch

from architectures.slstm import SLSTMMixer, slstm_recurrent
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=12, max_seq_len=12, vocab_size=5, num_classes=3)


def cell_inputs(
    batch: int = 2,
    length: int = 9,
    heads: int = 2,
    d_head: int = 3,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    wx = scale * torch.randn(batch, length, 4, heads * d_head, generator=g, dtype=dtype)
    R = torch.randn(heads, 4, d_head, d_head, generator=g, dtype=dtype) / d_head
    bias = torch.randn(4, heads * d_head, generator=g, dtype=dtype)
    return wx, R, bias


def slow_slstm(wx: torch.Tensor, R: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The paper's sLSTM without stabiliser, one unit and one step at a time: pre-activation
    W x + R h_{t-1} + b (R within the unit's head), i = exp(ĩ), f = σ(f̃), c = f c + i tanh(z̃), n = f n + i,
    h = σ(õ) c / n."""
    batch, length, _, width = wx.shape
    heads, _, d_head, _ = R.shape
    out = torch.zeros(batch, length, width, dtype=wx.dtype)
    for b in range(batch):
        h, c, n = (torch.zeros(width, dtype=wx.dtype) for _ in range(3))
        for t in range(length):
            new_h = torch.zeros_like(h)
            for unit in range(width):
                head, o = divmod(unit, d_head)
                pre = [
                    wx[b, t, g, unit]
                    + bias[g, unit]
                    + sum(h[head * d_head + d] * R[head, g, d, o] for d in range(d_head))
                    for g in range(4)
                ]
                i, f = torch.exp(pre[0]), torch.sigmoid(pre[1])
                c[unit] = f * c[unit] + i * torch.tanh(pre[2])
                n[unit] = f * n[unit] + i
                new_h[unit] = torch.sigmoid(pre[3]) * c[unit] / n[unit]
            h = new_h
            out[b, t] = h
    return out


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_recurrence_equals_the_slow_loop(scale: float) -> None:
    """Scale 10 puts exp(ĩ) up to ~e^30, where the stabiliser does the work."""
    inputs = cell_inputs(scale=scale)
    assert (slstm_recurrent(*inputs) - slow_slstm(*inputs)).abs().max() < 1e-10


def test_cell_matches_xlstm_vanilla_slstm() -> None:
    """xlstm's `slstm_forward` with its sLSTM pointwise function: inputs `(T, B, 4 d)` in (gate, head,
    unit) order, recurrent kernel `(H, 4 d_head, d_head)` with `R_xlstm[h, g d_head + o, d] = R[h, g, d, o]`,
    bias in (gate, head, unit) order, states (h, c, n, m) starting at zero."""
    vanilla = pytest.importorskip("xlstm.blocks.slstm.src.vanilla")
    wx, R, bias = cell_inputs(scale=3.0)
    heads, gates, d_head, _ = R.shape
    R_xlstm = R.permute(0, 1, 3, 2).reshape(heads, gates * d_head, d_head)
    states = torch.zeros(4, wx.shape[0], wx.shape[-1], dtype=wx.dtype)
    all_states, _, _ = vanilla.slstm_forward(
        wx.flatten(2).transpose(0, 1),
        states,
        R_xlstm,
        bias.flatten(),
        vanilla.slstm_pointwise_function_registry["slstm"],
    )
    expected = all_states[0, 1:].transpose(0, 1)  # h over time, (B, T, d)
    assert (slstm_recurrent(wx, R, bias) - expected).abs().max() < 1e-12


def test_layer_matches_xlstm_slstm_layer() -> None:
    """xlstm's `sLSTMLayer` (vanilla backend, run in float64) with its weights mapped onto ours. Its forward feeds
    `fgate(conv x)` to the input gate and `igate(conv x)` to the forget gate (swapped names), so its
    `fgate` maps to our `i_proj`; its norm applies `1 + w`."""
    layer = pytest.importorskip("xlstm.blocks.slstm.layer")
    torch.manual_seed(0)
    theirs = layer.sLSTMLayer(
        layer.sLSTMLayerConfig(embedding_dim=16, num_heads=4, backend="vanilla", dtype="float32")
    ).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    sd = theirs.state_dict()
    heads, d_head = 4, 4
    ours = SLSTMMixer(16, heads=heads, d_conv=4, layer=0, layers=1).double()
    ours.load_state_dict(
        {
            "conv1d.weight": sd["conv1d.conv.weight"],
            "conv1d.bias": sd["conv1d.conv.bias"],
            "i_proj.weight": sd["fgate.weight"],
            "f_proj.weight": sd["igate.weight"],
            "z_proj.weight": sd["zgate.weight"],
            "o_proj.weight": sd["ogate.weight"],
            "R": sd["slstm_cell._recurrent_kernel_"].view(heads, 4, d_head, d_head).permute(0, 1, 3, 2),
            "bias": sd["slstm_cell._bias_"].view(4, 16),
            "norm_weight": 1.0 + sd["group_norm.weight"],
        },
        strict=True,
    )
    x = torch.randn(2, 10, 16, dtype=torch.float64)
    with torch.no_grad():
        assert (ours(x) - theirs(x)).abs().max() < 1e-10


def test_step_equals_forward_and_state_size_counts_h_c_n_m_and_conv() -> None:
    torch.manual_seed(0)
    model = build_architecture("slstm", SPEC, d_model=8, layers=2, heads=2).double()
    with torch.no_grad():  # non-zero recurrent weights, so the step really carries h
        for block in model.blocks:
            block.mixer.R.normal_(std=0.3)
    x = torch.randint(0, 5, (3, 12))
    with torch.no_grad():
        assert (model(x) - model.recurrent_forward(x)).abs().max() < 1e-12
    assert state_size(model) == 2 * (4 * 8 + 8 * 3)


def test_forget_gate_bias_follows_xlstm_powerlaw_init() -> None:
    mixer = SLSTMMixer(8, heads=2, d_conv=4, layer=0, layers=1)
    expected = -(-5.0 + 12.0 * (torch.arange(4.0) / 3) ** 0.3)
    assert torch.allclose(mixer.bias[1], expected.repeat(2)) and not mixer.bias[[0, 2, 3]].any()
    assert not mixer.R.any()


@pytest.mark.parametrize(
    ("hparams", "fragment"),
    [
        ({"heads": 3}, "d_model=64 must be divisible by heads=3"),
        ({"mlp_ratio": 0}, "mlp_ratio must be > 0; got 0"),
    ],
)
def test_bad_hyper_parameters_name_the_value(hparams: dict, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        build_architecture("slstm", SPEC, **hparams)
