"""The built HTML book as the static and browser tests see it.

The strict build of ``make book-strict`` writes ``_build/tiny/_build/html``; ``GENPHYS_HTML``
points the tests at another build (``make book`` writes ``_build/html``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import bookfiles
from bookfiles import ROOT

STRICT_BUILD = ROOT / "_build" / "tiny" / "_build" / "html"
#: Pages being rewritten elsewhere: their problems are reported, and expected (strict xfail) until
#: the fixes listed for their author are in (none at present).
PENDING: set[str] = set()
#: Chapter pages: book/NN_name.html.
CHAPTER = re.compile(r"^(\d\d)_[a-z0-9_]+$")


def html_dir() -> Path:
    return Path(os.environ.get("GENPHYS_HTML", STRICT_BUILD))


def missing_build_reason() -> str | None:
    """Why the HTML tests cannot run (no build, or one older than its sources), or None."""
    folder = html_dir()
    if not (folder / "index.html").is_file():
        return (f"no built book at {folder}: run `make book-strict` first (`make test` runs these "
                f"checks right after it), or set GENPHYS_HTML to a build's html folder")
    if "GENPHYS_HTML" not in os.environ:
        stale = stale_pages(folder)
        if stale:
            return (f"the build at {folder} is older than {', '.join(stale[:3])}: run `make book-strict` "
                    f"(`make test` runs these checks right after it)")
    return None


def stale_pages(folder: Path) -> list[str]:
    """Sources (toc pages, configuration, the book's extension and styles) newer than their HTML."""
    stale = []
    pages_built = [folder / f"{entry}.html" for entry in bookfiles.toc_entries()]
    oldest = min((p.stat().st_mtime for p in pages_built if p.is_file()), default=0.0)
    for entry, page in zip(bookfiles.toc_entries(), pages_built):
        source = bookfiles.toc_source(entry)
        if source is not None and (not page.is_file() or source.stat().st_mtime > page.stat().st_mtime + 1):
            stale.append(source.relative_to(ROOT).as_posix())
    shared = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "book" / "references.bib",
              *(ROOT / "book" / "_ext").glob("*.py"), *(ROOT / "book" / "_static").glob("*")]
    stale += [p.relative_to(ROOT).as_posix() for p in shared if p.is_file() and p.stat().st_mtime > oldest + 1]
    return stale


def pages(folder: Path | None = None) -> list[Path]:
    """Every HTML page a reader can open (the toc's pages, the index, search, genindex)."""
    folder = folder or html_dir()
    skip = {"_static", "_sources", "_images", "reports"}
    return sorted(p for p in folder.rglob("*.html")
                  if not skip & set(p.relative_to(folder).parts) and not is_redirect(p))


def is_redirect(page: Path) -> bool:
    """Jupyter Book's top-level index.html only forwards to the root page."""
    head = page.read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head and "<article" not in head


def page_name(path: Path, folder: Path | None = None) -> str:
    return path.relative_to(folder or html_dir()).with_suffix("").as_posix()


def chapter_number(name: str) -> int | None:
    """7 for 'book/07_dissipative_lm', None for pages that are not chapters."""
    m = CHAPTER.match(name.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


def allowed_remote_scripts() -> set[str]:
    """The explicit allow-list: the widget manager and require.js, as named in _config.yml."""
    return set(bookfiles.config()["sphinx"]["config"].get("nb_ipywidgets_js", {}))


def is_remote(url: str) -> bool:
    parts = urlsplit(url)
    return url.startswith("//") or parts.scheme in {"http", "https"}


def host(url: str) -> str:
    return urlsplit(url if not url.startswith("//") else "https:" + url).netloc
