"""One module per `archbench` subcommand.

Each module defines `NAME`, `HELP`, `add_arguments(parser)` and `main(args) -> int`; `bench.cli.main` adds
every module listed in `COMMANDS` (in that order) as a subcommand. A new subcommand is a new module
plus one line here, so commands never grow into one long file.
"""

from __future__ import annotations

COMMANDS: tuple[str, ...] = (
    "list",
    "run",
    "check-arch",
    "sample-complexity",
    "width-complexity",
    "results",
    "publish",
    "sweep",
    "reproduce",
)
