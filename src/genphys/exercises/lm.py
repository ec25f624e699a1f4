"""Self-checks for the exercises of chapter 7 (:mod:`genphys.lm`, with :mod:`genphys.measurement`).

Importing this module costs nothing: torch and :mod:`genphys.lm` are imported inside the checks that
need them, so the module loads (and a check of a missing answer answers) without torch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from genphys import measurement
from genphys.exercises.feedback import (Feedback, agrees, compare_array, compare_value, correct, not_yet,
                                        unanswered)

__all__ = ["check_one_step_minimiser", "check_steady_gain", "check_stability_boundary",
           "check_identifiability", "check_scan_convolution", "check_memory_times",
           "check_phase_space_contraction", "check_initial_memory"]


def _numpy(value):
    """A torch tensor as a numpy array (detached, on the CPU); anything else as it is."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _close(got, expected, rtol: float = 1e-6) -> bool:
    """:func:`~genphys.exercises.feedback.agrees` at ``rtol`` of the reference's largest entry."""
    scale = float(np.abs(np.asarray(expected, dtype=complex)).max(initial=0.0))
    return agrees(got, expected, rtol=rtol, atol=1e-12 + rtol * scale)


def _complex_number(exercise: str, name: str, got, expected: complex) -> Feedback:
    """One (complex) number against the reference."""
    got = _numpy(got)
    if unanswered(got):
        return compare_value(exercise, name, got, 0.0)
    if isinstance(got, (bool, np.bool_)) or not (isinstance(got, numbers.Number)
                                                 or (isinstance(got, np.ndarray) and got.size == 1)):
        return not_yet(exercise, f"`{name}` should be one (complex) number, got {type(got).__name__}.")
    return compare_array(exercise, name, np.reshape(np.asarray(got), (1,)), np.array([expected]),
                         rtol=1e-9, atol=1e-12)


def check_one_step_minimiser(psi_star, s_min, m: complex, c: complex, q: float, sigma2: float) -> Feedback:
    """Exercise 7.1: the minimiser ``psi_star`` of the one-step action
    |psi - m|^2 / 2q + |psi - c|^2 / 2 sigma2 and its minimum ``s_min`` (eq. ch7-filter, ch7-action).

    The reference minimiser is the posterior mean of :func:`genphys.measurement.gaussian_update`
    (prior N(m, q), observation c with noise sigma2); the minimum is the action evaluated there.
    """
    exercise = "7.1"
    mean, _ = measurement.gaussian_update([m], [[1.0 / q]], [[1.0]], [c], sigma2)
    reference = complex(mean[0])
    s_reference = abs(reference - m) ** 2 / (2 * q) + abs(reference - c) ** 2 / (2 * sigma2)
    feedback = _complex_number(exercise, "psi_star", psi_star, reference)
    if not feedback.correct and not unanswered(psi_star):
        g = q / (q + sigma2)
        if _close(psi_star, g * m + (1 - g) * c):
            return not_yet(exercise, "`psi_star` has the weights swapped: the measurement c gets the weight "
                           "g = q / (q + sigma^2), large when the prior step is uncertain (q large), and the "
                           "prediction m gets 1 - g.")
        if _close(psi_star, 0.5 * (m + c)):
            return not_yet(exercise, "`psi_star` is the plain average of m and c: the two terms weigh by "
                           "their precisions 1/q and 1/sigma^2.")
        return feedback
    if not feedback.correct:
        return feedback
    feedback = compare_value(exercise, "s_min", _numpy(s_min), s_reference, rtol=1e-9, atol=1e-14)
    if not feedback.correct and not unanswered(s_min) and _close(s_min, abs(m - c) ** 2 / (2 * (q * sigma2))):
        return not_yet(exercise, "`s_min` uses q sigma^2 where the variances add: the minimum is "
                       "|m - c|^2 / 2(q + sigma^2), the two variances of m - c added.")
    if feedback.correct:
        return correct(exercise, f"`psi_star` = {reference:.8g} and `s_min` = {s_reference:.8g} agree with "
                       "the reference: the precision-weighted mean, and the action's minimum.")
    return feedback


def check_steady_gain(g_dare, g_frozen, r: float, q: float, sigma2: float) -> Feedback:
    """Exercise 7.2: the stationary Kalman gain ``g_dare`` from the Riccati fixed point (eq. ch7-filter,
    ch5-riccati) and the frozen-past gain ``g_frozen`` = q / (q + sigma^2), for the scalar filter with
    rate ``r``, step variance ``q`` and pointer variance ``sigma2``.

    The reference is :func:`genphys.measurement.steady_state_gain`; the frozen-past gain is the gain of
    one :func:`genphys.measurement.gaussian_update` from a prior of variance q.
    """
    exercise = "7.2"
    reference = measurement.steady_state_gain(r, q, sigma2)
    _, precision = measurement.gaussian_update([0.0], [[1.0 / q]], [[1.0]], [0.0], sigma2)
    frozen = (1.0 / float(precision[0, 0].real)) / sigma2    # g = posterior variance / sigma^2
    if unanswered(g_dare):
        return compare_value(exercise, "g_dare", g_dare, reference)
    g_dare, g_frozen = _numpy(g_dare), _numpy(g_frozen)
    feedback = compare_value(exercise, "g_dare", g_dare, reference, rtol=1e-8)
    if not feedback.correct:
        if _close(g_dare, frozen):
            return not_yet(exercise, "`g_dare` is q / (q + sigma^2), the frozen-past gain: at the fixed point the "
                           "predicted variance P also carries the propagated variance e^(2r) P sigma^2 / "
                           "(P + sigma^2), so P > q.")
        x = reference / (1 - reference)
        if _close(g_dare, x):
            return not_yet(exercise, "`g_dare` is P / sigma^2, the fixed point of the Riccati recursion in units "
                           "of sigma^2; the gain is P / (P + sigma^2).")
        if isinstance(g_dare, numbers.Real) and not 0 < float(g_dare) < 1:
            return not_yet(exercise, f"`g_dare` = {float(g_dare):.6g} lies outside (0, 1): a variance is "
                           "positive, so take the positive root of the quadratic.")
        return feedback
    feedback = compare_value(exercise, "g_frozen", g_frozen, frozen, rtol=1e-10)
    if not feedback.correct and _close(g_frozen, 1 - frozen):
        return not_yet(exercise, "`g_frozen` is sigma^2 / (q + sigma^2), the weight of the prediction: the gain "
                       "is the weight of the measurement, q / (q + sigma^2).")
    if feedback.correct:
        return correct(exercise, f"g_dare = {reference:.8g} from the Riccati fixed point and g_frozen = "
                       f"{frozen:.8g}: the frozen past underestimates the gain.")
    return feedback


def check_stability_boundary(r_max, g: float) -> Feedback:
    """Exercise 7.3: the largest rate ``r_max`` at which a mode with constant gain ``g`` is stable,
    |(1 - g) e^r| < 1 (eq. ch7-stable).

    The reference reads the multiplier of a one-mode :class:`genphys.lm.models.Dissipative` layer
    with rate 0 and gain g: r_max = -ln|a|.
    """
    exercise = "7.3"
    if unanswered(r_max):
        return compare_value(exercise, "r_max", r_max, 0.0)
    import torch

    from genphys.lm import models

    layer = models.Dissipative(models.ModelConfig(vocab_size=2, d_model=2, n_layers=1, n_modes=1,
                                                  n_heads=1, d_feature=1)).double()
    with torch.no_grad():
        layer.rate.zero_()
        layer.gain_logit.fill_(math.log(g) - math.log1p(-g))
        reference = -math.log(float(layer.multipliers().abs().max()))
    r_max = _numpy(r_max)
    feedback = compare_value(exercise, "r_max", r_max, reference, rtol=1e-9)
    if feedback.correct or not isinstance(r_max, (numbers.Real, np.ndarray)):
        return feedback
    if _close(r_max, reference / 2):
        return not_yet(exercise, "`r_max` is half the boundary: (1 - g) e^(2r) < 1 is where a noise model with "
                       "this gain exists (eq. ch5-steady-condition); stability asks (1 - g) e^r < 1.")
    if _close(r_max, g):
        return not_yet(exercise, "`r_max` = g is the first-order expansion of -ln(1 - g); the boundary is "
                       "exactly -ln(1 - g).")
    if _close(r_max, -math.log(g)):
        return not_yet(exercise, "`r_max` = -ln g: the measurement keeps 1 - g of the prediction, so the "
                       "boundary is -ln(1 - g).")
    return feedback


def _outputs(layer, x):
    import torch

    with torch.no_grad():
        return layer(x)


def check_identifiability(twin, layer, x, g_new: float) -> Feedback:
    """Exercise 7.4: ``twin``, a copy of the constant-gain layer ``layer`` with gain ``g_new`` on every mode
    that computes the same function (only a = (1 - g) e^lambda is determined; eq. ch7-conv).

    The reference is the layer itself: the twin's outputs on ``x`` must equal ``layer``'s, its gain be
    g_new, and the diagnosis compares multipliers, drives and context terms mode by mode.
    """
    exercise = "7.4"
    if unanswered(twin):
        return not_yet(exercise, "`twin` is still the stub's `...`: fill it in in the cell above and run this "
                       "again.")
    import torch

    from genphys.lm import models

    if not isinstance(twin, models.Dissipative):
        return not_yet(exercise, f"`twin` should be a constant-gain layer (models.Dissipative), got "
                       f"{type(twin).__name__}.")
    if twin is layer:
        return not_yet(exercise, "`twin` is the layer itself: make a copy (copy.deepcopy(one)) and change "
                       "the copy, so that the two can be compared.")
    gains = torch.sigmoid(twin.gain_logit.detach()).double()
    if not torch.allclose(gains, torch.full_like(gains, g_new), rtol=0, atol=1e-9):
        return not_yet(exercise, f"the twin's gain is not g_new = {g_new} on every mode (it ranges "
                       f"{gains.min().item():.4g} to {gains.max().item():.4g}): set its gain_logit to "
                       "logit(g_new).")
    try:
        got, expected = _outputs(twin, x), _outputs(layer, x)
    except (RuntimeError, TypeError, ValueError) as err:
        return not_yet(exercise, f"the twin could not run on x: {type(err).__name__}: {err}")
    if got.shape == expected.shape and torch.allclose(got.double(), expected.double(), rtol=1e-9, atol=1e-10):
        return correct(exercise, f"a layer with gain {g_new} on every mode computes the same function "
                       f"(largest difference {(got - expected).abs().max().item():.1e}): only a = (1 - g) "
                       "e^lambda is determined.")
    with torch.no_grad():
        g_old = torch.sigmoid(layer.gain_logit).double()
        a_twin, a_layer = twin.multipliers().reshape(-1), layer.multipliers().reshape(-1)
        if not torch.allclose(a_twin.to(a_layer.dtype), a_layer, rtol=1e-9, atol=1e-12):
            return not_yet(exercise, "the twin's multipliers a = (1 - g') e^lambda' differ from the layer's: "
                           "the rate must absorb the change of ln(1 - g), r' = r + ln(1 - g) - ln(1 - g'), "
                           "and the frequencies stay.")
        drive_twin = (1 - gains) * twin.drive_of(x).to(torch.complex128)
        drive_layer = (1 - g_old) * layer.drive_of(x).to(torch.complex128)
        if not torch.allclose(drive_twin, drive_layer, rtol=1e-9, atol=1e-10):
            return not_yet(exercise, "the drive term (1 - g') u'_t differs from (1 - g) u_t: scale the rows of "
                           "mode k of the drive B (rows 2k and 2k + 1, Re and Im) by (1 - g_k) / (1 - g').")
        context_twin = gains * twin.context_target(x).to(torch.complex128)
        context_layer = g_old * layer.context_target(x).to(torch.complex128)
        if not torch.allclose(context_twin, context_layer, rtol=1e-9, atol=1e-10):
            return not_yet(exercise, "the context term g' c'_t differs from g c_t: c_t is linear in the values, "
                           "so scale the rows of mode k of the value projection (rows 2k and 2k + 1) by "
                           "g_k / g'.")
    return not_yet(exercise, "the multipliers, drive and context terms agree but the outputs differ: leave the "
                   "readout, the query and the key as they are.")


def _scan_reference(layer, x, multiplier=None):
    import torch

    from genphys.lm import models

    with torch.no_grad():
        u, c = layer.drive_of(x), layer.context_target(x)
        log_a, b = layer.closed_loop(x, u, c)
        if multiplier is not None:
            log_a = multiplier
        return models.scan(log_a, b, layer.cfg.chunk)[0].cpu().numpy(), log_a.cpu().numpy()


def check_scan_convolution(psi_conv, layer, x) -> Feedback:
    """Exercise 7.5: the states psi_t (T, N) of ``layer`` along ``x`` (1, T, d), computed as the causal
    convolution psi_t = sum_{s <= t} a^(t - s) b_s (eq. ch7-conv).

    The reference is the layer's own parallel scan (:func:`genphys.lm.models.scan`) of its closed loop.
    """
    exercise = "7.5"
    if unanswered(psi_conv):
        return compare_array(exercise, "psi_conv", psi_conv, np.zeros(1))
    reference, log_a = _scan_reference(layer, x)
    got = _numpy(psi_conv)
    feedback = compare_array(exercise, "psi_conv", got, reference, rtol=1e-8, atol=1e-10)
    if feedback.correct or np.shape(got) != reference.shape:
        return feedback
    a = np.exp(log_a)
    if _close(got, a * reference):
        return not_yet(exercise, "`psi_conv` is a times the reference: the kernel starts at a^0 = 1 (b_t enters "
                       "psi_t unchanged), K_j = a^j for j = t - s = 0, 1, ...")
    if _close(got[1:], reference[:-1]):
        return not_yet(exercise, "`psi_conv` is shifted by one token: the sum runs over s <= t, the current "
                       "input included.")
    bare = _scan_reference(layer, x, multiplier=layer.eigenvalues().detach())[0]
    if _close(got, bare):
        return not_yet(exercise, "`psi_conv` uses e^lambda as the multiplier: the closed loop's is "
                       "a = (1 - g) e^lambda, the measurement keeps 1 - g of the prediction.")
    return feedback


def check_memory_times(tau, share, layers, context: float) -> Feedback:
    """Exercise 7.6: the memory times ``tau`` = -1/ln|a_k| of every mode of ``layers`` (spectra, one dict
    per layer, in order) and the ``share`` of modes whose memory outlasts ``context`` tokens
    (|a_k| > e^(-1/context)); eq. ch7-conv and the memory times of the spectral analysis.

    The reference rates are :func:`genphys.lm.spectra.closed_loop_rates`.
    """
    exercise = "7.6"
    if unanswered(tau):
        return compare_array(exercise, "tau", tau, np.zeros(1))
    from genphys.lm import spectra

    rho = spectra.closed_loop_rates(layers)
    with np.errstate(divide="ignore"):
        reference = -1.0 / rho
    got = _numpy(tau)
    feedback = compare_array(exercise, "tau", got, reference, rtol=1e-8, atol=1e-10)
    if not feedback.correct:
        rates = np.concatenate([np.asarray(s["rate"], dtype=float) for s in layers])
        with np.errstate(divide="ignore"):
            if _close(got, -1.0 / rates):
                return not_yet(exercise, "`tau` uses the generator's rates r_k: the data determine only the "
                               "closed loop, rho_k = ln|a_k| with a_k = (1 - g_k) e^lambda_k (read "
                               "s['multiplier']).")
        if _close(got, 0.5 * reference):
            return not_yet(exercise, "`tau` is half the reference: you used ln|a_k|^2, the decay of |psi|^2; a "
                           "memory time is the e-folding time of psi itself, -1/ln|a_k|.")
        return feedback
    expected_share = float(np.mean(rho > -1.0 / context))
    got_share = _numpy(share)
    feedback = compare_value(exercise, "share", got_share, expected_share, rtol=1e-12, atol=1e-12)
    if not feedback.correct and not unanswered(share) and _close(got_share, 100 * expected_share) \
            and expected_share > 0:
        return not_yet(exercise, "`share` is a percentage: give the fraction of modes, between 0 and 1.")
    if feedback.correct:
        return correct(exercise, f"`tau` and `share` = {expected_share:.4g} agree with the reference: the "
                       f"longest memory is {np.max(reference):.3g} tokens.")
    return feedback


def check_phase_space_contraction(log_volume, model) -> Feedback:
    """Exercise 7.7: ``log_volume``, the logarithm of the factor by which one token multiplies volumes of
    the recurrent state of ``model`` (all layers; each complex mode is two real dimensions):
    ln|det| = 2 sum_k ln|a_k| (eq. ch7-conv), the sum of the state map's Lyapunov exponents.

    The reference reads the multipliers with :func:`genphys.lm.spectra.layer_spectra`.
    """
    exercise = "7.7"
    if unanswered(log_volume):
        return compare_value(exercise, "log_volume", log_volume, 0.0)
    from genphys.lm import spectra

    layers = spectra.layer_spectra(model)
    reference = 2.0 * float(spectra.closed_loop_rates(layers).sum())
    got = _numpy(log_volume)
    feedback = compare_value(exercise, "log_volume", got, reference, rtol=1e-6)
    if feedback.correct or not isinstance(got, (numbers.Real, np.ndarray)):
        return feedback
    if _close(got, reference / 2):
        return not_yet(exercise, "`log_volume` is half the reference: a complex mode is two real directions "
                       "(Re, Im), and psi -> a psi scales their area by |a|^2; sum_k ln|a_k| alone is the "
                       "net rate of the energy budget.")
    rates = np.concatenate([np.asarray(s["rate"], dtype=float) for s in layers])
    if _close(got, 2 * rates.sum()) or _close(got, rates.sum()):
        return not_yet(exercise, "`log_volume` uses the generator's rates r_k: the state map multiplies by the "
                       "closed loop's a_k = (1 - g_k) e^lambda_k.")
    return feedback


def check_initial_memory(tau_start, gain_logit: float, n_modes: int) -> Feedback:
    """Exercise 7.8: ``tau_start``, the longest memory time -1/ln|a_k| of a fresh constant-gain layer of
    ``n_modes`` modes whose gains start at sigmoid(``gain_logit``) (eq. ch7-conv; the package starts
    every measured family from :data:`genphys.lm.models.GAIN_LOGIT_0`).

    The reference builds a :class:`genphys.lm.models.Dissipative` layer and reads its multipliers.
    """
    exercise = "7.8"
    if unanswered(tau_start):
        return compare_value(exercise, "tau_start", tau_start, 0.0)
    import torch

    from genphys.lm import models

    def longest(logit):
        layer = models.Dissipative(models.ModelConfig(vocab_size=2, d_model=2, n_layers=1, n_modes=n_modes,
                                                      n_heads=1, d_feature=1)).double()
        with torch.no_grad():
            layer.gain_logit.fill_(logit)
            rates = layer.rate.clone()
            return -1.0 / math.log(float(layer.multipliers().abs().max())), -1.0 / float(rates.max())

    reference, bare = longest(gain_logit)
    got = _numpy(tau_start)
    feedback = compare_value(exercise, "tau_start", got, reference, rtol=1e-6)
    if feedback.correct or not isinstance(got, (numbers.Real, np.ndarray)):
        return feedback
    if _close(got, bare):
        return not_yet(exercise, f"`tau_start` = {bare:.4g} is the longest decay time of the rate alone, the "
                       "generator's; the measurement keeps 1 - g of the prediction, so |a| = (1 - g) e^r is "
                       "smaller.")
    default = longest(models.GAIN_LOGIT_0)[0]
    if gain_logit != models.GAIN_LOGIT_0 and _close(got, default):
        return not_yet(exercise, f"`tau_start` = {default:.4g} is the package's default start (gain logit "
                       f"{models.GAIN_LOGIT_0}); use the gain logit of the exercise, {gain_logit}.")
    return feedback
