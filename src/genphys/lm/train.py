"""Training of the chapter-7 language models, resumable bit for bit, whatever stops them.

AdamW with linear warm-up and cosine decay, gradient clipping, mixed precision that follows the
card (:func:`precision_for`: bf16 from CUDA compute capability 8.0, fp16 with a gradient scaler
below it, as on a T4; fp32 on a CPU), optional ``torch.compile``, a tqdm bar with loss and
tokens/s and one line estimating the time left, periodic evaluation in bits per byte,
checkpoints holding everything a resumed run needs (model, optimiser, scheduler, RNG states,
data position, the log, the tokenizer), and a stop with a clear message on a NaN or infinite
loss that leaves the last good checkpoint untouched.  Metrics go to ``metrics.csv`` and
``metrics.json``.

A run folder is safe against crashes and mistakes: every file is written atomically; the folder
is locked while a run writes to it; a fresh run refuses a folder that holds a run unless told to
overwrite it; a resumed run refuses settings that differ from the stored ones (``--extend-steps``
lengthens a run explicitly) and rewrites every file from its checkpoint; Ctrl-C or SIGTERM saves a
checkpoint at the current step and stops with one line saying how to resume.

Command line::

    python -m genphys.lm.train --model dissipative --data stories --scale cpu --out runs/NAME
    python -m genphys.lm.train --out runs/NAME --resume [--extend-steps --steps N]

Add ``--precision fp32`` (or ``bf16`` / ``fp16``) to override the card's choice.
"""

from __future__ import annotations

import signal
import sys

__all__ = ["BF16_CAPABILITY", "GPU_DEFAULT_KINDS", "LIVE_KINDS", "ESTIMATE_AFTER", "ASSUMED_MFU", "NonFiniteLoss",
           "RunInterrupted", "Card", "preset", "kinds_to_train", "precision_for", "choose_precision",
           "flops_per_token", "training_flops", "estimated_seconds", "lr_at", "make_tokenizer", "max_multiplier",
           "train", "main"]

#: The command's name, as its one-line messages begin.
PROG = "python -m genphys.lm.train"


def _interrupted_while_starting(signum, frame):
    """Ctrl-C while ``python -m genphys.lm.train`` loads its libraries: one line, no traceback, nothing written."""
    print(f"{PROG}: interrupted while starting (loading the libraries); nothing was written", file=sys.stderr)
    raise SystemExit(130)


if __name__ == "__main__":                  # installed before torch loads; main() hands Ctrl-C back to Python
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from genphys import cli, config, files, validate  # noqa: E402
from genphys.lm import data as lmdata  # noqa: E402
from genphys.lm import tokenizer as lmtok  # noqa: E402
from genphys.lm.checkpoint import (CHECKPOINT, RUN_FILES, RunError, TrainConfig, differences, has_run,  # noqa: F401
                                   load_run, read_checkpoint, read_config, read_tokenizer, same_tokenizer,
                                   save_checkpoint, tokenizer_from_text, write_config, write_logs,
                                   write_tokenizer)
from genphys.lm.models import KINDS, RECURRENT, ModelConfig, build_model, count_params, matched_configs  # noqa: E402

TOKENIZER_SEED = 0          # every run of a comparison trains its tokenizer on the same stories
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
#: The first CUDA compute capability with bf16 tensor cores (Ampere); below it bf16 is emulated, and slow.
BF16_CAPABILITY = (8, 0)
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: The families chapter 7 trains at scale ``gpu`` unless the reader picks others.
GPU_DEFAULT_KINDS = ("dissipative", "selective", "transformer")
#: The family chapter 7 trains live at tiny and cpu scale (the committed comparison has every family).
LIVE_KINDS = ("dissipative",)
#: Steps timed (the first, which includes warm-up and compilation, left out) before the one-line time estimate.
ESTIMATE_AFTER = 10
#: ASSUMED model-FLOP utilisation - the share of a card's peak throughput that training reaches - per
#: sequence-mixer class, for :func:`estimated_seconds`.  These are assumptions, not measurements: models of
#: about 12M parameters in eager PyTorch use a fraction of a card's peak.  Softmax attention is mostly large
#: matrix products (assumed 0.25); the recurrent families' chunked complex scans and linear attention are many
#: small, memory-bound operations (assumed 0.10).  The progress line of :func:`train` measures the real rate.
ASSUMED_MFU = {"attention": 0.25, "recurrent": 0.10}


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is left as it was."""


class RunInterrupted(RuntimeError):
    """Ctrl-C or SIGTERM stopped the run; ``saved`` says whether a checkpoint was written at the current step."""

    def __init__(self, message: str, signum: int, saved: bool):
        super().__init__(message)
        self.signum, self.saved = signum, saved


@dataclasses.dataclass(frozen=True)
class Card:
    """A GPU for time estimates: its CUDA compute capability, and its peak dense (no sparsity) tensor-core
    throughput in FLOP/s at the precision :func:`precision_for` picks for it, from the vendor's data sheet."""

    capability: tuple[int, int]
    peak_flops: dict[str, float]


CARDS = {"T4": Card((7, 5), {"fp16": 65e12}),          # Colab's free card: fp16 (bf16 is emulated on it)
         "L4": Card((8, 9), {"bf16": 121e12}),
         "A100": Card((8, 0), {"bf16": 312e12})}


def preset(scale: str | None = None, kind: str = "dissipative", **overrides) -> TrainConfig:
    """The configuration of chapter 7 at ``scale`` (default: the book's), parameters matched across families.

    tiny: a 2-layer, d=64 model for seconds of training (0.12M parameters); cpu: 3 layers, d=128,
    rows of 320 tokens (longer than every held-out story of the story source), 0.8M tokens, about a
    minute per run on one core (0.72M parameters); gpu: 6 layers, d=384, vocabulary
    4096, context 512 (12.2M parameters; every family within 0.1 % of it, by ``models.count_params``).
    """
    scale = config.validate_scale(scale) if scale is not None else config.scale()
    validate.one_of(kind, "kind", KINDS)
    base = {
        "tiny": (ModelConfig(vocab_size=384, d_model=64, n_layers=2, n_modes=32, n_heads=4, d_feature=8, chunk=16),
                 dict(seq_len=64, batch_size=8, steps=60, lr=3e-3, warmup=6, eval_every=30, eval_stories=24,
                      checkpoint_every=30, tokenizer_stories=300)),
        "cpu": (ModelConfig(vocab_size=1024, d_model=128, n_layers=3, n_modes=64, n_heads=4, d_feature=16, chunk=16),
                dict(seq_len=320, batch_size=8, steps=320, lr=3e-3, warmup=32, eval_every=80, eval_stories=200,
                     checkpoint_every=80, tokenizer_stories=3000)),
        "gpu": (ModelConfig(vocab_size=4096, d_model=384, n_layers=6, n_modes=192, n_heads=6, d_feature=32, chunk=16),
                dict(seq_len=512, batch_size=64, steps=6000, lr=2e-3, warmup=300, eval_every=500, eval_stories=2000,
                     checkpoint_every=500, tokenizer_stories=20000)),
    }[scale]
    model_cfg = matched_configs(base[0])[kind]
    return TrainConfig(model=model_cfg, kind=kind, **{**base[1], **overrides})


def kinds_to_train(requested=None, scale: str | None = None) -> tuple[str, ...]:
    """The families to train: ``requested`` (a family name or a sequence of them, in the order given), or by
    default :data:`LIVE_KINDS` at scales tiny and cpu (a minute at most; the committed comparison has every
    family) and :data:`GPU_DEFAULT_KINDS` at gpu.

    ``scale`` defaults to the book's (:func:`genphys.config.scale`).
    """
    if requested is None:
        scale = config.validate_scale(scale) if scale is not None else config.scale()
        return GPU_DEFAULT_KINDS if scale == "gpu" else LIVE_KINDS
    names = (requested,) if isinstance(requested, str) else requested
    if not isinstance(names, (list, tuple)) or not all(isinstance(k, str) for k in names):
        raise TypeError(f"requested must be a family name or a list of them, got {type(requested).__name__}")
    if not names:
        raise ValueError("requested must name at least one family")
    for name in names:
        if name not in KINDS:
            raise ValueError(f"requested names an unknown family {name!r}; the families are {', '.join(KINDS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"requested names a family twice: {list(names)}")
    return tuple(names)


def precision_for(device_type: str, capability: tuple[int, int] | None = None, requested: str = "auto") -> str:
    """The training precision, ``"bf16"``, ``"fp16"`` or ``"fp32"``, for a device: the rule :func:`choose_precision`
    applies, as a pure function of the device type, its CUDA compute ``capability`` and the ``requested`` one.

    ``"auto"``: on CUDA, capability >= 8.0 (Ampere on: A100, L4, H100) gives bf16; below it (a T4 is 7.5)
    fp16 with a gradient scaler - ``torch.cuda.is_bf16_supported()`` says True on a T4, but bf16 is emulated
    there and several times slower; any other device (a CPU) fp32.  Another value forces that precision;
    bf16 on a CUDA card below 8.0 is refused.  ``capability`` is a CUDA device's (major, minor), None elsewhere.
    """
    validate.one_of(requested, "requested", PRECISIONS)
    validate.text(device_type, "device_type", empty=False)
    if device_type != "cuda":
        if capability is not None:
            raise ValueError(f"capability is a CUDA device's (major, minor); give None for a {device_type} device")
        return "fp32" if requested == "auto" else requested
    if (not isinstance(capability, tuple) or len(capability) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in capability)):
        raise TypeError(f"capability must be a CUDA device's (major, minor) tuple of ints, got {capability!r}")
    native_bf16 = capability >= BF16_CAPABILITY
    if requested == "bf16" and not native_bf16:
        raise ValueError(f"bf16 was requested on a CUDA card of compute capability {capability[0]}.{capability[1]}, "
                         f"which emulates it slowly (bf16 needs {BF16_CAPABILITY[0]}.{BF16_CAPABILITY[1]}); "
                         "use fp16 (the default there) or fp32")
    if requested != "auto":
        return requested
    return "bf16" if native_bf16 else "fp16"


def choose_precision(device, requested: str = "auto") -> str:
    """The training precision on ``device`` (a ``torch.device`` or its name): :func:`precision_for` for it."""
    device = torch.device(validate.instance(device, "device", (str, torch.device), "a torch.device or its name"))
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    return precision_for(device.type, capability, requested)


def _mixer_class(kind: str) -> str:
    """``"recurrent"`` or ``"attention"`` (softmax): the family's class of sequence mixing."""
    return "recurrent" if kind in RECURRENT else "attention"


def flops_per_token(kind: str, model: ModelConfig, seq_len: int) -> float:
    """Training FLOPs per token of a ``kind`` model: 6 N (N parameters: forward 2 N, backward 4 N), plus softmax
    attention's 6 L T d (T = ``seq_len``; half of it masked, both counted); the recurrent scans, O(modes) per token,
    are left out."""
    validate.instance(model, "model", ModelConfig, "a ModelConfig")
    seq_len = validate.integer(seq_len, "seq_len", low=1)
    attention = 6 * model.n_layers * seq_len * model.d_model if _mixer_class(kind) == "attention" else 0
    return float(6 * count_params(kind, model) + attention)


def training_flops(cfg: TrainConfig) -> float:
    """Training FLOPs of ``cfg``: :func:`flops_per_token` times the tokens it trains on."""
    validate.instance(cfg, "cfg", TrainConfig, "a TrainConfig")
    return flops_per_token(cfg.kind, cfg.model, cfg.seq_len) * cfg.tokens


def estimated_seconds(cfg: TrainConfig, card: str) -> float:
    """An estimate of the training time of ``cfg`` on ``card`` (a key of :data:`CARDS`), in seconds.

    :func:`training_flops` over the card's peak throughput at the precision it trains in, times the
    assumed utilisation :data:`ASSUMED_MFU` of the family's class; evaluations and the tokenizer are
    not counted.  An estimate from an assumption: the progress line of :func:`train` states the measured rate.
    """
    validate.instance(cfg, "cfg", TrainConfig, "a TrainConfig")
    spec = CARDS[validate.one_of(card, "card", CARDS)]
    peak = spec.peak_flops[precision_for("cuda", spec.capability)]
    return training_flops(cfg) / (peak * ASSUMED_MFU[_mixer_class(cfg.kind)])


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup`` steps, then cosine decay to ``min_lr_ratio * lr`` at ``steps``."""
    step = validate.integer(step, "step", low=0)
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_tokenizer(cfg: TrainConfig, src: lmdata.Source) -> lmtok.Tokenizer:
    """BPE of ``cfg.model.vocab_size`` tokens trained on the first stories of the tokenizer seed's stream."""
    import itertools

    texts = list(itertools.islice(src.train(TOKENIZER_SEED), cfg.tokenizer_stories))
    return lmtok.train(texts, cfg.model.vocab_size)


def _loss(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))


def _autocast(device, prec: str):
    """Autocast to ``prec``'s dtype on ``device``; nothing for fp32."""
    if prec == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[prec])


def _grad_scaler(device, prec: str) -> torch.amp.GradScaler:
    """A gradient scaler for fp16 (whose gradients underflow without one); a disabled one, a no-op, otherwise."""
    return torch.amp.GradScaler(device.type, enabled=prec == "fp16")


def _apply_gradients(loss, model, opt, scaler, clip: float) -> float:
    """Backward, clip the gradient norm at ``clip``, AdamW step, through ``scaler``; return the norm before clipping.

    With fp16 the loss is scaled before the backward pass and the gradients unscaled before clipping;
    a step whose gradients overflowed is skipped and the scale lowered (:class:`torch.amp.GradScaler`).
    """
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item()
    scaler.step(opt)
    scaler.update()
    return grad_norm


def _minutes(seconds: float) -> str:
    """``seconds`` in minutes, to a tenth below ten minutes."""
    return f"{seconds / 60:.0f}" if seconds >= 600 else f"{seconds / 60:.1f}"


def _estimate_line(kind: str, durations: list[float], remaining: int, tokens_per_step: int) -> str:
    """The one line of the time left: the rate measured over ``durations`` without the first (warm-up) step."""
    rate = tokens_per_step * (len(durations) - 1) / sum(durations[1:])
    return (f"{kind}: about {_minutes(remaining * tokens_per_step / rate)} min for the remaining {remaining} steps "
            f"at the current {rate:,.0f} tokens/s")


def _restore_precision(ckpt: dict, prec: str, scaler, history: list, log, out) -> None:
    """Load the stored gradient-scaler state when fp16 goes on; record a change of precision (another card)."""
    stored = ckpt.get("precision")
    if stored is not None and stored != prec:
        history.append({"step": ckpt["step"], "event": f"precision {stored} -> {prec}"})
        log(f"{out} trained in {stored} so far; it continues in {prec} on this device")
    if scaler.is_enabled() and ckpt.get("scaler"):
        scaler.load_state_dict(ckpt["scaler"])


def _optimizer(model, cfg: TrainConfig):
    """AdamW; no weight decay on norms, gains, rates and frequencies (1-D parameters)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0.0}]
    fused = torch.cuda.is_available()
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), fused=fused or None)


def _rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def max_multiplier(model) -> float:
    """max_k |a_k| over all layers (1.0 for the Hamiltonian twin; nan for the transformer).

    For the selective family, whose a_{t,k} vary with the token, the bound max_k e^{r_k} > |a_{t,k}|.
    """
    mods = model.spectral_modules()
    if not mods:
        return float("nan")
    with torch.no_grad():
        return max(m.multiplier_bound().max().item() for m in mods)


def resume_command(out: Path) -> str:
    return f"python -m genphys.lm.train --out {out} --resume"


@contextlib.contextmanager
def _stop_signals(enabled: bool):
    """While active, a first SIGINT/SIGTERM is only recorded (the loop checkpoints and stops); a second one stops at once."""
    caught: list[int] = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def handler(signum, frame):
        if caught:
            raise RunInterrupted(f"{signal.Signals(signum).name} again: stopped at once, without a new checkpoint",
                                 signum, saved=False)
        caught.append(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _prepare_folder(out: Path, cfg: TrainConfig, resume: bool, overwrite: bool, extend_steps: bool):
    """Check ``out`` against the request; ``(checkpoint or None, stored data source or None)``."""
    present = [name for name in RUN_FILES if (out / name).is_file()]
    if not resume:
        if present and not overwrite:
            raise RunError(f"{out} already holds a run ({', '.join(present)}); continue it with --resume "
                           "(resume=True) or replace it with --overwrite (overwrite=True)")
        for name in present:
            (out / name).unlink()
        return None, None
    if not present:
        raise RunError(f"nothing to resume in {out}: it holds no run of genphys.lm.train")
    if (out / CHECKPOINT).is_file():
        ckpt = read_checkpoint(out)
        stored, source_name = ckpt["config"], ckpt.get("data_source")
    else:                                                   # stopped before its first checkpoint: starts again
        if not (out / "config.json").is_file():
            raise RunError(f"{out} holds a partial run without config.json; start it again with --overwrite")
        ckpt, (stored, source_name) = None, read_config(out)
    diffs = differences(stored, cfg)
    if extend_steps:
        if cfg.steps < stored.steps:
            raise RunError(f"cannot resume {out}: --extend-steps lengthens a run, but steps {cfg.steps} < the stored "
                           f"{stored.steps}")
        diffs = [d for d in diffs if not d.startswith("steps:")]
    if diffs:
        hint = (" (to train longer, add --extend-steps / extend_steps=True)"
                if any(d.startswith("steps:") for d in diffs) and cfg.steps > stored.steps else "")
        raise RunError(f"cannot resume {out}: the stored run differs from the request: " + "; ".join(diffs) + hint)
    return ckpt, source_name


def train(cfg: TrainConfig, out: str | Path | None = None, *, resume: bool = False, overwrite: bool = False,
          extend_steps: bool = False, tokenizer=None, src: lmdata.Source | None = None, progress: bool = True,
          stop_after: int | None = None, validation: list[str] | None = None, log=print,
          precision: str = "auto") -> dict:
    """Train ``cfg``; return ``{"model", "tokenizer", "history", "final", "wall_time_s", "config", "params",
    "data_source", "data_note", "precision"}``.

    With ``out`` the run folder holds the configuration, tokenizer, checkpoints and logs, and is
    locked while the run writes to it (:class:`genphys.files.FolderLocked` if another run does).
    A folder that already holds a run is refused unless ``overwrite=True`` or ``resume=True``;
    ``resume=True`` continues from its checkpoint exactly (a run stopped before its first checkpoint
    starts again), refusing a ``cfg`` that differs from the stored one.  ``extend_steps=True``
    allows a larger ``steps``: the cosine decay is then laid over the new total, so from the
    resumed step on the learning rate follows the longer schedule (it rises from where the old one
    had decayed to); the steps already taken are kept.  ``stop_after`` ends the run after that many
    steps (as if interrupted; a checkpoint is written there).  Ctrl-C / SIGTERM (with ``out``)
    checkpoint the current step and raise :class:`RunInterrupted`.  Raises :class:`NonFiniteLoss`
    on a NaN/inf loss.  ``precision`` (``"auto"``, ``"bf16"``, ``"fp16"`` or ``"fp32"``) is the card's choice
    by default (:func:`precision_for`); the fp16 gradient scaler's state is checkpointed with the run.  With
    ``progress``, one line after the first steps estimates the time left (:data:`ESTIMATE_AFTER`).
    """
    validate.instance(cfg, "cfg", TrainConfig, "a TrainConfig")
    prec = choose_precision(config.device(), validate.one_of(precision, "precision", PRECISIONS))
    resume, overwrite = validate.flag(resume, "resume"), validate.flag(overwrite, "overwrite")
    extend_steps, progress = validate.flag(extend_steps, "extend_steps"), validate.flag(progress, "progress")
    if stop_after is not None:
        stop_after = validate.integer(stop_after, "stop_after", low=1)
    if tokenizer is not None:
        validate.instance(tokenizer, "tokenizer", lmtok.Tokenizer, "a genphys.lm.tokenizer.Tokenizer")
    if src is not None:
        validate.instance(src, "src", lmdata.Source, "a genphys.lm.data.Source")
    if validation is not None and (isinstance(validation, str) or not all(isinstance(t, str) for t in validation)
                                   or not validation):
        raise TypeError("validation must be a non-empty list of strings (stories)")
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if out is None:
        if resume or overwrite or extend_steps:
            raise ValueError("resume, overwrite and extend_steps need out (the run folder)")
        return _train(cfg, None, None, None, tokenizer, src, progress, stop_after, validation, log, False, prec)
    out = Path(validate.instance(out, "out", (str, Path), "a folder path"))
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder; {out} is a file")
    with files.folder_lock(out, "a training run"):
        files.remove_stale_temporaries(out)
        ckpt, stored_source = _prepare_folder(out, cfg, resume, overwrite, extend_steps)
        return _train(cfg, out, ckpt, stored_source, tokenizer, src, progress, stop_after, validation, log,
                      resume, prec)


def _train(cfg, out, ckpt, stored_source, tokenizer, src, progress, stop_after, validation, log, resume, prec):
    device = config.device()
    if src is None:
        fell_back = stored_source == "stories" and cfg.data == "tinystories"
        if fell_back:
            log(f"{out} trained on the offline story source (TinyStories was unavailable); it continues on it.")
        src = lmdata.source("stories" if fell_back else cfg.data, log=log)
    if stored_source is not None and src.name != stored_source:
        raise RunError(f"cannot resume {out}: it was trained on {stored_source}, the data now gives {src.name}")
    stored_tok = None
    if ckpt is not None and "tokenizer" in ckpt:
        stored_tok = tokenizer_from_text(ckpt["tokenizer"], out / CHECKPOINT)
    elif resume and (out / lmtok.FILE).is_file():
        stored_tok = read_tokenizer(out)
    if tokenizer is not None and stored_tok is not None and not same_tokenizer(tokenizer, stored_tok):
        raise RunError(f"cannot resume {out}: the tokenizer given is not the one the run was trained with")
    if out is not None:
        write_config(out, cfg, src.name)
    tokenizer = tokenizer or stored_tok or make_tokenizer(cfg, src)
    if tokenizer.vocab_size != cfg.model.vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens, the model expects {cfg.model.vocab_size}")
    validation = validation if validation is not None else src.validation(cfg.eval_stories)

    config.seed_everything(cfg.seed)
    model = build_model(cfg.kind, cfg.model).to(device)
    opt = _optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, cfg) / cfg.lr)
    scaler = _grad_scaler(device, prec)
    history, start, elapsed = [], 0, 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        _set_rng_state(ckpt["rng"])
        history, start, elapsed = ckpt["history"], ckpt["step"], ckpt["wall_time_s"]
        _restore_precision(ckpt, prec, scaler, history, log, out)
        stored_steps = ckpt["config"].steps
        if cfg.steps != stored_steps:
            for group in opt.param_groups:                  # the longer schedule from this step on
                group["lr"] = lr_at(start, cfg)
            history.append({"step": start, "event": f"steps extended from {stored_steps} to {cfg.steps}"})
            log(f"{out}: steps extended from {stored_steps} to {cfg.steps} at step {start}; the cosine decay now "
                f"ends at step {cfg.steps} (learning rate {lr_at(start, cfg):.3g} from here)")
    if out is not None:                                     # a resumed run rewrites every file from its checkpoint
        write_tokenizer(out, tokenizer)
        if ckpt is not None:
            write_logs(out, history)
    stream = lmdata.PackedStream(src.train(cfg.seed), tokenizer, cfg.seq_len,
                                 position=ckpt["data_position"] if ckpt else 0)
    step_fn = torch.compile(model) if cfg.compile else model
    saved = {"step": start if ckpt is not None else None}

    def checkpoint(step):
        if out is not None:
            save_checkpoint(out, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                  "scheduler": sched.state_dict(), "rng": _rng_state(), "step": step,
                                  "data_position": stream.position, "history": history,
                                  "config": cfg.to_dict(), "wall_time_s": elapsed, "kind": cfg.kind,
                                  "tokenizer": tokenizer.hf.to_str(), "data_source": src.name,
                                  "precision": prec, "scaler": scaler.state_dict()})
            write_logs(out, history)
            saved["step"] = step

    def evaluate_now(step):
        from genphys.lm.evaluate import evaluate
        res = evaluate(model, tokenizer, validation, device=device)
        row = {"step": step, "tokens": step * cfg.batch_size * cfg.seq_len,
               "val_bits_per_byte": res["bits_per_byte"], "val_accuracy": res["accuracy"]}
        history.append(row)
        return row

    def interrupted(signum, step):
        if saved["step"] != step:
            checkpoint(step)
        name = signal.Signals(signum).name
        return RunInterrupted(f"{name} at step {step} of {cfg.steps}: checkpoint saved in {out}; resume with: "
                              f"{resume_command(out)}", signum, saved=True)

    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    tokens_per_step = cfg.batch_size * cfg.seq_len
    estimate_at, durations = min(ESTIMATE_AFTER, end - start - 1) if progress else 0, []
    from tqdm.auto import tqdm
    bar = tqdm(total=cfg.steps, initial=start, disable=not progress, desc=cfg.kind, leave=False)
    model.train()
    try:
        with _stop_signals(out is not None) as caught:
            for step in range(start, end):
                if caught:
                    raise interrupted(caught[0], step)
                t0 = time.perf_counter()
                rows = torch.from_numpy(stream.batch(cfg.batch_size)).to(device)
                with _autocast(device, prec):
                    loss = _loss(step_fn, rows[:, :-1], rows[:, 1:])
                if not torch.isfinite(loss):
                    raise NonFiniteLoss(f"loss is {loss.item()} at step {step} of the {cfg.kind} run; stopped. "
                                        f"The last good checkpoint (if any) in {out} is intact; lower the learning rate.")
                grad_norm = _apply_gradients(loss, model, opt, scaler, cfg.clip)
                sched.step()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                dt = time.perf_counter() - t0
                elapsed += dt
                tps = tokens_per_step / dt
                durations.append(dt)
                if len(durations) == estimate_at and estimate_at >= 2:
                    log(_estimate_line(cfg.kind, durations, end - step - 1, tokens_per_step))
                history.append({"step": step + 1, "tokens": (step + 1) * tokens_per_step,
                                "loss": loss.item(), "lr": sched.get_last_lr()[0], "grad_norm": grad_norm,
                                "tokens_per_s": tps, "max_abs_multiplier": max_multiplier(model)})
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tps:,.0f}")
                if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
                    evaluate_now(step + 1)
                if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == end:
                    checkpoint(step + 1)
            if caught and (end < cfg.steps or saved["step"] != end):   # a signal during the last step
                raise interrupted(caught[0], end)
    finally:
        bar.close()
    evals = [r for r in history if "val_bits_per_byte" in r]
    train_rows = [r for r in history if "loss" in r]
    final = dict(evals[-1]) if evals else {}
    if train_rows:
        final["tokens_per_s"] = float(np.median([r["tokens_per_s"] for r in train_rows]))
    return {"model": model, "tokenizer": tokenizer, "history": history, "final": final,
            "wall_time_s": elapsed, "config": cfg.to_dict(), "params": model.num_params(),
            "data_source": src.name, "data_note": src.note, "precision": prec}


def _requested_config(out: Path, args) -> TrainConfig:
    """For ``--resume``: the stored configuration with the arguments given on the command line applied."""
    stored = read_checkpoint(out)["config"] if (out / CHECKPOINT).is_file() else read_config(out)[0]
    given = {"kind": args.model, "data": args.data, "seed": args.seed, "steps": args.steps, "lr": args.lr,
             "compile": args.compile}
    cfg = dataclasses.replace(stored, **{k: v for k, v in given.items() if v is not None})
    if args.scale is not None:
        cfg = preset(args.scale, cfg.kind, data=cfg.data, seed=cfg.seed, steps=cfg.steps, lr=cfg.lr,
                     compile=cfg.compile)
    return cfg


def main(argv=None) -> dict:
    """The command line.  Every failure is one line on stderr: a bad argument or run folder (exit 1), a full disk
    or another file error (exit 1, the run's files as they were), Ctrl-C before training starts (exit 130,
    nothing half-written) and during training (a checkpoint, then how to resume; 128 + the signal)."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)       # from here Ctrl-C is a KeyboardInterrupt
    prog = PROG
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, choices=KINDS, help="default: dissipative")
    parser.add_argument("--data", default=None, help="'stories' (default), 'tinystories' or a TinyStories-format text file")
    parser.add_argument("--scale", default=None, choices=config.SCALES, help="default: $GENPHYS_SCALE or cpu/gpu")
    parser.add_argument("--out", required=True, help="run folder (configuration, tokenizer, checkpoints, logs)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    parser.add_argument("--overwrite", action="store_true", help="replace a run that --out already holds")
    parser.add_argument("--extend-steps", action="store_true",
                        help="with --resume and a larger --steps: train longer (the cosine decay is laid over the new total)")
    parser.add_argument("--seed", type=cli.integer(0, lmdata.VALID_SEED - 1), default=None, help="default: 0")
    parser.add_argument("--steps", type=cli.integer(1), default=None)
    parser.add_argument("--lr", type=cli.real(0, low_open=True), default=None)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="default: auto (bf16 from CUDA compute capability 8.0, fp16 below, fp32 on a CPU)")
    args = parser.parse_args(argv)
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    if args.extend_steps and not (args.resume and args.steps):
        parser.error("--extend-steps goes with --resume and --steps")
    out = Path(args.out)
    try:
        if args.resume:
            if not has_run(out):
                raise RunError(f"nothing to resume in {out}: it holds no run of genphys.lm.train")
            cfg = _requested_config(out, args)
        else:
            overrides = {k: v for k, v in {"steps": args.steps, "lr": args.lr, "compile": args.compile}.items()
                         if v is not None}
            cfg = preset(args.scale, args.model or "dissipative", data=args.data or "stories",
                         seed=args.seed or 0, **overrides)
        prec = choose_precision(config.device(), args.precision)
        print(f"{cfg.kind}: {build_model(cfg.kind, cfg.model).num_params():,} parameters, "
              f"{cfg.tokens:,} training tokens, data={cfg.data}, device={config.device()}, precision={prec}")
        res = train(cfg, out, resume=args.resume, overwrite=args.overwrite, extend_steps=args.extend_steps,
                    precision=args.precision)
    except RunInterrupted as err:
        print(err, file=sys.stderr)
        raise SystemExit(128 + err.signum) from None
    except KeyboardInterrupt:                    # before the training loop: tokenizer, data, folder set-up
        if (out / CHECKPOINT).is_file():
            then = f"its last checkpoint is intact; resume with: {resume_command(out)}"
        elif has_run(out):
            then = f"no checkpoint yet; start it again with: {resume_command(out)}"
        else:
            then = "nothing was written; run the same command again"
        print(f"{prog}: interrupted (Ctrl-C) before training started in {out}: {then}", file=sys.stderr)
        raise SystemExit(130) from None
    except (RunError, files.FolderLocked, NonFiniteLoss, lmdata.StreamEnded, ValueError, FileNotFoundError) as err:
        cli.fail(prog, err)
    except OSError as err:                       # a full disk (files.DiskFull), permissions, ...: one line
        cli.fail(prog, err if isinstance(err, files.DiskFull) else f"a file could not be read or written: {err}")
    print(files.strict_json({"final": res["final"], "wall_time_s": round(res["wall_time_s"], 2),
                             "data_source": res["data_source"]}))
    return res


if __name__ == "__main__":
    main()
