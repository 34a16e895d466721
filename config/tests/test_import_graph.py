"""The import graph of the application: no circles, and no import hidden inside a function.

The layers themselves are import-linter's contracts (.importlinter, run by scripts/test); a
layer's modules may import each other, so circles inside a layer are caught here. An import
inside a function is how a circle is usually dodged: each one left is listed with its reason.
"""

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
APPS = ("analysis", "clinic", "config", "patients", "reports", "sessions")

# (module, imported) -> why the import stays inside a function.
FUNCTION_LEVEL_IMPORTS: dict[tuple[str, str], str] = {
    ("analysis.apps", "analysis"): (
        "AppConfig.ready registers the Celery tasks in every process (Django's documented place "
        "for registrations: models are not ready when apps.py is imported)"
    ),
    ("reports.apps", "reports"): (
        "AppConfig.ready registers the progress report's Celery task, as analysis.apps does"
    ),
    ("analysis.core.c3d_write", "ezc3d"): (
        "only writing a C3D needs ezc3d (a C++ extension): readers and the web never load it"
    ),
}


def _is_application_module(name: str) -> bool:
    parts = name.split(".")
    return not ({"tests", "migrations"} & set(parts) or parts[-1].startswith("test_"))


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of size > 1 (the import circles)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _import_graph() -> dict[str, set[str]]:
    built = grimp.build_graph(*APPS, cache_dir=None)
    modules = {m for m in built.modules if _is_application_module(m)}
    return {
        m: {i for i in built.find_modules_directly_imported_by(m) if i in modules} for m in modules
    }


def test_no_module_reaches_itself_through_its_imports():
    circles = _strongly_connected(_import_graph())
    assert circles == [], f"import circles: {[sorted(c) for c in circles]}"


def _function_level_imports():
    for path in sorted(p for app in APPS for p in (ROOT / app).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if not _is_application_module(module):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    yield from ((module, alias.name) for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = "." * node.level + (node.module or "")
                    yield module, base


def test_imports_inside_functions_are_the_listed_ones():
    found = set(_function_level_imports())
    assert found == set(FUNCTION_LEVEL_IMPORTS), (
        f"new: {sorted(found - set(FUNCTION_LEVEL_IMPORTS))}, "
        f"gone: {sorted(set(FUNCTION_LEVEL_IMPORTS) - found)}"
    )
