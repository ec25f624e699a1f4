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
  longer run - in chapter 7's comparison.  The decisive experiment (:func:`experiment`,
  ``--experiment``) does not assume that the rate chosen at 1x, where no model recalls yet, stays
  best: at each longer budget it trains that rate and its neighbours x 2 and / 2 with a few seeds
  (:data:`RATE_CHECKS`) and keeps the best (:func:`rate`);
* **budgets** - multiples of the base number of steps, per family (``budgets``); every budget
  trains all seeds at the chosen rate;
* **scores** - bits per byte and next-token accuracy on a separate *test* set (development and
  test stories come from held-out text no run trains on), the beyond-window loss apart, and on
  the story source the loss on *repeat mentions* (names, the object and the place after their
  first mention, which the source knows: :func:`genphys.stories.sample_with_mentions`) against
  all other tokens; for seed 0, the spectra of the closed loop and three samples.

Every finished run is stored at once as one JSON file in the artifact's ``runs/`` folder, so an
interrupted comparison continues where it stopped; runs go ``workers`` at a time, one thread
each, in worker processes that die with the main process (also when it is killed).
:func:`collect` turns the stored runs into the tables the chapter shows.

A stored run is bound to its settings: it records its ``config`` (:func:`run_config`: everything
that determines that one run, :data:`PROTOCOL` included) and a ``checksum`` (:func:`seal`).
:func:`stored_runs` uses a run file only if it is strict JSON, its checksum holds, its key is its
file name and a run of the protocol, and its config is the one the comparison gives for that key;
anything else stops the comparison with one line naming the file.  Runs stored before runs recorded
their config are bound once, explicitly, by ``--bind-unrecorded`` (:func:`bind_unrecorded`).

    python -m genphys.lm.compare --data stories [--workers 2]
    python -m genphys.lm.compare --data ../shared/data/tinystories/TinyStories-train-head.txt
    python -m genphys.lm.compare --data stories --collect-only       # only rewrite the artifact
    python -m genphys.lm.compare --data stories --experiment         # the decisive experiment

Errors are one line on stderr (exit status 2); Ctrl-C says how many runs are stored and the
command that continues (exit status 130).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import numpy as np

from genphys import files, validate
from genphys.lm.checkpoint import RunError
from genphys.lm.models import KINDS

__all__ = ["HEADLINE", "RATE_CHECKS", "PRIORITY", "PROTOCOL", "NOT_IN_TABLE", "BOUND_NOTE", "artifact_name",
           "settings", "experiment", "run_key", "reachable_rates", "run_spec", "train_config", "machine_platform",
           "tokenizer_sha256", "run_config", "checksum", "seal", "sweep", "rate", "pending", "held_out",
           "text_file_stats", "run_one", "stored_runs", "bind_unrecorded", "tokenizer_text", "run", "collect",
           "scaling", "verdict", "main"]

RATES = (1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2)
EXTEND = 2                                                # rates the sweep may add beyond either end
# The comparison chapter 7 shows (committed): seven families, three seeds, the rate chosen at 1x for every budget.
COMPARISON_KINDS = ("dissipative", "selective", "hamiltonian", "hamiltonian_norm", "decay_only", "no_context",
                    "transformer")
SEEDS = (0, 1, 2)
LONG = ("dissipative", "selective", "transformer")        # the families of the longest budget
BUDGETS = {k: (1, 4, 16) if k in LONG else (1, 4) for k in COMPARISON_KINDS}
REAL_TEXT_KINDS = ("dissipative", "selective", "hamiltonian_norm", "transformer")
REAL_TEXT_BUDGETS = (1, 4)
# The decisive experiment (:func:`experiment`): every family, six paired seeds, the rate checked at every budget.
#: the families whose verdicts are the headline: their runs go first, the longest budget included
HEADLINE = ("dissipative", "selective", "measured_memory", "transformer")
EXPERIMENT_SEEDS = (0, 1, 2, 3, 4, 5)
EXPERIMENT_LONG = HEADLINE + ("no_context",)              # no context at 16x: where recall is learned
EXPERIMENT_BUDGETS = {k: (1, 4, 16) if k in EXPERIMENT_LONG else (1, 4) for k in KINDS}
EXPERIMENT_REAL_KINDS = ("dissipative", "selective", "hamiltonian_norm", "measured_memory", "transformer")
#: at each longer budget, the rate of the budget before and its neighbours (x 2, / 2) are trained with this
#: many seeds, and the best is kept: a rate chosen where no model recalls is not assumed to stay best
RATE_CHECKS = {4: 2, 16: 1}
#: the order of the runs within a budget: the headline families, the ablations that take one piece from the
#: dissipative model (context, measurement), then the Hamiltonian twins
PRIORITY = HEADLINE + ("no_context", "decay_only", "hamiltonian_measured", "hamiltonian_norm", "hamiltonian")
#: The version of what a run computes (training, scoring, the fields it stores).  Every stored run records
#: it; bump it whenever a change of the code alters what a run computes: runs of another version are refused.
PROTOCOL = 1
VALIDATION_STORIES = 16        # development stories scored during training (the dev set's first ones)
TOKENIZER_FILE = "tokenizer.json.txt"
#: Fields of a stored run that the artifact's ``runs`` table leaves out (figure data, samples, the run's seal).
NOT_IN_TABLE = ("spectra", "samples", "config", "checksum", "bound")
#: What :func:`bind_unrecorded` writes into a run it stamps (the config was not recorded at training).
BOUND_NOTE = "config stamped from the run's key by --bind-unrecorded; the run predates recorded configs"


def artifact_name(data: str, experiment: bool = False) -> str:
    """``ch07-comparison-stories`` for the story source, ``ch07-comparison-<file stem>`` for a text file;
    ``ch08-experiment-...`` for the decisive experiment (:func:`experiment`)."""
    prefix = "ch08-experiment-" if validate.flag(experiment, "experiment") else "ch07-comparison-"
    if data in ("stories", "tinystories"):
        return prefix + data
    return prefix + Path(data).stem.lower().replace("_", "-")


def settings(scale: str = "cpu", data: str = "stories", kinds=None, rates=RATES, seeds=SEEDS,
             budgets: dict | None = None, sha256: str | None = None, rate_checks: dict | None = None) -> dict:
    """The comparison's configuration (what its artifact is keyed by).

    ``data``: ``"stories"`` (with the grammar's version, :data:`genphys.stories.VERSION`), a text
    file (recorded by name and SHA-256, not by path), or ``"file:<name>"`` with its ``sha256``:
    the configuration of a text file's comparison without the file.  ``kinds`` and ``budgets``
    (per family, multiples of the base steps) default to :data:`COMPARISON_KINDS` and :data:`BUDGETS` on
    the story source, to :data:`REAL_TEXT_KINDS` and :data:`REAL_TEXT_BUDGETS` on real text.
    ``rate_checks`` (budget -> seeds, as :data:`RATE_CHECKS`) re-checks the rate at those budgets
    (:func:`rate`); without it every budget keeps the rate chosen at 1x.
    """
    from genphys import config, stories

    scale = config.validate_scale(scale)
    real = data != "stories"
    kinds = (REAL_TEXT_KINDS if real else COMPARISON_KINDS) if kinds is None else kinds
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
    base = _preset(scale, "dissipative", _data_spec(data))
    cfg = {"scale": scale, "data": _data_name(data), "seeds": seeds, "rates": sorted(rates), "extend": EXTEND,
           "kinds": kinds,
           "budgets": budgets, "train": {k: v for k, v in base.to_dict().items() if k not in ("kind", "lr", "seed", "model")},
           "model": base.model.to_dict(), "test_stories": base.eval_stories}
    if rate_checks is not None:
        checks = {int(validate.integer(b, "rate_checks budget", low=2)): validate.integer(n, "rate_checks seeds", low=1)
                  for b, n in validate.instance(rate_checks, "rate_checks", dict, "a dict").items()}
        if any(n > len(seeds) for n in checks.values()):
            raise ValueError(f"rate_checks cannot ask for more seeds than the comparison has ({len(seeds)})")
        cfg["rate_checks"] = {str(b): n for b, n in sorted(checks.items())}
    if data == "stories":
        cfg["grammar_version"] = stories.VERSION
    elif data.startswith("file:"):
        if not isinstance(sha256, str) or not re.fullmatch("[0-9a-f]{64}", sha256):
            raise ValueError(f"sha256 must be the 64 hex digits of {data[5:]!r} when data names a file, got {sha256!r}")
        cfg["data_sha256"] = sha256
    elif data != "tinystories":
        cfg["data_sha256"] = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    return cfg


def experiment(scale: str = "cpu", data: str = "stories", sha256: str | None = None) -> dict:
    """The decisive experiment's configuration: every family of :data:`KINDS` on the story source
    (:data:`EXPERIMENT_REAL_KINDS` on real text, at 1x and 4x), the six paired seeds of
    :data:`EXPERIMENT_SEEDS`, the budgets of :data:`EXPERIMENT_BUDGETS` and the rate re-checked at every
    longer budget (:data:`RATE_CHECKS`). A run it shares with the committed comparison (same family,
    rate, seed, budget and code) is the same run: its stored file is valid in both."""
    real = data != "stories"
    kinds = EXPERIMENT_REAL_KINDS if real else KINDS
    budgets = {k: REAL_TEXT_BUDGETS for k in KINDS} if real else EXPERIMENT_BUDGETS
    return settings(scale, data, kinds=kinds, seeds=EXPERIMENT_SEEDS, budgets=budgets, sha256=sha256,
                    rate_checks=RATE_CHECKS)


def _data_spec(data: str) -> str:
    return data if data in ("stories", "tinystories") else "stories"     # a file's preset is the story source's


@functools.lru_cache(maxsize=None)
def _preset(scale: str, kind: str, data_spec: str):
    """:func:`genphys.lm.train.preset` of a family at a scale (cached: it matches every family's parameters)."""
    from genphys.lm.train import preset

    return preset(scale, kind, data=data_spec)


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
    """The name of a run (and of its file, ``runs/<key>.json``): ``kind-lr<rate>-s<seed>-x<budget>``."""
    return f"{kind}-lr{lr:g}-s{seed}-x{budget}"


_KEY = re.compile(r"(?P<kind>[a-z_]+)-lr(?P<lr>[0-9.e+-]+)-s(?P<seed>0|[1-9][0-9]*)-x(?P<budget>[1-9][0-9]*)")


def reachable_rates(cfg: dict) -> list[float]:
    """Every learning rate the protocol can try: the grid, up to ``extend`` halvings and doublings beyond it
    (:func:`sweep`), and a halving or doubling more for each budget whose rate is re-checked (:func:`rate`)."""
    low, high = [cfg["rates"][0]], [cfg["rates"][-1]]
    for _ in range(cfg["extend"]):
        low.insert(0, low[0] / 2)               # the arithmetic of sweep, so that the floats are the same
        high.append(high[-1] * 2)
    found = set(low[:-1] + list(cfg["rates"]) + high[1:])
    for _ in cfg.get("rate_checks", {}):
        found |= {lr / 2 for lr in found} | {lr * 2 for lr in found}
    return sorted(found)


def run_spec(cfg: dict, key: str) -> tuple:
    """The run ``(kind, lr, seed, budget)`` that ``key`` names in the comparison ``cfg``; ValueError saying why
    it names none (not a key; a family, seed or budget outside the comparison; a rate its sweep cannot reach)."""
    m = _KEY.fullmatch(key) if isinstance(key, str) else None
    if m is None:
        raise ValueError(f"{key!r} is not a run key (kind-lr<rate>-s<seed>-x<budget>)")
    kind, seed, budget = m["kind"], int(m["seed"]), int(m["budget"])
    if kind not in cfg["kinds"]:
        raise ValueError(f"family {kind!r} is not among its families {list(cfg['kinds'])}")
    if seed not in cfg["seeds"]:
        raise ValueError(f"seed {seed} is not among its seeds {list(cfg['seeds'])}")
    if budget not in cfg["budgets"][kind]:
        raise ValueError(f"budget {budget} is not among {kind}'s budgets {list(cfg['budgets'][kind])}")
    rates = [lr for lr in reachable_rates(cfg) if run_key(kind, lr, seed, budget) == key]
    if not rates:
        raise ValueError(f"learning rate {m['lr']} is not one its sweep can reach ({reachable_rates(cfg)})")
    return kind, rates[0], seed, budget


def train_config(cfg: dict, spec: tuple):
    """The :class:`~genphys.lm.checkpoint.TrainConfig` of run ``spec`` ``(kind, lr, seed, budget)``: the
    scale's preset with the run's rate and seed, ``budget`` times the base steps, one evaluation at the end."""
    import dataclasses

    kind, lr, seed, budget = spec
    base = _preset(cfg["scale"], kind, _data_spec(cfg["data"]))
    return dataclasses.replace(base, lr=lr, seed=seed, steps=base.steps * budget, eval_every=base.steps * budget)


def machine_platform() -> dict:
    """What this machine trains on: ``{"device": torch device type, "precision": the card's precision}``."""
    from genphys import config
    from genphys.lm.train import choose_precision

    device = config.device()
    return {"device": device.type, "precision": choose_precision(device)}


def _data_identity(cfg: dict) -> dict:
    """The data a comparison trains on: its name, with a text file's SHA-256 or the story grammar's version."""
    extra = {"sha256": cfg["data_sha256"]} if "data_sha256" in cfg else \
        {"grammar_version": cfg["grammar_version"]} if "grammar_version" in cfg else {}
    return {"name": cfg["data"], **extra}


def tokenizer_sha256(tok_text: str) -> str:
    """SHA-256 of the comparison's tokenizer (its stored text, UTF-8)."""
    return hashlib.sha256(validate.text(tok_text, "tok_text").encode("utf-8")).hexdigest()


def run_config(cfg: dict, spec: tuple, tokenizer_sha: str, platform: dict) -> dict:
    """Everything that determines run ``spec`` of the comparison ``cfg``: what its stored file records as ``config``.

    ``protocol`` (:data:`PROTOCOL`), ``scale``, ``data`` (:func:`_data_identity`), ``budget``, ``train``
    (the run's whole TrainConfig: kind, lr, seed, steps, model, seq_len, ...), ``evaluation`` (development
    and test stories asked for - a text file holding fewer gives fewer, fixed by its SHA-256 - and the
    development stories scored during training), ``family_version`` (from version 2 on: a run stored before a
    family had versions is version 1), ``tokenizer_sha256`` and the ``platform``'s ``device``
    and ``precision``.  Not the comparison-wide lists (seeds, rates, kinds, budgets): a comparison that
    grows keeps its runs.
    """
    from genphys.lm.models import family_version

    n, version = cfg["test_stories"], family_version(spec[0])
    return {"protocol": PROTOCOL, **({"family_version": version} if version > 1 else {}),
            "scale": cfg["scale"], "data": _data_identity(cfg), "budget": spec[3],
            "train": train_config(cfg, spec).to_dict(),
            "evaluation": {"dev_stories": n, "test_stories": n, "training_validation_stories": VALIDATION_STORIES},
            "tokenizer_sha256": tokenizer_sha, "device": platform["device"], "precision": platform["precision"]}


def checksum(row: dict) -> str:
    """SHA-256 of a stored run's canonical JSON (sorted keys, no spaces), its ``checksum`` field left out."""
    body = {k: v for k, v in row.items() if k != "checksum"}
    return hashlib.sha256(files.strict_json(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def seal(row: dict, config: dict) -> dict:
    """``row`` as it is stored: in its JSON form (NaN and infinities ``null``), with ``config`` and its ``checksum``."""
    row = json.loads(files.strict_json({**row, "config": config}))
    return {**row, "checksum": checksum(row)}


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
            scores[lr] = _mean_dev(rows)
        best = min(scores, key=scores.get)
        if best == rates[-1] and sum(lr > grid[-1] for lr in rates) < cfg["extend"]:
            rates.append(rates[-1] * 2)
        elif best == rates[0] and sum(lr < grid[0] for lr in rates) < cfg["extend"]:
            rates.insert(0, rates[0] / 2)
        else:
            return rates, best


def _mean_dev(rows) -> float:
    """Mean development bits per byte of runs; a diverged run scores infinitely badly."""
    return float(np.mean([r["dev_bits_per_byte"] if r.get("dev_bits_per_byte") is not None else np.inf
                          for r in rows]))


def rate(cfg: dict, done: dict, kind: str, budget: int) -> tuple[list[float], float | None]:
    """The rates tried for ``kind`` at ``budget`` and the one its runs use (None until it is known).

    At 1x, :func:`sweep`. At a longer budget whose rate is re-checked (``cfg["rate_checks"]``: budget ->
    seeds), the rate chosen at the budget before and its neighbours x 2 and / 2, each trained with that
    many seeds; the lowest mean development bits per byte is kept. Otherwise the rate of the budget before.
    """
    budgets = cfg["budgets"][kind]
    if budget == budgets[0]:
        return sweep(cfg, done, kind)
    _, lr = rate(cfg, done, kind, budgets[budgets.index(budget) - 1])
    checks = cfg.get("rate_checks", {}).get(str(budget))
    if lr is None or not checks:
        return ([lr] if lr is not None else []), lr
    tried = [lr / 2, lr, lr * 2]
    rows = {c: [done.get(run_key(kind, c, s, budget)) for s in cfg["seeds"][:checks]] for c in tried}
    if any(r is None for rs in rows.values() for r in rs):
        return tried, None
    return tried, min(tried, key=lambda c: _mean_dev(rows[c]))


def _order(cfg: dict):
    """The order of the runs: the headline families first where the rate is re-checked (the experiment), then
    budget by budget, family by family in :data:`PRIORITY`, the checks of a rate before the seeds at it."""
    experiment = "rate_checks" in cfg
    return lambda s: (experiment and s[0] not in HEADLINE, s[3], PRIORITY.index(s[0]), s[2] >= 2)


def pending(cfg: dict, done: dict) -> list[tuple]:
    """The runs ``(kind, lr, seed, budget)`` not yet done whose learning rate is known.

    A family's remaining seeds come right after the runs that choose its rate (the sweep at 1x, the checks
    at a longer budget), so an interrupted comparison leaves whole families, not a little of every one.
    """
    out = []
    for kind in cfg["kinds"]:
        for budget in cfg["budgets"][kind]:
            tried, lr = rate(cfg, done, kind, budget)
            checks = 2 if budget == cfg["budgets"][kind][0] else cfg.get("rate_checks", {}).get(str(budget), 0)
            out += [(kind, r, s, budget) for r in tried for s in cfg["seeds"][:checks]]
            if lr is None:
                break
            out += [(kind, lr, s, budget) for s in cfg["seeds"]]
    seen, todo = set(), []
    for spec in sorted(out, key=_order(cfg)):
        key = run_key(*spec)
        if key not in done and key not in seen:
            seen.add(key)
            todo.append(spec)
    return todo


def _source(cfg: dict):
    """The comparison's text source, strict: TinyStories named but unreachable stops it (no stand-in is used)."""
    from genphys.lm import data as lmdata

    return lmdata.source(cfg.get("data_path", cfg["data"]), log=lambda _: None, strict=True)


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
    dev, test, _ = held_out(cfg, _source(cfg))
    tokens = sum(len(tok.encode(s)) + 1 for s in train)                    # each story with its <eot>
    base = cfg["train"]["steps"] * cfg["train"]["batch_size"] * cfg["train"]["seq_len"]
    budgets = sorted({b for bs in cfg["budgets"].values() for b in bs})
    return {"train_stories": len(train), "dev_stories": len(dev), "test_stories": len(test),
            "train_tokens": tokens, "epochs": {str(b): base * b / tokens for b in budgets}}


def run_one(cfg: dict, spec: tuple, tok_text: str) -> dict:
    """Train and score one run of the comparison (in the calling process, one thread); the row to store, sealed
    with its :func:`run_config` (this machine's device and precision)."""
    import torch

    from genphys.lm import sample, spectra
    from genphys.lm.checkpoint import tokenizer_from_text
    from genphys.lm.evaluate import evaluate
    from genphys.lm.models import without_context_target
    from genphys.lm.train import NonFiniteLoss, train, training_flops

    kind, lr, seed, budget = spec
    torch.set_num_threads(1)
    src = _source(cfg)
    tok = tokenizer_from_text(tok_text, "the comparison's tokenizer")
    dev, test, mentions = held_out(cfg, src)
    c, platform = train_config(cfg, spec), machine_platform()
    config = run_config(cfg, spec, tokenizer_sha256(tok_text), platform)
    t0 = time.perf_counter()
    try:
        res = train(c, None, tokenizer=tok, src=src, validation=dev[:VALIDATION_STORIES], progress=False,
                    log=lambda _: None, precision=platform["precision"])
    except NonFiniteLoss as err:
        return seal({"key": run_key(*spec), "kind": kind, "lr": lr, "seed": seed, "budget": budget, "steps": c.steps,
                     "tokens": c.tokens, "diverged": str(err), "dev_bits_per_byte": None, "test_bits_per_byte": None,
                     "wall_time_s": time.perf_counter() - t0}, config)
    wall = time.perf_counter() - t0
    model = res["model"]
    d = evaluate(model, tok, dev, window=c.seq_len)
    t = evaluate(model, tok, test, window=c.seq_len, mentions=mentions)
    row = {"key": run_key(*spec), "kind": kind, "lr": lr, "seed": seed, "budget": budget, "steps": c.steps,
           "tokens": c.tokens, "params": res["params"], "flops": training_flops(c),
           "dev_bits_per_byte": d["bits_per_byte"], "test_bits_per_byte": t["bits_per_byte"],
           "test_accuracy": t["accuracy"], "test_tokens": t["tokens"], "test_bytes": t["bytes"],
           "beyond_tokens": t["beyond"]["tokens"], "beyond_bits_per_byte": t["beyond"]["bits_per_byte"],
           "wall_time_s": wall, "tokens_per_s": res["final"]["tokens_per_s"], "device": platform["device"],
           "curves": _compact(res["history"])}
    if mentions is not None:
        row["recall_nats"], row["other_nats"] = t["recall"]["nats_per_token"], t["other"]["nats_per_token"]
        row["recall_tokens"] = t["recall"]["tokens"]
    with without_context_target(model) as zeroed:                   # the ablation at inference: c_t = 0
        if zeroed:
            a = evaluate(model, tok, test, window=c.seq_len, mentions=mentions)
            row["ablated_test_bits_per_byte"] = a["bits_per_byte"]
            if mentions is not None:
                row["ablated_recall_nats"] = a["recall"]["nats_per_token"]
    if seed == cfg["seeds"][0]:
        if model.spectral_modules():
            varies = any(m.varies_with_token for m in model.spectral_modules())
            along = _along(tok, test[:16], c.seq_len) if varies else None
            row["spectra"] = spectra.to_json(spectra.layer_spectra(model, along))
        row["samples"] = sample.generate(model, tok, "", n=3, max_new_tokens=160, temperature=0.8, seed=0)
    return seal(row, config)


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


# ---------------------------------------------------------------- the stored runs

_ABSENT = object()
#: Hints after a difference of these config fields.
_HINTS = {"protocol": " (a change of the code since altered what a run computes)",
          "family_version": " (the family's code changed since: a model of it now computes or starts otherwise)",
          "device": " (a comparison's runs share one device and precision)",
          "precision": " (a comparison's runs share one device and precision)"}


def _first_difference(stored, wanted, prefix: str = ""):
    """The first ``(field, stored value, wanted value)`` where two JSON values differ, dicts field by field in
    ``wanted``'s order (a missing field is ``_ABSENT``); None where they are equal."""
    if not (isinstance(stored, dict) and isinstance(wanted, dict)):
        return None if stored == wanted else (prefix, stored, wanted)
    for key in [*wanted, *(k for k in stored if k not in wanted)]:
        field = f"{prefix}.{key}" if prefix else key
        if key not in stored or key not in wanted:
            return field, stored.get(key, _ABSENT), wanted.get(key, _ABSENT)
        found = _first_difference(stored[key], wanted[key], field)
        if found:
            return found
    return None


def _difference_line(where: str, field: str, stored, wanted) -> str:
    """One line: the run file ``where`` was trained with ``stored`` in ``field``, the comparison gives ``wanted``."""
    if stored is _ABSENT:
        return f"{where} records no {field}; this comparison has {field} {wanted!r}"
    if wanted is _ABSENT:
        return f"{where} records {field} {stored!r}, which no run of this comparison has"
    there = f"is at scale {wanted!r}" if field == "scale" else f"has {field} {wanted!r}"
    return f"{where} was trained with {field} {stored!r}, this comparison {there}{_HINTS.get(field, '')}"


def _run_files(folder: Path):
    """``(where, key from the file name, row)`` for every run file of ``folder/runs``, read as strict JSON."""
    for path in sorted((Path(folder) / "runs").glob("*.json")):
        where = f"{Path(folder).name}/runs/{path.name}"
        try:
            row = files.strict_loads(path.read_bytes())
        except ValueError as err:                                 # JSONDecodeError, NaN, not UTF-8
            raise RunError(f"{where} is not strict JSON ({err})") from None
        if not isinstance(row, dict) or "key" not in row:
            raise RunError(f"{where} is not a run of genphys.lm.compare (a JSON object with a key)")
        yield where, path.stem, row


def _spec_of(where: str, stem: str, row: dict, cfg: dict) -> tuple:
    """The run that ``row`` (stored as ``<stem>.json``) is in the comparison ``cfg``; RunError if its key is not
    its file name or names no run of the comparison."""
    if row["key"] != stem:
        raise RunError(f"{where} holds the run {row['key']!r}, not the one its file name says")
    try:
        return run_spec(cfg, stem)
    except ValueError as err:
        raise RunError(f"{where} is not a run of this comparison: {err}") from None


def _check_row(where: str, stem: str, row: dict, cfg: dict, tok_sha: str, platform: dict | None) -> dict:
    """Refuse (RunError, one line) a stored run that is not sealed, was edited, is stored under another name,
    is not a run of ``cfg`` or records another config than :func:`run_config` gives it; the platform it
    was checked against (its own where ``platform`` is None)."""
    if not isinstance(row.get("config"), dict):
        raise RunError(f"{where} records no config (stored before runs recorded their settings); "
                       "bind such runs once with --bind-unrecorded")
    if row.get("checksum") != checksum(row):
        raise RunError(f"{where} was edited after it was stored: its contents do not match its checksum")
    spec = _spec_of(where, stem, row, cfg)
    platform = platform or {k: row["config"].get(k) for k in ("device", "precision")}
    found = _first_difference(row["config"], run_config(cfg, spec, tok_sha, platform))
    if found:
        raise RunError(_difference_line(where, *found))
    return platform


def _stored_tokenizer_sha(folder: Path) -> str:
    """SHA-256 of the tokenizer stored in ``folder/runs``; RunError if runs are stored without it."""
    path = Path(folder) / "runs" / TOKENIZER_FILE
    if not path.is_file():
        raise RunError(f"{Path(folder).name}/runs holds runs but not their tokenizer {TOKENIZER_FILE}")
    return tokenizer_sha256(path.read_text(encoding="utf-8"))


def stored_runs(folder: Path, cfg: dict, platform: dict | None = None) -> dict:
    """The runs stored in ``folder/runs`` by key, each checked to be a run of the comparison ``cfg``
    (:func:`_check_row`).

    ``platform`` (``{"device", "precision"}``, e.g. :func:`machine_platform`) is the one the runs must have
    trained on; None: the first run's, which every other run must share.  One line (RunError) names the
    first file that fails and how; no run is skipped.
    """
    out, tok_sha = {}, None
    for where, stem, row in _run_files(folder):
        tok_sha = tok_sha or _stored_tokenizer_sha(folder)
        platform = _check_row(where, stem, row, cfg, tok_sha, platform)
        out[row["key"]] = row
    return out


def _recorded_fields(cfg: dict, spec: tuple, platform: dict) -> dict:
    """What a run of ``spec`` records besides its scores, as its config gives them (kind, lr, seed, budget, steps,
    tokens, params, flops, device)."""
    from genphys.lm.models import count_params
    from genphys.lm.train import training_flops

    c = train_config(cfg, spec)
    return {"kind": c.kind, "lr": c.lr, "seed": c.seed, "budget": spec[3], "steps": c.steps, "tokens": c.tokens,
            "params": count_params(c.kind, c.model), "flops": training_flops(c), "device": platform["device"]}


def _bound(where: str, stem: str, row: dict, cfg: dict, tok_sha: str, platform: dict) -> dict:
    """``row`` (stored without a config) sealed with the config its key gives, after checking every field it
    recorded against that config (kind, lr, seed, budget, steps and tokens must be there); RunError naming the
    first field that disagrees."""
    spec = _spec_of(where, stem, row, cfg)
    for field, wanted in _recorded_fields(cfg, spec, platform).items():
        if field not in row and field in ("kind", "lr", "seed", "budget", "steps", "tokens"):
            raise RunError(f"{where} records no {field}; it cannot be bound")
        if field in row and row[field] != wanted:
            raise RunError(f"{where} records {field} {row[field]!r}, its key gives {wanted!r} under this "
                           "comparison's settings; it is not bound")
    return seal({**row, "bound": BOUND_NOTE}, run_config(cfg, spec, tok_sha, platform))


def bind_unrecorded(folder, cfg: dict) -> tuple[int, int]:
    """One-time migration: stamp every stored run that records no config with the config its key gives under
    ``cfg`` (and :data:`BOUND_NOTE`, and its checksum); ``(runs bound, runs that already recorded theirs)``.

    For runs stored before runs recorded their settings.  Nothing is written unless every run passes: the
    comparison's artifact must exist and have been made with ``cfg`` (so the data's SHA-256 and the story
    grammar's version are the ones its runs were collected under), its tokenizer must be stored, every
    unrecorded run's key must be its file name and a run of the protocol, and the kind, lr, seed, budget,
    steps, tokens, params, flops and device it recorded must equal the config's; runs that record a config
    are checked as :func:`stored_runs` checks them.  The device is theirs, else this machine's.  The caller
    holds the folder's lock.
    """
    from genphys import artifacts

    folder = Path(folder)
    artifacts.load(folder.name, cfg, root=folder.parent)          # ArtifactError: none, or another configuration
    rows = list(_run_files(folder))
    tok_sha = _stored_tokenizer_sha(folder) if rows else None
    platform = None
    for where, stem, row in rows:
        if "config" in row:
            platform = _check_row(where, stem, row, cfg, tok_sha, platform)
    platform = platform or machine_platform()
    bound = {stem: _bound(where, stem, row, cfg, tok_sha, platform)
             for where, stem, row in rows if "config" not in row}
    for stem, row in bound.items():
        files.atomic_write_text(folder / "runs" / f"{stem}.json", files.strict_json(row))
    return len(bound), len(rows) - len(bound)


def tokenizer_text(cfg: dict, folder: Path) -> str:
    """The comparison's one tokenizer (stored beside its runs; trained on the first use)."""
    from genphys.lm.train import make_tokenizer

    path = Path(folder) / "runs" / TOKENIZER_FILE
    if not path.is_file():
        tok = make_tokenizer(_preset(cfg["scale"], "dissipative", _data_spec(cfg["data"])), _source(cfg))
        path.parent.mkdir(parents=True, exist_ok=True)
        files.atomic_write_text(path, tok.hf.to_str())
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- running

PR_SET_PDEATHSIG = 1               # prctl(2): the signal a process gets when its parent dies (Linux)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: leave Ctrl-C to the main process, and (Linux) be killed when the main process dies,
    however it dies; a worker whose parent is already gone exits.

    tqdm's lock becomes a thread lock: its default is a named semaphore in a spawned process, which a killed
    worker would leave for multiprocessing's resource tracker to clean up and report on stderr.
    """
    import threading

    from tqdm import tqdm

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tqdm.set_lock(threading.RLock())
    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _pool(workers: int):
    """``workers`` spawned worker processes that die with this one (:func:`_die_with_parent`)."""
    import concurrent.futures as cf
    import multiprocessing as mp

    return cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_die_with_parent,
                                  initargs=(os.getpid(),))


def _stop_workers(pool) -> None:
    """Kill ``pool``'s workers now (their runs are lost) and shut it down."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def run(cfg: dict, folder, workers: int = 2, log=print, max_runs: int | None = None, kinds=None,
        job=None) -> dict:
    """Run what is missing of the comparison ``cfg`` into ``folder/runs``, ``workers`` runs at a time; the stored runs.

    For a text file, ``cfg["data_path"]`` says where it is (the configuration keeps its name and SHA-256).
    ``kinds`` (default: all of ``cfg``'s) are the families to run.  ``job(cfg, spec, tok_text)`` trains one
    run in a worker process (default :func:`run_one`; a module-level function).  The stored runs must be runs
    of ``cfg`` on this machine's device and precision (:func:`stored_runs`), and so must every new one.

    Every finished run is stored at once (one file, written atomically).  On any exception, Ctrl-C included,
    the workers are killed (the runs in progress are lost) and the exception goes on.  ``max_runs`` stops
    after that many new runs.  The folder is locked meanwhile.
    """
    folder = Path(folder)
    with files.folder_lock(folder / "runs", "a comparison"):
        return _run_locked(cfg, folder, workers, log, max_runs, kinds, job)


def _run_locked(cfg, folder, workers, log, max_runs, kinds, job) -> dict:
    """:func:`run`, its folder's lock held."""
    workers = validate.integer(workers, "workers", low=1)
    if max_runs is not None:
        max_runs = validate.integer(max_runs, "max_runs", low=1)
    some = {**cfg, "kinds": [validate.one_of(k, "kinds[]", cfg["kinds"])
                             for k in _sequence(kinds or cfg["kinds"], "kinds")]}
    platform = machine_platform()
    done = stored_runs(folder, cfg, platform)
    tok_text = tokenizer_text(cfg, folder)

    def store(spec: tuple, row: dict) -> None:
        key = run_key(*spec)
        _check_row(f"the new run {key}", key, row, cfg, tokenizer_sha256(tok_text), platform)
        files.atomic_write_text(folder / "runs" / f"{key}.json", files.strict_json(row))
        done[key] = row
        score = "diverged" if row.get("diverged") else f"test {row['test_bits_per_byte']:.4f} bits/byte"
        log(f"{key}: {score}, {row['wall_time_s']:.0f} s ({len(done)} runs stored, {len(pending(some, done))} to go)")

    pool = _pool(workers)
    try:
        _drive(workers, max_runs, lambda: pending(some, done),
               lambda spec: pool.submit(job or run_one, cfg, spec, tok_text), store)
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown()
    return done


def _drive(workers: int, max_runs: int | None, todo, start, store) -> None:
    """Keep ``workers`` runs going until ``todo()`` (the pending specs, in order) is empty or ``max_runs`` have
    started: ``start(spec)`` submits one (a future), ``store(spec, row)`` keeps each as it finishes."""
    import concurrent.futures as cf

    running, started = {}, 0
    while True:
        for spec in todo():
            if len(running) >= workers or (max_runs is not None and started >= max_runs):
                break
            if spec not in running.values():
                running[start(spec)] = spec
                started += 1
        if not running:
            return
        finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for fut in finished:
            spec = running.pop(fut)
            store(spec, fut.result())


# ---------------------------------------------------------------- the tables

def _stat(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


def collect(cfg: dict, done: dict, floor: float | None = None) -> dict:
    """The comparison's result from its stored runs: best rates, per-budget tables, scaling, recall, spectra, samples.

    ``spectra`` are the seed-0 models' at the base budget; ``spectra_later`` theirs at the larger budgets.
    """
    runs = [{k: v for k, v in r.items() if k not in NOT_IN_TABLE} for r in done.values()]
    sweeps = {k: sweep(cfg, done, k) for k in cfg["kinds"]}
    best = {k: lr for k, (_, lr) in sweeps.items()}
    at = {k: {b: rate(cfg, done, k, b)[1] for b in cfg["budgets"][k]} for k in cfg["kinds"]}
    table, recall = [], []
    for kind in cfg["kinds"]:
        for budget in cfg["budgets"][kind]:
            lr = at[kind][budget]
            if lr is None:
                break
            rows = [done[run_key(kind, lr, s, budget)] for s in cfg["seeds"] if run_key(kind, lr, s, budget) in done]
            diverged = sum(1 for r in rows if r.get("diverged"))
            rows = [r for r in rows if not r.get("diverged")]
            if not rows:
                continue
            bpb, acc = _stat([r["test_bits_per_byte"] for r in rows]), _stat([r["test_accuracy"] for r in rows])
            table.append({"kind": kind, "budget": budget, "tokens": rows[0]["tokens"], "lr": lr,
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
    later = {k: {str(b): done[run_key(k, at[k][b], cfg["seeds"][0], b)]["spectra"] for b in cfg["budgets"][k][1:]
                 if at[k][b] is not None and "spectra" in done.get(run_key(k, at[k][b], cfg["seeds"][0], b), {})}
             for k in seed0}
    rates_used = {k: {str(b): lr for b, lr in v.items() if lr is not None} for k, v in at.items()}
    return {"runs": runs, "best_lr": {k: v for k, v in best.items() if v is not None},
            **({"rate_by_budget": rates_used} if "rate_checks" in cfg else {}),
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


def _parser() -> argparse.ArgumentParser:
    from genphys import cli

    parser = argparse.ArgumentParser(prog="python -m genphys.lm.compare", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="cpu", choices=("tiny", "cpu", "gpu"))
    parser.add_argument("--data", default="stories", help="'stories', 'tinystories' or a text file")
    parser.add_argument("--kinds", nargs="+", default=None, choices=KINDS,
                        help="the families to run (default: all of the comparison's); the artifact "
                             "always collects every family's stored runs")
    parser.add_argument("--experiment", action="store_true",
                        help="the decisive experiment (every family, six paired seeds, the rate checked per "
                             "budget) into ch08-experiment-<data>, instead of chapter 7's comparison")
    parser.add_argument("--workers", type=cli.integer(1), default=2)
    parser.add_argument("--max-runs", type=cli.integer(1), default=None, help="stop after this many new runs")
    parser.add_argument("--root", default=None,
                        help="the folder of committed results the artifact goes in (default: $GENPHYS_ARTIFACTS, "
                             "else book/_artifacts of the book repository around the working folder)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--collect-only", action="store_true", help="only rewrite the artifact from the stored runs")
    what.add_argument("--bind-unrecorded", action="store_true",
                      help="one time, for runs stored before runs recorded their settings: stamp each run "
                           "without a config with the config its key gives under these settings, after checking "
                           "what it recorded (kind, lr, seed, budget, steps, tokens, params, flops, device) and "
                           "that the artifact was made with these settings; nothing is trained or collected")
    return parser


def _compare(args, cfg: dict, folder: Path) -> None:
    """The comparison ``cfg`` the arguments ask for, in ``folder`` (locked): run or bind, then collect and store."""
    from genphys import artifacts, config
    from genphys.lm import data as lmdata
    from genphys.lm.evaluate import source_bits_per_byte

    start = time.perf_counter()
    where = {**cfg, "data_path": args.data} if cfg["data"].startswith("file:") else cfg    # the path is not the config
    if args.bind_unrecorded:
        bound, kept = bind_unrecorded(folder, cfg)
        print(f"{folder.name}: {bound} runs bound to their config, {kept} already recorded theirs")
        return
    done = stored_runs(folder, cfg) if args.collect_only else \
        _run_locked(where, folder, args.workers, print, args.max_runs, args.kinds, None)
    floor = source_bits_per_byte(held_out(cfg, lmdata.source("stories"))[1]) if cfg["data"] == "stories" else None
    result = collect(cfg, done, floor)
    if cfg["data"].startswith("file:"):
        result["text"] = text_file_stats(where, tokenizer_text(cfg, folder))
    art = artifacts.store(folder.name, cfg, result, wall_time_s=3600 * result["coverage"]["cpu_hours"],
                          root=folder.parent, extra={"session_wall_time_s": time.perf_counter() - start})
    print(f"{folder.name}: {result['coverage']['stored']} runs stored, {result['coverage']['missing']} to go; "
          f"{result['coverage']['cpu_hours']:.2f} CPU hours on {config.device().type}")
    print(json.dumps(art.result["table"]))


def main(argv=None) -> None:
    """``python -m genphys.lm.compare``: errors are one line (exit status 2), Ctrl-C one line (exit status 130)."""
    import concurrent.futures.process as cfp

    from genphys import artifacts, cli
    from genphys.lm import data as lmdata

    argv = sys.argv[1:] if argv is None else list(argv)
    args, folder = _parser().parse_args(argv), None
    try:
        cfg = (experiment if args.experiment else settings)(args.scale, args.data)
        root, how = artifacts.locate(args.root)
        print(f"compare: committed results in {root} ({how})")
        folder = root / artifact_name(args.data, experiment=args.experiment)
        with files.folder_lock(folder / "runs", "a comparison"):
            _compare(args, cfg, folder)
    except KeyboardInterrupt:
        stored = len(list((folder / "runs").glob("*.json"))) if folder is not None else 0
        print(f"compare: interrupted; {stored} runs are stored in {folder / 'runs' if folder else 'no folder yet'}; "
              f"this continues from there: {shlex.join(['python', '-m', 'genphys.lm.compare', *argv])}",
              file=sys.stderr)
        raise SystemExit(130) from None
    except (ValueError, RunError, files.FolderLocked, artifacts.ArtifactError, lmdata.SourceUnavailable,
            cfp.BrokenProcessPool, OSError) as err:
        cli.fail("compare", err, 2)


if __name__ == "__main__":
    main()
