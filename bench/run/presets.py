"""Size presets matched by parameter count across families, so comparisons are fair.

The transformer is the reference: its presets are written out (and its width is re-fitted too when a user
changes its structure, so `layers=2` at `tiny` is still a tiny-sized model). Every other family registers only its
structure (layers, ...) and the name of its width hyper-parameter; here that width is fitted so the
family's parameter count for the same TaskSpec lands as close as possible to the transformer's.
Models are built on the `meta` device for counting, so fitting allocates no memory.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import torch
from torch import nn

from bench.contract.errors import ArchbenchError
from bench.contract.model import materialize, num_parameters
from bench.contract.registry import get_architecture, validate_params
from bench.contract.spec import TaskSpec

REFERENCE = "transformer"
PRESETS = ("tiny", "small", "base")
MAX_WIDTH = 4096


def resolve_hparams(
    arch: str,
    spec: TaskSpec,
    preset: str | None,
    overrides: dict[str, Any] | None = None,
    reference_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Hyper-parameters for `arch` at `preset`: preset structure, fitted width, then user overrides.

    `reference_overrides`: the settings a profile gives the transformer on this task (say two layers and
    rotary positions). Every other family is then fitted to that transformer's parameter count rather than
    to the preset's: the transformer's own width moves in steps of 4, which at `tiny` can leave it 13% off
    the preset's count, and the families must match the transformer they are compared with."""
    entry = get_architecture(arch)
    user = validate_params(entry, dict(overrides or {}))
    if preset is None or not entry.presets:
        return user
    if preset not in entry.presets:
        raise ArchbenchError(f"unknown preset {preset!r} for architecture {arch!r}; valid: {', '.join(entry.presets)}")
    hparams = {**entry.presets[preset], **user}
    width = entry.width_param
    # A preset is a parameter budget: any family's width is fitted to the reference's count at that
    # preset, the reference's own too once the user changes its structure (say `layers=2`), unless the
    # user sets the width.
    if width and width not in user and (arch != REFERENCE or user):
        reference = reference_overrides if arch != REFERENCE else None
        target = count_parameters(REFERENCE, spec, resolve_hparams(REFERENCE, spec, preset, reference))
        hparams[width] = fit_width(arch, spec, hparams, width, entry.width_multiple, target)
    return hparams


def count_parameters(arch: str, spec: TaskSpec, hparams: dict[str, Any]) -> int:
    return _count(arch, spec, json.dumps(hparams, sort_keys=True, default=str))


@functools.lru_cache(maxsize=4096)
def _count(arch: str, spec: TaskSpec, hparams_json: str) -> int:
    return num_parameters(build_unallocated(arch, spec, json.loads(hparams_json)))


def build_unallocated(arch: str, spec: TaskSpec, hparams: dict[str, Any]) -> nn.Module:
    """`arch` built for inspection (size, declarations), not for training: on the `meta` device, so no
    memory is allocated, with lazy parameters materialized; `hparams` must already be validated.
    The builder's own range checks run, so a bad value fails here."""
    builder = get_architecture(arch).obj
    try:
        with torch.device("meta"):
            return materialize(builder(spec, **hparams), spec)
    except Exception:  # a builder doing real arithmetic at construction: build on the CPU instead
        return materialize(builder(spec, **hparams), spec)


def fit_width(arch: str, spec: TaskSpec, hparams: dict[str, Any], width: str, multiple: int, target: int) -> int:
    """Smallest-error width (a multiple of `multiple`) by bisection; parameter count grows with width."""

    def count(units: int) -> int:
        return count_parameters(arch, spec, {**hparams, width: units * multiple})

    lo, hi = 1, max(1, MAX_WIDTH // multiple)
    while lo < hi:  # first width whose count reaches the target
        mid = (lo + hi) // 2
        if count(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    best = min({max(1, lo - 1), lo}, key=lambda u: abs(count(u) - target))
    return best * multiple
