"""`archbench results` and the freshness rules behind it: code version, stale / unknown records, filters."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.results import code_version as records_module
from bench.cli.main import main
from bench.results.freshness import CURRENT, STALE, UNKNOWN, freshness, reference
from tests.leaderboard_records import TASK, record, standard_store


def results(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["results", "--results", str(tmp_path / "runs"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(out: str) -> dict[str, str]:
    """architecture label -> its table line."""
    return {line.split("|")[2].strip(): line for line in out.splitlines() if line.startswith(f"| {TASK}")}


def test_lists_one_row_per_configuration(tmp_path: Path, capsys) -> None:
    standard_store(tmp_path / "runs")
    code, out, _ = results(tmp_path, capsys)
    assert code == 0
    listed = rows(out)
    assert set(listed) == {"transformer", "gru", "lstm", "fcn"}
    assert "0,1,2" in listed["gru"] and "3 ok" in listed["gru"] and "r2 0.900 ± 0.124" in listed["gru"]
    assert "0 ok, 3 failed" in listed["fcn"] and "| failed" in listed["fcn"]
    assert "| small " in listed["lstm"] and "| online " in listed["lstm"]
    assert all(line.rstrip(" |").endswith("no") for line in listed.values())  # nothing stale
    assert "12 runs in" in out


def test_stale_records_get_their_own_row_and_filter(tmp_path: Path, capsys) -> None:
    store = standard_store(tmp_path / "runs")
    old = record("gru", 5, 0.1)
    old["environment"] = {**old["environment"], "archbench": "0.0.9"}
    store.append(old)
    code, out, _ = results(tmp_path, capsys)
    gru = [line for line in out.splitlines() if "| gru " in line]
    assert len(gru) == 2 and any("stale: archbench 0.0.9 -> " in line for line in gru)
    assert "1 stale" in out and "--include-stale" in out
    code, out, _ = results(tmp_path, capsys, "--stale")
    assert code == 0 and list(rows(out)) == ["gru"] and "| 5 " in out
    code, out, _ = results(tmp_path, capsys, "--include-stale", "--arch", "gru")
    assert list(rows(out)) == ["gru"] and "1/4 stale" in out and "4 ok" in out


def test_filters_and_empty_store_exit_2(tmp_path: Path, capsys) -> None:
    code, _, err = results(tmp_path, capsys)
    assert code == 2 and "no records in" in err and "archbench sweep --profile smoke" in err
    standard_store(tmp_path / "runs")
    code, out, _ = results(tmp_path, capsys, "--arch", "lstm,fcn")
    assert code == 0 and set(rows(out)) == {"lstm", "fcn"}
    code, _, err = results(tmp_path, capsys, "--task", "copy")
    assert code == 2 and "no records match --task copy" in err and f"stored tasks: {TASK}" in err
    code, out, _ = results(tmp_path, capsys, "--stale")
    assert code == 0 and "no stale records" in out


def test_truncated_line_is_reported(tmp_path: Path, capsys) -> None:
    store = standard_store(tmp_path / "runs")
    with store.path_for(TASK).open("a") as handle:
        handle.write(json.dumps(record("lstm", 9, 0.99))[:50])
    code, out, err = results(tmp_path, capsys)
    assert code == 0 and "skipped a corrupt line" in err and "1 unreadable line(s) skipped" in out
    assert "0,1,2 " in rows(out)["lstm"]


def test_freshness_rules() -> None:
    versions = {"archbench": "0.1.0", "torch": "2.13.0", "lightning": "2.6.6", "torchmetrics": "1.9.0"}
    ref = {**versions, "code_version": lambda sources: "abc" if sources == ("tasks/t.py",) else "xyz"}
    env = {**versions, "code_version": "abc", "code_sources": ["tasks/t.py"], "torch": "2.13.0+cpu"}  # the build tag is hardware
    assert freshness({"environment": env}, ref).status == CURRENT
    assert freshness({"environment": {**env, "code_version": "def"}}, ref).reasons == ("code def -> abc",)
    # the digest is recomputed over the files the record names (a record from before code_sources names none)
    assert freshness({"environment": {**env, "code_sources": []}}, ref).reasons == ("code abc -> xyz",)
    legacy = {k: v for k, v in env.items() if k not in ("code_version", "code_sources")}
    assert freshness({"environment": legacy}, ref).status == UNKNOWN  # counted, but shown as unknown
    assert freshness({"environment": {**legacy, "archbench": "0.0.1"}}, ref).status == STALE
    assert freshness({"environment": {**env, "lightning": "2.5.0"}}, ref).stale
    assert freshness(record("gru", 0, 0.5)).status == CURRENT  # a record made now is current
    assert reference()["code_version"] is records_module.code_version


def test_code_version_hashes_result_code_but_not_presentation(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "fakepkg"
    (package / "commands").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text('"""A model."""\nWIDTH = 1  # units\n')
    (package / "view.py").write_text("STYLE = 1\n")
    (package / "commands" / "cmd.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(records_module, "HARNESS_PACKAGES", ("fakepkg",))
    monkeypatch.setattr(records_module, "PRESENTATION_ONLY", frozenset({"fakepkg/view.py"}))
    monkeypatch.setattr(records_module, "PRESENTATION_DIRS", ("fakepkg/commands/",))

    def version() -> str:
        records_module.code_version.cache_clear()
        return records_module.code_version()

    try:
        first = version()
        assert len(first) == 12 and version() == first
        (package / "view.py").write_text("STYLE = 2\n")
        (package / "commands" / "cmd.py").write_text("X = 2\n")
        assert version() == first  # presentation edits keep stored runs current
        (package / "model.py").write_text('"""A model, documented better."""\n\nWIDTH = 1  # hidden units\n')
        assert version() == first  # so do docstrings, comments and blank lines
        (package / "model.py").write_text('"""A model."""\nWIDTH = 2  # units\n')
        assert version() != first  # a result-producing edit makes them stale
    finally:
        records_module.code_version.cache_clear()  # never leave the fake package's digest cached


def test_code_version_covers_only_the_runs_own_modules(tmp_path: Path, monkeypatch) -> None:
    """A run's digest covers its task's and architecture's modules and what they import from those
    packages: editing an unrelated architecture keeps it current, editing an imported helper does not."""
    package = tmp_path / "fakearch"
    package.mkdir()
    (package / "__init__.py").write_text("from fakearch import net, other\n")
    (package / "layers.py").write_text("DEPTH = 1\n")
    (package / "net.py").write_text("from fakearch.layers import DEPTH\nfrom . import helpers\n\ndef build():\n    return DEPTH\n")
    (package / "helpers.py").write_text("SCALE = 1\n")
    (package / "other.py").write_text("WIDTH = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(records_module, "SOURCE_PACKAGES", ("fakearch",))
    builder = type("Builder", (), {"__module__": "fakearch.net"})
    sources = records_module.code_sources(builder, type("Plugin", (), {"__module__": "someone.else"}))
    assert sources == ("fakearch/helpers.py", "fakearch/layers.py", "fakearch/net.py")

    def version() -> str:
        records_module.code_version.cache_clear()
        return records_module.code_version(sources)

    try:
        first = version()
        (package / "other.py").write_text("WIDTH = 2\n")
        assert version() == first  # another architecture's edit
        (package / "helpers.py").write_text("SCALE = 2\n")
        second = version()
        assert second != first  # a module it imports (relative import)
        (package / "layers.py").unlink()
        assert version() != second  # a source that disappeared makes the run stale
    finally:
        records_module.code_version.cache_clear()


def test_records_name_their_sources() -> None:
    from bench.contract.registry import get_architecture, get_task_entry

    sources = records_module.code_sources(get_task_entry("qsa").obj, get_architecture("hybrid").obj)
    assert {"tasks/qsa.py", "tasks/sparse_token_selection.py", "tasks/common.py", "architectures/hybrid.py",
            "architectures/mamba.py", "architectures/attention.py", "architectures/backbone.py", "architectures/positions.py",
            "architectures/base.py", "architectures/scan.py"} == set(sources)


@pytest.mark.parametrize("flag", ["--stale", "--include-stale"])
def test_flags_accept_no_records_gracefully(tmp_path: Path, capsys, flag: str) -> None:
    code, _, err = results(tmp_path, capsys, flag)
    assert code == 2 and "no records in" in err
