"""genphys.open_systems: each model's Liouvillian against the one QuTiP builds from its own operators."""

import numpy as np
import pytest
import qutip
from qutip import destroy, qeye, sigmam, sigmax, sigmaz, tensor

from genphys import channels, lindblad
from genphys import open_systems as osys


def qutip_jaynes_cummings(n, g=1.0, dc=0.0, da=0.0, f=0.5, kappa=0.3, gamma=0.1, n_th=0.2):
    a, sm = tensor(destroy(n), qeye(2)), tensor(qeye(n), sigmam())
    H = dc * a.dag() * a + da * sm.dag() * sm + g * (a.dag() * sm + a * sm.dag()) + f * (a + a.dag())
    return H, [np.sqrt(kappa * (1 + n_th)) * a, np.sqrt(kappa * n_th) * a.dag(), np.sqrt(gamma) * sm]


def qutip_ising(n, J=1.0, h=0.7, gamma=0.1, gamma_phi=0.05):
    def site(op, j):
        return tensor([op if k == j else qeye(2) for k in range(n)])
    H = -h * sum(site(sigmax(), j) for j in range(n))
    for j in range(n - 1):
        H = H - J * site(sigmaz(), j) * site(sigmaz(), j + 1)
    c_ops = [np.sqrt(gamma) * site(sigmam(), j) for j in range(n)]
    c_ops += [np.sqrt(gamma_phi / 2) * site(sigmaz(), j) for j in range(n)]
    return H, c_ops


def qutip_kerr(n, delta=-0.5, K=0.1, f=0.6, kappa=0.2):
    a = destroy(n)
    return delta * a.dag() * a + K / 2 * a.dag() * a.dag() * a * a + f * (a + a.dag()), [np.sqrt(kappa) * a]


def qutip_optomechanics(nc, nm, delta=-1.0, wm=1.0, g0=0.2, f=0.4, kappa=0.3, gm=0.02, n_th=0.5):
    a, b = tensor(destroy(nc), qeye(nm)), tensor(qeye(nc), destroy(nm))
    H = -delta * a.dag() * a + wm * b.dag() * b - g0 * a.dag() * a * (b + b.dag()) + f * (a + a.dag())
    return H, [np.sqrt(kappa) * a, np.sqrt(gm * (1 + n_th)) * b, np.sqrt(gm * n_th) * b.dag()]


def qutip_lambda(n, wc=1.0, g=0.5, delta=0.2, delta2=0.0, f=0.3, g1=0.5, g2=0.5, kappa=0.2, gd=0.01):
    g1k, g2k, ek = (qutip.basis(3, k) for k in range(3))
    a = tensor(destroy(n) if n > 1 else qutip.qzero(1), qeye(3))

    def atom(op):
        return tensor(qeye(n), op)
    s_e1, s_e2 = atom(ek * g1k.dag()), atom(ek * g2k.dag())
    H = (delta * atom(ek * ek.dag()) + delta2 * atom(g2k * g2k.dag()) + wc / 2 * (s_e2 + s_e2.dag())
         + g * (a * s_e1 + (a * s_e1).dag()) + f * (a + a.dag()))
    return H, [np.sqrt(g1) * s_e1.dag(), np.sqrt(g2) * s_e2.dag(), np.sqrt(kappa) * a,
               np.sqrt(gd) * atom(g2k * g2k.dag())]


def qutip_superradiance(n, omega=1.0, rabi=0.5, gamma=0.2):
    j = n / 2
    return omega * qutip.jmat(j, "z") + rabi * qutip.jmat(j, "x"), [np.sqrt(gamma) * qutip.jmat(j, "-")]


def qutip_coupled_cavities(n, delta=0.3, J=1.0, K=0.2, f=0.4, kappa=0.3):
    a1, a2 = tensor(destroy(n), qeye(n)), tensor(qeye(n), destroy(n))
    H = f * (a1 + a1.dag()) + J * (a1.dag() * a2 + a2.dag() * a1)
    for a in (a1, a2):
        H = H + delta * a.dag() * a + K / 2 * a.dag() * a.dag() * a * a
    return H, [np.sqrt(kappa) * a1, np.sqrt(kappa) * a2]


def qutip_register(n, omega=1.0, rabi=0.3, zz=0.05, gamma=0.1, n_th=0.1, gamma_phi=0.05):
    def site(op, j):
        return tensor([op if k == j else qeye(2) for k in range(n)])
    H = sum(0.5 * (omega * site(sigmaz(), j) + rabi * site(sigmax(), j)) for j in range(n))
    for j in range(n - 1):
        H = H + zz * site(sigmaz(), j) * site(sigmaz(), j + 1)
    c_ops = []
    for j in range(n):
        c_ops += [np.sqrt(gamma * (1 + n_th)) * site(sigmam(), j), np.sqrt(gamma * n_th) * site(sigmam(), j).dag()]
    c_ops += [np.sqrt(gamma_phi / 2) * site(sigmaz(), j) for j in range(n)]
    return H, c_ops


def qutip_parametric(n, delta=0.0, pump=0.5, k1=0.3, k2=0.1):
    a = destroy(n)
    return delta * a.dag() * a + pump / 2 * (a.dag() * a.dag() + a * a), [np.sqrt(k1) * a, np.sqrt(k2) * a * a]


# (genphys model, qutip H and c_ops) at a small size and a second one
CASES = {
    "Jaynes-Cummings 3": (lambda: osys.jaynes_cummings(3), lambda: qutip_jaynes_cummings(3)),
    "Jaynes-Cummings 6": (lambda: osys.jaynes_cummings(6, g=0.7, cavity_detuning=0.1, qubit_detuning=-0.2),
                          lambda: qutip_jaynes_cummings(6, g=0.7, dc=0.1, da=-0.2)),
    "Ising 2": (lambda: osys.ising_chain(2), lambda: qutip_ising(2)),
    "Ising 4": (lambda: osys.ising_chain(4, coupling=0.5, field=1.3), lambda: qutip_ising(4, J=0.5, h=1.3)),
    "Kerr 5": (lambda: osys.kerr_oscillator(5), lambda: qutip_kerr(5)),
    "Kerr 12": (lambda: osys.kerr_oscillator(12, kerr=0.3), lambda: qutip_kerr(12, K=0.3)),
    "optomechanics 3x4": (lambda: osys.optomechanics(3, 4), lambda: qutip_optomechanics(3, 4)),
    "Lambda 1": (lambda: osys.lambda_system(1), lambda: qutip_lambda(1)),
    "Lambda 3": (lambda: osys.lambda_system(3, two_photon_detuning=0.1), lambda: qutip_lambda(3, delta2=0.1)),
    "superradiance 1": (lambda: osys.superradiance(1), lambda: qutip_superradiance(1)),
    "superradiance 6": (lambda: osys.superradiance(6), lambda: qutip_superradiance(6)),
    "superradiance 9": (lambda: osys.superradiance(9, rabi=0.3), lambda: qutip_superradiance(9, rabi=0.3)),
    "coupled cavities 3": (lambda: osys.coupled_cavities(3), lambda: qutip_coupled_cavities(3)),
    "thermal qubit": (lambda: osys.qubit_register(1), lambda: qutip_register(1)),
    "thermal qubits 3": (lambda: osys.qubit_register(3), lambda: qutip_register(3)),
    "parametric 7": (lambda: osys.parametric_oscillator(7), lambda: qutip_parametric(7)),
}


@pytest.mark.parametrize("name", CASES)
def test_liouvillian_equals_the_one_qutip_builds(name):
    ours, theirs = CASES[name]
    system = ours()
    H, c_ops = theirs()
    if name == "Lambda 1":                                      # a one-level cavity: qutip's a is 0
        c_ops = [c for c in c_ops if c.norm() > 0]
    reference = qutip.liouvillian(H, c_ops).full()
    assert isinstance(system, lindblad.OpenSystem)
    assert system.H.shape == (system.dim, system.dim) and all(c.shape == system.H.shape for c in system.c_ops)
    assert np.abs(system.liouvillian() - reference).max() < 1e-12
    assert np.abs(system.liouvillian(sparse=True).toarray() - reference).max() < 1e-12


@pytest.mark.parametrize("name", osys.MODELS)
def test_every_model_is_a_trace_preserving_hermitian_generator_at_every_size(name):
    build, sizes = osys.MODELS[name]
    dims = []
    for size in sizes:
        system = build(size)
        dims.append(system.dim)
        assert np.abs(system.H - system.H.conj().T).max() < 1e-12
        if system.dim <= 16:
            L = system.liouvillian()
            assert np.abs(channels.vec(np.eye(system.dim)) @ L).max() < 1e-12 * max(1.0, np.abs(L).max())
        L = system.liouvillian(sparse=True)
        assert np.abs(L.T @ channels.vec(np.eye(system.dim))).max() < 1e-12 * max(1.0, abs(L).max())
    assert dims[0] <= 6 and dims[-1] >= 250 and dims == sorted(dims)


def test_a_model_evolves_a_state_into_states_like_mesolve():
    system = osys.jaynes_cummings(3)
    psi = np.zeros(6, dtype=complex)
    psi[0] = psi[3] = 1 / np.sqrt(2)
    rho0 = lindblad.pure_state(psi)
    times = np.linspace(0, 4, 41)
    rho = lindblad.evolve(system.liouvillian(), rho0, times)
    H, c_ops = qutip_jaynes_cummings(3)
    ref = qutip.mesolve(H, qutip.Qobj(rho0, dims=H.dims), times, c_ops, options={"atol": 1e-13, "rtol": 1e-11})
    assert np.abs(rho - np.stack([s.full() for s in ref.states])).max() < 1e-8
    assert np.abs(np.trace(rho, axis1=1, axis2=2) - 1).max() < 1e-12


BAD = [
    (osys.jaynes_cummings, dict(n_photons=1), ValueError, "n_photons"),
    (osys.jaynes_cummings, dict(n_photons=2.0), TypeError, "n_photons"),
    (osys.jaynes_cummings, dict(n_photons=4, kappa=-1), ValueError, "kappa"),
    (osys.jaynes_cummings, dict(n_photons=4, n_thermal=float("nan")), ValueError, "n_thermal"),
    (osys.jaynes_cummings, dict(n_photons=4, g="1"), TypeError, "g"),
    (osys.jaynes_cummings, dict(n_photons=4096), ValueError, "n_photons"),
    (osys.ising_chain, dict(n_sites=0), ValueError, "n_sites"),
    (osys.ising_chain, dict(n_sites=3, gamma_phi=-0.1), ValueError, "gamma_phi"),
    (osys.ising_chain, dict(n_sites=True), TypeError, "n_sites"),
    (osys.kerr_oscillator, dict(n_levels=1), ValueError, "n_levels"),
    (osys.kerr_oscillator, dict(n_levels=8, kerr=float("inf")), ValueError, "kerr"),
    (osys.optomechanics, dict(n_cavity=4, n_phonons=1), ValueError, "n_phonons"),
    (osys.optomechanics, dict(n_cavity=64, n_phonons=64), ValueError, "optomechanics"),
    (osys.optomechanics, dict(n_cavity=4, n_phonons=4, gamma_m=-1), ValueError, "gamma_m"),
    (osys.lambda_system, dict(n_photons=0), ValueError, "n_photons"),
    (osys.lambda_system, dict(n_photons=2, gamma_1=-0.5), ValueError, "gamma_1"),
    (osys.lambda_system, dict(n_photons=2, control=None), TypeError, "control"),
    (osys.superradiance, dict(n_atoms=0), ValueError, "n_atoms"),
    (osys.superradiance, dict(n_atoms=4, gamma=-1), ValueError, "gamma"),
    (osys.coupled_cavities, dict(n_levels=40), ValueError, "coupled_cavities"),
    (osys.coupled_cavities, dict(n_levels=3, tunnelling=[1.0]), TypeError, "tunnelling"),
    (osys.qubit_register, dict(n_qubits=11), ValueError, "n_qubits"),
    (osys.qubit_register, dict(n_qubits=2, n_thermal=-0.1), ValueError, "n_thermal"),
    (osys.parametric_oscillator, dict(n_levels=8, kappa_2=-0.1), ValueError, "kappa_2"),
    (osys.parametric_oscillator, dict(n_levels="8"), TypeError, "n_levels"),
]


@pytest.mark.parametrize("build, kwargs, error, word", BAD, ids=[f"{b.__name__}-{w}" for b, _, _, w in BAD])
def test_bad_arguments_are_refused_naming_the_argument(build, kwargs, error, word):
    with pytest.raises(error, match=word):
        build(**kwargs)


def test_the_models_cover_four_to_256_states_and_declare_their_names():
    assert len(osys.MODELS) >= 8
    assert set(osys.__all__) <= set(dir(osys))
    for name, (build, sizes) in osys.MODELS.items():
        assert isinstance(build(sizes[0]), lindblad.OpenSystem), name
