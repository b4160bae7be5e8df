"""The family speed page is rendered from pytest-benchmark's JSON: each form's ratio to its family's default."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _renderer():
    spec = importlib.util.spec_from_file_location("family_speed_table", ROOT / "benchmarks" / "family_speed_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(arch: str, mode: str, median: float, default: bool) -> dict:
    info = {"arch": arch, "mode": mode, "default_mode": default, "parameters": 1000, "threads": 1}
    return {"extra_info": info, "stats": {"median": median, "iqr": median / 10}}


def test_rows_give_each_form_its_ratio_to_the_default_form() -> None:
    data = {
        "benchmarks": [
            _bench("deltanet", "recurrent", 0.30, False),
            _bench("deltanet", "chunk", 0.10, True),
            _bench("lstm", "-", 0.05, True),
        ]
    }
    rows = _renderer().rows(data)
    assert rows[0][:5] == ["deltanet", "chunk (default)", "100.0", "10.0", "1.00"]
    assert rows[1][:5] == ["deltanet", "recurrent", "300.0", "30.0", "3.00"]
    assert rows[2][:2] == ["lstm", "-"]


def test_the_committed_page_is_the_rendering_of_the_committed_measurement() -> None:
    import json

    module = _renderer()
    data = json.loads((ROOT / "docs" / "family-speed.json").read_text())
    assert (ROOT / "docs" / "family-speed.md").read_text() == module.render(data, "family-speed.json")
