"""Self-checks for the exercises of chapter 8 (:mod:`genphys.lm.report`: paired differences, bootstrap
intervals, Holm's correction, power and scaling slopes).

Each check computes its reference with :mod:`genphys.lm.report` (never a number typed in) and says what is
wrong with an answer: a typical slip (Bonferroni for Holm, the spread of the seeds for the spread of their
mean, the normal approximation for the t-test, a forgotten floor) is named.  Nothing here imports torch.
"""

from __future__ import annotations

import math

import numpy as np

from genphys.exercises.feedback import (Feedback, agrees, as_array, compare_array, compare_value, correct, not_yet,
                                        unanswered)
from genphys.lm import report

__all__ = ["check_pairing", "check_holm", "check_bootstrap", "check_seeds_needed", "check_scaling_slope",
           "check_dropped_claim"]


def _real(values, name: str) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1)


def check_pairing(se_paired, se_unpaired, a, b) -> Feedback:
    """Exercise 8.1: the standard error of the mean paired difference, sd(b - a) / sqrt(n), and that of the
    difference of the two means taken unpaired, sqrt((Var a + Var b) / n), sample variances (ddof 1), for the
    per-seed scores ``a`` and ``b`` of two families (seed s in both at position s; eq. ch8-var)."""
    exercise = "8.1"
    a, b = _real(a, "a"), _real(b, "b")
    n = a.size
    paired = float(np.std(b - a, ddof=1) / math.sqrt(n))
    unpaired = float(math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / n))
    for name, got, ref in (("se_paired", se_paired, paired), ("se_unpaired", se_unpaired, unpaired)):
        if unanswered(got):
            return compare_value(exercise, name, got, ref)
        if agrees(got, ref * math.sqrt(n)):
            return not_yet(exercise, f"`{name}` is the standard deviation of the seeds, not of their mean: "
                           f"divide by sqrt(n) = sqrt({n}).")
        if agrees(got, ref * math.sqrt((n - 1) / n), rtol=1e-6):
            return not_yet(exercise, f"`{name}` uses the population variance (ddof = 0): with {n} seeds the "
                           "sample variance divides by n - 1.")
        if name == "se_paired" and agrees(got, unpaired, rtol=1e-6):
            return not_yet(exercise, "`se_paired` is the unpaired standard error: pair the seeds first, "
                           "d_s = b_s - a_s, and take the spread of d.")
        feedback = compare_value(exercise, name, got, ref, rtol=1e-6)
        if not feedback.correct:
            return feedback
    return correct(exercise, f"`se_paired` = {paired:.3g} and `se_unpaired` = {unpaired:.3g}: pairing by seed "
                   f"divides the standard error by {unpaired / paired:.2f}, because the two families' seeds "
                   "covary (they share the data order).")


def check_holm(adjusted, p) -> Feedback:
    """Exercise 8.2: Holm's adjusted p-values of ``p`` (eq. ch8-holm), in the order of ``p``; the reference
    is :func:`genphys.lm.report.holm`."""
    exercise = "8.2"
    p = _real(p, "p")
    reference = report.holm(p)
    if unanswered(adjusted):
        return compare_array(exercise, "adjusted", adjusted, reference)
    got = as_array(adjusted, dtype=float)
    if got is None or got.shape != reference.shape:
        return compare_array(exercise, "adjusted", adjusted, reference)
    m = p.size
    if np.allclose(got, np.minimum(1.0, m * p), atol=1e-12) and not np.allclose(reference, np.minimum(1, m * p)):
        return not_yet(exercise, "`adjusted` is Bonferroni's (every p times m): Holm multiplies the k-th "
                       "smallest by m - k + 1, a smaller factor after the first.")
    order = np.argsort(p, kind="stable")
    raw = np.empty(m)
    raw[order] = p[order] * (m - np.arange(m))
    if np.allclose(got, raw, atol=1e-12) or np.allclose(got, np.minimum(1, raw), atol=1e-12):
        if not np.allclose(reference, np.minimum(1, raw), atol=1e-12):
            return not_yet(exercise, "`adjusted` misses the step-down: an adjusted value may not be smaller "
                           "than the one before it in the sorted order (take the running maximum).")
    if np.allclose(got, np.sort(reference), atol=1e-12) and not np.allclose(reference, np.sort(reference)):
        return not_yet(exercise, "`adjusted` is in sorted order: return each adjusted value at the position of "
                       "its p-value in `p`.")
    if (got > 1 + 1e-12).any():
        return not_yet(exercise, "`adjusted` has values above 1: an adjusted p-value is capped at 1.")
    feedback = compare_array(exercise, "adjusted", got, reference, rtol=1e-10, atol=1e-12)
    if feedback.correct:
        return correct(exercise, f"`adjusted` agrees with Holm's correction of the {m} p-values; the smallest "
                       f"becomes {reference.min():.3g}.")
    return feedback


def check_bootstrap(interval, d, n_resamples: int = 10_000) -> Feedback:
    """Exercise 8.3: a 95 % percentile bootstrap interval of the mean of the paired differences ``d``
    (resample the seeds with replacement ``n_resamples`` times); the reference is
    :func:`genphys.lm.report.bootstrap_interval`, and an interval within 3 % of its width of it at both
    ends is accepted (resampling is random)."""
    exercise = "8.3"
    d = _real(d, "d")
    low, high = report.bootstrap_interval(d, n=max(int(n_resamples), 10_000))
    if unanswered(interval):
        return compare_array(exercise, "interval", interval, np.array([low, high]))
    got = as_array(interval, dtype=float)
    if got is None or got.shape != (2,) or not np.isfinite(got).all():
        return not_yet(exercise, "`interval` should be two finite numbers, (low, high).")
    width = high - low
    n, mean, sd = d.size, d.mean(), d.std(ddof=1)
    if got[0] > got[1]:
        return not_yet(exercise, "`interval` is (high, low): give the lower end first.")
    if np.allclose(got, np.quantile(d, [0.025, 0.975]), rtol=0, atol=0.03 * width):
        return not_yet(exercise, "`interval` holds the quantiles of the differences themselves: resample the "
                       "seeds, take the mean of each resample, and the quantiles of those means.")
    if np.allclose(got, [mean - 1.96 * sd, mean + 1.96 * sd], rtol=0, atol=0.03 * width):
        return not_yet(exercise, "`interval` is mean ± 1.96 sd of the seeds: the interval of the *mean* is "
                       "about sqrt(n) times narrower.")
    if np.allclose(got, [low, high], rtol=0, atol=0.03 * width):
        return correct(exercise, f"`interval` = ({got[0]:.4f}, {got[1]:.4f}) agrees with the reference "
                       f"({low:.4f}, {high:.4f}) within the resampling noise.")
    return not_yet(exercise, f"`interval` = ({got[0]:.4f}, {got[1]:.4f}), the reference is ({low:.4f}, "
                   f"{high:.4f}): take the 2.5 % and 97.5 % quantiles of the means of {n} seeds drawn with "
                   "replacement.")


def check_seeds_needed(n, effect: float, sd: float, alpha: float = report.ALPHA, power: float = 0.8) -> Feedback:
    """Exercise 8.4: the fewest paired seeds for which the two-sided paired t-test at ``alpha`` finds a mean
    difference ``effect`` with probability ``power`` when the differences have standard deviation ``sd``;
    the reference is :func:`genphys.lm.report.seeds_needed`."""
    from scipy import stats

    exercise = "8.4"
    reference = report.seeds_needed(effect, sd, alpha=alpha, power=power)
    if unanswered(n):
        return compare_value(exercise, "n", n, reference)
    try:
        got = float(n)
    except (TypeError, ValueError):
        return not_yet(exercise, f"`n` should be a whole number of seeds, got {type(n).__name__}.")
    if not math.isfinite(got) or got != round(got):
        return not_yet(exercise, f"`n` = {n} is not a whole number of seeds: round up.")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    normal = math.ceil((z * sd / effect) ** 2)
    if got == normal and normal != reference:
        return not_yet(exercise, f"`n` = {normal} is the normal approximation: with n - 1 degrees of freedom the "
                       "t-test's critical value is larger, and it needs a few seeds more.")
    one_sided = report.seeds_needed(effect, sd, alpha=2 * alpha, power=power)
    if got == one_sided and one_sided != reference:
        return not_yet(exercise, f"`n` = {one_sided} is what a one-sided test needs: the book's tests are "
                       "two-sided, since a claim can be contradicted as well as supported.")
    if got == reference:
        return correct(exercise, f"`n` = {reference}: the smallest number of paired seeds with power "
                       f"{power:g} (the normal approximation says {normal}).")
    return not_yet(exercise, f"`n` = {got:g}, the reference is {reference}: {'too few' if got < reference else 'more than needed'}"
                   " (the power, P(|T| > t_crit) under the noncentral t, first reaches the target there).")


def check_scaling_slope(slope, rows: dict, floor: float) -> Feedback:
    """Exercise 8.6: the scaling slope -ln(e_2 / e_1) / ln(D_2 / D_1) between two budgets (eq. ch8-slope), with
    e the excess of bits per byte over ``floor`` and D the tokens; ``rows`` maps budget -> (tokens, bits per
    byte). The reference is :func:`genphys.lm.report.interval_slopes`."""
    exercise = "8.6"
    table = [{"kind": "family", "budget": b, "tokens": t, "bits_per_byte": v} for b, (t, v) in sorted(rows.items())]
    reference = report.interval_slopes(table, floor)[0]["slope"]
    no_floor = report.interval_slopes(table, 0.0)[0]["slope"]
    if not unanswered(slope) and agrees(slope, no_floor, rtol=1e-6) and not math.isclose(no_floor, reference):
        return not_yet(exercise, "`slope` leaves out the floor: the excess e = bits per byte - floor falls as a "
                       "power of the tokens, not the bits per byte themselves.")
    feedback = compare_value(exercise, "slope", slope, reference, rtol=1e-6)
    if feedback.correct:
        return correct(exercise, f"`slope` = {reference:.4f}: the excess over the floor falls as D^-{reference:.3f} "
                       "between these two budgets.")
    return feedback


def check_dropped_claim(table_without, runs: list[dict], dropped: str, claims=report.CLAIMS) -> Feedback:
    """Exercise 8.7: the planned table (:func:`genphys.lm.report.claim_table`) of ``runs`` with the claim
    ``dropped`` (a slug) left out of ``claims``: its Holm-adjusted p-values are checked, pair by pair."""
    exercise = "8.7"
    kept = [c for c in claims if c.slug != dropped]
    if len(kept) == len(claims):
        return not_yet(exercise, f"no claim has the slug {dropped!r}: pick one of {', '.join(c.slug for c in claims)}.")
    reference = report.claim_table(runs, kept)
    if unanswered(table_without):
        return compare_array(exercise, "table_without", table_without, [r["p_holm"] for r in reference])
    try:
        rows = list(table_without)
        pairs = [(r["slug"], r["budget"]) for r in rows]
        got = np.array([r["p_holm"] for r in rows], dtype=float)
    except (TypeError, KeyError, ValueError):
        return not_yet(exercise, "`table_without` should be the list of rows that report.claim_table returns.")
    if any(s == dropped for s, _ in pairs):
        return not_yet(exercise, f"`table_without` still holds rows of {dropped!r}: leave that claim out of the list.")
    full = {(r["slug"], r["budget"]): r["p_holm"] for r in report.claim_table(runs, claims)}
    if pairs != [(r["slug"], r["budget"]) for r in reference]:
        tested = {(r["slug"], r["budget"]) for r in reference if r["mean"] is not None}
        if set(pairs) == tested:
            return not_yet(exercise, "`table_without` holds only the pairs that have runs (report.verdicts): the "
                           "planned table keeps the untested pairs in Holm's count (report.claim_table).")
        return not_yet(exercise, "`table_without` does not hold the planned (claim, budget) pairs of the other "
                       "claims, in their order.")
    if np.allclose(got, [full[p] for p in pairs], atol=1e-12) and not np.allclose(
            got, [r["p_holm"] for r in reference], atol=1e-12):
        return not_yet(exercise, "`table_without` keeps the Holm p-values of the full list: the correction has "
                       "to be computed again over the shorter list.")
    feedback = compare_array(exercise, "table_without p_holm", got, [r["p_holm"] for r in reference],
                             rtol=1e-10, atol=1e-12)
    if not feedback.correct:
        return feedback
    moved = sum(abs(full[p] - r["p_holm"]) > 1e-12 for p, r in zip(pairs, reference))
    return correct(exercise, f"`table_without` is the planned table of {len(reference)} pairs without "
                   f"{dropped!r}; {moved} Holm-adjusted p-values moved.")
