"""How the learning rate of a cell is chosen: the settings both methods share, read from a profile's
`lr_search` table or the command line (`--lr auto`, `--lr-method`, `--lr-grid`).

Two methods, both on validation seeds only (1000 and up: reported seeds 0, 1, 2 and check seeds 3, 4, 5
are refused, so the choice never fits the noise of the numbers it then reports):
- `grid` (`bench.run.lr_select`): every value of the grid trains the full budget on every validation
  seed; the validation runs are ordinary stored records.
- `halving` (`bench.run.lr_search`): synchronous successive halving over the grid, kept in an Optuna
  journal; about 2x one reported run instead of the grid's len(grid) x seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.contract.errors import ArchbenchError
from bench.results.schema import canonical_json

if TYPE_CHECKING:
    from bench.run.plan import PlannedRun

METHODS = ("grid", "halving")
VALIDATION_SEED_MIN = 1000
# method -> (grid, validation seeds) when neither the profile nor the command line names them
DEFAULTS: dict[str, tuple[tuple[float, ...], tuple[int, ...]]] = {
    "grid": ((1e-3, 3e-3, 1e-2), (1000, 1001)),
    "halving": ((1e-4, 3e-4, 1e-3, 3e-3), (1000,)),
}
DEFAULT_REDUCTION = 2


@dataclass(frozen=True)
class LrSearchSettings:
    """A method, its grid and validation seeds (empty: the method's defaults) and, for halving, eta."""

    method: str = "grid"
    grid: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    reduction_factor: int = DEFAULT_REDUCTION

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ArchbenchError(f"unknown learning-rate method {self.method!r}; valid: {', '.join(METHODS)}")
        default_grid, default_seeds = DEFAULTS[self.method]
        try:
            grid = tuple(sorted({float(lr) for lr in (self.grid or default_grid)}))
        except (TypeError, ValueError):
            raise ArchbenchError(f"the learning-rate grid needs positive numbers; got {list(self.grid)}") from None
        if not grid or any(not lr > 0 for lr in grid):
            raise ArchbenchError(f"the learning-rate grid needs positive numbers; got {list(self.grid)}")
        seeds = tuple(self.seeds or default_seeds)
        check_validation_seeds(seeds)
        eta = self.reduction_factor
        if not isinstance(eta, int) or isinstance(eta, bool) or eta < 2:
            raise ArchbenchError(f"reduction_factor must be an integer >= 2; got {eta!r}")
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "seeds", seeds)


def check_validation_seeds(seeds: Sequence[Any]) -> None:
    """One line refusing any seed below 1000 (a reported or check seed)."""
    low = [s for s in seeds if not isinstance(s, int) or isinstance(s, bool) or s < VALIDATION_SEED_MIN]
    if not seeds or low:
        raise ArchbenchError(
            f"learning-rate search seeds must be validation seeds ({VALIDATION_SEED_MIN} and up), never reported "
            f"or check seeds; got {', '.join(map(str, low)) or 'none'}"
        )


def search_settings(table: Mapping[str, Any], **overrides: Any) -> LrSearchSettings:
    """Settings from a profile's `lr_search` table, with the command line's `overrides` (None: unset)."""
    merged = {**table, **{k: v for k, v in overrides.items() if v is not None}}
    return LrSearchSettings(
        method=merged.get("method", "grid"),
        grid=tuple(merged.get("grid", ())),
        seeds=tuple(merged.get("seeds", ())),
        reduction_factor=merged.get("reduction_factor", DEFAULT_REDUCTION),
    )


def config_id(run: PlannedRun) -> str:
    """What one selection is shared by: everything about the run except its seed and learning rate."""
    train = {k: v for k, v in run.train.to_dict().items() if k != "lr"}
    return canonical_json([run.task_name, run.task.config(), run.arch, run.arch_config, train, run.label])
