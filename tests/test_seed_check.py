"""Check seeds on the leaderboard: kept out of the figures, each cell's verdict set beside the reported one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.publish import publish
from bench.report.seed_check import check_rows, is_check, seed_check_section, split
from bench.results.store import RecordStore
from tests.leaderboard_records import record


def standard(arch: str, seed: int, value: float, solved_step: int | None) -> dict[str, Any]:
    rec = record(arch, seed, value, solved_step=solved_step)
    rec["command"] = rec["command"].replace("--profile quick", "--profile standard")
    return rec


def store_with_checks(root: Path) -> RecordStore:
    """transformer: solved on every seed; gru: solved on every reported seed, one check seed only."""
    store = RecordStore(root)
    for seed in range(6):
        store.append(standard("transformer", seed, 0.95, 500))
    for seed in range(3):
        store.append(standard("gru", seed, 0.93, 800))
    store.append(standard("gru", 3, 0.94, 900))
    store.append(standard("gru", 4, 0.40, None))
    store.append(standard("gru", 5, 0.41, None))
    return store


def test_check_seeds_follow_the_profile() -> None:
    assert is_check(standard("gru", 3, 0.9, 100)) and not is_check(standard("gru", 2, 0.9, 100))
    assert not is_check(record("gru", 3, 0.9))  # quick has no check seeds: seed 3 is reported there
    reported, checks = split([standard("gru", s, 0.9, 100) for s in range(6)])
    assert [r["seed"] for r in reported] == [0, 1, 2] and [r["seed"] for r in checks] == [3, 4, 5]


def test_verdicts_side_by_side(tmp_path: Path) -> None:
    records = list(store_with_checks(tmp_path / "runs").load())
    rows = {r.label: r for r in check_rows(*split(records))}
    assert (rows["transformer"].reported, rows["transformer"].check, rows["transformer"].same) == ("all", "all", True)
    gru = rows["gru"]
    assert (gru.reported, gru.check, gru.same) == ("all", "some", False)
    assert gru.reported_seeds == (0, 1, 2) and gru.check_seeds == (3, 4, 5)
    text = "\n".join(seed_check_section(list(rows.values())))
    assert "**1 of 2 cells give the same verdict**" in text
    assert "| gru" in text and "all (0,1,2)" in text and "some (3,4,5)" in text
    assert seed_check_section([]) == []


def test_page_keeps_check_seeds_out_of_the_figures_and_marks_the_cell(tmp_path: Path) -> None:
    text = publish(store_with_checks(tmp_path / "runs"), tmp_path / "L.md", plots=False).read_text()
    overview = text.split("## Verdicts on the check seeds", 1)[0]
    gru_row = next(line for line in overview.splitlines() if "3/3 solved" in line and "check seeds: some" in line)
    assert gru_row  # the gru cell counts seeds 0-2 only (3/3, not 4/6) and carries the check seeds' verdict
    assert "6/6" not in overview and "4/6" not in overview
    assert "6 check-seed runs kept out of the figures" in text
