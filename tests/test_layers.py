"""The layers inside `bench/` import only downward, and no module import circle exists anywhere.

Function-local imports count as much as top-level ones: a local import only hides a circle from the
interpreter, not from a reader. `TYPE_CHECKING` imports are left out (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import bench

ROOT = Path(bench.__file__).resolve().parent.parent
PACKAGES = ("bench", "architectures", "tasks")
# bench's layers, bottom first; a module may import its own layer and the ones before it.
LAYERS = ("contract", "train", "results", "run", "report", "claims", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return skipped


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (the longest known prefix of each imported name)."""
    tree = ast.parse(path.read_text())
    skipped = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = here[: len(here) - node.level + 1]
                base = ".".join(prefix + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for imported in names:
            parts = imported.split(".")
            for cut in range(len(parts), 0, -1):
                candidate = ".".join(parts[:cut])
                if candidate in known:
                    if candidate != name:
                        targets.add(candidate)
                    break
    return targets


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "bench" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    graph = import_graph()
    # A package's __init__ that only lists or discovers its modules is not a dependency of them.
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_bench_layers_import_only_downward() -> None:
    upward = []
    for module, targets in import_graph().items():
        mine = _layer(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports from a higher layer: " + "; ".join(sorted(upward))


def test_lower_layers_import_no_plugin_package() -> None:
    """The contract and training layers import no task or architecture module (the registry finds the
    built-ins by location, never by name)."""
    bad = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if (_layer(module) or 99) <= LAYERS.index("train")
        for target in targets
        if target.split(".")[0] in ("tasks", "architectures")
    ]
    assert not bad, "; ".join(sorted(bad))


def test_every_bench_module_is_in_a_layer() -> None:
    loose = [m for m in _modules() if m.startswith("bench.") and _layer(m) is None and m not in ("bench.__main__",)]
    assert not loose, f"modules outside the layers: {loose}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
