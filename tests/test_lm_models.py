"""genphys.lm.models: parallel = loop = recurrence for every family, identifiability, parameter matching."""

import math

import pytest
import torch

from genphys.lm import models
from genphys.lm.models import ModelConfig, build_model, matched_configs, scan, scan_loop

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

CFG = ModelConfig(vocab_size=37, d_model=16, n_layers=2, n_modes=8, n_heads=2, d_feature=4, chunk=4)


def _model(kind, seed=0, gain_spread=2.0):
    """A float64 model whose rates have both signs and whose selective gains vary strongly with the token."""
    torch.manual_seed(seed)
    model = build_model(kind, matched_configs(CFG)[kind]).double()
    with torch.no_grad():
        for mix in model.spectral_modules():
            if hasattr(mix, "rate"):
                mix.rate.uniform_(-0.6, 0.3)
            if kind == "selective":
                mix.measure.weight.normal_(0.0, gain_spread)
    return model


def _log_multipliers(shape, gen):
    """Complex log-multipliers from strong measurement (ln|a| = -20) to growth (+0.3)."""
    return torch.complex(torch.empty(shape, dtype=torch.float64).uniform_(-20.0, 0.3, generator=gen),
                         torch.empty(shape, dtype=torch.float64).uniform_(-3.0, 3.0, generator=gen))


@pytest.mark.parametrize("varying", [False, True])
def test_scan_equals_loop_with_growth_and_strong_measurement(varying):
    gen = torch.Generator().manual_seed(1)
    b = torch.randn(2, 29, 6, dtype=torch.complex128, generator=gen)
    log_a = _log_multipliers((2, 29, 6) if varying else (6,), gen)
    if varying:                                           # mode 0 grows at every token
        log_a.real[..., 0] = 0.3
    else:                                                 # a constant multiplier near 0 would hide the history
        log_a = torch.complex(torch.linspace(0.3, -0.5, 6, dtype=torch.float64), log_a.imag)
    ref = scan_loop(log_a, b)
    assert ref[..., 0].abs().max() > 100                  # the growth mode did grow
    for chunk in (1, 3, 4, 8, 64):
        assert (scan(log_a, b, chunk) - ref).abs().max().item() < 1e-10


def test_scan_gradients_are_finite_and_match_the_loop():
    gen = torch.Generator().manual_seed(7)
    b = torch.randn(1, 40, 3, dtype=torch.complex128, generator=gen)
    log_a = _log_multipliers((1, 40, 3), gen).requires_grad_()
    grads = []
    for f in (lambda: scan(log_a, b, 8), lambda: scan_loop(log_a, b)):
        out = f()
        (out.real.sum() + out.imag.sum()).backward()
        grads.append(log_a.grad.clone())
        log_a.grad = None
    assert torch.isfinite(torch.view_as_real(grads[0])).all()
    assert (grads[0] - grads[1]).abs().max().item() < 1e-9


def test_linear_attention_chunked_equals_loop_and_explicit_sums():
    gen = torch.Generator().manual_seed(2)
    q, k = (models.elu_feature(torch.randn(2, 3, 13, 4, dtype=torch.float64, generator=gen)) for _ in range(2))
    v = torch.randn(2, 3, 13, 5, dtype=torch.float64, generator=gen)
    w = (q @ k.transpose(-1, -2)).tril()
    expected = (w @ v) / (w.sum(-1, keepdim=True) + models.EPS)
    for chunk in (1, 4, 13, 32):
        assert (models.linear_attention(q, k, v, chunk) - expected).abs().max().item() < 1e-12
    assert (models.linear_attention_loop(q, k, v) - expected).abs().max().item() < 1e-12


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_parallel_mixing_equals_sequential_loop(kind):
    model = _model(kind)
    idx = torch.randint(0, CFG.vocab_size, (3, 19), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert (model(idx) - model(idx, sequential=True)).abs().max().item() < 1e-10


@pytest.mark.parametrize("kind", models.KINDS)
def test_generation_by_recurrence_equals_teacher_forcing(kind):
    model = _model(kind)
    idx = torch.randint(0, CFG.vocab_size, (2, 17), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        forced = model(idx)
        state, steps = model.init_state(2), []
        for t in range(idx.shape[1]):
            logits, state = model.step(idx[:, t], state)
            steps.append(logits)
    assert (torch.stack(steps, 1) - forced).abs().max().item() < 1e-10


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_recurrent_state_does_not_grow(kind):
    model = _model(kind)
    state, sizes = model.init_state(1), []
    for t in range(5):
        _, state = model.step(torch.tensor([t]), state)
        sizes.append(sum(x.numel() for s in state for x in s.values()))
    assert len(set(sizes)) == 1


def free_evolution(mix, inputs: torch.Tensor) -> torch.Tensor:
    """psi_t of a mixer whose drive and values are switched off, started in each mode's unit vector.

    ``inputs``: (T, d) layer inputs, one per token (they matter only where the multiplier depends
    on the token).  Returns (T + 1, N, N): row k of ``[t]`` is the state at token t that started
    as e_k.  What remains is the closed loop the model's own O(1) recurrence runs.
    """
    n = mix.cfg.n_modes
    mix = __import__("copy").deepcopy(mix)
    with torch.no_grad():
        mix.drive.weight.zero_()
        if mix.context:
            mix.value.weight.zero_()
        state = mix.init_state(n, dtype=torch.float64)
        state["psi"] = torch.eye(n, dtype=torch.complex128)
        out = [state["psi"].clone()]
        for x in inputs:
            _, state = mix.step(x.expand(n, -1), state)
            out.append(state["psi"].clone())
    return torch.stack(out)


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_reported_multipliers_are_what_the_recurrence_does(kind):
    mix = _model(kind).spectral_modules()[0]
    inputs = torch.randn(12, CFG.d_model, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    psi = free_evolution(mix, inputs)
    diagonal = torch.diagonal(psi, dim1=1, dim2=2)                          # (T + 1, N)
    assert (psi - torch.diag_embed(diagonal)).abs().max().item() == 0.0     # the modes do not mix
    measured = diagonal[1:] / diagonal[:-1]                                 # a_{t,k}, token by token
    with torch.no_grad():
        reported = mix.multipliers(inputs[None])[0] if kind == "selective" else mix.multipliers().expand(12, -1)
        assert (mix.multiplier_bound() - reported.abs().amax(0) >= -1e-15).all()
    assert (measured - reported).abs().max().item() < 1e-12
    if kind.startswith("hamiltonian"):
        assert (diagonal[-1].abs() - 1).abs().max().item() < 1e-12          # |a| = 1: nothing is forgotten
    if kind == "selective":
        assert measured.abs().std(0).min().item() > 1e-3                    # the multipliers vary with the token


def _reparametrise(mix, new_logit):
    """Move a measured layer to gain sigmoid(new_logit), rescaling drive, values and rate so that a and b are kept.

    Exact for a constant gain: (1 - g) u = (1 - g') u' with u' = u (1 - g)/(1 - g'), g c = g' c' with
    c' = c g / g' (c is linear in the values), and (1 - g) e^r = (1 - g') e^{r'}.
    """
    old = mix.measure.bias if hasattr(mix, "measure") else mix.gain_logit
    g, g2 = torch.sigmoid(old), torch.sigmoid(new_logit)
    pair = lambda s: s.repeat_interleave(2)[:, None]                      # noqa: E731  (Re, Im) rows of a mode
    with torch.no_grad():
        mix.drive.weight.mul_(pair((1 - g) / (1 - g2)))
        mix.value.weight.mul_(pair(g / g2))
        mix.rate.add_(torch.log1p(-g) - torch.log1p(-g2))
        old.copy_(new_logit)


def test_constant_gain_is_not_identifiable():
    """Two different (B, g) parametrisations of the dissipative family compute the same function."""
    model = _model("dissipative")
    idx = torch.randint(0, CFG.vocab_size, (2, 21), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = model(idx)
        for mix in model.spectral_modules():
            _reparametrise(mix, torch.linspace(-3.0, 2.0, CFG.n_modes, dtype=torch.float64))
        after = model(idx)
    assert (after - before).abs().max().item() < 1e-12
    assert model.spectral_modules()[0].gain().max().item() > 0.8             # and the gains did move


@pytest.mark.parametrize("spread", [0.0, 2.0])
def test_selective_gain_changes_the_function(spread):
    """The same move changes a selective model's function, unless its gain does not depend on the token."""
    model = _model("selective", gain_spread=spread)
    idx = torch.randint(0, CFG.vocab_size, (2, 21), generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = model(idx)
        for mix in model.spectral_modules():
            _reparametrise(mix, torch.linspace(-3.0, 2.0, CFG.n_modes, dtype=torch.float64))
        diff = (model(idx) - before).abs().max().item()
    if spread == 0.0:
        assert diff < 1e-12                                                  # positive control: a constant gain
    else:
        assert diff > 1e-3


def test_selective_gains_stay_in_the_unit_interval():
    mix = _model("selective", gain_spread=1.0).spectral_modules()[0]
    x = torch.randn(4, 50, CFG.d_model, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
    with torch.no_grad():
        g, a = mix.gain(x), mix.multipliers(x)
        assert g.min() > 0 and g.max() < 1 and (g.max() - g.min()) > 0.9     # strongly varying, never 0 or 1
        assert torch.allclose(a.abs(), (1 - g) * torch.exp(mix.rate), rtol=1e-8, atol=0)   # 1 - g near g = 1 rounds
        u = torch.zeros(4, 50, CFG.n_modes, dtype=torch.complex128)
        log_a, _ = mix.closed_loop(100 * x, u, u)                            # 1 - g rounds to 0; ln(1 - g) does not
    assert torch.isfinite(torch.view_as_real(log_a)).all() and log_a.real.min() < -100


def test_family_constraints():
    ham, norm, decay = (_model(k).spectral_modules()[0] for k in ("hamiltonian", "hamiltonian_norm", "decay_only"))
    assert ham.freq.min().item() == 0.0
    assert norm.freq.min().item() >= math.pi / CFG.n_modes - 1e-12           # away from w = 0
    with torch.no_grad():
        decay.rho.copy_(torch.linspace(-40.0, 40.0, CFG.n_modes, dtype=torch.float64))
    assert (decay.eigenvalues().real < 0).all()                              # decay only, whatever rho is
    assert isinstance(norm.state_norm, models.RMSNorm) and not isinstance(ham.state_norm, models.RMSNorm)


def test_parameter_counts_matched_within_two_percent():
    for cfg in (CFG, ModelConfig(vocab_size=512, d_model=64, n_layers=3, n_modes=32)):
        counts = {k: models.count_params(k, c) for k, c in matched_configs(cfg).items()}
        ref = counts["dissipative"]
        assert set(counts) == set(models.KINDS)
        assert all(abs(n - ref) <= 0.02 * ref for n in counts.values()), counts
        assert counts == {k: build_model(k, c).num_params() for k, c in matched_configs(cfg).items()}


def test_transformer_attention_maps():
    model = _model("transformer")
    idx = torch.randint(0, CFG.vocab_size, (2, 9), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        att = model.attention_maps(idx)
        x = model.mixer_inputs(idx)[0]
        _, _, v = model.blocks[0].mix.queries_keys_values(x)
        by_hand = model.blocks[0].mix.proj((att[0] @ v).transpose(1, 2).reshape(2, 9, -1))
        assert (by_hand - model.blocks[0].mix(x)).abs().max().item() < 1e-12   # the maps are what attention uses
    assert len(att) == CFG.n_layers and att[0].shape == (2, CFG.n_heads, 9, 9)
    assert torch.allclose(att[0].sum(-1), torch.ones(2, CFG.n_heads, 9, dtype=torch.float64), atol=1e-12)
    assert att[0].triu(1).abs().max().item() == 0.0


@pytest.mark.parametrize("kind", models.KINDS)
def test_causality(kind):
    model = _model(kind)
    idx = torch.randint(0, CFG.vocab_size, (1, 12), generator=torch.Generator().manual_seed(6))
    other = idx.clone()
    other[0, 8:] = (other[0, 8:] + 1) % CFG.vocab_size
    with torch.no_grad():
        assert torch.allclose(model(idx)[:, :8], model(other)[:, :8], atol=1e-12)
        assert not torch.allclose(model(idx)[:, 8:], model(other)[:, 8:], atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        build_model("rnn", CFG)
    with pytest.raises(ValueError, match="n_modes"):
        ModelConfig(n_modes=0)
    with pytest.raises(TypeError, match="idx"):
        _model("dissipative")(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="no softmax attention"):
        _model("dissipative").attention_maps(torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="depend on the token"):
        _model("selective").spectral_modules()[0].multipliers()
