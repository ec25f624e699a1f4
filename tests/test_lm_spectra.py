"""genphys.lm.spectra: mode counts, energy budget and closed loop against direct computation."""

import numpy as np
import pytest
import torch

from genphys.lm import spectra
from genphys.lm.models import ModelConfig, build_model
from test_lm_models import free_evolution

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

CFG = ModelConfig(vocab_size=50, d_model=16, n_layers=2, n_modes=8, n_heads=2, d_feature=4)


def test_counts_and_budget_by_hand():
    r = np.array([-0.5, -0.1, -1e-4, 0.0, 2e-4, 0.05, 0.3])
    assert spectra.classify(r, eps=1e-3) == {"decay": 2, "growth": 2, "neutral": 3, "eps": 1e-3}
    b = spectra.energy_budget(r, eps=1e-3)
    assert b["total_decay"] == pytest.approx(-0.6) and b["total_growth"] == pytest.approx(0.35)
    assert b["net"] == pytest.approx(r.sum(), abs=1e-15)


def test_model_spectra_and_stabilised_growth():
    torch.manual_seed(0)
    model = build_model("dissipative", CFG).double()
    mix = model.spectral_modules()[0]
    with torch.no_grad():
        mix.rate[:] = torch.linspace(-0.4, 0.2, CFG.n_modes, dtype=torch.float64)
        mix.gain_logit[:] = 0.0                                              # g = 1/2: |a| = e^r / 2
    spec = spectra.layer_spectra(model)
    assert len(spec) == CFG.n_layers
    s0 = spec[0]
    psi = np.diagonal(free_evolution(mix, 40).numpy(), axis1=1, axis2=2)   # (41, N): the recurrence itself
    assert np.abs(psi[1:] / psi[:-1] - s0["multiplier"]).max() < 1e-12
    summary = spectra.summary(spec)
    growth = s0["rate"] > spectra.EPS
    stabilised = growth & (np.abs(s0["multiplier"]) < 1)
    assert summary["stabilised_growth_modes"] == stabilised.sum() > 0
    assert np.all(np.abs(psi[-1, stabilised]) < np.abs(psi[0, stabilised]) * 0.7 ** 40)  # they do contract
    assert np.all(np.abs(psi[-1, growth]) < 1)                           # with g = 1/2, e^{0.2} / 2 < 1
    assert spectra.from_json(spectra.to_json(spec))[0]["multiplier"] == pytest.approx(s0["multiplier"])


def test_hamiltonian_twin_is_all_neutral_on_unit_circle():
    spec = spectra.layer_spectra(build_model("hamiltonian", CFG))
    s = spectra.summary(spec)
    assert s["modes"]["neutral"] == CFG.n_modes * CFG.n_layers and s["energy_budget"]["net"] == 0.0
    assert s["closed_loop"]["unit"] == CFG.n_modes * CFG.n_layers


def test_bad_input():
    with pytest.raises(ValueError, match="no recurrent layers"):
        spectra.layer_spectra(build_model("transformer", CFG))
    with pytest.raises(ValueError, match="1-d"):
        spectra.classify(np.zeros((2, 2)))
