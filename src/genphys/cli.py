"""Command-line arguments checked as the package checks its arguments (infrastructure).

``argparse`` ``type=`` functions built on :mod:`genphys.validate`: a value out of range becomes
argparse's one-line usage error (``error: argument --n: must be an int >= 1, got 0``) instead
of a run that does the wrong thing.  :func:`fail` ends a command with one line, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn

from genphys import validate

__all__ = ["integer", "real", "fail"]


def _argument(parse: Callable[[str], object], check: Callable[[object], object], what: str):
    def convert(raw: str):
        try:
            value = parse(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {raw!r}") from None
        try:
            return check(value)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix("value ")) from None
    convert.__name__ = what
    return convert


def integer(low: int | None = None, high: int | None = None):
    """An argparse type: an int in ``[low, high]``."""
    return _argument(int, lambda v: validate.integer(v, "value", low=low, high=high), "an int")


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False):
    """An argparse type: a finite float in the range (``low`` excluded with ``low_open``)."""
    return _argument(float, lambda v: validate.real(v, "value", low=low, high=high, low_open=low_open),
                     "a number")


def fail(prog: str, err: BaseException | str, code: int = 1) -> NoReturn:
    """Print ``prog: error: <message>`` on stderr and exit with ``code``."""
    print(f"{prog}: error: {err}", file=sys.stderr)
    raise SystemExit(code)
