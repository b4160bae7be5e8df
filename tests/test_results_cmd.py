"""`archbench results` and the freshness rules behind it: code version (staleness by boundary), stale records, filters."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.results import code_version as records_module
from bench.results.freshness import CURRENT, STALE, freshness, reference
from bench.results.schema import SCHEMA, migrate
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
    env = {
        **versions,
        "code_version": "abc",
        "code_sources": ["tasks/t.py"],
        "torch": "2.13.0+cpu",
    }  # the build tag is hardware
    assert freshness({"environment": env}, ref).status == CURRENT
    assert freshness({"environment": {**env, "code_version": "def"}}, ref).reasons == ("code def -> abc",)
    # the digest is recomputed over the files the record names
    assert freshness({"environment": {**env, "code_sources": []}}, ref).reasons == ("code abc -> xyz",)
    assert freshness({"environment": {**env, "lightning": "2.5.0"}}, ref).reasons == ("lightning 2.5.0 -> 2.6.6",)
    assert freshness({"environment": {**env, "archbench": "0.0.1"}}, ref).status == STALE
    # a record written under an older schema is stale by its schema, whatever else matches
    assert freshness({"environment": env, "migrated_from": 1}, ref).reasons == (f"schema 1 -> {SCHEMA}",)
    legacy = {**record("gru", 0, 0.5), "schema": 1}  # as written before the code-version stamp
    legacy["environment"] = {
        k: v for k, v in legacy["environment"].items() if k not in ("code_version", "code_sources")
    }
    old = freshness(migrate(legacy))
    assert old.stale and old.reasons[0] == f"schema 1 -> {SCHEMA}" and old.reasons[-1].startswith("code none -> ")
    assert freshness(record("gru", 0, 0.5)).status == CURRENT  # a record made now is current
    assert reference()["code_version"] is records_module.code_version


# A fake source tree with the real layout: the layers of `fakebench`, architectures that import each other,
# tasks in nested packages (one `__init__` that defines something, one that only registers its modules).
FAKE_TREE = {
    "fakebench/__init__.py": '__version__ = "0"\n',
    "fakebench/contract/__init__.py": "",
    "fakebench/contract/model.py": "def num_parameters(model):\n    return 1\n",
    "fakebench/train/__init__.py": "",
    "fakebench/train/harness.py": '"""The harness."""\nLR_SCALE = 1.0  # of the optimizer\n',
    "fakebench/results/store.py": "def load():\n    return []\n",
    "fakebench/run/progress.py": "def bar():\n    return 0\n",
    "fakebench/run/plan.py": "def plan():\n    return []\n",
    "fakebench/report/publish.py": "def page():\n    return ''\n",
    "fakebench/cli/commands/results.py": "def main():\n    return 0\n",
    "fakearch/__init__.py": "from fakearch import hybrid, recurrent, ssm, transformer  # noqa: F401 (register)\n",
    "fakearch/base.py": "NORM = 1\n",
    "fakearch/recurrent.py": "from fakearch.base import NORM\n\ndef lstm():\n    return NORM\n",
    "fakearch/transformer.py": "from .base import NORM\n\ndef transformer():\n    return NORM\n",
    "fakearch/ssm.py": "from fakearch import base\n\ndef mamba():\n    return base.NORM\n",
    "fakearch/hybrid.py": "from fakearch import ssm, transformer\n\ndef hybrid():\n    return ssm.mamba() + transformer.transformer()\n",
    "faketasks/__init__.py": "import importlib\nimport pkgutil\n\nfor _m in pkgutil.iter_modules(__path__):\n"
    "    importlib.import_module(f'{__name__}.{_m.name}')\n",
    "faketasks/common.py": "def check():\n    return True\n",
    "faketasks/groups/__init__.py": '"""Group tasks: importing registers each."""\nfrom faketasks.groups import cyclic, parity  # noqa\n',
    "faketasks/groups/helpers.py": "ORDER = 2\n",
    "faketasks/groups/cyclic.py": "class Cyclic:\n    pass\n",
    "faketasks/groups/parity.py": "from .. import common\nfrom faketasks.groups import helpers\n\nclass Parity:\n    pass\n",
    "faketasks/chomsky/__init__.py": "SIZES = {'even_pairs': 2}\n",
    "faketasks/chomsky/regular/even_pairs.py": "from faketasks.chomsky import SIZES\n\nclass EvenPairs:\n    pass\n",
}


def _fake_tree(root: Path, monkeypatch) -> None:
    for relative, text in FAKE_TREE.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    monkeypatch.setattr(records_module, "HARNESS_DIRS", ("fakebench/contract", "fakebench/train"))
    monkeypatch.setattr(records_module, "SOURCE_PACKAGES", ("fakearch", "faketasks"))


def _obj(module: str) -> type:
    return type("Obj", (), {"__module__": module})


def test_code_sources_follow_imports_through_nested_packages(tmp_path: Path, monkeypatch) -> None:
    _fake_tree(tmp_path, monkeypatch)
    sources = records_module.code_sources
    # a registration-only package __init__ is left out, and so are the siblings it imports (cyclic)
    assert sources(_obj("faketasks.groups.parity")) == (
        "faketasks/common.py",
        "faketasks/groups/helpers.py",
        "faketasks/groups/parity.py",
    )
    # a package __init__ that defines what the module imports is in; a directory without __init__ is fine
    assert sources(_obj("faketasks.chomsky.regular.even_pairs")) == (
        "faketasks/chomsky/__init__.py",
        "faketasks/chomsky/regular/even_pairs.py",
    )
    assert sources(_obj("fakearch.hybrid")) == (
        "fakearch/base.py",
        "fakearch/hybrid.py",
        "fakearch/ssm.py",
        "fakearch/transformer.py",
    )
    assert sources(_obj("faketasks.chomsky")) == ("faketasks/chomsky/__init__.py",)  # an object defined there
    assert sources(_obj("someone.else"), _obj("faketasks.nothing_here")) == ()
    assert not {"fakearch", "faketasks"} & set(sys.modules)  # found by reading files, never by importing


def test_staleness_by_boundary(tmp_path: Path, monkeypatch) -> None:
    """Only the contract and training layers and a run's own task and architecture modules decide whether
    its record is current: a new function in a report, planning, storage or CLI module leaves every record
    current; a harness edit makes every record stale; an architecture edit exactly the runs using it."""
    _fake_tree(tmp_path, monkeypatch)
    versions = {"archbench": "0", "torch": "2", "lightning": "2", "torchmetrics": "1"}
    ref = {**versions, "code_version": records_module.code_version}
    runs = {
        (task, arch): records_module.code_sources(_obj(f"faketasks.{task}"), _obj(f"fakearch.{module}"))
        for task in ("groups.parity", "chomsky.regular.even_pairs")
        for arch, module in (
            ("lstm", "recurrent"),
            ("transformer", "transformer"),
            ("mamba", "ssm"),
            ("hybrid", "hybrid"),
        )
    }
    records_module.code_version.cache_clear()
    stored = {
        run: {
            "environment": {
                **versions,
                "code_version": records_module.code_version(sources),
                "code_sources": list(sources),
            }
        }
        for run, sources in runs.items()
    }

    def stale_runs() -> set[tuple[str, str]]:
        records_module.code_version.cache_clear()
        return {run for run, rec in stored.items() if freshness(rec, ref).stale}

    def edit(relative: str, text: str) -> None:
        (tmp_path / relative).write_text(text)

    try:
        assert stale_runs() == set()
        for relative in (
            "fakebench/report/publish.py",
            "fakebench/run/progress.py",
            "fakebench/run/plan.py",
            "fakebench/results/store.py",
            "fakebench/cli/commands/results.py",
            "fakebench/__init__.py",
        ):
            edit(relative, FAKE_TREE[relative] + "\n\ndef harmless():\n    return 42\n")
        edit("faketasks/groups/cyclic.py", FAKE_TREE["faketasks/groups/cyclic.py"] + "ORDER = 3\n")  # no run uses it
        edit("fakebench/train/harness.py", '"""The harness, documented better."""\n\nLR_SCALE = 1.0  # of Adam\n')
        assert stale_runs() == set()  # presentation edits, an unused task, docstrings and comments

        edit("fakebench/train/harness.py", "LR_SCALE = 2.0\n")
        assert stale_runs() == set(runs)  # the harness measures every run
        edit("fakebench/train/harness.py", FAKE_TREE["fakebench/train/harness.py"])
        edit("fakebench/contract/model.py", FAKE_TREE["fakebench/contract/model.py"] + "SCALE = 2\n")
        assert stale_runs() == set(runs)  # and so does the contract layer
        edit("fakebench/contract/model.py", FAKE_TREE["fakebench/contract/model.py"])
        assert stale_runs() == set()

        edit("fakearch/transformer.py", FAKE_TREE["fakearch/transformer.py"] + "\ndef alibi():\n    return 0\n")
        assert stale_runs() == {(task, arch) for task, arch in runs if arch in ("transformer", "hybrid")}
        edit("fakearch/transformer.py", FAKE_TREE["fakearch/transformer.py"])
        edit("faketasks/chomsky/__init__.py", "SIZES = {'even_pairs': 3}\n")
        assert stale_runs() == {run for run in runs if run[0] == "chomsky.regular.even_pairs"}
        (tmp_path / "faketasks/groups/helpers.py").unlink()
        assert stale_runs() == set(runs)  # a source that disappeared makes its runs stale too
    finally:
        records_module.code_version.cache_clear()  # never leave the fake tree's digests cached


def test_the_boundary_of_this_tree() -> None:
    """Every run's digest covers the contract and training layers and nothing else of bench."""
    files = [relative for relative, _ in records_module.harness_files()]
    assert "bench/train/harness.py" in files and "bench/contract/registry.py" in files
    assert all(f.startswith(("bench/contract/", "bench/train/")) for f in files)


def test_records_name_their_sources() -> None:
    from bench.contract.registry import get_architecture, get_task_entry

    sources = records_module.code_sources(get_task_entry("qsa").obj, get_architecture("hybrid").obj)
    assert {
        "tasks/qsa.py",
        "tasks/sparse_token_selection.py",
        "tasks/common.py",
        "architectures/hybrid.py",
        "architectures/mamba.py",
        "architectures/attention.py",
        "architectures/backbone.py",
        "architectures/positions.py",
        "architectures/base.py",
        "architectures/scan.py",
    } == set(sources)


@pytest.mark.parametrize("flag", ["--stale", "--include-stale"])
def test_flags_accept_no_records_gracefully(tmp_path: Path, capsys, flag: str) -> None:
    code, _, err = results(tmp_path, capsys, flag)
    assert code == 2 and "no records in" in err
