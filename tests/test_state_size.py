"""The state-size plot (Zoology's figure 2 style): the x value of each family (a recorded state, or attention's
key/value cache at the training length), the series from fabricated MQAR records, and the plot publish writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.contract.registry import build_architecture, get_task
from bench.report.aggregate import group_cells
from bench.report.publish import publish
from bench.report.state_size import cache_size, state_size_series
from bench.results.schema import RunRecord, make_record, run_key
from bench.results.store import RecordStore
from tests.leaderboard_records import TRAIN, metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MQAR = {
    "vocab_size": 256,
    "length": 64,
    "min_pairs": 4,
    "max_pairs": 8,
    "scale_pairs": True,
    "eval_lengths": [128, 256],
    "solved_at": 0.9,
}


def mqar_record(arch: str, preset: str, arch_config: dict, seed: int, value: float, state: int | None) -> RunRecord:
    m = {**metrics(value, arch), "metric": "accuracy", "state_size": state}
    m["by_length"] = {"64": value, "128": value / 2, "256": value / 4}
    return make_record(
        key=run_key("mqar", MQAR, arch, arch_config, TRAIN, seed),
        task="mqar",
        task_config=MQAR,
        arch=arch,
        arch_config=arch_config,
        preset=preset,
        train_config=TRAIN,
        seed=seed,
        metrics=m,  # type: ignore[arg-type]
        command="archbench run --task mqar --profile standard",
    )


SIZES = {  # preset -> (transformer d_model, gru state, accuracy of transformer, of gru)
    "tiny": (32, 128, 0.9, 0.1),
    "small": (64, 256, 0.95, 0.3),
    "base": (128, 512, 0.99, 0.6),
}


def records() -> list[RunRecord]:
    out = []
    for preset, (d_model, state, t_acc, g_acc) in SIZES.items():
        for seed in range(2):
            out.append(mqar_record("transformer", preset, {"d_model": d_model, "layers": 2}, seed, t_acc, None))
            out.append(mqar_record("gru", preset, {"hidden": state // 2, "layers": 2}, seed, g_acc, state))
            out.append(mqar_record("hyena", preset, {"d_model": d_model}, seed, 0.5, None))  # no state, no cache
    return out


def test_attention_is_placed_at_its_key_value_cache() -> None:
    assert cache_size("transformer", {"d_model": 64, "layers": 2}, 64) == 2 * 2 * 64 * 64
    assert cache_size("attention1", {"d_model": 48}, 100) == 2 * 48 * 100
    assert cache_size("gru", {"hidden": 64}, 64) is None and cache_size("hyena", {}, 64) is None


def test_the_hybrid_cache_adds_its_mamba_states_as_the_model_declares_them() -> None:
    config = {"d_model": 32, "layers": 4, "attention_every": 2, "heads": 2}
    model = build_architecture("hybrid", get_task("mqar").spec(64), **config)
    fixed = sum(m.state_size for m in model.mixers if m.state_size is not None)
    attention = sum(m.state_size is None for m in model.mixers)
    assert attention == 2 and cache_size("hybrid", config, 64) == fixed + attention * 2 * 32 * 64


def test_series_one_point_per_size_sorted_by_state() -> None:
    series, left_out, few = state_size_series(group_cells(records()))
    by_label = {s.label: s for s in series}
    assert sorted(by_label) == ["gru", "transformer"] and left_out == ["hyena"] and few == []
    assert list(by_label["transformer"].x) == [2 * 2 * d * 64 for d, *_ in SIZES.values()]
    assert list(by_label["transformer"].mean) == pytest.approx([v[2] for v in SIZES.values()])
    assert list(by_label["gru"].x) == [v[1] for v in SIZES.values()]
    assert list(by_label["gru"].mean) == pytest.approx([v[3] for v in SIZES.values()])


def test_publish_draws_the_state_size_plot_and_says_what_it_left_out(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "runs")
    for rec in records():
        store.append(rec)
    text = publish(store, tmp_path / "site" / "LEADERBOARD.md").read_text()
    assert (tmp_path / "site" / "plots" / "mqar_state_size.png").read_bytes()[:8] == PNG_MAGIC
    assert "](plots/mqar_state_size.png)" in text
    assert "key/value cache at the training length T = 64" in text
    assert "Left out (no fixed state and no cache formula): hyena." in text
    assert "Fewer than 3 sizes" not in text


def test_fewer_than_three_sizes_is_said(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "runs")
    for rec in records():
        if rec["preset"] != "base":
            store.append(rec)
    text = publish(store, tmp_path / "L.md").read_text()
    assert "Fewer than 3 sizes so far: gru, transformer" in text
