"""Files that a crash cannot leave half-written, and folders one writer at a time (infrastructure).

:func:`atomic_open` writes to a temporary file in the target's folder, flushes and fsyncs it, and
only then renames it over the target (``os.replace`` is atomic on POSIX and Windows): a reader
sees the old file or the new one, never a part.  If the writer fails, the temporary file is
removed; a process killed mid-write leaves one named ``.<name>.<random>.tmp``, which
:func:`remove_stale_temporaries` clears.

:func:`folder_lock` marks a folder as being written by this process: a lock file created with
``O_EXCL`` holding the pid and host.  A second writer fails at once with an error naming the
folder; the lock of a process that no longer runs (on this host) is taken over.

:func:`strict_json` writes JSON that every parser reads: NaN and infinities become ``null``;
:func:`strict_loads` reads JSON and refuses the ``NaN`` and ``Infinity`` literals that :func:`json.loads` accepts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import IO, Iterator

from genphys import validate

__all__ = ["atomic_open", "atomic_write_text", "atomic_write_bytes", "remove_stale_temporaries", "DiskFull",
           "FolderLocked", "folder_lock", "LOCK_FILE", "strict_json", "strict_loads"]

TMP_SUFFIX = ".tmp"
#: The file that marks a folder as in use by one writer (:func:`folder_lock`).
LOCK_FILE = ".genphys.lock"


def _path(path, name: str = "path") -> Path:
    return Path(validate.instance(path, name, (str, os.PathLike), "a file path"))


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DiskFull(OSError):
    """A write found no space left on the device (or the quota spent); the target file was not touched."""


#: The errors of a full disk or a spent quota.
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", *, encoding: str = "utf-8") -> Iterator[IO]:
    """A handle to write ``path`` atomically: ``with atomic_open(p) as f: f.write(...)``.

    ``mode`` is ``"w"`` (text, ``encoding``, ``\\n`` line ends) or ``"wb"``.  The target appears
    (or is replaced) only when the block ends without an exception.  A full disk (or spent quota)
    is a :class:`DiskFull` saying so in one line; the target keeps its previous version.
    """
    path = _path(path)
    validate.one_of(mode, "mode", ("w", "wb"))
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    except OSError as err:
        raise _disk_full(err, path) from None
    try:
        text = mode == "w"
        with os.fdopen(fd, mode, **({"encoding": encoding, "newline": "\n"} if text else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.errno in _NO_SPACE:
            raise _disk_full(err, path) from None
        raise
    _fsync_folder(folder)


def _disk_full(err: OSError, path: Path) -> OSError:
    """``err`` as a one-line :class:`DiskFull` when the disk is full, else ``err`` itself."""
    if err.errno not in _NO_SPACE:
        return err
    full = DiskFull(f"the disk is full (no space left on the device): {path} was not written; "
                    f"{'its previous version is intact' if path.exists() else 'no partial file was left'}")
    full.errno = err.errno
    return full


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    validate.instance(data, "data", (bytes, bytearray), "bytes")
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (``\\n`` line ends); return the path."""
    validate.text(text, "text")
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


def remove_stale_temporaries(folder) -> list[Path]:
    """Delete the temporary files that writers killed mid-write left in ``folder``; return them."""
    folder = _path(folder, "folder")
    stale = [p for p in folder.glob(f".*{TMP_SUFFIX}") if p.is_file()] if folder.is_dir() else []
    for p in stale:
        with contextlib.suppress(OSError):
            p.unlink()
    return stale


class FolderLocked(RuntimeError):
    """Another live process is writing to the folder."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:            # it exists, under another user
        return True
    except OSError:
        return True
    return True


def _owner(lock: Path) -> tuple[int, str] | None:
    """``(pid, host)`` written in a lock file, or None while it is empty or unreadable."""
    try:
        pid, host = lock.read_text(encoding="utf-8").split(maxsplit=1)
        return int(pid), host.strip()
    except (OSError, ValueError):
        return None


def _take(lock: Path) -> bool:
    """Create the lock file (O_EXCL) with this process's pid and host; False if it exists."""
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as err:
        raise _disk_full(err, lock) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {socket.gethostname()}\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        with contextlib.suppress(OSError):
            lock.unlink()
        raise _disk_full(err, lock) from None
    return True


@contextlib.contextmanager
def folder_lock(folder, what: str = "a run") -> Iterator[Path]:
    """Hold ``folder``'s lock file for the block; :class:`FolderLocked` names the folder if it is taken.

    A lock whose pid no longer runs on this host is stale and taken over.  A lock of another
    host, or one that cannot be read, is respected: the message says which file to delete.
    """
    folder = _path(folder, "folder")
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    for _ in range(3):
        if _take(lock):
            break
        owner = _owner(lock)
        if owner is not None and owner[1] == socket.gethostname() and not _alive(owner[0]) \
                and owner[0] != os.getpid():
            stale = lock.with_name(f"{LOCK_FILE}.{os.getpid()}.stale")
            with contextlib.suppress(FileNotFoundError):
                os.replace(lock, stale)
                if _owner(stale) != owner:           # another process took it over meanwhile: give it back
                    with contextlib.suppress(OSError):
                        os.link(stale, lock)
                stale.unlink()
            continue
        who = f"process {owner[0]} on {owner[1]}" if owner else "another process"
        raise FolderLocked(f"{folder} is in use: {what} of {who} is writing to it "
                           f"(lock file {lock}; delete it only if no such process runs)")
    else:
        raise FolderLocked(f"{folder} is in use: could not take its lock file {lock}")
    try:
        yield lock
    finally:
        if _owner(lock) == (os.getpid(), socket.gethostname()):
            with contextlib.suppress(OSError):
                lock.unlink()


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def strict_json(value, *, default=None, **dump_options) -> str:
    """``value`` as strict JSON text: NaN and infinities become ``null`` (JSON has no such numbers).

    ``default`` converts values JSON does not know (as in :func:`json.dumps`); it is applied
    first, so non-finite floats inside arrays become ``null`` too.
    """
    plain = json.loads(json.dumps(value, default=default))           # arrays, numpy scalars -> lists, floats
    return json.dumps(_finite_or_none(plain), allow_nan=False, **dump_options)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON (strict JSON has no NaN or Infinity)")


def strict_loads(text: str | bytes):
    """``text`` parsed as strict JSON: a ``NaN``, ``Infinity`` or ``-Infinity`` literal is a ValueError
    (:func:`json.loads` accepts them), as is text that is not JSON (:class:`json.JSONDecodeError`)."""
    validate.instance(text, "text", (str, bytes, bytearray), "JSON text (str or bytes)")
    return json.loads(text, parse_constant=_reject_constant)
