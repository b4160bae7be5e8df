"""Parallel vs sequential scan: forward + backward of one S4D layer and one Mamba block at T=256 on CPU.

Run: `OMP_NUM_THREADS=1 python -m pytest benchmarks/test_scan_speed.py --benchmark-only`. Each group
compares the scan modes of one layer at one size; `extra_info` stores the configuration with every
figure. Two sizes, because the answer depends on it: with few channels the sequential loop is bound by
per-step overhead (256 small steps) and the log-depth parallel scan wins; with more channels both are
bound by memory traffic, and the parallel scan, which moves every state several times, can lose. S4D's
training default, the FFT convolution, is included for reference. (Correctness, that the modes agree,
is tested in `tests/test_scan.py`; this file only measures.)
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from architectures.backbone import Block
from architectures.mamba import RMSNORM, MambaMixer
from architectures.s4d import S4DMixer

LENGTH = 256
SIZES = {"B1-d16": (1, 16), "B4-d64": (4, 64)}  # (batch, d_model)
S4D_STATE, MAMBA_STATE = 32, 16  # the families' default d_state


def s4d_layer(mode: str, d_model: int) -> nn.Module:
    return Block(d_model, S4DMixer(d_model, S4D_STATE, init="lin", dt_min=1e-3, dt_max=1e-1, dropout=0.0, mode=mode))


def mamba_layer(mode: str, d_model: int) -> nn.Module:
    return Block(d_model, MambaMixer(d_model, d_state=MAMBA_STATE, scan=mode), norm=RMSNORM)


LAYERS = {"s4d": (s4d_layer, ("parallel", "sequential", "fft")), "mamba": (mamba_layer, ("parallel", "sequential"))}
CASES = [(arch, mode, size) for size in SIZES for arch, (_, modes) in LAYERS.items() for mode in modes]


@pytest.mark.parametrize(("arch", "mode", "size"), CASES, ids=[f"{a}-{m}-{s}" for a, m, s in CASES])
def test_forward_backward_at_t256(benchmark, arch: str, mode: str, size: str) -> None:
    batch, d_model = SIZES[size]
    torch.manual_seed(0)
    layer = LAYERS[arch][0](mode, d_model).train()
    x = torch.randn(batch, LENGTH, d_model, generator=torch.Generator().manual_seed(1))

    def step() -> torch.Tensor:
        layer.zero_grad(set_to_none=True)
        loss = layer(x).square().mean()
        loss.backward()
        return loss.detach()

    benchmark.group = f"{arch} layer forward+backward, T={LENGTH}, batch {batch}, d_model {d_model}"
    benchmark.extra_info.update(
        {
            "arch": arch,
            "scan": mode,
            "batch": batch,
            "length": LENGTH,
            "d_model": d_model,
            "d_state": S4D_STATE if arch == "s4d" else MAMBA_STATE,
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        }
    )
    loss = benchmark(step)
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in layer.parameters())
