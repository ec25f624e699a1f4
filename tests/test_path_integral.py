"""genphys.path_integral: Gaussian integrals, time slicing, Gel'fand-Yaglom, Mehler, the lattice, chapter 7's action."""

import math

import numpy as np
import pytest
import scipy.integrate

from genphys import measurement
from genphys import path_integral as pi

GAMMA, D, T = 1.0, 0.5, 1.0


def fitted_order(Ns, errors) -> float:
    """Slope of -log(error) against log(N): the convergence order."""
    return float(-np.polyfit(np.log(Ns), np.log(errors), 1)[0])


def test_real_gaussian_integral_against_quadrature():
    A = np.array([[2.0, 0.6], [0.6, 1.5]])
    b = np.array([0.3, -0.4])
    exact = pi.gaussian_integral(A, b, 0.2).value.real
    f = lambda y, x: math.exp(-0.5 * np.array([x, y]) @ A @ np.array([x, y]) + b @ [x, y] + 0.2)
    numeric, _ = scipy.integrate.dblquad(f, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-13)
    assert abs(exact - numeric) < 1e-10 * exact


def test_complex_gaussian_integral_against_quadrature():
    A, b = np.array([[1.3 + 0.4j]]), np.array([0.5 - 0.2j])
    exact = pi.gaussian_integral(A, b).value
    def part(kind):
        def f(y, x):
            z = x + 1j * y
            v = np.exp(-np.conj(z) * A[0, 0] * z + np.conj(b[0]) * z + np.conj(z) * b[0])
            return v.real if kind == "re" else v.imag
        return scipy.integrate.dblquad(f, -10, 10, -10, 10, epsabs=1e-13, epsrel=1e-13)[0]
    assert abs(exact - (part("re") + 1j * part("im"))) < 1e-10 * abs(exact)


def test_exact_kernel_slicing_is_exact_for_every_N():
    ref = pi.ou_propagator(0.3, -0.2, T, GAMMA, D)
    for N in (1, 2, 3, 8, 32, 64):
        assert abs(pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "exact") - ref) < 1e-12


def test_euler_converges_at_first_order_and_midpoint_at_second():
    Ns = np.array([16, 32, 64, 128, 256])
    ref = pi.ou_propagator(0.3, -0.2, T, GAMMA, D)
    orders = {}
    for scheme in ("euler", "midpoint"):
        err = [abs(pi.time_sliced_propagator(0.3, -0.2, T, int(N), GAMMA, D, scheme) - ref) for N in Ns]
        orders[scheme] = fitted_order(Ns, err)
    assert abs(orders["euler"] - 1) < 0.1 and abs(orders["midpoint"] - 2) < 0.1


def test_without_the_jacobian_the_ratio_tends_to_the_onsager_machlup_factor():
    ref = pi.ou_propagator(0.3, -0.2, T, GAMMA, D)
    ratios = [pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "midpoint_no_jacobian") / ref for N in (64, 512)]
    target = math.exp(-GAMMA * T / 2)
    assert abs(ratios[1] - target) < abs(ratios[0] - target) and abs(ratios[1] - target) < 1e-3


def test_gelfand_yaglom_closed_form_and_continuum_limit():
    omega, Tt = 1.3, 2.0
    for N in (2, 5, 40, 400):
        eps = Tt / N
        theta = math.acosh(1 + (eps * omega) ** 2 / 2)
        det = pi.gelfand_yaglom(omega, Tt, N)
        assert abs(det - math.sinh(N * theta) / math.sinh(theta)) < 1e-10 * det
        M = np.diag(np.full(N - 1, 2 + (eps * omega) ** 2)) - np.eye(N - 1, k=1) - np.eye(N - 1, k=-1)
        assert abs(np.linalg.det(M) - det) < 1e-9 * det if N > 1 else True
    limit = math.sinh(omega * Tt) / omega
    gaps = [abs(Tt / N * pi.gelfand_yaglom(omega, Tt, N) - limit) for N in (100, 200, 400)]
    assert gaps[0] > gaps[1] > gaps[2] and fitted_order([100, 200, 400], gaps) == pytest.approx(2, abs=0.1)


def test_mehler_semigroup_and_thermal_trace():
    omega = 1.1
    for xa, xb in ((0.3, -0.5), (1.2, 0.7)):
        composed, _ = scipy.integrate.quad(lambda y: pi.mehler_kernel(xa, y, 0.4, omega) * pi.mehler_kernel(y, xb, 0.7, omega),
                                           -15, 15, epsabs=1e-13, epsrel=1e-13, limit=200)
        assert abs(composed - pi.mehler_kernel(xa, xb, 1.1, omega)) < 1e-12
    beta = 2.0
    trace, _ = scipy.integrate.quad(lambda x: pi.mehler_kernel(x, x, beta, omega), -20, 20, epsabs=1e-13, epsrel=1e-13)
    assert abs(trace - 1 / (2 * math.sinh(beta * omega / 2))) < 1e-12


def test_symmetric_trotter_slicing_on_a_grid_converges_at_second_order():
    omega, beta = 1.0, 1.0
    x = np.linspace(-7, 7, 561)
    h = x[1] - x[0]
    exact = 1 / (2 * math.sinh(beta * omega / 2))
    Ns, errors = [4, 8, 16], []
    for N in Ns:
        eps = beta / N
        free = np.exp(-(x[:, None] - x[None, :]) ** 2 / (2 * eps)) / math.sqrt(2 * math.pi * eps) * h
        half = np.exp(-eps * omega**2 * x**2 / 4)
        step = half[:, None] * free * half[None, :]
        errors.append(abs(np.trace(np.linalg.matrix_power(step, N)) - exact))
    assert fitted_order(Ns, errors) == pytest.approx(2, abs=0.15)


def test_real_time_kernel_moves_a_coherent_state_before_the_caustic():
    x0, t = 1.5, 1.0
    y = np.linspace(-12, 12, 6001)
    psi0 = np.pi ** -0.25 * np.exp(-(y - x0) ** 2 / 2)
    xs = np.linspace(-3, 3, 13)
    psi_t = np.array([np.trapezoid(pi.mehler_kernel(y, x, t, 1.0, euclidean=False) * psi0, y) for x in xs])
    density = np.pi ** -0.5 * np.exp(-(xs - x0 * math.cos(t)) ** 2)
    assert np.abs(np.abs(psi_t) ** 2 - density).max() < 1e-8
    with pytest.raises(ValueError, match="caustic"):
        pi.mehler_kernel(0.0, 0.0, 4.0, 1.0, euclidean=False)


def test_lattice_gap_is_exact_on_the_lattice_and_tends_to_omega():
    omega = 1.0
    for a in (0.5, 0.2, 0.1):
        assert abs(pi.lattice_gap(a, omega) - math.acosh(1 + (a * omega) ** 2 / 2) / a) < 1e-10
    a_values = np.array([0.4, 0.2, 0.1])
    errors = [abs(pi.lattice_gap(a, omega) - omega) for a in a_values]
    assert fitted_order(1 / a_values, errors) == pytest.approx(2, abs=0.1)


def mode_action(T=60, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=T) + 1j * rng.normal(size=T)
    u = 0.2 * (rng.normal(size=T) + 1j * rng.normal(size=T))
    return pi.ModeAction(c, -0.1 + 0.7j, 0.3, 0.5, u, m0=0.1 + 0.2j, p0=0.8)


def test_causal_stationary_point_is_the_kalman_filter_and_the_normalisation_its_evidence():
    act = mode_action()
    kf = measurement.kalman_filter(act.c[:, None], [[np.exp(act.lam)]], [[act.q]], [[act.sigma2]],
                                   u=act.u[:, None], m0=[act.m0], P0=[[act.p0]])
    assert np.abs(pi.filter_from_action(act) - kf.means[:, 0]).max() < 1e-12
    assert abs(pi.log_evidence(act) - kf.log_likelihood) < 1e-10


def test_whole_path_stationary_point_is_the_smoother_not_the_filter():
    act = mode_action()
    filtered, smoothed = pi.filter_from_action(act), pi.smoother_from_action(act)
    assert abs(smoothed[-1] - filtered[-1]) < 1e-12          # at the last token they coincide
    assert np.abs(smoothed[:-1] - filtered[:-1]).min() > 1e-6  # before it the smoother has seen the future


@pytest.mark.parametrize("call, error, match", [
    (lambda: pi.gaussian_integral(-np.eye(2)), ValueError, "positive definite"),
    (lambda: pi.gaussian_integral(np.eye(2), [np.nan, 0]), ValueError, "b"),
    (lambda: pi.gaussian_integral(np.eye(2), field="quaternion"), ValueError, "field"),
    (lambda: pi.ou_propagator(0, 0, -1.0, 1.0, 1.0), ValueError, "t"),
    (lambda: pi.ou_propagator(0, 0, 1.0, 0.0, 1.0), ValueError, "gamma"),
    (lambda: pi.time_sliced_propagator(0, 0, 1.0, 0), ValueError, "N"),
    (lambda: pi.time_sliced_propagator(0, 0, 1.0, 4, scheme="rk4"), ValueError, "scheme"),
    (lambda: pi.gelfand_yaglom(np.inf, 1.0, 4), ValueError, "omega"),
    (lambda: pi.mehler_kernel(0.0, 0.0, 1.0, 1.0, euclidean="yes"), TypeError, "euclidean"),
    (lambda: pi.lattice_gap(0.0, 1.0), ValueError, "a"),
    (lambda: pi.ModeAction([1.0, np.nan], 0.1, 1.0, 1.0, None), ValueError, "c"),
    (lambda: pi.ModeAction([1.0], 0.1, 0.0, 1.0, None), ValueError, "q"),
    (lambda: pi.filter_from_action("path"), TypeError, "action"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
