"""Self-checks for the exercises of chapter 6 (:mod:`genphys.path_integral`).

Each check computes its reference with :mod:`genphys.path_integral` (and :mod:`genphys.measurement`
for the filter) and says what is not yet right: an index off by one in the Gel'fand-Yaglom
recursion, the Euler variance where the exact Ornstein-Uhlenbeck one goes, the frozen-past gain where
the stationary one is asked for, a real Gaussian where the complex one belongs.
"""

from __future__ import annotations

import math

import numpy as np

from genphys import measurement
from genphys import path_integral as pi
from genphys.exercises.feedback import Feedback, agrees, compare_array, compare_value, correct, not_yet, unanswered

__all__ = ["check_fluctuation_determinant", "check_frozen_past", "check_ou_step", "check_ground_state",
           "check_memory_time", "check_one_token_evidence", "check_evidence_maximiser"]




def _first_hint(exercise: str, got, hints, reference=None) -> Feedback | None:
    """The message of the first ``(value, message, rtol)`` that ``got`` matches, as a Feedback; else None.
    A hint whose value agrees with ``reference`` (where the mistake makes no difference) is skipped."""
    if unanswered(got):
        return None
    for value, message, rtol in hints:
        if reference is not None and agrees(value, reference, rtol=rtol):
            continue
        if agrees(got, value, rtol=rtol):
            return not_yet(exercise, message)
    return None


def _eps_det(omega: float, T: float, N: int, sign: float, extra: int) -> float:
    """eps D_{N-1+extra} of the recursion with diagonal 2 + sign eps^2 omega^2 (the mistakes of Exercise 6.1);
    NaN beyond 10^5 slices."""
    if N > 10**5:
        return math.nan
    eps, before, D_k = T / N, 0.0, 1.0
    for _ in range(N - 1 + extra):
        before, D_k = D_k, (2 + sign * (eps * omega) ** 2) * D_k - before
    return eps * D_k


def check_fluctuation_determinant(eps_det, omega: float, T: float, Ns) -> Feedback:
    """Exercise 6.1: eps det M_N for each N in ``Ns``, eps = T / N, from the Gel'fand-Yaglom recursion
    (eq. ch6-gy), against :func:`genphys.path_integral.gelfand_yaglom`."""
    exercise = "6.1"
    Ns = np.asarray(Ns, dtype=int)
    eps = T / Ns
    reference = np.array([e * pi.gelfand_yaglom(omega, T, int(N)) for e, N in zip(eps, Ns)])
    one_more = np.array([_eps_det(omega, T, int(N), 1.0, 1) for N in Ns])
    oscillating = np.array([_eps_det(omega, T, int(N), -1.0, 0) for N in Ns])
    continuum = np.full(Ns.shape, math.sinh(omega * T) / omega if omega > 0 else T)
    hint = _first_hint(exercise, eps_det, [
        (reference / eps, "`eps_det` holds det M_N itself: multiply each by eps = T / N.", 1e-9),
        (one_more, "`eps_det` holds eps D_N: the matrix of N slices is (N - 1) x (N - 1), so det M_N = D_{N-1} "
                   "(start from D_0 = 1 and D_{-1} = 0).", 1e-9),
        (oscillating, "`eps_det` oscillates: the diagonal is 2 + eps^2 omega^2 (Euclidean time), not "
                      "2 - eps^2 omega^2.", 1e-9),
        (continuum, "`eps_det` is the continuum limit sinh(omega T)/omega at every N: compute the lattice "
                    "determinant from the recursion.", 1e-12),
    ], reference)
    if hint is not None:
        return hint
    return compare_array(exercise, "eps_det", eps_det, reference, rtol=1e-9, atol=0.0)


def check_frozen_past(g_frozen, g_steady, r: float, q: float, sigma2: float) -> Feedback:
    """Exercise 6.2: the gain of one Kalman step from a past known exactly (P_{t-1} = 0), and the
    stationary gain of eq. ch7-filter (eq. ch5-riccati), against :func:`genphys.measurement.kalman_filter`
    and :func:`genphys.measurement.steady_state_gain`."""
    exercise = "6.2"
    one = measurement.kalman_filter([[0.0]], [[math.exp(r)]], [[q]], [[sigma2]], P0=[[0.0]])
    frozen = float(one.gains[0, 0, 0])
    steady = measurement.steady_state_gain(r, q, sigma2)
    P_steady = steady * sigma2 / (1 - steady)
    if unanswered(g_frozen):
        return compare_value(exercise, "g_frozen", g_frozen, frozen)
    if unanswered(g_steady):
        return compare_value(exercise, "g_steady", g_steady, steady)
    if agrees(g_frozen, steady, rtol=1e-8) and agrees(g_steady, frozen, rtol=1e-8):
        return not_yet(exercise, "`g_frozen` and `g_steady` are exchanged: the past known exactly gives the "
                       "smaller gain q / (q + sigma^2).")
    if agrees(g_frozen, q, rtol=1e-10) and not agrees(q, frozen, rtol=1e-10):
        return not_yet(exercise, "`g_frozen` is the predicted variance q: the gain is q / (q + sigma^2).")
    feedback = compare_value(exercise, "g_frozen", g_frozen, frozen, rtol=1e-10)
    if not feedback.correct:
        return feedback
    if agrees(g_steady, frozen, rtol=1e-10):
        return not_yet(exercise, "`g_steady` is the gain of the first step from P0 = 0, the frozen-past gain: "
                       "let the filter run until its gain stops changing, or solve the Riccati equation.")
    if agrees(g_steady, P_steady, rtol=1e-8):
        return not_yet(exercise, "`g_steady` is the stationary predicted variance P: the gain is P / (P + sigma^2).")
    feedback = compare_value(exercise, "g_steady", g_steady, steady, rtol=1e-8)
    if not feedback.correct and not unanswered(g_steady) and isinstance(g_steady, (float, int, np.floating)) \
            and frozen < float(g_steady) < steady:
        return not_yet(exercise, feedback.message + " It lies between the frozen-past and the stationary gain: "
                       "the filter has not settled yet, run it for more steps.")
    if feedback.correct:
        return correct(exercise, f"g_frozen = {frozen:.10g} and g_steady = {steady:.10g} agree with the "
                       "filter: the stationary gain is the larger.")
    return feedback


def _ou_variance(r: float, D: float) -> float:
    """The variance of the Ornstein-Uhlenbeck transition over one unit of time at rate r < 0, read
    from :func:`genphys.path_integral.ou_propagator`: p(x, 1 | x) = 1 / sqrt(2 pi v) at x = 0."""
    density = pi.ou_propagator(0.0, 0.0, 1.0, -r, D)
    return 1.0 / (2 * math.pi * density**2)


def check_ou_step(q_exact, rates, D: float) -> Feedback:
    """Exercise 6.3: the variance q of the exact one-token transition of dx = r x dt + sqrt(2 D) dW for
    each decay rate r < 0 in ``rates`` (eq. ch6-ou at t = 1), read from
    :func:`genphys.path_integral.ou_propagator`."""
    exercise = "6.3"
    rates = np.asarray(rates, dtype=float)
    reference = np.array([_ou_variance(float(r), D) for r in rates])
    hint = _first_hint(exercise, q_exact, [
        (np.full(rates.shape, 2 * D), "`q_exact` is 2 D at every rate, the Euler kernel's variance: exact only as "
                                      "r -> 0. Integrate the noise that the decay e^{r(1-s)} damps.", 1e-12),
        (2 * D * np.expm1(rates) / rates, "`q_exact` uses e^r where e^{2r} goes: the variance of e^{r(1-s)} dW is "
                                          "damped by the square of the factor.", 1e-9),
        (D * np.expm1(2 * rates) / (2 * rates), "`q_exact` is half the reference: the noise sqrt(2 D) dW has "
                                                "the variance 2 D per unit time.", 1e-9),
    ], reference)
    if hint is not None:
        return hint
    return compare_array(exercise, "q_exact", q_exact, reference, rtol=1e-9, atol=0.0)


def check_ground_state(E0, density_0, xs, omega: float) -> Feedback:
    """Exercise 6.4: the ground-state energy omega/2 and density sqrt(omega/pi) e^{-omega x^2} on the grid
    ``xs``, read off the long-time Euclidean Mehler kernel (eq. ch6-mehler) and checked against
    :func:`genphys.path_integral.mehler_kernel` at a time long enough that the excited states are gone."""
    exercise = "6.4"
    xs = np.asarray(xs, dtype=float)
    tau = 60.0 / omega                          # e^{-omega tau} = e^{-60}: only the ground state is left
    K0 = pi.mehler_kernel(0.0, 0.0, tau, omega)
    K1 = pi.mehler_kernel(0.0, 0.0, tau + 1.0, omega)
    energy = float(-math.log(K1 / K0))
    diagonal = pi.mehler_kernel(xs, xs, tau, omega)
    reference = diagonal * math.sqrt(omega / math.pi) / float(pi.mehler_kernel(0.0, 0.0, tau, omega))
    if unanswered(E0):
        return compare_value(exercise, "E0", E0, energy)
    if agrees(E0, 2 * energy, rtol=1e-4):
        return not_yet(exercise, "`E0` is omega, the spacing of the levels: the ground state lies at omega / 2.")
    feedback = compare_value(exercise, "E0", E0, energy, rtol=1e-6)
    if not feedback.correct:
        return feedback
    amplitude = np.sqrt(omega / math.pi) ** 0.5 * np.exp(-omega * xs**2 / 2)
    hint = _first_hint(exercise, density_0, [
        (amplitude / np.trapezoid(amplitude, xs), "`density_0` is the wavefunction psi_0(x) (from K(x, 0)): the "
                                                  "density |psi_0(x)|^2 is the diagonal K(x, x).", 1e-4),
        (amplitude, "`density_0` is the wavefunction psi_0(x): the density is its square, the diagonal K(x, x).",
         1e-4),
    ], reference)
    if hint is not None:
        return hint
    if not unanswered(density_0):
        try:
            values = np.asarray(density_0, dtype=float)
            if values.shape == xs.shape and np.all(np.isfinite(values)) and values.max() > 0 \
                    and agrees(values / values.max(), reference / reference.max(), rtol=1e-4, atol=1e-8) \
                    and not agrees(values, reference, rtol=1e-4, atol=1e-8):
                return not_yet(exercise, "`density_0` has the right shape but is not normalised: divide K(x, x) "
                               "by its integral over x.")
        except (TypeError, ValueError):
            pass
    feedback = compare_array(exercise, "density_0", density_0, reference, rtol=1e-4, atol=1e-8)
    if feedback.correct:
        return correct(exercise, f"E0 = {float(E0):.8g} and the density agree with the ground state of the "
                       "oscillator.")
    return feedback


def check_memory_time(memory_sites, spacings, omega: float) -> Feedback:
    """Exercise 6.5: the memory time in lattice sites, 1 / (E(a) a), of the lattice correlator
    e^{-E a n} (eq. ch6-lattice) at each spacing, with E(a) from :func:`genphys.path_integral.lattice_gap`."""
    exercise = "6.5"
    spacings = np.asarray(spacings, dtype=float)
    gaps = np.array([pi.lattice_gap(float(a), omega) for a in spacings])
    reference = 1.0 / (gaps * spacings)
    hint = _first_hint(exercise, memory_sites, [
        (1.0 / gaps, "`memory_sites` is 1 / E, a time: in lattice sites it is 1 / (E a).", 1e-8),
        (1.0 / (omega * spacings), "`memory_sites` uses the continuum gap omega: the lattice gap E(a) of "
                                   "eq. ch6-lattice is smaller, so the memory is longer.", 1e-10),
        (gaps * spacings, "`memory_sites` holds the decay E a per site: the memory time is its inverse.", 1e-8),
    ], reference)
    if hint is not None:
        return hint
    return compare_array(exercise, "memory_sites", memory_sites, reference, rtol=1e-8, atol=0.0)


def check_one_token_evidence(log_p, c1: complex, lam: complex, q: float, sigma2: float, u1: complex = 0.0,
                             m0: complex = 0.0, p0: float = 1.0) -> Feedback:
    """Exercise 6.6: ln p(c_1) of one token, the path integral over psi_0 and psi_1 (eq. ch6-evidence),
    against :func:`genphys.path_integral.log_evidence`."""
    exercise = "6.6"
    action = pi.ModeAction(np.array([c1]), lam, q, sigma2, np.array([u1]), m0, p0)
    reference = pi.log_evidence(action)
    e = c1 - (np.exp(lam) * m0 + u1)
    S = math.exp(2 * lam.real) * p0 + q + sigma2
    hint = _first_hint(exercise, log_p, [
        (-0.5 * math.log(2 * math.pi * S) - abs(e) ** 2 / (2 * S),
         "`log_p` uses the real Gaussian density: the circular complex one is exp(-|e|^2/S) / (pi S).", 1e-10),
        (-math.log(math.pi * (q + sigma2)) - abs(e) ** 2 / (q + sigma2),
         "`log_p` leaves out the prior variance of psi_0: the predicted variance is e^{2r} p0 + q.", 1e-10),
        (-math.log(math.pi * (S - sigma2)) - abs(e) ** 2 / (S - sigma2),
         "`log_p` leaves out sigma^2: the innovation c_1 - psi_1 adds the pointer's variance.", 1e-10),
        (-math.log(math.pi * S) - abs(c1 - np.exp(lam) * m0) ** 2 / S,
         "`log_p` leaves out the drive u_1 from the predicted mean e^lam m0 + u_1.", 1e-10),
    ], reference)
    return hint if hint is not None else compare_value(exercise, "log_p", log_p, reference, rtol=1e-10)


def check_evidence_maximiser(best_ratio, c, lam: complex, sigma2: float, ratios, u=None,
                             p0: float = 1.0) -> Feedback:
    """Exercise 6.7: the noise ratio q / sigma^2 on the grid ``ratios`` whose action has the largest
    evidence (eq. ch6-evidence), with :func:`genphys.path_integral.log_evidence`."""
    exercise = "6.7"
    ratios = np.asarray(ratios, dtype=float)
    evidence = np.array([pi.log_evidence(pi.ModeAction(np.asarray(c), lam, float(x) * sigma2, sigma2, u, 0.0, p0))
                         for x in ratios])
    reference = float(ratios[int(np.argmax(evidence))])
    if not unanswered(best_ratio):
        if agrees(best_ratio, float(ratios[int(np.argmin(evidence))]), rtol=1e-12) \
                and not agrees(best_ratio, reference, rtol=1e-12):
            return not_yet(exercise, "`best_ratio` has the smallest evidence on the grid: take the largest.")
        if agrees(best_ratio, float(evidence.max()), rtol=1e-10):
            return not_yet(exercise, "`best_ratio` is the largest log-evidence itself: give the ratio at which "
                           "it is reached.")
        if agrees(best_ratio, reference * sigma2, rtol=1e-12) and not agrees(sigma2, 1.0):
            return not_yet(exercise, "`best_ratio` is q, not the ratio q / sigma^2.")
    return compare_value(exercise, "best_ratio", best_ratio, reference, rtol=1e-12)
