"""Path integrals with quadratic actions: Gaussian integrals, time slicing and closed forms (chapter 6).

A path integral with a quadratic action is a (limit of) Gaussian integral(s), and a Gaussian
integral is known in closed form (eq. ch6-gaussian).  This module computes

* :func:`gaussian_integral` - real and complex, with its log-determinant;
* the Ornstein-Uhlenbeck propagator (:func:`ou_propagator`, eq. ch6-ou) and its time-sliced
  approximations (:func:`time_sliced_propagator`, eq. ch6-slicing): Euler, midpoint with the
  Onsager-Machlup Jacobian term (eq. ch6-om), midpoint without it, and the exact one-step kernel
  - the intermediate points integrated out exactly, so the only error is the slicing's own;
* the fluctuation determinant of Gel'fand and Yaglom (:func:`gelfand_yaglom`, eq. ch6-gy, and for any
  Hermitian positive definite tridiagonal matrix :func:`tridiagonal_logdet`), the
  Mehler kernel of the harmonic oscillator (:func:`mehler_kernel`, eq. ch6-mehler) and the
  energy gap of the lattice oscillator (:func:`lattice_gap`, eq. ch6-lattice);
* chapter 7's action (eq. ch6-action) as a Gaussian path integral: its causal stationary point
  (:func:`filter_from_action`), its whole-path stationary point (:func:`smoother_from_action`)
  and its normalisation, the evidence (:func:`log_evidence`, eq. ch6-evidence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genphys import validate

__all__ = ["GaussianIntegral", "gaussian_integral", "ou_propagator", "SCHEMES", "time_sliced_propagator",
           "gelfand_yaglom", "mehler_kernel", "lattice_gap", "ModeAction", "filter_from_action",
           "smoother_from_action", "log_evidence", "tridiagonal_logdet"]


@dataclass(frozen=True)
class GaussianIntegral:
    """The value of a Gaussian integral as ``log_value`` (complex in general), its ``logdet`` and stationary point."""

    log_value: complex
    logdet: complex
    stationary_point: np.ndarray

    @property
    def value(self) -> complex:
        """exp(log_value); a ValueError where it lies beyond the float range (then use ``log_value``)."""
        if self.log_value.real > _LOG_MAX:
            raise ValueError(f"the integral's value e^{self.log_value.real:.6g} exceeds the float range; "
                             "use log_value")
        return complex(np.exp(self.log_value))


#: ln of the largest double: exp of anything above it overflows.
_LOG_MAX = math.log(np.finfo(float).max)


def gaussian_integral(A, b=None, c: complex = 0.0, *, field: str | None = None) -> GaussianIntegral:
    """Closed form of a Gaussian integral (eq. ch6-gaussian).

    ``field="real"``: int d^n x exp(-x^T A x / 2 + b^T x + c) = (2 pi)^{n/2} det(A_s)^{-1/2} exp(b^T A_s^-1 b / 2 + c)
    with A_s = (A + A^T) / 2, the symmetric part of A: x^T A x sees nothing else, so a non-symmetric A
    is replaced by A_s ([[1, 1], [-1, 1]] integrates like the identity, to 2 pi).  The real part of A_s
    must be positive definite; for a complex A_s, det(A_s)^{-1/2} is the branch continued from real
    A_s: the product of lambda_k^{-1/2} over its eigenvalues (all with positive real part).
    ``field="complex"``: int d^{2n} z exp(-z^H A z + b^H z + z^H b + c) = pi^n det(A)^-1 exp(b^H A^-1 b + c), A with positive
    definite Hermitian part (A itself need not be Hermitian).  The default is ``"complex"`` when A or b is complex.

    The determinant is taken of A / 2^k, 2^k about its largest entry (ln det A = n k ln 2 + ln det(A / 2^k)),
    so matrices of any magnitude give a finite ``log_value`` (1e-320 I included); a stationary point
    A^-1 b beyond the float range is a ValueError naming A and b.
    """
    complex_ = np.iscomplexobj(np.asarray(A)) or (b is not None and np.iscomplexobj(np.asarray(b)))
    if field is not None:
        validate.text(field, "field")
    field = validate.one_of(field or ("complex" if complex_ else "real"), "field", ("real", "complex"))
    A = validate.square_matrix(A, "A", dtype=complex)
    n = A.shape[0]
    if n == 0:
        raise ValueError("A must be at least 1x1 (an integral over at least one variable)")
    b = np.zeros(n) if b is None else validate.finite_array(b, "b", dtype=complex, shape=(n,))
    c = validate.number(c, "c")
    if field == "real":
        A = 0.5 * (A + A.T)                                     # x^T A x = x^T A_s x
    top = float(np.abs(A).max())
    if top == 0:
        raise ValueError("A is zero: the integral diverges (A must have a positive definite Hermitian part)")
    k = math.frexp(top)[1]                                      # scale by 2^k: exact, for any magnitude
    An = np.ldexp(A.real, -k) + 1j * np.ldexp(A.imag, -k)
    if np.linalg.eigvalsh(0.5 * (An + An.conj().T))[0] <= 0:
        raise ValueError("A must have a positive definite (Hermitian) part: the integral diverges otherwise")
    if field == "real" and np.any(An.imag):
        logdet_n = complex(np.sum(np.log(np.linalg.eigvals(An))))   # the branch continued from real A_s
    else:
        sign, logabs = np.linalg.slogdet(An if np.any(An.imag) else An.real)
        logdet_n = complex(logabs) + complex(np.log(sign))
    logdet = n * k * math.log(2.0) + logdet_n
    with np.errstate(over="ignore", invalid="ignore"):
        xn = np.linalg.solve(An, b)
        x = np.ldexp(xn.real, -k) + 1j * np.ldexp(xn.imag, -k)
        exponent = 0.5 * (b @ x) if field == "real" else b.conj() @ x
    validate.finite_result(np.append(x, exponent), "gaussian_integral: the stationary point A^-1 b or the exponent "
                                                   "b A^-1 b overflows (A nearly singular along b, or b too large)")
    if field == "real":
        log_value = 0.5 * n * math.log(2 * math.pi) - 0.5 * logdet + exponent + c
    else:
        log_value = n * math.log(math.pi) - logdet + exponent + c
    return GaussianIntegral(complex(log_value), complex(logdet), x)


# ----------------------------------------------------------------------------- Ornstein-Uhlenbeck

def _ou_args(t, gamma, D) -> tuple[float, float, float]:
    return (validate.real(t, "t", low=0, low_open=True), validate.real(gamma, "gamma", low=0, low_open=True),
            validate.real(D, "D", low=0, low_open=True))


def _log1mexp(x: float, log_x: float) -> float:
    """ln(1 - e^{-x}) for x >= 0, given x and ln x (which stays exact where x underflows)."""
    if x < 1e-280:
        return log_x                                            # 1 - e^{-x} = x (1 - x/2 ...) in doubles
    if x <= math.log(2):
        return math.log(-math.expm1(-x))
    return math.log1p(-math.exp(-x))


def _times_exp(x: float, log_factor: float) -> float:
    """x e^{log_factor} without overflow on the way (inf only where the product itself is beyond doubles)."""
    if x == 0:
        return 0.0
    lg = math.log(abs(x)) + log_factor
    return math.copysign(math.exp(lg) if lg < _LOG_MAX else math.inf, x)


def _log_gaussian(x1: float, x0_term: tuple[float, float], log_var: float, names: str) -> float:
    """ln N(x1; mean, var) with mean = x0 e^{log_mean} and var = e^{log_var}, formed as z = (x1 - mean) / sd."""
    x0, log_mean = x0_term
    z = _times_exp(x1, -0.5 * log_var) - _times_exp(x0, log_mean - 0.5 * log_var)
    if not math.isfinite(z):
        raise ValueError(f"{names}: (x1 - mean) / sd is beyond the float range")
    return -0.5 * z * z - 0.5 * math.log(2 * math.pi) - 0.5 * log_var


def _density(log_p: float, names: str) -> float:
    if log_p > _LOG_MAX:
        raise ValueError(f"{names}: the density e^{log_p:.6g} exceeds the float range (the variance is too small)")
    return math.exp(log_p)


def ou_propagator(x0: float, x1: float, t: float, gamma: float, D: float) -> float:
    """p(x1, t | x0, 0) of dx = -gamma x dt + sqrt(2 D) dW (eq. ch6-ou): a Gaussian with mean
    x0 e^{-gamma t} and variance D (1 - e^{-2 gamma t}) / gamma.

    Formed from logarithms (ln of the variance by ``expm1``), so it is the right double for every
    finite x0, x1 and positive t, gamma, D; a density beyond the float range is a ValueError naming D.
    """
    x0, x1 = validate.real(x0, "x0"), validate.real(x1, "x1")
    t, gamma, D = _ou_args(t, gamma, D)
    log_x = math.log(2.0) + math.log(gamma) + math.log(t)
    x = math.exp(log_x) if log_x < _LOG_MAX else math.inf
    log_var = math.log(D) - math.log(gamma) + _log1mexp(x, log_x)
    log_mean = -math.exp(log_x - math.log(2.0)) if log_x - math.log(2.0) < _LOG_MAX else -math.inf
    return _density(_log_gaussian(x1, (x0, log_mean), log_var, "ou_propagator (x0, x1, t, gamma, D)"),
                    "ou_propagator (D, gamma, t)")


#: Short-time kernels of :func:`time_sliced_propagator`.
SCHEMES = ("exact", "euler", "midpoint", "midpoint_no_jacobian")
#: Largest number of slices of :func:`time_sliced_propagator` and :func:`gelfand_yaglom`: a float counts it exactly.
MAX_SLICES = 2**53


def _one_step(scheme: str, h: float, log_h: float) -> tuple[float, float, float, float]:
    """The short-time kernel w N(x'; a x, s^2) of ``scheme`` with h = gamma eps, in logarithms:
    (ln|a|, sign a, ln(s^2 / (2 D eps)), ln w).  ln|a| is -inf for a = 0."""
    if scheme == "exact":                                   # x' = e^{-h} x + noise of variance D (1 - e^{-2h}) / gamma
        return -h, 1.0, _log1mexp(2 * h, math.log(2.0) + log_h) - math.log(2.0) - log_h, 0.0
    if scheme == "euler":                                   # x' = (1 - h) x + noise of variance 2 D eps
        m = 1.0 - h
        return (math.log1p(-h) if h < 1 else (math.log(abs(m)) if m else -math.inf)), math.copysign(1.0, m), 0.0, 0.0
    # midpoint: x' (1 + h/2) = x (1 - h/2) + noise of variance 2 D eps; the Jacobian (1 + h/2) makes w = 1
    m = 1.0 - 0.5 * h
    log_m = math.log1p(-0.5 * h) if h < 1 else (math.log(abs(m)) if m else -math.inf)
    log_p = math.log1p(0.5 * h)
    return log_m - log_p, math.copysign(1.0, m), -2 * log_p, (0.0 if scheme == "midpoint" else -log_p)


def _log_geometric(log_abs_a: float, N: int, neg_log_abs_a: tuple[float, float]) -> float:
    """ln sum_{k<N} a^{2k} for |a| = e^{log_abs_a}; ``neg_log_abs_a`` = (-ln|a|, ln(-ln|a|)) where ln|a| < 0."""
    if log_abs_a == -math.inf:
        return 0.0
    if log_abs_a == 0:
        return math.log(N)
    if log_abs_a < 0:
        y, log_y = neg_log_abs_a
        big = 2 * N * y
        return (_log1mexp(big, math.log(2 * N) + log_y)
                - _log1mexp(2 * y, math.log(2.0) + log_y))
    y = log_abs_a                                           # growth: e^{2(N-1) y} (1 - e^{-2Ny}) / (1 - e^{-2y})
    return 2 * (N - 1) * y + _log1mexp(2 * N * y, math.log(2 * N * y)) - _log1mexp(2 * y, math.log(2 * y))


def time_sliced_propagator(x0: float, x1: float, t: float, N: int, gamma: float = 1.0, D: float = 0.5,
                           scheme: str = "midpoint") -> float:
    """The Ornstein-Uhlenbeck propagator as N time slices with ``scheme``'s short-time kernel (eq. ch6-slicing).

    The N - 1 intermediate points are integrated out exactly (a Gaussian integral, eq. ch6-gaussian),
    so the result differs from :func:`ou_propagator` only by the error of the short-time kernel.
    ``"midpoint"`` carries the Jacobian of the midpoint map, 1 + gamma eps / 2, whose product over the
    slices is the Onsager-Machlup factor exp(-int f'/2 dt) = exp(gamma t / 2) (eq. ch6-om);
    ``"midpoint_no_jacobian"`` drops it.

    Each slice's kernel is w N(x'; a x, s^2); the integral over the tridiagonal chain x_1 .. x_{N-1} is
    done in closed form - eliminating one point after the other composes the Gaussians - to
    w^N N(x1; a^N x0, s^2 sum_{k<N} a^{2k}), in logarithms: O(1) for any N up to ``MAX_SLICES``, with no
    matrix and without the rounding of 1 - gamma eps next to 1.
    """
    x0, x1 = validate.real(x0, "x0"), validate.real(x1, "x1")
    t, gamma, D = _ou_args(t, gamma, D)
    N = validate.integer(N, "N", low=1, high=MAX_SLICES)
    scheme = validate.one_of(scheme, "scheme", SCHEMES)
    log_h = math.log(gamma) + math.log(t) - math.log(N)         # h = gamma eps, eps = t / N
    if log_h > 700:
        raise ValueError(f"gamma t / N = e^{log_h:.4g}: the step gamma eps is beyond the float range")
    h = math.exp(log_h)
    log_abs_a, sign, log_s2_rel, log_w = _one_step(scheme, h, log_h)
    log_s2 = math.log(2.0) + math.log(D) + math.log(t) - math.log(N) + log_s2_rel     # s^2 = 2 D eps e^{rel}
    if h < 1e-280:                                          # ln|a| = -h (1 + O(h)): keep ln h exact
        neg = (h, log_h)
    else:
        neg = (-log_abs_a, math.log(-log_abs_a)) if log_abs_a < 0 else (0.0, 0.0)
    log_var = log_s2 + _log_geometric(log_abs_a, N, neg)
    log_mean = N * log_abs_a if log_abs_a > -math.inf else -math.inf
    signed_x0 = x0 * (sign ** (N % 2))
    names = "time_sliced_propagator (x0, x1, t, N, gamma, D)"
    return _density(N * log_w + _log_gaussian(x1, (signed_x0, log_mean), log_var, names), names)


# ----------------------------------------------------------------------------- fluctuation determinant

def _log_sinhc(x: float) -> float:
    """ln(sinh(x) / x) for x >= 0, without overflow."""
    if x < 1e-4:
        return x * x / 6 - x**4 / 180
    if x < 20:
        return math.log(math.sinh(x) / x)
    return x - math.log(2.0) - math.log(x) + math.log1p(-math.exp(-2 * x))


def _sinhc(x: float) -> float:
    """sinh(x) / x for 0 <= x < 700."""
    return 1 + x * x / 6 + x**4 / 120 if x < 1e-4 else math.sinh(x) / x


def gelfand_yaglom(omega: float, T: float, N: int, *, log: bool = False) -> float:
    """det of the (N-1) x (N-1) tridiagonal matrix 2 + eps^2 omega^2 on the diagonal, -1 beside it, eps = T / N.

    The Gel'fand-Yaglom recursion D_k = (2 + eps^2 omega^2) D_{k-1} - D_{k-2}, D_0 = 1, D_{-1} = 0
    (eq. ch6-gy) is solved in closed form, D_k = sinh((k + 1) theta) / sinh(theta) with
    cosh(theta) = 1 + eps^2 omega^2 / 2, i.e. theta = 2 asinh(eps omega / 2) - an identity, so the small
    eps^2 omega^2 is never added to 2 and rounded away (the recursion in floats gives 1.18 for
    eps D at N = 10^7 where sinh(1) = 1.1752).  eps D_{N-1} tends to sinh(omega T) / omega;
    omega = 0 gives N exactly.  ``log=True`` returns ln det, finite for every omega T; without it a
    determinant beyond the float range (omega T above about 709) is a ValueError naming omega and T.
    ``N`` goes up to ``MAX_SLICES``; the cost is O(1).
    """
    omega = validate.real(omega, "omega", low=0)
    T = validate.real(T, "T", low=0, low_open=True)
    N = validate.integer(N, "N", low=1, high=MAX_SLICES)
    log = validate.flag(log, "log")
    wT = omega * T
    if not math.isfinite(wT):
        raise ValueError(f"omega T = {omega:g} x {T:g} overflows: the determinant is beyond the float range, "
                         "its logarithm too")
    if wT == 0:
        return math.log(N) if log else float(N)
    u = wT / (2 * N)                                            # eps omega / 2
    ratio = math.asinh(u) / u if u > 1e-8 else 1 - u * u / 6    # asinh(u) / u
    n_theta, theta = wT * ratio, 2 * u * ratio                  # N theta and theta, theta = 2 asinh(u)
    if log:
        return math.log(N) + _log_sinhc(n_theta) - _log_sinhc(theta)
    if n_theta < 700:
        return N * _sinhc(n_theta) / _sinhc(theta)
    log_det = math.log(N) + _log_sinhc(n_theta) - _log_sinhc(theta)
    if log_det > _LOG_MAX:
        raise ValueError(f"omega T = {wT:.6g}: the determinant e^{log_det:.6g} exceeds the float range; "
                         "pass log=True for its logarithm")
    return math.exp(log_det)


def tridiagonal_logdet(diagonal, off_diagonal) -> float:
    """ln det of a Hermitian positive definite tridiagonal matrix, by the Gel'fand-Yaglom recursion (eq. ch6-gy).

    ``diagonal`` (n real entries d_k) and ``off_diagonal`` (n - 1 entries e_k = M[k, k-1], complex allowed, so
    M[k-1, k] = conj(e_k)).  The determinants D_k of the leading k x k blocks obey the three-term recursion
    D_k = d_k D_{k-1} - |e_k|^2 D_{k-2} of Gel'fand and Yaglom; it is run on the ratios p_k = D_k / D_{k-1},
    p_k = d_k - |e_k|^2 / p_{k-1} (the pivots of the elimination), so that ln det = sum_k ln p_k never
    overflows.  For chapter 7's action (:class:`ModeAction`) the pivots are the Kalman filter's variances and
    the determinant is the normaliser of the evidence (eq. ch6-evidence).  A pivot that is not positive means
    the matrix is not positive definite: a ValueError.  O(n).
    """
    d = validate.finite_array(diagonal, "diagonal", ndim=1, empty=False)
    e = validate.finite_array(off_diagonal, "off_diagonal", dtype=complex, shape=(d.size - 1,))
    e2 = np.abs(e) ** 2
    total, pivot = 0.0, float(d[0])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(d.size):
            if k:
                pivot = float(d[k] - e2[k - 1] / pivot)
            if not (pivot > 0 and math.isfinite(pivot)):
                raise ValueError(f"diagonal and off_diagonal: pivot {k} of the elimination is {pivot:.6g}, "
                                 "so the matrix is not positive definite")
            total += math.log(pivot)
    return validate.finite_result(total, "tridiagonal_logdet overflows")


def mehler_kernel(xa, xb, t: float, omega: float, euclidean: bool = True, mass: float = 1.0,
                  hbar: float = 1.0):
    """The harmonic-oscillator propagator <xb| e^{-tH/hbar} |xa> (Euclidean) or <xb| e^{-itH/hbar} |xa> (eq. ch6-mehler).

    Euclidean: sqrt(m w / (2 pi hbar sinh w t)) exp(-m w [(xa^2 + xb^2) cosh w t - 2 xa xb] / (2 hbar sinh w t)).
    Real time: sinh -> i sin, cosh -> cos; valid for 0 < w t < pi (before the first caustic).
    ``xa`` and ``xb`` broadcast against each other.

    The Euclidean kernel is evaluated as exp of [ln prefactor - m w (xa - xb)^2 / (2 hbar sinh w t)
    - m w (xa^2 + xb^2) tanh(w t / 2) / (2 hbar)] (coth - csch = tanh(x/2): two terms >= 0, no
    cancellation, no overflow of sinh), so it is the right double for every finite input; it tends to
    the free kernel as w t -> 0.  A real-time kernel beyond the float range is a ValueError.
    """
    xa = validate.finite_array(xa, "xa")
    xb = validate.finite_array(xb, "xb")
    t = validate.real(t, "t", low=0, low_open=True)
    omega = validate.real(omega, "omega", low=0, low_open=True)
    mass = validate.real(mass, "mass", low=0, low_open=True)
    hbar = validate.real(hbar, "hbar", low=0, low_open=True)
    euclidean = validate.flag(euclidean, "euclidean")
    try:
        np.broadcast_shapes(xa.shape, xb.shape)
    except ValueError:
        raise ValueError(f"xa and xb must broadcast against each other, got shapes {xa.shape} and {xb.shape}") from None
    wt = omega * t
    if not math.isfinite(wt):
        raise ValueError(f"omega t = {omega:g} x {t:g} overflows")
    if euclidean:
        # m w / sinh(w t) = (m / t) (w t / sinh w t): ln of it and of m w tanh(w t / 2), never overflowing
        log_w_over_s = math.log(mass) - math.log(t) - _log_sinhc(wt)
        log_c2 = math.log(mass) + math.log(omega) + (math.log(math.tanh(0.5 * wt)) if wt > 1e-150
                                                       else math.log(0.5) + math.log(omega) + math.log(t))
        with np.errstate(over="ignore", invalid="ignore"):
            d = xa - xb
            k1 = math.exp(min(0.5 * (log_w_over_s - math.log(2 * hbar)), 700.0))
            k2 = math.exp(min(0.5 * (log_c2 - math.log(2 * hbar)), 700.0))
            term1 = np.where(d == 0, 0.0, (d * k1) ** 2)
            term2 = np.where(xa == 0, 0.0, (xa * k2) ** 2) + np.where(xb == 0, 0.0, (xb * k2) ** 2)
            log_pref = 0.5 * (log_w_over_s - math.log(2 * math.pi * hbar))
            if log_pref > _LOG_MAX:
                raise ValueError(f"mehler_kernel: the prefactor e^{log_pref:.6g} exceeds the float range "
                                 "(t too small for this mass and hbar)")
            return np.exp(log_pref - term1 - term2)
    if not 0 < wt < math.pi:
        raise ValueError(f"the real-time kernel is given for 0 < omega t < pi (before the first caustic), got {wt}")
    s, co = math.sin(wt), math.cos(wt)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = np.sqrt(mass * omega / (2j * math.pi * hbar * s)) * np.exp(
            1j * mass * omega * ((xa**2 + xb**2) * co - 2 * xa * xb) / (2 * hbar * s))
    return validate.finite_result(out, "mehler_kernel (real time): the kernel or its phase overflows "
                                       "(xa, xb, mass or omega too large, or hbar, t or pi - omega t too small)")


#: Smallest and largest a * omega of :func:`lattice_gap`: below, cosh(E a) - 1 = (a omega)^2 / 2 is lost next
#: to 1 in double precision; above, the correlator falls below the smallest double within one site.
LATTICE_A_OMEGA = (1e-3, 1e150)
#: Most sites of :func:`lattice_gap` (its tridiagonal solve is O(n_sites)).
MAX_SITES = 10**7


def lattice_gap(a: float, omega: float, n_sites: int = 400) -> float:
    """The energy gap read from the correlator of the Euclidean lattice oscillator (eq. ch6-lattice).

    Action S = sum_j [(x_{j+1} - x_j)^2 / (2 a) + a omega^2 x_j^2 / 2] on a periodic lattice of
    ``n_sites``: the correlator G(n) = <x_0 x_n> is cosh(E a (n - n_sites / 2)) up to a factor, so the
    gap is read as E = arccosh((G(n-1) + G(n+1)) / (2 G(n))) / a.  The exact lattice answer is
    arccosh(1 + a^2 omega^2 / 2) / a, which tends to omega as a -> 0.

    G is the first column of M^-1, M = tridiag(-1, 2 + (a omega)^2, -1) / a with periodic corners:
    by the ring's reflection symmetry G(n) = G(n_sites - n), so G(0..n_sites/2) solves a tridiagonal
    system (``scipy.linalg.solve_banded``, O(n_sites), n_sites up to ``MAX_SITES``).  The gap is read
    at n = n_sites // 4, or nearer the source where G there is below the smallest normal double.
    a * omega outside ``LATTICE_A_OMEGA`` is a ValueError naming a and omega.
    """
    from scipy.linalg import solve_banded

    a = validate.real(a, "a", low=0, low_open=True)
    omega = validate.real(omega, "omega", low=0, low_open=True)
    n_sites = validate.integer(n_sites, "n_sites", low=8, high=MAX_SITES)
    x = a * omega
    if not LATTICE_A_OMEGA[0] <= x <= LATTICE_A_OMEGA[1]:
        raise ValueError(f"a * omega = {a:g} x {omega:g} must lie in [{LATTICE_A_OMEGA[0]:g}, {LATTICE_A_OMEGA[1]:g}]: "
                         "below, cosh(E a) - 1 = (a omega)^2 / 2 is lost next to 1 in doubles; above, the "
                         "correlator underflows within one site")
    K = n_sites // 2                                            # unknowns G(0) .. G(K)
    d = 2.0 + x * x
    bands = np.zeros((3, K + 1))
    bands[0, 1:] = -1.0                                         # above the diagonal
    bands[1, :] = d
    bands[2, :-1] = -1.0                                        # below the diagonal
    bands[0, 1] = -2.0                                          # row 0: G(-1) = G(1)
    if n_sites % 2 == 0:
        bands[2, K - 1] = -2.0                                  # row K: G(K + 1) = G(K - 1)
    else:
        bands[1, K] = d - 1.0                                   # row K: G(K + 1) = G(K)
    rhs = np.zeros(K + 1)
    rhs[0] = max(1.0, x * x)                                    # G(0) of order 1 at every a omega
    G = solve_banded((1, 1), bands, rhs)
    n = n_sites // 4
    while n > 1 and not G[n + 1] > 1e-290:
        n -= 1
    return float(math.acosh((G[n - 1] + G[n + 1]) / (2 * G[n])) / a)


# ----------------------------------------------------------------------------- chapter 7's action

#: Largest real part of a mode's lam: e^{2 Re lam}, the growth of |psi|^2 per token, must be a double.
MAX_GROWTH_RATE = 350.0
#: Largest path of :meth:`ModeAction.quadratic_form`, a dense (T + 1) x (T + 1) matrix.
MAX_DENSE_PATH = 2048


@dataclass(frozen=True)
class ModeAction:
    """One complex mode of chapter 7 as a Gaussian path integral (eq. ch6-action).

    psi_t = e^lam psi_{t-1} + u_t + w_t, w_t circular complex with variance q; the context target
    c_t = psi_t + v_t with variance sigma2; psi_0 circular complex N(m0, p0); t = 1..T.  The action is
    S = |psi_0 - m0|^2 / p0 + sum_t |psi_t - e^lam psi_{t-1} - u_t|^2 / q + sum_t |c_t - psi_t|^2 / sigma2.
    ``lam``'s real part is at most ``MAX_GROWTH_RATE`` (e^{2 Re lam} must be a double).
    """

    c: np.ndarray
    lam: complex
    q: float
    sigma2: float
    u: np.ndarray
    m0: complex = 0.0
    p0: float = 1.0

    def __post_init__(self):
        c = validate.finite_array(self.c, "c", dtype=complex, ndim=1, empty=False)
        object.__setattr__(self, "c", c)
        u = np.zeros_like(c) if self.u is None else validate.finite_array(self.u, "u", dtype=complex, shape=c.shape)
        object.__setattr__(self, "u", u)
        lam = validate.number(self.lam, "lam")
        if lam.real > MAX_GROWTH_RATE:
            raise ValueError(f"lam has real part {lam.real:.6g} > {MAX_GROWTH_RATE:g}: the growth e^(2 Re lam) "
                             "per token is beyond the float range")
        object.__setattr__(self, "lam", lam)
        for name in ("q", "sigma2", "p0"):
            object.__setattr__(self, name, validate.real(getattr(self, name), name, low=0, low_open=True))
        object.__setattr__(self, "m0", validate.number(self.m0, "m0"))

    def quadratic_form(self, T: int) -> tuple[np.ndarray, np.ndarray, complex]:
        """(A, b, c0) with S = z^H A z - b^H z - z^H b + c0 over the path z = (psi_0 .. psi_T), T <= len(c).

        Dense, so T + 1 is at most ``MAX_DENSE_PATH``; the functions below never form it (they
        eliminate its tridiagonal in O(T)), it is there to be looked at and checked against.
        """
        T = validate.integer(T, "T", low=0, high=min(self.c.size, MAX_DENSE_PATH - 1))
        a = np.exp(self.lam)
        A = np.zeros((T + 1, T + 1), dtype=complex)
        b = np.zeros(T + 1, dtype=complex)
        A[0, 0] += 1 / self.p0
        b[0] += self.m0 / self.p0
        c0 = abs(self.m0) ** 2 / self.p0
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(1, T + 1):
                # |psi_t - a psi_{t-1} - u_t|^2 / q
                A[t, t] += 1 / self.q
                A[t - 1, t - 1] += abs(a) ** 2 / self.q
                A[t, t - 1] += -a / self.q
                A[t - 1, t] += -np.conj(a) / self.q
                b[t] += self.u[t - 1] / self.q
                b[t - 1] += -np.conj(a) * self.u[t - 1] / self.q
                c0 += abs(self.u[t - 1]) ** 2 / self.q
                # |c_t - psi_t|^2 / sigma2
                A[t, t] += 1 / self.sigma2
                b[t] += self.c[t - 1] / self.sigma2
                c0 += abs(self.c[t - 1]) ** 2 / self.sigma2
        validate.finite_result(np.append(A.ravel(), np.append(b, c0)),
                               "quadratic_form: an entry overflows (q, sigma2 or p0 too small, lam, c or u too large)")
        return A, b, c0

    def action(self, path) -> float:
        """S at ``path`` = (psi_0 .. psi_T), T = len(c): the sum of its non-negative terms."""
        z = validate.finite_array(path, "path", dtype=complex, shape=(self.c.size + 1,))
        a = np.exp(self.lam)
        with np.errstate(over="ignore", invalid="ignore"):
            total = (abs(z[0] - self.m0) ** 2 / self.p0 + float(np.sum(np.abs(z[1:] - a * z[:-1] - self.u) ** 2)) / self.q
                     + float(np.sum(np.abs(self.c - z[1:]) ** 2)) / self.sigma2)
        return validate.finite_result(float(total), "ModeAction.action overflows (path, c or u too large, "
                                                    "q, sigma2 or p0 too small)")


def _forward(action: ModeAction):
    """Eliminate psi_0, psi_1, ... in turn from the tridiagonal action (its LDL^H sweep, O(T)).

    Eliminating psi_0..psi_{t-1} from the action of the path up to t leaves one pivot on psi_t: the
    precision 1/V_t of psi_t given c_1..c_t, with right-hand side m_t / V_t.  The pivot recursion
    1/V_t = 1/sigma2 + 1/Pi_t, Pi_t = |e^lam|^2 V_{t-1} + q (and m_t alike) is written in the form without
    cancellation or overflow: the gain g = 1 / (1 + sigma2 / Pi_t), m_t = (1 - g) (e^lam m_{t-1} + u_t) + g c_t.
    Returns (m_0..m_T, V_0..V_T, ln Pi_1..ln Pi_T); V_0 = p0, m_0 = m0.
    """
    a = np.exp(action.lam)
    log_aa = 2 * action.lam.real
    T = action.c.size
    m = np.empty(T + 1, dtype=complex)
    V = np.empty(T + 1)
    log_pi = np.empty(T)
    m[0], V[0] = action.m0, action.p0
    s2, log_q = action.sigma2, math.log(action.q)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(1, T + 1):
            log_pi[t - 1] = lp = np.logaddexp(log_aa + math.log(V[t - 1]), log_q) if V[t - 1] > 0 else log_q
            ratio = math.exp(math.log(s2) - lp) if math.log(s2) - lp < _LOG_MAX else math.inf   # sigma2 / Pi
            g, rest = 1.0 / (1.0 + ratio), ratio / (1.0 + ratio) if ratio < math.inf else 1.0       # g, 1 - g
            m[t] = rest * (a * m[t - 1] + action.u[t - 1]) + g * action.c[t - 1]
            V[t] = s2 * g if ratio <= 1 else math.exp(lp) * rest                                     # Pi sigma2 / (Pi + sigma2)
    validate.finite_result(m, "the filtered means overflow (c, u or m0 too large for this lam)")
    return m, V, log_pi


def filter_from_action(action: ModeAction) -> np.ndarray:
    """psi_t minimising the action of the path up to t, for t = 1..T: the causal (filtered) mean.

    For each t the action restricted to psi_0..psi_t is quadratic; its stationary point's last
    component is E[psi_t | c_1..c_t] - what a model may use at token t.  All T of them come from one
    forward elimination of the tridiagonal action (:func:`_forward`), O(T), at every allowed lam.
    """
    validate.instance(action, "action", ModeAction)
    return _forward(action)[0][1:]


def _smoothed_path(action: ModeAction) -> np.ndarray:
    """The stationary point psi_0..psi_T of the whole action: forward elimination, then back substitution
    psi_t = [q m_t + conj(e^lam) V_t (psi_{t+1} - u_{t+1})] / Pi_{t+1} (the RTS smoother, written without the
    cancellation of m_t + J (psi_{t+1} - e^lam m_t - u_{t+1}) at large |e^lam|)."""
    m, V, log_pi = _forward(action)
    a = np.exp(action.lam)
    log_q = math.log(action.q)
    z = m.copy()
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(action.c.size - 1, -1, -1):
            J = np.conj(a) * math.exp(math.log(V[t]) - log_pi[t]) if V[t] > 0 else 0.0
            z[t] = math.exp(log_q - log_pi[t]) * m[t] + J * (z[t + 1] - action.u[t])
    return validate.finite_result(z, "the smoothed path overflows (c, u or m0 too large for this lam)")


def smoother_from_action(action: ModeAction) -> np.ndarray:
    """psi_1..psi_T minimising the action of the whole path: E[psi_t | c_1..c_T], which uses the future.

    The tridiagonal system A z = b is solved by the forward elimination of :func:`filter_from_action`
    and one back substitution, O(T).
    """
    validate.instance(action, "action", ModeAction)
    return _smoothed_path(action)[1:]


def log_evidence(action: ModeAction) -> float:
    """ln p(c_1..c_T) = ln int D psi exp(-S) times the densities' normalisations (eq. ch6-evidence).

    The prior, each transition and each observation are circular complex Gaussians, with factors
    1/(pi p0), 1/(pi q), 1/(pi sigma2); the path integral over psi_0..psi_T is the Gaussian
    integral pi^{T+1} det(A)^-1 exp(b^H A^-1 b - c0).  It is evaluated through the elimination of
    :func:`filter_from_action`: det A is the product of its pivots, which with the normalisations
    leaves -T ln pi - sum_t ln(Pi_t + sigma2), and b^H A^-1 b - c0 = -S at the stationary path.
    """
    validate.instance(action, "action", ModeAction)
    T = action.c.size
    _, _, log_pi = _forward(action)
    log_det_part = float(np.sum(np.logaddexp(log_pi, math.log(action.sigma2))))
    value = -T * math.log(math.pi) - log_det_part - action.action(_smoothed_path(action))
    return validate.finite_result(value, "log_evidence overflows")
