"""genphys.exercises.koopman: each self-check of chapter 4 accepts the reference, answers the stub with
"not yet", and names what is wrong in a typical mistake."""

from __future__ import annotations

import numpy as np
import pytest

from genphys.exercises import koopman as ex

MU, LAM = -0.05, -1.0
K3 = np.array([[MU, 0, 0], [0, LAM, -LAM], [0, 0, 3 * MU]])
J = np.array([[0.9, -0.1], [0.0, 0.8]])
RATE, FREQ, DT = -0.05, 1.2, 0.1
LAMBDAS = np.array([RATE + 1j * FREQ, RATE - 1j * FREQ])
MULT = np.array([0.999 * np.exp(0.3j), 0.95, np.exp(2.5j), 1.002 * np.exp(-1j)])

CASES = {
    "lift": (lambda a: ex.check_cubic_lift(a, MU, LAM), K3,
             [(np.array([[MU, 0, 0], [0, LAM, -LAM], [0, 0, 2 * MU]]), "3 mu x^3"),
              (K3.T, "transposed"), (np.array([MU, LAM, 3 * MU]), "3x3")]),
    "dmdc": (lambda a: ex.check_dmdc_snapshots(a, 4, 2), 6,
             [(4, "A alone"), (24, "one for every row"), (7, "snapshot pairs"), (5, "rank"),
              (6.5, "whole number")]),
    "eigenfunction": (lambda a: ex.check_left_eigenvector(a, J, 0.9), np.array([1.0, -1.0]),
                      [(np.array([1.0, 0.0]), "right eigenvector"), (np.array([0.0, 1.0]), "other multiplier"),
                       (np.zeros(2), "zero"), (np.array([1.0, 2.0]), "not zero")]),
    "oscillator": (lambda a: ex.check_oscillator_rates(a, RATE, FREQ, DT), LAMBDAS,
                   [(np.exp(LAMBDAS * DT), "multipliers"), (LAMBDAS * DT, "divide by the sampling step"),
                    (np.array([-0.05]), "one eigenvalue"), (np.array([-0.05, -0.05]), "real")]),
    "rates": (lambda a: ex.check_rates_from_multipliers(a, MULT, 0.5), np.log(np.abs(MULT)) / 0.5,
              [(MULT.real / 0.5, "growth_rate"), ((np.abs(MULT) - 1) / 0.5, "first-order"),
               (np.log(MULT) / 0.5, "complex")]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_reference_answer_is_correct(name):
    check, answer, _ = CASES[name]
    feedback = check(answer)
    assert feedback.correct, feedback


def test_any_multiple_of_an_eigenfunction_is_correct():
    assert ex.check_left_eigenvector(np.array([-2.5, 2.5]), J, 0.9).correct
    assert ex.check_oscillator_rates(LAMBDAS[::-1], RATE, FREQ, DT).correct
    # real parts that differ only by rounding must not change the pairing
    assert ex.check_oscillator_rates(LAMBDAS[::-1] + np.array([1e-15, 0]), RATE, FREQ, DT).correct
    assert ex.check_dmdc_snapshots(6.0, 4, 2).correct


@pytest.mark.parametrize("name", CASES)
def test_the_stub_is_not_yet_answered(name):
    check, _, _ = CASES[name]
    feedback = check(...)
    assert not feedback.correct and "still the stub's `...`" in feedback.message


@pytest.mark.parametrize("name, index", [(n, i) for n, case in CASES.items() for i in range(len(case[2]))])
def test_a_typical_mistake_is_named(name, index):
    check, _, wrong = CASES[name]
    answer, says = wrong[index]
    feedback = check(answer)
    assert not feedback.correct and says in feedback.message, feedback


@pytest.mark.parametrize("name", CASES)
def test_a_check_never_raises_on_nonsense(name):
    check, _, _ = CASES[name]
    for nonsense in ("text", [1, 2, 3], np.full((3, 3), np.nan), None):
        assert not check(nonsense).correct


def test_every_check_is_listed_and_names_its_exercise():
    assert sorted(ex.__all__) == sorted(n for n in dir(ex) if n.startswith("check_"))
    numbers = {"check_cubic_lift": "4.1", "check_dmdc_snapshots": "4.2", "check_left_eigenvector": "4.3",
               "check_oscillator_rates": "4.4", "check_rates_from_multipliers": "4.5"}
    for name, number in numbers.items():
        assert getattr(ex, name).__doc__.startswith(f"Exercise {number}:")
