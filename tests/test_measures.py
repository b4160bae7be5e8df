"""One definition per figure: `bench.results.measures` on fabricated metrics, and every page that shows a
figure (run table, leaderboard, length table, lr selection, sample-complexity search, benchmark suite)
showing the same value for the same records."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.report.lengths import length_curves, length_table
from bench.report.publish import publish
from bench.report.tables import run_table
from bench.results import measures
from bench.results.stats import mean_ci
from bench.results.store import RecordStore
from bench.run.lr_select import score
from bench.run.sample_complexity import online_figure
from tests.leaderboard_records import TASK, record


def seed(solved_at_samples: float | None = None, seen: int = 1000, by_length: dict | None = None, **extra: Any) -> dict:
    """Harness-shaped metrics of one seed (only the fields the figures read)."""
    return {
        "solved": solved_at_samples is not None,
        "samples_to_solve": solved_at_samples,
        "samples_seen": seen,
        "time_to_solve_s": None if solved_at_samples is None else solved_at_samples / 100,
        "fit_seconds": seen / 50,
        "by_length": by_length or {},
        **extra,
    }


# --- each definition --------------------------------------------------------------------------------------


def test_unsolved_seeds_count_as_infinitely_many_samples() -> None:
    assert measures.samples_to_solve(seed(640)) == 640 and measures.samples_to_solve(seed(None)) == math.inf
    # the median counts unsolved seeds: 2 of 3 solved -> the middle solved seed; 1 of 3 -> unsolved
    assert measures.median_samples_to_solve([seed(640), seed(None), seed(1280)]) == 1280
    assert measures.median_samples_to_solve([seed(640), seed(None), seed(None)]) == math.inf
    # not the median over solved seeds only (the old claims' figure, which would say 640 here)
    assert measures.median_samples_to_solve([seed(640), seed(None), seed(None)]) != 640
    assert measures.median_samples_to_solve([seed(640), seed(None)]) == math.inf  # even count: mean of 640 and inf
    assert measures.median_samples_to_solve([]) == math.inf
    # a samples_to_solve without `solved` (inconsistent record) is not a solve
    assert measures.samples_to_solve({"solved": False, "samples_to_solve": 640}) == math.inf


def test_to_solve_texts_name_the_budget_when_the_median_did_not_solve() -> None:
    assert measures.median_to_solve([seed(12800), seed(6400), seed(None, seen=192000)]) == "12,800"
    assert (
        measures.median_to_solve([seed(640, seen=640), seed(None, seen=192000), seed(None, seen=96000)]) == "> 192,000"
    )
    assert measures.median_time_to_solve([seed(1000), seed(3000), seed(None)]) == 30.0
    assert measures.median_time_to_solve_text([seed(1000), seed(None, seen=5000), seed(None, seen=2500)]) == "> 100.0"


def test_samples_to_solve_interval_text() -> None:
    # 3 seeds: the median and [min, max]; an unsolved bound reads as more than the samples any seed saw
    assert measures.median_to_solve_interval([seed(12800), seed(6400), seed(25600)]) == "12,800 [6,400, 25,600]"
    assert measures.median_to_solve_interval([seed(640), seed(None, seen=9000), seed(1280)]) == "1,280 [640, > 9,000]"
    assert measures.median_to_solve_interval([seed(640), seed(None, seen=9000), seed(None, seen=800)]) == "> 9,000"
    assert measures.median_to_solve_interval([seed(640)]) == "640"
    assert measures.median_to_solve_interval([seed(640), seed(640), seed(640)]) == "640"  # no spread: no interval
    assert measures.median_to_solve_interval([]) == "n/a"
    est = measures.samples_to_solve_interval([seed(12800), seed(6400), seed(25600)])
    assert est is not None and est.coverage == pytest.approx(0.75)


def test_verdicts_over_seeds() -> None:
    assert measures.verdict([True, True]) == "all" and measures.verdict([True, False]) == "some"
    assert measures.verdict([False]) == "none" and measures.verdict([]) is None
    assert measures.solve_verdict([seed(10), seed(None)]) == "some"
    kept, lost, na = (
        seed(None, by_length=bl) for bl in ({"16": 1.0, "32": 0.95}, {"16": 1.0, "32": 0.5}, {"16": 1.0, "32": None})
    )
    assert measures.generalizes(kept, 16, 0.9) is True and measures.generalizes(lost, 16, 0.9) is False
    assert measures.generalizes(na, 16, 0.9) is None  # cannot take the longer length: no figure
    assert measures.beyond_verdict([kept, kept], 16, 0.9) == "all"
    assert measures.beyond_verdict([kept, lost], 16, 0.9) == "some"
    assert measures.beyond_verdict([kept, na], 16, 0.9) is None  # one seed unjudgeable: no verdict at all
    assert measures.above([0.5, 0.52, 0.48], 0.1) is True and measures.above([0.0, 0.2, -0.1], 0.0) is False
    assert measures.above([0.3], 0.1) is True and measures.above([], 0.1) is None


def test_censored_lower_bound_counts_an_unsolved_seed_at_what_it_saw() -> None:
    assert measures.samples_to_solve_lower_bound(seed(640, seen=900)) == 640
    assert measures.samples_to_solve_lower_bound(seed(None, seen=192000)) == 192000


def test_beyond_training_mean_is_na_when_any_longer_length_is_na() -> None:
    by_length = {"128": 0.4, "16": 0.9, "32": 0.8, "64": 0.6}  # string keys, any order
    assert measures.beyond_training_mean(by_length, 16) == pytest.approx((0.8 + 0.6 + 0.4) / 3)
    # the training length and shorter lengths are never part of it
    assert measures.beyond_training_mean({"8": 0.0, **by_length}, 16) == pytest.approx(0.6)
    # a length the model cannot take: no figure (not the mean of the lengths it can take)
    assert measures.beyond_training_mean({"16": 0.9, "32": 0.8, "64": None}, 16) is None
    assert measures.beyond_training_mean({"16": 0.9}, 16) is None  # nothing beyond training
    # an old record's stored `ood_mean` (which skipped n/a lengths) is never read
    old = {"by_length": {"16": 0.9, "32": 0.8, "64": None}, "ood_mean": 0.8}
    assert measures.run_beyond_training_mean(old, 16) is None


def test_first_beyond_training_at_length_and_in_distribution() -> None:
    metrics = {"in_distribution": 0.9, "by_length": {"16": 0.9, "128": 0.3, "64": None, "32": 0.7}}
    assert measures.in_distribution(metrics) == 0.9 and measures.in_distribution({}) is None
    assert measures.at_length(metrics, 32) == 0.7 and measures.at_length(metrics, 64) is None
    assert measures.at_length(metrics, 256) is None  # not evaluated
    assert measures.first_beyond_training(metrics, 16) == 0.7  # 32, not the lexicographically first "128"
    assert measures.first_beyond_training(metrics, 32) is None  # 64: n/a for this model
    assert measures.first_beyond_training(metrics, 128) is None  # nothing beyond


def test_solved_count_fraction_and_best_validation() -> None:
    runs = [seed(640), seed(None), seed(1280)]
    assert measures.solved_count(runs) == (2, 3) and measures.solved_fraction(runs) == pytest.approx(2 / 3)
    assert measures.solved_fraction([]) is None
    assert measures.best_validation({"val_history": [[100, 0.3], [200, 0.8], [300, 0.7]]}) == 0.8
    assert measures.best_validation({"val_best": 0.5}) == 0.5 and measures.best_validation({}) is None
    # failed seeds ({} from run_metrics) count as the worst in the median of best validation
    assert measures.run_metrics({"status": "failed", "metrics": None}) == {}
    assert measures.median_best_validation([{"val_best": 0.9}, {"val_best": 0.95}, {}]) == 0.9
    assert measures.median_best_validation([{"val_best": 0.9}, {}, {}]) == -math.inf


def test_over_seeds_drops_na_seeds_and_is_na_without_any() -> None:
    assert measures.over_seeds([0.2, None, 0.4]) == mean_ci([0.2, 0.4])
    assert measures.over_seeds([None, None]) is None


# --- every page agrees --------------------------------------------------------------------------------------

# Per configuration: (in-distribution value, step solved at or None, metric at every longer length) per seed.
# Batch 64, budget 3000 steps (tests.leaderboard_records). fcn cannot take a longer length.
SEEDS = {
    "transformer": [(0.95, 100, 0.5), (0.93, 200, 0.6), (0.85, None, 0.7)],  # 2/3 solved: median 200 steps
    "gru": [(0.92, 50, 0.2), (0.70, None, 0.3), (0.60, None, 0.1)],  # 1/3 solved: median unsolved
    "fcn": [(0.99, 10, None), (0.98, 30, None), (0.97, 20, None)],  # 3/3 solved, n/a beyond training
}
EXPECTED = {  # written out by hand from SEEDS, so the pages are checked against the definitions, not each other
    "transformer": {"solved": "2/3", "median": "12,800", "median_value": 12800.0, "beyond": mean_ci([0.5, 0.6, 0.7])},
    "gru": {"solved": "1/3", "median": "> 192,000", "median_value": math.inf, "beyond": mean_ci([0.2, 0.3, 0.1])},
    "fcn": {"solved": "3/3", "median": "1,280", "median_value": 1280.0, "beyond": None},
}


def fabricated() -> list[dict[str, Any]]:
    records = []
    for arch, seeds in SEEDS.items():
        for s, (value, step, ood) in enumerate(seeds):
            rec = record(arch, s, value, solved_step=step, ood=ood)
            rec["metrics"]["ood_mean"] = 0.999  # what an old record may still carry: must be read nowhere
            records.append(rec)
    return records


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every github-format table in `text`, as rows keyed by header."""
    found, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            header, _, *rows = block
            found.append([dict(zip(header, row)) for row in rows])
            block = []
    return found


def column(rows: list[dict[str, str]], label: str, suffix: str) -> str:
    row = next(r for r in rows if r.get("architecture") == label)
    return next(value for key, value in row.items() if key.endswith(suffix))


def beyond_text(expected: Any) -> str:
    return "n/a" if expected is None else expected.interval_text(3)


def test_the_same_records_give_the_same_figures_on_every_page(tmp_path: Path) -> None:
    records = fabricated()
    store = RecordStore(tmp_path / "runs")
    for rec in records:
        store.append(rec)

    run_rows = tables(run_table(records))[0]
    length_rows = tables(length_table(records))[0]
    page = publish(store, tmp_path / "LEADERBOARD.md", plots=False).read_text()
    section = page.split(f"## {TASK}", 1)[1]
    task_rows, page_length_rows = tables(section)[:2]

    for arch, want in EXPECTED.items():
        mine = [r for r in records if r["arch"] == arch]
        metrics = [r["metrics"] for r in mine]
        # solved count: run table, leaderboard, benchmark suite
        assert column(run_rows, arch, "solved") == want["solved"], arch
        assert column(task_rows, arch, "solved") == want["solved"], arch
        # median samples to solve, unsolved seeds infinite: run table, leaderboard, lr selection, search, benchmarks
        assert column(run_rows, arch, "samples to solve (median)") == want["median"], arch
        assert column(task_rows, arch, "samples to solve (median)") == want["median"], arch
        lr_score = score(mine, solved_at=0.9)["samples_to_solve"]
        assert (math.inf if lr_score is None else lr_score) == want["median_value"], arch
        online = online_figure(mine)
        assert online["text"] == want["median"] and (online["median"] or math.inf) == want["median_value"], arch
        # mean beyond the training length (n/a for fcn, never the stored 0.999): every table that shows it
        expected_beyond = beyond_text(want["beyond"])
        for rows in (run_rows, length_rows, task_rows, page_length_rows):
            assert column(rows, arch, "beyond training (mean)") == expected_beyond, arch
        # in-distribution: the run table's and length table's train-length column, the leaderboard's column
        in_dist = mean_ci([v for v, _, _ in SEEDS[arch]]).interval_text(3)
        assert column(run_rows, arch, "@16 (train)") == in_dist and column(length_rows, arch, "@16 (train)") == in_dist
        assert column(task_rows, arch, "(in distribution)").strip("*").startswith(in_dist), arch
        assert measures.median_samples_to_solve(metrics) == want["median_value"]
    assert "0.999" not in page and "0.999" not in run_table(records)


def test_the_benchmark_suite_reports_the_same_figures() -> None:
    from benchmarks.test_suite import run_summary

    records = fabricated()
    for arch, want in EXPECTED.items():
        mine = [r for r in records if r["arch"] == arch]
        run = SimpleNamespace(
            task_name=TASK, arch=arch, preset="small", task=SimpleNamespace(solved_at=0.9), arch_config={}
        )
        summary = run_summary(run, mine, SimpleNamespace(name="test"))  # type: ignore[arg-type]
        assert summary["solved_seeds"] == int(want["solved"].split("/")[0])
        assert (summary["samples_to_solve_median"] or math.inf) == want["median_value"]
        beyond = want["beyond"]
        assert summary["beyond_training_mean"] == (None if beyond is None else pytest.approx(beyond.mean))
        assert summary["in_distribution"] == pytest.approx(mean_ci([v for v, _, _ in SEEDS[arch]]).mean)
        assert summary["beyond_training_mean"] == (length_curves(mine)[0].summary.mean if beyond else None)
