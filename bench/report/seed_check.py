"""Reported seeds against check seeds: does a cell's verdict hold on seeds nobody looked at?

A protocol with `check_seeds` (`standard`: reported 0-2, check 3-5) promises that every cell's verdict
(solved in all / some / no seeds) is the same on a second set of fresh seeds; where it is not, the verdict
is the budget's, not the architecture's, and the budget must grow (seeds are never chosen). So the check
seeds are never averaged into a cell's figures (those are the reported seeds'); this module splits them off
and sets each cell's two verdicts side by side for the leaderboard's section and the overview's mark.

Which seeds are check seeds is the profile's business: a record's profile is the one named on the command
that made it (`provenance.profile_of`); records of a profile without check seeds are all reported.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tabulate import tabulate

from bench.contract.errors import ArchbenchError
from bench.report import aggregate
from bench.report.provenance import profile_of
from bench.results.measures import Verdict, run_metrics, solve_verdict

R = TypeVar("R", bound=Mapping[str, Any])


@functools.lru_cache(maxsize=64)
def _check_seeds(profile: str | None) -> frozenset[int]:
    if profile is None:
        return frozenset()
    from bench.run.profiles import get_profile

    try:
        return frozenset(get_profile(profile).check_seeds)
    except ArchbenchError:  # a profile file that is gone, or a name no longer defined
        return frozenset()


def is_check(record: Mapping[str, Any]) -> bool:
    """The record's seed is one of its profile's check seeds."""
    return int(record["seed"]) in _check_seeds(profile_of(record))


def split(records: Iterable[R]) -> tuple[list[R], list[R]]:
    """(reported, check) records."""
    reported: list[R] = []
    checks: list[R] = []
    for record in records:
        (checks if is_check(record) else reported).append(record)
    return reported, checks


@dataclass(frozen=True)
class CheckRow:
    task: str
    label: str
    key: aggregate.CellKey
    reported: Verdict | None
    reported_seeds: tuple[int, ...]
    check: Verdict | None
    check_seeds: tuple[int, ...]

    @property
    def same(self) -> bool:
        return self.reported is not None and self.reported == self.check


def _verdict(records: Sequence[Mapping[str, Any]]) -> Verdict | None:
    ok = [r for r in records if r.get("status") == "ok"]
    return solve_verdict([run_metrics(r) for r in ok]) if ok else None


def check_rows(reported: Iterable[Mapping[str, Any]], checks: Iterable[Mapping[str, Any]]) -> list[CheckRow]:
    """One row per configuration that has check-seed records, in task / label order."""
    by_key: dict[aggregate.CellKey, list[Mapping[str, Any]]] = collections.defaultdict(list)
    for record in reported:
        by_key[aggregate.cell_key(record)].append(record)
    checked: dict[aggregate.CellKey, list[Mapping[str, Any]]] = collections.defaultdict(list)
    for record in checks:
        checked[aggregate.cell_key(record)].append(record)
    rows = []
    for key, check in checked.items():
        mine = by_key.get(key, [])
        label = str(check[0].get("label") or key.arch)
        rows.append(
            CheckRow(
                key.task,
                label,
                key,
                _verdict(mine),
                tuple(sorted(int(r["seed"]) for r in mine)),
                _verdict(check),
                tuple(sorted(int(r["seed"]) for r in check)),
            )
        )
    return sorted(rows, key=lambda r: (r.task, r.label))


def _seeds(seeds: Sequence[int]) -> str:
    return ",".join(map(str, seeds)) or "none"


def seed_check_section(rows: Sequence[CheckRow], tablefmt: str = "github") -> list[str]:
    """The leaderboard's section: the count, then every cell whose verdicts differ (or cannot be compared)."""
    if not rows:
        return []
    same = [r for r in rows if r.same]
    other = [r for r in rows if not r.same]
    per_task = collections.Counter(r.task for r in same)
    lines = [
        "## Verdicts on the check seeds",
        "",
        f"Each cell's verdict (solved in all / some / no seeds) on its reported seeds against the same "
        f"configuration on the profile's check seeds, which are never averaged into a figure above: "
        f"**{len(same)} of {len(rows)} cells give the same verdict**. A cell that differs has a verdict that "
        "belongs to the budget, not the architecture: its budget is to be enlarged (seeds are never chosen).",
        "",
    ]
    if per_task:
        lines += ["Same verdict: " + ", ".join(f"{task} {n}" for task, n in sorted(per_task.items())) + ".", ""]
    if other:
        table = [
            [
                r.task,
                r.label,
                f"{r.reported or 'no run'} ({_seeds(r.reported_seeds)})",
                f"{r.check or 'no run'} ({_seeds(r.check_seeds)})",
            ]
            for r in other
        ]
        lines += [
            tabulate(
                table,
                headers=["task", "architecture", "reported seeds: solved in", "check seeds: solved in"],
                tablefmt=tablefmt,
                disable_numparse=True,
            ),
            "",
        ]
    return lines


def differing(rows: Sequence[CheckRow]) -> dict[aggregate.CellKey, CheckRow]:
    """Configurations whose check-seed verdict differs from (or cannot be set against) the reported one."""
    return {r.key: r for r in rows if not r.same}
