"""The built book in a real browser, offline: headless Chromium from the system packages.

Every page of the strict build is served from 127.0.0.1 and opened at a 1400 x 900 window with every
request to another host blocked (the allow-listed widget manager included: offline it is absent).
On every page: MathJax (served from the build) typesets every formula without an error, every image
loads, nothing is written to the console as an error and no script raises, no display equation is
wider than its column, no code or output line runs out of its column, and the sidebars stand beside
the article. ``test_the_browser_check_catches_planted_defects`` shows each of these checks failing
on a page built to break it.

Skips with a message where Chromium (``apt-get install chromium``; ``.ci/run`` installs it when it
runs as root), Playwright or the build is absent. ``GENPHYS_CHROMIUM`` names another binary.

    python tests/test_browser.py [html folder]     # the counts and problems of every page, as JSON
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import socketserver
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import bookhtml

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions"]
WINDOW = {"width": 1400, "height": 900}
REPORT = bookhtml.ROOT / "_build" / "browser-report.json"


def chromium_path() -> str | None:
    named = os.environ.get("GENPHYS_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def skip_reason() -> str | None:
    if chromium_path() is None:
        return ("no Chromium on this machine: `apt-get install -y chromium` (as root; .ci/run does it), "
                "or set GENPHYS_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; it is in requirements.txt)"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 at a free port; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


#: Run in the page once it has loaded: waits for MathJax, then measures.
MEASURE = r"""
async () => {
  const out = {mathjax: false, math: 0, typeset: 0, displays: 0, errors: [], raw: [], wide: [],
               images: 0, broken: [], code_overflow: [], layout: []};
  if (window.MathJax && (window.MathJax.version || document.querySelector('script[src*="mathjax"]'))) {
    for (let i = 0; i < 400 && !(MathJax.startup && MathJax.startup.promise); i++)
      await new Promise(r => setTimeout(r, 25));
    if (MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; out.mathjax = true; }
  }
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const col = article.getBoundingClientRect();
  for (const el of article.querySelectorAll('.math')) {
    out.math += 1;
    if (el.tagName === 'DIV') out.displays += 1;
    const box = el.querySelector('mjx-container');
    if (!box) { out.raw.push(el.textContent.trim().slice(0, 60)); continue; }
    out.typeset += 1;
    for (const err of box.querySelectorAll('mjx-merror'))
      out.errors.push((err.getAttribute('data-mjx-error') || err.textContent).slice(0, 80) + ' in ' +
                      el.textContent.trim().slice(0, 40));
    if (el.tagName === 'DIV') {
      const math = box.querySelector('mjx-math') || box;
      const width = math.getBoundingClientRect().width, room = el.clientWidth;
      const right = el.getBoundingClientRect().right;
      if (room > 0 && (width > room + 1 || right > col.right + 1))
        out.wide.push(`${Math.round(width)} px in ${Math.round(Math.min(room, col.width))} px: ` +
                      (el.querySelector('mjx-assistive-mml') || el).textContent.trim().slice(0, 50));
    }
  }
  for (const img of article.querySelectorAll('img')) {
    out.images += 1;
    if (!img.complete || img.naturalWidth === 0) out.broken.push(img.getAttribute('src'));
  }
  for (const pre of article.querySelectorAll('div.cell pre, div.highlight pre')) {
    if (pre.offsetParent === null || pre.clientWidth === 0) continue;      // collapsed
    if (pre.scrollWidth > pre.clientWidth + 1) {
      const line = pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '');
      out.code_overflow.push(`${pre.scrollWidth} px in ${pre.clientWidth} px: ${line.trim().slice(0, 70)}`);
    }
  }
  const beside = (sel, side) => {
    const el = document.querySelector(sel);
    if (!el) return;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).display === 'none') return;
    const ok = side === 'right' ? r.left >= col.right - 2 : r.right <= col.left + 2;
    const overlapsVertically = r.top < col.bottom && r.bottom > col.top && r.top < col.top + 600;
    if (!ok || !overlapsVertically)
      out.layout.push(`${sel} is not ${side === 'right' ? 'right of' : 'left of'} the article ` +
                      `(sidebar ${Math.round(r.left)}..${Math.round(r.right)} x ${Math.round(r.top)}, ` +
                      `article ${Math.round(col.left)}..${Math.round(col.right)} x ${Math.round(col.top)})`);
  };
  beside('.bd-sidebar-secondary', 'right');
  beside('.bd-sidebar-primary', 'left');
  out.secondary = !!document.querySelector('.bd-sidebar-secondary');
  return out;
}
"""


def inspect(chromium, base: str, path: str, allowed: set[str]) -> dict:
    """Open one page offline and return its counts and its problems."""
    context = chromium.new_context(viewport=WINDOW, service_workers="block")
    page = context.new_page()
    local = urlsplit(base).netloc
    blocked, console, failures = [], [], []

    def route(r):
        url = r.request.url
        if urlsplit(url).netloc == local or url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and console.append((m.text, m.location.get("url", ""))))
    page.on("pageerror", lambda e: failures.append(f"script error: {e}"))
    page.on("response", lambda r: r.status >= 400 and failures.append(f"HTTP {r.status} for {r.url}"))
    try:
        page.goto(f"{base}/{path}", wait_until="load", timeout=60_000)
        page.wait_for_timeout(150)
        data = page.evaluate(MEASURE)
    finally:
        context.close()
    expected_offline = {u for u in blocked if u in allowed}
    problems = [f"request to another host: {u}" for u in blocked if u not in allowed]
    problems += failures
    problems += [f"console error: {text} ({where})" for text, where in console
                 if where not in expected_offline and not any(u in text for u in expected_offline)]
    if data["math"] and not data["mathjax"]:
        problems.append(f"{data['math']} formulas and no MathJax ran")
    problems += [f"raw TeX, not typeset: {t!r}" for t in data["raw"]]
    problems += [f"MathJax error: {e}" for e in data["errors"]]
    problems += [f"display equation wider than its column: {w}" for w in data["wide"]]
    problems += [f"image did not load: {s}" for s in data["broken"]]
    problems += [f"code or output line wider than its column: {c}" for c in data["code_overflow"]]
    problems += data["layout"]
    counts = {k: data[k] for k in ("math", "typeset", "displays", "images")}
    counts.update(mathjax_errors=len(data["errors"]), console_errors=len(console) + len(failures),
                  blocked_allowed=len(expected_offline))
    return {"counts": counts, "problems": problems}


def inspect_build(folder: Path) -> dict[str, dict]:
    allowed = bookhtml.allowed_remote_scripts()
    with serve(folder) as base, browser() as chromium:
        return {bookhtml.page_name(p, folder): inspect(chromium, base, p.relative_to(folder).as_posix(), allowed)
                for p in bookhtml.pages(folder)}


def totals(report: dict[str, dict]) -> dict:
    keys = ("math", "typeset", "displays", "images", "mathjax_errors", "console_errors")
    out = {k: sum(r["counts"][k] for r in report.values()) for k in keys}
    out.update(pages=len(report), problems=sum(len(r["problems"]) for r in report.values()))
    return out


needs_browser = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
needs_build = pytest.mark.skipif(bookhtml.missing_build_reason() is not None,
                                 reason=bookhtml.missing_build_reason() or "")


@needs_browser
@needs_build
def test_every_page_reads_offline_in_chromium():
    report = inspect_build(bookhtml.html_dir())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"totals": totals(report), "pages": report}, indent=1), encoding="utf-8")
    sums = totals(report)
    print(f"\n{sums['pages']} pages, {sums['typeset']}/{sums['math']} formulas typeset "
          f"({sums['displays']} displays), {sums['images']} images, {sums['mathjax_errors']} MathJax errors, "
          f"{sums['console_errors']} console errors; report in {REPORT}")
    pending = {name for name in report if name.rsplit("/", 1)[-1] in bookhtml.PENDING}
    for name in sorted(pending):
        print(f"{name} (pending, issue 15): " + "; ".join(report[name]["problems"]))
    problems = [f"{name}: {p}" for name, r in report.items() if name not in pending for p in r["problems"]]
    assert not problems, "\n".join(problems)
    chapters = [r for name, r in report.items() if bookhtml.chapter_number(name)]
    assert chapters and all(r["counts"]["typeset"] > 0 and r["counts"]["images"] > 0 for r in chapters)
    # what every page needs, pending or not: maths typeset without errors, images, no script errors
    for name in pending:
        hard = [p for p in report[name]["problems"] if p.startswith(("raw TeX", "MathJax error", "image did",
                                                                     "script error", "request to another"))]
        assert not hard, f"{name}: " + "; ".join(hard)


PLANTED_PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {tex: {macros: {dag: "^{\\dagger}"}}};</script>
<script defer src="_static/mathjax/tex-chtml.js"></script>
<script src="https://cdn.example.org/widgets.js"></script>
<style>article {width: 600px} .bd-sidebar-secondary {width: 200px}</style>
</head><body><main>
<article class="bd-article">
<p>A formula with an error: <span class="math notranslate nohighlight">\(C_\beta^\dag\)</span></p>
<div class="math notranslate nohighlight">\[a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p + q + r + s + t + u + v + w
 + x + y + z + a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p + q\]</div>
<div class="cell"><div class="cell_output"><pre style="white-space: pre; overflow-x: auto">largest |Born - chain rule| over 3 histories 1.2e-16 against chapter 1's enumeration 0.0e+00 and more text</pre></div></div>
<img src="_images/missing.png" alt="missing">
<script>undefinedFunctionOfTheBook();</script>
</article>
<div class="bd-sidebar-secondary" style="display:block">contents</div>
</main></body></html>"""
PLANTED_EXPECTED = ["request to another host", "script error", "MathJax error", "wider than its column: ",
                    "image did not load", "code or output line wider", "is not right of the article",
                    "HTTP 404"]


@needs_browser
def test_the_browser_check_catches_planted_defects(tmp_path):
    sys.path.insert(0, str(bookhtml.ROOT / "book" / "_ext"))
    import genphys_book

    genphys_book.copy_mathjax(tmp_path)
    (tmp_path / "index.html").write_text(PLANTED_PAGE, encoding="utf-8")
    (tmp_path / "clean.html").write_text(
        PLANTED_PAGE.split("<main>")[0] + '<main><article class="bd-article"><p>'
        r'<span class="math notranslate nohighlight">\(x^2\)</span></p></article></main></body></html>',
        encoding="utf-8")
    with serve(tmp_path) as base, browser() as chromium:
        planted = inspect(chromium, base, "index.html", allowed=set())
        clean = inspect(chromium, base, "clean.html", allowed={"https://cdn.example.org/widgets.js"})
    text = "\n".join(planted["problems"])
    missed = [kind for kind in PLANTED_EXPECTED if kind not in text]
    assert not missed, f"planted defects not caught: {missed}\n{text}"
    assert planted["problems"] and clean["problems"] == [], clean["problems"]
    assert clean["counts"]["typeset"] == clean["counts"]["math"] == 1


if __name__ == "__main__":
    if skip_reason():
        sys.exit(skip_reason())
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else bookhtml.html_dir()
    result = inspect_build(folder)
    print(json.dumps({"totals": totals(result), "pages": result}, indent=1))
