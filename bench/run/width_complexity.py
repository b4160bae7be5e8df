"""Width complexity: the smallest width (or any integer setting) at which a configuration reaches `solved_at`.

Wang, Wei, Hsu, Lee 2024 separate transformers from fully-connected nets by *width*: a one-layer
transformer learns STS_q with width about d + q log T, an FCN needs width on the order of T·d. This is
that measurement for any task × family: the axis is an integer setting, `arch.NAME` (by default the
family's registered width parameter, `hidden` for `fcn`, `d_model` for `transformer`) or `task.NAME` (for
`sts_attention`, whose width is the task's `code_dim`); every value trains the configuration's seeds
through the normal runner and record store under the profile's own budget (online, the same steps as a
plain run), and the value passes when the median over seeds of the best validation metric reaches the
task's `solved_at` (`bench.run.bracket.judge`, shared with the sample-complexity search). The search is
`bench.run.bracket.search`: doubling from the smallest width, then log-space bisection to `ratio`, run
in units of the family's `width_multiple` when the axis is its width parameter (so every width tried is
one the family accepts). Each evaluation stores the runs' parameter count, so a width converts to a
parameter count without rebuilding anything. The search is stored as one JSON line in
`<results>/width_complexity/<task>.jsonl` (`load_results(root, task, SUBDIR)`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bench.contract.errors import ArchbenchError, require
from bench.contract.registry import get_architecture
from bench.results.schema import run_key
from bench.run.bracket import DEFAULT_RATIO, ExecuteFn, SearchFailed, configuration_fields, judge, search
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import Profile

SUBDIR = "width_complexity"


@dataclass(frozen=True)
class Axis:
    """The setting searched: `arch.hidden`, `task.code_dim`, ...; values are multiples of `multiple`."""

    target: str  # "arch" | "task"
    name: str
    multiple: int = 1

    @property
    def text(self) -> str:
        return f"{self.target}.{self.name}"


def parse_axis(text: str | None, arch: str) -> Axis:
    """`--axis` (default: the family's width parameter, in multiples of its `width_multiple`)."""
    entry = get_architecture(arch)
    if text is None:
        if not entry.width_param:
            raise ArchbenchError(
                f"architecture {arch!r} has no width parameter; name the setting to search with --axis "
                "(arch.NAME or task.NAME, e.g. task.code_dim)"
            )
        return Axis("arch", entry.width_param, entry.width_multiple)
    target, dot, name = text.partition(".")
    if target not in ("arch", "task") or not dot or not name:
        raise ArchbenchError(f"--axis expects arch.NAME or task.NAME; got {text!r}")
    multiple = entry.width_multiple if target == "arch" and name == entry.width_param else 1
    return Axis(target, name, multiple)


def runs_at(runs: Sequence[PlannedRun], axis: Axis, value: int, profile: Profile) -> list[PlannedRun]:
    """The configuration's seeds with the axis set to `value`, planned afresh (so a task setting reshapes
    the spec the model is built for, and every check of planning runs again); same training settings."""
    first = runs[0]
    task_params, arch_params = dict(first.user_task_params), dict(first.user_arch_params)
    (task_params if axis.target == "task" else arch_params)[axis.name] = value
    return plan(
        first.task_name,
        [first.arch],
        profile,
        seeds=[r.seed for r in runs],
        preset=first.preset,
        task_grid=[task_params],
        arch_grid=[arch_params],
        train_overrides=first.train.to_dict(),
    )


def measure(
    runs: Sequence[PlannedRun],
    axis: Axis,
    profile: Profile,
    execute: ExecuteFn,
    w_min: int,
    w_max: int,
    ratio: float = DEFAULT_RATIO,
) -> dict[str, Any]:
    """Search one configuration (`runs`: its seeds) and return the stored result (without provenance)."""
    solved_at = runs[0].task.solved_at
    m = axis.multiple
    require(1 <= w_min <= w_max, f"width-complexity range needs 1 <= w_min <= w_max; got w_min={w_min}, w_max={w_max}")
    require(
        math.ceil(w_min / m) <= w_max // m,
        f"--w-min {w_min} .. --w-max {w_max} holds no multiple of {m} (the width multiple of {axis.text})",
    )
    evaluations: list[dict[str, Any]] = []

    def passes(units: int) -> bool:
        records = execute(runs_at(runs, axis, units * m, profile))
        passed, seen = judge(records, solved_at)
        parameters = {(r.get("metrics") or {}).get("num_parameters") for r in records if r.get("status") == "ok"}
        evaluations.append({"width": units * m, "parameters": max((p for p in parameters if p), default=None), **seen})
        return passed

    result: dict[str, Any] = {"status": "ok", "error": None}
    try:
        units = search(passes, math.ceil(w_min / m), w_max // m, ratio, what="width-complexity", var="w")
        found = units.scaled(m)
        result.update(estimate=found.estimate, bracket=list(found.bracket), text=found.text(), path=found.path())
        by_width = {e["width"]: e["parameters"] for e in evaluations}
        result["parameters"] = [by_width.get(w) if w is not None else None for w in found.bracket]
    except SearchFailed as exc:
        result.update(
            status="failed", error=str(exc), estimate=None, bracket=[None, None], text="failed", path="", parameters=[]
        )
    result["evaluations"] = evaluations
    return result


def search_key(runs: Sequence[PlannedRun], axis: Axis, w_min: int, w_max: int, ratio: float) -> str:
    """Content address of a search: its configuration, seeds, axis, range and resolution."""
    first = runs[0]
    train = {
        **first.train.to_dict(),
        "width_search": {
            "axis": axis.text,
            "multiple": axis.multiple,
            "w_min": w_min,
            "w_max": w_max,
            "ratio": ratio,
            "seeds": [r.seed for r in runs],
        },
    }
    return run_key(first.task_name, first.task.config(), first.arch, first.arch_config, train, -1)


def make_result(
    runs: Sequence[PlannedRun],
    axis: Axis,
    measured: dict[str, Any],
    w_min: int,
    w_max: int,
    ratio: float,
    profile: str,
    command: str | None,
) -> dict[str, Any]:
    """The stored line: configuration, search settings, outcome, and the keys of every run it used."""
    return {
        "key": search_key(runs, axis, w_min, w_max, ratio),
        "kind": "width_complexity",
        **configuration_fields(runs, profile),
        "axis": axis.text,
        "multiple": axis.multiple,
        "w_min": w_min,
        "w_max": w_max,
        "ratio": ratio,
        **measured,
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
