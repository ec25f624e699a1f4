"""The package as others install it: dependencies and extras, requirements.txt, and the built wheel.

``requirements.txt`` is what the Makefile installs before ``pip install --no-deps -e .``: its first
block must hold pyproject's core dependencies and the extras the book needs ([lm] and [book]) with the
same ranges.  The wheel tests build ``genphys`` from a copy of the sources, install it into a fresh
virtual environment and use it from an empty folder, as a reader who ran ``pip install`` would:

* with the core dependencies alone (numpy, scipy; about 30 s): every module of chapters 1-6 imports
  without torch or matplotlib, committed results load from an explicit location, and without one the
  error says in one line what to do;
* with ``[lm]`` (``-m slow``: torch's CPU build from local disk, about 90 s): ``genphys-train``,
  ``genphys-sample`` and ``genphys-compare --root`` work outside the repository.  It runs in
  ``make unit`` with the rest; ``pytest -m "not slow"`` leaves it out.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import pythons
from bookfiles import ROOT, toc_notebooks

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]
#: The CPU build of torch that lies on this kind of machine's disk (the Makefile's TORCH_CPU).
TORCH_CPU = "torch==2.13.0"


def _requirements(text: str) -> list[str]:
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def _name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def _runtime_block() -> list[str]:
    return _requirements((ROOT / "requirements.txt").read_text(encoding="utf-8").split("\n\n")[0])


def _book_needs() -> list[str]:
    """The core and the extras the book needs ([book] and the [lm] it names), without repeats."""
    own = canonicalize_name(PROJECT["name"])
    wanted = PROJECT["dependencies"] + EXTRAS["lm"] + [r for r in EXTRAS["book"] if _name(r) != own]
    return list(dict.fromkeys(wanted))


def test_the_core_is_numpy_and_scipy_and_book_brings_lm():
    assert {_name(r) for r in PROJECT["dependencies"]} == {"numpy", "scipy"}
    assert "genphys[lm]" in EXTRAS["book"]
    assert {_name(r) for r in EXTRAS["lm"]} == {"torch", "tokenizers", "datasets", "tqdm", "pandas"}


def test_requirements_hold_the_core_and_the_books_extras_with_the_same_ranges():
    runtime = _runtime_block()
    assert len(runtime) == len(set(runtime)), "requirements.txt's first block repeats a line"
    assert sorted(runtime) == sorted(_book_needs())


def test_the_test_extra_has_the_ranges_of_requirements():
    everything = _requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    assert not [r for r in EXTRAS["test"] if r not in everything]


def test_book_tooling_is_jupyter_book_1():
    reqs = _requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    jb = [r for r in reqs if r.startswith("jupyter-book")]
    assert jb and jb[0].startswith("jupyter-book==1.")


def test_torch_is_a_range_so_colab_keeps_its_own_build():
    reqs = _requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    torch = [r for r in reqs if r.startswith("torch")]
    assert torch and "==" not in torch[0]


def test_the_supported_pythons_are_declared():
    assert PROJECT["requires-python"] == ">=3.10"
    minors = sorted(int(c.rsplit(".", 1)[1]) for c in PROJECT["classifiers"]
                    if c.startswith("Programming Language :: Python :: 3."))
    assert minors == list(range(10, 14)) and sys.version_info[1] in minors
    assert PROJECT["license"] == "MIT" and all((ROOT / f).is_file() for f in PROJECT["license-files"])


def _chapter_imports() -> set[str]:
    """Top-level modules the chapters import (code cells; shell and magic lines left out)."""
    import ast

    found = set()
    for path in toc_notebooks():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                               if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found


def test_the_book_extra_brings_what_the_chapters_import():
    provided = {_name(r) for r in _book_needs()}
    for requirement in list(provided):                      # and what those bring (IPython with ipywidgets)
        for sub in importlib.metadata.requires(requirement) or []:
            if "extra ==" not in sub:
                provided.add(_name(sub))
    owners = importlib.metadata.packages_distributions()
    modules = _chapter_imports() - set(sys.stdlib_module_names) - {"genphys", "google"}   # google: Colab's own
    assert {"numpy", "matplotlib", "ipywidgets", "qutip", "torch"} <= modules
    unprovided = {m: owners.get(m) for m in modules
                  if not {canonicalize_name(d) for d in owners.get(m, [])} & provided}
    assert not unprovided, f"the chapters import these, genphys[book] does not bring them: {unprovided}"


IMPORT_WITHOUT_IO = """
import builtins, socket, sys
import matplotlib, matplotlib.pyplot, numpy, scipy.linalg, scipy.sparse, scipy.stats, pandas, tqdm
import torch, tokenizers  # third-party libraries may read their own settings at import
import pkgutil, importlib
def refuse(*args, **kwargs):
    raise AssertionError(f"I/O at import: {args[:1]}")
builtins.open = refuse
socket.socket.connect = refuse
import genphys
for module in pkgutil.walk_packages(genphys.__path__, "genphys."):
    importlib.import_module(module.name)
print("ok")
"""

#: Every module a chapter 1-6 reader needs, and the infrastructure: numpy and scipy only.
CORE_MODULES = ["histories", "stories", "channels", "fock", "spectral", "lindblad", "koopman", "measurement",
                "path_integral", "plotting", "artifacts", "config", "validate", "files", "cli", "environment",
                "commands", "lm", "lm.data", "lm.report", "lm.spectra"]

IMPORT_WITHOUT_TORCH = f"""
import importlib, sys
import genphys
for name in {CORE_MODULES!r}:
    importlib.import_module("genphys." + name)
heavy = [m for m in ("torch", "matplotlib", "pandas", "tokenizers", "datasets", "qutip") if m in sys.modules]
assert not heavy, f"importing genphys's core modules imported {{heavy}}"
print("ok")
"""


@pytest.mark.parametrize("script", [IMPORT_WITHOUT_IO, IMPORT_WITHOUT_TORCH], ids=["no-io", "no-torch"])
def test_importing_genphys_does_no_io_and_stays_light(script):
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(ROOT).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# --- the wheel, installed as a reader installs it ---------------------------------------------------

def _environment() -> dict:
    """This environment without genphys's own variables (no location given) and one thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENPHYS_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "OMP_NUM_THREADS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _run(args, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env or _environment(), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of genphys, built (``pip wheel --no-deps``) from a copy of what a clone holds."""
    return pythons.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def venv():
    """A new virtual environment, removed afterwards; its Python.  It lives in memory (/dev/shm) where
    there is one: deleting its thousands of files from this machine's disk takes a minute."""
    scratch = pythons.scratch()
    folder = Path(tempfile.mkdtemp(prefix="genphys-venv-", dir=scratch))
    try:
        _run([sys.executable, "-m", "venv", folder / "venv"], cwd=folder)
        yield folder / "venv" / "bin" / "python"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CORE_CHECK = f"""
import importlib, json, os, sys
from pathlib import Path
import genphys
for name in {CORE_MODULES!r}:
    importlib.import_module("genphys." + name)
heavy = sorted(m for m in ("torch", "matplotlib", "pandas", "tokenizers", "datasets", "qutip") if m in sys.modules)
from genphys import artifacts
root = Path(sys.argv[1])
config = json.loads((root / "ch03-benchmark" / "provenance.json").read_text())["config"]
given = artifacts.load("ch03-benchmark", config, root=root).loaded
try:
    artifacts.load("ch03-benchmark", config)
    message = None
except artifacts.ArtifactMissing as err:
    message = str(err)
os.environ["GENPHYS_ARTIFACTS"] = str(root)
named = artifacts.load("ch03-benchmark", config).loaded
print(json.dumps({{"heavy": heavy, "given": given, "named": named, "message": message, "file": genphys.__file__}}))
"""


def test_the_wheel_works_with_the_core_dependencies_alone(wheel, venv, tmp_path):
    _run([venv, "-m", "pip", "install", "-q", wheel], cwd=tmp_path)
    listed = json.loads(_run([venv, "-m", "pip", "list", "--format=json"], cwd=tmp_path).stdout)
    assert {p["name"].lower() for p in listed} - {"pip", "setuptools", "wheel"} == {"genphys", "numpy", "scipy"}
    empty = tmp_path / "empty"
    empty.mkdir()
    report = json.loads(_run([venv, "-c", CORE_CHECK, ROOT / "book" / "_artifacts"], cwd=empty).stdout)
    assert report["heavy"] == [] and report["given"] and report["named"]
    assert report["file"].startswith(str(venv.parents[1]))                         # the installed copy
    assert report["message"] == (
        "no folder of committed results: pass root= (--root on the command line), set GENPHYS_ARTIFACTS "
        f"to a book/_artifacts folder, or work inside the book's repository (none encloses {empty})")
    stories = _run([venv.parent / "genphys-stories", "--n", "2"], cwd=empty).stdout
    assert json.loads(stories.splitlines()[-1])["stories"] == 2
    overview = _run([venv, "-m", "genphys"], cwd=empty).stdout
    assert "genphys 0.1.0" in overview and "missing torch, tokenizers, datasets, tqdm, pandas" in overview
    assert not list(empty.iterdir())                                                  # nothing written there


@pytest.mark.slow
def test_the_wheel_with_lm_trains_samples_and_compares_outside_the_repository(wheel, venv, tmp_path):
    _run([venv, "-m", "pip", "install", "-q", TORCH_CPU], cwd=tmp_path)          # the CPU build first
    _run([venv, "-m", "pip", "install", "-q", f"{wheel}[lm]"], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {**_environment(), "GENPHYS_SCALE": "tiny"}
    trained = _run([venv.parent / "genphys-train", "--scale", "tiny", "--out", "run"], cwd=work, env=env).stdout
    assert json.loads(trained.splitlines()[-1])["final"]["step"] > 0
    sampled = _run([venv.parent / "genphys-sample", "--run", "run", "--n", "1", "--max-tokens", "8"], cwd=work, env=env)
    assert sampled.stdout.startswith("--- sample 0")
    results = work / "results"
    compared = _run([venv.parent / "genphys-compare", "--scale", "tiny", "--root", results, "--max-runs", "1",
                     "--kinds", "dissipative", "--workers", "1"], cwd=work, env=env).stdout
    assert compared.splitlines()[0] == f"compare: committed results in {results} (the folder given)"
    folder = results / "ch07-comparison-stories"
    assert (folder / "result.json").is_file() and len(list((folder / "runs").glob("dissipative-*.json"))) == 1
    assert sorted(p.name for p in work.iterdir()) == ["results", "run"]
