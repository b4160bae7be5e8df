"""The literature matrix: what the papers say each architecture family does on each task, as validated data.

The data is `bench/report/literature.toml` (its header and docs/literature.md explain the format). Each
paper is one table: who, when, where (arXiv id and version), its setting and aggregation rule, the line it
draws between solved and not (or the project's line where the paper draws none, named as such), and a
mapping from the paper's model names to archbench families with the hyper-parameters that make them that
model (Grazzi et al.'s "Mamba [-1,1]" is `mamba` with `negative_eigenvalues = true`). Its `entries` are the
cells the paper decides: a task, the paper's model, and one or both verdicts:

- `outcome`: `solves` / `fails` / `partial` at the training length (in distribution);
- `beyond_training`: true / false, whether the model keeps the task on longer inputs.

Why data and not code: the matrix is committed before the sweep it judges, so it must be readable and
diffable on its own, and a verdict must never be edited to fit a run. Why a model mapping per paper:
a paper's "RNN" or "Mamba [-1,1]" is stated once, with the reason, instead of on every cell.

`load_matrix` validates everything a typo could break (unknown keys, outcomes, models, duplicate cells)
and, with `check_names`, that every task and family is registered or listed as pending (a name another
branch registers; the lists are emptied once it has). `Matrix.for_cell` finds the entry that decides a
stored configuration: same task and family, and the entry's architecture and task parameters equal to the
configuration's (the family's defaults filling what the record does not set); the most specific wins.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.contract.errors import ArchbenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MATRIX_FILE = Path(__file__).with_name("literature.toml")
OUTCOMES = ("solves", "fails", "partial")
UNITS = ("percent", "fraction")
SCALES = ("raw", "chance_scaled")
MEASURED = ("in_distribution", "beyond_training")

TOP_KEYS = {"version", "pending_tasks", "pending_families", "papers"}
PAPER_KEYS = {
    "authors",
    "year",
    "title",
    "arxiv",
    "venue",
    "where",
    "setting",
    "aggregation",
    "measured",
    "unit",
    "scale",
    "solves_at",
    "fails_below",
    "partial_between",
    "rule",
    "confirmed",
    "note",
    "models",
    "entries",
}
PAPER_REQUIRED = {"authors", "year", "title", "arxiv", "where", "setting", "aggregation", "models", "entries"}
MODEL_KEYS = {"family", "arch_params", "note"}
ENTRY_KEYS = {
    "task",
    "model",
    "outcome",
    "beyond_training",
    "score",
    "task_params",
    "chance",
    "where",
    "confirmed",
    "note",
}


@dataclass(frozen=True)
class Paper:
    """One source: citation, setting, aggregation, and how its numbers become verdicts."""

    key: str
    authors: str
    year: int
    title: str
    arxiv: str
    where: str
    setting: str
    aggregation: str
    venue: str = ""
    measured: str = "in_distribution"  # what its scores measure
    unit: str = "percent"  # of `score`, `solves_at`, `fails_below`
    scale: str = "raw"  # `chance_scaled`: (accuracy - chance) / (1 - chance), as Grazzi et al. report
    solves_at: float | None = None  # score at or above: solves / keeps the task beyond training
    fails_below: float | None = None  # score at or below: fails / does not
    partial_between: tuple[float, float] | None = None  # scores read as partial
    rule: str = ""  # where the line comes from: the paper's own, or the project's (and why)
    confirmed: bool = True
    note: str = ""

    def cite(self) -> str:
        """`Delétang et al. 2023`, `Gu & Dao 2023`: the surnames (`authors` lists surnames) and the year."""
        names = [name.strip() for name in self.authors.split(",") if name.strip()]
        who = names[0] if len(names) == 1 else " & ".join(names) if len(names) == 2 else f"{names[0]} et al."
        return f"{who} {self.year}"

    def threshold(self, chance: float | None) -> float | None:
        """`solves_at` on archbench's metric scale (a fraction, raw): None when the paper has no line, or when it
        is chance-scaled and the task's chance level is unknown."""
        if self.solves_at is None:
            return None
        value = self.solves_at / 100 if self.unit == "percent" else self.solves_at
        if self.scale == "chance_scaled":
            if chance is None:
                return None
            return chance + value * (1 - chance)
        return value


@dataclass(frozen=True)
class Entry:
    """One decided cell: a task, a family (with the parameters that make it the paper's model), the verdicts."""

    task: str
    family: str
    model: str
    paper: Paper
    where: str
    outcome: str | None = None
    beyond_training: bool | None = None
    score: float | None = None
    arch_params: Mapping[str, Any] = field(default_factory=dict)
    task_params: Mapping[str, Any] = field(default_factory=dict)
    confirmed: bool = True
    note: str = ""
    chance: float | None = None  # the chance level the paper's chance-scaled score used (None: the task's)

    @property
    def specificity(self) -> int:
        return len(self.arch_params) + len(self.task_params)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes two entries the same cell (a second entry for it is a load error)."""
        return self.task, self.family, _canonical(self.arch_params), _canonical(self.task_params)

    def applies(self, task: str, family: str, arch_config: Mapping[str, Any], task_config: Mapping[str, Any]) -> bool:
        """This entry decides a configuration: same task and family, and every parameter it names equal to the
        configuration's (`arch_config` with the family's defaults filled in)."""
        return (
            task == self.task
            and family == self.family
            and all(_same(arch_config.get(k), v) for k, v in self.arch_params.items())
            and all(_same(task_config.get(k), v) for k, v in self.task_params.items())
        )

    def threshold(self, task_chance: float | None) -> float | None:
        """The paper's line on archbench's scale (`Paper.threshold`), with the chance level the paper scaled by
        when the entry names it (Grazzi et al. scale modular arithmetic by the uniform 1/5, not by the task's
        best constant class)."""
        return self.paper.threshold(self.chance if self.chance is not None else task_chance)

    def says(self) -> str:
        """The verdicts in words: `solves; keeps it beyond the training length`."""
        parts = []
        if self.outcome is not None:
            parts.append("solves partly" if self.outcome == "partial" else self.outcome)
        if self.beyond_training is not None:
            parts.append(
                "generalizes beyond training" if self.beyond_training else "does not generalize beyond training"
            )
        return "; ".join(parts)

    def source(self) -> str:
        """`Delétang et al. 2023, Table 2` plus the score and the paper's model name."""
        if self.score is None:
            score = ""
        else:
            score = f": {self.score:g}%" if self.paper.unit == "percent" else f": {self.score:.3f}"
        params = ", ".join(f"{k}={v}" for k, v in self.arch_params.items())
        model = self.model if not params else f"{self.model} ({params})"
        return f"{self.paper.cite()}, {self.where}, {model}{score}"


@dataclass(frozen=True)
class Matrix:
    """Every entry, the papers, and the names registered elsewhere but not yet here."""

    entries: tuple[Entry, ...]
    papers: Mapping[str, Paper]
    pending_tasks: tuple[str, ...] = ()
    pending_families: tuple[str, ...] = ()
    path: Path | None = None

    def for_cell(
        self, task: str, family: str, arch_config: Mapping[str, Any], task_config: Mapping[str, Any]
    ) -> Entry | None:
        """The entry deciding a configuration (the most specific; file order breaks ties), or None."""
        matching = [e for e in self.entries if e.applies(task, family, arch_config, task_config)]
        return max(matching, key=lambda e: e.specificity) if matching else None

    def unconfirmed(self) -> list[Entry]:
        return [e for e in self.entries if not e.confirmed]


def effective_arch_config(family: str, arch_config: Mapping[str, Any]) -> dict[str, Any]:
    """A record's architecture config with the family's defaults for what it does not set (an unregistered
    family, e.g. a plugin not loaded: the record's config alone)."""
    from bench.contract.registry import get_architecture

    try:
        params = get_architecture(family).parameters()
    except ArchbenchError:
        return dict(arch_config)
    defaults = {name: p.default for name, p in params.items() if p.default is not p.empty}
    return {**defaults, **arch_config}


# --- loading ------------------------------------------------------------------------------------------


def load_matrix(path: str | Path | None = None, *, check_names: bool = True) -> Matrix:
    """Read and validate the matrix (default: the built-in `literature.toml`).

    Raises `ArchbenchError` (one line: the file, the place, the bad value and the valid choices) for a file
    that is missing or not TOML, an unknown key, a missing required key, an unknown outcome, model, unit or
    scale, an entry that decides nothing, two entries for one cell, and, with `check_names`, a task or family
    that is neither registered nor listed as pending.
    """
    path = Path(path) if path is not None else MATRIX_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchbenchError(f"no literature matrix at {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchbenchError(f"{path}: not valid TOML ({exc})") from None
    _known_keys(raw, TOP_KEYS, f"{path}")
    pending_tasks = tuple(_str_list(raw.get("pending_tasks", []), f"{path}: pending_tasks"))
    pending_families = tuple(_str_list(raw.get("pending_families", []), f"{path}: pending_families"))
    papers: dict[str, Paper] = {}
    entries: list[Entry] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for key, table in (raw.get("papers") or {}).items():
        where = f"{path}: papers.{key}"
        if not isinstance(table, dict):
            raise ArchbenchError(f"{where} must be a table")
        paper = _paper(key, table, where)
        papers[key] = paper
        models = _models(table["models"], where)
        if not isinstance(table["entries"], list):
            raise ArchbenchError(f"{where}.entries must be an array of tables")
        for i, item in enumerate(table["entries"]):
            entry = _entry(item, paper, models, f"{where}.entries[{i}]")
            if entry.key in seen:
                raise ArchbenchError(
                    f"{where}.entries[{i}]: {entry.task} x {entry.family} {_canonical(entry.arch_params)} "
                    f"{_canonical(entry.task_params)} is already decided by {seen[entry.key]}; one entry per cell"
                )
            seen[entry.key] = f"papers.{key}.entries[{i}]"
            entries.append(entry)
    matrix = Matrix(tuple(entries), papers, pending_tasks, pending_families, path)
    if check_names:
        check_registered(matrix)
    return matrix


def check_registered(matrix: Matrix) -> None:
    """Every entry's task and family is registered or pending, else `ArchbenchError` naming the valid choices."""
    from bench.contract.registry import list_architectures, list_tasks

    for kind, known, pending, names in (
        ("task", list_tasks(), matrix.pending_tasks, sorted({e.task for e in matrix.entries})),
        ("family", list_architectures(), matrix.pending_families, sorted({e.family for e in matrix.entries})),
    ):
        valid = sorted(set(known) | set(pending))
        for name in names:
            if name not in valid:
                close = difflib.get_close_matches(name, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ArchbenchError(
                    f"{matrix.path}: unknown {kind} {name!r}{hint}; valid: {', '.join(valid)} "
                    f"(a name another branch registers goes in pending_{'tasks' if kind == 'task' else 'families'})"
                )


def _paper(key: str, table: dict[str, Any], where: str) -> Paper:
    _known_keys(table, PAPER_KEYS, where)
    missing = sorted(PAPER_REQUIRED - table.keys())
    if missing:
        raise ArchbenchError(f"{where}: missing {', '.join(missing)}")
    for name, choices in (("measured", MEASURED), ("unit", UNITS), ("scale", SCALES)):
        if name in table and table[name] not in choices:
            raise ArchbenchError(f"{where}.{name}: {table[name]!r}; valid: {', '.join(choices)}")
    between = table.get("partial_between")
    if between is not None and (not isinstance(between, list) or len(between) != 2):
        raise ArchbenchError(f"{where}.partial_between must be [low, high]; got {between!r}")
    return Paper(
        key=key,
        authors=str(table["authors"]),
        year=int(table["year"]),
        title=str(table["title"]),
        arxiv=str(table["arxiv"]),
        where=str(table["where"]),
        setting=str(table["setting"]),
        aggregation=str(table["aggregation"]),
        venue=str(table.get("venue", "")),
        measured=table.get("measured", "in_distribution"),
        unit=table.get("unit", "percent"),
        scale=table.get("scale", "raw"),
        solves_at=_number(table.get("solves_at"), f"{where}.solves_at"),
        fails_below=_number(table.get("fails_below"), f"{where}.fails_below"),
        partial_between=None if between is None else (float(between[0]), float(between[1])),
        rule=str(table.get("rule", "")),
        confirmed=_bool(table.get("confirmed", True), f"{where}.confirmed"),
        note=str(table.get("note", "")),
    )


def _models(table: Any, where: str) -> dict[str, tuple[str, dict[str, Any]]]:
    if not isinstance(table, dict) or not table:
        raise ArchbenchError(f"{where}.models must be a table of the paper's model names")
    models = {}
    for name, spec in table.items():
        here = f"{where}.models.{name!r}"
        if not isinstance(spec, dict) or "family" not in spec:
            raise ArchbenchError(f"{here} must be a table with a family")
        _known_keys(spec, MODEL_KEYS, here)
        models[name] = (str(spec["family"]), _params(spec.get("arch_params", {}), f"{here}.arch_params"))
    return models


def _entry(item: Any, paper: Paper, models: dict[str, tuple[str, dict[str, Any]]], where: str) -> Entry:
    if not isinstance(item, dict):
        raise ArchbenchError(f"{where} must be a table")
    _known_keys(item, ENTRY_KEYS, where)
    for name in ("task", "model"):
        if name not in item:
            raise ArchbenchError(f"{where}: missing {name}")
    model = item["model"]
    if model not in models:
        raise ArchbenchError(f"{where}: model {model!r} is not in the paper's models; valid: {', '.join(models)}")
    outcome = item.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ArchbenchError(f"{where}.outcome: {outcome!r}; valid: {', '.join(OUTCOMES)}")
    beyond = item.get("beyond_training")
    if beyond is not None:
        beyond = _bool(beyond, f"{where}.beyond_training")
    if outcome is None and beyond is None:
        raise ArchbenchError(f"{where}: decides nothing; give outcome ({', '.join(OUTCOMES)}) or beyond_training")
    family, arch_params = models[model]
    return Entry(
        task=str(item["task"]),
        family=family,
        model=model,
        paper=paper,
        where=str(item.get("where", paper.where)),
        outcome=outcome,
        beyond_training=beyond,
        score=_number(item.get("score"), f"{where}.score"),
        arch_params=arch_params,
        task_params=_params(item.get("task_params", {}), f"{where}.task_params"),
        confirmed=_bool(item.get("confirmed", paper.confirmed), f"{where}.confirmed"),
        note=str(item.get("note", "")),
        chance=_number(item.get("chance"), f"{where}.chance"),
    )


def _known_keys(table: Mapping[str, Any], valid: set[str], where: str) -> None:
    unknown = sorted(set(table) - valid)
    if unknown:
        raise ArchbenchError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(sorted(valid))}")


def _params(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ArchbenchError(f"{where} must be a table of parameter = value")
    return dict(value)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArchbenchError(f"{where} must be a list of names")
    return value


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArchbenchError(f"{where} must be a number; got {value!r}")
    return float(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ArchbenchError(f"{where} must be true or false; got {value!r}")
    return value


def _same(actual: Any, wanted: Any) -> bool:
    """Parameter equality across TOML and JSON (lists and tuples alike)."""
    if isinstance(actual, (list, tuple)) and isinstance(wanted, (list, tuple)):
        return list(actual) == list(wanted)
    return bool(actual == wanted) and isinstance(actual, bool) == isinstance(wanted, bool)


def _canonical(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={params[k]!r}" for k in sorted(params)) + "}"
