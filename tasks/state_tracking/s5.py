"""state_s5: running composition of permutations of 5 elements (S5, 120 elements).

S5 is non-solvable: its word problem is NC^1-complete, so fixed-depth transformers and SSMs cannot express
it at every length (Merrill 2024). Chance 1/120. See `tasks.state_tracking.base` for the layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.contract.registry import register_task
from tasks.state_tracking.base import PermutationGroup


@register_task("state_s5")
@dataclass
class StateS5(PermutationGroup):
    """Running composition of permutations in S5 at every position (Merrill 2024; Grazzi 2024)."""

    even_only = False
