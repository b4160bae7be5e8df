"""Shared fixtures: tiny task/model settings so every test stays within seconds on 2 CPU cores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "tests" / "plugins"


@pytest.fixture(autouse=True)
def _single_thread() -> None:
    torch.set_num_threads(1)  # tests are tiny; one thread avoids oversubscription when two run at once


@pytest.fixture
def mean_pool_plugin() -> Path:
    from bench.contract.registry import load_plugins

    path = PLUGINS / "mean_pool_plugin.py"
    load_plugins([str(path)])
    return path
