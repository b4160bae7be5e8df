"""Admission: whether an architecture may run a task at all, decided at planning time, before any training.

A family registered with an input `layout` (`register_architecture(..., layout="sts")`) reads the input
features by position (which columns are data, which position codes, which the query flag) instead of
through a learned input map. On a task that does not promise that layout (`TaskSpec.layout`) it would
read meaningless columns and still produce a record, so it is refused there with the tasks it can run.

A model that declares `causal = False` sees the whole sequence at once. On a task whose targets sit at several
positions the later inputs can hold earlier answers (copy's teacher-forced output half), so such a model
would score by reading them, and its record would look like any other. It is therefore refused there, and
admitted only where the single target is the last position (`TaskSpec.targets == "last"`).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from bench.contract.errors import ArchbenchError
from bench.contract.model import is_causal
from bench.contract.registry import get_architecture, get_task, list_tasks
from bench.contract.spec import TaskSpec
from bench.run.presets import build_unallocated


def admit(arch: str, task_name: str, spec: TaskSpec, hparams: dict[str, Any]) -> None:
    """Build `arch` once (no memory allocated; its own range checks run) and refuse it if it cannot fairly
    run `task_name`: raises `ArchbenchError` with one line naming both and why."""
    check_layout(arch, task_name, spec)
    check_admissible(build_unallocated(arch, spec, hparams), arch, task_name, spec)


def layout_fits(arch: str, spec: TaskSpec) -> bool:
    """Whether `arch` may read inputs of `spec` by its layout: always for a family bound to none."""
    layout = get_architecture(arch).layout
    return layout is None or spec.layout == layout


def check_layout(arch: str, task_name: str, spec: TaskSpec) -> None:
    """A family bound to an input layout runs only on tasks whose spec promises that layout."""
    layout = get_architecture(arch).layout
    if layout is None or layout_fits(arch, spec):
        return
    raise ArchbenchError(
        f"architecture {arch!r} reads the input layout {layout!r} and cannot run task {task_name!r} "
        f"(its layout: {spec.layout or 'none'}); tasks with layout {layout!r}: "
        f"{', '.join(layout_tasks(layout)) or '(none registered)'}"
    )


def layout_tasks(layout: str) -> list[str]:
    """Registered tasks whose spec (at their default settings) promises `layout`."""
    return [name for name in list_tasks() if get_task(name).spec().layout == layout]


def check_admissible(model: nn.Module, arch: str, task_name: str, spec: TaskSpec) -> None:
    """The rule itself, on a built model: a non-causal model only on a task whose single target is the last position."""
    if spec.targets == "last" or is_causal(model):
        return
    raise ArchbenchError(
        f"architecture {arch!r} declares causal=False and cannot run task {task_name!r}: its targets sit at several "
        "positions, so a model that sees later inputs could read the answers from them; a non-causal model runs "
        f"only on tasks whose single target is the last position: {', '.join(last_target_tasks()) or '(none registered)'}"
    )


def last_target_tasks() -> list[str]:
    """Registered tasks whose single target is the last position (at their default settings)."""
    return [name for name in list_tasks() if get_task(name).spec().targets == "last"]
