"""Open quantum systems in continuous time: the GKSL (Lindblad) master equation (chapter 3).

The master equation

    d rho / dt = L rho = -i [H, rho] + sum_k D[c_k] rho,
    D[c] rho = c rho c^dag - 1/2 {c^dag c, rho}                      (chapter 3, eq. ch3-gksl)

is a linear ODE on density matrices.  Superoperators act on the **column-stacked**
vectorisation (as QuTiP): ``vec(rho)[a + d*b] = rho[a, b]``, so that
``vec(A rho B) = (B^T kron A) vec(rho)``  (chapter 3, eq. ch3-vec); the vectorisation and the
Kraus / superoperator / Choi conversions live in :mod:`genphys.channels`.

Propagation methods (``evolve``), chosen by :func:`choose_method`:

* ``"step"``  - one dense matrix exponential ``P = exp(dt L)`` of the grid step, then
  ``vec rho_{k+1} = P vec rho_k`` (repeated, batched matrix products).  Exact to
  round-off; the expm costs O(d^6), so it is used while it is the cheaper of ``step`` and
  ``krylov`` by the cost model of :func:`choose_method` (small d, few times, stiff L).  The T - 1
  products are done by doubling (``out[m:2m] = P^m out[:m]``): log2 T BLAS calls.
* ``"eig"``   - ``L = V diag(lambda) V^-1``: every time at once; for non-uniform grids,
  used only when ``V`` is well conditioned.
* ``"krylov"`` - restarted Arnoldi with a sparse ``L`` on a uniform grid: one Krylov space
  serves every grid point its error estimate allows (their coefficients by powers of the small
  exp(dt H_m), the states by one matrix product with the basis); used for large Hilbert spaces.
* ``"expm_multiply"`` - scipy's action of ``exp(tL)`` on the states (Al-Mohy & Higham 2011)
  with a sparse ``L``: for large Hilbert spaces on non-uniform grids.

Qubit convention (QuTiP's): index 0 is the excited ("up") state, index 1 the ground state,
``sigma_z = diag(1, -1)``, lowering operator ``sigma_- = |1><0|``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from genphys import spectral, validate
from genphys.channels import superoperator_dim, unvec, vec

__all__ = ["DENSE_MAX", "DENSE_LIMIT", "KRYLOV_COLUMN_COST", "KRYLOV_RESTART_COST", "EIG_COND_MAX", "MAX_TRAJECTORIES", "KRYLOV_DIM", "as_operator", "check_hermitian",
           "check_density_matrix", "check_jump_operators", "TRACE_RTOL", "spre", "spost", "sprepost", "dissipator",
           "liouvillian", "adjoint_liouvillian", "apply_super", "is_uniform", "choose_method", "evolve",
           "evolve_torch", "steady_state", "Spectrum", "classify_eigenvalues", "spectrum", "purity",
           "von_neumann_entropy", "bloch_vector", "pure_state", "JumpResult", "no_jump_probability", "quantum_jumps",
           "OpenSystem", "amplitude_damping", "dephasing", "driven_damped_qubit", "destroy", "damped_oscillator",
           "spin_chain"]

#: Largest Liouvillian dimension d^2 for which ``evolve`` uses dense matrix exponentials when
#: nothing else is known of the problem (see :func:`choose_method`; set from
#: benchmarks/lindblad_vs_qutip.py: beyond it the sparse action is faster).
DENSE_MAX = 64
#: Largest Liouvillian dimension d^2 for which :func:`choose_method` ever considers a dense method
#: (a dense d^2 x d^2 propagator of 2048^2 complex numbers is 64 MiB).
DENSE_LIMIT = 2048
#: Condition number of the eigenvector matrix above which eigen-decomposition is not trusted.
EIG_COND_MAX = 1e6
#: Most trajectories of one :func:`quantum_jumps` call.
MAX_TRAJECTORIES = 10**6
#: Krylov dimension and a-posteriori error tolerance (on ||vec rho||_2) of the ``krylov`` method.
KRYLOV_DIM = 32
KRYLOV_TOL = 1e-12
#: Cost model of :func:`choose_method`, in complex multiply-adds: the fixed (Python and call
#: overhead) cost of one Arnoldi column, measured with one BLAS thread (benchmarks/lindblad_vs_qutip.py).
KRYLOV_COLUMN_COST = 2e5
#: Cost model of :func:`choose_method`: the fixed cost of one Krylov restart (small expm, powers, output).
KRYLOV_RESTART_COST = 1e6

SIGMA_X = np.array([[0, 1], [1, 0]], dtype=complex)
SIGMA_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
SIGMA_Z = np.array([[1, 0], [0, -1]], dtype=complex)
SIGMA_MINUS = np.array([[0, 0], [1, 0]], dtype=complex)


# ----------------------------------------------------------------------------- validation

def as_operator(op, name: str = "operator", dim: int | None = None) -> np.ndarray:
    """``op`` as a finite complex square matrix, at least 1 x 1 (of size ``dim`` if given), or a clear error."""
    if dim is not None:
        dim = validate.integer(dim, "dim", low=1)
    arr = validate.square_matrix(op, name)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must be at least 1x1")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must be {dim}x{dim} (dim = {dim}), got {arr.shape[0]}x{arr.shape[0]}")
    return arr


def check_hermitian(op, name: str = "H", atol: float = 1e-10) -> np.ndarray:
    """Return ``op`` if ``||op - op^dag||_max <= atol`` (a Hamiltonian); else ValueError with the size."""
    arr = as_operator(op, name)
    atol = validate.real(atol, "atol", low=0)
    gap = float(np.max(np.abs(arr - arr.conj().T))) if arr.size else 0.0
    if gap > atol:
        raise ValueError(f"{name} is not Hermitian: max |{name} - {name}^dag| = {gap:.3g} > atol {atol:g}")
    return arr


def check_density_matrix(rho, name: str = "rho", atol: float = 1e-8) -> np.ndarray:
    """Return ``rho`` (shape (d, d) or (B, d, d)) if Hermitian, PSD and of unit trace within ``atol``.

    A density matrix satisfies rho = rho^dag, rho >= 0, Tr rho = 1 (see the notation page).
    """
    arr = validate.finite_array(rho, name, dtype=complex, ndim=(2, 3))
    atol = validate.real(atol, "atol", low=0)
    if arr.shape[-1] != arr.shape[-2] or arr.size == 0:
        raise ValueError(f"{name} must have shape (d, d) or (batch, d, d) with d >= 1, got {arr.shape}")
    herm = float(np.max(np.abs(arr - np.swapaxes(arr, -1, -2).conj())))
    if herm > atol:
        raise ValueError(f"{name} is not Hermitian: max |{name} - {name}^dag| = {herm:.3g} > atol {atol:g}")
    trace_err = float(np.max(np.abs(np.trace(arr, axis1=-2, axis2=-1) - 1)))
    if trace_err > atol:
        raise ValueError(f"{name} does not have unit trace: max |Tr {name} - 1| = {trace_err:.3g} > atol {atol:g}")
    lowest = float(np.min(np.linalg.eigvalsh(arr)))
    if lowest < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue {lowest:.3g} < -{atol:g}")
    return arr


def check_jump_operators(c_ops, dim: int) -> tuple[np.ndarray, ...]:
    """The jump operators as a tuple of d x d complex matrices (any number, including none; None means none)."""
    dim = validate.integer(dim, "dim", low=1)
    if c_ops is None:
        return ()
    if isinstance(c_ops, np.ndarray) and c_ops.ndim == 2 or scipy.sparse.issparse(c_ops):
        raise TypeError("c_ops must be a sequence of matrices; wrap a single jump operator in a list")
    if isinstance(c_ops, (str, bytes)) or not isinstance(c_ops, (Sequence, np.ndarray)):
        raise TypeError(f"c_ops must be a sequence of matrices, got {type(c_ops).__name__}")
    return tuple(as_operator(c, f"c_ops[{k}]", dim) for k, c in enumerate(c_ops))


def _as_liouvillian(L, name: str = "L"):
    """A dense complex array or a sparse CSR matrix, validated as d^2 x d^2."""
    if scipy.sparse.issparse(L):
        L = scipy.sparse.csr_matrix(L, dtype=complex)
        if not np.all(np.isfinite(L.data)):
            raise ValueError(f"{name} holds NaN or infinite entries")
    else:
        L = validate.finite_array(L, name, dtype=complex, ndim=2)
    superoperator_dim(L, name)
    return L


#: Relative tolerance of the trace preservation of a generator: max |vec(I)^T L| <= TRACE_RTOL max |L|.
TRACE_RTOL = 1e-10


def _check_trace_preserving(L, name: str = "L") -> None:
    """ValueError unless d Tr(rho)/dt = vec(I)^T L vec(rho) = 0 for every rho, i.e. L^T vec(I) = 0."""
    stack = L if not scipy.sparse.issparse(L) and L.ndim == 3 else [L]
    for k, Lk in enumerate(stack):
        d = superoperator_dim(Lk, name)
        row = np.asarray(Lk.T @ vec(np.eye(d))).ravel()
        scale = float(abs(Lk).max()) if scipy.sparse.issparse(Lk) else float(np.abs(Lk).max())
        err = float(np.abs(row).max())
        if err > TRACE_RTOL * scale:
            which = f"{name}[{k}]" if len(stack) > 1 else name
            raise ValueError(f"{which} does not preserve the trace: max |vec(I)^T {name}| = {err:.3g} "
                             f"({err / scale:.3g} of its largest entry); a GKSL generator has vec(I)^T L = 0")


# ----------------------------------------------------------------------------- vectorisation

def _kron(a, b, sparse: bool):
    return scipy.sparse.kron(a, b, format="csr") if sparse else np.kron(a, b)


def spre(A, sparse: bool = False):
    """Superoperator of rho -> A rho:  I kron A  (column stacking)."""
    A, sparse = as_operator(A, "A"), validate.flag(sparse, "sparse")
    return _kron(np.eye(A.shape[0]), A, sparse)


def spost(B, sparse: bool = False):
    """Superoperator of rho -> rho B:  B^T kron I."""
    B, sparse = as_operator(B, "B"), validate.flag(sparse, "sparse")
    return _kron(B.T, np.eye(B.shape[0]), sparse)


def sprepost(A, B, sparse: bool = False):
    """Superoperator of rho -> A rho B:  B^T kron A  (chapter 3, eq. ch3-vec)."""
    A, sparse = as_operator(A, "A"), validate.flag(sparse, "sparse")
    B = as_operator(B, "B")
    if B.shape != A.shape:
        raise ValueError(f"A and B must have one size, got A {A.shape[0]}x{A.shape[0]} and B {B.shape[0]}x{B.shape[0]}")
    return _kron(B.T, A, sparse)


def dissipator(c, sparse: bool = False):
    """D[c] rho = c rho c^dag - (c^dag c rho + rho c^dag c)/2 as a superoperator (chapter 3, eq. ch3-gksl)."""
    c, sparse = as_operator(c, "c"), validate.flag(sparse, "sparse")
    with np.errstate(over="ignore", invalid="ignore"):
        cdc = validate.finite_result(c.conj().T @ c, "dissipator: c^dag c overflows (c too large)")
    return sprepost(c, c.conj().T, sparse) - 0.5 * spre(cdc, sparse) - 0.5 * spost(cdc, sparse)


def liouvillian(H, c_ops: Sequence = (), *, sparse: bool = False):
    """The GKSL generator L = -i[H, .] + sum_k D[c_k] as a d^2 x d^2 matrix (chapter 3, eq. ch3-vec).

    ``sparse=True`` returns a scipy CSR matrix (for large d); otherwise a dense array.
    """
    H = check_hermitian(H, "H")
    sparse = validate.flag(sparse, "sparse")
    ops = check_jump_operators(c_ops, H.shape[0])
    L = -1j * (spre(H, sparse) - spost(H, sparse))
    for c in ops:
        L = L + dissipator(c, sparse)
    _finite_generator(L)
    return L


def _finite_generator(L) -> None:
    data = L.data if scipy.sparse.issparse(L) else L
    validate.finite_result(data, "the generator overflows (H or c_ops too large)")


def adjoint_liouvillian(H, c_ops: Sequence = (), *, sparse: bool = False):
    """The Heisenberg generator: dA/dt = i[H, A] + sum_k (c_k^dag A c_k - {c_k^dag c_k, A}/2).

    It is the Hilbert-Schmidt adjoint, Tr[A^dag L(rho)] = Tr[(L^dag A)^dag rho], so its matrix
    equals ``liouvillian(H, c_ops).conj().T`` (chapter 3, after eq. ch3-vec).
    """
    H = check_hermitian(H, "H")
    sparse = validate.flag(sparse, "sparse")
    ops = check_jump_operators(c_ops, H.shape[0])
    L = 1j * (spre(H, sparse) - spost(H, sparse))
    for c in ops:
        with np.errstate(over="ignore", invalid="ignore"):
            cdc = validate.finite_result(c.conj().T @ c, "c_ops: c^dag c overflows (a jump operator too large)")
        L = L + sprepost(c.conj().T, c, sparse) - 0.5 * spre(cdc, sparse) - 0.5 * spost(cdc, sparse)
    _finite_generator(L)
    return L


def apply_super(S, rho) -> np.ndarray:
    """S(rho) = unvec(S vec(rho)) for density matrices of shape (d, d) or (B, d, d)."""
    S = _as_liouvillian(S, "S")
    rho = validate.finite_array(rho, "rho", dtype=complex, ndim=(2, 3))
    d = superoperator_dim(S, "S")
    if rho.shape[-2:] != (d, d):
        raise ValueError(f"rho must be {d}x{d} (S acts on d = {d}), got shape {rho.shape}")
    v = vec(rho)
    flat = v.reshape(-1, v.shape[-1])
    return unvec(np.asarray((S @ flat.T).T).reshape(v.shape))


# ----------------------------------------------------------------------------- evolution

def _check_times(times) -> np.ndarray:
    t = validate.finite_array(times, "times", ndim=1, empty=False)
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.all(np.isfinite(np.diff(t))):
            raise ValueError("times: the steps between times overflow")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    return t


def is_uniform(times, rtol: float = 1e-10) -> bool:
    """Whether the grid has one step (within ``rtol`` of the span)."""
    t = _check_times(times)
    rtol = validate.real(rtol, "rtol", low=0)
    if t.size < 3:
        return True
    steps = np.diff(t)
    return bool(np.max(np.abs(steps - steps[0])) <= rtol * (t[-1] - t[0]))


def choose_method(n: int, uniform: bool, *, n_times: int | None = None, nnz: int | None = None,
                  norm_span: float | None = None) -> str:
    """Propagation method for a Liouvillian of size n = d^2 (chapter 3; measured in benchmarks/lindblad_vs_qutip.py).

    The rule: the method with the smaller estimated cost, both being exact to round-off.

    * Non-uniform grid: ``eig`` for n <= DENSE_MAX (one eigen-decomposition serves every time;
      ``evolve`` falls back to one ``expm`` per distinct step when the eigenvectors are ill
      conditioned), ``expm_multiply`` (sparse) above.
    * Uniform grid of ``n_times`` = T points, with ``nnz`` nonzeros in L and ``norm_span`` =
      ||L||_1 (t_last - t_0) (how far, in units of L's largest rate, the state must be carried):
      the dense ``step`` method costs about n^3 (6 + log2 T) (one expm, the doubling squarings)
      + n^2 T (the products with the states); restarted ``krylov`` with basis size m = KRYLOV_DIM
      about c (nnz + m n + KRYLOV_COLUMN_COST) + (c / m) KRYLOV_RESTART_COST + T m n, where
      c = m + norm_span Arnoldi columns carry the state over the span.  ``step`` is chosen when
      cheaper (and n <= DENSE_LIMIT): small n, few output times, or a stiff L (large
      norm_span: many Krylov columns) whose dense propagator is still cheap.
    * Without ``nnz`` and ``norm_span`` (n_times alone does not decide): ``step`` for
      n <= DENSE_MAX, ``krylov`` above.
    """
    n, uniform = validate.integer(n, "n", low=1), validate.flag(uniform, "uniform")
    if n_times is not None:
        n_times = validate.integer(n_times, "n_times", low=1)
    if nnz is not None:
        nnz = validate.integer(nnz, "nnz", low=0)
    if norm_span is not None:
        norm_span = validate.real(norm_span, "norm_span", low=0)
    if not uniform:
        return "eig" if n <= DENSE_MAX else "expm_multiply"
    if nnz is None or norm_span is None or n > DENSE_LIMIT:
        return "step" if n <= DENSE_MAX else "krylov"
    cost_step, cost_krylov = _costs(n, n_times or 1000, nnz, norm_span)
    return "step" if cost_step <= cost_krylov else "krylov"


def _costs(n: int, n_times: int, nnz: int, norm_span: float) -> tuple[float, float]:
    """Estimated costs (complex multiply-adds) of ``step`` and ``krylov`` on a uniform grid (:func:`choose_method`)."""
    m = min(KRYLOV_DIM, n)
    step = n ** 3 * (6 + np.log2(max(n_times, 2))) + n * n * n_times
    columns = m + norm_span
    krylov = columns * (nnz + m * n + KRYLOV_COLUMN_COST) + columns / m * KRYLOV_RESTART_COST + n_times * m * n
    return float(step), float(krylov)


def _eig(L: np.ndarray):
    lam, V = np.linalg.eig(L)
    return lam, V, np.linalg.cond(V)


def _powers_into(P: np.ndarray, out: np.ndarray) -> None:
    """out[k] = P^k out[0] for all k, by doubling: out[m:2m] = P^m out[:m] (log2 T matrix products).

    ``out`` has shape (T, n, B).  One BLAS product per doubling instead of T small ones; the
    squarings P^m add O(n^3 log T).
    """
    T, n, B = out.shape
    filled, Pm = 1, P
    while filled < T:
        m = min(filled, T - filled)
        block = out[:m].transpose(1, 0, 2).reshape(n, m * B)
        out[filled:filled + m] = (Pm @ block).reshape(n, m, B).transpose(1, 0, 2)
        filled += m
        if filled < T:
            Pm = Pm @ Pm


def _csr_matvec(A: scipy.sparse.csr_matrix):
    """y = A x for a CSR matrix, without scipy's per-call dispatch (a Krylov step is overhead-bound for small n)."""
    try:
        from scipy.sparse._sparsetools import csr_matvec
    except ImportError:                                     # pragma: no cover - a future scipy without it
        return A.dot
    n_rows, n_cols = A.shape
    indptr, indices, data = A.indptr, A.indices, A.data

    def matvec(x: np.ndarray) -> np.ndarray:
        y = np.zeros(n_rows, dtype=complex)
        csr_matvec(n_rows, n_cols, indptr, indices, data, x, y)
        return y
    return matvec


def _arnoldi(A, v: np.ndarray, m: int, matvec=None):
    """Orthonormal Krylov basis Q (k, n) (rows) of span{v, Av, ..., A^(k-1) v}, Hessenberg H (k+1, k).

    Classical Gram-Schmidt, repeated once where the projection removed most of A q_j (the
    Daniel-Gragg-Kaufman-Stewart criterion, so orthogonal to round-off as CGS2); stops early at an invariant
    subspace (then H[k, k-1] = 0 and the Krylov approximation is exact).
    """
    matvec = matvec or A.dot
    Q = np.empty((m + 1, v.shape[0]), dtype=complex)
    Qc = np.empty((m + 1, v.shape[0]), dtype=complex)                 # conj(Q): <q_i, w> = Qc @ w
    H = np.zeros((m + 1, m), dtype=complex)
    beta = np.linalg.norm(v)
    if not np.isfinite(beta):
        raise ValueError("evolve: the propagated state overflows (L's entries or the span of times too large)")
    np.multiply(v, 1.0 / beta, out=Q[0])
    np.conjugate(Q[0], out=Qc[0])
    for j in range(m):
        w = matvec(Q[j])
        h = Qc[:j + 1] @ w
        w -= h @ Q[:j + 1]
        norm2, h2 = np.vdot(w, w).real, np.vdot(h, h).real
        if norm2 < h2:                              # cancellation (|w| fell below 1/sqrt 2 of |A q_j|): once more
            g = Qc[:j + 1] @ w
            w -= g @ Q[:j + 1]
            h += g
            norm2 = np.vdot(w, w).real
        if not np.isfinite(norm2):
            raise ValueError("evolve: the propagated state overflows (L's entries or the span of times too large)")
        H[:j + 1, j] = h
        H[j + 1, j] = norm = np.sqrt(norm2)
        if norm <= 1e-14 * beta:
            return Q[:j + 1], H[:j + 2, :j + 1], beta
        np.multiply(w, 1.0 / norm, out=Q[j + 1])
        np.conjugate(Q[j + 1], out=Qc[j + 1])
    return Q[:m], H, beta


def _small_powers(E: np.ndarray, w0: np.ndarray, count: int) -> np.ndarray:
    """Rows E^1 w0, ..., E^count w0 (shape (count, m)) by doubling: log2(count) small matrix products."""
    W = np.empty((count + 1, w0.shape[0]), dtype=complex)
    W[0] = w0
    filled, Em = 1, E.T                                             # row form: W[k] = W[0] (E^T)^k
    while filled <= count:
        size = min(filled, count + 1 - filled)
        W[filled:filled + size] = W[:size] @ Em
        filled += size
        if filled <= count:
            Em = Em @ Em
    return W[1:]


def _krylov_uniform(A, out: np.ndarray, dt: float, m: int, tol: float) -> int:
    """out[k] = exp(k dt A) out[0] for every row k of ``out`` (T, n), by restarted Arnoldi.

    From the current state, one Krylov space of dimension m serves as many grid steps as its
    a-posteriori error estimate beta h_{m+1,m} |e_m^T exp(s H_m) e_1| (Saad 1992) stays below
    ``tol``; then it restarts from the last accepted grid point.  The number of products with A
    grows with ||A|| t_total, not with the number of time points.  The small coefficient vectors
    exp(k dt H_m) beta e_1 of a whole run of grid points come from powers of exp(dt H_m) by
    doubling, and the states of the run from one matrix product with the basis.  Returns the
    number of Krylov spaces built.
    """
    n_steps, k, restarts, guess = out.shape[0] - 1, 0, 0, 16
    matvec = _csr_matvec(A) if scipy.sparse.isspmatrix_csr(A) else A.dot
    while k < n_steps:
        Q, H, beta = _arnoldi(A, out[k], m, matvec)
        restarts += 1
        size = Q.shape[0]
        E, h_next = scipy.linalg.expm(dt * H[:size, :size]), abs(H[size, size - 1])
        w = np.zeros(size, dtype=complex)
        w[0] = beta
        accepted = 0
        while k + accepted < n_steps:
            count = min(guess, n_steps - k - accepted)
            W = _small_powers(E, w, count)
            ok = (h_next * np.abs(W[:, -1]) <= tol) & np.isfinite(W).all(axis=1)      # False for overflow
            good = count if ok.all() else int(np.argmin(ok))
            if good:
                out[k + 1 + accepted:k + 1 + accepted + good] = W[:good] @ Q
                accepted += good
                w = W[good - 1]
            if good < count:
                break
            guess *= 2
        if accepted == 0:                               # one grid step is too long for this basis
            out[k + 1] = scipy.sparse.linalg.expm_multiply(dt * A, out[k])
            validate.finite_result(out[k + 1], "evolve: the propagated state overflows (L's entries or the span "
                                               "of times too large)")
            k += 1
            continue
        guess = max(4, accepted + accepted // 4)
        k += accepted
    return restarts


def evolve(L, rho0, times, *, method: str = "auto") -> np.ndarray:
    """rho(t) = exp((t - t_0) L) rho(t_0) on the grid ``times`` (``rho0`` is the state at ``times[0]``).

    ``rho0`` has shape (d, d) or (B, d, d); the result has shape (T, d, d) or (B, T, d, d).
    ``method`` is ``"auto"`` (:func:`choose_method`), ``"step"``, ``"eig"``, ``"krylov"`` or
    ``"expm_multiply"``.
    Implements chapter 3, eq. ch3-semigroup.  ``L`` must preserve the trace (vec(I)^T L = 0 within
    ``TRACE_RTOL`` of its largest entry), as every GKSL generator does; a propagated state that
    overflows (L or the time span too large) is a ValueError.
    """
    L = _as_liouvillian(L)
    d = superoperator_dim(L, "L")
    _check_trace_preserving(L)
    rho0 = check_density_matrix(rho0, "rho0")
    method = validate.one_of(method, "method", ("auto", "step", "eig", "krylov", "expm_multiply"))
    if rho0.shape[-1] != d:
        raise ValueError(f"rho0 is {rho0.shape[-1]}-dimensional but L acts on d = {d}")
    t = _check_times(times)
    if method == "auto":
        uniform = is_uniform(t)
        if uniform and d * d <= DENSE_LIMIT:
            nnz = L.nnz if scipy.sparse.issparse(L) else int(np.count_nonzero(L))
            norm_span = _norm_1(L) * float(t[-1] - t[0])
            method = choose_method(d * d, True, n_times=t.size, nnz=nnz, norm_span=norm_span)
        else:
            method = choose_method(d * d, uniform)
    if method not in ("step", "eig", "krylov", "expm_multiply"):
        raise ValueError(f"method must be 'auto', 'step', 'eig', 'krylov' or 'expm_multiply', got {method!r}")
    if method == "krylov" and not is_uniform(t):
        raise ValueError("method 'krylov' needs a uniform time grid")
    batched = rho0.ndim == 3
    V0 = vec(rho0).reshape(-1, d * d).T                                  # (n, B)
    if method == "krylov":
        A = scipy.sparse.csr_matrix(L)
        vecs = np.empty((V0.shape[1], t.size, d * d), dtype=complex)    # (B, T, n)
        vecs[:, 0] = V0.T
        for b in range(V0.shape[1]):
            _krylov_uniform(A, vecs[b], t[1] - t[0] if t.size > 1 else 0.0, min(KRYLOV_DIM, d * d), KRYLOV_TOL)
        rho = vecs.reshape(*vecs.shape[:2], d, d).swapaxes(-1, -2)     # unvec; finite: checked on the way
        return rho if batched else rho[0]
    out = np.empty((t.size, d * d, V0.shape[1]), dtype=complex)          # (T, n, B)
    out[0] = V0
    if method == "expm_multiply":
        A = scipy.sparse.csr_matrix(L)
        if is_uniform(t) and t.size > 2:
            out[:] = scipy.sparse.linalg.expm_multiply(A, V0, start=0.0, stop=t[-1] - t[0],
                                                       num=t.size, endpoint=True)
        else:
            for k in range(1, t.size):
                out[k] = scipy.sparse.linalg.expm_multiply((t[k] - t[k - 1]) * A, out[k - 1])
    else:
        Ld = L.toarray() if scipy.sparse.issparse(L) else L
        if method == "eig":
            lam, V, cond = _eig(Ld)
            if cond > EIG_COND_MAX:
                method = "step"
            else:
                coef = np.linalg.solve(V, V0)                            # (n, B)
                phases = np.exp(np.outer(t - t[0], lam))                 # (T, n)
                for b in range(coef.shape[1]):                          # one matrix product per state
                    out[:, :, b] = (phases * coef[:, b]) @ V.T
        if method == "step" and is_uniform(t) and t.size > 1:
            _powers_into(scipy.linalg.expm((t[1] - t[0]) * Ld), out)
        elif method == "step":
            for k in range(1, t.size):
                out[k] = scipy.linalg.expm((t[k] - t[k - 1]) * Ld) @ out[k - 1]
    validate.finite_result(out, "evolve: the propagated state overflows (L's entries or the span of times too large)")
    rho = unvec(np.moveaxis(out, 2, 0), d)                               # (B, T, d, d)
    return rho if batched else rho[0]


def evolve_torch(L, rho0, times, *, device=None, dtype=None):
    """Batched torch version of :func:`evolve` by the ``step`` method (chapter 3, eq. ch3-semigroup).

    ``L`` has shape (n, n) or (P, n, n) (P problems, e.g. a parameter sweep); ``rho0`` has shape
    (d, d) or (B, d, d) (B initial states, shared by all problems).  Returns a complex tensor of
    shape (P, B, T, d, d) with the batch axes that were absent in the input dropped.  One
    ``torch.linalg.matrix_exp`` per distinct step for all problems at once, then T - 1 batched
    matrix products.  Default dtype complex128, default device ``genphys.config.device()``.
    """
    import torch

    from genphys import config

    device = torch.device(device) if device is not None else config.device()
    dtype = dtype or torch.complex128
    if dtype not in (torch.complex64, torch.complex128):
        raise TypeError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    L_np = validate.finite_array(L, "L", dtype=complex, ndim=(2, 3))
    if L_np.shape[-1] != L_np.shape[-2] or L_np.shape[-1] == 0 or (L_np.ndim == 3 and L_np.shape[0] == 0):
        raise ValueError(f"L must have shape (n, n) or (P, n, n) with n, P >= 1, got {L_np.shape}")
    _check_trace_preserving(L_np)
    Lt = torch.as_tensor(L_np).to(device=device, dtype=dtype)
    if Lt.ndim not in (2, 3) or Lt.shape[-1] != Lt.shape[-2]:
        raise ValueError(f"L must have shape (n, n) or (P, n, n), got {tuple(Lt.shape)}")
    d = superoperator_dim(Lt[0] if Lt.ndim == 3 else Lt, "L")
    rho_np = check_density_matrix(rho0.cpu().numpy() if isinstance(rho0, torch.Tensor) else rho0, "rho0")
    if rho_np.shape[-1] != d:
        raise ValueError(f"rho0 is {rho_np.shape[-1]}-dimensional but L acts on d = {d}")
    t = _check_times(times)
    L3 = Lt if Lt.ndim == 3 else Lt[None]
    R = torch.as_tensor(vec(rho_np).reshape(-1, d * d)).to(device=device, dtype=dtype)   # (B, n)
    state = R.T.expand(L3.shape[0], -1, -1).contiguous()                                 # (P, n, B)
    out = torch.empty((t.size, *state.shape), dtype=dtype, device=device)
    out[0] = state
    steps = np.diff(t)
    uniform = is_uniform(t)
    cache: dict[float, torch.Tensor] = {}
    for k, dt in enumerate(steps, start=1):
        key = float(steps[0]) if uniform else float(dt)
        if key not in cache:
            cache[key] = torch.linalg.matrix_exp(key * L3)
        out[k] = torch.bmm(cache[key], out[k - 1])
    if not bool(torch.isfinite(out).all()):
        raise ValueError("evolve_torch: the propagated state overflows (L's entries or the span of times too large)")
    rho = out.permute(1, 3, 0, 2).reshape(L3.shape[0], R.shape[0], t.size, d, d).transpose(-1, -2)
    if Lt.ndim == 2:
        rho = rho[0]
    if rho_np.ndim == 2:
        rho = rho.select(-4 if Lt.ndim == 3 else 0, 0)
    return rho


# ----------------------------------------------------------------------------- stationary states and spectrum

def steady_state(L) -> np.ndarray:
    """The stationary state rho_ss with L rho_ss = 0, Tr rho_ss = 1 (chapter 3, eq. ch3-steady).

    Solves L x = 0 with one row replaced by the trace condition; ValueError when the null space
    is not one-dimensional (the steady state is not unique) or the result is not a state.
    """
    L = _as_liouvillian(L)
    d = superoperator_dim(L, "L")
    trace_row = vec(np.eye(d)).astype(complex)
    rhs = np.zeros(d * d, dtype=complex)
    rhs[0] = 1.0
    if scipy.sparse.issparse(L):
        A = scipy.sparse.lil_matrix(L)
        A[0, :] = trace_row
        x = scipy.sparse.linalg.spsolve(A.tocsc(), rhs)
    else:
        A = np.array(L)
        A[0, :] = trace_row
        try:
            x = np.linalg.solve(A, rhs)
        except np.linalg.LinAlgError:
            raise ValueError("the steady state is not unique: L has a null space of dimension > 1") from None
    if not np.all(np.isfinite(x)) or np.max(np.abs(L @ x)) > 1e-8 * max(1.0, _norm(L)):
        raise ValueError("the steady state is not unique: L has a null space of dimension > 1")
    rho = unvec(x, d)
    rho = 0.5 * (rho + rho.conj().T)
    return check_density_matrix(rho / np.trace(rho).real, "steady state", atol=1e-7)


def _norm_1(L) -> float:
    """||L||_1, the largest column sum of |L_ij| (a bound on the rates: |lambda| <= ||L||_1)."""
    if scipy.sparse.issparse(L):
        return float(abs(L).sum(axis=0).max()) if L.nnz else 0.0
    return float(np.abs(L).sum(axis=0).max())


def _norm(L) -> float:
    return float(abs(L).max()) if scipy.sparse.issparse(L) else float(np.max(np.abs(L)))


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues lambda_k = r_k + i w_k of a Liouvillian, sorted by decreasing real part.

    ``kinds[k]`` is ``"stationary"`` (|lambda| <= eps), ``"oscillating"`` (|r| <= eps, |w| > eps),
    ``"decaying"`` (r < -eps) or ``"growing"`` (r > eps: impossible for a valid GKSL generator).
    """

    eigenvalues: np.ndarray
    kinds: tuple[str, ...]
    eps: float

    @property
    def rates(self) -> np.ndarray:
        """Relaxation rates -Re lambda_k."""
        return -self.eigenvalues.real

    @property
    def frequencies(self) -> np.ndarray:
        """Oscillation frequencies Im lambda_k."""
        return self.eigenvalues.imag

    @property
    def n_stationary(self) -> int:
        """Dimension of the null space (number of independent stationary states)."""
        return self.kinds.count("stationary")

    @property
    def gap(self) -> float:
        """Spectral gap: the smallest relaxation rate among the non-stationary modes (0 if none decays)."""
        decaying = self.rates[np.array([k == "decaying" for k in self.kinds], dtype=bool)]
        return float(decaying.min()) if decaying.size else 0.0


def classify_eigenvalues(eigenvalues, eps: float) -> tuple[str, ...]:
    """Label each eigenvalue stationary / oscillating / decaying / growing with threshold eps.

    The rate r = Re lambda is classified by :func:`genphys.spectral.classify_modes`; a neutral
    mode is *stationary* when also |lambda| <= eps, else *oscillating*.
    """
    lam = validate.finite_array(eigenvalues, "eigenvalues", dtype=complex, ndim=1)
    kinds = spectral.classify_modes(lam.real, eps)
    names = {spectral.DECAY: "decaying", spectral.GROWTH: "growing"}
    return tuple(names.get(k) or ("stationary" if abs(z) <= eps else "oscillating") for k, z in zip(kinds, lam))


def spectrum(L, eps: float = 1e-9) -> Spectrum:
    """Liouvillian spectrum with each eigenvalue classified; ``eps`` is relative to max(1, ||L||_max)."""
    L = _as_liouvillian(L)
    Ld = L.toarray() if scipy.sparse.issparse(L) else L
    eps = validate.real(eps, "eps", low=0)
    lam = np.linalg.eigvals(Ld)
    lam = lam[np.lexsort((lam.imag, -np.round(lam.real, 12)))]
    eps_abs = eps * max(1.0, _norm(Ld))
    return Spectrum(eigenvalues=lam, kinds=classify_eigenvalues(lam, eps_abs), eps=eps_abs)


# ----------------------------------------------------------------------------- information

def _states(rho, name: str = "rho") -> np.ndarray:
    """``rho``: density matrices (..., d, d), each Hermitian, PSD and of unit trace (:func:`check_density_matrix`)."""
    arr = validate.finite_array(rho, name, dtype=complex)
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] == 0:
        raise ValueError(f"{name} must be a (batch of) square density matrices, got shape {arr.shape}")
    if arr.size:
        check_density_matrix(arr.reshape(-1, *arr.shape[-2:]), name)
    return arr


def purity(rho) -> np.ndarray:
    """Tr rho^2, batched over leading axes (1 for pure states, 1/d for the maximally mixed state).

    ``rho`` must hold density matrices (Hermitian, PSD, unit trace within 1e-8): Tr rho^2 of anything
    else is not a purity, and is a ValueError naming rho.
    """
    rho = _states(rho)
    return np.einsum("...ij,...ji->...", rho, rho).real


def von_neumann_entropy(rho, base: float = 2.0) -> np.ndarray:
    """S(rho) = -Tr rho log rho (in bits by default), batched over leading axes; ``rho`` density matrices."""
    rho = _states(rho)
    base = validate.real(base, "base", low=1, low_open=True)                # 2: bits, e: nats
    p = np.clip(np.linalg.eigvalsh(rho), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=-1) / np.log(base)


def bloch_vector(rho) -> np.ndarray:
    """(x, y, z) = (Tr rho sigma_x, Tr rho sigma_y, Tr rho sigma_z) of qubit states, shape (..., 3).

    ``rho`` must hold qubit density matrices (2x2, Hermitian, PSD, unit trace within 1e-8).
    """
    rho = validate.finite_array(rho, "rho", dtype=complex)
    if rho.shape[-2:] != (2, 2):
        raise ValueError(f"bloch_vector needs 2x2 density matrices rho, got shape {rho.shape}")
    rho = _states(rho)
    return np.stack([np.einsum("...ij,ji->...", rho, s).real for s in (SIGMA_X, SIGMA_Y, SIGMA_Z)], axis=-1)


def pure_state(psi) -> np.ndarray:
    """|psi><psi| / <psi|psi> for a ket (d,) or a batch of kets (B, d)."""
    psi = validate.finite_array(psi, "psi", dtype=complex, ndim=(1, 2), empty=False)
    top = np.abs(psi).max(axis=-1, keepdims=True)
    psi = psi / np.where(top > 0, top, 1.0)                             # scaled first: |psi|^2 never overflows
    norm2 = np.sum(np.abs(psi) ** 2, axis=-1)
    if np.any(norm2 <= 0):
        raise ValueError("psi must be a non-zero vector")
    return np.einsum("...i,...j->...ij", psi, psi.conj()) / norm2[..., None, None]


# ----------------------------------------------------------------------------- quantum jumps

@dataclass
class JumpResult:
    """Quantum-jump trajectories: the average state on the grid and every jump record.

    ``records[j]`` is the list of (time, channel) jumps of trajectory j: the channel indices form
    a history of emitted tokens in the sense of chapter 1 (:meth:`histories`).
    """

    times: np.ndarray
    rho_mean: np.ndarray                  # (T, d, d): the trajectory average of |psi><psi|
    expect: np.ndarray | None             # (n_traj, n_e, T) per-trajectory <e_k>, if e_ops were given
    records: list = field(repr=False)

    @property
    def n_traj(self) -> int:
        return len(self.records)

    def histories(self) -> list[tuple[int, ...]]:
        """The jump records as token histories: the channel index of each jump, in time order."""
        return [tuple(k for _, k in rec) for rec in self.records]

    def _expectations(self) -> np.ndarray:
        if self.expect is None:
            raise ValueError("no expectation values were recorded: pass e_ops to quantum_jumps")
        return self.expect

    def expect_mean(self) -> np.ndarray:
        """Average over trajectories of each expectation value, shape (n_e, T)."""
        return self._expectations().mean(axis=0)

    def expect_sem(self) -> np.ndarray:
        """Standard error of :meth:`expect_mean` (sample std / sqrt(n_traj)), shape (n_e, T); needs n_traj >= 2."""
        if self.n_traj < 2:
            raise ValueError("expect_sem needs at least 2 trajectories")
        return self._expectations().std(axis=0, ddof=1) / np.sqrt(self.n_traj)


class _NoJumpPropagator:
    """exp(-i H_eff tau) psi for many (tau, psi) pairs, H_eff = H - (i/2) sum_k c_k^dag c_k."""

    def __init__(self, H: np.ndarray, c_ops: tuple[np.ndarray, ...]):
        self.G = -1j * H - 0.5 * sum((c.conj().T @ c for c in c_ops), np.zeros_like(H))
        mu, V = np.linalg.eig(self.G)
        self.eig_ok = np.linalg.cond(V) < EIG_COND_MAX
        if self.eig_ok:
            self.mu, self.V, self.Vinv = mu, V, np.linalg.inv(V)

    def step(self, tau: float) -> np.ndarray:
        return scipy.linalg.expm(tau * self.G)

    def apply(self, taus: np.ndarray, psis: np.ndarray) -> np.ndarray:
        """Row j: exp(G taus[j]) psis[j]."""
        if self.eig_ok:
            coef = psis @ self.Vinv.T
            return (coef * np.exp(np.outer(taus, self.mu))) @ self.V.T
        return np.einsum("nij,nj->ni", scipy.linalg.expm(np.asarray(taus)[:, None, None] * self.G), psis)


def no_jump_probability(H, c_ops, psi0, t: float) -> float:
    """P(no jump in [0, t]) = ||exp(-i H_eff t) psi0||^2 for a normalised psi0 (chapter 3, eq. ch3-nojump)."""
    H = check_hermitian(H)
    ops = check_jump_operators(c_ops, H.shape[0])
    psi = _ket(psi0, H.shape[0])
    t = validate.real(t, "t", low=0)
    with np.errstate(over="ignore", invalid="ignore"):
        p = float(np.linalg.norm(_NoJumpPropagator(H, ops).step(t) @ psi) ** 2)
    return validate.finite_result(p, "no_jump_probability overflows (H, c_ops or t too large)")


def _ket(psi0, d: int) -> np.ndarray:
    """``psi0`` as a finite, non-zero ket of shape (d,), normalised."""
    psi = validate.finite_array(psi0, "psi0", dtype=complex, shape=(d,))
    if psi.size and np.abs(psi).max() > 0:
        psi = psi / np.abs(psi).max()                                   # scaled first: no overflow in the norm
    norm = np.linalg.norm(psi)
    if norm == 0:
        raise ValueError("psi0 must be a non-zero vector")
    return psi / norm


def quantum_jumps(H, c_ops, psi0, times, n_traj: int, seed: int, e_ops: Sequence = (),
                  bisection_steps: int = 52) -> JumpResult:
    """Quantum-jump (Monte-Carlo wave-function) unravelling of the GKSL equation (chapter 3, eq. ch3-mcwf).

    Each trajectory evolves with exp(-i H_eff t) until its squared norm falls to a uniform random
    threshold r; the jump time is then found by bisection to machine precision, channel k is
    drawn with probability ||c_k psi||^2 / sum_j ||c_j psi||^2, psi -> c_k psi / ||c_k psi|| and a
    new threshold is drawn.  All trajectories advance together on the (uniform) grid.
    The average of |psi><psi| converges to the master-equation solution as 1/sqrt(n_traj).
    """
    H = check_hermitian(H)
    d = H.shape[0]
    ops = check_jump_operators(c_ops, d)
    if not ops:
        raise ValueError("quantum_jumps needs at least one jump operator in c_ops")
    n_traj = validate.integer(n_traj, "n_traj", low=1, high=MAX_TRAJECTORIES)
    bisection_steps = validate.integer(bisection_steps, "bisection_steps", low=1, high=200)
    if isinstance(e_ops, np.ndarray) and e_ops.ndim == 2 or isinstance(e_ops, (str, bytes)) \
            or not isinstance(e_ops, (Sequence, np.ndarray)):
        raise TypeError("e_ops must be a sequence of matrices (observables); wrap a single one in a list")
    psi0 = _ket(psi0, d)
    t = _check_times(times)
    if not is_uniform(t):
        raise ValueError("quantum_jumps needs a uniform time grid")
    E = np.stack([as_operator(e, f"e_ops[{k}]", d) for k, e in enumerate(e_ops)]) if len(e_ops) else None
    rng = np.random.default_rng(validate.seed(seed))
    prop = _NoJumpPropagator(H, ops)
    C = np.stack(ops)
    psi = np.tile(psi0 / np.linalg.norm(psi0), (n_traj, 1))
    r = rng.random(n_traj)
    records: list[list[tuple[float, int]]] = [[] for _ in range(n_traj)]
    rho_mean = np.empty((t.size, d, d), dtype=complex)
    expect = np.empty((n_traj, len(e_ops), t.size)) if E is not None else None

    def record(k: int, states: np.ndarray) -> None:
        phi = states / np.linalg.norm(states, axis=1, keepdims=True)
        rho_mean[k] = phi.T @ phi.conj() / n_traj
        if E is not None:
            expect[:, :, k] = np.einsum("ni,eij,nj->ne", phi.conj(), E, phi).real

    record(0, psi)
    dt = t[1] - t[0] if t.size > 1 else 0.0
    U = prop.step(dt)
    for k in range(1, t.size):
        start = np.zeros(n_traj)                      # time since t[k-1] at which psi is given
        new = psi @ U.T
        hit = np.flatnonzero(np.sum(np.abs(new) ** 2, axis=1) <= r)
        while hit.size:
            lo, hi = np.zeros(hit.size), dt - start[hit]
            base = psi[hit]
            for _ in range(bisection_steps):
                mid = 0.5 * (lo + hi)
                below = np.sum(np.abs(prop.apply(mid, base)) ** 2, axis=1) <= r[hit]
                hi = np.where(below, mid, hi)
                lo = np.where(below, lo, mid)
            tau = 0.5 * (lo + hi)
            phi = prop.apply(tau, base)
            branches = np.einsum("kij,nj->nki", C, phi)                  # c_k phi, (h, K, d)
            weights = np.sum(np.abs(branches) ** 2, axis=2)
            cum = np.cumsum(weights, axis=1)
            channel = np.minimum((rng.random((hit.size, 1)) * cum[:, -1:] > cum).sum(axis=1), len(ops) - 1)
            jumped = branches[np.arange(hit.size), channel]
            jumped /= np.linalg.norm(jumped, axis=1, keepdims=True)
            start[hit] += tau
            for j, n in enumerate(hit):
                records[n].append((float(t[k - 1] + start[n]), int(channel[j])))
            psi[hit] = jumped
            r[hit] = rng.random(hit.size)
            new[hit] = prop.apply(dt - start[hit], jumped)
            still = np.sum(np.abs(new[hit]) ** 2, axis=1) <= r[hit]
            hit = hit[still]
        psi = new
        record(k, psi)
    validate.finite_result(rho_mean, "quantum_jumps: the trajectories overflow (H, c_ops or the step of times too large)")
    return JumpResult(times=t, rho_mean=rho_mean, expect=expect, records=records)


# ----------------------------------------------------------------------------- standard models

@dataclass(frozen=True)
class OpenSystem:
    """A Hamiltonian H and jump operators c_k: a GKSL generator in its standard form."""

    name: str
    H: np.ndarray
    c_ops: tuple[np.ndarray, ...]

    @property
    def dim(self) -> int:
        return self.H.shape[0]

    def liouvillian(self, sparse: bool = False):
        """L = -i[H, .] + sum_k D[c_k] (chapter 3, eq. ch3-vec)."""
        return liouvillian(self.H, self.c_ops, sparse=validate.flag(sparse, "sparse"))

    def unitary_limit(self) -> "OpenSystem":
        """The same Hamiltonian without jump operators: rho(t) = U rho U^dag."""
        return OpenSystem(self.name + " (unitary limit)", self.H, ())


def _rate(value, name: str) -> float:
    return validate.real(value, name, low=0)


def _real(value, name: str) -> float:
    return validate.real(value, name)


def _thermal_pair(lower: np.ndarray, gamma: float, n_thermal: float) -> tuple[np.ndarray, ...]:
    """sqrt(gamma (n+1)) lower and, for n > 0, sqrt(gamma n) lower^dag (a thermal bath)."""
    ops = [np.sqrt(gamma * (n_thermal + 1)) * lower] if gamma > 0 else []
    if gamma > 0 and n_thermal > 0:
        ops.append(np.sqrt(gamma * n_thermal) * lower.conj().T)
    return tuple(ops)


def amplitude_damping(gamma: float, omega: float = 1.0, n_thermal: float = 0.0) -> OpenSystem:
    """Qubit H = omega sigma_z / 2 decaying at rate gamma: c = sqrt(gamma (n+1)) sigma_- (+ thermal)."""
    gamma, omega, n_th = _rate(gamma, "gamma"), _real(omega, "omega"), _rate(n_thermal, "n_thermal")
    return OpenSystem("amplitude damping", 0.5 * omega * SIGMA_Z, _thermal_pair(SIGMA_MINUS, gamma, n_th))


def dephasing(gamma: float, omega: float = 1.0) -> OpenSystem:
    """Qubit H = omega sigma_z / 2 with c = sqrt(gamma/2) sigma_z: coherences decay as exp(-gamma t)."""
    gamma, omega = _rate(gamma, "gamma"), _real(omega, "omega")
    return OpenSystem("dephasing", 0.5 * omega * SIGMA_Z, (np.sqrt(gamma / 2) * SIGMA_Z,) if gamma > 0 else ())


def driven_damped_qubit(rabi: float, gamma: float, detuning: float = 0.0, gamma_phi: float = 0.0) -> OpenSystem:
    """Resonance fluorescence in the rotating frame: H = (detuning sigma_z + rabi sigma_x)/2,
    c = sqrt(gamma) sigma_-, plus dephasing sqrt(gamma_phi/2) sigma_z."""
    rabi, detuning = _real(rabi, "rabi"), _real(detuning, "detuning")
    gamma, gamma_phi = _rate(gamma, "gamma"), _rate(gamma_phi, "gamma_phi")
    ops = _thermal_pair(SIGMA_MINUS, gamma, 0.0)
    if gamma_phi > 0:
        ops = ops + (np.sqrt(gamma_phi / 2) * SIGMA_Z,)
    return OpenSystem("driven damped qubit", 0.5 * (detuning * SIGMA_Z + rabi * SIGMA_X), ops)


def destroy(n_levels: int) -> np.ndarray:
    """Annihilation operator a|n> = sqrt(n)|n-1> on the Fock space truncated to n_levels (at most 4096, dense)."""
    n_levels = validate.integer(n_levels, "n_levels", low=2, high=4096)
    return np.diag(np.sqrt(np.arange(1, n_levels)), 1).astype(complex)


def damped_oscillator(n_levels: int, omega: float = 1.0, kappa: float = 0.1,
                      n_thermal: float = 0.0, drive: float = 0.0) -> OpenSystem:
    """H = omega a^dag a + drive (a + a^dag) in n_levels Fock states, c = sqrt(kappa (n+1)) a
    (+ sqrt(kappa n) a^dag for a thermal bath with mean occupation n)."""
    a = destroy(n_levels)
    omega, drive = _real(omega, "omega"), _real(drive, "drive")
    kappa, n_th = _rate(kappa, "kappa"), _rate(n_thermal, "n_thermal")
    H = omega * a.conj().T @ a + drive * (a + a.conj().T)
    return OpenSystem("damped oscillator", H, _thermal_pair(a, kappa, n_th))


def _site_operator(op: np.ndarray, site: int, n_sites: int) -> np.ndarray:
    out = np.eye(1, dtype=complex)
    for j in range(n_sites):
        out = np.kron(out, op if j == site else np.eye(2))
    return out


def spin_chain(n_sites: int, coupling: float = 1.0, field: float = 1.0, gamma: float = 0.1,
               gamma_phi: float = 0.0) -> OpenSystem:
    """Open XX chain: H = sum_j field sigma_z^j / 2 + (coupling/2) sum_j (sx^j sx^{j+1} + sy^j sy^{j+1}),
    each site damped by sqrt(gamma) sigma_-^j (and dephased by sqrt(gamma_phi/2) sigma_z^j)."""
    n_sites = validate.integer(n_sites, "n_sites", low=1, high=8)
    coupling, field = _real(coupling, "coupling"), _real(field, "field")
    gamma, gamma_phi = _rate(gamma, "gamma"), _rate(gamma_phi, "gamma_phi")
    ops = {name: [_site_operator(s, j, n_sites) for j in range(n_sites)]
           for name, s in (("x", SIGMA_X), ("y", SIGMA_Y), ("z", SIGMA_Z), ("m", SIGMA_MINUS))}
    H = 0.5 * field * sum(ops["z"])
    for j in range(n_sites - 1):
        H = H + 0.5 * coupling * (ops["x"][j] @ ops["x"][j + 1] + ops["y"][j] @ ops["y"][j + 1])
    c_ops = [np.sqrt(gamma) * m for m in ops["m"]] if gamma > 0 else []
    c_ops += [np.sqrt(gamma_phi / 2) * z for z in ops["z"]] if gamma_phi > 0 else []
    return OpenSystem(f"XX chain of {n_sites} sites", H, tuple(c_ops))
