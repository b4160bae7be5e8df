"""state_a5: running composition of even permutations of 5 elements (A5, 60 elements).

A5 is the simple non-abelian subgroup of S5 that makes S5's word problem hard (Merrill 2024). Chance 1/60.
See `tasks.state_tracking.base` for the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.contract.registry import register_task
from tasks.state_tracking.base import PermutationGroup


@register_task("state_a5")
@dataclass
class StateA5(PermutationGroup):
    """Running composition of even permutations in A5 at every position (Merrill 2024)."""

    even_only = True
