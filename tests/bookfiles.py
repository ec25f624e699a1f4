"""The book's files as the tests and the Makefile see them: the table of contents, the chapter
notebooks, and the rules every chapter notebook follows (DESIGN section 4).

    python tests/bookfiles.py notebooks            # the notebooks listed in _toc.yml, one per line
    python tests/bookfiles.py new 01_histories "Histories"   # a new chapter skeleton, added to nothing
    python tests/bookfiles.py setup-cells          # every chapter's Colab cell rewritten from colab_setup_source()
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SETUP_MARKER = "# Colab setup"
#: characters of code that fit the page's code column (tests/test_browser.py measures the pixels)
CODE_COLUMN = 86


def config() -> dict:
    """The parsed ``_config.yml``."""
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def repository_url() -> str:
    return config()["repository"]["url"]


def toc_entries() -> list[str]:
    """Every ``file:`` (and the root) of ``_toc.yml``, as written there (no suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def toc_source(entry: str) -> Path | None:
    """The file a toc entry names (``.ipynb`` or ``.md``), or None if neither exists."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{entry}{suffix}"
        if path.is_file():
            return path
    return None


def toc_notebooks() -> list[Path]:
    """The notebooks listed in ``_toc.yml``, in reading order."""
    return [p for p in map(toc_source, toc_entries()) if p is not None and p.suffix == ".ipynb"]


def book_notebooks() -> list[Path]:
    """Every notebook under ``book/`` (build outputs and checkpoints excluded)."""
    return sorted(p for p in BOOK.rglob("*.ipynb")
                  if "_build" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def colab_setup_source() -> str:
    """The first code cell of every chapter: installs ``genphys[book]`` on Colab only, never touches torch.

    Idempotent: it does nothing when ``genphys`` already imports; it clones only when the folder holds
    no repository; a failed clone or install stops with one line saying what failed and what to do.
    """
    return f'''{SETUP_MARKER}: on Colab, fetch the book, install genphys[book] (torch stays Colab's).
import importlib, os, shutil, subprocess, sys
REPO_URL = "{repository_url()}"
HOME = "/content/genphys"
if "google.colab" in sys.modules:
    def _run(what, command):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            lines = done.stderr.strip().splitlines() or ["no message"]
            said = [x for x in lines if x.startswith(("fatal", "ERROR"))]
            why = (said or lines)[-1]
            raise SystemExit(f"genphys setup: {{what}} failed ({{why}}); check the "
                             "network and run this cell again") from None
    try:
        import genphys
    except ImportError:
        if not os.path.isfile(f"{{HOME}}/pyproject.toml"):
            shutil.rmtree(HOME, ignore_errors=True)
            clone = ["git", "clone", "-q", "--depth", "1", REPO_URL, HOME]
            _run(f"cloning {{REPO_URL}}", clone)
        pip = [sys.executable, "-m", "pip", "install", "-q", f"{{HOME}}[book]"]
        _run("installing genphys[book]", pip)
        importlib.invalidate_caches()
    os.chdir(f"{{HOME}}/book")'''


def notebook_problems(nb: dict) -> list[str]:
    """What a chapter notebook breaks of the book's rules; empty when it follows them all."""
    problems = []
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        problems.append("kernelspec is not python3")
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if any(c.get("outputs") for c in code):
        problems.append("has committed outputs")
    if any(c.get("execution_count") is not None for c in code):
        problems.append("has execution counts")
    sources = ["".join(c.get("source", "")) for c in code]
    if not sources or not sources[0].startswith(SETUP_MARKER) or "google.colab" not in sources[0]:
        problems.append("first code cell is not the Colab setup cell")
    elif f'REPO_URL = "{repository_url()}"' not in sources[0]:
        problems.append("Colab setup cell names another repository than _config.yml")
    elif sources[0] != colab_setup_source():
        problems.append("Colab setup cell differs from tests/bookfiles.py's colab_setup_source()")
    if not any("import genphys" in s or "from genphys" in s for s in sources[1:]):   # past the setup cell
        problems.append("does not import genphys")
    wide = [line for s in sources for line in s.splitlines() if len(line) > CODE_COLUMN]
    if wide:
        problems.append(f"{len(wide)} code lines wider than the column ({CODE_COLUMN} characters): {wide[0][:40]}...")
    problems += exercise_problems(nb)
    if any(re.search(r"\binteract(ive)?\(", s) for s in sources):
        problems.append("draws with ipywidgets' interact, which stalls headless runs: "
                        "use genphys.plotting.controls")
    return problems


#: How many exercises a chapter has, and the kinds every chapter includes (DESIGN section 4).
EXERCISES = (6, 10)
REQUIRED_KINDS = ("derive", "compute", "explore")


def exercise_problems(nb: dict) -> list[str]:
    """The exercise markup's rules (genphys.exercises.assignment.problems), their number and their kinds."""
    from genphys.exercises import assignment

    found = assignment.problems(nb)
    exercises = assignment.exercises(nb)
    if not EXERCISES[0] <= len(exercises) <= EXERCISES[1]:
        found.append(f"has {len(exercises)} exercises, not {EXERCISES[0]} to {EXERCISES[1]}")
    kinds = {kind for _n, kind, _c in exercises}
    missing = [kind for kind in REQUIRED_KINDS if kind not in kinds]
    if missing:
        found.append(f"has no exercise of kind {', '.join(missing)}")
    return found


def new_chapter(name: str, title: str) -> Path:
    """Write ``book/<name>.ipynb``: the chapter skeleton of DESIGN section 4, without outputs."""
    def md(text, tags=()):
        return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": text}

    def code(text, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "execution_count": None,
                "outputs": [], "source": text}

    chapter = name.split("_")[0].lstrip("0") or "0"
    exercises = []
    for number, kind in enumerate(("understand", "derive", "compute", "compute", "explore", "project"), 1):
        exercises.append(md(f"**Exercise {chapter}.{number}** ({kind}) **A title.** What to do."))
        if kind in ("compute", "explore"):
            exercises += [code("answer = ...  # what the answer holds", tags=["stub"]),
                          code("answer = 0.0", tags=["solution", "hide-cell"]),
                          code(f"compare_value('{chapter}.{number}', 'answer', answer, 0.0)", tags=["self-check"])]
        else:
            exercises.append(md("```{admonition} Solution\n:class: dropdown\nThe worked solution.\n```",
                                tags=["solution"]))
    cells = [
        md(f"# {title}\n\n:::{{admonition}} Objectives and prerequisites\n* ...\n:::"),
        code(colab_setup_source(), tags=["hide-cell"]),
        code("import genphys\nfrom genphys import config, plotting\n"
             "from genphys.exercises.feedback import compare_value\n\nplotting.use_style()\ngenphys.about();"),
        md("## Theory\n"),
        md("## Summary\n\n* ..."),
        md("## Further reading\n"),
        md("## Exercises\n"),
        *exercises,
        md("## Check\n"),
        code("# asserts against reference libraries or exact identities", tags=["hide-cell"]),
    ]
    for number, cell in enumerate(cells):
        cell["id"] = f"{name}-{number}"
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}}}
    path = BOOK / f"{name}.ipynb"
    if path.exists():
        raise FileExistsError(path)
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "notebooks":
        print("\n".join(str(p.relative_to(ROOT)) for p in toc_notebooks()))
    elif command == "setup-cells":                 # rewrite every chapter's setup cell from colab_setup_source()
        for path in toc_notebooks():
            nb = json.loads(path.read_text(encoding="utf-8"))
            cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
            cell["source"] = colab_setup_source()
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(path.relative_to(ROOT))
    elif command == "new" and len(sys.argv) == 4:
        print(new_chapter(sys.argv[2], sys.argv[3]).relative_to(ROOT))
    else:
        sys.exit(__doc__)
