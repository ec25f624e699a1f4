"""genphys.exercises.feedback: every diagnosis a self-check can give, and how a verdict is shown and stored."""

from __future__ import annotations

import numpy as np
import pytest

from genphys.exercises.feedback import RECORD, Feedback, compare_array, compare_value, correct, not_yet

REFERENCE = np.array([0.0, -0.3, -0.35 + 1.5j, -0.35 - 1.5j])


def message(feedback: Feedback) -> str:
    assert not feedback.correct and str(feedback).startswith("Exercise 3.2. Not yet: ")
    return feedback.message


def test_the_reference_is_correct_and_within_tolerance_too():
    assert compare_array("3.2", "x", REFERENCE, REFERENCE).correct
    assert compare_array("3.2", "x", REFERENCE + 1e-12, REFERENCE).correct
    assert not compare_array("3.2", "x", REFERENCE + 1e-6, REFERENCE).correct


@pytest.mark.parametrize("stub", [..., None])
def test_a_stub_is_not_yet_answered(stub):
    assert "still the stub's `...`" in message(compare_array("3.2", "x", stub, REFERENCE))
    assert "still the stub's `...`" in message(compare_value("3.2", "x", stub, 1.0))


@pytest.mark.parametrize("wrong, says", [
    ("text", "should be an array of numbers"),
    (REFERENCE[:3], "has shape (3,), the reference has shape (4,)"),
    (np.array([np.nan, 0, 0, 0]), "1 NaN or infinite entries"),
    (REFERENCE[::-1], "right values in another order"),
    (-REFERENCE, "the sign is flipped"),
    (2 * REFERENCE, "reference times 2"),
    (REFERENCE + np.array([0, 0, 0.1, 0]), "by up to 0.1 (at index 2"),
])
def test_each_kind_of_wrong_array_is_named(wrong, says):
    assert says in message(compare_array("3.2", "x", wrong, REFERENCE))


def test_a_complex_conjugate_is_named():
    rotating = np.array([1 + 2j, -0.5 - 3j])
    assert "complex conjugate" in message(compare_array("3.2", "x", np.conj(rotating), rotating))


def test_order_that_does_not_matter_is_sorted_first():
    assert compare_array("3.2", "x", REFERENCE[::-1], REFERENCE, order_matters=False).correct
    assert "up to" in message(compare_array("3.2", "x", REFERENCE[::-1] + 0.1, REFERENCE, order_matters=False))


@pytest.mark.parametrize("wrong, says", [
    (True, "one real number"), ("0.5", "one real number"), (np.ones(2), "one real number"),
    (float("inf"), "is inf"), (-0.25, "the sign is flipped"), (0.5, "reference times 2"), (0.25 / np.log(2), "times 1/ln 2"),
    (0.3, "the reference is 0.25"),
])
def test_each_kind_of_wrong_number_is_named(wrong, says):
    assert says in message(compare_value("3.2", "p", wrong, 0.25))


def test_an_arbitrary_ratio_of_two_numbers_is_not_called_a_missing_factor():
    assert "factor" not in message(compare_value("3.2", "p", 0.3, 0.25))


def test_a_number_within_tolerance_is_correct_and_a_hint_is_appended():
    assert compare_value("3.2", "p", np.float64(0.25 + 1e-12), 0.25).correct
    assert message(compare_value("3.2", "p", 0.3, 0.25, hint="Sum over both paths.")).endswith("Sum over both paths.")


def test_a_verdict_shows_as_one_line_and_stores_a_record_for_grading():
    yes, no = correct("1.4"), not_yet("1.4", "off by one.")
    assert bool(yes) and not bool(no)
    assert str(no) == repr(no) == "Exercise 1.4. Not yet: off by one."
    data, metadata = no._repr_mimebundle_()
    assert data == {"text/plain": str(no)}
    assert metadata[RECORD] == {"exercise": "1.4", "correct": False, "message": "off by one."}
