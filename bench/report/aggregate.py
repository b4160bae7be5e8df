"""Aggregation of run records into cells: one configuration, every seed, with estimates over seeds.

A **cell** is everything about a run except its seed: (task, task config, architecture, architecture
config, preset, training config). Its records are its seeds; a seed that failed stays in the cell, so a
configuration whose runs all failed is a "failed" cell rather than a missing one. Estimates are means
with 95% intervals over seeds (`bench.results.measures.over_seeds`), always with the seed count; figures
derived from a seed's metrics are the `bench.results.measures` functions, never computed here.

A **setting** is what makes cells of one task comparable in one table: the preset and the training
budget (steps, batch size, ... without the learning rate, which may be chosen per architecture, and
without the training-set size, which is the x axis of the sample-complexity curves). Within a setting
each architecture label normally has one cell; when it has several (say a hand-set and a selected
learning rate), `representative` picks the one the overview shows and `distinguish` names them apart.

Learning-rate validation runs (`bench.run.lr_select`: grid x validation seeds) are stored like any run but
must never be averaged into a reported figure; `validation_keys` finds them from the `lr_selection`
evidence of the reported runs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.results.measures import Figure, over_seeds
from bench.results.schema import canonical_json
from bench.results.stats import Estimate

# Training fields that never tell two cells apart: the seed is the cell's sample axis.
SEED_FIELDS = ("seed",)
# Fields left out of a setting (see the module docstring).
PER_CELL_TRAIN_FIELDS = ("lr", "n_train")


def normalized_train(train_config: dict[str, Any]) -> dict[str, Any]:
    """The training config as the run key sees it, minus the seed."""
    return {k: v for k, v in train_config.items() if k not in SEED_FIELDS}


@dataclass(frozen=True)
class CellKey:
    """A configuration: every input of a run except its seed (canonical JSON for the dict parts)."""

    task: str
    task_config: str
    arch: str
    arch_config: str
    preset: str | None
    train_config: str

    @property
    def train(self) -> dict[str, Any]:
        return json.loads(self.train_config)

    @property
    def setting(self) -> tuple[str | None, str]:
        """Preset and training budget without per-cell fields (see the module docstring)."""
        budget = {k: v for k, v in self.train.items() if k not in PER_CELL_TRAIN_FIELDS}
        return self.preset, canonical_json(budget)


@dataclass
class Cell:
    """One configuration's records over seeds (ok and failed), in the order they were written."""

    key: CellKey
    label: str
    records: list[Mapping[str, Any]] = field(default_factory=list)  # stored records, or dicts with their fields

    @property
    def ok(self) -> list[Mapping[str, Any]]:
        return [r for r in self.records if r.get("status") == "ok" and r.get("metrics")]

    @property
    def failed(self) -> list[Mapping[str, Any]]:
        return [r for r in self.records if not (r.get("status") == "ok" and r.get("metrics"))]

    @property
    def all_failed(self) -> bool:
        return not self.ok

    @property
    def seeds(self) -> list[int]:
        return sorted(r["seed"] for r in self.ok)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return [r["metrics"] for r in self.ok]

    @property
    def task_config(self) -> dict[str, Any]:
        return json.loads(self.key.task_config)

    @property
    def n_train(self) -> int | None:
        return self.key.train.get("n_train")

    @property
    def metric(self) -> str | None:
        return next((m.get("metric") for m in self.metrics), None)

    @property
    def created(self) -> list[str]:
        return sorted(r["created"] for r in self.records if r.get("created"))

    def values(self, name: str) -> list[float | None]:
        """One raw measurement per successful seed (a speed, a size; None where the record has none).
        Derived figures go through `figure_values`."""
        return [m.get(name) for m in self.metrics]

    def estimate(self, name: str) -> Estimate | None:
        """Mean and 95% interval of a raw measurement over the seeds that have it; None when none has it."""
        return over_seeds(self.values(name))

    def figure_values(self, figure: Figure) -> list[float | None]:
        """One figure (a `bench.results.measures` function of a seed's metrics) per successful seed."""
        return [figure(m) for m in self.metrics]

    def figure_estimate(self, figure: Figure) -> Estimate | None:
        """Mean and 95% interval of a figure over the seeds that have it (`measures.over_seeds`)."""
        return over_seeds(self.figure_values(figure))

    def first(self, name: str) -> Any:
        """A per-configuration constant (parameters, state size): the first seed's value."""
        return next((m.get(name) for m in self.metrics if m.get(name) is not None), None)

    def error(self) -> str | None:
        """The first failure's reason (what a failed cell shows)."""
        return next((r.get("error") for r in self.failed if r.get("error")), None)


def cell_key(entry: Mapping[str, Any]) -> CellKey:
    """The configuration of a run record (or of anything stored with the same fields, e.g. a search)."""
    return CellKey(
        entry["task"],
        canonical_json(entry.get("task_config") or {}),
        entry["arch"],
        canonical_json(entry.get("arch_config") or {}),
        entry.get("preset"),
        canonical_json(normalized_train(entry.get("train_config") or {})),
    )


def validation_keys(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """Keys of learning-rate validation runs, named by the `lr_selection` of the runs they chose for."""
    return {key for r in records for key in (r.get("lr_selection") or {}).get("validation_keys", [])}


def group_cells(records: Iterable[Mapping[str, Any]]) -> list[Cell]:
    """Cells in first-seen order. Pass one record per run key (`RecordStore.latest`)."""
    cells: dict[CellKey, Cell] = {}
    for record in records:
        key = cell_key(record)
        cells.setdefault(key, Cell(key, record["label"])).records.append(record)
    return list(cells.values())


def by_task(cells: Iterable[Cell]) -> dict[str, list[Cell]]:
    out: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        out[cell.key.task].append(cell)
    return dict(out)


def _latest(cell: Cell) -> str:
    return cell.created[-1] if cell.created else ""


def primary_setting(cells: list[Cell]) -> tuple[str | None, str] | None:
    """The setting a task's overview row uses: the one covering the most architecture labels, then the
    most successful runs, then the most recent (None when no cell is given)."""
    per_setting: dict[tuple[str | None, str], list[Cell]] = defaultdict(list)
    for cell in cells:
        per_setting[cell.key.setting].append(cell)
    if not per_setting:
        return None
    return max(
        per_setting,
        key=lambda s: (
            len({c.label for c in per_setting[s]}),
            sum(len(c.ok) for c in per_setting[s]),
            max(_latest(c) for c in per_setting[s]),
        ),
    )


def representative(cells: list[Cell]) -> Cell:
    """Among one label's cells in one setting: prefer a selected learning rate, then more successful
    seeds, then the most recent."""
    return max(cells, key=lambda c: (any(r.get("lr_selection") for r in c.ok), len(c.ok), _latest(c)))


def distinguish(cells: list[Cell]) -> dict[int, str]:
    """Display names for cells of one table: the label, plus the settings that differ when two cells
    share a label (e.g. `transformer [lr=0.01]`). Keyed by `id(cell)`."""
    names: dict[int, str] = {}
    by_label: dict[str, list[Cell]] = defaultdict(list)
    for cell in cells:
        by_label[cell.label].append(cell)
    for label, group in by_label.items():
        if len(group) == 1:
            names[id(group[0])] = label
            continue
        flats = [_flat(c) for c in group]
        differing = sorted({k for f in flats for k in f if any(g.get(k) != f.get(k) for g in flats)})
        for cell, flat in zip(group, flats):
            extra = ", ".join(f"{k.split('.', 1)[1]}={flat.get(k)}" for k in differing)
            names[id(cell)] = f"{label} [{extra}]" if extra else label
    return names


def _flat(cell: Cell) -> dict[str, Any]:
    out = {f"task.{k}": v for k, v in cell.task_config.items()}
    out.update({f"arch.{k}": v for k, v in json.loads(cell.key.arch_config).items()})
    out.update({f"train.{k}": v for k, v in cell.key.train.items()})
    out["preset.preset"] = cell.key.preset
    return out
