"""The standard protocol's machinery: the profile (two layers, matched sizes, check seeds, core tasks, the
search table), learning-rate schedules, run keys that new default-valued settings leave alone, runs in
segments, Lightning loggers, and the dry run's cost estimate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from bench import build_architecture, get_task, list_architectures
from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.results.schema import RunRecord, make_record, run_key
from bench.results.store import RecordStore
from bench.run.admission import layout_fits
from bench.run.cost import SpeedBook, plan_cells, probe_speed, totals
from bench.run.lr_config import search_settings
from bench.run.plan import PlannedRun, plan
from bench.run.presets import count_parameters
from bench.run.profiles import get_profile, load_profiles
from bench.train.config import TrainConfig
from bench.train.harness import run_one
from bench.train.measurements import RunMetrics
from bench.train.schedule import lr_multiplier
from bench.train.segment import Segment
from tests.conftest import PLUGINS

# taken at collection, before any test registers its plugin families (a deliberately broken one included)
BUILTIN_ARCHS = list_architectures()

TINY: dict[str, Any] = dict(steps=40, batch_size=16, eval_every=10, val_samples=64, test_samples=64, early_stop=False)


def mean_pool_task() -> Any:
    return get_task("sparse_token_selection", code_dim=16, eval_lengths=(32,))


def mean_pool(spec: Any) -> torch.nn.Module:
    return build_architecture("mean_pool", spec)


# --------------------------------------------------------------------------- the profile


def test_standard_profile_two_layers_matched_sizes_seeds_and_search() -> None:
    from bench.contract.registry import get_architecture

    standard = get_profile("standard")
    assert standard.seeds == (0, 1, 2) and standard.check_seeds == (3, 4, 5)
    assert standard.all_seeds == (0, 1, 2, 3, 4, 5)
    assert len(standard.core_tasks) >= 5 and "mqar" in standard.core_tasks
    settings = search_settings(standard.lr_search)
    assert (settings.method, settings.grid, settings.seeds) == ("halving", (1e-4, 3e-4, 1e-3, 3e-3, 1e-2), (1000,))
    spec = get_task("mqar", **standard.task_params("mqar")).spec()
    archs = [arch for arch in BUILTIN_ARCHS if layout_fits(arch, spec)]  # sts_attention reads only its own layout
    runs = plan("mqar", archs, standard, seeds=[0])
    (transformer,) = (r for r in runs if r.arch == "transformer")
    reference = count_parameters("transformer", transformer.task.spec(), transformer.arch_config)
    for run in runs:
        if "layers" in get_architecture(run.arch).parameters():
            assert run.arch_config["layers"] >= 2, run.arch
        count = count_parameters(run.arch, run.task.spec(), run.arch_config)
        # At the tiny budget one width step moves a coarse family (retnet, gla: steps of 4 and 8 channels)
        # by up to 9%: the fit takes the nearest count, and the leaderboard prints each one.
        assert abs(count - reference) <= 0.10 * reference, (run.arch, count, reference)
        assert run.train.schedule == "warmup_cosine" and run.train.steps % (4 * run.train.eval_every) == 0


def test_profile_fields_are_checked(tmp_path: Path) -> None:
    def profile(extra: str) -> Path:
        path = tmp_path / "p.toml"
        path.write_text(f'[p]\ndescription = "d"\npreset = "tiny"\nseeds = [0, 1]\n{extra}\n[p.train]\nsteps = 20\n')
        return path

    with pytest.raises(ArchbenchError, match="check_seeds \\[1\\] overlap seeds"):
        load_profiles(profile("check_seeds = [1]"))
    with pytest.raises(ArchbenchError, match="core_tasks must be a list of task names"):
        load_profiles(profile("core_tasks = 3"))
    with pytest.raises(ArchbenchError, match="core_tasks: unknown task 'mqr'"):
        get_profile(str(profile('core_tasks = ["mqr"]')))
    with pytest.raises(ArchbenchError, match="lr_search: unknown key 'eta'"):
        load_profiles(profile('[p.lr_search]\nmethod = "halving"\neta = 3'))
    with pytest.raises(ArchbenchError, match="lr_search: unknown learning-rate method 'asha'"):
        get_profile(str(profile('[p.lr_search]\nmethod = "asha"')))
    extended = tmp_path / "e.toml"
    extended.write_text('[e]\nextends = "standard"\ndescription = "d"\ncore_tasks = ["copy"]\n')
    e = get_profile(str(extended))
    assert e.check_seeds == (3, 4, 5) and e.core_tasks == ("copy",) and e.lr_search["method"] == "halving"


# --------------------------------------------------------------------------- schedules and keys


def test_schedule_multipliers_at_steps() -> None:
    assert [lr_multiplier("constant", s, 0, 100) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]
    warm = [lr_multiplier("warmup_cosine", s, 10, 110) for s in (0, 4, 9, 10, 60, 110)]
    assert warm[:3] == [0.1, 0.5, 1.0] and warm[3] == 1.0
    assert warm[4] == pytest.approx(0.5) and warm[5] == pytest.approx(0.0, abs=1e-12)
    assert [lr_multiplier("warmup_constant", s, 4, 100) for s in (0, 3, 50)] == [0.25, 1.0, 1.0]
    with pytest.raises(
        ArchbenchError, match="unknown schedule 'linear'; valid: constant, warmup_cosine, warmup_constant"
    ):
        TrainConfig(schedule="linear")
    with pytest.raises(ArchbenchError, match="warmup_steps must be an integer in \\[0, steps=20\\)"):
        TrainConfig(steps=20, schedule="warmup_cosine", warmup_steps=20)
    with pytest.raises(ArchbenchError, match="schedule 'constant' has no warmup"):
        TrainConfig(warmup_steps=5)


class LrTrace(Callback):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_harness_follows_the_schedule(mean_pool_plugin) -> None:
    """The learning rate before each group of 10 optimizer steps is the schedule's at that step."""
    config = TrainConfig(**{**TINY, "lr": 0.01, "schedule": "warmup_cosine", "warmup_steps": 10})
    trace = LrTrace()
    run_one(mean_pool_task(), mean_pool, config, seed=0, callbacks=[trace])
    expected = [0.01 * lr_multiplier("warmup_cosine", s, 10, 40) for s in (0, 10, 20, 30)]
    assert trace.lrs == pytest.approx(expected)


def test_default_valued_new_settings_leave_keys_and_records_unchanged() -> None:
    plain = TrainConfig().to_dict()
    assert "schedule" not in plain and "warmup_steps" not in plain
    scheduled = TrainConfig(schedule="warmup_cosine", warmup_steps=10).to_dict()
    assert scheduled["schedule"] == "warmup_cosine" and scheduled["warmup_steps"] == 10
    assert TrainConfig(**plain) == TrainConfig()  # a stored train_config reads back to the same settings
    assert run_key("t", {}, "a", {}, plain, 0) != run_key("t", {}, "a", {}, scheduled, 0)


def test_a_run_in_segments_trains_exactly_like_one_piece(mean_pool_plugin, tmp_path: Path) -> None:
    config = TrainConfig(**{**TINY, "lr": 0.01, "schedule": "warmup_cosine", "warmup_steps": 5})
    whole = run_one(mean_pool_task(), mean_pool, config, seed=0)
    first = run_one(mean_pool_task(), mean_pool, config, 0, segment=Segment(20, str(tmp_path / "a.ckpt")))
    second = run_one(
        mean_pool_task(),
        mean_pool,
        config,
        0,
        segment=Segment(40, str(tmp_path / "b.ckpt"), resume=str(tmp_path / "a.ckpt"), evaluate=True),
    )
    assert first["steps"] == 20 and first["in_distribution"] is None  # a search segment skips the test sets
    assert list(first["val_history"]) + list(second["val_history"]) == list(whole["val_history"])
    assert list(first["val_loss_history"]) + list(second["val_loss_history"]) == list(whole["val_loss_history"])
    assert second["final_loss"] == whole["final_loss"] and second["by_length"] == whole["by_length"]


# --------------------------------------------------------------------------- loggers


def smoke_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--plugin",
        str(PLUGINS / "mean_pool_plugin.py"),
        "run",
        "--task",
        "sparse_token_selection",
        "--arch",
        "mean_pool",
        "--profile",
        "smoke",
        "--results",
        str(tmp_path / "runs"),
        *extra,
    ]


def test_csv_logger_writes_metrics(tmp_path: Path) -> None:
    assert main(smoke_args(tmp_path, "--logger", "csv", "--log-dir", str(tmp_path / "logs"))) == 0
    (metrics,) = (tmp_path / "logs").rglob("metrics.csv")
    assert metrics.relative_to(tmp_path / "logs").parts[:2] == ("sparse_token_selection", "mean_pool")
    header = metrics.read_text().splitlines()[0].split(",")
    assert {"train_loss", "lr", "val_metric", "val_loss", "step"} <= set(header)


def test_unknown_or_missing_logger_is_exit_2(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exc:
        main(smoke_args(tmp_path, "--logger", "mlflow"))
    assert exc.value.code == 2 and "invalid choice: 'mlflow'" in capsys.readouterr().err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("tensorboard", "tensorboardX") else real(name, *a),
    )
    assert main(smoke_args(tmp_path, "--logger", "tensorboard")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "archbench: error: --logger tensorboard needs the tensorboard package, which is not installed: pip install tensorboard"
    ]
    assert not (tmp_path / "runs").exists()


# --------------------------------------------------------------------------- the dry run's estimate


def fabricated(run: PlannedRun, rate: float, wall: float, steps: int, threads: int = 1) -> RunRecord:
    """A stored record of `run`'s configuration that trained `steps` steps at `rate` samples/s in `wall` s."""
    seen = steps * run.train.batch_size
    record = make_record(
        key=run.key,
        task=run.task_name,
        task_config=run.task.config(),
        arch=run.arch,
        arch_config=run.arch_config,
        preset=run.preset,
        train_config=run.train.to_dict(),
        seed=run.seed,
        metrics=cast(
            RunMetrics, {"train_samples_per_s": rate, "wall_time_s": wall, "samples_seen": seen, "devices": 1}
        ),
    )
    record["environment"]["torch_threads"] = threads
    return record


PROFILE = """
[cost]
description = "cost test"
preset = "tiny"
seeds = [0]
check_seeds = [1]
[cost.train]
steps = 400
batch_size = 10
eval_every = 100
val_samples = 32
test_samples = 32
[cost.lr_search]
method = "halving"
grid = [1e-3, 1e-2]
"""


def test_estimate_from_fabricated_records(mean_pool_plugin, tmp_path: Path) -> None:
    """Rate 1000 samples/s and 2 s of overhead per run (a record of 100 steps x 10 samples in 3 s): a run
    of 400 steps costs 400 x 10 / 1000 + 2 = 6 s. Search over two values with eta 2: rungs 200 and 400,
    two segments of 200 steps (4 s each), then one of 200 (4 s). Two runs (seed 0 and check seed 1)."""
    path = tmp_path / "cost.toml"
    path.write_text(PROFILE)
    profile = get_profile(str(path))
    runs = plan("sparse_token_selection", ["mean_pool"], profile, seeds=list(profile.all_seeds))
    book = SpeedBook(
        [
            fabricated(runs[0], 1000.0, 3.0, 100),
            fabricated(runs[0], 1000.0, 3.0, 100),
            fabricated(runs[0], 10.0, 500.0, 100, threads=2),  # two threads: not a one-thread worker's speed
        ]
    )
    speed = book.speed(runs[0])
    assert (speed.rate, speed.overhead, speed.source) == (1000.0, pytest.approx(2.0), "records")
    (cell,) = plan_cells(runs, book.speed, search_settings(profile.lr_search))
    assert (cell.runs, cell.search_steps, cell.search_rungs) == (2, 600, [(2, 200), (1, 200)])
    assert cell.seconds() == pytest.approx(2 * 6 + 2 * 4 + 4)
    two = totals([cell], workers=2)
    # phases: rung 0 max(8/2, 4) = 4, rung 1 max(4/2, 4) = 4, runs max(12/2, 6) = 6
    assert two.cpu_seconds == pytest.approx(24) and two.wall_seconds == pytest.approx(14) and two.unmeasured == 0
    assert totals([cell], workers=1).wall_seconds == pytest.approx(24)
    other_task = plan("copy", ["mean_pool"], profile, seeds=[0])
    (unmeasured,) = plan_cells(other_task, book.speed, None)
    assert unmeasured.speed.source == "unmeasured" and totals([unmeasured], 2).unmeasured == 1


def test_dry_run_prints_the_plan_and_trains_nothing(mean_pool_plugin, tmp_path: Path, capsys) -> None:
    path = tmp_path / "cost.toml"
    path.write_text(PROFILE)
    profile = get_profile(str(path))
    store = RecordStore(tmp_path / "runs")
    (run,) = plan("sparse_token_selection", ["mean_pool"], profile, seeds=[0])
    store.append(fabricated(run, 1000.0, 3.0, 100))
    before = (tmp_path / "runs" / "sparse_token_selection.jsonl").read_text()
    args = [
        "--plugin",
        str(PLUGINS / "mean_pool_plugin.py"),
        "sweep",
        "--profile",
        str(path),
        "--tasks",
        "sparse_token_selection",
        "--archs",
        "mean_pool",
        "--results",
        str(tmp_path / "runs"),
        "--workers",
        "2",
        "--dry-run",
    ]
    assert main(args[:-1] + ["--probe-steps", "5"]) == 2  # probing needs --dry-run
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "seeds 0, 1; learning rate: halving, grid 0.001, 0.01, seeds 1000" in out
    row = next(line for line in out.splitlines() if line.startswith("| sparse_token_selection"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "sparse_token_selection",
        "mean_pool",
        "400",
        "2",
        "600",
        "1,000",
        "records",
        "24 s",
    ]
    assert "2 of 2 runs to train, 1 learning-rate searches" in out
    assert "this sweep (1 tasks): 0.0 CPU-hours; wall time about 14 s on 2 one-thread workers" in out
    assert "full matrix" in out  # the other registered tasks, for Ray
    assert (tmp_path / "runs" / "sparse_token_selection.jsonl").read_text() == before
    assert not (tmp_path / "runs" / "lr_search").exists()
    assert math.isfinite(totals(plan_cells([run], SpeedBook(store.load()).speed, None), 2).cpu_seconds)


def test_dry_run_plans_the_full_matrix_with_the_families_each_task_admits(tmp_path: Path, capsys, monkeypatch) -> None:
    """The full-matrix estimate plans every task with every family that can read it: a family bound to one
    input layout (sts_attention) sits the other tasks out instead of failing the dry run. (The registry is
    cut to two tasks and three families: planning all of them takes a minute.)"""
    import bench.contract.registry as registry

    monkeypatch.setattr(registry, "list_tasks", lambda: ["sparse_token_selection", "copy"])
    monkeypatch.setattr(registry, "list_architectures", lambda: ["sts_attention", "transformer", "lstm"])
    args = ["sweep", "--profile", "quick", "--tasks", "copy", "--dry-run", "--results", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "this sweep (1 tasks)" in out and "full matrix (2 tasks" in out
    assert "| copy " in out and "sts_attention" not in out.split("full matrix")[0]
    assert not any(tmp_path.iterdir())


def test_a_probe_shorter_than_the_warmup_still_measures() -> None:
    """The standard profile warms up for 100 steps; a 3-step probe trains at a constant rate instead."""
    (run,) = plan("parity_check", ["lstm"], get_profile("standard"), seeds=[0], preset="tiny")
    assert run.train.warmup_steps > 3
    speed = probe_speed(run, 3)
    assert speed.source == "probe" and speed.rate is not None and speed.rate > 0
