"""Self-checks for the exercises of chapter 4 (:mod:`genphys.koopman`)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from genphys import koopman
from genphys.exercises.feedback import (Feedback, as_array, compare_array, compare_value, nearest_order, not_yet,
                                        unanswered)

__all__ = ["check_cubic_lift", "check_dmdc_snapshots", "check_left_eigenvector", "check_oscillator_rates",
           "check_rates_from_multipliers"]






def check_cubic_lift(K, mu: float, lam: float) -> Feedback:
    """Exercise 4.1: the Koopman generator on the observables (x, y, x^3) of x' = mu x, y' = lam (y - x^3)
    (eqs. ch4-koopman and ch4-lift, with x^3 in place of x^2).

    The reference is computed from data: EDMD (eq. ch4-edmd) on exact trajectories gives the one-step
    matrix exp(dt K), and its matrix logarithm divided by dt gives K.
    """
    exercise = "4.1"
    dt = 0.05
    b = lam / (lam - 3 * mu)
    t = dt * np.arange(40)
    runs = []
    for x0, y0 in ((1.0, 0.5), (-0.7, 1.2), (0.4, -0.9)):
        x = x0 * np.exp(mu * t)
        runs.append(np.vstack([x, (y0 - b * x0**3) * np.exp(lam * t) + b * x**3]))
    X = np.hstack([r[:, :-1] for r in runs])
    Y = np.hstack([r[:, 1:] for r in runs])
    fit = koopman.edmd(X, Y, lambda s: np.vstack([s, s[:1] ** 3]), dt=dt)
    reference = np.real(scipy.linalg.logm(fit.operator)) / dt
    reference[np.abs(reference) < 1e-9] = 0.0
    if unanswered(K):
        return compare_array(exercise, "K_cubic", K, reference)
    got = as_array(K, float)
    if got is not None and got.shape == (3,):
        return not_yet(exercise, "`K_cubic` has three entries: give the 3x3 generator matrix, whose eigenvalues "
                       "are those three numbers.")
    if got is not None and got.shape == (3, 3) and not np.allclose(got, reference, rtol=1e-6, atol=1e-8):
        if np.isclose(got[2, 2], 2 * mu) and not np.isclose(2 * mu, 3 * mu):
            return not_yet(exercise, "the entry for x^3 is 2 mu, the value for x^2: d/dt x^3 = 3 x^2 x' "
                           "= 3 mu x^3.")
        if np.allclose(got, reference.T, rtol=1e-6, atol=1e-8):
            return not_yet(exercise, "`K_cubic` is transposed: row i holds d/dt of observable i, "
                           "d psi/dt = K psi.")
    return compare_array(exercise, "K_cubic", K, reference, rtol=1e-6, atol=1e-8)


def _dmdc_error(m: int, n_states: int, n_inputs: int, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(-0.5, -0.05, n_states) + 1j * rng.uniform(-3, 3, n_states))
    B = rng.normal(size=(n_states, n_inputs)) + 1j * rng.normal(size=(n_states, n_inputs))
    u = rng.normal(size=(n_inputs, m))
    psi = np.zeros((n_states, m + 1), dtype=complex)
    psi[:, 0] = rng.normal(size=n_states) + 1j * rng.normal(size=n_states)
    for k in range(m):
        psi[:, k + 1] = a * psi[:, k] + B @ u[:, k]
    fit = koopman.dmd_control(psi[:, :-1], psi[:, 1:], u)
    return float(max(np.abs(fit.A - np.diag(a)).max(), np.abs(fit.B - B).max()))


def check_dmdc_snapshots(m_min, n_states: int, n_inputs: int) -> Feedback:
    """Exercise 4.2: the fewest snapshot pairs m from which DMD with control (eq. ch4-dmdc) recovers A and
    B of a generic system with ``n_states`` states and ``n_inputs`` inputs.

    The reference fits random systems with m = 1, 2, ... pairs and returns the first m at which A and B
    come back within 1e-8.
    """
    exercise = "4.2"
    reference = next(m for m in range(1, 4 * (n_states + n_inputs))
                     if _dmdc_error(m, n_states, n_inputs) < 1e-8)
    if unanswered(m_min):
        return compare_value(exercise, "m_min", m_min, reference)
    if isinstance(m_min, (float, np.floating)) and float(m_min).is_integer():
        m_min = int(m_min)
    if isinstance(m_min, (float, np.floating)):
        return not_yet(exercise, f"`m_min` = {m_min}: a number of snapshot pairs is a whole number.")
    if isinstance(m_min, (int, np.integer)) and m_min != reference:
        if m_min == n_states:
            return not_yet(exercise, f"`m_min` = {m_min} = N is enough for A alone; with inputs each row of "
                           "(A B) has N + q unknowns.")
        if m_min == n_states * (n_states + n_inputs):
            return not_yet(exercise, f"`m_min` = {m_min} counts all N (N + q) unknowns, but each snapshot pair "
                           "gives N equations, one for every row of (A B).")
        if m_min == reference + 1:
            return not_yet(exercise, f"`m_min` = {m_min} counts states; the question asks for snapshot pairs "
                           "(columns of X, Y and U), one fewer.")
        if m_min < reference:
            return not_yet(exercise, f"`m_min` = {m_min}: with so few pairs the stacked data (X; U) has rank "
                           "below N + q, and (A B) is not determined.")
    return compare_value(exercise, "m_min", m_min, reference, rtol=0, atol=0)


def check_left_eigenvector(w, J, multiplier: float) -> Feedback:
    """Exercise 4.3: the coefficients w of a linear Koopman eigenfunction phi(x) = w . x of the map
    x -> J x with eigenvalue ``multiplier``: w^T J = multiplier w^T (eq. ch4-edmd on the dictionary of
    linear monomials). Any non-zero multiple of w is accepted.

    The reference is a left eigenvector of the Koopman matrix that EDMD fits on the monomials of degree one.
    """
    exercise = "4.3"
    J = np.asarray(J, dtype=float)
    n = J.shape[0]
    X = np.random.default_rng(0).uniform(-1, 1, size=(n, 4 * n))
    K = koopman.edmd(X, J @ X, koopman.monomials(1)).operator   # the constant, then x_1 .. x_n
    mu, W = np.linalg.eig(K.T)
    k = int(np.argmin(np.abs(mu - multiplier)))
    reference = W[1:, k]
    reference = reference / reference[np.argmax(np.abs(reference))]
    if unanswered(w):
        return compare_array(exercise, "w", w, reference)
    got = as_array(w)
    if got is None or got.shape != reference.shape:
        return compare_array(exercise, "w", w, reference)
    if not np.all(np.isfinite(got)):
        return not_yet(exercise, "`w` has NaN or infinite entries.")
    if np.abs(got).max() == 0:
        return not_yet(exercise, "`w` is zero: phi = 0 satisfies every eigen-equation and says nothing.")
    if np.linalg.norm(got @ J - multiplier * got) <= 1e-8 * np.linalg.norm(got):
        return compare_array(exercise, "w", got / got[np.argmax(np.abs(reference))], reference,
                             atol=1e-8)
    if np.linalg.norm(J @ got - multiplier * got) <= 1e-8 * np.linalg.norm(got):
        return not_yet(exercise, "`w` is a right eigenvector (J w = mu w), the direction of a mode; an "
                       "eigenfunction phi(x) = w . x needs phi(J x) = mu phi(x), i.e. w^T J = mu w^T.")
    others = [m for m in np.linalg.eigvals(J) if not np.isclose(m, multiplier)]
    for other in others:
        if np.linalg.norm(got @ J - other * got) <= 1e-8 * np.linalg.norm(got):
            return not_yet(exercise, f"`w` is the eigenfunction of the other multiplier, {other.real:.6g}.")
    return not_yet(exercise, f"phi(J x) - {multiplier:g} phi(x) = (w^T J - {multiplier:g} w^T) x is not zero: "
                   f"|w^T J - mu w^T| = {np.linalg.norm(got @ J - multiplier * got):.3g}.")


def check_oscillator_rates(lam, rate: float, frequency: float, dt: float) -> Feedback:
    """Exercise 4.4: the continuous-time eigenvalues lambda = ln(mu) / dt (eq. ch4-dmd) of a damped
    oscillation exp(rate t) cos(frequency t) sampled every ``dt``, in any order.

    The reference: the eigenvalues of the exact one-step propagator (``koopman.propagator``) of the
    generator [[rate, -frequency], [frequency, rate]], converted by ``koopman.continuous_time``.
    """
    exercise = "4.4"
    generator = np.array([[rate, -frequency], [frequency, rate]])
    step = koopman.propagator(generator, dt)
    reference = koopman.continuous_time(np.linalg.eigvals(step), dt)
    if unanswered(lam):
        return compare_array(exercise, "lam_osc", lam, reference)
    got = as_array(lam)
    if got is not None and got.shape == (1,):
        return not_yet(exercise, "`lam_osc` has one eigenvalue: DMD on one real series fits a 1x1 map and cannot "
                       "oscillate. Delay-embed the series (koopman.hankel with d = 2 or more) to see the pair "
                       "rate +- i frequency.")
    if got is not None and got.shape == reference.shape and np.all(np.isfinite(got)):
        if np.allclose(np.sort_complex(got), np.sort_complex(np.exp(reference * dt)), atol=1e-6):
            return not_yet(exercise, "`lam_osc` holds the per-step multipliers mu; the continuous-time eigenvalues "
                           "are ln(mu) / dt.")
        if np.allclose(np.sort_complex(got), np.sort_complex(reference * dt), atol=1e-6):
            return not_yet(exercise, "`lam_osc` holds ln(mu): divide by the sampling step dt.")
        if not np.any(np.abs(got.imag) > 1e-8):
            return not_yet(exercise, "`lam_osc` is real: the oscillation lives in the imaginary parts, a pair "
                           "rate +- i frequency.")
    if got is not None and got.shape == reference.shape and np.all(np.isfinite(got)):
        return compare_array(exercise, "lam_osc", nearest_order(got, reference), reference, rtol=1e-6, atol=1e-6)
    return compare_array(exercise, "lam_osc", lam, reference, rtol=1e-6, atol=1e-6)


def check_rates_from_multipliers(rates, multipliers, dt: float) -> Feedback:
    """Exercise 4.5: the continuous-time rates Re lambda_k = ln|mu_k| / dt of one-step multipliers mu_k
    (eq. ch4-dmd; the rate of eq. ch4-classify), in the order given."""
    exercise = "4.5"
    mu = np.asarray(multipliers, dtype=complex)
    reference = koopman.continuous_time(mu, dt).real
    if unanswered(rates):
        return compare_array(exercise, "rates", rates, reference)
    got = as_array(rates)
    if got is not None and got.shape == reference.shape and np.all(np.isfinite(got)):
        if np.allclose(got, mu.real / dt, rtol=1e-8, atol=1e-12):
            return not_yet(exercise, "`rates` is Re(mu) / dt, what PyDMD calls growth_rate: that is not a rate "
                           "(it is not even zero for |mu| = 1). Use ln|mu| / dt.")
        if np.allclose(got, (np.abs(mu) - 1) / dt, rtol=1e-8, atol=1e-12):
            return not_yet(exercise, "`rates` is (|mu| - 1) / dt, the first-order approximation of ln|mu| / dt: "
                           "it is off for modes that change much in one step.")
        if np.any(np.abs(got.imag) > 1e-12):
            return not_yet(exercise, "`rates` is complex: the rate is the real part of ln(mu) / dt.")
    return compare_array(exercise, "rates", np.real_if_close(got) if got is not None else rates, reference,
                         atol=1e-10)
