"""Learning-rate and logger flags shared by `run` and `sweep`.

`--lr VALUE` fixes the learning rate; `--lr auto` chooses it per cell on validation seeds by the method of
`--lr-method` (or the profile's `lr_search` table, or `grid`); a profile with an `lr_search` table
(`standard`) chooses it without being asked, unless `--lr VALUE` is given. `--logger` adds a Lightning
logger to every run (curves under `--log-dir`); the search's partial runs are never logged.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cli.commands.common import parse_csv
from bench.contract.errors import ArchbenchError
from bench.run.lr_config import DEFAULTS, METHODS, LrSearchSettings, search_settings
from bench.train.loggers import LOGGERS, LogTarget, check_logger

if TYPE_CHECKING:
    from bench.run.profiles import Profile

DEFAULT_LOG_DIR = "results/logs"


def add_lr_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("learning rate")
    grid_default = ",".join(f"{v:g}" for v in DEFAULTS["grid"][0])
    halving_default = ",".join(f"{v:g}" for v in DEFAULTS["halving"][0])
    group.add_argument(
        "--lr",
        help="learning rate, or `auto`: choose it per task x architecture on validation seeds (1000 and up, never "
        "the reported or check seeds) and store the choice in the records (default: the profile's; a profile "
        "with an lr_search table, such as standard, chooses it by its method)",
    )
    group.add_argument(
        "--lr-method",
        choices=METHODS,
        help="how --lr auto chooses: grid (every value, full budget, validation seeds 1000,1001) or halving "
        "(synchronous successive halving on seed 1000, about 2x one run, resumable; see docs) (default: the "
        "profile's lr_search method, else grid)",
    )
    group.add_argument(
        "--lr-grid",
        help=f"learning rates tried (default: the profile's, else {grid_default} for grid, {halving_default} for halving)",
    )


def lr_settings(args: argparse.Namespace, profile: Profile) -> LrSearchSettings | None:
    """The learning-rate search these flags and the profile ask for; None: a fixed learning rate."""
    grid = parse_csv(args.lr_grid, float) if args.lr_grid else None
    if args.lr not in (None, "auto"):
        if args.lr_method or args.lr_grid:
            raise ArchbenchError(
                "--lr-method and --lr-grid choose a learning rate; they need --lr auto, not --lr VALUE"
            )
        return None
    if args.lr is None and not profile.lr_search:
        if args.lr_method or args.lr_grid:
            raise ArchbenchError(
                f"--lr-method and --lr-grid need --lr auto (profile {profile.name!r} has no lr_search table)"
            )
        return None
    table = dict(profile.lr_search)
    if args.lr_method and args.lr_method != table.get("method"):
        table = {"method": args.lr_method}  # another method: the profile's grid and seeds were for its own
    return search_settings(table, grid=grid)


def add_logger_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training curves")
    group.add_argument(
        "--logger",
        choices=LOGGERS,
        help="also log every run's training loss, learning rate and validation curves with this Lightning "
        "logger (tensorboard and wandb need their package; wandb runs offline unless WANDB_MODE is set) "
        "(default: none)",
    )
    group.add_argument(
        "--log-dir",
        default=DEFAULT_LOG_DIR,
        help=f"where --logger writes: DIR/TASK/LABEL/seedN-KEY (default: {DEFAULT_LOG_DIR})",
    )


def log_target(args: argparse.Namespace) -> LogTarget | None:
    """The logger the flags name, checked (installed) before any run starts; None without --logger."""
    if args.logger is None:
        return None
    check_logger(args.logger)
    return LogTarget(args.logger, str(Path(args.log_dir)))
