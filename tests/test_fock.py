"""genphys.fock: token Fock space, creation operators, the instrument of a GAI system and its checks.

Every instrument check runs on two models: a second-order table (chapter 1's TableModel)
and a tiny trained transformer (genphys.lm.models.transformer LM wrapped by TorchModel).
"""

import copy
import itertools
import math

import numpy as np
import pytest
import qutip
import torch
from scipy import sparse

from genphys import channels, config, fock, histories, stories
from genphys.lm import stochastic_attention

VOCAB = ("the", "cat", "sat", "<eot>")
EOT = 3


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    return histories.TableModel(VOCAB, EOT, rng.dirichlet(np.full(4, 0.7), size=(4, 4)))


@pytest.fixture(scope="module")
def transformer(table):
    return stochastic_attention.train_tiny_transformer(table, n_texts=300, steps=25, seed=0, max_len=4, d_model=16)


@pytest.fixture(scope="module", params=["table", "transformer"])
def system(request, table, transformer):
    if request.param == "table":
        return table
    return histories.TorchModel(transformer, VOCAB, EOT)


@pytest.fixture(scope="module")
def instr(system):
    return fock.instrument(system, 4)


def random_vector(rng, n):
    return rng.normal(size=n) + 1j * rng.normal(size=n)


# ------------------------------------------------------------------------- the Fock space

def test_dimension_and_index_round_trip():
    space = fock.FockSpace(3, 4)
    assert space.dim == sum(3**n for n in range(5))
    texts = [t for n in range(5) for t in itertools.product(range(3), repeat=n)]
    assert [space.index(t) for t in texts] == list(range(space.dim))
    assert all(space.text(space.index(t)) == t for t in texts)
    assert np.array_equal(space.lengths, [len(t) for t in texts])


def test_large_space_has_about_300000_texts():
    assert fock.FockSpace(8, 6).dim == 299_593


@pytest.mark.parametrize("text, error", [((0, 5), ValueError), ((0, 1, 2, 0, 1), ValueError), ("ab", TypeError)])
def test_bad_texts_are_refused(text, error):
    with pytest.raises(error, match="text"):
        fock.FockSpace(3, 4).index(text)


def test_bad_space_sizes_are_refused():
    with pytest.raises(ValueError, match="V"):
        fock.FockSpace(0, 3)
    with pytest.raises(TypeError, match="N"):
        fock.FockSpace(3, 2.5)


@pytest.mark.parametrize("side", ["right", "left"])
def test_creation_is_the_tensor_product_with_f(side):
    rng = np.random.default_rng(0)
    space = fock.FockSpace(3, 3)
    f, psi = random_vector(rng, 3), random_vector(rng, space.dim)
    out = fock.creation(space, f, side) @ psi
    for n in range(space.N):
        block = psi[space.offsets[n]:space.offsets[n + 1]]
        expected = np.kron(block, f) if side == "right" else np.kron(f, block)
        assert np.allclose(out[space.offsets[n + 1]:space.offsets[n + 2]], expected, atol=1e-12)
    assert abs(out[0]) == 0  # nothing creates the vacuum


@pytest.mark.parametrize("side", ["right", "left"])
def test_cuntz_toeplitz_relations(side):
    rng = np.random.default_rng(1)
    space = fock.FockSpace(3, 3)
    f, g = random_vector(rng, 3), random_vector(rng, 3)
    lhs = fock.annihilation(space, f, side) @ fock.creation(space, g, side)
    assert abs(lhs - np.vdot(f, g) * fock.below_edge(space)).max() < 1e-12
    errors = fock.cuntz_toeplitz_errors(space, side)
    assert errors["orthogonality"] < 1e-14 and errors["completeness"] < 1e-14


def test_left_and_right_creation_commute_and_raise_the_number():
    rng = np.random.default_rng(2)
    space = fock.FockSpace(3, 3)
    left, right = fock.creation(space, random_vector(rng, 3), "left"), fock.creation(space, random_vector(rng, 3))
    assert abs(left @ right - right @ left).max() < 1e-12
    number = fock.number_operator(space)
    assert abs(number @ right - right @ number - right).max() < 1e-12
    assert abs(right @ left - left @ left).max() > 0.1  # different operators, so the check can fail


def test_symmetrizer_is_the_projector_onto_multisets():
    space = fock.FockSpace(3, 3)
    P = fock.symmetrizer(space)
    assert abs(P @ P - P).max() < 1e-12 and abs(P - P.conj().T).max() < 1e-12
    multisets = sum(len(list(itertools.combinations_with_replacement(range(3), n))) for n in range(4))
    assert round(P.diagonal().sum()) == fock.symmetric_dimension(3, 3) == multisets


def test_symmetric_fock_space_forgets_order_unless_positions_are_folded_in():
    space = fock.FockSpace(3, 3)
    P = fock.symmetrizer(space)
    a, b = (0, 1, 2), (2, 1, 0)
    assert np.allclose(P @ space.state(a), P @ space.state(b), atol=1e-14)
    assert fock.occupations(a, 3) == fock.occupations(b, 3)
    positional = fock.FockSpace(9, 3)
    Pp = fock.symmetrizer(positional)
    sa = Pp @ positional.state(fock.positional_text(a, 3, 3))
    sb = Pp @ positional.state(fock.positional_text(b, 3, 3))
    assert abs(np.vdot(sa, sb)) < 1e-14 and np.linalg.norm(sa) > 0.1
    rng = np.random.default_rng(4)
    f, g = fock.creation(space, random_vector(rng, 3)), fock.creation(space, random_vector(rng, 3))
    assert abs(P @ f @ g - P @ g @ f).max() < 1e-12
    assert abs(f @ g - g @ f).max() > 0.1


# ------------------------------------------------------------------------- the instrument

def test_instrument_is_trace_preserving_on_its_domain(instr):
    assert channels.trace_preservation_error(instr.kraus, instr.domain) < 1e-12
    reached = np.concatenate([fock.born_probabilities(instr, n)[1] > 0 for n in range(instr.space.N + 1)])
    assert np.array_equal(instr.domain, reached)  # the domain: texts of positive probability
    assert not instr.domain.all()  # texts that continue after end-of-text are never reached


def test_instrument_is_completely_positive(system):
    small = fock.instrument(system, 1)  # dense Choi matrices: (dim F_1)^2 = 25; N = 2 in the QuTiP test below
    assert fock.choi_min_eigenvalue(small) >= -1e-12


def test_choi_matrix_agrees_with_qutip(table):
    small = fock.instrument(table, 2)
    kraus = [k.toarray() for k in small.kraus]
    with config.one_torch_thread():
        mine = np.linalg.eigvalsh(channels.kraus_to_choi(kraus))
        theirs = np.linalg.eigvalsh(qutip.to_choi(qutip.kraus_to_super([qutip.Qobj(k) for k in kraus])).full())
    assert np.allclose(mine, theirs, atol=1e-10) and mine[0] >= -1e-12


def test_born_probabilities_equal_the_chain_rule(instr, system):
    checks = fock.verify(instr)
    assert checks["born_error"] < 1e-12 and checks["trace_error"] < 1e-12
    compared = fock.compare_with_model(instr, system)
    assert compared["max_error"] < 1e-12
    assert abs(compared["born"].sum() - 1) < 1e-12


def test_born_rule_with_density_matrices_matches_the_state_vectors(instr):
    hist, probs = fock.born_probabilities(instr, 3)
    for row in np.random.default_rng(5).choice(len(hist), 8, replace=False):
        assert abs(fock.born_probability(instr, hist[row]) - probs[row]) < 1e-14


def test_born_rule_with_a_prompt(system):
    prompt = (0, 1)
    inst = fock.instrument(system, 4, prompt=prompt)
    assert inst.domain.sum() == 1 + 4 + 3 * 4  # nothing follows end-of-text
    compared = fock.compare_with_model(inst, system)
    assert compared["max_error"] < 1e-12
    assert abs(math.log(compared["model"][0]) - histories.log_joint(system, compared["histories"][0], prompt)) < 1e-9


def test_story_source_truncated_is_an_exact_instrument():
    source = stories.StorySourceModel()
    inst = fock.instrument(source, 3)
    assert fock.verify(inst)["born_error"] < 1e-12
    compared = fock.compare_with_model(inst, source)
    assert compared["max_error"] < 1e-12 and abs(compared["born"].sum() - 1) < 1e-12
    assert 1 < inst.domain.sum() < inst.space.dim / 100  # the source reaches few of the texts


def test_large_instrument_v8_n6_verifies(table):
    rng = np.random.default_rng(6)
    big = histories.TableModel(tuple(f"t{i}" for i in range(8)), 7, rng.dirichlet(np.ones(8), size=8))
    checks = fock.verify(fock.instrument(big, 6, absorb_eot=False))
    assert checks["histories"] == 299_593
    assert checks["born_error"] < 1e-12 and checks["trace_error"] < 1e-12
    assert all(abs(checks[f"total_{n}"] - 1) < 1e-10 for n in range(7))


def test_decoherence_functional_is_diagonal_with_the_probabilities(instr):
    hist, d = fock.decoherence_functional(instr, 3)
    assert fock.interference(d) < 1e-15
    assert np.allclose(np.diag(d).real, fock.born_probabilities(instr, 3)[1], atol=1e-14)


def test_record_free_model_has_interference():
    U, psi0 = fock.random_unitary(3, 0), np.array([1.0, 0, 0])
    hist, d = fock.record_free_decoherence(U, psi0, 3)
    assert abs(np.trace(d) - 1) < 1e-12 and np.allclose(d, d.conj().T, atol=1e-14)
    assert fock.interference(d) > 0.01
    different_last = hist[:, -1][:, None] != hist[:, -1][None, :]
    assert np.abs(d[different_last]).max() < 1e-15  # the last projectors are orthogonal
    # Interference: leaving the first token unmeasured changes the second token's probability.
    _, d2 = fock.record_free_decoherence(U, psi0, 2)
    unmeasured = np.abs(U @ U @ psi0) ** 2
    measured = np.diag(d2).real.reshape(3, 3).sum(axis=0)
    assert np.abs(unmeasured - measured).max() > 0.01
    assert np.allclose(unmeasured, d2.real.reshape(3, 3, 3, 3).sum(axis=(0, 2)).diagonal(), atol=1e-12)


# ------------------------------------------------------------------------- Stinespring and sampling

def test_stinespring_isometry_and_unitary(table):
    small = fock.instrument(table, 2)
    W = fock.stinespring_isometry(small)
    assert abs(W.conj().T @ W - sparse.diags(small.domain.astype(float))).max() < 1e-12
    U = fock.stinespring_unitary(small)
    assert np.abs(U.conj().T @ U - np.eye(len(U))).max() < 1e-10
    E = len(small.kraus)
    assert 0 < small.domain.sum() < small.space.dim
    for i in np.flatnonzero(small.domain):
        assert np.allclose(U[:, i * E], W[:, [i]].toarray().ravel(), atol=1e-14)


def test_measuring_the_environment_gives_the_born_probabilities(instr):
    W, E = fock.stinespring_isometry(instr), len(instr.kraus)
    psi = instr.space.state((0, 1))
    joint = (W @ psi).reshape(instr.space.dim, E)
    outcome = (np.abs(joint) ** 2).sum(axis=0)
    expected = [np.linalg.norm(k @ psi) ** 2 for k in instr.kraus]
    assert np.allclose(outcome, expected, atol=1e-14) and abs(outcome.sum() - 1) < 1e-12


def test_environment_sampling_matches_the_models_sampler(instr, system):
    n = 1500 if isinstance(system, histories.TableModel) else 400
    by_environment = fock.sample_by_environment(instr, n, seed=11)
    by_model = histories.sample(system, n, seed=12, max_len=4)
    assert fock.chi_square_two_samples(by_environment, by_model)["p_value"] > 1e-3
    exact = histories.enumerate_histories(system, 4)
    assert set(by_environment) <= set(exact)


def test_chi_square_two_samples_rejects_different_distributions():
    rng = np.random.default_rng(7)
    a = [(int(x),) for x in rng.choice(3, 2000, p=[0.5, 0.3, 0.2])]
    b = [(int(x),) for x in rng.choice(3, 2000, p=[0.3, 0.3, 0.4])]
    assert fock.chi_square_two_samples(a, b)["p_value"] < 1e-6


# ------------------------------------------------------------------------- bad input

def test_kraus_sets_that_are_not_trace_preserving_are_refused(table):
    good = fock.instrument(table, 2)
    with pytest.raises(ValueError, match="trace preserving"):
        fock.Instrument(good.space, tuple(0.9 * k for k in good.kraus), good.domain)
    with pytest.raises(ValueError, match="kraus"):
        fock.Instrument(good.space, good.kraus[:-1], good.domain)


def test_histories_longer_than_the_truncation_are_refused(instr):
    with pytest.raises(ValueError, match="truncation"):
        fock.born_probability(instr, (0, 1, 2, 0, 1))
    with pytest.raises(ValueError, match="truncation"):
        fock.born_probabilities(instr, 5)
    with pytest.raises(ValueError, match="prompt"):
        fock.instrument(histories.TableModel(VOCAB, EOT, np.full((4, 4), 0.25)), 2, prompt=(0, 1))


def test_vocabularies_that_do_not_match_are_refused(instr):
    other = histories.TableModel(("a", "b", "c", "<eot>"), 3, np.full((4, 4), 0.25))
    with pytest.raises(ValueError, match="vocab"):
        fock.compare_with_model(instr, other)
    with pytest.raises(TypeError, match="GAISystem"):
        fock.instrument(object(), 3)


# ----------------------------------------------------------------------------- token ids, functionals and sizes

@pytest.mark.parametrize("text, error, match", [
    ([0.7], TypeError, r"text\[0\] must be an int"),                  # was silently token 0
    ([1, 2.0], TypeError, r"text\[1\] must be an int"),
    ([True], TypeError, r"text\[0\] must be an int"),
    ([float("nan")], TypeError, r"text\[0\]"),
    ([2], ValueError, "outside the vocabulary"),
])
def test_fock_space_index_refuses_what_is_not_a_token_id(text, error, match):
    with pytest.raises(error, match=match):
        fock.FockSpace(2, 2).index(text)
    assert fock.FockSpace(2, 2).index(np.array([1, 0])) == 1 + 2 + 2            # NumPy integer ids are ids


@pytest.mark.parametrize("d", [np.array([0.2, 0.5, 0.3]), np.ones((2, 3)), np.full((2, 2), np.nan), "d"])
def test_interference_refuses_what_is_not_a_square_decoherence_functional(d):
    with pytest.raises((ValueError, TypeError), match="d "):
        fock.interference(d)


def test_interference_is_the_largest_off_diagonal_entry():
    d = np.array([[0.5, 0.1 - 0.2j], [0.1 + 0.2j, 0.5]])
    assert fock.interference(d) == abs(0.1 + 0.2j) and fock.interference(np.diag([0.3, 0.7])) == 0.0


def test_symmetric_dimension_in_closed_form_and_refused_beyond_max_dim():
    for V in range(1, 6):
        for N in range(0, 7):
            assert fock.symmetric_dimension(V, N) == sum(math.comb(V + n - 1, n) for n in range(N + 1))
    for V, N in ((2, 10**15), (10**15, 3), (10**6, 10**6)):
        with pytest.raises(ValueError, match="MAX_DIM"):
            fock.symmetric_dimension(V, N)


def test_operators_refuse_spaces_too_large_to_hold():
    big = fock.FockSpace(3, 20)                                      # 5e9 texts: indexable, not storable
    assert big.index([2] * 20) == big.dim - 1
    for call in (lambda: fock.number_operator(big), lambda: fock.creation(big, 0), lambda: big.state([0])):
        with pytest.raises(ValueError, match="MAX_OPERATOR_DIM"):
            call()
    with pytest.raises(ValueError, match="N: the Fock space"):
        fock.instrument(histories.TableModel(("a", "b", "<eot>"), 2, np.full((3, 3), 1 / 3)), 20)
