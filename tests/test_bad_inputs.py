"""Bad input everywhere: every public function refuses it with an error that names the argument.

Each case spoils one argument of a valid call - NaN, inf, a wrong type (str, None, bool, a list of
strings), a wrong shape, an out-of-range size - and expects ``ValueError`` or ``TypeError`` whose
message names that argument.  A ``LinAlgError``, ``IndexError``, ``KeyError`` or a silently
returned result counts as a failure.  Positive controls check that the same functions accept
NumPy integers and floats where they accept Python ones, so the suite can fail both ways.

Two parts.  ``CASES``: hand-written cases.  ``SPECS``: the suite that grows with the package - every
public callable of every chapter module (``CHAPTER_MODULES``; a new public function without a spec,
or an ``EXEMPT`` entry with its reason, fails ``test_every_public_callable_...``) with a valid call
and the kind of each argument; ``tests/spoil.py`` spoils the arguments one at a time (wrong type, NaN,
inf, empty, wrong shape, out of range, huge) and classifies what happens: a clear error naming the
argument, a documented answer (finite, and equal to the spec's multiple-precision reference where
it has one), or a failure (an error not naming the argument, another exception type, silent garbage,
a hang).  ``test_summary_counts_...`` prints the counts and asserts zero failures;
``python tests/test_bad_inputs.py`` prints every failure and the counts as JSON.
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


# ==================================================================================================
# The suite that grows with the package: every public callable of every chapter module, its
# arguments spoiled one by one (tests/spoil.py), counted.
# ==================================================================================================

import importlib  # noqa: E402
import inspect  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import spoil  # noqa: E402
from spoil import ERROR, Arg, Spec  # noqa: E402

from genphys import koopman, measurement  # noqa: E402
from genphys import path_integral as pi  # noqa: E402

#: The chapter modules whose every public callable the generated suite covers.
CHAPTER_MODULES = ("histories", "stories", "fock", "channels", "spectral", "lindblad", "koopman", "measurement",
                   "path_integral")

TOK3 = Arg("tokens", vocab=3)
SYSTEM = Arg("object")
POS = Arg("real", low=0, low_open=True)
NONNEG = Arg("real", low=0)
REAL = Arg("real")
NUMBER = Arg("number")
SEED = Arg("seed")
FLAG = Arg("flag")
OPT_K = Arg("int", low=1, none_ok=True)


def _int(low=None, high=None, **kw):
    return Arg("int", low=low, high=high, **kw)


class _UniformModule(torch.nn.Module):
    """A torch "language model" with uniform logits over 3 tokens."""

    def forward(self, idx):
        return torch.zeros(*idx.shape, 3)


def _mp_close(x, reference, rtol=1e-9, atol=1e-300):
    return abs(complex(x) - complex(reference)) <= rtol * abs(complex(reference)) + atol


def _ngram():
    return histories.NGramModel(VOCAB, 2, 2).fit([[0, 1, 0], [1, 1]])


def _probs():
    return histories.enumerate_histories(table(), 2)


def _story():
    return stories.sample(1, 0)[0]


def _instr():
    return small_instrument()


def _rho():
    return RHO.copy()


def _L():
    return lindblad.liouvillian(H, C)


def _snapshots():
    t = np.arange(6)
    return np.vstack([0.9 ** t, 0.5 ** t * np.cos(t)])


def _action():
    rng = np.random.default_rng(0)
    c = rng.normal(size=6) + 1j * rng.normal(size=6)
    return dict(c=c, lam=-0.1 + 0.7j, q=0.3, sigma2=0.5, u=0.1 * c, m0=0.1 + 0.2j, p0=0.8)


# ---------------------------------------------------------------------------------------------- oracles
# References in multiple precision (mpmath) for the scalar functions whose huge or tiny arguments
# are inside their domain: a returned answer must agree with them.

mpmath.mp.dps = 60


def _ou_reference(x0, x1, t, gamma, D):
    x0, x1, t, g, D = map(mpmath.mpf, (x0, x1, t, gamma, D))
    var = D * -mpmath.expm1(-2 * g * t) / g
    return mpmath.exp(-(x1 - x0 * mpmath.exp(-g * t)) ** 2 / (2 * var)) / mpmath.sqrt(2 * mpmath.pi * var)


def _sliced_reference(x0, x1, t, N, gamma, D, scheme):
    """The N-slice kernel composed in multiple precision: w^N N(x1; a^N x0, s^2 sum_k a^2k)."""
    x0, x1, t, g, D = map(mpmath.mpf, (x0, x1, t, gamma, D))
    eps = t / N
    if scheme == "exact":
        a, s2, w = mpmath.exp(-g * eps), D * -mpmath.expm1(-2 * g * eps) / g, 1
    elif scheme == "euler":
        a, s2, w = 1 - g * eps, 2 * D * eps, 1
    else:
        p = 1 + g * eps / 2
        a, s2, w = (1 - g * eps / 2) / p, 2 * D * eps / p**2, (1 if scheme == "midpoint" else 1 / p)
    total = N if a * a == 1 else (1 - a ** (2 * N)) / (1 - a * a)
    var = s2 * total
    return w**N * mpmath.exp(-(x1 - a**N * x0) ** 2 / (2 * var)) / mpmath.sqrt(2 * mpmath.pi * var)


def _gy_reference(omega, T, N):
    omega, T = mpmath.mpf(omega), mpmath.mpf(T)
    if omega == 0:
        return mpmath.mpf(N)
    x = T / N * omega
    with mpmath.workdps(int(80 + max(0, -2 * mpmath.log10(x)))):            # 1 + x^2/2 resolved
        theta = mpmath.acosh(1 + x**2 / 2)
        return mpmath.sinh(N * theta) / mpmath.sinh(theta)


def _mehler_reference(xa, xb, t, omega, mass, hbar):
    xa, xb, t, w, m, h = map(mpmath.mpf, (xa, xb, t, omega, mass, hbar))
    s, co = mpmath.sinh(w * t), mpmath.cosh(w * t)
    return mpmath.sqrt(m * w / (2 * mpmath.pi * h * s)) * mpmath.exp(-m * w * ((xa**2 + xb**2) * co - 2 * xa * xb) / (2 * h * s))


def _gain_reference(r, q, sigma2):
    A, rho = mpmath.exp(2 * mpmath.mpf(r)), mpmath.mpf(q) / mpmath.mpf(sigma2)
    b = A + rho - 1
    x = (b + mpmath.sqrt(b * b + 4 * rho)) / 2
    return x / (x + 1)


def _scalar_oracle(reference, keys, rtol=1e-9):
    def check(kw, result):
        return _mp_close(result, reference(*[kw[k] for k in keys]), rtol)
    return check


def _mehler_oracle(kw, result):
    if not kw.get("euclidean", True):
        return True
    xa, xb = np.broadcast_arrays(np.asarray(kw["xa"], float), np.asarray(kw["xb"], float))
    got = np.broadcast_to(np.asarray(result), xa.shape)
    return all(_mp_close(g, _mehler_reference(a, b, kw["t"], kw["omega"], kw.get("mass", 1.0), kw.get("hbar", 1.0)))
               for a, b, g in zip(xa.flat, xb.flat, got.flat))


def _pointer_oracle(kw, result):
    s = mpmath.mpf(kw["sigma"])
    return all(_mp_close(g, (2 * mpmath.pi * s**2) ** -0.25 * mpmath.exp(-mpmath.mpf(q) ** 2 / (4 * s**2)))
               for q, g in zip(np.atleast_1d(kw["q"]).flat, np.atleast_1d(result).flat))


def _lattice_oracle(kw, result):
    a, w = mpmath.mpf(kw["a"]), mpmath.mpf(kw["omega"])
    return _mp_close(result, mpmath.acosh(1 + (a * w) ** 2 / 2) / a, 1e-7)


def _noise_ratio_reference(r, g):
    r, g = mpmath.mpf(r), mpmath.mpf(g)
    return g / (1 - g) - mpmath.exp(2 * r) * g


# ---------------------------------------------------------------------------------------------- specs

def _specs() -> list[Spec]:
    S = []
    add = S.append
    # ---------------- histories
    add(Spec("histories.check_tokens", histories.check_tokens, lambda: dict(tokens=[0, 1], vocab_size=3, name="tokens"),
             {"tokens": TOK3, "vocab_size": _int(1)}))
    add(Spec("histories.token_array", histories.token_array, lambda: dict(tokens=[0, 1], vocab_size=3, name="tokens"),
             {"tokens": TOK3, "vocab_size": _int(1)}))
    add(Spec("histories.check_distribution", histories.check_distribution,
             lambda: dict(p=np.array([0.2, 0.3, 0.5]), vocab_size=3, name="p"),
             {"p": Arg("array", huge_ok=False), "vocab_size": _int(1)}))
    add(Spec("histories.TableModel", histories.TableModel, lambda: dict(vocab=VOCAB, eot=2, table=TABLE),
             {"vocab": Arg("strs"), "eot": _int(0, 2), "table": Arg("array", huge_ok=False)}))
    add(Spec("histories.TableModel.conditional", lambda history, prompt: table().conditional(history, prompt),
             lambda: dict(history=[0, 1], prompt=[1]), {"history": TOK3, "prompt": TOK3}))
    add(Spec("histories.NGramModel", histories.NGramModel, lambda: dict(vocab=VOCAB, eot=2, order=2, discount=0.5),
             {"vocab": Arg("strs"), "eot": _int(0, 2), "order": _int(1),
              "discount": Arg("real", low=0, high=1, low_open=True, high_open=True)}))
    add(Spec("histories.NGramModel.fit", lambda sequences: histories.NGramModel(VOCAB, 2, 2).fit(sequences),
             lambda: dict(sequences=[[0, 1, 0], [1, 1]]), {},
             extra=[("token >= V", "sequence", dict(sequences=[[0, 3]]), ERROR),
                    ("float token", "sequence", dict(sequences=[[0, 0.5]]), ERROR),
                    ("one str", "sequence", dict(sequences=["ab"]), ERROR),
                    ("no sequence", "sequence", dict(sequences=[]), ERROR)]))
    add(Spec("histories.NGramModel.conditional", lambda history, prompt: _ngram().conditional(history, prompt),
             lambda: dict(history=[0, 1], prompt=[1]), {"history": TOK3, "prompt": TOK3}))
    add(Spec("histories.NGramModel.log_probs", lambda sequence: _ngram().log_probs(sequence),
             lambda: dict(sequence=[0, 1]), {"sequence": TOK3}))
    add(Spec("histories.NGramModel.total_nll", lambda sequences: _ngram().total_nll(sequences),
             lambda: dict(sequences=[[0, 1]]), {},
             extra=[("token >= V", "sequence", dict(sequences=[[0, 3]]), ERROR),
                    ("one str", "sequence", dict(sequences=["ab"]), ERROR)]))
    add(Spec("histories.TorchModel", histories.TorchModel,
             lambda: dict(module=_UniformModule(), vocab=VOCAB, eot=2, bos=2, max_context=4),
             {"module": Arg("callable"), "vocab": Arg("strs"), "eot": _int(0, 2), "bos": _int(0, 2, none_ok=True),
              "max_context": _int(1, none_ok=True)}))
    add(Spec("histories.TorchModel.conditional",
             lambda history: histories.TorchModel(_UniformModule(), VOCAB, 2).conditional(history),
             lambda: dict(history=[0, 1]), {"history": TOK3}))
    add(Spec("histories.WarpedModel", histories.WarpedModel, lambda: dict(system=table(), temperature=0.5, top_k=2),
             {"system": SYSTEM, "temperature": POS, "top_k": OPT_K}))
    add(Spec("histories.log_joint", histories.log_joint, lambda: dict(system=table(), history=[0, 1], prompt=[1]),
             {"system": SYSTEM, "history": TOK3, "prompt": TOK3}))
    add(Spec("histories.enumerate_histories", histories.enumerate_histories,
             lambda: dict(system=table(), max_len=2, prompt=[1], min_prob=0.0),
             {"system": SYSTEM, "max_len": _int(0), "prompt": TOK3, "min_prob": Arg("real", low=0, high=1)}))
    add(Spec("histories.sample", histories.sample,
             lambda: dict(system=table(), n=2, seed=0, temperature=1.0, top_k=None, max_len=3, prompt=[1]),
             {"system": SYSTEM, "n": _int(0), "seed": SEED, "temperature": POS, "top_k": OPT_K, "max_len": _int(0),
              "prompt": TOK3}))
    add(Spec("histories.warp", histories.warp, lambda: dict(p=np.array([0.2, 0.3, 0.5]), temperature=0.7, top_k=2),
             {"p": Arg("array"), "temperature": POS, "top_k": OPT_K}))
    for fname in ("normalisation_error", "kolmogorov_error"):
        add(Spec(f"histories.{fname}", getattr(histories, fname), lambda: dict(system=table(), max_len=2, prompt=[1]),
                 {"system": SYSTEM, "max_len": _int(0), "prompt": TOK3}))
    add(Spec("histories.coarse_graining_error", histories.coarse_graining_error,
             lambda: dict(system=table(), max_len=3, position=1, prompt=[1]),
             {"system": SYSTEM, "max_len": _int(0), "position": _int(0), "prompt": TOK3}))
    add(Spec("histories.chi_square_test", histories.chi_square_test,
             lambda: dict(system=table(), n=200, seed=0, max_len=2, prompt=[1], min_expected=5.0),
             {"system": SYSTEM, "n": _int(0), "seed": SEED, "max_len": _int(0), "prompt": TOK3, "min_expected": POS}))
    add(Spec("histories.proposition_probability", histories.proposition_probability,
             lambda: dict(probs=_probs(), proposition=histories.occurs_before(0, 1), vocab_size=3),
             {"probs": Arg("mapping", vocab=3), "proposition": Arg("callable"), "vocab_size": _int(1, none_ok=True)}))
    add(Spec("histories.check_probabilities", histories.check_probabilities,
             lambda: dict(probs=_probs(), name="probs", vocab_size=3),
             {"probs": Arg("mapping", vocab=3), "vocab_size": _int(1, none_ok=True)}))
    add(Spec("histories.occurs_before", histories.occurs_before, lambda: dict(first=0, second=1),
             {"first": _int(0), "second": _int(0)}))
    add(Spec("histories.class_operator", histories.class_operator, lambda: dict(history=[0, 1], vocab_size=3),
             {"history": TOK3, "vocab_size": _int(1)}))
    add(Spec("histories.decoherence_functional", histories.decoherence_functional,
             lambda: dict(probs=_probs(), propositions=[histories.occurs_before(0, 1), histories.occurs_before(1, 0)]),
             {"probs": Arg("mapping")},
             extra=[("one proposition", "propositions", dict(propositions=histories.occurs_before(0, 1)), ERROR),
                    ("not callable", "propositions", dict(propositions=[3]), ERROR),
                    ("str", "propositions", dict(propositions="ab"), ERROR)]))
    add(Spec("histories.history_tree", histories.history_tree,
             lambda: dict(system=table(), depth=2, prompt=[1], top_k=2, min_prob=0.0),
             {"system": SYSTEM, "depth": _int(0), "prompt": TOK3, "top_k": OPT_K, "min_prob": Arg("real", low=0, high=1)}))
    add(Spec("histories.plot_history_tree", histories.plot_history_tree,
             lambda: dict(system=table(), root=histories.history_tree(table(), 1), title="t"),
             {"system": SYSTEM, "root": Arg("object"), "title": Arg("text", none_ok=True)}))
    # ---------------- stories
    add(Spec("stories.generate", stories.generate, lambda: dict(rng=__import__("random").Random(0), keep=None, program=None),
             {"rng": Arg("object"), "keep": Arg("object", none_ok=True), "program": Arg("callable", none_ok=True)}))
    add(Spec("stories.stream_with_log_prob", stories.stream_with_log_prob, lambda: dict(seed=0, keep=None),
             {"seed": SEED, "keep": Arg("object", none_ok=True)}))
    add(Spec("stories.stream", stories.stream, lambda: dict(seed=0), {"seed": SEED}))
    add(Spec("stories.sample", stories.sample, lambda: dict(n=1, seed=0), {"n": _int(0), "seed": SEED}))
    add(Spec("stories.sample_with_log_prob", stories.sample_with_log_prob, lambda: dict(n=1, seed=0, keep=None),
             {"n": _int(0), "seed": SEED, "keep": Arg("object", none_ok=True)}))
    add(Spec("stories.sample_with_mentions", stories.sample_with_mentions, lambda: dict(n=1, seed=0),
             {"n": _int(0), "seed": SEED}))
    add(Spec("stories.repeat_mentions", stories.repeat_mentions, lambda: dict(story="Tom saw Tom.", entities=["Tom"]),
             {"story": Arg("text"), "entities": Arg("strs")}))
    for fname in ("derivation_log_probs", "log_prob"):
        add(Spec(f"stories.{fname}", getattr(stories, fname), lambda: dict(story=_story(), keep=None, program=None),
                 {"story": Arg("text"), "keep": Arg("object", none_ok=True), "program": Arg("callable", none_ok=True)}))
    for fname in ("next_char_distribution", "prefix_log_prob"):
        add(Spec(f"stories.{fname}", getattr(stories, fname), lambda: dict(prefix="Once upon", keep=None, program=None),
                 {"prefix": Arg("text"), "keep": Arg("object", none_ok=True), "program": Arg("callable", none_ok=True)}))
    add(Spec("stories.enumerate_stories", stories.enumerate_stories, lambda: dict(keep={}, max_derivations=10, program=None),
             {"keep": Arg("object"), "max_derivations": _int(1), "program": Arg("callable", none_ok=True)}))
    for fname in ("n_bytes", "to_bytes"):
        add(Spec(f"stories.{fname}", getattr(stories, fname), lambda: dict(story="Once."), {"story": Arg("text")}))
    add(Spec("stories.entropy_bits_per_byte", stories.entropy_bits_per_byte, lambda: dict(n=2, seed=0, stories=None),
             {"n": _int(2), "seed": SEED},
             extra=[("one str", "stories", dict(stories="ab"), ERROR),
                    ("ints", "stories", dict(stories=[1, 2]), ERROR),
                    ("wrong length", "stories", dict(stories=[_story()]), ERROR)]))
    add(Spec("stories.byte_ngram", stories.byte_ngram, lambda: dict(order=2, train=["Once.", "Tom ran."], discount=0.5),
             {"order": _int(1), "train": Arg("strs"), "discount": Arg("real", low=0, high=1, low_open=True, high_open=True)}))
    add(Spec("stories.ngram_ladder", stories.ngram_ladder,
             lambda: dict(orders=(1, 2), n_train=3, n_test=2, train_seed=1, test_seed=2, discount=0.5),
             {"n_train": _int(1), "n_test": _int(2), "train_seed": SEED, "test_seed": SEED,
              "discount": Arg("real", low=0, high=1, low_open=True, high_open=True)},
             extra=[("order 0", "orders", dict(orders=(0,)), ERROR), ("float order", "orders", dict(orders=(1.5,)), ERROR),
                    ("one int", "orders", dict(orders=2), ERROR), ("str", "orders", dict(orders="12"), ERROR)]))
    add(Spec("stories.StorySourceModel.conditional", lambda history: stories.StorySourceModel().conditional(history),
             lambda: dict(history=[stories.StorySourceModel().vocab.index("O")]),
             {"history": Arg("tokens", vocab=len(stories.StorySourceModel().vocab))}))
    add(Spec("stories.write_corpus", stories.write_corpus,
             lambda: dict(path=_TMP / "c.txt", n=1, seed=0),
             {"path": Arg("path"), "n": _int(0), "seed": SEED}))
    add(Spec("stories.read_stories", stories.read_stories,
             lambda: dict(path=_CORPUS, unit="story"),
             {"path": Arg("path"), "unit": Arg("choice")}))
    # ---------------- fock
    sp = lambda: fock.FockSpace(2, 2)  # noqa: E731
    TOK2 = Arg("tokens", vocab=2)
    add(Spec("fock.FockSpace", fock.FockSpace, lambda: dict(V=2, N=2), {"V": _int(1), "N": _int(0)}))
    for meth in ("index", "state", "check_text"):
        add(Spec(f"fock.FockSpace.{meth}", lambda text, _m=meth: getattr(sp(), _m)(text), lambda: dict(text=[0, 1]),
                 {"text": TOK2}))
    add(Spec("fock.FockSpace.text", lambda index: sp().text(index), lambda: dict(index=3), {"index": _int(0, 6)}))
    add(Spec("fock.FockSpace.texts", lambda n: sp().texts(n), lambda: dict(n=1), {"n": _int(0, 2)}))
    for fname in ("creation", "annihilation"):
        add(Spec(f"fock.{fname}", getattr(fock, fname), lambda: dict(space=sp(), f=np.array([1.0, 0.5]), side="left"),
                 {"space": Arg("object"), "f": Arg("array", complex_ok=True), "side": Arg("choice")},
                 extra=[("token out of range", "f", dict(f=2), ERROR), ("negative token", "f", dict(f=-1), ERROR)]))
    for fname in ("number_operator", "below_edge", "symmetrizer"):
        add(Spec(f"fock.{fname}", getattr(fock, fname), lambda: dict(space=sp()), {"space": Arg("object")}))
    add(Spec("fock.cuntz_toeplitz_errors", fock.cuntz_toeplitz_errors, lambda: dict(space=sp(), side="right"),
             {"space": Arg("object"), "side": Arg("choice")}))
    add(Spec("fock.symmetric_dimension", fock.symmetric_dimension, lambda: dict(V=3, N=2), {"V": _int(1), "N": _int(0)}))
    add(Spec("fock.occupations", fock.occupations, lambda: dict(text=[0, 1, 1], V=2), {"text": TOK2, "V": _int(1)}))
    add(Spec("fock.positional_text", fock.positional_text, lambda: dict(text=[0, 1], V=2, N=3),
             {"text": TOK2, "V": _int(1), "N": _int(0)}))
    add(Spec("fock.Instrument", fock.Instrument,
             lambda: dict(space=_instr().space, kraus=_instr().kraus, domain=_instr().domain, prompt=(), tol=1e-10),
             {"space": Arg("object"), "prompt": Arg("tokens", vocab=3), "tol": NONNEG},
             extra=[("one matrix", "kraus", dict(kraus=_instr().kraus[0]), ERROR),
                    ("int", "kraus", dict(kraus=3), ERROR),
                    ("float mask", "domain", dict(domain=_instr().domain.astype(float)), ERROR),
                    ("short mask", "domain", dict(domain=_instr().domain[:-1]), ERROR)]))
    add(Spec("fock.instrument", fock.instrument, lambda: dict(system=table(), N=2, prompt=[1], absorb_eot=True),
             {"system": SYSTEM, "N": _int(1), "prompt": TOK3, "absorb_eot": FLAG}))
    add(Spec("fock.diagonal_operator", fock.diagonal_operator,
             lambda: dict(dim=4, where=np.array([0, 2]), values=np.array([1.0, 0.5])),
             {"dim": _int(0), "values": Arg("array", complex_ok=True)},
             extra=[("index >= dim", "where", dict(where=np.array([0, 4])), ERROR),
                    ("float index", "where", dict(where=np.array([0.5, 1.0])), ERROR),
                    ("negative index", "where", dict(where=np.array([-1, 0])), ERROR),
                    ("str", "where", dict(where="ab"), ERROR)]))
    for fname in ("choi_min_eigenvalue", "verify", "stinespring_isometry", "stinespring_unitary"):
        add(Spec(f"fock.{fname}", getattr(fock, fname), lambda: dict(instr=_instr()), {"instr": Arg("object")}))
    for fname in ("history_states", "born_probabilities", "chain_rule_probabilities", "decoherence_functional"):
        add(Spec(f"fock.{fname}", getattr(fock, fname), lambda: dict(instr=_instr(), length=1),
                 {"instr": Arg("object"), "length": _int(0, 2)}))
    add(Spec("fock.born_probability", fock.born_probability, lambda: dict(instr=_instr(), history=[0, 1]),
             {"instr": Arg("object"), "history": TOK3}))
    add(Spec("fock.sample_by_environment", fock.sample_by_environment, lambda: dict(instr=_instr(), n=2, seed=0),
             {"instr": Arg("object"), "n": _int(0), "seed": SEED}))
    add(Spec("fock.chi_square_two_samples", fock.chi_square_two_samples,
             lambda: dict(a=[(0,), (1,)] * 20, b=[(1,), (0,)] * 20, min_expected=5.0),
             {"min_expected": POS},
             extra=[("one str", "a", dict(a="ab"), ERROR), ("int", "b", dict(b=3), ERROR),
                    ("empty", "a", dict(a=[]), ERROR)]))
    add(Spec("fock.random_unitary", fock.random_unitary, lambda: dict(V=3, seed=0), {"V": _int(2), "seed": SEED}))
    add(Spec("fock.record_free_decoherence", fock.record_free_decoherence,
             lambda: dict(U=fock.random_unitary(2, 0), psi0=np.array([1.0, 0.0]), length=2),
             {"U": Arg("matrix", huge_ok=False), "psi0": Arg("array", complex_ok=True, huge_ok=False), "length": _int(0)}))
    add(Spec("fock.interference", fock.interference, lambda: dict(d=np.eye(3) * 0.5),
             {"d": Arg("matrix", complex_ok=True, empty_ok=True)}))                # no pair of histories: 0
    add(Spec("fock.compare_with_model", fock.compare_with_model, lambda: dict(instr=_instr(), system=table()),
             {"instr": Arg("object"), "system": SYSTEM}))
    add(Spec("fock.total_variation", fock.total_variation, lambda: dict(p=_probs(), q=_probs()),
             {"p": Arg("mapping"), "q": Arg("mapping")}))
    return S


def _specs_physics() -> list[Spec]:
    S = []
    add = S.append
    MAT = Arg("matrix", complex_ok=True)
    OPS = Arg("ops")
    C_OPS = Arg("ops", none_ok=True)                   # None means no jump operator (documented)
    # ---------------- channels
    add(Spec("channels.vec", channels.vec, lambda: dict(rho=_rho()),
             {"rho": Arg("array", complex_ok=True, ndims=(2, 3), empty_ok=True)}))
    add(Spec("channels.unvec", channels.unvec, lambda: dict(v=np.arange(4.0), dim=2),
             {"v": Arg("array", complex_ok=True, ndims=(1, 2)), "dim": _int(1, none_ok=True)}))
    add(Spec("channels.superoperator_dim", channels.superoperator_dim, lambda: dict(S=np.eye(4)), {"S": MAT}))
    add(Spec("channels.apply_kraus", channels.apply_kraus, lambda: dict(kraus=[np.eye(2)], rho=_rho()),
             {"kraus": OPS, "rho": MAT}))
    for fname in ("kraus_to_super", "kraus_to_choi"):
        add(Spec(f"channels.{fname}", getattr(channels, fname), lambda: dict(kraus=[np.eye(2)]), {"kraus": OPS}))
    add(Spec("channels.super_to_choi", channels.super_to_choi, lambda: dict(S=np.eye(4)), {"S": MAT}))
    add(Spec("channels.choi_to_super", channels.choi_to_super, lambda: dict(J=np.eye(4)), {"J": MAT}))
    add(Spec("channels.map_to_choi", channels.map_to_choi, lambda: dict(linear_map=np.transpose, dim=2),
             {"linear_map": Arg("callable"), "dim": _int(1)}))
    add(Spec("channels.choi_to_kraus", channels.choi_to_kraus, lambda: dict(J=np.eye(4), atol=1e-10),
             {"J": MAT, "atol": NONNEG}))
    for fname in ("super_to_kraus", "is_completely_positive", "is_trace_preserving", "is_cptp"):
        add(Spec(f"channels.{fname}", getattr(channels, fname), lambda: dict(S=np.eye(4), atol=1e-10),
                 {"S": MAT, "atol": NONNEG}))
    add(Spec("channels.trace_preservation_error", channels.trace_preservation_error,
             lambda: dict(kraus=[np.eye(2)], domain=np.array([True, True])), {"kraus": OPS},
             extra=[("float mask", "domain", dict(domain=np.array([1.0, 1.0])), ERROR),
                    ("short mask", "domain", dict(domain=np.array([True])), ERROR),
                    ("str", "domain", dict(domain="ab"), ERROR)]))
    # ---------------- spectral
    for fname in ("classify_modes", "count_modes"):
        add(Spec(f"spectral.{fname}", getattr(spectral, fname), lambda: dict(rates=np.array([-0.5, 0.0, 0.5]), eps=0.1),
                 {"rates": Arg("array", empty_ok=True), "eps": NONNEG}))
    for fname, ref in (("log_moduli", lambda a: np.log(np.abs(a))),
                       ("memory_times", lambda a: np.where(np.abs(a) < 1, -1 / np.log(np.abs(a)), np.inf))):
        add(Spec(f"spectral.{fname}", getattr(spectral, fname), lambda: dict(multipliers=np.array([0.5, 0.9j, 1.0])),
                 {"multipliers": Arg("array", complex_ok=True, empty_ok=True)},   # -inf / inf where documented
                 oracle=lambda kw, r, _ref=ref: np.array_equal(r, _ref(np.asarray(kw["multipliers"], complex)))))
    # ---------------- lindblad
    add(Spec("lindblad.as_operator", lindblad.as_operator, lambda: dict(op=H, name="op", dim=2),
             {"op": MAT, "dim": _int(1, none_ok=True)}))
    add(Spec("lindblad.check_hermitian", lindblad.check_hermitian, lambda: dict(op=H, name="op", atol=1e-10),
             {"op": MAT, "atol": NONNEG}))
    add(Spec("lindblad.check_density_matrix", lindblad.check_density_matrix, lambda: dict(rho=_rho(), name="rho", atol=1e-8),
             {"rho": Arg("matrix", complex_ok=True, ndims=(2, 3), huge_ok=False), "atol": NONNEG}))
    add(Spec("lindblad.check_jump_operators", lindblad.check_jump_operators, lambda: dict(c_ops=C, dim=2),
             {"c_ops": C_OPS, "dim": _int(1)}))
    for fname, names_ in (("spre", ("A",)), ("spost", ("B",)), ("dissipator", ("c",)), ("sprepost", ("A", "B"))):
        add(Spec(f"lindblad.{fname}", getattr(lindblad, fname), lambda _n=names_: {**{n: H for n in _n}, "sparse": False},
                 {**{n: MAT for n in names_}, "sparse": FLAG}))
    for fname in ("liouvillian", "adjoint_liouvillian"):
        add(Spec(f"lindblad.{fname}", getattr(lindblad, fname), lambda: dict(H=H, c_ops=C, sparse=False),
                 {"H": MAT, "c_ops": C_OPS, "sparse": FLAG}))
    add(Spec("lindblad.apply_super", lindblad.apply_super, lambda: dict(S=_L(), rho=_rho()),
             {"S": MAT, "rho": Arg("matrix", complex_ok=True, ndims=(2, 3))}))
    add(Spec("lindblad.is_uniform", lindblad.is_uniform, lambda: dict(times=np.linspace(0, 1, 5), rtol=1e-10),
             {"times": Arg("array"), "rtol": NONNEG}))
    add(Spec("lindblad.choose_method", lindblad.choose_method, lambda: dict(n=4, uniform=True),
             {"n": _int(1), "uniform": FLAG}))
    add(Spec("lindblad.evolve", lindblad.evolve, lambda: dict(L=_L(), rho0=_rho(), times=np.linspace(0, 1, 5), method="auto"),
             {"L": MAT, "rho0": Arg("matrix", complex_ok=True, ndims=(2, 3), huge_ok=False), "times": Arg("array"),
              "method": Arg("choice")},
             extra=[("not trace preserving", "L", dict(L=_L() - 0.3 * np.eye(4)), ERROR)]))
    add(Spec("lindblad.evolve_torch", lindblad.evolve_torch, lambda: dict(L=_L(), rho0=_rho(), times=np.linspace(0, 1, 5)),
             {"L": Arg("matrix", complex_ok=True, ndims=(2, 3)), "rho0": Arg("matrix", complex_ok=True, ndims=(2, 3),
                                                                            huge_ok=False),
              "times": Arg("array")},
             extra=[("not trace preserving", "L", dict(L=_L() - 0.3 * np.eye(4)), ERROR),
                    ("dtype float", "dtype", dict(dtype=torch.float64), ERROR)]))
    add(Spec("lindblad.steady_state", lindblad.steady_state, lambda: dict(L=_L()), {"L": MAT}))
    add(Spec("lindblad.classify_eigenvalues", lindblad.classify_eigenvalues,
             lambda: dict(eigenvalues=np.array([0.0, -1 + 1j]), eps=0.1),
             {"eigenvalues": Arg("array", complex_ok=True, empty_ok=True), "eps": NONNEG}))
    add(Spec("lindblad.spectrum", lindblad.spectrum, lambda: dict(L=_L(), eps=1e-9), {"L": MAT, "eps": NONNEG}))
    STATE = Arg("matrix", complex_ok=True, ndims=(2, 3), huge_ok=False)
    for fname in ("purity", "bloch_vector"):
        add(Spec(f"lindblad.{fname}", getattr(lindblad, fname), lambda: dict(rho=_rho()), {"rho": STATE},
                 extra=[("unnormalised", "rho", dict(rho=2 * _rho()), ERROR),
                        ("not hermitian", "rho", dict(rho=np.array([[0.5, 0.4], [0.0, 0.5]])), ERROR),
                        ("not positive", "rho", dict(rho=np.diag([1.5, -0.5])), ERROR)]))
    add(Spec("lindblad.von_neumann_entropy", lindblad.von_neumann_entropy, lambda: dict(rho=_rho(), base=2.0),
             {"rho": STATE, "base": Arg("real", low=1, low_open=True)},
             extra=[("unnormalised", "rho", dict(rho=2 * _rho()), ERROR),
                    ("not hermitian", "rho", dict(rho=np.array([[0.5, 0.4], [0.0, 0.5]])), ERROR),
                    ("base 1", "base", dict(base=1.0), ERROR)]))
    add(Spec("lindblad.pure_state", lindblad.pure_state, lambda: dict(psi=np.array([1.0, 1.0j])),
             {"psi": Arg("array", complex_ok=True, ndims=(1, 2))}))
    add(Spec("lindblad.no_jump_probability", lindblad.no_jump_probability,
             lambda: dict(H=H, c_ops=C, psi0=np.array([1.0, 0.0]), t=0.5),
             {"H": MAT, "c_ops": C_OPS, "psi0": Arg("array", complex_ok=True), "t": NONNEG}))
    add(Spec("lindblad.quantum_jumps", lindblad.quantum_jumps,
             lambda: dict(H=H, c_ops=C, psi0=np.array([1.0, 0.0]), times=np.linspace(0, 1, 4), n_traj=3, seed=0,
                          e_ops=[H], bisection_steps=20),
             {"H": MAT, "c_ops": OPS, "psi0": Arg("array", complex_ok=True), "times": Arg("array"), "n_traj": _int(1),
              "seed": SEED, "e_ops": OPS, "bisection_steps": _int(1)}))
    add(Spec("lindblad.amplitude_damping", lindblad.amplitude_damping, lambda: dict(gamma=0.1, omega=1.0, n_thermal=0.5),
             {"gamma": NONNEG, "omega": REAL, "n_thermal": NONNEG}))
    add(Spec("lindblad.dephasing", lindblad.dephasing, lambda: dict(gamma=0.1, omega=1.0), {"gamma": NONNEG, "omega": REAL}))
    add(Spec("lindblad.driven_damped_qubit", lindblad.driven_damped_qubit,
             lambda: dict(rabi=1.0, gamma=0.1, detuning=0.2, gamma_phi=0.05),
             {"rabi": REAL, "gamma": NONNEG, "detuning": REAL, "gamma_phi": NONNEG}))
    add(Spec("lindblad.destroy", lindblad.destroy, lambda: dict(n_levels=3), {"n_levels": _int(2)}))
    add(Spec("lindblad.damped_oscillator", lindblad.damped_oscillator,
             lambda: dict(n_levels=3, omega=1.0, kappa=0.1, n_thermal=0.2, drive=0.3),
             {"n_levels": _int(2), "omega": REAL, "kappa": NONNEG, "n_thermal": NONNEG, "drive": REAL}))
    add(Spec("lindblad.spin_chain", lindblad.spin_chain,
             lambda: dict(n_sites=2, coupling=1.0, field=1.0, gamma=0.1, gamma_phi=0.05),
             {"n_sites": _int(1, 8), "coupling": REAL, "field": REAL, "gamma": NONNEG, "gamma_phi": NONNEG}))
    add(Spec("lindblad.OpenSystem.liouvillian", lambda sparse: lindblad.amplitude_damping(0.1).liouvillian(sparse),
             lambda: dict(sparse=False), {"sparse": FLAG}))
    add(Spec("lindblad.JumpResult.expect_mean",
             lambda e_ops: lindblad.quantum_jumps(H, C, [1, 0], [0, 1], 2, 0, e_ops=e_ops).expect_mean(),
             lambda: dict(e_ops=[H]), {}, extra=[("without e_ops", "e_ops", dict(e_ops=()), ERROR)]))
    # ---------------- koopman
    X = Arg("matrix", complex_ok=True)
    add(Spec("koopman.propagator", koopman.propagator, lambda: dict(generator=np.array([[-0.1, 1.0], [-1.0, -0.1]]),
                                                                   t=np.array([0.0, 0.5])),
             {"generator": Arg("matrix", complex_ok=True, ndims=(1, 2)), "t": Arg("array", ndims=(0, 1))}))
    add(Spec("koopman.continuous_time", koopman.continuous_time, lambda: dict(eigs=np.array([0.9, 0.5j]), dt=0.1),
             {"eigs": Arg("array", complex_ok=True, empty_ok=True, ndims=(0, 1, 2)), "dt": POS}))
    add(Spec("koopman.dmd", koopman.dmd, lambda: dict(X=_snapshots(), Y=None, rank=2, dt=0.5),
             {"X": Arg("array", complex_ok=True), "rank": OPT_K, "dt": POS}))
    add(Spec("koopman.edmd", koopman.edmd,
             lambda: dict(X=_snapshots()[:, :-1], Y=_snapshots()[:, 1:], dictionary=koopman.monomials(1), dt=0.5),
             {"X": Arg("array", complex_ok=True), "Y": Arg("array", complex_ok=True, none_ok=True), "dictionary": Arg("callable"),
              "dt": POS}))
    add(Spec("koopman.dmd_control", koopman.dmd_control,
             lambda: dict(X=_snapshots()[:, :-1], Y=_snapshots()[:, 1:], U=np.ones((1, 5)), rank=None, dt=0.5),
             {"X": Arg("array", complex_ok=True), "Y": Arg("array", complex_ok=True, none_ok=True),
              "U": Arg("array", complex_ok=True),
              "rank": OPT_K, "dt": POS}))
    add(Spec("koopman.hankel", koopman.hankel, lambda: dict(X=np.arange(6.0), d=2),
             {"X": Arg("array", complex_ok=True, ndims=(1, 2)), "d": _int(1)}))
    add(Spec("koopman.monomials", koopman.monomials, lambda: dict(degree=2), {"degree": _int(0)}))
    add(Spec("koopman.Monomials", koopman.Monomials, lambda: dict(degree=2), {"degree": _int(0)}))
    add(Spec("koopman.Monomials.__call__", lambda X, degree: koopman.monomials(degree)(X),
             lambda: dict(X=_snapshots(), degree=2), {"X": Arg("array", complex_ok=True)},
             extra=[("10 variables at degree 12", "degree", dict(X=np.ones((10, 3)), degree=12), ERROR)]))
    add(Spec("koopman.Monomials.powers", lambda dim: koopman.monomials(2).powers(dim), lambda: dict(dim=2),
             {"dim": _int(1)}))
    add(Spec("koopman.DMDResult.reconstruct", lambda n_steps: koopman.dmd(_snapshots()).reconstruct(n_steps),
             lambda: dict(n_steps=4), {"n_steps": _int(1)}))
    add(Spec("koopman.slow_manifold", koopman.slow_manifold, lambda: dict(mu=-0.05, lam=-1.0), {"mu": REAL, "lam": REAL}))
    add(Spec("koopman.SlowManifold", koopman.SlowManifold, lambda: dict(mu=-0.05, lam=-1.0), {"mu": REAL, "lam": REAL}))
    add(Spec("koopman.SlowManifold.flow", lambda x0, y0, t: koopman.slow_manifold().flow(x0, y0, t),
             lambda: dict(x0=0.5, y0=0.2, t=np.linspace(0, 2, 5)),
             {"x0": REAL, "y0": REAL, "t": Arg("array", empty_ok=True)}))
    add(Spec("koopman.SlowManifold.lift", koopman.SlowManifold.lift, lambda: dict(states=np.ones((2, 3))),
             {"states": Arg("array")}))
    add(Spec("koopman.SlowManifold.generator_eigenvalues",
             lambda max_degree: koopman.slow_manifold().generator_eigenvalues(max_degree), lambda: dict(max_degree=2),
             {"max_degree": _int(0)}))
    # ---------------- measurement
    add(Spec("measurement.gaussian_update", measurement.gaussian_update,
             lambda: dict(mean=np.array([0.1, 0.2]), precision=np.eye(2), W=np.array([[1.0, 0.5]]), v=np.array([0.3]),
                          sigma2=0.5),
             {"mean": Arg("array", complex_ok=True), "precision": Arg("matrix", complex_ok=True, huge_ok=False),
              "W": Arg("array", complex_ok=True, huge_ok=False), "v": Arg("array", complex_ok=True), "sigma2": POS},
             extra=[("negative precision", "precision", dict(precision=-np.eye(2)), ERROR),
                    ("indefinite sigma2", "sigma2", dict(sigma2=np.array([[1.0]]) * -1), ERROR),
                    ("non-Hermitian precision", "precision", dict(precision=np.array([[1.0, 1.0], [0.0, 1.0]])), ERROR),
                    ("singular posterior", "precision", dict(precision=np.zeros((2, 2))), ERROR)]))
    add(Spec("measurement.kalman_filter", measurement.kalman_filter,
             lambda: dict(y=np.ones((4, 1)), F=np.array([[0.9]]), Q=np.array([[0.1]]), R=np.array([[0.5]]),
                          H=None, u=None, m0=None, P0=None),
             {"y": Arg("array", complex_ok=True), "F": Arg("matrix", complex_ok=True, huge_ok=False),
              "Q": Arg("matrix", complex_ok=True, huge_ok=False), "R": Arg("matrix", complex_ok=True, huge_ok=False)},
             extra=[("negative Q", "Q", dict(Q=np.array([[-0.1]])), ERROR),
                    ("non-Hermitian Q", "Q", dict(y=np.ones((4, 2)), F=np.eye(2), Q=np.array([[1.0, 1.0], [0.0, 1.0]]),
                                                  R=np.eye(2)), ERROR),
                    ("negative R", "R", dict(R=np.array([[-0.5]])), ERROR),
                    ("zero R", "R", dict(R=np.array([[0.0]])), ERROR),
                    ("indefinite P0", "P0", dict(y=np.ones((4, 2)), F=np.eye(2), Q=np.eye(2), R=np.eye(2),
                                                 P0=np.array([[1.0, 2.0], [2.0, 1.0]])), ERROR),
                    ("F = 1e200 I", "F", dict(F=np.array([[1e200]])), ERROR),
                    ("nan u", "u", dict(u=np.full((4, 1), NAN)), ERROR),
                    ("nan m0", "m0", dict(m0=np.array([NAN])), ERROR),
                    ("wrong H", "H", dict(H=np.ones((2, 2))), ERROR)]))
    add(Spec("measurement.steady_state_gain", measurement.steady_state_gain, lambda: dict(r=0.1, q=0.3, sigma2=0.5),
             {"r": REAL, "q": POS, "sigma2": POS}, oracle=_scalar_oracle(_gain_reference, ("r", "q", "sigma2"))))
    add(Spec("measurement.noise_ratio", measurement.noise_ratio, lambda: dict(r=0.1, g=0.4),
             {"r": REAL, "g": Arg("real", low=0, high=1, low_open=True, high_open=True)},
             oracle=_scalar_oracle(_noise_ratio_reference, ("r", "g"))))
    add(Spec("measurement.pointer_wavefunction", measurement.pointer_wavefunction,
             lambda: dict(q=np.array([-0.5, 0.0, 1.0]), sigma=0.7),
             {"q": Arg("array", ndims=(0, 1, 2), empty_ok=True), "sigma": POS}, oracle=_pointer_oracle))
    add(Spec("measurement.pointer_kraus", measurement.pointer_kraus, lambda: dict(A=SZ2, sigma=0.7, q=0.2),
             {"A": Arg("matrix", complex_ok=True, huge_ok=False), "sigma": POS, "q": REAL},
             extra=[("not Hermitian", "A", dict(A=np.array([[1.0, 2.0], [0.0, 1.0]])), ERROR)]))
    add(Spec("measurement.weak_value", measurement.weak_value,
             lambda: dict(A=SZ2, pre=np.array([1.0, 1.0]), post=np.array([1.0, 0.2])),
             {"A": Arg("matrix", complex_ok=True), "pre": Arg("array", complex_ok=True),
              "post": Arg("array", complex_ok=True)}))
    psi3 = np.array([0.6, 0.5, 0.62])
    A3 = np.diag([1.0, -1.0, 0.5])
    add(Spec("measurement.weak_update", measurement.weak_update,
             lambda: dict(A=A3, psi=psi3, q=0.7, sigma=10.0, form="typical"),
             {"A": Arg("matrix", complex_ok=True, huge_ok=False), "psi": Arg("array", complex_ok=True),
              "q": REAL, "sigma": POS, "form": Arg("choice")},
             extra=[("not Hermitian", "A", dict(A=np.array([[1.0, 2.0, 0], [0.0, 1.0, 0], [0, 0, 1.0]])), ERROR),
                    ("zero state", "psi", dict(psi=np.zeros(3)), ERROR)]))
    add(Spec("measurement.sse_step", measurement.sse_step, lambda: dict(A=A3, psi=psi3, dW=0.1, k=1.0, dt=0.01),
             {"A": Arg("matrix", complex_ok=True, huge_ok=False), "psi": Arg("array", complex_ok=True),
              "dW": REAL, "k": NONNEG, "dt": NONNEG}))
    add(Spec("measurement.averaged_state", measurement.averaged_state,
             lambda: dict(A=A3, psi=psi3, sigma=2.0, form="kraus", nodes=60),
             {"A": Arg("matrix", complex_ok=True, huge_ok=False), "psi": Arg("array", complex_ok=True),
              "sigma": POS, "form": Arg("choice"), "nodes": _int(1, 400)}))
    add(Spec("measurement.postselected_pointer_mean", measurement.postselected_pointer_mean,
             lambda: dict(A=SZ2, pre=np.array([1.0, 1.0]), post=np.array([1.0, 0.2]), sigma=0.7),
             {"A": Arg("matrix", complex_ok=True), "pre": Arg("array", complex_ok=True),
              "post": Arg("array", complex_ok=True), "sigma": POS}))
    add(Spec("measurement.gaussian_kernel", measurement.gaussian_kernel,
             lambda: dict(X=np.array([[0.0, 1.0], [1.0, 0.5]]), Y=np.array([[0.2, 0.1]]), s=0.8),
             {"X": Arg("array"), "Y": Arg("array"), "s": POS}))
    add(Spec("measurement.random_fourier_features", measurement.random_fourier_features,
             lambda: dict(X=np.array([[0.0, 1.0], [1.0, 0.5]]), n_features=8, s=0.8, seed=0),
             {"X": Arg("array"), "n_features": _int(1), "s": POS, "seed": SEED}))
    # ---------------- path_integral
    add(Spec("path_integral.gaussian_integral", pi.gaussian_integral,
             lambda: dict(A=np.array([[2.0, 0.3], [0.3, 1.0]]), b=np.array([0.1, -0.2]), c=0.1, field=None),
             {"A": Arg("matrix", complex_ok=True), "b": Arg("array", complex_ok=True, none_ok=True), "c": NUMBER,
              "field": Arg("choice", none_ok=True)},
             extra=[("not positive definite", "A", dict(A=-np.eye(2)), ERROR)]))
    add(Spec("path_integral.GaussianIntegral.value", lambda A: pi.gaussian_integral(A).value,
             lambda: dict(A=np.eye(2)), {}, extra=[("1e-320 I", "log_value", dict(A=1e-320 * np.eye(2)), ERROR)]))
    add(Spec("path_integral.ou_propagator", pi.ou_propagator, lambda: dict(x0=0.3, x1=-0.2, t=1.0, gamma=1.0, D=0.5),
             {"x0": REAL, "x1": REAL, "t": POS, "gamma": POS, "D": POS},
             oracle=_scalar_oracle(_ou_reference, ("x0", "x1", "t", "gamma", "D"))))
    add(Spec("path_integral.time_sliced_propagator", pi.time_sliced_propagator,
             lambda: dict(x0=0.3, x1=-0.2, t=1.0, N=8, gamma=1.0, D=0.5, scheme="midpoint"),
             {"x0": REAL, "x1": REAL, "t": POS, "N": _int(1, pi.MAX_SLICES), "gamma": POS, "D": POS,
              "scheme": Arg("choice")},
             oracle=_scalar_oracle(_sliced_reference, ("x0", "x1", "t", "N", "gamma", "D", "scheme"), 1e-8)))
    add(Spec("path_integral.tridiagonal_logdet", pi.tridiagonal_logdet,
             lambda: dict(diagonal=np.array([2.0, 2.5, 3.0]), off_diagonal=np.array([-1.0, 0.5j])),
             {"diagonal": Arg("array"), "off_diagonal": Arg("array", complex_ok=True)},
             extra=[("not positive definite", "diagonal", dict(diagonal=np.array([1.0, -2.5, 3.0])), ERROR)],
             oracle=lambda kw, r: np.isclose(r, np.linalg.slogdet(
                 np.diag(kw["diagonal"]) + np.diag(kw["off_diagonal"], -1)
                 + np.diag(np.conj(kw["off_diagonal"]), 1))[1], rtol=1e-12)))
    add(Spec("path_integral.gelfand_yaglom", pi.gelfand_yaglom, lambda: dict(omega=1.3, T=2.0, N=40, log=False),
             {"omega": NONNEG, "T": POS, "N": _int(1, pi.MAX_SLICES), "log": FLAG},
             oracle=lambda kw, r: _mp_close(r, mpmath.log(_gy_reference(kw["omega"], kw["T"], kw["N"])) if kw["log"]
                                            else _gy_reference(kw["omega"], kw["T"], kw["N"]), 1e-9)))
    add(Spec("path_integral.mehler_kernel", pi.mehler_kernel,
             lambda: dict(xa=np.array([0.3, -0.5]), xb=0.7, t=0.4, omega=1.1, euclidean=True, mass=1.0, hbar=1.0),
             {"xa": Arg("array", ndims=(0, 1, 2), empty_ok=True), "xb": Arg("array", ndims=(0, 1, 2), empty_ok=True),
              "t": POS, "omega": POS, "euclidean": FLAG, "mass": POS, "hbar": POS}, oracle=_mehler_oracle))
    add(Spec("path_integral.lattice_gap", pi.lattice_gap, lambda: dict(a=0.5, omega=1.0, n_sites=64),
             {"a": POS, "omega": POS, "n_sites": _int(8, pi.MAX_SITES)}, oracle=_lattice_oracle))
    add(Spec("path_integral.ModeAction", pi.ModeAction, _action,
             {"c": Arg("array", complex_ok=True), "lam": NUMBER, "q": POS, "sigma2": POS,
              "u": Arg("array", complex_ok=True, none_ok=True), "m0": NUMBER, "p0": POS},
             extra=[("growth e^(2 Re lam) beyond doubles", "lam", dict(lam=400.0), ERROR)]))
    add(Spec("path_integral.ModeAction.quadratic_form", lambda T: pi.ModeAction(**_action()).quadratic_form(T),
             lambda: dict(T=3), {"T": _int(0, 6)}))
    add(Spec("path_integral.ModeAction.action", lambda path: pi.ModeAction(**_action()).action(path),
             lambda: dict(path=np.zeros(7, dtype=complex)), {"path": Arg("array", complex_ok=True)}))
    for fname in ("filter_from_action", "smoother_from_action", "log_evidence"):
        add(Spec(f"path_integral.{fname}", getattr(pi, fname), lambda: dict(action=pi.ModeAction(**_action())),
                 {"action": Arg("object")}))
    return S


SZ2 = np.diag([1.0, -1.0])
_TMP = Path(__import__("tempfile").mkdtemp(prefix="genphys-bad-inputs-"))
__import__("atexit").register(__import__("shutil").rmtree, _TMP, ignore_errors=True)
_CORPUS = stories.write_corpus(_TMP / "corpus.txt", 2, 0)["path"]

#: Public callables that the generated suite does not spoil, and why.
EXEMPT = {
    "histories.GAISystem": "an abstract base class (subclasses are specified)",
    "histories.ChiSquare": "a result record the package builds",
    "histories.Node": "a node of the tree history_tree builds",
    "stories.StorySourceModel": "takes no argument (its conditional is specified)",
    "stories.main": "the command line; tests/test_stories.py spoils its arguments",
    "lindblad.Spectrum": "a result record the package builds",
    "lindblad.JumpResult": "a result record the package builds (expect_mean is specified)",
    "lindblad.OpenSystem": "a result record the package builds (its liouvillian is specified)",
    "koopman.DMDResult": "a result record the package builds (reconstruct is specified)",
    "koopman.ControlResult": "a result record the package builds",
    "koopman.classify_modes": "spectral.classify_modes, re-exported",
    "measurement.KalmanResult": "a result record the package builds",
    "path_integral.GaussianIntegral": "a result record the package builds (value is specified)",
}

SPECS = _specs() + _specs_physics()


def public_callables() -> list[str]:
    """``module.name`` of every public callable of the chapter modules: ``__all__`` where a module has
    one, else the functions and classes it defines whose names do not start with ``_``."""
    out = []
    for mod_name in CHAPTER_MODULES:
        module = importlib.import_module(f"genphys.{mod_name}")
        names_ = getattr(module, "__all__", None)
        if names_ is None:
            names_ = [n for n, obj in vars(module).items() if not n.startswith("_")
                      and (inspect.isfunction(obj) or inspect.isclass(obj))
                      and getattr(obj, "__module__", None) == module.__name__]
        for n in names_:
            obj = getattr(module, n)
            if callable(obj) and not (inspect.isclass(obj) and issubclass(obj, BaseException)):
                out.append(f"{mod_name}.{n}")
    return sorted(out)


_RESULTS: dict[str, list] = {}


def results_of(spec: Spec) -> list:
    """[(case, outcome, detail)] of every spoiled call of ``spec`` (computed once)."""
    if spec.name not in _RESULTS:
        _RESULTS[spec.name] = [(case, *spoil.run_case(spec, case, overrides)) for case, overrides in spoil.cases(spec)]
    return _RESULTS[spec.name]


def all_results() -> list:
    return [row for spec in SPECS for row in results_of(spec)]


def test_every_public_callable_of_every_chapter_module_is_specified():
    specified = {s.name for s in SPECS}
    missing = [name for name in public_callables()
               if name not in EXEMPT and name not in specified and not any(s.startswith(name + ".") for s in specified)]
    assert not missing, f"public callables without a bad-input spec (add one to SPECS, or to EXEMPT with a reason): {missing}"
    assert len(SPECS) >= 150


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_spoiled_arguments_are_refused_by_name_or_answered_right(spec):
    spec.call(**spec.valid())                              # the valid call works (else the spec is wrong)
    failures = [f"{case.argument} <- {case.label}: {outcome}: {detail}"
                for case, outcome, detail in results_of(spec) if outcome in spoil.FAILURES]
    assert not failures, f"{spec.name}:\n  " + "\n  ".join(failures)


def test_summary_counts_zero_silent_garbage_and_at_least_97_percent_clear_errors():
    counts = spoil.tally(outcome for _, outcome, _ in all_results())
    print(f"\nbad-input suite: {counts['total']} spoiled calls of {len(SPECS)} callables: "
          f"{counts['clear']} clear errors, {counts['answer']} documented answers, {counts['failures']} failures "
          f"({', '.join(f'{k} {counts[k]}' for k in spoil.FAILURES)})")
    assert counts["silent"] == 0
    assert counts["failures"] == 0
    errors_due = sum(1 for case, _, _ in all_results() if case.expect == ERROR)
    clear_where_due = sum(1 for case, outcome, _ in all_results() if case.expect == ERROR and outcome == "clear")
    assert clear_where_due >= 0.97 * errors_due


if __name__ == "__main__":                                  # python tests/test_bad_inputs.py: the table of outcomes
    rows = all_results()
    for case, outcome, detail in rows:
        if outcome in spoil.FAILURES:
            print(f"{outcome:8s} {case.spec}({case.argument} <- {case.label}): {detail[:160]}")
    counts = spoil.tally(outcome for _, outcome, _ in rows)
    print(__import__("json").dumps({"callables": len(SPECS), **counts}))
