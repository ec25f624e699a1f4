"""genphys.spectral: the one decay / growth / neutral classification, threshold explicit."""

import numpy as np
import pytest

from genphys import spectral


def test_threshold_decides_and_boundaries_are_neutral():
    rates = np.array([-1.0, -1e-3, -1e-4, 0.0, 1e-4, 1e-3, 0.5])
    assert spectral.classify_modes(rates, 1e-3).tolist() == [
        "decay", "neutral", "neutral", "neutral", "neutral", "neutral", "growth"]
    assert spectral.classify_modes(rates, 0.0).tolist() == [
        "decay", "decay", "decay", "neutral", "growth", "growth", "growth"]
    counts = spectral.count_modes(rates, 1e-3)
    assert counts == {"decay": 1, "growth": 1, "neutral": 5, "eps": 1e-3}
    assert sum(counts[k] for k in spectral.KINDS) == rates.size


def test_multipliers_give_rates_and_memory_times():
    tau = np.array([1.0, 20.0, 1000.0])
    a = np.exp(-1 / tau) * np.exp(1j * np.array([0.3, -2.0, 3.1]))
    assert np.allclose(spectral.memory_times(a), tau, rtol=1e-12)
    assert np.allclose(spectral.log_moduli(a), -1 / tau, rtol=1e-12)
    assert np.isinf(spectral.memory_times(np.array([1.0, 1.5j]))).all()


@pytest.mark.parametrize("rates, eps, error, match", [
    ([0.1, np.nan], 0.1, ValueError, "rates"),
    ([[0.1]], 0.1, ValueError, "1-d"),
    ("0.1", 0.1, TypeError, "rates"),
    ([0.1], -1.0, ValueError, "eps"),
    ([0.1], float("nan"), ValueError, "eps"),
    ([0.1], None, TypeError, "eps"),
])
def test_bad_input(rates, eps, error, match):
    with pytest.raises(error, match=match):
        spectral.classify_modes(rates, eps)
