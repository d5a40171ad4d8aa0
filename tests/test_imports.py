"""The package's modules import each other without a circle.

Every import counts, also one inside a function: a circle there still ties the modules together
(one cannot be read, changed or tested without the other) and fails at run time only on the path
that reaches it. The graph comes from the source with ``ast``, so nothing is imported to check it.
The checker is itself checked on a package made up for the purpose.
"""

import ast
import os

from tests.conftest import ROOT


def module_names(root: str, package: str) -> dict[str, str]:
    """Dotted module name -> file, for every .py file under ``root/package``."""
    names = {}
    for directory, _, files in os.walk(os.path.join(root, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names[".".join(parts)] = path
    return names


def import_graph(root: str, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its source (``import a.b``,
    ``from a import b`` where b is a module or a name in a, relative imports)."""
    modules = module_names(root, package)
    graph = {}
    for name, path in modules.items():
        is_package = path.endswith("__init__.py")
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_pipeline_package_has_no_import_circle():
    graph = import_graph(ROOT, "pipeline")
    assert {"pipeline.cli", "pipeline.run", "pipeline.stance.model", "pipeline.stance.header"} <= set(graph)
    assert "pipeline.run" in graph["pipeline.cli"] and "pipeline.stance.encoder" in graph["pipeline.stance.model"]
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_checker_finds_a_circle_through_a_function_level_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from . import c\n")
    (pkg / "sub" / "c.py").write_text("def f():\n    from ..a import thing\n")
    (pkg / "d.py").write_text("import pkg.a\nimport os\n")
    graph = import_graph(str(tmp_path), "pkg")
    assert graph["pkg.d"] == {"pkg.a"} and graph["pkg.sub.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.sub.c", "pkg.a"]
    (pkg / "sub" / "c.py").write_text("")
    assert find_cycle(import_graph(str(tmp_path), "pkg")) is None
