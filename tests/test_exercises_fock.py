"""The self-checks of chapter 2's exercises: the reference answer is correct, the stub's ``...`` is not yet,
and a typical wrong answer is not yet with a message that names the mistake."""

import math

import numpy as np
import pytest

from genphys import fock
from genphys import histories as H
from genphys.exercises import fock as ex


def _verdict(feedback, correct):
    assert feedback.correct is correct, feedback.message
    return feedback.message


def test_all_lists_the_checks():
    assert sorted(ex.__all__) == sorted(name for name in dir(ex) if name.startswith("check_"))


# ------------------------------------------------------------------ 2.1
def test_left_cuntz():
    space = fock.FockSpace(3, 3)
    vacuum = np.outer(space.vacuum(), space.vacuum())
    answer = np.eye(space.dim) - vacuum
    _verdict(ex.check_left_cuntz(answer, 3, 3), True)
    left = sum(fock.creation(space, v, "left") @ fock.annihilation(space, v, "left") for v in range(3))
    _verdict(ex.check_left_cuntz(left, 3, 3), True)           # a sparse answer is accepted
    assert "stub" in _verdict(ex.check_left_cuntz(..., 3, 3), False)
    assert "vacuum" in _verdict(ex.check_left_cuntz(np.eye(space.dim), 3, 3), False)
    other = sum(fock.annihilation(space, v, "left") @ fock.creation(space, v, "left") for v in range(3))
    assert "other order" in _verdict(ex.check_left_cuntz(other, 3, 3), False)
    assert "shape" in _verdict(ex.check_left_cuntz(np.eye(4), 3, 3), False)


# ------------------------------------------------------------------ 2.4
@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(2)
    return H.TableModel(("the", "cat", "dog", "sat", "ran", "<eot>"), 5, rng.dirichlet(np.full(6, 0.4), size=(6, 6)))


def test_born_after_input(table):
    prompt, history = table.encode(["the", "cat"]), table.encode(["sat", "<eot>"])
    answer = math.exp(H.log_joint(table, history, prompt))
    _verdict(ex.check_born_after_input(answer, table, prompt, history, 4), True)
    assert "stub" in _verdict(ex.check_born_after_input(..., table, prompt, history, 4), False)
    assert "square" in _verdict(ex.check_born_after_input(math.sqrt(answer), table, prompt, history, 4), False)
    empty = math.exp(H.log_joint(table, history))
    assert "empty input" in _verdict(ex.check_born_after_input(empty, table, prompt, history, 4), False)
    last = float(table.conditional(history[:1], prompt)[history[1]])
    assert "last token" in _verdict(ex.check_born_after_input(last, table, prompt, history, 4), False)


# ------------------------------------------------------------------ 2.6
def test_record_free():
    U, psi0 = fock.random_unitary(3, seed=5), np.array([0, 0, 1.0])
    _, answer = fock.record_free_decoherence(U, psi0, 2)
    _verdict(ex.check_record_free(answer, U, psi0, 2), True)
    assert "stub" in _verdict(ex.check_record_free(..., U, psi0, 2), False)
    assert "transpose" in _verdict(ex.check_record_free(answer.T, U, psi0, 2), False)
    slip = ex._record_free_without_first_unitary(U, psi0, 2)
    assert "first measurement" in _verdict(ex.check_record_free(slip, U, psi0, 2), False)
    assert "shape" in _verdict(ex.check_record_free(answer[:3], U, psi0, 2), False)


# ------------------------------------------------------------------ 2.7
def test_interference_curve():
    thetas = np.linspace(0, np.pi / 2, 7)
    answer = np.sin(2 * thetas) ** 2 / 4
    _verdict(ex.check_interference_curve(answer, thetas), True)
    assert "stub" in _verdict(ex.check_interference_curve(..., thetas), False)
    assert "square root" in _verdict(ex.check_interference_curve(np.abs(np.sin(2 * thetas)) / 2, thetas), False)
    full = [np.abs(fock.record_free_decoherence(ex._rotation(t), np.array([1.0, 0]), 2)[1]).max() for t in thetas]
    assert "diagonal" in _verdict(ex.check_interference_curve(full, thetas), False)
