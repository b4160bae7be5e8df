"""The `archbench` command line; each subcommand lives in its own module under `bench.cli.commands`.

Every user mistake is an `ArchbenchError`, printed as one line with exit status 2 before anything runs.
Ctrl-C and SIGTERM stop a command cleanly (`bench.run.interrupt`): finished runs stay stored, the run in
progress is not, the command says what it kept and exits 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from bench import __version__
from bench.cli.commands import COMMANDS
from bench.cli.commands.common import check_options
from bench.contract.errors import ArchbenchError
from bench.contract.registry import load_plugins
from bench.run.interrupt import Interrupted, handle_signals

PLUGIN_HELP = (
    "import a plugin module or .py file that registers tasks/architectures (repeatable; before or after "
    "the subcommand; also ARCHBENCH_PLUGINS=a,b and the entry-point groups archbench.tasks / archbench.architectures)"
)


def command_modules() -> dict[str, ModuleType]:
    modules = (importlib.import_module(f"bench.cli.commands.{name.replace('-', '_')}") for name in COMMANDS)
    return {module.NAME: module for module in modules}


def build_parser(modules: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="archbench",
        description="Which sequence architecture learns which synthetic task, from how many samples, how fast, "
        "and does it generalize to longer inputs?",
    )
    parser.add_argument("--version", action="version", version=f"archbench {__version__}")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE_OR_FILE", help=PLUGIN_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in (modules or command_modules()).items():
        command = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(command)
        # Its own destination: a subcommand's default would otherwise replace the plugins given before it.
        command.add_argument(
            "--plugin",
            dest="plugins_after_command",
            action="append",
            default=[],
            metavar="MODULE_OR_FILE",
            help=PLUGIN_HELP,
        )
    return parser


def parse_args(argv: Sequence[str] | None = None, modules: dict[str, ModuleType] | None = None) -> argparse.Namespace:
    """Parse; `args.plugin` holds every `--plugin`, wherever it was given, each once, in order."""
    args = build_parser(modules).parse_args(argv)
    args.plugin = list(dict.fromkeys([*args.plugin, *getattr(args, "plugins_after_command", [])]))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    modules = command_modules()
    args = parse_args(argv, modules)
    with handle_signals():
        try:
            check_options(args)
            load_plugins(args.plugin)
            return modules[args.command].main(args)
        except ArchbenchError as exc:
            print(f"archbench: error: {exc}", file=sys.stderr)
            return 2
        except Interrupted as exc:
            print(interrupted_message(exc), file=sys.stderr)
            return exc.exit_status
        except KeyboardInterrupt:  # a Ctrl-C outside the handlers' reach (e.g. raised by a library's own)
            print(
                "archbench: interrupted (SIGINT); finished runs are stored and are skipped next time", file=sys.stderr
            )
            return 130
        except BrokenPipeError:  # output piped into `head` and closed early: not an error worth a traceback
            sys.stderr.close()
            return 0


def interrupted_message(exc: Interrupted) -> str:
    """`archbench: interrupted (SIGTERM): 3 of 12 runs stored (...); interrupted, not stored: ...; run the
    same command again to resume (stored runs are skipped)`."""
    name = str(exc)
    if exc.kept is None:
        return f"archbench: interrupted ({name}); finished runs are stored and are skipped next time"
    return f"archbench: interrupted ({name}): {exc.kept.describe()}; run the same command again to resume (stored runs are skipped)"
