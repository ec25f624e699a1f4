"""Koopman propagators: linear evolution of observables, and its data-driven approximations (chapter 4).

For a flow x' = f(x) the Koopman generator K acts on observables g by Kg = f . grad g; it is
linear however nonlinear f is, and its propagator exp(tK) moves observables forward in time
(chapter 4, eq. ch4-koopman).  On a finite *invariant* subspace of observables, spanned by a
dictionary psi(x), it is a matrix: d psi / dt = K psi, psi(t) = exp(tK) psi(0) (eq. ch4-propagator).

From snapshots, the one-step matrix is estimated by least squares:

* :func:`dmd` - exact dynamic mode decomposition (Tu et al. 2014) on the observed state itself
  (eq. ch4-dmd);
* :func:`edmd` - extended DMD on a dictionary of observables (Williams et al. 2015; eq. ch4-edmd);
* :func:`dmd_control` - DMD with control, x' = A x + B u (Proctor et al. 2016; eq. ch4-dmdc);
* :func:`hankel` - delay embedding, so that DMD sees the state through a few scalar readouts
  (eq. ch4-hankel).

Snapshots are **columns** (the PyDMD convention): ``X`` has shape (n_observables, n_snapshots).
Discrete-time eigenvalues mu_k of the one-step matrix give continuous-time ones
lambda_k = log(mu_k) / dt; their real parts are sorted by :func:`genphys.spectral.classify_modes`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.linalg

from genphys import validate
from genphys.spectral import classify_modes

__all__ = ["propagator", "continuous_time", "DMDResult", "dmd", "edmd", "dmd_control", "ControlResult", "hankel", "monomials",
           "Monomials", "SlowManifold", "slow_manifold", "classify_modes"]


def propagator(generator, t) -> np.ndarray:
    """exp(t K) for every t (eq. ch4-propagator): shape (T, n) for a diagonal generator given as its
    eigenvalues (1-d), (T, n, n) for a matrix generator; a scalar t drops the first axis."""
    K = validate.finite_array(generator, "generator", dtype=complex, ndim=(1, 2), empty=False)
    times = validate.finite_array(t, "t", ndim=(0, 1))
    ts = np.atleast_1d(times)
    if K.ndim == 1:
        out = np.exp(ts[:, None] * K[None, :])
    else:
        K = validate.square_matrix(K, "generator")
        out = np.stack([scipy.linalg.expm(s * K) for s in ts])
    return out[0] if times.ndim == 0 else out


def continuous_time(eigs, dt: float) -> np.ndarray:
    """lambda = log(mu) / dt: continuous-time eigenvalues of one-step multipliers mu (principal branch)."""
    mu = validate.finite_array(eigs, "eigs", dtype=complex)
    with np.errstate(divide="ignore"):
        return np.log(mu) / validate.real(dt, "dt", low=0, low_open=True)


@dataclass(frozen=True)
class DMDResult:
    """A one-step Koopman matrix estimated from data, and its spectrum.

    ``eigs``: discrete-time eigenvalues mu_k; ``modes``: their eigenvectors in the observed (or
    dictionary) coordinates, columns; ``amplitudes``: the first snapshot in the modes' basis;
    ``operator``: the (reduced) one-step matrix; ``dt``: the time between snapshots.
    """

    eigs: np.ndarray
    modes: np.ndarray
    amplitudes: np.ndarray
    operator: np.ndarray
    dt: float

    @property
    def continuous_eigs(self) -> np.ndarray:
        """lambda_k = log(mu_k) / dt (principal branch): rates Re lambda_k, frequencies Im lambda_k."""
        return continuous_time(self.eigs, self.dt)

    def reconstruct(self, n_steps: int) -> np.ndarray:
        """Snapshots 0 .. n_steps - 1 predicted by the modes: sum_k modes_k mu_k^j b_k."""
        n_steps = validate.integer(n_steps, "n_steps", low=1)
        powers = self.eigs[:, None] ** np.arange(n_steps)[None, :]
        return self.modes @ (self.amplitudes[:, None] * powers)


def _pairs(X, Y, name: str = "X"):
    X = validate.finite_array(X, name, dtype=complex, ndim=2)
    if Y is None:
        if X.shape[1] < 2:
            raise ValueError(f"{name} needs at least 2 snapshots (columns), got {X.shape[1]}")
        return X[:, :-1], X[:, 1:]
    Y = validate.finite_array(Y, "Y", dtype=complex, ndim=2)
    if Y.shape != X.shape:
        raise ValueError(f"Y must have the shape of {name}, {X.shape}; got {Y.shape}")
    if X.shape[1] < 1:
        raise ValueError(f"{name} needs at least one snapshot")
    return X, Y


def _rank(rank, largest: int) -> int:
    if rank is None:
        return largest
    return validate.integer(rank, "rank", low=1, high=largest)


def _real_if_real(*arrays) -> tuple:
    """Hand real data back as real where the estimate is real (complex data stays complex)."""
    return tuple(a.real if np.iscomplexobj(a) and not np.any(a.imag) else a for a in arrays)


def dmd(X, Y=None, rank: int | None = None, dt: float = 1.0) -> DMDResult:
    """Exact DMD (eq. ch4-dmd): Y ~ A X with A = Y X^+, reduced to the leading ``rank`` POD modes of X.

    With X = U S V^H (rank r), A_tilde = U^H Y V S^-1 and its eigenpairs (mu, w) give the
    exact DMD modes phi = Y V S^-1 w / mu (Tu et al. 2014).  ``Y=None`` pairs X[:, :-1] -> X[:, 1:].
    """
    X, Y = _pairs(X, Y)
    dt = validate.real(dt, "dt", low=0, low_open=True)
    U, s, Vh = np.linalg.svd(X, full_matrices=False)
    r = _rank(rank, int(np.sum(s > s[0] * 1e-12)) if s.size and s[0] > 0 else 1)
    U, s, V = U[:, :r], s[:r], Vh[:r].conj().T
    if s[-1] == 0:
        raise ValueError("X has no non-zero singular value: the snapshots are all zero")
    A_tilde = U.conj().T @ Y @ V / s
    mu, W = np.linalg.eig(A_tilde)
    safe = np.where(np.abs(mu) > 0, mu, 1.0)
    modes = (Y @ V / s) @ W / safe
    amplitudes = np.linalg.lstsq(modes, X[:, 0], rcond=None)[0]
    return DMDResult(mu, modes, amplitudes, A_tilde, dt)


def edmd(X, Y, dictionary: Callable[[np.ndarray], np.ndarray], dt: float = 1.0) -> DMDResult:
    """Extended DMD (eq. ch4-edmd): K = Psi_Y Psi_X^+ on the features psi = ``dictionary``(x).

    ``dictionary`` maps states of shape (dim, n) to features (n_features, n).  If the dictionary
    spans an invariant subspace and the data determine it, K is the Koopman matrix restricted to
    it: psi(x_{t+1}) = K psi(x_t) exactly; ``modes`` are K's eigenvectors in feature coordinates.
    """
    if not callable(dictionary):
        raise TypeError(f"dictionary must be callable (states (dim, n) -> features), got {type(dictionary).__name__}")
    X, Y = _pairs(X, Y)
    dt = validate.real(dt, "dt", low=0, low_open=True)
    PX = validate.finite_array(dictionary(X), "dictionary(X)", dtype=complex, ndim=2)
    PY = validate.finite_array(dictionary(Y), "dictionary(Y)", dtype=complex, ndim=2)
    if PX.shape != PY.shape or PX.shape[1] != X.shape[1]:
        raise ValueError(f"dictionary must map (dim, n) states to (n_features, n); got {PX.shape} and {PY.shape}")
    K = PY @ np.linalg.pinv(PX, rcond=1e-13)
    mu, W = np.linalg.eig(K)
    amplitudes = np.linalg.lstsq(W, PX[:, 0], rcond=None)[0]
    return DMDResult(mu, W, amplitudes, K, dt)


@dataclass(frozen=True)
class ControlResult:
    """x_{t+1} = A x_t + B u_t estimated from data (eq. ch4-dmdc), and the spectrum of A."""

    A: np.ndarray
    B: np.ndarray
    eigs: np.ndarray
    dt: float

    @property
    def continuous_eigs(self) -> np.ndarray:
        """lambda_k = log(mu_k) / dt of the eigenvalues of A."""
        return continuous_time(self.eigs, self.dt)


def dmd_control(X, Y, U, rank: int | None = None, dt: float = 1.0) -> ControlResult:
    """DMD with control (eq. ch4-dmdc): [A B] = Y [X; U]^+, with the stacked data truncated to ``rank``.

    ``X``, ``Y``: (n, m) states before and after each step; ``U``: (q, m) the inputs of each step.
    Needs m >= n + q snapshots that excite every direction for A and B to be determined.
    """
    X, Y = _pairs(X, Y)
    U = validate.finite_array(U, "U", dtype=complex, ndim=2)
    if U.shape[1] != X.shape[1]:
        raise ValueError(f"U must have one column per snapshot pair ({X.shape[1]}), got {U.shape[1]}")
    dt = validate.real(dt, "dt", low=0, low_open=True)
    omega = np.vstack([X, U])
    Uo, s, Vh = np.linalg.svd(omega, full_matrices=False)
    r = _rank(rank, int(np.sum(s > s[0] * 1e-12)))
    G = Y @ (Vh[:r].conj().T / s[:r]) @ Uo[:, :r].conj().T
    n = X.shape[0]
    A, B = G[:, :n], G[:, n:]
    A, B = _real_if_real(A, B)
    return ControlResult(A, B, np.linalg.eigvals(A), dt)


def hankel(X, d: int) -> np.ndarray:
    """Delay embedding (eq. ch4-hankel): rows [x_t; x_{t+1}; ...; x_{t+d-1}] for t = 0 .. n - d.

    ``X``: (m, n) snapshots (a 1-d series is one row); returns (m d, n - d + 1).
    """
    X = validate.finite_array(X, "X", dtype=complex if np.iscomplexobj(X) else float, ndim=(1, 2))
    X = X[None, :] if X.ndim == 1 else X
    d = validate.integer(d, "d", low=1, high=X.shape[1])
    return np.vstack([X[:, i:X.shape[1] - d + 1 + i] for i in range(d)])


@dataclass(frozen=True)
class Monomials:
    """All monomials x^alpha with |alpha| <= degree, the constant included: a dictionary for :func:`edmd`."""

    degree: int

    def powers(self, dim: int) -> list[tuple[int, ...]]:
        """The exponent vectors alpha, by total degree, then lexicographically (the constant first)."""
        dim = validate.integer(dim, "dim", low=1)
        return [alpha for total in range(self.degree + 1)
                for alpha in sorted(itertools.product(range(total + 1), repeat=dim), reverse=True)
                if sum(alpha) == total]

    def __call__(self, X) -> np.ndarray:
        X = validate.finite_array(X, "X", dtype=complex if np.iscomplexobj(X) else float, ndim=2)
        return np.stack([np.prod(X ** np.array(alpha)[:, None], axis=0) for alpha in self.powers(X.shape[0])])


def monomials(degree: int) -> Monomials:
    """The dictionary of all monomials up to ``degree`` (C(dim + degree, degree) features)."""
    return Monomials(validate.integer(degree, "degree", low=0))


@dataclass(frozen=True)
class SlowManifold:
    """x' = mu x, y' = lam (y - x^2): a nonlinear flow with a finite invariant Koopman subspace (x, y, x^2).

    With |lam| >> |mu| trajectories fall fast onto the slow manifold y = b x^2, b = lam / (lam - 2 mu).
    """

    mu: float
    lam: float

    @property
    def b(self) -> float:
        """The slope of the slow manifold y = b x^2."""
        return self.lam / (self.lam - 2 * self.mu)

    def flow(self, x0, y0, t) -> np.ndarray:
        """The exact solution (x(t), y(t)), shape (2, T): x0 e^{mu t}, (y0 - b x0^2) e^{lam t} + b x0^2 e^{2 mu t}."""
        x0, y0 = validate.real(x0, "x0"), validate.real(y0, "y0")
        t = validate.finite_array(t, "t", ndim=1)
        x = x0 * np.exp(self.mu * t)
        y = (y0 - self.b * x0**2) * np.exp(self.lam * t) + self.b * x0**2 * np.exp(2 * self.mu * t)
        return np.vstack([x, y])

    def generator(self) -> np.ndarray:
        """The Koopman generator on (x, y, x^2) (eq. ch4-lift): d/dt (x, y, x^2) = K (x, y, x^2)."""
        mu, lam = self.mu, self.lam
        return np.array([[mu, 0.0, 0.0], [0.0, lam, -lam], [0.0, 0.0, 2 * mu]])

    @staticmethod
    def lift(states) -> np.ndarray:
        """(x, y) -> (x, y, x^2), columnwise."""
        states = validate.finite_array(states, "states", ndim=2, shape=(2, None))
        return np.vstack([states, states[:1] ** 2])

    def generator_eigenvalues(self, max_degree: int = 2) -> np.ndarray:
        """i mu + j lam for i + 2 j <= max_degree: the Koopman eigenvalues of the eigenfunctions x^i (y - b x^2)^j
        (polynomials of degree <= max_degree when y counts as degree 2)."""
        return np.array(sorted({i * self.mu + j * self.lam
                                for i in range(max_degree + 1) for j in range(max_degree // 2 + 1)
                                if i + 2 * j <= max_degree}))


def slow_manifold(mu: float = -0.05, lam: float = -1.0) -> SlowManifold:
    """The slow-manifold system x' = mu x, y' = lam (y - x^2) (eq. ch4-slow)."""
    mu, lam = validate.real(mu, "mu"), validate.real(lam, "lam")
    if lam == 2 * mu:
        raise ValueError("lam must differ from 2 mu (the slow manifold y = b x^2 needs b = lam / (lam - 2 mu))")
    return SlowManifold(mu, lam)
