"""genphys.lm.models: parallel = loop = recurrence for every family, identifiability, parameter matching."""

import math

import numpy as np
import pytest
import torch

from genphys.lm import models
from genphys.lm.models import ModelConfig, build_model, matched_configs, scan, scan_demodulated, scan_loop

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

CFG = ModelConfig(vocab_size=37, d_model=16, n_layers=2, n_modes=8, n_heads=2, d_feature=4, chunk=4)


FIXED_MODES = tuple(k for k in models.RECURRENT if issubclass(models.MIXERS[k], models.Mixer))


def _model(kind, seed=0, gain_spread=2.0):
    """A float64 model whose rates have both signs and whose selective gains vary strongly with the token.

    The measured memory's dissipation a_t and gain beta_t are spread over most of (0, 1) by the token.
    """
    torch.manual_seed(seed)
    model = build_model(kind, matched_configs(CFG)[kind]).double()
    with torch.no_grad():
        for mix in model.recurrent_modules():
            if hasattr(mix, "rate"):
                mix.rate.uniform_(-0.6, 0.3)
            if kind == "selective":
                mix.measure.weight.normal_(0.0, gain_spread)
            if hasattr(mix, "decay"):
                mix.decay.weight.normal_(0.0, 1.0)
                mix.measure.weight.normal_(0.0, 1.0)
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


@pytest.mark.parametrize("length", [1, 15, 16, 17, 4096])
def test_the_demodulated_scan_equals_the_loop_in_values_and_gradients(length):
    """A fixed phase omega and a varying modulus (strong measurement to growth): eq. ch7-demodulate to 1e-10."""
    gen = torch.Generator().manual_seed(length)
    batch, modes = 2, 5
    omega = torch.empty(modes, dtype=torch.float64).uniform_(-3.0, 3.0, generator=gen).requires_grad_()
    log_abs = torch.empty(batch, length, modes, dtype=torch.float64).uniform_(-3.0, 0.02, generator=gen)
    log_abs = log_abs.requires_grad_()
    b = torch.randn(batch, length, modes, dtype=torch.complex128, generator=gen).requires_grad_()
    weight = torch.randn(batch, length, modes, dtype=torch.complex128, generator=gen)
    results = []
    for f in (lambda: scan_demodulated(log_abs, omega, b, 16),
              lambda: scan_loop(torch.complex(log_abs, omega.expand_as(log_abs)), b)):
        out = f()
        (out * weight).real.sum().backward()
        results.append([out.detach()] + [p.grad.clone() for p in (log_abs, omega, b)])
        for p in (log_abs, omega, b):
            p.grad = None
    scale = max(1.0, results[1][0].abs().max().item())
    for ours, loop in zip(*results):
        assert (ours - loop).abs().max().item() < 1e-10 * scale * max(1.0, loop.abs().max().item() / scale)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: torch.compile's GPU path (Inductor/Triton)")
def test_the_compiled_demodulated_scan_equals_the_reference_on_the_gpu():
    """The real form is what Inductor fuses (it generates no code for complex operators): compiled, on the GPU, it
    equals the loop in outputs and gradients (float32 there, so to float32's rounding on states of size ~10)."""
    gen = torch.Generator(device="cuda").manual_seed(0)
    log_abs = (-0.3 * torch.rand(4, 1024, 64, device="cuda", generator=gen)).requires_grad_()
    omega = (3 * torch.rand(64, device="cuda", generator=gen)).requires_grad_()
    b = torch.randn(4, 1024, 64, dtype=torch.complex64, device="cuda", generator=gen).requires_grad_()
    compiled = torch.compile(scan_demodulated)
    results = []
    for f in (lambda: compiled(log_abs, omega, b, 32),
              lambda: scan_loop(torch.complex(log_abs, omega.expand_as(log_abs)), b)):
        out = f()
        out.abs().square().sum().backward()
        results.append([out.detach()] + [p.grad.clone() for p in (log_abs, omega, b)])
        for p in (log_abs, omega, b):
            p.grad = None
    for ours, loop in zip(*results):
        assert (ours - loop).abs().max().item() < 1e-4 * max(1.0, loop.abs().max().item())


def test_every_mixer_multiplier_has_the_phase_of_its_frequency():
    """The demodulated scan's premise: Im ln a_t = omega_k for every family of modes, at every token."""
    torch.manual_seed(0)
    x = torch.randn(2, 7, 32)
    for kind in models.KINDS:
        layer = build_model(kind, ModelConfig(d_model=32, n_modes=8, n_heads=2, d_feature=4, chunk=4)).blocks[0].mix
        if isinstance(layer, models.Mixer):
            log_a = torch.log(layer.multipliers(x))
            assert torch.allclose(torch.remainder(log_a.imag - layer.freq + math.pi, 2 * math.pi) - math.pi,
                                  torch.zeros(()), atol=1e-5), kind


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


@pytest.mark.parametrize("kind", FIXED_MODES)
def test_reported_multipliers_are_what_the_recurrence_does(kind):
    mix = _model(kind).spectral_modules()[0]
    inputs = torch.randn(12, CFG.d_model, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    psi = free_evolution(mix, inputs)
    diagonal = torch.diagonal(psi, dim1=1, dim2=2)                          # (T + 1, N)
    assert (psi - torch.diag_embed(diagonal)).abs().max().item() == 0.0     # the modes do not mix
    measured = diagonal[1:] / diagonal[:-1]                                 # a_{t,k}, token by token
    with torch.no_grad():
        reported = mix.multipliers(inputs[None])[0] if mix.varies_with_token else mix.multipliers().expand(12, -1)
        assert (mix.multiplier_bound() - reported.abs().amax(0) >= -1e-15).all()
    assert (measured - reported).abs().max().item() < 1e-12
    if isinstance(mix, models.Hamiltonian):
        assert (diagonal[-1].abs() - 1).abs().max().item() < 1e-12          # |a| = 1: nothing is forgotten
    if mix.varies_with_token:
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
    with pytest.raises(ValueError, match="kind"):
        models.initial_multipliers("transformer", CFG)
    with pytest.raises(TypeError, match="cfg"):
        models.initial_multipliers("dissipative", CFG.to_dict())
    q, k, v, log_a, beta = _memory_inputs(torch.Generator().manual_seed(0), length=5)
    with pytest.raises(ValueError, match="chunk"):
        models.delta_rule_chunked(q, k, v, log_a, beta, chunk=0)
    with pytest.raises(ValueError, match="n_modes"):
        ModelConfig(n_modes=0)
    with pytest.raises(TypeError, match="idx"):
        _model("dissipative")(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="no softmax attention"):
        _model("dissipative").attention_maps(torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="depend on the token"):
        _model("selective").spectral_modules()[0].multipliers()


# ---------------------------------------------------------------- the measured memory (gated delta rule)

def _memory_inputs(gen, batch=2, heads=3, length=29, d_k=5, d_v=4):
    """Unit queries and keys, values, ln a_t from strong dissipation (-20) to none (0), beta_t over (0, 1)."""
    unit = lambda: torch.nn.functional.normalize(                                           # noqa: E731
        torch.randn(batch, heads, length, d_k, dtype=torch.float64, generator=gen), dim=-1)
    q, k = unit(), unit()
    v = torch.randn(batch, heads, length, d_v, dtype=torch.float64, generator=gen)
    log_a = -20.0 * torch.rand(batch, heads, length, dtype=torch.float64, generator=gen) ** 3
    beta = torch.rand(batch, heads, length, dtype=torch.float64, generator=gen)
    return q, k, v, log_a, beta


def _closed_loop_form(q, k, v, log_a, beta, m):
    """M_t = a_t M_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T, o_t = M_t q_t: the update as its closed loop."""
    eye = torch.eye(k.shape[-1], dtype=k.dtype)
    out = []
    for t in range(k.shape[2]):
        kt, a, b = k[:, :, t], torch.exp(log_a[:, :, t])[..., None, None], beta[:, :, t][..., None, None]
        m = a * m @ (eye - b * kt[..., :, None] * kt[..., None, :]) + b * v[:, :, t][..., :, None] * kt[..., None, :]
        out.append((m @ q[:, :, t][..., None])[..., 0])
    return torch.stack(out, dim=2), m


def test_delta_rule_chunked_equals_loop_and_closed_loop_form():
    gen = torch.Generator().manual_seed(11)
    q, k, v, log_a, beta = _memory_inputs(gen)
    m0 = torch.randn(2, 3, 4, 5, dtype=torch.float64, generator=gen)
    ref, m_ref = _closed_loop_form(q, k, v, log_a, beta, m0)
    assert torch.exp(log_a).min() < 1e-6 and ref.abs().max() > 1.0              # strong dissipation, a live state
    loop, m_loop = models.delta_rule_loop(q, k, v, log_a, beta, m0)
    assert (loop - ref).abs().max().item() < 1e-10 and (m_loop - m_ref).abs().max().item() < 1e-10
    for chunk in (1, 3, 4, 8, 64):                                               # 29 is no multiple of any but 1
        out, m = models.delta_rule_chunked(q, k, v, log_a, beta, chunk, m0)
        assert (out - ref).abs().max().item() < 1e-10 and (m - m_ref).abs().max().item() < 1e-10


def test_delta_rule_gradients_are_finite_and_match_the_loop():
    gen = torch.Generator().manual_seed(12)
    inputs = [x.requires_grad_() for x in _memory_inputs(gen, length=23)]
    grads = []
    for f in (lambda: models.delta_rule_chunked(*inputs, chunk=8), lambda: models.delta_rule_loop(*inputs)):
        out, m = f()
        (out.sin().sum() + m.cos().sum()).backward()
        grads.append([x.grad.clone() for x in inputs])
        for x in inputs:
            x.grad = None
    assert all(torch.isfinite(g).all() for g in grads[0])
    assert max((a - b).abs().max().item() for a, b in zip(*grads)) < 1e-9


def _orthonormal_keys(n, d_k, gen):
    return torch.linalg.qr(torch.randn(d_k, d_k, dtype=torch.float64, generator=gen))[0][:, :n].T   # (n, d_k)


@pytest.mark.parametrize("chunk", [None, 3])
def test_delta_rule_stores_and_overwrites_like_a_memory(chunk):
    """a_t = 1, beta_t = 1, orthonormal keys: M_T k_s returns the last value written under k_s, exactly."""
    gen = torch.Generator().manual_seed(13)
    d_k, d_v = 6, 4
    keys = _orthonormal_keys(d_k, d_k, gen)
    order = [0, 1, 2, 3, 4, 5, 1, 4]                                              # keys 1 and 4 written twice
    k = keys[order][None, None]                                                   # (1, 1, 8, d_k)
    v = torch.randn(1, 1, len(order), d_v, dtype=torch.float64, generator=gen)
    q, ones = k.clone(), torch.ones(1, 1, len(order), dtype=torch.float64)
    def run(*a):
        return models.delta_rule_loop(*a) if chunk is None else models.delta_rule_chunked(*a, chunk)

    out, m = run(q, k, v, 0 * ones, ones)
    last = {s: t for t, s in enumerate(order)}                                    # key -> token of its last write
    for s, t in last.items():
        assert (m[0, 0] @ keys[s] - v[0, 0, t]).abs().max().item() < 1e-10
    assert (out - v).abs().max().item() < 1e-10                                   # reading k_t just after writing it
    assert (m[0, 0] @ keys[1] - v[0, 0, 1]).abs().max().item() > 0.1             # the first value under k_1 is gone
    # with dissipation, a value written s tokens ago is returned times the product of the later a_t
    log_a = -0.1 * torch.rand(1, 1, d_k, dtype=torch.float64, generator=gen)
    _, m = run(k[:, :, :d_k], k[:, :, :d_k], v[:, :, :d_k], log_a, ones[:, :, :d_k])
    for s in range(d_k):
        faded = torch.exp(log_a[0, 0, s + 1:].sum()) * v[0, 0, s]
        assert (m[0, 0] @ keys[s] - faded).abs().max().item() < 1e-10


def test_measured_memory_closed_loop_is_what_the_recurrence_does():
    """Values off, M evolves by M_{t-1} -> M_{t-1} T_t with T_t = a_t (I - beta_t k k^T) of norm a_t."""
    mix = _model("measured_memory").recurrent_modules()[0]
    inputs = torch.randn(1, 12, CFG.d_model, dtype=torch.float64, generator=torch.Generator().manual_seed(14))
    with torch.no_grad():
        mix.value.weight.zero_()
        state = mix.init_state(1, dtype=torch.float64)
        state["M"] = torch.randn(state["M"].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(15))
        trans, a, beta = mix.transitions(inputs)[0], mix.multipliers(inputs)[0], mix.gain(inputs)[0]  # (T, H, ..)
        assert (mix.abs_multipliers(inputs) - a).abs().max().item() == 0.0
        for t in range(inputs.shape[1]):
            before = state["M"].clone()
            _, state = mix.step(inputs[:, t], state)
            assert (state["M"][0] - before[0] @ trans[t]).abs().max().item() < 1e-12
    assert a.min() > 0 and a.max() < 1 and beta.min() > 0 and beta.max() < 1
    assert a.std(0).min() > 1e-3 and beta.std(0).min() > 1e-3                    # they vary with the token
    eig = torch.linalg.eigvalsh(trans)                                            # symmetric: (T, H, d_k), ascending
    assert (eig[..., -1] - a).abs().max().item() < 1e-12                          # its largest multiplier is a_t ...
    assert (eig[..., 0] - a * (1 - beta)).abs().max().item() < 1e-12              # ... a_t (1 - beta_t) along the key
    assert (eig[..., 1:] - a[..., None]).abs().max().item() < 1e-12


def test_measured_memory_gradients_are_finite_and_the_same_in_both_forms():
    model = _model("measured_memory")
    idx = torch.randint(0, CFG.vocab_size, (2, 19), generator=torch.Generator().manual_seed(16))
    grads = []
    for sequential in (False, True):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(idx, sequential)[:, :-1].flatten(0, 1), idx[:, 1:].flatten()).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert all(torch.isfinite(g).all() for g in grads[0].values())
    assert all(grads[0][n].abs().max() > 0 for n in grads[0] if n.endswith(("decay.weight", "measure.weight")))
    assert max((grads[0][n] - grads[1][n]).abs().max().item() for n in grads[0]) < 1e-10


def test_measured_memory_has_no_spectrum_of_fixed_modes():
    model = _model("measured_memory")
    assert model.spectral_modules() == [] and len(model.recurrent_modules()) == CFG.n_layers
    assert _model("transformer").recurrent_modules() == []


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_initial_multipliers_are_the_fresh_models_own(kind):
    cfg = matched_configs(CFG)[kind]
    before = torch.get_rng_state()
    a = models.initial_multipliers(kind, cfg, seed=3, batch=2, length=7)
    assert torch.equal(torch.get_rng_state(), before)                             # the global generator is untouched
    assert torch.equal(a, models.initial_multipliers(kind, cfg, seed=3, batch=2, length=7))
    torch.manual_seed(3)
    model = build_model(kind, cfg)
    mods = model.recurrent_modules()
    per_token = CFG.n_modes if mods[0] in model.spectral_modules() else CFG.n_heads
    assert a.dtype == torch.float64 and a.shape == (CFG.n_layers * 2 * 7 * per_token,)
    assert a.min() > 0 and a.max() <= 1 + 1e-6                                    # no fresh model starts growing
    if mods[0] in model.spectral_modules() and not mods[0].varies_with_token:
        with torch.no_grad():
            own = torch.cat([m.multipliers().abs().double().expand(2 * 7, -1).flatten() for m in mods])
        assert torch.equal(a.sort().values, own.sort().values)


#: the families whose closed-loop modulus is free to learn: they start from one memory (models.initial_memory)
FREE_MODULUS = ("dissipative", "selective", "no_context", "decay_only", "hamiltonian_measured", "measured_memory")


def test_initial_memory_is_the_constant_gain_filters_start():
    """(1 - g_0) e^{-1/tau} with g_0 = sigmoid(-2) and tau log-uniform over [1, 100] tokens (eq. ch7-filter at r = -1/tau)."""
    tau = torch.exp(torch.linspace(0.0, math.log(100.0), 16, dtype=torch.float64))
    expected = (1 - 1 / (1 + math.exp(2.0))) * torch.exp(-1 / tau)
    assert (models.initial_memory(16).double() - expected).abs().max() < 1e-7
    with pytest.raises(ValueError, match="n"):
        models.initial_memory(0)


@pytest.mark.parametrize("kind", FREE_MODULUS)
def test_every_family_with_a_free_modulus_starts_from_the_same_memory(kind):
    cfg = matched_configs(CFG)[kind]
    model = build_model(kind, cfg)
    per_layer = CFG.n_modes if model.spectral_modules() else CFG.n_heads
    start = models.initial_memory(per_layer).double()
    a = models.initial_multipliers(kind, cfg, seed=1, batch=2, length=5).view(CFG.n_layers, -1, per_layer)
    # every layer, every token: the same sorted moduli (the token-dependent families start token-independent)
    assert (a.sort(dim=-1).values - start).abs().max() < 1e-6


def test_the_bare_hamiltonian_twins_start_on_the_unit_circle():
    for kind in ("hamiltonian", "hamiltonian_norm"):
        a = models.initial_multipliers(kind, matched_configs(CFG)[kind])
        assert (a - 1).abs().max() < 1e-6


def test_every_family_has_its_own_colour():
    from genphys import plotting

    colours = [plotting.color(k) for k in models.KINDS]
    assert len(set(colours)) == len(colours)


def test_the_constant_gain_layer_is_the_steady_state_kalman_filter_of_its_action():
    """Chapter 7's layer (eq. ch7-filter) with gain g_k and rate r_k is, mode by mode, the causal stationary point of
    chapter 6's action (eq. ch6-action) with q_k / sigma^2 = measurement.noise_ratio(r_k, g_k) and the prior variance
    of psi_0 at its stationary value: the Kalman filter at its steady state from the first token."""
    from genphys import measurement, path_integral

    torch.manual_seed(5)
    mix = build_model("dissipative", CFG).double().spectral_modules()[0]
    with torch.no_grad():
        mix.rate.uniform_(-1.5, 0.1)                              # growth modes included
        mix.gain_logit.uniform_(-2.5, 1.0)
        r, g = mix.rate.numpy(), torch.sigmoid(mix.gain_logit).numpy()
        keep = (1 - g) * np.exp(2 * r) < 1                        # the modes some noise model explains
        x = torch.randn(1, 23, CFG.d_model, dtype=torch.float64)
        u, c = mix.drive_of(x)[0].numpy(), mix.context_target(x)[0].numpy()
        state, psi = mix.init_state(1, dtype=torch.float64), []
        for t in range(x.shape[1]):
            _, state = mix.step(x[:, t], state)
            psi.append(state["psi"][0].numpy())
    psi = np.array(psi)
    assert keep.sum() >= CFG.n_modes // 2
    for k in np.flatnonzero(keep):
        q = measurement.noise_ratio(r[k], g[k])                   # sigma^2 = 1; the filtered variance is then g_k
        action = path_integral.ModeAction(c[:, k], complex(r[k], mix.freq[k].item()), q, 1.0, u[:, k], 0.0, g[k])
        assert np.abs(path_integral.filter_from_action(action) - psi[:, k]).max() < 1e-10


def test_zeroing_the_context_target_equals_zero_values_and_is_undone_on_exit():
    """The ablation c_t = 0: the same as a value projection of zeros (then every c_t is 0), in training form and
    in generation; a model without context targets is untouched; the layers are restored afterwards."""
    torch.manual_seed(3)
    model = build_model("dissipative", CFG).double()
    idx = torch.randint(0, CFG.vocab_size, (2, 13))
    with torch.no_grad():
        before = model(idx)
        with models.without_context_target(model) as zeroed:
            ablated = model(idx)
            state, steps = model.init_state(2), []
            for t in range(idx.shape[1]):
                logits, state = model.step(idx[:, t], state)
                steps.append(logits)
        assert zeroed == CFG.n_layers
        assert torch.allclose(model(idx), before)                          # restored
        for layer in model.spectral_modules():
            layer.value.weight.zero_()
        assert (ablated - model(idx)).abs().max().item() < 1e-12
        assert (torch.stack(steps, 1) - ablated).abs().max().item() < 1e-9
        assert not torch.allclose(ablated, before)
    for kind in ("no_context", "transformer", "measured_memory"):
        with models.without_context_target(build_model(kind, CFG)) as zeroed:
            assert zeroed == 0
    with pytest.raises(TypeError, match="model"):
        with models.without_context_target("dissipative"):
            pass
