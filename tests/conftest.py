"""Shared pytest configuration for the genphys tests."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    """Deselect ``colab``-marked tests (tests/test_colab.py: minutes, and a venv of its own) unless the
    marker expression names them: ``pytest -m colab``."""
    if "colab" in (config.getoption("markexpr", "") or ""):
        return
    colab = [item for item in items if item.get_closest_marker("colab")]
    if colab:
        config.hook.pytest_deselected(items=colab)
        items[:] = [item for item in items if not item.get_closest_marker("colab")]
