"""qSTR and simple-qSTR: semantics checked independently of any model (parsing, brute force, hand-set attention)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import task_checks as checks
import torch

from bench import get_task
from bench.cli.main import main
from bench.run.sample_complexity import load_results
from bench.train.data import fixed_set

TASKS = ["qstr", "simple_qstr"]


def brute_force_targets(task, x: torch.Tensor) -> tuple[list[list[float]], list[list[list[int]]]]:
    """Recompute every answer slot's target from the input alone, in plain Python: split each token into its
    parts, find for every query code the one prompt position carrying it (exact match), then apply the target
    y = (1/sqrt q) sum_j <u_j, x_{t_j}>. Returns the targets and the recovered positions per example."""
    d, k, q = task.d, task.codes_dim, task.q
    N = x.shape[1] // 2
    targets, positions = [], []
    for row in x.tolist():
        prompt, answers = row[:N], row[N:]
        own_codes = [tuple(tok[d : d + k]) for tok in prompt]
        assert len(set(own_codes)) == N  # codes are distinct, so a query names one position
        ys, ts = [], []
        for i, slot in enumerate(answers):
            assert slot[-1] == 1.0 and all(v == 0.0 for v in slot[: d + k])  # answer slot: no data, no own code
            assert prompt[i][-1] == 0.0 and slot[d + k : -1] == prompt[i][d + k : -1]  # same query as token i
            chosen = [own_codes.index(tuple(slot[d + k + j * k : d + k + (j + 1) * k])) for j in range(q)]
            value = sum(
                sum(u * v for u, v in zip(task.readout[j].tolist(), prompt[t][:d])) for j, t in enumerate(chosen)
            )
            ys.append(value / math.sqrt(q))
            ts.append(chosen)
        targets.append(ys)
        positions.append(ts)
    return targets, positions


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("q", [1, 2])
def test_targets_equal_brute_force_recomputation_from_the_input(name: str, q: int) -> None:
    task = get_task(name, d=3, q=q, length=6)
    batch = task.sample(40, 6, torch.Generator().manual_seed(q))
    targets, positions = brute_force_targets(task, batch.x)
    assert torch.allclose(batch.y[:, 6:, 0], torch.tensor(targets), atol=1e-5)
    assert batch.mask.tolist() == [[False] * 6 + [True] * 6] * 40
    assert torch.all(batch.y[:, :6] == 0)
    if name == "simple_qstr":  # one set of positions per example, shared by every output
        assert all(len({tuple(t) for t in ts}) == 1 for ts in positions)
    else:  # each output its own positions: over 40 examples, outputs of one example differ
        assert sum(len({tuple(t) for t in ts}) > 1 for ts in positions) > 30
    every = [t for ts in positions for slot in ts for t in slot]
    assert set(every) == set(range(6))  # every position gets named


def test_readout_is_what_the_targets_use_by_least_squares() -> None:
    """Fit y on the retrieved tokens without using the task's readout: the fit is exact and equals u / sqrt(q)."""
    task = get_task("qstr", d=4, q=2, length=8)
    batch = task.sample(200, 8, torch.Generator().manual_seed(0))
    _, positions = brute_force_targets(task, batch.x)
    features = torch.stack(
        [
            torch.cat([batch.x[b, positions[b][i][j], : task.d] for j in range(task.q)])
            for b in range(200)
            for i in range(8)
        ]
    ).double()
    fitted = torch.linalg.lstsq(features, batch.y[:, 8:, 0].reshape(-1, 1).double()).solution[:, 0]
    assert torch.allclose(fitted.float(), task.readout.flatten() / math.sqrt(2), atol=1e-4)
    assert torch.allclose(task.readout.norm(dim=1), torch.ones(2))


def test_paper_code_dimension_and_hypercube_codes() -> None:
    for n, k in [(2, 3), (4, 6), (12, 12), (16, 13), (33, 17), (64, 20)]:  # floor(5 ln N)
        task = get_task("qstr", length=n)
        assert task.codes_dim == k and task.spec().input_dim == task.d + 2 * k + 1
        codes = task.code_table
        assert codes.shape == (n, k) and torch.allclose(codes.abs(), torch.full_like(codes, k**-0.5))
        assert torch.unique(codes, dim=0).shape[0] == n
    task = get_task("qstr", length=16)
    batch = task.sample(4, 16, torch.Generator().manual_seed(0))
    assert torch.equal(batch.x[0, :16, 10:23], batch.x[1, :16, 10:23])  # one table, shared by every sample
    assert not torch.equal(task.code_table, get_task("qstr", length=16, code_seed=1).code_table)
    assert get_task("qstr", length=16, code_dim=4).spec().input_dim == 10 + 8 + 1


@pytest.mark.parametrize("name", TASKS)
def test_handset_attention_one_head_per_slot_solves_it(name: str) -> None:
    """The transformer construction: each answer slot's j-th query code scores beta * <query, own code> over
    the prompt, a softmax retrieves x_{t_j}, the readout is linear."""
    task = get_task(name, d=5, q=2, length=12)
    d, k, q = task.d, task.codes_dim, task.q

    def predict(batch) -> torch.Tensor:
        N = batch.x.shape[1] // 2
        prompt, answers = batch.x[:, :N], batch.x[:, N:]
        preds = torch.zeros_like(batch.y)
        for j in range(q):
            query = answers[:, :, d + k + j * k : d + k + (j + 1) * k]
            weights = torch.softmax(200.0 * query @ prompt[:, :, d : d + k].transpose(1, 2), dim=-1)
            preds[:, N:, 0] += (weights @ prompt[:, :, :d]) @ task.readout[j] / math.sqrt(q)
        return preds

    checks.assert_solves_every_length(task, 1000, predict, above=0.999, metric="r2")


@pytest.mark.parametrize("name", TASKS)
def test_chance_mean_predictor_scores_zero(name: str) -> None:
    task = get_task(name)
    _, test = checks.assert_mean_constant_at_chance(task, 4000, 0.01)
    assert task.chance == 0.0
    values = test.y[test.mask]
    assert abs(float(values.mean())) < 0.05 and abs(float(values.var()) - 1.0) < 0.05  # centred, unit variance
    noise = torch.randn(test.y.shape, generator=torch.Generator().manual_seed(0))
    assert checks.score(task, task.length, noise, test) < task.chance  # a random predictor is worse than chance


@pytest.mark.parametrize("name", TASKS)
def test_determinism_and_disjoint_streams(name: str) -> None:
    task = get_task(name)
    checks.assert_deterministic_and_disjoint(task, 8, 16, same=torch.allclose)
    checks.assert_vector_batch(task.spec(), fixed_set(task, 8, 16, seed=0, stream="train"))
    assert task.spec().seq_len == task.spec().max_seq_len == 32 and task.spec().targets == "several"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"eval_lengths": (32,)}, r"eval_lengths must be empty .*got \(32,\)"),
        ({"length": 1}, r"length \(N\) must be >= 2; got 1"),
        ({"q": 0}, r"q must be > 0; got 0"),
        ({"d": 0}, r"d must be > 0; got 0"),
        ({"code_dim": 3}, r"code_dim must be >= 1 and give 2\^code_dim >= length=16 distinct codes; got 3"),
        ({"solved_at": 0.0}, r"solved_at must be in \(0, 1\]; got 0.0"),
    ],
)
def test_invalid_parameters_name_value_and_range(params: dict, message: str) -> None:
    for name in TASKS:
        checks.assert_refused(name, params, message)


def test_sampling_another_length_is_refused() -> None:
    with pytest.raises(Exception, match=r"samples only at its training length N=16.*got 32"):
        get_task("qstr").sample(2, 32, torch.Generator())


@pytest.mark.parametrize("name", TASKS)
def test_smoke_and_paper_profiles(name: str) -> None:
    task = checks.smoke_task(name, 8)
    assert (task.length, task.d) == (4, 4)
    paper = get_task(name, **type(task).profile_params["paper"])
    # the paper's d and q, and the largest N of its grid for that task (qSTR 2..12, simple-qSTR 25..33)
    assert (paper.d, paper.q, paper.length) == (10, 1, {"qstr": 12, "simple_qstr": 33}[name])


def test_sample_complexity_over_n_is_one_command(tmp_path: Path, capsys) -> None:
    """`--set task.length=N` repeated is a grid: the search runs once per N (and architecture), each N its own
    configuration with its own code dimension; every search is stored with its N."""
    args = [
        "sample-complexity",
        "--task",
        "qstr",
        "--arch",
        "lstm",
        "--profile",
        "smoke",
        "--n-min",
        "16",
        "--n-max",
        "16",
        "--max-steps",
        "20",
        "--set",
        "task.length=3",
        "--set",
        "task.length=6",
        "--results",
        str(tmp_path),
    ]
    assert main(args) == 0  # every search ran (the tiny runs need not solve the task)
    out = capsys.readouterr().out
    assert "lstm [length=3]" in out and "lstm [length=6]" in out
    results = load_results(tmp_path, "qstr")
    assert sorted(r["task_config"]["length"] for r in results) == [3, 6]
    assert all(r["status"] == "ok" and [e["n"] for e in r["evaluations"]] == [16] for r in results)
    runs = [json.loads(line) for line in (tmp_path / "qstr.jsonl").read_text().splitlines()]
    assert sorted({r["task_config"]["length"] for r in runs}) == [3, 6]
