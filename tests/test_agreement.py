"""Leaderboard cells against the literature matrix, on fabricated records: agree / disagree / undecided / no
runs, the agreement rate, the explanation under a disagreement, and the overview cell that carries the mark."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import agreement
from bench.report.aggregate import group_cells
from bench.report.literature import load_matrix
from bench.report.publish import publish
from bench.results.store import RecordStore
from tests.leaderboard_records import TASK, record
from tests.test_publish import full_cell_of

MATRIX = f"""
[papers.p]
authors = "Doe, Roe, Poe"
year = 2024
title = "A paper"
arxiv = "2401.00001v2"
where = "Table 1"
setting = "width 512, 1M steps"
aggregation = "best of 3 seeds"
models.T = {{ family = "transformer" }}
models.G = {{ family = "gru" }}
models.L = {{ family = "lstm" }}
models.F = {{ family = "fcn" }}
models.M = {{ family = "mamba" }}
entries = [
    {{ task = "{TASK}", model = "T", outcome = "solves" }},
    {{ task = "{TASK}", model = "G", outcome = "solves" }},
    {{ task = "{TASK}", model = "L", outcome = "partial" }},
    {{ task = "{TASK}", model = "F", beyond_training = true }},
    {{ task = "{TASK}", model = "M", outcome = "solves" }},
]
"""


def matrix_file(tmp_path: Path, text: str = MATRIX) -> Path:
    path = tmp_path / "matrix.toml"
    path.write_text(text, encoding="utf-8")
    return path


def store_with(tmp_path: Path, larger_gru: bool) -> RecordStore:
    """transformer solved in 3/3 seeds (agrees with `solves`), gru in 0/3 (disagrees), lstm in 0/3 but above
    chance (agrees with `partial`), fcn solved but it cannot take a longer length (beyond: undecided), mamba not
    run; with `larger_gru`, gru with a 20,000-step budget solved in 3/3."""
    store = RecordStore(tmp_path / "runs")
    for seed, step in enumerate((100, 200, 50)):
        store.append(record("transformer", seed, 0.95, solved_step=step))
    for seed, value in enumerate((0.5, 0.6, 0.55)):
        store.append(record("gru", seed, value))
        store.append(record("lstm", seed, value / 2))
        store.append(record("fcn", seed, 0.95, solved_step=30))
        if larger_gru:
            store.append(record("gru", seed, 0.95, solved_step=500, steps=20000))
    return store


def page(tmp_path: Path, larger_gru: bool = True) -> str:
    store = store_with(tmp_path, larger_gru)
    return publish(store, tmp_path / "L.md", plots=False, literature=matrix_file(tmp_path)).read_text()


def test_marks_in_the_overview_cells(tmp_path: Path) -> None:
    text = page(tmp_path)
    assert full_cell_of(text, "transformer")[-1] == "✓ literature"
    assert full_cell_of(text, "gru")[-1] == "✗ literature"
    assert full_cell_of(text, "lstm")[-1] == "✓ literature"  # partial: none solved, above chance
    assert full_cell_of(text, "fcn")[-1] == "? literature"  # decided beyond training, no longer length it can take


def test_the_overview_cell_shows_solving_first_then_the_metric_in_and_beyond_training(tmp_path: Path) -> None:
    lines = full_cell_of(page(tmp_path), "transformer")
    # samples to solve 3,200 / 6,400 / 12,800 (batch 64): median 6,400, interval [min, max] at 3 seeds
    assert lines[0] == "3/3 solved · 6,400 [3,200, 12,800] samples"
    assert "0.950 ± 0.000" in lines[1] and lines[1].endswith(("(n=3)", "(n=3) ≈"))
    assert lines[2] == "beyond 0.500 ± 0.000"
    gru = full_cell_of(page(tmp_path / "b"), "gru")
    assert gru[0] == "0/3 solved · > 192,000 samples"  # unsolved: more than any seed saw


def test_agreement_rate_and_table(tmp_path: Path) -> None:
    text = page(tmp_path)
    section = text.split("## Agreement with the literature", 1)[1].split("<a name=", 1)[0]
    # agree: transformer, lstm; disagree: gru; fcn undecided; mamba has no runs
    assert "**Agreement: 2 of 3 (67%) decided cells with runs**" in section
    assert "in distribution 2 of 3 (67%)" in section and "beyond the training length 0 of 0" in section
    assert "1 decided cells have runs that cannot judge them" in section
    assert "1 matrix entries have no runs on this page" in section
    assert "| sparse_token_selection | gru" in section and "✗ disagrees" in section
    assert "Doe et al. 2024, Table 1, G" in section


def test_a_disagreement_is_explained_by_a_larger_budget_in_the_store(tmp_path: Path) -> None:
    section = page(tmp_path).split("Disagreements, and what the stored runs show:", 1)[1]
    first = section.split("\n- ", 2)[1]
    assert first.startswith("**sparse_token_selection × gru**: Doe et al. 2024, Table 1, G says it solves")
    assert "the runs: solved in 0/3 seeds" in first
    assert "A larger run agrees: preset small (105,668 parameters), up to 20,000 steps, lr 0.003" in first
    assert "(solved in 3/3 seeds)" in first


def test_a_disagreement_without_a_larger_run_names_the_papers_setting(tmp_path: Path) -> None:
    section = page(tmp_path, larger_gru=False).split("Disagreements, and what the stored runs show:", 1)[1]
    assert "No larger size or step budget is stored for this cell. The paper's setting: width 512, 1M steps." in section


def test_no_matrix_no_section(tmp_path: Path) -> None:
    store = store_with(tmp_path, False)
    text = publish(store, tmp_path / "L.md", plots=False, literature=None).read_text()
    assert "Agreement with the literature" not in text and "literature" not in full_cell_of(text, "gru")[-1]


# --- the rules, one cell at a time --------------------------------------------------------------------------


def cell_of(records: list[dict]):
    (cell,) = group_cells(records)
    return cell


def entry(tmp_path: Path, **verdict: object):
    """An entry for the transformer on the test task with the given verdicts."""
    fields = ", ".join(f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}" for k, v in verdict.items())
    text = MATRIX.split("entries = [")[0] + f'entries = [ {{ task = "{TASK}", model = "T", {fields} }} ]\n'
    return load_matrix(matrix_file(tmp_path, text.replace("'", '"'))).entries[0]


@pytest.mark.parametrize(
    "outcome, values, solved, expected",
    [
        ("solves", (0.95, 0.95, 0.95), (10, 10, 10), agreement.AGREES),
        ("solves", (0.95, 0.5, 0.95), (10, None, 10), agreement.DISAGREES),  # some seeds: not solved
        ("fails", (0.1, 0.1, 0.1), (None, None, None), agreement.AGREES),
        ("fails", (0.95, 0.1, 0.1), (10, None, None), agreement.DISAGREES),
        ("partial", (0.95, 0.1, 0.1), (10, None, None), agreement.AGREES),
        ("partial", (0.3, 0.35, 0.32), (None, None, None), agreement.AGREES),  # above chance 0
        ("partial", (0.01, -0.02, 0.0), (None, None, None), agreement.DISAGREES),  # at chance
        ("partial", (0.95, 0.95, 0.95), (10, 10, 10), agreement.DISAGREES),
    ],
)
def test_outcome_rules(tmp_path: Path, outcome: str, values: tuple, solved: tuple, expected: str) -> None:
    records = [record("transformer", s, v, solved_step=st) for s, (v, st) in enumerate(zip(values, solved))]
    judged = agreement.judge(cell_of(records), entry(tmp_path, outcome=outcome), chance=0.0, solved_at=0.9)
    assert judged.in_distribution == expected and judged.overall == expected and judged.beyond is None


@pytest.mark.parametrize(
    "paper_says, ood, expected",
    [
        (True, (0.95, 0.92, 0.99), agreement.AGREES),
        (True, (0.95, 0.5, 0.99), agreement.DISAGREES),  # one seed lost it: not kept
        (False, (0.2, 0.5, 0.1), agreement.AGREES),
        (False, (0.2, 0.95, 0.1), agreement.DISAGREES),
    ],
)
def test_beyond_training_rules(tmp_path: Path, paper_says: bool, ood: tuple, expected: str) -> None:
    records = [record("transformer", s, 0.95, solved_step=10, ood=o) for s, o in enumerate(ood)]
    judged = agreement.judge(cell_of(records), entry(tmp_path, beyond_training=paper_says), chance=0.0, solved_at=0.9)
    assert judged.beyond == expected and judged.in_distribution is None and judged.threshold == 0.9
    assert f"in {sum(o >= 0.9 for o in ood)}/3 seeds" in judged.runs_show()


def test_both_dimensions_and_undecided_cases(tmp_path: Path) -> None:
    records = [record("transformer", s, 0.95, solved_step=10, ood=0.2) for s in range(3)]
    both = agreement.judge(cell_of(records), entry(tmp_path, outcome="solves", beyond_training=True), 0.0, 0.9)
    assert (both.in_distribution, both.beyond, both.overall) == (agreement.AGREES, agreement.DISAGREES, "disagrees")
    failed = [record("transformer", s, None) for s in range(2)]
    none = agreement.judge(cell_of(failed), entry(tmp_path, outcome="solves"), 0.0, 0.9)
    assert none.overall == agreement.UNDECIDED and none.symbol == "?"
    unknown_chance = agreement.judge(
        cell_of([record("transformer", 0, 0.3)]), entry(tmp_path, outcome="partial"), None, 0.9
    )
    assert unknown_chance.overall == agreement.UNDECIDED
    nothing = agreement.judge(cell_of(records), None, 0.0, 0.9)
    assert nothing.overall == agreement.UNDECIDED and nothing.symbol == ""


def test_summary_counts() -> None:
    def j(in_mark: str | None, beyond: str | None) -> agreement.Judgement:
        return agreement.Judgement("t", "a", object(), in_mark, beyond)  # type: ignore[arg-type]

    summary = agreement.summarize(
        [j("agrees", None), j("disagrees", "agrees"), j(None, "agrees"), j("undecided", None)], not_run=4
    )
    assert (summary.agree, summary.disagree, summary.undecided, summary.judged) == (2, 1, 1, 3)
    assert (summary.in_agree, summary.in_judged, summary.beyond_agree, summary.beyond_judged) == (1, 2, 2, 2)
    assert agreement.Summary.rate(2, 3) == "2 of 3 (67%)" and agreement.Summary.rate(0, 0) == "0 of 0"
