"""A training run on disk: its configuration, its checkpoint, and loading it back (chapter 7).

A run folder holds ``config.json``, ``tokenizer.json``, ``checkpoint.pt`` (model, optimiser,
scheduler, RNG states, data position, the log) and ``metrics.json`` / ``metrics.csv``.
:mod:`genphys.lm.train` writes it; :func:`load_run` reads it for evaluation and sampling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from genphys import config
from genphys.lm import tokenizer as lmtok
from genphys.lm.models import KINDS, ModelConfig, build_model

CHECKPOINT = "checkpoint.pt"


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
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("seq_len", "batch_size", "steps", "eval_every", "eval_stories", "checkpoint_every",
                     "tokenizer_stories"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive int, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"TrainConfig.lr must be a positive number, got {self.lr!r}")

    @property
    def tokens(self) -> int:
        """Training tokens seen by the whole run."""
        return self.steps * self.batch_size * self.seq_len

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["model"] = ModelConfig(**d["model"])
        return cls(**d)


def save_checkpoint(out: Path, payload: dict) -> None:
    """Write ``payload`` to ``out/checkpoint.pt`` atomically (a temporary file, then a rename)."""
    tmp = out / (CHECKPOINT + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(out / CHECKPOINT)


def load_run(folder: str | Path):
    """``(model, tokenizer, config)`` from a run folder's checkpoint, on the book's device, in eval mode."""
    folder = Path(folder)
    if not (folder / CHECKPOINT).is_file():
        raise FileNotFoundError(f"no {CHECKPOINT} in {folder}: not a run folder of genphys.lm.train")
    ckpt = torch.load(folder / CHECKPOINT, map_location="cpu", weights_only=False)
    cfg = TrainConfig.from_dict(ckpt["config"])
    model = build_model(cfg.kind, cfg.model)
    model.load_state_dict(ckpt["model"])
    return model.to(config.device()).eval(), lmtok.Tokenizer.load(folder), cfg


