"""docs/seed-paper.md: the seed paper reproduced end to end, generated from stored runs.

Wang, Wei, Hsu, Lee 2024 (ICML), "Transformers Provably Learn Sparse Token Selection While Fully-Connected
Nets Cannot" (arXiv 2406.06893) is the paper archbench was founded on. This page puts its claims beside
what archbench measures: (a) the paper-form model's loss and alignment over training, (b) its metric at
every length, stochastic vs fixed position codes, (c) the width and the training-set size each family
needs as T grows, (d) how close the generic families get. Every number is computed here from stored
records (`bench.results.measures` for each figure, means with 95% t intervals over seeds), and every
section names the command that produces its records.

How a figure finds its records: each experiment is a planned configuration (`bench.run.plan.plan` of the
task, family, profile and settings below), so a run record belongs to it when its key is the planned
run's key; a run whose learning rate was chosen on validation seeds (`--lr auto`) matches with the
learning rate it stored. Searches (width, samples) match on family, profile, task settings and seeds.
The page states the code versions of the records it used; whether they are current is `archbench results
--stale`'s business (a harness change would otherwise rewrite this page).

    python -m bench.report.seed_paper                # write docs/seed-paper.md and its plots
    python -m bench.report.seed_paper --check        # exit 1 when the committed page is out of date
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report.plots import Series, curve_plot
from bench.results.atomic import atomic_path
from bench.results.measures import (
    at_length,
    diagnostic_curve,
    in_distribution,
    over_seeds,
    samples_to_reach,
    val_loss_curve,
)
from bench.results.schema import DEFAULT_ROOT, canonical_json, run_key
from bench.results.stats import Estimate
from bench.results.store import RecordStore
from bench.run.plan import PlannedRun, plan
from bench.run.profiles import get_profile

TASK = "sparse_token_selection"
PAGE = Path("docs/seed-paper.md")
PLOT_DIR = "seed-paper"  # beside the page
REPORTED_SEEDS = (0, 1, 2)
CHECK_SEEDS = (3, 4, 5)
ALL_SEEDS = REPORTED_SEEDS + CHECK_SEEDS
SCALING_LENGTHS = (8, 16, 32, 64)  # T of the width and sample searches
SCALING_EVAL = 128  # one longer length, valid for every T above (the searches judge the training length)
GOAL_IN, GOAL_OUT, GOAL_FIXED = 0.95, 0.9, 0.5  # the bar: r2 at T, at 4T (stochastic), at 4T (fixed)
REACH = 0.95  # "samples to reach r2 0.95" of the generic-family table
DIGITS = 3


@dataclass(frozen=True)
class Experiment:
    """One configuration of the page: a family under a profile with task settings, and its command."""

    name: str
    arch: str
    profile: str
    task_params: Mapping[str, Any] = field(default_factory=dict)
    arch_params: Mapping[str, Any] = field(default_factory=dict)

    def runs(self, seeds: Sequence[int] = ALL_SEEDS) -> list[PlannedRun]:
        return list(
            _planned(
                self.arch,
                self.profile,
                canonical_json(self.task_params),
                canonical_json(self.arch_params),
                tuple(seeds),
            )
        )

    def task_config(self) -> dict[str, Any]:
        return self.runs(ALL_SEEDS[:1])[0].task.config()


@functools.lru_cache(maxsize=256)
def _planned(arch: str, profile: str, task_json: str, arch_json: str, seeds: tuple[int, ...]) -> tuple[PlannedRun, ...]:
    """Planning validates and builds every model once (on `meta`): cached, the page plans each experiment once."""
    return tuple(
        plan(
            TASK,
            [arch],
            get_profile(profile),
            seeds=list(seeds),
            task_grid=[json.loads(task_json)],
            arch_grid=[json.loads(arch_json)],
        )
    )


PAPER_STOCHASTIC = Experiment("paper form, stochastic codes", "sts_attention", "seed-paper", {"codes": "stochastic"})
PAPER_FIXED = Experiment("paper form, fixed codes", "sts_attention", "seed-paper", {"codes": "fixed"})
GENERIC = tuple(Experiment(arch, arch, "seed-paper-generic") for arch in ("attention1", "transformer", "fcn"))
# width searches: family -> (profile, axis, w_min, w_max)
WIDTH_SEARCHES: dict[str, tuple[str, str, int, int]] = {
    "sts_attention": ("seed-paper-search", "task.code_dim", 2, 256),
    "fcn": ("seed-paper-generic-search", "arch.hidden", 16, 4096),
    "attention1": ("seed-paper-generic-search", "arch.d_model", 8, 512),
    "transformer": ("seed-paper-generic-search", "arch.d_model", 8, 512),
}
# sample searches: family -> (profile, lengths, extra flags); the FCN's only at the two shortest lengths,
# with a smaller top: every failing size trains up to 4x the profile's steps, hours per length on a CPU
SAMPLE_SEARCHES: dict[str, tuple[str, tuple[int, ...], str]] = {
    "sts_attention": ("seed-paper-search", SCALING_LENGTHS, ""),
    "fcn": ("seed-paper-generic-search", SCALING_LENGTHS[:2], " --n-max 65536"),
}


def scaling(arch: str, profile: str, length: int) -> Experiment:
    return Experiment(f"{arch} T={length}", arch, profile, {"length": length, "eval_lengths": (SCALING_EVAL,)})


# --------------------------------------------------------------------------------------------- commands

RUN_PAPER = (
    "archbench run --task sparse_token_selection --arch sts_attention --profile seed-paper "
    "--seeds 0,1,2,3,4,5 --set task.codes=stochastic --set task.codes=fixed"
)
RUN_GENERIC = (
    "archbench run --task sparse_token_selection --arch attention1,transformer,fcn --profile seed-paper-generic "
    "--seeds 0,1,2,3,4,5 --lr auto --lr-grid 1e-3,3e-3,1e-2"
)


def length_grid(lengths: Sequence[int] = SCALING_LENGTHS) -> str:
    return " ".join(f"--set task.length={t}" for t in lengths) + f" --set task.eval_lengths={SCALING_EVAL}"


def width_command(arch: str, seeds: Sequence[int]) -> str:
    profile, axis, w_min, w_max = WIDTH_SEARCHES[arch]
    return (
        f"archbench width-complexity --task sparse_token_selection --arch {arch} --profile {profile} "
        f"--axis {axis} --w-min {w_min} --w-max {w_max} --seeds {','.join(map(str, seeds))} {length_grid()}"
    )


def samples_command(arch: str, seeds: Sequence[int]) -> str:
    profile, lengths, extra = SAMPLE_SEARCHES[arch]
    return (
        f"archbench sample-complexity --task sparse_token_selection --arch {arch} --profile {profile} "
        f"--seeds {','.join(map(str, seeds))} {length_grid(lengths)}{extra}"
    )


# --------------------------------------------------------------------------------------------- records


def records_for(experiment: Experiment, latest: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The successful records of the experiment's planned runs (seed order), by run key; a run whose
    learning rate was selected (`--lr auto`) is found under the learning rate it stored."""
    lrs = {r["train_config"].get("lr") for r in latest.values() if r.get("arch") == experiment.arch}
    found = []
    for run in experiment.runs():
        keys = [run.key] + [
            run_key(
                run.task_name, run.task.config(), run.arch, run.arch_config, {**run.train.to_dict(), "lr": lr}, run.seed
            )
            for lr in sorted(v for v in lrs if v is not None and v != run.train.lr)
        ]
        record = next((latest[k] for k in keys if k in latest and latest[k].get("status") == "ok"), None)
        if record is not None:
            found.append(record)
    return found


def search_line(
    lines: Sequence[Mapping[str, Any]], experiment: Experiment, seeds: Sequence[int], axis: str | None = None
) -> Mapping[str, Any] | None:
    """The latest stored search of the experiment's configuration on `seeds` (and `axis`, for widths)."""
    config = canonical_json(experiment.task_config())
    matches = [
        line
        for line in lines
        if line.get("arch") == experiment.arch
        and line.get("profile") == experiment.profile
        and canonical_json(line.get("task_config")) == config
        and list(line.get("seeds") or []) == list(seeds)
        and (axis is None or line.get("axis") == axis)
    ]
    return max(matches, key=lambda line: line.get("created") or "", default=None)


def load_lines(results: Path, subdir: str) -> list[dict[str, Any]]:
    from bench.run.sample_complexity import load_results

    return load_results(results, TASK, subdir)


# --------------------------------------------------------------------------------------------- figures


def curve(records: Sequence[Mapping[str, Any]], values) -> list[tuple[int, Estimate]]:
    """Mean and 95% interval over seeds at every step any seed has (`values(metrics)` -> [(step, value)])."""
    by_step: dict[int, list[float]] = {}
    for record in records:
        for step, value in values(record["metrics"]):
            by_step.setdefault(step, []).append(value)
    return [(step, est) for step in sorted(by_step) if (est := over_seeds(by_step[step])) is not None]


def loss_curve(records: Sequence[Mapping[str, Any]]) -> list[tuple[int, Estimate]]:
    return curve(records, val_loss_curve)


def alignment_curve(records: Sequence[Mapping[str, Any]]) -> list[tuple[int, Estimate]]:
    return curve(records, lambda m: diagnostic_curve(m, "alignment"))


@dataclass(frozen=True)
class LengthPoint:
    """The metric at one length: mean with interval over seeds, and the worst and best seed (None: n/a)."""

    length: int
    estimate: Estimate | None
    worst: float | None
    best: float | None


def length_points(records: Sequence[Mapping[str, Any]]) -> list[LengthPoint]:
    """The metric at every evaluated length, over the records' seeds."""
    lengths = sorted({int(k) for r in records for k in (r["metrics"].get("by_length") or {})})
    points = []
    for length in lengths:
        known = [v for r in records if (v := at_length(r["metrics"], length)) is not None]
        points.append(
            LengthPoint(length, over_seeds(known), min(known) if known else None, max(known) if known else None)
        )
    return points


def at(points: Sequence[LengthPoint], length: int) -> LengthPoint:
    return next((p for p in points if p.length == length), LengthPoint(length, None, None, None))


# --------------------------------------------------------------------------------------------- text


def est_text(estimate: Estimate | None, digits: int = DIGITS) -> str:
    return "n/a" if estimate is None else estimate.format(digits)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def code_versions(records: Sequence[Mapping[str, Any]]) -> str:
    versions = sorted({str((r.get("environment") or {}).get("code_version")) for r in records})
    return ", ".join(f"`{v}`" for v in versions) or "none"


def seeds_of(records: Sequence[Mapping[str, Any]]) -> str:
    return ",".join(str(r["seed"]) for r in records) or "none"


PAPER_TEXT = """\
## The paper's claims

Wang, Wei, Hsu, Lee 2024 (ICML; arXiv 2406.06893; no code released) study sparse token selection STS_q:
T data tokens x_1..x_T ~ N(0, I_d), a uniformly random q-subset S of positions, target (1/q) sum_{{i in S}}
x_i. They prove, for a one-layer transformer whose softmax attention scores come from one trainable matrix
acting on position codes, trained by gradient descent with stochastic positional encoding (fresh random
codes for every sample):

1. gradient descent converges to a solution of STS_q, the score matrix turning towards the ground-truth
   direction (the paper shows the cosine similarity with it over training);
2. a width of about d + q log T suffices, while a fully-connected net needs width of order T·d (an
   average-case lower bound, strengthening Sanford, Hsu, Telgarsky 2023);
3. with stochastic codes the out-of-distribution loss at longer T goes to zero with the in-distribution
   loss; fixed positional encodings do not generalize.

## What the paper fixes, what we assumed

Confirmed from the paper's abstract and public summaries of it (the full text was not reachable from
here): the task STS_q and its data distribution; a one-layer softmax-attention transformer; training by
gradient descent; stochastic positional encoding; the width statements d + q log T (transformer) and
T·d (FCN); the experiments show convergence to the ground-truth direction and better out-of-distribution
behaviour than fixed positional encodings.

Assumed (stated in `architectures/sts_attention.py`, `tasks/sparse_token_selection.py` and the
`seed-paper` profile), and open to correction against the paper's text:

- the model reads the task's layout [data | code | query flag]: scores c_t^T W c_s with one k x k matrix
  W on the codes, values fixed to the data part, the query attending to the data tokens only; the
  ground-truth direction is W proportional to the identity, and the alignment is cos(W, I);
- initialisation W_ij ~ N(0, 0.02^2), so the alignment starts near 0 (`init_std=0` gives the symmetric
  zero start);
- gradient descent is online: a fresh batch of {batch_size} every step (the population loss, estimated),
  plain SGD with step size {lr:g} for {steps} steps, no momentum, decay or clipping (profile `seed-paper`;
  the step size was chosen on validation seeds 1000 and 1001 among 10 (seed 1000 only), 30 and 100, one
  for both code kinds);
- the codes are a Haar-random orthonormal frame per sample (exactly orthogonal up to the code dimension,
  independent uniform unit vectors beyond it), not necessarily the paper's distribution; fixed codes are
  one such frame drawn once;
- d = 8, q = 3, T = 16, code dimension 64: the task's defaults, not the paper's experiment sizes.
"""


@dataclass
class Page:
    """The page's text and the plots it links (name -> series and options), drawn by `write`."""

    text: str
    plots: dict[str, dict[str, Any]]


def render(results: str | Path = DEFAULT_ROOT) -> Page:
    """The page from the records under `results` (plots described, not drawn)."""
    results = Path(results)
    latest = RecordStore(results).latest()
    plots: dict[str, dict[str, Any]] = {}
    parts = [
        "# The seed paper: sparse token selection (Wang, Wei, Hsu, Lee 2024)",
        "",
        "Generated by `python -m bench.report.seed_paper` from the records in the results directory; do not edit "
        "by hand. Intervals are 95% Student-t over the seeds shown (reported seeds 0-2 and check seeds 3-5 "
        "together, n says how many); a figure without records says which command makes them.",
        "",
        PAPER_TEXT.format(**get_profile(PAPER_STOCHASTIC.profile).train),
    ]
    parts += convergence_section(latest, plots)
    parts += lengths_section(latest, plots)
    parts += width_section(results, plots)
    parts += samples_section(results, plots)
    parts += generic_section(latest)
    return Page("\n".join(parts).rstrip() + "\n", plots)


def convergence_section(latest: Mapping[str, Mapping[str, Any]], plots: dict[str, dict[str, Any]]) -> list[str]:
    records = records_for(PAPER_STOCHASTIC, latest)
    out = ["## (a) Convergence: loss and alignment over training", ""]
    if not records:
        return out + ["No records yet. Run:", "", f"    {RUN_PAPER}", ""]
    loss, align = loss_curve(records), alignment_curve(records)
    out.append(
        f"`sts_attention`, stochastic codes, profile `seed-paper`; seeds {seeds_of(records)}; code versions "
        f"{code_versions(records)}. Validation loss (squared error summed over the d outputs, held-out data) "
        "and cos(W, I) at every validation:"
    )
    out.append("")
    shown = sorted({0, len(loss) // 8, len(loss) // 4, len(loss) // 2, len(loss) - 1} & set(range(len(loss))))
    align_at = dict(align)
    rows = [[step, est_text(loss[i][1], 4), est_text(align_at.get(step))] for i in shown for step in [loss[i][0]]]
    out += [table(["step", "validation loss", "alignment cos(W, I)"], rows), ""]
    plots["convergence-loss.png"] = {
        "series": [series("validation loss", "sts_attention", loss)],
        "title": "sts_attention (paper form): validation loss",
        "xlabel": "step",
        "ylabel": "validation loss",
        "log_x": False,
    }
    plots["convergence-alignment.png"] = {
        "series": [series("cos(W, I)", "sts_attention", align)],
        "title": "sts_attention (paper form): alignment with the ground-truth direction",
        "xlabel": "step",
        "ylabel": "cos(W, I)",
        "log_x": False,
        "ceiling": 1.0,
    }
    out += [
        f"![loss]({PLOT_DIR}/convergence-loss.png) ![alignment]({PLOT_DIR}/convergence-alignment.png)",
        "",
        f"Reproduce: `{RUN_PAPER}`",
        "",
    ]
    return out


def lengths_section(latest: Mapping[str, Mapping[str, Any]], plots: dict[str, dict[str, Any]]) -> list[str]:
    out = ["## (b) Length generalization: stochastic vs fixed codes", ""]
    arms = [(e, records_for(e, latest)) for e in (PAPER_STOCHASTIC, PAPER_FIXED)]
    if not any(records for _, records in arms):
        return out + ["No records yet. Run:", "", f"    {RUN_PAPER}", ""]
    train = int(PAPER_STOCHASTIC.task_config()["length"])
    code_dim = int(PAPER_STOCHASTIC.task_config()["code_dim"])
    points = {e.name: length_points(records) for e, records in arms}
    lengths = sorted({p.length for pts in points.values() for p in pts})
    rows = []
    for n in lengths:
        row: list[Any] = [f"{n}" + (" (training)" if n == train else " (code dim)" if n == code_dim else "")]
        for e, _ in arms:
            point = at(points[e.name], n)
            row += [est_text(point.estimate), "n/a" if point.worst is None else f"{point.worst:.{DIGITS}f}"]
        rows.append(row)
    headers = ["T"] + [h for e, _ in arms for h in (f"{e.name}: r2", "worst seed")]
    out += [
        "`sts_attention`, profile `seed-paper` (trained at T = "
        f"{train}); seeds: "
        + "; ".join(f"{e.name} {seeds_of(records)}" for e, records in arms)
        + f"; code versions {code_versions([r for _, records in arms for r in records])}. Test r2 at every length:",
        "",
        table(headers, rows),
        "",
    ]
    out += goal_lines(points, train)
    plots["lengths.png"] = {
        "series": [
            series(e.name, "sts_attention", [(p.length, p.estimate) for p in points[e.name] if p.estimate is not None])
            for e, _ in arms
        ],
        "title": "sts_attention (paper form): r2 against length",
        "xlabel": "sequence length T",
        "ylabel": "test r2",
        "train_x": train,
        "log_x": True,
        "floor": -0.5,
        "ceiling": 1.0,
    }
    out += [f"![lengths]({PLOT_DIR}/lengths.png)", "", f"Reproduce: `{RUN_PAPER}`", ""]
    return out


def goal_lines(points: Mapping[str, Sequence[LengthPoint]], train: int) -> list[str]:
    """The bar set for the reproduction, judged on every seed: with stochastic codes the worst seed reaches
    r2 0.95 at T and 0.9 at 4T; with fixed codes the best seed stays below 0.5 at 4T."""
    checks = [
        (
            f"stochastic codes, every seed r2 >= {GOAL_IN} at the training length (worst seed)",
            at(points[PAPER_STOCHASTIC.name], train).worst,
            lambda v: v >= GOAL_IN,
        ),
        (
            f"stochastic codes, every seed r2 >= {GOAL_OUT} at 4x ({4 * train}) (worst seed)",
            at(points[PAPER_STOCHASTIC.name], 4 * train).worst,
            lambda v: v >= GOAL_OUT,
        ),
        (
            f"fixed codes, every seed r2 < {GOAL_FIXED} at 4x ({4 * train}) (best seed)",
            at(points[PAPER_FIXED.name], 4 * train).best,
            lambda v: v < GOAL_FIXED,
        ),
    ]
    lines = ["The bar set for this reproduction:", ""]
    for text, value, ok in checks:
        verdict = "no records" if value is None else ("met" if ok(value) else "not met")
        shown = "" if value is None else f" ({value:.{DIGITS}f})"
        lines.append(f"- {text}: **{verdict}**{shown}")
    return lines + [""]


def width_section(results: Path, plots: dict[str, dict[str, Any]]) -> list[str]:
    from bench.run.width_complexity import SUBDIR

    lines = load_lines(results, SUBDIR)
    out = [
        "## (c1) Width against T",
        "",
        "The smallest width whose median best validation r2 over seeds reaches the task's solved_at (0.9), with the "
        "bracket it was found in (`archbench width-complexity`): `sts_attention`'s width is the code dimension k "
        "(token width d + k + 1), the FCN's its hidden width, the generic transformers' d_model.",
        "",
    ]
    rows, curves = [], []
    for arch, (profile, axis, _, _) in WIDTH_SEARCHES.items():
        for seeds in (REPORTED_SEEDS, CHECK_SEEDS):
            points = []
            for length in SCALING_LENGTHS:
                line = search_line(lines, scaling(arch, profile, length), seeds, axis)
                if line is None:
                    continue
                parameters = (line.get("parameters") or [None, None])[-1]
                rows.append(
                    [
                        arch,
                        length,
                        ",".join(map(str, seeds)),
                        axis,
                        line["text"],
                        "n/a" if parameters is None else f"{parameters:,}",
                    ]
                )
                if line.get("estimate") is not None:
                    points.append((length, Estimate(float(line["estimate"]), None, None, len(seeds))))
            if points and seeds == REPORTED_SEEDS:
                curves.append(series(arch, arch, points))
    if not rows:
        out += ["No searches yet. Run (each line is one search per T; seeds 0-2, then the check seeds 3-5):", ""]
        out += [
            f"    {width_command(arch, seeds)}" for arch in WIDTH_SEARCHES for seeds in (REPORTED_SEEDS, CHECK_SEEDS)
        ]
        return out + [""]
    out += [
        table(
            ["family", "T", "seeds", "axis", "width to solve [last failing, first passing]", "parameters there"], rows
        ),
        "",
    ]
    out += growth_lines(lines)
    if curves:
        plots["width.png"] = {
            "series": curves,
            "title": "smallest width reaching r2 0.9 (seeds 0-2)",
            "xlabel": "training length T",
            "ylabel": "width",
            "log_x": True,
        }
        out += [f"![width]({PLOT_DIR}/width.png)", ""]
    out += ["Reproduce:", ""] + [
        f"    {width_command(arch, seeds)}" for arch in WIDTH_SEARCHES for seeds in (REPORTED_SEEDS, CHECK_SEEDS)
    ]
    return out + [""]


def growth_lines(lines: Sequence[Mapping[str, Any]]) -> list[str]:
    """Measured growth of the width from the smallest to the largest T with an estimate, beside the paper's
    two predictions for the same span: q log T grows by log(T2)/log(T1), T·d by T2/T1."""
    out = []
    for arch, (profile, axis, _, _) in WIDTH_SEARCHES.items():
        found = [
            (length, line)
            for length in SCALING_LENGTHS
            if (line := search_line(lines, scaling(arch, profile, length), REPORTED_SEEDS, axis)) is not None
        ]
        solved = [(n, float(line["estimate"])) for n, line in found if line.get("estimate") is not None]
        if len(solved) < 2:
            if found:
                out.append(f"- {arch}: solved at {len(solved)} of {len(found)} lengths searched; no growth to read")
            continue
        (t1, w1), (t2, w2) = solved[0], solved[-1]
        out.append(
            f"- {arch}: width x{w2 / w1:.2f} from T = {t1} to T = {t2}; q log T predicts x{math.log(t2) / math.log(t1):.2f}, "
            f"T·d predicts x{t2 / t1:.2f}"
        )
    return (["Growth (seeds 0-2):", ""] + out + [""]) if out else []


def samples_section(results: Path, plots: dict[str, dict[str, Any]]) -> list[str]:
    lines = load_lines(results, "sample_complexity")
    out = [
        "## (c2) Training-set size against T",
        "",
        "The smallest fixed training set whose runs reach solved_at (`archbench sample-complexity`, the step rule "
        "of that command).",
        "",
    ]
    rows, curves = [], []
    for arch, (profile, lengths, _) in SAMPLE_SEARCHES.items():
        points = []
        for seeds in (REPORTED_SEEDS, CHECK_SEEDS):
            for length in lengths:
                line = search_line(lines, scaling(arch, profile, length), seeds)
                if line is None:
                    continue
                rows.append([arch, length, ",".join(map(str, seeds)), line["text"]])
                if line.get("estimate") is not None and seeds == REPORTED_SEEDS:
                    points.append((length, Estimate(float(line["estimate"]), None, None, len(seeds))))
        if points:
            curves.append(series(arch, arch, points))
    commands = [
        f"    {samples_command(arch, seeds)}" for arch in SAMPLE_SEARCHES for seeds in (REPORTED_SEEDS, CHECK_SEEDS)
    ]
    if not rows:
        return out + ["No searches yet. Run:", ""] + commands + [""]
    out += [table(["family", "T", "seeds", "samples to solve [last failing, first passing]"], rows), ""]
    if curves:
        plots["samples.png"] = {
            "series": curves,
            "title": "smallest training set reaching r2 0.9 (seeds 0-2)",
            "xlabel": "training length T",
            "ylabel": "training-set size",
            "log_x": True,
        }
        out += [f"![samples]({PLOT_DIR}/samples.png)", ""]
    return out + ["Reproduce:", ""] + commands + [""]


def generic_section(latest: Mapping[str, Mapping[str, Any]]) -> list[str]:
    out = [
        "## (d) What the generic families need",
        "",
        f"The generic one-layer `attention1`, the `transformer` and the `fcn` under profile `seed-paper-generic` "
        f"(AdamW, learning rate chosen per family on validation seeds 1000-1001), beside the paper form: samples "
        f"seen until validation r2 first reached {REACH} (median over seeds; `> N` when half or more never did), "
        "and test r2 at the training length, 2x and 4x.",
        "",
    ]
    train = int(PAPER_STOCHASTIC.task_config()["length"])
    rows = []
    for experiment in (PAPER_STOCHASTIC, *GENERIC):
        records = records_for(experiment, latest)
        if not records:
            continue
        reach = sorted(samples_to_reach(r["metrics"], REACH, int(r["train_config"]["batch_size"])) for r in records)
        median = reach[len(reach) // 2] if len(reach) % 2 else (reach[len(reach) // 2 - 1] + reach[len(reach) // 2]) / 2
        seen = max(int(r["metrics"].get("samples_seen") or 0) for r in records)
        lrs = sorted({r["train_config"]["lr"] for r in records})
        rows.append(
            [
                experiment.arch,
                ",".join(f"{lr:g}" for lr in lrs),
                seeds_of(records),
                f"> {seen:,}" if math.isinf(median) else f"{median:,.0f}",
                est_text(over_seeds(in_distribution(r["metrics"]) for r in records)),
                est_text(over_seeds(at_length(r["metrics"], 2 * train) for r in records)),
                est_text(over_seeds(at_length(r["metrics"], 4 * train) for r in records)),
            ]
        )
    if not any(row[0] != PAPER_STOCHASTIC.arch for row in rows):
        return (
            out
            + (
                [
                    table(["family", "lr", "seeds", f"samples to r2 {REACH}", "r2 at T", "r2 at 2T", "r2 at 4T"], rows),
                    "",
                ]
                if rows
                else []
            )
            + ["No records of the generic families yet. Run:", "", f"    {RUN_GENERIC}", ""]
        )
    headers = [
        "family",
        "lr",
        "seeds",
        f"samples to r2 {REACH}",
        f"r2 at T={train}",
        f"r2 at {2 * train}",
        f"r2 at {4 * train}",
    ]
    return out + [table(headers, rows), "", f"Reproduce: `{RUN_GENERIC}` and `{RUN_PAPER}`", ""]


def commands() -> list[str]:
    """Every command the page reads records of, cheapest first: the paper form's runs, the generic families,
    then the searches (reported seeds 0-2, then check seeds 3-5)."""
    out = [RUN_PAPER, RUN_GENERIC]
    out += [samples_command("sts_attention", seeds) for seeds in (REPORTED_SEEDS, CHECK_SEEDS)]
    out += [width_command(arch, seeds) for arch in WIDTH_SEARCHES for seeds in (REPORTED_SEEDS, CHECK_SEEDS)]
    out += [samples_command("fcn", seeds) for seeds in (REPORTED_SEEDS, CHECK_SEEDS)]
    return out


def series(label: str, family: str, points: Sequence[tuple[int, Estimate]]) -> Series:
    return Series(
        label,
        family,
        [float(x) for x, _ in points],
        [e.mean for _, e in points],
        [e.low for _, e in points],
        [e.high for _, e in points],
    )


# --------------------------------------------------------------------------------------------- writing


def write(page: Page, out: Path, plots: bool = True) -> None:
    """Write the page and, with `plots`, draw every plot it links into `<out dir>/seed-paper/`."""
    with atomic_path(out) as tmp:
        Path(tmp).write_text(page.text, encoding="utf-8")
    if plots:
        for name, spec in page.plots.items():
            options = {k: v for k, v in spec.items() if k != "series"}
            curve_plot(out.parent / PLOT_DIR / name, spec["series"], **options)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report.seed_paper", description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(DEFAULT_ROOT), help=f"record directory (default: {DEFAULT_ROOT})")
    parser.add_argument("--out", default=str(PAGE), help=f"page to write (default: {PAGE})")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the page is out of date")
    parser.add_argument("--no-plots", action="store_true", help="write the page only")
    parser.add_argument("--commands", action="store_true", help="print every command the page needs, one a line")
    args = parser.parse_args(argv)
    if args.commands:
        print("\n".join(commands()))
        return 0
    page = render(args.results)
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != page.text:
            print(f"{out} is out of date: run `python -m bench.report.seed_paper`", file=sys.stderr)
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    write(page, out, plots=not args.no_plots)
    print(f"wrote {out}" + ("" if args.no_plots else f" and {len(page.plots)} plot(s) in {out.parent / PLOT_DIR}/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
