"""In-context linear regression: predict y_i = w . x_i from the (x, y) pairs shown before it.

Garg, Tsipras, Liang, Valiant 2022, "What Can Transformers Learn In-Context? A Case Study of Simple
Function Classes" (the linear function class; least squares is the optimal estimator to compare with).

For every sample w ~ N(0, I_d) and points x_1..x_N ~ N(0, I_d) (N = `length`); y_i = w . x_i, plus
N(0, noise_std^2) noise when noise_std > 0. The sequence interleaves 2N vectors of size d + 1:
position 2i is the x token [x_i, 0], position 2i + 1 the y token [0, ..., 0, y_i]. The target sits at
every x position (predict y_i before seeing it; causal models may use the earlier pairs only), a
vector of size 1; the mask is True on x positions i >= `skip`. `spec(length).seq_len == 2 * length`.

`skip` defaults to d: with fewer than d earlier points w is not determined, so the scored points are
exactly those where the Bayes-optimal predictor (min-norm least squares, the posterior mean under the
N(0, I) prior without noise) reaches r2 = 1. Set skip=0 for Garg et al.'s full curve: the best
achievable r2 is then about 1 - (d + 1) / (2N). `least_squares_baseline(batch)` gives that estimator's
prediction at every x position, from the preceding pairs only, so the harness can report error
relative to least squares. With noise, plain least squares has its interpolation peak at i = d
points (unbounded error); `least_squares_baseline(batch, ridge=noise_std**2)` is then the optimum,
and the best r2 drops below 1 (about 0.9 at noise_std=0.5 with the defaults: lower solved_at to match).

Metric: r2 over the scored x positions. Chance: the best input-independent predictor is the mean
target, 0, which scores r2 = 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from bench.contract.errors import require
from bench.contract.registry import register_task
from bench.contract.spec import Batch, TaskSpec
from bench.contract.task import Task
from tasks.common import check_lengths, check_positive, check_threshold, vector_spec

NAME = "icl_regression"


@register_task(NAME)
@dataclass
class ICLRegression(Task):
    """In-context linear regression on interleaved (x, y) tokens (Garg et al. 2022)."""

    metric = "r2"
    paper = "Garg, Tsipras, Liang, Valiant 2022, What Can Transformers Learn In-Context? A Case Study of Simple Function Classes"
    # What the source found, in words (bench.report.publish prints it under the task's heading).
    reported = (
        "Transformers trained from scratch learn linear functions in context with error close to the "
        "optimal least-squares estimator."
    )
    profile_params: ClassVar[dict[str, dict[str, Any]]] = {
        "smoke": {"d": 2, "length": 6, "eval_lengths": (12,)},
        "paper": {"d": 20, "length": 40, "eval_lengths": (80, 160)},
    }

    d: int = 5
    length: int = 20  # number of (x, y) points; the model sees 2 * length positions
    eval_lengths: tuple[int, ...] = (40, 80)
    skip: int | None = None  # unscored leading points; None: d (the under-determined ones)
    noise_std: float = 0.0
    solved_at: float = 0.9

    def __post_init__(self) -> None:
        check_positive(NAME, d=self.d)
        check_lengths(NAME, self.length, self.eval_lengths)
        require(self.noise_std >= 0, f"task {NAME!r}: noise_std must be >= 0; got {self.noise_std}")
        require(
            0 <= self.skipped < self.length,
            f"task {NAME!r}: skip must be in [0, length={self.length}) so at least one point is scored; got {self.skipped}",
        )
        check_threshold(NAME, self.solved_at, self.chance)

    @property
    def skipped(self) -> int:
        """The number of leading points left out of loss and metric."""
        return self.d if self.skip is None else self.skip

    @property
    def chance(self) -> float:
        return 0.0  # predicting the mean target (zero) gives r2 = 0

    def spec(self, length: int | None = None) -> TaskSpec:
        return vector_spec(self, length, self.d + 1, 1, positions=lambda n: 2 * n)

    def sample(self, n: int, length: int, generator: torch.Generator) -> Batch:
        require(length > self.skipped, f"task {NAME!r}: length must be > skip={self.skipped}; got {length}")
        w = torch.randn(n, self.d, generator=generator)
        points = torch.randn(n, length, self.d, generator=generator)
        values = torch.einsum("nld,nd->nl", points, w)
        if self.noise_std > 0:
            values = values + self.noise_std * torch.randn(n, length, generator=generator)
        x = torch.zeros(n, 2 * length, self.d + 1)
        x[:, 0::2, : self.d] = points
        x[:, 1::2, self.d] = values
        y = torch.zeros(n, 2 * length, 1)
        y[:, 0::2, 0] = values
        mask = torch.zeros(n, 2 * length, dtype=torch.bool)
        mask[:, 2 * self.skipped :: 2] = True
        return Batch(x, y, mask)

    def least_squares_baseline(self, batch: Batch, ridge: float = 0.0) -> torch.Tensor:
        """Min-norm least squares fitted on the pairs before each x position, predicted there.

        Reads only `batch.x` (never `batch.y`), and at x position 2i only the pairs j < i, so it is
        causal and works on any prefix of a sequence. Returns a tensor shaped like the targets,
        `(B, T, 1)`, zero at y positions and at the first point (no data: the prior mean).
        `ridge` > 0 fits ridge regression instead; ridge = noise_std**2 is the posterior mean, the
        optimal predictor with noise, where plain least squares blows up around i = d points.
        """
        require(ridge >= 0, f"least_squares_baseline: ridge must be >= 0; got {ridge}")
        x = batch.x.double()
        n, positions, _ = x.shape
        points, values = x[:, 0::2, : self.d], x[:, 1::2, self.d]
        preds = torch.zeros(n, positions, 1, dtype=torch.float64)
        eye = torch.eye(self.d, dtype=torch.float64)
        for i in range(1, points.shape[1]):
            seen, targets = points[:, :i], values[:, :i, None]
            if ridge > 0:
                weights = torch.linalg.solve(seen.transpose(1, 2) @ seen + ridge * eye, seen.transpose(1, 2) @ targets)
            else:
                weights = torch.linalg.pinv(seen) @ targets  # (n, d, 1), the min-norm solution
            preds[:, 2 * i, 0] = (points[:, i] * weights[..., 0]).sum(-1)
        return preds.to(batch.x.dtype)
