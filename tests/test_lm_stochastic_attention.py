"""genphys.lm.stochastic_attention: Chen's reading of attention as an unobserved environment index (chapter 2)."""

import copy

import numpy as np
import pytest
import torch
from test_fock import EOT, VOCAB, table, transformer  # noqa: F401 (fixtures)

from genphys import channels, fock, histories
from genphys.lm import stochastic_attention as sa
from genphys.lm.models import ModelConfig, build_model


def test_bad_arguments_are_refused(transformer):
    with pytest.raises(ValueError, match="vocab"):
        sa.StochasticAttention(transformer, VOCAB[:3], 2)
    with pytest.raises(ValueError, match="reading"):
        sa.StochasticAttention(transformer, VOCAB, EOT, "hard")
    with pytest.raises(TypeError, match="transformer"):
        sa.StochasticAttention(histories.TableModel(VOCAB, EOT, np.full((4, 4), 0.25)), VOCAB, EOT)


def test_soft_reading_is_the_transformer(transformer):
    soft = sa.StochasticAttention(transformer, VOCAB, EOT, "soft")
    idx = torch.tensor([[EOT, 0, 2, 1]])
    with torch.no_grad():
        reference = torch.softmax(copy.deepcopy(transformer).double()(idx)[0, -1], -1).numpy()
    assert np.abs(soft.conditional([0, 2, 1]) - reference).max() < 1e-12


def test_attended_positions_are_a_probability_and_the_readings_differ(transformer):
    for reading in ("all_blocks", "block_per_step"):
        model = sa.StochasticAttention(transformer, VOCAB, EOT, reading)
        w, p = model.branches([0, 1])
        assert abs(w.sum() - 1) < 1e-12 and np.all(w >= 0) and np.allclose(p.sum(axis=1), 1, atol=1e-12)
    gaps = sa.attention_tv_gap(transformer, VOCAB, EOT, 3)
    assert all(0 < g["joint"] <= 1 and 0 < g["worst_step"] <= 1 for g in gaps.values())


def test_one_block_readings_coincide_and_zero_values_make_sampling_exact():
    torch.manual_seed(0)
    one = build_model("transformer", ModelConfig(vocab_size=4, d_model=8, n_layers=1, n_heads=2))
    a = sa.StochasticAttention(one, VOCAB, EOT, "all_blocks").conditional([1, 2])
    b = sa.StochasticAttention(one, VOCAB, EOT, "block_per_step").conditional([1, 2])
    assert np.abs(a - b).max() < 1e-14
    with torch.no_grad():
        one.blocks[0].mix.qkv.weight[16:] = 0  # values v = 0: every key gives the same output
    gaps = sa.attention_tv_gap(one, VOCAB, EOT, 3)
    assert gaps["all_blocks"]["joint"] < 1e-12


def test_stochastic_attention_is_itself_an_exact_instrument(transformer):
    model = sa.StochasticAttention(transformer, VOCAB, EOT, "all_blocks")
    inst = fock.instrument(model, 3)
    assert fock.verify(inst)["born_error"] < 1e-12
    assert fock.compare_with_model(inst, model)["max_error"] < 1e-12


def test_attended_position_is_an_unobserved_environment_index(transformer):
    model = sa.StochasticAttention(transformer, VOCAB, EOT, "all_blocks")
    inst = fock.instrument(model, 3)
    fine = sa.environment_kraus(model, inst)
    assert len({s for _, s in fine}) > 1
    assert channels.trace_preservation_error(list(fine.values()) + [inst.kraus[-1]], inst.domain) < 1e-12
    rho = np.outer(inst.initial_state, inst.initial_state.conj())
    for y in range(4):  # Phi_y = sum_s K_{y,s} . K_{y,s}^dag, probed on the whole reached text |0 1>
        psi = inst.space.state((0, 1))
        coarse = np.linalg.norm(inst.kraus[y] @ psi) ** 2
        summed = sum(np.linalg.norm(k @ psi) ** 2 for (yy, _), k in fine.items() if yy == y)
        assert abs(coarse - summed) < 1e-12
    coarse_map = channels.apply_kraus([inst.kraus[0].toarray()], rho)
    fine_map = channels.apply_kraus([k.toarray() for (y, _), k in fine.items() if y == 0], rho)
    assert np.abs(np.diag(coarse_map) - np.diag(fine_map)).max() < 1e-12  # same record, same probabilities
