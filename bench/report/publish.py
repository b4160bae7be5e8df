"""The leaderboard page: records -> overview table, one section per task, plots and provenance, in markdown.

`publish(store, out)` reads every record (one per run key, the latest), leaves out learning-rate
validation runs and, unless asked, stale records (`bench.results.freshness`), groups the rest into cells
(`bench.report.aggregate`), and writes `out` atomically, with its plots in `plots/` next to it. Every figure on
the page is one of `bench.results.measures` (the same definition the run table, the claims and learning-rate
selection use): a mean over the seeds of stored records with a 95% interval and its seed count, or a median
over seeds (samples and seconds to solve, an unsolved seed counting as infinitely many), so any cell can be
recomputed from `archbench results` and the JSONL files.

Which cells a task shows: the online runs (fresh samples every step) of the task's primary setting
(`aggregate.primary_setting`); runs with a fixed training-set size feed the sample-complexity chart.
Other settings are counted under the task, and `archbench results --task NAME` lists them.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate, tabulate_formats

from bench.contract.errors import ArchbenchError
from bench.contract.metrics import METRICS
from bench.report import aggregate, agreement, seed_check
from bench.report.aggregate import Cell
from bench.report.calibration import calibration_section
from bench.report.lengths import length_curves, length_table
from bench.report.literature import MATRIX_FILE, Matrix, load_matrix
from bench.report.plots import (
    PLOT_FORMATS,
    Series,
    curve_plot,
    family_rank,
    require_matplotlib,
)
from bench.report.provenance import profile_of, provenance
from bench.report.search_cost import search_cost_section
from bench.report.state_size import MIN_SIZES, STATE_SIZE_TASKS, state_size_series
from bench.results.atomic import write_text
from bench.results.freshness import freshness, usable
from bench.results.measures import (
    in_distribution,
    median_time_to_solve_text,
    median_to_solve,
    median_to_solve_interval,
    run_beyond_training_mean,
    solved_count,
)
from bench.results.schema import RunRecord
from bench.results.stats import Estimate, differ, median_interval, method_label
from bench.results.store import RecordStore
from bench.run.lr_config import VALIDATION_SEED_MIN

MISSING = "—"  # not run
NA = "n/a"  # run, but the figure does not exist (a model that cannot take the length, never solved, ...)
NEAR = "≈"
DIGITS = 3


@dataclass
class TaskInfo:
    """What a task section's heading says, from the task class and the recorded config."""

    name: str
    metric: str
    chance: float | None
    solved_at: float | None
    length: int | None
    eval_lengths: tuple[int, ...]
    paper: str
    reported: str


@dataclass
class Page:
    """What `publish` found, for the provenance block and the caller."""

    records: list[RunRecord]
    stale_left_out: list[RunRecord] = field(default_factory=list)
    validation_left_out: int = 0
    problems: list[str] = field(default_factory=list)
    stale_counted: list[RunRecord] = field(default_factory=list)  # with --include-stale: stale records counted
    validation: list[RunRecord] = field(default_factory=list)  # current validation-seed runs (not counted)
    checks: list[RunRecord] = field(default_factory=list)  # check-seed runs: judged apart, never averaged in

    def stale_banner(self) -> list[str]:
        """The page's first words when it counts stale records: what they are and how to refresh them."""
        if not self.stale_counted:
            return []
        reasons = sorted({reason.split(" ", 1)[0] for r in self.stale_counted for reason in freshness(r).reasons})
        return [
            f"> **Stale records counted** (`--include-stale`): {len(self.stale_counted)} of {len(self.records)} "
            f"records on this page were made by another version ({', '.join(reasons)} differ from this "
            "installation), so they do not measure the current code. They are shown for reference only; "
            "`archbench results --stale` lists them and rerunning their commands refreshes them.",
            "",
        ]

    def left_out(self) -> list[str]:
        """What was read but not counted, in words."""
        notes = []
        if self.stale_left_out:
            notes.append(
                f"{len(self.stale_left_out)} stale records left out (made by other code or packages, or superseded "
                "by a current record of the same configuration and seed; "
                "`archbench results --stale` lists them, `--include-stale` counts them)"
            )
        if self.validation_left_out:
            notes.append(
                f"{self.validation_left_out} validation-seed runs left out (seeds {VALIDATION_SEED_MIN} and up: "
                "they chose a learning rate or a budget, so they are not reported)"
            )
        if self.checks:
            notes.append(
                f"{len(self.checks)} check-seed runs kept out of the figures (their profile's check seeds: each "
                "cell's verdict on them is set beside the reported one in 'Verdicts on the check seeds')"
            )
        if self.problems:
            notes.append(f"{len(self.problems)} unreadable lines skipped ({'; '.join(self.problems[:3])})")
        return notes


def task_info(name: str, cells: list[Cell]) -> TaskInfo:
    """Heading facts; a task whose plugin is not loaded still gets a section (chance unknown)."""
    from bench.contract.registry import get_task, get_task_entry

    config = cells[0].task_config
    metric = next((c.metric for c in cells if c.metric), "metric")
    try:
        cls = get_task_entry(name).obj
        task = get_task(name, **config)
    except ArchbenchError:
        return TaskInfo(
            name,
            metric,
            None,
            config.get("solved_at"),
            config.get("length"),
            tuple(config.get("eval_lengths") or ()),
            "",
            "",
        )
    return TaskInfo(
        name,
        metric,
        task.chance,
        task.solved_at,
        task.length,
        tuple(task.eval_lengths),
        getattr(cls, "paper", ""),
        getattr(cls, "reported", ""),
    )


# --- cell texts -------------------------------------------------------------------------------------------


def seeds_text(cell: Cell) -> str:
    failed = f" (+{len(cell.failed)} failed)" if cell.failed else ""
    return f"{len(cell.ok)}{failed}"


def metric_text(cell: Cell | None, mark: str = "") -> str:
    """`0.841 ± 0.012 (n=3)`, bold when best, `≈` when not distinguishable from it; `failed` / `—`."""
    if cell is None:
        return MISSING
    if cell.all_failed:
        return "failed"
    estimate = cell.figure_estimate(in_distribution)
    if estimate is None:
        return NA
    core = estimate.interval_text(DIGITS)
    failed = f", {len(cell.failed)} failed" if cell.failed else ""
    text = f"**{core}**" if mark == "best" else core
    return f"{text} (n={estimate.n}{failed})" + (f" {NEAR}" if mark == NEAR else "")


def marks(cells: list[Cell]) -> dict[int, str]:
    """`best` for the best in-distribution mean (the metric's direction, `bench.contract.metrics`), `≈` for the
    cells whose per-seed values do not differ from the best's beyond noise (`bench.results.stats.differ`: a 95%
    Welch interval of the difference that contains 0; with under 2 seeds a side it cannot tell: no mark)."""
    estimated = [(c, c.figure_estimate(in_distribution)) for c in cells if not c.all_failed]
    scored = [(c, e) for c, e in estimated if e is not None]
    if not scored:
        return {}
    metric = METRICS.get(next((c.metric for c in cells if c.metric), ""))
    pick = min if metric is not None and not metric.higher_is_better else max
    best, _ = pick(scored, key=lambda ce: ce[1].mean)
    out = {id(best): "best"}
    for cell, _ in scored:
        if cell is best:
            continue
        verdict = differ(best.figure_values(in_distribution), cell.figure_values(in_distribution))
        if verdict.low is not None and not verdict.differs:
            out[id(cell)] = NEAR
    return out


def estimate_text(estimate: Estimate | None, digits: int = DIGITS) -> str:
    return NA if estimate is None else estimate.interval_text(digits)


def solved_text(cell: Cell) -> str:
    """`2/3`: seeds that reached solved_at over successful seeds (`measures.solved_count`)."""
    done, total = solved_count(cell.metrics)
    return f"{done}/{total}"


def _int_or_na(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else NA


# --- sample complexity (hook) --------------------------------------------------------------------------


def sample_complexity(records_dir: Path, task: str) -> dict[aggregate.CellKey, str]:
    """Cell -> "n* in [last failing, first passing]" from the searches `archbench sample-complexity` stored
    beside the run records (`bench.run.sample_complexity.load_results`). A search belongs to the cell whose
    configuration (task, architecture, preset and online training config) it searched; the runs it
    trained are ordinary records with `n_train` set and feed the sample-complexity chart."""
    from bench.run.sample_complexity import load_results

    return {aggregate.cell_key(result): result.get("text") or MISSING for result in load_results(records_dir, task)}


# --- tables ---------------------------------------------------------------------------------------------


SCREEN_PROFILE = "quick"  # the screen: its cells say "not within this budget", never "cannot learn"
LINE_BREAK_FORMATS = ("github", "pipe")  # table formats GitHub renders, where `<br>` breaks a cell's lines


def is_screen(cells: list[Cell]) -> bool:
    """Every record of these cells was made under the `quick` profile (the screen)."""
    records = [r for c in cells for r in c.records]
    return bool(records) and all(profile_of(r) == SCREEN_PROFILE for r in records)


def beyond_text(cell: Cell, info: TaskInfo) -> str:
    """`beyond 0.912 ± 0.030`: the mean over seeds of each seed's mean metric beyond the training length."""
    length = info.length if info.length is not None else cell.task_config.get("length")
    if not isinstance(length, int):
        return f"beyond {NA}"
    estimate = cell.figure_estimate(lambda m: run_beyond_training_mean(m, length))
    return f"beyond {estimate_text(estimate)}"


def overview_cell(cell: Cell | None, mark: str, info: TaskInfo, symbol: str, sep: str) -> str:
    """Solved seeds and samples to solve (median [order-statistic interval]) first, then the metric in and
    beyond the training length, then the literature mark; `failed` / `—` as before."""
    if cell is None:
        return MISSING
    if cell.all_failed:
        return "failed"
    first = f"{solved_text(cell)} solved · {median_to_solve_interval(cell.metrics)} samples"
    parts = [first, metric_text(cell, mark), beyond_text(cell, info)]
    if symbol:
        parts.append(f"{symbol} literature")
    return sep.join(parts)


def overview(
    columns: list[str],
    rows: dict[str, tuple[TaskInfo, dict[str, Cell]]],
    tablefmt: str,
    symbols: dict[tuple[str, str], str] | None = None,
    screens: set[str] | None = None,
    check_notes: dict[tuple[str, str], str] | None = None,
) -> str:
    """Task x architecture: each cell of the task's primary setting (`overview_cell`); the task name links to
    its section, where the setting and the chosen learning rates are. A cell whose check seeds give another
    verdict says so (`check_notes`)."""
    sep = "<br>" if tablefmt in LINE_BREAK_FORMATS else " · "
    symbols = symbols or {}
    check_notes = check_notes or {}
    table = []
    for task, (info, by_label) in rows.items():
        cell_marks = marks(list(by_label.values()))
        screen = " · quick screen" if task in (screens or set()) else ""
        row = [f"[{task}](#{anchor(task)}) ({info.metric}{_chance_suffix(info)}){screen}"]
        for label in columns:
            cell = by_label.get(label)
            text = overview_cell(cell, cell_marks.get(id(cell), ""), info, symbols.get((task, label), ""), sep)
            note = check_notes.get((task, label))
            row.append(f"{text}{sep}⚠ {note}" if note else text)
        table.append(row)
    return tabulate(table, headers=["task (metric)"] + columns, tablefmt=tablefmt, disable_numparse=True)


def anchor(task: str) -> str:
    """The id of a task's section (an explicit anchor: GitHub's heading ids drop the punctuation of ours)."""
    return f"task-{task}"


def _chance_suffix(info: TaskInfo) -> str:
    return f", chance {info.chance:.3g}" if info.chance is not None else ""


def task_table(
    info: TaskInfo, cells: list[Cell], names: dict[int, str], complexity: dict[aggregate.CellKey, str], tablefmt: str
) -> str:
    """One row per configuration: metric in and beyond training, solving, sample complexity, speed, size."""
    cell_marks = marks(cells)
    train = f" @{info.length}" if info.length is not None else ""
    headers = [
        "architecture",
        "params",
        "state size",
        "seeds",
        "lr",
        f"{info.metric}{train} (in distribution)",
        f"{info.metric} beyond training (mean)",
        "solved",
        "sample complexity n* [bracket]",
        "samples to solve (median)",
        "time to solve s (median)",
        "train samples/s",
        "inference samples/s",
    ]
    rows = []
    for cell in cells:
        name = names[id(cell)]
        if cell.all_failed:
            rows.append([name, NA, NA, seeds_text(cell), lr_text(cell), "failed"] + [NA] * 7)
            continue
        curve = length_curves([{**r, "label": name} for r in cell.ok])[0]
        rows.append(
            [
                name,
                _int_or_na(cell.first("num_parameters")),
                _int_or_na(cell.first("state_size")),
                seeds_text(cell),
                lr_text(cell),
                metric_text(cell, cell_marks.get(id(cell), "")),
                estimate_text(curve.summary),
                solved_text(cell),
                complexity.get(cell.key, MISSING),
                median_to_solve(cell.metrics),
                median_time_to_solve_text(cell.metrics),
                estimate_text(cell.estimate("train_samples_per_s"), 0),
                estimate_text(cell.estimate("inference_samples_per_s"), 0),
            ]
        )
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def lr_text(cell: Cell) -> str:
    """The cell's learning rate, and how it was chosen when a search chose it (`lr_selection` of its records)."""
    lr = cell.key.train.get("lr")
    if not isinstance(lr, (int, float)):
        return NA
    selection = next((r.get("lr_selection") for r in cell.records if r.get("lr_selection")), None)
    if not selection:
        return f"{lr:g}"
    grid = selection.get("grid")
    seeds = selection.get("seeds")
    among = f" of {{{', '.join(f'{v:g}' for v in grid)}}}" if isinstance(grid, list) and grid else ""
    on = f" on seeds {','.join(map(str, seeds))}" if isinstance(seeds, list) and seeds else " on validation seeds"
    return f"{lr:g} (chosen{among}{on})"


def failure_notes(cells: list[Cell], names: dict[int, str]) -> list[str]:
    """One line per configuration with failed seeds: how many, and the first error (from its record)."""
    return [
        f"- {names[id(c)]}: {len(c.failed)} of {len(c.records)} runs failed: `{c.error() or 'no error recorded'}`"
        for c in cells
        if c.failed
    ]


def setting_text(cells: list[Cell]) -> str:
    """The shared training budget of a task's table, in words."""
    train = cells[0].key.train
    lrs = sorted({c.key.train["lr"] for c in cells if c.key.train.get("lr") is not None})
    lr = f"lr {lrs[0]:g}" if len(lrs) == 1 else "lr per architecture (" + ", ".join(f"{v:g}" for v in lrs) + ")"
    selected = any(r.get("lr_selection") for c in cells for r in c.ok)
    stop = ", stopping early at solved_at" if train.get("early_stop") else ""
    data = (
        "online (fresh samples every step)"
        if train.get("n_train") is None
        else f"a fixed training set of {train['n_train']:,}"
    )
    steps = train.get("steps")
    budget = f"up to {steps:,} steps of batch" if isinstance(steps, int) else "batch"
    return (
        f"preset {cells[0].key.preset or 'none'} · {budget} {train.get('batch_size', '?')}{stop} · {lr}"
        f"{' (selected on validation seeds)' if selected else ''} · {data}"
    )


# --- plots ----------------------------------------------------------------------------------------------


def length_series(cells: list[Cell], names: dict[int, str]) -> list[Series]:
    series = []
    for cell in cells:
        if cell.all_failed:
            continue
        curve = length_curves([{**r, "label": names[id(cell)]} for r in cell.ok])[0]
        series.append(Series(names[id(cell)], cell.key.arch, curve.lengths, curve.means, curve.lows, curve.highs))
    return series


def sample_series(cells: list[Cell]) -> list[Series]:
    """Metric in distribution against `n_train`: per label, one point per training-set size."""
    by_label: dict[str, dict[int, Cell]] = collections.defaultdict(dict)
    for cell in cells:
        n_train = cell.n_train
        if n_train is None or cell.all_failed:  # online training, or nothing to plot
            continue
        current = by_label[cell.label].get(n_train)
        by_label[cell.label][n_train] = cell if current is None else aggregate.representative([current, cell])
    series = []
    for label, points in by_label.items():
        xs = sorted(points)
        estimates = [points[n].figure_estimate(in_distribution) for n in xs]
        series.append(
            Series(
                label,
                points[xs[0]].key.arch,
                xs,
                [e.mean if e else None for e in estimates],
                [e.low if e else None for e in estimates],
                [e.high if e else None for e in estimates],
            )
        )
    return series


def task_plots(
    info: TaskInfo,
    shown: list[Cell],
    all_cells: list[Cell],
    names: dict[int, str],
    plots_dir: Path,
    page_dir: Path,
    plot_format: str,
) -> list[str]:
    """Markdown for the task's two charts, or a note saying why one is missing."""
    metric = METRICS.get(info.metric)  # its plot range; a metric this version does not know (an old record): none
    floor, ceiling = (metric.low, metric.high) if metric is not None else (None, None)
    lines = []
    order = lambda s: (family_rank(s.family), s.label)  # noqa: E731
    lengths = sorted(length_series(shown, names), key=order)
    if any(sum(m is not None for m in s.mean) > 1 for s in lengths):
        path = curve_plot(
            plots_dir / f"{info.name}_length.{plot_format}",
            lengths,
            title=f"{info.name}: length generalization",
            xlabel="problem size (task length)",
            ylabel=f"{info.metric} (test)",
            chance=info.chance,
            solved_at=info.solved_at,
            train_x=info.length,
            floor=floor,
            ceiling=ceiling,
        )
        lines += [f"![{info.name}: {info.metric} vs length]({_relative(path, page_dir)})", ""]
    else:
        lines += ["_No length-generalization plot: no run was evaluated at more than one length._", ""]
    samples = sorted(sample_series(all_cells), key=order)
    if any(len(s.x) > 1 for s in samples):
        path = curve_plot(
            plots_dir / f"{info.name}_samples.{plot_format}",
            samples,
            title=f"{info.name}: sample complexity",
            xlabel="training-set size n (log scale)",
            ylabel=f"{info.metric} in distribution",
            chance=info.chance,
            solved_at=info.solved_at,
            floor=floor,
            ceiling=ceiling,
        )
        lines += [f"![{info.name}: {info.metric} vs training-set size]({_relative(path, page_dir)})", ""]
    else:
        lines += [
            "_No sample-complexity plot: no architecture has runs at two or more fixed training-set "
            "sizes (`n_train`); run `archbench sample-complexity` or `archbench run --n-train N`._",
            "",
        ]
    if info.name in STATE_SIZE_TASKS:
        lines += state_size_plot(info, all_cells, plots_dir, page_dir, plot_format, floor, ceiling)
    return lines + [
        f"_Plots: lines are means over seeds, bands the {method_label()} interval; a model that cannot "
        "take a length has no point there._"
    ]


def state_size_plot(
    info: TaskInfo,
    cells: list[Cell],
    plots_dir: Path,
    page_dir: Path,
    plot_format: str,
    floor: float | None,
    ceiling: float | None,
) -> list[str]:
    """The task's metric against state size, one line per architecture over its sizes (Zoology's figure 2
    style; `bench.report.state_size`), with what was left out and why."""
    series, left_out, few = state_size_series(cells)
    if not any(s.x for s in series):
        return ["_No state-size plot: no run of this task has a state size or a key/value cache to place it._", ""]
    path = curve_plot(
        plots_dir / f"{info.name}_state_size.{plot_format}",
        series,
        title=f"{info.name}: {info.metric} vs state size",
        xlabel=f"state size (attention: key/value cache at T = {info.length})",
        ylabel=f"{info.metric} @{info.length} (test)",
        chance=info.chance,
        solved_at=info.solved_at,
        floor=floor,
        ceiling=ceiling,
    )
    notes = [
        f"State size: the numbers a model carries from step to step at inference (its record's `state_size`). "
        f"Softmax attention keeps every key and value instead, so transformer, attention1 and the hybrid's "
        f"attention layers are placed at their key/value cache at the training length T = {info.length}: "
        "2 × d_model × T per attention layer (plus the hybrid's Mamba states)."
    ]
    if left_out:
        notes.append(f"Left out (no fixed state and no cache formula): {', '.join(left_out)}.")
    if few:
        notes.append(
            f"Fewer than {MIN_SIZES} sizes so far: {', '.join(few)} (run `archbench run --task {info.name} "
            "--preset small` and `--preset base`, or set the width)."
        )
    return [f"![{info.name}: {info.metric} vs state size]({_relative(path, page_dir)})", "", f"_{' '.join(notes)}_", ""]


def _relative(path: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(path, start)).as_posix()


# --- the page -------------------------------------------------------------------------------------------


def load(store: RecordStore, tasks: list[str] | None, include_stale: bool) -> Page:
    """The records the page counts, or an `ArchbenchError` saying what to run or what matched nothing."""
    raw = store.load()
    problems = list(store.report.problems)
    records = list(store.latest(raw).values())
    if not records:
        raise ArchbenchError(f"no records in {store.root}; run `archbench sweep --profile smoke` first")
    if tasks:
        stored = sorted({r["task"] for r in records})
        missing = [t for t in tasks if t not in stored]
        if len(missing) == len(tasks):
            raise ArchbenchError(
                f"no records for task(s) {', '.join(tasks)} in {store.root}; stored: {', '.join(stored)}"
            )
        records = [r for r in records if r["task"] in tasks]
    # Validation seeds (1000 and up) chose a learning rate or a budget: never reported, whatever made them.
    skip = aggregate.validation_keys(records) | {r["key"] for r in records if r["seed"] >= VALIDATION_SEED_MIN}
    counted = [r for r in records if r["key"] not in skip]
    kept, stale = usable(counted, include_stale)
    if not kept:
        reasons = "; ".join(freshness(stale[0]).reasons)
        raise ArchbenchError(
            f"all {len(stale)} matching records in {store.root} are stale ({reasons}); "
            "rerun them or pass --include-stale"
        )
    stale_counted: list[RunRecord] = []
    if include_stale:
        # A stale record whose configuration and seed also have a current record was superseded by it:
        # counting both would average one seed twice, across two versions of the code.
        current = {(aggregate.cell_key(r), r["seed"]) for r in kept if not freshness(r).stale}
        superseded = [r for r in kept if freshness(r).stale and (aggregate.cell_key(r), r["seed"]) in current]
        dropped = {id(r) for r in superseded}
        kept = [r for r in kept if id(r) not in dropped]
        stale += superseded
        stale_counted = [r for r in kept if freshness(r).stale]
    validation, _ = usable([r for r in records if r["key"] in skip], include_stale)
    kept, checks = seed_check.split(kept)
    return Page(kept, stale, len(records) - len(counted), problems, stale_counted, validation, checks)


def shown_cells(cells: list[Cell]) -> list[Cell]:
    """A task's table: the online cells of its primary setting (fixed-n cells only if there are no others)."""
    online = [c for c in cells if c.n_train is None] or cells
    setting = aggregate.primary_setting(online)
    return sorted((c for c in online if c.key.setting == setting), key=lambda c: (family_rank(c.key.arch), c.label))


def render(
    page: Page,
    store: RecordStore,
    out: Path,
    tablefmt: str,
    plots: bool,
    plot_format: str,
    command: str,
    matrix: Matrix | None = None,
) -> str:
    """The whole markdown page (plots are written on the way)."""
    per_task = aggregate.by_task(aggregate.group_cells(page.records))
    plots_dir = out.parent / "plots"
    overview_rows: dict[str, tuple[TaskInfo, dict[str, Cell]]] = {}
    screens: set[str] = set()
    sections: list[str] = []
    for task in sorted(per_task):
        cells = per_task[task]
        shown = shown_cells(cells)
        names = aggregate.distinguish(shown)
        info = task_info(task, shown)
        by_label: dict[str, list[Cell]] = collections.defaultdict(list)
        for cell in shown:
            by_label[cell.label].append(cell)
        overview_rows[task] = (info, {label: aggregate.representative(group) for label, group in by_label.items()})
        if is_screen(shown):
            screens.add(task)
        sections += task_section(info, cells, shown, names, store, tablefmt)
        if plots:
            sections += task_plots(info, shown, cells, names, plots_dir, out.parent, plot_format) + [""]
    columns = sorted(
        {label for _, row in overview_rows.values() for label in row},
        key=lambda label: (family_rank(_family(label, overview_rows)), label),
    )
    judgements = judge_page(matrix, overview_rows, per_task) if matrix is not None else {}
    symbols = {key: j.symbol for key, (j, _) in judgements.items()}
    checked = seed_check.check_rows(page.records, page.checks)
    fragile = seed_check.differing(checked)
    check_notes = {
        (task, label): f"check seeds: {fragile[cell.key].check or 'no run'}"
        for task, (_, row) in overview_rows.items()
        for label, cell in row.items()
        if cell.key in fragile
    }
    plots_note = f"plots in `{_relative(plots_dir, out.parent)}/`" if plots else "plots not drawn (--no-plots)"
    head = [
        "# archbench leaderboard",
        "",
        *page.stale_banner(),
        f"Every figure is a mean over seeds with its {method_label()} interval (± half-width) and the number of "
        "seeds (n), or a median over seeds with a distribution-free interval; each traces to stored run records "
        "(`archbench results`). Tasks are scored on held-out test streams at the training length (in "
        "distribution) unless a column says otherwise.",
        "",
        "## Overview: task × architecture",
        "",
        "Each cell: seeds solved (validation reached the task's `solved_at`) and the samples seen until solved, "
        f"median over seeds [{median_interval_words()}]; then the metric at the training length (mean ± 95% "
        "half-width, n seeds) and its mean beyond the training length; then the literature mark. "
        f"**Bold**: best mean of the row. {NEAR}: not distinguishable from the best (the 95% Welch interval of "
        "the difference contains 0; cells with fewer than 2 seeds are not tested). failed: every run of that "
        f"configuration failed. {MISSING}: not run. "
        + (
            "Literature: ✓ agrees with the matrix, ✗ disagrees (explained below the table), ? decided by the "
            "matrix but not judgeable from these runs; no mark: the matrix does not decide the cell. "
            if matrix is not None
            else ""
        )
        + "A task name links to its section (setting, chosen learning rates, every length). "
        + (
            "Rows marked **quick screen** come from the `quick` profile, a screen of one task per capability "
            "with every family (tiny models, a few hundred steps): a cell at chance there means not within that "
            "budget, not cannot learn."
            if screens
            else ""
        ),
        "",
        overview(columns, overview_rows, tablefmt, symbols, screens, check_notes),
        "",
    ]
    if matrix is not None:
        head += literature_section(matrix, judgements, overview_rows, per_task, tablefmt, out)
    head += seed_check.seed_check_section(checked, tablefmt)
    head += calibration_section(page.validation, tablefmt)
    head += search_cost_section(page.records, tablefmt)
    return "\n".join(head + sections + provenance(page.records, store, command, plots_note, page.left_out())) + "\n"


def median_interval_words() -> str:
    """How the samples-to-solve interval is made, with its coverage at 3 seeds (from `stats.median_interval`)."""
    three = median_interval([1.0, 2.0, 3.0]).coverage or 0.0
    return (
        "in brackets the order-statistic interval of the median, [min, max] below 6 seeds, "
        f"covering the median with {100 * three:.0f}% at 3 seeds; an unsolved seed counts as infinitely many "
        "samples, shown as > the samples it saw"
    )


def judge_page(
    matrix: Matrix,
    rows: dict[str, tuple[TaskInfo, dict[str, Cell]]],
    per_task: dict[str, list[Cell]],
) -> dict[tuple[str, str], tuple[agreement.Judgement, Cell]]:
    """(task, label) -> the overview cell's judgement against the matrix, and the cell."""
    out = {}
    for task, (info, by_label) in rows.items():
        for label, cell in by_label.items():
            entry = agreement.entry_for(matrix, cell)
            out[(task, label)] = (agreement.judge(cell, entry, info.chance, info.solved_at), cell)
    return out


def literature_section(
    matrix: Matrix,
    judgements: dict[tuple[str, str], tuple[agreement.Judgement, Cell]],
    rows: dict[str, tuple[TaskInfo, dict[str, Cell]]],
    per_task: dict[str, list[Cell]],
    tablefmt: str,
    out: Path,
) -> list[str]:
    """The agreement rate, the table of decided cells and what the runs show under each disagreement (from
    every stored cell of the task, all settings: `per_task`)."""
    from bench.contract.registry import list_architectures, list_tasks

    explanations = {}
    ordered = sorted(judgements.items(), key=lambda kv: (kv[0][0], family_rank(kv[1][1].key.arch), kv[0][1]))
    for key, (j, cell) in ordered:
        if j.overall == agreement.DISAGREES:
            info = rows[key[0]][0]
            explanations[key] = agreement.explain(j, cell, per_task[key[0]], matrix, info.chance, info.solved_at)
    judged = [j for _, (j, _) in ordered]
    shown_tasks = set(rows)
    missing = [
        e
        for e in agreement.entries_without_runs(
            matrix, judged, {"tasks": list_tasks(), "families": list_architectures()}
        )
        if e.task in shown_tasks
    ]
    summary = agreement.summarize(judged, len(missing))
    root = Path(__file__).resolve().parent.parent.parent
    return agreement.section(
        judged,
        explanations,
        summary,
        matrix,
        tablefmt,
        _relative(matrix.path or MATRIX_FILE, out.parent),
        _relative(root / "docs" / "literature.md", out.parent),
    )


def _family(label: str, rows: dict[str, tuple[TaskInfo, dict[str, Cell]]]) -> str:
    return next(row[label].key.arch for _, row in rows.values() if label in row)


def task_section(
    info: TaskInfo, cells: list[Cell], shown: list[Cell], names: dict[int, str], store: RecordStore, tablefmt: str
) -> list[str]:
    """Heading, source, setting, the main table and the per-length table of one task."""
    heading = f"## {info.name} — {info.metric}" + (f" (chance {info.chance:.3g}" if info.chance is not None else " (")
    heading += f", solved at ≥ {info.solved_at:g})" if info.solved_at is not None else ")"
    lengths = ", ".join(map(str, info.eval_lengths)) or "none"
    reported = info.reported or "not transcribed yet (a task's `reported` attribute fills this line)"
    shown_ids = {id(c) for c in shown}
    others = [c for c in cells if id(c) not in shown_ids]
    other_note = (
        f"Also stored: {sum(len(c.records) for c in others)} runs in {len(others)} other configurations "
        f"(fixed training-set sizes or other budgets); `archbench results --task {info.name}` lists them."
        if others
        else ""
    )
    ok_shown = [c for c in shown if not c.all_failed]
    profiles = sorted({str(profile_of(r)) for c in shown for r in c.records if profile_of(r)})
    profile = ""
    if is_screen(shown):
        profile = f"Profile `{SCREEN_PROFILE}`: a screen (tiny models, a few hundred steps), not a verdict. "
    elif profiles:
        profile = f"Profile {', '.join(f'`{p}`' for p in profiles)}. "
    return [
        f'<a name="{anchor(info.name)}"></a>',
        "",
        heading,
        "",
        f"Source: {info.paper or 'not given'}. Reported there: {reported}",
        "",
        f"{profile}Setting: {setting_text(shown)} · training length {info.length}, out-of-distribution lengths "
        f"{lengths}. The learning rate of each row is in its `lr` column.",
        "",
        task_table(info, shown, names, sample_complexity(store.root, info.name), tablefmt),
        "",
        *(
            ["Failed runs (seed counts above exclude them):", "", *failure_notes(shown, names), ""]
            if any(c.failed for c in shown)
            else []
        ),
        f"{info.metric} at every length ({method_label()}; n/a: the model cannot take that length):",
        "",
        length_table([{**r, "label": names[id(c)]} for c in ok_shown for r in c.ok], tablefmt)
        if ok_shown
        else "(every run failed)",
        "",
        *([other_note, ""] if other_note else []),
    ]


def publish(
    store: RecordStore,
    out: Path,
    tasks: list[str] | None = None,
    tablefmt: str = "github",
    *,
    include_stale: bool = False,
    plots: bool = True,
    plot_format: str = "png",
    command: str | None = None,
    literature: str | Path | None = MATRIX_FILE,
) -> Path:
    """Write the leaderboard for `store` to `out` (atomically) and its plots to `out.parent / "plots"`.

    `literature` is the literature matrix the overview is judged against (`bench.report.literature`; None:
    no agreement section).

    Raises `ArchbenchError` (nothing written) when there are no records, when `tasks` matches none of
    them, when every matching record is stale, for an unknown table or plot format, or for a literature
    matrix that does not load.
    """
    if tablefmt not in tabulate_formats:
        raise ArchbenchError(f"unknown table format {tablefmt!r}; valid: {', '.join(sorted(tabulate_formats))}")
    if plots:
        if plot_format not in PLOT_FORMATS:
            raise ArchbenchError(f"unknown plot format {plot_format!r}; valid: {', '.join(PLOT_FORMATS)}")
        require_matplotlib()  # fail before any work when the extra is missing
    out = Path(out)
    matrix = load_matrix(literature) if literature is not None else None
    page = load(store, tasks, include_stale)
    text = render(page, store, out, tablefmt, plots, plot_format, command or "bench.report.publish.publish()", matrix)
    return write_text(out, text)
