"""genphys.files: atomic writes leave the old file or the new one, folder locks, strict JSON."""

import json
import math
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from genphys import files


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(files.TMP_SUFFIX))


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "a.txt"
    files.atomic_write_text(path, "old\n")
    files.atomic_write_text(path, "new é\n")
    assert path.read_bytes() == "new é\n".encode("utf-8")
    files.atomic_write_bytes(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff" and _leftovers(tmp_path) == []


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    files.atomic_write_text(path, "old\n")
    with pytest.raises(RuntimeError, match="disk"):
        with files.atomic_open(path) as handle:
            handle.write("half of the new")
            raise RuntimeError("disk full")
    assert path.read_text() == "old\n" and _leftovers(tmp_path) == []

    def crash(src, dst):
        raise OSError("crash between the temporary write and the rename")
    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="crash"):
        files.atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_a_killed_writer_leaves_only_a_temporary_that_is_cleared(tmp_path):
    path = tmp_path / "a.txt"
    files.atomic_write_text(path, "old\n")
    script = ("import os, sys\nfrom genphys import files\n"
              "files.os.replace = lambda a, b: os._exit(9)\n"
              "files.atomic_write_text(sys.argv[1], 'new\\n')\n")
    assert subprocess.run([sys.executable, "-c", script, str(path)]).returncode == 9
    assert path.read_text() == "old\n" and len(_leftovers(tmp_path)) == 1
    left = _leftovers(tmp_path)
    assert sorted(p.name for p in files.remove_stale_temporaries(tmp_path)) == left
    assert _leftovers(tmp_path) == [] and path.read_text() == "old\n"


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        files.atomic_write_text(tmp_path / "no_such_folder" / "a.txt", "x")
    with pytest.raises(TypeError, match="text must be a str"):
        files.atomic_write_text(tmp_path / "a.txt", b"x")
    with pytest.raises(TypeError, match="data must be bytes"):
        files.atomic_write_bytes(tmp_path / "a.txt", "x")
    with pytest.raises(TypeError, match="path must be a file path"):
        files.atomic_write_text(3, "x")
    with pytest.raises(ValueError, match="mode"):
        with files.atomic_open(tmp_path / "a.txt", "a"):
            pass
    with pytest.raises(TypeError, match="folder"):
        files.remove_stale_temporaries(None)
    with pytest.raises(TypeError, match="folder"):
        with files.folder_lock(1.5):
            pass


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_folder_lock_excludes_a_second_writer_and_is_released(tmp_path):
    with files.folder_lock(tmp_path) as lock:
        assert lock.read_text().split() == [str(os.getpid()), socket.gethostname()]
        with pytest.raises(files.FolderLocked, match=str(tmp_path)):
            with files.folder_lock(tmp_path):
                pass
        assert lock.exists()
    assert not lock.exists()
    with pytest.raises(KeyError):
        with files.folder_lock(tmp_path):
            raise KeyError("boom")
    assert not (tmp_path / files.LOCK_FILE).exists()


def test_a_stale_lock_is_taken_over_a_live_or_foreign_one_is_not(tmp_path):
    lock = tmp_path / files.LOCK_FILE
    lock.write_text(f"{_dead_pid()} {socket.gethostname()}\n")
    with files.folder_lock(tmp_path):
        assert lock.read_text().split()[0] == str(os.getpid())
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.write_text(f"{live.pid} {socket.gethostname()}\n")
        with pytest.raises(files.FolderLocked, match=f"process {live.pid}"):
            with files.folder_lock(tmp_path):
                pass
    finally:
        live.kill()
        live.wait()
    lock.write_text(f"{_dead_pid()} another-host\n")          # a pid of another machine cannot be checked
    with pytest.raises(files.FolderLocked, match="another-host"):
        with files.folder_lock(tmp_path):
            pass
    lock.write_text("")                                         # being written by its owner right now
    with pytest.raises(files.FolderLocked, match="another process"):
        with files.folder_lock(tmp_path):
            pass
    assert lock.exists()                                        # a lock not ours is never deleted


def test_strict_json_has_no_nan_or_infinity():
    value = {"a": float("nan"), "b": [1.5, float("inf"), -float("inf")], "c": np.array([0.25, np.nan])}
    text = files.strict_json(value, default=lambda o: o.tolist())
    assert json.loads(text, parse_constant=pytest.fail) == {"a": None, "b": [1.5, None, None], "c": [0.25, None]}
    assert files.strict_json({"x": 0.1 + 0.2}) == json.dumps({"x": 0.1 + 0.2})       # finite floats exactly
    assert math.isfinite(json.loads(files.strict_json(1e308))) and "NaN" not in files.strict_json([math.nan])


def test_strict_loads_refuses_nan_and_infinity():
    assert files.strict_loads('{"a": [1.5, null]}') == {"a": [1.5, None]}
    assert files.strict_loads(files.strict_json({"x": float("nan")}).encode()) == {"x": None}
    for literal in ("NaN", "Infinity", "-Infinity"):
        assert json.loads(f"[{literal}]")                                    # what plain json.loads lets through
        with pytest.raises(ValueError, match=f"{literal} is not JSON"):
            files.strict_loads(f'{{"dev_bits_per_byte": {literal}}}')
    with pytest.raises(ValueError):
        files.strict_loads("{1: 2}")
    with pytest.raises(TypeError, match="text"):
        files.strict_loads({"a": 1})
