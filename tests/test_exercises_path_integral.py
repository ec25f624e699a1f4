"""The self-checks of chapter 6's exercises (genphys.exercises.path_integral): the reference answer is
correct, the stub's ``...`` is not yet, and typical wrong answers are told what is wrong."""

import math

import numpy as np
import pytest

from genphys import measurement
from genphys import path_integral as pi
from genphys.exercises import path_integral as ex

OMEGA, T, NS = 1.3, 2.0, np.array([1, 2, 10, 100, 1000])
RATES, D = np.array([-0.05, -0.5, -2.0]), 0.5
XS = np.linspace(-5, 5, 201)
SPACINGS = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
TOKEN = dict(c1=0.4 - 0.3j, lam=-0.2 + 0.7j, q=0.3, sigma2=0.5, u1=0.1 + 0.2j, m0=0.2, p0=0.8)


def eps_det(omega, T, N, plus=0, sign=1.0):
    """eps D_{N-1+plus} from the three-term recursion with diagonal 2 + sign eps^2 omega^2."""
    eps, before, D_k = T / N, 0.0, 1.0
    for _ in range(N - 1 + plus):
        before, D_k = D_k, (2 + sign * (eps * omega) ** 2) * D_k - before
    return eps * D_k


# ---------------------------------------------------------------- 6.1
def test_fluctuation_determinant_reference_is_correct():
    answer = np.array([eps_det(OMEGA, T, int(N)) for N in NS])
    feedback = ex.check_fluctuation_determinant(answer, OMEGA, T, NS)
    assert feedback.correct and feedback.exercise == "6.1"
    assert ex.check_fluctuation_determinant(T * np.ones(3), 0.0, T, [1, 7, 50]).correct


def test_fluctuation_determinant_stub_is_not_yet():
    assert "stub" in ex.check_fluctuation_determinant(..., OMEGA, T, NS).message


@pytest.mark.parametrize("answer, words", [
    (np.array([eps_det(OMEGA, T, int(N)) * N / T for N in NS]), "det M_N itself"),
    (np.array([eps_det(OMEGA, T, int(N), plus=1) for N in NS]), "(N - 1) x (N - 1)"),
    (np.array([eps_det(OMEGA, T, int(N), sign=-1.0) for N in NS]), "2 + eps^2 omega^2"),
    (np.full(NS.shape, math.sinh(OMEGA * T) / OMEGA), "continuum limit"),
    (np.ones(3), "shape"),
])
def test_fluctuation_determinant_wrong_answers_are_named(answer, words):
    feedback = ex.check_fluctuation_determinant(answer, OMEGA, T, NS)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 6.2
def test_frozen_past_reference_is_correct():
    steady = measurement.steady_state_gain(-0.1, 0.3, 0.7)
    feedback = ex.check_frozen_past(0.3 / (0.3 + 0.7), steady, -0.1, 0.3, 0.7)
    assert feedback.correct and feedback.exercise == "6.2" and "larger" in feedback.message


def test_frozen_past_stub_is_not_yet():
    assert "`g_frozen` is still the stub" in ex.check_frozen_past(..., ..., -0.1, 0.3, 0.7).message
    assert "`g_steady` is still the stub" in ex.check_frozen_past(0.3, ..., -0.1, 0.3, 0.7).message


def test_frozen_past_wrong_answers_are_named():
    r, q, s2 = -0.1, 0.3, 0.7
    frozen, steady = q / (q + s2), measurement.steady_state_gain(r, q, s2)
    P = steady * s2 / (1 - steady)
    halfway = measurement.kalman_filter(np.ones((2, 1)), [[math.exp(r)]], [[q]], [[s2]], P0=[[0.0]])
    cases = [
        ((steady, frozen), "exchanged"),
        ((frozen, frozen), "frozen-past gain"),
        ((frozen, P), "predicted variance P"),
        ((frozen, float(halfway.gains[-1, 0, 0])), "not settled"),
        ((0.5, steady), "the reference is 0.3"),
    ]
    for (g_frozen, g_steady), words in cases:
        feedback = ex.check_frozen_past(g_frozen, g_steady, r, q, s2)
        assert not feedback.correct and words in feedback.message, (words, feedback.message)
    # where q / (q + sigma^2) differs from q, answering q is named
    feedback = ex.check_frozen_past(0.2, 0.5, -0.1, 0.2, 0.5)
    assert not feedback.correct and "predicted variance q" in feedback.message


# ---------------------------------------------------------------- 6.3
def test_ou_step_reference_is_correct():
    feedback = ex.check_ou_step(2 * D * np.expm1(2 * RATES) / (2 * RATES), RATES, D)
    assert feedback.correct and feedback.exercise == "6.3"


def test_ou_step_stub_is_not_yet():
    assert "stub" in ex.check_ou_step(..., RATES, D).message


@pytest.mark.parametrize("answer, words", [
    (np.full(3, 2 * D), "Euler"),
    (2 * D * np.expm1(RATES) / RATES, "e^{2r} goes"),
    (D * np.expm1(2 * RATES) / (2 * RATES), "half the reference"),
])
def test_ou_step_wrong_answers_are_named(answer, words):
    feedback = ex.check_ou_step(answer, RATES, D)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 6.4
def ground(omega=1.1):
    return omega / 2, np.sqrt(omega / np.pi) * np.exp(-omega * XS**2)


def test_ground_state_reference_is_correct():
    E0, density = ground()
    feedback = ex.check_ground_state(E0, density, XS, 1.1)
    assert feedback.correct and feedback.exercise == "6.4"


def test_ground_state_stub_is_not_yet():
    assert "`E0` is still the stub" in ex.check_ground_state(..., ..., XS, 1.1).message
    assert "`density_0` is still the stub" in ex.check_ground_state(0.55, ..., XS, 1.1).message


def test_ground_state_wrong_answers_are_named():
    E0, density = ground()
    amplitude = np.exp(-1.1 * XS**2 / 2)
    cases = [
        ((1.1, density), "spacing of the levels"),
        ((E0, amplitude / np.trapezoid(amplitude, XS)), "wavefunction"),
        ((E0, 3 * density), "not normalised"),
        ((E0, np.ones(5)), "shape"),
    ]
    for (e, d), words in cases:
        feedback = ex.check_ground_state(e, d, XS, 1.1)
        assert not feedback.correct and words in feedback.message, (words, feedback.message)


# ---------------------------------------------------------------- 6.5
def test_memory_time_reference_is_correct():
    gaps = np.arccosh(1 + SPACINGS**2 / 2) / SPACINGS          # eq. ch6-lattice at omega = 1
    feedback = ex.check_memory_time(1 / (gaps * SPACINGS), SPACINGS, 1.0)
    assert feedback.correct and feedback.exercise == "6.5"


def test_memory_time_stub_is_not_yet():
    assert "stub" in ex.check_memory_time(..., SPACINGS, 1.0).message


@pytest.mark.parametrize("answer, words", [
    (1 / (np.arccosh(1 + SPACINGS**2 / 2) / SPACINGS), "a time"),
    (1 / SPACINGS, "continuum gap"),
    (np.arccosh(1 + SPACINGS**2 / 2), "its inverse"),
])
def test_memory_time_wrong_answers_are_named(answer, words):
    feedback = ex.check_memory_time(answer, SPACINGS, 1.0)
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 6.6
def token_evidence(real=False, prior=True, pointer=True, drive=True):
    c1, lam, q, s2, u1, m0, p0 = TOKEN.values()
    mu = np.exp(lam) * m0 + (u1 if drive else 0.0)
    S = (math.exp(2 * lam.real) * p0 if prior else 0.0) + q + (s2 if pointer else 0.0)
    if real:
        return -0.5 * math.log(2 * math.pi * S) - abs(c1 - mu) ** 2 / (2 * S)
    return -math.log(math.pi * S) - abs(c1 - mu) ** 2 / S


def test_one_token_evidence_reference_is_correct():
    feedback = ex.check_one_token_evidence(token_evidence(), *TOKEN.values())
    assert feedback.correct and feedback.exercise == "6.6"


def test_one_token_evidence_stub_is_not_yet():
    assert "stub" in ex.check_one_token_evidence(..., *TOKEN.values()).message


@pytest.mark.parametrize("flags, words", [
    (dict(real=True), "real Gaussian"),
    (dict(prior=False), "prior variance of psi_0"),
    (dict(pointer=False), "sigma^2"),
    (dict(drive=False), "drive u_1"),
])
def test_one_token_evidence_wrong_answers_are_named(flags, words):
    feedback = ex.check_one_token_evidence(token_evidence(**flags), *TOKEN.values())
    assert not feedback.correct and words in feedback.message


# ---------------------------------------------------------------- 6.7
@pytest.fixture(scope="module")
def evidence_problem():
    rng = np.random.default_rng(11)
    lam, q, s2, T_ev = -0.1 + 0.3j, 0.2, 0.5, 200
    noise = lambda v, n: np.sqrt(v / 2) * (rng.normal(size=n) + 1j * rng.normal(size=n))
    psi, out = noise(1.0, 1)[0], []
    for w in noise(q, T_ev):
        psi = np.exp(lam) * psi + w
        out.append(psi)
    c = np.array(out) + noise(s2, T_ev)
    ratios = np.geomspace(0.05, 5.0, 21)
    evidence = np.array([pi.log_evidence(pi.ModeAction(c, lam, x * s2, s2, None)) for x in ratios])
    return c, lam, s2, ratios, evidence


def test_evidence_maximiser_reference_is_correct(evidence_problem):
    c, lam, s2, ratios, evidence = evidence_problem
    feedback = ex.check_evidence_maximiser(float(ratios[np.argmax(evidence)]), c, lam, s2, ratios)
    assert feedback.correct and feedback.exercise == "6.7"


def test_evidence_maximiser_stub_is_not_yet(evidence_problem):
    c, lam, s2, ratios, _ = evidence_problem
    assert "stub" in ex.check_evidence_maximiser(..., c, lam, s2, ratios).message


def test_evidence_maximiser_wrong_answers_are_named(evidence_problem):
    c, lam, s2, ratios, evidence = evidence_problem
    cases = [
        (float(ratios[np.argmin(evidence)]), "smallest evidence"),
        (float(evidence.max()), "log-evidence itself"),
        (float(ratios[np.argmax(evidence)]) * s2, "not the ratio"),
    ]
    for answer, words in cases:
        feedback = ex.check_evidence_maximiser(answer, c, lam, s2, ratios)
        assert not feedback.correct and words in feedback.message, (words, feedback.message)
