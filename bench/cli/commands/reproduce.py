"""`archbench reproduce`: run the papers' headline claims (`bench.claims.catalogue`) through the normal harness and
judge each one: reproduced, not reproduced or inconclusive, with our figure and its 95% interval.

Runs are planned by `bench.run.plan.plan` and stored like any other, so `publish` and `results` show them
and a second invocation only judges what is already stored.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.cli.commands.common import add_threads_argument, invoked_command, parse_seeds, use_threads
from bench.results.schema import DEFAULT_ROOT, RunRecord
from bench.results.store import RecordStore
from bench.run.profiles import get_profile

NAME = "reproduce"
HELP = "run the theory papers' headline claims and say which ones reproduce"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("claims", nargs="*", metavar="CLAIM", help="claims to run (default: all; see --list)")
    parser.add_argument(
        "--profile",
        default="claims",
        help="budget profile: claims (CPU, minutes per claim) or paper (default: claims)",
    )
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the planned runs per claim without training")
    parser.add_argument(
        "--follow-ups",
        action="store_true",
        help="for a claim that does not reproduce, also run its follow-up (a larger budget) and judge it",
    )
    parser.add_argument(
        "--write-doc",
        metavar="PATH",
        help="also write the verdicts as a markdown page (e.g. docs/REPRODUCTIONS.md), with one plot per "
        "claim in a folder named after the page (needs the plots extra)",
    )
    parser.add_argument(
        "--seeds",
        help="comma-separated seeds replacing every claim's (e.g. 3,4,5: recheck the verdicts on fresh seeds; "
        "default: each claim's budget, else the profile's)",
    )
    parser.add_argument("--format", default="github", help="tabulate table format (default: github)")
    add_threads_argument(parser)


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from bench.claims.catalogue import get_claims
    from bench.claims.model import plan_claim

    claims = get_claims(args.claims)
    if args.list:
        print(
            tabulate(
                [[c.name, c.paper, c.claim] for c in claims],
                headers=["claim", "paper", "claim in one sentence"],
                tablefmt=args.format,
                disable_numparse=True,
            )
        )
        return 0
    profile = get_profile(args.profile)
    seeds = parse_seeds(args.seeds)
    plans = {
        claim.name: plan_claim(claim, profile, seeds=seeds) for claim in claims
    }  # every claim validated before any training
    store = RecordStore(args.results)
    if args.dry_run:
        from bench.run.execute import split_stored

        rows = []
        for claim in claims:
            runs = [run for arm_runs in plans[claim.name].values() for run in arm_runs]
            stored, _ = split_stored(runs, store)
            rows.append(
                [
                    claim.name,
                    claim.task,
                    ", ".join(f"{arm} x{len(r)}" for arm, r in plans[claim.name].items()),
                    len(runs),
                    len(stored),
                    runs[0].train.steps,
                ]
            )
        print(
            tabulate(
                rows,
                headers=["claim", "task", "arms x seeds", "runs", "stored", "steps"],
                tablefmt=args.format,
                disable_numparse=True,
            )
        )
        print(
            f"\nprofile {profile.name}: {sum(r[3] for r in rows)} runs planned, {sum(r[4] for r in rows)} already stored "
            f"in {store.root}/ (runs shared by claims are counted once per claim)"
        )
        return 0

    from bench.claims.render import Outcome, verdict_table
    from bench.claims.rules import REPRODUCED

    follow_ups = {
        c.name: c.follow_ups[profile.name] for c in claims if args.follow_ups and profile.name in c.follow_ups
    }
    follow_plans = {
        c.name: plan_claim(c, profile, follow_ups[c.name], seeds) for c in claims if c.name in follow_ups
    }  # validated up front
    use_threads(args.threads)
    command = invoked_command()
    outcomes: list[Any] = []
    failed: list[RunRecord] = []
    for claim in claims:
        print(f"{claim.name}: {claim.claim}", file=sys.stderr)
        verdict, records = _run_and_judge(claim, plans[claim.name], store, command, failed)
        outcome = Outcome(verdict, records)
        if verdict.verdict != REPRODUCED and claim.name in follow_ups:
            print(f"{claim.name}: {verdict.verdict}; follow-up: {follow_ups[claim.name].why}", file=sys.stderr)
            f_verdict, f_records = _run_and_judge(claim, follow_plans[claim.name], store, command, failed)
            outcome = Outcome(verdict, records, follow_ups[claim.name], f_verdict, f_records)
        outcomes.append(outcome)
    print(f"\nprofile {profile.name}; records in {store.root}/\n")
    print(verdict_table([o.verdict for o in outcomes], args.format))
    tried = [o.follow_up_verdict for o in outcomes if o.follow_up_verdict]
    if tried:
        print("\nfollow-ups (larger budgets, for claims that did not reproduce):\n")
        print(verdict_table(tried, args.format))
    if args.write_doc:
        _write_doc(args.write_doc, outcomes, plans, profile.name, command)
    for record in failed:
        print(
            f"archbench: run failed: {record.get('label', record['arch'])} seed {record['seed']}: {record['error']}",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _run_and_judge(
    claim: Any, arms: dict[str, list[Any]], store: Any, command: str, failed: list[RunRecord]
) -> tuple[Any, dict[str, list[RunRecord]]]:
    """Run (or find stored) every arm's runs, then judge the claim on them."""
    from bench.claims.model import judge
    from bench.run.execute import execute_with_progress

    runs = [run for arm_runs in arms.values() for run in arm_runs]
    records = iter(execute_with_progress(runs, store, command=command))
    by_arm = {arm: [next(records) for _ in arm_runs] for arm, arm_runs in arms.items()}
    failed += [r for rs in by_arm.values() for r in rs if r["status"] != "ok"]
    return judge(claim, by_arm), by_arm


def _write_doc(
    path: str, outcomes: list[Any], plans: dict[str, dict[str, list[Any]]], profile: str, command: str
) -> None:
    """The page, and one length plot per claim in `<page stem>/` beside it (skipped, with a note, without
    matplotlib)."""
    from pathlib import Path

    from bench.claims.render import claim_plot, render_doc
    from bench.contract.errors import ArchbenchError
    from bench.results.atomic import write_text

    page = Path(path)
    plots: dict[str, str] = {}
    for outcome in outcomes:
        claim = outcome.verdict.claim
        run = next(iter(plans[claim.name].values()))[0]
        target = page.parent / page.stem.lower() / f"{claim.name}.png"
        try:
            claim_plot(
                target,
                f"{claim.name}: {claim.task}",
                outcome.records,
                run.task.length,
                getattr(run.task, "chance", None),
                run.task.solved_at,
                run.task.metric,
            )
        except ArchbenchError as error:  # matplotlib missing: the page goes without plots
            print(f"archbench: {error}; writing the page without plots", file=sys.stderr)
            break
        plots[claim.name] = target.relative_to(page.parent).as_posix()
    write_text(path, render_doc(outcomes, profile, command, plots))
    print(f"\nwrote {path}" + (f" and {len(plots)} plots in {page.parent / page.stem.lower()}/" if plots else ""))
