"""The comparison of chapter 7: four families, same tokenizer, data order, token budget, tuned learning rates.

Protocol (:func:`run`): one tokenizer for all runs; for each family, a learning-rate sweep on
seed 0 picks the rate with the lowest bits per byte on a *development* set of held-out stories;
seeds 1, 2, ... are then trained at that rate; every run is finally scored on a separate *test*
set of held-out stories (both sets come from the story source's validation seed, disjoint from
training).  Recorded per run: test bits per byte and accuracy, parameters, tokens/s, wall time,
curves; for the recurrent families the spectra of the seed-0 model; a few samples per family.

    python -m genphys.lm.compare --scale cpu        # the committed artifact ch07-comparison
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from genphys import validate
from genphys.lm.models import KINDS

ARTIFACT = "ch07-comparison"


def settings(scale: str = "cpu", seeds=(0, 1, 2), lrs=(1e-3, 3e-3, 1e-2, 3e-2), kinds=KINDS, data: str = "stories") -> dict:
    """The comparison's configuration (what its artifact is keyed by).

    With ``data="stories"`` it holds the story grammar's version (:data:`genphys.stories.VERSION`):
    a result made with another grammar is not this comparison's.
    """
    from genphys import config, stories
    from genphys.lm.train import preset

    scale = config.validate_scale(scale)
    seeds = [validate.seed(s, "seeds[]") for s in _sequence(seeds, "seeds")]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    lrs = [validate.real(lr, "lrs[]", low=0, low_open=True) for lr in _sequence(lrs, "lrs")]
    kinds = [validate.one_of(k, "kinds[]", KINDS) for k in _sequence(kinds, "kinds")]
    base = preset(scale, "dissipative", data=data)
    cfg = {"scale": scale, "data": data, "seeds": seeds, "lrs": lrs, "kinds": kinds,
           "train": {k: v for k, v in base.to_dict().items() if k not in ("kind", "lr", "seed", "model")},
           "model": base.model.to_dict(), "test_stories": base.eval_stories}
    if data == "stories":
        cfg["grammar_version"] = stories.VERSION
    return cfg


def _sequence(values, name: str) -> list:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def _compact(history: list[dict], every: int = 10) -> dict:
    train_rows = [r for r in history if "loss" in r]
    evals = [r for r in history if "val_bits_per_byte" in r]
    keep = train_rows[::every] + ([train_rows[-1]] if train_rows and (len(train_rows) - 1) % every else [])
    return {"step": [r["step"] for r in keep], "loss": [r["loss"] for r in keep],
            "max_abs_multiplier": [r["max_abs_multiplier"] for r in keep],
            "eval_step": [r["step"] for r in evals], "dev_bits_per_byte": [r["val_bits_per_byte"] for r in evals]}


def run(cfg: dict, log=print, progress: bool = False) -> dict:
    """Run the comparison ``cfg`` (from :func:`settings`); a JSON-able result."""
    from genphys.lm import data as lmdata, sample, spectra
    from genphys.lm.evaluate import evaluate, source_bits_per_byte
    from genphys.lm.train import make_tokenizer, preset, train

    src = lmdata.source(cfg["data"])
    base = preset(cfg["scale"], "dissipative", data=cfg["data"])
    tok = make_tokenizer(base, src)
    held = src.validation(2 * cfg["test_stories"])
    dev, test = held[:cfg["test_stories"]], held[cfg["test_stories"]:]
    result = {"runs": [], "best_lr": {}, "samples": {}, "spectra": {}, "tokens": base.tokens,
              "test_bytes": lmdata.utf8_bytes(test)}
    if cfg["data"] == "stories":
        result["source_bits_per_byte"] = source_bits_per_byte(test)

    def one(kind, lr, seed):
        c = preset(cfg["scale"], kind, data=cfg["data"], lr=lr, seed=seed)
        t0 = time.perf_counter()
        res = train(c, None, tokenizer=tok, src=src, validation=dev, progress=progress)
        score = evaluate(res["model"], tok, test)
        row = {"kind": kind, "lr": lr, "seed": seed, "params": res["params"],
               "dev_bits_per_byte": res["final"]["val_bits_per_byte"],
               "test_bits_per_byte": score["bits_per_byte"], "test_accuracy": score["accuracy"],
               "tokens_per_s": res["final"]["tokens_per_s"], "wall_time_s": time.perf_counter() - t0,
               "curves": _compact(res["history"])}
        result["runs"].append(row)
        log(json.dumps({k: v for k, v in row.items() if k != "curves"}))
        return res, row

    for kind in cfg["kinds"]:
        sweep = {lr: one(kind, lr, cfg["seeds"][0]) for lr in cfg["lrs"]}
        best = min(sweep, key=lambda lr: sweep[lr][1]["dev_bits_per_byte"])
        result["best_lr"][kind] = best
        model = sweep[best][0]["model"]
        result["samples"][kind] = sample.generate(model, tok, "", n=3, max_new_tokens=160, temperature=0.8, seed=0)
        if model.spectral_modules():
            result["spectra"][kind] = spectra.to_json(spectra.layer_spectra(model))
        for seed in cfg["seeds"][1:]:
            one(kind, best, seed)
    result["table"] = table(result)
    return result


def table(result: dict) -> list[dict]:
    """Per family at its best learning rate: mean and sample standard deviation over seeds."""
    rows = []
    for kind, lr in result["best_lr"].items():
        runs = [r for r in result["runs"] if r["kind"] == kind and r["lr"] == lr]
        def stat(key):
            v = np.array([r[key] for r in runs], dtype=float)
            return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
        bpb, acc, tps = stat("test_bits_per_byte"), stat("test_accuracy"), stat("tokens_per_s")
        rows.append({"kind": kind, "lr": lr, "seeds": len(runs), "params": runs[0]["params"],
                     "bits_per_byte": bpb[0], "bits_per_byte_std": bpb[1], "accuracy": acc[0],
                     "accuracy_std": acc[1], "tokens_per_s": tps[0],
                     "wall_time_s": float(np.mean([r["wall_time_s"] for r in runs]))})
    return rows


def main(argv=None):
    from genphys import artifacts

    parser = argparse.ArgumentParser(prog="python -m genphys.lm.compare", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="cpu", choices=("tiny", "cpu", "gpu"))
    parser.add_argument("--save", action="store_true", help="store the result as the artifact ch07-comparison")
    args = parser.parse_args(argv)
    cfg = settings(args.scale)
    art = artifacts.load_or_run(ARTIFACT, cfg, lambda: run(cfg), save=args.save, rerun=True)
    print(json.dumps(art.result["table"]))


if __name__ == "__main__":
    main()
