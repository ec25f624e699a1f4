"""Standard open quantum systems from the quantum-optics literature, as :class:`genphys.lindblad.OpenSystem`.

These are the models of the textbooks and of the QuTiP tutorials (qutip.org/tutorials), written
here from their usual definitions and checked against the Liouvillians QuTiP builds from its own
operators (tests/test_open_systems.py).  They are a test bed nobody tuned the solver for: the
benchmark benchmarks/lindblad_vs_qutip.py times :func:`genphys.lindblad.evolve` on them.  Each
has a size parameter, so that the Hilbert-space dimension spans about 4 to 256 states.

* :func:`jaynes_cummings` - a driven cavity mode coupled to a qubit, with cavity loss into a
  thermal bath and qubit decay (QuTiP tutorial "Vacuum Rabi oscillations"; Jaynes & Cummings
  1963; Carmichael, *Statistical Methods in Quantum Optics 2*, ch. 13).
* :func:`ising_chain` - the transverse-field Ising chain with local decay and dephasing (the
  dissipative Ising models of e.g. Lee, Gopalakrishnan & Lukin, PRL 110, 257204 (2013); QuTiP
  tutorial "Spin chain").
* :func:`kerr_oscillator` - a coherently driven, damped Kerr (anharmonic) oscillator
  (Drummond & Walls, J. Phys. A 13, 725 (1980); QuTiP tutorial "Kerr nonlinearity").
* :func:`optomechanics` - a driven cavity mode and a mechanical mode with radiation-pressure
  coupling -g0 a^dag a (b + b^dag), cavity loss and a thermal mechanical bath (Aspelmeyer,
  Kippenberg & Marquardt, RMP 86, 1391 (2014), their equation 20; QuTiP tutorial "Optomechanical ...").
* :func:`lambda_system` - a three-level Lambda atom with a classical control field, its probe
  transition coupled to a driven, damped cavity mode, spontaneous decay into both ground states
  and ground-state dephasing (cavity EIT: Fleischhauer, Imamoglu & Marangos, RMP 77, 633 (2005);
  the driven Lambda system of the QuTiP tutorials).
* :func:`superradiance` - N two-level atoms decaying collectively, in the symmetric Dicke
  subspace j = N/2 (Dicke 1954; Gross & Haroche, Phys. Rep. 93, 301 (1982); QuTiP's
  ``jmat`` / piqs tutorials), with a coherent drive.
* :func:`coupled_cavities` - two tunnel-coupled, damped cavity modes, one of them driven, with
  a Kerr term on each (the photon-blockade dimer: Liew & Savona, PRL 104, 183601 (2010)).
* :func:`qubit_register` - qubits each driven, with amplitude damping into a thermal bath and
  pure dephasing (T1 / T2), coupled by nearest-neighbour ZZ crosstalk; one qubit is the
  thermal qubit of Breuer & Petruccione, ch. 3.4.
* :func:`parametric_oscillator` - the degenerate parametric oscillator with single- and
  two-photon loss (Drummond, McNeil & Walls 1980/81; Wolinsky & Carmichael, PRL 60, 1836
  (1988); QuTiP tutorial "Two-photon loss").

Conventions are genphys.lindblad's (QuTiP's): the qubit basis is (excited, ground),
``sigma_- = |1><0|``; composite systems are ordered as written (``kron(cavity, qubit)``), as
``qutip.tensor`` orders them.  Every model is in a frame rotating with its drive, so H is time
independent.
"""

from __future__ import annotations

import numpy as np

from genphys import validate
from genphys.lindblad import SIGMA_MINUS, SIGMA_X, SIGMA_Z, OpenSystem

__all__ = ["MAX_DIM", "jaynes_cummings", "ising_chain", "kerr_oscillator", "optomechanics", "lambda_system",
           "superradiance", "coupled_cavities", "qubit_register", "parametric_oscillator", "MODELS"]

#: Largest Hilbert-space dimension a model here builds (dense operators: d^2 complex numbers each).
MAX_DIM = 1024


def _levels(n, name: str, low: int = 2) -> int:
    return validate.integer(n, name, low=low, high=MAX_DIM)


def _real(value, name: str) -> float:
    return validate.real(value, name)


def _rate(value, name: str) -> float:
    return validate.real(value, name, low=0)


def _check_dim(d: int, what: str) -> None:
    if d > MAX_DIM:
        raise ValueError(f"{what}: the Hilbert space would have {d} states, more than MAX_DIM = {MAX_DIM}")


def _destroy(n: int) -> np.ndarray:
    return np.diag(np.sqrt(np.arange(1, n)), 1).astype(complex)


def _dag(a: np.ndarray) -> np.ndarray:
    return a.conj().T


def _kron(*ops: np.ndarray) -> np.ndarray:
    out = np.eye(1, dtype=complex)
    for op in ops:
        out = np.kron(out, op)
    return out


def _lossy(op: np.ndarray, rate: float, n_thermal: float = 0.0) -> list[np.ndarray]:
    """sqrt(rate (n+1)) op and, for n > 0, sqrt(rate n) op^dag; nothing for rate 0."""
    ops = [np.sqrt(rate * (n_thermal + 1)) * op] if rate > 0 else []
    if rate > 0 and n_thermal > 0:
        ops.append(np.sqrt(rate * n_thermal) * _dag(op))
    return ops


def jaynes_cummings(n_photons: int, g: float = 1.0, cavity_detuning: float = 0.0, qubit_detuning: float = 0.0,
                    drive: float = 0.5, kappa: float = 0.3, gamma: float = 0.1,
                    n_thermal: float = 0.2) -> OpenSystem:
    """Driven, dissipative Jaynes-Cummings model in ``2 n_photons`` states (cavity x qubit).

    H = Dc a^dag a + Da sigma_+ sigma_- + g (a^dag sigma_- + a sigma_+) + drive (a + a^dag), with
    c = sqrt(kappa (n_th + 1)) a, sqrt(kappa n_th) a^dag (thermal photons) and sqrt(gamma) sigma_-.
    """
    n = _levels(n_photons, "n_photons")
    _check_dim(2 * n, "jaynes_cummings")
    g, dc, da, f = (_real(v, k) for v, k in ((g, "g"), (cavity_detuning, "cavity_detuning"),
                                             (qubit_detuning, "qubit_detuning"), (drive, "drive")))
    kappa, gamma, n_th = _rate(kappa, "kappa"), _rate(gamma, "gamma"), _rate(n_thermal, "n_thermal")
    a, sm = _kron(_destroy(n), np.eye(2)), _kron(np.eye(n), SIGMA_MINUS)
    H = dc * _dag(a) @ a + da * _dag(sm) @ sm + g * (_dag(a) @ sm + a @ _dag(sm)) + f * (a + _dag(a))
    return OpenSystem(f"Jaynes-Cummings ({n} photons)", H, tuple(_lossy(a, kappa, n_th) + _lossy(sm, gamma)))


def ising_chain(n_sites: int, coupling: float = 1.0, field: float = 0.7, gamma: float = 0.1,
                gamma_phi: float = 0.05) -> OpenSystem:
    """Dissipative transverse-field Ising chain (open ends) in ``2**n_sites`` states.

    H = -coupling sum_j sz^j sz^{j+1} - field sum_j sx^j, each site decaying with sqrt(gamma) sigma_-^j
    and dephasing with sqrt(gamma_phi / 2) sigma_z^j.
    """
    n = validate.integer(n_sites, "n_sites", low=1, high=10)
    J, h = _real(coupling, "coupling"), _real(field, "field")
    gamma, gamma_phi = _rate(gamma, "gamma"), _rate(gamma_phi, "gamma_phi")

    def site(op, j):
        return _kron(*[op if k == j else np.eye(2) for k in range(n)])

    sz = [site(SIGMA_Z, j) for j in range(n)]
    H = -h * sum(site(SIGMA_X, j) for j in range(n))
    for j in range(n - 1):
        H = H - J * sz[j] @ sz[j + 1]
    c_ops = [op for j in range(n) for op in _lossy(site(SIGMA_MINUS, j), gamma)]
    c_ops += [np.sqrt(gamma_phi / 2) * z for z in sz] if gamma_phi > 0 else []
    return OpenSystem(f"Ising chain of {n} sites", H, tuple(c_ops))


def kerr_oscillator(n_levels: int, detuning: float = -0.5, kerr: float = 0.1, drive: float = 0.6,
                    kappa: float = 0.2) -> OpenSystem:
    """Driven damped Kerr oscillator in ``n_levels`` Fock states.

    H = detuning a^dag a + (kerr / 2) a^dag a^dag a a + drive (a + a^dag), c = sqrt(kappa) a.
    """
    n = _levels(n_levels, "n_levels")
    delta, K, f = _real(detuning, "detuning"), _real(kerr, "kerr"), _real(drive, "drive")
    kappa = _rate(kappa, "kappa")
    a = _destroy(n)
    ad = _dag(a)
    H = delta * ad @ a + 0.5 * K * ad @ ad @ a @ a + f * (a + ad)
    return OpenSystem(f"Kerr oscillator ({n} levels)", H, tuple(_lossy(a, kappa)))


def optomechanics(n_cavity: int, n_phonons: int, detuning: float = -1.0, omega_m: float = 1.0,
                  g0: float = 0.2, drive: float = 0.4, kappa: float = 0.3, gamma_m: float = 0.02,
                  n_thermal: float = 0.5) -> OpenSystem:
    """Cavity optomechanics in ``n_cavity * n_phonons`` states (cavity x mechanical mode).

    H = -detuning a^dag a + omega_m b^dag b - g0 a^dag a (b + b^dag) + drive (a + a^dag),
    c = sqrt(kappa) a, sqrt(gamma_m (n_th + 1)) b, sqrt(gamma_m n_th) b^dag.
    """
    nc, nm = _levels(n_cavity, "n_cavity"), _levels(n_phonons, "n_phonons")
    _check_dim(nc * nm, "optomechanics")
    delta, wm, g0, f = (_real(v, k) for v, k in ((detuning, "detuning"), (omega_m, "omega_m"), (g0, "g0"),
                                                 (drive, "drive")))
    kappa, gamma_m, n_th = _rate(kappa, "kappa"), _rate(gamma_m, "gamma_m"), _rate(n_thermal, "n_thermal")
    a, b = _kron(_destroy(nc), np.eye(nm)), _kron(np.eye(nc), _destroy(nm))
    H = -delta * _dag(a) @ a + wm * _dag(b) @ b - g0 * _dag(a) @ a @ (b + _dag(b)) + f * (a + _dag(a))
    return OpenSystem(f"optomechanics ({nc} x {nm})", H, tuple(_lossy(a, kappa) + _lossy(b, gamma_m, n_th)))


def lambda_system(n_photons: int, control: float = 1.0, g: float = 0.5, detuning: float = 0.2,
                  two_photon_detuning: float = 0.0, drive: float = 0.3, gamma_1: float = 0.5,
                  gamma_2: float = 0.5, kappa: float = 0.2, gamma_dephasing: float = 0.01) -> OpenSystem:
    """Driven Lambda atom in a cavity, ``3 n_photons`` states (cavity x atom; atom basis g1, g2, e).

    H = detuning |e><e| + two_photon_detuning |g2><g2| + (control / 2)(|e><g2| + h.c.)
        + g (a |e><g1| + h.c.) + drive (a + a^dag),
    c = sqrt(gamma_1) |g1><e|, sqrt(gamma_2) |g2><e| (spontaneous decay), sqrt(kappa) a and
    sqrt(gamma_dephasing) |g2><g2| (ground-state dephasing).  ``n_photons = 1`` leaves the cavity in
    vacuum: a 3-level atom with its probe transition undriven.
    """
    n = _levels(n_photons, "n_photons", low=1)
    _check_dim(3 * n, "lambda_system")
    omega_c, g, delta, delta2, f = (_real(v, k) for v, k in (
        (control, "control"), (g, "g"), (detuning, "detuning"), (two_photon_detuning, "two_photon_detuning"),
        (drive, "drive")))
    g1, g2, kappa, gd = (_rate(v, k) for v, k in ((gamma_1, "gamma_1"), (gamma_2, "gamma_2"), (kappa, "kappa"),
                                                  (gamma_dephasing, "gamma_dephasing")))

    def ket_bra(i, j):
        out = np.zeros((3, 3), dtype=complex)
        out[i, j] = 1.0
        return _kron(np.eye(n), out)

    a = _kron(_destroy(n), np.eye(3))
    s_e1, s_e2 = ket_bra(2, 0), ket_bra(2, 1)                          # |e><g1|, |e><g2|
    H = (delta * ket_bra(2, 2) + delta2 * ket_bra(1, 1) + 0.5 * omega_c * (s_e2 + _dag(s_e2))
         + g * (a @ s_e1 + _dag(a @ s_e1)) + f * (a + _dag(a)))
    c_ops = _lossy(_dag(s_e1), g1) + _lossy(_dag(s_e2), g2) + (_lossy(a, kappa) if n > 1 else [])
    c_ops += _lossy(ket_bra(1, 1), gd)
    return OpenSystem(f"Lambda atom in a cavity ({n} photons)", H, tuple(c_ops))


def superradiance(n_atoms: int, omega: float = 1.0, rabi: float = 0.5, gamma: float = 0.2) -> OpenSystem:
    """Collective (Dicke) decay of ``n_atoms`` two-level atoms: the ``n_atoms + 1`` symmetric states.

    Spin j = n_atoms / 2, basis m = j, j-1, ..., -j (as ``qutip.jmat``):
    H = omega J_z + rabi J_x, c = sqrt(gamma) J_-.
    """
    n = validate.integer(n_atoms, "n_atoms", low=1, high=MAX_DIM - 1)
    omega, rabi, gamma = _real(omega, "omega"), _real(rabi, "rabi"), _rate(gamma, "gamma")
    j = n / 2
    m = j - np.arange(n + 1)
    Jm = np.diag(np.sqrt(j * (j + 1) - m[:-1] * (m[:-1] - 1)), -1).astype(complex)     # J_- |m> ~ |m - 1>
    Jx = 0.5 * (Jm + _dag(Jm))
    H = omega * np.diag(m).astype(complex) + rabi * Jx
    return OpenSystem(f"superradiance ({n} atoms)", H, tuple(_lossy(Jm, gamma)))


def coupled_cavities(n_levels: int, detuning: float = 0.3, tunnelling: float = 1.0, kerr: float = 0.2,
                     drive: float = 0.4, kappa: float = 0.3) -> OpenSystem:
    """Two tunnel-coupled Kerr cavities in ``n_levels**2`` states, the first driven.

    H = sum_j [detuning a_j^dag a_j + (kerr / 2) a_j^dag a_j^dag a_j a_j] + tunnelling (a_1^dag a_2 + a_2^dag a_1)
        + drive (a_1 + a_1^dag),  c = sqrt(kappa) a_1, sqrt(kappa) a_2.
    """
    n = _levels(n_levels, "n_levels")
    _check_dim(n * n, "coupled_cavities")
    delta, J, K, f = (_real(v, k) for v, k in ((detuning, "detuning"), (tunnelling, "tunnelling"),
                                               (kerr, "kerr"), (drive, "drive")))
    kappa = _rate(kappa, "kappa")
    a1, a2 = _kron(_destroy(n), np.eye(n)), _kron(np.eye(n), _destroy(n))
    H = f * (a1 + _dag(a1)) + J * (_dag(a1) @ a2 + _dag(a2) @ a1)
    for a in (a1, a2):
        H = H + delta * _dag(a) @ a + 0.5 * K * _dag(a) @ _dag(a) @ a @ a
    return OpenSystem(f"coupled cavities ({n} x {n})", H, tuple(_lossy(a1, kappa) + _lossy(a2, kappa)))


def qubit_register(n_qubits: int, omega: float = 1.0, rabi: float = 0.3, zz: float = 0.05, gamma: float = 0.1,
                   n_thermal: float = 0.1, gamma_phi: float = 0.05) -> OpenSystem:
    """``n_qubits`` qubits with a thermal bath and dephasing, ``2**n_qubits`` states.

    H = sum_j (omega sz^j + rabi sx^j) / 2 + zz sum_j sz^j sz^{j+1}; each qubit has
    c = sqrt(gamma (n_th + 1)) sigma_-^j, sqrt(gamma n_th) sigma_+^j and sqrt(gamma_phi / 2) sigma_z^j.
    """
    n = validate.integer(n_qubits, "n_qubits", low=1, high=10)
    omega, rabi, zz = _real(omega, "omega"), _real(rabi, "rabi"), _real(zz, "zz")
    gamma, n_th, gamma_phi = _rate(gamma, "gamma"), _rate(n_thermal, "n_thermal"), _rate(gamma_phi, "gamma_phi")

    def site(op, j):
        return _kron(*[op if k == j else np.eye(2) for k in range(n)])

    sz = [site(SIGMA_Z, j) for j in range(n)]
    H = sum(0.5 * (omega * sz[j] + rabi * site(SIGMA_X, j)) for j in range(n))
    for j in range(n - 1):
        H = H + zz * sz[j] @ sz[j + 1]
    c_ops = [op for j in range(n) for op in _lossy(site(SIGMA_MINUS, j), gamma, n_th)]
    c_ops += [np.sqrt(gamma_phi / 2) * z for z in sz] if gamma_phi > 0 else []
    return OpenSystem(f"thermal qubits ({n})", H, tuple(c_ops))


def parametric_oscillator(n_levels: int, detuning: float = 0.0, pump: float = 0.5, kappa_1: float = 0.3,
                          kappa_2: float = 0.1) -> OpenSystem:
    """Degenerate parametric oscillator with two-photon loss, ``n_levels`` Fock states.

    H = detuning a^dag a + (pump / 2)(a^dag a^dag + a a), c = sqrt(kappa_1) a, sqrt(kappa_2) a a.
    """
    n = _levels(n_levels, "n_levels")
    delta, pump = _real(detuning, "detuning"), _real(pump, "pump")
    k1, k2 = _rate(kappa_1, "kappa_1"), _rate(kappa_2, "kappa_2")
    a = _destroy(n)
    H = delta * _dag(a) @ a + 0.5 * pump * (_dag(a) @ _dag(a) + a @ a)
    return OpenSystem(f"parametric oscillator ({n} levels)", H, tuple(_lossy(a, k1) + _lossy(a @ a, k2)))


def _halves(states: int) -> tuple[int, int]:
    """(cavity, phonon) levels with product ``states`` (a power of 2): the phonon share the larger."""
    k = validate.integer(states, "states", low=4, high=MAX_DIM).bit_length() - 1
    if 2**k != states:
        raise ValueError(f"states must be a power of 2, got {states}")
    return 2 ** (k // 2), 2 ** (k - k // 2)


#: Each model as a function of one size parameter, with the sizes (parameter values) that give
#: about 4 to 256 states.  ``MODELS[name][0](size)`` builds it.
MODELS = {
    "Jaynes-Cummings": (jaynes_cummings, (2, 4, 8, 16, 32, 64, 128)),
    "Ising chain": (ising_chain, (2, 3, 4, 5, 6, 7, 8)),
    "Kerr oscillator": (kerr_oscillator, (4, 8, 16, 32, 64, 128, 256)),
    "optomechanics": (lambda states: optomechanics(*_halves(states)), (4, 8, 16, 32, 64, 128, 256)),
    "Lambda atom": (lambda_system, (2, 3, 5, 11, 21, 43, 85)),
    "superradiance": (superradiance, (3, 7, 15, 31, 63, 127, 255)),
    "coupled cavities": (coupled_cavities, (2, 3, 4, 6, 8, 12, 16)),
    "thermal qubits": (qubit_register, (2, 3, 4, 5, 6, 7, 8)),
    "parametric oscillator": (parametric_oscillator, (4, 8, 16, 32, 64, 128, 256)),
}
