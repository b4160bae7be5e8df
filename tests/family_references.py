"""Loading the installed reference implementations that the family tests compare against (test oracles only).

flash-linear-attention's package `__init__` imports Triton kernels, which do not import on a CPU-only
machine, but its `fla/ops/<op>/naive.py` files are pure PyTorch: they are loaded here straight from their
files, without running the package's `__init__`. A test skips cleanly when the package (or einops, which
the naive files import) is absent.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def fla_naive(op: str) -> ModuleType:
    """`fla/ops/<op>/naive.py` as a module, or skip the test."""
    pytest.importorskip("einops")
    spec = importlib.util.find_spec("fla")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("flash-linear-attention (fla) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "ops" / op / "naive.py"
    if not path.is_file():
        pytest.skip(f"this fla version has no {path.name} for {op}")
    module_spec = importlib.util.spec_from_file_location(f"fla_naive_{op}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module
