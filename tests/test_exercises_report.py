"""The self-checks of chapter 8's exercises (genphys.exercises.report): the reference answer is correct, the
stub's `...` is not yet, and a typical mistake is not yet with a message that names it."""

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from genphys.exercises import report as ex
from genphys.lm import report


def _stub(feedback):
    assert not feedback.correct and "still the stub" in feedback.message, feedback.message


def _wrong(feedback, words):
    assert not feedback.correct and words in feedback.message, feedback.message


def test_importing_the_checks_does_not_import_torch():
    code = "import sys, genphys.exercises.report as m; print('torch' in sys.modules, len(m.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "6"]


# ---------------------------------------------------------------- 8.1
RNG = np.random.default_rng(4)
SHARED = RNG.normal(0, 0.01, size=6)                    # the data order's part, shared by both families
A = 0.30 + SHARED + RNG.normal(0, 0.002, size=6)
B = 0.31 + SHARED + RNG.normal(0, 0.002, size=6)


def test_pairing():
    paired = np.std(B - A, ddof=1) / math.sqrt(6)
    unpaired = math.sqrt((np.var(A, ddof=1) + np.var(B, ddof=1)) / 6)
    fb = ex.check_pairing(paired, unpaired, A, B)
    assert fb.correct and fb.exercise == "8.1", fb.message
    _stub(ex.check_pairing(..., unpaired, A, B))
    _stub(ex.check_pairing(paired, ..., A, B))
    _wrong(ex.check_pairing(paired * math.sqrt(6), unpaired, A, B), "not of their mean")
    _wrong(ex.check_pairing(np.std(B - A) / math.sqrt(6), unpaired, A, B), "ddof = 0")
    _wrong(ex.check_pairing(unpaired, unpaired, A, B), "unpaired standard error")
    _wrong(ex.check_pairing(paired, 2 * unpaired, A, B), "reference")


# ---------------------------------------------------------------- 8.2
P = np.array([0.012, 0.2, 0.004, 0.03, 1.0, 0.011])


def test_holm():
    fb = ex.check_holm(report.holm(P), P)
    assert fb.correct and fb.exercise == "8.2", fb.message
    _stub(ex.check_holm(..., P))
    _wrong(ex.check_holm(np.minimum(1, P * P.size), P), "Bonferroni")
    order = np.argsort(P)
    raw = np.empty(P.size)
    raw[order] = P[order] * (P.size - np.arange(P.size))
    _wrong(ex.check_holm(np.minimum(1, raw), P), "step-down")
    _wrong(ex.check_holm(np.sort(report.holm(P)), P), "sorted order")
    _wrong(ex.check_holm(report.holm(P)[:3], P), "shape")


# ---------------------------------------------------------------- 8.3
D = np.array([0.011, 0.004, 0.02, 0.009, 0.015, 0.007])


def test_bootstrap():
    rng = np.random.default_rng(11)                      # another generator than the reference's
    means = D[rng.integers(0, D.size, size=(20_000, D.size))].mean(axis=1)
    fb = ex.check_bootstrap(np.quantile(means, [0.025, 0.975]), D)
    assert fb.correct and fb.exercise == "8.3", fb.message
    _stub(ex.check_bootstrap(..., D))
    _wrong(ex.check_bootstrap(np.quantile(D, [0.025, 0.975]), D), "differences themselves")
    sd = D.std(ddof=1)
    _wrong(ex.check_bootstrap([D.mean() - 1.96 * sd, D.mean() + 1.96 * sd], D), "sd of the seeds")
    _wrong(ex.check_bootstrap(np.quantile(means, [0.975, 0.025]), D), "lower end first")
    _wrong(ex.check_bootstrap([0.0, 1.0], D), "reference")
    _wrong(ex.check_bootstrap([0.0], D), "two finite numbers")


# ---------------------------------------------------------------- 8.4
def test_seeds_needed():
    effect, sd = 0.005, 0.0118
    n = report.seeds_needed(effect, sd)
    fb = ex.check_seeds_needed(n, effect, sd)
    assert fb.correct and fb.exercise == "8.4", fb.message
    _stub(ex.check_seeds_needed(..., effect, sd))
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    normal = math.ceil((z * sd / effect) ** 2)
    assert normal != n
    _wrong(ex.check_seeds_needed(normal, effect, sd), "normal approximation")
    _wrong(ex.check_seeds_needed(report.seeds_needed(effect, sd, alpha=0.1), effect, sd), "one-sided")
    _wrong(ex.check_seeds_needed(n + 7.5, effect, sd), "whole number")
    _wrong(ex.check_seeds_needed(n + 20, effect, sd), "more than needed")
    _wrong(ex.check_seeds_needed("six", effect, sd), "whole number")


# ---------------------------------------------------------------- 8.6
ROWS = {1: (1.0e6, 0.34), 4: (4.0e6, 0.19)}
FLOOR = 0.164


def test_scaling_slope():
    slope = -math.log((0.19 - FLOOR) / (0.34 - FLOOR)) / math.log(4)
    fb = ex.check_scaling_slope(slope, ROWS, FLOOR)
    assert fb.correct and fb.exercise == "8.6", fb.message
    _stub(ex.check_scaling_slope(..., ROWS, FLOOR))
    _wrong(ex.check_scaling_slope(-math.log(0.19 / 0.34) / math.log(4), ROWS, FLOOR), "floor")
    _wrong(ex.check_scaling_slope(-slope, ROWS, FLOOR), "sign")


# ---------------------------------------------------------------- 8.7
def _runs():
    rng = np.random.default_rng(0)
    offset = rng.normal(0, 0.01, size=6)
    effects = {"a": 0.0, "b": 0.02, "c": 0.0, "d": 0.001}
    return [{"kind": k, "seed": s, "budget": 1, "test_bits_per_byte": 1 + offset[s] + e + rng.normal(0, 0.002)}
            for k, e in effects.items() for s in range(6)]


CLAIMS = (report.Claim("ab", "a beats b", "a", "b", budgets=(1, 4)),
          report.Claim("cd", "c beats d", "c", "d", budgets=(1,)),
          report.Claim("ad", "a beats d", "a", "d", budgets=(1,)))


def test_dropped_claim():
    runs = _runs()
    kept = [c for c in CLAIMS if c.slug != "cd"]
    table = report.claim_table(runs, kept)
    fb = ex.check_dropped_claim(table, runs, "cd", CLAIMS)
    assert fb.correct and fb.exercise == "8.7", fb.message
    _stub(ex.check_dropped_claim(..., runs, "cd", CLAIMS))
    _wrong(ex.check_dropped_claim(report.claim_table(runs, CLAIMS), runs, "cd", CLAIMS), "still holds rows")
    full = {(r["slug"], r["budget"]): r for r in report.claim_table(runs, CLAIMS)}
    stale = [full[(r["slug"], r["budget"])] for r in table]
    _wrong(ex.check_dropped_claim(stale, runs, "cd", CLAIMS), "computed again")
    only_tested = report.verdicts(runs, kept, budgets=[1])
    _wrong(ex.check_dropped_claim(only_tested, runs, "cd", CLAIMS), "untested pairs")
    _wrong(ex.check_dropped_claim(table, runs, "zz", CLAIMS), "no claim has the slug")
    _wrong(ex.check_dropped_claim([1, 2], runs, "cd", CLAIMS), "list of rows")
