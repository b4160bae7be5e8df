"""The leaderboard's learning-rate search cost section, on fabricated records."""

from __future__ import annotations

from typing import Any

from bench.report.search_cost import search_cost_rows, search_cost_section


def record(task: str, study: str, cost: int, grid: int, budget: int, steps: int, seed: int = 0) -> dict[str, Any]:
    return {
        "task": task,
        "seed": seed,
        "status": "ok",
        "command": f"archbench sweep --profile standard --tasks {task}",
        "metrics": {"steps": steps},
        "lr_selection": {
            "method": "successive_halving",
            "study": study,
            "cost_steps": cost,
            "full_grid_steps": grid,
            "budget": budget,
        },
    }


def test_each_search_counted_once_with_its_ratios() -> None:
    records = [
        # one search used by three seeds that trained 500, 700 and 900 steps (mean 700)
        record("mqar", "lr-a", 2800, 10000, 2000, 500, seed=0),
        record("mqar", "lr-a", 2800, 10000, 2000, 700, seed=1),
        record("mqar", "lr-a", 2800, 10000, 2000, 900, seed=2),
        # a second cell whose runs never solve: they train the whole budget
        record("mqar", "lr-b", 4000, 10000, 2000, 2000),
        record("copy", "lr-c", 1000, 4000, 800, 800),
    ]
    rows = {row[0]: row for row in search_cost_rows(records)}
    assert rows["mqar"][1:6] == ["standard", 2, "6,800", "20,000", "34%"]
    assert rows["mqar"][6] == "1.70"  # (2800/2000 + 4000/2000) / 2
    assert rows["mqar"][7] == "3.00 (median)"  # median of 2800/700 = 4.0 and 4000/2000 = 2.0
    assert rows["copy"][3:] == ["1,000", "4,000", "25%", "1.25", "1.25 (median)"]


def test_other_selections_and_failed_runs_are_left_out() -> None:
    grid = record("mqar", "lr-a", 2800, 10000, 2000, 500)
    grid["lr_selection"] = {"method": "grid", "chosen": 0.001}
    failed = record("mqar", "lr-b", 2800, 10000, 2000, 500)
    failed["status"] = "failed"
    plain = {"task": "mqar", "seed": 0, "status": "ok", "metrics": {}}
    assert search_cost_rows([grid, failed, plain]) == []
    assert search_cost_section([grid, failed, plain]) == []
    section = search_cost_section([record("mqar", "lr-a", 2800, 10000, 2000, 500)])
    assert section[0] == "## Cost of the learning-rate search" and "28%" in "\n".join(section)
