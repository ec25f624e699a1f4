"""Scale, seeds and device: the three knobs every chapter shares.

``GENPHYS_SCALE`` sizes every computation of the book:

* ``tiny`` - the tests (nbmake, CI): each notebook in at most 90 s on 2 CPU cores;
* ``cpu``  - the default without a GPU, the edition readers build: the whole book in 8 minutes on 2 cores;
* ``gpu``  - the default with CUDA: the real runs.

``GENPHYS_RUNS`` names the folder that training runs keep their checkpoints in (default
``runs``, relative to the working folder: the chapters run in ``book/``); on Colab a cell may
point it at a Google Drive folder so that the runs outlive the session.

``GENPHYS_ARTIFACTS`` names the folder of the book's committed results (``book/_artifacts`` of a
clone) for code that runs outside the repository: :func:`genphys.artifacts.locate` takes an
explicit ``root=`` first, then this variable, then the repository around the working folder.

This module is the only place in the package that reads the environment.  It reads
``GENPHYS_SCALE`` once, on first use, and caches the answer; ``GENPHYS_RUNS`` and
``GENPHYS_ARTIFACTS`` are read at every call, so that they may be set after ``import genphys``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import sys
from pathlib import Path
from typing import TypeVar

#: The three scales, smallest first.
SCALES = ("tiny", "cpu", "gpu")
#: The environment variable that sets the scale.
ENV_VAR = "GENPHYS_SCALE"
#: The environment variable that names the folder of training runs.
RUNS_VAR = "GENPHYS_RUNS"
#: The folder of training runs when ``GENPHYS_RUNS`` is unset (relative to the working folder).
DEFAULT_RUNS = Path("runs")
#: The environment variable that names the folder of committed results (``book/_artifacts``).
ARTIFACTS_VAR = "GENPHYS_ARTIFACTS"

__all__ = ["SCALES", "ENV_VAR", "RUNS_VAR", "DEFAULT_RUNS", "ARTIFACTS_VAR", "validate_scale", "cuda_available",
           "scale", "runs_folder", "artifacts_folder", "by_scale", "device", "seed_everything", "one_torch_thread"]

T = TypeVar("T")


def validate_scale(name: object) -> str:
    """Return ``name`` normalised to one of :data:`SCALES`, or raise a clear error."""
    if not isinstance(name, str):
        raise TypeError(f"scale must be a string, one of {SCALES}; got {type(name).__name__}")
    scale_name = name.strip().lower()
    if scale_name not in SCALES:
        raise ValueError(f"unknown scale {name!r}: {ENV_VAR} must be one of {', '.join(SCALES)}")
    return scale_name


def cuda_available() -> bool:
    """Whether torch is importable and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@functools.cache
def scale() -> str:
    """The book's scale: ``$GENPHYS_SCALE`` if set, else ``gpu`` with CUDA and ``cpu`` without.

    Read once per process; ``scale.cache_clear()`` makes the next call read again.
    """
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        return validate_scale(value)
    return "gpu" if cuda_available() else "cpu"


def _folder(var: str, what: str) -> Path | None:
    """The folder ``$var`` names (``~`` expanded), None if unset; a set but blank value is a ValueError
    (it names no folder, and a fallback would silently put the files elsewhere)."""
    value = os.environ.get(var)
    if value is None:
        return None
    if not value.strip():
        raise ValueError(f"{var} must name a folder ({what}); got {value!r}")
    return Path(value).expanduser()


def runs_folder() -> Path:
    """The folder of training runs: ``$GENPHYS_RUNS`` if set (``~`` expanded), else ``runs``.

    Read at every call (not cached), so that a chapter may set it after ``import genphys``.
    """
    found = _folder(RUNS_VAR, f"or be unset for {DEFAULT_RUNS}/")
    return DEFAULT_RUNS if found is None else found


def artifacts_folder() -> Path | None:
    """The folder of committed results that ``$GENPHYS_ARTIFACTS`` names (``~`` expanded), or None if unset.

    Read at every call (not cached).  Whether the folder exists is for :func:`genphys.artifacts.locate` to say.
    """
    return _folder(ARTIFACTS_VAR, "the book's book/_artifacts, or be unset")


def by_scale(*, tiny: T, cpu: T, gpu: T) -> T:
    """Pick the value for the current scale: ``by_scale(tiny=200, cpu=20_000, gpu=2_000_000)``."""
    return {"tiny": tiny, "cpu": cpu, "gpu": gpu}[scale()]


def device():
    """The torch device the book computes on: ``cuda`` when available, else ``cpu``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> int:
    """Seed Python's, NumPy's and torch's (CPU and CUDA) generators; return ``seed``.

    NumPy code in genphys takes explicit ``numpy.random.Generator`` objects; this
    only fixes the legacy global generators that third-party code may use.
    """
    from genphys import validate

    seed = validate.seed(seed)
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return seed
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


@contextlib.contextmanager
def one_torch_thread():
    """Run torch on one thread inside the block (nothing if torch is not imported).

    Tiny models run many times faster than on contended cores, and NumPy's LAPACK is not
    slowed down by torch's idle OpenMP workers competing for the same cores.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
