"""Run records: round trip, skip-on-existing, corrupt and truncated lines, concurrent writers, and `migrate`
(the one reader of older record formats)."""

from __future__ import annotations

import copy
import json
import multiprocessing
from pathlib import Path

import pytest

from bench.results.schema import REQUIRED_FIELDS, SCHEMA, make_record, migrate, run_key
from bench.results.store import JsonLines, RecordStore

STORED = Path(__file__).resolve().parents[1] / "results" / "runs"


def _record(key: str, task: str = "t", **metrics: float) -> dict:
    return make_record(
        key=key,
        task=task,
        task_config={"length": 4},
        arch="a",
        arch_config={},
        preset=None,
        train_config={"steps": 1},
        seed=0,
        metrics=dict(metrics) or {"in_distribution": 1.0},
    )


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
    for field, other in [
        ("task", "u"),
        ("task_config", {"a": 2}),
        ("arch", "y"),
        ("arch_config", {"w": 3}),
        ("train_config", {"s": 4}),
        ("seed", 1),
    ]:
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


def _schema_1(task: str, task_config: dict, label: str) -> dict:
    """A record as schema 1 wrote it before the later fields (strategy, code version, devices) existed."""
    record = json.loads(
        json.dumps(
            make_record(
                key="old",
                task=task,
                task_config=task_config,
                arch="transformer",
                arch_config={},
                preset="small",
                train_config={"steps": 10, "batch_size": 4, "n_train": None},
                seed=0,
                metrics={"in_distribution": 0.9, "train_samples_per_s": 100.0},
            )
        )
    )  # type: ignore[typeddict-item]
    del record["environment"]["code_version"], record["environment"]["code_sources"]
    return {**record, "schema": 1, "label": label}


def test_migrate_renames_the_split_tasks_and_fills_later_fields() -> None:
    old = _schema_1(
        "chomsky",
        {"task": "even_pairs", "length": 40, "output_mode": "teacher_forced"},
        "transformer [task=even_pairs, output_mode=blank]",
    )
    before = copy.deepcopy(old)
    new = migrate(old)
    assert old == before  # the input is not changed
    assert new["schema"] == SCHEMA and new["migrated_from"] == 1 and new["key"] == "old"  # the key it was stored under
    assert new["task"] == "even_pairs" and new["task_config"] == {"length": 40, "output_mode": "teacher_forced"}
    assert new["label"] == "transformer [output_mode=blank]"
    assert new["train_config"]["strategy"] == "auto"
    assert new["environment"]["code_version"] is None and new["environment"]["code_sources"] == []
    assert new["metrics"]["devices"] == 1 and new["metrics"]["train_samples_per_s_per_device"] == 100.0
    assert REQUIRED_FIELDS <= new.keys()

    groups = {"parity": "state_parity", "cyclic": "state_cyclic", "S5": "state_s5", "A5": "state_a5"}
    for group, name in groups.items():
        state = migrate(
            _schema_1("state_tracking", {"group": group, "modulus": 5, "length": 6}, f"gru [group={group}]")
        )
        kept = {"modulus": 5, "length": 6} if name == "state_cyclic" else {"length": 6}  # Z_m alone keeps its modulus
        assert (state["task"], state["task_config"], state["label"]) == (name, kept, "gru")
    # a record of a task that was not split keeps its name and config; a missing label is the architecture
    plain = migrate({**_schema_1("copy", {"length": 8}, ""), "label": None})
    assert (plain["task"], plain["task_config"], plain["label"]) == ("copy", {"length": 8}, "transformer")


def test_migrate_keeps_current_records_and_refuses_unknown_ones() -> None:
    current = json.loads(json.dumps(_record("k1")))
    assert migrate(current) == current and "migrated_from" not in migrate(current)
    with pytest.raises(ValueError, match=f"schema {SCHEMA + 1}, newer than this archbench reads: {SCHEMA} and older"):
        migrate({**current, "schema": SCHEMA + 1})
    with pytest.raises(ValueError, match="no valid schema version"):
        migrate({k: v for k, v in current.items() if k != "schema"})
    with pytest.raises(ValueError, match="without environment, seed"):
        migrate({k: v for k, v in current.items() if k not in ("seed", "environment")})


def test_unreadable_records_are_reported_and_skipped(tmp_path: Path, capsys) -> None:
    store = RecordStore(tmp_path)
    store.append(_record("good"))
    store.append({**_record("future"), "schema": SCHEMA + 1})
    store.append(_schema_1("chomsky", {"task": "even_pairs", "length": 4}, "a"))  # type: ignore[arg-type]
    records = store.load()
    assert sorted((r["key"], r["task"]) for r in records) == [("good", "t"), ("old", "even_pairs")]
    assert len(store.report.problems) == 1 and "newer than this archbench reads" in store.report.problems[0]
    assert "skipped an unreadable record" in capsys.readouterr().err


def test_other_stored_lines_are_read_as_they_are(tmp_path: Path) -> None:
    """The sample-complexity searches share the file format but are no run records: never migrated."""
    lines: JsonLines[dict] = JsonLines(tmp_path, dict)
    lines.append({"key": "s1", "task": "t", "kind": "sample_complexity"})
    assert lines.load() == [{"key": "s1", "task": "t", "kind": "sample_complexity"}]


@pytest.mark.skipif(not STORED.is_dir(), reason="no stored records in this checkout")
def test_every_stored_record_migrates() -> None:
    """Every line in the project's store is a readable record of the current schema after `migrate`."""
    store = RecordStore(STORED)
    records = store.load(warn=False)
    assert records and store.report.problems == []
    assert all(r["schema"] == SCHEMA and REQUIRED_FIELDS <= r.keys() for r in records)
    assert not {"chomsky", "state_tracking"} & {r["task"] for r in records}
