"""genphys.koopman: closed forms, PyDMD and QuTiP as oracles for propagators, DMD, EDMD, DMDc and Hankel DMD."""

import numpy as np
import pytest
import qutip
import scipy.linalg

from genphys import koopman, lindblad

MU, LAM = -0.05, -1.0


def match(found, expected) -> float:
    """Largest distance from each expected eigenvalue to its nearest found one, and back."""
    found, expected = np.asarray(found), np.asarray(expected)
    d = np.abs(found[:, None] - expected[None, :])
    return float(max(d.min(axis=0).max(), d.min(axis=1).max()))


def slow_manifold_snapshots(dt=0.1, n=60, starts=((1.0, 0.5),)):
    system = koopman.slow_manifold(MU, LAM)
    t = dt * np.arange(n)
    return system, [system.flow(x0, y0, t) for x0, y0 in starts]


# ----------------------------------------------------------------------------- propagators

def test_propagator_of_a_diagonal_generator_and_a_matrix_agree():
    K = np.array([[-0.3, 1.0], [0.0, 0.2]])
    lam, V = np.linalg.eig(K)
    t = np.linspace(0, 2, 5)
    via_eigs = np.einsum("ij,tj,jk->tik", V, koopman.propagator(lam, t), np.linalg.inv(V))
    assert np.abs(koopman.propagator(K, t) - via_eigs).max() < 1e-12
    assert np.abs(koopman.propagator(K, 0.7) - scipy.linalg.expm(0.7 * K)).max() < 1e-14
    P = koopman.propagator(K, t)
    assert np.abs(P[2] @ P[2] - P[4]).max() < 1e-12              # semigroup: exp(sK) exp(sK) = exp(2sK)


def test_slow_manifold_exact_solution_is_the_lifted_linear_flow():
    system, (traj,) = slow_manifold_snapshots(dt=0.25, n=40, starts=((1.3, -0.4),))
    lifted = system.lift(traj)
    t = 0.25 * np.arange(40)
    linear = np.einsum("tij,j->it", koopman.propagator(system.generator(), t), lifted[:, 0])
    assert np.abs(linear - lifted).max() < 1e-12


def test_dmd_on_an_invariant_subspace_is_exact_and_without_one_is_not():
    system, (traj,) = slow_manifold_snapshots()
    lifted = koopman.dmd(system.lift(traj), dt=0.1)
    assert match(lifted.continuous_eigs, [MU, LAM, 2 * MU]) < 1e-10
    assert np.abs(lifted.reconstruct(60) - system.lift(traj)).max() < 1e-10
    plain = koopman.dmd(traj, dt=0.1)                             # (x, y): not invariant
    assert match(plain.continuous_eigs, [MU, LAM]) > 0.05


def test_edmd_with_an_invariant_dictionary_finds_every_eigenvalue():
    system, trajs = slow_manifold_snapshots(dt=0.1, n=30, starts=((1.0, 0.5), (-0.7, 1.2), (0.4, -0.9)))
    X = np.hstack([t[:, :-1] for t in trajs])
    Y = np.hstack([t[:, 1:] for t in trajs])

    def dictionary(s):
        x, y = s
        return np.vstack([np.ones_like(x), x, y, x**2, x * y, y**2, x**3, x**2 * y, x**4])

    result = koopman.edmd(X, Y, dictionary, dt=0.1)
    expected = [0, MU, 2 * MU, 3 * MU, 4 * MU, LAM, MU + LAM, 2 * MU + LAM, 2 * LAM]
    assert match(result.continuous_eigs, expected) < 1e-8
    assert match(system.generator_eigenvalues(4), expected) < 1e-15


def test_edmd_of_a_linear_map_with_monomials_and_pydmd_as_second_oracle():
    from pydmd import EDMD

    J = np.array([[0.9, -0.1], [0.0, 0.8]])
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(2, 40))
    Y = J @ X
    result = koopman.edmd(X, Y, koopman.monomials(4))
    expected = [0.9**i * 0.8**j for i in range(5) for j in range(5 - i)]
    assert len(koopman.monomials(4).powers(2)) == len(expected) == 15
    assert match(result.eigs, expected) < 1e-10
    theirs = EDMD(svd_rank=15, kernel_metric="poly", kernel_params={"degree": 4, "coef0": 1.0, "gamma": 1.0})
    theirs.fit(X, Y)
    assert match(np.asarray(theirs.eigs), expected) < 1e-6


def test_pydmd_eigs_are_discrete_and_its_growth_rate_is_not_a_rate():
    """Two traps of PyDMD that chapter 4 teaches: DMD.eigs are per step; growth_rate is eigs.real / dt."""
    from pydmd import DMD

    system, (traj,) = slow_manifold_snapshots()
    data = system.lift(traj)
    theirs = DMD(svd_rank=3).fit(data)
    ours = koopman.dmd(data, rank=3, dt=0.1)
    assert match(np.asarray(theirs.eigs), ours.eigs) < 1e-10
    theirs.original_time["dt"] = theirs.dmd_time["dt"] = 0.1
    assert np.allclose(np.sort(theirs.growth_rate.real), np.sort(ours.eigs.real / 0.1))
    assert match(ours.continuous_eigs.real, np.sort(theirs.growth_rate.real)) > 5   # eigs.real/dt is no rate


def damped_qubit_observables(dt=0.05, n=200, with_constant=True):
    w, g = 2.0, 0.3
    system = lindblad.OpenSystem("damped qubit", 0.5 * w * lindblad.SIGMA_Z, (np.sqrt(g) * lindblad.SIGMA_MINUS,))
    rho0 = lindblad.pure_state(np.array([np.cos(0.4), np.exp(0.3j) * np.sin(0.4)]))
    t = dt * np.arange(n)
    rho = lindblad.evolve(system.liouvillian(), rho0, t)
    obs = lindblad.bloch_vector(rho).T                       # (3, n): <sx>, <sy>, <sz>
    if with_constant:
        obs = np.vstack([np.ones(n), obs])
    return system, obs, (w, g)


def test_damped_qubit_dmd_spectrum_is_the_liouvillians():
    system, obs, (w, g) = damped_qubit_observables()
    result = koopman.dmd(obs, dt=0.05)
    expected = [0, -g, -g / 2 + 1j * w, -g / 2 - 1j * w]
    assert match(result.continuous_eigs, expected) < 1e-9
    L = qutip.liouvillian(qutip.Qobj(system.H), [qutip.Qobj(c) for c in system.c_ops])
    assert match(L.eigenenergies(), expected) < 1e-12


def test_dropping_the_constant_observable_gives_a_spurious_mode():
    _, obs, (w, g) = damped_qubit_observables(with_constant=False)
    result = koopman.dmd(obs, dt=0.05)
    rates = result.continuous_eigs.real
    # <sz> relaxes to -1, an affine motion: the fit has no constant to put it in, and invents a mode
    assert match(result.continuous_eigs, [-g, -g / 2 + 1j * w, -g / 2 - 1j * w]) > 1e-3
    assert np.sort(rates)[-1] > 1e-3                              # a spurious growth mode


def layer_data(n_modes=4, steps=60, seed=0):
    """One complex layer psi_t = a psi_{t-1} + B u_t, with a drive of two real inputs."""
    rng = np.random.default_rng(seed)
    a = np.exp(rng.uniform(-0.4, -0.02, n_modes) + 1j * rng.uniform(-3, 3, n_modes))
    B = rng.normal(size=(n_modes, 2)) + 1j * rng.normal(size=(n_modes, 2))
    u = rng.normal(size=(2, steps))
    psi = np.zeros((n_modes, steps + 1), dtype=complex)
    psi[:, 0] = rng.normal(size=n_modes) + 1j * rng.normal(size=n_modes)
    for t in range(steps):
        psi[:, t + 1] = a * psi[:, t] + B @ u[:, t]
    return a, B, u, psi


def test_chapter7_layer_free_evolution_dmd_and_dmd_with_control():
    a, B, u, psi = layer_data()
    free = (1 + 0.5j * np.arange(a.size))[:, None] * a[:, None] ** np.arange(12)     # (N, 12): no drive
    assert match(koopman.dmd(free).eigs, a) < 1e-12
    control = koopman.dmd_control(psi[:, :-1], psi[:, 1:], u)
    assert match(control.eigs, a) < 1e-10
    assert np.abs(control.B - B).max() < 1e-10
    assert np.abs(control.A - np.diag(a)).max() < 1e-10


def test_chapter7_layer_hankel_dmd_from_real_readouts():
    a, _, _, _ = layer_data(n_modes=3)
    rng = np.random.default_rng(3)
    psi0 = rng.normal(size=3) + 1j * rng.normal(size=3)
    psi = psi0[:, None] * a[:, None] ** np.arange(80)[None, :]
    readout = rng.normal(size=(2, 3)) @ psi.real + rng.normal(size=(2, 3)) @ psi.imag   # two real numbers per token
    H = koopman.hankel(readout, 6)
    assert H.shape == (12, 75)
    result = koopman.dmd(H, rank=6)
    assert match(result.eigs, np.concatenate([a, a.conj()])) < 1e-9


def test_hankel_stacks_delays():
    x = np.arange(6.0)
    assert koopman.hankel(x, 3).tolist() == [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]]


def test_monomials_count_and_values():
    X = np.array([[2.0], [3.0]])
    feats = koopman.monomials(2)(X)[:, 0]
    assert feats.tolist() == [1, 2, 3, 4, 6, 9]
    assert len(koopman.monomials(4).powers(3)) == 35          # C(3 + 4, 4)


def test_classification_is_the_books_one():
    assert koopman.classify_modes is __import__("genphys").spectral.classify_modes


@pytest.mark.parametrize("call, error, match_", [
    (lambda: koopman.dmd(np.array([[1.0, np.nan, 2.0]])), ValueError, "X"),
    (lambda: koopman.dmd(np.ones((2, 1))), ValueError, "X"),
    (lambda: koopman.dmd(np.ones(5)), ValueError, "X"),
    (lambda: koopman.dmd(np.eye(3), rank=4), ValueError, "rank"),
    (lambda: koopman.dmd(np.eye(3), rank=1.5), TypeError, "rank"),
    (lambda: koopman.dmd(np.eye(3), dt=0), ValueError, "dt"),
    (lambda: koopman.dmd(np.eye(3), np.eye(2)), ValueError, "Y"),
    (lambda: koopman.dmd(np.zeros((2, 4))), ValueError, "zero"),
    (lambda: koopman.edmd(np.eye(2), np.eye(2), "poly"), TypeError, "dictionary"),
    (lambda: koopman.edmd(np.eye(2), np.eye(2), lambda s: s[:, :1]), ValueError, "dictionary"),
    (lambda: koopman.dmd_control(np.eye(2), np.eye(2), np.ones((1, 3))), ValueError, "U"),
    (lambda: koopman.hankel(np.ones((2, 4)), 5), ValueError, "d"),
    (lambda: koopman.hankel([[np.inf, 1.0]], 1), ValueError, "X"),
    (lambda: koopman.monomials(-1), ValueError, "degree"),
    (lambda: koopman.propagator([[1.0, 2.0]], 1.0), ValueError, "generator"),
    (lambda: koopman.propagator([1.0], np.nan), ValueError, "t"),
    (lambda: koopman.slow_manifold(-0.5, -1.0), ValueError, "lam"),
    (lambda: koopman.slow_manifold(np.nan, -1.0), ValueError, "mu"),
])
def test_bad_input(call, error, match_):
    with pytest.raises(error, match=match_):
        call()


def test_monomials_keep_their_order_and_refuse_dictionaries_above_max_monomials():
    import itertools
    import math

    def by_definition(degree, dim):
        return [alpha for total in range(degree + 1)
                for alpha in sorted(itertools.product(range(total + 1), repeat=dim), reverse=True) if sum(alpha) == total]
    for dim in (1, 2, 3, 4):
        for degree in range(5):
            powers = koopman.monomials(degree).powers(dim)
            assert powers == by_definition(degree, dim) and len(powers) == math.comb(dim + degree, degree)
    with pytest.raises(ValueError, match=r"degree 12 in dim = 10 variables gives C\(dim \+ degree, degree\) = 646,646"):
        koopman.monomials(12)(np.ones((10, 3)))                      # 646,646 features were allocated before
    assert len(koopman.monomials(4).powers(10)) == 1001 <= koopman.MAX_MONOMIALS
    for bad, error in ((-1, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="degree"):
            koopman.Monomials(bad)


def test_features_and_flows_that_overflow_are_refused():
    with pytest.raises(ValueError, match="X's entries are too large"):
        koopman.monomials(3)(np.full((2, 2), 1e200))
    with pytest.raises(ValueError, match="x0, y0 or t"):
        koopman.slow_manifold(0.5, -1.0).flow(1.0, 0.0, [0.0, 2000.0])
    with pytest.raises(ValueError, match="t or the generator"):
        koopman.propagator(np.array([1.0, -1.0]), [1000.0])
    for bad in (float("nan"), "0.1"):
        with pytest.raises((ValueError, TypeError), match="mu"):
            koopman.SlowManifold(bad, -1.0)
