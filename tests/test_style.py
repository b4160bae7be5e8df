"""Plot style from the registry: every family its own (colour, marker) pair, the same in every chart."""

from __future__ import annotations

from bench import list_architectures
from bench.report.plots import Series, _style, family_rank
from bench.report.style import COLOURS, MARKERS, family_order, family_styles


def test_every_registered_family_gets_a_distinct_pair() -> None:
    styles = family_styles()
    assert set(styles) == set(list_architectures())
    assert len(set(styles.values())) == len(styles)
    assert styles["transformer"] != styles["attention1"]  # once both blue circles


def test_pairs_stay_distinct_well_beyond_todays_registry() -> None:
    """Colour i mod 10, marker i mod 9: distinct for the first 90 families, plugins included."""
    plugins = [f"plugin_{i:03d}" for i in range(len(COLOURS) * len(MARKERS) - len(list_architectures()))]
    styles = family_styles(plugins)
    assert len(styles) == len(COLOURS) * len(MARKERS) and len(set(styles.values())) == len(styles)


def test_order_is_the_sorted_registry_then_unregistered_families() -> None:
    registered = list_architectures()
    assert family_order() == sorted(registered)
    assert family_order(["zz_plugin", "aa_plugin", "transformer"]) == [*sorted(registered), "aa_plugin", "zz_plugin"]
    assert sorted(["aa_plugin", *reversed(registered)], key=family_rank) == [*sorted(registered), "aa_plugin"]
    # a family keeps its pair whatever else a chart shows
    assert family_styles(["aa_plugin"])["transformer"] == family_styles()["transformer"]


def test_curve_styles_follow_the_family_and_vary_the_line_within_it() -> None:
    def series(label: str, family: str) -> Series:
        return Series(label, family, [1.0], [0.5], [None], [None])

    styles = _style(
        [
            series("transformer", "transformer"),
            series("transformer pos=rope", "transformer"),
            series("attention1", "attention1"),
            series("mine", "unregistered_plugin"),
        ]
    )
    pairs = family_styles(["unregistered_plugin"])
    for label, family in (
        ("transformer", "transformer"),
        ("attention1", "attention1"),
        ("mine", "unregistered_plugin"),
    ):
        assert (styles[label]["color"], styles[label]["marker"]) == pairs[family]
    assert styles["transformer pos=rope"]["color"] == styles["transformer"]["color"]
    assert styles["transformer pos=rope"]["linestyle"] != styles["transformer"]["linestyle"]
