"""Profiles as data: the shipped TOML, user profile files (by path or ARCHBENCH_PROFILES), `extends`,
and one-line errors naming the file and the bad key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.contract.errors import ArchbenchError
from bench.contract.registry import get_architecture, get_task_entry, list_architectures, list_tasks
from bench.run.plan import plan
from bench.run.profiles import PROFILES, PROFILES_ENV, get_profile, load_profiles


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_profiles_ship_with_the_package() -> None:
    assert resources.files("bench.run").joinpath("profiles.toml").is_file()
    assert list(PROFILES) == [
        "smoke",
        "quick",
        "claims",
        "paper",
        "sts-small",
        "zoology",
        "standard",
        "seed-paper",
        "seed-paper-search",
        "seed-paper-generic",
        "seed-paper-generic-search",
    ]
    smoke, quick, paper = (get_profile(n) for n in ("smoke", "quick", "paper"))
    assert (smoke.preset, smoke.seeds, smoke.train["steps"]) == ("tiny", (0,), 20)
    assert (quick.preset, quick.seeds, quick.train["steps"], quick.train["lr"]) == ("tiny", (0,), 300, 3e-3)
    assert quick.train_overrides("sparse_token_selection")["steps"] == 1500
    assert (paper.preset, paper.seeds) == ("base", (0, 1, 2, 3, 4))
    assert paper.train["steps"] > quick.train["steps"] and paper.train["test_samples"] > quick.train["test_samples"]
    assert all(p.sample_complexity["n_min"] < p.sample_complexity["n_max"] for p in PROFILES.values())


def test_resizing_the_quick_screen_cannot_change_a_claim() -> None:
    """The claims run under their own profile: no claim has a budget or follow-up keyed by the screen's
    name, and `claims` keeps the settings the claims were built on (three seeds, batch 32), with the
    tasks' sizes looked up under its own name, so neither an edit to `quick` in profiles.toml nor a task's
    `profile_params["quick"]` reaches a claim's runs."""
    from bench.claims.catalogue import CLAIMS

    keyed_quick = [name for name, c in CLAIMS.items() if "quick" in c.budgets or "quick" in c.follow_ups]
    assert keyed_quick == []
    assert all("claims" in c.budgets for name, c in CLAIMS.items() if name != "sts-length")  # sts-length: profile's
    claims = get_profile("claims")
    assert (claims.preset, claims.seeds, claims.train["batch_size"]) == ("tiny", (0, 1, 2), 32)
    assert claims.task_sizes == "claims" and claims.core_tasks == ()


def test_paper_profile_uses_each_tasks_paper_sizes_and_plans_every_task() -> None:
    paper = get_profile("paper")
    assert paper.task_params("copy") == get_task_entry("copy").obj.profile_params["paper"]
    assert get_profile("quick").task_params("copy") == {}  # quick is the tasks' defaults
    for task in list_tasks():
        (run,) = plan(task, ["transformer"], paper, seeds=[0])
        assert run.preset == "base" and run.train.steps == paper.train["steps"]
        assert run.task.config()["length"] == run.task.length


def test_user_file_extends_a_builtin_and_overrides_per_task(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[mine]
extends = "paper"
description = "paper sizes, small models, two seeds"
preset = "small"
seeds = [0, 1]
[mine.train]
steps = 500
[mine.tasks.copy.params]
length = 30
[mine.tasks.copy.train]
lr = 0.01
[mine.tasks.copy.arch.transformer]
heads = 2
[mine.arch.transformer]
pos = "rope"
heads = 1
""",
    )
    mine = get_profile(str(path))
    assert (mine.name, mine.preset, mine.seeds, mine.task_sizes, mine.source) == (
        "mine",
        "small",
        (0, 1),
        "paper",
        str(path),
    )
    assert mine.train == {**PROFILES["paper"].train, "steps": 500}  # tables merge key by key
    assert mine.task_params("copy") == {**get_task_entry("copy").obj.profile_params["paper"], "length": 30}
    assert (
        mine.train_overrides("copy")["lr"] == 0.01
        and mine.train_overrides("mqar")["lr"] == PROFILES["paper"].train["lr"]
    )
    # The family's table applies to every task; the task's own goes on top.
    assert mine.arch_overrides("copy", "transformer") == {"pos": "rope", "heads": 2}
    assert mine.arch_overrides("mqar", "transformer") == {"pos": "rope", "heads": 1}
    assert mine.arch_overrides("copy", "lstm") == {}
    (run,) = plan("copy", ["transformer"], mine, seeds=[0])
    assert (run.task.length, run.train.lr, run.train.steps, run.arch_config["heads"]) == (30, 0.01, 500, 2)
    assert run.arch_config["pos"] == "rope" and run.label == "transformer"  # the profile's setting is no departure


def test_profiles_env_and_file_colon_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path,
        """
[a]
extends = "smoke"
seeds = [7]
[b]
extends = "a"
preset = "small"
""",
    )
    with pytest.raises(ArchbenchError, match=r"defines a, b; pick one: .*mine.toml:NAME"):
        get_profile(str(path))
    assert get_profile(f"{path}:b").seeds == (7,) and get_profile(f"{path}:b").preset == "small"
    assert get_profile(f"{path}:b").task_sizes == "smoke"
    with pytest.raises(ArchbenchError, match="has no profile 'c'; valid: a, b"):
        get_profile(f"{path}:c")
    monkeypatch.setenv(PROFILES_ENV, str(path))
    assert get_profile("b").source == str(path)
    with pytest.raises(
        ArchbenchError,
        match="unknown profile 'huge'; valid: smoke, quick, claims, paper, sts-small, zoology, standard, .*, a, b",
    ):
        get_profile("huge")


BAD = [
    ("[x]\nextends = 'smoke'\nseed = [1]\n", "profile 'x' in .*: unknown key 'seed'. Did you mean 'seeds'?"),
    ("[x]\ndescription = 'd'\npreset = 'tiny'\n", "missing key\\(s\\) seeds, train"),
    ("[x]\nextends = 'smoke'\nseeds = []\n", "seeds must be a non-empty list of integers"),
    ("[x]\nextends = 'smoke'\nseeds = ['a']\n", "seeds must be a non-empty list of integers"),
    ("[x]\nextends = 'nope'\n", "extends unknown profile 'nope'; valid: .*smoke"),
    ("[x]\nextends = 'y'\n[y]\nextends = 'x'\n", "`extends` makes a cycle: x -> y -> x"),
    ("[x]\nextends = 'smoke'\n[x.sample_complexity]\nn_min = 64\nn_max = 8\n", "n_min <= n_max"),
    ("[x]\nextends = 'smoke'\n[x.tasks.copy]\nparam = {}\n", "tasks.copy: unknown key 'param'. Did you mean 'params'?"),
    ("[x]\nextends = 'smoke'\n[x.tasks.copy]\narch = {transformer = 3}\n", "arch must be a table of tables"),
    ("[x]\nextends = 'smoke'\narch = {transformer = 3}\n", "profile 'x' in .*: arch must be a table of tables"),
    ("[x\n", "is not valid TOML"),
    ("", "defines no profile"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_profile_files_fail_with_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ArchbenchError, match=message):
        load_profiles(write(tmp_path, text), PROFILES)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[x]\nextends = 'smoke'\n[x.train]\nstepz = 5\n",
            r"profile 'x' in .*, train: unknown key 'stepz'. Did you mean 'steps'\?",
        ),
        ("[x]\nextends = 'smoke'\n[x.train]\nsteps = 0\n", "profile 'x' in .*, train: steps must be > 0; got 0"),
        ("[x]\nextends = 'smoke'\n[x.tasks.nope.params]\nlength = 3\n", r"tasks.nope: unknown task 'nope'"),
        ("[x]\nextends = 'smoke'\n[x.tasks.copy.train]\nbatch = 3\n", r"tasks.copy, train: unknown key 'batch'"),
    ],
)
def test_settings_are_checked_when_the_profile_is_used(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    load_profiles(path, PROFILES)  # loading stays cheap: no harness, no registry
    with pytest.raises(ArchbenchError, match=message):
        get_profile(str(path))


def test_missing_profile_file_and_cli_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ArchbenchError, match="profile file '.*nothere.toml' does not exist"):
        get_profile(str(tmp_path / "nothere.toml"))
    bad = write(tmp_path, "[x]\nextends = 'smoke'\nsteps = 3\n")
    assert (
        main(
            ["run", "--task", "copy", "--arch", "transformer", "--profile", str(bad), "--results", str(tmp_path / "r")]
        )
        == 2
    )
    assert "unknown key 'steps'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_zoology_profile_is_zoologys_figure_2_setting() -> None:
    """Zoology's figure 2 (its released config): MQAR, vocabulary 8192, its layout (power law 0.01, filler between
    queries), (L, pairs) = (64, 4), a fixed training set of 100,000 examples, 3,000 test examples, batch 512,
    64 epochs, two-layer models, no MLP wherever a family can drop it."""
    zoology = get_profile("zoology")
    assert zoology.task_sizes == "zoology" and zoology.preset == "small"
    (run,) = plan("mqar", ["transformer"], zoology, seeds=[0])
    assert run.task.config() == {
        "vocab_size": 8192,
        "layout": "zoology",
        "power_a": 0.01,
        "random_non_queries": False,
        "length": 64,
        "min_pairs": 4,
        "max_pairs": 4,
        "scale_pairs": True,
        "eval_lengths": [],
        "solved_at": 0.99,
    }
    train = run.train
    assert (train.n_train, train.test_samples, train.val_samples, train.batch_size) == (100_000, 3_000, 3_000, 512)
    assert train.steps == 64 * -(-100_000 // 512) and train.steps % train.eval_every == 0
    assert (run.arch_config["layers"], run.arch_config["heads"], run.arch_config["pos"]) == (2, 1, "learned")
    for arch in [a for a in list_architectures() if a != "sts_attention"]:  # that one reads only its own layout
        (planned,) = plan("mqar", [arch], zoology, seeds=[0])  # every family plans under the profile
        parameters = get_architecture(arch).parameters()
        if "mlp" in parameters:
            assert planned.arch_config["mlp"] is False, arch
        elif arch in ("mingru", "minlstm"):
            assert planned.arch_config["mlp_ratio"] == 0.0
        if "layers" in parameters:
            assert planned.arch_config["layers"] == 2, arch
    # the other figure-2 points are the same profile with the task's length and pairs set
    for length, pairs in ((128, 8), (256, 16)):
        (point,) = plan(
            "mqar",
            ["transformer"],
            zoology,
            seeds=[0],
            task_grid=[{"length": length, "min_pairs": pairs, "max_pairs": pairs}],
        )
        config = point.task.config()
        assert (config["length"], config["min_pairs"], config["max_pairs"], config["layout"]) == (
            length,
            pairs,
            pairs,
            "zoology",
        )


def test_zoology_profile_builds_attention_without_mlp() -> None:
    from bench.contract.registry import build_architecture

    (run,) = plan("mqar", ["transformer"], get_profile("zoology"), seeds=[0])
    model = build_architecture("transformer", run.task.spec(), **run.arch_config)
    assert not any("mlp" in name for name, _ in model.named_modules())
    with_mlp = build_architecture("transformer", run.task.spec(), **{**run.arch_config, "mlp": True})
    assert any("mlp" in name for name, _ in with_mlp.named_modules())
