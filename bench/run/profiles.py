"""Budgets as data: how big, how long and how many seeds a run gets.

The built-in profiles live in `bench/run/profiles.toml` (its header documents the format): `smoke` for CI
(seconds per run), `quick`, the CPU default that shows each task's real behaviour in minutes, `claims`,
the papers' claims' own CPU budgets (`archbench reproduce`; apart from `quick` so that resizing the screen
never changes a claim's runs), and `paper`, the source papers' task sizes with five seeds, which needs a
cluster. Users add their own in
files of the same format, named by `--profile FILE.toml[:NAME]` or listed in `ARCHBENCH_PROFILES`, so
a budget change is an edit to data, never to code. A profile sets the preset, the seeds, the
TrainConfig fields, the sample-complexity search range and per-task overrides (`tasks[name]["params"]`
for task parameters, `["train"]` for TrainConfig fields, `["arch"][family]` for architecture
hyper-parameters). Command-line flags override the profile.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from bench.contract.errors import ArchbenchError

BUILTIN_FILE = Path(__file__).with_name("profiles.toml")
PROFILES_ENV = "ARCHBENCH_PROFILES"
REQUIRED_KEYS = ("description", "preset", "seeds", "train")
PROFILE_KEYS = (
    *REQUIRED_KEYS,
    "extends",
    "task_sizes",
    "sample_complexity",
    "tasks",
    "check_seeds",
    "core_tasks",
    "lr_search",
    "arch",
)
TASK_KEYS = ("params", "train", "arch")
SAMPLE_COMPLEXITY_KEYS = ("n_min", "n_max")
LR_SEARCH_KEYS = ("method", "grid", "seeds", "reduction_factor")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    preset: str
    seeds: tuple[int, ...]
    train: dict[str, Any]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sample_complexity: dict[str, int] = field(default_factory=dict)  # n_min, n_max of the search over n
    task_sizes: str = ""  # whose task `profile_params` apply; "" means this profile's own name
    source: str = "built-in"  # the file that defined it, for error messages and provenance
    # Seeds run beside the reported ones so that every verdict is checked on fresh seeds (`sweep` runs both
    # sets; a record's set follows from its seed).
    check_seeds: tuple[int, ...] = ()
    # The tasks `sweep` runs under this profile unless --tasks says otherwise (empty: every task).
    core_tasks: tuple[str, ...] = ()
    # How the learning rate is chosen per cell (`method`, `grid`, `seeds`, `reduction_factor`); empty: the
    # profile's fixed `train.lr`, unless the command line asks for `--lr auto`.
    lr_search: dict[str, Any] = field(default_factory=dict)
    # Architecture settings per family for every task (`[NAME.arch.FAMILY]`); a task's own
    # `[NAME.tasks.TASK.arch.FAMILY]` goes on top.
    arch: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.task_sizes:
            object.__setattr__(self, "task_sizes", self.name)

    @property
    def all_seeds(self) -> tuple[int, ...]:
        """Reported seeds, then check seeds."""
        return self.seeds + tuple(s for s in self.check_seeds if s not in self.seeds)

    def task_params(self, task: str) -> dict[str, Any]:
        """The task's own parameters for this profile's sizes, then the profile's overrides."""
        from bench.contract.registry import get_task_entry

        sized = getattr(get_task_entry(task).obj, "profile_params", {}).get(self.task_sizes, {})
        return {**sized, **self.tasks.get(task, {}).get("params", {})}

    def train_overrides(self, task: str) -> dict[str, Any]:
        return {**self.train, **self.tasks.get(task, {}).get("train", {})}

    def arch_overrides(self, task: str, arch: str) -> dict[str, Any]:
        return {**self.arch.get(arch, {}), **self.tasks.get(task, {}).get("arch", {}).get(arch, {})}


def load_profiles(path: str | Path, known: dict[str, Profile] | None = None) -> dict[str, Profile]:
    """Every profile in the TOML file `path`, checked key by key; `extends` may name a profile of the
    same file or one of `known` (the built-ins and files loaded before)."""
    path = Path(path)
    if not path.is_file():
        raise ArchbenchError(f"profile file {str(path)!r} does not exist")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchbenchError(f"profile file {str(path)!r} is not valid TOML: {exc}") from None
    if not raw:
        raise ArchbenchError(f"profile file {str(path)!r} defines no profile (one [NAME] table per profile)")
    resolved: dict[str, dict[str, Any]] = {}
    for name in raw:
        _resolve(name, raw, known or {}, path, resolved, ())
    return {name: _build(name, table, path) for name, table in resolved.items()}


def _resolve(
    name: str,
    raw: dict[str, Any],
    known: dict[str, Profile],
    path: Path,
    resolved: dict[str, dict[str, Any]],
    chain: tuple[str, ...],
) -> dict[str, Any]:
    """The table of profile `name` with its `extends` chain merged in (parent first)."""
    if name in resolved:
        return resolved[name]
    where = f"profile {name!r} in {path}"
    table = raw[name]
    if not isinstance(table, dict):
        raise ArchbenchError(f"{where}: expected a [{name}] table; got {table!r}")
    _check_keys(where, table, PROFILE_KEYS)
    parent_name = table.get("extends")
    if parent_name is None:
        parent: dict[str, Any] = {}
    elif parent_name in chain + (name,):
        raise ArchbenchError(f"{where}: `extends` makes a cycle: {' -> '.join(chain + (name, parent_name))}")
    elif parent_name in raw:
        parent = _resolve(parent_name, raw, known, path, resolved, chain + (name,))
    elif parent_name in known:
        parent = _as_table(known[parent_name])
    else:
        valid = sorted({*raw, *known} - {name})
        raise ArchbenchError(f"{where}: extends unknown profile {parent_name!r}; valid: {', '.join(valid)}")
    merged = _merge(parent, {k: v for k, v in table.items() if k != "extends"})
    merged.setdefault("task_sizes", parent.get("task_sizes", name))
    resolved[name] = merged
    return merged


def _build(name: str, table: dict[str, Any], path: Path) -> Profile:
    where = f"profile {name!r} in {path}"
    missing = [k for k in REQUIRED_KEYS if k not in table]
    if missing:
        raise ArchbenchError(f"{where}: missing key(s) {', '.join(missing)} (required: {', '.join(REQUIRED_KEYS)})")
    for key in ("description", "preset", "task_sizes"):
        if not isinstance(table[key], str):
            raise ArchbenchError(f"{where}: {key} must be a string; got {table[key]!r}")
    seeds = table["seeds"]
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ArchbenchError(f"{where}: seeds must be a non-empty list of integers; got {seeds!r}")
    for key in ("train", "tasks", "sample_complexity"):
        if not isinstance(table.get(key, {}), dict):
            raise ArchbenchError(f"{where}: {key} must be a table; got {table[key]!r}")
    arch = table.get("arch", {})
    if not isinstance(arch, dict) or not all(isinstance(v, dict) for v in arch.values()):
        raise ArchbenchError(f"{where}: arch must be a table of tables, one per family; got {arch!r}")
    for task, overrides in table.get("tasks", {}).items():
        task_where = f"{where}, tasks.{task}"
        if not isinstance(overrides, dict):
            raise ArchbenchError(f"{task_where}: expected a table; got {overrides!r}")
        _check_keys(task_where, overrides, TASK_KEYS)
        for key, value in overrides.items():
            if not isinstance(value, dict) or (key == "arch" and not all(isinstance(v, dict) for v in value.values())):
                raise ArchbenchError(
                    f"{task_where}: {key} must be a table{' of tables, one per family' if key == 'arch' else ''}; got {value!r}"
                )
    check_seeds = table.get("check_seeds", [])
    if not isinstance(check_seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in check_seeds
    ):
        raise ArchbenchError(f"{where}: check_seeds must be a list of integers; got {check_seeds!r}")
    if set(check_seeds) & set(seeds):
        raise ArchbenchError(f"{where}: check_seeds {check_seeds} overlap seeds {seeds}; a check needs other seeds")
    core = table.get("core_tasks", [])
    if not isinstance(core, list) or not all(isinstance(t, str) for t in core):
        raise ArchbenchError(f"{where}: core_tasks must be a list of task names; got {core!r}")
    lr_search = table.get("lr_search", {})
    if not isinstance(lr_search, dict):
        raise ArchbenchError(f"{where}: lr_search must be a table; got {lr_search!r}")
    _check_keys(f"{where}, lr_search", lr_search, LR_SEARCH_KEYS)
    search = table.get("sample_complexity", {})
    _check_keys(f"{where}, sample_complexity", search, SAMPLE_COMPLEXITY_KEYS)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in search.values()) or search.get(
        "n_min", 1
    ) > search.get("n_max", search.get("n_min", 1)):
        raise ArchbenchError(f"{where}: sample_complexity needs positive integers with n_min <= n_max; got {search!r}")
    return Profile(
        name=name,
        description=table["description"],
        preset=table["preset"],
        seeds=tuple(seeds),
        train=dict(table["train"]),
        tasks=dict(table.get("tasks", {})),
        sample_complexity=dict(search),
        task_sizes=table["task_sizes"],
        source=str(path),
        check_seeds=tuple(check_seeds),
        core_tasks=tuple(core),
        lr_search=dict(lr_search),
        arch={family: dict(settings) for family, settings in arch.items()},
    )


def _check_keys(where: str, table: dict[str, Any], valid: tuple[str, ...]) -> None:
    for key in table:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ArchbenchError(f"{where}: unknown key {key!r}.{hint} Valid: {', '.join(valid)}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`; tables merge key by key, everything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _as_table(profile: Profile) -> dict[str, Any]:
    return {
        "description": profile.description,
        "preset": profile.preset,
        "seeds": list(profile.seeds),
        "train": profile.train,
        "tasks": profile.tasks,
        "sample_complexity": profile.sample_complexity,
        "task_sizes": profile.task_sizes,
        "check_seeds": list(profile.check_seeds),
        "core_tasks": list(profile.core_tasks),
        "lr_search": profile.lr_search,
        "arch": profile.arch,
    }


PROFILES: dict[str, Profile] = load_profiles(BUILTIN_FILE)


def available_profiles() -> dict[str, Profile]:
    """The built-in profiles plus those of every file in `ARCHBENCH_PROFILES` (os.pathsep-separated);
    a later file's profile replaces an earlier one of the same name."""
    profiles = dict(PROFILES)
    for item in os.environ.get(PROFILES_ENV, "").split(os.pathsep):
        if item.strip():
            profiles.update(load_profiles(item.strip(), profiles))
    return profiles


def get_profile(name: str) -> Profile:
    """A profile by name, or from a file: `FILE.toml` (its only profile) or `FILE.toml:NAME`.

    Its training settings and task names are checked here, when the profile is used, so that loading
    the profile list stays cheap (the check needs the harness and the task registry).
    """
    if name.endswith(".toml") or ".toml:" in name:
        path, pick = (name, "") if name.endswith(".toml") else name.rsplit(":", 1)
        in_file = load_profiles(path, PROFILES)
        if not pick and len(in_file) > 1:
            raise ArchbenchError(f"profile file {path!r} defines {', '.join(in_file)}; pick one: {path}:NAME")
        if pick and pick not in in_file:
            raise ArchbenchError(f"profile file {path!r} has no profile {pick!r}; valid: {', '.join(in_file)}")
        profile = in_file[pick] if pick else next(iter(in_file.values()))
    else:
        profiles = available_profiles()
        if name not in profiles:
            raise ArchbenchError(
                f"unknown profile {name!r}; valid: {', '.join(profiles)}, or a profile file FILE.toml[:NAME]"
            )
        profile = profiles[name]
    check_profile(profile)
    return profile


def check_profile(profile: Profile) -> None:
    """Every training setting a valid TrainConfig field with a valid value, every task registered."""
    from bench.contract.registry import get_task_entry
    from bench.train.config import TrainConfig

    where = f"profile {profile.name!r} in {profile.source}"
    valid = tuple(TrainConfig.__dataclass_fields__)
    for task in profile.core_tasks:
        try:
            get_task_entry(task)
        except ArchbenchError as exc:
            raise ArchbenchError(f"{where}, core_tasks: {exc}") from None
    if profile.lr_search:
        from bench.run.lr_config import search_settings

        try:
            search_settings(profile.lr_search)
        except ArchbenchError as exc:
            raise ArchbenchError(f"{where}, lr_search: {exc}") from None
    for task, overrides in [("", {"train": profile.train}), *profile.tasks.items()]:
        context = f"{where}, tasks.{task}" if task else where
        if task:
            try:
                get_task_entry(task)
            except ArchbenchError as exc:
                raise ArchbenchError(f"{context}: {exc}") from None
        _check_keys(f"{context}, train", overrides.get("train", {}), valid)
        try:
            TrainConfig(**profile.train_overrides(task))
        except ArchbenchError as exc:
            raise ArchbenchError(f"{context}, train: {exc}") from None
