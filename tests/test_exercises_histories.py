"""The self-checks of chapter 1's exercises: the reference answer is correct, the stub's ``...`` is not yet,
and a typical wrong answer is not yet with a message that names the mistake."""

import math

import numpy as np
import pytest

from genphys import histories as H
from genphys import stories
from genphys.exercises import histories as ex

VOCAB = ("the", "dog", "cat", "ran", "to", "park", "<eot>")


@pytest.fixture(scope="module")
def toy():
    return H.TableModel.from_rows(VOCAB, {
        "<eot>": {"the": 0.8, "dog": 0.1, "cat": 0.1},
        "the": {"dog": 0.5, "cat": 0.3, "park": 0.2},
        "dog": {"ran": 0.6, "<eot>": 0.4},
        "cat": {"ran": 0.3, "<eot>": 0.7},
        "ran": {"to": 0.7, "<eot>": 0.3},
        "to": {"the": 1.0},
        "park": {"<eot>": 1.0},
    })


def _verdict(feedback, correct):
    assert feedback.correct is correct, feedback.message
    return feedback.message


def test_all_lists_the_checks():
    assert sorted(ex.__all__) == sorted(name for name in dir(ex) if name.startswith("check_"))


# ------------------------------------------------------------------ 1.1
def test_extensions(toy):
    h = toy.encode(["the", "dog"])
    answer = np.array([math.exp(H.log_joint(toy, h + (y,))) for y in range(toy.V)])
    _verdict(ex.check_extensions(answer, toy, h), True)
    assert "stub" in _verdict(ex.check_extensions(..., toy, h), False)
    assert "conditionals p(y | h)" in _verdict(ex.check_extensions(toy.conditional(h), toy, h), False)
    assert "order of the vocabulary" in _verdict(ex.check_extensions(answer[::-1], toy, h), False)
    assert "shape" in _verdict(ex.check_extensions(answer[:3], toy, h), False)


# ------------------------------------------------------------------ 1.3
def _entropy(system, max_len):
    p = np.array(list(H.enumerate_histories(system, max_len).values()))
    return -(p * np.log2(p)).sum()


def test_temperature_entropies(toy):
    temps = (0.5, 1.0, 2.0)
    answer = [_entropy(H.WarpedModel(toy, temperature=t), 6) for t in temps]
    _verdict(ex.check_temperature_entropies(answer, toy, temps, 6), True)
    assert "stub" in _verdict(ex.check_temperature_entropies(..., toy, temps, 6), False)
    assert "nats" in _verdict(ex.check_temperature_entropies(np.array(answer) * math.log(2), toy, temps, 6), False)
    inverted = [_entropy(H.WarpedModel(toy, temperature=1 / t), 6) for t in temps]
    assert "p^(1/T)" in _verdict(ex.check_temperature_entropies(inverted, toy, temps, 6), False)
    assert "T = 1" in _verdict(ex.check_temperature_entropies([answer[1]] * 3, toy, temps, 6), False)


# ------------------------------------------------------------------ 1.6
PREFIX = "Once upon a time, there was a "


def test_next_text():
    start, joint = stories.prefix_log_prob(PREFIX), stories.prefix_log_prob(PREFIX + "girl ")
    _verdict(ex.check_next_text(math.exp(joint - start), PREFIX, "girl "), True)
    assert "stub" in _verdict(ex.check_next_text(..., PREFIX, "girl "), False)
    assert "divides it by" in _verdict(ex.check_next_text(math.exp(joint), PREFIX, "girl "), False)
    assert "log-probability" in _verdict(ex.check_next_text(joint - start, PREFIX, "girl "), False)
    assert "one real number" in _verdict(ex.check_next_text("0.08", PREFIX, "girl "), False)


# ------------------------------------------------------------------ 1.7
def test_proposition_estimates(toy):
    dog, park = toy.encode(["dog", "park"])
    prop, seeds, n = H.occurs_before(dog, park), range(3), 50
    answer = [np.mean([prop(h) for h in H.sample(toy, n, seed=s, max_len=6)]) for s in seeds]
    _verdict(ex.check_proposition_estimates(answer, toy, dog, park, n, seeds, 6), True)
    assert "stub" in _verdict(ex.check_proposition_estimates(..., toy, dog, park, n, seeds, 6), False)
    exact = H.proposition_probability(H.enumerate_histories(toy, 6), prop)
    assert "exact probability" in _verdict(
        ex.check_proposition_estimates([exact] * 3, toy, dog, park, n, seeds, 6), False)
    assert "counts" in _verdict(
        ex.check_proposition_estimates(np.array(answer) * n, toy, dog, park, n, seeds, 6), False)
    assert "fails" in _verdict(
        ex.check_proposition_estimates(1 - np.array(answer), toy, dog, park, n, seeds, 6), False)
