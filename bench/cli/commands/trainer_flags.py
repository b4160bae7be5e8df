"""Lightning Trainer pass-through flags shared by `run` and `sweep` (one big run over several devices).

`--accelerator`, `--devices`, `--strategy` and `--precision` go unchanged into `TrainConfig` and from
there to `lightning.Trainer`, so anything Lightning supports (e.g. `--devices 4 --strategy ddp`) works
without archbench knowing about it. They are checked by building a Trainer with them before any run
starts, so a setting the machine cannot honour (a GPU that is not there) is a one-line error, exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.contract.errors import ArchbenchError

TRAINER_FLAGS = ("accelerator", "devices", "strategy", "precision")


def add_trainer_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Lightning Trainer settings (stored in each record; part of the run key)")
    group.add_argument("--accelerator", help="cpu, gpu, cuda, mps, tpu or auto (default: auto)")
    group.add_argument("--devices", help="how many devices, or which: 2, 0,1, -1 (all), auto (default: auto)")
    group.add_argument("--strategy", help="e.g. ddp, ddp_spawn, fsdp, deepspeed (default: auto)")
    group.add_argument("--precision", help="e.g. 32-true, 16-mixed, bf16-mixed (default: 32-true)")


def trainer_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the user set, after Lightning has accepted them on this machine."""
    overrides = {k: getattr(args, k) for k in TRAINER_FLAGS if getattr(args, k, None) is not None}
    if overrides:
        import lightning as L

        try:
            L.Trainer(
                **overrides,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
            )
        except Exception as exc:  # Lightning's own message names the bad value and often the valid ones
            flags = " ".join(f"--{k} {v}" for k, v in overrides.items())
            raise ArchbenchError(f"Lightning rejects {flags}: {str(exc).strip().splitlines()[0]}") from None
    return overrides
