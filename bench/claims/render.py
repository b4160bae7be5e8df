"""Render claim verdicts as text: the `reproduce` command's table and the `docs/REPRODUCTIONS.md` page.

Kept apart from the rules (`bench.claims.rules`), the claim model and the catalogue so that the verdicts stay
pure data and presentation can change without touching what decides them. Every measured number on the
page comes from the stored records through `bench.results.measures`; the catalogue's prose carries none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.claims.model import ClaimVerdict, FollowUp, describe_budget, ok_runs
from bench.contract.metrics import get_metric
from bench.results import measures
from bench.results.stats import mean_ci

Records = Mapping[str, Sequence[Mapping[str, Any]]]  # arm name -> its run records


@dataclass(frozen=True)
class Outcome:
    """A claim's verdict at the profile's budget, its records, and the follow-up tried when it did not
    reproduce (with its own verdict and records), if any."""

    verdict: ClaimVerdict
    records: Records
    follow_up: FollowUp | None = None
    follow_up_verdict: ClaimVerdict | None = None
    follow_up_records: Records | None = None


def claim_plot(
    path: str | Path,
    title: str,
    records: Records,
    train_length: int,
    chance: float | None,
    solved_at: float | None,
    metric: str,
) -> Path:
    """Each arm's metric against the test length (mean and 95% band over seeds): the picture behind a
    verdict, whether it compares lengths or only the training length."""
    from bench.report.plots import Series, curve_plot

    series = []
    for arm, arm_records in records.items():
        metrics = [r["metrics"] for r in ok_runs(arm_records)]
        lengths = sorted({int(k) for m in metrics for k in m.get("by_length") or {}})
        estimates = [_estimate([measures.at_length(m, n) for m in metrics]) for n in lengths]
        family = arm_records[0]["arch"] if arm_records else arm
        series.append(
            Series(
                arm,
                family,
                lengths,
                [e.mean if e else None for e in estimates],
                [e.low if e else None for e in estimates],
                [e.high if e else None for e in estimates],
            )
        )
    scale = get_metric(metric)  # its plot range (r2: drawn down to -1, see bench.contract.metrics)
    return curve_plot(
        path,
        series,
        title=title,
        xlabel="test length",
        ylabel=metric,
        chance=chance,
        solved_at=solved_at,
        train_x=train_length,
        floor=scale.low,
        ceiling=scale.high,
    )


def _estimate(values: Sequence[float | None]) -> Any:
    present = [v for v in values if v is not None]
    return mean_ci(present) if present else None


def arm_table(records: Records) -> str:
    """Per arm, from its successful runs: seeds, seeds solved, the median samples to solve (unsolved seeds
    count as infinite) and the mean metric with its 95% interval at every evaluated length (the training
    length marked). The figures a claim's note explains in words."""
    runs = {arm: ok_runs(arm_records) for arm, arm_records in records.items()}
    lengths = sorted({int(k) for rs in runs.values() for r in rs for k in r["metrics"].get("by_length") or {}})
    trained = {
        int(r["task_config"]["length"]) for rs in runs.values() for r in rs if "length" in (r.get("task_config") or {})
    }
    headers = [
        "arm",
        "seeds",
        "solved",
        "median samples to solve",
        *(f"length {n}" + (" (trained)" if n in trained else "") for n in lengths),
    ]
    rows = []
    for arm, rs in runs.items():
        metrics = [r["metrics"] for r in rs]
        done, total = measures.solved_count(metrics)
        cells = []
        for n in lengths:
            estimate = _estimate([measures.at_length(m, n) for m in metrics])
            cells.append(estimate.interval_text() if estimate else "n/a")
        rows.append([arm, total, f"{done}/{total}", measures.median_to_solve(metrics) if metrics else "", *cells])
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def verdict_table(verdicts: Sequence[ClaimVerdict], tablefmt: str = "github") -> str:
    """One row per claim: name, the paper's figure, ours (intervals and seed counts), the verdict and why."""
    rows = [
        [v.claim.name, v.claim.paper_figure, v.figure, v.verdict + (f" ({v.reasons})" if v.reasons else "")]
        for v in verdicts
    ]
    return tabulate(
        rows,
        headers=["claim", "paper's figure", "our figure (95% CI, n seeds)", "verdict"],
        tablefmt=tablefmt,
        disable_numparse=True,
    )


def render_doc(outcomes: Sequence[Outcome], profile: str, command: str, plots: Mapping[str, str] | None = None) -> str:
    """The REPRODUCTIONS.md page: a summary table, then per claim the paper, its claim and figure, ours,
    the verdict with its reason, the plot, what was tried when it did not reproduce, and the command."""
    plots = plots or {}
    lines = [
        "# Reproductions",
        "",
        f"Generated by `{command}` (profile `{profile}`). Each claim is run through the normal harness "
        "(records in the results directory) and judged by its rules (`bench/claims/rules.py`; one module per claim "
        "in `bench/claims/catalogue/`): **reproduced** when "
        "the claimed ordering holds beyond the 95% interval, **not reproduced** when the interval shows the "
        "opposite (or no separation), **inconclusive** otherwise or with fewer than two seeds. A claim that "
        "does not reproduce at the profile's budget gets its follow-up (a larger budget, stated) judged by the "
        "same rules.",
        "",
        "Every figure below is computed from the stored records (`bench/results/measures.py`, the definitions the "
        "leaderboard uses). Median samples to solve: over seeds, unsolved seeds count as infinite, so it reads "
        "`> N` (N the most samples any seed saw) when half or more of the seeds did not solve. The sample "
        "comparison (`FewerSamples`) instead counts an unsolved seed at the samples it saw, a lower bound, "
        "which can only favour the arm that did not solve.",
        "",
        "| claim | paper | verdict | follow-up |",
        "|---|---|---|---|",
        *(
            f"| [{o.verdict.claim.name}](#{o.verdict.claim.name}) | {o.verdict.claim.paper} | {o.verdict.verdict} | "
            f"{_follow_up_cell(o)} |"
            for o in outcomes
        ),
    ]
    for o in outcomes:
        v, claim = o.verdict, o.verdict.claim
        lines += [
            "",
            f"## {claim.name}",
            "",
            f"**Paper**: {claim.paper}.",
            "",
            f"**Claim**: {claim.claim}",
            "",
            f"**Paper's figure**: {claim.paper_figure}.",
            "",
            f"**Rule**: {'; '.join(rule.describe() for rule in claim.rules)}.",
            "",
            f"**Ours** (task `{claim.task}`, profile `{profile}`): {v.figure}.",
            "",
            f"**Verdict**: {v.verdict}" + (f" — {v.reasons}." if v.reasons else "."),
        ]
        if any(ok_runs(rs) for rs in o.records.values()):
            lines += ["", arm_table(o.records)]
        if claim.name in plots:
            lines += ["", f"![{claim.name}]({plots[claim.name]})"]
        if o.follow_up and o.follow_up_verdict:
            fv = o.follow_up_verdict
            arms = ", ".join(o.follow_up.arms) if o.follow_up.arms else "every arm"
            lines += [
                "",
                f"**What was tried**: {o.follow_up.why} Follow-up ({arms}; {describe_budget(o.follow_up.budget)}): "
                f"{fv.figure}. **Follow-up verdict**: {fv.verdict}" + (f" — {fv.reasons}." if fv.reasons else "."),
            ]
            if o.follow_up_records and any(ok_runs(rs) for rs in o.follow_up_records.values()):
                lines += ["", arm_table(o.follow_up_records)]
        if claim.note:
            lines += ["", f"**Note**: {claim.note}"]
        lines += [
            "",
            f"Reproduce: `archbench reproduce {claim.name} --profile {profile}"
            + (" --follow-ups" if o.follow_up else "")
            + "`",
        ]
    return "\n".join(lines) + "\n"


def _follow_up_cell(o: Outcome) -> str:
    if not o.follow_up or not o.follow_up_verdict:
        return ""
    return f"{o.follow_up_verdict.verdict} with {describe_budget(o.follow_up.budget)}"
