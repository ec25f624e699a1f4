"""Spoil one argument at a time: the generator behind the signature-driven part of test_bad_inputs.

A :class:`Spec` names a public callable, a valid call (keyword arguments, built fresh each time)
and, per argument, what kind of value it takes (:class:`Arg`).  :func:`cases` spoils the
arguments one by one with the spoilers of their kind - a wrong type, NaN, inf, empty, a wrong
shape, out of range, huge - each with what must happen:

* ``ERROR``: a ``ValueError`` or ``TypeError`` whose message names the argument;
* ``ERROR_OR_ANSWER`` (a value inside the declared domain, e.g. 1e300 for a positive real):
  that error, or a returned result whose every number is finite and which agrees with the spec's
  reference (``oracle``) where it has one.

:func:`run_case` classifies what happened: ``clear`` (the named error), ``answer`` (a documented
answer), and the failures ``unnamed`` (ValueError/TypeError not naming the argument),
``unclear`` (any other exception: IndexError, LinAlgError, OverflowError, MemoryError, ...),
``silent`` (a result where an error was due, or a non-finite or wrong result) and ``timeout``.
"""

from __future__ import annotations

import dataclasses
import re
import signal
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse

ERROR, ERROR_OR_ANSWER = "error", "error or answer"
CLEAR, ANSWER = "clear", "answer"
FAILURES = ("unnamed", "unclear", "silent", "timeout")
NAN, INF = float("nan"), float("inf")
HUGE_INT = 10**15


@dataclass(frozen=True)
class Arg:
    """How one argument is spoiled.

    ``kind``: int, real, seed, flag, choice, text, callable, object, array, matrix, tokens, ops,
    mapping, strs, path.  ``low``/``high`` (with ``low_open``/``high_open``) bound numbers;
    ``none_ok``: None is valid; ``empty_ok``: an empty array is valid; ``complex_ok``: complex
    entries are valid; ``vocab``: the vocabulary size of tokens; ``ndims``: the array ranks allowed
    (default: the valid value's).
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none_ok: bool = False
    empty_ok: bool = False
    complex_ok: bool = False
    vocab: int | None = None
    ndims: tuple = ()
    huge_ok: bool = True


@dataclass
class Spec:
    """A public callable, a valid call and its arguments' kinds; ``oracle(kwargs, result)`` checks answers."""

    name: str
    call: Callable
    valid: Callable[[], dict]
    args: dict[str, Arg]
    oracle: Callable[[dict, Any], bool] | None = None
    extra: list = field(default_factory=list)      # (label, argument, kwargs overrides, expectation)


@dataclass(frozen=True)
class Case:
    spec: str
    argument: str
    label: str
    expect: str


def _inside(arg: Arg, x: float) -> bool:
    if arg.low is not None and (x <= arg.low if arg.low_open else x < arg.low):
        return False
    if arg.high is not None and (x >= arg.high if arg.high_open else x > arg.high):
        return False
    return True


def _spoil_array(value, arg: Arg):
    arr = np.asarray(value)
    out = []
    if arr.size:
        for label, bad in (("nan", NAN), ("inf", INF)):
            spoilt = arr.astype(complex if np.iscomplexobj(arr) else float).copy()
            spoilt.flat[arr.size // 2] = bad
            out.append((label, spoilt, ERROR))
        out.append(("strings", np.full(arr.shape, "x"), ERROR))
        if arg.huge_ok:
            out.append(("huge", arr.astype(complex if np.iscomplexobj(arr) else float) * 1e300 + 1e300, ERROR_OR_ANSWER))
        if not np.iscomplexobj(arr) and not arg.complex_ok:
            out.append(("complex", arr + 1j, ERROR))
    out.append(("str", "abc", ERROR))
    if not arg.none_ok:
        out.append(("None", None, ERROR))
    ndims = arg.ndims or (arr.ndim,)
    if arr.ndim + 1 not in ndims:
        out.append(("extra axis", arr[None], ERROR))
    if arr.ndim >= 1 and arr.ndim - 1 not in ndims:
        out.append(("one axis less", arr.reshape(arr.shape[:-2] + (-1,)) if arr.ndim >= 2 else
                    (arr.flat[0] if arr.size else 0.0), ERROR))
    empty = np.zeros((0,) * max(arr.ndim, 1))
    out.append(("empty", empty, ERROR_OR_ANSWER if arg.empty_ok else ERROR))
    return out


def spoilers(value, arg: Arg) -> list[tuple[str, Any, str]]:
    """(label, spoiled value, expectation) for one argument of kind ``arg`` whose valid value is ``value``."""
    k = arg.kind
    out: list[tuple[str, Any, str]] = []
    if k in ("int", "seed"):
        out += [("str", "1", ERROR), ("float", 1.5, ERROR), ("bool", True, ERROR), ("nan", NAN, ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
        low = 0 if k == "seed" else arg.low
        high = 2**32 - 1 if k == "seed" else arg.high
        if low is not None:
            out.append(("below", int(low) - 1, ERROR))
        if high is not None:
            out.append(("above", int(high) + 1, ERROR))
        if high is None or HUGE_INT <= high:
            out.append(("huge", HUGE_INT, ERROR_OR_ANSWER if arg.huge_ok else ERROR))
        if low is None:
            out.append(("-huge", -HUGE_INT, ERROR_OR_ANSWER if arg.huge_ok else ERROR))
    elif k in ("real", "number"):
        out += [("str", "1.0", ERROR), ("bool", True, ERROR), ("list", [1.0], ERROR),
                ("nan", NAN, ERROR), ("inf", INF, ERROR), ("-inf", -INF, ERROR)]
        out += [("complex", 1 + 1j, ERROR)] if k == "real" else [("complex nan", complex(1, NAN), ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
        if arg.low is not None:
            out.append(("below", arg.low if arg.low_open else arg.low - 1.0, ERROR))
        if arg.high is not None:
            out.append(("above", arg.high if arg.high_open else arg.high + 1.0, ERROR))
        for label, x in (("huge", 1e300), ("-huge", -1e300), ("tiny", 1e-300), ("-tiny", -1e-300)):
            if _inside(arg, x):
                out.append((label, x, ERROR_OR_ANSWER if arg.huge_ok else ERROR))
            elif label in ("huge", "-huge"):
                out.append((label, x, ERROR))
    elif k == "flag":
        out += [("int", 1, ERROR), ("str", "yes", ERROR), ("None", None, ERROR)]
    elif k == "choice":
        out += [("unknown", "no-such-option", ERROR), ("int", 3, ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "text":
        out += [("int", 3, ERROR), ("bytes", b"x", ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "callable":
        out += [("int", 3, ERROR), ("str", "f", ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "object":
        out += [("object", object(), ERROR), ("str", "x", ERROR), ("int", 3, ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k in ("array", "matrix"):
        out += _spoil_array(value, arg)
        if k == "matrix":
            arr = np.asarray(value)
            if arr.ndim == 2 and arr.shape[1] > 0:
                out.append(("not square", np.hstack([arr, arr[:, :1]]), ERROR))
    elif k == "tokens":
        seq = list(value)
        V = arg.vocab
        out += [("str", "01", ERROR), ("float token", seq[:-1] + [0.7] if seq else [0.7], ERROR),
                ("negative token", seq + [-1], ERROR), ("nan token", seq + [NAN], ERROR),
                ("token of a dict", {0: 1}, ERROR), ("bool token", seq + [True], ERROR)]
        if V is not None:
            out.append(("token >= V", seq + [V], ERROR))
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "ops":                                       # a sequence of square matrices
        seq = list(value)
        m = np.asarray(seq[0])
        out += [("one matrix", m, ERROR), ("nan", [np.full(m.shape, NAN)], ERROR),
                ("mixed sizes", [np.eye(m.shape[0]), np.eye(m.shape[0] + 1)], ERROR), ("str", "abc", ERROR),
                ("int", 3, ERROR), ("strings", [np.full(m.shape, "x")], ERROR)]
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "mapping":                                   # history -> probability
        items = dict(value)
        key = next(iter(items))
        out += [("not a mapping", [1, 2], ERROR), ("negative probability", {**items, key: -0.5}, ERROR),
                ("nan probability", {**items, key: NAN}, ERROR), ("above one", {**items, key: 1.5}, ERROR),
                ("str key", {**items, "ab": 0.0}, ERROR), ("negative token", {**items, (-1,): 0.0}, ERROR),
                ("float token", {**items, (0.5,): 0.0}, ERROR), ("str probability", {**items, key: "x"}, ERROR)]
        if arg.vocab is not None:
            out.append(("token >= V", {**items, (arg.vocab,): 0.0}, ERROR))
        if not arg.none_ok:
            out.append(("None", None, ERROR))
    elif k == "strs":                                      # a sequence of str
        out += [("one str", "abc", ERROR), ("ints", [1, 2], ERROR), ("None", None, ERROR), ("int", 3, ERROR)]
    elif k == "path":
        out += [("int", 3, ERROR), ("None", None, ERROR), ("list", ["a"], ERROR)]
    else:
        raise ValueError(f"unknown argument kind {k!r}")
    return out


def cases(spec: Spec) -> list[tuple[Case, dict]]:
    """Every spoiled call of ``spec`` (one argument at a time), plus its explicit extra cases."""
    valid = spec.valid()
    out = [(Case(spec.name, name, label, expect), {name: bad})
           for name, arg in spec.args.items() for label, bad, expect in spoilers(valid[name], arg)]
    out += [(Case(spec.name, name, label, expect), overrides) for label, name, overrides, expect in spec.extra]
    return out


def finite(value, _depth: int = 0) -> bool:
    """Whether every number in ``value`` (arrays, sparse matrices, containers, dataclasses) is finite."""
    if _depth > 6:
        return True
    if isinstance(value, (bool, np.bool_, str, bytes, type(None))):
        return True
    if isinstance(value, (int, np.integer)):
        return True
    if isinstance(value, (float, complex, np.floating, np.complexfloating)):
        return bool(np.isfinite(value))
    if scipy.sparse.issparse(value):
        return bool(np.all(np.isfinite(value.data)))
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            return bool(np.all(np.isfinite(value)))
        if value.dtype == object:
            return all(finite(v, _depth + 1) for v in value.flat)
        return True
    if hasattr(value, "detach"):                          # a torch tensor
        return finite(value.detach().cpu().numpy(), _depth + 1)
    if isinstance(value, dict):
        return all(finite(v, _depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(finite(v, _depth + 1) for v in value[:10_000])
    if dataclasses.is_dataclass(value):
        return all(finite(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value))
    return True


def names(message: str, argument: str) -> bool:
    """Whether ``message`` names ``argument`` (as a word; ``x.y`` names ``y``)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message) is not None


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_case(spec: Spec, case: Case, overrides: dict, timeout_s: int = 20) -> tuple[str, str]:
    """(outcome, detail) of one spoiled call."""
    kwargs = {**spec.valid(), **overrides}
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        with np.errstate(all="ignore"):
            result = spec.call(**kwargs)
            if hasattr(result, "__next__"):                 # a generator: its first item is the call's work
                result = next(result)
    except _Timeout:
        return "timeout", f"no answer within {timeout_s} s"
    except (ValueError, TypeError) as err:
        text = str(err)
        if names(text, case.argument):
            return CLEAR, text
        return "unnamed", f"{type(err).__name__}: {text}"
    except Exception as err:  # noqa: BLE001 - classifying every other exception is the point
        return "unclear", f"{type(err).__name__}: {str(err)[:200]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if case.expect == ERROR:
        return "silent", f"returned {type(result).__name__} {_short(result)}"
    if spec.oracle is None and not finite(result):
        return "silent", f"returned a non-finite result {_short(result)}"
    if spec.oracle is not None:                            # the reference decides, non-finite answers included
        try:
            ok = spec.oracle(kwargs, result)
        except Exception as err:  # noqa: BLE001
            return "silent", f"the reference failed on this answer: {type(err).__name__}: {err}"
        if not ok:
            return "silent", f"returned {_short(result)}, which disagrees with the reference"
    return ANSWER, _short(result)


def _short(value) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) < 120 else text[:117] + "..."


def tally(outcomes) -> dict:
    """Counts of each outcome: clear errors, documented answers, and each kind of failure."""
    counts = {CLEAR: 0, ANSWER: 0, **{f: 0 for f in FAILURES}}
    for outcome in outcomes:
        counts[outcome] += 1
    counts["failures"] = sum(counts[f] for f in FAILURES)
    counts["total"] = counts[CLEAR] + counts[ANSWER] + counts["failures"]
    return counts
