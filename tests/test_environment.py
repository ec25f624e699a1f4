import importlib.util

import genphys
from genphys import config, environment


def test_versions_name_python_and_the_installed_genphys():
    found = genphys.versions()
    assert found["genphys"] == genphys.__version__
    assert found["python"].count(".") == 2
    assert found["numpy"] is not None and found["scipy"] is not None          # the core
    # torch is optional (genphys[lm]): its version where it is installed, None where not
    assert (found["torch"] is not None) == (importlib.util.find_spec("torch") is not None)


def test_about_prints_and_returns_versions_device_and_scale(capsys):
    info = genphys.about()
    printed = capsys.readouterr().out
    assert info["scale"] == config.scale()
    assert info["device"] == environment.device_name()
    for key in ("python", "torch", "numpy", "genphys", "jupyter-book", "device", "scale"):
        assert key in info and key in printed
