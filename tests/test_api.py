"""The public API: every public module declares ``__all__``, every name in it exists and has a
docstring, and the book's API reference (``book/api.md``, written by sphinx.ext.autodoc) covers every
public module.  Also the book extension's rendering of a docstring (literal, with equation links).

A function's or class's docstring is read from its own source (not inherited, not the signature a
dataclass makes up); a constant's is a ``#:`` comment above it or after it on its line, which is
what autodoc shows.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest
from sphinx.pycode import ModuleAnalyzer

from bookfiles import BOOK, ROOT
from test_equations import CANONICAL, DEFINITION, book_texts, defined_labels

PACKAGE = ROOT / "src" / "genphys"
sys.path.insert(0, str(BOOK / "_ext"))
import genphys_book  # noqa: E402


def public_modules() -> list[str]:
    """Every module of the package whose name has no leading underscore (``__main__`` is not one)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return names


MODULES = public_modules()


def _definition(obj) -> ast.AST | None:
    """The ``def`` or ``class`` statement of ``obj`` in the source of the module that defines it."""
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    if module is None or "." in name:
        return None
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
    return None


def docstring(module, name: str) -> str:
    """The docstring of ``module.name`` as written in the source ('' when it has none)."""
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isroutine(obj) or hasattr(obj, "__wrapped__"):
        node = _definition(inspect.unwrap(obj) if not inspect.isclass(obj) else obj)
        if node is not None:
            return ast.get_docstring(node) or ""
    comments = ModuleAnalyzer.for_module(module.__name__).find_attr_docs()
    return "\n".join(comments.get(("", name), [])).strip()


def test_the_package_has_the_modules_the_api_reference_expects():
    assert "genphys" in MODULES and "genphys.lm.train" in MODULES and "genphys.commands" in MODULES
    assert not [m for m in MODULES if "__main__" in m]


@pytest.mark.parametrize("name", MODULES)
def test_every_public_module_declares_its_public_names(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__ list"
    names = module.__all__
    assert len(names) == len(set(names)), f"{name}.__all__ repeats a name"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what the module does not have: {missing}"
    undocumented = [n for n in names if not docstring(module, n)]
    assert not undocumented, (f"{name}.__all__ names without a docstring (a constant takes a '#:' comment): "
                              f"{undocumented}")


@pytest.mark.parametrize("name", MODULES)
def test_every_public_module_has_a_docstring(name):
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no module docstring"


def test_the_docstring_reader_sees_what_autodoc_sees():
    from genphys import artifacts, config, plotting
    from genphys.lm import models

    assert docstring(config, "scale").startswith("The book's scale")            # functools.cache
    assert docstring(config, "one_torch_thread").startswith("Run torch on one thread")   # contextmanager
    assert docstring(config, "SCALES") == "The three scales, smallest first."   # '#:' above
    assert docstring(models, "EPS").startswith("the one epsilon")                # '#:' after, on its line
    assert docstring(artifacts, "Artifact").startswith("A result with its provenance")
    assert docstring(plotting, "color").startswith("The book's colour")
    assert docstring(models, "ModelConfig")                                       # not the dataclass's signature


def test_the_api_reference_documents_every_public_module():
    page = (BOOK / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\.\. automodule:: (\S+)$", page, flags=re.M)
    assert sorted(documented) == sorted(MODULES), (
        f"book/api.md: add {sorted(set(MODULES) - set(documented))}, remove {sorted(set(documented) - set(MODULES))}")
    assert len(documented) == len(set(documented))
    headings = re.findall(r"^### (\S+)$", page, flags=re.M)
    assert headings == documented, "each module's heading is its name, just above its automodule"


# --- the book extension's rendering of a docstring -------------------------------------------------

def test_a_docstring_is_shown_literally_with_links_to_the_equations_it_cites():
    lines = ["The filter of eq. ch7-filter, see also eqs. ch5-a and ch6-b.", "", "  * a `literal` *star* |bar|"]
    out = genphys_book.literal_docstring(lines, defined={"ch7-filter", "ch6-b"})
    assert out[:3] == [".. code-block:: text", "   :class: genphys-docstring", ""]
    assert out[3:6] == ["   " + lines[0], "", "     * a `literal` *star* |bar|"]
    assert out[-2] == "Equations cited: ``ch7-filter`` :eq:`ch7-filter`, ``ch6-b`` :eq:`ch6-b`."
    assert genphys_book.literal_docstring(["no equations here"], defined={"ch7-filter"})[-1] == ""
    assert genphys_book.literal_docstring(["", "  "], defined=set()) == []


def test_the_extension_finds_the_labels_and_citations_the_equation_test_finds():
    assert genphys_book.EQUATION_DEFINITION.pattern == DEFINITION.pattern
    assert genphys_book.defined_equations(BOOK) >= set(defined_labels(book_texts()))
    text = (PACKAGE / "lm" / "models.py").read_text(encoding="utf-8") + (PACKAGE / "measurement.py").read_text(
        encoding="utf-8")
    cited = set(genphys_book.cited_equations(text.splitlines()))
    canonical = {m.group(1) for m in CANONICAL.finditer(" ".join(line.strip() for line in text.splitlines()))}
    assert canonical and canonical <= cited
