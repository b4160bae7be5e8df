"""The linear-recurrence scans: parallel (odd-even and Hillis-Steele) equal the sequential reference, values and gradients,
and the models that use a scan give the same outputs either way."""

from __future__ import annotations

import pytest
import torch

from architectures.scan import hillis_steele_scan, parallel_scan, scan, sequential_scan
from bench import TaskSpec, build_architecture

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def _inputs(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = (torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)  # in (-1, 1)
    b = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    return a, b


def test_sequential_scan_matches_the_closed_form() -> None:
    a = torch.full((1, 6, 1), 0.5, dtype=torch.float64)
    b = torch.ones(1, 6, 1, dtype=torch.float64)
    expected = torch.tensor([2 * (1 - 0.5 ** (t + 1)) for t in range(6)], dtype=torch.float64).view(1, 6, 1)
    assert torch.allclose(sequential_scan(a, b), expected, atol=1e-12)
    assert torch.allclose(parallel_scan(a, b), expected, atol=1e-12)
    assert torch.allclose(hillis_steele_scan(a, b), expected, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    "shape", [(3, 1, 4), (3, 2, 4), (2, 7, 5), (2, 64, 3), (2, 129, 2, 3), (1, 256, 8), (2, 100, 3)]
)
def test_parallel_equals_sequential_values_and_gradients(shape: tuple[int, ...], dtype: torch.dtype) -> None:
    a, b = _inputs(shape, dtype)
    weights = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(dtype)
    results = []
    for fn in (sequential_scan, parallel_scan, hillis_steele_scan):
        a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        h = fn(a_, b_)
        (h * weights).sum().backward()
        grad_a = a_.grad if a_.grad is not None else torch.zeros_like(a_)  # T == 1: `a` is never read
        results.append((h.detach(), grad_a, b_.grad))
    (h_seq, ga_seq, gb_seq) = results[0]
    tol = TOL[dtype]
    for h_par, ga_par, gb_par in results[1:]:
        assert h_par.shape == shape and h_par.dtype == dtype
        assert torch.allclose(h_par, h_seq, atol=tol, rtol=tol)
        assert torch.allclose(gb_par, gb_seq, atol=tol, rtol=tol)
        assert torch.allclose(ga_par, ga_seq, atol=tol, rtol=tol)


def test_time_invariant_a_broadcasts_and_complex_values_work() -> None:
    g = torch.Generator().manual_seed(3)
    a = torch.rand(1, 1, 4, generator=g) * 2 - 1
    b = torch.randn(2, 33, 4, generator=g)
    assert torch.allclose(parallel_scan(a, b), sequential_scan(a, b), atol=1e-5)
    ac = torch.polar(torch.rand(2, 33, 4, generator=g), torch.rand(2, 33, 4, generator=g) * 6)
    bc = torch.complex(torch.randn(2, 33, 4, generator=g), torch.randn(2, 33, 4, generator=g))
    assert torch.allclose(parallel_scan(ac, bc), sequential_scan(ac, bc), atol=1e-5)


def test_scan_dispatch_rejects_unknown_mode() -> None:
    a, b = _inputs((1, 4, 2), torch.float32)
    assert torch.equal(scan(a, b, "sequential"), sequential_scan(a, b))
    with pytest.raises(ValueError, match="'blelloch'"):
        scan(a, b, "blelloch")


SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=8, max_seq_len=16, input_dim=4, output_dim=2)


def _outputs(name: str, x: torch.Tensor, grad: bool = True, **hparams: object) -> torch.Tensor:
    """Eval-mode outputs; with gradients on by default, since Mamba's inference (no-grad) path is recurrent."""
    torch.manual_seed(0)
    model = build_architecture(name, SPEC, **hparams).eval()
    with torch.set_grad_enabled(grad):
        return model(x).detach()


@pytest.mark.parametrize(
    ("name", "modes", "hparams"),
    [
        ("mamba", ("scan", ["parallel", "sequential"]), {"d_model": 8, "layers": 2}),
        ("mamba", ("scan", ["parallel", "sequential"]), {"d_model": 8, "layers": 2, "negative_eigenvalues": True}),
        ("lru", ("scan", ["parallel", "sequential"]), {"d_model": 8, "layers": 2, "eigenvalues": "[-1,1]"}),
        ("s4d", ("mode", ["fft", "parallel", "sequential"]), {"d_model": 8, "layers": 2, "d_state": 8}),
        ("s4d", ("mode", ["fft", "parallel", "sequential"]), {"d_model": 8, "layers": 1, "d_state": 4, "init": "real"}),
    ],
)
def test_models_agree_across_scan_modes(name: str, modes: tuple[str, list[str]], hparams: dict) -> None:
    key, values = modes
    x = torch.randn(3, 16, 4, generator=torch.Generator().manual_seed(5))
    outs = [_outputs(name, x, **hparams, **{key: value}) for value in values]
    for out in outs[1:]:
        assert torch.allclose(out, outs[0], atol=1e-5, rtol=1e-4), (name, (out - outs[0]).abs().max())


def test_mamba_inference_path_matches_the_parallel_training_path() -> None:
    x = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(6))
    trained_path = _outputs("mamba", x, grad=True, d_model=8, layers=2, scan="parallel")
    inference_path = _outputs("mamba", x, grad=False, d_model=8, layers=2, scan="parallel")
    assert torch.allclose(trained_path, inference_path, atol=1e-5, rtol=1e-4)


def test_mamba_parallel_and_recurrent_gradients_agree() -> None:
    x = torch.randn(2, 12, 4, generator=torch.Generator().manual_seed(7))
    grads = []
    for mode in ("parallel", "sequential"):
        torch.manual_seed(0)
        model = build_architecture("mamba", SPEC, d_model=8, layers=1, scan=mode)
        model(x).square().sum().backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name, grad in grads[0].items():
        assert torch.allclose(grad, grads[1][name], atol=1e-5, rtol=1e-4), name


def test_mamba_negative_eigenvalues_flip_the_state_sign() -> None:
    """Grazzi et al.'s range: `2 exp(dt A) - 1` spans (-1, 1), so a large step flips the state (what running
    parity needs), a tiny one keeps it; the default range (0, 1) can only shrink it, and the option changes
    the model's outputs, not its parameters."""
    from architectures.mamba import transition

    dt_a = torch.tensor([-1e-4, -20.0])  # dt * A with A < 0: a tiny step, a large one
    assert torch.allclose(transition(dt_a, signed=True), torch.tensor([1.0, -1.0]), atol=1e-3)
    assert (transition(dt_a, signed=False) > 0).all() and (transition(dt_a, signed=False) <= 1).all()
    x = torch.randn(2, 12, 4, generator=torch.Generator().manual_seed(8))
    assert not torch.allclose(
        _outputs("mamba", x, d_model=8, layers=1, negative_eigenvalues=True), _outputs("mamba", x, d_model=8, layers=1)
    )
