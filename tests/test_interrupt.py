"""Ctrl-C (SIGINT) and SIGTERM during training: the command says what it kept and exits 130 / 143; the
runs that finished are stored, the one in progress is not, and the same command resumes from there.

Real processes and real signals: `python -m bench` trains a slow plugin architecture (20 ms per forward),
the test waits for the first stored record plus a moment (the second run is then training) and signals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PLUGINS, ROOT

TASK = "sparse_token_selection"
SLOW = str(PLUGINS / "slow_plugin.py")
SEEDS = [0, 1, 2]


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start(argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )


def signal_after_first_record(process: subprocess.Popen[str], store: Path, signum: int) -> tuple[int, str]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None and not records(store):
        time.sleep(0.05)
    assert process.poll() is None, "the command finished before it could be interrupted: " + process.communicate()[1]
    time.sleep(1.0)  # into the next run's training
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_run_interrupted_keeps_finished_runs_only_and_exits_128_plus_signal(
    tmp_path: Path, signum: int, status: int
) -> None:
    results = tmp_path / "runs"
    store = results / f"{TASK}.jsonl"
    argv = [
        "--plugin",
        SLOW,
        "run",
        "--task",
        TASK,
        "--arch",
        "slow",
        "--profile",
        "smoke",
        "--steps",
        "60",
        "--seeds",
        ",".join(map(str, SEEDS)),
        "--results",
        str(results),
    ]
    code, err = signal_after_first_record(start(argv), store, signum)
    assert code == status, err
    kept = records(store)
    assert kept and all(r["status"] == "ok" for r in kept)
    assert len({r["seed"] for r in kept}) == len(kept) < len(SEEDS)
    name = signal.Signals(signum).name
    line = err.strip().splitlines()[-1]
    match = re.fullmatch(
        rf"archbench: interrupted \({name}\): (\d+) of 3 runs stored \((\d+) trained now, 0 stored before\); "
        r"interrupted, not stored: (.*); (\d+) left to train; run the same command again to resume "
        r"\(stored runs are skipped\)",
        line,
    )
    assert match, line
    assert int(match[1]) == int(match[2]) == len(kept) and int(match[4]) == len(SEEDS) - len(kept)
    interrupted = match[3]
    assert interrupted == f"slow seed {SEEDS[len(kept)]}"  # the run that was training: named, and not stored
    assert "Traceback" not in err

    if signum != signal.SIGTERM:
        return
    # the same command again trains only what is missing
    again = subprocess.run(
        [sys.executable, "-m", "bench", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
    )
    assert again.returncode == 0, again.stderr
    assert (
        f"{len(SEEDS)} runs: {len(kept)} stored already (skipped; --force retrains them), "
        f"{len(SEEDS) - len(kept)} to train"
    ) in again.stderr
    assert sorted(r["seed"] for r in records(store)) == SEEDS


def test_sweep_on_local_workers_interrupted_stores_no_partial_run(tmp_path: Path) -> None:
    """SIGTERM to the driver of a local pool: the workers are stopped, their runs in progress are not
    stored, the finished ones are, and the exit status is 143."""
    results = tmp_path / "runs"
    store = results / f"{TASK}.jsonl"
    profile = tmp_path / "slow.toml"
    profile.write_text('[slow]\nextends = "smoke"\n\n[slow.train]\nsteps = 60\n')
    argv = [
        "--plugin",
        SLOW,
        "sweep",
        "--profile",
        str(profile),
        "--tasks",
        TASK,
        "--archs",
        "slow",
        "--seeds",
        "0,1,2,3",
        "--executor",
        "local",
        "--workers",
        "2",
        "--results",
        str(results),
        "--no-publish",
    ]
    code, err = signal_after_first_record(start(argv), store, signal.SIGTERM)
    assert code == 143, err
    kept = records(store)
    assert kept and all(r["status"] == "ok" for r in kept) and len({r["seed"] for r in kept}) == len(kept) < 4
    assert f"archbench: interrupted (SIGTERM): {len(kept)} of 4 runs stored" in err
