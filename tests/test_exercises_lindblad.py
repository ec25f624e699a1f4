"""genphys.exercises.lindblad: each self-check of chapter 3 accepts the reference, answers the stub with
"not yet", and names what is wrong in a typical mistake."""

from __future__ import annotations

import numpy as np
import pytest

from genphys.exercises import lindblad as ex

RHO0 = np.array([[0.7, 0.3 - 0.2j], [0.3 + 0.2j, 0.3]])
GAMMA, T = 0.4, 1.3
P = 1 - np.exp(-GAMMA * T)
KRAUS = [np.array([[np.sqrt(1 - P), 0], [0, 1]]), np.array([[0, 0], [np.sqrt(P), 0]])]
OSC = dict(s=2.0, t=1.5, n_levels=6, omega=1.0, kappa=0.3, drive=0.5)
THERMAL = (0.5 / 1.5) ** np.arange(10)


def _oscillator_state(first: bool, second: bool, s=2.0, t=1.5):
    """The damped oscillator of exercise 3.4 evolved for a time s with or without drive, then for t."""
    from genphys import lindblad as lb

    def L(on):
        return lb.damped_oscillator(6, 1.0, 0.3, drive=0.5 if on else 0.0).liouvillian()

    rho = lb.pure_state(np.eye(6)[0])
    rho = lb.evolve(L(first), rho, np.array([0.0, s]))[-1]
    return lb.evolve(L(second), rho, np.array([0.0, t]))[-1]


CASES = {
    "dephasing": (lambda a: ex.check_dephasing_limit(a, RHO0, 0.5, 1.0), np.diag(np.diag(RHO0)),
                  [(RHO0, "coherences"), (np.eye(2) / 2, "maximally mixed"), (np.diag([0, 1.0]), "basis state")]),
    "spectrum": (lambda a: ex.check_qubit_spectrum(a, 0.3, 0.2, 1.5),
                 np.array([0, -0.3, -0.35 + 1.5j, -0.35 - 1.5j]),
                 [(np.array([0, -0.3, -0.35, -0.35]), "imaginary"),
                  (np.array([0, -0.3, -0.5 + 1.5j, -0.5 - 1.5j]), "1/T2")]),
    "kraus": (lambda a: ex.check_damping_kraus(a, GAMMA, T), KRAUS,
              [([np.array([[np.sqrt(P), 0], [0, 1]]), np.array([[0, 0], [np.sqrt(1 - P), 0]])], "swapped"),
               ([KRAUS[0], np.array([[0, 0], [P, 0]])], "not trace preserving"),
               ([np.array([[1, 0], [0, np.sqrt(1 - P)]]), np.array([[0, np.sqrt(P)], [0, 0]])], "excites"),
               ([np.eye(3)], "2x2")]),
    "ordering": (lambda a: ex.check_time_ordering(a, **OSC), _oscillator_state(False, True),
                 [(_oscillator_state(True, False, s=1.5, t=2.0), "wrong order"),
                  (_oscillator_state(True, True), "whole time"),
                  (_oscillator_state(False, False), "drive off")]),
    "choi": (lambda a: ex.check_transpose_choi(a, 2), np.eye(4)[[0, 2, 1, 3]],
             [(np.outer([1, 0, 0, 1], [1, 0, 0, 1]), "identity map"), (np.eye(4), "no negative eigenvalue")]),
    "mean": (lambda a: ex.check_mean_field_rate(a, 1.3, 0.4, 0.1), -1.3j - 0.15,
             [(1.3j - 0.15, "wrong sign"), (-1.3j - 0.3, "half its rate"), (-1.3j - 0.2, "gain term is missing"),
              (-1.3j - 0.25, "+gain/2"), ("fast", "one complex number")]),
    "thermal": (lambda a: ex.check_thermal_populations(a, 10, 0.5), THERMAL / THERMAL.sum(),
                [(THERMAL / 1.5, "normalised"), (0.5 ** np.arange(10) / (0.5 ** np.arange(10)).sum(),
                                                  "n_thermal / (n_thermal + 1)")]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_reference_answer_is_correct(name):
    check, answer, _ = CASES[name]
    feedback = check(answer)
    assert feedback.correct, feedback


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
    for nonsense in ("text", [1, 2, 3], np.full((2, 2), np.nan), None):
        assert not check(nonsense).correct


def test_every_check_is_listed_and_names_its_exercise():
    assert sorted(ex.__all__) == sorted(n for n in dir(ex) if n.startswith("check_"))
    numbers = {"check_dephasing_limit": "3.1", "check_qubit_spectrum": "3.2", "check_damping_kraus": "3.3",
               "check_time_ordering": "3.4", "check_transpose_choi": "3.5", "check_mean_field_rate": "3.6",
               "check_thermal_populations": "3.7"}
    for name, number in numbers.items():
        assert getattr(ex, name).__doc__.startswith(f"Exercise {number}:")


def test_the_spectrum_check_does_not_depend_on_the_order_or_on_rounding():
    answer = np.array([-0.35 - 1.5j + 1e-15, 0, -0.35 + 1.5j, -0.3])
    assert ex.check_qubit_spectrum(answer, 0.3, 0.2, 1.5).correct
    assert not ex.check_qubit_spectrum(np.array(["a", "b", "c", "d"], dtype=object), 0.3, 0.2, 1.5).correct
