"""Load one file of an installed reference package as a standalone module (test oracles only).

Why: `fla`'s package `__init__` imports triton, which a CPU-only machine lacks, yet its pure-PyTorch
reference files (`fla/ops/<op>/naive.py`, `fla/modules/long_conv.py`) need only torch and einops. Loading
the one file by path runs it without the package's import chain; a missing package or file is a skip.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def load_reference_file(package: str, relative: str) -> ModuleType:
    """`relative` (e.g. "ops/based/naive.py") inside installed `package`, imported on its own, or skip."""
    spec = importlib.util.find_spec(package)  # locates a top-level package without executing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"reference package {package!r} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        pytest.skip(f"reference file {relative!r} is not in this version of {package!r}")
    module_spec = importlib.util.spec_from_file_location(f"_reference_{package}_{path.stem}", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ImportError as exc:  # the file itself needs something this machine lacks
        pytest.skip(f"reference file {package}/{relative} does not import here: {exc}")
    return module
