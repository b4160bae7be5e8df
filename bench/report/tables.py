"""Summaries of run records as tabulate tables (the `run` command's output; the leaderboard reuses them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from bench.results.measures import (
    at_length,
    median_to_solve,
    over_seeds,
    run_beyond_training_mean,
    solved_count,
)
from bench.results.stats import DEFAULT_METHOD, method_label

NA = "n/a"


def group_records(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """(task, label) -> that configuration's records over seeds, in first-seen order."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        groups[(record["task"], record["label"])].append(record)
    return groups


def cell(values: list[float | None], digits: int = 3, method: str = DEFAULT_METHOD) -> str:
    """Mean and 95% interval (by `method`, named in the table's heading) over the values that exist
    (`measures.over_seeds`); n/a when none does."""
    estimate = over_seeds(values, method)
    return NA if estimate is None else estimate.interval_text(digits)


def run_table(records: Sequence[Mapping[str, Any]], tablefmt: str = "github") -> str:
    """One row per configuration: metric at every length and beyond training, solve figures, speed, size.
    Every figure is a `bench.results.measures` function, as on the leaderboard."""
    groups = group_records(records)
    if not groups:
        return "(no runs)"
    lengths = sorted({int(k) for r in records if r.get("metrics") for k in r["metrics"]["by_length"]})
    train_lengths = {r["task_config"].get("length") for r in records}
    metric = next((r["metrics"]["metric"] for r in records if r.get("metrics")), "metric")
    headers = ["architecture", "params", "state", f"seeds (± is {method_label()})", "solved"]
    headers += [f"{metric} @{n}" + (" (train)" if n in train_lengths else "") for n in lengths]
    headers += [f"{metric} beyond training (mean)", "samples to solve (median)", "train samples/s", "wall s"]
    rows = []
    for (_task, label), group in groups.items():
        ok = [r for r in group if r["status"] == "ok"]
        failed = [r for r in group if r["status"] != "ok"]
        if not ok:
            reason = failed[0].get("error") or "failed"
            rows.append([label, NA, NA, len(group), f"failed: {reason}"[:90]] + [NA] * (len(lengths) + 4))
            continue
        m = [r["metrics"] for r in ok]
        done, total = solved_count(m)
        state = m[0].get("state_size")
        row = [
            label,
            m[0]["num_parameters"],
            state if state is not None else NA,
            f"{len(ok)}" + (f" (+{len(failed)} failed)" if failed else ""),
            f"{done}/{total}",
        ]
        row += [cell([at_length(x, n) for x in m]) for n in lengths]
        row += [
            cell([run_beyond_training_mean(x, int(r["task_config"]["length"])) for r, x in zip(ok, m)]),
            median_to_solve(m),
            cell([x["train_samples_per_s"] for x in m], 0),
            cell([x["wall_time_s"] for x in m], 1),
        ]
        rows.append(row)
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
