"""The self-checks of chapter 5's exercises (genphys.exercises.measurement): the reference answer is
correct, the stub's ``...`` is not yet, and typical wrong answers are told what is wrong."""

import math

import numpy as np
import pytest

from genphys import measurement
from genphys.exercises import measurement as ex

A3 = np.diag([1.0, -1.0, 0.5])
PSI = np.array([0.6, 0.5, 0.62]) / np.linalg.norm([0.6, 0.5, 0.62])
Q_READ, SIGMA = 0.7, 10.0
SX = np.array([[0.0, 1.0], [1.0, 0.0]])
HADAMARD = np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2)
DELTAS = np.array([0.05, 0.1, 0.2, 0.4])


def spin(theta):
    return np.array([math.cos(theta), math.sin(theta)])


def weak_update(sign_a2=-1.0, eq25=False):
    mean_1, mean_2 = PSI @ A3 @ PSI, PSI @ A3 @ A3 @ PSI
    s2 = SIGMA**2
    if eq25:
        return PSI + (Q_READ - mean_1) / (2 * s2) * (A3 @ PSI - mean_1 * PSI)
    return (PSI + Q_READ / (2 * s2) * (A3 @ PSI - mean_1 * PSI)
            + sign_a2 * (A3 @ A3 @ PSI - mean_2 * PSI) / (4 * s2))


def half_width_closed_form(delta):
    """sigma at which sin 2d / (1 - cos 2d e^{-1/2 sigma^2}) = cot(d) / 2 (Exercise 5.4's solution)."""
    return (-2 * np.log(2 - 1 / np.cos(2 * delta))) ** -0.5


def riccati(r, q, s2):
    b = s2 * (1 - math.exp(2 * r)) - q
    P = 0.5 * (-b + math.sqrt(b * b + 4 * q * s2))
    return P, P / (P + s2)


# ---------------------------------------------------------------- 5.1
def test_weak_update_reference_and_normalised_are_correct():
    assert ex.check_weak_update(weak_update(), A3, PSI, Q_READ, SIGMA).correct
    unit = weak_update() / np.linalg.norm(weak_update())
    assert ex.check_weak_update(unit, A3, PSI, Q_READ, SIGMA).correct


def test_weak_update_stub_is_not_yet():
    feedback = ex.check_weak_update(..., A3, PSI, Q_READ, SIGMA)
    assert not feedback.correct and "stub" in feedback.message and feedback.exercise == "5.1"


@pytest.mark.parametrize("answer, words", [
    (weak_update(eq25=True), "equation 25"),
    (weak_update(sign_a2=+1.0), "wrong sign"),
    (weak_update(sign_a2=0.0), "only the term in q"),
    (np.zeros(2), "shape"),
])
def test_weak_update_wrong_answers_are_named(answer, words):
    feedback = ex.check_weak_update(answer, A3, PSI, Q_READ, SIGMA)
    assert not feedback.correct and words in feedback.message


def test_weak_update_exact_state_is_not_the_expansion():
    exact = measurement.pointer_kraus(A3, SIGMA, Q_READ) @ PSI
    feedback = ex.check_weak_update(exact / np.linalg.norm(exact), A3, PSI, Q_READ, SIGMA)
    assert not feedback.correct and "exact" in feedback.message


# ---------------------------------------------------------------- 5.3
def test_weak_value_reference_is_correct():
    pre, post = HADAMARD @ spin(math.pi / 4), HADAMARD @ spin(math.atan(-1.5))
    feedback = ex.check_weak_value(pre, post, SX, -5.0)
    assert feedback.correct and feedback.exercise == "5.3"


def test_weak_value_stub_is_not_yet():
    assert "stub" in ex.check_weak_value(..., ..., SX, -5.0).message
    assert "post_state" in ex.check_weak_value(spin(0.3), ..., SX, -5.0).message


@pytest.mark.parametrize("pre, post, words", [
    (HADAMARD @ spin(math.pi / 4), HADAMARD @ spin(math.atan(-2 / 3)), "change the sign"),
    (spin(0.1), spin(0.2), "inside the spectrum"),
    (HADAMARD @ spin(math.pi / 4), HADAMARD @ spin(math.pi / 4 + math.pi / 2), "orthogonal"),
    (np.array([1.0, 1j]), np.array([1.0, 0.3]), "imaginary part"),
])
def test_weak_value_wrong_answers_are_named(pre, post, words):
    feedback = ex.check_weak_value(pre, post, SX, -5.0)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 5.4
def test_half_width_reference_is_correct_and_matches_the_closed_form():
    closed = half_width_closed_form(DELTAS)
    feedback = ex.check_half_width(closed, DELTAS)
    assert feedback.correct and feedback.exercise == "5.4"


def test_half_width_stub_is_not_yet():
    assert "stub" in ex.check_half_width(..., DELTAS).message


@pytest.mark.parametrize("answer, words", [
    (half_width_closed_form(DELTAS) ** 2, "sigma^2"),
    (0.5 / DELTAS, "small-delta estimate"),
    (half_width_closed_form(DELTAS)[::-1], "another order"),
])
def test_half_width_wrong_answers_are_named(answer, words):
    feedback = ex.check_half_width(answer, DELTAS)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 5.6
def test_repeated_precision_reference_is_correct():
    feedback = ex.check_repeated_precision(2.0 + 8 * 1.0 * 0.75, 2.0, 1.0, 0.75, 1000)
    assert feedback.correct and feedback.exercise == "5.6"


def test_repeated_precision_stub_is_not_yet():
    assert "stub" in ex.check_repeated_precision(..., 2.0, 1.0, 0.75, 1000).message


@pytest.mark.parametrize("answer, words", [
    (1 / 8.0, "variance V(T)"),
    (2.0 + 1000 * 1000 / (8 * 0.75), "where its precision"),
    (2.0 + 8 * 0.75 / 1000, "one reading only"),
    (0.5 + 8 * 0.75, "prior variance V0"),
    (9.0, "the reference is 8"),
])
def test_repeated_precision_wrong_answers_are_named(answer, words):
    feedback = ex.check_repeated_precision(answer, 2.0, 1.0, 0.75, 1000)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 5.7
def test_steady_gain_reference_is_correct():
    P, g = riccati(0.2, 0.1, 0.4)
    feedback = ex.check_steady_gain(P, g, 0.2, 0.1, 0.4)
    assert feedback.correct and feedback.exercise == "5.7"


def test_steady_gain_stub_is_not_yet():
    P, _ = riccati(0.2, 0.1, 0.4)
    assert "stub" in ex.check_steady_gain(..., ..., 0.2, 0.1, 0.4).message
    assert "`g_stat` is still the stub" in ex.check_steady_gain(P, ..., 0.2, 0.1, 0.4).message


def test_steady_gain_wrong_answers_are_named():
    r, q, s2 = 0.2, 0.1, 0.4
    P, g = riccati(r, q, s2)
    b = s2 * (1 - math.exp(2 * r)) - q
    cases = [
        ((g * s2, g), "filtered variance"),
        ((0.5 * (-b - math.sqrt(b * b + 4 * q * s2)), g), "negative root"),
        ((q, g), "frozen-past value"),
        ((P, q / (q + s2)), "frozen-past gain"),
        ((P, P), "equals P"),
    ]
    for (P_answer, g_answer), words in cases:
        feedback = ex.check_steady_gain(P_answer, g_answer, r, q, s2)
        assert not feedback.correct and words in feedback.message, (words, feedback.message)
