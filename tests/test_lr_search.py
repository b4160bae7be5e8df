"""Successive-halving learning-rate search: finds the best rate of a synthetic objective, costs what it
says, never touches reported or check seeds, resumes without retraining, and runs end to end on smoke."""

from __future__ import annotations

import itertools
import json
import math
import random
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.run.lr_config import LrSearchSettings, search_settings
from bench.run.lr_search import (
    Cell,
    CellSearch,
    SegmentRequest,
    SegmentResult,
    planned_cost,
    rungs,
    search,
    standing,
)
from tests.conftest import PLUGINS

BUDGET, EVERY = 1000, 50
HALVING = LrSearchSettings("halving")  # grid 1e-4, 3e-4, 1e-3, 3e-3; seed 1000; eta 2


def quality(lr: float, best: float) -> float:
    """How fast a rate learns: 1 at `best`, falling with the distance in decades."""
    return math.exp(-((math.log10(lr) - math.log10(best)) ** 2))


def curve(lr: float, step: int, best: float) -> float:
    """The synthetic validation metric: a saturating curve whose ceiling and speed depend on the rate."""
    return quality(lr, best) * (1 - math.exp(-step / 400))


class Fake:
    """A stand-in trainer: the validation curve of `curve`, a checkpoint file per segment, a log."""

    def __init__(self, best: float = 1e-3, solved_at: float = 2.0, order: str = "as given") -> None:
        self.best, self.solved_at, self.order = best, solved_at, order
        self.log: list[SegmentRequest] = []

    def __call__(self, requests: list[SegmentRequest]) -> Iterator[tuple[SegmentRequest, SegmentResult]]:
        if self.order == "reversed":
            requests = requests[::-1]
        elif self.order == "shuffled":
            requests = random.Random(0).sample(requests, len(requests))
        for request in requests:
            if request.start:
                assert request.resume is not None and Path(request.resume).read_text() == f"step {request.start}"
            history, steps, solved = [], request.start, False
            for step in range(request.start + EVERY, request.stop + 1, EVERY):
                value = curve(request.lr, step, self.best)
                history.append((step, value))
                steps = step
                if value >= self.solved_at:
                    solved = True
                    break
            Path(request.save).write_text(f"step {steps}")
            self.log.append(request)
            yield request, SegmentResult(history, [(s, 1 - v) for s, v in history], steps, solved)


def cell(name: str = "c", solved_at: float = 2.0) -> Cell:
    return Cell(id=name, label=f"task: {name}", task="task", budget=BUDGET, eval_every=EVERY, solved_at=solved_at)


def run_search(tmp_path: Path, fake: Fake, settings: LrSearchSettings = HALVING, name: str = "c") -> CellSearch:
    searcher = CellSearch(cell(name, fake.solved_at), settings, tmp_path)
    search([searcher], fake)
    return searcher


@pytest.mark.parametrize("best", [1e-4, 3e-4, 1e-3, 3e-3])
def test_finds_the_known_best_rate_at_half_the_grids_cost(tmp_path: Path, best: float) -> None:
    fake = Fake(best)
    selection = run_search(tmp_path, fake).selection()
    assert selection["chosen"] == best
    # rungs B/4, B/2, B: four trials to B/4, two on to B/2, one to B = 2B, against 4B for the grid
    assert selection["rungs"] == [250, 500, 1000]
    assert selection["cost_steps"] == 2 * BUDGET == sum(r.stop - r.start for r in fake.log)
    assert selection["full_grid_steps"] == 4 * BUDGET
    states = {t["lr"]: (t["state"], t["pruned_at"], t["steps"]) for t in selection["trials"]}
    assert states[best] == ("complete", None, BUDGET)
    assert sorted(p for s, p, _ in states.values() if s == "pruned") == [250, 250, 500]
    assert Path(selection["storage"]).is_file() and selection["seeds"] == [1000]
    assert not any(Path(selection["storage"]).with_suffix("").glob("*.ckpt"))  # checkpoints go when done


def test_continued_trials_resume_from_their_checkpoint(tmp_path: Path) -> None:
    fake = Fake()
    run_search(tmp_path, fake)
    continued = [r for r in fake.log if r.start]
    assert continued and all(r.resume and r.resume.endswith(f"step{r.start}.ckpt") for r in continued)


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
def test_choice_and_cost_do_not_depend_on_the_order_segments_finish(tmp_path: Path, order: str) -> None:
    plain = run_search(tmp_path / "a", Fake(3e-4)).selection()
    other = run_search(tmp_path / "b", Fake(3e-4, order=order)).selection()
    assert (other["chosen"], other["cost_steps"], other["trials"]) == (
        plain["chosen"],
        plain["cost_steps"],
        plain["trials"],
    )


def test_early_stop_at_solved_at_saves_steps_and_the_fastest_wins(tmp_path: Path) -> None:
    fake = Fake(best=1e-3, solved_at=0.5)  # 1e-3 solves at step 300, 3e-4 and 3e-3 later, 1e-4 never
    selection = run_search(tmp_path, fake).selection()
    assert selection["chosen"] == 1e-3
    best = next(t for t in selection["trials"] if t["lr"] == 1e-3)
    assert best["solved_step"] == 300 and best["steps"] == 300
    assert selection["cost_steps"] < planned_cost(4, BUDGET, EVERY, 2)


def test_ties_at_chance_are_broken_by_validation_loss() -> None:
    history = {"seed1000": {"history": [[50, 0.25, 1.30], [100, 0.25, 1.20]]}}
    flat = {"seed1000": {"history": [[50, 0.25, 1.38], [100, 0.25, 1.38]]}}
    assert standing(history, 1e-3, 100, 0.9).key > standing(flat, 1e-4, 100, 0.9).key
    failed = {"seed1000": {"history": [], "error": "boom"}}
    assert standing(failed, 1e-3, 100, 0.9).metric == -math.inf


def test_planned_cost_and_rungs() -> None:
    assert rungs(1000, 50, 4, 2) == [250, 500, 1000]
    assert planned_cost(4, 1000, 50, 2) == 2000 and planned_cost(4, 1000, 50, 2, seeds=2) == 4000
    assert rungs(1000, 100, 4, 2) == [300, 500, 1000]  # rounded up to a validation step
    assert planned_cost(3, 1000, 50, 2) == 3 * 250 + 2 * 250 + 500
    assert rungs(1000, 50, 1, 2) == [1000] and planned_cost(1, 1000, 50, 2) == 1000
    assert planned_cost(4, 1000, 50, 4) == 4 * 250 + 750  # eta 4: one cut


def test_asynchronous_halving_cost_depends_on_order() -> None:
    """Why the search is synchronous (module docstring of bench.run.lr_search): Optuna's own
    SuccessiveHalvingPruner (ASHA), run one trial after another with rungs at B/4 and B/2 and validation
    every B/20, costs between 1.75B and the full grid's 4B (2.65B on average) depending on the order of
    four consistently ranked values; the synchronous search costs 2B for every order."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def asha_cost(order: tuple[int, ...]) -> float:
        study = optuna.create_study(
            direction="maximize",
            pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=BUDGET // 4, reduction_factor=2),
        )
        total = 0
        for quality_rank in order:
            trial = study.ask()
            for step in range(EVERY, BUDGET + 1, EVERY):
                trial.report(quality_rank + step * 1e-6, step)
                total += EVERY
                if trial.should_prune():
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    break
            else:
                study.tell(trial, quality_rank)
        return total / BUDGET

    costs = [asha_cost(order) for order in itertools.permutations(range(4))]
    assert min(costs) == 1.75 and max(costs) == 4.0
    assert statistics.mean(costs) == pytest.approx(2.65, abs=0.01)


def test_refuses_reported_and_check_seeds(tmp_path: Path) -> None:
    for seeds in [(0,), (3,), (1000, 5), (999,)]:
        with pytest.raises(ArchbenchError, match="validation seeds \\(1000 and up\\), never reported or check seeds"):
            LrSearchSettings("halving", seeds=seeds)
    with pytest.raises(ArchbenchError, match="validation seeds"):
        search_settings({"method": "grid", "seeds": [2]})
    with pytest.raises(ArchbenchError, match="reduction_factor must be an integer >= 2"):
        LrSearchSettings("halving", reduction_factor=1)
    with pytest.raises(ArchbenchError, match="unknown learning-rate method 'asha'; valid: grid, halving"):
        LrSearchSettings("asha")


class Interrupt(Exception):
    pass


def test_resuming_does_not_rerun_finished_segments(tmp_path: Path) -> None:
    """Interrupted after five segments (the four of the first rung and one of the second), the search
    resumes from the journal: the finished segments are not trained again, and the outcome and the total
    cost are those of an uninterrupted search."""
    whole = run_search(tmp_path / "whole", Fake(3e-3)).selection()

    first = Fake(3e-3)

    def interrupted(requests: list[SegmentRequest]) -> Iterator[tuple[SegmentRequest, SegmentResult]]:
        for item in first(requests):
            yield item
            if len(first.log) == 5:
                raise Interrupt

    searcher = CellSearch(cell(), HALVING, tmp_path / "parts")
    with pytest.raises(Interrupt):
        search([searcher], interrupted)
    assert not searcher.done
    second = Fake(3e-3)
    resumed = run_search(tmp_path / "parts", second)
    done_first = {(r.lr, r.start, r.stop) for r in first.log}
    assert not done_first & {(r.lr, r.start, r.stop) for r in second.log}
    assert len(first.log) + len(second.log) == 7
    selection = resumed.selection()
    assert (selection["chosen"], selection["cost_steps"], selection["trials"]) == (
        whole["chosen"],
        whole["cost_steps"],
        whole["trials"],
    )
    # a third time: everything is in the journal, nothing trains
    third = Fake(3e-3)
    assert run_search(tmp_path / "parts", third).selection()["chosen"] == 3e-3 and third.log == []


def test_several_validation_seeds_average(tmp_path: Path) -> None:
    settings = LrSearchSettings("halving", seeds=(1000, 1001))
    fake = Fake(1e-4)
    selection = run_search(tmp_path, fake, settings).selection()
    assert selection["chosen"] == 1e-4 and selection["cost_steps"] == 2 * 2 * BUDGET
    assert {r.seed for r in fake.log} == {1000, 1001}


def test_halving_end_to_end_on_smoke(tmp_path: Path, capsys) -> None:
    """`run --lr auto --lr-method halving` on the smoke profile: the reported run trains with the chosen
    rate and carries the evidence; a second invocation reads the journal and the record, trains nothing."""
    args = [
        "--plugin",
        str(PLUGINS / "mean_pool_plugin.py"),
        "run",
        "--task",
        "sparse_token_selection",
        "--arch",
        "mean_pool",
        "--profile",
        "smoke",
        "--seeds",
        "0",
        "--lr",
        "auto",
        "--lr-method",
        "halving",
        "--lr-grid",
        "1e-3,1e-2",
        "--results",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "successive halving on validation seeds 1000" in out
    records = [json.loads(line) for line in (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()]
    (reported,) = records  # the search's partial runs are not records
    selection = reported["lr_selection"]
    assert reported["train_config"]["lr"] == selection["chosen"] and selection["method"] == "successive_halving"
    assert selection["grid"] == [1e-3, 1e-2] and Path(selection["storage"]).is_file()
    assert selection["rungs"] == [10, 20] and selection["cost_steps"] <= 30  # smoke: 20 steps, validation every 10
    assert main(args) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 1


def test_halving_refuses_reported_seeds_on_the_command_line(tmp_path: Path, capsys) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[p]\ndescription = "d"\npreset = "tiny"\nseeds = [0]\n[p.train]\nsteps = 20\n'
        '[p.lr_search]\nmethod = "halving"\nseeds = [1]\n'
    )
    args = ["run", "--task", "copy", "--arch", "lstm", "--profile", str(profile), "--results", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "never reported or check seeds; got 1" in err[0]
    assert not (tmp_path / "r").exists()
