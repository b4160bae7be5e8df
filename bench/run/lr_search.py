"""Learning-rate search per cell by synchronous successive halving, kept in an Optuna journal.

**What it does.** For one cell (a task x architecture configuration: everything but the seed and the
learning rate) every value of the grid starts as an Optuna trial on the validation seeds (1000 and up;
reported and check seeds are refused). Training goes in rungs at `budget / eta**K, ..., budget / eta,
budget` optimizer steps (`K = ceil(log_eta(len(grid)))`, each rung rounded up to a validation step).
At each rung every surviving trial has trained to the same step; the best `ceil(m / eta)` of the `m`
survivors continue *from where they stopped* (a Lightning checkpoint, `bench.train.segment.Segment`:
weights, optimizer, schedule and data position, so a continued trial trains exactly as an uninterrupted
run would), the others are pruned. The one survivor of the last cut trains to the full budget, and its
learning rate is the cell's. A trial that reaches `solved_at` stops there (early stop, as every run).

Rank at a rung (`RULE`): the mean over validation seeds of the best validation metric so far, capped at
`solved_at`; then the fewest steps to solve (when every seed solved); then the lowest validation loss
(on a plateau every rate sits at chance, and the loss is what still tells them apart); then the smaller
learning rate.

**Cost.** With the grid {1e-4, 3e-4, 1e-3, 3e-3} and eta = 2 on one validation seed, the rungs are B/4,
B/2 and B for a budget of B steps: 4 x B/4 + 2 x B/4 + 1 x B/2 = 2B steps, against 4B for the full
grid on the same seed, and never more, whatever order the values come in (`planned_cost`; fewer when a
trial solves early). That is the "about 2x one reported run" the standard protocol allows.

**Why synchronous, and why not Optuna's `SuccessiveHalvingPruner` or Ray Tune's ASHA.** Both prune
*asynchronously* (ASHA, Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning"): a
trial is judged against whichever trials happen to have reached the rung before it. Run one after
another, the first trial is never pruned and trains the whole budget, and the cost depends on the
order of the grid: over all 24 orders of four consistently ranked values, Optuna's pruner (eta = 2,
rungs B/4 and B/2, validation every B/20) costs from 1.75B to 4B (the full grid), 2.65B on average
(`tests/test_lr_search.py::test_asynchronous_halving_cost_depends_on_order` measures it), and when
values are not consistently ranked the choice itself can depend on the order. Synchronous halving (Jamieson & Talwalkar 2016, "Non-stochastic
Best Arm Identification and Hyperparameter Optimization", Algorithm 1) waits for every trial at a rung,
so its cost is fixed and its choice order-free; the price is a checkpoint per continued trial. Ray
Tune's synchronous `HyperBandScheduler` would do the same, but it needs Ray on every machine and its
own trial runner; Optuna is one light package whose journal file makes the search resumable and
inspectable with Optuna's own tools (`optuna-dashboard`, `optuna.load_study`). So archbench keeps the
trials, their intermediate values, states and the pruning decision in Optuna (a `BasePruner`,
`SynchronousHalvingPruner`, called with `Trial.should_prune` at each rung) and trains the segments
on its own executors (serial, local processes, Ray), as every other run.

**Storage: one `JournalStorage` file per cell** (`<results>/lr_search/<task>/<study>.journal`, the
checkpoints beside it in `<study>/`, deleted when the search is done). Why the journal and not SQLite:
it is an append-only text file, so a search interrupted at any point (Ctrl-C, a killed worker, a lost
machine) leaves a readable log, and it needs no database driver; only the driver process writes it,
so no locking between workers is needed either. The study name is a digest of the cell, the search
settings and the code and package versions (as a record's freshness), so changed code starts a new
search instead of mixing two. Resuming reads the journal: a finished trial (completed or pruned) is
never retrained, a trial in progress continues from the checkpoint of its last rung, and a decision
already taken is taken again identically (the pruner looks only at stored values).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from bench.contract.errors import ArchbenchError
from bench.results.schema import canonical_json
from bench.run.lr_config import LrSearchSettings, config_id

if TYPE_CHECKING:
    from bench.run.executors import Executor
    from bench.run.plan import PlannedRun

METHOD = "successive_halving"
RULE = (
    "synchronous successive halving: at each rung keep the best ceil(m/eta) of m trials by mean over validation "
    "seeds of the best validation metric so far (capped at solved_at), then fewest steps to solve, then lowest "
    "validation loss, then smaller lr; the survivor of the last cut trains the full budget and is chosen"
)
SEARCH_FOLDER = "lr_search"


def rungs(budget: int, eval_every: int, n: int, eta: int) -> list[int]:
    """Steps at which the survivors are compared: budget / eta**k for k = K..0, each rounded up to a
    validation step (a multiple of `eval_every`, at most the budget). The last is the budget itself."""
    cuts = math.ceil(math.log(n, eta) - 1e-9) if n > 1 else 0
    steps = []
    for k in range(cuts, -1, -1):
        step = min(budget, max(eval_every, math.ceil(budget / eta**k / eval_every) * eval_every))
        steps.append(step)
    return steps


def survivors(m: int, eta: int) -> int:
    return max(1, math.ceil(m / eta))


def planned_cost(n: int, budget: int, eval_every: int, eta: int, seeds: int = 1) -> int:
    """Optimizer steps the search trains when no trial stops early (an upper bound): every trial to the
    first rung, the survivors of each cut on to the next."""
    total, alive, done = 0, n, 0
    for step in rungs(budget, eval_every, n, eta):
        total += alive * (step - done)
        done, alive = step, survivors(alive, eta)
    return total * seeds


# --------------------------------------------------------------------------- segments (the unit of training)


@dataclass(frozen=True)
class SegmentRequest:
    """Train `lr` on `seed` from step `start` (from the checkpoint `resume`) to `stop`, saving to `save`."""

    cell: str
    trial: int
    lr: float
    seed: int
    start: int
    stop: int
    resume: str | None
    save: str


@dataclass
class SegmentResult:
    """What a segment reports: its validations (step, metric), (step, loss), where it stopped, whether it
    reached solved_at (then the trial trains no further on this seed), or why it failed."""

    val_history: list[tuple[int, float]] = field(default_factory=list)
    val_loss_history: list[tuple[int, float]] = field(default_factory=list)
    steps: int = 0
    solved: bool = False
    error: str | None = None


RunSegments = Callable[[list[SegmentRequest]], Iterable[tuple[SegmentRequest, SegmentResult]]]


# --------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class Standing:
    """A trial at a step: the figures `RULE` ranks by (`key`, higher is better)."""

    metric: float  # mean over seeds of the best capped validation metric so far
    solve_steps: float  # mean steps to solve when every seed solved, else inf
    loss: float  # mean over seeds of the lowest validation loss so far
    lr: float

    @property
    def key(self) -> tuple[float, float, float, float]:
        return (round(self.metric, 9), -self.solve_steps, -self.loss, -self.lr)


def standing(per_seed: Mapping[str, Mapping[str, Any]], lr: float, step: int, solved_at: float) -> Standing:
    """Where a trial stands at `step` from its seeds' stored histories (a failed seed counts as the worst)."""
    metrics, solves, losses = [], [], []
    for state in per_seed.values():
        history = [(int(s), float(v), float(loss)) for s, v, loss in state.get("history", []) if s <= step]
        if state.get("error") or not history:
            metrics.append(-math.inf)
            solves.append(math.inf)
            losses.append(math.inf)
            continue
        metrics.append(max(min(v, solved_at) for _, v, _ in history))
        solved = [s for s, v, _ in history if v >= solved_at]
        solves.append(min(solved) if solved else math.inf)
        finite = [loss for _, _, loss in history if math.isfinite(loss)]
        losses.append(min(finite) if finite else math.inf)
    if not metrics:
        return Standing(-math.inf, math.inf, math.inf, lr)
    return Standing(sum(metrics) / len(metrics), sum(solves) / len(solves), sum(losses) / len(losses), lr)


def make_pruner(rung_steps: Sequence[int], eta: int, solved_at: float) -> optuna.pruners.BasePruner:
    """An Optuna pruner for synchronous successive halving (see the module docstring)."""

    class SynchronousHalvingPruner(optuna.pruners.BasePruner):
        """Prune a trial at rung k unless it is among the best ceil(m / eta) of the m trials that reached
        rung k. Called only once every trial of the rung has trained to it (the driver's barrier), so the
        decision sees all of them and does not depend on the order of the calls; decisions already taken
        (a pruned trial still counts among the m) are reproduced exactly on a resumed search."""

        def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
            rung = int(trial.user_attrs.get("rung", 0))
            if rung >= len(rung_steps) - 1:
                return False  # the last rung is the full budget: nothing left to cut
            step = rung_steps[rung]
            cohort = [t for t in study.get_trials(deepcopy=False) if int(t.user_attrs.get("rung", 0)) >= rung]
            ranked = sorted(cohort, key=lambda t: _standing(t, step, solved_at).key, reverse=True)
            keep = {t.number for t in ranked[: survivors(len(cohort), eta)]}
            return trial.number not in keep

    return SynchronousHalvingPruner()


def _standing(trial: optuna.trial.FrozenTrial, step: int, solved_at: float) -> Standing:
    return standing(_seeds_of(trial), float(trial.params["lr"]), step, solved_at)


def _seeds_of(trial: optuna.trial.FrozenTrial) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in trial.user_attrs.items() if k.startswith("seed")}


# --------------------------------------------------------------------------- one cell's search


@dataclass
class Cell:
    """What a search needs to know about a cell: an id, a name for messages, its budget and threshold."""

    id: str
    label: str
    task: str
    budget: int
    eval_every: int
    solved_at: float


class CellSearch:
    """The search of one cell, its state in one Optuna journal file (see the module docstring)."""

    @classmethod
    def existing(cls, cell: Cell, settings: LrSearchSettings, folder: Path) -> CellSearch | None:
        """The cell's search if its journal exists (read, nothing written when it is complete), else None."""
        if not (folder / cell.task / f"{study_name(cell, settings)}.journal").is_file():
            return None
        return cls(cell, settings, folder)

    def __init__(self, cell: Cell, settings: LrSearchSettings, folder: Path) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per created study is noise here
        self.cell, self.settings = cell, settings
        self.rungs = rungs(cell.budget, cell.eval_every, len(settings.grid), settings.reduction_factor)
        self.name = study_name(cell, settings)
        folder = folder / cell.task
        folder.mkdir(parents=True, exist_ok=True)
        self.journal = folder / f"{self.name}.journal"  # as given (relative): it is named in committed records
        self.checkpoints = (folder / self.name).resolve()  # absolute: worker processes may run elsewhere
        self.study = optuna.create_study(
            study_name=self.name,
            storage=JournalStorage(JournalFileBackend(str(self.journal))),
            load_if_exists=True,
            direction="maximize",
            # the grid enters as enqueued trials (below), in ascending order; GridSampler would do the same but
            # calls Study.stop() once the grid is exhausted, which only works inside Study.optimize
            sampler=optuna.samplers.RandomSampler(seed=0),
            pruner=make_pruner(self.rungs, settings.reduction_factor, cell.solved_at),
        )
        if not self.study.user_attrs:
            for key, value in {
                "cell": cell.label,
                "task": cell.task,
                "budget": cell.budget,
                "grid": list(settings.grid),
                "seeds": list(settings.seeds),
                "reduction_factor": settings.reduction_factor,
                "rungs": self.rungs,
                "rule": RULE,
            }.items():
                self.study.set_user_attr(key, value)
        asked = {float(t.params["lr"]) for t in self.study.get_trials(deepcopy=False) if "lr" in t.params}
        for lr in settings.grid:
            if lr not in asked:  # a search interrupted while its trials were being created
                self.study.enqueue_trial({"lr": lr})
                trial = self.study.ask()
                trial.suggest_categorical("lr", list(settings.grid))
                trial.set_user_attr("rung", 0)

    # -- state
    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return sorted(self.study.get_trials(deepcopy=False), key=lambda t: float(t.params["lr"]))

    def _live(self, rung: int) -> list[optuna.trial.FrozenTrial]:
        return [t for t in self.trials() if t.state == TrialState.RUNNING and int(t.user_attrs.get("rung", 0)) >= rung]

    @property
    def done(self) -> bool:
        return all(t.state != TrialState.RUNNING for t in self.trials())

    def pending(self, rung: int) -> list[SegmentRequest]:
        """The segments that bring every live trial of rung `rung` to its step (none once they are there)."""
        if rung >= len(self.rungs):
            return []
        stop = self.rungs[rung]
        out = []
        for trial in self._live(rung):
            for seed in self.settings.seeds:
                state = trial.user_attrs.get(f"seed{seed}", {})
                steps = int(state.get("steps", 0))
                if state.get("finished") or steps >= stop:
                    continue
                self.checkpoints.mkdir(parents=True, exist_ok=True)
                out.append(
                    SegmentRequest(
                        cell=self.cell.id,
                        trial=trial.number,
                        lr=float(trial.params["lr"]),
                        seed=seed,
                        start=steps,
                        stop=stop,
                        resume=state.get("checkpoint") if steps else None,
                        save=str(self.checkpoints / f"lr{trial.params['lr']:g}-seed{seed}-step{stop}.ckpt"),
                    )
                )
        return out

    def record(self, request: SegmentRequest, result: SegmentResult) -> None:
        """Store a finished segment in the journal, and the trial's mean validation value at every step
        that all its seeds have reached as Optuna intermediate values."""
        trial = self.study.get_trials(deepcopy=False)[request.trial]
        live = optuna.trial.Trial(self.study, trial._trial_id)
        key = f"seed{request.seed}"
        state = dict(trial.user_attrs.get(key, {}))
        losses = dict(result.val_loss_history)
        history = [h for h in state.get("history", []) if h[0] <= request.start]
        history += [[int(s), float(v), float(losses.get(s, math.nan))] for s, v in result.val_history]
        stopped_early = result.error is None and result.steps < request.stop
        state.update(
            history=history,
            steps=max(result.steps, request.start) if result.error is None else request.start,
            checkpoint=request.save if result.error is None else state.get("checkpoint"),
            finished=bool(result.error) or result.solved or stopped_early,
            solved=bool(result.solved),
            error=result.error,
        )
        live.set_user_attr(key, state)
        self._report(live, self.study.get_trials(deepcopy=False)[request.trial])

    def _report(self, live: optuna.trial.Trial, trial: optuna.trial.FrozenTrial) -> None:
        seeds = _seeds_of(trial)
        if len(seeds) < len(self.settings.seeds):
            return
        steps = sorted({int(h[0]) for s in seeds.values() for h in s.get("history", [])})
        reach = min(math.inf if s.get("finished") else int(s.get("steps", 0)) for s in seeds.values())
        for step in steps:
            if step > reach or step in trial.intermediate_values:
                continue
            value = standing(seeds, float(trial.params["lr"]), step, self.cell.solved_at).metric
            if math.isfinite(value):
                live.report(value, step)

    def decide(self, rung: int) -> None:
        """After every live trial reached rung `rung`: prune (Optuna `should_prune`) or promote each; after
        the last rung complete the survivors. Taken again on a resumed search, it changes nothing."""
        if rung >= len(self.rungs) or self.pending(rung):
            return
        last = rung == len(self.rungs) - 1
        live = [t for t in self._live(rung) if int(t.user_attrs.get("rung", 0)) == rung]
        decisions = {t.number: (not last and optuna.trial.Trial(self.study, t._trial_id).should_prune()) for t in live}
        for trial in live:
            handle = optuna.trial.Trial(self.study, trial._trial_id)
            if decisions[trial.number]:
                handle.set_user_attr("pruned_at", self.rungs[rung])
                self.study.tell(trial.number, state=TrialState.PRUNED)
            elif last:
                value = _standing(trial, self.rungs[-1], self.cell.solved_at).metric
                if math.isfinite(value):
                    self.study.tell(trial.number, value)
                else:
                    self.study.tell(trial.number, state=TrialState.FAIL)
            else:
                handle.set_user_attr("rung", rung + 1)
        if self.done:
            shutil.rmtree(self.checkpoints, ignore_errors=True)

    # -- the outcome
    def cost(self) -> int:
        """Optimizer steps trained so far, over every trial and seed."""
        return sum(int(s.get("steps", 0)) for t in self.trials() for s in _seeds_of(t).values())

    def selection(self) -> dict[str, Any]:
        """The `lr_selection` evidence for the records of this cell: the chosen rate and how."""
        if not self.done:
            raise ArchbenchError(f"learning-rate search for {self.cell.label} is not finished")
        trials = self.trials()
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if not complete:
            errors = [s.get("error") for t in trials for s in _seeds_of(t).values() if s.get("error")]
            raise ArchbenchError(
                f"learning-rate search for {self.cell.label}: every trial failed ({errors[0] if errors else 'no result'})"
            )
        best = max(complete, key=lambda t: _standing(t, self.rungs[-1], self.cell.solved_at).key)
        return {
            "method": METHOD,
            "chosen": float(best.params["lr"]),
            "grid": list(self.settings.grid),
            "seeds": list(self.settings.seeds),
            "reduction_factor": self.settings.reduction_factor,
            "budget": self.cell.budget,
            "rungs": self.rungs,
            "trials": [self._trial_summary(t) for t in trials],
            "cost_steps": self.cost(),
            "full_grid_steps": len(self.settings.grid) * self.cell.budget * len(self.settings.seeds),
            "rule": RULE,
            "storage": str(self.journal),
            "study": self.name,
        }

    def _trial_summary(self, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
        seeds = _seeds_of(trial)
        step = max((int(s.get("steps", 0)) for s in seeds.values()), default=0)
        at = standing(seeds, float(trial.params["lr"]), step, self.cell.solved_at)
        errors = [s["error"] for s in seeds.values() if s.get("error")]
        return {
            "lr": float(trial.params["lr"]),
            "state": trial.state.name.lower(),
            "steps": step,
            "value": at.metric if math.isfinite(at.metric) else None,
            "val_loss": at.loss if math.isfinite(at.loss) else None,
            "solved_step": at.solve_steps if math.isfinite(at.solve_steps) else None,
            "pruned_at": trial.user_attrs.get("pruned_at"),
            **({"error": errors[0]} if errors else {}),
        }


def study_name(cell: Cell, settings: LrSearchSettings) -> str:
    """A digest of the cell, the settings and the code and package versions that would train it."""
    payload = [cell.id, list(settings.grid), list(settings.seeds), settings.reduction_factor, cell.budget]
    return "lr-" + hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:16]


def search(
    searches: Sequence[CellSearch], run_segments: RunSegments, on_rung: Callable[[int, int, int], None] | None = None
) -> None:
    """Run every cell's search, rung by rung: all cells' segments of a rung go to `run_segments` together
    (an executor trains them in parallel), then each cell decides. Resumes from the journals."""
    by_id = {s.cell.id: s for s in searches}
    for rung in range(max((len(s.rungs) for s in searches), default=0)):
        requests = [r for s in searches for r in s.pending(rung)]
        if on_rung:
            on_rung(rung, max(len(s.rungs) for s in searches), len(requests))
        if requests:
            for request, result in run_segments(requests):
                by_id[request.cell].record(request, result)
        for s in searches:
            s.decide(rung)


# --------------------------------------------------------------------------- planned runs <-> cells


def cell_of(run: PlannedRun) -> Cell:
    """The cell of a planned run: its configuration without seed and learning rate, and the code and
    package versions that train it (so a search by other code is a different search)."""
    from bench.contract.registry import get_architecture
    from bench.results.code_version import code_sources
    from bench.results.freshness import reference

    ref = reference()
    sources = code_sources(type(run.task), get_architecture(run.arch).obj)
    versions = [ref["archbench"], ref["torch"], ref["lightning"], ref["torchmetrics"]]
    identity = canonical_json([config_id(run), versions, ref["code_version"](sources)])
    return Cell(
        id=hashlib.sha256(identity.encode()).hexdigest()[:24],
        label=f"{run.task_name}: {run.label}",
        task=run.task_name,
        budget=run.train.steps,
        eval_every=run.train.eval_every,
        solved_at=run.task.solved_at,
    )


def executor_segments(
    representatives: Mapping[str, PlannedRun], executor: Executor | None = None, command: str | None = None
) -> RunSegments:
    """`RunSegments` that trains each segment as its cell's run (lr and seed replaced) on `executor`."""
    from bench.run.executors import SerialExecutor
    from bench.train.segment import Segment

    def run(requests: list[SegmentRequest]) -> Iterator[tuple[SegmentRequest, SegmentResult]]:
        planned = []
        for request in requests:
            base = representatives[request.cell]
            planned.append(
                dataclasses.replace(
                    base,
                    train=dataclasses.replace(base.train, lr=request.lr),
                    seed=request.seed,
                    record_extra={},
                    log=None,
                    segment=Segment(stop=request.stop, save=request.save, resume=request.resume),
                )
            )
        by_id = {id(p): r for p, r in zip(planned, requests)}
        for run_, record in (executor or SerialExecutor()).map(planned, command):
            yield by_id[id(run_)], result_of(record)

    return run


def result_of(record: Mapping[str, Any]) -> SegmentResult:
    """A segment's result from the record its job returned."""
    metrics = record.get("metrics")
    if record.get("status") != "ok" or not metrics:
        return SegmentResult(error=str(record.get("error") or "failed"))
    return SegmentResult(
        val_history=[(int(s), float(v)) for s, v in metrics["val_history"]],
        val_loss_history=[(int(s), float(v)) for s, v in metrics.get("val_loss_history", [])],
        steps=int(metrics["steps"]),
        solved=bool(metrics["solved"]),
    )


def finished_choice(run: PlannedRun, settings: LrSearchSettings, results_root: str | Path) -> float | None:
    """The learning rate a finished search chose for `run`'s cell; None if it has not finished (or started)."""
    searcher = CellSearch.existing(cell_of(run), settings, Path(results_root) / SEARCH_FOLDER)
    if searcher is None or not searcher.done:
        return None
    try:
        return float(searcher.selection()["chosen"])
    except ArchbenchError:  # finished with every trial failed
        return None


def select_lrs_halving(
    runs: list[PlannedRun],
    results_root: str | Path,
    settings: LrSearchSettings,
    executor: Executor | None = None,
    command: str | None = None,
    run_segments: RunSegments | None = None,
    on_rung: Callable[[int, int, int], None] | None = None,
) -> list[PlannedRun]:
    """Search a learning rate for every cell among `runs`; return the runs with it set and the evidence
    in `record_extra["lr_selection"]`. The journals live under `<results_root>/lr_search/`."""
    overlap = sorted(set(settings.seeds) & {r.seed for r in runs})
    if overlap:
        raise ArchbenchError(
            f"seed(s) {', '.join(map(str, overlap))} are learning-rate validation seeds "
            f"({', '.join(map(str, settings.seeds))}); report other seeds"
        )
    representatives: dict[str, PlannedRun] = {}
    cells: dict[str, Cell] = {}
    for run in runs:
        cid = config_id(run)
        if cid not in cells:
            cells[cid] = cell_of(run)
            representatives[cells[cid].id] = run
    folder = Path(results_root) / SEARCH_FOLDER
    searches = {cid: CellSearch(cell, settings, folder) for cid, cell in cells.items()}
    search(list(searches.values()), run_segments or executor_segments(representatives, executor, command), on_rung)
    selections = {cid: s.selection() for cid, s in searches.items()}
    return [
        dataclasses.replace(
            r,
            train=dataclasses.replace(r.train, lr=selections[config_id(r)]["chosen"]),
            record_extra={**r.record_extra, "lr_selection": selections[config_id(r)]},
        )
        for r in runs
    ]
