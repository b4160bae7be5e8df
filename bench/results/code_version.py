"""Code version of a run: a digest of the source that measured it (see `code_version`).

**The boundary.** What a run measures is decided by the training layer (`bench/train/`: data, loss,
metrics, the Lightning harness), the contract layer beneath it (`bench/contract/`: task and model
protocols, the registry that builds them, seeds) and the run's own task and architecture modules (and
what they import from those packages). Every other layer only plans runs, stores records, derives
figures from them, renders pages or parses the command line; whatever it chooses that matters (a preset,
a learning rate, a task setting) is in the run key. So the digest covers exactly that boundary, by
directory, and no list of exempt "presentation" modules has to be kept up to date: adding a function to
a report, planning, storage or CLI module leaves every stored record current.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.contract.registry import builtin_dir

# Shared by every run: every `.py` file under these package-relative directories is in every digest.
HARNESS_DIRS = ("bench/contract", "bench/train")
# A run's digest covers only its own modules of these packages (`code_sources`).
SOURCE_PACKAGES = ("architectures", "tasks")


def _package_root(package: str) -> Path | None:
    """Where `package` lives, found without importing it (so `publish` stays fast); archbench's own packages
    by location, beside `bench`, so that a user's `tasks.py` earlier on the path cannot stand in for them."""
    if (builtin_dir(package) / "__init__.py").is_file():
        return builtin_dir(package)
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _source_path(relative: str) -> Path | None:
    package, _, rest = relative.partition("/")
    root = _package_root(package)
    return root / rest if root is not None else None


def harness_files() -> Iterator[tuple[str, Path]]:
    """(package-relative path, file) of every `.py` file inside the boundary shared by all runs, sorted."""
    for directory in HARNESS_DIRS:
        package, _, sub = directory.partition("/")
        root = _package_root(package)
        if root is None or not (root / sub).is_dir():
            continue
        for path in sorted((root / sub).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield f"{package}/{path.relative_to(root).as_posix()}", path


@functools.lru_cache(maxsize=256)
def code_version(sources: tuple[str, ...] = ()) -> str:
    """A 12-hex digest of the source that produced a run: every `.py` file under `HARNESS_DIRS` plus
    `sources`, the run's own task and architecture modules and what they import from those packages
    (`code_sources`).

    Why a content hash rather than the git commit: an installed package (a wheel in site-packages) has
    no `.git`, and in a checkout the commit lies about uncommitted edits, which are exactly the changes
    that silently mix results. Hashing the files that Python actually imports works for a checkout, an
    editable install and a wheel alike, and two machines running the same code agree on the digest.
    Paths are hashed relative to the package (so the install location does not matter), and each file
    as its syntax tree without docstrings, so comments, docstrings and formatting are not a new version.
    Why per run rather than one digest of every task and architecture: adding an option to the
    transformer cannot change what an LSTM measured on parity, and one global digest made every stored
    run stale on any edit. A source file that no longer exists hashes as missing (the run is stale).
    Cached per argument: a run measures the code it imported at start.
    Third-party plugin code is not covered (records name the plugin architecture, not its source).
    """
    digest = hashlib.sha256()
    for relative, path in harness_files():
        digest.update(relative.encode() + b"\0" + _code_only(path.read_bytes()) + b"\0")
    for relative in sorted(set(sources)):
        source = _source_path(relative)
        code = _code_only(source.read_bytes()) if source is not None and source.is_file() else b"<missing>"
        digest.update(relative.encode() + b"\0" + code + b"\0")
    return digest.hexdigest()[:12]


def code_sources(*objects: Any) -> tuple[str, ...]:
    """The files of `SOURCE_PACKAGES` that define `objects` (a task class, an architecture builder) and,
    transitively, the modules of those packages they import (`architectures/hybrid.py` brings
    `architectures/ssm.py`, `architectures/transformer.py`, `architectures/base.py`), as sorted
    package-relative paths. Modules may be nested (`tasks/chomsky/regular/even_pairs.py`).

    A package `__init__.py` is a source when it defines an object or when an import reaches it and it
    defines something (a function, a class, a module-level name); one that only imports or discovers its
    modules (the plugin registration of `tasks/__init__.py`, `architectures/__init__.py`) is left out,
    and so are the modules it imports, which would otherwise put every sibling task into every run's
    digest. Objects defined elsewhere (a third-party plugin, a test) contribute nothing.
    """
    found: set[str] = set()
    pending = [(module, True) for module in (getattr(obj, "__module__", None) for obj in objects) if module]
    while pending:
        module, defines_object = pending.pop()
        relative = _module_file(module)
        if relative is None or relative in found:
            continue
        path = _source_path(relative)
        source = path.read_bytes() if path is not None else b""
        if relative.endswith("/__init__.py") and not defines_object and not _defines_names(source):
            continue
        found.add(relative)
        pending.extend((name, False) for name in _imported_modules(source, relative))
    return tuple(sorted(found))


def _module_file(module: str) -> str | None:
    """`architectures.ssm` -> `architectures/ssm.py`, `tasks.chomsky` -> `tasks/chomsky/__init__.py`, when
    that file exists in a source package (a directory without `__init__.py` is no module file)."""
    package, _, rest = module.partition(".")
    if package not in SOURCE_PACKAGES:
        return None
    base = module.replace(".", "/")
    for relative in (f"{base}.py", f"{base}/__init__.py") if rest else (f"{package}/__init__.py",):
        path = _source_path(relative)
        if path is not None and path.is_file():
            return relative
    return None


def _imported_modules(source: bytes, relative: str) -> list[str]:
    """Module names `source` imports: `from a.b import c` gives `a.b` and `a.b.c` (c may be a module)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    # A module's package is its directory; for a package's `__init__.py`, that is the package itself.
    here = relative[: -len(".py")].split("/")
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                ".".join(here[: len(here) - node.level] + ([node.module] if node.module else []))
                if node.level
                else node.module
            )
            if base:
                names.append(base)
                names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _defines_names(source: bytes) -> bool:
    """Whether a module defines something another module could use: a function, a class or a
    module-level name other than dunders (`__all__`). Imports, loops over submodules and docstrings are
    not definitions."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True  # cannot tell: count it, a spurious stale is better than a missed one
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return True
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        if any(not (name.startswith("__") and name.endswith("__")) for name in names):
            return True
    return False


def _code_only(source: bytes) -> bytes:
    """The syntax tree without docstrings (comments never reach it): editing documentation is not a new
    code version. Source that does not parse is hashed as it is."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body[:] = body[1:] or [ast.Pass()]  # in place: `body` is the node's own list
    return ast.unparse(tree).encode()  # source text, so the digest does not depend on the Python version's AST fields
