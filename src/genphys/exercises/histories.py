"""Self-checks for the exercises of chapter 1 (:mod:`genphys.histories`, :mod:`genphys.stories`)."""

from __future__ import annotations

import math

import numpy as np

from genphys import histories as hs
from genphys import stories
from genphys.exercises.feedback import Feedback, agrees, compare_array, compare_value, not_yet, unanswered

__all__ = ["check_extensions", "check_temperature_entropies", "check_next_text", "check_proposition_estimates"]


def _as_vector(values, length: int):
    """``values`` as a float vector of ``length`` entries, or None when it is not one."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.shape == (length,) and np.all(np.isfinite(array)) else None




def check_extensions(p_extend, system: hs.GAISystem, history, prompt=()) -> Feedback:
    """Exercise 1.1: the joint probabilities ``P_X(h y)`` of every one-token extension of ``history``,
    one entry per token ``y`` of the vocabulary (eq. hist-chain); they sum to ``P_X(h)``
    (eq. hist-kolmogorov)."""
    exercise = "1.1"
    history, prompt = tuple(history), tuple(prompt)
    reference = np.array([math.exp(hs.log_joint(system, history + (y,), prompt)) for y in range(system.V)])
    if unanswered(p_extend):
        return compare_array(exercise, "p_extend", p_extend, reference)
    values = _as_vector(p_extend, system.V)
    conditional = system.next_distribution(history, prompt)
    if agrees(values, conditional) and not agrees(values, reference):
        return not_yet(exercise, "`p_extend` holds the conditionals p(y | h): the joint probability "
                       "P(h y) = P(h) p(y | h) also carries the factor P(h) of the history so far.")
    if agrees(values, np.log(np.where(reference > 0, reference, 1.0))):
        return not_yet(exercise, "`p_extend` holds log-probabilities: the exercise asks for P(h y) itself.")
    feedback = compare_array(exercise, "p_extend", p_extend, reference)
    if not feedback.correct and values is not None and math.isclose(values.sum(), reference.sum(), rel_tol=1e-8):
        return not_yet(exercise, feedback.message + " The entries sum to P(h) as they should, so the total "
                       "is right but single tokens are not: check the order of the vocabulary.")
    return feedback


def _family_entropy(system: hs.GAISystem, max_len: int) -> float:
    probs = np.array(list(hs.enumerate_histories(system, max_len).values()))
    probs = probs[probs > 0]
    return float(-math.fsum(probs * np.log2(probs)))


def check_temperature_entropies(entropies, system: hs.GAISystem, temperatures, max_len: int) -> Feedback:
    """Exercise 1.3: the Shannon entropy in bits of the family of histories up to ``max_len`` tokens of
    ``system`` decoded at each temperature (conditionals ``p^(1/T)`` renormalised, eq. hist-chain with
    :class:`~genphys.histories.WarpedModel`), one entry per temperature."""
    exercise = "1.3"
    temperatures = [float(t) for t in temperatures]
    reference = np.array([_family_entropy(hs.WarpedModel(system, temperature=t), max_len) for t in temperatures])
    if unanswered(entropies):
        return compare_array(exercise, "entropies", entropies, reference)
    values = _as_vector(entropies, len(temperatures))
    if agrees(values, reference * math.log(2)):
        return not_yet(exercise, "`entropies` is in nats (natural logarithm): the exercise asks for bits, "
                       "use log2 or divide by ln 2.")
    inverted = np.array([_family_entropy(hs.WarpedModel(system, temperature=1 / t), max_len)
                         for t in temperatures])
    if agrees(values, inverted) and not agrees(values, reference):
        return not_yet(exercise, "`entropies` holds the families warped with p^T: temperature divides the "
                       "log-probabilities, so the conditional is proportional to p^(1/T).")
    at_one = _family_entropy(system, max_len)
    if values is not None and np.allclose(values, at_one) and not agrees(values, reference):
        return not_yet(exercise, "every entry is the entropy of the family at T = 1: build each family with "
                       "histories.WarpedModel(system, temperature=T).")
    return compare_array(exercise, "entropies", entropies, reference, rtol=1e-9)


def check_next_text(p_next, prefix: str, continuation: str) -> Feedback:
    """Exercise 1.6: the probability that a story of the source continues ``prefix`` with
    ``continuation``, the ratio of prefix probabilities P(prefix continuation ...) / P(prefix ...)
    (eq. hist-source and the chain rule over characters)."""
    exercise = "1.6"
    start = stories.prefix_log_prob(prefix)
    joint = stories.prefix_log_prob(prefix + continuation)
    reference = math.exp(joint - start)
    if unanswered(p_next):
        return compare_value(exercise, "p_next", p_next, reference)
    feedback = compare_value(exercise, "p_next", p_next, reference, rtol=1e-9)
    if feedback.correct or not isinstance(p_next, (int, float, np.floating, np.integer)):
        return feedback
    got = float(p_next)
    if got < 0 and math.isclose(got, joint - start, rel_tol=1e-9):
        return not_yet(exercise, "`p_next` is a log-probability (it is negative): take its exponential.")
    if math.isclose(got, math.exp(joint), rel_tol=1e-9):
        return not_yet(exercise, "`p_next` is P(the prefix and the continuation): a conditional divides it by "
                       "the probability P(prefix) that a story starts with the prefix.")
    if math.isclose(got, math.exp(start), rel_tol=1e-9):
        return not_yet(exercise, "`p_next` is the probability of the prefix alone, P(prefix); the exercise "
                       "asks for the next word given the prefix.")
    return feedback


def check_proposition_estimates(estimates, system: hs.GAISystem, first: int, second: int, n: int, seeds,
                                max_len: int) -> Feedback:
    """Exercise 1.7: the frequency of the proposition "``first`` occurs, and before any ``second``"
    (:func:`~genphys.histories.occurs_before`) among ``n`` histories sampled with each seed, one entry
    per seed; the exact value is its probability, eq. hist-dfun on the diagonal."""
    exercise = "1.7"
    seeds = [int(s) for s in seeds]
    if unanswered(estimates):
        return compare_array(exercise, "estimates", estimates, np.zeros(len(seeds)))
    proposition = hs.occurs_before(first, second)
    reference = np.array([np.mean([proposition(h) for h in hs.sample(system, n, seed=s, max_len=max_len)])
                          for s in seeds])
    exact = hs.proposition_probability(hs.enumerate_histories(system, max_len), proposition)
    values = _as_vector(estimates, len(seeds))
    if values is not None and np.allclose(values, exact, rtol=0, atol=1e-12):
        return not_yet(exercise, "every entry is the exact probability: estimate it from the histories "
                       "sampled with each seed instead.")
    if agrees(values, n * reference):
        return not_yet(exercise, "`estimates` holds counts: divide by the number of samples per seed.")
    if agrees(values, 1 - reference):
        return not_yet(exercise, "`estimates` counts the histories where the proposition fails: "
                       "this is one minus the frequency asked for.")
    return compare_array(exercise, "estimates", estimates, reference, rtol=0, atol=1e-12,
                         hint="Sample with histories.sample(system, n, seed=seed, max_len=max_len) for "
                              "each seed, in the order given.")
