"""`archbench reproduce`: run the papers' headline claims (`bench.claims`) through the normal harness and
judge each one: reproduced, not reproduced or inconclusive, with our figure and its 95% interval.

Runs are planned by `bench.runner.plan` and stored like any other, so `publish` and `results` show them
and a second invocation only judges what is already stored.
"""
from __future__ import annotations

import argparse
import sys

from bench.commands.common import invoked_command
from bench.profiles import get_profile
from bench.records import DEFAULT_ROOT, RecordStore

NAME = "reproduce"
HELP = "run the theory papers' headline claims and say which ones reproduce"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("claims", nargs="*", metavar="CLAIM", help="claims to run (default: all; see --list)")
    parser.add_argument("--profile", default="quick", help="budget profile: quick (CPU, minutes per claim) or paper (default: quick)")
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the planned runs per claim without training")
    parser.add_argument("--write-doc", metavar="PATH", help="also write the verdicts as a markdown page (e.g. docs/REPRODUCTIONS.md)")
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from bench.claims import get_claims, judge, plan_claim

    claims = get_claims(args.claims)
    if args.list:
        print(tabulate([[c.name, c.paper, c.claim] for c in claims], headers=["claim", "paper", "claim in one sentence"],
                       tablefmt=args.format, disable_numparse=True))
        return 0
    profile = get_profile(args.profile)
    plans = {claim.name: plan_claim(claim, profile) for claim in claims}  # every claim validated before any training
    store = RecordStore(args.results)
    if args.dry_run:
        from bench.runner import split_stored

        rows = []
        for claim in claims:
            runs = [run for arm_runs in plans[claim.name].values() for run in arm_runs]
            stored, _ = split_stored(runs, store)
            rows.append([claim.name, claim.task, ", ".join(f"{arm} x{len(r)}" for arm, r in plans[claim.name].items()),
                         len(runs), len(stored), runs[0].train.steps])
        print(tabulate(rows, headers=["claim", "task", "arms x seeds", "runs", "stored", "steps"], tablefmt=args.format,
                       disable_numparse=True))
        print(f"\nprofile {profile.name}: {sum(r[3] for r in rows)} runs planned, {sum(r[4] for r in rows)} already stored "
              f"in {store.root}/ (runs shared by claims are counted once per claim)")
        return 0

    from bench.reproductions import render_doc, verdict_table
    from bench.runner import execute_with_progress

    command = invoked_command()
    verdicts, failed = [], []
    for claim in claims:
        print(f"{claim.name}: {claim.claim}", file=sys.stderr)
        arms = plans[claim.name]
        runs = [run for arm_runs in arms.values() for run in arm_runs]
        records = iter(execute_with_progress(runs, store, command=command))
        by_arm = {arm: [next(records) for _ in arm_runs] for arm, arm_runs in arms.items()}
        failed += [r for rs in by_arm.values() for r in rs if r["status"] != "ok"]
        verdicts.append(judge(claim, by_arm))
    print(f"\nprofile {profile.name}; records in {store.root}/\n")
    print(verdict_table(verdicts, args.format))
    if args.write_doc:
        from bench.atomic import write_text

        write_text(args.write_doc, render_doc(verdicts, profile.name, command))
        print(f"\nwrote {args.write_doc}")
    for record in failed:
        print(f"archbench: run failed: {record.get('label', record['arch'])} seed {record['seed']}: {record['error']}", file=sys.stderr)
    return 1 if failed else 0
