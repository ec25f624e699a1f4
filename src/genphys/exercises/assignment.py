"""Turn a chapter into an assignment, and grade the notebooks students hand back.

The chapters mark their exercises with cell tags (the same markup the book renders):

* ``solution``: a worked solution, a code cell (also tagged ``hide-cell``, so the book collapses it) or
  a markdown cell (a ``{dropdown}`` admonition). The student version drops these cells.
* ``stub``: the cell a student fills in. Every name the exercise asks for is assigned ``...`` there;
  it runs as it is, and the book runs it before the solution overwrites those names.
* ``self-check``: a call of a check of :mod:`genphys.exercises`, which shows ``Correct`` or what is
  not yet right (:class:`~genphys.exercises.feedback.Feedback`). Kept in the student version.

An exercise opens with a markdown cell that starts ``**Exercise <chapter>.<n>** (<kind>)``, kind one
of :data:`KINDS`. The rules (:func:`problems`): every stub is followed, within its exercise, by a
self-check; every self-check follows a stub; a solution code cell sits between its stub and its
self-check; and no cell outside the solution cells may need them (the tests run every chapter both
with and without its solutions).

The student version (:func:`student_version`) is the chapter with its solution cells removed, its
outputs cleared and a first cell that says how to work through it; it runs top to bottom, each
self-check answering ``Not yet``. :func:`grade` executes handed-back notebooks (``nbclient``, from
the ``[book]`` extra) and tabulates every self-check's verdict.

Why not otter-grader or nbgrader: both need their own markup in the notebook (raw cells, or
``### BEGIN SOLUTION`` lines the published book would show) and their own test files that answer pass
or fail. The book's self-checks are functions of the package that say what is wrong, run the same in the
book, on Colab and in a grader, and tags are invisible to a reader. A student version is a plain
notebook, so an instructor can still load it into either grader.

    genphys-assignment make book/03_lindblad.ipynb              -> 03_lindblad-student.ipynb
    genphys-assignment grade 03_lindblad-student.ipynb hw/*.ipynb --csv grades.csv
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import re
import sys
from pathlib import Path
from typing import Iterable, Sequence

from genphys.exercises.feedback import RECORD

__all__ = ["KINDS", "TAGS", "EXERCISE_HEAD", "exercises", "problems", "student_version", "make",
           "feedback_records", "grade", "main"]

#: The kinds of exercise, from recalling the text to open-ended work.
KINDS = ("understand", "derive", "compute", "explore", "project")
#: The cell tags this module reads.
TAGS = ("solution", "stub", "self-check")
#: How an exercise's first cell begins: ``**Exercise 3.2** (compute)``.
EXERCISE_HEAD = re.compile(r"^\*\*Exercise (\d+)\.(\d+)\*\* \((" + "|".join(KINDS) + r")\)")

_INTRO = """# Assignment: {title}

This is the student version of the chapter: the worked solutions are removed. For each exercise, fill in
the cell that assigns `...` and run the self-check below it. It answers **Correct**, or says what is not yet
right. Run the notebook top to bottom first: every self-check then answers *Not yet*.

*Made by `genphys-assignment` (genphys {version}) from `{source}`.*"""


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _load(notebook) -> dict:
    if isinstance(notebook, dict):
        return notebook
    path = Path(notebook)
    if not path.is_file():
        raise ValueError(f"notebook must be an existing .ipynb file, got {str(path)!r}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"notebook {str(path)!r} is not a notebook (JSON: {err.msg} at line {err.lineno})") from None


def exercises(notebook) -> list[tuple[str, str, list[int]]]:
    """``(number, kind, cell indices)`` of every exercise, in order; an exercise runs to the next one or
    to the next heading."""
    nb = _load(notebook)
    found: list[tuple[str, str, list[int]]] = []
    current = None
    for index, cell in enumerate(nb.get("cells", [])):
        text = _source(cell).lstrip()
        head = EXERCISE_HEAD.match(text) if cell.get("cell_type") == "markdown" else None
        if head:
            current = (f"{head.group(1)}.{head.group(2)}", head.group(3), [index])
            found.append(current)
        elif cell.get("cell_type") == "markdown" and text.startswith("#") and "solution" not in _tags(cell):
            current = None
        elif current is not None:
            current[2].append(index)
    return found


def problems(notebook) -> list[str]:
    """What the chapter's exercise markup breaks of the rules above; empty when it follows them."""
    nb = _load(notebook)
    cells = nb.get("cells", [])
    found = []
    inside = set()
    for number, _kind, indices in exercises(nb):
        inside.update(indices)
        pending_stub = False
        for index in indices[1:]:
            tags = _tags(cells[index])
            if "stub" in tags:
                if cells[index].get("cell_type") != "code":
                    found.append(f"exercise {number}: a stub must be a code cell")
                pending_stub = True
            elif "self-check" in tags:
                if not pending_stub:
                    found.append(f"exercise {number}: a self-check without a stub before it")
                if not re.search(r"\w\s*\(", _source(cells[index])):
                    found.append(f"exercise {number}: a self-check must call a check (genphys.exercises)")
                pending_stub = False
            elif "solution" in tags and cells[index].get("cell_type") == "code" and "hide-cell" not in tags:
                found.append(f"exercise {number}: a solution code cell must also be tagged hide-cell")
        if pending_stub:
            found.append(f"exercise {number}: a stub without a self-check after it")
    for index, cell in enumerate(cells):
        if _tags(cell) & set(TAGS) and index not in inside:
            found.append(f"cell {index}: tagged {sorted(_tags(cell) & set(TAGS))} outside any exercise")
    numbers = [n for n, _k, _i in exercises(nb)]
    if len(numbers) != len(set(numbers)):
        found.append("two exercises share a number")
    return found


def student_version(notebook, source: str = "the chapter") -> dict:
    """The chapter without its solutions: solution cells removed, outputs cleared, an opening cell."""
    from genphys import __version__

    nb = copy.deepcopy(_load(notebook))
    bad = problems(nb)
    if bad:
        raise ValueError(f"notebook {source!r} breaks the exercise markup: {bad[0]}")
    if not exercises(nb):
        raise ValueError(f"notebook {source!r} has no exercises (no cell starts '**Exercise <n>.<m>** (<kind>)')")
    cells = [c for c in nb["cells"] if "solution" not in _tags(c)]
    for cell in cells:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    headings = [_source(c).lstrip() for c in cells if c.get("cell_type") == "markdown"]
    title = next((h.splitlines()[0].lstrip("# ").strip() for h in headings if h.startswith("# ")), source)
    intro = {"cell_type": "markdown", "id": "genphys-assignment-intro", "metadata": {},
             "source": _INTRO.format(title=title, version=__version__, source=source)}
    nb["cells"] = [intro] + cells
    nb.setdefault("metadata", {})["genphys_assignment"] = {"source": source, "genphys": __version__}
    return nb


def _write(path: Path, nb: dict) -> None:
    from genphys.files import atomic_write_text

    atomic_write_text(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def make(chapter, out=None) -> Path:
    """Write the student version of ``chapter`` (a path) to ``out`` (default ``<stem>-student.ipynb`` in
    the working folder); return where it went."""
    chapter = Path(chapter)
    out = Path(out) if out is not None else Path(f"{chapter.stem}-student.ipynb")
    if out.resolve() == chapter.resolve():
        raise ValueError(f"out must differ from the chapter, got {str(out)!r} for both")
    _write(out, student_version(chapter, source=chapter.name))
    return out


def feedback_records(executed) -> list[dict]:
    """Every self-check verdict stored in an executed notebook's outputs, in order."""
    nb = _load(executed)
    records = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get(RECORD)
            if record is not None:
                records.append(record)
    return records


def grade(submissions: Iterable, *, timeout: int = 600, workdir=None) -> list[dict]:
    """Execute each handed-back notebook (a fresh kernel each; ``workdir`` is the folder it runs in,
    default its own) and return one row per notebook: its name, each exercise's verdict and the count
    correct. A notebook that raises is graded on the self-checks that ran before the error.

    Grading runs the students' code: do it in a container or an account that holds nothing else.
    """
    import nbclient
    import nbformat

    rows = []
    for path in map(Path, submissions):
        nb = nbformat.reads(json.dumps(_load(path)), as_version=4)
        where = Path(workdir) if workdir is not None else path.parent
        if not where.is_dir():
            raise ValueError(f"workdir must be an existing folder, got {str(where)!r}")
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(where)}})
        error = ""
        try:
            client.execute()
        except Exception as err:   # a student's error stops the run: grade what ran, say where it stopped
            error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
        records = feedback_records(json.loads(nbformat.writes(nb)))
        row = {"notebook": path.name}
        row.update({f"exercise {r['exercise']}": "correct" if r["correct"] else "not yet" for r in records})
        row["correct"] = sum(bool(r["correct"]) for r in records)
        row["checks"] = len(records)
        row["error"] = error
        rows.append(row)
    return rows


def _write_csv(rows: list[dict], path: Path) -> None:
    from genphys.files import atomic_write_text
    import io

    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> list:
    """``genphys-assignment make CHAPTER [-o OUT]`` or ``genphys-assignment grade NOTEBOOK... [--csv F]``."""
    parser = argparse.ArgumentParser(prog="genphys-assignment", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make_parser = commands.add_parser("make", help="write the student version of a chapter")
    make_parser.add_argument("chapter", nargs="+", help="chapter notebooks (book/03_lindblad.ipynb ...)")
    make_parser.add_argument("-o", "--out", help="output file (one chapter) or folder (several)")
    grade_parser = commands.add_parser("grade", help="run handed-back notebooks and tabulate their self-checks")
    grade_parser.add_argument("notebooks", nargs="+", help="the students' notebooks")
    grade_parser.add_argument("--csv", help="write the table to this file as well")
    grade_parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    grade_parser.add_argument("--workdir", help="folder the notebooks run in (default: each notebook's own); "
                              "the book/ folder of a clone lets chapters find the committed results")
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            outs = []
            for chapter in args.chapter:
                out = args.out
                if out is not None and len(args.chapter) > 1:
                    Path(out).mkdir(parents=True, exist_ok=True)
                    out = Path(out) / f"{Path(chapter).stem}-student.ipynb"
                outs.append(make(chapter, out))
                print(f"genphys-assignment: {chapter} -> {outs[-1]}")
            return outs
        rows = grade(args.notebooks, timeout=args.timeout, workdir=args.workdir)
        for row in rows:
            stopped = f"; stopped at {row['error']}" if row["error"] else ""
            print(f"{row['notebook']}: {row['correct']} of {row['checks']} self-checks correct{stopped}")
        if args.csv:
            _write_csv(rows, Path(args.csv))
            print(f"genphys-assignment: the table is in {args.csv}")
        return rows
    except ValueError as err:
        print(f"genphys-assignment: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
