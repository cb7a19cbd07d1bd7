"""The house keeps its shape (ARCHITECTURE.md): floors import only downwards, no import circle
(imports inside functions counted), no import of the product inside a function but the few
listed here, small modules and folders, and the tools outside the product."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
FLOORS = ["bot", "handlers", "reminders", "models"]  # top to bottom
MAX_LINES = 500
MAX_MODULES = 15
# (module, imported module): imports inside functions that are allowed, each with its reason.
INSIDE_FUNCTIONS_ALLOWED: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    found = {}
    for floor in [*FLOORS, "sandbox"]:
        for path in sorted((ROOT / floor).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> list[tuple[str, bool]]:
    """(imported project module, whether the import is inside a function)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in {_resolve(n) for n in names} - {None, module}:
            found.append((target, id(node) in inside))
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _product(module: str) -> bool:
    return module.split(".")[0] in FLOORS


def test_no_import_circle_even_through_imports_inside_functions():
    edges = {m: {t for t, _ in GRAPH[m] if _product(t)} for m in MODULES if _product(m)}
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert circles == []


def test_floors_import_only_downwards_and_never_the_tools():
    wrong = []
    for module, imports in GRAPH.items():
        if not _product(module):
            continue
        floor = FLOORS.index(module.split(".")[0])
        for target, _ in imports:
            top = target.split(".")[0]
            if top == "sandbox" or (top in FLOORS and FLOORS.index(top) < floor):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_of_the_product_inside_a_function_but_the_listed_ones():
    found = {
        (module, target)
        for module, imports in GRAPH.items()
        if _product(module)
        for target, inside in imports
        if inside and _product(target)
    }
    assert found <= set(INSIDE_FUNCTIONS_ALLOWED), sorted(found - set(INSIDE_FUNCTIONS_ALLOWED))


def test_small_modules_and_folders():
    big = [
        f"{m} {n}"
        for m, p in MODULES.items()
        if _product(m) and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert big == []
    folders: dict[Path, int] = {}
    for m, p in MODULES.items():
        if _product(m) and p.name != "__init__.py":
            folders[p.parent] = folders.get(p.parent, 0) + 1
    assert [str(f) for f, n in folders.items() if n > MAX_MODULES] == []


def test_views_are_pure():
    """A view module (views.py, *_views.py) opens no database: no session, no query."""
    impure = []
    for module, path in MODULES.items():
        name = path.stem
        if not module.startswith("handlers.") or not (name == "views" or name.endswith("_views")):
            continue
        for target, _ in GRAPH[module]:
            if target in ("models.base.db",):
                impure.append(f"{module} imports {target}")
        text = path.read_text(encoding="utf-8")
        if "Session" in text or "session." in text:
            impure.append(f"{module} uses a session")
    assert impure == []
