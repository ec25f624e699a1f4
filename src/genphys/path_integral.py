"""Path integrals with quadratic actions: Gaussian integrals, time slicing and closed forms (chapter 6).

A path integral with a quadratic action is a (limit of) Gaussian integral(s), and a Gaussian
integral is known in closed form (eq. ch6-gaussian).  This module computes

* :func:`gaussian_integral` - real and complex, with its log-determinant;
* the Ornstein-Uhlenbeck propagator (:func:`ou_propagator`, eq. ch6-ou) and its time-sliced
  approximations (:func:`time_sliced_propagator`, eq. ch6-slicing): Euler, midpoint with the
  Onsager-Machlup Jacobian term (eq. ch6-om), midpoint without it, and the exact one-step kernel
  - the intermediate points integrated out exactly, so the only error is the slicing's own;
* the fluctuation determinant of Gel'fand and Yaglom (:func:`gelfand_yaglom`, eq. ch6-gy), the
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
           "smoother_from_action", "log_evidence"]


@dataclass(frozen=True)
class GaussianIntegral:
    """The value of a Gaussian integral as ``log_value`` (complex in general), its ``logdet`` and stationary point."""

    log_value: complex
    logdet: complex
    stationary_point: np.ndarray

    @property
    def value(self) -> complex:
        return complex(np.exp(self.log_value))


def gaussian_integral(A, b=None, c: complex = 0.0, *, field: str | None = None) -> GaussianIntegral:
    """Closed form of a Gaussian integral (eq. ch6-gaussian).

    ``field="real"``: int d^n x exp(-x^T A x / 2 + b^T x + c) = (2 pi)^{n/2} det(A)^{-1/2} exp(b^T A^-1 b / 2 + c),
    A symmetric with positive definite real part.  ``field="complex"``:
    int d^{2n} z exp(-z^H A z + b^H z + z^H b + c) = pi^n det(A)^-1 exp(b^H A^-1 b + c), A with positive
    definite Hermitian part.  The default is ``"complex"`` when A or b is complex.
    """
    complex_ = np.iscomplexobj(np.asarray(A)) or (b is not None and np.iscomplexobj(np.asarray(b)))
    field = validate.one_of(field or ("complex" if complex_ else "real"), "field", ("real", "complex"))
    A = validate.square_matrix(A, "A", dtype=complex)
    n = A.shape[0]
    b = np.zeros(n) if b is None else validate.finite_array(b, "b", dtype=complex, shape=(n,))
    if np.isscalar(c) and not isinstance(c, (bool, np.bool_)) and np.isfinite(c):
        c = complex(c)
    else:
        raise ValueError(f"c must be a finite number, got {c!r}")
    herm = 0.5 * (A + A.conj().T) if field == "complex" else 0.5 * (A + A.T).real
    if n and np.linalg.eigvalsh(herm)[0] <= 0:
        raise ValueError("A must have a positive definite (Hermitian) part: the integral diverges otherwise")
    sign, logabs = np.linalg.slogdet(A)
    logdet = complex(logabs) + complex(np.log(sign))
    x = np.linalg.solve(A, b)
    if field == "real":
        log_value = 0.5 * n * math.log(2 * math.pi) - 0.5 * logdet + 0.5 * (b @ x) + c
    else:
        log_value = n * math.log(math.pi) - logdet + (b.conj() @ x) + c
    return GaussianIntegral(complex(log_value), logdet, x)


# ----------------------------------------------------------------------------- Ornstein-Uhlenbeck

def _ou_args(t, gamma, D) -> tuple[float, float, float]:
    return (validate.real(t, "t", low=0, low_open=True), validate.real(gamma, "gamma", low=0, low_open=True),
            validate.real(D, "D", low=0, low_open=True))


def ou_propagator(x0: float, x1: float, t: float, gamma: float, D: float) -> float:
    """p(x1, t | x0, 0) of dx = -gamma x dt + sqrt(2 D) dW (eq. ch6-ou): a Gaussian with mean
    x0 e^{-gamma t} and variance D (1 - e^{-2 gamma t}) / gamma."""
    x0, x1 = validate.real(x0, "x0"), validate.real(x1, "x1")
    t, gamma, D = _ou_args(t, gamma, D)
    var = D * -math.expm1(-2 * gamma * t) / gamma
    return math.exp(-(x1 - x0 * math.exp(-gamma * t)) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)


#: Short-time kernels of :func:`time_sliced_propagator`.
SCHEMES = ("exact", "euler", "midpoint", "midpoint_no_jacobian")


def _one_step(scheme: str, eps: float, gamma: float, D: float) -> tuple[float, float, float, float]:
    """(p, m, var, log_prefactor) of a kernel exp(-(p x' - m x)^2 / (2 var)) * exp(log_prefactor)."""
    if scheme == "exact":
        var = D * -math.expm1(-2 * gamma * eps) / gamma
        return 1.0, math.exp(-gamma * eps), var, -0.5 * math.log(2 * math.pi * var)
    var = 2 * D * eps
    norm = -0.5 * math.log(2 * math.pi * var)
    if scheme == "euler":                                   # x' = x - gamma x eps + noise
        return 1.0, 1.0 - gamma * eps, var, norm
    p = 1.0 + 0.5 * gamma * eps                              # x' p = x (1 - gamma eps / 2) + noise
    jacobian = math.log(p) if scheme == "midpoint" else 0.0    # det d(noise)/dx' = exp(-eps f'/2) + O(eps^2)
    return p, 1.0 - 0.5 * gamma * eps, var, norm + jacobian


def time_sliced_propagator(x0: float, x1: float, t: float, N: int, gamma: float = 1.0, D: float = 0.5,
                           scheme: str = "midpoint") -> float:
    """The Ornstein-Uhlenbeck propagator as N time slices with ``scheme``'s short-time kernel (eq. ch6-slicing).

    The N - 1 intermediate points are integrated out exactly (a Gaussian integral, eq. ch6-gaussian),
    so the result differs from :func:`ou_propagator` only by the error of the short-time kernel.
    ``"midpoint"`` carries the Jacobian of the midpoint map, 1 + gamma eps / 2, whose product over the
    slices is the Onsager-Machlup factor exp(-int f'/2 dt) = exp(gamma t / 2) (eq. ch6-om);
    ``"midpoint_no_jacobian"`` drops it.
    """
    x0, x1 = validate.real(x0, "x0"), validate.real(x1, "x1")
    t, gamma, D = _ou_args(t, gamma, D)
    N = validate.integer(N, "N", low=1)
    scheme = validate.one_of(scheme, "scheme", SCHEMES)
    p, m, var, log_pref = _one_step(scheme, t / N, gamma, D)
    # exponent sum_i -(p x_{i+1} - m x_i)^2 / (2 var) over x_0 .. x_N; interior x_1..x_{N-1} integrated
    n = N - 1
    A = np.zeros((n, n))
    b = np.zeros(n)
    for i in range(n):                                      # interior point x_{i+1}
        A[i, i] = (p * p + m * m) / var
        if i + 1 < n:
            A[i, i + 1] = A[i + 1, i] = -p * m / var
    if n:
        b[0] += p * m * x0 / var
        b[-1] += p * m * x1 / var
    c = -(p * x1 - m * x0) ** 2 / (2 * var) if n == 0 else -(m * x0) ** 2 / (2 * var) - (p * x1) ** 2 / (2 * var)
    log_value = N * log_pref + (gaussian_integral(A, b, c, field="real").log_value.real if n else c)
    return math.exp(log_value)


# ----------------------------------------------------------------------------- fluctuation determinant

def gelfand_yaglom(omega: float, T: float, N: int) -> float:
    """det of the (N-1) x (N-1) tridiagonal matrix 2 + eps^2 omega^2 on the diagonal, -1 beside it, eps = T / N.

    Computed by the Gel'fand-Yaglom recursion D_k = (2 + eps^2 omega^2) D_{k-1} - D_{k-2}, D_0 = 1
    (eq. ch6-gy); eps D_{N-1} tends to sinh(omega T) / omega.
    """
    omega = validate.real(omega, "omega", low=0)
    T = validate.real(T, "T", low=0, low_open=True)
    N = validate.integer(N, "N", low=1)
    eps = T / N
    diag = 2 + (eps * omega) ** 2
    prev, cur = 0.0, 1.0
    for _ in range(N - 1):
        prev, cur = cur, diag * cur - prev
    return cur


def mehler_kernel(xa, xb, t: float, omega: float, euclidean: bool = True, mass: float = 1.0,
                  hbar: float = 1.0):
    """The harmonic-oscillator propagator <xb| e^{-tH/hbar} |xa> (Euclidean) or <xb| e^{-itH/hbar} |xa> (eq. ch6-mehler).

    Euclidean: sqrt(m w / (2 pi hbar sinh w t)) exp(-m w [(xa^2 + xb^2) cosh w t - 2 xa xb] / (2 hbar sinh w t)).
    Real time: sinh -> i sin, cosh -> cos; valid for 0 < w t < pi (before the first caustic).
    ``xa`` and ``xb`` broadcast against each other.
    """
    xa = validate.finite_array(xa, "xa")
    xb = validate.finite_array(xb, "xb")
    t = validate.real(t, "t", low=0, low_open=True)
    omega = validate.real(omega, "omega", low=0, low_open=True)
    mass = validate.real(mass, "mass", low=0, low_open=True)
    hbar = validate.real(hbar, "hbar", low=0, low_open=True)
    euclidean = validate.flag(euclidean, "euclidean")
    wt = omega * t
    if euclidean:
        s, co = math.sinh(wt), math.cosh(wt)
        return np.sqrt(mass * omega / (2 * math.pi * hbar * s)) * np.exp(
            -mass * omega * ((xa**2 + xb**2) * co - 2 * xa * xb) / (2 * hbar * s))
    if not 0 < wt < math.pi:
        raise ValueError(f"the real-time kernel is given for 0 < omega t < pi (before the first caustic), got {wt}")
    s, co = math.sin(wt), math.cos(wt)
    return np.sqrt(mass * omega / (2j * math.pi * hbar * s)) * np.exp(
        1j * mass * omega * ((xa**2 + xb**2) * co - 2 * xa * xb) / (2 * hbar * s))


def lattice_gap(a: float, omega: float, n_sites: int = 400) -> float:
    """The energy gap read from the correlator of the Euclidean lattice oscillator (eq. ch6-lattice).

    Action S = sum_j [(x_{j+1} - x_j)^2 / (2 a) + a omega^2 x_j^2 / 2] on a periodic lattice of
    ``n_sites``: the correlator G(n) = <x_0 x_n> is cosh(E a (n - n_sites / 2)) up to a factor, so the
    gap is read as E = arccosh((G(n-1) + G(n+1)) / (2 G(n))) / a.  The exact lattice answer is
    arccosh(1 + a^2 omega^2 / 2) / a, which tends to omega as a -> 0.
    """
    a = validate.real(a, "a", low=0, low_open=True)
    omega = validate.real(omega, "omega", low=0, low_open=True)
    n_sites = validate.integer(n_sites, "n_sites", low=8)
    M = np.zeros((n_sites, n_sites))
    idx = np.arange(n_sites)
    M[idx, idx] = 2 / a + a * omega**2
    M[idx, (idx + 1) % n_sites] = M[(idx + 1) % n_sites, idx] = -1 / a
    G = np.linalg.inv(M)[0]                                   # <x_0 x_n> of exp(-x^T M x / 2)
    n = n_sites // 4                                          # G(n) ~ cosh(E a (n - n_sites / 2)) on the ring
    return float(math.acosh((G[n - 1] + G[n + 1]) / (2 * G[n])) / a)


# ----------------------------------------------------------------------------- chapter 7's action

@dataclass(frozen=True)
class ModeAction:
    """One complex mode of chapter 7 as a Gaussian path integral (eq. ch6-action).

    psi_t = e^lam psi_{t-1} + u_t + w_t, w_t circular complex with variance q; the context target
    c_t = psi_t + v_t with variance sigma2; psi_0 circular complex N(m0, p0); t = 1..T.  The action is
    S = |psi_0 - m0|^2 / p0 + sum_t |psi_t - e^lam psi_{t-1} - u_t|^2 / q + sum_t |c_t - psi_t|^2 / sigma2.
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
        lam = complex(self.lam) if np.isscalar(self.lam) and np.isfinite(self.lam) else None
        if lam is None:
            raise ValueError(f"lam must be a finite number, got {self.lam!r}")
        object.__setattr__(self, "lam", lam)
        for name in ("q", "sigma2", "p0"):
            object.__setattr__(self, name, validate.real(getattr(self, name), name, low=0, low_open=True))
        m0 = complex(self.m0) if np.isscalar(self.m0) and np.isfinite(self.m0) else None
        if m0 is None:
            raise ValueError(f"m0 must be a finite number, got {self.m0!r}")
        object.__setattr__(self, "m0", m0)

    def quadratic_form(self, T: int) -> tuple[np.ndarray, np.ndarray, complex]:
        """(A, b, c0) with S = z^H A z - b^H z - z^H b + c0 over the path z = (psi_0 .. psi_T)."""
        a = np.exp(self.lam)
        A = np.zeros((T + 1, T + 1), dtype=complex)
        b = np.zeros(T + 1, dtype=complex)
        A[0, 0] += 1 / self.p0
        b[0] += self.m0 / self.p0
        c0 = abs(self.m0) ** 2 / self.p0
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
        return A, b, c0


def filter_from_action(action: ModeAction) -> np.ndarray:
    """psi_t minimising the action of the path up to t, for t = 1..T: the causal (filtered) mean.

    For each t the action restricted to psi_0..psi_t is quadratic; its stationary point's last
    component is E[psi_t | c_1..c_t] - what a model may use at token t.
    """
    validate.instance(action, "action", ModeAction)
    T = action.c.size
    out = np.empty(T, dtype=complex)
    for t in range(1, T + 1):
        A, b, _ = ModeAction(action.c[:t], action.lam, action.q, action.sigma2, action.u[:t], action.m0,
                             action.p0).quadratic_form(t)
        out[t - 1] = np.linalg.solve(A, b)[-1]
    return out


def smoother_from_action(action: ModeAction) -> np.ndarray:
    """psi_1..psi_T minimising the action of the whole path: E[psi_t | c_1..c_T], which uses the future."""
    validate.instance(action, "action", ModeAction)
    A, b, _ = action.quadratic_form(action.c.size)
    return np.linalg.solve(A, b)[1:]


def log_evidence(action: ModeAction) -> float:
    """ln p(c_1..c_T) = ln int D psi exp(-S) times the densities' normalisations (eq. ch6-evidence).

    The prior, each transition and each observation are circular complex Gaussians, with factors
    1/(pi p0), 1/(pi q), 1/(pi sigma2); the path integral over psi_0..psi_T is the Gaussian
    integral pi^{T+1} det(A)^-1 exp(b^H A^-1 b - c0).
    """
    validate.instance(action, "action", ModeAction)
    T = action.c.size
    A, b, c0 = action.quadratic_form(T)
    norm = -math.log(math.pi * action.p0) - T * (math.log(math.pi * action.q) + math.log(math.pi * action.sigma2))
    return float((gaussian_integral(A, b, -c0, field="complex").log_value + norm).real)
