"""Aggregation over seeds: a mean with a named 95% confidence interval, and "do two samples differ beyond noise".

Every interval says which method made it (`Estimate.method`), because with the handful of seeds a CPU
benchmark can afford the choice matters. Methods:

* `t` — Student-t interval, mean ± t_{0.975, n-1} · s / sqrt(n). Exact for normal errors at any n.
* `percentile` — percentile bootstrap of the mean (fixed RNG seed, so reproducible).
* `bca` — bias-corrected and accelerated bootstrap (Efron 1987), same resamples.

`DEFAULT_METHOD` is `t`: `coverage()` measures how often each method's interval contains the true mean;
at 3 to 10 seeds the bootstraps fall short of 95% while `t` stays near it, so `t` is used unless a caller
asks otherwise. The evidence is a generated page, never typed numbers: `python -m bench.results.stats
--markdown docs/statistics-coverage.md` writes it (seeded, so the same page every time).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
METHODS = {"t": "Student-t", "percentile": "percentile bootstrap", "bca": "BCa bootstrap"}
DEFAULT_METHOD = "t"
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 0

# Two-sided 97.5% quantiles of Student's t by degrees of freedom (scipy.stats.t.ppf(0.975, df), rounded;
# scipy is not a dependency).
_T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}


def t_quantile(df: float) -> float:
    """t_{0.975, df}; a df between tabulated values (Welch's are fractional) uses the next smaller one,
    which widens the interval slightly rather than narrowing it."""
    if df < 1:
        raise ValueError(f"t_quantile needs df >= 1; got {df}")
    return _T975[max(k for k in _T975 if k <= df)]


@dataclass(frozen=True)
class Estimate:
    """Mean over `n` seeds with its 95% interval [low, high] (None when n < 2) made by `method`."""

    mean: float
    low: float | None
    high: float | None
    n: int
    method: str = DEFAULT_METHOD

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    @property
    def symmetric(self) -> bool:
        """Bootstrap intervals are not centred on the mean; those are shown as [low, high], not ±."""
        return self.method == "t"

    def interval_text(self, digits: int = 3) -> str:
        """`mean ± half` (t) or `mean [low, high]` (bootstrap); the bare mean when there is no interval."""
        if self.low is None or self.high is None:
            return f"{self.mean:.{digits}f}"
        if self.symmetric:
            return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def format(self, digits: int = 3) -> str:
        """The figure with its seed count and, when there is an interval, the method that made it."""
        if self.low is None:
            return f"{self.interval_text(digits)} (n={self.n})"
        return f"{self.interval_text(digits)} (n={self.n}, 95% {self.method})"


def method_label(method: str = DEFAULT_METHOD) -> str:
    """How tables name an interval, e.g. `95% CI, Student-t`."""
    return f"{int(CONFIDENCE * 100)}% CI, {METHODS[method]}"


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; valid: {', '.join(METHODS)}")


def mean_ci(
    values: Iterable[float],
    method: str = DEFAULT_METHOD,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Estimate:
    """Mean and 95% interval over seeds by `method` (`t`, `percentile` or `bca`)."""
    _check_method(method)
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = sum(data) / n
    if n < 2:
        return Estimate(mean, None, None, n, method)
    if method == "t":
        half = t_quantile(n - 1) * statistics.stdev(data) / math.sqrt(n)
        return Estimate(mean, mean - half, mean + half, n, method)
    low, high = _bootstrap_interval(np.asarray(data), method, resamples, seed)
    return Estimate(mean, low, high, n, method)


def _bootstrap_interval(data: np.ndarray, method: str, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile or BCa interval of the mean from `resamples` resamples drawn with a fixed seed."""
    mean = float(data.mean())
    if np.all(data == data[0]):
        return mean, mean  # every resample is the same: no spread to report
    rng = np.random.default_rng(seed)
    boot = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    alpha = (1 - CONFIDENCE) / 2
    if method == "percentile":
        return float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha))
    normal = statistics.NormalDist()
    below = (np.sum(boot < mean) + 0.5 * np.sum(boot == mean)) / resamples
    z0 = normal.inv_cdf(min(max(below, 1 / resamples), 1 - 1 / resamples))
    jack = (data.sum() - data) / (data.size - 1)  # leave-one-out means
    dev = jack.mean() - jack
    denom = 6 * float(np.sum(dev**2)) ** 1.5
    accel = float(np.sum(dev**3)) / denom if denom > 0 else 0.0

    def adjusted(quantile: float) -> float:
        z = normal.inv_cdf(quantile)
        return normal.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))

    return float(np.quantile(boot, adjusted(alpha))), float(np.quantile(boot, adjusted(1 - alpha)))


@dataclass(frozen=True)
class MedianEstimate:
    """Median over `n` values with a distribution-free interval [low, high] and its exact `coverage`.

    Values may be infinite (a seed that never solved counts as infinitely many samples): order statistics
    need no finite values, which is why the median and its interval, not the mean, summarise to-solve figures.
    `low`/`high` are None when n < 2."""

    median: float
    low: float | None
    high: float | None
    n: int
    coverage: float | None


def median_interval(values: Iterable[float], confidence: float = CONFIDENCE) -> MedianEstimate:
    """Median and the order-statistic interval [x_(k), x_(n+1-k)] for the population median.

    Distribution-free: the number of values below the median is Binomial(n, 1/2), so the interval covers
    the median with probability exactly 1 - 2 P(B <= k - 1). The narrowest such interval (largest k) whose
    coverage reaches `confidence` is taken; with too few values for any (n <= 5 at 95%) it is the range
    [min, max], whose coverage 1 - 2^(1-n) is reported as it is (0.75 at 3 seeds, 0.94 at 5) rather than
    widened by assumption. No bootstrap: at 3 seeds it has 10 distinct resamples and cannot handle the
    infinite values of unsolved seeds.
    """
    data = sorted(float(v) for v in values)
    n = len(data)
    if n == 0:
        raise ValueError("median_interval needs at least one value")
    median = float(statistics.median(data))  # +inf values are fine: (x + inf) / 2 is inf
    if n < 2:
        return MedianEstimate(median, None, None, n, None)
    best = 1
    for k in range(1, n // 2 + 1):
        if _order_coverage(n, k) >= confidence:
            best = k
        else:
            break
    return MedianEstimate(median, data[best - 1], data[n - best], n, _order_coverage(n, best))


def _order_coverage(n: int, k: int) -> float:
    """P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(Binomial(n, 1/2) <= k - 1)."""
    tail = sum(math.comb(n, i) for i in range(k)) / 2**n
    return 1 - 2 * tail


@dataclass(frozen=True)
class Difference:
    """Verdict of `differ`: mean(a) - mean(b), its 95% Welch interval, and whether it excludes zero.

    `differs` is False whenever there is too little data to tell (then `low`/`high` are None and
    `reason` says why): "not shown to differ" is the honest default, never "same".
    """

    difference: float | None
    low: float | None
    high: float | None
    differs: bool
    n_a: int
    n_b: int
    method: str = "welch-t"
    reason: str = ""

    def format(self, digits: int = 3) -> str:
        if self.difference is None or self.low is None:
            return f"undetermined ({self.reason})"
        verdict = "differ" if self.differs else "within noise"
        return (
            f"{self.difference:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}] "
            f"(95% {self.method}, n={self.n_a} vs {self.n_b}): {verdict}"
        )


def differ(a_values: Iterable[float | None], b_values: Iterable[float | None]) -> Difference:
    """Whether two architectures' per-seed values differ beyond noise: a 95% Welch interval of the
    difference of means that excludes zero. None values (n/a, unsolved) are dropped first.

    Each side needs two values to estimate its noise; with fewer the verdict is "undetermined". Zero
    variance on both sides gives a zero-width interval (identical runs over seeds: any difference is real).
    """
    a = [float(v) for v in a_values if v is not None]
    b = [float(v) for v in b_values if v is not None]
    diff = (sum(a) / len(a) - sum(b) / len(b)) if a and b else None
    if len(a) < 2 or len(b) < 2:
        return Difference(diff, None, None, False, len(a), len(b), reason="needs at least 2 values on each side")
    assert diff is not None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(diff, diff, diff, diff != 0, len(a), len(b))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    half = t_quantile(max(df, 1.0)) * se
    low, high = diff - half, diff + half
    return Difference(diff, low, high, low > 0 or high < 0, len(a), len(b))


def coverage(
    method: str,
    n: int,
    trials: int = 2000,
    seed: int = 0,
    draw: Callable[[random.Random], float] | None = None,
    true_mean: float = 0.0,
    resamples: int = 1000,
) -> float:
    """Fraction of `trials` samples of size `n` whose 95% interval by `method` contains `true_mean`.

    `draw` samples one value (default: standard normal, so `true_mean` 0). A nominal 95% method should
    give 0.95 within about ±2·sqrt(0.95·0.05/trials).
    """
    _check_method(method)
    rng = random.Random(seed)
    draw = draw or (lambda r: r.gauss(0.0, 1.0))
    hits = 0
    for trial in range(trials):
        est = mean_ci([draw(rng) for _ in range(n)], method, resamples=resamples, seed=trial)
        hits += est.low is not None and est.high is not None and est.low <= true_mean <= est.high
    return hits / trials


COVERAGE_TRIALS = 2000  # samples per cell of the generated table; the simulation error shrinks as 1/sqrt(trials)
COVERAGE_RESAMPLES = (
    1000  # bootstrap resamples per interval in the simulation (`mean_ci` itself uses BOOTSTRAP_RESAMPLES)
)
COVERAGE_SIZES = (3, 5, 10)
COVERAGE_PAGE = "docs/statistics-coverage.md"


def coverage_table(trials: int = COVERAGE_TRIALS) -> list[list[object]]:
    """Coverage of each method at 3, 5 and 10 seeds on a normal and on a skewed (exponential) distribution.

    Deterministic: every cell's simulation starts from seed 0 (and each trial's bootstrap from its index),
    so the table depends on `trials` only."""
    rows: list[list[object]] = []
    for label, draw, true_mean in (("normal(0, 1)", None, 0.0), ("exponential(1)", lambda r: r.expovariate(1.0), 1.0)):
        for n in COVERAGE_SIZES:
            rows.append(
                [label, n]
                + [
                    f"{coverage(m, n, trials, draw=draw, true_mean=true_mean, resamples=COVERAGE_RESAMPLES):.3f}"
                    for m in METHODS
                ]
            )
    return rows


def simulation_error(trials: int, nominal: float = CONFIDENCE) -> float:
    """Two binomial standard errors of a coverage estimated from `trials` samples, at the nominal level."""
    return 2 * math.sqrt(nominal * (1 - nominal) / trials)


def coverage_markdown(trials: int = COVERAGE_TRIALS) -> str:
    """The generated page `docs/statistics-coverage.md`: how the table was made, then the table."""
    from tabulate import tabulate

    table = tabulate(
        coverage_table(trials),
        headers=["distribution", "seeds (n)"] + [f"{m} coverage" for m in METHODS],
        tablefmt="github",
    )
    return "\n".join(
        [
            "# Coverage of the 95% intervals",
            "",
            f"Generated by `python -m bench.results.stats --trials {trials} --markdown {COVERAGE_PAGE}`; do not edit by "
            "hand. Method and reasoning: [statistics.md](statistics.md).",
            "",
            f"Each cell draws {trials:,} samples of n values from the distribution, makes each method's nominal 95% "
            "interval of the mean from every sample and reports the fraction of intervals that contain the true mean. "
            f"Bootstrap intervals use {COVERAGE_RESAMPLES:,} resamples here. Simulation error: about "
            f"±{simulation_error(trials):.3f} (two binomial standard errors at 0.95). The simulation is seeded, so the "
            f"table is the same on every run; `--trials` trades run time (linear in it) for a smaller error "
            "(as one over its square root).",
            "",
            table,
            "",
        ]
    )


if __name__ == "__main__":  # python -m bench.results.stats: the coverage evidence behind DEFAULT_METHOD
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m bench.results.stats", description="Coverage of each interval method."
    )
    parser.add_argument(
        "--trials", type=int, default=COVERAGE_TRIALS, help=f"samples per cell (default: {COVERAGE_TRIALS})"
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help=f"write the page (e.g. {COVERAGE_PAGE}) instead of printing"
    )
    args = parser.parse_args()
    page = coverage_markdown(args.trials)
    if args.markdown is None:
        print(page)
    else:
        args.markdown.write_text(page, encoding="utf-8")
        print(f"wrote {args.markdown}")
