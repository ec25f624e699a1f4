"""The comparison of chapter 7: every family at equal parameters, tokens, trained length and tuned rate.

Protocol (one artifact per data source, :func:`artifact_name`):

* **trained length** - training rows of ``seq_len`` tokens (320 at ``cpu``, longer than every
  held-out story of the story source); each held-out story is scored whole from ``<eot>``, and a
  token predicted from more positions than the rows had is *beyond the window*: it is left out of
  the headline numbers and reported apart;
* **learning rate** - a sweep of ``rates`` x the first two seeds per family at the base budget;
  the rate with the lowest mean *development* bits per byte is chosen, and the third seed is
  trained at it.  When that rate is at an end of the grid, the grid grows by a factor of two
  beyond that end (at most :data:`EXTEND` times), so the chosen rate is bracketed by worse
  ones.  Larger budgets keep the base budget's rate, with the cosine schedule laid over the
  longer run (at a fixed model size the best rate of a cosine schedule moves little with the
  budget; the sweep at 1x is what the runs can afford);
* **budgets** - multiples of the base number of steps, per family (``budgets``); every budget
  trains all seeds at the chosen rate;
* **scores** - bits per byte and next-token accuracy on a separate *test* set (development and
  test stories come from held-out text no run trains on), the beyond-window loss apart, and on
  the story source the loss on *repeat mentions* (names, the object and the place after their
  first mention, which the source knows: :func:`genphys.stories.sample_with_mentions`) against
  all other tokens; for seed 0, the spectra of the closed loop and three samples.

Every finished run is stored at once as one JSON file in the artifact's ``runs/`` folder, so an
interrupted comparison continues where it stopped; runs go ``workers`` at a time, one thread
each.  :func:`collect` turns the stored runs into the tables the chapter shows.

    python -m genphys.lm.compare --data stories [--workers 2]
    python -m genphys.lm.compare --data ../shared/data/tinystories/TinyStories-train-head.txt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

from genphys import validate
from genphys.lm.models import KINDS

RATES = (1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2)
EXTEND = 2                                                # rates the sweep may add beyond either end
SEEDS = (0, 1, 2)
LONG = ("dissipative", "selective", "transformer")        # the families of the longest budget
BUDGETS = {k: (1, 4, 16) if k in LONG else (1, 4) for k in KINDS}
#: the order of the runs within a budget: the families of the longest budget, then the ablations that take
#: one piece from the dissipative model (context, measurement), then the Hamiltonian twins
PRIORITY = LONG + ("no_context", "decay_only", "hamiltonian_norm", "hamiltonian")
REAL_TEXT_KINDS = ("dissipative", "selective", "hamiltonian_norm", "transformer")
REAL_TEXT_BUDGETS = (1, 4)


def artifact_name(data: str) -> str:
    """``ch07-comparison-stories`` for the story source, ``ch07-comparison-<file stem>`` for a text file."""
    if data in ("stories", "tinystories"):
        return f"ch07-comparison-{data}"
    return "ch07-comparison-" + Path(data).stem.lower().replace("_", "-")


def settings(scale: str = "cpu", data: str = "stories", kinds=None, rates=RATES, seeds=SEEDS,
             budgets: dict | None = None, sha256: str | None = None) -> dict:
    """The comparison's configuration (what its artifact is keyed by).

    ``data``: ``"stories"`` (with the grammar's version, :data:`genphys.stories.VERSION`), a text
    file (recorded by name and SHA-256, not by path), or ``"file:<name>"`` with its ``sha256``:
    the configuration of a text file's comparison without the file.  ``kinds`` and ``budgets``
    (per family, multiples of the base steps) default to :data:`KINDS` and :data:`BUDGETS` on the
    story source, to :data:`REAL_TEXT_KINDS` and :data:`REAL_TEXT_BUDGETS` on real text.
    """
    from genphys import config, stories
    from genphys.lm.train import preset

    scale = config.validate_scale(scale)
    real = data != "stories"
    kinds = (REAL_TEXT_KINDS if real else KINDS) if kinds is None else kinds
    budgets = budgets or ({k: REAL_TEXT_BUDGETS for k in KINDS} if real else BUDGETS)
    seeds = [validate.seed(s, "seeds[]") for s in _sequence(seeds, "seeds")]
    if len(set(seeds)) != len(seeds) or len(seeds) < 3:
        raise ValueError(f"seeds must be at least 3 distinct seeds (two for the sweep, one more), got {seeds}")
    rates = [validate.real(lr, "rates[]", low=0, low_open=True) for lr in _sequence(rates, "rates")]
    kinds = [validate.one_of(k, "kinds[]", KINDS) for k in _sequence(kinds, "kinds")]
    budgets = {k: [validate.integer(m, f"budgets[{k!r}][]", low=1) for m in _sequence(budgets[k], k)]
               for k in kinds}
    if any(b[0] != 1 for b in budgets.values()):
        raise ValueError("every family's budgets must start at 1 (the base budget of the sweep)")
    base = preset(scale, "dissipative", data=_data_spec(data))
    cfg = {"scale": scale, "data": _data_name(data), "seeds": seeds, "rates": sorted(rates), "extend": EXTEND,
           "kinds": kinds,
           "budgets": budgets, "train": {k: v for k, v in base.to_dict().items() if k not in ("kind", "lr", "seed", "model")},
           "model": base.model.to_dict(), "test_stories": base.eval_stories}
    if data == "stories":
        cfg["grammar_version"] = stories.VERSION
    elif data.startswith("file:"):
        if not isinstance(sha256, str) or not re.fullmatch("[0-9a-f]{64}", sha256):
            raise ValueError(f"sha256 must be the 64 hex digits of {data[5:]!r} when data names a file, got {sha256!r}")
        cfg["data_sha256"] = sha256
    elif data != "tinystories":
        cfg["data_sha256"] = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    return cfg


def _data_spec(data: str) -> str:
    return data if data in ("stories", "tinystories") else "stories"     # a file's preset is the story source's


def _data_name(data: str) -> str:
    if data in ("stories", "tinystories"):
        return data
    if validate.text(data, "data").startswith("file:") and len(data) > 5:
        return data
    path = Path(data)
    if not path.is_file():
        raise ValueError(f"data must be 'stories', 'tinystories' or an existing text file; {data!r} is none of these")
    return f"file:{path.name}"


def _sequence(values, name: str) -> list:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence, got {type(values).__name__}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


# ---------------------------------------------------------------- the runs

def run_key(kind: str, lr: float, seed: int, budget: int) -> str:
    return f"{kind}-lr{lr:g}-s{seed}-x{budget}"


def sweep(cfg: dict, done: dict, kind: str) -> tuple[list[float], float | None]:
    """The rates of ``kind``'s sweep and the chosen one: the lowest mean development bits per byte
    over the sweep seeds (None until every rate of the sweep ran).

    The grid ``cfg["rates"]`` grows by a factor of two beyond whichever end holds the lowest score,
    at most ``cfg["extend"]`` rates each way.
    """
    grid, rates = cfg["rates"], list(cfg["rates"])
    while True:
        scores = {}
        for lr in rates:
            rows = [done.get(run_key(kind, lr, s, 1)) for s in cfg["seeds"][:2]]
            if any(r is None for r in rows):
                return rates, None
            scores[lr] = np.mean([r["dev_bits_per_byte"] if r.get("dev_bits_per_byte") is not None else np.inf
                                  for r in rows])                  # a diverged run scores infinitely badly
        best = min(scores, key=scores.get)
        if best == rates[-1] and sum(lr > grid[-1] for lr in rates) < cfg["extend"]:
            rates.append(rates[-1] * 2)
        elif best == rates[0] and sum(lr < grid[0] for lr in rates) < cfg["extend"]:
            rates.insert(0, rates[0] / 2)
        else:
            return rates, best


def pending(cfg: dict, done: dict) -> list[tuple]:
    """The runs ``(kind, lr, seed, budget)`` not yet done whose learning rate is known.

    Budget by budget, family by family in the order of :data:`PRIORITY`: a family's third seed comes
    right after its sweep, so an interrupted comparison leaves whole families, not a little of every one.
    """
    out = []
    for kind in cfg["kinds"]:
        rates, lr = sweep(cfg, done, kind)
        out += [(kind, r, s, 1) for r in rates for s in cfg["seeds"][:2]]
        if lr is not None:
            out += [(kind, lr, s, b) for b in cfg["budgets"][kind] for s in cfg["seeds"]]
    seen, todo = set(), []
    for spec in sorted(out, key=lambda s: (s[3], PRIORITY.index(s[0]), s[2] >= 2)):
        key = run_key(*spec)
        if key not in done and key not in seen:
            seen.add(key)
            todo.append(spec)
    return todo


def held_out(cfg: dict, src):
    """Development and test stories, and for the story source the test stories' repeat-mention spans."""
    from genphys import stories
    from genphys.lm import data as lmdata

    n = cfg["test_stories"]
    if cfg["data"] == "stories":
        pairs = stories.sample_with_mentions(2 * n, lmdata.VALID_SEED)
        return [s for s, _ in pairs[:n]], [s for s, _ in pairs[n:]], [m for _, m in pairs[n:]]
    held = src.validation(2 * n)
    half = len(held) // 2
    return held[:half], held[half:], None


def text_file_stats(cfg: dict, tok_text: str) -> dict:
    """A text file's comparison: how many stories train, how many are held out, and the epochs each budget makes."""
    from genphys import stories
    from genphys.lm import data as lmdata
    from genphys.lm.checkpoint import tokenizer_from_text

    tok = tokenizer_from_text(tok_text, "the comparison's tokenizer")
    every = lmdata.HOLDOUT_EVERY
    train = [s for i, s in enumerate(stories.read_stories(cfg["data_path"])) if i % every != every - 1]
    dev, test, _ = held_out(cfg, lmdata.source(cfg["data_path"], log=lambda _: None))
    tokens = sum(len(tok.encode(s)) + 1 for s in train)                    # each story with its <eot>
    base = cfg["train"]["steps"] * cfg["train"]["batch_size"] * cfg["train"]["seq_len"]
    budgets = sorted({b for bs in cfg["budgets"].values() for b in bs})
    return {"train_stories": len(train), "dev_stories": len(dev), "test_stories": len(test),
            "train_tokens": tokens, "epochs": {str(b): base * b / tokens for b in budgets}}


def run_one(cfg: dict, spec: tuple, tok_text: str) -> dict:
    """Train and score one run of the comparison (in the calling process, one thread)."""
    import torch

    from genphys import config
    from genphys.lm import data as lmdata, sample, spectra
    from genphys.lm.checkpoint import tokenizer_from_text
    from genphys.lm.evaluate import evaluate
    from genphys.lm.train import NonFiniteLoss, preset, train, training_flops

    kind, lr, seed, budget = spec
    torch.set_num_threads(1)
    src = lmdata.source(cfg.get("data_path", cfg["data"]), log=lambda _: None)
    tok = tokenizer_from_text(tok_text, "the comparison's tokenizer")
    dev, test, mentions = held_out(cfg, src)
    base = preset(cfg["scale"], kind, data=_data_spec(cfg["data"]))
    c = preset(cfg["scale"], kind, data=_data_spec(cfg["data"]), lr=lr, seed=seed, steps=base.steps * budget,
               eval_every=base.steps * budget)
    t0 = time.perf_counter()
    try:
        res = train(c, None, tokenizer=tok, src=src, validation=dev[:16], progress=False, log=lambda _: None)
    except NonFiniteLoss as err:
        return {"key": run_key(*spec), "kind": kind, "lr": lr, "seed": seed, "budget": budget, "steps": c.steps,
                "tokens": c.tokens, "diverged": str(err), "dev_bits_per_byte": None, "test_bits_per_byte": None,
                "wall_time_s": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    model = res["model"]
    d = evaluate(model, tok, dev, window=c.seq_len)
    t = evaluate(model, tok, test, window=c.seq_len, mentions=mentions)
    row = {"key": run_key(*spec), "kind": kind, "lr": lr, "seed": seed, "budget": budget, "steps": c.steps,
           "tokens": c.tokens, "params": res["params"], "flops": training_flops(c),
           "dev_bits_per_byte": d["bits_per_byte"], "test_bits_per_byte": t["bits_per_byte"],
           "test_accuracy": t["accuracy"], "test_tokens": t["tokens"], "test_bytes": t["bytes"],
           "beyond_tokens": t["beyond"]["tokens"], "beyond_bits_per_byte": t["beyond"]["bits_per_byte"],
           "wall_time_s": wall, "tokens_per_s": res["final"]["tokens_per_s"], "device": config.device().type,
           "curves": _compact(res["history"])}
    if mentions is not None:
        row["recall_nats"], row["other_nats"] = t["recall"]["nats_per_token"], t["other"]["nats_per_token"]
        row["recall_tokens"] = t["recall"]["tokens"]
    if seed == cfg["seeds"][0]:
        if model.spectral_modules():
            along = _along(tok, test[:16], c.seq_len) if kind == "selective" else None
            row["spectra"] = spectra.to_json(spectra.layer_spectra(model, along))
        row["samples"] = sample.generate(model, tok, "", n=3, max_new_tokens=160, temperature=0.8, seed=0)
    return row


def _along(tok, texts, seq_len):
    """``<eot> story`` rows cut to ``seq_len`` and joined end to end: the tokens the selective spectra are read along."""
    import torch

    ids = [i for s in texts for i in ([tok.eot] + tok.encode(s))[:seq_len]]
    return torch.tensor(ids[: len(ids) // seq_len * seq_len], dtype=torch.long).view(-1, seq_len)


def _compact(history: list[dict], every: int = 10) -> dict:
    rows = [r for r in history if "loss" in r]
    keep = rows[::every] + ([rows[-1]] if rows and (len(rows) - 1) % every else [])
    return {"step": [r["step"] for r in keep], "loss": [r["loss"] for r in keep],
            "max_abs_multiplier": [r["max_abs_multiplier"] for r in keep]}


def stored_runs(folder: Path) -> dict:
    """The runs already stored in ``folder/runs``, by key."""
    out = {}
    for path in sorted((Path(folder) / "runs").glob("*.json")):
        row = json.loads(path.read_text(encoding="utf-8"))
        out[row["key"]] = row
    return out


def tokenizer_text(cfg: dict, folder: Path) -> str:
    """The comparison's one tokenizer (stored beside its runs; trained on the first use)."""
    from genphys import files
    from genphys.lm import data as lmdata
    from genphys.lm.train import make_tokenizer, preset

    path = Path(folder) / "runs" / "tokenizer.json.txt"
    if not path.is_file():
        src = lmdata.source(cfg.get("data_path", cfg["data"]), log=lambda _: None)
        tok = make_tokenizer(preset(cfg["scale"], "dissipative", data=_data_spec(cfg["data"])), src)
        path.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write_text(path, tok.hf.to_str())
    return path.read_text(encoding="utf-8")


def run(cfg: dict, folder, workers: int = 2, log=print, max_runs: int | None = None) -> dict:
    """Run what is missing of the comparison ``cfg`` into ``folder/runs``, ``workers`` runs at a time; the stored runs.

    For a text file, ``cfg["data_path"]`` says where it is (the configuration keeps its name and SHA-256).

    Ctrl-C stops after saying how to continue; finished runs are kept (one file each, written
    atomically), the runs in progress are lost.  ``max_runs`` stops after that many new runs.
    """
    import concurrent.futures as cf
    import multiprocessing as mp

    from genphys import files

    folder = Path(folder)
    workers = validate.integer(workers, "workers", low=1)
    tok_text = tokenizer_text(cfg, folder)
    done, started = stored_runs(folder), 0
    with files.folder_lock(folder / "runs", "a comparison"):
        pool = cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"))
        running: dict = {}
        try:
            while True:
                for spec in pending(cfg, done):
                    if len(running) >= workers or (max_runs is not None and started >= max_runs):
                        break
                    if run_key(*spec) not in {run_key(*s) for s in running.values()}:
                        running[pool.submit(run_one, cfg, spec, tok_text)] = spec
                        started += 1
                if not running:
                    break
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in finished:
                    running.pop(fut)
                    row = fut.result()
                    files.atomic_write_text(folder / "runs" / f"{row['key']}.json", files.strict_json(row))
                    done[row["key"]] = row
                    score = "diverged" if row.get("diverged") else f"test {row['test_bits_per_byte']:.4f} bits/byte"
                    log(f"{row['key']}: {score}, {row['wall_time_s']:.0f} s "
                        f"({len(done)} runs stored, {len(pending(cfg, done))} to go)")
        except KeyboardInterrupt:
            log(f"interrupted: {len(done)} runs are stored in {folder / 'runs'}; the same command continues from there")
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    return done


# ---------------------------------------------------------------- the tables

def _stat(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def collect(cfg: dict, done: dict, floor: float | None = None) -> dict:
    """The comparison's result from its stored runs: best rates, per-budget tables, scaling, recall, spectra, samples.

    ``spectra`` are the seed-0 models' at the base budget; ``spectra_later`` theirs at the larger budgets.
    """
    runs = [{k: v for k, v in r.items() if k not in ("spectra", "samples")} for r in done.values()]
    sweeps = {k: sweep(cfg, done, k) for k in cfg["kinds"]}
    best = {k: lr for k, (_, lr) in sweeps.items()}
    table, recall = [], []
    for kind in cfg["kinds"]:
        if best[kind] is None:
            continue
        for budget in cfg["budgets"][kind]:
            rows = [done[run_key(kind, best[kind], s, budget)] for s in cfg["seeds"]
                    if run_key(kind, best[kind], s, budget) in done]
            diverged = sum(1 for r in rows if r.get("diverged"))
            rows = [r for r in rows if not r.get("diverged")]
            if not rows:
                continue
            bpb, acc = _stat([r["test_bits_per_byte"] for r in rows]), _stat([r["test_accuracy"] for r in rows])
            table.append({"kind": kind, "budget": budget, "tokens": rows[0]["tokens"], "lr": best[kind],
                          "seeds": len(rows), "params": rows[0]["params"], "flops": rows[0]["flops"],
                          "bits_per_byte": bpb[0], "bits_per_byte_std": bpb[1], "accuracy": acc[0],
                          "accuracy_std": acc[1], "wall_time_s": float(np.mean([r["wall_time_s"] for r in rows])),
                          "beyond_tokens": int(sum(r["beyond_tokens"] for r in rows)), "diverged": diverged})
            if "recall_nats" in rows[0]:
                rec, oth = _stat([r["recall_nats"] for r in rows]), _stat([r["other_nats"] for r in rows])
                recall.append({"kind": kind, "budget": budget, "seeds": len(rows), "recall_nats": rec[0],
                               "recall_nats_std": rec[1], "other_nats": oth[0], "other_nats_std": oth[1],
                               "recall_tokens": rows[0]["recall_tokens"]})
    seed0 = {k: done.get(run_key(k, best[k], cfg["seeds"][0], 1)) for k in cfg["kinds"] if best[k] is not None}
    later = {k: {str(b): done[run_key(k, best[k], cfg["seeds"][0], b)]["spectra"] for b in cfg["budgets"][k][1:]
                 if "spectra" in done.get(run_key(k, best[k], cfg["seeds"][0], b), {})}
             for k in seed0}
    return {"runs": runs, "best_lr": {k: v for k, v in best.items() if v is not None},
            "sweep_rates": {k: rates for k, (rates, _) in sweeps.items()}, "table": table, "recall": recall,
            "scaling": scaling(table, floor), "floor": floor,
            "spectra": {k: r["spectra"] for k, r in seed0.items() if r and "spectra" in r},
            "spectra_later": {k: v for k, v in later.items() if v},
            "samples": {k: r["samples"] for k, r in seed0.items() if r and "samples" in r},
            "coverage": {"stored": len(done), "missing": len(pending(cfg, done)),
                         "cpu_hours": sum(r["wall_time_s"] for r in done.values()) / 3600}}


def scaling(table: list[dict], floor: float | None) -> dict:
    """Per family with two budgets or more: the exponent alpha of (bits per byte - floor) ~ tokens^-alpha (least squares in log-log)."""
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in table):
        rows = [r for r in table if r["kind"] == kind]
        excess = np.array([r["bits_per_byte"] - (floor or 0.0) for r in rows])
        if len(rows) < 2 or (excess <= 0).any():
            continue
        slope = np.polyfit(np.log([r["tokens"] for r in rows]), np.log(excess), 1)[0]
        out[kind] = {"alpha": float(-slope), "budgets": [r["budget"] for r in rows]}
    return out


def verdict(a, b, alpha: float = 0.05) -> dict:
    """Is ``a`` lower (better) than ``b``?  Welch's t-test over seeds: ``supported``, ``contradicted`` or ``not resolved``."""
    from scipy import stats

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    gap = float(b.mean() - a.mean())
    if a.size < 2 or b.size < 2:
        return {"gap": gap, "p": float("nan"), "verdict": "not resolved"}
    p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    word = "supported" if gap > 0 and p < alpha else "contradicted" if gap < 0 and p < alpha else "not resolved"
    return {"gap": gap, "p": p, "verdict": word}


def main(argv=None):
    from genphys import artifacts, cli, config
    from genphys.lm import data as lmdata
    from genphys.lm.evaluate import source_bits_per_byte

    parser = argparse.ArgumentParser(prog="python -m genphys.lm.compare", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="cpu", choices=("tiny", "cpu", "gpu"))
    parser.add_argument("--data", default="stories", help="'stories', 'tinystories' or a text file")
    parser.add_argument("--kinds", nargs="+", default=None, choices=KINDS,
                        help="the families to run (default: all of the comparison's); the artifact "
                             "always collects every family's stored runs")
    parser.add_argument("--workers", type=cli.integer(1), default=2)
    parser.add_argument("--max-runs", type=cli.integer(1), default=None, help="stop after this many new runs")
    parser.add_argument("--collect-only", action="store_true", help="only rewrite the artifact from the stored runs")
    args = parser.parse_args(argv)
    cfg = settings(args.scale, args.data)
    name = artifact_name(args.data)
    folder = artifacts.find_root() / name
    start = time.perf_counter()
    where = {**cfg, "data_path": args.data} if cfg["data"].startswith("file:") else cfg    # the path is not the config
    chosen = list(args.kinds or cfg["kinds"])
    if not set(chosen) <= set(cfg["kinds"]):
        parser.error(f"--kinds must be among this comparison's families {cfg['kinds']}, got {chosen}")
    some = {**where, "kinds": chosen}
    done = stored_runs(folder) if args.collect_only else run(some, folder, args.workers, max_runs=args.max_runs)
    floor = None
    if cfg["data"] == "stories":
        floor = source_bits_per_byte(held_out(cfg, lmdata.source("stories"))[1])
    result = collect(cfg, done, floor)
    if cfg["data"].startswith("file:"):
        result["text"] = text_file_stats(where, tokenizer_text(cfg, folder))
    art = artifacts.store(name, cfg, result, wall_time_s=3600 * result["coverage"]["cpu_hours"],
                          extra={"session_wall_time_s": time.perf_counter() - start})
    print(f"{name}: {result['coverage']['stored']} runs stored, {result['coverage']['missing']} to go; "
          f"{result['coverage']['cpu_hours']:.2f} CPU hours on {config.device().type}")
    print(json.dumps(art.result["table"]))


if __name__ == "__main__":
    main()
