"""A training run on disk: its configuration, its files, its checkpoint, and loading it back (chapter 7).

A run folder holds ``config.json`` (the :class:`TrainConfig` and the text the run actually
trained on), ``tokenizer.json``, ``checkpoint.pt`` (model, optimiser, scheduler, RNG states,
data position, the log, and a copy of the tokenizer) and ``metrics.json`` / ``metrics.csv``.
Every file is written atomically (:mod:`genphys.files`): a crash leaves the previous version or
the new one.  :mod:`genphys.lm.train` writes a run; :func:`load_run` reads it for evaluation and
sampling, and every problem with a file is one :class:`RunError` line naming the file.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from genphys import config, files, validate
from genphys.lm import tokenizer as lmtok
from genphys.lm.data import VALID_SEED
from genphys.lm.models import KINDS, ModelConfig, build_model

__all__ = ["RUN_FILES", "CHECKPOINT_KEYS", "RunError", "TrainConfig", "differences", "has_run", "save_checkpoint",
           "write_config", "write_logs", "read_checkpoint", "read_config", "read_tokenizer", "same_tokenizer",
           "load_run"]

CHECKPOINT = "checkpoint.pt"
CONFIG_FILE = "config.json"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
#: The files of a run folder (a folder holding any of them holds a run, finished or partial).
RUN_FILES = (CONFIG_FILE, lmtok.FILE, CHECKPOINT, METRICS_JSON, METRICS_CSV)
#: What every checkpoint holds.
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "rng", "step", "data_position", "history", "config",
                   "wall_time_s")
DATA_NAMES = ("stories", "tinystories")


class RunError(RuntimeError):
    """A run folder that cannot be used as asked: corrupt or inconsistent files, a run in the way."""


_POSITIVE = ("seq_len", "batch_size", "steps", "eval_every", "eval_stories", "checkpoint_every", "tokenizer_stories")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run (with the data spec and the seed)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    kind: str = "dissipative"
    data: str = "stories"
    seed: int = 0
    seq_len: int = 128
    batch_size: int = 8
    steps: int = 100
    lr: float = 3e-3
    warmup: int = 10
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    clip: float = 1.0
    eval_every: int = 50
    eval_stories: int = 64
    checkpoint_every: int = 50
    tokenizer_stories: int = 2000
    compile: bool = False

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)        # plain Python values, so to_dict is JSON
        validate.instance(self.model, "TrainConfig.model", ModelConfig, "a ModelConfig")
        validate.one_of(self.kind, "TrainConfig.kind", KINDS)
        validate.text(self.data, "TrainConfig.data", empty=False)
        if self.data not in DATA_NAMES and ("\n" in self.data or "\0" in self.data):
            raise ValueError(f"TrainConfig.data must be {' or '.join(map(repr, DATA_NAMES))} or a file path, "
                             f"got {self.data!r}")
        put("seed", validate.integer(self.seed, "TrainConfig.seed", low=0, high=VALID_SEED, high_open=True))
        for name in _POSITIVE:
            put(name, validate.integer(getattr(self, name), f"TrainConfig.{name}", low=1))
        put("warmup", validate.integer(self.warmup, "TrainConfig.warmup", low=0))
        put("lr", validate.real(self.lr, "TrainConfig.lr", low=0, low_open=True))
        put("min_lr_ratio", validate.real(self.min_lr_ratio, "TrainConfig.min_lr_ratio", low=0, high=1))
        put("weight_decay", validate.real(self.weight_decay, "TrainConfig.weight_decay", low=0))
        put("clip", validate.real(self.clip, "TrainConfig.clip", low=0, low_open=True))
        put("compile", validate.flag(self.compile, "TrainConfig.compile"))

    @property
    def tokens(self) -> int:
        """Training tokens seen by the whole run."""
        return self.steps * self.batch_size * self.seq_len

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """The configuration :meth:`to_dict` wrote: every field present (``model`` with every ModelConfig
        field), none unknown.  A stored configuration that lacks a field is refused, naming it: filling
        in defaults would train or load another run than the one stored."""
        validate.instance(d, "d", dict, "a dict")
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {', '.join(map(str, unknown))}")
        missing = [f.name for f in fields(cls) if f.name not in d]
        if missing:
            raise ValueError(f"TrainConfig fields missing: {', '.join(missing)} (a stored configuration holds every "
                             "field; defaults are not filled in)")
        model = validate.instance(d["model"], "d['model']", dict, "a dict")
        model_unknown = sorted(set(model) - {f.name for f in fields(ModelConfig)})
        if model_unknown:
            raise ValueError(f"unknown ModelConfig fields: {', '.join(map(str, model_unknown))}")
        model_missing = [f.name for f in fields(ModelConfig) if f.name not in model]
        if model_missing:
            raise ValueError(f"ModelConfig fields missing: {', '.join('model.' + m for m in model_missing)} (a stored "
                             "configuration holds every field; defaults are not filled in)")
        return cls(**{**d, "model": ModelConfig(**model)})


def differences(stored: TrainConfig, wanted: TrainConfig) -> list[str]:
    """``"field: stored X, requested Y"`` for every field (``model.*`` too) where two configurations differ."""
    def flat(cfg):
        d = cfg.to_dict()
        return {**{k: v for k, v in d.items() if k != "model"}, **{f"model.{k}": v for k, v in d["model"].items()}}
    a, b = flat(stored), flat(wanted)
    return [f"{k}: stored {a[k]!r}, requested {b[k]!r}" for k in a if a[k] != b[k]]


def has_run(folder) -> bool:
    """Whether ``folder`` holds any file of a run (finished or partial)."""
    folder = Path(folder)
    return any((folder / name).is_file() for name in RUN_FILES)


# --- writing: every file atomically -------------------------------------------------------------

def save_checkpoint(out: Path, payload: dict) -> None:
    """Write ``payload`` to ``out/checkpoint.pt`` atomically (a temporary file, fsync, then a rename)."""
    missing = [k for k in CHECKPOINT_KEYS if k not in payload]
    if missing:
        raise ValueError(f"checkpoint payload lacks {', '.join(missing)}")
    buffer = io.BytesIO()                     # serialised first: a full disk is then one OSError of one write
    torch.save(payload, buffer)
    files.atomic_write_bytes(Path(out) / CHECKPOINT, buffer.getvalue())


def write_config(out: Path, cfg: TrainConfig, data_source: str) -> None:
    """``config.json``: the configuration and the text the run actually trains on (``data_source``)."""
    record = {"config": cfg.to_dict(), "data_source": data_source}
    files.atomic_write_text(Path(out) / CONFIG_FILE, json.dumps(record, indent=1) + "\n")


def write_tokenizer(out: Path, tok: lmtok.Tokenizer) -> None:
    files.atomic_write_text(Path(out) / lmtok.FILE, tok.hf.to_str())


def write_logs(out: Path, history: list[dict]) -> None:
    """``metrics.json`` and ``metrics.csv`` (one row per step or evaluation)."""
    files.atomic_write_text(Path(out) / METRICS_JSON, files.strict_json(history, indent=1) + "\n")
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=sorted({k for row in history for k in row}), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    files.atomic_write_text(Path(out) / METRICS_CSV, buffer.getvalue())


# --- reading: one line naming the file for any problem -------------------------------------------

def _folder(folder) -> Path:
    folder = Path(validate.instance(folder, "folder", (str, Path), "a folder path"))
    if not folder.is_dir():
        raise FileNotFoundError(f"run folder {folder} does not exist")
    return folder


def read_checkpoint(folder) -> dict:
    """The checkpoint of a run folder, checked to hold what a resumed run or :func:`load_run` needs."""
    path = _folder(folder) / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no {CHECKPOINT} in {path.parent}: not a run folder of genphys.lm.train, "
                                "or a run stopped before its first checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - torch/pickle raise many types for a damaged file
        raise RunError(f"{path} is corrupt or not a checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in CHECKPOINT_KEYS):
        raise RunError(f"{path} is not a checkpoint of genphys.lm.train (keys missing)")
    if not isinstance(ckpt["model"], dict):
        raise RunError(f"{path} is not a checkpoint of genphys.lm.train (its model is not a state dict)")
    for name, tensor in ckpt["model"].items():
        if isinstance(tensor, torch.Tensor) and (tensor.is_floating_point() or tensor.is_complex()) \
                and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise RunError(f"{path} holds non-finite weights: {bad} NaN or infinite entries in {name} "
                           "(the run diverged or the file is damaged); it cannot be evaluated or resumed")
    try:
        ckpt["config"] = TrainConfig.from_dict(ckpt["config"])
    except (TypeError, ValueError) as err:
        raise RunError(f"{path} holds an invalid configuration: {err}") from None
    return ckpt


def read_config(folder) -> tuple[TrainConfig, str | None]:
    """``(config, data_source)`` from a run folder's ``config.json`` (``data_source`` None in older runs)."""
    path = _folder(folder) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_FILE} in {path.parent}: not a run folder of genphys.lm.train")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        nested = isinstance(record, dict) and isinstance(record.get("config"), dict)
        cfg = TrainConfig.from_dict(record["config"] if nested else record)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
        raise RunError(f"{path} is corrupt: {err}") from None
    return cfg, record.get("data_source") if nested else None


def tokenizer_from_text(text: str, where: Path) -> lmtok.Tokenizer:
    from tokenizers import Tokenizer as HFTokenizer

    try:
        return lmtok.Tokenizer(HFTokenizer.from_str(text))
    except Exception as err:  # noqa: BLE001 - the tokenizers library raises its own exception type
        raise RunError(f"{where} is corrupt or not a tokenizer ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None


def read_tokenizer(folder) -> lmtok.Tokenizer:
    """The tokenizer of a run folder (``tokenizer.json``)."""
    path = _folder(folder) / lmtok.FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {lmtok.FILE} in {path.parent}: not a run folder of genphys.lm.train")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"{path} cannot be read: {err}") from None
    return tokenizer_from_text(text, path)


def same_tokenizer(a: lmtok.Tokenizer, b: lmtok.Tokenizer) -> bool:
    """Whether two tokenizers have the same vocabulary (token -> id)."""
    return a.vocab_size == b.vocab_size and a.hf.get_vocab(with_added_tokens=True) == b.hf.get_vocab(with_added_tokens=True)


def load_run(folder: str | Path):
    """``(model, tokenizer, config)`` from a run folder's checkpoint, on the book's device, in eval mode.

    Checks that the tokenizer and the model agree (vocabulary size, and the tokenizer the model was
    trained with when the checkpoint keeps a copy); any damaged file is a :class:`RunError` naming it.
    """
    folder = _folder(folder)
    ckpt = read_checkpoint(folder)
    cfg = ckpt["config"]
    model = build_model(cfg.kind, cfg.model)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, TypeError, AttributeError) as err:
        raise RunError(f"{folder / CHECKPOINT} holds weights that do not fit its {cfg.kind} configuration "
                       f"({str(err).splitlines()[0]})") from None
    tok = read_tokenizer(folder)
    if tok.vocab_size != cfg.model.vocab_size:
        raise RunError(f"{folder / lmtok.FILE} has {tok.vocab_size} tokens but the model in "
                       f"{folder / CHECKPOINT} has {cfg.model.vocab_size}: they belong to different runs")
    if "tokenizer" in ckpt and not same_tokenizer(tok, tokenizer_from_text(ckpt["tokenizer"], folder / CHECKPOINT)):
        raise RunError(f"{folder / lmtok.FILE} is not the tokenizer the model in {folder / CHECKPOINT} was trained "
                       "with (same size, other tokens)")
    return model.to(config.device()).eval(), tok, cfg
