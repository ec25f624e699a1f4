"""genphys.lm.spectra: the closed loop's counts, budget and memory times against the model's own recurrence."""

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
    assert b["net"] == b["total_decay"] + b["total_growth"]
    assert b["neutral"] == pytest.approx(1e-4, abs=1e-15)
    assert b["net"] + b["neutral"] == pytest.approx(r.sum(), abs=1e-15)


def test_closed_loop_is_read_from_the_recurrence_not_the_generator():
    torch.manual_seed(0)
    model = build_model("dissipative", CFG).double()
    mix = model.spectral_modules()[0]
    with torch.no_grad():
        mix.rate[:] = torch.linspace(-0.4, 0.2, CFG.n_modes, dtype=torch.float64)
        mix.gain_logit[:] = 0.0                                              # g = 1/2: |a| = e^r / 2
    spec = spectra.layer_spectra(model)
    assert len(spec) == CFG.n_layers
    psi = np.diagonal(free_evolution(mix, torch.zeros(40, CFG.d_model, dtype=torch.float64)).numpy(), axis1=1, axis2=2)
    a = psi[1:] / psi[:-1]                                                   # (40, N): the recurrence itself
    assert np.abs(a - spec[0]["multiplier"]).max() < 1e-12
    s = spectra.summary(spec)
    assert s["generator"]["modes"]["growth"] > 0                             # r > 0 in the generator view ...
    assert s["per_layer"][0]["modes"]["growth"] == 0                         # ... but every closed-loop mode decays
    rho = np.log(np.abs(a[0]))
    assert s["per_layer"][0]["energy_budget"]["total_decay"] == pytest.approx(rho.sum(), abs=1e-12)
    tau = -1 / rho
    assert s["per_layer"][0]["memory_time_max"] == pytest.approx(tau.max(), rel=1e-12)
    assert np.abs(psi[-1]).max() < np.exp(-40 / tau.max()) * 1.0000001      # tau is the e-folding time
    back = spectra.from_json(spectra.to_json(spec))
    assert np.abs(back[0]["multiplier"] - spec[0]["multiplier"]).max() == 0


def test_hamiltonian_twin_is_all_neutral_on_unit_circle():
    s = spectra.summary(spectra.layer_spectra(build_model("hamiltonian", CFG)))
    n = CFG.n_modes * CFG.n_layers
    assert s["closed_loop"]["modes"]["neutral"] == n and s["closed_loop"]["energy_budget"]["net"] == 0.0
    assert abs(s["closed_loop"]["max_abs"] - 1) < 1e-6 and s["closed_loop"]["memory_time_median"] == np.inf


def test_selective_multipliers_along_text():
    torch.manual_seed(1)
    model = build_model("selective", CFG).double()
    with torch.no_grad():
        for mix in model.spectral_modules():
            mix.measure.weight.normal_(0.0, 1.0)
    idx = torch.randint(0, CFG.vocab_size, (3, 30), generator=torch.Generator().manual_seed(2))
    spec = spectra.layer_spectra(model, idx)
    with torch.no_grad():
        x = model.mixer_inputs(idx)[1]
        a = model.spectral_modules()[1].multipliers(x).reshape(-1, CFG.n_modes).numpy()
    s1 = spec[1]
    assert np.allclose(np.abs(s1["multiplier"]), np.exp(np.log(np.abs(a)).mean(0)), rtol=1e-12)
    assert np.allclose(s1["abs_quantiles"][1], np.median(np.abs(a), axis=0), rtol=1e-12)
    assert s1["log_abs_hist"].sum() == a.size
    assert (s1["abs_quantiles"][2] - s1["abs_quantiles"][0]).min() > 0.01       # they do vary with the token
    back = spectra.from_json(spectra.to_json(spec))[1]
    assert np.array_equal(back["log_abs_hist"], s1["log_abs_hist"])


def test_layers_without_fixed_modes_are_not_read_as_modes():
    """The measured memory's loop turns with the key: spectra refuses it; it reads text only where a layer says so."""
    with pytest.raises(ValueError, match="measured_memory model has no recurrent layers with fixed modes"):
        spectra.layer_spectra(build_model("measured_memory", CFG))
    model = build_model("dissipative", CFG)
    for mix in model.spectral_modules():
        mix.varies_with_token = True                                          # the capability, not the name, decides
    with pytest.raises(ValueError, match="idx"):
        spectra.layer_spectra(model)


def test_bad_input():
    with pytest.raises(ValueError, match="no recurrent layers"):
        spectra.layer_spectra(build_model("transformer", CFG))
    with pytest.raises(ValueError, match="idx"):
        spectra.layer_spectra(build_model("selective", CFG))
    with pytest.raises(ValueError, match="1-d"):
        spectra.classify(np.zeros((2, 2)))
