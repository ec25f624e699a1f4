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

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.linalg

from genphys import validate
from genphys.spectral import classify_modes

#: Largest number of entries of a dense result (propagators, features, reconstructions): 2^25.
MAX_ENTRIES = 2**25

__all__ = ["propagator", "continuous_time", "DMDResult", "dmd", "edmd", "dmd_control", "ControlResult", "hankel", "monomials",
           "Monomials", "SlowManifold", "slow_manifold", "classify_modes"]


def propagator(generator, t) -> np.ndarray:
    """exp(t K) for every t (eq. ch4-propagator): shape (T, n) for a diagonal generator given as its
    eigenvalues (1-d), (T, n, n) for a matrix generator; a scalar t drops the first axis."""
    K = validate.finite_array(generator, "generator", dtype=complex, ndim=(1, 2), empty=False)
    times = validate.finite_array(t, "t", ndim=(0, 1), empty=False)
    ts = np.atleast_1d(times)
    if K.ndim == 2:
        K = validate.square_matrix(K, "generator")
    if ts.size * K.size > MAX_ENTRIES:
        raise ValueError(f"t and generator: {ts.size} propagators of {K.size} entries exceed MAX_ENTRIES = {MAX_ENTRIES}")
    with np.errstate(over="ignore", invalid="ignore"):
        if K.ndim == 1:
            out = np.exp(ts[:, None] * K[None, :])
        else:
            out = np.stack([scipy.linalg.expm(s * K) for s in ts])
    validate.finite_result(out, "propagator: exp(t generator) overflows (t or the generator's growth too large)")
    return out[0] if times.ndim == 0 else out


def continuous_time(eigs, dt: float) -> np.ndarray:
    """lambda = log(mu) / dt: continuous-time eigenvalues of one-step multipliers mu (principal branch).

    Elementwise, any shape; mu = 0 (a mode gone in one step) gives -inf, its rate.
    """
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
        if n_steps * max(self.modes.shape[0], self.eigs.size, 1) > MAX_ENTRIES:
            raise ValueError(f"n_steps = {n_steps}: the reconstruction exceeds MAX_ENTRIES = {MAX_ENTRIES}")
        with np.errstate(over="ignore", invalid="ignore"):
            powers = self.eigs[:, None] ** np.arange(n_steps)[None, :]
            out = self.modes @ (self.amplitudes[:, None] * powers)
        return validate.finite_result(out, f"reconstruct: mu^j overflows within n_steps = {n_steps} (a growing mode)")


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

    ``dictionary`` maps states of shape (dim, n) to features (n_features, n); ``Y=None`` pairs
    X[:, :-1] -> X[:, 1:] as in :func:`dmd`.  If the dictionary
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
    X = validate.finite_array(X, "X", dtype=complex if np.iscomplexobj(X) else float, ndim=(1, 2), empty=False)
    X = X[None, :] if X.ndim == 1 else X
    d = validate.integer(d, "d", low=1, high=X.shape[1])
    return np.vstack([X[:, i:X.shape[1] - d + 1 + i] for i in range(d)])


@dataclass(frozen=True)
class Monomials:
    """All monomials x^alpha with |alpha| <= degree, the constant included: a dictionary for :func:`edmd`."""

    degree: int

    def __post_init__(self):
        object.__setattr__(self, "degree", validate.integer(self.degree, "degree", low=0))

    def count(self, dim: int) -> int:
        """The number of monomials in ``dim`` variables, C(dim + degree, degree)."""
        return math.comb(validate.integer(dim, "dim", low=1) + self.degree, self.degree)

    def powers(self, dim: int) -> list[tuple[int, ...]]:
        """The exponent vectors alpha, by total degree, then lexicographically (the constant first).

        At most ``MAX_MONOMIALS`` of them: more is a ValueError naming the degree and dim.
        """
        dim = validate.integer(dim, "dim", low=1)
        count = math.comb(dim + self.degree, self.degree) if min(dim, self.degree) < 200 else math.inf
        if count > MAX_MONOMIALS:
            raise ValueError(f"degree {self.degree} in dim = {dim} variables gives C(dim + degree, degree) = "
                             f"{count:,} monomials, above MAX_MONOMIALS = {MAX_MONOMIALS:,}; lower the degree")

        def of_total(total: int, k: int):
            if k == 1:
                yield (total,)
                return
            for first in range(total, -1, -1):                # lexicographically decreasing
                for rest in of_total(total - first, k - 1):
                    yield (first,) + rest
        return [alpha for total in range(self.degree + 1) for alpha in of_total(total, dim)]

    def __call__(self, X) -> np.ndarray:
        X = validate.finite_array(X, "X", dtype=complex if np.iscomplexobj(X) else float, ndim=2)
        if X.shape[0] == 0:
            raise ValueError("X must have at least one variable (row)")
        powers = self.powers(X.shape[0])
        if len(powers) * X.shape[1] > MAX_ENTRIES:
            raise ValueError(f"X has {X.shape[1]} snapshots: {len(powers)} features of each exceed MAX_ENTRIES = {MAX_ENTRIES}")
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.stack([np.prod(X ** np.array(alpha)[:, None], axis=0) for alpha in powers])
        return validate.finite_result(out, f"monomials of degree {self.degree} overflow: X's entries are too large")


#: Most monomials a :class:`Monomials` dictionary makes (646,646 for degree 12 in 10 variables is refused).
MAX_MONOMIALS = 10_000


def monomials(degree: int) -> Monomials:
    """The dictionary of all monomials up to ``degree`` (C(dim + degree, degree) features, at most ``MAX_MONOMIALS``)."""
    return Monomials(validate.integer(degree, "degree", low=0))


@dataclass(frozen=True)
class SlowManifold:
    """x' = mu x, y' = lam (y - x^2): a nonlinear flow with a finite invariant Koopman subspace (x, y, x^2).

    With |lam| >> |mu| trajectories fall fast onto the slow manifold y = b x^2, b = lam / (lam - 2 mu).
    """

    mu: float
    lam: float

    def __post_init__(self):
        object.__setattr__(self, "mu", validate.real(self.mu, "mu"))
        object.__setattr__(self, "lam", validate.real(self.lam, "lam"))
        if self.lam == 2 * self.mu:
            raise ValueError("lam must differ from 2 mu (the slow manifold y = b x^2 needs b = lam / (lam - 2 mu))")

    @property
    def b(self) -> float:
        """The slope of the slow manifold y = b x^2."""
        return self.lam / (self.lam - 2 * self.mu)

    def flow(self, x0, y0, t) -> np.ndarray:
        """The exact solution (x(t), y(t)), shape (2, T): x0 e^{mu t}, (y0 - b x0^2) e^{lam t} + b x0^2 e^{2 mu t}."""
        x0, y0 = validate.real(x0, "x0"), validate.real(y0, "y0")
        t = validate.finite_array(t, "t", ndim=1)
        x0_, y0_ = np.float64(x0), np.float64(y0)
        with np.errstate(over="ignore", invalid="ignore"):
            x = x0_ * np.exp(self.mu * t)
            y = (y0_ - self.b * x0_**2) * np.exp(self.lam * t) + self.b * x0_**2 * np.exp(2 * self.mu * t)
        return validate.finite_result(np.vstack([x, y]), "SlowManifold.flow overflows (x0, y0 or t too large)")

    def generator(self) -> np.ndarray:
        """The Koopman generator on (x, y, x^2) (eq. ch4-lift): d/dt (x, y, x^2) = K (x, y, x^2)."""
        mu, lam = self.mu, self.lam
        return np.array([[mu, 0.0, 0.0], [0.0, lam, -lam], [0.0, 0.0, 2 * mu]])

    @staticmethod
    def lift(states) -> np.ndarray:
        """(x, y) -> (x, y, x^2), columnwise."""
        states = validate.finite_array(states, "states", ndim=2, shape=(2, None))
        with np.errstate(over="ignore"):
            out = np.vstack([states, states[:1] ** 2])
        return validate.finite_result(out, "SlowManifold.lift: x^2 overflows (states too large)")

    def generator_eigenvalues(self, max_degree: int = 2) -> np.ndarray:
        """i mu + j lam for i + 2 j <= max_degree: the Koopman eigenvalues of the eigenfunctions x^i (y - b x^2)^j
        (polynomials of degree <= max_degree when y counts as degree 2); ``max_degree`` at most 1000."""
        max_degree = validate.integer(max_degree, "max_degree", low=0, high=1000)
        return np.array(sorted({i * self.mu + j * self.lam
                                for i in range(max_degree + 1) for j in range(max_degree // 2 + 1)
                                if i + 2 * j <= max_degree}))


def slow_manifold(mu: float = -0.05, lam: float = -1.0) -> SlowManifold:
    """The slow-manifold system x' = mu x, y' = lam (y - x^2) (eq. ch4-slow)."""
    return SlowManifold(mu, lam)
