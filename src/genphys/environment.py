"""What the book runs on: library versions, device and scale (``genphys.about()``)."""

from __future__ import annotations

import platform
from importlib import metadata

from genphys import config

__all__ = ["device_name", "versions", "about"]

_DISTRIBUTIONS = ("genphys", "torch", "numpy", "scipy", "matplotlib", "jupyter-book")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def device_name() -> str:
    """A readable name of the compute device, e.g. ``cpu`` or ``cuda (NVIDIA H100 80GB HBM3)``."""
    try:
        import torch
    except ImportError:
        return "cpu (torch not installed)"
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def versions() -> dict[str, str | None]:
    """Versions of Python and of the libraries the book depends on (``None`` when absent)."""
    found = {"python": platform.python_version()}
    found.update({name: _version(name) for name in _DISTRIBUTIONS})
    return found


def about() -> dict[str, str | None]:
    """Print and return versions, device and scale: the first cell of every chapter calls it."""
    info = versions()
    info["device"] = device_name()
    info["scale"] = config.scale()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value if value is not None else '(not installed)'}")
    return info
