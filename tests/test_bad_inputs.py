"""Bad input everywhere: every public function refuses it with an error that names the argument.

Each case spoils one argument of a valid call - NaN, inf, a wrong type (str, None, bool, a list of
strings), a wrong shape, an out-of-range size - and expects ``ValueError`` or ``TypeError`` whose
message names that argument.  A ``LinAlgError``, ``IndexError``, ``KeyError`` or a silently
returned result counts as a failure.  Positive controls check that the same functions accept
NumPy integers and floats where they accept Python ones, so the suite can fail both ways.
(The run files, command lines, data files and artifacts have their own suites:
test_lm_checkpoint, test_lm_train, test_lm_data, test_lm_evaluate, test_lm_sample, test_artifacts,
test_files, test_cli.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genphys import channels, config, fock, histories, lindblad, plotting, spectral, stories, validate
from genphys.lm import models, spectra, tokenizer

NAN, INF = float("nan"), float("inf")
VOCAB = ("a", "b", "<eot>")
TABLE = np.full((3, 3), 1 / 3)
RHO = np.array([[0.5, 0.0], [0.0, 0.5]], dtype=complex)
H = lindblad.SIGMA_Z
C = [lindblad.SIGMA_MINUS]


def table():
    return histories.TableModel(VOCAB, 2, TABLE)


def nan_matrix(d=2):
    m = np.eye(d, dtype=complex)
    m[0, 0] = NAN
    return m


def small_instrument():
    return fock.instrument(table(), 2)


#: (id, call, expected error, the argument the message must name)
CASES = [
    # ---------------------------------------------------------------- validate itself
    ("validate.integer bool", lambda: validate.integer(True, "n"), TypeError, "n"),
    ("validate.integer float", lambda: validate.integer(2.0, "n"), TypeError, "n"),
    ("validate.integer low", lambda: validate.integer(-1, "n", low=0), ValueError, "n"),
    ("validate.real nan", lambda: validate.real(NAN, "x", low=0), ValueError, "x"),
    ("validate.real inf", lambda: validate.real(INF, "x"), ValueError, "x"),
    ("validate.real str", lambda: validate.real("1", "x"), TypeError, "x"),
    ("validate.finite_array nan", lambda: validate.finite_array([1, NAN], "a"), ValueError, "a"),
    ("validate.finite_array strings", lambda: validate.finite_array(["a"], "a"), TypeError, "a"),
    ("validate.finite_array complex as real", lambda: validate.finite_array([1j], "a"), TypeError, "a"),
    ("validate.square_matrix shape", lambda: validate.square_matrix(np.zeros((2, 3)), "M"), ValueError, "M"),
    ("validate.seed negative", lambda: validate.seed(-1), ValueError, "seed"),
    ("validate.one_of", lambda: validate.one_of("x", "mode", ("a", "b")), ValueError, "mode"),
    ("validate.within_tolerance nan", lambda: validate.within_tolerance(NAN, 1e-9, "check"), ValueError, "check"),
    # ---------------------------------------------------------------- config, plotting, spectral
    ("config.seed_everything float", lambda: config.seed_everything(1.5), TypeError, "seed"),
    ("config.seed_everything huge", lambda: config.seed_everything(2**40), ValueError, "seed"),
    ("config.validate_scale", lambda: config.validate_scale("huge"), ValueError, "GENPHYS_SCALE"),
    ("config.validate_scale type", lambda: config.validate_scale(3), TypeError, "scale"),
    ("plotting.color", lambda: plotting.color("mauve"), ValueError, "colour"),
    ("spectral.classify_modes nan", lambda: spectral.classify_modes([NAN], 0.1), ValueError, "rates"),
    ("spectral.classify_modes eps nan", lambda: spectral.classify_modes([0.1], NAN), ValueError, "eps"),
    ("spectral.classify_modes eps negative", lambda: spectral.classify_modes([0.1], -1), ValueError, "eps"),
    ("spectral.classify_modes 2-d", lambda: spectral.classify_modes([[0.1]], 0.1), ValueError, "rates"),
    ("spectral.memory_times inf", lambda: spectral.memory_times([INF]), ValueError, "multipliers"),
    # ---------------------------------------------------------------- histories
    ("TableModel nan", lambda: histories.TableModel(VOCAB, 2, np.where(np.eye(3) > 0, NAN, 0.5)), ValueError, "table"),
    ("TableModel eot type", lambda: histories.TableModel(VOCAB, "2", TABLE), TypeError, "eot"),
    ("TableModel eot range", lambda: histories.TableModel(VOCAB, 3, TABLE), ValueError, "eot"),
    ("TableModel vocab str", lambda: histories.TableModel("abc", 2, TABLE), TypeError, "vocab"),
    ("TableModel table strings", lambda: histories.TableModel(VOCAB, 2, [["x"] * 3] * 3), TypeError, "table"),
    ("NGramModel order bool", lambda: histories.NGramModel(VOCAB, 2, True), TypeError, "order"),
    ("NGramModel discount nan", lambda: histories.NGramModel(VOCAB, 2, 2, discount=NAN), ValueError, "discount"),
    ("NGramModel fit tokens", lambda: histories.NGramModel(VOCAB, 2, 2).fit([[0, 5]]), ValueError, "sequence"),
    ("log_joint history str", lambda: histories.log_joint(table(), "ab"), TypeError, "history"),
    ("log_joint history float", lambda: histories.log_joint(table(), [0.5]), TypeError, "history"),
    ("log_joint history range", lambda: histories.log_joint(table(), [0, 7]), ValueError, "history"),
    ("log_joint system", lambda: histories.log_joint(object(), [0]), TypeError, "system"),
    ("enumerate_histories max_len", lambda: histories.enumerate_histories(table(), -1), ValueError, "max_len"),
    ("enumerate_histories min_prob nan", lambda: histories.enumerate_histories(table(), 2, min_prob=NAN),
     ValueError, "min_prob"),
    ("sample n", lambda: histories.sample(table(), -1, 0), ValueError, "n"),
    ("sample seed", lambda: histories.sample(table(), 2, -3), ValueError, "seed"),
    ("sample temperature nan", lambda: histories.sample(table(), 2, 0, temperature=NAN), ValueError, "temperature"),
    ("sample top_k 0", lambda: histories.sample(table(), 2, 0, top_k=0), ValueError, "top_k"),
    ("sample max_len", lambda: histories.sample(table(), 2, 0, max_len=-2), ValueError, "max_len"),
    ("warp p nan", lambda: histories.warp([NAN, 1.0]), ValueError, "p"),
    ("warp p negative", lambda: histories.warp([-0.5, 1.5]), ValueError, "p"),
    ("warp temperature 0", lambda: histories.warp([0.5, 0.5], 0.0), ValueError, "temperature"),
    ("check_distribution nan", lambda: histories.check_distribution([NAN, 1, 0], 3), ValueError, "conditional"),
    ("kolmogorov_error max_len", lambda: histories.kolmogorov_error(table(), -1), ValueError, "max_len"),
    ("coarse_graining_error position", lambda: histories.coarse_graining_error(table(), 2, -1), ValueError, "position"),
    ("chi_square_test min_expected", lambda: histories.chi_square_test(table(), 10, 0, 2, min_expected=NAN),
     ValueError, "min_expected"),
    ("class_operator vocab_size", lambda: histories.class_operator([0], 0), ValueError, "vocab_size"),
    ("history_tree depth", lambda: histories.history_tree(table(), -1), ValueError, "depth"),
    ("history_tree top_k", lambda: histories.history_tree(table(), 2, top_k=0), ValueError, "top_k"),
    # ---------------------------------------------------------------- stories
    ("stories.sample n", lambda: stories.sample(-1, 0), ValueError, "n"),
    ("stories.sample n float", lambda: stories.sample(2.0, 0), TypeError, "n"),
    ("stories.sample seed", lambda: stories.sample(2, "0"), TypeError, "seed"),
    ("stories.log_prob type", lambda: stories.log_prob(b"Once"), TypeError, "story"),
    ("stories.n_bytes type", lambda: stories.n_bytes(None), TypeError, "story"),
    ("stories.entropy n", lambda: stories.entropy_bits_per_byte(1, 0), ValueError, "n"),
    ("stories.entropy stories", lambda: stories.entropy_bits_per_byte(2, 0, stories="ab"), ValueError, "stories"),
    ("stories.enumerate keep", lambda: stories.enumerate_stories([1]), TypeError, "keep"),
    ("stories.enumerate max_derivations", lambda: stories.enumerate_stories({}, 0), ValueError, "max_derivations"),
    ("stories.byte_ngram train str", lambda: stories.byte_ngram(2, "Once"), TypeError, "train"),
    ("stories.read_stories unit", lambda: list(stories.read_stories("x.txt", unit="line")), ValueError, "unit"),
    ("stories.read_stories path", lambda: list(stories.read_stories(3)), TypeError, "path"),
    # ---------------------------------------------------------------- channels
    ("channels.kraus_to_super nan", lambda: channels.kraus_to_super([nan_matrix()]), ValueError, "kraus"),
    ("channels.kraus_to_super single", lambda: channels.kraus_to_super(np.eye(2)), TypeError, "kraus"),
    ("channels.kraus_to_super 3-d", lambda: channels.kraus_to_super([np.zeros((2, 2, 2))]), ValueError, "kraus"),
    ("channels.apply_kraus rho shape", lambda: channels.apply_kraus([np.eye(2)], np.eye(3)), ValueError, "rho"),
    ("channels.super_to_choi inf", lambda: channels.super_to_choi(np.full((4, 4), INF)), ValueError, "S"),
    ("channels.super_to_choi shape", lambda: channels.super_to_choi(np.eye(5)), ValueError, "S"),
    ("channels.choi_to_kraus atol", lambda: channels.choi_to_kraus(np.eye(4), atol=-1), ValueError, "atol"),
    ("channels.is_cptp atol nan", lambda: channels.is_cptp(np.eye(4), atol=NAN), ValueError, "atol"),
    ("channels.map_to_choi dim", lambda: channels.map_to_choi(np.transpose, 0), ValueError, "dim"),
    ("channels.trace_preservation_error domain", lambda: channels.trace_preservation_error([np.eye(2)], [1, 1]),
     ValueError, "domain"),
    ("channels.unvec dim", lambda: channels.unvec(np.zeros(4), dim=3), ValueError, "v"),
    ("channels.vec 1-d", lambda: channels.vec(np.zeros(4)), ValueError, "rho"),
    # ---------------------------------------------------------------- fock
    ("FockSpace V bool", lambda: fock.FockSpace(True, 2), TypeError, "V"),
    ("FockSpace V 0", lambda: fock.FockSpace(0, 2), ValueError, "V"),
    ("FockSpace N float", lambda: fock.FockSpace(2, 2.0), TypeError, "N"),
    ("FockSpace overflow", lambda: fock.FockSpace(3, 40), ValueError, "Fock space"),
    ("FockSpace.index token", lambda: fock.FockSpace(2, 2).index([0, 2]), ValueError, "text"),
    ("FockSpace.index str", lambda: fock.FockSpace(2, 2).index("01"), TypeError, "text"),
    ("FockSpace.text index", lambda: fock.FockSpace(2, 2).text(7), ValueError, "index"),
    ("FockSpace.texts n", lambda: fock.FockSpace(2, 2).texts(3), ValueError, "n"),
    ("creation side", lambda: fock.creation(fock.FockSpace(2, 2), 0, side="up"), ValueError, "side"),
    ("creation f nan", lambda: fock.creation(fock.FockSpace(2, 2), [NAN, 1.0]), ValueError, "f"),
    ("creation f shape", lambda: fock.creation(fock.FockSpace(2, 2), [1.0, 0.0, 0.0]), ValueError, "f"),
    ("symmetric_dimension N", lambda: fock.symmetric_dimension(2, -1), ValueError, "N"),
    ("occupations V", lambda: fock.occupations([0], 0), ValueError, "V"),
    ("instrument system", lambda: fock.instrument(TABLE, 2), TypeError, "system"),
    ("instrument N", lambda: fock.instrument(table(), 0), ValueError, "N"),
    ("instrument prompt", lambda: fock.instrument(table(), 2, prompt=[5]), ValueError, "prompt"),
    ("Instrument tol nan", lambda: fock.Instrument(small_instrument().space, small_instrument().kraus,
                                                   small_instrument().domain, tol=NAN), ValueError, "tol"),
    ("Instrument kraus nan", lambda: fock.Instrument(fock.FockSpace(1, 0), (nan_matrix(1), np.eye(1)),
                                                     np.ones(1, dtype=bool)), ValueError, "kraus"),
    ("history_states length", lambda: fock.history_states(small_instrument(), -1), ValueError, "length"),
    ("born_probability history", lambda: fock.born_probability(small_instrument(), [0, 0, 0]), ValueError, "history"),
    ("sample_by_environment seed", lambda: fock.sample_by_environment(small_instrument(), 2, 2**40), ValueError,
     "seed"),
    ("random_unitary V", lambda: fock.random_unitary(1, 0), ValueError, "V"),
    ("record_free_decoherence U nan", lambda: fock.record_free_decoherence(nan_matrix(), np.array([1, 0]), 1),
     ValueError, "U"),
    ("record_free_decoherence U not unitary", lambda: fock.record_free_decoherence(2 * np.eye(2), np.array([1, 0]), 1),
     ValueError, "unitary"),
    ("record_free_decoherence psi0 nan", lambda: fock.record_free_decoherence(np.eye(2), np.array([NAN, 0]), 1),
     ValueError, "psi0"),
    ("record_free_decoherence length", lambda: fock.record_free_decoherence(np.eye(2), np.array([1, 0]), -1),
     ValueError, "length"),
    # ---------------------------------------------------------------- lindblad
    ("liouvillian H nan", lambda: lindblad.liouvillian(nan_matrix()), ValueError, "H"),
    ("liouvillian H not hermitian", lambda: lindblad.liouvillian(np.array([[0, 1], [0, 0]])), ValueError, "H"),
    ("liouvillian c_ops single", lambda: lindblad.liouvillian(H, lindblad.SIGMA_MINUS), TypeError, "c_ops"),
    ("liouvillian c_ops shape", lambda: lindblad.liouvillian(H, [np.eye(3)]), ValueError, "c_ops"),
    ("check_hermitian atol nan", lambda: lindblad.check_hermitian(H, atol=NAN), ValueError, "atol"),
    ("check_density_matrix nan", lambda: lindblad.check_density_matrix(nan_matrix()), ValueError, "rho"),
    ("check_density_matrix trace", lambda: lindblad.check_density_matrix(np.eye(2)), ValueError, "rho"),
    ("evolve rho0 nan", lambda: lindblad.evolve(lindblad.liouvillian(H, C), nan_matrix(), [0, 1]), ValueError, "rho0"),
    ("evolve times nan", lambda: lindblad.evolve(lindblad.liouvillian(H, C), RHO, [0, NAN]), ValueError, "times"),
    ("evolve times order", lambda: lindblad.evolve(lindblad.liouvillian(H, C), RHO, [1, 0]), ValueError, "times"),
    ("evolve method", lambda: lindblad.evolve(lindblad.liouvillian(H, C), RHO, [0, 1], method="rk4"), ValueError,
     "method"),
    ("evolve L nan sparse", lambda: lindblad.evolve(lindblad.liouvillian(H, C, sparse=True) * NAN, RHO, [0, 1]),
     ValueError, "L"),
    ("evolve L shape", lambda: lindblad.evolve(np.eye(3), RHO, [0, 1]), ValueError, "L"),
    ("evolve_torch L nan", lambda: lindblad.evolve_torch(lindblad.liouvillian(H, C) * NAN, RHO, [0, 1]), ValueError,
     "L"),
    ("evolve_torch dtype", lambda: lindblad.evolve_torch(lindblad.liouvillian(H, C), RHO, [0, 1], dtype=torch.float32),
     TypeError, "dtype"),
    ("steady_state L inf", lambda: lindblad.steady_state(np.full((4, 4), INF)), ValueError, "L"),
    ("spectrum eps nan", lambda: lindblad.spectrum(lindblad.liouvillian(H, C), eps=NAN), ValueError, "eps"),
    ("classify_eigenvalues nan", lambda: lindblad.classify_eigenvalues([NAN], 0.1), ValueError, "eigenvalues"),
    ("purity nan", lambda: lindblad.purity(nan_matrix()), ValueError, "rho"),
    ("von_neumann_entropy nan", lambda: lindblad.von_neumann_entropy(nan_matrix()), ValueError, "rho"),
    ("von_neumann_entropy base", lambda: lindblad.von_neumann_entropy(RHO, base=0), ValueError, "base"),
    ("bloch_vector shape", lambda: lindblad.bloch_vector(np.eye(3)), ValueError, "2x2"),
    ("pure_state zero", lambda: lindblad.pure_state([0, 0]), ValueError, "psi"),
    ("pure_state nan", lambda: lindblad.pure_state([NAN, 1]), ValueError, "psi"),
    ("no_jump_probability t nan", lambda: lindblad.no_jump_probability(H, C, [1, 0], NAN), ValueError, "t"),
    ("no_jump_probability psi0 zero", lambda: lindblad.no_jump_probability(H, C, [0, 0], 1.0), ValueError, "psi0"),
    ("quantum_jumps psi0 nan", lambda: lindblad.quantum_jumps(H, C, [NAN, 1], [0, 1], 2, 0), ValueError, "psi0"),
    ("quantum_jumps n_traj", lambda: lindblad.quantum_jumps(H, C, [1, 0], [0, 1], 0, 0), ValueError, "n_traj"),
    ("quantum_jumps seed", lambda: lindblad.quantum_jumps(H, C, [1, 0], [0, 1], 2, -1), ValueError, "seed"),
    ("quantum_jumps c_ops empty", lambda: lindblad.quantum_jumps(H, [], [1, 0], [0, 1], 2, 0), ValueError, "c_ops"),
    ("quantum_jumps e_ops nan", lambda: lindblad.quantum_jumps(H, C, [1, 0], [0, 1], 2, 0, e_ops=[nan_matrix()]),
     ValueError, "e_ops"),
    ("expect_mean without e_ops", lambda: lindblad.quantum_jumps(H, C, [1, 0], [0, 1], 2, 0).expect_mean(),
     ValueError, "e_ops"),
    ("amplitude_damping gamma nan", lambda: lindblad.amplitude_damping(NAN), ValueError, "gamma"),
    ("amplitude_damping gamma negative", lambda: lindblad.amplitude_damping(-1.0), ValueError, "gamma"),
    ("dephasing omega str", lambda: lindblad.dephasing(0.1, omega="1"), TypeError, "omega"),
    ("driven_damped_qubit rabi inf", lambda: lindblad.driven_damped_qubit(INF, 0.1), ValueError, "rabi"),
    ("destroy n_levels", lambda: lindblad.destroy(1), ValueError, "n_levels"),
    ("damped_oscillator kappa", lambda: lindblad.damped_oscillator(3, kappa=-0.1), ValueError, "kappa"),
    ("spin_chain n_sites", lambda: lindblad.spin_chain(9), ValueError, "n_sites"),
    # ---------------------------------------------------------------- chapter 7: tokenizer, models, spectra
    ("tokenizer.train vocab_size", lambda: tokenizer.train(["a b"], 100), ValueError, "vocab_size"),
    ("tokenizer.train texts str", lambda: tokenizer.train("a b", 300), TypeError, "texts"),
    ("ModelConfig d_model 0", lambda: models.ModelConfig(d_model=0), ValueError, "d_model"),
    ("ModelConfig n_modes float", lambda: models.ModelConfig(n_modes=8.0), TypeError, "n_modes"),
    ("ModelConfig mlp_hidden", lambda: models.ModelConfig(mlp_hidden=0), ValueError, "mlp_hidden"),
    ("ModelConfig heads", lambda: models.ModelConfig(d_model=64, n_heads=3), ValueError, "n_heads"),
    ("build_model kind", lambda: models.build_model("lstm", models.ModelConfig()), ValueError, "kind"),
    ("build_model cfg", lambda: models.build_model("dissipative", {}), TypeError, "cfg"),
    ("spectra.classify nan", lambda: spectra.classify([NAN]), ValueError, "rates"),
    ("spectra.energy_budget 2-d", lambda: spectra.energy_budget([[0.1]]), ValueError, "rates"),
]


@pytest.mark.parametrize("name, call, error, argument", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(name, call, error, argument):
    with pytest.raises(error) as info:
        call()
    assert argument in str(info.value), f"{name}: the message does not name {argument!r}: {info.value}"


def test_the_trained_tokenizer_refuses_ids_outside_its_vocabulary():
    tok = tokenizer.train(stories.sample(20, 0), 300)
    with pytest.raises(ValueError, match="ids"):
        tok.decode([0, tok.vocab_size])
    with pytest.raises(TypeError, match="texts"):
        tok.encode_batch([1, 2])
    with pytest.raises(TypeError, match="text"):
        tok.encode(None)


# ---------------------------------------------------------------- positive controls

def test_numpy_scalars_are_accepted_where_python_ones_are():
    i, x = np.int64(2), np.float64(0.3)
    assert fock.FockSpace(i, i).dim == fock.FockSpace(2, 2).dim == 7
    assert len(histories.sample(table(), i, np.int32(0), max_len=i)) == 2
    assert histories.enumerate_histories(table(), i) == histories.enumerate_histories(table(), 2)
    assert stories.sample(i, np.int64(1)) == stories.sample(2, 1)
    assert lindblad.amplitude_damping(x).c_ops[0][1, 0] == pytest.approx(math.sqrt(0.3))
    assert lindblad.destroy(np.int16(3)).shape == (3, 3)
    assert spectral.count_modes(np.array([0.5, -0.5]), x)["growth"] == 1
    assert models.ModelConfig(d_model=np.int64(32), n_modes=np.int64(8)).d_model == 32
    assert config.seed_everything(np.uint32(7)) == 7
    assert histories.warp(np.array([0.25, 0.75]), np.float32(1.0), np.int64(1)).tolist() == [0.0, 1.0]


def test_the_suite_covers_every_chapter_module():
    covered = {name.split(".")[0].split()[0] for name, *_ in CASES}
    expected = {"validate", "config", "plotting", "spectral", "TableModel", "stories", "channels", "FockSpace",
                "liouvillian", "tokenizer", "ModelConfig", "spectra"}
    assert expected <= covered
    assert len(CASES) >= 150
