"""Small parsing and checking helpers shared by several subcommands.

Everything here runs before any training, so that a mistake in any option is one line, exit status 2,
with nothing trained and nothing written.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.contract.errors import ArchbenchError

if TYPE_CHECKING:
    from bench.run.plan import PlannedRun


def parse_csv(text: str, item: type = str) -> list[Any]:
    """`"a, b,c"` -> `["a", "b", "c"]`, each converted by `item`; a bad item is a user error naming the text."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [item(p) for p in parts]
    except ValueError:
        raise ArchbenchError(f"expected a comma-separated list of {item.__name__}s; got {text!r}") from None


def parse_unique(text: str, flag: str, item: type = str) -> list[Any]:
    """`parse_csv` for a list whose entries each make runs (`--seeds`, `--arch`, ...): at least one entry,
    none twice (`--seeds 0,0` would store one seed twice and report a zero-width interval over it)."""
    values = parse_csv(text, item)
    if not values:
        raise ArchbenchError(f"{flag} needs at least one value; got {text!r}")
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ArchbenchError(f"{flag} lists {', '.join(repeated)} more than once; got {text!r}")
    return values


def parse_seeds(text: str | None) -> list[int] | None:
    """`--seeds 0,1,2` -> [0, 1, 2]; None when not given (the profile's seeds)."""
    return None if text is None else parse_unique(text, "--seeds", int)


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="torch threads of the training process (default: OMP_NUM_THREADS when set, else 1: "
        "one thread per run cannot oversubscribe a machine shared with other work)",
    )


def use_threads(requested: int | None) -> int:
    """Set this process's torch threads by the policy of `bench.run.executors.default_threads`; the count."""
    from bench.run.executors import default_threads, set_threads

    threads = default_threads(requested)
    set_threads(threads)
    return threads


def check_options(args: argparse.Namespace) -> None:
    """Options every command may have, checked before it does anything: the table format, the record
    directory, the pages it will write at the end."""
    fmt = getattr(args, "format", None)
    if fmt is not None:
        from tabulate import tabulate_formats

        if fmt not in tabulate_formats:
            raise ArchbenchError(
                f"unknown table format {fmt!r} (--format); valid: {', '.join(sorted(tabulate_formats))}"
            )
    results = getattr(args, "results", None)
    if results is not None and Path(results).exists() and not Path(results).is_dir():
        raise ArchbenchError(f"--results {results!r} is a file; it must be a directory (of run records)")
    for flag in ("out", "write_doc"):
        target = getattr(args, flag, None)
        if target is not None and Path(target).is_dir():
            raise ArchbenchError(
                f"--{flag.replace('_', '-')} {target!r} is a directory; it must name the page to write"
            )


def warn_presetless(runs: Sequence[PlannedRun]) -> None:
    """Warn once per architecture that runs under a size preset it does not define (a plugin without
    presets): it trains at its own defaults, not at the preset's size, whatever the heading says."""
    from bench.contract.registry import get_architecture

    seen: set[str] = set()
    for run in runs:
        entry = get_architecture(run.arch)
        if run.arch in seen or run.preset is None or entry.presets:
            continue
        seen.add(run.arch)
        defaults = {k: p.default for k, p in entry.parameters().items() if p.default is not p.empty}
        settings = ", ".join(f"{k}={v}" for k, v in {**defaults, **run.arch_config}.items()) or "its defaults"
        print(
            f"archbench: warning: architecture {run.arch!r} has no size presets; it runs at {settings}, "
            f"not matched to preset {run.preset!r}",
            file=sys.stderr,
        )


def invoked_command() -> str:
    """The command line as the user typed it, stored in records so every number says how to reproduce it."""
    return "archbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
