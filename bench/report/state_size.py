"""Recall against state size (Zoology's figure 2, Arora et al. 2023; Based, Arora et al. 2024): one point per
model size, the task's in-distribution metric against the numbers the model carries between steps.

The x value is the record's `state_size` (declared by the architecture: the numbers carried from step to
step at inference). Softmax attention has no fixed state (`state_size` None): its key/value cache grows with
the sequence, so it is placed at the cache it holds at the length the metric was measured at, the training
length T: keys and values of every attention layer, 2 x d_model x T numbers per layer (`cache_size`). The
hybrid adds its Mamba layers' fixed states. Families with no fixed state and no such cache (Hyena's long
convolutions need the whole input history; the FCN sees the whole sequence at once) are left out, and the
caption names them.

Which cells: the online runs (no fixed training-set size) of the task's primary configuration and training
budget (`bench.report.aggregate.primary_setting`, preset aside: the preset is the x axis), one point per
architecture label and size, mean and 95% interval over seeds.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.report import aggregate
from bench.report.aggregate import Cell
from bench.report.literature import effective_arch_config
from bench.report.plots import Series, family_rank
from bench.results.measures import in_distribution

# The tasks that get the plot (recall tasks, where state size is the question).
STATE_SIZE_TASKS = ("mqar",)
MIN_SIZES = 3  # the figure needs at least this many sizes per family to show a trend


def _attention_layers(family: str, config: Mapping[str, Any]) -> int | None:
    if family == "transformer":
        return int(config["layers"])
    if family == "attention1":
        return 1
    if family == "hybrid":
        every = int(config["attention_every"])
        return sum((i + 1) % every == 0 for i in range(int(config["layers"])))
    return None


def cache_size(family: str, arch_config: Mapping[str, Any], length: int) -> int | None:
    """Numbers a growing-cache model holds after `length` positions: 2 x d_model x length per softmax attention
    layer (keys and values), plus the fixed states of the hybrid's Mamba layers. None for a family without a
    cache formula here."""
    config = effective_arch_config(family, arch_config)
    layers = _attention_layers(family, config)
    if layers is None:
        return None
    d_model = int(config["d_model"])
    total = 2 * layers * d_model * length
    if family == "hybrid":  # Mamba layers: d_inner x d_state (SSM) + d_inner x (d_conv - 1) (short convolution)
        d_inner = int(config["expand"]) * d_model
        mamba_layers = int(config["layers"]) - layers
        total += mamba_layers * d_inner * (int(config["d_state"]) + int(config["d_conv"]) - 1)
    return total


@dataclass(frozen=True)
class StatePoint:
    """x (numbers), whether it is a cache at length T, and the cell."""

    size: int
    cache: bool
    cell: Cell


def state_point(cell: Cell) -> StatePoint | None:
    """The cell's x value: its recorded state size, or its cache at the training length; None without either."""
    recorded = cell.first("state_size")
    if isinstance(recorded, int):
        return StatePoint(recorded, False, cell)
    length = cell.task_config.get("length")
    if not isinstance(length, int):
        return None
    size = cache_size(cell.key.arch, json.loads(cell.key.arch_config), length)
    return None if size is None else StatePoint(size, True, cell)


def _budget(cell: Cell) -> str:
    return cell.key.setting[1]


def state_size_series(cells: list[Cell]) -> tuple[list[Series], list[str], list[str]]:
    """(one series per architecture label, sorted by state size; families left out for want of a state;
    labels with fewer than `MIN_SIZES` sizes)."""
    online = [c for c in cells if c.n_train is None and not c.all_failed]
    setting = aggregate.primary_setting(online)
    if setting is None:
        return [], [], []
    primary = [c for c in online if c.key.setting == setting]
    task_config = primary[0].key.task_config
    chosen = [c for c in online if _budget(c) == setting[1] and c.key.task_config == task_config]
    points: dict[str, dict[int, StatePoint]] = collections.defaultdict(dict)
    left_out: set[str] = set()
    for cell in chosen:
        point = state_point(cell)
        if point is None:
            left_out.add(cell.key.arch)
            continue
        current = points[cell.label].get(point.size)
        if current is None or aggregate.representative([current.cell, cell]) is cell:
            points[cell.label][point.size] = point
    series = []
    for label, by_size in points.items():
        xs = sorted(by_size)
        estimates = [by_size[x].cell.figure_estimate(in_distribution) for x in xs]
        series.append(
            Series(
                label,
                by_size[xs[0]].cell.key.arch,
                xs,
                [e.mean if e else None for e in estimates],
                [e.low if e else None for e in estimates],
                [e.high if e else None for e in estimates],
            )
        )
    series.sort(key=lambda s: (family_rank(s.family), s.label))
    few = [s.label for s in series if len(s.x) < MIN_SIZES]
    return series, sorted(left_out, key=family_rank), few
