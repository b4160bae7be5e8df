"""Small parsing helpers shared by several subcommands."""
from __future__ import annotations

import shlex
import sys
from typing import Any

from bench.contract.errors import ArchbenchError


def parse_csv(text: str, item: type = str) -> list[Any]:
    """`"a, b,c"` -> `["a", "b", "c"]`, each converted by `item`; a bad item is a user error naming the text."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [item(p) for p in parts]
    except ValueError:
        raise ArchbenchError(f"expected a comma-separated list of {item.__name__}s; got {text!r}") from None


def invoked_command() -> str:
    """The command line as the user typed it, stored in records so every number says how to reproduce it."""
    return "archbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
