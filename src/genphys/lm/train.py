"""Training of the chapter-7 language models, resumable bit for bit.

AdamW with linear warm-up and cosine decay, gradient clipping, bf16 autocast on CUDA, optional
``torch.compile``, a tqdm bar with loss and tokens/s, periodic evaluation in bits per byte,
checkpoints holding everything a resumed run needs (model, optimiser, scheduler, RNG states,
data position, the log), and a stop with a clear message on a NaN or infinite loss that
leaves the last good checkpoint untouched.  Metrics go to ``metrics.csv`` and ``metrics.json``.

Command line::

    python -m genphys.lm.train --model dissipative --data stories --scale cpu --out runs/NAME [--resume]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import time

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genphys import config
from genphys.lm import data as lmdata
from genphys.lm import tokenizer as lmtok
from genphys.lm.checkpoint import CHECKPOINT, TrainConfig, load_run, save_checkpoint  # noqa: F401 (load_run: the public API)
from genphys.lm.models import KINDS, ModelConfig, build_model, matched_configs

TOKENIZER_SEED = 0          # every run of a comparison trains its tokenizer on the same stories

class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is left as it was."""

def preset(scale: str | None = None, kind: str = "dissipative", **overrides) -> TrainConfig:
    """The configuration of chapter 7 at ``scale`` (default: the book's), parameters matched across families.

    tiny: a 2-layer, d=64 model for seconds of training; cpu: 3 layers, d=128, 0.8M tokens, a few
    minutes on 2 cores; gpu: 6 layers, d=384, vocabulary 4096, context 512 (about 20M parameters).
    """
    scale = config.validate_scale(scale) if scale is not None else config.scale()
    base = {
        "tiny": (ModelConfig(vocab_size=384, d_model=64, n_layers=2, n_modes=32, n_heads=4, d_feature=8, chunk=32),
                 dict(seq_len=64, batch_size=8, steps=60, lr=3e-3, warmup=6, eval_every=30, eval_stories=24,
                      checkpoint_every=30, tokenizer_stories=300)),
        "cpu": (ModelConfig(vocab_size=1024, d_model=128, n_layers=3, n_modes=64, n_heads=4, d_feature=16, chunk=64),
                dict(seq_len=128, batch_size=16, steps=400, lr=3e-3, warmup=40, eval_every=100, eval_stories=200,
                     checkpoint_every=100, tokenizer_stories=3000)),
        "gpu": (ModelConfig(vocab_size=4096, d_model=384, n_layers=6, n_modes=192, n_heads=6, d_feature=32, chunk=64),
                dict(seq_len=512, batch_size=64, steps=6000, lr=2e-3, warmup=300, eval_every=500, eval_stories=2000,
                     checkpoint_every=500, tokenizer_stories=20000)),
    }[scale]
    model_cfg = matched_configs(base[0])[kind]
    return TrainConfig(model=model_cfg, kind=kind, **{**base[1], **overrides})

def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup`` steps, then cosine decay to ``min_lr_ratio * lr``."""
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

def _write_log(out: Path, history: list[dict]) -> None:
    (out / "metrics.json").write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    keys = sorted({k for row in history for k in row})
    with (out / "metrics.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)

def max_multiplier(model) -> float:
    """max_k |a_k| over all layers (1.0 for the Hamiltonian twin; nan for the transformer)."""
    mods = model.spectral_modules()
    if not mods:
        return float("nan")
    with torch.no_grad():
        return max(m.multipliers().abs().max().item() for m in mods)

def train(cfg: TrainConfig, out: str | Path | None = None, *, resume: bool = False, tokenizer=None,
          src: lmdata.Source | None = None, progress: bool = True, stop_after: int | None = None,
          validation: list[str] | None = None) -> dict:
    """Train ``cfg``; return ``{"model", "tokenizer", "history", "final", "wall_time_s", "config"}``.

    With ``out`` the run folder holds the tokenizer, checkpoints and logs; ``resume=True`` continues
    from its checkpoint exactly.  ``stop_after`` ends the run after that many steps (as if
    interrupted; a checkpoint is written there).  Raises :class:`NonFiniteLoss` on a NaN/inf loss.
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    out = Path(out) if out is not None else None
    device = config.device()
    src = src or lmdata.source(cfg.data)
    ckpt = None
    if resume:
        if out is None or not (out / CHECKPOINT).is_file():
            raise FileNotFoundError(f"resume=True but no {CHECKPOINT} in {out}")
        ckpt = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
        if ckpt["config"] != cfg.to_dict():
            raise ValueError("resume=True with a configuration different from the checkpoint's")
    if tokenizer is None:
        tokenizer = lmtok.Tokenizer.load(out) if (ckpt is not None) else make_tokenizer(cfg, src)
    if tokenizer.vocab_size != cfg.model.vocab_size:
        raise ValueError(f"tokenizer has {tokenizer.vocab_size} tokens, the model expects {cfg.model.vocab_size}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        tokenizer.save(out)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n", encoding="utf-8")
    validation = validation if validation is not None else src.validation(cfg.eval_stories)

    config.seed_everything(cfg.seed)
    model = build_model(cfg.kind, cfg.model).to(device)
    opt = _optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_at(s, cfg) / cfg.lr)
    history, start, elapsed = [], 0, 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        _set_rng_state(ckpt["rng"])
        history, start, elapsed = ckpt["history"], ckpt["step"], ckpt["wall_time_s"]
    stream = lmdata.PackedStream(src.train(cfg.seed), tokenizer, cfg.seq_len,
                                 position=ckpt["data_position"] if ckpt else 0)
    step_fn = torch.compile(model) if cfg.compile else model
    use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()

    def checkpoint(step):
        if out is not None:
            save_checkpoint(out, {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "scheduler": sched.state_dict(), "rng": _rng_state(), "step": step,
                                   "data_position": stream.position, "history": history,
                                   "config": cfg.to_dict(), "wall_time_s": elapsed, "kind": cfg.kind})
            _write_log(out, history)

    def evaluate_now(step):
        from genphys.lm.evaluate import evaluate
        res = evaluate(model, tokenizer, validation, device=device)
        row = {"step": step, "tokens": step * cfg.batch_size * cfg.seq_len,
               "val_bits_per_byte": res["bits_per_byte"], "val_accuracy": res["accuracy"]}
        history.append(row)
        return row

    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    from tqdm.auto import tqdm
    bar = tqdm(total=cfg.steps, initial=start, disable=not progress, desc=cfg.kind, leave=False)
    model.train()
    for step in range(start, end):
        t0 = time.perf_counter()
        rows = torch.from_numpy(stream.batch(cfg.batch_size)).to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = _loss(step_fn, rows[:, :-1], rows[:, 1:])
        if not torch.isfinite(loss):
            bar.close()
            raise NonFiniteLoss(f"loss is {loss.item()} at step {step} of the {cfg.kind} run; stopped. "
                                f"The last good checkpoint (if any) in {out} is intact; lower the learning rate.")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip).item()
        opt.step()
        sched.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        elapsed += dt
        tps = cfg.batch_size * cfg.seq_len / dt
        history.append({"step": step + 1, "tokens": (step + 1) * cfg.batch_size * cfg.seq_len,
                        "loss": loss.item(), "lr": sched.get_last_lr()[0], "grad_norm": grad_norm,
                        "tokens_per_s": tps, "max_abs_multiplier": max_multiplier(model)})
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tps:,.0f}")
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            evaluate_now(step + 1)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == end:
            checkpoint(step + 1)
    bar.close()
    evals = [r for r in history if "val_bits_per_byte" in r]
    train_rows = [r for r in history if "loss" in r]
    final = dict(evals[-1]) if evals else {}
    if train_rows:
        final["tokens_per_s"] = float(np.median([r["tokens_per_s"] for r in train_rows]))
    return {"model": model, "tokenizer": tokenizer, "history": history, "final": final,
            "wall_time_s": elapsed, "config": cfg.to_dict(), "params": model.num_params()}

def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m genphys.lm.train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="dissipative", choices=KINDS)
    parser.add_argument("--data", default="stories", help="'stories', 'tinystories' or a TinyStories-format text file")
    parser.add_argument("--scale", default=None, choices=config.SCALES, help="default: $GENPHYS_SCALE or cpu/gpu")
    parser.add_argument("--out", required=True, help="run folder (tokenizer, checkpoints, logs)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.resume:
        cfg = TrainConfig.from_dict(json.loads((out / "config.json").read_text(encoding="utf-8")))
    else:
        overrides = {k: v for k, v in {"steps": args.steps, "lr": args.lr, "compile": args.compile}.items()
                     if v is not None}
        cfg = preset(args.scale, args.model, data=args.data, seed=args.seed, **overrides)
    print(f"{cfg.kind}: {build_model(cfg.kind, cfg.model).num_params():,} parameters, "
          f"{cfg.tokens:,} training tokens, data={cfg.data}, device={config.device()}")
    try:
        res = train(cfg, out, resume=args.resume)
    except NonFiniteLoss as err:
        raise SystemExit(str(err)) from None
    print(json.dumps({"final": res["final"], "wall_time_s": round(res["wall_time_s"], 2)}))
    return res

if __name__ == "__main__":
    main()
