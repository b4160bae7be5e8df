"""Is a stored record still comparable with what this installation would measure? current or stale.

A record is **stale** when it was written under an older record schema (`schema 1 -> 2`: its key was
computed under other rules, so it is never the same run as one planned now), by another archbench
version, by another code version (the digest of the contract and training layers and of the run's own
task and architecture modules, `bench.results.code_version`, recomputed over the files the record names
in `code_sources`), or with another torch / lightning / torchmetrics version: mixing such records into
one mean would silently average two different experiments. Stale records are listed (`archbench results
--stale`) and left out of the leaderboard unless `--include-stale` is given.

Every record of the current schema carries a code version; a migrated schema-1 record that predates the
stamp is stale by its schema anyway, so there is no third, "unknown" status.

Hardware, thread counts and Python versions are not staleness: they change speed, not what is learned,
and the leaderboard's provenance block lists them.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from bench.results.schema import SCHEMA, RunRecord

CURRENT, STALE = "current", "stale"

CodeVersion = Callable[[tuple[str, ...]], str]  # a record's code_sources -> this installation's digest of them


class Reference(TypedDict):
    """What a record is compared with: this installation's versions (`reference`), or a test's."""

    archbench: str | None
    torch: str | None
    lightning: str | None
    torchmetrics: str | None
    code_version: CodeVersion


@dataclass(frozen=True)
class Freshness:
    """A record's status and, when stale, what differs (e.g. `torch 2.12.0 -> 2.13.0`)."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return self.status == STALE

    def describe(self) -> str:
        return "stale: " + "; ".join(self.reasons) if self.stale else "no"


def public_version(version: str | None) -> str | None:
    """`2.13.0+cpu` -> `2.13.0`: the local build tag (CPU vs CUDA wheel) is hardware, not code."""
    return version.split("+", 1)[0] if version else version


def _installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        try:
            return getattr(importlib.import_module(package), "__version__", None)
        except ImportError:
            return None


@functools.lru_cache(maxsize=1)
def reference() -> Reference:
    """This installation's versions, read without importing torch or lightning (publish stays fast):
    package versions, and under `code_version` the function giving the digest of a record's sources."""
    from bench import __version__
    from bench.results.code_version import code_version

    return {
        "archbench": __version__,
        "code_version": code_version,
        "torch": public_version(_installed_version("torch")),
        "lightning": public_version(_installed_version("lightning")),
        "torchmetrics": public_version(_installed_version("torchmetrics")),
    }


def freshness(record: RunRecord, ref: Reference | None = None) -> Freshness:
    """Compare a record (as `migrate` returns it) with `ref` (default: this installation)."""
    ref = reference() if ref is None else ref
    env = record["environment"]
    reasons = []
    old_schema = record.get("migrated_from")
    if old_schema is not None:
        reasons.append(f"schema {old_schema} -> {SCHEMA}")
    for name, theirs, ours in (
        ("archbench", env["archbench"], ref["archbench"]),
        ("torch", env["torch"], ref["torch"]),
        ("lightning", env["lightning"], ref["lightning"]),
        ("torchmetrics", env["torchmetrics"], ref["torchmetrics"]),
    ):
        if public_version(theirs) != ours:
            reasons.append(f"{name} {public_version(theirs) or '?'} -> {ours or '?'}")
    code, ours_code = env["code_version"], ref["code_version"](tuple(env["code_sources"]))
    if code != ours_code:
        reasons.append(f"code {code or 'none'} -> {ours_code}")
    return Freshness(STALE, tuple(reasons)) if reasons else Freshness(CURRENT)


def usable(
    records: list[RunRecord], include_stale: bool = False, ref: Reference | None = None
) -> tuple[list[RunRecord], list[RunRecord]]:
    """Split records into (counted, left out as stale); with `include_stale` nothing is left out."""
    if include_stale:
        return list(records), []
    kept: list[RunRecord] = []
    stale: list[RunRecord] = []
    for record in records:
        (stale if freshness(record, ref).stale else kept).append(record)
    return kept, stale
