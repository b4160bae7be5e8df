"""Is a stored record still comparable with what this installation would measure? current / unknown / stale.

A record is **stale** when it was made by another archbench version, another code version (the digest
of the harness and of the run's own task and architecture modules, `bench.results.store.code_version`,
recomputed over the files the record names in `code_sources`), or another torch / lightning /
torchmetrics version: mixing such records into one mean would silently average two different
experiments. Stale records are listed (`archbench results --stale`) and left out of the leaderboard
unless `--include-stale` is given.

A record without a `code_version` (written before the field existed) is **unknown** when everything
else matches, and counts like a current one. Why lenient: the first records of this project predate the
field and were made by the same release; calling them stale would empty the leaderboard without any
evidence that they differ, while every record written from now on carries the digest, so the grace only
ever applies to that first batch (and a version bump ends it). `archbench results` shows them as
"unknown" so nobody mistakes them for verified.

Hardware, thread counts and Python versions are not staleness: they change speed, not what is learned,
and the leaderboard's provenance block lists them.
"""
from __future__ import annotations

import functools
import importlib
import importlib.metadata
from dataclasses import dataclass
from typing import Any, Callable

CURRENT, UNKNOWN, STALE = "current", "unknown", "stale"
PACKAGES = ("torch", "lightning", "torchmetrics")


@dataclass(frozen=True)
class Freshness:
    """A record's status and, when stale, what differs (e.g. `torch 2.12.0 -> 2.13.0`)."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return self.status == STALE

    def describe(self) -> str:
        if self.status == UNKNOWN:
            return "unknown (no code version)"
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


CodeVersion = Callable[[tuple[str, ...]], str]  # a record's code_sources -> this installation's digest of them


@functools.lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    """This installation's versions, read without importing torch or lightning (publish stays fast):
    package versions, and under `code_version` the function giving the digest of a record's sources."""
    from bench import __version__
    from bench.results.code_version import code_version

    return {"archbench": __version__, "code_version": code_version,
            **{p: public_version(_installed_version(p)) for p in PACKAGES}}


def freshness(record: dict[str, Any], ref: dict[str, Any] | None = None) -> Freshness:
    """Compare a record's environment with `ref` (default: this installation)."""
    ref = reference() if ref is None else ref
    env = record.get("environment") or {}
    reasons = []
    for name in ("archbench", *PACKAGES):
        theirs, ours = public_version(env.get(name)), ref.get(name)
        if theirs != ours:
            reasons.append(f"{name} {theirs or '?'} -> {ours or '?'}")
    code = env.get("code_version")
    current_code: CodeVersion = ref["code_version"]
    ours = current_code(tuple(env.get("code_sources") or ())) if code is not None else None
    if code is not None and code != ours:
        reasons.append(f"code {code} -> {ours}")
    if reasons:
        return Freshness(STALE, tuple(reasons))
    return Freshness(CURRENT if code is not None else UNKNOWN)


def usable(records: list[dict[str, Any]], include_stale: bool = False,
           ref: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split records into (counted, left out as stale); with `include_stale` nothing is left out."""
    if include_stale:
        return list(records), []
    kept, stale = [], []
    for record in records:
        (stale if freshness(record, ref).stale else kept).append(record)
    return kept, stale
