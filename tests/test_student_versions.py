"""Every chapter as an assignment: its student version (solutions removed, genphys.exercises.assignment) runs
top to bottom at scale ``tiny`` without an error, and every self-check in it answers "Not yet" under the number
of the exercise it sits in. (With the solutions in, the book builds show every self-check "Correct":
tests/test_html_static.py reads the executed chapters.) ``make assignments``; marker ``student``."""

from __future__ import annotations

import json

import pytest

from bookfiles import BOOK, book_notebooks
from genphys.exercises import assignment

pytestmark = pytest.mark.student


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.stem)
def test_the_student_version_runs_and_every_self_check_says_not_yet(path, monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("GENPHYS_SCALE", "tiny")
    chapter = json.loads(path.read_text(encoding="utf-8"))
    student = assignment.student_version(chapter, source=path.name)
    nb = nbformat.from_dict(student)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(BOOK)}}).execute()
    records = assignment.feedback_records(json.loads(nbformat.writes(nb)))
    checks = {index for _n, _k, cells in assignment.exercises(chapter) for index in cells
              if "self-check" in chapter["cells"][index].get("metadata", {}).get("tags", [])}
    assert len(records) == len(checks) > 0
    numbers = [n for n, _k, cells in assignment.exercises(chapter) for index in cells if index in checks]
    assert [r["exercise"] for r in records] == numbers
    assert not any(r["correct"] for r in records), [r for r in records if r["correct"]]
