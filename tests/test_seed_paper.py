"""docs/seed-paper.md: its figures recompute from records (synthetic records of the planned experiments,
checked against means computed here), and the committed page is what the generator makes from the
committed records."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.report import seed_paper as sp
from bench.results.stats import mean_ci
from bench.results.store import RecordStore
from bench.run.job import make_run_record
from bench.run.sample_complexity import result_store
from bench.run.width_complexity import SUBDIR as WIDTH_SUBDIR
from bench.run.width_complexity import make_result, parse_axis

ROOT = Path(__file__).resolve().parent.parent


def metrics(
    seed: int,
    by_length: Mapping[int, float | None],
    losses: list[float],
    aligns: list[float] | None,
    first_095: int | None,
) -> dict[str, Any]:
    steps = [50 * (i + 1) for i in range(len(losses))]
    val = [[s, 0.96 if first_095 is not None and s >= first_095 else 0.5] for s in steps]
    out: dict[str, Any] = {
        "metric": "r2",
        "by_length": {str(n): v for n, v in by_length.items()},
        "in_distribution": by_length[16],
        "val_history": val,
        "val_loss_history": [[s, v] for s, v in zip(steps, losses)],
        "samples_seen": steps[-1] * 128,
        "num_parameters": 4096,
    }
    if aligns is not None:
        out["diagnostics_history"] = [
            [s, {"alignment": a, "w_norm": 1.0, "w_scale": 0.1}] for s, a in zip(steps, aligns)
        ]
    return out


STOCH = {s: {16: 0.99 - 0.001 * s, 64: 0.96 - 0.01 * s, 256: 0.7} for s in sp.ALL_SEEDS}
FIXED = {s: {16: 1.0, 64: 0.05 + 0.01 * s, 256: 0.1} for s in sp.ALL_SEEDS}
LOSSES = {s: [1.0 + 0.1 * s, 0.5 + 0.05 * s, 0.01 * (s + 1)] for s in sp.ALL_SEEDS}
ALIGNS = {s: [0.1 * s, 0.9, 0.99 + 0.001 * s] for s in sp.ALL_SEEDS}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    records = RecordStore(root)
    for run in sp.PAPER_STOCHASTIC.runs():
        m = metrics(run.seed, STOCH[run.seed], LOSSES[run.seed], ALIGNS[run.seed], 100)
        records.append(make_run_record(run, m, None, "test"))  # type: ignore[arg-type]
    for run in sp.PAPER_FIXED.runs():
        m = metrics(run.seed, FIXED[run.seed], [1.0, 0.5, 0.1], ALIGNS[run.seed], 50)
        records.append(make_run_record(run, m, None, "test"))  # type: ignore[arg-type]
    # attention1 with a learning rate chosen on validation seeds (not the profile's): found by its stored lr
    for run in sp.GENERIC[0].runs():
        run.train.lr = 0.01
        reach = 200 if run.seed < 2 else None  # seeds 0, 1 reach 0.95 at step 200; the rest never do
        m = metrics(run.seed, {16: 0.8, 32: 0.6, 64: 0.4, 256: 0.1}, [1.0, 0.9, 0.8, 0.7], None, reach)
        records.append(make_run_record(run, m, None, "test"))  # type: ignore[arg-type]
    widths = result_store(root, WIDTH_SUBDIR)
    for length, estimate in zip(sp.SCALING_LENGTHS, (10, 14, None, 22)):
        experiment = sp.scaling("sts_attention", "seed-paper-search", length)
        runs = experiment.runs(sp.REPORTED_SEEDS)
        measured = {
            "status": "ok",
            "estimate": estimate,
            "bracket": [None if estimate is None else estimate - 2, estimate] if estimate else [256, None],
            "text": f"{estimate} in [{estimate - 2}, {estimate}]" if estimate else "> 256",
            "path": "",
            "parameters": [None, None if estimate is None else estimate * estimate],
            "evaluations": [],
        }
        axis = parse_axis("task.code_dim", "sts_attention")
        widths.append(make_result(runs, axis, measured, 2, 256, 1.25, "seed-paper-search", "test"))
    return root


def test_convergence_figures_are_the_means_of_the_stored_curves(store: Path) -> None:
    records = sp.records_for(sp.PAPER_STOCHASTIC, RecordStore(store).latest())
    assert [r["seed"] for r in records] == list(sp.ALL_SEEDS)
    loss = dict(sp.loss_curve(records))
    expected = mean_ci([LOSSES[s][-1] for s in sp.ALL_SEEDS])
    assert loss[150].mean == pytest.approx(expected.mean) and loss[150].low == pytest.approx(expected.low)
    align = dict(sp.alignment_curve(records))
    assert align[50].mean == pytest.approx(statistics.mean(0.1 * s for s in sp.ALL_SEEDS))
    page = sp.render(store)
    assert f"| 150 | {expected.format(4)} |" in page.text
    plotted = page.plots["convergence-alignment.png"]["series"][0]
    assert list(plotted.x) == [50.0, 100.0, 150.0] and plotted.mean[1] == pytest.approx(0.9)


def test_length_table_and_the_bar_recompute_from_the_records(store: Path) -> None:
    text = sp.render(store).text
    at_64 = mean_ci([STOCH[s][64] for s in sp.ALL_SEEDS])
    worst_64 = min(STOCH[s][64] for s in sp.ALL_SEEDS)
    assert f"| 64 (code dim) | {at_64.format()} | {worst_64:.3f} |" in text
    assert "every seed r2 >= 0.95 at the training length (worst seed): **met** (0.985)" in text
    assert f"every seed r2 >= 0.9 at 4x (64) (worst seed): **met** ({worst_64:.3f})" in text
    assert "fixed codes, every seed r2 < 0.5 at 4x (64) (best seed): **met** (0.100)" in text


def test_width_table_and_growth_are_read_from_the_stored_searches(store: Path) -> None:
    text = sp.render(store).text
    assert "| sts_attention | 8 | 0,1,2 | task.code_dim | 10 in [8, 10] | 100 |" in text
    assert "| sts_attention | 32 | 0,1,2 | task.code_dim | > 256 | n/a |" in text
    ratio, log_ratio, t_ratio = 22 / 10, math.log(64) / math.log(8), 64 / 8
    assert f"- sts_attention: width x{ratio:.2f} from T = 8 to T = 64; q log T predicts x{log_ratio:.2f}, " in text
    assert f"T·d predicts x{t_ratio:.2f}" in text
    assert "No searches yet" in text  # the sample searches are not stored: the page says which command makes them


def test_generic_table_finds_runs_by_their_selected_learning_rate(store: Path) -> None:
    text = sp.render(store).text
    # seeds 0, 1 reach 0.95 at step 200 (200 x 64 samples), 2-5 never: the median is infinite -> "> samples seen"
    row = next(line for line in text.splitlines() if line.startswith("| attention1 |"))
    assert "| 0.01 | 0,1,2,3,4,5 | > 25,600 |" in row
    assert mean_ci([0.4] * 6).format() in row


def test_an_empty_store_names_every_command(tmp_path: Path) -> None:
    text = sp.render(tmp_path).text
    assert all(command in text for command in sp.commands())
    assert text.count("No records yet") == 2 and sp.RUN_PAPER in text and sp.RUN_GENERIC in text
    for arch in sp.WIDTH_SEARCHES:
        assert sp.width_command(arch, sp.CHECK_SEEDS) in text
    assert sp.samples_command("fcn", sp.REPORTED_SEEDS) in text


def test_check_mode_and_plots(store: Path, tmp_path: Path) -> None:
    page = tmp_path / "seed-paper.md"
    assert sp.main(["--results", str(store), "--out", str(page), "--check"]) == 1 and not page.exists()
    pytest.importorskip("matplotlib")
    assert sp.main(["--results", str(store), "--out", str(page)]) == 0
    assert sp.main(["--results", str(store), "--out", str(page), "--check"]) == 0
    for name in ("convergence-loss.png", "convergence-alignment.png", "lengths.png", "width.png"):
        assert (tmp_path / sp.PLOT_DIR / name).read_bytes()[:4] == b"\x89PNG"


def test_the_committed_page_is_what_the_generator_makes_from_the_committed_records() -> None:
    committed = (ROOT / sp.PAGE).read_text(encoding="utf-8")
    assert committed == sp.render(ROOT / "results" / "runs").text, (
        "docs/seed-paper.md is out of date: run `python -m bench.report.seed_paper`"
    )


def test_the_page_commands_plan_the_runs_the_page_reads() -> None:
    """The commands printed on the page make exactly the records and searches the page looks up."""
    import shlex

    from bench.cli.commands.run import plan_from_args
    from bench.cli.main import parse_args

    def planned(command: str) -> list[Any]:
        args = parse_args(shlex.split(command)[1:])
        return plan_from_args(args, {})

    paper = {r.key for r in planned(sp.RUN_PAPER)}
    assert paper == {r.key for e in (sp.PAPER_STOCHASTIC, sp.PAPER_FIXED) for r in e.runs()}
    generic = planned(sp.RUN_GENERIC)  # --lr auto: the same runs up to the learning rate
    assert {(r.arch, r.seed, r.task.config()["length"]) for r in generic} == {
        (r.arch, r.seed, r.task.config()["length"]) for e in sp.GENERIC for r in e.runs()
    }
    for arch, (profile, _, _, _) in sp.WIDTH_SEARCHES.items():
        runs = planned(sp.width_command(arch, sp.REPORTED_SEEDS))
        configs = {canonical(r.task.config()) for r in runs}
        expected = {canonical(sp.scaling(arch, profile, t).task_config()) for t in sp.SCALING_LENGTHS}
        assert configs == expected and {r.seed for r in runs} == set(sp.REPORTED_SEEDS)
    for arch, (profile, lengths, _) in sp.SAMPLE_SEARCHES.items():
        runs = planned(sp.samples_command(arch, sp.CHECK_SEEDS))
        assert {canonical(r.task.config()) for r in runs} == {
            canonical(sp.scaling(arch, profile, t).task_config()) for t in lengths
        }


def canonical(value: Any) -> str:
    from bench.results.schema import canonical_json

    return canonical_json(value)
