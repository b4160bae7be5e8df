"""Masked loss and torchmetrics metrics: the scoring rule a task names, applied only where its mask is True.

The loss is written without boolean indexing (a weighted mean) so a training step never forces a
host-device synchronisation; metrics are computed at validation and test time only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.regression import R2Score

from bench.contract.errors import ArchbenchError
from bench.contract.metrics import METRICS
from bench.contract.spec import TaskSpec


def masked_loss(spec: TaskSpec, preds: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (class outputs) or squared error summed over components (vector outputs), masked mean."""
    weight = mask.to(preds.dtype)
    if spec.output_kind == "class":
        safe_y = torch.where(mask, y, torch.zeros_like(y))
        per_position = F.cross_entropy(preds.flatten(0, 1), safe_y.flatten(), reduction="none").view_as(weight)
    else:
        per_position = (preds - y).pow(2).sum(-1)
    return (per_position * weight).sum() / weight.sum().clamp_min(1.0)


class ExactMatch(Metric):
    """Fraction of sequences whose every masked position is predicted correctly (whole-answer accuracy)."""

    higher_is_better = True
    full_state_update = False
    correct: torch.Tensor  # states registered by add_state
    total: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.add_state("correct", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> None:
        wrong = (preds.argmax(-1) != y) & mask
        has_target = mask.any(dim=1)
        self.correct += (~wrong.any(dim=1) & has_target).sum()
        self.total += has_target.sum()

    def compute(self) -> torch.Tensor:
        return self.correct / self.total.clamp_min(1.0)


class SequenceMeanAccuracy(Metric):
    """Per-token accuracy over each sequence's masked positions, averaged over sequences (`sequence_mean_accuracy`).

    Every sequence weighs the same however many targets it has, as in Delétang et al. 2023 (ICLR), who score a
    length by the mean per-token accuracy of its sequences and then average over lengths: with input lengths
    drawn uniformly, this is that mean in expectation. A sequence without a masked position is left out.
    Written without boolean indexing, so a batch on the GPU is scored without a host synchronisation.
    """

    higher_is_better = True
    full_state_update = False
    total: torch.Tensor  # states registered by add_state: the sum of per-sequence accuracies
    count: torch.Tensor  # the number of sequences with at least one masked position

    def __init__(self) -> None:
        super().__init__()
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> None:
        right = ((preds.argmax(-1) == y) & mask).sum(dim=1).float()
        scored = mask.sum(dim=1).float()
        self.total += (right / scored.clamp_min(1.0)).sum()
        self.count += (scored > 0).sum()

    def compute(self) -> torch.Tensor:
        return self.total / self.count.clamp_min(1.0)


class MaskedMetric(Metric):
    """Wraps a torchmetrics metric so it sees only the masked positions of `(B, T, C)` predictions."""

    full_state_update = False

    def __init__(self, inner: Metric) -> None:
        super().__init__()
        self.inner = inner

    def update(self, preds: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> None:
        self.inner.update(preds[mask], y[mask])

    def compute(self) -> torch.Tensor:
        return self.inner.compute()

    def reset(self) -> None:
        super().reset()
        self.inner.reset()


def make_metric(name: str, spec: TaskSpec) -> Metric:
    """The torchmetrics object for metric `name` on outputs described by `spec`."""
    if name == "accuracy":
        return MaskedMetric(MulticlassAccuracy(num_classes=spec.output_size, average="micro"))
    if name == "macro_accuracy":
        return MaskedMetric(MulticlassAccuracy(num_classes=spec.output_size, average="macro"))
    if name == "r2":
        return MaskedMetric(R2Score(multioutput="uniform_average"))
    if name == "exact_match":
        return ExactMatch()
    if name == "sequence_mean_accuracy":
        return SequenceMeanAccuracy()
    raise ArchbenchError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}")
