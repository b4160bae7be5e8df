"""The claim catalogue: one module per claim in this folder, found at import time.

Each public module here (a name not starting with `_`) defines `CLAIM`, a `bench.claims.model.Claim`
whose name is the module's name with `-` for `_` (`sts-length` lives in `sts_length.py`). Why one module
per claim, discovered rather than listed: adding a claim is adding a file, and a claim's paper, settings
and reasoning sit together where a reader finds them by the claim's name. Modules starting with `_` hold
what several claims share (e.g. the copy claims' arms, so their runs are stored once and judged twice).

`CLAIMS` maps name -> Claim, sorted by name. `claims` budgets: tiny preset, batch 32 (the claims profile's,
which is the screen `quick` as it was when the claims were built, kept apart so that resizing the screen
never changes a claim), up to 5000 steps; the quick sweep of that time (results/LEADERBOARD.md) showed
which tasks need more than its 500 steps or a smaller size. `paper` budgets add only what the claim's
quantity needs; the profile supplies the papers' task sizes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

from bench.claims.model import Claim
from bench.contract.errors import ArchbenchError


def module_name(claim_name: str) -> str:
    """The module a claim lives in: `sts-length` -> `sts_length`."""
    return claim_name.replace("-", "_")


def discover() -> dict[str, Claim]:
    """Import every public module of this package and collect its `CLAIM`, sorted by claim name.

    A module without a `Claim` named `CLAIM`, or whose claim's name does not match the module's, is a
    mistake in the catalogue, not something to skip silently: it raises."""
    found: dict[str, Claim] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        claim = getattr(module, "CLAIM", None)
        if not isinstance(claim, Claim):
            raise TypeError(f"claim module {module.__name__} defines no CLAIM (a bench.claims.model.Claim)")
        if module_name(claim.name) != info.name:
            raise ValueError(f"claim {claim.name!r} lives in {info.name}.py; expected {module_name(claim.name)}.py")
        found[claim.name] = claim
    return dict(sorted(found.items()))


CLAIMS: dict[str, Claim] = discover()


def get_claims(names: Sequence[str] = ()) -> list[Claim]:
    """The named claims in the given order (all, sorted by name, when none is named)."""
    if not names:
        return list(CLAIMS.values())
    unknown = [n for n in names if n not in CLAIMS]
    if unknown:
        raise ArchbenchError(f"unknown claim(s) {', '.join(map(repr, unknown))}; valid: {', '.join(CLAIMS)}")
    return [CLAIMS[n] for n in dict.fromkeys(names)]
