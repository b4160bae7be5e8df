"""Code version of a run: a digest of the source that measured it (see `code_version`)."""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from bench.contract.registry import builtin_dir

PRESENTATION_ONLY = frozenset({
    "bench/__main__.py", "bench/cli/main.py", "bench/results/store.py", "bench/results/stats.py", "bench/report/tables.py",
    "bench/run/progress.py", "bench/results/freshness.py", "bench/report/aggregate.py", "bench/report/publish.py", "bench/report/plots.py",
    # The claim catalogue picks configurations and judges their records; every setting it chooses is part
    # of the run key, so editing it never changes what a stored run measured.
    "bench/claims/catalogue.py", "bench/claims/render.py",
})
PRESENTATION_DIRS = ("bench/cli/commands/",)
HARNESS_PACKAGES = ("bench",)  # shared by every run: all of it (minus presentation) is in every digest
SOURCE_PACKAGES = ("architectures", "tasks")  # a run's digest covers only its own modules of these


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


@functools.lru_cache(maxsize=256)
def code_version(sources: tuple[str, ...] = ()) -> str:
    """A 12-hex digest of the source that produced a run: every `.py` file of the harness (the bench
    package minus the presentation-only modules above) plus `sources`, the run's own task and
    architecture modules and what they import from those packages (`code_sources`).

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
    for package in HARNESS_PACKAGES:
        root = _package_root(package)
        for path in sorted(root.rglob("*.py")) if root is not None else []:
            relative = f"{package}/{path.relative_to(root).as_posix()}"
            if "__pycache__" in relative or relative in PRESENTATION_ONLY or relative.startswith(PRESENTATION_DIRS):
                continue
            digest.update(relative.encode() + b"\0" + _code_only(path.read_bytes()) + b"\0")
    for relative in sorted(set(sources)):
        path = _source_path(relative)
        code = _code_only(path.read_bytes()) if path is not None and path.is_file() else b"<missing>"
        digest.update(relative.encode() + b"\0" + code + b"\0")
    return digest.hexdigest()[:12]


def code_sources(*objects: Any) -> tuple[str, ...]:
    """The files of `SOURCE_PACKAGES` that define `objects` (a task class, an architecture builder) and,
    transitively, the modules of those packages they import (`architectures/hybrid.py` brings
    `architectures/ssm.py`, `architectures/transformer.py`, `architectures/base.py`), as sorted
    package-relative paths. Package `__init__` files only register plugins and are left out; objects
    defined elsewhere (a third-party plugin, a test) contribute nothing."""
    found: set[str] = set()
    pending = [module for module in (getattr(obj, "__module__", None) for obj in objects) if module]
    while pending:
        relative = _module_file(pending.pop())
        if relative is None or relative in found:
            continue
        found.add(relative)
        path = _source_path(relative)
        pending.extend(_imported_modules(path.read_bytes(), relative) if path is not None else [])
    return tuple(sorted(found))


def _module_file(module: str) -> str | None:
    """`architectures.ssm` -> `architectures/ssm.py` when it is a module file of a source package."""
    package, _, rest = module.partition(".")
    if package not in SOURCE_PACKAGES or not rest:
        return None
    relative = f"{package}/{rest.replace('.', '/')}.py"
    path = _source_path(relative)
    return relative if path is not None and path.is_file() else None


def _imported_modules(source: bytes, relative: str) -> list[str]:
    """Module names `source` imports: `from a.b import c` gives `a.b` and `a.b.c` (c may be a module)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    here = relative[: -len(".py")].split("/")
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[: len(here) - node.level] + ([node.module] if node.module else [])) if node.level else node.module
            if base:
                names.append(base)
                names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _code_only(source: bytes) -> bytes:
    """The syntax tree without docstrings (comments never reach it): editing documentation is not a new
    code version. Source that does not parse is hashed as it is."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree).encode()  # source text, so the digest does not depend on the Python version's AST fields


