"""Statistics: intervals against known values, their coverage on known distributions, and `differ`."""

from __future__ import annotations

import math
import random

import pytest

from bench.results.stats import (
    DEFAULT_METHOD,
    METHODS,
    coverage,
    differ,
    mean_ci,
    median_interval,
    method_label,
    t_quantile,
)

SIM_ERROR = 3 * math.sqrt(0.95 * 0.05 / 2000)  # three standard errors of a coverage from 2000 trials


def test_t_interval_known_values() -> None:
    est = mean_ci([1.0, 2.0, 3.0])
    assert est.mean == 2.0 and est.n == 3 and est.method == "t"
    assert est.half_width == pytest.approx(4.303 * 1.0 / 3**0.5, rel=1e-4)
    assert est.format() == "2.000 ± 2.484 (n=3, 95% t)"
    single = mean_ci([5.0])
    assert single.low is None and single.format() == "5.000 (n=1)"


def test_t_quantile_table_and_fractional_df() -> None:
    assert t_quantile(2) == 4.303 and t_quantile(11) == 2.201
    assert t_quantile(11.7) == t_quantile(11)  # fractional (Welch) df rounds down: wider, never narrower
    assert t_quantile(500) == 1.980
    with pytest.raises(ValueError):
        t_quantile(0.5)


@pytest.mark.parametrize("n", [3, 10])
def test_default_method_covers_95_percent_on_a_normal(n: int) -> None:
    assert DEFAULT_METHOD == "t"
    assert abs(coverage(DEFAULT_METHOD, n, trials=2000, seed=n) - 0.95) < SIM_ERROR


def test_percentile_bootstrap_undercovers_at_three_seeds() -> None:
    # The evidence for the default: at n=3 the bootstrap's interval is far too narrow (docs/statistics-coverage.md).
    assert coverage("percentile", 3, trials=400, resamples=400) < 0.85


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_bootstrap_is_reproducible_and_sensible(method: str) -> None:
    rng = random.Random(1)
    values = [rng.gauss(5.0, 1.0) for _ in range(200)]
    a, b = mean_ci(values, method), mean_ci(values, method)
    assert a == b and a.method == method and not a.symmetric
    assert a.low < a.mean < a.high
    t = mean_ci(values, "t")  # with many values every method agrees with the normal approximation
    assert a.low == pytest.approx(t.low, abs=0.05) and a.high == pytest.approx(t.high, abs=0.05)
    assert "[" in a.interval_text() and f"95% {method}" in a.format()
    assert mean_ci([2.0, 2.0, 2.0], method).low == 2.0  # no spread, no interval width


def test_unknown_method_and_empty_input() -> None:
    with pytest.raises(ValueError, match="valid: t, percentile, bca"):
        mean_ci([1.0, 2.0], "jackknife")
    with pytest.raises(ValueError):
        mean_ci([])
    assert method_label() == "95% CI, Student-t" and set(METHODS) == {"t", "percentile", "bca"}


def test_differ_clearly_different_and_identical_samples() -> None:
    clear = differ([0.90, 0.91, 0.92], [0.10, 0.12, 0.11])
    assert clear.differs and clear.difference == pytest.approx(0.8) and clear.low > 0
    same = differ([0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    assert not same.differs and same.difference == 0 and same.low < 0 < same.high
    overlapping = differ([0.50, 0.62, 0.55], [0.52, 0.60, 0.58])
    assert not overlapping.differs
    assert "within noise" in overlapping.format() and "differ" in clear.format()


def test_differ_edge_cases() -> None:
    one = differ([0.9], [0.1, 0.2, 0.15])
    assert not one.differs and one.low is None and one.difference == pytest.approx(0.75)
    assert "at least 2" in one.format()
    empty = differ([None, None], [0.1, 0.2])
    assert empty.difference is None and not empty.differs
    equal_constant = differ([1.0, 1.0], [1.0, 1.0, 1.0])
    assert not equal_constant.differs and equal_constant.low == equal_constant.high == 0
    constant_apart = differ([1.0, 1.0], [0.0, 0.0])
    assert constant_apart.differs and constant_apart.low == 1.0
    with_none = differ([0.9, None, 0.91, 0.92], [0.1, 0.11, None, 0.12])
    assert with_none.differs and (with_none.n_a, with_none.n_b) == (3, 3)


def test_median_interval_is_the_order_statistic_interval_with_its_exact_coverage() -> None:
    # n = 3: only [min, max] exists; it covers the median with 1 - 2 * (1/2)^3 = 0.75, reported as such
    three = median_interval([30.0, 10.0, 20.0])
    assert (three.median, three.low, three.high, three.n) == (20.0, 10.0, 30.0, 3)
    assert three.coverage == pytest.approx(0.75)
    # n = 6: [min, max] reaches 1 - 2/64 = 0.969 >= 0.95, the next pair (0.78) does not
    six = median_interval(range(6))
    assert (six.low, six.high) == (0.0, 5.0) and six.coverage == pytest.approx(1 - 2 / 64)
    # n = 10: [x(2), x(9)], coverage 1 - 2 * 11/1024 (the binomial tail), the narrowest reaching 95%
    ten = median_interval(range(1, 11))
    assert (ten.low, ten.high, ten.median) == (2.0, 9.0, 5.5)
    assert ten.coverage == pytest.approx(1 - 2 * 11 / 1024) and ten.coverage >= 0.95
    one = median_interval([7.0])
    assert one.low is None and one.coverage is None and one.median == 7.0
    with pytest.raises(ValueError):
        median_interval([])


def test_median_interval_takes_unsolved_seeds_as_infinite() -> None:
    est = median_interval([640.0, math.inf, 1280.0])
    assert est.median == 1280.0 and est.low == 640.0 and est.high == math.inf
    assert median_interval([640.0, math.inf, math.inf]).median == math.inf


def test_median_interval_covers_at_its_stated_rate() -> None:
    """Coverage by simulation on a skewed distribution (its median is log 2): the stated coverage is exact."""
    rng = random.Random(0)
    for n in (3, 10):
        stated = median_interval(range(n)).coverage
        hits = 0
        for _ in range(2000):
            est = median_interval([rng.expovariate(1.0) for _ in range(n)])
            hits += est.low <= math.log(2) <= est.high
        assert abs(hits / 2000 - stated) < 3 * math.sqrt(stated * (1 - stated) / 2000)
