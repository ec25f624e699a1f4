"""The self-checks of chapter 7's exercises (genphys.exercises.lm): the reference answer is correct, the stub's
`...` is not yet, and a typical mistake is not yet with a message that names it."""

import copy
import math
import subprocess
import sys

import numpy as np
import pytest

from genphys import measurement
from genphys.exercises import lm as ex

torch = pytest.importorskip("torch")
from genphys.lm import models, spectra  # noqa: E402


def test_importing_the_checks_does_not_import_torch():
    code = "import sys, genphys.exercises.lm as m; print('torch' in sys.modules, len(m.__all__))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "8"]


def _layer(seed=0):
    torch.manual_seed(seed)
    cfg = models.ModelConfig(d_model=32, n_modes=16, n_heads=2, d_feature=4, chunk=8)
    return models.Dissipative(cfg).double()


def _x(seed, T=20):
    return torch.randn(1, T, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _stub(feedback):
    assert not feedback.correct and "still the stub" in feedback.message, feedback.message


# ---------------------------------------------------------------- 7.1
Q, S2, M, C = 0.7, 0.2, 0.3 - 1.1j, -0.8 + 0.4j


def test_one_step_minimiser():
    g = Q / (Q + S2)
    psi = (1 - g) * M + g * C
    s_min = abs(M - C) ** 2 / (2 * (Q + S2))
    assert ex.check_one_step_minimiser(psi, s_min, M, C, Q, S2).correct
    assert ex.check_one_step_minimiser(np.complex128(psi), np.float64(s_min), M, C, Q, S2).correct
    _stub(ex.check_one_step_minimiser(..., ..., M, C, Q, S2))
    _stub(ex.check_one_step_minimiser(psi, ..., M, C, Q, S2))
    wrong = ex.check_one_step_minimiser(g * M + (1 - g) * C, s_min, M, C, Q, S2)
    assert not wrong.correct and "swapped" in wrong.message
    wrong = ex.check_one_step_minimiser(0.5 * (M + C), s_min, M, C, Q, S2)
    assert not wrong.correct and "plain average" in wrong.message
    wrong = ex.check_one_step_minimiser(psi, abs(M - C) ** 2 / (2 * Q * S2), M, C, Q, S2)
    assert not wrong.correct and "variances add" in wrong.message
    wrong = ex.check_one_step_minimiser("psi", s_min, M, C, Q, S2)
    assert not wrong.correct and "one (complex) number" in wrong.message


# ---------------------------------------------------------------- 7.2
def test_steady_gain():
    r, q, s2 = 0.2, 0.05, 1.0
    g = measurement.steady_state_gain(r, q, s2)
    frozen = q / (q + s2)
    assert ex.check_steady_gain(g, frozen, r, q, s2).correct
    _stub(ex.check_steady_gain(..., ..., r, q, s2))
    _stub(ex.check_steady_gain(g, ..., r, q, s2))
    wrong = ex.check_steady_gain(frozen, frozen, r, q, s2)
    assert not wrong.correct and "frozen-past gain" in wrong.message
    wrong = ex.check_steady_gain(g / (1 - g), frozen, r, q, s2)
    assert not wrong.correct and "P / sigma^2" in wrong.message
    wrong = ex.check_steady_gain(g, 1 - frozen, r, q, s2)
    assert not wrong.correct and "weight of the prediction" in wrong.message


# ---------------------------------------------------------------- 7.3
def test_stability_boundary():
    g = 0.3
    assert ex.check_stability_boundary(-math.log(1 - g), g).correct
    _stub(ex.check_stability_boundary(..., g))
    wrong = ex.check_stability_boundary(-0.5 * math.log(1 - g), g)
    assert not wrong.correct and "noise model" in wrong.message
    wrong = ex.check_stability_boundary(g, g)
    assert not wrong.correct and "first-order" in wrong.message
    wrong = ex.check_stability_boundary(math.log(1 - g), g)
    assert not wrong.correct and "sign" in wrong.message


# ---------------------------------------------------------------- 7.4
def _twin(layer, g_new, rate=True, drive=True, value=True):
    twin = copy.deepcopy(layer)
    with torch.no_grad():
        g_old = torch.sigmoid(layer.gain_logit)
        g_twin = torch.full_like(g_old, g_new)
        twin.gain_logit.copy_(torch.logit(g_twin))
        pairs = lambda w: w.repeat_interleave(2)[:, None]  # noqa: E731
        if rate:
            twin.rate.add_(torch.log1p(-g_old) - torch.log1p(-g_twin))
        if drive:
            twin.drive.weight.mul_(pairs((1 - g_old) / (1 - g_twin)))
        if value:
            twin.value.weight.mul_(pairs(g_old / g_twin))
    return twin


def test_identifiability():
    layer, x = _layer(), _x(4)
    assert ex.check_identifiability(_twin(layer, 0.5), layer, x, 0.5).correct
    _stub(ex.check_identifiability(..., layer, x, 0.5))
    wrong = ex.check_identifiability(_twin(layer, 0.5, rate=False), layer, x, 0.5)
    assert not wrong.correct and "rate must absorb" in wrong.message
    wrong = ex.check_identifiability(_twin(layer, 0.5, drive=False), layer, x, 0.5)
    assert not wrong.correct and "drive" in wrong.message
    wrong = ex.check_identifiability(_twin(layer, 0.5, value=False), layer, x, 0.5)
    assert not wrong.correct and "value projection" in wrong.message
    wrong = ex.check_identifiability(layer, layer, x, 0.5)
    assert not wrong.correct and "the layer itself" in wrong.message
    wrong = ex.check_identifiability(copy.deepcopy(layer), layer, x, 0.5)
    assert not wrong.correct and "gain_logit" in wrong.message
    wrong = ex.check_identifiability(_twin(layer, 0.3), layer, x, 0.5)
    assert not wrong.correct and "not g_new" in wrong.message
    wrong = ex.check_identifiability(np.zeros(3), layer, x, 0.5)
    assert not wrong.correct and "Dissipative" in wrong.message


# ---------------------------------------------------------------- 7.5
def _closed_loop(layer, x):
    with torch.no_grad():
        g = torch.sigmoid(layer.gain_logit)
        a = (1 - g) * torch.exp(layer.eigenvalues())
        b = (1 - g) * layer.drive_of(x)[0] + g * layer.context_target(x)[0]
    return a, b


def _convolve(a, b, start=0):
    T = b.shape[0]
    lags = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    kernel = torch.where((lags >= 0)[..., None], a ** (lags.clamp(min=0)[..., None] + start), 0)
    return (kernel * b[None]).sum(1)


def test_scan_convolution():
    layer, x = _layer(), _x(5)
    a, b = _closed_loop(layer, x)
    assert ex.check_scan_convolution(_convolve(a, b), layer, x).correct
    assert ex.check_scan_convolution(_convolve(a, b).numpy(), layer, x).correct
    _stub(ex.check_scan_convolution(..., layer, x))
    wrong = ex.check_scan_convolution(_convolve(a, b, start=1), layer, x)
    assert not wrong.correct and "a^0 = 1" in wrong.message
    shifted = torch.cat([torch.zeros_like(b[:1]), _convolve(a, b)[:-1]])
    wrong = ex.check_scan_convolution(shifted, layer, x)
    assert not wrong.correct and "shifted by one token" in wrong.message
    bare = _convolve(torch.exp(layer.eigenvalues().detach()), b)
    wrong = ex.check_scan_convolution(bare, layer, x)
    assert not wrong.correct and "(1 - g) e^lambda" in wrong.message
    wrong = ex.check_scan_convolution(_convolve(a, b)[:5], layer, x)
    assert not wrong.correct and "shape" in wrong.message


# ---------------------------------------------------------------- 7.6
def _spectra():
    torch.manual_seed(0)
    cfg = models.ModelConfig(vocab_size=16, d_model=32, n_layers=2, n_modes=16, n_heads=2, d_feature=4)
    model = models.build_model("dissipative", cfg)
    with torch.no_grad():
        for mix in model.spectral_modules():
            mix.rate.uniform_(-0.3, 0.05)
    return model, spectra.layer_spectra(model)


def test_memory_times():
    _, layers = _spectra()
    rho = np.log(np.abs(np.concatenate([s["multiplier"] for s in layers])))
    tau, share = -1 / rho, float(np.mean(rho > -1 / 10))
    assert 0 < share < 1
    assert ex.check_memory_times(tau, share, layers, 10).correct
    _stub(ex.check_memory_times(..., ..., layers, 10))
    _stub(ex.check_memory_times(tau, ..., layers, 10))
    rates = np.concatenate([s["rate"] for s in layers])
    wrong = ex.check_memory_times(-1 / rates, share, layers, 10)
    assert not wrong.correct and "generator's rates" in wrong.message
    wrong = ex.check_memory_times(-0.5 / rho, share, layers, 10)
    assert not wrong.correct and "half the reference" in wrong.message
    wrong = ex.check_memory_times(tau, 100 * share, layers, 10)
    assert not wrong.correct and "percentage" in wrong.message


# ---------------------------------------------------------------- 7.7
def test_phase_space_contraction():
    model, layers = _spectra()
    rho = np.log(np.abs(np.concatenate([s["multiplier"] for s in layers])))
    assert ex.check_phase_space_contraction(2 * rho.sum(), model).correct
    _stub(ex.check_phase_space_contraction(..., model))
    wrong = ex.check_phase_space_contraction(rho.sum(), model)
    assert not wrong.correct and "two real directions" in wrong.message
    rates = np.concatenate([s["rate"] for s in layers])
    wrong = ex.check_phase_space_contraction(2 * rates.sum(), model)
    assert not wrong.correct and "generator's rates" in wrong.message


# ---------------------------------------------------------------- 7.8
def test_initial_memory():
    logit = -5.0
    g0 = 1 / (1 + math.exp(-logit))
    tau = -1 / (math.log(1 - g0) - 1 / 100)
    assert ex.check_initial_memory(tau, logit, 32).correct
    _stub(ex.check_initial_memory(..., logit, 32))
    wrong = ex.check_initial_memory(100.0, logit, 32)
    assert not wrong.correct and "generator's" in wrong.message
    g_default = 1 / (1 + math.exp(-models.GAIN_LOGIT_0))
    wrong = ex.check_initial_memory(-1 / (math.log(1 - g_default) - 1 / 100), logit, 32)
    assert not wrong.correct and "default start" in wrong.message
