"""Training settings: everything about a run that is neither the task nor the model (part of the run key)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.contract.errors import require
from bench.train.schedule import check_schedule

ProgressFn = Callable[[int, int, "float | None"], None]  # (step, max_steps, last validation metric)

for _name in ("lightning", "lightning.pytorch", "lightning.fabric"):
    logging.getLogger(_name).setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*IterableDataset.*__len__.*")
warnings.filterwarnings("ignore", message=".*LeafSpec.*")


OPTIMIZERS = ("adamw", "sgd")
# Fields added after runs were stored, with the value those runs used: `to_dict` (the record's
# `train_config`, and so the run key) leaves such a field out while it has that value, so every stored
# run keeps its key and a new setting makes a new key only where it is used.
KEY_NEUTRAL_DEFAULTS: dict[str, Any] = {"optimizer": "adamw", "schedule": "constant", "warmup_steps": 0}


@dataclass
class TrainConfig:
    """Everything about training that is not the task or the model (part of the run key)."""

    steps: int = 2000  # optimizer-step budget; training stops earlier once solved (early_stop)
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    n_train: int | None = None  # None: online, a fresh batch every step; else a fixed training set
    eval_every: int = 100  # validation every this many steps, and where the budget ends
    val_samples: int = 512
    test_samples: int = 1024
    early_stop: bool = True  # stop at the first validation reaching the task's solved_at
    accelerator: str = "auto"
    devices: str = "auto"
    precision: str = "32-true"
    strategy: str = "auto"  # Lightning strategy, e.g. "ddp" over several devices
    # Added after schema 2: in the key only when not at their default (`KEY_NEUTRAL_DEFAULTS`).
    schedule: str = (
        "constant"  # learning-rate schedule (`bench.train.schedule`): constant, warmup_cosine, warmup_constant
    )
    warmup_steps: int = 0  # linear warmup over this many optimizer steps (warmup_* schedules)
    # "adamw", or "sgd": plain (stochastic) gradient descent, lr times the batch gradient, no momentum,
    # weight_decay as an L2 term (the optimiser of Wang, Wei, Hsu, Lee 2024; `profiles.toml` seed-paper)
    optimizer: str = "adamw"

    def __post_init__(self) -> None:
        for key in ("steps", "batch_size", "eval_every", "val_samples", "test_samples"):
            require(getattr(self, key) > 0, f"{key} must be > 0; got {getattr(self, key)}")
        require(self.lr > 0, f"lr must be > 0; got {self.lr}")
        require(self.n_train is None or self.n_train > 0, f"n_train must be > 0; got {self.n_train}")
        check_schedule(self.schedule, self.warmup_steps, self.steps)
        require(
            self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every setting, except one of `KEY_NEUTRAL_DEFAULTS` at its neutral value (see there): the dict is
        what the run key hashes and what a record stores, so a run planned with the defaults keeps the key
        (and the stored record) it had before the field existed."""
        return {k: v for k, v in asdict(self).items() if KEY_NEUTRAL_DEFAULTS.get(k, _ABSENT) != v}


_ABSENT = object()
