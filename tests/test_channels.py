"""genphys.channels: Kraus, superoperator and Choi representations of one channel, against QuTiP."""

import numpy as np
import pytest
import qutip
from scipy import sparse

from genphys import channels


def random_kraus(d: int, n: int, seed: int) -> list[np.ndarray]:
    """n Kraus operators of a random CPTP map on C^d (an isometry cut into blocks)."""
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n * d, d)) + 1j * rng.normal(size=(n * d, d))
    W, _ = np.linalg.qr(G)                          # (n d, d) with W^dag W = I
    return [W[k * d:(k + 1) * d] for k in range(n)]


def test_vectorisation_is_column_stacking_as_qutip():
    R = np.arange(9.0).reshape(3, 3) + 1j
    assert np.array_equal(channels.vec(R), R.flatten(order="F"))
    assert np.abs(channels.vec(R) - qutip.operator_to_vector(qutip.Qobj(R)).full().ravel()).max() < 1e-15
    batch = np.random.default_rng(0).normal(size=(2, 3, 3))
    assert np.array_equal(channels.unvec(channels.vec(batch)), batch)


@pytest.mark.parametrize("d, n", [(2, 1), (2, 3), (3, 4)])
def test_the_three_representations_agree_with_qutip(d, n):
    kraus = random_kraus(d, n, seed=d + n)
    S = channels.kraus_to_super(kraus)
    theirs_S = qutip.kraus_to_super([qutip.Qobj(k) for k in kraus]).full()
    assert np.abs(S - theirs_S).max() < 1e-12
    J = channels.kraus_to_choi(kraus)
    assert np.abs(J - qutip.to_choi(qutip.kraus_to_super([qutip.Qobj(k) for k in kraus])).full()).max() < 1e-12
    assert np.abs(channels.choi_to_super(J) - S).max() < 1e-15
    rho = np.eye(d) / d + 0.1 * (np.eye(d, k=1) + np.eye(d, k=-1))
    assert np.abs(channels.apply_kraus(kraus, rho) - channels.unvec(S @ channels.vec(rho))).max() < 1e-12
    assert np.abs(channels.map_to_choi(lambda r: channels.apply_kraus(kraus, r), d) - J).max() < 1e-12


def test_minimal_kraus_form_reproduces_the_channel():
    kraus = random_kraus(3, 2, seed=7)
    S = channels.kraus_to_super(kraus)
    back = channels.super_to_kraus(S, atol=1e-13)
    assert len(back) == 2                           # the Choi rank
    assert np.abs(channels.kraus_to_super(back) - S).max() < 1e-12
    assert channels.trace_preservation_error(back) < 1e-12


def test_cptp_checks_catch_the_transpose_and_a_lossy_map():
    transpose = channels.choi_to_super(np.eye(4)[[0, 2, 1, 3]])       # the swap is the Choi matrix of T
    rho = np.array([[0.6, 0.2 - 0.1j], [0.2 + 0.1j, 0.4]])
    assert np.allclose(channels.unvec(transpose @ channels.vec(rho)), rho.T)
    assert channels.is_trace_preserving(transpose) and not channels.is_completely_positive(transpose)
    assert not channels.is_cptp(transpose)
    assert abs(np.linalg.eigvalsh(channels.map_to_choi(np.transpose, 3))[0] + 1) < 1e-12
    lossy = channels.kraus_to_super([0.9 * np.eye(2)])
    assert channels.is_completely_positive(lossy) and not channels.is_trace_preserving(lossy)
    assert abs(channels.trace_preservation_error([0.9 * np.eye(2)]) - 0.19) < 1e-15
    with pytest.raises(ValueError, match="not completely positive"):
        channels.super_to_kraus(transpose)


def test_sparse_and_dense_kraus_give_the_same_checks():
    kraus = random_kraus(3, 2, seed=1)
    as_sparse = [sparse.csr_matrix(k) for k in kraus]
    assert channels.trace_preservation_error(as_sparse) == pytest.approx(channels.trace_preservation_error(kraus), abs=1e-15)
    assert np.abs(channels.kraus_to_choi(as_sparse) - channels.kraus_to_choi(kraus)).max() == 0.0
    domain = np.array([True, True, False])
    P = np.diag([1.0, 1.0, 0.0])
    assert channels.trace_preservation_error([P], domain) == 0.0
    assert channels.trace_preservation_error([P]) == 1.0


@pytest.mark.parametrize("call, error, match", [
    (lambda: channels.kraus_to_super([]), ValueError, "at least one"),
    (lambda: channels.kraus_to_super(np.eye(2)), TypeError, "wrap a single"),
    (lambda: channels.kraus_to_super([np.eye(2), np.eye(3)]), ValueError, r"kraus\[1\]"),
    (lambda: channels.kraus_to_super([np.array([[np.nan, 0], [0, 1]])]), ValueError, "NaN"),
    (lambda: channels.kraus_to_super([sparse.csr_matrix(np.array([[np.inf, 0], [0, 1]]))]), ValueError, "NaN"),
    (lambda: channels.super_to_choi(np.eye(3)), ValueError, "d\\^2"),
    (lambda: channels.choi_to_kraus(np.eye(4), atol=float("nan")), ValueError, "atol"),
    (lambda: channels.map_to_choi(np.eye(2), 2), TypeError, "callable"),
    (lambda: channels.map_to_choi(lambda r: r[:1], 2), ValueError, "linear_map"),
    (lambda: channels.trace_preservation_error([np.eye(2)], [1, 0]), ValueError, "domain"),
    (lambda: channels.unvec(np.zeros(5)), ValueError, "d\\^2"),
])
def test_bad_input_is_refused_with_the_arguments_name(call, error, match):
    with pytest.raises(error, match=match):
        call()
