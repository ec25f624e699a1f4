"""What a self-check says about a reader's answer: correct, or what is not yet right.

Every coding exercise of the book ends with a *self-check*: a function of
``genphys.exercises.<module>`` that takes the reader's answer, computes the reference from the
package, and returns a :class:`Feedback`.  A Feedback never raises on a wrong or missing answer (the
student version of a chapter runs top to bottom with every stub unfilled); it says *what* is wrong:
a missing answer, a wrong type or shape, a NaN, a sign, a complex conjugate, a factor, the right
values in another order, or the largest deviation and where it sits.

In a notebook a Feedback shows as one line, ``Correct: ...`` or ``Not yet: ...``, and carries a
machine-readable copy in the output's metadata (key :data:`RECORD`: exercise, correct, message) that
:mod:`genphys.exercises.assignment` reads back when it grades executed notebooks.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Feedback", "RECORD", "STUB", "correct", "not_yet", "unanswered", "as_array", "agrees", "nearest_order",
           "compare_array", "compare_value"]

#: The key of an output's metadata under which a Feedback's record is stored (metadata, not a MIME type of its own:
#: the book's renderer would warn about a type it cannot show).
RECORD = "genphys_feedback"
#: What a stub assigns to every name the reader must fill in (``answer = ...``).
STUB = Ellipsis


@dataclass(frozen=True)
class Feedback:
    """The verdict of one self-check: ``exercise`` (e.g. ``"3.2"``), ``correct`` and a ``message``."""

    exercise: str
    correct: bool
    message: str

    def __str__(self) -> str:
        return f"Exercise {self.exercise}. {'Correct' if self.correct else 'Not yet'}: {self.message}"

    __repr__ = __str__

    def __bool__(self) -> bool:
        return self.correct

    def _repr_mimebundle_(self, include=None, exclude=None):
        record = {"exercise": self.exercise, "correct": self.correct, "message": self.message}
        return {"text/plain": str(self)}, {RECORD: record}


def correct(exercise: str, message: str = "your answer agrees with the reference.") -> Feedback:
    """A passed check."""
    return Feedback(exercise, True, message)


def not_yet(exercise: str, message: str) -> Feedback:
    """A check that has not passed, with what is wrong."""
    return Feedback(exercise, False, message)


def unanswered(value) -> bool:
    """True for a stub's placeholder: ``...`` (the book's stubs) or ``None``."""
    return value is STUB or value is None


def as_array(value, dtype=complex):
    """A reader's answer as a numpy array (a torch tensor detached and on the CPU, a sparse matrix made dense),
    or None when it is not numeric; never raises."""
    if unanswered(value):
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "toarray"):
        value = value.toarray()
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        return None


def agrees(got, expected, *, rtol: float = 1e-8, atol: float = 1e-12) -> bool:
    """Whether an answer has the shape of ``expected``, is finite, and agrees with it entrywise
    (``|got - expected| <= atol + rtol |expected|``); False for anything that is not numeric, never raises.
    The self-checks use it to recognise a typical mistake (an answer that equals a *wrong* formula)."""
    got, expected = as_array(got), np.asarray(expected, dtype=complex)
    if got is None or got.shape != expected.shape or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected)))


def nearest_order(got: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``got`` reordered so that each entry sits next to its nearest reference value (greedily, both 1-D and of
    one size): for eigenvalues, whose order is not part of the answer and which sorting puts in an unstable
    order when real parts differ only by rounding."""
    left, out = list(range(got.size)), np.empty_like(got)
    for i, value in enumerate(reference):
        j = min(left, key=lambda k: abs(got[k] - value))
        out[i] = got[j]
        left.remove(j)
    return out


def _no_answer(exercise: str, name: str) -> Feedback:
    return not_yet(exercise, f"`{name}` is still the stub's `...`: fill it in in the cell above and run this again.")


def compare_value(exercise: str, name: str, got, expected: float, *, rtol: float = 1e-8,
                  atol: float = 0.0, hint: str = "") -> Feedback:
    """A real number against the reference: missing, not a number, not finite, a sign or a factor off,
    or off by more than ``atol + rtol |expected|``."""
    if unanswered(got):
        return _no_answer(exercise, name)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Real, np.ndarray)) \
            or (isinstance(got, np.ndarray) and got.size != 1):
        return not_yet(exercise, f"`{name}` should be one real number, got {type(got).__name__}.")
    got = float(np.asarray(got).reshape(()))
    if not math.isfinite(got):
        return not_yet(exercise, f"`{name}` is {got}: look for a division by zero or a log of zero.")
    tol = atol + rtol * abs(expected)
    if abs(got - expected) <= tol:
        return correct(exercise, f"`{name}` = {got:.10g} agrees with the reference.")
    return not_yet(exercise, f"`{name}` = {got:.10g}, the reference is {expected:.10g}"
                   f"{_relation(np.array([got]), np.array([expected]), tol)}.{(' ' + hint) if hint else ''}")


#: Factors a slip of the pen produces, named when one number is off by one of them.
_FACTORS = [("2", 2.0), ("1/2", 0.5), ("4", 4.0), ("1/4", 0.25), ("pi", np.pi), ("1/pi", 1 / np.pi),
            ("2 pi", 2 * np.pi), ("1/(2 pi)", 1 / (2 * np.pi)), ("ln 2", np.log(2)), ("1/ln 2", 1 / np.log(2)),
            ("sqrt 2", np.sqrt(2)), ("1/sqrt 2", 1 / np.sqrt(2)), ("-1", -1.0)]


def _relation(got: np.ndarray, expected: np.ndarray, tol: float) -> str:
    """A diagnosis of a near miss: a sign, a conjugate, a constant factor, another order."""
    if np.allclose(got, -expected, rtol=0, atol=tol):
        return ": the sign is flipped"
    if np.iscomplexobj(got) or np.iscomplexobj(expected):
        if np.allclose(got, np.conj(expected), rtol=0, atol=tol):
            return ": it is the complex conjugate of the reference"
    scale = np.vdot(expected.ravel(), got.ravel()) / max(np.vdot(expected.ravel(), expected.ravel()).real, 1e-300)
    if abs(scale) > 1e-12 and np.allclose(got, scale * expected, rtol=1e-6, atol=tol):
        if got.size == 1:              # two numbers always differ by some factor: name only the usual suspects
            named = [(label, f) for label, f in _FACTORS if abs(scale - f) <= 1e-6 * abs(f)]
            return f": it is the reference times {named[0][0]} (a missing factor?)" if named else ""
        shown = f"{scale.real:.6g}" if abs(scale.imag) < 1e-12 * abs(scale) else f"{complex(scale):.6g}"
        return f": it is the reference times {shown} (a missing factor?)"
    return ""


def _sorted(values: np.ndarray) -> np.ndarray:
    return np.sort_complex(values) if np.iscomplexobj(values) else np.sort(values)


def compare_array(exercise: str, name: str, got, expected, *, rtol: float = 1e-8, atol: float = 1e-10,
                  order_matters: bool = True, hint: str = "") -> Feedback:
    """An array against the reference (entrywise ``|got - expected| <= atol + rtol |expected|``).

    Says, in this order, what is first wrong: no answer, not numeric, a shape, NaN or inf entries, the
    right values in another order (when ``order_matters``; otherwise both are sorted first), a sign, a conjugate or a factor, and otherwise
    the largest deviation and its index.
    """
    if unanswered(got):
        return _no_answer(exercise, name)
    expected = np.asarray(expected)
    try:
        got = np.asarray(got, dtype=complex if np.iscomplexobj(expected) or np.iscomplexobj(got) else float)
    except (TypeError, ValueError):
        return not_yet(exercise, f"`{name}` should be an array of numbers, got {type(got).__name__}.")
    if got.shape != expected.shape:
        return not_yet(exercise, f"`{name}` has shape {got.shape}, the reference has shape {expected.shape}.")
    if not np.all(np.isfinite(got)):
        return not_yet(exercise, f"`{name}` has {int(np.sum(~np.isfinite(got)))} NaN or infinite entries.")
    if not order_matters and got.ndim == 1:
        got, expected = _sorted(got), _sorted(expected)
    error = np.abs(got - expected)
    bound = atol + rtol * np.abs(expected)
    if np.all(error <= bound):
        return correct(exercise, f"`{name}` agrees with the reference (largest deviation {error.max():.2g}).")
    tol = atol + rtol * float(np.abs(expected).max(initial=0.0))
    if order_matters and got.ndim == 1 and np.allclose(_sorted(got), _sorted(expected), rtol=0, atol=tol):
        return not_yet(exercise, f"`{name}` holds the right values in another order.")
    relation = _relation(got, expected, tol)
    if relation:
        return not_yet(exercise, f"`{name}` differs from the reference{relation}.{(' ' + hint) if hint else ''}")
    where = np.unravel_index(int(np.argmax(error - bound)), error.shape)
    at = where[0] if len(where) == 1 else tuple(int(i) for i in where)
    return not_yet(exercise, f"`{name}` differs from the reference by up to {error.max():.3g} "
                   f"(at index {at}: {got[where]:.6g} instead of {expected[where]:.6g})."
                   f"{(' ' + hint) if hint else ''}")
