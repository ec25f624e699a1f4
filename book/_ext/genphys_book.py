"""Sphinx extension of the book: the HTML works offline and ships nothing it does not need.

* MathJax 3 is served from the build: the es5 ``tex-chtml`` bundle, its TeX extensions, CHTML fonts,
  the assistive-MathML and menu components and the English speech rules are copied from the
  pip-installed package ``django-static-mathjax`` (module ``mathjax``) into ``_static/mathjax``;
  ``mathjax_path`` in ``_config.yml`` points there. No CDN is contacted to typeset a formula.
* Source maps (``*.map``, 3 MB of the theme's) are not shipped.
* ``sphinx-thebe`` registers its inline configuration script twice (``const THEBE_JS_URL`` declared
  twice is a JavaScript error on every page): identical scripts are emitted once.
* Bibliography labels are author-year (``Chen 2025``), the same form as the in-text citations.
* The API reference (``book/api.md``, ``sphinx.ext.autodoc``): the package's docstrings are plain
  text, not reStructuredText, so each is shown as written, in a literal block; the equations it cites
  (``eq. ch7-filter``) are listed after it as links to the chapters that define them.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

#: What of MathJax's es5 distribution the book needs (paths relative to ``es5/``).
MATHJAX_PARTS = (
    "tex-chtml.js",
    "input/tex/extensions",
    "output/chtml/fonts/woff-v2",
    "a11y",
    "ui",
    "sre/mathmaps/base.json",
    "sre/mathmaps/en.json",
    "sre/mathmaps/nemeth.json",
)
#: The file ``mathjax_path`` names, relative to ``_static``.
MATHJAX_ENTRY = "mathjax/tex-chtml.js"


def mathjax_source() -> Path:
    """The es5 folder of the installed MathJax package."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as err:
        raise RuntimeError("MathJax is not installed: pip install django-static-mathjax "
                           "(it is in requirements.txt)") from err
    if not (root / "tex-chtml.js").is_file():
        raise RuntimeError(f"the installed 'mathjax' package has no es5/tex-chtml.js under {root}")
    return root


def copy_mathjax(outdir: Path) -> Path:
    """Copy the parts of MathJax the book uses into ``outdir/_static/mathjax``; return that folder."""
    source, target = mathjax_source(), Path(outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    return target


def remove_source_maps(outdir: Path) -> list[Path]:
    """Delete every ``*.map`` file under ``outdir``; return what was deleted."""
    maps = sorted(Path(outdir).rglob("*.map"))
    for path in maps:
        path.unlink()
    return maps


def _script_key(js) -> tuple:
    """What a script tag is made of: its file ('' and None are both "inline") and its attributes."""
    attributes = getattr(js, "attributes", {}) or {}
    filename = getattr(js, "filename", js) or ""
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    """Emit every distinct script once (sphinx-thebe adds its inline configuration twice)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    copy_mathjax(Path(app.outdir))
    remove_source_maps(Path(app.outdir))


# --- author-year labels for the bibliography -------------------------------------------------

def _register_bibliography_style():
    from pybtex.plugin import register_plugin
    from pybtex.richtext import Text
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.labels import BaseLabelStyle

    def surnames(entry) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [Text.from_latex(" ".join(p.prelast_names + p.last_names)).render_as("text") for p in people]
        names = [n for n in names if n]
        if not names:
            return entry.fields.get("title", "Anonymous")
        if len(names) == 1:
            return names[0]
        if len(names) == 2:
            return f"{names[0]} & {names[1]}"
        return f"{names[0]} et al."

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            entries = list(sorted_entries)
            bases = [f"{surnames(e)} {e.fields.get('year', 'n.d.')}" for e in entries]
            repeated, seen = Counter(bases), Counter()
            for base in bases:
                if repeated[base] > 1:
                    yield base + "abcdefghijklmnopqrstuvwxyz"[seen[base]]
                    seen[base] += 1
                else:
                    yield base

    class AuthorYearStyle(UnsrtStyle):
        default_label_style = AuthorYearLabels
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.formatting", "genphys_author_year", AuthorYearStyle, force=True)


# --- the API reference: docstrings as written, with links to the equations they cite ---------

#: An equation label of the book: a chapter prefix, a hyphen, a name (``ch7-filter``).
EQUATION_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)+"
#: ``eq. label`` or ``eqs. a and b`` / ``eqs. a, b and c`` in a docstring (tests/test_equations.py).
EQUATION_CITATION = re.compile(r"\beqs?\. (" + EQUATION_LABEL + r"(?:(?:, | and )" + EQUATION_LABEL + r")*)")
#: A labelled display equation in MyST: ``$$ ... $$ (label)``.
EQUATION_DEFINITION = re.compile(r"\$\$[ \t]*\((" + EQUATION_LABEL + r")\)")


def defined_equations(book: Path) -> set[str]:
    """The equation labels that the pages under ``book`` define (Markdown cells of notebooks, .md pages)."""
    labels = set()
    for path in sorted(Path(book).glob("*.ipynb")) + sorted(Path(book).glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            cells = json.loads(text).get("cells", [])
            text = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")
        labels.update(EQUATION_DEFINITION.findall(text))
    return labels


def cited_equations(lines: list[str]) -> list[str]:
    """The equation labels a docstring cites, in order of first citation."""
    found: list[str] = []
    for match in EQUATION_CITATION.finditer(" ".join(line.strip() for line in lines)):
        for label in re.split(r", | and ", match.group(1)):
            if label not in found:
                found.append(label)
    return found


def literal_docstring(lines: list[str], defined: set[str]) -> list[str]:
    """reStructuredText that shows ``lines`` literally, then links to the defined equations it cites."""
    if not any(line.strip() for line in lines):
        return []
    out = [".. code-block:: text", "   :class: genphys-docstring", ""]
    out += [f"   {line}".rstrip() for line in lines] + [""]
    links = [f"``{label}`` :eq:`{label}`" for label in cited_equations(lines) if label in defined]
    if links:
        out += ["Equations cited: " + ", ".join(links) + ".", ""]
    return out


def process_docstring(app, what, name, obj, options, lines):
    """``autodoc-process-docstring``: genphys's docstrings become literal blocks with equation links."""
    if not name.startswith("genphys"):
        return
    defined = getattr(app, "genphys_equations", None)
    if defined is None:                   # once per build (not kept in the pickled environment)
        defined = app.genphys_equations = defined_equations(Path(app.srcdir) / "book")
    lines[:] = literal_docstring(list(lines), defined)


def setup(app):
    _register_bibliography_style()
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("build-finished", build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
