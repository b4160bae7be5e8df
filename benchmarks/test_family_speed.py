"""Every family's forward + backward at T=256 on a CPU, each training form (`mode`) where it has several.

Run: `OMP_NUM_THREADS=1 python -m pytest benchmarks/test_family_speed.py --benchmark-only
--benchmark-json family_speed.json`, then `python benchmarks/family_speed_table.py family_speed.json
docs/family-speed.md` renders the table (the page is generated from the measurement, never typed).
The families and their forms come from the registry (a `mode` hyper-parameter annotated with a
`Literal`), so a new family is measured without editing this file. Models are built at the `tiny` preset
(parameter counts matched to the transformer's) for one vectors-in / vector-out spec; the default form of
each family was chosen by the same measurement. Correctness (that the forms agree) is tested in
`tests/test_family_*.py` and `tests/test_architectures.py`; this file only measures.
"""

from __future__ import annotations

import typing

import pytest
import torch

from bench import list_architectures
from bench.contract.registry import build_architecture, get_architecture
from bench.contract.spec import TaskSpec
from bench.run.presets import resolve_hparams

LENGTH, BATCH = 256, 8
SPEC = TaskSpec("vectors", "vector", seq_len=LENGTH, max_seq_len=LENGTH, input_dim=8, output_dim=8)


def modes(arch: str) -> tuple[str | None, ...]:
    """The training forms a family offers (its `mode` choices), or (None,) for a family with one form."""
    entry = get_architecture(arch)
    if "mode" not in entry.parameters():
        return (None,)
    hint = typing.get_type_hints(entry.obj).get("mode")
    return tuple(typing.get_args(hint)) or (None,)


CASES = [(arch, mode) for arch in list_architectures() for mode in modes(arch)]


@pytest.mark.parametrize(("arch", "mode"), CASES, ids=[f"{a}-{m or 'default'}" for a, m in CASES])
def test_family_forward_backward_t256(benchmark, arch: str, mode: str | None) -> None:
    overrides = {} if mode is None else {"mode": mode}
    hparams = resolve_hparams(arch, SPEC, "tiny", overrides)
    torch.manual_seed(0)
    model = build_architecture(arch, SPEC, **hparams).train()
    x = torch.randn(BATCH, LENGTH, SPEC.input_dim or 1, generator=torch.Generator().manual_seed(1))

    def step() -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        return loss.detach()

    default = get_architecture(arch).parameters().get("mode")
    benchmark.group = f"forward+backward, T={LENGTH}, batch {BATCH}, tiny preset"
    benchmark.extra_info.update(
        {
            "arch": arch,
            "mode": mode or "-",
            "default_mode": mode is None or (default is not None and default.default == mode),
            "parameters": sum(p.numel() for p in model.parameters()),
            "threads": torch.get_num_threads(),
        }
    )
    loss = benchmark(step)
    assert torch.isfinite(loss)
