"""Length-curve bookkeeping: numeric length order, n/a lengths, in-distribution excluded from the summary."""

from __future__ import annotations

from typing import Any

import pytest

from bench.report.lengths import length_curves, length_table
from bench.results.measures import beyond_training_mean
from bench.results.stats import mean_ci


def record(
    arch: str, seed: int, by_length: dict[str, float | None], status: str = "ok", task: str = "t"
) -> dict[str, Any]:
    return {
        "task": task,
        "arch": arch,
        "label": arch,
        "seed": seed,
        "status": status,
        "task_config": {"length": 16},
        "metrics": {"metric": "r2", "by_length": by_length} if status == "ok" else None,
    }


# String keys in an order where a lexicographic sort would put 128 before 16 and 32.
TRANSFORMER = [
    record("transformer", s, {"128": 0.5 + s / 100, "16": 0.99, "32": 0.9 + s / 100, "64": 0.8}) for s in range(3)
]
FCN = [record("fcn", s, {"16": 0.7 + s / 100, "32": None, "64": None, "128": None}) for s in range(3)]


def test_lengths_sorted_numerically_with_curve_values() -> None:
    curve = length_curves(TRANSFORMER)[0]
    assert curve.lengths == [16, 32, 64, 128]
    assert [p.in_distribution for p in curve.points] == [True, False, False, False]
    assert curve.means == pytest.approx([0.99, 0.91, 0.8, 0.51])
    assert curve.seeds == 3 and curve.train_length == 16 and curve.metric == "r2"
    assert curve.points[1].estimate == mean_ci([0.9, 0.91, 0.92])


def test_summary_is_mean_beyond_training_over_seeds() -> None:
    curve = length_curves(TRANSFORMER)[0]
    per_seed = [(0.9 + s / 100 + 0.8 + 0.5 + s / 100) / 3 for s in range(3)]  # 16 (in distribution) left out
    assert curve.summary == mean_ci(per_seed)
    assert beyond_training_mean(TRANSFORMER[0]["metrics"]["by_length"], 16) == pytest.approx(2.2 / 3)


def test_na_lengths_and_na_summary() -> None:
    fcn = length_curves(FCN)[0]
    assert fcn.means[0] == pytest.approx(0.71) and fcn.means[1:] == [None, None, None]
    assert fcn.lows[1] is None and fcn.summary is None
    # a model that takes 32 but not 64 gets no summary: it would average fewer, easier lengths
    partial = [record("rope", 0, {"16": 0.9, "32": 0.8, "64": None})]
    assert length_curves(partial)[0].summary is None
    assert length_curves([record("rope", 0, {"16": 0.9})])[0].summary is None  # nothing beyond training


def test_failed_runs_ignored_and_groups_kept_apart() -> None:
    curves = length_curves(TRANSFORMER + FCN + [record("fcn", 9, {}, status="failed")])
    assert [c.label for c in curves] == ["transformer", "fcn"]
    assert curves[1].seeds == 3


def test_length_table_marks_train_length_and_na() -> None:
    text = length_table(TRANSFORMER + FCN)
    header = text.splitlines()[0]
    assert header.index("r2 @16 (train)") < header.index("r2 @32") < header.index("r2 @128")
    assert "beyond training" in header and "Student-t" in header
    fcn_row = next(line for line in text.splitlines() if line.startswith("| fcn"))
    assert fcn_row.count("n/a") == 4 and "0.710 ±" in fcn_row
    assert length_table([]) == "(no runs)"
    with pytest.raises(ValueError, match="one task"):
        length_table(TRANSFORMER + [record("x", 0, {"16": 1.0}, task="other")])
