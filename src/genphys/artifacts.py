"""Load-or-train: committed results of long runs, with provenance.

A chapter that needs the result of a long run asks for it by name and by the
configuration that produced it::

    art = artifacts.load_or_run("ch7-comparison", cfg, lambda: train_all(cfg), save=SAVE)
    art.result, art.provenance, art.loaded

The result is loaded from ``<root>/<name>/`` when the stored
configuration equals ``cfg``; otherwise ``produce()`` runs (and, with
``save=True``, :func:`store` writes its result with provenance).  A corrupt or mismatched
artifact is never used silently: :func:`load` raises :class:`ArtifactError`
naming what is wrong, and :func:`load_or_run` turns that into an
:class:`ArtifactWarning` before it recomputes.

Each artifact is two strict JSON files (NaN and infinities are stored as ``null``), written
atomically: ``result.json`` and ``provenance.json`` (configuration, git commit, scale, device,
wall time, library versions, date, the SHA-256 of ``result.json`` and, in
``provenance_sha256``, the SHA-256 of the provenance itself without that field).  :func:`load`
checks both checksums and the provenance's fields (scale one of tiny/cpu/gpu, an ISO-8601 date,
a hex commit with an optional ``+dirty``, or ``unknown``).

Where the results are (:func:`locate`): ``root=`` when given, else ``$GENPHYS_ARTIFACTS``, else
``book/_artifacts`` of the book repository around the working folder (the chapters run in ``book/``).
Outside a clone, pass ``root=`` or set the variable; with neither, the error says so in one line.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from genphys import config as _config
from genphys import files, validate
from genphys.environment import device_name, versions

__all__ = ["Artifact", "ArtifactError", "ArtifactMissing", "ArtifactWarning", "RESULT_FILE", "PROVENANCE_FILE",
           "PROVENANCE_KEYS", "canonical", "check_provenance", "locate", "find_root", "load", "store", "load_or_run"]

#: The file of an artifact that holds its result.
RESULT_FILE = "result.json"
#: The file of an artifact that holds its provenance.
PROVENANCE_FILE = "provenance.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_COMMIT = re.compile(r"^([0-9a-f]{7,64}(\+dirty)?|unknown)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Provenance fields that :func:`store` writes; ``extra`` may not replace them.
PROVENANCE_KEYS = ("name", "config", "git_commit", "scale", "device", "wall_time_s", "versions", "date", "sha256",
                   "provenance_sha256")


class ArtifactError(RuntimeError):
    """An artifact that cannot be used: missing, corrupt, or made with another configuration."""


class ArtifactMissing(ArtifactError):
    """No artifact of that name has been stored."""


class ArtifactWarning(UserWarning):
    """A stored artifact was not used (corrupt or mismatched) and the result is being recomputed."""


@dataclass(frozen=True)
class Artifact:
    """A result with its provenance; ``loaded`` says whether it came from disk."""

    result: Any
    provenance: dict
    loaded: bool


def _to_json(obj: Any) -> Any:
    """JSON fallback for numpy and torch values: arrays and tensors become (nested) lists."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in an artifact; use numbers, strings, lists, dicts or arrays")


def canonical(value: Any) -> Any:
    """``value`` as it reads back from strict JSON (tuples and arrays become lists, numpy scalars numbers,
    NaN and infinities ``None``)."""
    return json.loads(files.strict_json(value, default=_to_json, sort_keys=True))


def _dumps(value: Any) -> str:
    return files.strict_json(value, default=_to_json, sort_keys=True, indent=1) + "\n"


def _config_json(config: Any) -> Any:
    """A configuration in canonical form; NaN or infinity in it is a ValueError (a key must compare equal)."""
    try:
        json.dumps(config, default=_to_json, allow_nan=False)
    except ValueError:
        raise ValueError("config holds NaN or an infinity; an artifact's configuration must be finite") from None
    return canonical(config)


def _provenance_digest(provenance: dict) -> str:
    """SHA-256 of the provenance without its own checksum field, in the stored (canonical) form."""
    body = {k: v for k, v in provenance.items() if k != "provenance_sha256"}
    return hashlib.sha256(_dumps(body).encode("utf-8")).hexdigest()


def check_provenance(provenance: Any, where: str) -> dict:
    """``provenance`` if its fields are well formed; else :class:`ArtifactError` naming ``where``."""
    def bad(what):
        raise ArtifactError(f"{where} is corrupt: {what}")
    if not isinstance(provenance, dict):
        bad("the provenance is not a JSON object")
    for key in ("config", "sha256", "provenance_sha256", "scale", "date", "git_commit"):
        if key not in provenance:
            bad(f"{PROVENANCE_FILE} lacks {key}" if key not in ("config", "sha256")
                else f"{PROVENANCE_FILE} lacks config or sha256")
    for key in ("sha256", "provenance_sha256"):
        if not isinstance(provenance[key], str) or not _SHA256.match(provenance[key]):
            bad(f"{key} must be 64 hex digits, got {provenance[key]!r}")
    digest = _provenance_digest(provenance)
    if digest != provenance["provenance_sha256"]:
        bad(f"{PROVENANCE_FILE} has SHA-256 {digest[:12]}... without its checksum field, "
            f"it records {provenance['provenance_sha256'][:12]}... (edited after it was stored)")
    if provenance["scale"] not in _config.SCALES:
        bad(f"scale must be one of {', '.join(_config.SCALES)}, got {provenance['scale']!r}")
    try:
        date = _dt.datetime.fromisoformat(provenance["date"])
    except (TypeError, ValueError):
        bad(f"date must be an ISO-8601 date-time, got {provenance['date']!r}")
    if date.tzinfo is None:
        bad(f"date must carry its time zone, got {provenance['date']!r}")
    if not isinstance(provenance["git_commit"], str) or not _COMMIT.match(provenance["git_commit"]):
        bad(f"git_commit must be a hex commit, optionally with +dirty, or 'unknown'; got {provenance['git_commit']!r}")
    versions = provenance.get("versions")
    if (not isinstance(versions, dict) or not isinstance(versions.get("python"), str)
            or not all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in versions.items())):
        bad(f"versions must map library names to version strings (or null), python's included; got {versions!r}")
    device = provenance.get("device")
    if not isinstance(device, str) or not device.strip():
        bad(f"device must name the device the result was computed on, got {device!r}")
    wall = provenance.get("wall_time_s", 0.0)
    if isinstance(wall, bool) or not isinstance(wall, (int, float)) or not math.isfinite(wall) or wall < 0:
        bad(f"wall_time_s must be a number >= 0, got {wall!r}")
    return provenance


def locate(root: Path | str | None = None, *, start: Path | str | None = None) -> tuple[Path, str]:
    """The folder of committed results, and in words how it was found: ``(folder, how)``.

    The first of, in this order:

    1. ``root``, when given (``--root`` on the command line);
    2. ``$GENPHYS_ARTIFACTS`` (read by :func:`genphys.config.artifacts_folder`);
    3. ``book/_artifacts`` of the book repository (a folder holding ``_toc.yml`` and ``book/``) that
       encloses ``start`` (default: the working folder);
    4. that of the repository genphys is installed from in editable mode (``pip install -e .``).

    When none applies, :class:`ArtifactMissing` says in one line what to do.  The folder need not
    exist yet (:func:`store` creates it).
    """
    if root is not None:
        validate.instance(root, "root", (str, Path), "a folder path")
        return Path(root).expanduser(), "the folder given"
    from_environment = _config.artifacts_folder()
    if from_environment is not None:
        return from_environment, f"${_config.ARTIFACTS_VAR}"
    if start is not None:
        validate.instance(start, "start", (str, Path), "a folder path")
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_book(folder):
            return folder / "book" / "_artifacts", f"the book repository around {here}"
    installed_from = Path(__file__).resolve().parents[2]
    if _is_book(installed_from):
        return installed_from / "book" / "_artifacts", "the book repository genphys is installed from"
    raise ArtifactMissing(
        f"no folder of committed results: pass root= (--root on the command line), set "
        f"{_config.ARTIFACTS_VAR} to a book/_artifacts folder, or work inside the book's repository "
        f"(none encloses {here})"
    )


def _is_book(folder: Path) -> bool:
    return (folder / "_toc.yml").is_file() and (folder / "book").is_dir()


def find_root(start: Path | str | None = None, *, root: Path | str | None = None) -> Path:
    """The folder of committed results, found as :func:`locate` finds it (``root``, then
    ``$GENPHYS_ARTIFACTS``, then the book repository around ``start`` or the working folder)."""
    return locate(root, start=start)[0]


def _folder(name: str, root: Path | str | None) -> tuple[Path, str]:
    """``<root>/<name>`` and how the root was found (:func:`locate`)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"artifact name must be lower-case letters, digits, '.', '_' or '-'; got {name!r}")
    found, how = locate(root)
    return found / name, how


def _git_commit(folder: Path) -> str:
    """The commit of the repository holding ``folder``, with ``+dirty`` for uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _differences(stored: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Readable list of the keys where two canonical configurations differ."""
    if isinstance(stored, dict) and isinstance(wanted, dict):
        out = []
        for key in sorted(set(stored) | set(wanted)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored:
                out.append(f"{path}: absent in the stored artifact, requested {wanted[key]!r}")
            elif key not in wanted:
                out.append(f"{path}: stored {stored[key]!r}, absent in the request")
            else:
                out.extend(_differences(stored[key], wanted[key], path))
        return out
    return [] if stored == wanted else [f"{prefix or 'config'}: stored {stored!r}, requested {wanted!r}"]


def load(name: str, config: Any, *, root: Path | str | None = None) -> Artifact:
    """Load artifact ``name`` if it exists, is intact and was made with ``config``; else raise ArtifactError.

    ``root`` is the folder of committed results; without it, :func:`locate` finds one
    (``$GENPHYS_ARTIFACTS``, then the book repository around the working folder).
    """
    folder, how = _folder(name, root)
    wanted = _config_json(config)
    result_path, provenance_path = folder / RESULT_FILE, folder / PROVENANCE_FILE
    if not result_path.is_file() or not provenance_path.is_file():
        raise ArtifactMissing(f"artifact {name!r} not found in {folder} ({how})")
    try:
        raw = result_path.read_bytes()
        provenance = files.strict_loads(provenance_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ArtifactError(f"artifact {name!r} in {folder} is corrupt: {provenance_path.name}: {err}") from err
    try:
        result = files.strict_loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        raise ArtifactError(f"artifact {name!r} in {folder} is corrupt: {result_path.name}: {err}") from err
    check_provenance(provenance, f"artifact {name!r} in {folder}")
    if provenance.get("name", name) != name:
        raise ArtifactError(f"artifact {name!r} in {folder} is corrupt: its provenance names {provenance['name']!r}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != provenance["sha256"]:
        raise ArtifactError(
            f"artifact {name!r} in {folder} is corrupt: {RESULT_FILE} has SHA-256 {digest[:12]}..., "
            f"its provenance records {str(provenance['sha256'])[:12]}..."
        )
    differences = _differences(provenance["config"], wanted)
    if differences:
        raise ArtifactError(f"artifact {name!r} was made with another configuration: " + "; ".join(differences))
    return Artifact(result=result, provenance=provenance, loaded=True)


def store(name: str, config: Any, result: Any, *, wall_time_s: float,
         root: Path | str | None = None, extra: dict | None = None) -> Artifact:
    """Write ``result`` and its provenance to ``<root>/<name>/``; return what a later :func:`load` gives.

    ``root`` defaults as in :func:`locate`.
    """
    folder, _ = _folder(name, root)
    wall_time_s = validate.real(wall_time_s, "wall_time_s", low=0)
    if extra is not None:
        validate.instance(extra, "extra", dict, "a dict")
        clash = sorted(set(extra) & set(PROVENANCE_KEYS))
        if clash:
            raise ValueError(f"extra must not replace the provenance fields {', '.join(clash)}")
    config = _config_json(config)
    text = _dumps(result)
    provenance = {
        "name": name,
        "config": config,
        "git_commit": _git_commit(folder.parent if folder.parent.exists() else Path.cwd()),
        "scale": _config.scale(),
        "device": device_name(),
        "wall_time_s": round(float(wall_time_s), 3),
        "versions": versions(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        **canonical(extra or {}),
    }
    provenance["provenance_sha256"] = _provenance_digest(provenance)
    folder.mkdir(parents=True, exist_ok=True)
    files.atomic_write_text(folder / RESULT_FILE, text)          # then the provenance that certifies it
    files.atomic_write_text(folder / PROVENANCE_FILE, _dumps(provenance))
    return Artifact(result=json.loads(text), provenance=provenance, loaded=False)


def load_or_run(name: str, config: Any, produce: Callable[[], Any], *, save: bool = False,
                rerun: bool = False, root: Path | str | None = None, extra: dict | None = None) -> Artifact:
    """The committed result of ``name`` when it matches ``config``; otherwise run ``produce()``.

    A missing artifact is recomputed quietly; a corrupt or mismatched one is
    reported with an :class:`ArtifactWarning` first.  With ``save=True`` the new
    result is written with provenance; with ``rerun=True`` nothing is loaded.
    """
    if not callable(produce):
        raise TypeError(f"produce must be a callable, got {type(produce).__name__}")
    save, rerun = validate.flag(save, "save"), validate.flag(rerun, "rerun")
    if not rerun:
        try:
            return load(name, config, root=root)
        except ArtifactMissing:
            pass
        except ArtifactError as err:
            warnings.warn(f"{err}; recomputing it", ArtifactWarning, stacklevel=2)
    start = time.perf_counter()
    result = produce()
    elapsed = time.perf_counter() - start
    if save:
        return store(name, config, result, wall_time_s=elapsed, root=root, extra=extra)
    provenance = {"name": name, "config": _config_json(config), "wall_time_s": round(elapsed, 3),
                  "scale": _config.scale(), "device": device_name()}
    return Artifact(result=canonical(result), provenance=provenance, loaded=False)
