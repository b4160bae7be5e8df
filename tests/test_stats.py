"""Statistics helper: the t interval against known values and its coverage on a known distribution."""
from __future__ import annotations

import random

import pytest

from bench.stats import mean_ci


def test_known_values() -> None:
    est = mean_ci([1.0, 2.0, 3.0])
    assert est.mean == 2.0 and est.n == 3
    assert est.half_width == pytest.approx(4.303 * 1.0 / 3**0.5, rel=1e-4)
    single = mean_ci([5.0])
    assert single.low is None and single.format() == "5.000 (n=1)"


def test_coverage_close_to_95_percent() -> None:
    rng = random.Random(0)
    trials, hits = 2000, 0
    for _ in range(trials):
        est = mean_ci([rng.gauss(1.0, 2.0) for _ in range(5)])
        hits += est.low <= 1.0 <= est.high
    assert 0.93 < hits / trials < 0.97
