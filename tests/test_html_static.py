"""Static checks of the built HTML book: what a reader gets, without running a browser.

Runs over the strict build (`make book-strict` writes ``_build/tiny/_build/html``; `make test`
runs this file right after it) and skips with a message when no build is there. Each check is a
function returning a list of problems, and ``test_each_check_catches_its_planted_defect`` shows
that every one of them fails on a page with that defect planted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pybtex.database import parse_file

import bookfiles
import bookhtml
from bookfiles import BOOK

needs_build = pytest.mark.skipif(bookhtml.missing_build_reason() is not None,
                                 reason=bookhtml.missing_build_reason() or "")

#: Every tag the HTML of the book legitimately contains (Sphinx, the theme, MyST-NB, SVG icons).
KNOWN_TAGS = set("""
a abbr address article aside audio b blockquote body br button canvas caption cite code col
colgroup dd del details dfn div dl dt em fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6
head header hr html i img input ins kbd label legend li link main mark meta nav noscript ol optgroup
option p picture pre q s samp script section select small source span strong style sub summary sup
table tbody td template textarea tfoot th thead time title tr u ul var video wbr
svg path g circle rect line polyline polygon defs use symbol title desc clippath lineargradient stop
""".split())
#: Tags that must never come out of prose (they swallow the rest of the page or are no HTML).
FORBIDDEN_TAGS = {"object", "embed", "applet", "iframe", "frame", "frameset", "eot"}
UNRESOLVED = ["??", "{numref}", "{glue", "{eq}", "{cite", "{doc}", "{ref}", "{term}",
              "Traceback (most recent call last)"]
#: Words that belong to the project's bookkeeping, not to the book (prose, captions and outputs).
BOOKKEEPING = [
    r"\bthe issue\b", r"\bissue's\b", r"\bthe goal\b", r"\bgoal '", r"\bverdict on the goal\b",
    r"\bthe seed's\b", r"\bthe seeds'\b", r"\bseed papers?\b", r"\bcould not check\b",
    r"\bworks from a (public )?review\b", r"\bTODO\b", r"\bFIXME\b", r"\bdesign document\b",
    r"\bDESIGN\b", r"\bacceptance\b", r"\bthe lead\b",
]
#: Values glued raw into sentences: Python booleans and lists.
RAW_VALUES = [r"\b(True|False|None)\b", r"\[\d[\d., ]*\]"]
PAGE_BYTES = 4_000_000
#: Pages written from the package's docstrings (sphinx.ext.autodoc): signatures, not sentences.
REFERENCE_PAGES = {"book/api"}


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def article(soup: BeautifulSoup):
    return soup.select_one("article.bd-article") or soup.select_one("main") or soup.body or soup


def prose_text(soup: BeautifulSoup, with_outputs: bool) -> str:
    """The article's visible prose: no code, no maths, no scripts; cell outputs if asked."""
    art = BeautifulSoup(str(article(soup)), "html.parser")
    drop = ["script", "style", "div.cell_input", ".math", "span.eqno"]
    drop += [] if with_outputs else ["div.cell_output", "pre", "code", ".highlight"]
    for selector in drop:
        for node in art.select(selector):
            node.decompose()
    text = art.get_text(" ").translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", text)


# --- the checks: each returns a list of problems --------------------------------------------------

def remote_resources(soup: BeautifulSoup, allowed: set[str]) -> list[str]:
    found = []
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                      ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src")):
        for node in soup.find_all(tag):
            url = node.get(attr)
            if not url or not bookhtml.is_remote(url):
                continue
            if tag == "link" and not {"stylesheet", "preload", "icon", "modulepreload"} & set(node.get("rel", [])):
                continue                                         # a hyperlink, not a resource
            if url not in allowed:
                found.append(f"<{tag} {attr}={url!r}> loads from {bookhtml.host(url)}")
    return found


def mathjax_is_local(soup: BeautifulSoup, page: Path) -> list[str]:
    if not soup.select(".math"):
        return []
    sources = [s.get("src", "") for s in soup.find_all("script") if "mathjax" in s.get("src", "").lower()]
    local = [s for s in sources if not bookhtml.is_remote(s) and s.split("?")[0].endswith("mathjax/tex-chtml.js")]
    problems = [f"MathJax from another host: {s}" for s in sources if bookhtml.is_remote(s)]
    if not local:
        problems.append("a page with maths loads no MathJax from the build")
    for src in local:
        bundle = (page.parent / src.split("?")[0]).resolve()
        if not bundle.is_file():
            problems.append(f"MathJax bundle {src} is not in the build")
        elif not (bundle.parent / "output" / "chtml" / "fonts" / "woff-v2").is_dir():
            problems.append("MathJax's CHTML fonts are not in the build")
    return problems


def stray_tags(soup: BeautifulSoup) -> list[str]:
    found = set()
    for node in article(soup).find_all(True):
        name = node.name.lower()
        if name in FORBIDDEN_TAGS or name not in KNOWN_TAGS:
            text = node.get_text(" ", strip=True)[:40]
            found.add(f"stray <{name}> in the page (text after it: {text!r})")
    return sorted(found)


def unresolved_markup(soup: BeautifulSoup) -> list[str]:
    art = BeautifulSoup(str(article(soup)), "html.parser")
    for node in art.select("script, style"):
        node.decompose()
    text = art.get_text(" ")
    return [f"{marker!r} in the page" for marker in UNRESOLVED if marker in text]


def images_in_captioned_figures(soup: BeautifulSoup) -> list[str]:
    problems = []
    for img in article(soup).find_all("img"):
        src, alt = img.get("src", ""), img.get("alt", "").strip()
        figure = img.find_parent("figure")
        caption = figure.find("figcaption") if figure else None
        if caption is None or not caption.get_text(strip=True):
            problems.append(f"image {src} is not inside a captioned figure")
        if not alt or "_images/" in alt or re.search(r"\.(png|jpe?g|svg)$", alt) or re.fullmatch(r"[0-9a-f]{16,}", alt):
            problems.append(f"image {src} has no meaningful alt text (alt={alt!r})")
    return problems


def colab_link(soup: BeautifulSoup, name: str) -> list[str]:
    if bookhtml.chapter_number(name) is None:
        return []
    url = bookfiles.repository_url().removeprefix("https://github.com/")
    target = f"https://colab.research.google.com/github/{url}/blob/main/{name}.ipynb"
    if not any(a.get("href", "").startswith(target) for a in soup.find_all("a")):
        return [f"no Colab link {target}"]
    return []


def _matches(text: str, patterns: list[str], what: str, where: str = "") -> list[str]:
    """One problem per match of ``patterns`` in ``text``, with its context."""
    return [f"{what} {m.group(0)!r}{where}: ...{text[max(0, m.start() - 50):m.end() + 30]}..."
            for pattern in patterns for m in re.finditer(pattern, text)]


def bookkeeping_words(soup: BeautifulSoup) -> list[str]:
    return _matches(prose_text(soup, with_outputs=True), BOOKKEEPING, "bookkeeping words")


def raw_values_in_prose(soup: BeautifulSoup) -> list[str]:
    return _matches(prose_text(soup, with_outputs=False), RAW_VALUES, "raw value", " in a sentence")


def numbering(soup: BeautifulSoup, name: str) -> list[str]:
    number = bookhtml.chapter_number(name)
    if number is None:
        return []
    problems = []
    title = article(soup).find("h1")
    prefix = title.find("span", class_="section-number") if title else None
    if prefix is None or prefix.get_text(strip=True).rstrip(".") != str(number):
        problems.append(f"the title is not numbered {number}.: {title.get_text(' ', strip=True) if title else None!r}")
    for span in article(soup).select("span.caption-number"):
        label = span.get_text(strip=True)
        if not re.fullmatch(rf"Fig\. {number}\.\d+", label):
            problems.append(f"figure number {label!r} is not of chapter {number}")
    for span in article(soup).select("span.eqno"):
        label = span.get_text(strip=True).rstrip("#").strip()
        if not re.fullmatch(rf"\({number}\.\d+\)", label):
            problems.append(f"equation number {label!r} is not of chapter {number}")
    return problems


def chapter_mentions(soup: BeautifulSoup, n_chapters: int) -> list[str]:
    text = prose_text(soup, with_outputs=True)
    return [f"prose names chapter {m.group(1)}, the book has {n_chapters}"
            for m in re.finditer(r"\b[Cc]hapters? (\d+)\b", text) if not 1 <= int(m.group(1)) <= n_chapters]


def scripts_declared_once(raw_html: str) -> list[str]:
    count = raw_html.count("const THEBE_JS_URL")
    return [f"THEBE_JS_URL declared {count} times (a JavaScript error)"] if count > 1 else []


def widgets_have_static_defaults(soup: BeautifulSoup) -> list[str]:
    """Every widget view is preceded by (or shares its cell with) a static figure, table or text."""
    cells = article(soup).select("div.cell")

    def static(cell) -> bool:
        for out in cell.select("div.cell_output"):
            for node in out.find_all(["img", "table", "pre"]):
                if not node.find_parent("script"):
                    return True
        return False

    problems = []
    for i, cell in enumerate(cells):
        if cell.find("script", type="application/vnd.jupyter.widget-view+json") is None:
            continue
        if not (static(cell) or (i > 0 and static(cells[i - 1]))):
            source = cell.select_one("div.cell_input")
            problems.append("a widget without a static rendering of its default: "
                            + (source.get_text(" ", strip=True)[:80] if source else "?"))
    return problems


def page_weight(page: Path, soup: BeautifulSoup) -> list[str]:
    total = page.stat().st_size
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if src and not bookhtml.is_remote(src) and (page.parent / src).is_file():
            total += (page.parent / src).stat().st_size
    return [f"page and its images weigh {total / 1e6:.1f} MB"] if total > PAGE_BYTES else []


# --- over the build ------------------------------------------------------------------------------

def page_problems(page: Path, folder: Path) -> list[str]:
    raw = page.read_text(encoding="utf-8")
    soup = BeautifulSoup(raw, "html.parser")
    name = bookhtml.page_name(page, folder)
    n_chapters = sum(1 for p in bookfiles.toc_notebooks() if bookhtml.chapter_number(p.stem))
    problems = (remote_resources(soup, bookhtml.allowed_remote_scripts()) + mathjax_is_local(soup, page)
                + unresolved_markup(soup) + scripts_declared_once(raw) + page_weight(page, soup))
    if name in {"search", "genindex", "py-modindex"}:
        return problems
    problems += (stray_tags(soup) + images_in_captioned_figures(soup) + colab_link(soup, name)
                 + bookkeeping_words(soup) + numbering(soup, name)
                 + chapter_mentions(soup, n_chapters) + widgets_have_static_defaults(soup))
    # The API reference's signatures show defaults (None, True) as code, in the theme's spans.
    return problems if name in REFERENCE_PAGES else problems + raw_values_in_prose(soup)


def _page_ids():
    if bookhtml.missing_build_reason():
        return []
    pending = pytest.mark.xfail(strict=True, reason="chapter 7: fixes listed for its author in issue 15")
    return [pytest.param(name, marks=pending) if name.rsplit("/", 1)[-1] in bookhtml.PENDING else name
            for name in map(bookhtml.page_name, bookhtml.pages())]


@needs_build
def test_the_build_has_every_page_of_the_toc():
    built = {bookhtml.page_name(p) for p in bookhtml.pages()}
    expected = {entry for entry in bookfiles.toc_entries()}
    assert expected <= built, f"pages missing from the build: {sorted(expected - built)}"


@needs_build
@pytest.mark.parametrize("name", _page_ids() or ["(no build)"])
def test_page_is_self_contained_and_clean(name):
    folder = bookhtml.html_dir()
    problems = page_problems(folder / f"{name}.html", folder)
    assert not problems, f"{name}.html:\n  " + "\n  ".join(problems)


@needs_build
@pytest.mark.parametrize("path", bookfiles.book_notebooks(), ids=lambda p: p.stem)
def test_every_self_check_of_the_built_chapter_says_correct(path):
    """With the solutions in, each exercise's self-check answered "Correct" when the build executed the
    chapter (its executed copy sits in jupyter_execute beside the html folder)."""
    from genphys.exercises import assignment

    executed = bookhtml.html_dir().parent / "jupyter_execute" / path.relative_to(bookfiles.ROOT)
    assert executed.is_file(), f"the build did not keep the executed chapter at {executed}"
    records = assignment.feedback_records(executed)
    tagged = sum("self-check" in c.get("metadata", {}).get("tags", [])
                 for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
    assert len(records) == tagged, f"{tagged} self-check cells, {len(records)} verdicts in the executed chapter"
    wrong = [f"{r['exercise']}: {r['message']}" for r in records if not r["correct"]]
    assert not wrong, "self-checks not passed by the book's own solutions:\n  " + "\n  ".join(wrong)


@needs_build
def test_no_source_maps_and_mathjax_shipped():
    folder = bookhtml.html_dir()
    maps = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.map"))
    assert not maps, f"source maps shipped: {maps}"
    mathjax = folder / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file() and (mathjax / "input" / "tex" / "extensions" / "ams.js").is_file()
    assert list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))


@needs_build
def test_sidebar_numbers_the_chapters():
    soup = soup_of(bookhtml.html_dir() / f"{bookfiles.toc_entries()[0]}.html")      # the root page
    links = {a.get("href", "").split("#")[0].removesuffix(".html"): a.get_text(" ", strip=True)
             for a in soup.select("nav.bd-links a, .bd-sidebar-primary a")}
    for path in bookfiles.toc_notebooks():
        number = bookhtml.chapter_number(path.stem)
        text = next((t for href, t in links.items() if href.endswith(path.stem)), None)
        assert text is not None and text.startswith(f"{number}. "), f"sidebar entry of {path.stem}: {text!r}"
    notation = next((t for href, t in links.items() if href.endswith("notation")), "")
    assert not re.match(r"\d", notation), f"the notation page is numbered: {notation!r}"


# --- sources: the bibliography ---------------------------------------------------------------------

def cited_keys() -> set[str]:
    texts = [p.read_text(encoding="utf-8") for p in [*BOOK.glob("*.md"), *bookfiles.book_notebooks()]]
    cited = set()
    for text in texts:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited.update(key.strip() for key in group.split(","))
    return cited


def bibliography_problems(bib_path: Path, cited: set[str]) -> list[str]:
    problems = []
    entries = parse_file(str(bib_path)).entries
    for key, entry in entries.items():
        if key not in cited:
            problems.append(f"{key}: in references.bib but cited nowhere")
        for role in ("author", "editor"):
            for person in entry.persons.get(role, []):
                if str(person) != "others" and not (person.first_names or person.middle_names):
                    problems.append(f"{key}: {role} {str(person)!r} has no first name")
        for field in ("note", "annote", "howpublished"):
            value = entry.fields.get(field, "")
            for pattern in BOOKKEEPING + [r"\bthe book\b", r"\boffline\b", r"\bcould not\b", r"\bCited by\b"]:
                if re.search(pattern, value, flags=re.IGNORECASE):
                    problems.append(f"{key}: note to the authors in {field}: {value!r}")
                    break
    return problems


def test_bibliography_is_cited_complete_and_clean():
    problems = bibliography_problems(BOOK / "references.bib", cited_keys())
    assert not problems, "\n".join(problems)


def test_bibliography_page_lists_cited_works_only():
    text = (BOOK / "bibliography.md").read_text(encoding="utf-8")
    assert ":all:" not in text, "the bibliography lists uncited works (:all:)"


# --- the checks can fail ---------------------------------------------------------------------------

PLANTED = {
    "remote": ('<script src="https://cdn.example.org/mathjax@3/tex.js"></script>',
               lambda s, p: remote_resources(s, set())),
    "stray-object": ('<p>Names and "the <object> come back"</p>', lambda s, p: stray_tags(s)),
    "stray-eot": ("<figure><img alt='x' src='a.png'><figcaption>ending in <eot> are complete"
                  "</figcaption></figure>", lambda s, p: stray_tags(s)),
    "unresolved": ("<p>see {numref}`fig-x` and ?? and Traceback (most recent call last)</p>",
                   lambda s, p: unresolved_markup(s)),
    "uncaptioned": ('<p><img alt="../_images/0ebb85eac18d.png" src="../_images/0ebb85eac18d.png"></p>',
                    lambda s, p: images_in_captioned_figures(s)),
    "bookkeeping": ("<p>The issue's target is a vocabulary of 8 tokens.</p>", lambda s, p: bookkeeping_words(s)),
    "raw-value": ("<p>(monotonically: True) with [4096] modes</p>", lambda s, p: raw_values_in_prose(s)),
    "unnumbered": ("<h1>Histories</h1><figure><figcaption><span class='caption-number'>Fig. 3 </span>x"
                   "</figcaption></figure>", lambda s, p: numbering(s, "book/01_histories")),
    "no-colab": ("<h1>x</h1>", lambda s, p: colab_link(s, "book/01_histories")),
    "chapter-9": ("<p>as chapter 9 shows</p>", lambda s, p: chapter_mentions(s, 7)),
    "widget": ('<div class="cell"><div class="cell_input"><pre>interact(f)</pre></div><div class="cell_output">'
               '<script type="application/vnd.jupyter.widget-view+json">{}</script></div></div>',
               lambda s, p: widgets_have_static_defaults(s)),
    "mathjax-cdn": ('<span class="math">\\(x\\)</span><script defer src="https://cdn.jsdelivr.net/npm/'
                    'mathjax@3/es5/tex-mml-chtml.js"></script>', lambda s, p: mathjax_is_local(s, p)),
}


@pytest.mark.parametrize("defect", sorted(PLANTED))
def test_each_check_catches_its_planted_defect(defect, tmp_path):
    snippet, check = PLANTED[defect]
    page = tmp_path / "book" / "page.html"
    page.parent.mkdir()
    html = f"<html><body><main><article class='bd-article'>{snippet}</article></main></body></html>"
    page.write_text(html, encoding="utf-8")
    assert check(BeautifulSoup(html, "html.parser"), page), f"the {defect} check missed its defect"


def test_thebe_and_weight_checks_catch_planted_defects(tmp_path):
    assert scripts_declared_once("<script>const THEBE_JS_URL = 1</script>" * 2)
    page = tmp_path / "p.html"
    page.write_bytes(b"x" * (PAGE_BYTES + 1))
    assert page_weight(page, BeautifulSoup("", "html.parser"))


def test_bibliography_check_catches_planted_defects(tmp_path):
    bib = tmp_path / "r.bib"
    bib.write_text("@misc{wang2026, author = {Wang}, title = {T}, year = {2026},\n"
                   "  note = {the book works from a public review of it}}\n"
                   "@misc{unused1999, author = {Doe, Jane}, title = {U}, year = {1999}}\n", encoding="utf-8")
    problems = "\n".join(bibliography_problems(bib, {"wang2026"}))
    assert "no first name" in problems and "note to the authors" in problems and "unused1999" in problems


def test_clean_snippets_pass_every_check(tmp_path):
    """The checks do not cry wolf: a clean figure, citation label and equation pass."""
    html = ("<html><body><main><article class='bd-article'><h1><span class='section-number'>1. </span>H</h1>"
            "<p>Leaves ending in &lt;eot&gt; are complete [Chen 2025], see chapter 2.</p>"
            "<figure><img alt='tree of histories' src='a.png'><figcaption><span class='caption-number'>"
            "Fig. 1.1 </span>The tree.</figcaption></figure><div class='math'>\\[x\\]<span class='eqno'>(1.1)"
            "</span></div><a href='https://colab.research.google.com/github/"
            + bookfiles.repository_url().removeprefix("https://github.com/")
            + "/blob/main/book/01_histories.ipynb'>c</a></article></main></body></html>")
    soup = BeautifulSoup(html, "html.parser")
    for check in (stray_tags, unresolved_markup, images_in_captioned_figures, bookkeeping_words,
                  raw_values_in_prose):
        assert check(soup) == [], check.__name__
    assert numbering(soup, "book/01_histories") == [] and colab_link(soup, "book/01_histories") == []
    assert chapter_mentions(soup, 7) == [] and remote_resources(soup, set()) == []


if __name__ == "__main__":                 # a quick report over a build: python tests/test_html_static.py
    folder = bookhtml.html_dir()
    report = {bookhtml.page_name(p, folder): page_problems(p, folder) for p in bookhtml.pages(folder)}
    print(json.dumps(report, indent=1))
