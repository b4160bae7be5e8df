"""The metric registry: direction and plot range declared once, tasks checked against it, readers use it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

from bench import list_tasks
from bench.contract.errors import ArchbenchError
from bench.contract.metrics import METRICS, Metric, get_metric
from bench.contract.registry import get_task_entry
from bench.contract.spec import TaskSpec
from bench.contract.task import Task
from bench.report.aggregate import Cell, CellKey
from bench.report.publish import marks
from bench.train.metrics import make_metric


def test_registered_metrics_direction_and_plot_range() -> None:
    assert list(METRICS) == ["accuracy", "exact_match", "macro_accuracy", "sequence_mean_accuracy", "r2"]
    for name in ("accuracy", "exact_match", "macro_accuracy", "sequence_mean_accuracy"):
        assert (get_metric(name).low, get_metric(name).high) == (0.0, 1.0)
    r2 = get_metric("r2")
    assert (r2.low, r2.high) == (-1.0, 1.0)  # r2 has no lower bound: charts stop at -1 (see the module docstring)
    assert all(metric.name == name and metric.low < metric.high for name, metric in METRICS.items())


def test_every_registered_metric_is_higher_is_better() -> None:
    """The harness's early stop at solved_at, lr selection and the sample-complexity search compare with >=:
    a lower-is-better metric must make them read `higher_is_better` before it is registered."""
    assert all(metric.higher_is_better for metric in METRICS.values())


def test_unknown_metric_is_one_line_naming_the_valid_ones() -> None:
    with pytest.raises(
        ArchbenchError,
        match=r"^unknown metric 'f1'; valid: accuracy, exact_match, macro_accuracy, sequence_mean_accuracy, r2$",
    ):
        get_metric("f1")


def test_best_and_better_follow_the_direction() -> None:
    up, down = Metric("score", True, 0.0, 1.0), Metric("loss", False, 0.0, math.inf)
    assert up.best([0.2, 0.9, 0.5]) == 0.9 and down.best([0.2, 0.9, 0.5]) == 0.2
    assert up.better(0.9, 0.2) and not up.better(0.2, 0.2) and down.better(0.2, 0.9)


def test_every_task_names_a_registered_metric_with_an_implementation() -> None:
    spec = TaskSpec(input_kind="tokens", output_kind="class", seq_len=4, max_seq_len=4, vocab_size=3, num_classes=3)
    for name in METRICS:
        assert make_metric(name, spec) is not None  # bench.train.metrics implements every registered metric
    for task in list_tasks():
        assert get_task_entry(task).obj.metric in METRICS


def test_macro_accuracy_is_the_mean_per_class_recall_over_scored_positions() -> None:
    """MAD's rule (torchmetrics' default multiclass average): per-class recall over the masked positions, averaged
    over the classes that occur as a target or a prediction; unmasked positions never count."""
    spec = TaskSpec(input_kind="tokens", output_kind="class", seq_len=6, max_seq_len=6, vocab_size=4, num_classes=4)
    y = torch.tensor([[0, 0, 0, 1, 2, 3]])
    mask = torch.tensor([[True, True, True, True, True, False]])
    guess = torch.tensor([[0, 0, 1, 1, 1, 3]])  # class 0: 2/3 right, class 1: 1/1, class 2: 0/1; position 5 unscored
    preds = torch.nn.functional.one_hot(guess, 4).float()
    macro, micro = make_metric("macro_accuracy", spec), make_metric("accuracy", spec)
    macro.update(preds, y, mask)
    micro.update(preds, y, mask)
    assert float(macro.compute()) == pytest.approx((2 / 3 + 1 + 0) / 3)  # class 3 neither a scored target nor predicted
    assert float(micro.compute()) == pytest.approx(3 / 5)
    never_a_target = torch.nn.functional.one_hot(torch.tensor([[0, 0, 0, 1, 3, 3]]), 4).float()
    macro.reset()
    macro.update(never_a_target, y, mask)  # class 3 predicted at a scored position but never a target there: recall 0
    assert float(macro.compute()) == pytest.approx((1 + 1 + 0 + 0) / 4)


def test_a_task_class_with_an_unregistered_metric_fails_when_defined() -> None:
    with pytest.raises(
        ArchbenchError,
        match=r"task class [\w.<>]*\.Bad: metric must be one of accuracy, exact_match, macro_accuracy, "
        r"sequence_mean_accuracy, r2; "
        r"got 'f1'",
    ):

        @dataclass
        class Bad(Task):
            metric = "f1"


def _scores(preds: list[list[int]], y: list[list[int]], mask: list[list[bool]]) -> dict[str, float]:
    """Every class metric on one batch of hard predictions (one-hot over 3 classes)."""
    spec = TaskSpec(input_kind="tokens", output_kind="class", seq_len=4, max_seq_len=4, vocab_size=3, num_classes=3)
    logits = torch.nn.functional.one_hot(torch.tensor(preds), 3).float()
    out = {}
    for name in ("accuracy", "exact_match", "macro_accuracy", "sequence_mean_accuracy"):
        metric = make_metric(name, spec)
        metric.update(logits, torch.tensor(y), torch.tensor(mask))
        out[name] = float(metric.compute())
    return out


def test_sequence_mean_accuracy_weighs_every_sequence_the_same() -> None:
    """Row 0 scores 4 tokens and gets 1 right, row 1 scores 1 token and gets it right, row 2 scores nothing:
    pooled accuracy 2/5, the mean of the two sequences' accuracies (1/4 + 1) / 2 = 5/8, exact match 1/2."""
    y = [[0, 1, 2, 0], [1, 1, 1, 1], [2, 2, 2, 2]]
    preds = [[0, 0, 0, 1], [2, 1, 0, 0], [0, 0, 0, 0]]
    mask = [[True, True, True, True], [False, True, False, False], [False, False, False, False]]
    scores = _scores(preds, y, mask)
    assert scores["accuracy"] == pytest.approx(2 / 5) and scores["exact_match"] == pytest.approx(1 / 2)
    assert scores["sequence_mean_accuracy"] == pytest.approx(5 / 8)
    one_target = [[True, False, False, False]] * 3  # one target per sequence: the same as accuracy
    scores = _scores(preds, y, one_target)
    assert scores["sequence_mean_accuracy"] == pytest.approx(scores["accuracy"]) == pytest.approx(1 / 3)


def test_sequence_mean_accuracy_accumulates_over_batches() -> None:
    spec = TaskSpec(input_kind="tokens", output_kind="class", seq_len=2, max_seq_len=2, vocab_size=2, num_classes=2)
    metric = make_metric("sequence_mean_accuracy", spec)
    right = torch.nn.functional.one_hot(torch.tensor([[1, 1]]), 2).float()
    metric.update(right, torch.tensor([[1, 0]]), torch.tensor([[True, True]]))  # 1/2
    metric.update(right, torch.tensor([[1, 1]]), torch.tensor([[True, False]]))  # 1
    assert float(metric.compute()) == pytest.approx(3 / 4)


def _cell(arch: str, values: list[float], metric: str) -> Cell:
    key = CellKey("t", "{}", arch, "{}", None, "{}")
    records = [
        {"status": "ok", "seed": s, "metrics": {"metric": metric, "in_distribution": v}} for s, v in enumerate(values)
    ]
    return Cell(key, arch, records)


def test_leaderboard_best_mark_follows_the_metric_direction(monkeypatch: pytest.MonkeyPatch) -> None:
    low, high = [0.10, 0.11, 0.12], [0.80, 0.81, 0.82]
    cells = [_cell("a", low, "accuracy"), _cell("b", high, "accuracy")]
    assert marks(cells) == {id(cells[1]): "best"}
    monkeypatch.setitem(METRICS, "loss", Metric("loss", False, 0.0, 10.0))
    cells = [_cell("a", low, "loss"), _cell("b", high, "loss")]
    assert marks(cells) == {id(cells[0]): "best"}  # lower is better: the smaller mean wins
