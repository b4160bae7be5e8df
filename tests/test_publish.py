"""`archbench publish`: cells recomputed from records, marks, failed cells, stale handling, bad input, plots."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.report.aggregate import group_cells
from bench.report.publish import NEAR, publish
from bench.results.stats import mean_ci
from bench.results.store import RecordStore
from tests.leaderboard_records import TASK, VALUES, record, standard_store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def overview_row(text: str, task: str = TASK) -> tuple[list[str], list[str]]:
    """(header cells, row cells) of the overview table's row for `task`."""
    lines = text.split("## Overview", 1)[1].splitlines()
    header = next(line for line in lines if line.startswith("| task"))
    row = next(line for line in lines if line.startswith((f"| {task} ", f"| [{task}]")))
    split = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
    return split(header), split(row)


def full_cell_of(text: str, label: str, task: str = TASK) -> list[str]:
    """An overview cell's lines: solved and samples to solve, the metric, beyond training, the literature mark."""
    header, row = overview_row(text, task)
    return row[header.index(label)].split("<br>")


def cell_of(text: str, label: str) -> str:
    """The in-distribution metric line of an overview cell (the whole cell when it is `failed` or `—`)."""
    lines = full_cell_of(text, label)
    return lines[1] if len(lines) > 1 else lines[0]


def test_overview_cells_recompute_from_records_with_marks_and_failed(tmp_path: Path) -> None:
    store = standard_store(tmp_path / "runs")
    out = publish(store, tmp_path / "LEADERBOARD.md", plots=False)
    text = out.read_text()
    best = mean_ci(VALUES["transformer"])
    assert cell_of(text, "transformer") == f"**{best.mean:.3f} ± {best.half_width:.3f}** (n=3)"
    gru = mean_ci(VALUES["gru"])
    assert cell_of(text, "gru") == f"{gru.mean:.3f} ± {gru.half_width:.3f} (n=3) {NEAR}"  # within noise of the best
    lstm = mean_ci(VALUES["lstm"])
    assert cell_of(text, "lstm") == f"{lstm.mean:.3f} ± {lstm.half_width:.3f} (n=3)"  # clearly worse: no mark
    assert cell_of(text, "fcn") == "failed"  # every seed failed: shown, not missing
    assert (
        "- fcn: 3 of 3 runs failed: `RuntimeError: boom at model.py:1`" in text.split("## sparse_token_selection", 1)[1]
    )
    assert "r2 (chance 0, solved at ≥ 0.9)" in text  # the metric and chance in the heading
    assert "Wang, Wei, Hsu, Lee 2024" in text  # the source paper
    assert (
        "Setting: preset small · up to 3,000 steps of batch 64, stopping early at solved_at · lr 0.003 · online" in text
    )


def test_sample_complexity_column_reads_the_stored_search(tmp_path: Path) -> None:
    from bench.run.sample_complexity import result_store

    store = standard_store(tmp_path / "runs")
    gru = record("gru", 0, 0.9)
    search = {
        key: gru[key] for key in ("task", "task_config", "arch", "arch_config", "preset", "train_config", "label")
    }
    result_store(store.root).append({**search, "key": "s1", "text": "1,448 in [1,024, 1,448]", "status": "ok"})
    text = publish(store, tmp_path / "L.md", plots=False).read_text()

    def column(label: str) -> str:
        section = text.split(f"## {TASK}", 1)[1].splitlines()
        header = next(line for line in section if line.startswith("| architecture"))
        row = next(line for line in section if line.startswith(f"| {label} "))
        cells = dict(zip((c.strip() for c in header.split("|")), (c.strip() for c in row.split("|"))))
        return cells["sample complexity n* [bracket]"]

    assert column("gru") == "1,448 in [1,024, 1,448]"
    assert column("lstm") == "—"  # no search stored for it


def test_partial_failure_and_missing_cells(tmp_path: Path) -> None:
    store = standard_store(tmp_path / "runs")
    store.append(record("transformer", 3, None))  # a fourth seed that crashed
    store.append(record("mamba", 0, 0.5, task_config={**record("lstm", 0, 0)["task_config"], "d": 4}))
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert "(n=3, 1 failed)" in cell_of(text, "transformer")
    assert "3 (+1 failed)" in text
    # mamba ran with another task config only; it is listed in the overview with its own configuration
    assert cell_of(text, "mamba").startswith("0.500")


def test_stale_records_left_out_unless_included(tmp_path: Path) -> None:
    store = standard_store(tmp_path / "runs")
    old = record("lstm", 7, 0.99)
    old["environment"] = {**old["environment"], "code_version": "000000000000"}
    store.append(old)
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert "(n=3)" in cell_of(text, "lstm") and "1 stale records left out" in text
    text = publish(store, tmp_path / "L.md", plots=False, include_stale=True).read_text()
    lstm = mean_ci([*VALUES["lstm"], 0.99])
    assert cell_of(text, "lstm").startswith(f"{lstm.mean:.3f} ± {lstm.half_width:.3f} (n=4)")


def test_all_stale_is_an_error_naming_the_option(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "runs")
    rec = record("gru", 0, 0.5)
    rec["environment"] = {**rec["environment"], "torch": "1.0.0"}
    store.append(rec)
    with pytest.raises(ArchbenchError, match=r"stale \(torch 1\.0\.0 -> .*--include-stale"):
        publish(store, tmp_path / "L.md", plots=False)
    assert not (tmp_path / "L.md").exists()


def test_records_of_an_older_schema_are_stale(tmp_path: Path) -> None:
    """A schema-1 record (here from before the code-version stamp) is read through `migrate` and left out as
    stale (`schema 1 -> 2`) unless --include-stale."""
    store = standard_store(tmp_path / "runs")
    rec = {**record("gru", 7, 0.99), "schema": 1}
    del rec["environment"]["code_version"], rec["environment"]["code_sources"]
    store.append(rec)
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert "(n=3)" in cell_of(text, "gru") and "1 stale records left out" in text
    assert "Stale records counted" not in text  # a page of current records carries no banner
    text = publish(store, tmp_path / "L.md", plots=False, include_stale=True).read_text()
    assert "(n=4)" in cell_of(text, "gru")
    # counted stale records are said first, above every table, with what differs
    banner = text.split("## Overview")[0]
    assert "**Stale records counted** (`--include-stale`): 1 of" in banner and "schema" in banner


def test_a_stale_record_superseded_by_a_current_one_is_not_counted_twice(tmp_path: Path) -> None:
    """With --include-stale, a stale record of a configuration and seed that also has a current record is left
    out: the same seed is never averaged twice across two versions of the code."""
    store = standard_store(tmp_path / "runs")
    current = next(r for r in store.load() if r["arch"] == "gru")
    old = {**current, "key": "old-" + current["key"], "schema": 1}
    del old["environment"]["code_version"], old["environment"]["code_sources"]
    store.append(old)
    text = publish(store, tmp_path / "L.md", plots=False, include_stale=True).read_text()
    assert "(n=3)" in cell_of(text, "gru") and "Stale records counted" not in text


def test_truncated_last_line_is_reported_and_the_rest_used(tmp_path: Path, capsys) -> None:
    store = standard_store(tmp_path / "runs")
    with store.path_for(TASK).open("a") as handle:
        handle.write(json.dumps(record("lstm", 9, 0.99))[:70])  # a writer killed mid-line
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert "skipped a corrupt line" in capsys.readouterr().err
    assert "1 unreadable lines skipped" in text
    assert cell_of(text, "lstm").endswith("(n=3)")


def test_lr_validation_runs_are_not_reported(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "runs")
    validation = record("gru", 1000, 0.01)  # a validation seed at the chosen lr: same cell, must not count
    store.append(validation)
    for seed, value in enumerate([0.8, 0.9]):
        rec = record("gru", seed, value)
        rec["lr_selection"] = {"chosen": 0.003, "validation_keys": [validation["key"]]}
        store.append(rec)
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert cell_of(text, "gru").startswith(f"**{mean_ci([0.8, 0.9]).mean:.3f}")
    assert "1 validation-seed runs left out" in text
    assert "selected on validation seeds" in text


def test_validation_seeds_are_never_reported(tmp_path: Path) -> None:
    """A run on a validation seed that no lr selection names (a budget calibration run) is left out too."""
    store = RecordStore(tmp_path / "runs")
    store.append(record("gru", 1001, 0.01))
    for seed, value in enumerate([0.8, 0.9]):
        store.append(record("gru", seed, value))
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    assert cell_of(text, "gru").startswith(f"**{mean_ci([0.8, 0.9]).mean:.3f}")
    assert "1 validation-seed runs left out (seeds 1000 and up" in text


def test_budget_checks_on_validation_seeds_are_listed_not_counted(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "runs")
    store.append(record("transformer", 1001, 0.97, solved_step=700))
    store.append(record("transformer", 1002, 0.40))
    for seed in range(3):
        store.append(record("transformer", seed, 0.9))
    text = publish(store, tmp_path / "L.md", plots=False).read_text()
    section = text.split("## Budgets checked on validation seeds", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(f"| {TASK}")]
    assert len(rows) == 2
    assert "| 1001 " in rows[0] and "yes, step 700" in rows[0] and "0.970" in rows[0]
    assert "| 1002 " in rows[1] and "no, within" in rows[1] and "0.400" in rows[1]
    assert cell_of(text, "transformer").startswith("**0.900")  # the cell counts seeds 0-2 only


def test_plots_are_valid_png_and_svg_with_relative_links(tmp_path: Path) -> None:
    store = standard_store(tmp_path / "runs")
    for n, values in {256: [0.1, 0.2], 1024: [0.5, 0.6], 4096: [0.9, 0.95]}.items():
        for seed, value in enumerate(values):
            store.append(record("transformer", seed, value, n_train=n))
    out = publish(store, tmp_path / "site" / "LEADERBOARD.md")
    text = out.read_text()
    for kind in ("length", "samples"):
        path = tmp_path / "site" / "plots" / f"{TASK}_{kind}.png"
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert f"](plots/{TASK}_{kind}.png)" in text
    publish(store, tmp_path / "site" / "LEADERBOARD.md", plot_format="svg")
    root = ET.parse(tmp_path / "site" / "plots" / f"{TASK}_length.svg").getroot()
    assert root.tag.endswith("svg")


def test_missing_plot_data_gives_a_note(tmp_path: Path) -> None:
    text = publish(standard_store(tmp_path / "runs"), tmp_path / "L.md").read_text()
    assert "No sample-complexity plot" in text
    assert not (tmp_path / "plots" / f"{TASK}_samples.png").exists()


def test_interrupted_publish_keeps_the_previous_page(tmp_path: Path, monkeypatch) -> None:
    store = standard_store(tmp_path / "runs")
    out = tmp_path / "L.md"
    out.write_text("previous page\n")

    def crash(text):  # the page is complete but the process dies while writing it
        raise KeyboardInterrupt

    import bench.results.atomic

    original = bench.results.atomic.os.fsync
    monkeypatch.setattr(bench.results.atomic.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        publish(store, out, plots=False)
    monkeypatch.setattr(bench.results.atomic.os, "fsync", original)
    assert out.read_text() == "previous page\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L.md", "runs"]  # no temporary file left


def test_cli_empty_store_and_unmatched_filter_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["publish", "--results", str(tmp_path / "runs"), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "no records in" in err and "archbench sweep --profile smoke" in err
    standard_store(tmp_path / "runs")
    assert main(["publish", "--results", str(tmp_path / "runs"), "--task", "copy", "--no-plots"]) == 2
    assert "no records for task(s) copy" in capsys.readouterr().err
    assert main(["publish", "--results", str(tmp_path / "runs"), "--format", "nope", "--no-plots"]) == 2
    assert "unknown table format 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "LEADERBOARD.md").exists()


def test_cli_writes_next_to_the_record_directory_with_provenance(tmp_path: Path, capsys) -> None:
    standard_store(tmp_path / "runs")
    assert main(["publish", "--results", str(tmp_path / "runs"), "--format", "pipe", "--no-plots"]) == 0
    text = (tmp_path / "LEADERBOARD.md").read_text()
    assert "## Provenance" in text and "- **Page**: `archbench " in text  # the invoking command line
    assert f"archbench run --task {TASK} --arch transformer --profile quick` (3 runs" in text
    assert "|:--" in text  # pipe format


def test_provenance_gives_each_command_the_span_over_which_its_records_were_stored() -> None:
    from bench.report.provenance import command_minutes, command_spans

    records = [
        {"command": "archbench sweep --profile quick", "created": "2026-12-02T04:00:00+00:00"},
        {"command": "archbench sweep --profile quick", "created": "2026-12-02T04:31:30+00:00"},
        {"command": "archbench sweep --profile quick", "created": "2026-12-02T04:10:00+00:00"},
        {"command": "archbench run --task copy", "created": "2026-12-02T05:00:00+00:00"},
    ]
    assert command_minutes(records, "archbench sweep --profile quick") == 31.5
    assert command_minutes(records, "archbench run --task copy") is None  # one record: no span
    assert command_spans(records) == {"archbench sweep --profile quick": ", stored over 32 min"}


def test_real_smoke_runs_publish_and_recompute(tmp_path: Path) -> None:
    """A real tiny run through the runner: every overview number comes from its records."""
    from bench.run.execute import execute
    from bench.run.plan import plan
    from bench.run.profiles import get_profile

    store = RecordStore(tmp_path / "runs")
    runs = plan(
        TASK, ["transformer", "gru"], get_profile("smoke"), seeds=[0, 1], train_overrides={"steps": 4, "eval_every": 2}
    )
    execute(runs, store)
    out = publish(store, tmp_path / "LEADERBOARD.md")
    text = out.read_text()
    for cell in group_cells(store.load()):
        estimate = mean_ci([r["metrics"]["in_distribution"] for r in cell.ok])
        assert estimate.interval_text() in cell_of(text, cell.label)
        assert "(n=2)" in cell_of(text, cell.label)
    assert (tmp_path / "plots" / f"{TASK}_length.png").read_bytes()[:8] == PNG_MAGIC
    assert "archbench" in text.split("## Provenance", 1)[1]


def test_missing_matplotlib_is_a_one_line_error_and_no_plots_still_works(tmp_path: Path, monkeypatch, capsys) -> None:
    standard_store(tmp_path / "runs")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the plots extra were not installed
    assert main(["publish", "--results", str(tmp_path / "runs")]) == 2
    assert "pip install 'archbench[plots]' (or pass --no-plots)" in capsys.readouterr().err
    assert not (tmp_path / "LEADERBOARD.md").exists()
    assert main(["publish", "--results", str(tmp_path / "runs"), "--no-plots"]) == 0


def test_budget_check_rows_name_the_task_size_they_ran() -> None:
    from bench.contract.registry import get_task
    from bench.report.calibration import _task_departures

    defaults = get_task("mqar").config()
    assert _task_departures({"task": "mqar", "task_config": {**defaults, "eval_lengths": [64]}}) == ""
    resized = {**defaults, "length": 32, "vocab_size": 64, "eval_lengths": [64]}
    assert _task_departures({"task": "mqar", "task_config": resized}) == ", task length=32 vocab_size=64"
    assert _task_departures({"task": "no_such_task", "task_config": {}}) == ""
