"""Lightning loggers for a user who wants to look at training curves (`--logger csv|tensorboard|wandb`).

Off by default: nothing archbench computes reads them, and logging costs time. When one is chosen, the
harness logs the training loss and learning rate once per group of optimizer steps and the validation
metric and loss at every validation; each run writes under `<root>/<task>/<label>/seed<seed>-<key>`,
the key telling apart runs of one label that differ only in a training setting (the learning rate).
Weights & Biases runs offline unless the user has set `WANDB_MODE` (nothing leaves the machine without
asking; `wandb sync` uploads later). TensorBoard and W&B are optional packages: choosing one that is not
installed is a one-line error before any run starts.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.contract.errors import ArchbenchError

if TYPE_CHECKING:
    from lightning.pytorch.loggers import Logger

LOGGERS = ("csv", "tensorboard", "wandb")
# the packages each logger needs beyond Lightning (any one of them), and the install hint
NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "tensorboard": (("tensorboard", "tensorboardX"), "pip install tensorboard"),
    "wandb": (("wandb",), "pip install wandb"),
}


@dataclass(frozen=True)
class LogTarget:
    """Which logger and where (picklable, so it travels to worker processes; the logger is made there)."""

    kind: str
    root: str


def check_logger(kind: str) -> None:
    """A one-line error for an unknown logger or one whose package is not installed."""
    if kind not in LOGGERS:
        raise ArchbenchError(f"unknown logger {kind!r}; valid: {', '.join(LOGGERS)}")
    packages, hint = NEEDS.get(kind, ((), ""))
    if packages and not any(importlib.util.find_spec(p) is not None for p in packages):
        raise ArchbenchError(f"--logger {kind} needs the {packages[0]} package, which is not installed: {hint}")


def run_folder(task: str, label: str, seed: int, key: str) -> tuple[str, str]:
    """(name, version) of one run's log folder: `task/label` and `seed<seed>-<key prefix>`."""
    safe = re.sub(r"[^A-Za-z0-9_.=,\-\[\]]+", "_", label)
    return f"{task}/{safe}", f"seed{seed}-{key[:10]}"


def make_logger(target: LogTarget, name: str, version: str) -> Logger:
    """The Lightning logger `target` names, writing under `target.root/name/version`."""
    check_logger(target.kind)
    root = Path(target.root)
    if target.kind == "csv":
        from lightning.pytorch.loggers import CSVLogger

        return CSVLogger(root, name=name, version=version)
    if target.kind == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        return TensorBoardLogger(root, name=name, version=version, default_hp_metric=False)
    os.environ.setdefault("WANDB_MODE", "offline")
    from lightning.pytorch.loggers import WandbLogger

    (root / name).mkdir(parents=True, exist_ok=True)
    return WandbLogger(name=f"{name}/{version}", save_dir=str(root / name), project="archbench")
