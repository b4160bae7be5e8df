"""`archbench check-arch`: hold architectures, built-in or plugin, to the architecture contract.

Prints one row per architecture (pass / FAIL / skip per rule, parameters and state size) and one line
per failed or skipped rule saying why. Exit status 0 when every architecture passes, 1 when any rule
fails, 2 for a user mistake (unknown name, preset or hyper-parameter).
"""

from __future__ import annotations

import argparse

from tabulate import tabulate

from bench.contract.errors import ArchbenchError
from bench.contract.registry import get_architecture, list_architectures
from bench.run.contract_checks import (
    CHECKS,
    SIZE_SPEC,
    SPECS,
    Report,
    check_architecture,
)

NAME = "check-arch"
HELP = "check architectures against the contract: shape, causality (eval and train mode), determinism, gradients, lengths, size"
CELL = {"pass": "pass", "fail": "FAIL", "skip": "skip"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="+", metavar="NAME", help="architecture name, glob such as 'l*', or 'all'")
    parser.add_argument("--preset", help="size preset (default: tiny where the architecture has it, else its defaults)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="architecture hyper-parameter, e.g. --set causal=false or --set pos=learned (repeatable)",
    )
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")


def main(args: argparse.Namespace) -> int:
    names = resolve_names(args.names)
    overrides = parse_overrides(args.set)
    reports = [check_architecture(name, args.preset, overrides) for name in names]
    print(report_table(reports, args.format))
    for line in reason_lines(reports):
        print(line)
    passed = sum(r.passed for r in reports)
    print(
        f"\n{passed} of {len(reports)} architecture(s) pass the contract "
        f"(specs: {', '.join(SPECS)}; sizes on {SIZE_SPEC}, T={SPECS[SIZE_SPEC].seq_len}; a family bound to an "
        "input layout is checked on that layout's spec instead)"
    )
    return 0 if passed == len(reports) else 1


def resolve_names(patterns: list[str]) -> list[str]:
    """Names, globs and `all` -> registered names in order, each once; no match is a user error."""
    names: list[str] = []
    for pattern in patterns:
        if pattern == "all" or any(c in pattern for c in "*?["):
            matched = list_architectures("*" if pattern == "all" else pattern)
            if not matched:
                raise ArchbenchError(
                    f"no registered architecture matches {pattern!r}; registered: {', '.join(list_architectures())}"
                )
        else:
            matched = [get_architecture(pattern).name]  # unknown name: error with the closest match
        names.extend(n for n in matched if n not in names)
    return names


def parse_overrides(items: list[str]) -> dict[str, str]:
    """`KEY=VALUE` (or `arch.KEY=VALUE`, as `run` spells it) -> {KEY: VALUE}; types are coerced by the registry."""
    overrides: dict[str, str] = {}
    for item in items:
        key, eq, value = item.removeprefix("arch.").partition("=")
        if not key or not eq:
            raise ArchbenchError(f"--set expects KEY=VALUE; got {item!r}")
        overrides[key] = value
    return overrides


def report_table(reports: list[Report], fmt: str = "github") -> str:
    rows = []
    for report in reports:
        cells = [CELL[report.status(check)] for check in CHECKS]
        state = "n/a" if report.state_size is None else f"{report.state_size:,}"
        params = "-" if report.parameters is None else f"{report.parameters:,}"
        rows.append(
            [
                report.arch,
                *cells,
                params,
                state if report.parameters is not None else "-",
                "pass" if report.passed else "FAIL",
            ]
        )
    return tabulate(rows, headers=["architecture", *CHECKS, "parameters", "state size", "result"], tablefmt=fmt)


def reason_lines(reports: list[Report]) -> list[str]:
    """One line per failed or skipped rule: `arch: rule FAIL: why`."""
    return [
        f"{report.arch}: {result.name} {CELL[result.status]}: {result.reason}"
        for report in reports
        for result in report.results
        if result.status != "pass"
    ]
