"""Shared pytest configuration for the genphys tests."""

from __future__ import annotations

#: Markers whose tests take minutes and run in their own make targets; deselected unless named by -m.
OPT_IN = ("colab", "student")


def pytest_collection_modifyitems(config, items):
    """Deselect ``colab``-marked tests (tests/test_colab.py: minutes, and a venv of its own) and
    ``student``-marked ones (tests/test_student_versions.py: every chapter's student version executed)
    unless the marker expression names them: ``pytest -m colab``, ``pytest -m student``."""
    named = config.getoption("markexpr", "") or ""
    skipped = [m for m in OPT_IN if m not in named]
    chosen = [item for item in items if not any(item.get_closest_marker(m) for m in skipped)]
    if len(chosen) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = chosen
