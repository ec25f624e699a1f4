"""Run the torch-free tests on other Pythons, each in a throwaway virtual environment that holds only
genphys's wheel, its core dependencies and its ``[test]`` extra (no torch, no matplotlib, no book tools).

    python tests/pythons.py 3.10 3.13        # `make pythons`; exit status 1 if any Python fails

The interpreters are pyenv's builds (``~/.pyenv/versions/3.X.*``), else ``python3.X`` on the PATH.  The tests
run are the files of tests/ whose imports, wherever they are in the file, stay within the standard
library, pytest, numpy, scipy, the oracles of ``[test]`` and the modules of chapters 1-6 (not
``genphys.lm``); the list is printed.  One line per Python says what passed and how long it took.
"""

from __future__ import annotations

import ast
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
#: Third-party modules a selected test may import: the core, pytest and the [test] extra's oracles.
ALLOWED = {"numpy", "scipy", "pytest", "qutip", "pydmd", "statsmodels", "yaml"}


def interpreter(version: str) -> Path:
    """The newest pyenv build of ``version``, else ``python<version>`` on the PATH (not a pyenv shim)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    builds = sorted(glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / "python")),
                    key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()])
    if builds:
        return Path(builds[-1])
    found = shutil.which(f"python{version}")
    if found and "/shims/" not in found:
        return Path(found)
    raise SystemExit(f"pythons: no Python {version}: no pyenv build under {pyenv / 'versions'} and no "
                     f"python{version} on the PATH")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def torch_free_tests() -> list[Path]:
    """The test files whose imports (and those of the local helpers they import) are all allowed."""
    local = {p.stem: p for p in TESTS.glob("*.py")}

    def allowed(path: Path, seen: frozenset = frozenset()) -> bool:
        for module in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in ALLOWED:
                continue
            if top == "genphys":
                if module == "genphys.lm" or module.startswith("genphys.lm."):
                    return False
                continue
            if top in local and top not in seen:
                if not allowed(local[top], seen | {path.stem}):
                    return False
                continue
            return False
        return True

    return [p for p in sorted(TESTS.glob("test_*.py")) if allowed(p)]


def scratch() -> str | None:
    """Where throwaway venvs go: memory (``/dev/shm``) where there is one - thousands of small files are
    written and deleted, which on this machine's disk takes minutes - else the default temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)


def build_wheel(folder: Path) -> Path:
    """genphys's wheel, built from a copy of what a clone holds (nothing is written into the repository)."""
    source = folder / "clone"
    source.mkdir()
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for name in ("pyproject.toml", project["readme"], *project["license-files"]):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src" / "genphys", source / "src" / "genphys",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", folder / "dist", source])
    if done.returncode:
        raise RuntimeError(f"building genphys's wheel failed:\n{done.stderr[-2000:]}")
    return next((folder / "dist").glob("genphys-*.whl"))


def check(version: str, wheel: Path, tests: list[Path], folder: Path) -> tuple[bool, str]:
    """Install the wheel with [test] into a fresh venv of Python ``version`` and run ``tests``; (ok, line)."""
    start = time.perf_counter()
    python = interpreter(version)
    venv = folder / f"venv-{version}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    steps = [([python, "-m", "venv", venv], "creating the venv"),
             ([venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[test]"], "installing genphys[test]")]
    for args, what in steps:
        done = _run(args, env=env)
        if done.returncode:
            return False, f"Python {version}: {what} failed: {done.stderr.strip().splitlines()[-1:]}"
    installed = time.perf_counter() - start
    done = _run([venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                cwd=ROOT, env=env)
    summary = (done.stdout.strip().splitlines() or ["no output"])[-1]
    if done.returncode:
        print(done.stdout[-6000:], done.stderr[-2000:], sep="\n")
    total = time.perf_counter() - start
    return done.returncode == 0, (f"Python {version} ({python}): {summary.strip('= ')}; "
                                  f"install {installed:.0f} s, total {total:.0f} s")


def main(versions: list[str]) -> int:
    if not versions:
        raise SystemExit("usage: python tests/pythons.py 3.10 3.13")
    tests = torch_free_tests()
    print(f"pythons: {len(tests)} torch-free test files: {' '.join(p.name for p in tests)}", flush=True)
    start, results = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="genphys-pythons-", dir=scratch()) as tmp:
        try:
            wheel = build_wheel(Path(tmp))
        except RuntimeError as err:
            raise SystemExit(f"pythons: {err}") from None
        print(f"pythons: built {wheel.name} in {time.perf_counter() - start:.0f} s", flush=True)
        for version in versions:
            ok, line = check(version, wheel, tests, Path(tmp))
            results.append(ok)
            print(line, flush=True)
    print(f"pythons: {sum(results)} of {len(results)} Pythons passed in {time.perf_counter() - start:.0f} s")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
