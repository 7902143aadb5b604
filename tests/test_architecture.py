"""The direction of dependencies (docs/ARCHITECTURE.md), checked over the import graph of the source.

Every ``import`` and ``from ... import`` counts, at module level or inside a function: a lazy import is
still a dependency. Tests, benchmarks and migrations are left out.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "crm", "recommender", "inventory", "portal", "shop", "demo", "retail_site")

# Which packages each package may import. Domain apps form a stack (core at the bottom); the interfaces
# (portal, shop, demo, the site's urls and Celery app) may use every domain app, never each other.
ALLOWED = {
    "core": set(),
    "crm": {"core"},
    "inventory": {"core", "crm"},
    "recommender": {"core", "crm", "inventory"},
    "portal": {"core", "crm", "inventory", "recommender"},
    "shop": {"core", "crm", "inventory", "recommender"},
    "demo": {"core", "crm", "inventory", "recommender"},
    "retail_site": {"core", "crm", "inventory", "recommender", "portal", "shop"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                files.append(path)
    return files


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # ``from package import module`` depends on the module; ``from module import name`` on the module
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in modules else target)
    return {name for name in found if name.split(".")[0] in PACKAGES}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in _source_files()}
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for target in _imports(path, modules):
            # resolve "pkg.module.name" to the longest known module
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != module:
                edges[module].add(".".join(parts))
    return edges


def test_packages_depend_only_in_the_allowed_direction(graph):
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if (s := source.split(".")[0]) != (t := target.split(".")[0]) and t not in ALLOWED[s]
    )
    assert not wrong, "imports against the direction of dependencies:\n" + "\n".join(wrong)


def test_no_import_cycle_between_modules(graph):
    # Tarjan's strongly connected components; any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_layers_inside_an_app(graph):
    """Services and selectors never import tasks or interfaces; models import no service; ``ml`` no Django."""
    wrong = []
    for source, targets in graph.items():
        layer = source.split(".")[1] if "." in source else ""
        for target in targets:
            target_parts = target.split(".")
            if layer in ("services", "selectors", "models", "marketing") and (
                "tasks" in target_parts or target_parts[1:2] in (["api"], ["management"], ["views"])
            ):
                wrong.append(f"{source} -> {target}")
            if layer == "models" and ("services" in target_parts or "selectors" in target_parts):
                wrong.append(f"{source} -> {target}")
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("package", ["recommender/ml"])
def test_ml_code_runs_without_django(package):
    for path in (ROOT / package).rglob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        assert not imported & {"django", "rest_framework", "celery", "crm", "core"}, path


def test_every_csv_is_written_through_the_formula_guard():
    """A CSV written with ``csv.writer`` or ``DataFrame.to_csv`` keeps a cell like ``=HYPERLINK(...)`` a
    live formula in a spreadsheet (the reorder CSV did); ``crm.csv_safety`` writes it as text."""
    offenders = []
    for path in _source_files():
        if path.relative_to(ROOT).as_posix() == "crm/csv_safety.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if node.func.attr == "to_csv" or (
                    node.func.attr in ("writer", "DictWriter")
                    and isinstance(owner, ast.Name)
                    and owner.id == "csv"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
