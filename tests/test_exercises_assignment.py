"""genphys.exercises.assignment: the exercise markup's rules, the student version, the command and grading."""

from __future__ import annotations

import json
from itertools import count

import pytest

from genphys.exercises import assignment
from genphys.exercises.feedback import RECORD


IDS = count()


def md(text, tags=()):
    return {"cell_type": "markdown", "id": f"c{next(IDS)}", "metadata": {"tags": list(tags)}, "source": text}


def code(text, tags=(), outputs=()):
    return {"cell_type": "code", "id": f"c{next(IDS)}", "metadata": {"tags": list(tags)}, "source": text,
            "outputs": list(outputs), "execution_count": 3 if outputs else None}


def chapter(*cells):
    return {"cells": [md("# 9. A chapter\n\nText.")] + list(cells), "metadata": {"kernelspec": {"name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def exercise(number="9.1", kind="compute", check="check_it(x)"):
    return [md(f"**Exercise {number}** ({kind}) **A title.** Compute `x`."),
            code("x = ...  # your answer", ["stub"]),
            code("x = 1", ["solution", "hide-cell"], outputs=[{"output_type": "stream", "text": "1"}]),
            code(check, ["self-check"])]


GOOD = chapter(md("## Exercises"), *exercise("9.1"),
               md("**Exercise 9.2** (derive) **Why.** Show it."),
               md("```{admonition} Solution\n:class: dropdown\nBecause.\n```", ["solution"]),
               md("## Check"), code("assert True", ["hide-input"]))


def test_exercises_are_found_with_their_kind_and_cells_and_end_at_a_heading():
    assert assignment.exercises(GOOD) == [("9.1", "compute", [2, 3, 4, 5]), ("9.2", "derive", [6, 7])]
    assert assignment.problems(GOOD) == []


@pytest.mark.parametrize("cells, says", [
    ([md("**Exercise 9.1** (compute) **T.**"), code("x = ...", ["stub"])], "a stub without a self-check"),
    ([md("**Exercise 9.1** (compute) **T.**"), code("check_it(x)", ["self-check"])], "a self-check without a stub"),
    ([md("**Exercise 9.1** (compute) **T.**"), code("x = ...", ["stub"]), code("x", ["self-check"])],
     "must call a check"),
    ([md("**Exercise 9.1** (compute) **T.**"), code("x = ...", ["stub"]), code("x = 1", ["solution"]),
      code("check_it(x)", ["self-check"])], "also be tagged hide-cell"),
    ([md("**Exercise 9.1** (compute) **T.**"), md("x = ...", ["stub"]), code("check_it(x)", ["self-check"])],
     "a stub must be a code cell"),
    ([code("x = 1", ["solution", "hide-cell"])], "outside any exercise"),
    (exercise("9.1") + exercise("9.1"), "two exercises share a number"),
])
def test_each_broken_rule_is_named(cells, says):
    found = assignment.problems(chapter(*cells))
    assert any(says in problem for problem in found), found


def test_an_unknown_kind_is_not_an_exercise_head():
    assert assignment.exercises(chapter(md("**Exercise 9.1** (guess) **T.**"))) == []


def test_the_student_version_drops_solutions_clears_outputs_and_says_how_to_work():
    student = assignment.student_version(GOOD, source="09_chapter.ipynb")
    sources = [c["source"] for c in student["cells"]]
    assert "x = 1" not in sources and not any("Because." in s for s in sources)
    assert "x = ...  # your answer" in sources and "check_it(x)" in sources and "assert True" in sources
    assert sources[0].startswith("# Assignment: 9. A chapter") and "09_chapter.ipynb" in sources[0]
    assert all(c.get("outputs", []) == [] for c in student["cells"])
    assert student["metadata"]["genphys_assignment"]["source"] == "09_chapter.ipynb"
    assert len(GOOD["cells"]) == len(student["cells"]) + 2 - 1      # the original is untouched


@pytest.mark.parametrize("nb, says", [
    (chapter(md("Text only.")), "has no exercises"),
    (chapter(md("**Exercise 9.1** (compute) **T.**"), code("x = ...", ["stub"])), "breaks the exercise markup"),
])
def test_a_chapter_that_cannot_be_an_assignment_is_refused(nb, says):
    with pytest.raises(ValueError, match=says):
        assignment.student_version(nb)


def test_make_writes_next_to_the_working_folder_and_refuses_to_overwrite_the_chapter(tmp_path, monkeypatch):
    source = tmp_path / "09_chapter.ipynb"
    source.write_text(json.dumps(GOOD))
    monkeypatch.chdir(tmp_path)
    out = assignment.make(source)
    assert out == tmp_path.joinpath("09_chapter-student.ipynb").relative_to(tmp_path)
    assert json.loads(out.read_text())["cells"][0]["id"] == "genphys-assignment-intro"
    with pytest.raises(ValueError, match="out must differ"):
        assignment.make(source, source)
    with pytest.raises(ValueError, match="must be an existing .ipynb file"):
        assignment.make(tmp_path / "missing.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="is not a notebook"):
        assignment.make(tmp_path / "broken.ipynb")


def test_the_command_makes_several_into_a_folder_and_errors_in_one_line(tmp_path, capsys):
    for name in ("09_a.ipynb", "10_b.ipynb"):
        (tmp_path / name).write_text(json.dumps(GOOD))
    outs = assignment.main(["make", str(tmp_path / "09_a.ipynb"), str(tmp_path / "10_b.ipynb"),
                            "-o", str(tmp_path / "hw")])
    assert sorted(p.name for p in outs) == ["09_a-student.ipynb", "10_b-student.ipynb"]
    with pytest.raises(SystemExit) as stop:
        assignment.main(["make", str(tmp_path / "none.ipynb")])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_records_are_read_back_from_outputs():
    record = {"exercise": "9.1", "correct": True, "message": "ok"}
    executed = chapter(code("check_it(x)", ["self-check"],
                            outputs=[{"output_type": "execute_result", "data": {"text/plain": "ok"},
                                      "metadata": {RECORD: record}}]))
    assert assignment.feedback_records(executed) == [record]


def test_grading_runs_each_notebook_and_tabulates_its_self_checks(tmp_path):
    pytest.importorskip("nbclient")
    header = code("from genphys.exercises.feedback import compare_value")
    answered = chapter(header, md("**Exercise 9.1** (compute) **T.**"), code("x = 2.0", ["stub"]),
                       code("compare_value('9.1', 'x', x, 2.0)", ["self-check"]),
                       md("**Exercise 9.2** (compute) **T.**"), code("y = ...", ["stub"]),
                       code("compare_value('9.2', 'y', y, 3.0)", ["self-check"]),
                       code("raise RuntimeError('a student error')"))
    (tmp_path / "alice.ipynb").write_text(json.dumps(answered))
    rows = assignment.grade([tmp_path / "alice.ipynb"], timeout=120)
    assert rows == [{"notebook": "alice.ipynb", "exercise 9.1": "correct", "exercise 9.2": "not yet",
                     "correct": 1, "checks": 2, "error": rows[0]["error"]}]
    assert "a student error" in rows[0]["error"]
    assignment._write_csv(rows, tmp_path / "grades.csv")
    assert (tmp_path / "grades.csv").read_text().splitlines()[0] == \
        "notebook,exercise 9.1,exercise 9.2,correct,checks,error"
