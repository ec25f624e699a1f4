"""Quantum channels: Kraus operators, superoperators and Choi matrices, and the CPTP checks (chapters 2 and 3).

A channel is a linear map on d x d matrices, E(rho) = sum_k K_k rho K_k^dag (Kraus form,
chapter 2, eq. ch2-kraus).  Its three representations, and the conversions between them, live
here and nowhere else:

* **superoperator** S, acting on the **column-stacked** vectorisation (as QuTiP):
  ``vec(rho)[a + d*b] = rho[a, b]``, so that ``vec(A rho B) = (B^T kron A) vec(rho)``
  (chapter 3, eq. ch3-vec) and S = sum_k conj(K_k) kron K_k;
* **Choi matrix** J = sum_{ij} |i><j| kron E(|i><j|) (chapter 2, eq. ch2-choi): E is
  completely positive iff J >= 0 (Choi 1975) and trace preserving iff Tr_2 J = I
  (chapter 3, eq. ch3-choi).

Kraus operators may be dense arrays or ``scipy.sparse`` matrices; the Choi matrix is dense
and limited to ``d^2 <= DENSE_LIMIT``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import scipy.sparse

from genphys import validate

#: Largest matrix side (d^2 for a Choi matrix) that the dense checks accept.
DENSE_LIMIT = 4096

__all__ = ["DENSE_LIMIT", "vec", "unvec", "superoperator_dim", "apply_kraus", "kraus_to_super",
           "super_to_choi", "choi_to_super", "kraus_to_choi", "map_to_choi", "choi_to_kraus",
           "super_to_kraus", "trace_preservation_error", "is_completely_positive", "is_trace_preserving",
           "is_cptp"]


# ----------------------------------------------------------------------------- vectorisation

def vec(rho) -> np.ndarray:
    """Column stacking, batched over leading axes: ``vec(rho)[..., a + d*b] = rho[..., a, b]`` (eq. ch3-vec)."""
    arr = validate.finite_array(rho, "rho", dtype=complex if np.iscomplexobj(rho) else float)
    if arr.ndim < 2:
        raise ValueError(f"rho must have at least 2 axes (a matrix), got shape {arr.shape}")
    return np.swapaxes(arr, -1, -2).reshape(*arr.shape[:-2], -1)


def unvec(v, dim: int | None = None) -> np.ndarray:
    """Inverse of :func:`vec`: the (..., d, d) matrices of column-stacked vectors (..., d^2)."""
    arr = validate.finite_array(v, "v", dtype=complex if np.iscomplexobj(v) else float)
    if arr.ndim < 1:
        raise ValueError("v must have at least one axis")
    d = validate.integer(dim, "dim", low=1) if dim is not None else int(round(np.sqrt(arr.shape[-1])))
    if d * d != arr.shape[-1]:
        raise ValueError(f"v must have d^2 entries on its last axis (d = dim = {d} if given); got {arr.shape[-1]}")
    return np.swapaxes(arr.reshape(*arr.shape[:-1], d, d), -1, -2)


def superoperator_dim(S, name: str = "S") -> int:
    """The Hilbert-space dimension d >= 1 of a finite d^2 x d^2 superoperator (or Choi matrix), or a clear error."""
    if scipy.sparse.issparse(S):
        if not np.all(np.isfinite(S.data)):
            raise ValueError(f"{name} holds NaN or infinite entries")
    else:
        S = validate.finite_array(S, name, dtype=complex)
    shape = getattr(S, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise ValueError(f"{name} must be a square d^2 x d^2 matrix with d >= 1, got shape {shape}")
    d = int(round(np.sqrt(shape[0])))
    if d * d != shape[0]:
        raise ValueError(f"{name} must be d^2 x d^2 for a Hilbert-space dimension d, got {shape[0]} x {shape[0]}")
    return d


def _dense(M, name: str) -> np.ndarray:
    arr = validate.finite_array(M, name, dtype=complex, ndim=2)
    superoperator_dim(arr, name)
    return arr


def _kraus_list(kraus: Sequence, name: str = "kraus") -> list:
    """Kraus operators as a list of square matrices of one size (sparse ones kept sparse), checked finite."""
    if isinstance(kraus, np.ndarray) and kraus.ndim == 2 or scipy.sparse.issparse(kraus):
        raise TypeError(f"{name} must be a sequence of matrices; wrap a single Kraus operator in a list")
    try:
        ops = list(kraus)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of matrices, got {type(kraus).__name__}") from None
    if not ops:
        raise ValueError(f"{name} must hold at least one operator")
    out = []
    for k, op in enumerate(ops):
        if scipy.sparse.issparse(op):
            op = scipy.sparse.csr_matrix(op, dtype=complex)
            if op.shape[0] != op.shape[1]:
                raise ValueError(f"{name}[{k}] must be square, got shape {op.shape}")
            if not np.all(np.isfinite(op.data)):
                raise ValueError(f"{name}[{k}] holds NaN or infinite entries")
        else:
            op = validate.square_matrix(op, f"{name}[{k}]")
        if op.shape[0] == 0:
            raise ValueError(f"{name}[{k}] must be at least 1x1")
        if out and op.shape != out[0].shape:
            raise ValueError(f"{name}[{k}] has shape {op.shape}, {name}[0] has {out[0].shape}")
        out.append(op)
    return out


# ----------------------------------------------------------------------------- representations

def apply_kraus(kraus: Sequence, rho) -> np.ndarray:
    """E(rho) = sum_k K_k rho K_k^dag (chapter 2, eq. ch2-kraus), dense result."""
    ops = _kraus_list(kraus)
    rho = validate.square_matrix(rho, "rho")
    if rho.shape[0] != ops[0].shape[0]:
        raise ValueError(f"rho is {rho.shape[0]}x{rho.shape[0]} but the kraus operators act on dimension {ops[0].shape[0]}")
    return sum(np.asarray(k @ (k @ rho).conj().T) for k in ops).conj().T


def kraus_to_super(kraus: Sequence) -> np.ndarray:
    """S = sum_k conj(K_k) kron K_k, the superoperator of E(rho) = sum_k K_k rho K_k^dag (eq. ch3-vec)."""
    ops = [k.toarray() if scipy.sparse.issparse(k) else k for k in _kraus_list(kraus)]
    if ops[0].shape[0] ** 2 > DENSE_LIMIT:
        raise ValueError(f"kraus_to_super is dense: d^2 = {ops[0].shape[0] ** 2} > {DENSE_LIMIT}")
    return sum(np.kron(K.conj(), K) for K in ops)


def _reshuffle(M: np.ndarray) -> np.ndarray:
    """The involution between a superoperator S and its Choi matrix J: J[(i,a),(j,b)] = S[(a,b),(i,j)] reindexed."""
    d = superoperator_dim(M)
    return M.reshape(d, d, d, d).transpose(3, 1, 2, 0).reshape(d * d, d * d)


def super_to_choi(S) -> np.ndarray:
    """Choi matrix J = sum_{ij} |i><j| kron E(|i><j|) of the map with superoperator S (eq. ch3-choi, as QuTiP)."""
    return _reshuffle(_dense(S, "S"))


def choi_to_super(J) -> np.ndarray:
    """Superoperator (column stacking) of the map with Choi matrix J: the inverse of :func:`super_to_choi`."""
    return _reshuffle(_dense(J, "J"))


def kraus_to_choi(kraus: Sequence) -> np.ndarray:
    """Choi matrix of E(rho) = sum_k K_k rho K_k^dag (chapter 2, eq. ch2-choi)."""
    return super_to_choi(kraus_to_super(kraus))


def map_to_choi(linear_map: Callable[[np.ndarray], np.ndarray], dim: int) -> np.ndarray:
    """Choi matrix J = sum_{ij} |i><j| kron Phi(|i><j|) of any linear map on ``dim`` x ``dim`` matrices (eq. ch2-choi)."""
    if not callable(linear_map):
        raise TypeError(f"linear_map must be callable (a map on matrices), got {type(linear_map).__name__}")
    d = validate.integer(dim, "dim", low=1)
    if d * d > DENSE_LIMIT:
        raise ValueError(f"the Choi matrix is dense: dim^2 = {d * d} > {DENSE_LIMIT}")
    choi = np.zeros((d * d, d * d), dtype=complex)
    for i in range(d):
        for j in range(d):
            unit = np.zeros((d, d))
            unit[i, j] = 1.0
            image = validate.square_matrix(linear_map(unit), f"linear_map(|{i}><{j}|)", dim=d)
            choi[i * d:(i + 1) * d, j * d:(j + 1) * d] = image
    return choi


def choi_to_kraus(J, atol: float = 1e-10) -> list[np.ndarray]:
    """Kraus operators K_k = sqrt(mu_k) unvec(v_k) from the eigenpairs (mu_k, v_k) of a PSD Choi matrix."""
    J = _dense(J, "J")
    atol = validate.real(atol, "atol", low=0)
    d = superoperator_dim(J, "J")
    if np.max(np.abs(J - J.conj().T)) > atol * max(1.0, np.abs(J).max()):
        raise ValueError("J is not Hermitian: the map is not Hermiticity preserving")
    mu, vecs = np.linalg.eigh(J)
    if mu[0] < -atol * max(1.0, mu[-1]):
        raise ValueError(f"the map is not completely positive: J has eigenvalue {mu[0]:.3g} < 0")
    return [np.sqrt(m) * vecs[:, k].reshape(d, d).T for k, m in enumerate(mu) if m > atol * max(1.0, mu[-1])]


def super_to_kraus(S, atol: float = 1e-10) -> list[np.ndarray]:
    """A minimal Kraus form of the CP map with superoperator S (via its Choi matrix)."""
    return choi_to_kraus(super_to_choi(S), atol)


# ----------------------------------------------------------------------------- checks

def trace_preservation_error(kraus: Sequence, domain=None) -> float:
    """``max |sum_k K_k^dag K_k - P_domain|`` (chapter 2, eq. ch2-tp); ``domain=None`` means the identity.

    Sparse throughout; ``domain`` is a boolean mask of the basis states the channel is defined on.
    """
    ops = [scipy.sparse.csr_matrix(k) for k in _kraus_list(kraus)]
    d = ops[0].shape[1]
    total = sum((k.conj().T @ k for k in ops), scipy.sparse.csr_matrix((d, d)))
    if domain is None:
        target = scipy.sparse.identity(d)
    else:
        mask = np.asarray(domain)
        if mask.shape != (d,) or mask.dtype != bool:
            raise ValueError(f"domain must be a boolean mask of shape ({d},), got {mask.dtype} of shape {mask.shape}")
        target = scipy.sparse.diags(mask.astype(float))
    diff = abs(scipy.sparse.csr_matrix(total - target))
    return float(diff.max()) if diff.nnz else 0.0


def is_completely_positive(S, atol: float = 1e-10) -> bool:
    """Whether the Choi matrix of S is Hermitian and positive semidefinite within ``atol`` (eq. ch3-choi)."""
    atol = validate.real(atol, "atol", low=0)
    J = super_to_choi(S)
    if np.max(np.abs(J - J.conj().T)) > atol:
        return False
    return bool(np.linalg.eigvalsh(0.5 * (J + J.conj().T))[0] >= -atol)


def is_trace_preserving(S, atol: float = 1e-10) -> bool:
    """Whether Tr E(rho) = Tr rho for all rho: vec(I)^dag S = vec(I)^dag."""
    atol = validate.real(atol, "atol", low=0)
    S = _dense(S, "S")
    d = superoperator_dim(S)
    row = vec(np.eye(d)).conj() @ S
    return bool(np.max(np.abs(row - vec(np.eye(d)))) <= atol)


def is_cptp(S, atol: float = 1e-10) -> bool:
    """Completely positive and trace preserving (chapter 3, eqs. ch3-kraus and ch3-choi)."""
    return is_completely_positive(S, atol) and is_trace_preserving(S, atol)
