"""Hygiene of the book: table of contents, notebooks, configuration, bibliography, strict build."""

import copy
import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from pybtex.database import parse_file

import bookfiles
from bookfiles import BOOK, ROOT

REQUIRED_REFERENCES = {"chen2025", "wang2026", "gudder1998", "isham1994", "lindblad1976", "koopman1931",
                       "kalman1960", "katharopoulos2020", "eldan2023"}


def test_every_toc_entry_exists():
    missing = [entry for entry in bookfiles.toc_entries() if bookfiles.toc_source(entry) is None]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"


def test_every_notebook_in_book_is_in_the_toc_and_vice_versa():
    in_toc = {p.resolve() for p in bookfiles.toc_notebooks()}
    on_disk = {p.resolve() for p in bookfiles.book_notebooks()}
    assert on_disk - in_toc == set(), f"notebooks missing from _toc.yml: {sorted(on_disk - in_toc)}"
    assert in_toc - on_disk == set()


@pytest.mark.parametrize("path", bookfiles.book_notebooks(), ids=lambda p: p.name)
def test_chapter_notebook_follows_the_rules(path):
    problems = bookfiles.notebook_problems(json.loads(path.read_text(encoding="utf-8")))
    assert not problems, f"{path.name}: {'; '.join(problems)}"


def _skeleton(tmp_path, monkeypatch):
    monkeypatch.setattr(bookfiles, "BOOK", tmp_path)
    return json.loads(bookfiles.new_chapter("99_demo", "Demo").read_text(encoding="utf-8"))


def test_the_chapter_skeleton_follows_the_rules(tmp_path, monkeypatch):
    assert bookfiles.notebook_problems(_skeleton(tmp_path, monkeypatch)) == []


@pytest.mark.parametrize("breakage, problem", [
    (lambda nb: nb["metadata"]["kernelspec"].update(name="conda-env"), "kernelspec is not python3"),
    (lambda nb: nb["cells"][2]["outputs"].append({"output_type": "stream", "name": "stdout", "text": "x"}),
     "has committed outputs"),
    (lambda nb: nb["cells"][2].update(execution_count=3), "has execution counts"),
    (lambda nb: nb["cells"].pop(1), "first code cell is not the Colab setup cell"),
    (lambda nb: nb["cells"][1].update(source=nb["cells"][1]["source"].replace("genphys/genphys", "x/y")),
     "names another repository"),
    (lambda nb: nb["cells"][2].update(source="print(1)"), "does not import genphys"),
    (lambda nb: nb["cells"][2].update(source=nb["cells"][2]["source"] + "\n# " + "x" * 90), "wider than the column"),
    (lambda nb: nb["cells"][2].update(source=nb["cells"][2]["source"] + "\nwidgets.interact(f, x=1)"),
     "use genphys.plotting.controls"),
    (lambda nb: nb["cells"].pop(next(i for i, c in enumerate(nb["cells"]) if "self-check" in c["metadata"]["tags"])),
     "a stub without a self-check"),
    (lambda nb: nb["cells"].__delitem__(slice(7, 9)), "has 5 exercises, not 6 to 10"),
    (lambda nb: nb["cells"].__setitem__(9, {**nb["cells"][9], "source": nb["cells"][9]["source"].replace(
        "(derive)", "(understand)")}), "has no exercise of kind derive"),
])
def test_notebook_rules_catch_each_breakage(tmp_path, monkeypatch, breakage, problem):
    nb = copy.deepcopy(_skeleton(tmp_path, monkeypatch))
    breakage(nb)
    assert any(problem in p for p in bookfiles.notebook_problems(nb))


def test_config_builds_offline_and_executes_every_notebook():
    cfg = bookfiles.config()
    assert cfg["only_build_toc_files"] is True
    assert cfg["execute"]["execute_notebooks"] == "force"
    assert isinstance(cfg["execute"]["timeout"], int) and cfg["execute"]["timeout"] > 0
    assert {"amsmath", "dollarmath"} <= set(cfg["parse"]["myst_enable_extensions"])
    sphinx = cfg["sphinx"]["config"]
    assert sphinx["intersphinx_mapping"] == {}, "intersphinx fetches inventories at build time"
    assert "intersphinx" not in str(cfg["sphinx"].get("extra_extensions"))
    assert {"ket", "bra", "Tr", "Liou", "Diss", "superop"} <= set(sphinx["mathjax3_config"]["tex"]["macros"])
    assert cfg["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert cfg["repository"]["url"].startswith("https://")
    for bib in cfg["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()
    assert {".venv", "_build", "tests", "src"} <= set(cfg["exclude_patterns"])


def test_bibliography_parses_and_holds_the_sources():
    keys = set(parse_file(str(BOOK / "references.bib")).entries)
    assert REQUIRED_REFERENCES <= keys, f"missing: {REQUIRED_REFERENCES - keys}"


def test_every_citation_resolves():
    keys = set(parse_file(str(BOOK / "references.bib")).entries)
    texts = [p.read_text(encoding="utf-8") for p in [*BOOK.rglob("*.md"), *bookfiles.book_notebooks()]]
    cited = set()
    for text in texts:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited.update(key.strip() for key in group.split(","))
    assert cited, "the book cites nothing"
    assert cited <= keys, f"citations without a bibliography entry: {sorted(cited - keys)}"


def _throwaway_book(folder: Path, raising: bool) -> Path:
    (folder / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: force\n", encoding="utf-8")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapter\n",
                                     encoding="utf-8")
    (folder / "intro.md").write_text("# Intro\n", encoding="utf-8")
    source = "raise RuntimeError('this chapter fails')" if raising else "print(1 + 1)"
    nb = {"cells": [{"id": "title", "cell_type": "markdown", "metadata": {}, "source": "# Chapter"},
                    {"id": "code", "cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": source}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (folder / "chapter.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return folder


@pytest.mark.parametrize("raising", [False, True], ids=["passing-notebook", "failing-notebook"])
def test_strict_build_fails_exactly_when_a_notebook_raises(tmp_path, raising):
    book = _throwaway_book(tmp_path, raising)
    jb = Path(bookfiles.sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", "-W", "--keep-going", str(book)],
                          capture_output=True, text=True, timeout=300)
    log = textwrap.shorten(done.stdout + done.stderr, 4000)
    if raising:
        assert done.returncode != 0, f"a raising notebook built without error:\n{log}"
        report = book / "_build" / "html" / "reports" / "chapter.err.log"
        assert "this chapter fails" in report.read_text(encoding="utf-8")
    else:
        assert done.returncode == 0, f"a clean throwaway book failed to build:\n{log}"
