"""The console commands (``[project.scripts]``) and ``python -m genphys``."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

import pytest

from bookfiles import ROOT
from genphys import commands
from test_api import MODULES

SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def test_every_console_command_is_declared_once_and_points_at_its_function():
    assert set(SCRIPTS) == set(commands.COMMANDS)
    for command, target in SCRIPTS.items():
        module, _, function = target.partition(":")
        assert module == "genphys.commands" and function == command.removeprefix("genphys-")
        assert callable(getattr(commands, function))


@pytest.mark.parametrize("command", sorted(commands.COMMANDS))
def test_a_command_runs_its_modules_main_and_exits_zero(command, monkeypatch):
    module_name = commands.COMMANDS[command][0]
    module = importlib.import_module(module_name)
    seen = []
    monkeypatch.setattr(module, "main", lambda argv=None: seen.append(argv) or {"a": "result, not a status"})
    function = getattr(commands, command.removeprefix("genphys-"))
    assert function(["--flag", "x"]) == 0                 # a returned dict would be exit status 1 otherwise
    assert function() == 0
    assert seen == [["--flag", "x"], None]                # None: main reads sys.argv itself


def test_a_commands_errors_keep_their_one_line_and_status(capsys):
    with pytest.raises(SystemExit) as stop:
        commands.sample(["--run", "/no/such/run"])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 1 and len(err.splitlines()) == 1 and "no/such/run" in err


def test_python_m_genphys_lists_modules_commands_and_extras_without_importing_them():
    script = ("import runpy, sys\n"
              "try:\n    runpy.run_module('genphys', run_name='__main__')\n"
              "except SystemExit as stop:\n    code = stop.code\n"
              "print('EXIT', code, sorted(m for m in sys.modules if m.startswith('genphys.') or m == 'torch'))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT.parent)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # only what `import genphys` imports (config, environment) and the commands module: no chapter, no torch
    assert out.splitlines()[-1] == "EXIT 0 ['genphys.commands', 'genphys.config', 'genphys.environment']"
    for name in MODULES:
        if name != "genphys":
            assert f"  {name} " in out, name
    for command in commands.COMMANDS:
        assert f"  {command} " in out
    assert "[lm]" in out and "[book]" in out and "Load-or-train: committed results of long runs" in out


def test_python_m_genphys_takes_no_arguments(capsys):
    assert commands.main(["train"]) == 2
    said = capsys.readouterr()
    assert said.err.strip() == "python -m genphys: error: takes no arguments, got train; the commands are listed below"
    assert "genphys-train" in said.out
    assert commands.main([]) == 0 and commands.main(["--help"]) == 0


def test_missing_extras_say_how_to_install_them(monkeypatch):
    monkeypatch.setattr(commands, "_installed", lambda module: module not in {"torch", "qutip"})
    text = commands.overview()
    assert '[lm]    missing torch: pip install "genphys[lm]"' in text
    assert '[book]  missing qutip: pip install "genphys[book]"' in text
