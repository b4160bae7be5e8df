"""state_cyclic: the running sum mod m (Z_m, `modulus`), the abelian control of the state-tracking tasks.

Chance 1/m. See `tasks.state_tracking.base` for the layout and the sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.contract.errors import require
from bench.contract.registry import register_task
from tasks.state_tracking.base import CyclicGroup


@register_task("state_cyclic")
@dataclass
class StateCyclic(CyclicGroup):
    """Running sum mod `modulus` (the cyclic group Z_m) at every position (Merrill 2024)."""

    modulus: int = 5

    def __post_init__(self) -> None:
        require(
            self.modulus >= 2,
            f"task {self.name!r}: modulus must be >= 2 (the cyclic group Z_modulus); got {self.modulus}",
        )
        super().__post_init__()

    @property
    def order(self) -> int:
        return self.modulus
