"""The optional mamba-ssm CUDA kernel: same Mamba as the sequential reference where it exists, a clear
refusal of `scan="kernel"` where it does not, and never needed for `scan="auto"`."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from architectures.mamba import mamba_kernel
from bench import ArchbenchError, TaskSpec, build_architecture

SPEC = TaskSpec(input_kind="vectors", output_kind="vector", seq_len=64, max_seq_len=64, input_dim=4, output_dim=3)


def kernel_missing() -> str | None:
    """Why the kernel cannot be tested here, or None when it can."""
    if not torch.cuda.is_available():
        return "no CUDA device: mamba-ssm's selective-scan kernel runs on CUDA only"
    if importlib.util.find_spec("mamba_ssm") is None:
        return "mamba-ssm is not installed (optional: pip install mamba-ssm on a CUDA machine)"
    if mamba_kernel() is None:
        return "mamba-ssm is installed but its selective-scan kernel does not import with this torch / CUDA"
    return None


@pytest.mark.skipif(kernel_missing() is not None, reason=kernel_missing() or "")
def test_kernel_matches_the_sequential_reference_values_and_gradients() -> None:
    torch.manual_seed(0)
    reference = build_architecture("mamba", SPEC, d_model=32, layers=2, scan="sequential").cuda()
    kernel = build_architecture("mamba", SPEC, d_model=32, layers=2, scan="kernel").cuda()
    kernel.load_state_dict(reference.state_dict())
    x = torch.randn(3, SPEC.seq_len, SPEC.input_dim, device="cuda", generator=torch.Generator("cuda").manual_seed(1))
    outputs = []
    for model in (reference, kernel):
        out = model(x)
        out.square().sum().backward()
        outputs.append(out.detach())
    assert torch.allclose(outputs[1], outputs[0], atol=1e-4, rtol=1e-3), (outputs[1] - outputs[0]).abs().max()
    for (name, p_ref), (_, p_kernel) in zip(reference.named_parameters(), kernel.named_parameters()):
        assert torch.allclose(p_kernel.grad, p_ref.grad, atol=1e-3, rtol=1e-2), name
    auto = build_architecture("mamba", SPEC, d_model=32, layers=2, scan="auto").cuda()
    auto.load_state_dict(reference.state_dict())
    with torch.no_grad():
        assert torch.allclose(auto(x), outputs[1], atol=1e-5, rtol=1e-5)  # auto takes the kernel on CUDA


@pytest.mark.skipif(mamba_kernel() is not None, reason="the kernel is available here")
def test_kernel_mode_is_refused_clearly_without_the_kernel_and_auto_needs_none() -> None:
    with pytest.raises(ArchbenchError, match="scan='kernel' needs the mamba-ssm package and a CUDA device"):
        build_architecture("mamba", SPEC, d_model=8, layers=1, scan="kernel")
    with pytest.raises(ArchbenchError, match="scan='kernel' needs the mamba-ssm package"):
        build_architecture("hybrid", SPEC, d_model=8, layers=2, heads=2, scan="kernel")
    model = build_architecture("mamba", SPEC, d_model=8, layers=1, scan="auto")
    assert model(torch.randn(2, 5, SPEC.input_dim)).shape == (2, 5, SPEC.output_dim)
