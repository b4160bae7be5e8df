"""The literature matrix: the committed data loads, names only registered (or pending) tasks and families with
valid parameters, its verdicts follow its own bands, and bad files fail with one line naming the valid choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.contract.errors import ArchbenchError
from bench.contract.registry import get_architecture, get_task_entry, list_architectures, list_tasks, validate_params
from bench.report.literature import MATRIX_FILE, effective_arch_config, load_matrix

MATRIX = load_matrix()


def test_the_committed_matrix_loads_with_papers_and_entries() -> None:
    assert MATRIX.path == MATRIX_FILE
    assert len(MATRIX.papers) >= 10 and len(MATRIX.entries) >= 60
    for paper in MATRIX.papers.values():  # every paper says who, where, its setting and how it aggregates
        assert paper.authors and paper.year > 2000 and paper.arxiv and paper.where and paper.setting
        assert paper.aggregation
    # the anchors of the issue each have decided cells
    tasks = {e.task for e in MATRIX.entries}
    assert {"parity_check", "state_parity", "mqar", "selective_copy", "mad_in_context_recall"} <= tasks


def test_every_name_is_registered_or_pending() -> None:
    tasks, families = set(list_tasks()), set(list_architectures())
    for entry in MATRIX.entries:
        assert entry.task in tasks or entry.task in MATRIX.pending_tasks, entry.task
        assert entry.family in families or entry.family in MATRIX.pending_families, entry.family


def test_pending_names_are_not_registered_yet() -> None:
    """The pending lists hold names other branches register. Once one is registered here, this test fails:
    remove it from `pending_tasks` / `pending_families` in bench/report/literature.toml (after the merge)."""
    now_registered = sorted(set(MATRIX.pending_tasks) & set(list_tasks()))
    assert not now_registered, f"registered now, remove from pending_tasks: {now_registered}"
    now_registered = sorted(set(MATRIX.pending_families) & set(list_architectures()))
    assert not now_registered, f"registered now, remove from pending_families: {now_registered}"


def test_arch_and_task_params_are_valid_for_registered_names() -> None:
    """An entry's parameters must be ones the family or task accepts (a typo would decide no cell)."""
    registered_families, registered_tasks = set(list_architectures()), set(list_tasks())
    for entry in MATRIX.entries:
        if entry.family in registered_families and entry.arch_params:
            validate_params(get_architecture(entry.family), dict(entry.arch_params))
        if entry.task in registered_tasks and entry.task_params:
            validate_params(get_task_entry(entry.task), dict(entry.task_params))


def test_scores_follow_each_papers_bands() -> None:
    """A transcribed score and its verdict agree under the paper's stated line: a score between the bands is
    not an entry (undecided)."""
    for entry in MATRIX.entries:
        paper, score = entry.paper, entry.score
        if score is None:
            continue
        verdict = entry.beyond_training if paper.measured == "beyond_training" else entry.outcome
        if paper.solves_at is not None and score >= paper.solves_at:
            assert verdict in (True, "solves"), entry
        elif paper.fails_below is not None and score <= paper.fails_below:
            assert verdict in (False, "fails"), entry
        elif paper.partial_between is not None and paper.partial_between[0] <= score <= paper.partial_between[1]:
            assert verdict == "partial", entry
        else:
            pytest.fail(f"{entry.task} x {entry.model}: score {score} falls between the bands of {paper.key}")


def test_models_map_to_families_with_their_parameters() -> None:
    mamba_neg = [e for e in MATRIX.entries if e.model == "Mamba [-1,1]"]
    assert mamba_neg and all(e.family == "mamba" and e.arch_params == {"negative_eigenvalues": True} for e in mamba_neg)
    # a default mamba cell (negative_eigenvalues unset: the family's default False) is Grazzi's "Mamba [0,1]"
    default = effective_arch_config("mamba", {"d_model": 32})
    found = MATRIX.for_cell("state_parity", "mamba", default, {"length": 20})
    assert found is not None and found.model == "Mamba [0,1]" and found.beyond_training is False
    signed = MATRIX.for_cell("state_parity", "mamba", {**default, "negative_eigenvalues": True}, {"length": 20})
    assert signed is not None and signed.model == "Mamba [-1,1]" and signed.beyond_training is True
    assert MATRIX.for_cell("state_parity", "gru", {}, {}) is None  # not decided


def test_the_most_specific_entry_wins() -> None:
    config = effective_arch_config("transformer", {})
    plain = MATRIX.for_cell("copy", "transformer", config, {})
    hard = MATRIX.for_cell("copy", "transformer", {**config, "pos": "hard_alibi"}, {})
    assert plain is not None and plain.beyond_training is None
    assert hard is not None and hard.beyond_training is True and hard.arch_params == {"pos": "hard_alibi"}


def test_threshold_on_archbench_scale() -> None:
    grazzi, deletang = MATRIX.papers["grazzi2025"], MATRIX.papers["deletang2023"]
    assert deletang.threshold(None) == pytest.approx(0.9)  # 90% -> 0.9
    assert grazzi.threshold(0.5) == pytest.approx(0.95)  # scaled 0.9 at chance 1/2
    assert grazzi.threshold(None) is None  # chance-scaled needs the task's chance
    assert deletang.cite() == "Delétang et al. 2023" and MATRIX.papers["gu2023_selective"].cite() == "Gu & Dao 2023"
    # Grazzi et al. scale modular arithmetic by the uniform guess 1/5, whatever the task's own chance level
    mod = next(e for e in MATRIX.entries if e.task == "state_modular_arithmetic" and e.model == "DeltaNet [-1,1]")
    assert mod.threshold(0.206) == pytest.approx(0.2 + 0.9 * 0.8)


# --- bad files ----------------------------------------------------------------------------------------------

GOOD = """
pending_tasks = ["future_task"]
[papers.p]
authors = "Doe, Roe"
year = 2024
title = "T"
arxiv = "2401.00001v1"
where = "Table 1"
setting = "s"
aggregation = "a"
models.M = { family = "transformer" }
entries = [ { task = "copy", model = "M", outcome = "solves" } ]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_matrix_loads(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, GOOD))
    assert [(e.task, e.family, e.outcome) for e in matrix.entries] == [("copy", "transformer", "solves")]
    pending = GOOD.replace('task = "copy"', 'task = "future_task"')
    assert load_matrix(write(tmp_path, pending)).entries[0].task == "future_task"  # pending: accepted


@pytest.mark.parametrize(
    "change, message",
    [
        (('outcome = "solves"', 'outcome = "wins"'), r"outcome: 'wins'; valid: solves, fails, partial"),
        (('task = "copy"', 'task = "cpy"'), r"unknown task 'cpy' \(did you mean 'copy'\?\); valid: .*copy"),
        (('family = "transformer"', 'family = "transfomer"'), r"unknown family 'transfomer'.*valid: .*transformer"),
        (('model = "M"', 'model = "N"'), r"model 'N' is not in the paper's models; valid: M"),
        (('outcome = "solves"', 'colour = "red"'), r"unknown key 'colour'; valid: .*beyond_training"),
        (('outcome = "solves"', "score = 3.0"), r"decides nothing"),
        (("year = 2024", "year = 2024\nyr = 1"), r"papers.p: unknown key 'yr'"),
        (('where = "Table 1"\n', ""), r"papers.p: missing where"),
        (
            ('outcome = "solves" }', 'outcome = "solves" }, { task = "copy", model = "M", outcome = "fails" }'),
            "already decided",
        ),
        (("entries = [", "entries = [ oops"), "not valid TOML"),
    ],
)
def test_bad_matrices_fail_with_one_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        load_matrix(write(tmp_path, GOOD.replace(*change)))


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ArchbenchError, match="no literature matrix at"):
        load_matrix(tmp_path / "absent.toml")
