"""Aggregation over seeds: mean with a 95% confidence interval, and a test for "differs beyond noise"."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

# Two-sided 97.5% quantiles of Student's t, by degrees of freedom (scipy is not a dependency).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000}


def t_quantile(df: int) -> float:
    """t_{0.975, df}; between tabulated values the next smaller df is used (conservative)."""
    if df in _T975:
        return _T975[df]
    if df > 60:
        return 1.96
    return _T975[max(k for k in _T975 if k <= df)]


@dataclass(frozen=True)
class Estimate:
    """Mean over `n` seeds with its 95% interval [low, high] (None when n < 2)."""

    mean: float
    low: float | None
    high: float | None
    n: int
    method: str = "t"

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def format(self, digits: int = 3) -> str:
        if self.half_width is None:
            return f"{self.mean:.{digits}f} (n={self.n})"
        return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f} (n={self.n})"


def mean_ci(values: Sequence[float]) -> Estimate:
    """Mean and Student-t 95% interval over seeds."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean, None, None, n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)
