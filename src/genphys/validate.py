"""One way to check arguments, for every module of the package.

Conventions (every public function of genphys follows them):

* a wrong *type* raises ``TypeError``, a wrong *value* ``ValueError``; the message names the
  argument and says what was expected and what was given;
* integers accept Python and NumPy integers, never ``bool``;
* reals accept Python and NumPy integers and floats, never ``bool``; NaN and inf are rejected
  *before* any range or tolerance comparison (a comparison with NaN is always false, so a
  ``> tol`` check would let it through);
* arrays are converted once, with their dtype, shape and finiteness checked here.

Nothing here imports torch; :func:`finite_array` accepts anything ``numpy.asarray`` does.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Sequence

import numpy as np

__all__ = ["integer", "real", "flag", "one_of", "instance", "finite_array", "square_matrix", "hermitian",
           "positive_semidefinite", "number", "finite_result", "seed", "text", "within_tolerance"]

#: Relative tolerance of :func:`hermitian` and of the semidefinite test of :func:`positive_semidefinite`
#: (against the largest entry, resp. the largest eigenvalue): round-off of a product G G^H stays far below it.
HERMITIAN_RTOL = 1e-10
#: A positive *definite* matrix needs its smallest eigenvalue above this share of the largest: below it the
#: matrix is singular within double precision (its inverse is round-off).
DEFINITE_RTOL = 1e-14


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bounds(name: str, value, low, high, low_open: bool, high_open: bool, kind: str):
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {kind} {'>' if low_open else '>='} {low}, got {_shown(value)}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {kind} {'<' if high_open else '<='} {high}, got {_shown(value)}")


def integer(value, name: str, *, low: int | None = None, high: int | None = None,
            high_open: bool = False) -> int:
    """``value`` as a Python int in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {_shown(value)}")
    value = int(value)
    _bounds(name, value, low, high, False, high_open, "an int")
    return value


def real(value, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite Python float in the given range (open ends with ``low_open``/``high_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {_shown(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    _bounds(name, value, low, high, low_open, high_open, "a number")
    return value


def flag(value, name: str) -> bool:
    """``value`` as a bool (Python or NumPy bool only)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_shown(value)}")
    return bool(value)


def one_of(value, name: str, options: Iterable):
    """``value`` if it is one of ``options``; else a ValueError listing them."""
    options = tuple(options)
    try:
        ok = value in options
    except TypeError:                       # unhashable values compared against a set-like
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {_shown(value)}")
    return value


def instance(value, name: str, types, expected: str | None = None):
    """``value`` if it is an instance of ``types``; else a TypeError naming ``expected``."""
    if not isinstance(value, types):
        if expected is None:
            kinds = types if isinstance(types, tuple) else (types,)
            expected = " or ".join(t.__name__ for t in kinds)
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    return value


def text(value, name: str, *, empty: bool = True) -> str:
    """``value`` if it is a str (non-empty unless ``empty``)."""
    instance(value, name, str, "a str")
    if not empty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def seed(value, name: str = "seed") -> int:
    """A random seed: an int in ``[0, 2**32)`` (what NumPy, Python and torch all accept)."""
    return integer(value, name, low=0, high=2**32, high_open=True)


def finite_array(value, name: str, *, dtype=float, ndim: int | Sequence[int] | None = None,
                 shape: tuple | None = None, empty: bool = True) -> np.ndarray:
    """``value`` as a NumPy array of ``dtype`` (float or complex), finite, of the given ndim / shape.

    ``shape`` may hold ``None`` for a free axis.  Strings, and arrays of objects or booleans, are
    a TypeError; sparse matrices are densified.
    """
    if hasattr(value, "toarray") and callable(value.toarray):
        value = value.toarray()
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):          # a torch tensor
        value = value.detach().cpu().numpy()
    raw = np.asarray(value)
    if raw.dtype == object or raw.dtype.kind in "bSUV":
        raise TypeError(f"{name} must be a numeric array, got an array of {raw.dtype}")
    if np.dtype(dtype).kind != "c" and raw.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got a complex array")
    arr = raw.astype(dtype, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{n}-d" for n in allowed)
            raise ValueError(f"{name} must be a {want} array, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite entries")
    return arr


def square_matrix(value, name: str, *, dim: int | None = None, dtype=complex) -> np.ndarray:
    """``value`` as a finite square matrix (``dim`` x ``dim`` if given)."""
    arr = finite_array(value, name, dtype=dtype, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must be {dim}x{dim}, got {arr.shape[0]}x{arr.shape[1]}")
    return arr


def number(value, name: str) -> complex:
    """``value`` as a finite Python complex: any Python or NumPy number but ``bool``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Number):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {_shown(value)}")
    value = complex(value)
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def hermitian(value, name: str, *, dim: int | None = None) -> np.ndarray:
    """``value`` as a finite complex matrix equal to its conjugate transpose within ``HERMITIAN_RTOL`` of
    its largest entry; returned exactly Hermitian, (A + A^H) / 2."""
    arr = square_matrix(value, name, dim=dim)
    scale = float(np.abs(arr).max()) if arr.size else 0.0
    gap = float(np.abs(arr - arr.conj().T).max()) if arr.size else 0.0
    if gap > HERMITIAN_RTOL * scale:
        raise ValueError(f"{name} must be Hermitian (symmetric if real): max |{name} - {name}^H| = {gap:.3g}, "
                         f"{gap / scale:.3g} of its largest entry")
    return 0.5 * (arr + arr.conj().T)


def positive_semidefinite(value, name: str, *, dim: int | None = None, definite: bool = False) -> np.ndarray:
    """``value`` as a Hermitian (:func:`hermitian`) positive semidefinite matrix - a covariance - or, with
    ``definite``, positive definite (a covariance that can be inverted, or a precision).

    Semidefinite: smallest eigenvalue >= -HERMITIAN_RTOL x the largest |eigenvalue| (round-off);
    definite: smallest eigenvalue > DEFINITE_RTOL x the largest.
    """
    arr = hermitian(value, name, dim=dim)
    if not arr.size:
        return arr
    eig = np.linalg.eigvalsh(arr)
    top = float(np.abs(eig).max())
    if definite and not eig[0] > DEFINITE_RTOL * top:
        raise ValueError(f"{name} must be positive definite; its smallest eigenvalue is {eig[0]:.3g}"
                         f"{' (of the largest ' + format(top, '.3g') + ')' if top else ''}")
    if not definite and eig[0] < -HERMITIAN_RTOL * top:
        raise ValueError(f"{name} must be positive semidefinite; it has the eigenvalue {eig[0]:.3g} < 0")
    return arr


def finite_result(value, what: str):
    """``value`` if every entry is finite; else ValueError saying that ``what`` (naming the arguments
    responsible) overflows double precision.  The last line of defence against returning NaN or inf."""
    arr = np.asarray(value)
    if arr.dtype == object or not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: the result is not a finite double (overflow or an undefined value)")
    return value


def within_tolerance(error: float, tol: float, what: str) -> None:
    """Raise ValueError unless ``error <= tol``; a NaN error fails (it is never within tolerance)."""
    if not error <= tol:
        raise ValueError(f"{what}: error {error:.3g} exceeds the tolerance {tol:g}")
