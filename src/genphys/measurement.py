"""Measurement theory: Gaussian updates and the Kalman filter (chapter 5).

Two languages for one measurement.  Classically, a Gaussian prior N(m, P) on a state x and a Gaussian observation y = W x + v, v ~ N(0, R),
give a Gaussian posterior whose **precisions add** (the information form of Bayes' rule):

    P_post^-1 = P^-1 + W^H R^-1 W,    P_post^-1 m_post = P^-1 m + W^H R^-1 y.

Iterated along a linear dynamics this is the Kalman filter (Kalman 1960).  Real data use real
Gaussians; complex data use circularly symmetric complex Gaussians, whose density is
pi^-n det(S)^-1 exp(-e^H S^-1 e) - the convention of chapter 7's complex modes.

Quantum mechanically, an observable A is measured by coupling it to a pointer with a Gaussian
wavefunction of width sigma; reading the pointer at q applies the Kraus operator
M_q = phi_sigma(q - A) (von Neumann 1932), weak when sigma is large against the spread of A, with
weak values (Aharonov, Albert and Vaidman 1988) when the system is post-selected.  Its weak limit has
two regimes (:func:`weak_update`): at a fixed reading the update is first order in sigma^-2; at a typical
reading, q - <A> of order sigma, it is first order in 1/sigma, and read every dt with sigma^2 = 1 / (8 k dt)
it becomes the stochastic Schroedinger equation of continuous measurement (:func:`sse_step`).  The Gaussian
kernel exp(-|d|^2 / 2 s^2) and its random Fourier features (Rahimi and Recht 2007) are the
maximum-entropy reading of the same action.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genphys import validate

#: Largest number of entries of a dense result (Gram matrix, random features): 2^25 doubles, 256 MiB.
MAX_ENTRIES = 2**25

__all__ = ["gaussian_update", "KalmanResult", "kalman_filter", "steady_state_gain", "pointer_wavefunction",
           "pointer_kraus", "weak_value", "postselected_pointer_mean", "gaussian_kernel", "random_fourier_features",
           "weak_update", "sse_step", "averaged_state"]


def gaussian_update(mean, precision, W, v, sigma2) -> tuple[np.ndarray, np.ndarray]:
    """Posterior (mean, precision) after observing ``v = W x + noise``, noise covariance ``sigma2``.

    Information form: precisions add, Lambda' = Lambda + W^H R^-1 W, and the information vectors
    add, Lambda' m' = Lambda m + W^H R^-1 v.  ``sigma2`` is a positive number (R = sigma2 I) or a matrix R.
    ``precision`` is Hermitian positive semidefinite (zero in a direction the prior leaves free), R is
    Hermitian positive definite, and the posterior precision must be definite (the observation
    pins every direction the prior leaves free); anything else is a ValueError naming it.
    """
    mean = validate.finite_array(mean, "mean", dtype=complex, ndim=1, empty=False)
    n = mean.size
    precision = validate.positive_semidefinite(precision, "precision", dim=n)
    W = validate.finite_array(W, "W", dtype=complex, ndim=2, shape=(None, n))
    v = validate.finite_array(v, "v", dtype=complex, shape=(W.shape[0],))
    R = _noise(sigma2, W.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        Rinv_W = np.linalg.solve(R, W)
        new_precision = precision + W.conj().T @ Rinv_W
        new_precision = 0.5 * (new_precision + new_precision.conj().T)
        info = precision @ mean + W.conj().T @ np.linalg.solve(R, v)
        validate.finite_result(new_precision, "gaussian_update: the posterior precision W^H sigma2^-1 W overflows "
                                              "(W, sigma2 or precision too large)")
        try:
            validate.positive_semidefinite(new_precision, "the posterior precision", definite=True)
        except ValueError as err:
            raise ValueError(f"{err}: precision + W^H sigma2^-1 W is singular, the observation W does not pin "
                             "the directions the prior precision leaves free") from None
        new_mean = np.linalg.solve(new_precision, info)
    validate.finite_result(new_mean, "gaussian_update: the posterior mean overflows (mean, v, W or sigma2 too large)")
    return new_mean, new_precision


def _noise(sigma2, p: int) -> np.ndarray:
    if np.ndim(sigma2) == 0 and not isinstance(sigma2, (list, tuple)):
        return validate.real(sigma2, "sigma2", low=0, low_open=True) * np.eye(p)
    return validate.positive_semidefinite(sigma2, "sigma2", dim=p, definite=True)


@dataclass(frozen=True)
class KalmanResult:
    """Filtered and predicted moments of :func:`kalman_filter`, its gains and the evidence."""

    means: np.ndarray                  # (T, n)   m_t = E[x_t | y_1..t]
    covariances: np.ndarray            # (T, n, n) P_t
    predicted_means: np.ndarray        # (T, n)   m_{t|t-1}
    predicted_covariances: np.ndarray  # (T, n, n) P_{t|t-1}
    gains: np.ndarray                  # (T, n, p) K_t
    log_likelihood: float              # sum_t ln N(y_t; H m_{t|t-1}, S_t)


def _gaussian_logpdf(e: np.ndarray, S: np.ndarray, complex_: bool) -> float:
    """ln N(e; 0, S): real, or circularly symmetric complex."""
    sign, logdet = np.linalg.slogdet(S)
    quad = float(np.real(e.conj() @ np.linalg.solve(S, e)))
    if complex_:
        return float(-e.size * np.log(np.pi) - logdet.real - quad)
    return float(-0.5 * (e.size * np.log(2 * np.pi) + logdet.real + quad))


def kalman_filter(y, F, Q, R, *, H=None, u=None, m0=None, P0=None) -> KalmanResult:
    """The Kalman filter of x_t = F x_{t-1} + u_t + w_t, y_t = H x_t + v_t (chapter 7's layer is one step, eq. ch7-filter).

    w_t ~ N(0, Q), v_t ~ N(0, R), t = 1..T, x_0 ~ N(m0, P0).  ``y``: (T, p); ``F``, ``Q``: (n, n);
    ``R``: (p, p); ``H``: (p, n), default the identity; ``u``: (T, n), default 0; ``m0``: (n,),
    default 0; ``P0``: (n, n), default Q.  Complex inputs use circular complex Gaussians.
    Each step: predict m = F m + u, P = F P F^H + Q; update with gain K = P H^H S^-1,
    S = H P H^H + R (the covariance update in Joseph form, which keeps P Hermitian and positive).
    ``Q`` and ``P0`` must be Hermitian positive semidefinite and ``R`` Hermitian positive definite
    (covariances; anything else is a ValueError naming it).  A filter whose state overflows (an
    unstable F over many steps, or inputs near the float limit) stops with a ValueError naming
    the step.
    """
    complex_ = any(np.iscomplexobj(np.asarray(a)) for a in (y, F, H, u, m0) if a is not None)
    y = validate.finite_array(y, "y", dtype=complex, ndim=2, empty=False)
    T, p = y.shape
    F = validate.square_matrix(F, "F")
    n = F.shape[0]
    if n == 0 or p == 0:
        raise ValueError(f"F and y need at least one state and one observed component, got n = {n}, p = {p}")
    Q = validate.positive_semidefinite(Q, "Q", dim=n)
    R = validate.positive_semidefinite(R, "R", dim=p, definite=True)
    H = np.eye(n) if H is None else validate.finite_array(H, "H", dtype=complex, shape=(p, n))
    if H.shape != (p, n):
        raise ValueError(f"H must be ({p}, {n}); with H omitted y needs n = {n} columns, got {p}")
    u = np.zeros((T, n)) if u is None else validate.finite_array(u, "u", dtype=complex, shape=(T, n))
    m = np.zeros(n) if m0 is None else validate.finite_array(m0, "m0", dtype=complex, shape=(n,))
    P = Q.copy() if P0 is None else validate.positive_semidefinite(P0, "P0", dim=n)
    complex_ = complex_ or bool(np.any(Q.imag) or np.any(R.imag) or np.any(P.imag))   # complex covariances: a complex state
    out = {k: [] for k in ("means", "covariances", "predicted_means", "predicted_covariances", "gains")}
    loglik, I = 0.0, np.eye(n)
    for t in range(T):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            m = F @ m + u[t]
            P = F @ P @ F.conj().T + Q
            finite = np.all(np.isfinite(m)) and np.all(np.isfinite(P))
            if finite:
                out["predicted_means"].append(m)
                out["predicted_covariances"].append(P)
                S = H @ P @ H.conj().T + R
                e = y[t] - H @ m
                loglik += _gaussian_logpdf(e, S, complex_) if np.all(np.isfinite(S)) else math.nan
                K = np.linalg.solve(S.T, (P @ H.conj().T).T).T
                m = m + K @ e
                P = (I - K @ H) @ P @ (I - K @ H).conj().T + K @ R @ K.conj().T
                finite = np.all(np.isfinite(m)) and np.all(np.isfinite(P)) and math.isfinite(loglik)
        if not finite:
            raise ValueError(f"kalman_filter diverged at step {t + 1} of {T}: the state (mean, covariance or "
                             "log-likelihood) overflows double precision - F amplifies too much over these steps, "
                             "or F, Q, u, y or P0 are too large")
        out["means"].append(m)
        out["covariances"].append(P)
        out["gains"].append(K)
    arrays = {k: np.array(v) for k, v in out.items()}
    if not complex_:
        arrays = {k: v.real for k, v in arrays.items()}
    return KalmanResult(**arrays, log_likelihood=float(loglik))


def steady_state_gain(r: float, q: float, sigma2: float) -> float:
    """The stationary gain g = P / (P + sigma2) of the scalar filter x_t = e^r x_{t-1} + w, y_t = x_t + v.

    P (the predicted variance) solves the discrete algebraic Riccati equation
    P = e^{2r} P sigma2 / (P + sigma2) + q; it exists for every r when q > 0 (the pair is observable),
    growth modes (r > 0) included.  In units of sigma2 (x = P / sigma2, rho = q / sigma2, A = e^{2r}) it
    is the positive root of x^2 + (1 - A - rho) x - rho = 0, taken in the form without cancellation;
    the tests check it against scipy's ``solve_discrete_are``.  Where 1 - g < 1e-300 (e^{2r} or q / sigma2
    beyond the float range) the gain is 1.0, its value in double precision.
    """
    r = validate.real(r, "r")
    q = validate.real(q, "q", low=0, low_open=True)
    sigma2 = validate.real(sigma2, "sigma2", low=0, low_open=True)
    rho = q / sigma2                                          # inf or 0 beyond the float range
    if 2 * r > 700 or rho == math.inf:
        return 1.0
    b = math.exp(2 * r) + rho - 1.0
    disc = math.hypot(b, 2.0 * math.sqrt(rho))
    x = 0.5 * (b + disc) if b >= 0 else 2.0 * rho / (disc - b)
    return 1.0 / (1.0 + 1.0 / x) if x > 0 else 0.0


def noise_ratio(r: float, g: float) -> float:
    """q / sigma^2 of the scalar filter x_t = e^r x_{t-1} + w, y_t = x_t + v whose stationary gain is ``g``.

    Eq. ch5-riccati solved for q: in units of sigma^2 the stationary gain g = P / (P + 1) fixes the
    predicted variance P = g / (1 - g) and the filtered variance (1 - g) P = g, and the Riccati
    recursion P = e^{2r} g + q gives q = g / (1 - g) - e^{2r} g.  It is positive exactly when
    (1 - g) e^{2r} < 1 (eq. ch5-steady-condition); for any other (r, g) no noise model has this
    stationary gain, and that is a ValueError naming both.
    """
    r = validate.real(r, "r")
    g = validate.real(g, "g", low=0, high=1, low_open=True, high_open=True)
    log_closed = math.log1p(-g) + 2 * r                       # ln((1 - g) e^{2r}), without overflow
    ratio = -g * math.expm1(log_closed) / (1 - g) if log_closed < 0 else 0.0   # = g/(1-g) - e^{2r} g
    if not ratio > 0:
        raise ValueError(f"no noise model has the stationary gain g = {g:.6g} at rate r = {r:.6g}: "
                         f"(1 - g) e^(2r) = e^{log_closed:.6g} is not below 1")
    return ratio


# ----------------------------------------------------------------------------- Gaussian pointers

def _hermitian(A, name: str = "A") -> np.ndarray:
    A = validate.hermitian(A, name)
    if A.shape[0] == 0:
        raise ValueError(f"{name} must not be empty (an observable on at least one state)")
    return A


def pointer_wavefunction(q, sigma: float) -> np.ndarray:
    """phi(q) = (2 pi sigma^2)^{-1/4} exp(-q^2 / (4 sigma^2)): |phi|^2 is N(0, sigma^2).

    Evaluated as exp(-ln(2 pi)/4 - ln(sigma)/2 - (q / sigma)^2 / 4), finite for every finite q and sigma > 0.
    """
    q = validate.finite_array(q, "q")
    sigma = validate.real(sigma, "sigma", low=0, low_open=True)
    with np.errstate(over="ignore"):
        z2 = (q / sigma) ** 2                                   # inf where the wavefunction is 0 in doubles
    return np.exp(-0.25 * math.log(2 * math.pi) - 0.5 * math.log(sigma) - 0.25 * z2)


def pointer_kraus(A, sigma: float, q: float) -> np.ndarray:
    """M_q = phi(q - A) = sum_a phi(q - a) |a><a|: the pointer read at q after the coupling exp(-i A p).

    The operators are complete, int M_q^dag M_q dq = I, so {M_q} is a quantum instrument.
    """
    A = _hermitian(A)
    q = validate.real(q, "q")
    a, V = np.linalg.eigh(A)
    return (V * pointer_wavefunction(q - a, sigma)) @ V.conj().T


def _state(psi, name: str, d: int) -> np.ndarray:
    psi = validate.finite_array(psi, name, dtype=complex, shape=(d,))
    norm = np.linalg.norm(psi)
    if norm == 0:
        raise ValueError(f"{name} must be a non-zero vector")
    return psi / norm


def weak_value(A, pre, post) -> complex:
    """A_w = <post|A|pre> / <post|pre> (Aharonov, Albert and Vaidman 1988); may lie outside A's spectrum."""
    A = _hermitian(A)
    pre, post = _state(pre, "pre", A.shape[0]), _state(post, "post", A.shape[0])
    overlap = post.conj() @ pre
    if abs(overlap) < 1e-14:
        raise ValueError("pre and post are orthogonal: the weak value is undefined")
    with np.errstate(over="ignore", invalid="ignore"):
        value = complex(post.conj() @ A @ pre / overlap)
    return validate.finite_result(value, "weak_value: <post|A|pre> / <post|pre> overflows (A too large)")


def postselected_pointer_mean(A, pre, post, sigma: float) -> float:
    """E[q | post-selected on post] for the Gaussian pointer, exact for every sigma.

    With c_a = <post|a><a|pre>: sum_{ab} c_a c_b^* (a + b)/2 e^{-(a-b)^2 / 8 sigma^2} divided by
    sum_{ab} c_a c_b^* e^{-(a-b)^2 / 8 sigma^2} (the pointer overlaps are Gaussian integrals).  It
    tends to Re A_w as sigma grows and to the post-selected eigenvalue average as sigma shrinks.
    The exponent is formed as ((a - b) / sigma)^2 / 8, so any sigma > 0 works, 1e-300 included; eigenvalues
    that ``eigh`` cannot tell apart (closer than 16 n eps max|a|, its round-off) count as one eigenvalue.
    """
    A = _hermitian(A)
    pre, post = _state(pre, "pre", A.shape[0]), _state(post, "post", A.shape[0])
    sigma = validate.real(sigma, "sigma", low=0, low_open=True)
    a, V = np.linalg.eigh(A)
    c = (post.conj() @ V) * (V.conj().T @ pre)
    with np.errstate(over="ignore", invalid="ignore"):
        gap = a[:, None] - a[None, :]
        gap[np.abs(gap) <= 16 * a.size * np.finfo(float).eps * np.abs(a).max()] = 0.0
        overlap = np.exp(-((gap / sigma) ** 2) / 8) * np.outer(c, c.conj())
        norm = overlap.sum().real
        if not norm > 1e-300:
            raise ValueError("pre and post: the post-selection has probability zero")
        mean = float((overlap * (0.5 * a[:, None] + 0.5 * a[None, :])).sum().real / norm)
    return validate.finite_result(mean, "postselected_pointer_mean overflows (A too large)")


# ----------------------------------------------------------------------------- the weak limit, two regimes

#: The forms of :func:`weak_update`: the exact Kraus update, the fixed-reading expansion (eq. ch5-weak-update),
#: the typical-reading expansion (eq. ch5-typical-update), Wang's equation 25, and one step of eq. ch5-sse.
WEAK_FORMS = ("kraus", "fixed", "typical", "seed", "sse")


def _observable_moments(A, psi) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(A, psi normalised, (A - <A>) psi, (A - <A>)^2 psi, <A>, Delta A^2 = <A^2> - <A>^2)."""
    A = _hermitian(A)
    psi = _state(psi, "psi", A.shape[0])
    mean = float(np.real(psi.conj() @ A @ psi))
    y = A @ psi - mean * psi
    y2 = A @ y - mean * y
    spread = float(np.real(y.conj() @ y))
    return A, psi, y, y2, mean, spread


def weak_update(A, psi, q: float, sigma: float, form: str = "typical") -> np.ndarray:
    """The state after the pointer of width ``sigma`` reads ``q``: exact, or one of its expansions in 1/sigma.

    ``form``: "kraus" - M_q psi / |M_q psi| (eq. ch5-kraus), normalised; the others are the vectors their
    equations write (normalise before comparing, their norm differs from one at the next order):
    "fixed" - eq. ch5-weak-update, psi + q/(2 sigma^2) (A - <A>) psi - (A^2 - <A^2>) psi / (4 sigma^2), first
    order in sigma^-2 at a fixed reading, remainder O(sigma^-4) there but O(sigma^-2) at a typical reading;
    "typical" - eq. ch5-typical-update, with xi = (q - <A>) / sigma,
    psi + xi/(2 sigma) (A - <A>) psi + [(xi^2 - 2)(A - <A>)^2 - 2 (xi^2 - 1) Delta A^2] psi / (8 sigma^2),
    remainder O(sigma^-3) at a typical reading (xi of order one) and O(sigma^-4) at a fixed one;
    "seed" - Wang's equation 25, psi + (q - <A>)/(2 sigma^2) (A - <A>) psi, remainder O(sigma^-2) in both regimes;
    "sse" - one step of the stochastic Schroedinger equation (eq. ch5-sse, :func:`sse_step`) with
    k dt = 1 / (8 sigma^2) and dW = xi sqrt(dt).  ``psi`` is normalised first.
    """
    form = validate.one_of(form, "form", WEAK_FORMS)
    A, psi, y, y2, mean, spread = _observable_moments(A, psi)
    q = validate.real(q, "q")
    sigma = validate.real(sigma, "sigma", low=0, low_open=True)
    if form == "kraus":
        out = pointer_kraus(A, sigma, q) @ psi
        norm = np.linalg.norm(out)
        if not norm > 0:
            raise ValueError(f"q = {q:g} is so far from the spectrum of A for sigma = {sigma:g} that M_q psi "
                             "underflows to zero")
        return out / norm
    q, sigma = np.float64(q), np.float64(sigma)              # numpy floats: an overflow is inf, not an exception
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        xi = (q - mean) / sigma
        if form == "fixed":
            out = psi + q / (2 * sigma**2) * y - (A @ (A @ psi) - (spread + mean**2) * psi) / (4 * sigma**2)
        elif form == "seed":
            out = psi + xi / (2 * sigma) * y
        elif form == "typical":
            out = psi + xi / (2 * sigma) * y + ((xi**2 - 2) * y2 - 2 * (xi**2 - 1) * spread * psi) / (8 * sigma**2)
        else:
            dt = 1.0 / (8 * sigma**2)                                  # k = 1
            if not (np.isfinite(dt) and np.isfinite(xi * np.sqrt(dt))):
                raise ValueError(f"weak_update (sse): sigma = {sigma:g} and q = {q:g} give no finite time step")
            out = sse_step(A, psi, float(xi * np.sqrt(dt)), 1.0, float(dt))
    return validate.finite_result(out, f"weak_update ({form}): the expansion overflows (q, sigma or A too large)")


def sse_step(A, psi, dW: float, k: float, dt: float) -> np.ndarray:
    """One Euler-Maruyama step of the stochastic Schroedinger equation of continuous measurement (eq. ch5-sse).

    psi + [-k (A - <A>)^2 dt + sqrt(2k) (A - <A>) dW] psi, with <A> in the (normalised) ``psi``: the
    measurement of ``A`` at rate ``k`` read every ``dt`` with a pointer of variance 1 / (8 k dt), the
    Wiener increment dW = xi sqrt(dt) from the reading q = <A> + xi / sqrt(8 k dt) (Jacobs and Steck 2006).
    The step is normalised in mean square (E|psi + dpsi|^2 = 1 + O(dt^2)), not exactly.
    """
    A, psi, y, y2, _, _ = _observable_moments(A, psi)
    dW = validate.real(dW, "dW")
    k = validate.real(k, "k", low=0)
    dt = validate.real(dt, "dt", low=0)
    with np.errstate(over="ignore", invalid="ignore"):
        out = psi - k * dt * y2 + math.sqrt(2 * k) * dW * y
    return validate.finite_result(out, "sse_step overflows (A, k, dt or dW too large)")


def averaged_state(A, psi, sigma: float, form: str = "kraus", nodes: int = 60) -> np.ndarray:
    """The density matrix after one reading, averaged over the readings: sum_q p(q) |psi_q><psi_q|.

    The reading has the density p(q) = sum_a |<a|psi>|^2 N(q; a, sigma^2) (eq. ch5-kraus); each component is
    integrated by Gauss-Hermite quadrature with ``nodes`` nodes, and psi_q is :func:`weak_update` of ``form``,
    normalised.  For "kraus" the exact answer is the dephased state rho_ab exp(-(a - b)^2 / (8 sigma^2)) in
    the eigenbasis of A - with sigma^2 = 1 / (8 k dt) the Lindblad step exp(-k (a - b)^2 dt) of eq. ch5-sme;
    the tests check the quadrature against it.  It is made for the weak limit: with sigma at least half the
    spread of A's eigenvalues, 60 nodes reach round-off; a narrower pointer makes psi_q turn within a width
    sigma^2 / (a - b) of q, and the quadrature then needs many more nodes.
    """
    form = validate.one_of(form, "form", WEAK_FORMS)
    A, psi, *_ = _observable_moments(A, psi)
    sigma = validate.real(sigma, "sigma", low=0, low_open=True)
    nodes = validate.integer(nodes, "nodes", low=2, high=400)
    from numpy.polynomial.hermite_e import hermegauss

    x, w = hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    a, V = np.linalg.eigh(A)
    weights = np.abs(V.conj().T @ psi) ** 2
    rho = np.zeros(A.shape, dtype=complex)
    for value, p in zip(a, weights):
        if p == 0:
            continue
        for node, wn in zip(x, w):
            v = weak_update(A, psi, float(value + sigma * node), sigma, form)
            v = v / np.linalg.norm(v)
            rho += p * wn * np.outer(v, v.conj())
    return validate.finite_result(rho, "averaged_state overflows")


# ----------------------------------------------------------------------------- kernels

def gaussian_kernel(X, Y, s: float) -> np.ndarray:
    """Gram matrix k(x_i, y_j) = exp(-|x_i - y_j|^2 / (2 s^2)); rows of X and Y are points."""
    X = validate.finite_array(X, "X", ndim=2)
    if X.shape[1] == 0:
        raise ValueError("X must have at least one coordinate (column)")
    Y = validate.finite_array(Y, "Y", ndim=2, shape=(None, X.shape[1]))
    s = validate.real(s, "s", low=0, low_open=True)
    if X.shape[0] * Y.shape[0] > MAX_ENTRIES:
        raise ValueError(f"X and Y: a {X.shape[0]} x {Y.shape[0]} Gram matrix exceeds MAX_ENTRIES = {MAX_ENTRIES}")
    from scipy.spatial.distance import cdist

    with np.errstate(over="ignore"):                           # distances, not |x|^2 + |y|^2 - 2 x.y: no cancellation
        z = cdist(X, Y) / s if X.size and Y.size else np.zeros((X.shape[0], Y.shape[0]))
        return np.exp(-0.5 * z**2)


def random_fourier_features(X, n_features: int, s: float, seed: int) -> np.ndarray:
    """z(x) = sqrt(2 / M) cos(omega . x + b), omega ~ N(0, I / s^2), b ~ U[0, 2 pi) (Rahimi and Recht 2007).

    By Bochner's theorem the Gaussian kernel is the Fourier transform of the Gaussian measure of
    omega, so E[z(x) . z(y)] = exp(-|x - y|^2 / (2 s^2)); the error falls as 1 / sqrt(M).
    """
    X = validate.finite_array(X, "X", ndim=2, empty=False)
    M = validate.integer(n_features, "n_features", low=1)
    if max(X.shape[0], X.shape[1]) * M > MAX_ENTRIES:
        raise ValueError(f"n_features = {M} for X of shape {X.shape}: the features exceed MAX_ENTRIES = {MAX_ENTRIES}")
    s = validate.real(s, "s", low=0, low_open=True)
    rng = np.random.default_rng(validate.seed(seed))
    with np.errstate(over="ignore", invalid="ignore"):
        omega = rng.normal(size=(X.shape[1], M)) / s
        phase = X @ omega
    validate.finite_result(phase, f"random_fourier_features: the phases omega . x overflow (s = {s:g} too small for X)")
    b = rng.uniform(0, 2 * np.pi, size=M)
    return np.sqrt(2.0 / M) * np.cos(phase + b)
