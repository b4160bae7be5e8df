"""One (colour, marker) pair per architecture family, and the order families are listed in, both derived
from the architecture registry.

Why derived: a hand-written family list goes stale the day a family is added (it then falls back to a
shared default, which is how two families ended up as the same blue circles). Here the registered names,
sorted, are the order; family i gets colour `i mod 10` and marker `i mod 9`. Ten and nine are coprime, so
the first 90 families all get different pairs (and neighbours differ in both colour and marker).
Families a chart shows that are not registered now (records of a plugin that is not loaded) come after
the registered ones, sorted, continuing the same cycle. The colours are matplotlib's tab10 with its grey
replaced by near-black (grey would read as one of the grey reference lines); they are written out as hex
so this module needs no matplotlib.
"""

from __future__ import annotations

from collections.abc import Iterable

from bench.contract.registry import list_architectures

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#1a1a1a", "#bcbd22", "#17becf")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">")


def family_order(extra: Iterable[str] = ()) -> list[str]:
    """The registered families sorted by name, then any of `extra` not registered, sorted."""
    registered = list_architectures()
    known = set(registered)
    return registered + sorted({family for family in extra if family not in known})


def family_styles(extra: Iterable[str] = ()) -> dict[str, tuple[str, str]]:
    """`family -> (colour, marker)` for every registered family and every family in `extra`."""
    return {
        family: (COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]) for i, family in enumerate(family_order(extra))
    }
