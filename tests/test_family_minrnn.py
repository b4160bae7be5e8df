"""minGRU and minLSTM: the three modes (log-space scan, linear-space parallel scan, recurrence) equal
the paper's Appendix pseudo-code, transcribed twice: its sequential loop and its log-space
`parallel_scan_log` (no package implements these; the paper is the reference)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from architectures.minrnn import MODES, MinRNNMixer, g, log_g, min_rnn
from bench import ArchbenchError, TaskSpec, build_architecture
from bench.contract.model import state_size

SPEC = TaskSpec(input_kind="tokens", output_kind="class", seq_len=12, max_seq_len=12, vocab_size=5, num_classes=3)


def paper_sequential(cell: str, gates: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
    """The paper's sequential minGRU / minLSTM, one unit and one step at a time, from the pre-activations
    (its `linear_z(x_t)`, or `linear_f(x_t)`, `linear_i(x_t)`, and `linear_h(x_t)`), h_0 = 0, with h̃ = g(.)
    as in its log-space models."""
    batch, length, width = candidate.shape
    out = torch.zeros_like(candidate)
    for b in range(batch):
        for unit in range(width):
            h = torch.zeros((), dtype=candidate.dtype)
            for t in range(length):
                tilde = g(candidate[b, t, unit])
                if cell == "gru":
                    z = torch.sigmoid(gates[b, t, 0, unit])
                    h = (1 - z) * h + z * tilde
                else:
                    f, i = torch.sigmoid(gates[b, t, 0, unit]), torch.sigmoid(gates[b, t, 1, unit])
                    h = f / (f + i) * h + i / (f + i) * tilde
                out[b, t, unit] = h
    return out


def paper_log_space(cell: str, gates: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
    """The paper's log-space pseudo-code, verbatim apart from names, with h_0 = 0 (log h_0 = -inf)."""

    def parallel_scan_log(log_coeffs: torch.Tensor, log_values: torch.Tensor) -> torch.Tensor:
        a_star = F.pad(torch.cumsum(log_coeffs, dim=1), (0, 0, 1, 0))
        log_h0_plus_b_star = torch.logcumsumexp(log_values - a_star, dim=1)
        log_h = a_star + log_h0_plus_b_star
        return torch.exp(log_h)[:, 1:]

    log_h_0 = torch.log(torch.zeros_like(candidate[:, :1]))
    log_tilde_h = log_g(candidate)
    if cell == "gru":
        k = gates[:, :, 0]
        log_z, log_coeffs = -F.softplus(-k), -F.softplus(k)
        return parallel_scan_log(log_coeffs, torch.cat([log_h_0, log_z + log_tilde_h], dim=1))
    diff = F.softplus(-gates[:, :, 0]) - F.softplus(-gates[:, :, 1])
    log_f, log_i = -F.softplus(diff), -F.softplus(-diff)
    return parallel_scan_log(log_f, torch.cat([log_h_0, log_i + log_tilde_h], dim=1))


def inputs(
    cell: str, batch: int = 2, length: int = 11, width: int = 5, scale: float = 2.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    gates = scale * torch.randn(batch, length, 1 if cell == "gru" else 2, width, generator=gen, dtype=torch.float64)
    return gates, scale * torch.randn(batch, length, width, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_every_mode_equals_both_transcriptions_of_the_paper(cell: str, mode: str) -> None:
    gates, candidate = inputs(cell)
    sequential, log_space = paper_sequential(cell, gates, candidate), paper_log_space(cell, gates, candidate)
    assert (sequential - log_space).abs().max() < 1e-12  # the paper's two forms agree with each other
    assert (min_rnn(cell, gates, candidate, mode) - sequential).abs().max() < 1e-12


def test_g_and_log_g_agree_and_g_is_positive() -> None:
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert (g(x) > 0).all() and torch.allclose(log_g(x), torch.log(g(x)))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gradients_of_the_modes_agree(cell: str) -> None:
    gates, candidate = (t.requires_grad_() for t in inputs(cell, length=9))
    grads = [
        torch.autograd.grad(min_rnn(cell, gates, candidate, mode).square().sum(), (gates, candidate)) for mode in MODES
    ]
    for other in grads[1:]:
        for reference, grad in zip(grads[0], other):
            assert torch.allclose(reference, grad, atol=1e-9)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_mixer_maps_its_projection_onto_the_paper_linears(cell: str) -> None:
    """The mixer's `in_proj` rows are the paper's `linear_z` (or `linear_f`, `linear_i`) then `linear_h`."""
    torch.manual_seed(0)
    mixer = MinRNNMixer(6, cell, expand=2, mode="scan").double()
    x = torch.randn(2, 8, 6, dtype=torch.float64)
    hidden = 12
    weights = mixer.in_proj.weight.split(hidden)
    gates = torch.stack([x @ w.T for w in weights[:-1]], dim=2)
    expected = mixer.out_proj(paper_sequential(cell, gates, x @ weights[-1].T))
    assert (mixer(x) - expected).abs().max() < 1e-12


@pytest.mark.parametrize("arch", ["mingru", "minlstm"])
def test_models_step_equals_forward_in_every_mode_and_state_is_the_hidden_width(arch: str) -> None:
    torch.manual_seed(0)
    models = {mode: build_architecture(arch, SPEC, d_model=8, layers=2, expand=2, mode=mode) for mode in MODES}
    for model in models.values():
        model.load_state_dict(models["scan"].state_dict())
    x = torch.randint(0, 5, (3, 12))
    with torch.no_grad():
        reference = models["sequential"].recurrent_forward(x)
        for model in models.values():
            assert torch.allclose(model(x), reference, atol=1e-5)
    assert state_size(models["scan"]) == 2 * 16


@pytest.mark.parametrize(
    ("hparams", "fragment"),
    [
        ({"mode": "parallel"}, "'mode' must be one of log, scan, sequential; got 'parallel'"),
        ({"mlp_ratio": -1.0}, "mlp_ratio must be >= 0 \\(0: no MLP\\); got -1.0"),
        ({"expand": 0}, "expand must be a positive integer; got 0"),
    ],
)
@pytest.mark.parametrize("arch", ["mingru", "minlstm"])
def test_bad_hyper_parameters_name_the_value(arch: str, hparams: dict, fragment: str) -> None:
    with pytest.raises(ArchbenchError, match=fragment):
        build_architecture(arch, SPEC, **hparams)


def test_mlp_ratio_zero_leaves_the_recurrence_alone() -> None:
    model = build_architecture("mingru", SPEC, d_model=8, layers=1, mlp_ratio=0.0)
    assert model.blocks[0].mlp is None
