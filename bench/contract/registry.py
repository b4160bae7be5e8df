"""Task and architecture registries (the timm `register_model` / `create_model` pattern, smaller).

Built-ins register when the `tasks` and `architectures` packages are imported (loaded from the directory
next to `bench`, never by name: see `load_builtins`); third-party plugins
through the entry-point groups `archbench.tasks` / `archbench.architectures`, the `--plugin` CLI flag
or the `ARCHBENCH_PLUGINS` environment variable (comma-separated modules or .py files).
Every lookup and every parameter is validated here, so a typo fails before any training starts.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys
import traceback
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.contract.errors import ArchbenchError
from bench.contract.model import materialize

ENTRY_POINT_GROUPS = {"task": "archbench.tasks", "architecture": "archbench.architectures"}
PLUGINS_ENV = "ARCHBENCH_PLUGINS"


@dataclass
class Entry:
    """One registered task class or architecture builder, with what the CLI shows about it."""

    name: str
    kind: str  # "task" | "architecture"
    obj: Callable[..., Any]
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    width_param: str | None = None  # architectures: the hyper-parameter fitted to match preset sizes
    width_multiple: int = 1
    # architectures: the input layout the model reads features by (`TaskSpec.layout`); None: any input
    layout: str | None = None

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.obj) or ""
        return doc.splitlines()[0] if doc else ""

    def parameters(self) -> dict[str, inspect.Parameter]:
        """The keyword parameters a user may set (the builder's `spec` argument excluded)."""
        params = dict(inspect.signature(self.obj).parameters)
        params.pop("spec", None)
        params.pop("self", None)
        return {k: p for k, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def accepts_any_keyword(self) -> bool:
        return any(p.kind == p.VAR_KEYWORD for p in inspect.signature(self.obj).parameters.values())


class Registry:
    """Name -> Entry for one kind of plugin."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> None:
        old = self._entries.get(entry.name)
        if old is not None and _qualified(old.obj) != _qualified(entry.obj):
            raise ArchbenchError(
                f"{self.kind} {entry.name!r} is already registered by {_qualified(old.obj)}; "
                f"choose another name for {_qualified(entry.obj)}"
            )
        self._entries[entry.name] = entry

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def get(self, name: str) -> Entry:
        if name in self._entries:
            return self._entries[name]
        known = sorted(self._entries)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ArchbenchError(f"unknown {self.kind} {name!r}.{hint} Registered: {', '.join(known) or '(none)'}")


TASKS = Registry("task")
ARCHITECTURES = Registry("architecture")


def _qualified(obj: Callable[..., Any]) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def register_task(name: str) -> Callable[[type], type]:
    """Class decorator: `@register_task("copy")` on a `Task` dataclass."""

    def decorate(cls: type) -> type:
        cls.name = name  # type: ignore[attr-defined]
        TASKS.add(Entry(name=name, kind="task", obj=cls))
        return cls

    return decorate


def register_architecture(
    name: str,
    presets: dict[str, dict[str, Any]] | None = None,
    width_param: str | None = None,
    width_multiple: int = 1,
    layout: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Function decorator: `@register_architecture("gru")` on `builder(spec, **hparams) -> nn.Module`.

    `presets` maps preset names (`tiny`, `small`, ...) to hyper-parameters. `width_param` names the
    hyper-parameter that `bench.run.presets` adjusts so that this family's parameter count matches the
    reference transformer's at the same preset (None: take the preset as written). `layout` restricts
    the family to tasks whose spec promises that input layout (`TaskSpec.layout`; planning refuses others).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        ARCHITECTURES.add(Entry(name, "architecture", fn, dict(presets or {}), width_param, width_multiple, layout))
        return fn

    return decorate


# ---------------------------------------------------------------------------------------------
# discovery


BUILTIN_PACKAGES = ("tasks", "architectures")
# The built-in packages sit next to the `bench` package, in a checkout and in site-packages alike.
BUILTIN_ROOT = Path(__file__).resolve().parents[2]

_builtins_loaded = False


def builtin_dir(package: str) -> Path:
    """Where the built-in package `package` (`tasks`, `architectures` or `bench`) lives, without importing it."""
    return BUILTIN_ROOT / package


def load_builtins() -> None:
    """Import the built-in `tasks` and `architectures` packages (they register on import) from their own
    directory, under their canonical names.

    Why by location: `tasks` and `architectures` are common module names. Imported by name, a user's own
    `tasks.py` earlier on `sys.path` (the current directory under `python -m bench`, a notebook's folder)
    would be imported instead, and archbench would silently run without its tasks. Loaded from the
    directory beside `bench`, the built-ins are always archbench's own; once they hold their names in
    `sys.modules`, every later `import tasks.x` (task modules, plugins, unpickling in a worker) finds them.
    """
    for package in BUILTIN_PACKAGES:
        _load_builtin(package)


def _load_builtin(package: str) -> None:
    init = builtin_dir(package) / "__init__.py"
    loaded = sys.modules.get(package)
    if loaded is not None:
        where = getattr(loaded, "__file__", None)
        if where is not None and Path(where).resolve() == init.resolve():
            return  # already ours (imported by name from a checkout, or loaded here before)
        raise ArchbenchError(
            f"a module named {package!r} ({where or 'built in'}) was imported before archbench's built-in "
            f"{package} ({init.parent}); rename that module so that it does not shadow archbench's"
        )
    if not init.is_file():  # an unusual installation: fall back to the import system
        importlib.import_module(package)
        return
    spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[str(init.parent)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(package, None)
        raise


def _ensure_builtins() -> None:
    """Import the built-in packages and the configured plugins (entry points, ARCHBENCH_PLUGINS), once."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    load_builtins()
    _load_entry_points()
    env = os.environ.get(PLUGINS_ENV, "")
    load_plugins([p for p in env.split(",") if p.strip()])


def _load_entry_points() -> None:
    for kind, group in ENTRY_POINT_GROUPS.items():
        for ep in importlib.metadata.entry_points(group=group):
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken third-party package must not take the suite down
                print(
                    f"archbench: warning: plugin entry point {ep.name!r} ({ep.value}) failed to load: {exc}",
                    file=sys.stderr,
                )
                continue
            registry = TASKS if kind == "task" else ARCHITECTURES
            # An entry point may name a module (whose decorators registered it) or the object itself.
            if callable(loaded) and not inspect.ismodule(loaded) and ep.name not in registry.names():
                if kind == "task":
                    register_task(ep.name)(loaded)
                else:
                    register_architecture(ep.name)(loaded)


def load_plugins(plugins: list[str]) -> None:
    """Import each plugin: a dotted module name, or a path to a `.py` file. Importing registers it.

    The built-ins load first (when there is a plugin: commands that only read records stay free of
    torch), so a plugin's `from architectures.base import ...` finds archbench's own module. A plugin that cannot be imported, for whatever reason (a syntax error, a missing dependency,
    an exception at import, a name already registered), is a user error: one line naming the plugin and
    the error, never a traceback.
    """
    if any(p.strip() for p in plugins):
        load_builtins()
    for raw in plugins:
        plugin = raw.strip()
        if not plugin:
            continue
        path = Path(plugin)
        is_file = plugin.endswith(".py") or path.is_file()
        if is_file and not path.is_file():
            raise ArchbenchError(f"plugin file {plugin!r} does not exist")
        try:
            if is_file:
                _exec_file(path, f"archbench_plugin_{path.stem}")
            else:
                importlib.import_module(plugin)
        except ModuleNotFoundError as exc:
            if is_file or not (exc.name and (plugin == exc.name or plugin.startswith(exc.name + "."))):
                raise ArchbenchError(
                    f"plugin {plugin!r} failed to import: {_one_line(exc, path if is_file else None)}"
                ) from exc
            raise ArchbenchError(f"plugin {plugin!r} cannot be imported: {exc}") from exc  # no such module
        except Exception as exc:
            raise ArchbenchError(
                f"plugin {plugin!r} failed to import: {_one_line(exc, path if is_file else None)}"
            ) from exc


def _exec_file(path: Path, module_name: str) -> None:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)  # half-run: a later attempt starts afresh
        raise


def _one_line(exc: Exception, path: Path | None) -> str:
    """`SyntaxError: invalid syntax (my_arch.py, line 3)`: the error and, for an exception raised while a
    plugin file ran, the file's own line that raised it."""
    lines = f"{type(exc).__name__}: {exc}".strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    if isinstance(exc, (SyntaxError, ArchbenchError)) or path is None:
        return text
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    return text + (f" ({path.name}, line {frames[-1].lineno})" if frames else "")


# ---------------------------------------------------------------------------------------------
# lookup and construction


def list_tasks(pattern: str = "*") -> list[str]:
    _ensure_builtins()
    return TASKS.names(pattern)


def list_architectures(pattern: str = "*") -> list[str]:
    _ensure_builtins()
    return ARCHITECTURES.names(pattern)


def get_task_entry(name: str) -> Entry:
    _ensure_builtins()
    return TASKS.get(name)


def get_architecture(name: str) -> Entry:
    _ensure_builtins()
    return ARCHITECTURES.get(name)


def get_task(name: str, **params: Any) -> Any:
    """Instantiate task `name` with validated, type-coerced parameters."""
    entry = get_task_entry(name)
    return entry.obj(**validate_params(entry, params))


def build_architecture(name: str, spec: Any, **hparams: Any) -> Any:
    """Build architecture `name` for `spec` with validated hyper-parameters (no preset applied); lazy
    parameters are materialized at once, so every caller sees a model with known shapes."""
    entry = get_architecture(name)
    return materialize(entry.obj(spec, **validate_params(entry, hparams)), spec)


def validate_params(entry: Entry, params: dict[str, Any]) -> dict[str, Any]:
    """Check every key against the signature and coerce values to the annotated type.

    Strings (from `--set key=value`) are converted; a `Literal[...]` annotation restricts the value
    to its choices. Range checks belong to the task or builder itself.
    """
    accepted = entry.parameters()
    hints = _type_hints(entry.obj)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in accepted:
            if entry.accepts_any_keyword():
                out[key] = value
                continue
            close = difflib.get_close_matches(key, list(accepted), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ArchbenchError(
                f"{entry.kind} {entry.name!r} has no parameter {key!r}.{hint} "
                f"Accepted: {', '.join(accepted) or '(none)'}"
            )
        out[key] = coerce(
            value, hints.get(key, _default_type(accepted[key])), f"{entry.kind} {entry.name!r} parameter {key!r}"
        )
    return out


def _type_hints(obj: Callable[..., Any]) -> dict[str, Any]:
    """Parameter annotations, resolved. For a class, its annotations along the MRO too, each resolved in the
    module that wrote it: a dataclass subclass's generated `__init__` resolves names only in the subclass's
    module, where a `Literal` alias of its base (e.g. a shared `OutputMode`) is missing."""
    hints: dict[str, Any] = {}
    for target in (obj, obj.__init__) if inspect.isclass(obj) else (obj,):
        try:
            hints.update(typing.get_type_hints(target))
        except Exception:
            pass
    return hints


def _default_type(param: inspect.Parameter) -> Any:
    return Any if param.default is inspect.Parameter.empty or param.default is None else type(param.default)


def coerce(value: Any, annotation: Any, what: str) -> Any:
    """Convert `value` to `annotation` (int, float, bool, str, Literal, tuple[int, ...], X | None)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is inspect.Parameter.empty:
        return value
    if origin is Literal:
        choices = list(args)
        for choice in choices:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        raise ArchbenchError(f"{what} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None or (isinstance(value, str) and value.lower() == "none" and type(None) in args):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg, what)
            except ArchbenchError as exc:
                errors.append(str(exc))
        raise ArchbenchError(errors[0] if errors else f"{what}: cannot use {value!r}")
    if origin in (tuple, list):
        items = value.split(",") if isinstance(value, str) else list(value)
        item_type = args[0] if args else Any
        converted = [
            coerce(v.strip() if isinstance(v, str) else v, item_type, what)
            for v in items
            if not (isinstance(v, str) and not v.strip())
        ]
        return tuple(converted) if origin is tuple else converted
    if annotation is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ArchbenchError(f"{what} must be true or false; got {value!r}")
    if annotation in (int, float):
        if isinstance(value, bool):
            raise ArchbenchError(f"{what} must be {annotation.__name__}; got {value!r}")
        try:
            number = annotation(value) if not (annotation is int and isinstance(value, str)) else int(value.strip())
        except (TypeError, ValueError):
            kind = "an integer" if annotation is int else "a number"
            raise ArchbenchError(f"{what} must be {kind}; got {value!r}") from None
        if annotation is int and isinstance(value, float) and not value.is_integer():
            raise ArchbenchError(f"{what} must be an integer; got {value!r}")
        return number
    if annotation is str:
        return str(value)
    return value
