"""The leaderboard's provenance block: which commands, code, packages and hardware made the records, when.

Kept apart from the page layout (`bench.report.publish`) because it answers a different question: not "what
was measured" but "how would I reproduce it".
"""

from __future__ import annotations

import collections
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.results.store import RecordStore


def git_commit(where: Path) -> str:
    """`abc1234` (+ ` with uncommitted changes`) of the checkout at `where`, or why there is none."""
    if shutil.which("git") is None:
        return "unknown (git not installed)"
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "none (not a git checkout)"
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (git failed)"
    return head.stdout.strip() + (" with uncommitted changes" if dirty else "")


def _values(records: Sequence[Mapping[str, Any]], name: str) -> str:
    counts = collections.Counter(str((r.get("environment") or {}).get(name) or "not recorded") for r in records)
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{v} ({n} runs)" for v, n in counts.most_common())


def profile_of(record: Any) -> str | None:
    """The profile named on the command line that made a record (`--profile quick`), None when not named."""
    words = str(record.get("command") or "").split()
    for i, word in enumerate(words):
        if word == "--profile" and i + 1 < len(words):
            return words[i + 1]
        if word.startswith("--profile="):
            return word.split("=", 1)[1]
    return None


def command_minutes(records: Sequence[Mapping[str, Any]], command: str) -> float | None:
    """Minutes from the first to the last record `command` stored: the wall time of a sweep that trained
    them in one go (it misses the first run's own time; a sweep resumed later also counts the pause)."""
    times = sorted(
        datetime.fromisoformat(r["created"]) for r in records if r.get("command") == command and r.get("created")
    )
    return (times[-1] - times[0]).total_seconds() / 60 if len(times) > 1 else None


def command_spans(records: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """`, stored over 31 min` per command with two or more records (`command_minutes`)."""
    spans = {}
    for cmd in {r.get("command") for r in records if r.get("command")}:
        minutes = command_minutes(records, str(cmd))
        if minutes is not None:
            spans[str(cmd)] = f", stored over {minutes:.0f} min"
    return spans


def provenance(
    records: Sequence[Mapping[str, Any]], store: RecordStore, command: str, plots: str, left_out: list[str]
) -> list[str]:
    """Where every number came from: commands, versions, hardware, dates."""
    created = sorted(r["created"] for r in records if r.get("created"))
    commands = collections.Counter(r.get("command") or "(not recorded)" for r in records)
    spans = command_spans(records)
    ok = sum(1 for r in records if r.get("status") == "ok")
    return [
        "## Provenance",
        "",
        f"- **Page**: `{command}`, {datetime.now(timezone.utc).isoformat(timespec='seconds')}; {plots}",
        f"- **Records**: {len(records)} runs ({ok} ok, {len(records) - ok} failed) from `{store.root}`, "
        f"created {created[0] if created else '?'} to {created[-1] if created else '?'}",
        *(f"- **Left out**: {item}" for item in left_out),
        "- **Commands that produced them**:",
        *(f"  - `{cmd}` ({n} runs{spans.get(cmd, '')})" for cmd, n in commands.most_common()),
        f"- **archbench**: {_values(records, 'archbench')}; code version {_values(records, 'code_version')}; "
        f"git commit at publish time: {git_commit(Path.cwd())}",
        f"- **Packages**: torch {_values(records, 'torch')}; lightning {_values(records, 'lightning')}; "
        f"torchmetrics {_values(records, 'torchmetrics')}; python {_values(records, 'python')}",
        f"- **Hardware**: CPU {_values(records, 'cpu')} ({_values(records, 'cpu_count')} cores); GPU "
        f"{_values(records, 'gpu').replace('not recorded', 'none')}; torch threads {_values(records, 'torch_threads')}; "
        f"{_values(records, 'platform')}",
    ]
