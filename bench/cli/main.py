"""The `archbench` command line; each subcommand lives in its own module under `bench.cli.commands`.

Every user mistake is an `ArchbenchError`, printed as one line with exit status 2 before anything runs.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType
from typing import Sequence

from bench.cli.commands import COMMANDS
from bench.contract.errors import ArchbenchError
from bench.contract.registry import load_plugins


def command_modules() -> dict[str, ModuleType]:
    modules = (importlib.import_module(f"bench.cli.commands.{name.replace('-', '_')}") for name in COMMANDS)
    return {module.NAME: module for module in modules}


def build_parser(modules: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archbench",
        description="Which sequence architecture learns which synthetic task, from how many samples, how fast, "
        "and does it generalize to longer inputs?",
    )
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE",
                        help="import a plugin module or .py file that registers tasks/architectures (repeatable; "
                        "also ARCHBENCH_PLUGINS=a,b and the entry-point groups archbench.tasks / archbench.architectures)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in (modules or command_modules()).items():
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.__doc__))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    modules = command_modules()
    args = build_parser(modules).parse_args(argv)
    try:
        load_plugins(args.plugin)
        return modules[args.command].main(args)
    except ArchbenchError as exc:
        print(f"archbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archbench: interrupted; finished runs are recorded and will be skipped next time", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error worth a traceback
        sys.stderr.close()
        return 0
