"""Sample-complexity search on synthetic "models" with a known threshold, the step rule, and a real smoke run."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.run.sample_complexity import (
    StepRule,
    geometric_sizes,
    load_results,
    median_passes,
    search,
)
from tests.conftest import PLUGINS


def threshold_model(n_star: int, calls: list[int] | None = None):
    def solves(n: int) -> bool:
        if calls is not None:
            calls.append(n)
        return n >= n_star

    return solves


@pytest.mark.parametrize("n_star", [17, 64, 65, 100, 181, 500, 999, 4096, 5000, 16384])
@pytest.mark.parametrize("ratio", [1.25, 1.5, 2.0])
def test_finds_known_threshold_within_one_bisection_step(n_star: int, ratio: float) -> None:
    calls: list[int] = []
    found = search(threshold_model(n_star, calls), 16, 16384, ratio)
    low, high = found.bracket
    assert low is not None and high is not None
    assert low < n_star <= high  # the bracket holds the true threshold
    assert high / low <= ratio or high - low == 1  # and is as narrow as the stated resolution
    assert found.estimate == high and len(calls) == len(set(calls))  # nothing evaluated twice
    assert found.text() == f"{high:,} in [{low:,}, {high:,}]"


def test_never_solved_reports_above_n_max_and_tries_n_max() -> None:
    calls: list[int] = []
    found = search(threshold_model(10**9, calls), 64, 1000)
    assert calls == [64, 128, 256, 512, 1000] and found.estimate is None
    assert found.bracket == (1000, None) and found.text() == "> 1,000"
    assert found.path() == "64✗ 128✗ 256✗ 512✗ 1000✗"


def test_solved_at_n_min_reports_at_most_n_min() -> None:
    found = search(threshold_model(1), 64, 1024)
    assert found.bracket == (None, 64) and found.text() == "<= 64" and found.evaluated == ((64, True),)


def test_geometric_sizes_and_bad_ranges() -> None:
    assert geometric_sizes(16, 256) == [16, 32, 64, 128, 256]
    assert geometric_sizes(16, 100) == [16, 32, 64, 100] and geometric_sizes(5, 5) == [5]
    with pytest.raises(ArchbenchError, match="n_min <= n_max"):
        search(threshold_model(1), 100, 10)
    with pytest.raises(ArchbenchError, match="ratio must be > 1"):
        search(threshold_model(1), 1, 10, 1.0)


def test_noisy_non_monotone_model_still_brackets_near_the_threshold() -> None:
    """Each seed solves iff n >= n* x lognormal noise (so outcomes are not monotone in n); n passes on the
    median of 3 seeds. The bracket must always be what was observed, and land near n* in most searches."""
    rng = random.Random(0)
    n_star, near, trials = 1000, 0, 200

    def solves(n: int) -> bool:
        per_seed = [{"val_best": 1.0 if n >= n_star * math.exp(rng.gauss(0, 0.3)) else 0.0} for _ in range(3)]
        return median_passes(per_seed, 0.5)

    for _ in range(trials):
        found = search(solves, 16, 65536)
        outcomes = dict(found.evaluated)
        low, high = found.bracket
        assert high is not None and outcomes[high] and (low is None or (not outcomes[low] and low < high))
        assert not any(low is not None and low < n < high for n in outcomes)  # nothing seen inside the bracket
        near += n_star / 2 <= high <= 2 * n_star
    assert near / trials > 0.9


def test_median_passes() -> None:
    def seeds(*best: float | None) -> list[dict]:  # {} is a failed run's metrics (measures.run_metrics)
        return [{"val_history": [[100, 0.0], [200, b]]} if b is not None else {} for b in best]

    assert median_passes(seeds(0.95, 0.2, 0.91), 0.9) and not median_passes(seeds(0.95, 0.2, None), 0.9)
    assert not median_passes([], 0.9) and median_passes(seeds(0.9, 0.9), 0.9)


def test_step_rule() -> None:
    rule = StepRule(epochs=20, min_steps=3000, max_steps=12000)
    assert rule.steps(64, 64) == 3000  # small sets get the online budget
    assert rule.steps(16384, 64) == 5120  # 20 epochs
    assert rule.steps(10**6, 64) == 12000  # capped
    assert StepRule(20, 1, 100).steps(8, 64) == 20  # a set smaller than a batch: one step is one epoch
    assert "clamp(ceil(20 * n / min(batch, n)), 3000, 12000)" in rule.describe()
    with pytest.raises(ArchbenchError):
        StepRule(20, 100, 10)


def test_cli_end_to_end_on_smoke(tmp_path: Path, capsys) -> None:
    # q = length makes the target the mean of all tokens, which a running mean (mean_pool) learns quickly:
    # 32 and 64 samples fail, 128 passes, one bisection (ratio 1.5) tries 91 (`archbench sample-complexity` with
    # these flags prints `91 in [64, 91]`, path `32✗ 64✗ 128✓ 91✓`).
    args = [
        "--plugin",
        str(PLUGINS / "mean_pool_plugin.py"),
        "sample-complexity",
        "--task",
        "sparse_token_selection",
        "--arch",
        "mean_pool",
        "--profile",
        "smoke",
        "--n-min",
        "32",
        "--n-max",
        "128",
        "--ratio",
        "1.5",
        "--max-steps",
        "200",
        "--set",
        "task.q=16",
        "--set",
        "task.solved_at=0.3",
        "--set",
        "task.code_dim=16",
        "--set",
        "task.eval_lengths=32",
        "--results",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "mean_pool [q=16, solved_at=0.3" in out and "online: samples to solve" in out
    [result] = load_results(tmp_path)
    runs = [json.loads(line) for line in (tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()]
    assert {r["key"] for r in runs} == {k for e in result["evaluations"] for k in e["keys"]} | set(
        result["online"]["keys"]
    )
    assert [e["n"] for e in result["evaluations"]] == [int(n.rstrip("✓✗")) for n in result["path"].split()]
    assert all(
        r["n_train"] == e["n"] and r["train_config"]["steps"] == e["steps"]
        for e in result["evaluations"]
        for r in runs
        if r["key"] in e["keys"]
    )
    low, high = result["bracket"]
    outcomes = {e["n"]: e["passed"] for e in result["evaluations"]}
    assert low is not None and high is not None and not outcomes[low] and outcomes[high]
    assert high / low <= 1.5 and len(outcomes) >= 4  # doubling, then at least one bisection step
    assert result["text"] == f"{high} in [{low}, {high}]" and result["text"] in out
    # a rerun trains nothing new and supersedes the stored search
    assert main(args) == 0
    assert len((tmp_path / "sparse_token_selection.jsonl").read_text().splitlines()) == len(runs)
    assert len(load_results(tmp_path)) == 1 and len(load_results(tmp_path, "other")) == 0


def test_cli_bad_range_is_a_user_error(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "sample-complexity",
            "--task",
            "sparse_token_selection",
            "--arch",
            "transformer",
            "--profile",
            "smoke",
            "--n-min",
            "100",
            "--n-max",
            "10",
            "--results",
            str(tmp_path),
        ]
    )
    assert code == 2 and "--n-min must be >= 1 and <= --n-max" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
