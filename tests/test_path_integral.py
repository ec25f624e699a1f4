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


# ----------------------------------------------------------------------------- the ranges that gave garbage before

import mpmath  # noqa: E402

mpmath.mp.dps = 50


def _gy_mp(omega, T, N, recursion=False):
    """det of tridiag(-1, 2 + eps^2 omega^2, -1) in multiple precision: the recursion itself, or sinh(N theta)/sinh(theta)."""
    with mpmath.workdps(60 + int(2 * math.log10(N))):
        x = (mpmath.mpf(T) / N * omega) ** 2
        if recursion:
            prev, cur = mpmath.mpf(0), mpmath.mpf(1)
            for _ in range(N - 1):
                prev, cur = cur, (2 + x) * cur - prev
            return cur
        theta = mpmath.acosh(1 + x / 2)
        return mpmath.sinh(N * theta) / mpmath.sinh(theta)


def test_gelfand_yaglom_is_exact_where_the_float_recursion_rounds_eps_squared_away():
    for N in (3, 50, 1000, 5000):                                       # the literal recursion, 60 digits
        assert abs(pi.gelfand_yaglom(1.3, 2.0, N) / float(_gy_mp(1.3, 2.0, N, recursion=True)) - 1) < 1e-13
    for N in (10**7, 10**8, 10**12):                                    # 1.1791 and 1.0 before, where sinh(1) = 1.1752
        eps_det = pi.gelfand_yaglom(1.0, 1.0, N) / N
        assert abs(eps_det / float(_gy_mp(1.0, 1.0, N) / N) - 1) < 1e-13
        assert abs(eps_det - math.sinh(1.0)) < 1e-6 / (N / 1e7) ** 2 + 1e-14
    assert pi.gelfand_yaglom(0.0, 3.0, 50) == 50 and pi.gelfand_yaglom(0.0, 3.0, 50, log=True) == math.log(50)


def test_gelfand_yaglom_beyond_the_float_range_is_refused_or_given_as_a_logarithm():
    with pytest.raises(ValueError, match=r"omega T = 1000: the determinant e\^.* exceeds the float range"):
        pi.gelfand_yaglom(1000.0, 1.0, 1000)                           # NaN before
    for omega, T, N in ((1000.0, 1.0, 1000), (1e5, 3.0, 10**6), (2.0, 0.5, 7)):
        assert abs(pi.gelfand_yaglom(omega, T, N, log=True) - float(mpmath.log(_gy_mp(omega, T, N)))) < 1e-12 * max(
            1.0, pi.gelfand_yaglom(omega, T, N, log=True))
    with pytest.raises(ValueError, match="N"):
        pi.gelfand_yaglom(1.0, 1.0, pi.MAX_SLICES + 1)


def _sliced_by_gaussian_integral(x0, x1, t, N, gamma, D, scheme):
    """The sliced propagator the long way: the (N-1)-dim tridiagonal Gaussian integral, dense (small N only)."""
    eps = t / N
    if scheme == "exact":
        p, m, var = 1.0, math.exp(-gamma * eps), D * -math.expm1(-2 * gamma * eps) / gamma
        log_pref = -0.5 * math.log(2 * math.pi * var)
    else:
        var = 2 * D * eps
        if scheme == "euler":
            p, m = 1.0, 1 - gamma * eps
        else:
            p, m = 1 + gamma * eps / 2, 1 - gamma * eps / 2
        log_pref = -0.5 * math.log(2 * math.pi * var) + (math.log(p) if scheme == "midpoint" else 0.0)
    n = N - 1
    if n == 0:
        return math.exp(log_pref - (p * x1 - m * x0) ** 2 / (2 * var))
    A = (np.diag(np.full(n, p * p + m * m)) - p * m * (np.eye(n, k=1) + np.eye(n, k=-1))) / var
    b = np.zeros(n)
    b[0] += p * m * x0 / var
    b[-1] += p * m * x1 / var
    c = -(m * x0) ** 2 / (2 * var) - (p * x1) ** 2 / (2 * var)
    return math.exp(N * log_pref + pi.gaussian_integral(A, b, c, field="real").log_value.real)


@pytest.mark.parametrize("scheme", pi.SCHEMES)
def test_time_slicing_in_closed_form_equals_the_tridiagonal_gaussian_integral(scheme):
    for N in (1, 2, 3, 8, 64):
        for gamma in (0.7, 30.0):                                   # 30: Euler's and the midpoint's a < 0 at N <= 8
            ref = _sliced_by_gaussian_integral(0.3, -0.2, 1.0, N, gamma, 0.5, scheme)
            assert abs(pi.time_sliced_propagator(0.3, -0.2, 1.0, N, gamma, 0.5, scheme) / ref - 1) < 1e-11


def test_time_slicing_with_a_hundred_thousand_slices_and_more():
    """N = 1e5 raised MemoryError (a dense (N-1)^2 matrix); the exact kernel stays exact for every N."""
    ref = pi.ou_propagator(0.3, -0.2, T, GAMMA, D)
    for N in (10**5, 10**7, 10**12):
        assert abs(pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "exact") / ref - 1) < 1e-12
        assert abs(pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "midpoint") / ref - 1) < 1e-11
        assert abs(pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "euler") / ref - 1) < 10 / N
        no_jacobian = pi.time_sliced_propagator(0.3, -0.2, T, N, GAMMA, D, "midpoint_no_jacobian")
        assert abs(no_jacobian / ref - math.exp(-GAMMA * T / 2)) < 1 / N          # (1 + h/2)^-N, O(1/N)


def test_ou_propagator_is_right_from_tiny_to_huge_arguments():
    def ref(x0, x1, t, g, D):
        x0, x1, t, g, D = map(mpmath.mpf, (x0, x1, t, g, D))
        var = D * -mpmath.expm1(-2 * g * t) / g
        return mpmath.exp(-(x1 - x0 * mpmath.exp(-g * t)) ** 2 / (2 * var)) / mpmath.sqrt(2 * mpmath.pi * var)
    for args in ((0.3, -0.2, 1e-300, 1.0, 1e-300), (0.3, -0.2, 1.0, 1e-300, 0.5), (0.3, 1e-140, 1e-300, 1.0, 1e-300),
                 (1e200, 0.0, 1e3, 1.0, 0.5), (0.0, 1e10, 1.0, 1.0, 1e200), (0.3, -0.2, 1e300, 1e300, 1e300)):
        want = ref(*args)
        assert abs(pi.ou_propagator(*args) - float(want)) <= 1e-12 * float(want) + 1e-300
    with pytest.raises(ValueError, match="exceeds the float range"):
        pi.ou_propagator(0.0, 0.0, 1e-300, 1.0, 1e-320)                # a density of 2.9e309


def test_lattice_gap_at_large_spacing_and_on_large_lattices():
    assert abs(pi.lattice_gap(10.0, 10.0) - math.acosh(5001) / 10) < 1e-14       # NaN before; the answer is 0.921
    assert abs(pi.lattice_gap(10.0, 10.0) - 0.921054) < 1e-6
    assert abs(pi.lattice_gap(0.1, 1.0, n_sites=20_000) - math.acosh(1.005) / 0.1) < 1e-12   # MemoryError before
    for a in (0.3, 3.0):                                            # the periodic correlator, dense, the old way
        n_sites = 64
        M = np.diag(np.full(n_sites, 2 / a + a)) - (np.eye(n_sites, k=1) + np.eye(n_sites, k=-1)) / a
        M[0, -1] = M[-1, 0] = -1 / a
        G = np.linalg.inv(M)[0]
        n = n_sites // 4
        assert abs(pi.lattice_gap(a, 1.0, n_sites) - math.acosh((G[n - 1] + G[n + 1]) / (2 * G[n])) / a) < 1e-12
    for a, omega in ((1e-5, 1.0), (1.0, 1e-4), (1e100, 1e100)):
        with pytest.raises(ValueError, match=r"a \* omega"):
            pi.lattice_gap(a, omega)
    with pytest.raises(ValueError, match="n_sites"):
        pi.lattice_gap(1.0, 1.0, n_sites=pi.MAX_SITES + 1)


def test_gaussian_integral_uses_the_symmetric_part_and_a_scale_free_determinant():
    A = np.array([[1.0, 1.0], [-1.0, 1.0]])                         # 4.44 before; x^T A x = |x|^2
    assert abs(pi.gaussian_integral(A).value - 2 * math.pi) < 1e-14
    B = np.array([[2.0, 0.9], [0.1, 1.0]])
    f = lambda y, x: math.exp(-0.5 * np.array([x, y]) @ B @ np.array([x, y]))
    numeric, _ = scipy.integrate.dblquad(f, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-13)
    assert abs(pi.gaussian_integral(B).value.real / numeric - 1) < 1e-10
    tiny = pi.gaussian_integral(1e-320 * np.eye(2))                # a NaN log-value before
    assert abs(tiny.log_value - (math.log(2 * math.pi) - math.log(1e-320))) < 1e-12 * 740
    with pytest.raises(ValueError, match="exceeds the float range; use log_value"):
        tiny.value
    huge = pi.gaussian_integral(1e300 * np.eye(3), [1.0, 2.0, 3.0])
    assert abs(huge.log_value - (1.5 * math.log(2 * math.pi) - 1.5 * math.log(1e300) + 0.5 * 14e-300)) < 1e-12 * 1040
    # complex symmetric A: det^{-1/2} continued from real A, the product of the principal roots
    A4 = np.diag([1 + 10j] * 4)
    assert abs(pi.gaussian_integral(A4, field="real").value - np.sqrt(2 * math.pi / (1 + 10j)) ** 4) < 1e-14
    with pytest.raises(ValueError, match="A must have a positive definite"):
        pi.gaussian_integral(np.array([[1.0, 3.0], [-3.0, -0.5]]))


@pytest.mark.parametrize("lam", [-0.1 + 0.7j, 5 + 1j, 60 + 0.2j, 300.0, 350.0, -600 + 2j])
def test_filter_smoother_and_evidence_at_large_growth_rates_equal_the_dense_action(lam):
    """NaN or inf at large Re lambda before; now the O(T) elimination agrees with the dense stationary points."""
    rng = np.random.default_rng(11)
    c = rng.normal(size=25) + 1j * rng.normal(size=25)
    act = pi.ModeAction(c, lam, 0.3, 0.5, 0.2 * c[::-1], m0=0.1 + 0.2j, p0=0.8)
    dense_filter = np.array([np.linalg.solve(*act.quadratic_form(t)[:2])[-1] for t in range(1, 26)])
    A, b, c0 = act.quadratic_form(25)
    dense_path = np.linalg.solve(A, b)
    assert np.abs(pi.filter_from_action(act) - dense_filter).max() < 1e-12 * np.abs(dense_filter).max()
    assert np.abs(pi.smoother_from_action(act) - dense_path[1:]).max() < 1e-12 * np.abs(dense_path).max()
    norm = -math.log(math.pi * act.p0) - 25 * (math.log(math.pi * act.q) + math.log(math.pi * act.sigma2))
    dense_evidence = pi.gaussian_integral(A, b, -c0, field="complex").log_value.real + norm
    assert abs(pi.log_evidence(act) - dense_evidence) < 1e-12 * abs(dense_evidence)


def test_the_action_refuses_growth_beyond_the_float_range_and_handles_long_paths():
    with pytest.raises(ValueError, match="lam has real part 400"):
        pi.ModeAction([1.0, 2.0], 400.0, 0.3, 0.5, None)
    rng = np.random.default_rng(12)
    c = rng.normal(size=3000) + 1j * rng.normal(size=3000)
    act = pi.ModeAction(c, -0.05 + 0.3j, 0.3, 0.5, None)
    kf = measurement.kalman_filter(c[:, None], [[np.exp(act.lam)]], [[act.q]], [[act.sigma2]], m0=[act.m0], P0=[[act.p0]])
    assert np.abs(pi.filter_from_action(act) - kf.means[:, 0]).max() < 1e-12
    assert abs(pi.log_evidence(act) - kf.log_likelihood) < 1e-9
    with pytest.raises(ValueError, match="T"):
        act.quadratic_form(pi.MAX_DENSE_PATH)                        # a dense matrix that large is refused


def test_mehler_kernel_at_long_times_small_times_and_far_points():
    def ref(xa, xb, t, w):
        xa, xb, t, w = map(mpmath.mpf, (xa, xb, t, w))
        s, co = mpmath.sinh(w * t), mpmath.cosh(w * t)
        return mpmath.sqrt(w / (2 * mpmath.pi * s)) * mpmath.exp(-w * ((xa**2 + xb**2) * co - 2 * xa * xb) / (2 * s))
    for xa, xb, t, w in ((0.3, -0.5, 1000.0, 1.1), (0.3, 0.31, 1e-200, 1.0), (1e200, 1e200, 1.0, 1.0),
                         (0.0, 0.0, 0.5, 1e-300), (2.0, -1.0, 400.0, 1.5)):
        want = float(ref(xa, xb, t, w))
        assert abs(float(pi.mehler_kernel(xa, xb, t, w)) - want) <= 1e-12 * want + 1e-300


# ----------------------------------------------------------------------------- the islands, linked to chapter 7

def test_tridiagonal_logdet_against_numpy_and_the_oscillator_closed_form():
    rng = np.random.default_rng(2)
    for n in (1, 2, 7, 40):
        off = rng.normal(size=n - 1) + 1j * rng.normal(size=n - 1)
        diag = 2.5 + np.abs(rng.normal(size=n)) + np.r_[np.abs(off), 0] + np.r_[0, np.abs(off)]   # diagonally dominant
        M = np.diag(diag).astype(complex) + np.diag(off, -1) + np.diag(off.conj(), 1)
        assert abs(pi.tridiagonal_logdet(diag, off) - np.linalg.slogdet(M)[1]) < 1e-11
    # the oscillator's matrix (eq. ch6-gy), also far beyond the float range of the determinant itself
    for omega, T_, N in ((1.3, 2.0, 10), (1.3, 2.0, 1000), (4.0, 400.0, 5000)):
        eps = T_ / N
        logdet = pi.tridiagonal_logdet(np.full(N - 1, 2 + (eps * omega) ** 2), -np.ones(N - 2))
        assert abs(logdet - pi.gelfand_yaglom(omega, T_, N, log=True)) < 1e-9 * max(1.0, abs(logdet))


def test_tridiagonal_logdet_refuses_a_matrix_that_is_not_positive_definite():
    with pytest.raises(ValueError, match="diagonal"):
        pi.tridiagonal_logdet([1.0, 1.0], [2.0])
    with pytest.raises(ValueError, match="off_diagonal"):
        pi.tridiagonal_logdet([1.0, 1.0, 1.0], [0.1])


@pytest.mark.parametrize("lam", [-0.05 + 0.4j, -1.5 + 2.0j, 0.3 - 0.1j])
def test_the_actions_fluctuation_determinant_is_the_sum_of_log_innovation_variances(lam):
    """ln det A + ln p0 + T ln(q sigma^2) = sum_t ln(Pi_t + sigma^2), and S_min the squared innovations (eq. ch6-evidence-split)."""
    rng = np.random.default_rng(4)
    T_ = 80
    c = rng.normal(size=T_) + 1j * rng.normal(size=T_)
    u = 0.2 * (rng.normal(size=T_) + 1j * rng.normal(size=T_))
    action = pi.ModeAction(c, lam=lam, q=0.3, sigma2=0.6, u=u, m0=0.1 - 0.2j, p0=0.7)
    run = measurement.kalman_filter(c[:, None], [[np.exp(lam)]], [[0.3]], [[0.6]], u=u[:, None], m0=[0.1 - 0.2j],
                                    P0=[[0.7]])
    A, b, c0 = action.quadratic_form(T_)
    log_det = pi.tridiagonal_logdet(np.diag(A).real, np.diag(A, -1))
    innovation_var = run.predicted_covariances[:, 0, 0].real + 0.6
    assert abs(log_det + math.log(0.7) + T_ * math.log(0.3 * 0.6) - np.log(innovation_var).sum()) < 1e-9
    S_min = float((c0 - b.conj() @ np.linalg.solve(A, b)).real)
    squared = float((np.abs(c - run.predicted_means[:, 0]) ** 2 / innovation_var).sum())
    assert abs(S_min - squared) < 1e-9 * squared
    split = -S_min - log_det - math.log(0.7) - T_ * math.log(math.pi * 0.3 * 0.6)
    assert abs(split - pi.log_evidence(action)) < 1e-9 * abs(split)


def test_the_ornstein_uhlenbeck_kernel_is_the_transformed_mehler_kernel():
    """p(x1, t | x0) = sqrt(p_s(x1) / p_s(x0)) e^{gamma t / 2} K_E(x1, x0; t) at m = 1/(2D), omega = gamma (eq. ch6-ou-mehler)."""
    for x0, x1, t, gamma, D_ in ((0.3, -0.2, 1.0, 1.0, 0.5), (1.2, -0.4, 0.3, 2.0, 0.7), (-2.0, 1.5, 3.0, 0.05, 1.3)):
        mehler = float(pi.mehler_kernel(x0, x1, t, gamma, mass=1 / (2 * D_)))
        transformed = math.exp(-gamma * (x1**2 - x0**2) / (4 * D_) + gamma * t / 2) * mehler
        assert abs(transformed / pi.ou_propagator(x0, x1, t, gamma, D_) - 1) < 1e-12


def test_the_lattice_gap_of_a_modes_action_is_minus_log_its_multiplier():
    """The lattice with (a omega)^2 = (1 - |a_k|)^2 / |a_k| has the gap E a = -ln|a_k| (eq. ch6-lattice-memory)."""
    for radius in (0.05, 0.32, 0.7, 0.93, 0.995):
        spacing = (1 - radius) / math.sqrt(radius)
        assert abs(pi.lattice_gap(spacing, 1.0) * spacing + math.log(radius)) < 1e-12
    # and the correlator of the stationary chain x_t = r x_{t-1} + noise is r^n: its covariance matrix's inverse
    r, n = 0.8, 200
    P = np.diag(np.full(n, 1 + r**2)) - r * (np.eye(n, k=1) + np.eye(n, k=-1))
    P[0, 0] = P[-1, -1] = 1.0                                          # the stationary chain's ends
    G = np.linalg.inv(P)
    assert np.abs(G[100, 100:110] / G[100, 100] - r ** np.arange(10)).max() < 1e-12
