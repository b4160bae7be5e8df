"""The metric registry: every scoring rule a task may name, with what reading its values needs.

A task names its metric (`Task.metric`); the number alone does not say which way is better or what range
a chart should show, and code that guessed (`max(...)`, a hard-wired `(0, 1)`, `if metric == "r2"`) broke
silently on the next metric. So each metric is declared once, here, with its direction and its plot range,
and every reader asks `get_metric(name)`. The implementations (torchmetrics objects) live in
`bench.train.metrics`; this module is only the description, so the contract layer and the report can use
it without importing torch.

`accuracy` pools the scored tokens of a whole batch, so a sequence with more targets weighs more;
`sequence_mean_accuracy` first averages each sequence's own tokens, so every sequence weighs the same: with
one target per sequence the two agree, and with input lengths drawn uniformly it is, in expectation, the
mean over lengths of the per-length accuracy that Delétang et al. 2023 (ICLR, "Neural Networks and the
Chomsky Hierarchy") report, for a task whose output length is fixed by its input length.

Plot range (`low`, `high`): accuracies and exact match live in [0, 1]. r2 is at most 1 (perfect) and has no
lower bound (far beyond the training length a model can score -40); its plot range stops at -1, the score
of a predictor with twice the squared error of the constant mean predictor: below that a curve only says
"collapsed", and drawing it down to -40 would squash every other curve flat. Values below `low` are
drawn at `low` and the chart says so (`bench.report.plots.curve_plot`).

Direction: every metric registered today is higher-is-better. Early stopping at `solved_at` (the harness),
learning-rate selection and the sample-complexity search compare with `>=`; a lower-is-better metric must
make those read `higher_is_better` before it is registered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bench.contract.errors import ArchbenchError


@dataclass(frozen=True)
class Metric:
    """One scoring rule: its name, which way is better and the range a chart of it shows."""

    name: str
    higher_is_better: bool
    low: float  # plot floor: the metric's least value, or where a chart stops (r2: see the module docstring)
    high: float  # plot ceiling: the metric's best value for higher-is-better metrics
    description: str = ""

    def best(self, values: Iterable[float]) -> float:
        """The best of `values` under this metric's direction."""
        return max(values) if self.higher_is_better else min(values)

    def better(self, a: float, b: float) -> bool:
        """Whether `a` is strictly better than `b`."""
        return a > b if self.higher_is_better else a < b


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", True, 0.0, 1.0, "fraction of scored positions predicted correctly (pooled over the batch)"),
        Metric("exact_match", True, 0.0, 1.0, "fraction of sequences whose every scored position is correct"),
        # MAD (Poli et al. 2024) scores with torchmetrics' default multiclass accuracy, the macro average: the
        # mean over classes of per-class recall, pooled over the whole evaluation set; a class that is neither
        # a target nor predicted is left out, one that is predicted but never a target counts as 0.
        Metric(
            "macro_accuracy",
            True,
            0.0,
            1.0,
            "mean over classes of the fraction of that class's scored positions predicted correctly (MAD's metric)",
        ),
        Metric(
            "sequence_mean_accuracy",
            True,
            0.0,
            1.0,
            "per-token accuracy averaged within each sequence, then over sequences (every sequence weighs the same)",
        ),
        Metric(
            "r2",
            True,
            -1.0,
            1.0,
            "coefficient of determination over scored positions (1 perfect, 0 the mean predictor)",
        ),
    )
}


def get_metric(name: str) -> Metric:
    """The registered metric `name`; an unknown name is one error line listing the valid ones."""
    if name not in METRICS:
        raise ArchbenchError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}")
    return METRICS[name]
