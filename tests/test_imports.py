"""The package's import graph: imports point backwards in chapter order, and there are no cycles.

Every import statement of every module counts, also those inside functions (a lazy import is
still a dependency).  Each module is given its chapter here; a new module must be added.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "genphys"

#: Chapter of every module; 0 is the shared infrastructure below the chapters.
CHAPTER = {
    "genphys": 0, "genphys.config": 0, "genphys.validate": 0, "genphys.environment": 0,
    "genphys.plotting": 0, "genphys.artifacts": 0, "genphys.spectral": 0, "genphys.files": 0, "genphys.cli": 0,
    # the console commands run chapters 1 and 7's command lines (imported only when a command runs)
    "genphys.commands": 7, "genphys.__main__": 7,
    "genphys.histories": 1, "genphys.stories": 1,
    "genphys.channels": 2, "genphys.fock": 2,
    "genphys.lindblad": 3, "genphys.open_systems": 3,
    "genphys.koopman": 4,
    "genphys.measurement": 5,
    "genphys.path_integral": 6,
    "genphys.lm": 7, "genphys.lm.tokenizer": 7, "genphys.lm.data": 7, "genphys.lm.models": 7,
    "genphys.lm.checkpoint": 7, "genphys.lm.train": 7, "genphys.lm.evaluate": 7, "genphys.lm.sample": 7,
    "genphys.lm.spectra": 7, "genphys.lm.compare": 7, "genphys.lm.report": 7, "genphys.lm.stochastic_attention": 7,
    # the exercises' self-checks: the feedback and the assignment tool are infrastructure, each chapter's checks
    # sit at its chapter
    "genphys.exercises": 0, "genphys.exercises.feedback": 0, "genphys.exercises.assignment": 0,
    "genphys.exercises.histories": 1, "genphys.exercises.fock": 2, "genphys.exercises.lindblad": 3,
    "genphys.exercises.koopman": 4, "genphys.exercises.measurement": 5, "genphys.exercises.path_integral": 6,
    "genphys.exercises.lm": 7, "genphys.exercises.report": 8,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The genphys modules imported anywhere in the file (top level and inside functions).

    ``from genphys.x import y`` is a dependency on ``genphys.x.y`` when that is a module, else
    on ``genphys.x`` (an attribute of it).
    """
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != this}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) for name, path in mods.items()}


def test_every_module_has_a_chapter():
    missing = sorted(set(modules()) - set(CHAPTER))
    assert not missing, f"give these modules their chapter in tests/test_imports.py: {missing}"


def test_imports_point_backwards_in_chapter_order():
    bad = [f"{mod} (chapter {CHAPTER[mod]}) imports {dep} (chapter {CHAPTER[dep]})"
           for mod, deps in graph().items() for dep in sorted(deps)
           if mod in CHAPTER and dep in CHAPTER and CHAPTER[dep] > CHAPTER[mod]]
    assert not bad, "imports of later chapters:\n" + "\n".join(bad)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checks_can_fail():
    """The cycle finder sees a cycle, and the resolver sees lazy imports inside functions."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    deps = graph()
    assert "genphys.histories" in deps["genphys.stories"]          # a top-level import
    assert "genphys.config" in deps["genphys.lindblad"]            # an import inside evolve_torch


@pytest.mark.parametrize("name", sorted(CHAPTER))
def test_chapter_map_names_real_modules(name):
    assert name in modules()
