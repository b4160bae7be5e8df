"""Executors: serial, local process pool and Ray give the same records for the same seeds; a run that
raises and a worker that is killed are recorded as failed with their reason while the others finish;
`archbench sweep` resumes under another executor; Lightning settings pass through to the record."""

from __future__ import annotations

import json
import math
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.contract.registry import load_plugins
from bench.results.schema import run_key
from bench.results.store import RecordStore
from bench.run.execute import execute
from bench.run.executors import (
    RAY_HINT,
    LocalExecutor,
    SerialExecutor,
    death_reason,
    default_threads,
    make_executor,
)
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import get_profile
from tests.conftest import PLUGINS

MEAN_POOL, BROKEN, SIGKILL = (str(PLUGINS / f"{n}_plugin.py") for n in ("mean_pool", "broken", "sigkill"))
TASK = "sparse_token_selection"


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    load_plugins([MEAN_POOL, BROKEN, SIGKILL])


def smoke_runs(archs: list[str], seeds: tuple[int, ...] = (0,)) -> list[PlannedRun]:
    return plan(TASK, archs, get_profile("smoke"), seeds=list(seeds))


def assert_same_metrics(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal up to what CPU floating point allows across processes (same thread count, same seeds)."""
    assert (a["key"], a["status"], a["seed"]) == (b["key"], b["status"], b["seed"])
    ma, mb = a["metrics"], b["metrics"]
    assert ma["steps"] == mb["steps"]
    for name in ("in_distribution", "final_loss", "val_best"):
        assert math.isclose(ma[name], mb[name], rel_tol=1e-4, abs_tol=1e-6), name
    assert ma["by_length"].keys() == mb["by_length"].keys()
    for length, value in ma["by_length"].items():
        assert math.isclose(value, mb["by_length"][length], rel_tol=1e-4, abs_tol=1e-6), length


def test_serial_and_local_pool_give_equal_records(tmp_path: Path) -> None:
    runs = smoke_runs(["mean_pool"], seeds=[0, 1])
    serial = execute(runs, RecordStore(tmp_path / "serial"), executor=SerialExecutor(threads=1))
    local = execute(runs, RecordStore(tmp_path / "local"), executor=LocalExecutor(2, 1, plugins=[MEAN_POOL]))
    for a, b in zip(serial, local):
        assert_same_metrics(a, b)
    assert {r["key"] for r in RecordStore(tmp_path / "local").load()} == {r.key for r in runs}
    assert [r["environment"]["torch_threads"] for r in local] == [1, 1]  # what each worker trained with


def test_a_stale_record_is_trained_again_and_kept(tmp_path: Path) -> None:
    """A record made by other code (another code_version) does not count as done: the run trains again,
    the new record supersedes it, the old one stays in the store."""
    from bench.run.execute import split_stored

    [run] = smoke_runs(["mean_pool"])
    store = RecordStore(tmp_path)
    [fresh] = execute([run], store, executor=SerialExecutor(threads=1))
    stored, pending = split_stored([run], store)
    assert [(r, rec["key"]) for r, rec in stored] == [(run, fresh["key"])] and pending == []
    stale = {**fresh, "environment": {**fresh["environment"], "code_version": "000000000000"}}
    store.append(stale)
    stored, pending = split_stored([run], store)
    assert stored == [] and pending == [run]
    execute([run], store, executor=SerialExecutor(threads=1))
    versions = [r["environment"]["code_version"] for r in store.load()]
    assert versions == [fresh["environment"]["code_version"], "000000000000", fresh["environment"]["code_version"]]
    assert split_stored([run], store)[1] == []


def test_local_pool_records_a_raising_run_and_a_killed_worker_and_finishes(tmp_path: Path) -> None:
    runs = smoke_runs(["sigkill", "broken", "mean_pool"])
    store = RecordStore(tmp_path)
    seen: list[tuple[str, bool]] = []
    records = execute(
        runs,
        store,
        executor=LocalExecutor(2, 1, plugins=[MEAN_POOL, BROKEN, SIGKILL]),
        on_done=lambda run, record, skipped: seen.append((run.arch, skipped)),
    )
    by_arch = {r["arch"]: r for r in records}
    assert by_arch["sigkill"]["status"] == "failed"
    assert by_arch["sigkill"]["error"].startswith("worker process died (signal SIGKILL")
    assert by_arch["broken"]["status"] == "failed" and "RuntimeError: broken plugin" in by_arch["broken"]["error"]
    assert by_arch["mean_pool"]["status"] == "ok"
    assert sorted(seen) == [("broken", False), ("mean_pool", False), ("sigkill", False)]
    stored = {r["arch"]: r["status"] for r in store.load()}
    assert stored == {"sigkill": "failed", "broken": "failed", "mean_pool": "ok"}


def test_sweep_resumes_under_another_executor_and_reports_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, page = tmp_path / "runs", tmp_path / "LEADERBOARD.md"
    base = [
        "--plugin",
        MEAN_POOL,
        "--plugin",
        SIGKILL,
        "sweep",
        "--profile",
        "smoke",
        "--tasks",
        TASK,
        "--seeds",
        "0,1",
        "--results",
        str(results),
    ]
    assert main(base + ["--archs", "mean_pool", "--no-publish"]) == 0
    assert "2 trained, 0 stored (skipped), 0 failed" in capsys.readouterr().out
    code = main(base + ["--archs", "mean_pool,sigkill", "--executor", "local", "--workers", "2", "--out", str(page)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "0 trained, 2 stored (skipped), 2 failed" in out
    assert "sigkill seed 0: worker process died (signal SIGKILL" in err
    lines = [json.loads(line) for line in (results / f"{TASK}.jsonl").read_text().splitlines()]
    assert sorted((r["arch"], r["seed"], r["status"]) for r in lines) == [
        ("mean_pool", 0, "ok"),
        ("mean_pool", 1, "ok"),
        ("sigkill", 0, "failed"),
        ("sigkill", 1, "failed"),
    ]
    assert "worker process died (signal SIGKILL" in page.read_text()  # published as failed, not missing


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "--tasks", "nope"], "unknown task 'nope'"),
        (
            ["sweep", "--tasks", TASK, "--archs", "mean_pool", "--workers", "0", "--executor", "local"],
            "--workers must be > 0",
        ),
        (
            ["sweep", "--tasks", TASK, "--archs", "mean_pool", "--accelerator", "warp-drive"],
            "Lightning rejects --accelerator warp-drive",
        ),
        (["run", "--task", TASK, "--arch", "mean_pool", "--precision", "7-bit"], "Lightning rejects --precision 7-bit"),
    ],
)
def test_user_errors_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["--plugin", MEAN_POOL, *argv, "--profile", "smoke", "--results", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_lightning_settings_reach_the_trainer_and_the_record(tmp_path: Path) -> None:
    assert (
        main(
            [
                "--plugin",
                MEAN_POOL,
                "run",
                "--task",
                TASK,
                "--arch",
                "mean_pool",
                "--profile",
                "smoke",
                "--accelerator",
                "cpu",
                "--devices",
                "1",
                "--strategy",
                "auto",
                "--precision",
                "32-true",
                "--results",
                str(tmp_path),
            ]
        )
        == 0
    )
    (record,) = RecordStore(tmp_path).load()
    train, metrics = record["train_config"], record["metrics"]
    assert (train["accelerator"], train["devices"], train["strategy"], train["precision"]) == (
        "cpu",
        "1",
        "auto",
        "32-true",
    )
    assert metrics["devices"] == 1 and metrics["device"] == "cpu"
    assert metrics["train_samples_per_s"] == metrics["train_samples_per_s_per_device"]


def test_every_training_setting_is_in_the_run_key() -> None:
    """Since schema 2 the key covers the whole TrainConfig (schema-1 records never match a plan: the schema
    is part of the key, and `migrate` marks them stale), so a setting at its default is no special case."""
    (run,) = smoke_runs(["mean_pool"])
    train = run.train.to_dict()
    assert run.key == run_key(run.task_name, run.task.config(), run.arch, run.arch_config, train, run.seed)
    without = {k: v for k, v in train.items() if k != "strategy"}
    assert run.key != run_key(run.task_name, run.task.config(), run.arch, run.arch_config, without, run.seed)


def test_death_reasons_and_executor_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        death_reason(-signal.SIGKILL)
        == "worker process died (signal SIGKILL: killed, e.g. by the out-of-memory killer)"
    )
    assert death_reason(-signal.SIGSEGV) == "worker process died (signal SIGSEGV)"
    assert death_reason(3) == "worker process died (exit code 3)"
    assert isinstance(make_executor("local", workers=3, threads=2), LocalExecutor)
    with pytest.raises(ArchbenchError, match="unknown executor 'dask'; valid: serial, local, ray"):
        make_executor("dask")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ArchbenchError, match=RAY_HINT.replace("[", r"\[").replace("]", r"\]")):
        make_executor("ray")


def test_ray_cluster_gives_the_serial_records(tmp_path: Path) -> None:
    """A real Ray cluster on loopback: a head node and one worker node, one CPU each."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'archbench[ray]')")
    from ray.cluster_utils import Cluster

    from bench.run.executors import RayExecutor

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False, logging_level="error")
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        runs = smoke_runs(["mean_pool"], seeds=[0, 1])
        on_ray = execute(
            runs, RecordStore(tmp_path / "ray"), executor=RayExecutor(threads_per_run=1, plugins=[MEAN_POOL])
        )
    finally:
        ray.shutdown()
        cluster.shutdown()
    serial = execute(runs, RecordStore(tmp_path / "serial"), executor=SerialExecutor(threads=1))
    for a, b in zip(serial, on_ray):
        assert_same_metrics(a, b)
    assert len(RecordStore(tmp_path / "ray").load()) == 2


def test_sweep_killed_midway_resumes_with_every_run_present_once(tmp_path: Path) -> None:
    """SIGKILL the whole sweep (driver and workers) after its first record, run it again: every run is
    stored exactly once, as ok, and the second sweep trained only what the first had not finished."""
    import os
    import subprocess
    import time

    results = tmp_path / "runs"
    plugin = str(PLUGINS / "slow_plugin.py")
    argv = [
        sys.executable,
        "-m",
        "bench",
        "--plugin",
        plugin,
        "sweep",
        "--profile",
        "smoke",
        "--tasks",
        TASK,
        "--archs",
        "slow",
        "--seeds",
        "0,1,2,3,4,5",
        "--executor",
        "local",
        "--workers",
        "2",
        "--results",
        str(results),
        "--no-publish",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True
    )
    records = results / f"{TASK}.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if records.exists() and records.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    assert first.poll() is None, "the first sweep finished before it could be killed; make the plugin slower"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    done_before = len(records.read_text().splitlines())
    assert 1 <= done_before < 6

    second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"{6 - done_before} trained, {done_before} stored (skipped), 0 failed" in second.stdout
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert sorted(r["seed"] for r in lines) == [0, 1, 2, 3, 4, 5]
    assert all(r["status"] == "ok" for r in lines)


def test_thread_policy_one_per_run_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never torch's one-per-core default: --threads, else an explicit OMP_NUM_THREADS, else 1; a bad
    value is a user error."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == 1 and default_threads(3) == 3
    assert LocalExecutor(workers=2).threads == 1
    assert make_executor("serial").threads == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert default_threads() == 2 and default_threads(4) == 4
    assert LocalExecutor(workers=2).threads == 2 and make_executor("serial").threads == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    with pytest.raises(ArchbenchError, match="OMP_NUM_THREADS must be a positive integer when set; got 'many'"):
        default_threads()
    with pytest.raises(ArchbenchError, match="--threads must be > 0; got 0"):
        default_threads(0)


def test_run_trains_on_the_threads_it_was_given_and_records_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    base = ["--plugin", MEAN_POOL, "run", "--task", TASK, "--arch", "mean_pool", "--profile", "smoke", "--steps", "2"]
    assert main(base + ["--results", str(tmp_path / "default")]) == 0
    assert main(base + ["--results", str(tmp_path / "two"), "--threads", "2"]) == 0
    out = capsys.readouterr().out
    assert "preset tiny, 1 torch thread;" in out and "preset tiny, 2 torch threads;" in out
    assert [r["environment"]["torch_threads"] for r in RecordStore(tmp_path / "default").load()] == [1]
    assert [r["environment"]["torch_threads"] for r in RecordStore(tmp_path / "two").load()] == [2]
