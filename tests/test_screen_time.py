"""The screen's wall time: measured from fabricated records, incomplete and stale records handled, and the
README's line equal to what the committed records say."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import cast

import pytest

from bench.contract.registry import list_architectures, load_plugins
from bench.report import screen_time as st
from bench.results.schema import RunRecord
from bench.results.store import RecordStore
from bench.run.job import make_run_record
from bench.run.plan import sweep_runs
from bench.run.profiles import get_profile
from bench.train.measurements import RunMetrics
from tests.conftest import PLUGINS

ROOT = Path(__file__).resolve().parent.parent

PROFILE = """
[screen]
description = "screen-time test"
preset = "tiny"
seeds = [0, 1]
core_tasks = ["copy", "sparse_parity"]
[screen.train]
steps = 5
batch_size = 4
eval_every = 5
val_samples = 8
test_samples = 8
"""
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def profile_file(tmp_path: Path) -> str:
    path = tmp_path / "screen.toml"
    path.write_text(PROFILE)
    return str(path)


def store_every_run(tmp_path: Path, name: str, skip: int = 0) -> tuple[RecordStore, int]:
    """Records of all but `skip` planned runs: run i ends 10 s after run i-1 and took 4 s."""
    profile = get_profile(name)
    runs = sweep_runs(list(profile.core_tasks), ["lstm", "transformer"], profile, list(profile.seeds))
    store = RecordStore(tmp_path / "runs")
    for i, run in enumerate(runs[skip:]):
        record = make_run_record(run, cast(RunMetrics, {"wall_time_s": 4.0}), None, None)
        record["created"] = (T0 + timedelta(seconds=10 * i)).isoformat()
        store.append(record)
    return store, len(runs)


def test_span_from_first_start_to_last_end(tmp_path: Path) -> None:
    name = profile_file(tmp_path)
    store, n = store_every_run(tmp_path, name)
    t = st.screen_time(store, name, archs=["lstm", "transformer"])
    assert (t.tasks, t.families, t.seeds, t.planned, t.stored) == (2, 2, 2, 8, 8) and n == 8
    assert t.minutes == pytest.approx((10 * 7 + 4) / 60)  # last end at 70 s, first start at -4 s
    line = st.sentence(t)
    assert "2 tasks x 2 families x 2 seeds = 8 runs" in line and "took **1 min**" in line


def test_incomplete_or_stale_gives_no_time(tmp_path: Path) -> None:
    name = profile_file(tmp_path)
    store, _ = store_every_run(tmp_path, name, skip=1)
    t = st.screen_time(store, name, archs=["lstm", "transformer"])
    assert (t.stored, t.minutes) == (7, None)
    assert st.sentence(t).endswith("7 of 8 runs stored under the current code; no wall time yet.")
    # A stale record (other code) does not count either.
    record: RunRecord = store.load()[0]
    record["environment"] = {**record["environment"], "code_version": "000000000000"}
    record["created"] = (T0 + timedelta(hours=1)).isoformat()
    store.append(record)
    assert st.screen_time(store, name, archs=["lstm", "transformer"]).stored == 6


def test_block_replaced_between_markers_only() -> None:
    text = f"a\n{st.BEGIN}\nold\n{st.END}\nb\n"
    assert st.replace_block(text, "new") == f"a\n{st.BEGIN}\nnew\n{st.END}\nb\n"
    with pytest.raises(ValueError, match="no screen-time block"):
        st.replace_block("a\nb\n", "new")


def test_the_readme_line_is_what_the_committed_records_give() -> None:
    readme = (ROOT / "README.md").read_text()
    line = st.sentence(st.screen_time(RecordStore(ROOT / "results" / "runs")))
    assert st.replace_block(readme, line) == readme, (
        "README.md is out of date: run `python -m bench.report.screen_time`"
    )


def test_the_screen_counts_the_shipped_families_only() -> None:
    """Plugins registered in this process (other tests load some) do not change what the README times."""
    load_plugins([str(PLUGINS / "mean_pool_plugin.py")])
    assert "mean_pool" in list_architectures()
    shipped = st.builtin_architectures()
    assert "mean_pool" not in shipped and {"transformer", "mamba", "sts_attention"} <= set(shipped)
