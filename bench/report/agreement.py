"""Leaderboard cells judged against the literature matrix: agrees / disagrees / undecided, and why.

A cell's runs give a verdict over seeds (`bench.results.measures`): solved in all / some / no seeds at the
training length (`solve_verdict`), and kept beyond the training length in all / some / no seeds
(`beyond_verdict`: the seed's mean metric over every longer length reaches the paper's line, converted to
archbench's metric scale, or the task's `solved_at` where the paper draws none). The matrix entry deciding
the cell (`Matrix.for_cell`) is compared dimension by dimension:

- `solves` agrees with all seeds solved, `fails` with none; `partial` agrees with some, or with none when
  the in-distribution metric is above chance beyond noise (it learned something, not everything), and
  disagrees with all, or with none at chance;
- `beyond_training = true` agrees with all seeds keeping the task, `false` with none; some disagrees with
  both (a verdict must hold on every seed);
- a dimension the runs cannot judge (no successful seed, no longer length evaluated or one the model cannot
  take, a chance-scaled line without the task's chance) is undecided.

A cell agrees when every dimension it could judge agrees, disagrees when any disagrees, and is undecided
otherwise (also without an entry). The agreement rate is agreeing cells over judged cells (those that agree
or disagree); the in-distribution and beyond-training rates are the same count per dimension.

Under each disagreement, `explain` says what the stored runs show beyond the shown cell: a run of the same
task, family and task configuration with more parameters or a larger step budget that agrees (the
disagreement is a matter of size or budget), larger runs that still disagree, or that none is stored (then
the paper's setting, which may be beyond this machine).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from bench.report.aggregate import Cell
from bench.report.literature import Entry, Matrix, effective_arch_config
from bench.results.measures import (
    Verdict,
    above,
    beyond_verdict,
    generalizes,
    in_distribution,
    solve_verdict,
    solved_count,
)

AGREES = "agrees"
DISAGREES = "disagrees"
UNDECIDED = "undecided"
SYMBOLS = {AGREES: "✓", DISAGREES: "✗", UNDECIDED: "?"}
OUTCOME_WORDS = {"solves": "solves", "fails": "fails", "partial": "solves partly"}


@dataclass(frozen=True)
class Judgement:
    """One cell against its entry: a mark per dimension the entry decides (None: it does not), the runs'
    verdicts, and the line used beyond the training length."""

    task: str
    label: str
    entry: Entry | None
    in_distribution: str | None = None
    beyond: str | None = None
    ours_in: Verdict | None = None
    ours_beyond: Verdict | None = None
    threshold: float | None = None
    seeds: int = 0
    solved: int = 0
    kept: int | None = None  # seeds keeping the task beyond training (None: not judged)
    reason: str = ""  # why a decided dimension is undecided
    solved_at: float | None = None  # the task's line in distribution (what `solved` means for these runs)
    above_chance: bool | None = None  # the in-distribution mean is above chance beyond noise (None: unknown)

    @property
    def overall(self) -> str:
        marks = [m for m in (self.in_distribution, self.beyond) if m is not None]
        if DISAGREES in marks:
            return DISAGREES
        if AGREES in marks:
            return AGREES
        return UNDECIDED

    @property
    def symbol(self) -> str:
        """✓ / ✗ / ? for a decided cell, empty for a cell the matrix does not decide."""
        return "" if self.entry is None else SYMBOLS[self.overall]

    def runs_show(self) -> str:
        """What the runs show, in the entry's dimensions: `solved in 0/3 seeds; kept beyond training (≥ 0.9) in 3/3`."""
        parts = []
        if self.entry is not None and self.entry.outcome is not None:
            chance = {True: ", above chance", False: ", at chance"}.get(self.above_chance, "")  # type: ignore[arg-type]
            partial = self.entry.outcome == "partial" and self.solved == 0
            parts.append(
                f"solved in {self.solved}/{self.seeds} seeds{chance if partial else ''}"
                if self.seeds
                else "no successful run"
            )
        if self.entry is not None and self.entry.beyond_training is not None:
            if self.kept is None:
                parts.append("beyond training: not judged" + (f" ({self.reason})" if self.reason else ""))
            else:
                parts.append(f"mean beyond training ≥ {self.threshold:.3g} in {self.kept}/{self.seeds} seeds")
        return "; ".join(parts)


def judge(cell: Cell, entry: Entry | None, chance: float | None, solved_at: float | None) -> Judgement:
    """The cell's marks against `entry` (see the module docstring for the rules)."""
    if entry is None:
        return Judgement(cell.key.task, cell.label, None, solved_at=solved_at)
    runs = cell.metrics
    done, total = solved_count(runs)
    reason = ""
    in_mark = None
    ours_in = solve_verdict(runs)
    above_chance = above(cell.figure_values(in_distribution), chance) if chance is not None else None
    if entry.outcome is not None:
        in_mark = _outcome_mark(entry.outcome, ours_in, above_chance)
        if in_mark == UNDECIDED:
            reason = "no successful run" if ours_in is None else "chance level unknown"
    beyond_mark = ours_beyond = threshold = kept = None
    if entry.beyond_training is not None:
        threshold = entry.threshold(chance)
        if threshold is None and entry.paper.solves_at is None:
            threshold = solved_at
        length = cell.task_config.get("length")
        if threshold is None or not isinstance(length, int):
            beyond_mark, reason = UNDECIDED, "no line to judge by (the task's chance level is unknown)"
        else:
            ours_beyond = beyond_verdict(runs, length, threshold)
            if ours_beyond is None:
                beyond_mark = UNDECIDED
                reason = "no successful run" if not runs else "no longer length evaluated, or one the model cannot take"
            else:
                kept = sum(bool(generalizes(m, length, threshold)) for m in runs)
                wanted: Verdict = "all" if entry.beyond_training else "none"
                beyond_mark = AGREES if ours_beyond == wanted else DISAGREES
    return Judgement(
        cell.key.task,
        cell.label,
        entry,
        in_mark,
        beyond_mark,
        ours_in,
        ours_beyond,
        threshold,
        total,
        done,
        kept,
        reason,
        solved_at,
        above_chance,
    )


def _outcome_mark(outcome: str, ours: Verdict | None, above_chance: bool | None) -> str:
    if ours is None:
        return UNDECIDED
    if outcome == "solves":
        return AGREES if ours == "all" else DISAGREES
    if outcome == "fails":
        return AGREES if ours == "none" else DISAGREES
    # partial: learned something, not everything
    if ours == "some":
        return AGREES
    if ours == "all":
        return DISAGREES
    if above_chance is None:
        return UNDECIDED
    return AGREES if above_chance else DISAGREES


# --- finding the entry of a cell, and the runs that explain a disagreement ------------------------------


def entry_for(matrix: Matrix, cell: Cell) -> Entry | None:
    """The entry deciding `cell` (its configuration with the family's defaults filled in)."""
    arch_config = effective_arch_config(cell.key.arch, json.loads(cell.key.arch_config))
    return matrix.for_cell(cell.key.task, cell.key.arch, arch_config, cell.task_config)


def _size(cell: Cell) -> tuple[int, int]:
    params = cell.first("num_parameters")
    steps = cell.key.train.get("steps")
    return (params if isinstance(params, int) else 0, steps if isinstance(steps, int) else 0)


def _same_task(a: Cell, b: Cell) -> bool:
    """Same task configuration apart from the evaluation lengths (longer tests do not change the task)."""
    strip = lambda c: {k: v for k, v in c.task_config.items() if k != "eval_lengths"}  # noqa: E731
    return a.key.task == b.key.task and strip(a) == strip(b)


def describe(cell: Cell) -> str:
    """`preset base (105,352 parameters), up to 20,000 steps, lr 0.001`."""
    params, steps = _size(cell)
    lr = cell.key.train.get("lr")
    bits = [f"preset {cell.key.preset or 'none'}" + (f" ({params:,} parameters)" if params else "")]
    if steps:
        bits.append(f"up to {steps:,} steps")
    if isinstance(lr, (int, float)):
        bits.append(f"lr {lr:g}")
    return ", ".join(bits)


def explain(
    judgement: Judgement,
    cell: Cell,
    stored: Iterable[Cell],
    matrix: Matrix,
    chance: float | None,
    solved_at: float | None,
) -> str:
    """What the stored runs show about a disagreement: a larger size or budget that agrees, larger runs that
    still disagree, or none stored (then the paper's setting)."""
    entry = judgement.entry
    assert entry is not None
    mine = _size(cell)
    larger = []
    for other in stored:
        if other is cell or other.key.arch != cell.key.arch or other.n_train is not None or not other.ok:
            continue
        if not _same_task(other, cell) or entry_for(matrix, other) is not entry:
            continue
        size = _size(other)
        if size[0] >= mine[0] and size[1] >= mine[1] and size != mine:
            larger.append((size, other))
    if not larger:
        return f"No larger size or step budget is stored for this cell. The paper's setting: {entry.paper.setting}."
    larger.sort(key=lambda pair: pair[0])
    judged = [(other, judge(other, entry, chance, solved_at)) for _, other in larger]
    agreeing = [(o, j) for o, j in judged if j.overall == AGREES]
    if agreeing:
        other, j = agreeing[0]
        return f"A larger run agrees: {describe(other)} ({j.runs_show()})."
    other, j = judged[-1]
    return (
        f"Larger runs are stored and still disagree; the largest: {describe(other)} ({j.runs_show()}). "
        f"The paper's setting: {entry.paper.setting}."
    )


# --- the rate and the page section ------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Counts over the judged cells of a page."""

    agree: int
    disagree: int
    undecided: int  # decided by the matrix, but not judgeable from the runs
    in_agree: int
    in_judged: int
    beyond_agree: int
    beyond_judged: int
    not_run: int  # matrix entries (registered task and family) with no cell on the page

    @property
    def judged(self) -> int:
        return self.agree + self.disagree

    @staticmethod
    def rate(agree: int, judged: int) -> str:
        return f"{agree} of {judged}" + (f" ({100 * agree / judged:.0f}%)" if judged else "")


def summarize(judgements: Sequence[Judgement], not_run: int) -> Summary:
    decided = [j for j in judgements if j.entry is not None]
    return Summary(
        agree=sum(j.overall == AGREES for j in decided),
        disagree=sum(j.overall == DISAGREES for j in decided),
        undecided=sum(j.overall == UNDECIDED for j in decided),
        in_agree=sum(j.in_distribution == AGREES for j in decided),
        in_judged=sum(j.in_distribution in (AGREES, DISAGREES) for j in decided),
        beyond_agree=sum(j.beyond == AGREES for j in decided),
        beyond_judged=sum(j.beyond in (AGREES, DISAGREES) for j in decided),
        not_run=not_run,
    )


def entries_without_runs(matrix: Matrix, judgements: Sequence[Judgement], registered: Mapping[str, Any]) -> list[Entry]:
    """Entries of registered tasks and families that decide no cell of the page."""
    used = {id(j.entry) for j in judgements if j.entry is not None}
    return [
        e
        for e in matrix.entries
        if id(e) not in used and e.task in registered.get("tasks", ()) and e.family in registered.get("families", ())
    ]


def section(
    judgements: Sequence[Judgement],
    explanations: Mapping[tuple[str, str], str],
    summary: Summary,
    matrix: Matrix,
    tablefmt: str,
    matrix_link: str,
    docs_link: str,
) -> list[str]:
    """The page's "Agreement with the literature" section: the rate, the table of decided cells, and one
    paragraph per disagreement with what the runs show."""
    decided = [j for j in judgements if j.entry is not None]
    lines = [
        "## Agreement with the literature",
        "",
        f"Each cell the [literature matrix]({matrix_link}) decides ({len(matrix.entries)} entries from "
        f"{len(matrix.papers)} paper tables) is judged from its runs: `solves` needs every seed solved, `fails` "
        "none, `partial` some (or none but above chance); beyond the training length, every seed's mean over the "
        "longer lengths must reach the paper's line (or none, for a paper that says the model does not "
        f"generalize). Rules: [docs/literature.md]({docs_link}).",
        "",
        f"**Agreement: {Summary.rate(summary.agree, summary.judged)} decided cells with runs** "
        f"(in distribution {Summary.rate(summary.in_agree, summary.in_judged)}, beyond the training length "
        f"{Summary.rate(summary.beyond_agree, summary.beyond_judged)}). "
        f"{summary.undecided} decided cells have runs that cannot judge them (marked ?); "
        f"{summary.not_run} matrix entries have no runs on this page.",
        "",
    ]
    unconfirmed = sum(1 for j in decided if j.entry is not None and not j.entry.confirmed)
    if unconfirmed:
        lines += [
            f"{unconfirmed} of the judged entries are transcribed from their paper but not re-checked "
            "(`confirmed = false` in the matrix).",
            "",
        ]
    if not decided:
        return lines + ["_No cell on this page is decided by the matrix._", ""]
    rows = [
        [
            j.task,
            j.label,
            j.entry.says(),  # type: ignore[union-attr]
            j.entry.source(),  # type: ignore[union-attr]
            j.runs_show(),
            f"{SYMBOLS[j.overall]} {j.overall}",
        ]
        for j in decided
    ]
    lines += [
        tabulate(
            rows,
            headers=["task", "architecture", "the paper says", "source", "the runs show", "mark"],
            tablefmt=tablefmt,
            disable_numparse=True,
        ),
        "",
    ]
    disagreeing = [j for j in decided if j.overall == DISAGREES]
    if disagreeing:
        lines += ["Disagreements, and what the stored runs show:", ""]
        for j in disagreeing:
            entry = j.entry
            assert entry is not None
            line = f"- **{j.task} × {j.label}**: {entry.source()} says it {entry.says()}; the runs: {j.runs_show()}."
            note = _threshold_note(j)
            lines += [line, f"  - {explanations.get((j.task, j.label), '')}{note}"]
        lines.append("")
    return lines


def _threshold_note(j: Judgement) -> str:
    """The paper's line and the task's, so a reader sees when they differ (Delétang et al. count above 90% as
    solved; a task's `solved_at` may be stricter)."""
    entry = j.entry
    if entry is None or not entry.paper.rule:
        return ""
    task_line = f" This task's solved_at: {j.solved_at:g}." if j.solved_at is not None else ""
    used = f" Beyond training judged at ≥ {j.threshold:.3g} on archbench's scale." if j.threshold is not None else ""
    return f" (Verdict rule: {entry.paper.rule}.{task_line}{used})"
