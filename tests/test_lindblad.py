"""genphys.lindblad against QuTiP 5 (a test-only oracle) and exact identities."""

import numpy as np
import pytest
import qutip
import scipy.linalg
import scipy.sparse
import scipy.optimize
import torch

from genphys import channels
from genphys import lindblad as lb

MODELS = {
    "amplitude damping (thermal)": lambda: lb.amplitude_damping(0.3, omega=1.2, n_thermal=0.2),
    "dephasing": lambda: lb.dephasing(0.4, omega=0.7),
    "driven damped qubit": lambda: lb.driven_damped_qubit(1.3, gamma=0.4, detuning=0.3, gamma_phi=0.1),
    "damped oscillator": lambda: lb.damped_oscillator(7, omega=1.0, kappa=0.25, n_thermal=0.1, drive=0.4),
    "spin chain": lambda: lb.spin_chain(3, coupling=0.8, field=1.1, gamma=0.15, gamma_phi=0.05),
}
UNIQUE_STEADY = [k for k in MODELS if k != "dephasing"]


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """These matrices are small: threaded BLAS only spins against other jobs on a shared machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


def qobjs(system):
    return qutip.Qobj(system.H), [qutip.Qobj(c) for c in system.c_ops]


def random_state(d, rng, rank=None):
    X = rng.normal(size=(d, rank or d)) + 1j * rng.normal(size=(d, rank or d))
    rho = X @ X.conj().T
    return rho / np.trace(rho)


def mesolve_states(system, rho0, times):
    H, c_ops = qobjs(system)
    result = qutip.mesolve(H, qutip.Qobj(rho0), times, c_ops,
                           options={"atol": 1e-13, "rtol": 1e-11, "nsteps": 10**6})
    return np.stack([s.full() for s in result.states])


# ----------------------------------------------------------------------------- the generator

@pytest.mark.parametrize("name", MODELS)
def test_liouvillian_equals_qutip(name):
    system = MODELS[name]()
    H, c_ops = qobjs(system)
    reference = qutip.liouvillian(H, c_ops).full()
    assert np.abs(system.liouvillian() - reference).max() < 1e-12
    assert np.abs(system.liouvillian(sparse=True).toarray() - reference).max() < 1e-12


@pytest.mark.parametrize("name", MODELS)
def test_adjoint_generator_is_the_hilbert_schmidt_adjoint(name):
    system = MODELS[name]()
    L = system.liouvillian()
    Ladj = lb.adjoint_liouvillian(system.H, system.c_ops)
    assert np.abs(Ladj - L.conj().T).max() < 1e-13
    rng = np.random.default_rng(0)
    d = system.dim
    A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = random_state(d, rng)
    lhs = np.trace(A.conj().T @ lb.apply_super(L, rho))
    rhs = np.trace(lb.apply_super(Ladj, A).conj().T @ rho)
    assert abs(lhs - rhs) < 1e-12


def test_vectorisation_identity_and_round_trip():
    rng = np.random.default_rng(1)
    A, B, R = (rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)) for _ in range(3))
    assert np.abs(lb.sprepost(A, B) @ channels.vec(R) - channels.vec(A @ R @ B)).max() < 1e-12
    assert np.abs(lb.spre(A) @ channels.vec(R) - channels.vec(A @ R)).max() < 1e-12
    assert np.abs(lb.spost(B) @ channels.vec(R) - channels.vec(R @ B)).max() < 1e-12
    assert np.array_equal(channels.vec(R), R.flatten(order="F"))
    batch = rng.normal(size=(3, 4, 4))
    assert np.array_equal(channels.unvec(channels.vec(batch)), batch)
    assert np.abs(channels.vec(R) - qutip.operator_to_vector(qutip.Qobj(R)).full().ravel()).max() < 1e-15


def test_generator_is_trace_preserving_and_hermiticity_preserving():
    for system in (f() for f in MODELS.values()):
        L = system.liouvillian()
        d = system.dim
        assert np.abs(channels.vec(np.eye(d)).conj() @ L).max() < 1e-12        # Tr L(rho) = 0
        rho = random_state(d, np.random.default_rng(2))
        out = lb.apply_super(L, rho)
        assert np.abs(out - out.conj().T).max() < 1e-12


# ----------------------------------------------------------------------------- evolution

@pytest.mark.parametrize("method", ["auto", "step", "eig", "krylov", "expm_multiply"])
@pytest.mark.parametrize("name", ["driven damped qubit", "damped oscillator", "spin chain"])
def test_evolution_agrees_with_mesolve(name, method):
    system = MODELS[name]()
    rho0 = random_state(system.dim, np.random.default_rng(3), rank=1)
    times = np.linspace(0.0, 6.0, 121)
    rho = lb.evolve(system.liouvillian(), rho0, times, method=method)
    assert rho.shape == (times.size, system.dim, system.dim)
    assert np.abs(rho - mesolve_states(system, rho0, times)).max() < 1e-8


@pytest.mark.parametrize("method", ["auto", "step", "eig", "expm_multiply"])
def test_evolution_on_a_non_uniform_grid_and_from_a_nonzero_start(method):
    system = MODELS["damped oscillator"]()
    rho0 = random_state(system.dim, np.random.default_rng(4))
    times = 0.5 + np.sort(np.random.default_rng(5).uniform(0, 4, 40))
    rho = lb.evolve(system.liouvillian(), rho0, times, method=method)
    assert np.abs(rho - mesolve_states(system, rho0, times)).max() < 1e-8


def test_a_large_hilbert_space_takes_the_sparse_krylov_path():
    system = lb.damped_oscillator(12, omega=1.0, kappa=0.2, drive=0.3)
    assert lb.choose_method(system.dim**2, uniform=True) == "krylov"
    rho0 = lb.pure_state(np.eye(12)[1])
    times = np.linspace(0, 3, 301)
    rho = lb.evolve(system.liouvillian(sparse=True), rho0, times)
    assert np.abs(rho - mesolve_states(system, rho0, times)).max() < 1e-8


# ----------------------------------------------------------------------------- the method choice

def _expm_states(L, rho0, times):
    """The exact answer by one dense scipy.linalg.expm per time: rho(t) = unvec(exp((t - t0) L) vec rho0)."""
    L = L.toarray() if scipy.sparse.issparse(L) else L
    v = channels.vec(rho0)
    return np.stack([channels.unvec(scipy.linalg.expm((t - times[0]) * L) @ v) for t in times])


def _auto_choice(L, times):
    norm_span = float(np.abs(L.toarray() if scipy.sparse.issparse(L) else L).sum(axis=0).max()) * (times[-1] - times[0])
    nnz = L.nnz if scipy.sparse.issparse(L) else int(np.count_nonzero(L))
    return lb.choose_method(L.shape[0], lb.is_uniform(times), n_times=times.size, nnz=nnz, norm_span=norm_span)


def test_the_method_follows_size_output_times_and_stiffness():
    # small n: the dense step wins whatever the grid length
    assert lb.choose_method(36, True, n_times=2000, nnz=300, norm_span=50.0) == "step"
    # n = 256, a moderate span: a few hundred sparse Arnoldi columns beat a 256^3 expm and T n^2 products
    assert lb.choose_method(256, True, n_times=1000, nnz=2000, norm_span=150.0) == "krylov"
    # the same size with only a few output times and a stiff L (many Krylov columns): one dense expm
    assert lb.choose_method(144, True, n_times=20, nnz=2000, norm_span=5000.0) == "step"
    # above DENSE_LIMIT never dense; non-uniform grids: eig (small) or expm_multiply (large)
    assert lb.choose_method(lb.DENSE_LIMIT + 1, True, n_times=2, nnz=10, norm_span=1e6) == "krylov"
    assert lb.choose_method(36, False, n_times=100, nnz=300, norm_span=5.0) == "eig"
    assert lb.choose_method(256, False) == "expm_multiply"
    # without the problem's sparsity and span: the size rule
    assert lb.choose_method(lb.DENSE_MAX, True) == "step" and lb.choose_method(lb.DENSE_MAX + 1, True) == "krylov"
    with pytest.raises(ValueError, match="n_times"):
        lb.choose_method(4, True, n_times=0)
    with pytest.raises(ValueError, match="norm_span"):
        lb.choose_method(4, True, nnz=3, norm_span=-1.0)
    with pytest.raises(TypeError, match="nnz"):
        lb.choose_method(4, True, nnz=3.5, norm_span=1.0)


def test_each_chosen_method_is_exact_where_it_is_chosen():
    from genphys import open_systems

    rng = np.random.default_rng(11)
    cases = [  # (system, times, the method auto must choose)
        (open_systems.jaynes_cummings(3), np.linspace(0, 10, 400), "step"),
        (open_systems.kerr_oscillator(16), np.linspace(0, 10, 1000), "krylov"),
        (open_systems.kerr_oscillator(12, kerr=2.0, drive=2.0), np.linspace(0, 2, 11), "step"),     # stiff, few times
        (open_systems.superradiance(5), np.sort(rng.uniform(0, 5, 30)), "eig"),
        (open_systems.ising_chain(4), np.sort(rng.uniform(0, 2, 8)), "expm_multiply"),
    ]
    for system, times, expected in cases:
        L = system.liouvillian(sparse=True)
        assert _auto_choice(L, times) == expected, system.name
        rho0 = random_state(system.dim, rng, rank=1)
        rho = lb.evolve(L, rho0, times)
        idx = np.arange(0, times.size, max(1, times.size // 25))        # exact answers at up to 25 times
        exact = _expm_states(L, rho0, times)[idx] if times.size <= 40 else np.stack(
            [channels.unvec(scipy.linalg.expm((times[k] - times[0]) * L.toarray()) @ channels.vec(rho0)) for k in idx])
        assert np.abs(rho[idx] - exact).max() < 1e-8, system.name
        assert np.abs(np.trace(rho, axis1=1, axis2=2) - 1).max() < 1e-10, system.name


def test_the_krylov_method_agrees_with_mesolve_on_a_long_dense_grid():
    from genphys import open_systems

    system = open_systems.jaynes_cummings(8)                      # 16 states, n = 256: krylov
    times = np.linspace(0, 10, 1000)
    rho0 = lb.pure_state(np.eye(16)[1] + 1j * np.eye(16)[2])
    assert _auto_choice(system.liouvillian(sparse=True), times) == "krylov"
    rho = lb.evolve(system.liouvillian(sparse=True), rho0, times)
    assert np.abs(rho - mesolve_states(system, rho0, times)).max() < 1e-8


def test_batched_evolution_equals_one_by_one_and_the_semigroup_law():
    system = MODELS["spin chain"]()
    rng = np.random.default_rng(6)
    rhos = np.stack([random_state(8, rng) for _ in range(3)])
    times = np.linspace(0, 2, 21)
    L = system.liouvillian()
    batch = lb.evolve(L, rhos, times)
    for b in range(3):
        assert np.abs(batch[b] - lb.evolve(L, rhos[b], times)).max() < 1e-13
    # exp((s+t)L) = exp(sL) exp(tL)
    later = lb.evolve(L, batch[:, 10], times[10:] - times[10])
    assert np.abs(later - batch[:, 10:]).max() < 1e-12


def test_torch_batched_over_parameters_and_states_matches_numpy():
    systems = [lb.driven_damped_qubit(w, gamma=0.5, detuning=0.2) for w in (0.4, 1.0, 2.5)]
    Ls = np.stack([s.liouvillian() for s in systems])
    rhos = np.stack([lb.pure_state([1, 0]), lb.pure_state([1, 1j]), np.eye(2) / 2])
    times = np.linspace(0, 5, 51)
    out = lb.evolve_torch(Ls, rhos, times, device="cpu")
    assert out.shape == (3, 3, 51, 2, 2) and out.dtype == torch.complex128
    for p in range(3):
        for b in range(3):
            assert np.abs(out[p, b].numpy() - lb.evolve(Ls[p], rhos[b], times)).max() < 1e-12
    assert lb.evolve_torch(Ls[0], rhos[0], times, device="cpu").shape == (51, 2, 2)
    assert lb.evolve_torch(Ls, rhos[0], times, device="cpu").shape == (3, 51, 2, 2)
    assert lb.evolve_torch(Ls[0], rhos, times, device="cpu").shape == (3, 51, 2, 2)
    single = lb.evolve_torch(Ls[1], rhos[1], times, device="cpu", dtype=torch.complex64)
    assert np.abs(single.numpy() - lb.evolve(Ls[1], rhos[1], times)).max() < 1e-4
    uneven = np.array([0.0, 0.3, 1.0, 1.1, 2.5])
    assert np.abs(lb.evolve_torch(Ls[2], rhos[0], uneven, device="cpu").numpy()
                  - lb.evolve(Ls[2], rhos[0], uneven)).max() < 1e-12


# ----------------------------------------------------------------------------- steady states, spectrum, CPTP

@pytest.mark.parametrize("name", UNIQUE_STEADY)
def test_steady_state_agrees_with_qutip(name):
    system = MODELS[name]()
    H, c_ops = qobjs(system)
    rho_ss = lb.steady_state(system.liouvillian())
    assert np.abs(rho_ss - qutip.steadystate(H, c_ops).full()).max() < 1e-9
    assert np.abs(lb.apply_super(system.liouvillian(), rho_ss)).max() < 1e-10
    sparse = lb.steady_state(system.liouvillian(sparse=True))
    assert np.abs(sparse - rho_ss).max() < 1e-10


def test_non_unique_steady_state_is_refused_and_counted():
    L = MODELS["dephasing"]().liouvillian()
    with pytest.raises(ValueError, match="not unique"):
        lb.steady_state(L)
    assert lb.spectrum(L).n_stationary == 2


def test_amplitude_damping_spectrum_is_known_in_closed_form():
    gamma, omega = 0.3, 1.7
    spec = lb.spectrum(lb.amplitude_damping(gamma, omega=omega).liouvillian())
    expected = np.array([0, -gamma / 2 + 1j * omega, -gamma / 2 - 1j * omega, -gamma])
    assert np.abs(np.sort_complex(spec.eigenvalues) - np.sort_complex(expected)).max() < 1e-12
    assert spec.kinds.count("stationary") == 1 and spec.kinds.count("decaying") == 3
    assert abs(spec.gap - gamma / 2) < 1e-12
    assert np.all(spec.rates >= -1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_spectrum_matches_qutip_and_the_unitary_limit_only_oscillates(name):
    system = MODELS[name]()
    H, c_ops = qobjs(system)
    ours = lb.spectrum(system.liouvillian()).eigenvalues
    theirs = qutip.liouvillian(H, c_ops).eigenenergies()
    distance = np.abs(ours[:, None] - theirs[None, :])
    rows, cols = scipy.optimize.linear_sum_assignment(distance)     # pair the two lists one-to-one
    assert distance[rows, cols].max() < 1e-9
    unitary = lb.spectrum(system.unitary_limit().liouvillian())
    assert set(unitary.kinds) <= {"stationary", "oscillating"}
    assert unitary.gap == 0.0 and unitary.n_stationary >= system.dim


def test_classification_thresholds():
    kinds = lb.classify_eigenvalues([0, 1e-12 + 2j, -0.5 + 1j, 0.3], eps=1e-9)
    assert kinds == ("stationary", "oscillating", "decaying", "growing")
    with pytest.raises(ValueError, match="eps"):
        lb.classify_eigenvalues([0], eps=-1)


@pytest.mark.parametrize("name", MODELS)
def test_propagators_are_cptp_and_choi_kraus_round_trips(name):
    system = MODELS[name]()
    d = system.dim
    S = scipy.linalg.expm(0.8 * system.liouvillian())
    assert channels.is_cptp(S)
    J = channels.super_to_choi(S)
    reference = qutip.to_choi(qutip.Qobj(S, dims=[[[d], [d]], [[d], [d]]], superrep="super")).full()
    assert np.abs(J - reference).max() < 1e-12
    assert np.abs(channels.choi_to_super(J) - S).max() < 1e-15
    kraus = channels.super_to_kraus(S, atol=1e-14)
    assert np.abs(sum(K.conj().T @ K for K in kraus) - np.eye(d)).max() < 1e-10
    assert np.abs(channels.kraus_to_super(kraus) - S).max() < 1e-10


# ----------------------------------------------------------------------------- information

def test_unitary_evolution_keeps_purity_and_dissipation_forgets():
    system = lb.driven_damped_qubit(1.0, gamma=0.4)
    rho0 = lb.pure_state([1, 0])
    times = np.linspace(0, 20, 201)
    unitary = lb.evolve(system.unitary_limit().liouvillian(), rho0, times)
    damped = lb.evolve(system.liouvillian(), rho0, times)
    assert np.abs(lb.purity(unitary) - 1).max() < 1e-10
    assert np.abs(lb.von_neumann_entropy(unitary)).max() < 1e-6
    assert lb.purity(damped)[-1] < 0.9
    # two different initial states become indistinguishable under dissipation (trace distance -> 0)
    other = lb.evolve(system.liouvillian(), lb.pure_state([0, 1]), times)
    gap = np.abs(np.linalg.eigvalsh(damped - other)).sum(axis=-1) / 2
    assert gap[0] == pytest.approx(1.0) and gap[-1] < 1e-2 and np.all(np.diff(gap) <= 1e-12)


def test_entropy_purity_and_bloch_vector_agree_with_qutip():
    rng = np.random.default_rng(7)
    for d in (2, 3, 5):
        rho = random_state(d, rng)
        assert lb.von_neumann_entropy(rho, base=np.e) == pytest.approx(qutip.entropy_vn(qutip.Qobj(rho)), abs=1e-12)
        assert lb.purity(rho) == pytest.approx((qutip.Qobj(rho) ** 2).tr().real, abs=1e-12)
        assert lb.von_neumann_entropy(np.eye(d) / d) == pytest.approx(np.log2(d), abs=1e-12)
    rho = random_state(2, rng)
    expected = [qutip.expect(op, qutip.Qobj(rho)) for op in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    assert np.abs(lb.bloch_vector(rho) - expected).max() < 1e-12


# ----------------------------------------------------------------------------- quantum jumps

def test_jump_average_converges_to_the_master_equation_within_statistical_error():
    system = lb.driven_damped_qubit(1.5, gamma=0.6, detuning=0.2, gamma_phi=0.1)
    times = np.linspace(0, 8, 161)
    result = lb.quantum_jumps(system.H, system.c_ops, [1, 0], times, n_traj=3000, seed=11,
                              e_ops=[lb.SIGMA_X, lb.SIGMA_Y, lb.SIGMA_Z])
    exact = lb.evolve(system.liouvillian(), lb.pure_state([1, 0]), times)
    expected = np.stack([np.einsum("tij,ji->t", exact, s).real for s in (lb.SIGMA_X, lb.SIGMA_Y, lb.SIGMA_Z)])
    deviation = np.abs(result.expect_mean() - expected)
    # per-trajectory values lie in [-1, 1], so their variance is at most 1 - mean^2 (Bhatia-Davis);
    # the sample SEM alone would be 0 at early times when no trajectory has jumped yet
    sigma = np.sqrt(np.clip(1 - expected**2, 0, None) / result.n_traj)
    assert np.all(deviation <= 4.5 * sigma + 1e-9)                        # 4.5 sigma over ~500 points
    assert np.all(result.expect_sem() <= sigma + 1e-12)
    assert np.abs(lb.bloch_vector(result.rho_mean) - result.expect_mean().T).max() < 1e-12   # consistent


def test_jump_error_shrinks_like_one_over_sqrt_n():
    system = lb.amplitude_damping(0.5, omega=1.0)
    times = np.linspace(0, 6, 61)
    exact = lb.evolve(system.liouvillian(), lb.pure_state([1, 1]), times)
    errors = []
    for n in (200, 3200):
        rho = lb.quantum_jumps(system.H, system.c_ops, [1, 1], times, n_traj=n, seed=3).rho_mean
        errors.append(np.sqrt(np.mean(np.abs(rho - exact) ** 2)))
    ratio = errors[1] / errors[0]                  # expected 1/sqrt(16) = 0.25
    assert 0.12 < ratio < 0.5, ratio


def test_empty_jump_histories_have_the_no_jump_probability():
    system = lb.driven_damped_qubit(1.0, gamma=0.8)
    times = np.linspace(0, 3, 31)
    n = 4000
    result = lb.quantum_jumps(system.H, system.c_ops, [0, 1], times, n_traj=n, seed=5)
    p = lb.no_jump_probability(system.H, system.c_ops, [0, 1], 3.0)
    empirical = np.mean([len(h) == 0 for h in result.histories()])
    assert abs(empirical - p) < 4.5 * np.sqrt(p * (1 - p) / n)
    assert all(0 < t0 <= 3.0 for rec in result.records for t0, _ in rec)
    assert all(np.all(np.diff([t for t, _ in rec]) > 0) for rec in result.records)


def test_jumps_are_seeded_and_channels_are_tokens():
    system = lb.amplitude_damping(0.5, n_thermal=0.5)
    times = np.linspace(0, 5, 51)
    a = lb.quantum_jumps(system.H, system.c_ops, [0, 1], times, 50, seed=2)
    b = lb.quantum_jumps(system.H, system.c_ops, [0, 1], times, 50, seed=2)
    c = lb.quantum_jumps(system.H, system.c_ops, [0, 1], times, 50, seed=3)
    assert a.records == b.records and a.records != c.records
    tokens = {k for h in a.histories() for k in h}
    assert tokens <= {0, 1} and len(tokens) == 2
    # emission (0) and absorption (1) must alternate, since the qubit has two levels
    assert all(h[i] != h[i + 1] for h in a.histories() for i in range(len(h) - 1))


def test_the_defective_no_jump_generator_falls_back_to_expm():
    # rabi = gamma / 2 with no detuning makes H_eff an exceptional point (not diagonalisable)
    system = lb.driven_damped_qubit(0.5, gamma=1.0)
    assert not lb._NoJumpPropagator(system.H, system.c_ops).eig_ok
    times = np.linspace(0, 4, 41)
    result = lb.quantum_jumps(system.H, system.c_ops, [0, 1], times, n_traj=200, seed=1, e_ops=[lb.SIGMA_Z])
    exact = lb.evolve(system.liouvillian(), lb.pure_state([0, 1]), times)
    z = np.einsum("tij,ji->t", exact, lb.SIGMA_Z).real
    sigma = np.sqrt(np.clip(1 - z**2, 0, None) / result.n_traj)
    assert np.all(np.abs(result.expect_mean()[0] - z) <= 4.5 * sigma + 1e-9)


# ----------------------------------------------------------------------------- errors

def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="not Hermitian"):
        lb.liouvillian(np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match="square"):
        lb.liouvillian(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="2x2"):
        lb.liouvillian(np.eye(2), [np.eye(3)])
    with pytest.raises(TypeError, match="sequence"):
        lb.liouvillian(np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="unit trace"):
        lb.check_density_matrix(np.eye(2))
    with pytest.raises(ValueError, match="positive semidefinite"):
        lb.check_density_matrix(np.diag([1.5, -0.5]))
    with pytest.raises(ValueError, match="Hermitian"):
        lb.check_density_matrix(np.array([[0.5, 0.5], [0, 0.5]]))
    L = lb.amplitude_damping(0.1).liouvillian()
    with pytest.raises(ValueError, match="increasing"):
        lb.evolve(L, np.eye(2) / 2, [0, 1, 1])
    with pytest.raises(ValueError, match="method"):
        lb.evolve(L, np.eye(2) / 2, [0, 1], method="rk4")
    with pytest.raises(ValueError, match="d = 2"):
        lb.evolve(L, np.eye(3) / 3, [0, 1])
    with pytest.raises(ValueError, match="d\\^2"):
        lb.evolve(np.eye(3), np.eye(2) / 2, [0, 1])
    with pytest.raises(ValueError, match="n_traj"):
        lb.quantum_jumps(np.eye(2), [np.eye(2)], [1, 0], [0, 1], n_traj=0, seed=0)
    with pytest.raises(ValueError, match="jump operator"):
        lb.quantum_jumps(np.eye(2), [], [1, 0], [0, 1], n_traj=3, seed=0)
    with pytest.raises(ValueError, match="gamma"):
        lb.amplitude_damping(-0.1)
    with pytest.raises(TypeError, match="omega"):
        lb.dephasing(0.1, omega="fast")
    with pytest.raises(ValueError, match="n_levels"):
        lb.damped_oscillator(1)
    with pytest.raises(TypeError, match="dtype"):
        lb.evolve_torch(L, np.eye(2) / 2, [0, 1], device="cpu", dtype=torch.float64)


# ----------------------------------------------------------------------------- states and generators that are not what they claim

@pytest.mark.parametrize("rho, match", [
    (np.eye(2), "unit trace"),                                        # unnormalised
    (np.array([[0.5, 0.4], [0.0, 0.5]]), "not Hermitian"),
    (np.diag([1.5, -0.5]), "not positive semidefinite"),
    (np.array([[[0.5, 0], [0, 0.5]], [[2.0, 0], [0, 0]]]), "unit trace"),   # one bad state in a batch
])
@pytest.mark.parametrize("fn", [lb.purity, lb.von_neumann_entropy, lb.bloch_vector])
def test_information_measures_refuse_what_is_not_a_density_matrix(fn, rho, match):
    with pytest.raises(ValueError, match=f"rho .*{match}|rho {match}|{match}"):
        fn(rho)


def test_information_measures_of_valid_states_agree_with_qutip():
    rng = np.random.default_rng(5)
    for _ in range(3):
        G = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
        rho = G @ G.conj().T
        rho /= np.trace(rho).real
        q = qutip.Qobj(rho)
        assert abs(lb.purity(rho) - q.purity()) < 1e-12
        assert abs(lb.von_neumann_entropy(rho, base=np.e) - qutip.entropy_vn(q)) < 1e-12
        assert np.abs(lb.bloch_vector(rho) - [qutip.expect(s, q) for s in (qutip.sigmax(), qutip.sigmay(),
                                                                          qutip.sigmaz())]).max() < 1e-12
    with pytest.raises(ValueError, match="base"):
        lb.von_neumann_entropy(np.eye(2) / 2, base=0.5)


def test_evolve_refuses_a_generator_that_does_not_preserve_the_trace():
    L = lb.amplitude_damping(0.3).liouvillian()
    rho0, times = np.diag([1.0, 0.0]).astype(complex), np.linspace(0, 2, 5)
    for bad in (L - 0.3 * np.eye(4), L + 0.1 * lb.spre(lb.SIGMA_X)):
        with pytest.raises(ValueError, match="L does not preserve the trace"):
            lb.evolve(bad, rho0, times)
        with pytest.raises(ValueError, match="L does not preserve the trace"):
            lb.evolve(scipy.sparse.csr_matrix(bad), rho0, times)
        with pytest.raises(ValueError, match=r"L\[1\] does not preserve the trace"):
            lb.evolve_torch(np.stack([L, bad]), rho0, times)
    assert np.abs(np.trace(lb.evolve(L, rho0, times), axis1=1, axis2=2) - 1).max() < 1e-12


def test_evolve_refuses_a_state_it_cannot_represent():
    L = lb.amplitude_damping(0.3, omega=1e300).liouvillian()
    with pytest.raises(ValueError, match="evolve: the propagated state overflows"):
        lb.evolve(L, np.eye(2) / 2, [0.0, 1.0, 2.0])
