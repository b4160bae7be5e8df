"""state_parity: the running XOR of a bit string (Z_2), the solvable control of the state-tracking tasks.

Chance 1/2. See `tasks.state_tracking.base` for the layout and the sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.contract.registry import register_task
from tasks.state_tracking.base import CyclicGroup


@register_task("state_parity")
@dataclass
class StateParity(CyclicGroup):
    """Running parity (XOR) of a bit string at every position (Merrill 2024; Grazzi 2024)."""

    @property
    def order(self) -> int:
        return 2
