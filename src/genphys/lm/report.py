"""Verdicts of the experiment (chapter 8): claims listed in advance, paired over seeds, corrected for their number.

A *claim* says that one family scores lower (better) than another on one score. It is listed before the
runs are read (:data:`CLAIMS`), so that the correction counts every claim the comparison tests, not only
those that came out well. For each claim and each budget at which both families have runs of the same
seeds:

* the **paired differences** d_s = score(worse, s) - score(better, s) over the seeds s both have; seed s
  gave both families the same data order, so pairing removes the part of the spread the data order causes;
* their mean, and a **95 % bootstrap interval** of the mean (percentile bootstrap over seeds);
* a **p-value** of the paired t-test (two-sided: a claim can be contradicted as well as supported);
* **Holm's correction** over every (claim, budget) tested: the k-th smallest of m p-values is
  multiplied by m - k + 1, and the adjusted values are made non-decreasing. Holm controls the chance of any
  false verdict among the m at ``alpha``, whatever their dependence, and rejects at least what Bonferroni does.

The verdict is *supported* when the adjusted p-value is below ``alpha`` and the mean difference favours the
claim, *contradicted* when it is below ``alpha`` and the difference goes the other way, and *not resolved*
otherwise - with the numbers, in every case.

Nothing here trains or reads files: it turns the stored runs of :mod:`genphys.lm.compare` (a list of row
dicts) into plain data that the chapter shows.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genphys import validate

__all__ = ["ALPHA", "LEVEL", "BOOTSTRAP", "VERDICTS", "Claim", "CLAIMS", "paired_differences", "bootstrap_interval",
           "paired_p", "holm", "verdicts", "runs_at_rates", "claim_table", "interval_slopes", "by_family_budget",
           "seed_coverage", "shown_verdicts", "verdict_counts", "seeds_needed", "throughput"]

ALPHA = 0.05          #: the family-wise error rate that Holm's correction keeps (:func:`verdicts`)
LEVEL = 0.95          #: the level of the bootstrap intervals (:func:`bootstrap_interval`)
BOOTSTRAP = 10_000    #: bootstrap resamples per interval
#: The three verdicts a claim can get.
VERDICTS = ("supported", "contradicted", "not resolved")


@dataclasses.dataclass(frozen=True)
class Claim:
    """``better`` scores lower than ``worse`` on ``score`` (a run field; lower is better).

    ``worse_score`` (default: ``score``) is the field read on the ``worse`` side: with it a claim can compare one
    family with itself, e.g. its recall with the context target zeroed at inference (``ablated_recall_nats``)
    against its recall as trained, paired by seed on the same runs. ``reading`` says what a difference would show: ``"effect"`` for a claim about the model, and
    ``"optimisation"`` where both families span the same function class, so that a gap is an effect of
    training, not of what the models can represent.
    """

    slug: str
    text: str
    better: str
    worse: str
    score: str = "test_bits_per_byte"
    reading: str = "effect"
    #: the budgets (multiples of the base steps) at which the claim is tested; empty: those given to verdicts
    budgets: tuple = ()
    #: the field read on the worse side (None: ``score``)
    worse_score: str | None = None

    def __post_init__(self):
        for name in ("slug", "text", "better", "worse", "score"):
            validate.text(getattr(self, name), f"Claim.{name}", empty=False)
        if self.worse_score is not None:
            validate.text(self.worse_score, "Claim.worse_score", empty=False)
        validate.one_of(self.reading, "Claim.reading", ("effect", "optimisation"))
        if self.better == self.worse and self.worse_score in (None, self.score):
            raise ValueError(f"Claim.better and Claim.worse must differ, both are {self.better!r} "
                             "(or give the worse side another score with worse_score)")
        if not isinstance(self.budgets, tuple):
            raise TypeError(f"Claim.budgets must be a tuple of budgets, got {type(self.budgets).__name__}")
        for budget in self.budgets:
            validate.integer(budget, "Claim.budgets[]", low=1)


_ALL = (1, 4, 16)
_SHORT = (1, 4)
#: The claims of the decisive experiment (chapter 8), listed before its runs are read, each with the budgets at
#: which it is tested; Holm's correction counts every (claim, budget) here, run or not. Scores: test bits per
#: byte, and for recall the loss in nats on tokens that repeat a name met earlier in the story.
CLAIMS = (
    Claim("mm-vs-transformer", "a measured memory scores below a transformer of the same size",
          "measured_memory", "transformer", budgets=_ALL),
    Claim("dissipative-vs-transformer", "the dissipative model scores below a transformer of the same size",
          "dissipative", "transformer", budgets=_ALL),
    Claim("selective-vs-dissipative", "a selective measurement (gain per token) improves on a constant gain",
          "selective", "dissipative", budgets=_ALL),
    Claim("mm-vs-selective", "a state that is a measured linear map improves on a state of measured modes",
          "measured_memory", "selective", budgets=_ALL),
    Claim("context", "the context target improves the dissipative model", "dissipative", "no_context",
          budgets=_ALL),
    Claim("context-use", "the trained dissipative model recalls through its context target: zeroing the target at "
          "inference raises its recall loss", "dissipative", "dissipative", score="recall_nats",
          worse_score="ablated_recall_nats", budgets=(16,)),
    Claim("context-recall", "the context target improves recall of names met earlier", "dissipative", "no_context",
          score="recall_nats", budgets=(4, 16)),
    Claim("recall-vs-transformer", "a measured memory recalls names as well as a transformer or better",
          "measured_memory", "transformer", score="recall_nats", budgets=(4, 16)),
    Claim("forgetting", "a loop that can forget beats one that cannot (the bare Hamiltonian twin)", "dissipative",
          "hamiltonian", budgets=_SHORT),
    Claim("forgetting-normalised", "forgetting helps beyond bounding the state (the normalised twin)",
          "dissipative", "hamiltonian_norm", budgets=_SHORT),
    Claim("generator", "a dissipative generator improves on a Hamiltonian one when both are measured",
          "dissipative", "hamiltonian_measured", budgets=_SHORT),
    Claim("parametrisation", "parametrising the decay by a measurement trains better than a learned decay",
          "dissipative", "decay_only", reading="optimisation", budgets=_SHORT),
)


def paired_differences(runs: list[dict], claim: Claim, budget: int) -> tuple[np.ndarray, list[int]]:
    """d_s = score(worse, s) - score(better, s) over the seeds both families have at ``budget`` (eq. ch8-paired).

    ``runs`` are rows with ``kind``, ``seed``, ``budget`` and the claim's score, at the rate each family
    uses (the caller filters the rates); a seed with a missing score (a diverged run) is left out of both.
    Positive d_s favour the claim. Two rows of one family, seed and budget are refused.
    """
    budget = validate.integer(budget, "budget", low=1)
    rows = {}
    for row in runs:
        if row.get("budget") != budget or row.get("kind") not in (claim.better, claim.worse):
            continue
        key = (row["kind"], row["seed"])
        if key in rows:
            raise ValueError(f"runs holds two rows of {row['kind']}, seed {row['seed']}, budget {budget}x")
        rows[key] = row
    better = {s: r.get(claim.score) for (k, s), r in rows.items() if k == claim.better}
    worse = {s: r.get(claim.worse_score or claim.score) for (k, s), r in rows.items() if k == claim.worse}
    seeds = sorted(s for s in better if better[s] is not None and worse.get(s) is not None)
    d = np.array([worse[s] - better[s] for s in seeds], dtype=float)
    if not np.isfinite(d).all():
        raise ValueError(f"runs holds a non-finite {claim.score} for {claim.better} or {claim.worse} at {budget}x")
    return d, seeds


def bootstrap_interval(d, level: float = LEVEL, n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``d``: resample the seeds with replacement
    ``n`` times, take the (1 - level)/2 and (1 + level)/2 quantiles of the resampled means."""
    d = validate.finite_array(d, "d", ndim=1)
    if d.size < 2:
        raise ValueError(f"d must hold at least 2 paired differences for an interval, got {d.size}")
    level = validate.real(level, "level", low=0, high=1, low_open=True, high_open=True)
    n = validate.integer(n, "n", low=100)
    rng = np.random.default_rng(validate.seed(seed))
    means = d[rng.integers(0, d.size, size=(n, d.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def paired_p(d) -> float:
    """Two-sided p-value of the paired t-test of mean(d) = 0 (``d`` the paired differences).

    Differences that are all equal have no spread: p is 0 when they are not zero, 1 when they are.
    """
    from scipy import stats

    d = validate.finite_array(d, "d", ndim=1)
    if d.size < 2:
        raise ValueError(f"d must hold at least 2 paired differences for a test, got {d.size}")
    if np.ptp(d) == 0:
        return 0.0 if d[0] != 0 else 1.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (eq. ch8-holm): sorted ascending, p_(k) (m - k + 1), made
    non-decreasing, capped at 1; returned in the order given."""
    p = validate.finite_array(p, "p", ndim=1)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("p must hold probabilities in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return out


def verdicts(runs: list[dict], claims, budgets, alpha: float = ALPHA, min_seeds: int = 3) -> list[dict]:
    """Every claim at every budget where both families have at least ``min_seeds`` paired seeds.

    Returns rows ``{slug, claim, reading, better, worse, score, budget, seeds, mean, low, high, p, p_holm,
    verdict}``: the mean paired difference (positive favours the claim), its bootstrap interval, the raw
    and Holm-adjusted p-values (the correction over every row returned) and the verdict.
    """
    alpha = validate.real(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    min_seeds = validate.integer(min_seeds, "min_seeds", low=2)
    claims = list(claims)
    if len({c.slug for c in claims}) != len(claims):
        raise ValueError("claims must have distinct slugs")
    rows = []
    for claim in claims:
        validate.instance(claim, "claims[]", Claim, "a Claim")
        for budget in budgets:
            d, seeds = paired_differences(runs, claim, budget)
            if len(seeds) < min_seeds:
                continue
            low, high = bootstrap_interval(d)
            rows.append({"slug": claim.slug, "claim": claim.text, "reading": claim.reading, "better": claim.better,
                         "worse": claim.worse, "score": claim.score, "budget": budget, "seeds": len(seeds),
                         "mean": float(d.mean()), "low": low, "high": high, "p": paired_p(d)})
    for row, adjusted in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = float(adjusted)
        row["verdict"] = ("not resolved" if adjusted >= alpha else
                          "supported" if row["mean"] > 0 else "contradicted")
    return rows


def runs_at_rates(runs: list[dict], rates: dict) -> list[dict]:
    """The runs each family trained at the rate it uses at their budget (``rates``: kind -> {budget: lr}, the
    keys of either type, as :func:`genphys.lm.compare.collect` stores them), diverged runs left out."""
    chosen = {(kind, int(budget)): lr for kind, by in rates.items() for budget, lr in by.items()}
    return [r for r in runs if not r.get("diverged")
            and chosen.get((r.get("kind"), r.get("budget"))) is not None
            and abs(r.get("lr", -1.0) - chosen[(r["kind"], r["budget"])]) <= 1e-12 * chosen[(r["kind"], r["budget"])]]


def claim_table(runs: list[dict], claims=CLAIMS, alpha: float = ALPHA, min_seeds: int = 3) -> list[dict]:
    """Every (claim, budget) listed in ``claims``, run or not: the rows of :func:`verdicts`, plus a row with
    ``p = 1`` and verdict "not resolved" (``note``: how many paired seeds it has) for each pair with fewer than
    ``min_seeds`` seeds. The missing pairs stay in Holm's count, so that the correction is the one planned and
    does not shrink to the claims that happen to have runs. ``runs``: at the rates used (:func:`runs_at_rates`).
    """
    alpha = validate.real(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    min_seeds = validate.integer(min_seeds, "min_seeds", low=2)
    rows = []
    for claim in claims:
        validate.instance(claim, "claims[]", Claim, "a Claim")
        if not claim.budgets:
            raise ValueError(f"claim {claim.slug!r} must list its budgets for a planned table")
        for budget in claim.budgets:
            tested = verdicts(runs, [claim], [budget], alpha=alpha, min_seeds=min_seeds)
            if tested:
                rows.append({**tested[0], "note": ""})
                continue
            seeds = len(paired_differences(runs, claim, budget)[1])
            rows.append({"slug": claim.slug, "claim": claim.text, "reading": claim.reading, "better": claim.better,
                         "worse": claim.worse, "score": claim.score, "budget": budget, "seeds": seeds,
                         "mean": None, "low": None, "high": None, "p": 1.0,
                         "note": f"{seeds} paired seeds, fewer than {min_seeds}"})
    for row, adjusted in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = float(adjusted)
        row["verdict"] = ("not resolved" if adjusted >= alpha or row["mean"] is None else
                          "supported" if row["mean"] > 0 else "contradicted")
    return rows


def interval_slopes(table: list[dict], floor: float | None = None) -> list[dict]:
    """Per family, the scaling slope between each pair of consecutive budgets: -d ln(score - floor) / d ln tokens
    (eq. ch8-slope).

    ``table`` rows carry ``kind``, ``budget``, ``tokens`` and ``bits_per_byte`` (the mean over seeds). One slope per
    interval (1x-4x, 4x-16x) rather than one exponent over all: a regime change (a model that learns to recall
    between two budgets) shows as two different slopes instead of being averaged away. An interval whose excess
    over the floor is not positive at both ends has no slope (None).
    """
    out = []
    for kind in dict.fromkeys(r["kind"] for r in table):
        rows = sorted((r for r in table if r["kind"] == kind), key=lambda r: r["tokens"])
        for a, b in zip(rows, rows[1:]):
            ea, eb = (r["bits_per_byte"] - (floor or 0.0) for r in (a, b))
            slope = None
            if ea > 0 and eb > 0:
                slope = float(-(np.log(eb) - np.log(ea)) / (np.log(b["tokens"]) - np.log(a["tokens"])))
            out.append({"kind": kind, "from": a["budget"], "to": b["budget"], "slope": slope})
    return out


def by_family_budget(runs: list[dict], score: str = "test_bits_per_byte", kinds=None) -> list[dict]:
    """Per (family, budget) of ``runs``: ``{kind, budget, tokens, seeds, values, mean, sd}``.

    ``values`` are the seeds' scores in seed order (a run without the score, a diverged one, is left
    out), ``sd`` their sample standard deviation (None for one seed). Families in the order of ``kinds``
    (default: as they first appear in ``runs``), budgets ascending. ``runs``: at the rates used
    (:func:`runs_at_rates`), so that each (family, budget, seed) is one run.
    """
    validate.text(score, "score", empty=False)
    order = list(dict.fromkeys(r["kind"] for r in runs)) if kinds is None else list(kinds)
    cells: dict = {}
    for r in sorted(runs, key=lambda r: r["seed"]):
        if r.get("kind") in order and r.get(score) is not None:
            cells.setdefault((r["kind"], r["budget"]), []).append(r)
    out = []
    for kind, budget in sorted(cells, key=lambda kb: (order.index(kb[0]), kb[1])):
        rows = cells[kind, budget]
        values = np.array([r[score] for r in rows], dtype=float)
        out.append({"kind": kind, "budget": budget, "tokens": rows[0]["tokens"], "seeds": len(rows),
                    "values": values.tolist(), "mean": float(values.mean()),
                    "sd": float(values.std(ddof=1)) if values.size > 1 else None})
    return out


def seed_coverage(runs: list[dict], cfg: dict) -> list[dict]:
    """Per family and budget the plan lists (``cfg["kinds"]``, ``cfg["budgets"]``, ``cfg["seeds"]``): how many of
    its seeds are stored at the rate used. Rows ``{kind, budget, planned, stored}``; ``runs`` as
    :func:`runs_at_rates` returns them (a budget whose rate is not chosen yet has none)."""
    seeds = set(cfg["seeds"])
    have: dict = {}
    for r in runs:
        if r.get("seed") in seeds and r.get("test_bits_per_byte") is not None:
            have.setdefault((r["kind"], r["budget"]), set()).add(r["seed"])
    return [{"kind": kind, "budget": budget, "planned": len(seeds), "stored": len(have.get((kind, budget), ()))}
            for kind in cfg["kinds"] for budget in cfg["budgets"][kind]]


#: How each score of a claim is named in a shown table.
_UNITS = {"test_bits_per_byte": "bits per byte", "recall_nats": "nats per repeat mention"}


def shown_verdicts(table: list[dict], digits: int = 4) -> list[dict]:
    """The rows of :func:`claim_table` as the chapter shows them: claim, budget, score, the effect (the mean
    paired difference, positive favours the claim), its 95 % interval, the seeds paired, the Holm-adjusted
    p-value and the verdict, as text; a pair without enough runs says how many seeds it has."""
    digits = validate.integer(digits, "digits", low=1)
    out = []
    for r in table:
        tested = r["mean"] is not None
        out.append({"claim": r["claim"], "budget": f"{r['budget']}x", "score": _UNITS.get(r["score"], r["score"]),
                    "effect": f"{r['mean']:+.{digits}f}" if tested else "",
                    "95 % interval": f"{r['low']:+.{digits}f} to {r['high']:+.{digits}f}" if tested else "",
                    "seeds": r["seeds"], "Holm p": f"{r['p_holm']:.2g}" if tested else "",
                    "verdict": r["verdict"] if tested else f"not run yet ({r['seeds']} paired seeds)"})
    return out


def verdict_counts(table: list[dict], alpha: float = ALPHA) -> dict:
    """What a planned table (:func:`claim_table`) says in numbers: ``planned`` pairs, ``tested`` ones, how many
    are supported, contradicted and not resolved among the tested, ``clear_of_zero`` (tested pairs whose
    interval excludes zero), ``threshold`` (alpha / planned: what Holm asks of the smallest p-value) and
    the tested row with the smallest raw p-value (``smallest``, None when nothing is tested)."""
    alpha = validate.real(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    tested = [r for r in table if r["mean"] is not None]
    counts = {v: sum(r["verdict"] == v for r in tested) for v in VERDICTS}
    return {"planned": len(table), "tested": len(tested), **counts,
            "clear_of_zero": sum(r["low"] > 0 or r["high"] < 0 for r in tested),
            "threshold": alpha / max(len(table), 1),
            "smallest": min(tested, key=lambda r: r["p"]) if tested else None}


def seeds_needed(effect: float, sd: float, alpha: float = ALPHA, power: float = 0.8, max_seeds: int = 10_000) -> int:
    """The fewest paired seeds n for which the two-sided paired t-test at level ``alpha`` finds a true mean
    difference ``effect`` with probability ``power``, when the paired differences have standard deviation ``sd``.

    The statistic is noncentral t with n - 1 degrees of freedom and noncentrality effect sqrt(n) / sd; the
    power is the chance it falls beyond either critical value. Raises ValueError when even ``max_seeds`` is
    not enough.
    """
    from scipy import stats

    effect = validate.real(effect, "effect", low=0, low_open=True)
    sd = validate.real(sd, "sd", low=0, low_open=True)
    alpha = validate.real(alpha, "alpha", low=0, high=1, low_open=True, high_open=True)
    power = validate.real(power, "power", low=0, high=1, low_open=True, high_open=True)
    max_seeds = validate.integer(max_seeds, "max_seeds", low=2)
    for n in range(2, max_seeds + 1):
        crit = stats.t.ppf(1 - alpha / 2, n - 1)
        nc = effect * np.sqrt(n) / sd
        if stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc) >= power:
            return n
    raise ValueError(f"more than max_seeds = {max_seeds} seeds are needed for effect {effect} at sd {sd}")


def throughput(rows: list[dict], kinds, quoted=(1024, 4096)) -> dict:
    """The throughput benchmark's rows (``benchmarks/lm_throughput.py``, one per context) as the chapter shows
    them: ``table`` (per context: the transformer's training tokens/s, each recurrent family's and the blocks
    without mixing's ratio to it) and ``quoted`` (per context in ``quoted``: the dissipative and selective
    ratios, the no-mixing bound and the dissipative share of it; at the longest quoted context the generation
    speed-up and the transformer's cache over the recurrent state)."""
    by = {r["context"]: r for r in rows}
    kinds = [k for k in kinds if f"{k}_train_ratio" in rows[0]]
    table = [{"context": c, "transformer tokens/s": by[c]["transformer_train_tok_s"],
              **{k: by[c][f"{k}_train_ratio"] for k in kinds + ["no_mixing"]}} for c in sorted(by)]
    out = {}
    for c in quoted:
        r = by[c]
        out |= {f"ratio-{c}": r["dissipative_train_ratio"], f"selective-{c}": r["selective_train_ratio"],
                f"ceiling-{c}": r["no_mixing_train_ratio"],
                f"share-{c}": 100 * r["dissipative_train_ratio"] / r["no_mixing_train_ratio"]}
    last = by[max(quoted)]
    out |= {f"gen-{max(quoted)}": last["gen_ratio"],
            "cache": last["transformer_gen_state_KB"] / last["dissipative_gen_state_KB"]}
    return {"table": table, "quoted": out}
