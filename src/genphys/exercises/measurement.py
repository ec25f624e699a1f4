"""Self-checks for the exercises of chapter 5 (:mod:`genphys.measurement`).

Each check computes its reference with :mod:`genphys.measurement` and says what is not yet right: the
variance where the precision goes, a term of the weak expansion dropped, the frozen-past gain where
the steady-state gain is asked for, the filtered variance where the predicted one is.
"""

from __future__ import annotations

import math

import numpy as np

from genphys import measurement
from genphys.exercises.feedback import Feedback, agrees, compare_array, compare_value, correct, not_yet, unanswered

__all__ = ["check_weak_update", "check_weak_value", "check_half_width", "check_repeated_precision",
           "check_steady_gain"]




def _unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=complex)
    return vector / np.linalg.norm(vector)


def check_weak_update(first_order, A, state, q: float, sigma: float) -> Feedback:
    """Exercise 5.1: the state after a weak reading ``q`` of ``A`` with a pointer of width ``sigma``, to
    first order in 1/sigma^2 (eq. ch5-weak-update); accepted as written there or normalised."""
    exercise = "5.1"
    A = np.asarray(A, dtype=complex)
    psi = _unit(state)
    mean_A = float(np.real(psi.conj() @ A @ psi))
    mean_A2 = float(np.real(psi.conj() @ A @ A @ psi))
    s2 = sigma**2
    reference = psi + q / (2 * s2) * (A @ psi - mean_A * psi) - (A @ A @ psi - mean_A2 * psi) / (4 * s2)
    if unanswered(first_order):
        return compare_array(exercise, "first_order", first_order, reference.real)
    if agrees(first_order, reference, rtol=1e-9, atol=1e-12):
        return correct(exercise, "`first_order` agrees with the first-order update (eq. ch5-weak-update).")
    try:
        got = np.asarray(first_order, dtype=complex)
        normalised = got.shape == reference.shape and np.linalg.norm(got) > 0 and np.all(np.isfinite(got))
    except (TypeError, ValueError):
        normalised = False
    if normalised:
        unit = _unit(got)
        if agrees(unit, _unit(reference), rtol=1e-9, atol=1e-12):
            return correct(exercise, "`first_order`, normalised, agrees with the first-order update.")
        seed = psi + (q - mean_A) / (2 * s2) * (A @ psi - mean_A * psi)
        if agrees(unit, _unit(seed), rtol=1e-9, atol=1e-12):
            return not_yet(exercise, "`first_order` is the expansion of Wang's equation 25: it replaces the term "
                           "-(A^2 - <A^2>)|psi>/(4 sigma^2) by -<A>(A - <A>)|psi>/(2 sigma^2). Expand "
                           "exp(-A^2/4 sigma^2) as well, and normalise with <A^2>.")
        flipped = psi + q / (2 * s2) * (A @ psi - mean_A * psi) + (A @ A @ psi - mean_A2 * psi) / (4 * s2)
        if agrees(unit, _unit(flipped), rtol=1e-9, atol=1e-12):
            return not_yet(exercise, "the A^2 term of `first_order` has the wrong sign: M_q contains "
                           "exp(-(q - A)^2/4 sigma^2), whose A^2 part is exp(-A^2/4 sigma^2).")
        no_a2 = psi + q / (2 * s2) * (A @ psi - mean_A * psi)
        if agrees(unit, _unit(no_a2), rtol=1e-9, atol=1e-12):
            return not_yet(exercise, "`first_order` keeps only the term in q: the A^2 in (q - A)^2 is of the "
                           "same order 1/sigma^2 and must stay.")
        exact = _unit(measurement.pointer_kraus(A, sigma, q) @ psi)
        if agrees(unit, exact, rtol=1e-12, atol=1e-14):
            return not_yet(exercise, "`first_order` is the exact normalised M_q|psi>: the exercise asks for "
                           "its expansion to first order in 1/sigma^2.")
    return compare_array(exercise, "first_order", first_order, reference, rtol=1e-9, atol=1e-12)


def check_weak_value(pre_state, post_state, A, target: float) -> Feedback:
    """Exercise 5.3: pre- and post-selected states whose weak value of ``A`` (eq. ch5-weak-value) is the
    real number ``target``."""
    exercise = "5.3"
    if unanswered(pre_state) or unanswered(post_state):
        name = "pre_state" if unanswered(pre_state) else "post_state"
        return not_yet(exercise, f"`{name}` is still the stub's `...`: fill it in in the cell above and run "
                       "this again.")
    try:
        value = measurement.weak_value(A, pre_state, post_state)
    except (ValueError, TypeError) as err:
        return not_yet(exercise, f"the weak value cannot be formed from `pre_state` and `post_state`: {err}.")
    if abs(value.imag) > 1e-9 * max(1.0, abs(value)):
        return not_yet(exercise, f"the weak value of these states is {value:.6g}, with an imaginary part: "
                       "real states in the plane of the Bloch sphere give a real weak value.")
    hint = ""
    if abs(value.real + target) < 1e-8 * max(1.0, abs(target)):
        hint = "Exchanging pre- and post-selection leaves a real weak value unchanged; change the sign of one angle."
    elif abs(value.real) <= np.abs(np.linalg.eigvalsh(np.asarray(A, dtype=complex))).max() + 1e-12:
        hint = "It lies inside the spectrum: the states must be nearly orthogonal."
    return compare_value(exercise, "A_w", value.real, target, rtol=1e-8,
                         hint=hint)


def _half_width(delta: float) -> float:
    """The pointer width at which the post-selected mean of sigma_z (pre angle pi/4, post -pi/4 + delta)
    is half the real weak value, by root finding on :func:`genphys.measurement.postselected_pointer_mean`."""
    from scipy.optimize import brentq

    sz = np.diag([1.0, -1.0])
    pre = np.array([math.cos(math.pi / 4), math.sin(math.pi / 4)])
    post = np.array([math.cos(delta - math.pi / 4), math.sin(delta - math.pi / 4)])
    half = 0.5 * measurement.weak_value(sz, pre, post).real

    def excess(log_sigma: float) -> float:
        return measurement.postselected_pointer_mean(sz, pre, post, math.exp(log_sigma)) - half

    return math.exp(brentq(excess, math.log(1e-3), math.log(1e6), xtol=1e-14, rtol=1e-14))


def check_half_width(sigma_half, deltas) -> Feedback:
    """Exercise 5.4: for each post-selection offset ``delta`` (pre angle pi/4, post angle -pi/4 + delta,
    A = sigma_z), the pointer width at which the post-selected mean reaches half of Re A_w
    (eq. ch5-weak-value), found with :func:`genphys.measurement.postselected_pointer_mean`."""
    exercise = "5.4"
    deltas = np.asarray(deltas, dtype=float)
    reference = np.array([_half_width(float(d)) for d in deltas])
    if not unanswered(sigma_half):
        if agrees(sigma_half, reference**2, rtol=1e-6):
            return not_yet(exercise, "`sigma_half` holds sigma^2: the exercise asks for the width sigma.")
        if agrees(sigma_half, 0.5 / deltas, rtol=1e-12):
            return not_yet(exercise, "`sigma_half` is the small-delta estimate 1/(2 delta): solve "
                           "mean(sigma) = Re A_w / 2 for each delta (a root finder on log sigma).")
    return compare_array(exercise, "sigma_half", sigma_half, reference, rtol=1e-6, atol=0.0)


def check_repeated_precision(final_precision, prior_precision: float, k_rate: float, T_total: float,
                             n_steps: int) -> Feedback:
    """Exercise 5.6: the precision after ``n_steps`` weak readings of variance 1/(8 k dt), dt = T / n
    (eqs. ch5-info-update and ch5-continuous), from :func:`genphys.measurement.gaussian_update`."""
    exercise = "5.6"
    dt = T_total / n_steps
    sigma2 = 1.0 / (8 * k_rate * dt)
    mean, precision = np.zeros(1), np.array([[float(prior_precision)]])
    for _ in range(int(n_steps)):
        mean, precision = measurement.gaussian_update(mean, precision, np.eye(1), np.zeros(1), sigma2)
    reference = float(precision[0, 0].real)
    if not unanswered(final_precision):
        hints = [
            (1.0 / reference, "`final_precision` is the final variance V(T): the precision is its inverse."),
            (prior_precision + n_steps * sigma2,
             "you added the variance sigma^2 of each reading where its precision 1/sigma^2 goes."),
            (prior_precision + 1.0 / sigma2, "`final_precision` holds one reading only: every one of the "
                                              f"{n_steps} readings adds its precision."),
            (1.0 / prior_precision + 8 * k_rate * T_total,
             "you started from the prior variance V0 instead of the prior precision 1/V0."),
        ]
        for value, message in hints:
            if agrees(final_precision, value, rtol=1e-9) and not agrees(value, reference, rtol=1e-9):
                return not_yet(exercise, message)
    return compare_value(exercise, "final_precision", final_precision, reference, rtol=1e-9)


def check_steady_gain(P_stat, g_stat, r: float, q: float, sigma2: float) -> Feedback:
    """Exercise 5.7: the stationary predicted variance ``P_stat`` and gain ``g_stat`` of the scalar filter
    x_t = e^r x_{t-1} + w, y_t = x_t + v (eq. ch5-riccati), against
    :func:`genphys.measurement.steady_state_gain`."""
    exercise = "5.7"
    g_ref = measurement.steady_state_gain(r, q, sigma2)
    P_ref = g_ref * sigma2 / (1.0 - g_ref)
    if not unanswered(P_stat):
        b = sigma2 * (1 - math.exp(2 * r)) - q
        other_root = 0.5 * (-b - math.sqrt(b * b + 4 * q * sigma2))
        hints = [
            (g_ref * sigma2, "`P_stat` is the filtered variance (1 - g) P after the measurement; eq. ch5-riccati's P "
                             "is the predicted variance, before it."),
            (other_root, "`P_stat` is the negative root of the quadratic: a variance is the positive one."),
            (q, "`P_stat` = q is the frozen-past value: the propagated variance e^{2r} (1 - g) P adds to q."),
        ]
        for value, message in hints:
            if agrees(P_stat, value, rtol=1e-8):
                return not_yet(exercise, message)
        feedback = compare_value(exercise, "P_stat", P_stat, P_ref, rtol=1e-8)
        if not feedback.correct:
            return feedback
    else:
        return compare_value(exercise, "P_stat", P_stat, P_ref)
    if not unanswered(g_stat):
        if agrees(g_stat, q / (q + sigma2), rtol=1e-10):
            return not_yet(exercise, "`g_stat` is q / (q + sigma^2), the frozen-past gain: the stationary gain is "
                           "P / (P + sigma^2) with the Riccati P.")
        if agrees(g_stat, P_ref, rtol=1e-10):
            return not_yet(exercise, "`g_stat` equals P: the gain is P / (P + sigma^2).")
    feedback = compare_value(exercise, "g_stat", g_stat, g_ref, rtol=1e-8)
    if feedback.correct:
        return correct(exercise, f"P = {P_ref:.10g} and g = {g_ref:.10g} agree with the Riccati fixed point.")
    return feedback
