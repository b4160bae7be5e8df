"""Length generalization: the metric at every evaluated length as a curve over seeds, and one summary number.

Records hold `metrics.by_length` ({"16": 0.93, "32": 0.91, "128": None, ...}: string keys, None where the
model cannot take that length). Here they become, per (task, configuration), points sorted by length
(numerically: "128" comes after "32") with a mean and 95% interval over seeds, or n/a; and the summary
used in tables: per seed, the mean over every length beyond the training length
(`bench.results.measures.beyond_training_mean`, the definition every page uses), then the mean and
interval of that over seeds. A model that cannot take some longer length gets an n/a summary rather than
a mean over fewer (easier) lengths, so summaries in one column always average the same lengths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate

from bench.report.tables import NA, group_records
from bench.results.measures import at_length, over_seeds, run_beyond_training_mean
from bench.results.stats import DEFAULT_METHOD, Estimate, method_label


@dataclass(frozen=True)
class LengthPoint:
    """The metric at one length over seeds; `estimate` None means n/a (no seed could take that length)."""

    length: int
    estimate: Estimate | None
    in_distribution: bool


@dataclass(frozen=True)
class LengthCurve:
    """One configuration's metric against length, ready for a plot (`lengths`, `means`, `lows`, `highs`)."""

    task: str
    label: str
    metric: str
    train_length: int
    points: tuple[LengthPoint, ...]
    summary: Estimate | None  # mean over lengths beyond training, over seeds; None = n/a
    seeds: int

    @property
    def lengths(self) -> list[int]:
        return [p.length for p in self.points]

    @property
    def means(self) -> list[float | None]:
        return [p.estimate.mean if p.estimate else None for p in self.points]

    @property
    def lows(self) -> list[float | None]:
        return [p.estimate.low if p.estimate else None for p in self.points]

    @property
    def highs(self) -> list[float | None]:
        return [p.estimate.high if p.estimate else None for p in self.points]


def length_curves(records: Iterable[dict[str, Any]], method: str = DEFAULT_METHOD) -> list[LengthCurve]:
    """A curve per (task, configuration) over the successful records, in first-seen order."""
    curves = []
    for (task, label), group in group_records(r for r in records if r.get("status") == "ok").items():
        train_length = int(group[0]["task_config"]["length"])
        lengths = sorted({int(k) for r in group for k in r["metrics"]["by_length"]})
        by_seed = [r["metrics"] for r in group]
        points = tuple(
            LengthPoint(n, over_seeds((at_length(m, n) for m in by_seed), method), n == train_length) for n in lengths
        )
        summary = over_seeds((run_beyond_training_mean(m, train_length) for m in by_seed), method)
        curves.append(
            LengthCurve(task, label, group[0]["metrics"]["metric"], train_length, points, summary, len(group))
        )
    return curves


def length_table(
    records: Iterable[dict[str, Any]], tablefmt: str = "github", digits: int = 3, method: str = DEFAULT_METHOD
) -> str:
    """Metric at every length plus the out-of-distribution summary, one row per configuration of one task
    (one task per table, so one metric per column)."""
    curves = length_curves(records, method)
    if not curves:
        return "(no runs)"
    tasks = sorted({c.task for c in curves})
    if len(tasks) > 1:
        raise ValueError(f"length_table takes the records of one task; got {', '.join(tasks)}")
    lengths = sorted({n for c in curves for n in c.lengths})
    train_lengths = {c.train_length for c in curves}
    metric = curves[0].metric
    headers = ["architecture", f"seeds (± is {method_label(method)})"]
    headers += [f"{metric} @{n}" + (" (train)" if n in train_lengths else "") for n in lengths]
    headers += [f"{metric} beyond training (mean)"]
    rows = []
    for curve in curves:
        at = {p.length: p.estimate for p in curve.points}
        cells = [estimate.interval_text(digits) if (estimate := at.get(n)) else NA for n in lengths]
        rows.append([curve.label, curve.seeds, *cells, curve.summary.interval_text(digits) if curve.summary else NA])
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
