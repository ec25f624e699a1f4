"""Self-checks for the exercises of chapter 3 (:mod:`genphys.lindblad`, :mod:`genphys.channels`)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from genphys import channels
from genphys import lindblad as lb
from genphys.exercises.feedback import (Feedback, agrees, as_array, compare_array, compare_value, nearest_order,
                                        not_yet, unanswered)

__all__ = ["check_dephasing_limit", "check_qubit_spectrum", "check_damping_kraus", "check_time_ordering",
           "check_transpose_choi", "check_mean_field_rate", "check_thermal_populations"]








def check_dephasing_limit(rho_inf, rho0, gamma_phi: float, omega: float) -> Feedback:
    """Exercise 3.1: the state that pure dephasing at rate ``gamma_phi`` (qubit frequency ``omega``) leaves
    at long times from the initial state ``rho0``; the stationary states of eq. ch3-steady are not unique.

    The reference evolves ``rho0`` with the dephasing Liouvillian for 200 coherence times.
    """
    exercise = "3.1"
    rho0 = np.asarray(rho0, dtype=complex)
    L = lb.dephasing(gamma_phi, omega=omega).liouvillian()
    reference = lb.evolve(L, rho0, np.array([0.0, 200.0 / gamma_phi]))[-1]
    if unanswered(rho_inf):
        return compare_array(exercise, "rho_inf", rho_inf, reference)
    got = as_array(rho_inf)
    if got is not None and got.shape == reference.shape:
        if agrees(got, rho0, rtol=0, atol=1e-8):
            return not_yet(exercise, "`rho_inf` is the initial state: its coherences (the off-diagonal entries) "
                           "decay at the rate gamma_phi, so they are gone at long times.")
        if agrees(got, np.eye(2) / 2, rtol=0, atol=1e-8):
            return not_yet(exercise, "`rho_inf` is the maximally mixed state: dephasing never moves population "
                           "between the levels, so the diagonal of rho0 stays as it is.")
        ground = np.diag([0.0, 1.0]).astype(complex)
        if any(agrees(got, state, rtol=0, atol=1e-8) for state in (ground, np.diag([1.0, 0.0]))):
            return not_yet(exercise, "`rho_inf` is a basis state: that is where amplitude damping goes, but "
                           "dephasing keeps the populations of rho0.")
    return compare_array(exercise, "rho_inf", rho_inf, reference, atol=1e-10,
                         hint="The long-time state keeps what the dephasing Liouvillian does not damp.")


def check_qubit_spectrum(predicted, gamma: float, gamma_phi: float, omega: float) -> Feedback:
    """Exercise 3.2: the four Liouvillian eigenvalues of a qubit with decay ``gamma``, dephasing
    ``gamma_phi`` and frequency ``omega`` (eq. ch3-vec; 1/T1 = gamma, 1/T2 = gamma/2 + gamma_phi), in any order."""
    exercise = "3.2"
    if unanswered(predicted):
        return compare_array(exercise, "predicted", predicted, np.zeros(4))
    system = lb.OpenSystem("qubit", lb.amplitude_damping(gamma, omega).H,
                           lb.amplitude_damping(gamma, omega).c_ops + lb.dephasing(gamma_phi, omega).c_ops)
    reference = lb.spectrum(system.liouvillian()).eigenvalues
    values = np.asarray(predicted)
    if values.shape == (4,) and np.isrealobj(values):
        return not_yet(exercise, "`predicted` is real: the coherences rotate at the qubit frequency, so two "
                       "eigenvalues have imaginary parts.")
    as_complex = as_array(predicted)
    if as_complex is not None and as_complex.shape == reference.shape and np.all(np.isfinite(as_complex)):
        values = nearest_order(as_complex, reference)
    feedback = compare_array(exercise, "predicted", values, reference, atol=1e-10)
    if not feedback.correct and values.shape == (4,):
        rates = -np.sort(np.asarray(values).real)
        if np.isclose(rates.max(), gamma + gamma_phi):
            return not_yet(exercise, feedback.message + " Check the coherence rate 1/T2 = gamma/2 + gamma_phi: "
                           "the decay contributes half its rate to a coherence.")
    return feedback


def check_damping_kraus(kraus, gamma: float, t: float) -> Feedback:
    """Exercise 3.3: Kraus operators of exp(t L) for amplitude damping at rate ``gamma`` (omega = 0; basis
    index 0 = excited), eq. ch3-kraus with p = 1 - exp(-gamma t).

    Kraus operators are unique only up to a unitary mixing, so the check compares the channels'
    superoperators (eq. ch3-vec), not the operators themselves.
    """
    exercise = "3.3"
    S_ref = scipy.linalg.expm(t * lb.amplitude_damping(gamma, omega=0.0).liouvillian())
    if unanswered(kraus):
        return compare_array(exercise, "kraus", kraus, np.zeros((2, 2, 2)))
    try:
        ops = [np.asarray(K, dtype=complex) for K in kraus]
    except (TypeError, ValueError):
        return not_yet(exercise, "`kraus` should be a list of 2x2 matrices.")
    if not ops or any(K.shape != (2, 2) for K in ops):
        return not_yet(exercise, f"`kraus` should be a list of 2x2 matrices, got shapes "
                       f"{[K.shape for K in ops]}.")
    if not all(np.all(np.isfinite(K)) for K in ops):
        return not_yet(exercise, "`kraus` has NaN or infinite entries.")
    S = channels.kraus_to_super(ops)
    if np.allclose(S, S_ref, rtol=0, atol=1e-10):
        return compare_array(exercise, "kraus", S, S_ref, atol=1e-10)
    tp_error = np.abs(sum(K.conj().T @ K for K in ops) - np.eye(2)).max()
    p = 1 - np.exp(-gamma * t)
    if tp_error > 1e-8:
        return not_yet(exercise, f"the operators are not trace preserving: sum K^dag K differs from the "
                       f"identity by {tp_error:.3g}. Amplitudes are square roots of probabilities "
                       "(sqrt(p), not p).")
    swapped = channels.kraus_to_super([np.array([[np.sqrt(p), 0], [0, 1]]),
                                       np.array([[0, 0], [np.sqrt(1 - p), 0]])])
    if np.allclose(S, swapped, rtol=0, atol=1e-8):
        return not_yet(exercise, "the decay probability is swapped: after a time t the excited population "
                       f"has fallen to exp(-gamma t) = {np.exp(-gamma * t):.6g}, so the decay probability is "
                       f"p = 1 - exp(-gamma t) = {p:.6g}.")
    upward = channels.kraus_to_super([np.array([[1, 0], [0, np.sqrt(1 - p)]]),
                                      np.array([[0, np.sqrt(p)], [0, 0]])])
    if np.allclose(S, upward, rtol=0, atol=1e-8):
        return not_yet(exercise, "your channel excites the qubit: with index 0 = excited, the jump "
                       "sigma_- = |1><0| takes the excited state 0 to the ground state 1.")
    return compare_array(exercise, "kraus", S, S_ref, atol=1e-10,
                         hint="(Compared as superoperators, eq. ch3-vec.) The channel is trace preserving, "
                         "but it is not exp(t L).")


def check_time_ordering(rho_end, s: float, t: float, n_levels: int, omega: float, kappa: float,
                        drive: float) -> Feedback:
    """Exercise 3.4: the state of a damped oscillator (ground state at time 0) whose drive is switched on at
    time ``s``, observed at ``s + t``: exp(t L_on) exp(s L_off) rho0, the semigroup law (eq. ch3-semigroup)
    applied piece by piece."""
    exercise = "3.4"
    off = lb.damped_oscillator(n_levels, omega=omega, kappa=kappa).liouvillian()
    on = lb.damped_oscillator(n_levels, omega=omega, kappa=kappa, drive=drive).liouvillian()
    rho0 = lb.pure_state(np.eye(n_levels)[0])
    at_s = lb.evolve(off, rho0, np.array([0.0, s]))[-1]
    reference = lb.evolve(on, at_s, np.array([0.0, t]))[-1]
    if unanswered(rho_end):
        return compare_array(exercise, "rho_end", rho_end, reference)
    got = as_array(rho_end)
    if got is not None and got.shape == reference.shape and not agrees(got, reference, rtol=0, atol=1e-10):
        reversed_order = lb.evolve(off, lb.evolve(on, rho0, np.array([0.0, t]))[-1], np.array([0.0, s]))[-1]
        if agrees(got, reversed_order, rtol=0, atol=1e-8):
            return not_yet(exercise, "the generators act in the wrong order: first s without drive, then t "
                           "with it, i.e. exp(t L_on) exp(s L_off) rho0 - the later time to the left.")
        if agrees(got, lb.evolve(on, rho0, np.array([0.0, s + t]))[-1], rtol=0, atol=1e-8):
            return not_yet(exercise, "this is the drive on for the whole time s + t; it starts only at s.")
        if agrees(got, lb.evolve(off, rho0, np.array([0.0, s + t]))[-1], rtol=0, atol=1e-8):
            return not_yet(exercise, "this is the drive off for the whole time: switch it on for the last t.")
        if agrees(got, lb.evolve(on, rho0, np.array([0.0, t]))[-1], rtol=0, atol=1e-8):
            return not_yet(exercise, "this is rho0 driven for t: evolve it first for s without the drive.")
    return compare_array(exercise, "rho_end", rho_end, reference, atol=1e-10)


def check_transpose_choi(choi, dim: int) -> Feedback:
    """Exercise 3.5: the Choi matrix (eq. ch3-choi) of the transpose map rho -> rho^T on ``dim`` levels,
    which is positive but not completely positive."""
    exercise = "3.5"
    reference = channels.map_to_choi(lambda r: r.T, dim)
    if unanswered(choi):
        return compare_array(exercise, "choi", choi, reference)
    got = as_array(choi)
    if got is not None and got.shape == reference.shape and not agrees(got, reference, rtol=0, atol=1e-10):
        if agrees(got, channels.map_to_choi(lambda r: r, dim), rtol=0, atol=1e-8):
            return not_yet(exercise, "`choi` is the Choi matrix of the identity map (|Omega><Omega|): the "
                           "block i, j must hold the image of |i><j|, which for the transpose is |j><i|.")
        if np.allclose(got, got.conj().T) and np.linalg.eigvalsh(got).min() > -1e-10:
            return not_yet(exercise, "`choi` has no negative eigenvalue, yet the transpose is not completely "
                           "positive: compare its blocks with the images of |i><j|.")
    return compare_array(exercise, "choi", choi, reference, atol=1e-10)


def _gain_oscillator(omega: float, kappa: float, gain: float, n_levels: int = 4) -> lb.OpenSystem:
    a = lb.destroy(n_levels)
    ops = tuple(op for op, rate in ((np.sqrt(kappa) * a, kappa), (np.sqrt(gain) * a.conj().T, gain)) if rate > 0)
    return lb.OpenSystem("oscillator with loss and gain", omega * a.conj().T @ a, ops)


def check_mean_field_rate(lam, omega: float, kappa: float, gain: float) -> Feedback:
    """Exercise 3.6: the complex rate lambda in d<a>/dt = lambda <a> for H = omega a^dag a, loss
    sqrt(kappa) a and gain sqrt(gain) a^dag; the Heisenberg generator after eq. ch3-vec gives
    L^dag(a) = lambda a.

    The reference applies the package's adjoint Liouvillian to a (in four Fock levels) and reads lambda off
    the matrix element <0|L^dag(a)|1>, which the truncation does not touch.
    """
    exercise = "3.6"
    system = _gain_oscillator(omega, kappa, gain)
    a = lb.destroy(system.dim)
    image = channels.unvec(lb.adjoint_liouvillian(system.H, system.c_ops) @ channels.vec(a))
    reference = complex(image[0, 1] / a[0, 1])
    if unanswered(lam):
        return compare_array(exercise, "lam", lam, np.array(reference))
    try:
        value = complex(np.asarray(lam).reshape(()))
    except (TypeError, ValueError):
        return not_yet(exercise, "`lam` should be one complex number.")
    if not np.isfinite(value):
        return not_yet(exercise, f"`lam` is {value}.")
    if abs(value - reference) <= 1e-10 * max(1.0, abs(reference)):
        return compare_array(exercise, "lam", np.array(value), np.array(reference))
    if abs(value.imag - reference.imag) > 1e-10:
        if abs(value.imag + reference.imag) <= 1e-10:
            return not_yet(exercise, f"`lam` = {value:.6g}: the frequency has the wrong sign. In the "
                           "Heisenberg picture i[H, a] = i omega [a^dag a, a] = -i omega a, so <a> turns as "
                           "exp(-i omega t).")
        return not_yet(exercise, f"`lam` = {value:.6g}: its imaginary part should come from i[H, a] alone.")
    rate, expected = value.real, reference.real
    if abs(rate - (gain - kappa)) <= 1e-10:
        return not_yet(exercise, f"the rate is {rate:.6g} = gain - kappa: each dissipator contributes only "
                       "half its rate to <a>, as a coherence does (compare 1/T2 = gamma/2).")
    if abs(rate + (gain + kappa) / 2) <= 1e-10 and gain > 0:
        return not_yet(exercise, f"the rate is {rate:.6g} = -(kappa + gain)/2: the gain term adds +gain/2, "
                       "because D^dag[a^dag](a) = a[a, a^dag]/2 = +a/2.")
    if abs(rate + kappa / 2) <= 1e-10 and gain > 0:
        return not_yet(exercise, f"the rate is {rate:.6g} = -kappa/2: the gain term is missing (it adds +gain/2).")
    return not_yet(exercise, f"`lam` has the right frequency but the rate {rate:.6g}; the reference rate is "
                   f"{expected:.6g}.")


def check_thermal_populations(populations, n_levels: int, n_thermal: float) -> Feedback:
    """Exercise 3.7: the steady-state populations p_0 .. p_{N-1} of a damped oscillator in a thermal bath
    with mean occupation ``n_thermal``, truncated to ``n_levels`` Fock states (eq. ch3-steady, by detailed
    balance); the reference is the diagonal of ``lb.steady_state``."""
    exercise = "3.7"
    L = lb.damped_oscillator(n_levels, omega=1.0, kappa=1.0, n_thermal=n_thermal).liouvillian()
    reference = np.diag(lb.steady_state(L)).real.copy()
    if unanswered(populations):
        return compare_array(exercise, "populations", populations, reference)
    try:
        got = np.asarray(populations, dtype=float)
    except (TypeError, ValueError):
        return not_yet(exercise, "`populations` should be a real array of N probabilities.")
    if got.shape == reference.shape and np.all(np.isfinite(got)) and not np.allclose(got, reference, atol=1e-10):
        if abs(got.sum() - 1) > 1e-8 and np.all(got > 0):
            ratios = got[1:] / got[:-1]
            if np.allclose(ratios, reference[1:] / reference[:-1], rtol=1e-8):
                return not_yet(exercise, f"the ratios p_(n+1)/p_n are right, but the populations sum to "
                               f"{got.sum():.10g}: in N levels the geometric series must be normalised to one.")
        if got.size > 1 and got[0] > 0 and np.allclose(got[1:] / got[:-1], n_thermal, rtol=1e-8):
            return not_yet(exercise, "successive populations fall by a factor n_thermal; detailed balance "
                           "gives n_thermal / (n_thermal + 1) (absorption ~ n, emission ~ n + 1).")
    return compare_array(exercise, "populations", populations, reference, atol=1e-10)
