"""A segment of a run: part of its step budget, continued from a checkpoint (kept apart from the harness so
that planning can name it without importing Lightning)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """Train only up to optimizer step `stop`, continuing from the checkpoint `resume` (None: from the
    start), then save the whole training state to `save`: one rung of a successive-halving search
    (`bench.run.lr_search`), which continues the learning rates it keeps instead of retraining them.
    The continued run restores weights, optimizer and schedule state and the step count, and skips the
    batches already trained on, so the segments of a run train as the run would have in one piece.
    `evaluate`: score the test sets at the end (a search reads only validation, so it skips them)."""

    stop: int
    save: str
    resume: str | None = None
    evaluate: bool = False
