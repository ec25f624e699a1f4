"""genphys.lm.models: parallel mixing = sequential loop, recurrence = teacher forcing, parameter matching."""

import pytest
import torch

from genphys.lm import models
from genphys.lm.models import ModelConfig, build_model, matched_configs, scan_chunked, scan_sequential

torch.set_num_threads(1)   # the suite runs under pytest -n 2: one thread per worker

CFG = ModelConfig(vocab_size=37, d_model=16, n_layers=2, n_modes=8, n_heads=2, d_feature=4, chunk=4)


def _model(kind, seed=0):
    torch.manual_seed(seed)
    model = build_model(kind, matched_configs(CFG)[kind]).double()
    with torch.no_grad():   # rates of both signs, so growth modes are exercised too
        for mix in model.spectral_modules():
            if hasattr(mix, "rate"):
                mix.rate.uniform_(-0.6, 0.3)
    return model


def test_scan_chunked_equals_loop_with_growth_modes():
    gen = torch.Generator().manual_seed(1)
    log_a = torch.complex(torch.empty(6, dtype=torch.float64).uniform_(-0.5, 0.05, generator=gen),
                          torch.empty(6, dtype=torch.float64).uniform_(-3, 3, generator=gen))
    b = torch.randn(2, 23, 6, dtype=torch.complex128, generator=gen)
    for chunk in (1, 4, 7, 64):
        assert torch.allclose(scan_chunked(log_a, b, chunk), scan_sequential(log_a, b), rtol=0, atol=1e-10)


def test_linear_attention_chunked_equals_explicit_sums():
    gen = torch.Generator().manual_seed(2)
    q, k = (models.elu_feature(torch.randn(2, 3, 13, 4, dtype=torch.float64, generator=gen)) for _ in range(2))
    v = torch.randn(2, 3, 13, 5, dtype=torch.float64, generator=gen)
    w = (q @ k.transpose(-1, -2)).tril()
    expected = (w @ v) / (w.sum(-1, keepdim=True) + 1e-6)
    assert torch.allclose(models.linear_attention(q, k, v, chunk=4), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_parallel_mixing_equals_sequential_loop(kind):
    model = _model(kind)
    idx = torch.randint(0, CFG.vocab_size, (3, 19), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        diff = (model(idx) - model(idx, sequential=True)).abs().max().item()
    assert diff < 1e-10


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


def test_recurrent_state_does_not_grow():
    model = _model("dissipative")
    state = model.init_state(1)
    sizes = []
    for t in range(5):
        _, state = model.step(torch.tensor([t]), state)
        sizes.append(sum(x.numel() for s in state for x in s.values()))
    assert len(set(sizes)) == 1


def free_evolution(mix, steps: int) -> torch.Tensor:
    """psi_t of a recurrent mixer left alone: started in each mode's unit vector, fed zero input.

    Returns (steps + 1, N, N): row k of ``[t]`` is the state at token t that started as e_k.
    With zero input the drive and the context target vanish, so what remains is the free
    closed loop the model actually runs (its O(1) recurrence ``step``).
    """
    n = mix.cfg.n_modes
    state = mix.init_state(n, dtype=torch.float64)
    state["psi"] = torch.eye(n, dtype=torch.complex128)
    out = [state["psi"].clone()]
    with torch.no_grad():
        for _ in range(steps):
            _, state = mix.step(torch.zeros(n, mix.cfg.d_model, dtype=torch.float64), state)
            out.append(state["psi"].clone())
    return torch.stack(out)


@pytest.mark.parametrize("kind", models.RECURRENT)
def test_reported_multipliers_are_what_the_recurrence_does(kind):
    mix = _model(kind).spectral_modules()[0]
    psi = free_evolution(mix, 12)
    diagonal = torch.diagonal(psi, dim1=1, dim2=2)                          # (T + 1, N)
    assert (psi - torch.diag_embed(diagonal)).abs().max().item() == 0.0     # the modes do not mix
    ratios = diagonal[1:] / diagonal[:-1]                                   # a_k, measured token by token
    assert (ratios - mix.multipliers()).abs().max().item() < 1e-12
    if kind == "hamiltonian":
        assert (diagonal[-1].abs() - 1).abs().max().item() < 1e-12          # |a| = 1: nothing is forgotten


def test_parameter_counts_matched_within_two_percent():
    for cfg in (CFG, ModelConfig(vocab_size=512, d_model=64, n_layers=3, n_modes=32)):
        counts = {k: models.count_params(k, c) for k, c in matched_configs(cfg).items()}
        ref = counts["dissipative"]
        print(counts)
        assert all(abs(n - ref) <= 0.02 * ref for n in counts.values())
        assert counts == {k: build_model(k, c).num_params() for k, c in matched_configs(cfg).items()}


def test_transformer_attention_probabilities():
    model = _model("transformer")
    idx = torch.randint(0, CFG.vocab_size, (2, 9), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        logits, att = model(idx, return_attention=True)
        fast = model(idx)
    assert torch.allclose(logits, fast, atol=1e-10)
    assert len(att) == CFG.n_layers and att[0].shape == (2, CFG.n_heads, 9, 9)
    assert torch.allclose(att[0].sum(-1), torch.ones(2, CFG.n_heads, 9, dtype=torch.float64), atol=1e-12)
    assert att[0].triu(1).abs().max().item() == 0.0


def test_causality():
    for kind in models.KINDS:
        model = _model(kind)
        idx = torch.randint(0, CFG.vocab_size, (1, 12), generator=torch.Generator().manual_seed(6))
        other = idx.clone()
        other[0, 8:] = (other[0, 8:] + 1) % CFG.vocab_size
        with torch.no_grad():
            assert torch.allclose(model(idx)[:, :8], model(other)[:, :8], atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        build_model("rnn", CFG)
    with pytest.raises(ValueError, match="n_modes"):
        ModelConfig(n_modes=0)
    with pytest.raises(TypeError, match="idx"):
        _model("dissipative")(torch.zeros(3, dtype=torch.long))
