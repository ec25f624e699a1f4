"""The console commands that ``pip install genphys`` puts on the path, and ``python -m genphys``.

Each command runs the ``main`` of its module, as ``python -m <module>`` does, and exits with
status 0 when that returns (the ``main`` functions return their results, for notebooks and tests;
a console command must not turn them into an exit status).  Errors keep their modules' one-line
messages and exit statuses.

    genphys-stories   python -m genphys.stories        a corpus of the exact story source and its entropy
    genphys-train     python -m genphys.lm.train       train one model into a run folder      [lm]
    genphys-sample    python -m genphys.lm.sample      sample from a trained run               [lm]
    genphys-evaluate  python -m genphys.lm.evaluate    bits per byte of a run on a text file   [lm]
    genphys-compare   python -m genphys.lm.compare     chapter 7's comparison (--root: where)  [lm]
    genphys-assignment python -m genphys.exercises.assignment  a chapter's student version; grading [book]

``python -m genphys`` (:func:`overview`) prints the version, the modules with their one-line
summaries, these commands and which optional dependencies are installed; it imports none of the
modules it lists, so it works with the core dependencies alone.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["COMMANDS", "EXTRAS", "stories", "train", "sample", "evaluate", "compare", "assignment", "overview",
           "main"]

#: Console command -> (module whose ``main`` it runs, what it does, the extra it needs or ``None``).
COMMANDS = {
    "genphys-stories": ("genphys.stories", "write a corpus of the exact story source, print its entropy", None),
    "genphys-train": ("genphys.lm.train", "train one language model into a run folder", "lm"),
    "genphys-sample": ("genphys.lm.sample", "sample text from a trained run", "lm"),
    "genphys-evaluate": ("genphys.lm.evaluate", "bits per byte and accuracy of a run on a text file", "lm"),
    "genphys-compare": ("genphys.lm.compare", "chapter 7's comparison of every family (--root: where it goes)", "lm"),
    "genphys-assignment": ("genphys.exercises.assignment", "a chapter's student version (make), grading (grade)",
                           "book"),
}
#: Optional extra -> the modules it brings (``pip install "genphys[lm]"``).
EXTRAS = {
    "lm": ("torch", "tokenizers", "datasets", "tqdm", "pandas"),
    "book": ("matplotlib", "ipywidgets", "pandas", "myst_nb", "qutip", "pydmd"),
}


def _run(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None) -> int:
    main(argv)
    return 0


def stories(argv: Sequence[str] | None = None) -> int:
    """``genphys-stories``: :func:`genphys.stories.main`."""
    from genphys.stories import main

    return _run(main, argv)


def train(argv: Sequence[str] | None = None) -> int:
    """``genphys-train``: :func:`genphys.lm.train.main`."""
    from genphys.lm.train import main

    return _run(main, argv)


def sample(argv: Sequence[str] | None = None) -> int:
    """``genphys-sample``: :func:`genphys.lm.sample.main`."""
    from genphys.lm.sample import main

    return _run(main, argv)


def evaluate(argv: Sequence[str] | None = None) -> int:
    """``genphys-evaluate``: :func:`genphys.lm.evaluate.main`."""
    from genphys.lm.evaluate import main

    return _run(main, argv)


def compare(argv: Sequence[str] | None = None) -> int:
    """``genphys-compare``: :func:`genphys.lm.compare.main`."""
    from genphys.lm.compare import main

    return _run(main, argv)


def assignment(argv: Sequence[str] | None = None) -> int:
    """``genphys-assignment``: :func:`genphys.exercises.assignment.main`."""
    from genphys.exercises.assignment import main

    return _run(main, argv)


def _summary(path: Path) -> str:
    """The first line of a module's docstring, read from its source (the module is not imported)."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    if not doc or not doc.strip():
        return ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".") + "."


def _modules() -> list[tuple[str, str]]:
    """(name, summary) of every public module of the package, in file order, without importing them."""
    package = Path(__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "genphys":
            found.append((name, _summary(path)))
    return found


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def overview() -> str:
    """What ``python -m genphys`` prints: version, modules, commands, extras (nothing is imported)."""
    try:
        version = metadata.version("genphys")
    except metadata.PackageNotFoundError:
        version = "(not installed)"
    lines = [f"genphys {version}: the package of the book Generative AI as Physics", "", "modules:"]
    modules = _modules()
    width = max(len(name) for name, _ in modules)
    lines += [f"  {name:<{width}}  {summary}" for name, summary in modules]
    lines += ["", "commands (also python -m <module>):"]
    width, what_width = max(map(len, COMMANDS)), max(len(what) for _, what, _ in COMMANDS.values())
    for command, (module, what, extra) in COMMANDS.items():
        lines.append(f"  {command:<{width}}  {what:<{what_width}}  {f'[{extra}]' if extra else ''}".rstrip())
    lines += ["", "optional dependencies:"]
    width = max(map(len, EXTRAS)) + 2
    for extra, modules_of in EXTRAS.items():
        missing = [m for m in modules_of if not _installed(m)]
        state = "installed" if not missing else f"missing {', '.join(missing)}: pip install \"genphys[{extra}]\""
        lines.append(f"  {f'[{extra}]':<{width}}  {state}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m genphys``: print :func:`overview`; it takes no arguments."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] not in ("-h", "--help"):
        print(f"python -m genphys: error: takes no arguments, got {' '.join(argv)}; "
              "the commands are listed below", file=sys.stderr)
        print(overview())
        return 2
    print(overview())
    return 0
