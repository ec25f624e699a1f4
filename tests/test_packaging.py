import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bookfiles import ROOT


def _requirements(text: str) -> list[str]:
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def test_package_dependencies_are_the_runtime_ranges_of_requirements():
    runtime_block = (ROOT / "requirements.txt").read_text().split("\n\n")[0]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == _requirements(runtime_block)


def test_book_tooling_is_jupyter_book_1():
    reqs = _requirements((ROOT / "requirements.txt").read_text())
    jb = [r for r in reqs if r.startswith("jupyter-book")]
    assert jb and jb[0].startswith("jupyter-book==1.")


def test_torch_is_a_range_so_colab_keeps_its_own_build():
    reqs = _requirements((ROOT / "requirements.txt").read_text())
    torch = [r for r in reqs if r.startswith("torch")]
    assert torch and "==" not in torch[0]


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

IMPORT_WITHOUT_TORCH = """
import sys
import genphys, genphys.config, genphys.plotting, genphys.artifacts
assert "torch" not in sys.modules, "import genphys imported torch"
print("ok")
"""


@pytest.mark.parametrize("script", [IMPORT_WITHOUT_IO, IMPORT_WITHOUT_TORCH], ids=["no-io", "no-torch"])
def test_importing_genphys_does_no_io_and_stays_light(script):
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(ROOT).parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
