"""Self-checks for the exercises of chapter 2 (:mod:`genphys.fock`, :mod:`genphys.channels`)."""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from genphys import fock as fk
from genphys import histories as hs
from genphys.exercises.feedback import Feedback, agrees, compare_array, compare_value, not_yet, unanswered

__all__ = ["check_left_cuntz", "check_born_after_input", "check_record_free", "check_interference_curve"]


def _dense(value):
    """A sparse matrix as a dense array; anything else unchanged."""
    return value.toarray() if sparse.issparse(value) else value




def check_left_cuntz(left_sum, V: int, N: int) -> Feedback:
    """Exercise 2.1: the matrix ``sum_v l*(e_v) l(e_v)`` on the truncated Fock space over ``C^V`` up to
    length ``N`` (dense), which the left version of eq. ch2-cuntz says is ``I - |Omega><Omega|``."""
    exercise = "2.1"
    space = fk.FockSpace(V, N)
    left = [fk.creation(space, v, "left") for v in range(V)]
    reference = sum(c @ c.conj().T for c in left).toarray()
    if unanswered(left_sum):
        return compare_array(exercise, "left_sum", left_sum, reference)
    got = _dense(left_sum)
    if agrees(got, np.eye(space.dim), rtol=0, atol=1e-10):
        return not_yet(exercise, "`left_sum` is the identity: the vacuum has no first token to remove, "
                       "so l(e_v)|Omega> = 0 and the sum misses the projector |Omega><Omega|.")
    other_order = sum(c.conj().T @ c for c in left).toarray()
    if agrees(got, other_order, rtol=0, atol=1e-10):
        return not_yet(exercise, "`left_sum` is sum_v l(e_v) l*(e_v), the product in the other order "
                       "(it equals V times the projector onto texts shorter than N): annihilate first, "
                       "then create, l*(e_v) l(e_v).")
    return compare_array(exercise, "left_sum", got, reference)


def check_born_after_input(p_born, system: hs.GAISystem, prompt, history, N: int) -> Feedback:
    """Exercise 2.4: the Born probability ``Tr[Phi_{y_L} ... Phi_{y_1}(rho_X)]`` of ``history`` after
    the input ``prompt`` on the Fock space truncated at ``N`` (eq. ch2-born), which equals the chain
    rule ``P_X(history)`` of chapter 1 (eq. hist-chain)."""
    exercise = "2.4"
    prompt, history = tuple(prompt), tuple(history)
    reference = fk.born_probability(fk.instrument(system, N, prompt=prompt), history)
    if unanswered(p_born):
        return compare_value(exercise, "p_born", p_born, reference)
    feedback = compare_value(exercise, "p_born", p_born, reference, rtol=1e-10)
    if feedback.correct or not isinstance(p_born, (int, float, np.floating, np.integer)):
        return feedback
    got = float(p_born)
    if reference > 0 and math.isclose(got, math.sqrt(reference), rel_tol=1e-9):
        return not_yet(exercise, "`p_born` is the amplitude |C_y|X>|, not its square: the Born rule squares "
                       "the norm, Tr[C rho C^dag] = |C|X>|^2.")
    without = math.exp(hs.log_joint(system, history))
    if math.isclose(got, without, rel_tol=1e-9):
        return not_yet(exercise, "`p_born` is the probability of the history after the empty input: "
                       "start from rho_X = |X><X|, the input text (pass prompt= to fock.instrument).")
    last = float(system.next_distribution(history[:-1], prompt)[history[-1]]) if history else 1.0
    if math.isclose(got, last, rel_tol=1e-9):
        return not_yet(exercise, "`p_born` is the conditional of the last token only: the Born rule of the "
                       "whole history applies every Kraus operator, one per token.")
    return feedback


def _record_free_without_first_unitary(U, psi0, length):
    """The decoherence functional with the first unitary left out (a typical slip)."""
    V = U.shape[0]
    hist = [tuple(h) for h in np.ndindex(*(V,) * length)]
    states = []
    for h in hist:
        psi = np.asarray(psi0, dtype=complex)
        for t, y in enumerate(h):
            if t:
                psi = U @ psi
            psi = np.where(np.arange(V) == y, psi, 0)
        states.append(psi)
    states = np.array(states)
    return states @ states.conj().T


def check_record_free(d, U, psi0, length: int) -> Feedback:
    """Exercise 2.6: the decoherence functional ``d(y, y') = <psi0| C_{y'}^dag C_y |psi0>`` of the
    record-free model, ``C_y = P_{y_L} U ... P_{y_1} U`` (eq. ch2-recordfree), over every history of
    ``length`` tokens in text order (first token most significant)."""
    exercise = "2.6"
    U, psi0 = np.asarray(U, dtype=complex), np.asarray(psi0, dtype=complex)
    _, reference = fk.record_free_decoherence(U, psi0, length)
    if unanswered(d):
        return compare_array(exercise, "d_hand", d, reference)
    got = _dense(d)
    if not np.allclose(reference, reference.T) and agrees(got, reference.T, rtol=0, atol=1e-10):
        return not_yet(exercise, "`d_hand` is the transpose of the reference (its complex conjugate, since d is "
                       "Hermitian): d(y, y') = <psi0| C_{y'}^dag C_y |psi0> puts C_y on the ket side.")
    if agrees(got, _record_free_without_first_unitary(U, psi0, length), rtol=0, atol=1e-10):
        return not_yet(exercise, "`d_hand` leaves out the unitary before the first measurement: "
                       "C_y = P_{y_L} U ... P_{y_1} U applies U before every projector, the first included.")
    return compare_array(exercise, "d_hand", got, reference)


def _rotation(theta: float) -> np.ndarray:
    """The real rotation of ``C^2`` by the angle ``theta``: ``[[cos, -sin], [sin, cos]]`` (Exercise 2.7)."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def check_interference_curve(curve, thetas) -> Feedback:
    """Exercise 2.7: the interference ``max_{y != y'} |d(y, y')|`` (:func:`~genphys.fock.interference`)
    of the record-free qubit with ``U`` the rotation by ``theta``, ``psi0 = |0>`` and two tokens
    (eq. ch2-recordfree), one entry per angle; its closed form is ``sin^2(2 theta) / 4``."""
    exercise = "2.7"
    thetas = np.asarray(thetas, dtype=float).ravel()
    psi0 = np.array([1.0, 0.0])
    reference = np.array([fk.interference(fk.record_free_decoherence(_rotation(t), psi0, 2)[1]) for t in thetas])
    if unanswered(curve):
        return compare_array(exercise, "curve", curve, reference)
    got = _dense(curve)
    with_diagonal = np.array([np.abs(fk.record_free_decoherence(_rotation(t), psi0, 2)[1]).max() for t in thetas])
    if agrees(got, with_diagonal, rtol=0, atol=1e-10) and not agrees(got, reference, rtol=0, atol=1e-10):
        return not_yet(exercise, "`curve` takes the largest |d| over all entries, the diagonal (the history "
                       "probabilities) included: interference is the largest off-diagonal entry.")
    if agrees(got, np.abs(np.sin(2 * thetas)) / 2, rtol=0, atol=1e-10):
        return not_yet(exercise, "`curve` is |sin(2 theta)| / 2, the square root of the interference: "
                       "|d(y, y')| is a product of four matrix elements of U, cos^2 theta sin^2 theta.")
    return compare_array(exercise, "curve", got, reference, atol=1e-12)
