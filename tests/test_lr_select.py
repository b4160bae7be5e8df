"""Learning-rate selection: the rule, validation seeds kept apart, the choice stored in records, `--lr auto`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.results.store import RecordStore
from bench.run.lr_select import VALIDATION_SEEDS, choose, parse_lr, score, select_lrs
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import get_profile
from tests.conftest import PLUGINS


def measured(val_best: float, samples_to_solve: int | None) -> dict[str, Any]:
    """The harness fields lr selection reads: best validation, solved, samples to solve."""
    return {"val_best": val_best, "solved": samples_to_solve is not None, "samples_to_solve": samples_to_solve}


def fake(run: PlannedRun, val_best: float, samples_to_solve: int | None, status: str = "ok") -> dict[str, Any]:
    metrics = measured(val_best, samples_to_solve)
    return {"key": run.key, "status": status, "metrics": metrics if status == "ok" else None, "error": "boom"}


def test_score_takes_medians_and_counts_failures() -> None:
    runs = [{"status": "ok", "metrics": measured(v, s)} for v, s in [(0.95, 640), (0.5, None), (0.92, 1280)]]
    assert score(runs, 0.9) == {"val_best": 0.92, "samples_to_solve": 1280, "runs": 3, "failed": 0}
    # the unsolved seed counts as infinitely many samples: with two of three unsolved the median is unsolved
    assert score([runs[0], runs[1], runs[1]], 0.9)["samples_to_solve"] is None
    failed = score(runs[:1] + [{"status": "failed", "metrics": None}] * 2, 0.9)
    assert failed["val_best"] is None and failed["samples_to_solve"] is None and failed["failed"] == 2


def test_choose_rule() -> None:
    def s(best: float | None, samples: float | None) -> dict[str, Any]:
        return {"val_best": best, "samples_to_solve": samples}

    # every value solves: capped metric ties, the fastest wins (not the one with the higher final value)
    assert choose({1e-3: s(0.99, 6400), 3e-3: s(0.91, 1280), 1e-2: s(0.95, 3200)}, 0.9) == 3e-3
    # none solves: the best metric wins
    assert choose({1e-3: s(0.5, None), 3e-3: s(0.7, None), 1e-2: s(None, None)}, 0.9) == 3e-3
    # a full tie goes to the smaller learning rate
    assert choose({1e-2: s(0.5, None), 1e-3: s(0.5, None)}, 0.9) == 1e-3


def test_parse_lr() -> None:
    assert parse_lr(None) is None and parse_lr("auto") == "auto" and parse_lr("3e-3") == 3e-3
    for bad in ("fast", "0", "-1e-3"):
        with pytest.raises(ArchbenchError, match="positive number or 'auto'"):
            parse_lr(bad)


def test_select_with_mocked_runs_stores_choice_and_never_uses_reported_seeds(mean_pool_plugin, tmp_path: Path) -> None:
    runs = plan(
        "sparse_token_selection",
        ["mean_pool"],
        get_profile("smoke"),
        seeds=[0, 1],
        task_grid=[{"codes": "stochastic"}, {"codes": "fixed"}],
    )
    seen: list[PlannedRun] = []

    def execute_fn(planned: list[PlannedRun], store: RecordStore, command: str | None) -> list[dict[str, Any]]:
        seen.extend(planned)
        # stochastic codes do best at 1e-2, fixed codes at 1e-3
        best = {"stochastic": 1e-2, "fixed": 1e-3}
        return [
            fake(
                r, 0.95 if r.train.lr == best[r.task.codes] else 0.6, 320 if r.train.lr == best[r.task.codes] else None
            )
            for r in planned
        ]

    chosen = select_lrs(runs, RecordStore(tmp_path), (1e-3, 3e-3, 1e-2), command="test", execute_fn=execute_fn)
    assert {r.seed for r in seen} == set(VALIDATION_SEEDS) and len(seen) == 2 * 3 * 2  # 2 configs x grid x seeds
    assert [(r.task.codes, r.seed, r.train.lr) for r in chosen] == [
        ("stochastic", 0, 1e-2),
        ("stochastic", 1, 1e-2),
        ("fixed", 0, 1e-3),
        ("fixed", 1, 1e-3),
    ]
    selection = chosen[0].record_extra["lr_selection"]
    assert selection["grid"] == [1e-3, 3e-3, 1e-2] and selection["seeds"] == list(VALIDATION_SEEDS)
    assert selection["scores"]["0.01"]["val_best"] == 0.95 and len(selection["validation_keys"]) == 6
    assert chosen[0].key != runs[0].key  # the chosen lr is part of the reported run's key


def test_select_refuses_overlapping_seeds_and_all_failed(mean_pool_plugin, tmp_path: Path) -> None:
    runs = plan("sparse_token_selection", ["mean_pool"], get_profile("smoke"), seeds=[1000])
    with pytest.raises(ArchbenchError, match="validation seeds"):
        select_lrs(runs, RecordStore(tmp_path))
    runs = plan("sparse_token_selection", ["mean_pool"], get_profile("smoke"), seeds=[0])
    with pytest.raises(ArchbenchError, match="every validation run failed"):
        select_lrs(
            runs, RecordStore(tmp_path), execute_fn=lambda p, s, c: [fake(r, math.nan, None, "failed") for r in p]
        )


def test_lr_auto_end_to_end_on_smoke(tmp_path: Path, capsys) -> None:
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
        "--lr-grid",
        "1e-3,1e-2",
        "--results",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "lr for mean_pool:" in out and "validation seeds 1000,1001" in out
    records = [json.loads(line) for line in (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()]
    validation = [r for r in records if r["seed"] in VALIDATION_SEEDS]
    reported = [r for r in records if r["seed"] == 0]
    assert len(validation) == 4 and "lr_selection" not in validation[0]
    assert len(reported) == 1 and reported[0]["train_config"]["lr"] == reported[0]["lr_selection"]["chosen"]
    assert set(reported[0]["lr_selection"]["validation_keys"]) == {r["key"] for r in validation}
    # a second invocation re-derives the same choice from stored runs and trains nothing
    assert main(args) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == 5
