"""The board desk's modules import one another one way only: no cycle, no import hidden under
TYPE_CHECKING or inside a function to break one."""

from __future__ import annotations

import ast
from pathlib import Path

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(DIALOGS.parent).with_suffix("").parts).removesuffix(
        ".__init__"
    )


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """Modules of dialogs/ that `path` imports, and any import not at the top of the module."""
    tree = ast.parse(path.read_text())
    package = _module(path) if path.name == "__init__.py" else _module(path).rsplit(".", 1)[0]
    found: set[str] = set()
    hidden: list[str] = []
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        names = [n for n in names if n.startswith("dialogs")]
        if names and id(node) not in top:
            hidden.append(f"{_module(path)}: line {node.lineno}")
        for name in names:
            while name and not _exists(name):
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found, hidden


def _exists(name: str) -> bool:
    path = DIALOGS.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_the_board_desk_has_no_import_cycle_and_hides_no_import() -> None:
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for path in sorted((DIALOGS / "boards").glob("*.py")):
        imports, late = _imports(path)
        graph[_module(path)] = {m for m in imports if m.startswith("dialogs.boards.")}
        hidden += late
    assert hidden == [], f"imports inside a function or under TYPE_CHECKING: {hidden}"

    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
        if module in done:
            return
        for imported in graph.get(module, ()):
            visit(imported, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_round_steps_is_a_table_of_thin_handlers() -> None:
    source = (DIALOGS / "boards" / "round_steps.py").read_text()
    assert len(source.splitlines()) < 300
    assert "ctx.desk" not in source
