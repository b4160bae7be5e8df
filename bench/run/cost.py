"""What a sweep will cost before it runs (`archbench sweep --dry-run`): runs, search steps, and time from
measured speeds.

**Where the speeds come from**, per cell (task x architecture), first that applies:
1. `records`: stored successful records of the same task configuration and architecture configuration
   (so the same preset and sizes), trained on one thread: the median training rate
   (`train_samples_per_s`, training only) and the median per-run overhead (`wall_time_s` minus the
   training time: Lightning setup, validation, test evaluation).
2. `records~`: the same, from records of the same task, family and preset at other task sizes.
3. `probe`: with `--probe-steps N`, a short run of the cell trained here and now, on one thread, and
   measured the same way (its overhead includes one validation and the test sets, not the budget's
   validations).
4. `unmeasured`: none of these; the cell counts in the plan but not in the time, and the total says
   how many cells it leaves out.

**What is estimated.** A run costs `steps x batch / rate + overhead`, at its full budget: early stop at
`solved_at` only makes it shorter, so the time is an upper bound. The learning-rate search costs its
planned steps (`bench.run.lr_search.planned_cost`: 2 budgets for the default grid and eta) at the same
rate plus one overhead per segment; a search or run already finished (journal complete, record stored)
costs nothing. The wall time on `W` workers is the sum over phases (each rung of the search, then the
runs) of `max(phase CPU-seconds / W, the longest job of the phase)`, since a phase's jobs are
independent but the next phase waits for it; Ray is reported as CPU-hours (one CPU per run).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.results.schema import RunRecord, canonical_json
from bench.run.lr_config import LrSearchSettings
from bench.run.lr_search import planned_cost, rungs, survivors
from bench.run.plan import PlannedRun


@dataclass(frozen=True)
class Speed:
    """A cell's measured speed: training samples per second, seconds of overhead per run, and where from."""

    rate: float | None
    overhead: float
    source: str  # records, records~, probe, unmeasured

    def seconds(self, steps: int, batch_size: int) -> float | None:
        return None if self.rate is None else steps * batch_size / self.rate + self.overhead


UNMEASURED = Speed(None, 0.0, "unmeasured")


def _exact(task: str, task_config: Any, arch: str, arch_config: Any) -> tuple[str, ...]:
    return (task, canonical_json(task_config), arch, canonical_json(arch_config))


def _loose(task: str, arch: str, preset: str | None) -> tuple[str, ...]:
    return (task, arch, str(preset))


class SpeedBook:
    """Speeds measured in stored records, looked up by cell (see the module docstring)."""

    def __init__(self, records: Iterable[RunRecord]) -> None:
        exact: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
        loose: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
        for record in records:
            measured = _measured(record)
            if measured is None:
                continue
            exact[_exact(record["task"], record["task_config"], record["arch"], record["arch_config"])].append(measured)
            loose[_loose(record["task"], record["arch"], record["preset"])].append(measured)
        self.exact, self.loose = dict(exact), dict(loose)

    def speed(self, run: PlannedRun) -> Speed:
        for source, table, key in (
            ("records", self.exact, _exact(run.task_name, run.task.config(), run.arch, run.arch_config)),
            ("records~", self.loose, _loose(run.task_name, run.arch, run.preset)),
        ):
            if key in table:
                rates, overheads = zip(*table[key])
                return Speed(statistics.median(rates), statistics.median(overheads), source)
        return UNMEASURED


def _measured(record: Mapping[str, Any]) -> tuple[float, float] | None:
    """(training samples per second, overhead seconds) of a successful one-thread record, else None."""
    metrics = record.get("metrics")
    if record.get("status") != "ok" or not metrics or record.get("environment", {}).get("torch_threads") != 1:
        return None
    rate, wall, seen = metrics.get("train_samples_per_s"), metrics.get("wall_time_s"), metrics.get("samples_seen")
    if not rate or not wall or not seen or metrics.get("devices", 1) != 1:
        return None
    return float(rate), max(0.0, float(wall) - seen / rate)


def probe_speed(run: PlannedRun, steps: int) -> Speed:
    """Train `steps` steps of `run` here on one thread and measure it (the `probe` source)."""
    import dataclasses

    import torch

    from bench.run.job import run_record

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        eval_every = steps
        # A constant rate: a schedule costs nothing per step, and its warmup may be longer than the probe.
        train = dataclasses.replace(
            run.train, steps=steps, eval_every=eval_every, early_stop=False, schedule="constant", warmup_steps=0
        )
        record = run_record(dataclasses.replace(run, train=train, seed=0, record_extra={}, log=None, segment=None))
    finally:
        torch.set_num_threads(threads)
    measured = _measured(record) if record["status"] == "ok" else None
    if measured is None:
        return UNMEASURED
    return Speed(measured[0], measured[1], "probe")


@dataclass
class CellPlan:
    """One cell's planned work: its runs (reported and check seeds) and its search segments by rung."""

    task: str
    label: str
    budget: int
    batch_size: int
    runs: int
    speed: Speed
    search_steps: int = 0  # upper bound, 0 when the search is done or there is none
    search_rungs: list[tuple[int, int]] = field(default_factory=list)  # (segments, steps each) per rung

    @property
    def run_seconds(self) -> float | None:
        return self.speed.seconds(self.budget, self.batch_size)

    def seconds(self) -> float | None:
        """CPU-seconds of the whole cell: search segments plus runs."""
        if self.speed.rate is None:
            return None
        search = sum(n * (self.speed.seconds(steps, self.batch_size) or 0.0) for n, steps in self.search_rungs)
        return search + self.runs * (self.run_seconds or 0.0)


def search_rungs(budget: int, eval_every: int, settings: LrSearchSettings) -> list[tuple[int, int]]:
    """(segments, steps per segment) of each rung of a fresh halving search (no early stop)."""
    out, alive, done = [], len(settings.grid), 0
    for step in rungs(budget, eval_every, len(settings.grid), settings.reduction_factor):
        out.append((alive * len(settings.seeds), step - done))
        done, alive = step, survivors(alive, settings.reduction_factor)
    return out


def grid_rungs(budget: int, settings: LrSearchSettings) -> list[tuple[int, int]]:
    """The grid method as one phase: every value on every seed for the whole budget."""
    return [(len(settings.grid) * len(settings.seeds), budget)]


def plan_cells(
    runs: Sequence[PlannedRun],
    speed_of: Callable[[PlannedRun], Speed],
    search: LrSearchSettings | None,
    search_done: Callable[[PlannedRun], bool] = lambda run: False,
    run_done: Callable[[PlannedRun], bool] = lambda run: False,
) -> list[CellPlan]:
    """Group `runs` into cells (task x label; one learning rate each) with what is left to train."""
    from bench.run.lr_config import config_id

    cells: dict[str, CellPlan] = {}
    for run in runs:
        cid = config_id(run)
        if cid not in cells:
            cell = CellPlan(run.task_name, run.label, run.train.steps, run.train.batch_size, 0, speed_of(run))
            if search is not None and not search_done(run):
                if search.method == "halving":
                    cell.search_rungs = search_rungs(run.train.steps, run.train.eval_every, search)
                    cell.search_steps = planned_cost(
                        len(search.grid),
                        run.train.steps,
                        run.train.eval_every,
                        search.reduction_factor,
                        len(search.seeds),
                    )
                else:
                    cell.search_rungs = grid_rungs(run.train.steps, search)
                    cell.search_steps = len(search.grid) * len(search.seeds) * run.train.steps
            cells[cid] = cell
        if not run_done(run):
            cells[cid].runs += 1
    return list(cells.values())


@dataclass(frozen=True)
class Totals:
    cpu_seconds: float
    wall_seconds: float
    unmeasured: int  # cells without a speed, left out of both figures
    cells: int


def totals(cells: Sequence[CellPlan], workers: int) -> Totals:
    """CPU-seconds and the wall time on `workers` one-thread workers (phases: search rungs, then runs)."""
    phases: dict[int, list[float]] = defaultdict(list)  # phase -> job durations
    for cell in cells:
        if cell.speed.rate is None:
            continue
        for index, (segments, steps) in enumerate(cell.search_rungs):
            phases[index].extend([cell.speed.seconds(steps, cell.batch_size) or 0.0] * segments)
        phases[1_000_000].extend([cell.run_seconds or 0.0] * cell.runs)
    cpu = sum(sum(jobs) for jobs in phases.values())
    wall = sum(max(sum(jobs) / workers, max(jobs, default=0.0)) for jobs in phases.values())
    return Totals(cpu, wall, sum(1 for c in cells if c.speed.rate is None), len(cells))


def hours(seconds: float) -> str:
    """`42 s`, `12 min`, `3.4 h`."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def describe(cells: Sequence[CellPlan]) -> list[list[Any]]:
    """Table rows: task, architecture, budget, runs, search steps, speed and source, estimated CPU time."""
    rows = []
    for cell in cells:
        seconds = cell.seconds()
        rows.append(
            [
                cell.task,
                cell.label,
                cell.budget,
                cell.runs,
                cell.search_steps,
                "-" if cell.speed.rate is None else f"{cell.speed.rate:,.0f}",
                cell.speed.source,
                "-" if seconds is None else hours(seconds),
            ]
        )
    return rows


HEADERS = ["task", "architecture", "budget (steps)", "runs", "lr search (steps)", "samples/s", "speed from", "CPU time"]


def summary(label: str, result: Totals, workers: int | None) -> str:
    """`core set (9 tasks): 12.3 CPU-hours; wall 6.4 h on 2 one-thread workers (3 cells unmeasured)`."""
    text = f"{label}: {result.cpu_seconds / 3600:.1f} CPU-hours"
    if workers is not None:
        text += f"; wall time about {hours(result.wall_seconds)} on {workers} one-thread worker{'s' if workers != 1 else ''}"
    if result.unmeasured:
        text += (
            f" ({result.unmeasured} of {result.cells} cells have no measured speed and are left out: "
            "--probe-steps N measures them)"
        )
    return text + " (upper bound: every run trains its whole budget)"
