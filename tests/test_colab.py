"""Every chapter on a simulated Google Colab, top to bottom, as a reader runs it there.

Colab's package versions live in ``.venv-colab`` (tests/colab_sim.py: created once, reused while its pin
list is unchanged). The working tree, uncommitted work included, is committed to a temporary git repository
that stands in for GitHub; each chapter's own setup cell runs with REPO_URL pointed at it and HOME at a
temporary ``content/genphys``, after a stand-in ``google.colab`` is imported. The first chapter clones and
installs ``genphys[book]``; the later ones find genphys importable and skip, as within one Colab runtime.

Deselected unless asked for (tests/conftest.py); run serially, with -s for the table of times:

    .venv/bin/python -m pytest -m colab -s tests/test_colab.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import bookfiles
import colab_sim

pytestmark = pytest.mark.colab

CHAPTERS = bookfiles.toc_notebooks()
CELL_TIMEOUT = 300
TIMES_FILE = bookfiles.ROOT / "_build" / "colab-times.txt"


@pytest.fixture(scope="module")
def colab():
    """One Colab runtime for the whole module; prints and writes the table of times at the end."""
    start = time.perf_counter()
    venv_seconds = colab_sim.ensure_venv()
    # A folder of its own, not pytest's numbered tmp_path: other pytest runs of the same user prune those.
    tmp = Path(tempfile.mkdtemp(prefix="genphys-colab-"))
    url = colab_sim.make_remote(tmp / "remote")
    colab_sim.uninstall_setup_packages()
    assert colab_sim.installed_versions(["genphys"])["genphys"] is None
    runtime = colab_sim.Colab.create(tmp, url)
    runtime.times = []
    runtime.tmp = tmp
    yield runtime
    shutil.rmtree(tmp, ignore_errors=True)
    rows = [f"{'chapter':<24} {'seconds':>8} {'setup cell':>11} {'setup':>9} {'code cells':>11}  result"]
    rows += [f"{name:<24} {total:8.1f} {setup:11.1f} {what:>9} {cells:11d}  {result}"
             for name, total, setup, what, cells, result in runtime.times]
    rows.append(f"{'all chapters':<24} {sum(t[1] for t in runtime.times):8.1f}")
    rows.append(f".venv-colab: {'created in %.0f s' % venv_seconds if venv_seconds else 'reused'}; "
                f"whole module {time.perf_counter() - start:.0f} s")
    table = "\n".join(rows)
    print("\n== chapters on the Colab stand-in (GENPHYS_SCALE=tiny)\n" + table)
    TIMES_FILE.parent.mkdir(exist_ok=True)
    TIMES_FILE.write_text(table + "\n", encoding="utf-8")


def _genphys_installed() -> bool:
    return colab_sim.installed_versions(["genphys"])["genphys"] is not None


def _setup_source(colab, repo_url=None, home=None) -> str:
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    return colab_sim.colab_setup_cell(nb, repo_url or colab.repo_url, home or colab.home)


def _ensure_installed(colab) -> None:
    """When this module's tests run without the chapters: let the setup cell install, as the first would."""
    if not _genphys_installed():
        run = colab_sim.execute(colab, colab_sim.code_notebook("import google.colab", _setup_source(colab)),
                                timeout=CELL_TIMEOUT)
        assert run.error is None, run.error


AFTER_CHAPTER = """import json, os, genphys
print(json.dumps({"cwd": os.getcwd(), "genphys": genphys.__file__}))"""


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_on_colab(colab, path):
    nb = nbformat.read(path, as_version=4)
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[setup].source = colab_sim.colab_setup_cell(nb, colab.repo_url, colab.home)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import google.colab"))   # imported at Colab's start-up
    nb.cells.append(nbformat.v4.new_code_cell(AFTER_CHAPTER))
    installs = not _genphys_installed()                # the setup cell installs, or finds genphys and skips
    run = colab_sim.execute(colab, nb, timeout=CELL_TIMEOUT)
    code_cells = sum(c.cell_type == "code" for c in nb.cells) - 2
    colab.times.append((path.stem, run.seconds, run.cell_seconds.get(setup + 1, float("nan")),
                        "installs" if installs else "skips", code_cells,
                        "ok" if run.error is None else f"FAILED at cell {run.failed_cell - 1}"))
    if run.error is not None:
        where = run.failed_cell - 1                    # the index in the chapter's own cells
        pytest.fail(f"{path.name} fails on Colab at cell {where} (of {len(nb.cells) - 2}):\n"
                    + run.error.split(": ", 1)[1], pytrace=False)
    assert (colab.home / "pyproject.toml").is_file(), "the setup cell did not clone into HOME"
    last = json.loads(nb.cells[-1].outputs[0]["text"])
    assert last["cwd"] == str(colab.home / "book"), "the setup cell did not chdir into HOME/book"
    assert str(colab_sim.VENV) in last["genphys"] and "site-packages" in last["genphys"], \
        f"genphys was imported from {last['genphys']}, not from the install into .venv-colab"


def test_pip_kept_colab_packages(colab):
    """`pip install genphys[book]` upgraded none of Colab's packages, and genphys imports."""
    _ensure_installed(colab)
    have = colab_sim.installed_versions([*colab_sim.KEPT, "genphys", "myst-nb", "qutip", "pydmd"])
    changed = {n: have[n] for n, v in colab_sim.KEPT.items() if (have[n] or "").split("+")[0] != v}
    assert not changed, f"pip replaced Colab's versions: {changed} (Colab had {colab_sim.KEPT})"
    assert all(have[n] for n in ("genphys", "myst-nb", "qutip", "pydmd")), have
    done = subprocess.run([str(colab_sim.venv_python()), "-c", "import genphys; print(genphys.__version__)"],
                          cwd=colab.content, env=colab.env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    check = subprocess.run([str(colab_sim.venv_python()), "-m", "pip", "check"], capture_output=True, text=True)
    print(f"\n== pip check in .venv-colab after the install: {check.stdout.strip() or check.stderr.strip()}")


SPY = """import shutil, subprocess
_calls = []
def _spy(real):
    def spy(*args, **kwargs):
        _calls.append(repr(args[0] if args else kwargs))
        return real(*args, **kwargs)
    return spy
subprocess.run = _spy(subprocess.run)
shutil.rmtree = _spy(shutil.rmtree)"""

REPORT = """import json, os
print(json.dumps({"calls": _calls, "cwd": os.getcwd()}))"""


def test_setup_cell_twice_does_nothing(colab):
    """The second run of the setup cell, with genphys importable, neither clones nor installs."""
    _ensure_installed(colab)
    nb = colab_sim.code_notebook("import google.colab", _setup_source(colab), SPY, _setup_source(colab), REPORT)
    run = colab_sim.execute(colab, nb, timeout=CELL_TIMEOUT)
    assert run.error is None, run.error
    report = json.loads(nb.cells[-1].outputs[0]["text"])
    assert report["calls"] == [], f"the second run of the setup cell called {report['calls']}"
    assert report["cwd"] == str(colab.home / "book")


def test_setup_cell_failure_is_one_line(colab):
    """A clone that fails stops the cell with one line naming the step, without a traceback of pip or git."""
    home = colab.tmp / "empty" / "genphys"
    missing = (colab.tmp / "no-such-repository").as_uri()
    nb = colab_sim.code_notebook(
        "import google.colab",
        "import sys\nsys.modules['genphys'] = None   # genphys not importable, as on a fresh runtime",
        _setup_source(colab, repo_url=missing, home=home))
    run = colab_sim.execute(colab, nb, timeout=60, allow_errors=True)
    assert run.error is None, run.error
    outputs = nb.cells[-1].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert len(errors) == 1, outputs
    shown = colab_sim.ANSI.sub("", "\n".join([*errors[0].traceback,
                                              *(o.get("text", "") for o in outputs)]))
    assert errors[0].ename == "SystemExit", (
        f"the failed clone ends in {errors[0].ename}: {errors[0].evalue}, not in the setup cell's one line; "
        f"the reader sees:\n{shown[-3000:]}")
    message = errors[0].evalue
    assert message.startswith(f"genphys setup: cloning {missing} failed ("), message
    assert "\n" not in message and message.endswith("run this cell again"), message
    assert "Traceback (most recent call last)" not in shown and not re.search(r"\bpip\b", shown), shown
    assert not (home / "pyproject.toml").exists()
