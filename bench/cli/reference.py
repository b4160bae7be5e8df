"""docs/cli.md, generated from the `archbench` argument parser, so the CLI reference cannot drift from the code.

    python -m bench.cli.reference            # write docs/cli.md
    python -m bench.cli.reference --check    # exit 1 if the committed docs/cli.md differs from the parser

Why not argparse's `format_help()`: its text depends on the terminal width and on the Python version
(the heading "optional arguments" became "options" in 3.10, 3.13 prints a shared metavar once, 3.14
adds colour), so a page made from it would differ between a developer's machine and CI. This module
reads the parser's actions instead and renders a fixed layout: per command a synopsis wrapped at
`WIDTH` columns and a table of its arguments, with the help texts exactly as written in the command
modules. Nothing here runs a command.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from types import ModuleType

from bench.cli.main import build_parser, command_modules

WIDTH = 100  # synopsis lines wrap here, whatever the terminal
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
REGENERATE = "python -m bench.cli.reference"


def _metavar(action: argparse.Action) -> str:
    """What follows an option on the command line, as argparse itself would name it."""
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest if not action.option_strings else action.dest.upper()


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _usage_part(action: argparse.Action) -> str:
    """One action in the synopsis: `NAME [NAME ...]`, `[--force]`, `--task TASK`, `[--set KEY=VALUE]`."""
    metavar = _metavar(action)
    if not action.option_strings:  # positional
        if action.nargs == "+":
            return f"{metavar} [{metavar} ...]"
        if action.nargs == "*":
            return f"[{metavar} ...]"
        if action.nargs == "?":
            return f"[{metavar}]"
        return metavar
    flag = max(action.option_strings, key=len)  # the long form reads better in a synopsis
    text = f"{flag} {metavar}" if _takes_value(action) else flag
    return text if action.required else f"[{text}]"


def _visible(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's arguments without `-h/--help`, the sub-command dispatcher and suppressed ones."""
    return [
        a
        for a in parser._actions
        if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) and a.help != argparse.SUPPRESS
    ]


def synopsis(prog: str, parser: argparse.ArgumentParser, tail: str = "") -> str:
    """`prog` followed by every argument, wrapped at WIDTH with a hanging indent."""
    parts = [_usage_part(a) for a in _visible(parser)] + ([tail] if tail else [])
    indent = " " * (len(prog) + 1)
    lines = [prog]
    for part in parts:  # an argument is never split across lines; one longer than WIDTH gets a line of its own
        if len(lines[-1]) + 1 + len(part) > WIDTH and lines[-1].strip():
            lines.append(indent + part)
        else:
            lines[-1] += " " + part
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Table-safe text: one line, `|` escaped (GitHub tables split on it, even inside code spans)."""
    return " ".join(text.split()).replace("|", "\\|")


def argument_table(parser: argparse.ArgumentParser) -> str:
    rows = ["| argument | value | description |", "|---|---|---|"]
    for action in _visible(parser):
        name = ", ".join(f"`{s}`" for s in action.option_strings) if action.option_strings else f"`{_metavar(action)}`"
        value = f"`{_metavar(action)}`" if _takes_value(action) and action.option_strings else ""
        if action.nargs in ("+", "*"):
            value = "one or more" if action.nargs == "+" else "zero or more"
        help_text = (action.help or "") % {"default": action.default, "prog": parser.prog}
        if action.required and action.option_strings:
            help_text = "**required**; " + help_text
        rows.append(f"| {_cell(name)} | {_cell(value)} | {_cell(help_text)} |")
    return "\n".join(rows)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render(modules: dict[str, ModuleType] | None = None) -> str:
    """The whole page: the global options, then one section per subcommand in the order `archbench -h` lists them."""
    modules = modules or command_modules()
    parser = build_parser(modules)
    commands = _subparsers(parser)
    out = [
        "# archbench command line",
        "",
        f"Generated from the argument parser by `{REGENERATE}`; do not edit by hand "
        "(`tests/test_docs.py` fails when this page and the parser disagree). `python -m bench ...` is the same "
        "as `archbench ...`. A user mistake (an unknown name, a bad value) is one line naming it and the valid "
        "choices, exit status 2, nothing written.",
        "",
        "## archbench",
        "",
        inspect.cleandoc(parser.description or ""),
        "",
        "```",
        synopsis("archbench", parser, tail="COMMAND ..."),
        "```",
        "",
        argument_table(parser),
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{name}`](#archbench-{name}) | {_cell(modules[name].HELP)} |" for name in commands),
    ]
    for name, sub in commands.items():
        module = modules[name]
        out += [
            "",
            f"## archbench {name}",
            "",
            inspect.cleandoc(module.__doc__ or module.HELP),
            "",
            "```",
            synopsis(f"archbench {name}", sub),
            "```",
            "",
            argument_table(sub),
        ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description="Write docs/cli.md from the archbench parser.")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the parser, write nothing"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH, help="page to write or check (default: docs/cli.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
        if current != text:
            print(f"{args.out} is out of date with the argument parser; run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
