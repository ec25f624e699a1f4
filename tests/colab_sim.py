"""A stand-in for Google Colab, for tests/test_colab.py: Colab's package versions in a virtual environment
(``.venv-colab``), a stand-in ``google.colab`` package, a local "remote" holding the working tree as a reader
would clone it, and a kernel on that environment that runs a chapter top to bottom with nbclient.

    python tests/colab_sim.py venv      # create (or reuse) .venv-colab and print how long it took
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bookfiles  # noqa: E402

ROOT = bookfiles.ROOT
VENV = ROOT / ".venv-colab"
STAMP = VENV / ".colab-pins"
PYTHON_VERSION = (3, 11)

# Colab ships a CUDA build of torch; here a CPU build (on this machine's disk: pip takes it without a
# download). Installed first and alone, as Colab's image has torch before anything else.
TORCH_PIN = "torch==2.13.0"
# Colab's versions of what it ships (and the book's runtime or setup cell touches). All of them install on
# Python 3.11 as pinned; none needed moving to a neighbour.
COLAB_PINS = [
    "numpy==2.1.3",
    "scipy==1.14.1",
    "matplotlib==3.10.0",
    "ipywidgets==7.7.1",
    "ipython==7.34.0",
    "pandas==2.2.2",
    "ipykernel==6.17.1",
]
# What pip must leave as Colab had it after `pip install genphys[book]` (tests/test_colab.py asserts it):
# every pin, numpy, ipywidgets, ipython and torch first among them.
KEPT = dict(pin.split("==") for pin in [TORCH_PIN, *COLAB_PINS])
# What the setup cell installs; uninstalled before each run so the first chapter really installs.
INSTALLED_BY_SETUP = ["genphys", "myst-nb", "qutip", "pydmd"]

# The setup cell's two places, as tests/bookfiles.py writes them.
REPO_LINE = 'REPO_URL = "{}"'
HOME_LINE = 'HOME = "/content/genphys"'

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def venv_python() -> Path:
    return VENV / "bin" / "python"


def _base_python() -> str:
    """A Python 3.11 interpreter to create the environment from."""
    if sys.version_info[:2] == PYTHON_VERSION:
        return sys.executable
    found = shutil.which("python{}.{}".format(*PYTHON_VERSION))
    if not found:
        raise RuntimeError("no python3.11 on PATH to create .venv-colab from")
    return found


def _stamp_text() -> str:
    return "\n".join(["python {}.{}".format(*PYTHON_VERSION), TORCH_PIN, *COLAB_PINS]) + "\n"


def _pip(*args: str, log=print) -> None:
    command = [str(venv_python()), "-m", "pip", *args]
    log("== " + " ".join(command[1:]))
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def installed_versions(names) -> dict[str, str | None]:
    """The versions of ``names`` installed in .venv-colab (None where absent)."""
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: out[n] = None\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(venv_python()), "-c", code, *names], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _pins_hold() -> bool:
    have = installed_versions(list(KEPT))
    return all((have[n] or "").split("+")[0] == v for n, v in KEPT.items())


def ensure_venv(log=print) -> float:
    """Create ``.venv-colab`` with Colab's versions, or reuse it when its stamp holds today's pin list and
    the pins still hold. Returns the seconds spent creating it (0 when reused)."""
    if (venv_python().exists() and STAMP.is_file() and STAMP.read_text() == _stamp_text()
            and _pins_hold()):
        log(f"== reusing {VENV.name} (pins unchanged)")
        return 0.0
    start = time.perf_counter()
    shutil.rmtree(VENV, ignore_errors=True)
    log(f"== creating {VENV.name} with {_base_python()}")
    subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True)
    _pip("install", "-q", TORCH_PIN, log=log)          # first and alone: the CPU build from local disk
    _pip("install", "-q", *COLAB_PINS, log=log)
    if not _pins_hold():
        raise RuntimeError(f"{VENV.name}: the pins did not install as pinned: {installed_versions(list(KEPT))}")
    STAMP.write_text(_stamp_text())
    took = time.perf_counter() - start
    log(f"== {VENV.name} created in {took:.0f} s")
    return took


def uninstall_setup_packages(log=print) -> None:
    """Remove what the setup cell installs, so that it installs again."""
    _pip("uninstall", "-y", "-q", *INSTALLED_BY_SETUP, log=log)


def make_remote(dest: Path) -> str:
    """A git repository at ``dest`` holding the working tree's files as a reader would get them (tracked and
    untracked files that git does not ignore, uncommitted changes included); returns its ``file://`` URL
    (so that ``git clone --depth 1`` behaves as with a remote)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    dest.mkdir(parents=True)
    copied = 0
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():                      # deleted in the working tree, or a submodule
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    git = ["git", "-c", "user.name=colab-sim", "-c", "user.email=colab-sim@localhost",
           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "working tree"], cwd=dest, check=True)
    assert copied and (dest / "pyproject.toml").is_file(), "the stand-in remote holds no pyproject.toml"
    return dest.as_uri()


def write_google_stub(folder: Path) -> Path:
    """A ``google.colab`` package (with ``google.colab.drive.mount``) under ``folder``, for PYTHONPATH."""
    colab = folder / "google" / "colab"
    colab.mkdir(parents=True, exist_ok=True)
    # `google` stays a namespace that also finds any installed google.* package (protobuf, ...).
    (folder / "google" / "__init__.py").write_text(
        "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n")
    (colab / "__init__.py").write_text('"""Stand-in for Google Colab (tests/colab_sim.py)."""\n'
                                       "from . import drive  # noqa: F401\n")
    (colab / "drive.py").write_text(
        "import os\n\n\n"
        "def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):\n"
        "    os.makedirs(os.path.join(mountpoint, 'MyDrive'), exist_ok=True)\n"
        "    print(f'Mounted at {mountpoint}')\n")
    return folder


def colab_setup_cell(nb, repo_url: str, home: Path) -> str:
    """The notebook's own setup cell with REPO_URL and HOME replaced (each exactly once)."""
    first = next(c for c in nb.cells if c.cell_type == "code")
    source = first.source
    assert source.startswith(bookfiles.SETUP_MARKER), "the first code cell is not the Colab setup cell"
    repo_line = REPO_LINE.format(bookfiles.repository_url())
    for line in (repo_line, HOME_LINE):
        assert source.count(line) == 1, f"the setup cell does not hold {line!r} exactly once"
    source = source.replace(repo_line, REPO_LINE.format(repo_url)).replace(HOME_LINE, f'HOME = "{home}"')
    assert REPO_LINE.format(repo_url) in source and f'HOME = "{home}"' in source and HOME_LINE not in source
    return source


@dataclass
class Colab:
    """One simulated Colab runtime: a content folder (the kernel's cwd), the setup cell's HOME in it, the
    stand-in remote, and the kernel's environment."""
    content: Path
    home: Path
    repo_url: str
    stub: Path
    env: dict = field(default_factory=dict)

    @classmethod
    def create(cls, tmp: Path, repo_url: str) -> "Colab":
        content = tmp / "content"
        content.mkdir(parents=True, exist_ok=True)
        stub = write_google_stub(tmp / "colab-stub")
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
                if p and not p.startswith(str(ROOT / ".venv"))]
        env = {k: v for k, v in os.environ.items()
               if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX"}
               and not k.startswith("GENPHYS_") and not k.startswith("PYTEST_")}
        env.update(PATH=os.pathsep.join([str(VENV / "bin"), *path]), PYTHONPATH=str(stub),
                   GENPHYS_SCALE="tiny", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        return cls(content=content, home=content / "genphys", repo_url=repo_url, stub=stub, env=env)

    def kernel_manager(self):
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        kernels = self.stub.parent / "jupyter" / "kernels"
        spec = kernels / "colab-sim"
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [str(venv_python()), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (Colab stand-in)", "language": "python"}))
        ksm = KernelSpecManager(kernel_dirs=[str(kernels)])
        return AsyncKernelManager(kernel_name="colab-sim", kernel_spec_manager=ksm)


@dataclass
class Run:
    nb: object
    seconds: float
    cell_seconds: dict
    error: str | None = None          # "cell N: last lines" when a cell failed
    failed_cell: int | None = None


def execute(colab: Colab, nb, timeout: int = 300, allow_errors: bool = False) -> Run:
    """Run ``nb`` top to bottom in a fresh kernel on .venv-colab, cwd the content folder."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    starts: dict[int, float] = {}
    cell_seconds: dict[int, float] = {}

    def on_start(cell, cell_index):
        starts[cell_index] = time.perf_counter()

    def on_executed(cell, cell_index, execute_reply):
        cell_seconds[cell_index] = time.perf_counter() - starts[cell_index]

    client = NotebookClient(nb, km=colab.kernel_manager(), timeout=timeout, allow_errors=allow_errors,
                            kernel_name="colab-sim", resources={"metadata": {"path": str(colab.content)}},
                            on_cell_start=on_start, on_cell_executed=on_executed)
    start = time.perf_counter()
    try:
        client.execute(env=colab.env)
    except CellExecutionError as error:
        index = max(starts) if starts else None
        lines = [line for line in ANSI.sub("", str(error)).splitlines() if line.strip()]
        return Run(nb, time.perf_counter() - start, cell_seconds,
                   f"cell {index}: " + "\n".join(lines[-15:]), index)
    except Exception as error:   # a timeout or a dead kernel
        index = max(starts) if starts else None
        return Run(nb, time.perf_counter() - start, cell_seconds,
                   f"cell {index}: {type(error).__name__}: {ANSI.sub('', str(error))[-2000:]}", index)
    return Run(nb, time.perf_counter() - start, cell_seconds)


def code_notebook(*sources: str):
    """A notebook of code cells, for the setup cell's own checks."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


if __name__ == "__main__":
    if sys.argv[1:] == ["venv"]:
        print(f"{ensure_venv():.0f} s")
    else:
        sys.exit(__doc__)
