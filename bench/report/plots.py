"""Leaderboard figures: one metric-vs-x chart per task, every architecture on the same axes with 95% bands.

Two charts per task use this: the metric against the training-set size (sample complexity) and against
the sequence length (length generalization). They take plain `Series` (no records), so they are easy to
test and to reuse. matplotlib is the optional `plots` extra: it is imported only here, only when a plot
is drawn, through the object-oriented `Figure` API with the Agg canvas (no pyplot, no display, no global
backend switch). Files are written atomically (`bench.results.atomic`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.contract.errors import ArchbenchError
from bench.report.style import family_order, family_styles
from bench.results.atomic import atomic_path

PLOT_FORMATS = ("png", "svg")
_LINESTYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class Series:
    """One line: `mean[i]` at `x[i]` with its interval [`low[i]`, `high[i]`]; None where there is no value
    (n/a: the model cannot take that length) or no interval (one seed)."""

    label: str
    family: str
    x: Sequence[float]
    mean: Sequence[float | None]
    low: Sequence[float | None]
    high: Sequence[float | None]


def family_rank(family: str) -> tuple[int, str]:
    """Sort key: the registry's order (`bench.report.style`), unregistered families after it alphabetically."""
    return family_order([family]).index(family), family


def require_matplotlib() -> Any:
    """The `Figure` class, or a one-line `ArchbenchError` saying how to install the extra."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise ArchbenchError("plots need matplotlib: pip install 'archbench[plots]' (or pass --no-plots)") from None
    matplotlib.rcParams["svg.hashsalt"] = "archbench"  # stable SVG ids, so an unchanged plot diffs empty
    return Figure


def _style(series: Sequence[Series]) -> dict[str, dict[str, Any]]:
    """Colour and marker by family (`bench.report.style`, the same in every chart), line style by variant
    within the family (e.g. codes=fixed dashed)."""
    pairs = family_styles(s.family for s in series)
    seen: dict[str, int] = {}
    styles = {}
    for s in series:
        variant = seen.get(s.family, 0)
        seen[s.family] = variant + 1
        colour, marker = pairs[s.family]
        styles[s.label] = {"color": colour, "marker": marker, "linestyle": _LINESTYLES[variant % len(_LINESTYLES)]}
    return styles


def curve_plot(
    path: str | Path,
    series: Sequence[Series],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    chance: float | None = None,
    solved_at: float | None = None,
    train_x: float | None = None,
    log_x: bool = True,
    floor: float | None = None,
    ceiling: float | None = None,
) -> Path:
    """Draw `series` on one axes with shaded 95% bands and write `path` (.png or .svg).

    Reference lines: `chance` (dotted), `solved_at` (dash-dot) and the training length `train_x` (dashed
    vertical). Values below `floor` (e.g. r2 of -40 far out of distribution) are drawn at the floor and
    the axes says so, so one collapsed model cannot squash every other curve flat. Bands are cut at
    `floor` and `ceiling`, the metric's range (a t interval of accuracies near 0 reaches below 0).
    """
    Figure = require_matplotlib()
    fig = Figure(figsize=(7.2, 4.0), layout="constrained")
    ax = fig.subplots()
    styles = _style(series)
    clipped = False
    for s in series:
        points = [
            (x, m, lo, hi) for x, m, lo, hi in zip(s.x, s.mean, s.low, s.high) if m is not None and math.isfinite(m)
        ]
        if not points:
            continue
        xs = [p[0] for p in points]
        clip = (lambda v: v) if floor is None else (lambda v: max(v, floor))
        clipped |= floor is not None and any(p[1] < floor for p in points)
        ax.plot(xs, [clip(p[1]) for p in points], label=s.label, linewidth=1.6, markersize=4.5, **styles[s.label])
        top = (lambda v: v) if ceiling is None else (lambda v: min(v, ceiling))
        band = [(p[0], clip(p[2]), top(p[3])) for p in points if p[2] is not None and p[3] is not None]
        if band:
            ax.fill_between(
                [b[0] for b in band],
                [b[1] for b in band],
                [b[2] for b in band],
                color=styles[s.label]["color"],
                alpha=0.15,
                linewidth=0,
            )
    if chance is not None:
        ax.axhline(chance, color="0.45", linestyle=":", linewidth=1.0, label=f"chance ({chance:.3g})")
    if solved_at is not None:
        ax.axhline(solved_at, color="0.3", linestyle="-.", linewidth=0.9, label=f"solved at {solved_at:g}")
    if train_x is not None:
        ax.axvline(train_x, color="0.6", linestyle="--", linewidth=0.9, label=f"training length ({train_x:g})")
    if log_x:
        ax.set_xscale("log", base=2 if train_x is not None else 10)
        _plain_ticks(ax, sorted({x for s in series for x, m in zip(s.x, s.mean) if m is not None}))
    if clipped and floor is not None:  # clipped implies a floor
        ax.set_ylim(bottom=floor - 0.05)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel + (f"  (values below {floor:g} drawn at {floor:g})" if clipped else ""))
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3, linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    path = Path(path)
    fmt = path.suffix.lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ArchbenchError(f"unknown plot format {fmt!r}; valid: {', '.join(PLOT_FORMATS)}")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=200, metadata={"Software": None} if fmt == "png" else {"Date": None})
    return path


def _plain_ticks(ax: Any, xs: list[float], most: int = 12) -> None:
    """Label a log axis at the measured x values as plain numbers (16, 32, 1,024), not 2^4 or 10^3."""
    if not xs or len(xs) > most:
        return
    doublings = [x for x in xs if x >= 1 and float(x).is_integer() and int(x) & (int(x) - 1) == 0]
    labelled: list[float] = []
    if len(doublings) >= 2:  # a sample-complexity search: label its doublings, not the bisection points between
        labelled = doublings
    else:
        for x in xs:  # otherwise label a value only if it stands 1.3x apart from the last one labelled
            if not labelled or x >= 1.3 * labelled[-1]:
                labelled.append(x)
    ax.set_xticks(labelled, [f"{x:,.0f}" for x in labelled])
    ax.minorticks_off()
