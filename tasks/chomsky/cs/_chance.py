"""The chance level of a context-sensitive task whose answer is a sequence: the best constant class.

A constant predictor writes one class c at every scored output position. How it scores depends on how the
metric averages: pooled over every scored token of a batch (archbench's `accuracy`), its score is
E[#c] / E[#scored] over the training distribution; averaged per sequence first (a per-sequence mean metric),
it is E[#c / #scored]. Both need, at each training input length N, the expected number of tokens of each
class, the expected number of scored tokens and the expected share of each class in one sequence
(`LengthSummary`); the task computes those for its own outputs (exactly, or by a stated method) and
`best_constant` combines them, N uniform over the training lengths (Delétang et al. 2023 train on
lengths uniform in 1..40).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

POOLED_METRIC = "accuracy"  # tokens pooled over the batch; any other Chomsky metric averages per sequence


@dataclass(frozen=True)
class LengthSummary:
    """A constant predictor's bookkeeping at one input length: per class c, E[#c] (`counts`) and E[#c / #scored]
    (`shares`); and E[#scored] (`size`)."""

    counts: tuple[float, ...]
    size: float
    shares: tuple[float, ...]


def digits_then_end(probability: Sequence[float], ones: Sequence[float]) -> LengthSummary:
    """The summary of an answer of k binary digits then one end token (classes 0, 1, end), from `probability[k]`
    = P(k digits) and `ones[k]` = E[number of 1 digits; k digits] (the 1s of the answers with k digits, summed
    with their probabilities). Such an answer has k+1 scored tokens."""
    counts = [0.0, 0.0, 0.0]
    shares = [0.0, 0.0, 0.0]
    size = 0.0
    for k, (p, o) in enumerate(zip(probability, ones)):
        tokens = (k * p - o, o, p)  # expected zeros, ones and end tokens among the k-digit answers
        size += (k + 1) * p
        for c in range(3):
            counts[c] += tokens[c]
            shares[c] += tokens[c] / (k + 1)
    return LengthSummary(tuple(counts), size, tuple(shares))


def per_sequence(metric: str) -> bool:
    """Whether `metric` averages accuracy per sequence before averaging sequences (anything but pooled tokens)."""
    return metric != POOLED_METRIC


def best_constant(summaries: Sequence[LengthSummary], metric: str) -> float:
    """The best constant class's score under `metric`, each summary (one input length) equally likely."""
    classes = len(summaries[0].counts)
    if per_sequence(metric):
        return max(sum(s.shares[c] for s in summaries) / len(summaries) for c in range(classes))
    size = sum(s.size for s in summaries)
    return max(sum(s.counts[c] for s in summaries) / size for c in range(classes))
