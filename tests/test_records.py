"""Run records: round trip, skip-on-existing, corrupt and truncated lines, concurrent writers."""
from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from bench.results.schema import make_record, run_key
from bench.results.store import RecordStore


def _record(key: str, task: str = "t", **metrics: float) -> dict:
    return make_record(key=key, task=task, task_config={"length": 4}, arch="a", arch_config={}, preset=None,
                       train_config={"steps": 1}, seed=0, metrics=dict(metrics) or {"in_distribution": 1.0})


def test_round_trip_and_latest_wins(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    store.append(_record("k1", in_distribution=0.5))
    store.append(_record("k2"))
    store.append(_record("k1", in_distribution=0.7))  # a --force rerun
    records = store.load()
    assert [r["key"] for r in records] == ["k1", "k2", "k1"]
    assert store.latest()["k1"]["metrics"]["in_distribution"] == 0.7
    assert store.completed_keys() == {"k1", "k2"}
    assert records[0]["environment"]["torch"]


def test_failed_runs_are_not_completed(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    record = _record("bad")
    record["status"] = "failed"
    store.append(record)
    assert store.completed_keys() == set()


def test_run_key_depends_on_every_input() -> None:
    base = dict(task="t", task_config={"a": 1}, arch="x", arch_config={"w": 2}, train_config={"s": 3}, seed=0)
    key = run_key(**base)
    assert key == run_key(**base)
    for field, other in [("task", "u"), ("task_config", {"a": 2}), ("arch", "y"), ("arch_config", {"w": 3}),
                         ("train_config", {"s": 4}), ("seed", 1)]:
        assert run_key(**{**base, field: other}) != key


def test_corrupt_and_truncated_lines_are_reported_and_skipped(tmp_path: Path, capsys) -> None:
    store = RecordStore(tmp_path)
    store.append(_record("good1"))
    path = store.path_for("t")
    with path.open("a") as handle:
        handle.write("{not json}\n")
        handle.write(json.dumps(_record("cut"))[:40])  # a writer killed mid-line
    store.append(_record("good2"))  # must not be glued onto the cut line
    keys = [r["key"] for r in store.load()]
    assert keys == ["good1", "good2"]
    assert len(store.report.problems) == 2
    assert "corrupt line" in capsys.readouterr().err
    assert path.read_text().count("good2") == 1  # nothing rewritten or lost


def _writer(root: str, worker: int, count: int) -> None:
    store = RecordStore(root)
    for i in range(count):
        store.append(_record(f"w{worker}-{i}", payload=float(i)))


def test_concurrent_writers_never_corrupt_a_line(tmp_path: Path) -> None:
    workers, count = 4, 50
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, count)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    store = RecordStore(tmp_path)
    records = store.load()
    assert store.report.problems == []
    assert len(records) == workers * count == len({r["key"] for r in records})
