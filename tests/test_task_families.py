"""Sub-tasks are tasks: each Chomsky task, each state-tracking group and each MAD task is registered, listed and swept by its own name."""

from __future__ import annotations

from bench import list_tasks
from bench.cli.main import main
from bench.contract.registry import get_task_entry
from bench.run.plan import plan
from bench.run.profiles import get_profile

FAMILIES = {
    "even_pairs": "chomsky/regular",
    "cycle_navigation": "chomsky/regular",
    "modular_arithmetic": "chomsky/regular",
    "parity_check": "chomsky/regular",
    "reverse_string": "chomsky/dcf",
    "stack_manipulation": "chomsky/dcf",
    "modular_arithmetic_brackets": "chomsky/dcf",
    "solve_equation": "chomsky/dcf",
    "duplicate_string": "chomsky/cs",
    "missing_duplicate_string": "chomsky/cs",
    "odds_first": "chomsky/cs",
    "binary_addition": "chomsky/cs",
    "binary_multiplication": "chomsky/cs",
    "compute_sqrt": "chomsky/cs",
    "bucket_sort": "chomsky/cs",
    "state_parity": "state_tracking",
    "state_cyclic": "state_tracking",
    "state_s5": "state_tracking",
    "state_a5": "state_tracking",
    "state_modular_arithmetic": "state_tracking",
    "state_modular_arithmetic_brackets": "state_tracking",
    "mad_in_context_recall": "mad",
    "mad_fuzzy_recall": "mad",
    "mad_noisy_recall": "mad",
    "mad_selective_copying": "mad",
    "mad_compression": "mad",
    "mad_memorization": "mad",
}


def test_list_tasks_has_each_sub_task_by_name_and_no_umbrella_task() -> None:
    names = list_tasks()
    assert set(FAMILIES) <= set(names)
    assert "chomsky" not in names and "state_tracking" not in names and "mad" not in names
    assert {name for name in names if get_task_entry(name).obj.family} == set(FAMILIES)  # no other task is grouped
    for name, family in FAMILIES.items():
        assert get_task_entry(name).obj.family == family


def test_archbench_list_tasks_shows_each_by_its_own_name_and_family(capsys) -> None:
    assert main(["list", "tasks"]) == 0
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in capsys.readouterr().out.splitlines()[2:]
    ]
    shown = {row[1]: row[0] for row in rows}
    assert {name: shown.get(name) for name in FAMILIES} == FAMILIES
    families = [row[0] for row in rows]
    assert families == sorted(families)  # the list reads by group


def test_a_sweep_over_all_tasks_plans_every_sub_task() -> None:
    """`sweep` with no --tasks takes `list_tasks()`: every sub-task is planned like any other task."""
    smoke = get_profile("smoke")
    for name in FAMILIES:
        [run] = plan(name, ["lstm"], smoke)
        assert run.task_name == name and run.task.length == smoke.task_params(name)["length"]
