"""Equation references in the package resolve to equations of the book.

A docstring cites the equation it implements as ``eq. <label>`` (or ``eqs. <a> and <b>``),
where ``<label>`` is a MyST label of a chapter: ``$$ ... $$ (<label>)``.  This test finds every
such reference in ``src/genphys`` and fails on a label that no chapter defines, on a spelling
other than the canonical one, and on a citation of a design document outside the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bookfiles import ROOT, toc_entries, toc_source

SOURCES = sorted((ROOT / "src" / "genphys").rglob("*.py"))
LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)+"          # chapter prefix, a hyphen, a name
DEFINITION = re.compile(r"\$\$[ \t]*\((" + LABEL + r")\)")
#: Any mention of an equation reference, canonical or not.
MENTION = re.compile(r"\beqs?\.\s*(\S+)")
#: ``eq. label`` or ``eqs. a and b`` / ``eqs. a, b and c``.
CANONICAL = re.compile(r"\beqs?\. (" + LABEL + r")((?:(?:, | and )" + LABEL + r")*)")


def book_texts() -> dict[str, str]:
    """The markdown of every page in the toc, by file name."""
    texts = {}
    for entry in toc_entries():
        path = toc_source(entry)
        if path is None:
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            texts[path.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        else:
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def defined_labels(texts: dict[str, str]) -> dict[str, list[str]]:
    """Label -> the pages that define it."""
    found: dict[str, list[str]] = {}
    for name, text in texts.items():
        for label in DEFINITION.findall(text):
            found.setdefault(label, []).append(name)
    return found


def references(text: str) -> tuple[list[str], list[str]]:
    """(labels cited canonically, mentions of equations not written canonically) in ``text``."""
    labels, bad = [], []
    canonical_spans = []
    for m in CANONICAL.finditer(text):
        more = re.split(r", | and ", m.group(2))[1:] if m.group(2) else []
        if text[m.start():m.start() + 4] == "eqs." and not more:
            continue                                     # "eqs." names at least two labels
        canonical_spans.append(m.start())
        labels += [m.group(1), *more]
    for m in MENTION.finditer(text):
        if m.start() not in canonical_spans:
            bad.append(text[m.start():m.start() + 40].splitlines()[0])
    return labels, bad


def problems(sources: dict[str, str], labels: dict[str, list[str]]) -> list[str]:
    out = []
    for name, text in sources.items():
        cited, bad = references(text)
        out += [f"{name}: eq. {label} is defined in no chapter" for label in cited if label not in labels]
        out += [f"{name}: write the reference as 'eq. <label>': {b!r}" for b in bad]
        if re.search(r"\bDESIGN\b|design document", text):
            out.append(f"{name}: cites a design document that is not part of the repository")
    return out


def test_every_equation_reference_names_a_label_of_the_book():
    labels = defined_labels(book_texts())
    sources = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in SOURCES}
    found = problems(sources, labels)
    assert not found, "\n".join(found)


def test_the_package_cites_equations_at_all():
    cited = [label for p in SOURCES for label in references(p.read_text(encoding="utf-8"))[0]]
    assert len(cited) > 30


def test_equation_labels_are_unique_across_the_book():
    duplicated = {k: v for k, v in defined_labels(book_texts()).items() if len(v) > 1}
    assert not duplicated


@pytest.mark.parametrize("text, expected", [
    ("implements eq. ch3-gksl.", []),
    ("eqs. ch3-kraus and ch3-choi", []),
    ("eq. ch9-missing", ["eq. ch9-missing is defined in no chapter"]),
    ("(chapter 2, eq. ``kraus``)", ["write the reference"]),
    ("eqs. ch3-kraus and ``choi``", ["write the reference"]),
    ("see DESIGN section 5", ["design document"]),
])
def test_the_checker_can_fail(text, expected):
    labels = {"ch3-gksl": ["03"], "ch3-kraus": ["03"], "ch3-choi": ["03"]}
    found = problems({"fake.py": text}, labels)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found))
