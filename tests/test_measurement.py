"""genphys.measurement: information form = covariance form, the Kalman filter against brute force and scipy."""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.integrate
import scipy.stats

from genphys import measurement


def random_problem(n=3, p=2, seed=0, complex_=True):
    rng = np.random.default_rng(seed)
    z = (lambda *s: rng.normal(size=s) + 1j * rng.normal(size=s)) if complex_ else (lambda *s: rng.normal(size=s))
    G = z(n, n)
    P = G @ G.conj().T + np.eye(n)
    return z(n), P, z(p, n), z(p), rng


@pytest.mark.parametrize("complex_", [True, False])
def test_information_form_equals_covariance_form(complex_):
    for seed in range(5):
        m, P, W, v, rng = random_problem(seed=seed, complex_=complex_)
        R = np.diag(rng.uniform(0.5, 2.0, W.shape[0]))
        mean, precision = measurement.gaussian_update(m, np.linalg.inv(P), W, v, R)
        K = P @ W.conj().T @ np.linalg.inv(W @ P @ W.conj().T + R)          # covariance (Kalman) form
        assert np.abs(mean - (m + K @ (v - W @ m))).max() < 1e-12
        assert np.abs(np.linalg.inv(precision) - (np.eye(3) - K @ W) @ P).max() < 1e-12


def test_continuous_measurement_precision_grows_linearly():
    """Repeated weak measurements of x with noise variance 1 / (8 k dt) add precision 8 k dt each."""
    V0, k, dt = 0.5, 1.0, 1e-3
    mean, precision = np.zeros(1), np.array([[1 / V0]])
    for _ in range(750):
        mean, precision = measurement.gaussian_update(mean, precision, np.eye(1), np.zeros(1), 1 / (8 * k * dt))
    assert abs(precision[0, 0].real - (1 / V0 + 8 * k * 0.75)) < 1e-9


def brute_force(y, F, Q, R, m0, P0):
    """Filtered means and the evidence from the joint Gaussian of (x_0..x_T, y_1..y_T), real case."""
    T, n = y.shape[0], F.shape[0]
    dim = (T + 1) * n
    A = np.zeros((dim, dim))                                   # x = A w, w = (x_0, w_1..w_T)
    for t in range(T + 1):
        for s in range(t + 1):
            A[t * n:(t + 1) * n, s * n:(s + 1) * n] = np.linalg.matrix_power(F, t - s)
    cov_w = scipy.linalg.block_diag(P0, *[Q] * T)
    cov_x = A @ cov_w @ A.T
    mean_x = np.concatenate([np.linalg.matrix_power(F, t) @ m0 for t in range(T + 1)])
    obs = slice(n, None)
    cov_y = cov_x[obs, obs] + np.kron(np.eye(T), R)
    evidence = scipy.stats.multivariate_normal(mean_x[obs], cov_y).logpdf(y.ravel())
    means = []
    for t in range(1, T + 1):
        sel = slice(t * n, (t + 1) * n)
        o = slice(n, (t + 1) * n)
        C = cov_x[o, o] + np.kron(np.eye(t), R)
        gain = cov_x[sel, o] @ np.linalg.inv(C)
        means.append(mean_x[sel] + gain @ (y[:t].ravel() - mean_x[o]))
    return np.array(means), evidence


def test_kalman_filter_equals_gaussian_conditioning():
    rng = np.random.default_rng(1)
    F = np.array([[0.9, 0.2], [-0.1, 0.8]])
    Q, R = np.diag([0.3, 0.2]), np.diag([0.5, 0.4])
    y = rng.normal(size=(8, 2))
    m0, P0 = np.array([0.5, -0.2]), np.eye(2)
    res = measurement.kalman_filter(y, F, Q, R, m0=m0, P0=P0)
    means, evidence = brute_force(y, F, Q, R, m0, P0)
    # the brute force starts at x_0; the filter's x_1 = F x_0 + w_1, as in the model
    assert np.abs(res.means - means).max() < 1e-12
    assert abs(res.log_likelihood - evidence) < 1e-10


def test_complex_filter_is_the_real_filter_of_real_and_imaginary_parts():
    """A circular complex mode x' = a x + w is the real 2-d system with rotation a and variance q / 2 per part."""
    rng = np.random.default_rng(2)
    a, q, s2 = 0.8 * np.exp(0.7j), 0.4, 0.3
    y = rng.normal(size=(20, 1)) + 1j * rng.normal(size=(20, 1))
    c = measurement.kalman_filter(y, [[a]], [[q]], [[s2]], P0=[[1.0]])
    rot = np.array([[a.real, -a.imag], [a.imag, a.real]])
    r = measurement.kalman_filter(np.column_stack([y.real, y.imag]), rot, q / 2 * np.eye(2), s2 / 2 * np.eye(2),
                                  P0=0.5 * np.eye(2))
    assert np.abs(c.means[:, 0] - (r.means[:, 0] + 1j * r.means[:, 1])).max() < 1e-12
    assert abs(c.log_likelihood - r.log_likelihood) < 1e-10          # the same density, two parametrisations


def test_steady_state_gain_is_the_limit_of_the_filter():
    for r in (-0.5, 0.0, 0.3):
        q, s2 = 0.2, 0.5
        g = measurement.steady_state_gain(r, q, s2)
        res = measurement.kalman_filter(np.zeros((400, 1)), [[np.exp(r)]], [[q]], [[s2]], P0=[[1.0]])
        assert abs(res.gains[-1, 0, 0] - g) < 1e-12
        assert 0 < g < 1


@pytest.mark.parametrize("call, error, match", [
    (lambda: measurement.kalman_filter(np.ones((3, 1)) * np.nan, [[1.0]], [[1.0]], [[1.0]]), ValueError, "y"),
    (lambda: measurement.kalman_filter(np.ones((3, 2)), [[1.0]], [[1.0]], [[1.0]]), ValueError, "R"),
    (lambda: measurement.kalman_filter(np.ones((3, 1)), [[1.0]], [[1.0]], [[1.0]], u=np.ones((2, 1))), ValueError, "u"),
    (lambda: measurement.gaussian_update([0.0], [[1.0]], [[1.0]], [0.0], 0.0), ValueError, "sigma2"),
    (lambda: measurement.gaussian_update([0.0], [[1.0]], [[1.0]], [0.0], np.nan), ValueError, "sigma2"),
    (lambda: measurement.steady_state_gain(0.1, -1.0, 1.0), ValueError, "q"),
    (lambda: measurement.steady_state_gain("0", 1.0, 1.0), TypeError, "r"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- pointers and weak values

SZ = np.diag([1.0, -1.0])


def spin(theta):
    return np.array([np.cos(theta), np.sin(theta)])


def test_pointer_kraus_operators_are_complete():
    rng = np.random.default_rng(4)
    G = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    A = G + G.conj().T
    total, _ = scipy.integrate.quad_vec(lambda q: (lambda M: M.conj().T @ M)(measurement.pointer_kraus(A, 0.7, q)),
                                        -40, 40, epsabs=1e-14, epsrel=1e-14)
    assert np.abs(total - np.eye(3)).max() < 1e-12


def test_weak_value_leaves_the_spectrum():
    a, b = np.pi / 4, -np.pi / 4 + 0.1
    w = measurement.weak_value(SZ, spin(a), spin(b))
    assert abs(w - np.cos(a + b) / np.cos(a - b)) < 1e-12 and abs(w.real) > 1
    assert round(w.real, 4) == 9.9666


def test_postselected_pointer_mean_is_exact_and_has_both_limits():
    a, b = np.pi / 4, -np.pi / 4 + 0.1
    pre, post = spin(a), spin(b)
    for sigma in (0.3, 2.0):
        amplitude = lambda q: post.conj() @ measurement.pointer_kraus(SZ, sigma, q) @ pre
        Z = scipy.integrate.quad(lambda q: abs(amplitude(q)) ** 2, -60, 60, epsabs=1e-15, limit=400)[0]
        mean = scipy.integrate.quad(lambda q: q * abs(amplitude(q)) ** 2, -60, 60, epsabs=1e-15, limit=400)[0] / Z
        assert abs(measurement.postselected_pointer_mean(SZ, pre, post, sigma) - mean) < 1e-9
    w = measurement.weak_value(SZ, pre, post).real
    far = [abs(measurement.postselected_pointer_mean(SZ, pre, post, s) - w) for s in (10.0, 100.0, 1000.0)]
    assert far[0] > far[1] > far[2] and far[2] < 1e-3
    c = np.abs(post * pre) ** 2                                   # |<post|a><a|pre>|^2
    average = (c * np.diag(SZ)).sum() / c.sum()
    assert abs(measurement.postselected_pointer_mean(SZ, pre, post, 0.05) - average) < 1e-9


def test_gaussian_gram_is_positive_and_the_box_kernels_is_not():
    X = np.random.default_rng(5).normal(size=(40, 2))
    assert np.linalg.eigvalsh(measurement.gaussian_kernel(X, X, 0.8))[0] >= -1e-12
    points = np.array([0.0, 0.6, 1.2])
    box = (np.abs(points[:, None] - points[None, :]) < 1).astype(float)
    assert np.linalg.eigvalsh(box)[0] < -0.4                      # 1 - sqrt(2): not a valid kernel


def test_random_fourier_features_reproduce_the_gaussian_kernel():
    X = np.random.default_rng(6).normal(size=(25, 3))
    exact = measurement.gaussian_kernel(X, X, 1.3)
    for M in (500, 5000):
        errors = [np.abs((lambda Z: Z @ Z.T)(measurement.random_fourier_features(X, M, 1.3, seed)) - exact).max()
                  for seed in range(3)]
        assert max(errors) < 3 / np.sqrt(M) * np.sqrt(2 * np.log(25 * 25))   # 3 sigma, union over the entries
    assert np.mean(errors) < 3 / np.sqrt(5000)


@pytest.mark.parametrize("call, error, match", [
    (lambda: measurement.pointer_kraus([[1.0, 2.0], [0.0, 1.0]], 1.0, 0.0), ValueError, "Hermitian"),
    (lambda: measurement.pointer_kraus(SZ, 0.0, 0.0), ValueError, "sigma"),
    (lambda: measurement.weak_value(SZ, spin(0), spin(np.pi / 2)), ValueError, "orthogonal"),
    (lambda: measurement.weak_value(SZ, [np.nan, 1], spin(0)), ValueError, "pre"),
    (lambda: measurement.postselected_pointer_mean(SZ, spin(0), spin(0.1), -1.0), ValueError, "sigma"),
    (lambda: measurement.random_fourier_features(np.ones((3, 2)), 0, 1.0, 0), ValueError, "n_features"),
    (lambda: measurement.gaussian_kernel(np.ones((3, 2)), np.ones((3, 3)), 1.0), ValueError, "Y"),
])
def test_pointer_and_kernel_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_seeds_weak_measurement_expansion_misses_a_term_of_order_sigma_minus_two():
    """Wang's eq. 25, psi + (q - <A>)/(2 sigma^2) (A - <A>) psi + O(sigma^-4), against the exact M_q psi.

    Expanding M_q ~ exp((2 q A - A^2) / (4 sigma^2)) gives the first-order state
    psi + q/(2 sigma^2) (A - <A>) psi - (A^2 - <A^2>)/(4 sigma^2) psi: eq. 25 replaces the last term by
    -<A>/(2 sigma^2) (A - <A>) psi, which differs at order sigma^-2 unless psi is an eigenstate of A.
    """
    A = np.diag([1.0, -1.0, 0.5])
    q, sigmas = 0.7, np.array([10.0, 30.0, 100.0, 300.0])

    def remainders(psi):
        psi = psi / np.linalg.norm(psi)
        mean, mean2 = psi @ A @ psi, psi @ A @ A @ psi
        out = {"eq25": [], "first_order": []}
        for s in sigmas:
            exact = measurement.pointer_kraus(A, s, q) @ psi
            exact /= np.linalg.norm(exact)
            seed = psi + (q - mean) / (2 * s**2) * (A @ psi - mean * psi)
            full = psi + q / (2 * s**2) * (A @ psi - mean * psi) - (A @ A @ psi - mean2 * psi) / (4 * s**2)
            out["eq25"].append(np.linalg.norm(exact - seed / np.linalg.norm(seed)))
            out["first_order"].append(np.linalg.norm(exact - full / np.linalg.norm(full)))
        return {k: -np.polyfit(np.log(sigmas), np.log(np.maximum(v, 1e-300)), 1)[0] for k, v in out.items()}, out

    orders, _ = remainders(np.array([0.6, 0.5, 0.62]))
    assert abs(orders["eq25"] - 2) < 0.05 and abs(orders["first_order"] - 4) < 0.1
    _, eigen = remainders(np.array([0.0, 1.0, 0.0]))
    assert max(eigen["eq25"]) < 1e-15                              # exact for an eigenstate


# ----------------------------------------------------------------------------- continuous measurement (QuTiP)

def homodyne_runs(n_traj: int, dt: float, seed: int = 1):
    """QuTiP's smesolve: x = (a + a^dag)/sqrt 2 measured continuously at rate k = 1 from the vacuum, H = 0."""
    import qutip

    N, k, T = 30, 1.0, 0.75
    a = qutip.destroy(N)
    x = (a + a.dag()) / np.sqrt(2)
    t = np.linspace(0, T, int(round(T / dt)) + 1)
    res = qutip.smesolve(qutip.qzero(N), qutip.basis(N, 0), t, c_ops=[], sc_ops=[np.sqrt(2 * k) * x],
                         e_ops=[x, x * x], ntraj=n_traj, seeds=seed,
                         options={"store_measurement": True, "dt": dt, "keep_runs_results": True,
                                  "progress_bar": False})
    mean, second = np.array(res.runs_expect)
    return t, k, mean, second - mean**2, np.array(res.measurement)[:, 0, :]


def kalman_bucy(record, t, k, V0):
    """The scalar Kalman-Bucy filter of x (no dynamics) observed as dy = 2 sqrt(2k) x dt + dW, one Euler step per dt."""
    c, dt = 2 * np.sqrt(2 * k), t[1] - t[0]
    mu, P, out = 0.0, V0, [0.0]
    for r in record:
        mu, P = mu + c * P * (r * dt - c * mu * dt), P / (1 + c * c * P * dt)
        out.append(mu)
    return np.array(out)


def test_continuous_measurement_against_qutip_smesolve():
    n = 40
    t, k, mean, var, record = homodyne_runs(n, 1e-3)
    V0 = 0.5
    V = V0 / (1 + 8 * k * V0 * t)                     # the precision grows as 1/V0 + 8 k t
    assert np.abs(var - V).max() < 5e-3               # every trajectory's conditional variance
    spread = mean[:, -1].var(ddof=1)                  # the means spread out by what the variance lost
    tolerance = 3 * (V0 - V[-1]) * np.sqrt(2 / (n - 1))   # 3 standard errors of a sample variance of n values
    assert abs(spread - (V0 - V[-1])) < tolerance
    assert abs(V0 - V[-1] - 0.375) < 1e-12


def test_kalman_bucy_filter_fed_qutips_record_converges_at_first_order():
    errors = []
    for dt in (2e-3, 1e-3, 5e-4):
        t, k, mean, _, record = homodyne_runs(3, dt, seed=3)
        errors.append(max(np.abs(kalman_bucy(r, t, k, 0.5) - m).max() for r, m in zip(record, mean)))
    assert errors[2] < errors[1] < errors[0] and errors[1] < 10 * 1e-3


# ----------------------------------------------------------------------------- maximum entropy

def test_the_gaussian_has_the_largest_spectral_entropy_at_fixed_second_moment():
    """Differential entropies of frequency densities with E[w^2] = 1 (closed forms)."""
    gauss = 0.5 * np.log(2 * np.pi * np.e)
    laplace = 1 + np.log(2 / np.sqrt(2))                           # b = 1/sqrt 2
    uniform = np.log(2 * np.sqrt(3))                               # on [-sqrt 3, sqrt 3]
    nu = 5.0
    scale = np.sqrt((nu - 2) / nu)                                 # Student t with unit variance
    from scipy.special import beta, digamma
    student = ((nu + 1) / 2 * (digamma((nu + 1) / 2) - digamma(nu / 2)) + np.log(np.sqrt(nu) * beta(nu / 2, 0.5))
               + np.log(scale))
    assert gauss > max(laplace, uniform, student)
    import scipy.stats
    for dist in (scipy.stats.laplace(scale=1 / np.sqrt(2)), scipy.stats.uniform(-np.sqrt(3), 2 * np.sqrt(3)),
                 scipy.stats.t(nu, scale=scale)):
        assert abs(dist.var() - 1) < 1e-12 and dist.entropy() < gauss


def test_noise_ratio_inverts_the_riccati_gain_and_refuses_gains_no_noise_model_has():
    rng = np.random.default_rng(4)
    for _ in range(50):
        r, g = rng.uniform(-2.0, 0.3), rng.uniform(0.01, 0.99)
        if (1 - g) * np.exp(2 * r) >= 1:
            with pytest.raises(ValueError, match="no noise model"):
                measurement.noise_ratio(r, g)
            continue
        sigma2 = rng.uniform(0.1, 3.0)
        q = measurement.noise_ratio(r, g) * sigma2                # the ratio is all the gain determines
        assert q > 0 and abs(measurement.steady_state_gain(r, q, sigma2) - g) < 1e-12
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="g"):
            measurement.noise_ratio(0.0, bad)


# ----------------------------------------------------------------------------- covariances, divergence, extremes

def _filter_2d(**kw):
    base = dict(y=np.ones((5, 2)), F=0.9 * np.eye(2), Q=0.1 * np.eye(2), R=0.5 * np.eye(2))
    return measurement.kalman_filter(**{**base, **kw})


@pytest.mark.parametrize("kw, argument", [
    (dict(Q=-0.1 * np.eye(2)), "Q"),                                   # negative "covariances" came out before
    (dict(Q=np.array([[1.0, 1.0], [0.0, 1.0]])), "Q"),                 # not Hermitian
    (dict(Q=np.array([[0.1, 0.5j], [0.5j, 0.1]])), "Q"),               # complex symmetric, not Hermitian
    (dict(R=-0.5 * np.eye(2)), "R"),
    (dict(R=np.zeros((2, 2))), "R"),                                   # R must be definite, not only semidefinite
    (dict(R=np.diag([1.0, 1e-20])), "R"),                              # definite only within round-off
    (dict(P0=np.array([[1.0, 2.0], [2.0, 1.0]])), "P0"),               # indefinite
])
def test_covariances_must_be_hermitian_and_positive(kw, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be (Hermitian|positive)"):
        _filter_2d(**kw)


def test_semidefinite_q_and_p0_are_covariances_and_give_the_brute_force_answer():
    """Q = 0 in one direction and P0 = 0 (a known start) are valid: the filter equals Gaussian conditioning."""
    rng = np.random.default_rng(7)
    F, Q, R = np.array([[0.9, 0.2], [-0.1, 0.8]]), np.diag([0.3, 0.0]), np.diag([0.5, 0.4])
    y, m0, P0 = rng.normal(size=(6, 2)), np.array([0.5, -0.2]), np.zeros((2, 2))
    res = measurement.kalman_filter(y, F, Q, R, m0=m0, P0=P0)
    means, evidence = brute_force(y, F, Q, R, m0, P0 + 1e-300 * np.eye(2))
    assert np.abs(res.means - means).max() < 1e-12 and abs(res.log_likelihood - evidence) < 1e-10
    assert all(np.linalg.eigvalsh(P).min() >= -1e-15 for P in res.covariances)


@pytest.mark.parametrize("F, H, step", [(1e200, 1.0, 1), (1e100, 0.0, 2), (10.0, 0.0, 155)])
def test_a_diverging_filter_stops_at_the_step_where_its_state_overflows(F, H, step):
    """F = 1e200 I gave NaN with numpy warnings only; unobserved (H = 0), P grows as F^2t until it overflows."""
    with _no_warnings():
        with pytest.raises(ValueError, match=rf"diverged at step {step} of 200"):
            measurement.kalman_filter(np.ones((200, 1)), [[F]], [[1.0]], [[1.0]], H=[[H]])


class _no_warnings:
    """No RuntimeWarning may escape (numpy's overflow warnings were the only sign before)."""

    def __enter__(self):
        import warnings
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@pytest.mark.parametrize("kw, argument", [
    (dict(precision=-np.eye(2)), "precision"),
    (dict(precision=np.array([[1.0, 1.0], [0.0, 1.0]])), "precision"),
    (dict(sigma2=np.array([[-0.5]])), "sigma2"),
    (dict(precision=np.zeros((2, 2))), "posterior precision"),           # W sees one direction of two
])
def test_gaussian_update_refuses_what_is_not_a_precision(kw, argument):
    base = dict(mean=np.zeros(2), precision=np.eye(2), W=np.array([[1.0, 0.5]]), v=np.array([0.3]), sigma2=0.5)
    with pytest.raises(ValueError, match=argument):
        measurement.gaussian_update(**{**base, **kw})


def test_a_zero_prior_precision_is_allowed_where_the_observation_pins_every_direction():
    mean, precision = measurement.gaussian_update(np.zeros(2), np.zeros((2, 2)), np.eye(2), np.array([0.3, -0.1]), 0.5)
    assert np.abs(mean - [0.3, -0.1]).max() < 1e-15 and np.abs(precision - 2 * np.eye(2)).max() < 1e-15


def test_steady_state_gain_agrees_with_scipys_riccati_solver_and_with_mpmath_beyond_its_range():
    import mpmath
    for r in (-3.0, -0.5, 0.0, 0.3, 2.0):
        for q, s2 in ((0.2, 0.5), (1e-6, 1.0), (3.0, 1e-3)):
            P = scipy.linalg.solve_discrete_are(np.array([[np.exp(r)]]), np.array([[1.0]]), np.array([[q]]),
                                                np.array([[s2]]))[0, 0]
            assert abs(measurement.steady_state_gain(r, q, s2) - P / (P + s2)) < 1e-12
    mpmath.mp.dps = 50

    def reference(r, q, s2):
        A, rho = mpmath.exp(2 * mpmath.mpf(r)), mpmath.mpf(q) / mpmath.mpf(s2)
        x = (A + rho - 1 + mpmath.sqrt((A + rho - 1) ** 2 + 4 * rho)) / 2
        return x / (x + 1)
    for r, q, s2 in ((400.0, 0.2, 0.5), (-400.0, 0.2, 0.5), (0.1, 1e300, 1e-300), (0.0, 1e-300, 1e300), (-50, 1e-20, 1)):
        assert abs(measurement.steady_state_gain(r, q, s2) - float(reference(r, q, s2))) <= 1e-14 * float(reference(r, q, s2)) + 1e-300


def test_noise_ratio_refuses_a_huge_rate_without_overflow():
    with pytest.raises(ValueError, match="no noise model has the stationary gain g = 0.5 at rate r = 1000"):
        measurement.noise_ratio(1000.0, 0.5)
    assert abs(measurement.noise_ratio(-1000.0, 0.5) - 1.0) < 1e-15            # g / (1 - g), e^{2r} g = 0


def test_the_pointer_wavefunction_is_right_for_every_width():
    import mpmath
    for sigma in (1e-200, 1e-5, 1.0, 1e150, 1e300):
        for q in (0.0, 1e-201, 3e-200, 1.0, 1e200):
            ref = (2 * mpmath.pi * mpmath.mpf(sigma) ** 2) ** -0.25 * mpmath.exp(-mpmath.mpf(q) ** 2 / (4 * mpmath.mpf(sigma) ** 2))
            got = measurement.pointer_wavefunction(q, sigma)
            assert abs(got - float(ref)) <= 1e-13 * float(ref) + 1e-300


def test_postselected_pointer_mean_at_a_tiny_width_is_the_postselected_eigenvalue_average():
    """sigma = 1e-200 gave NaN; the limit is sum_a a |<post|P_a|pre>|^2 / sum_a |<post|P_a|pre>|^2 over the
    eigenspaces P_a of A - a degenerate eigenvalue keeps its interference within the eigenspace."""
    rng = np.random.default_rng(3)
    U = np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))[0]
    A = U @ np.diag([1.0, 1.0, -1.0]) @ U.conj().T                     # a degenerate eigenvalue, rotated
    pre, post = rng.normal(size=3) + 1j * rng.normal(size=3), rng.normal(size=3) + 1j * rng.normal(size=3)
    pre, post = pre / np.linalg.norm(pre), post / np.linalg.norm(post)
    weights = {a: abs(post.conj() @ U[:, cols] @ U[:, cols].conj().T @ pre) ** 2
               for a, cols in ((1.0, [0, 1]), (-1.0, [2]))}
    limit = sum(a * w for a, w in weights.items()) / sum(weights.values())
    for sigma in (1e-200, 1e-30):
        assert abs(measurement.postselected_pointer_mean(A, pre, post, sigma) - limit) < 1e-12
    assert abs(measurement.postselected_pointer_mean(A, pre, post, 1e200) - measurement.weak_value(A, pre, post).real) < 1e-12


def test_the_gaussian_kernel_from_distances_agrees_with_the_definition_and_is_one_on_equal_points():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    direct = np.exp(-((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) / (2 * 0.9**2))
    assert np.abs(measurement.gaussian_kernel(X, Y, 0.9) - direct).max() < 1e-15
    big = 1e8 + X                                                        # |x|^2 + |y|^2 - 2 x.y cancelled here
    assert np.all(np.diag(measurement.gaussian_kernel(big, big, 1e-3)) == 1.0)
    assert np.all(measurement.gaussian_kernel(1e300 * X, 1e300 * X, 1.0)[~np.eye(7, dtype=bool)] == 0.0)


def test_random_features_refuse_sizes_and_widths_they_cannot_hold():
    with pytest.raises(ValueError, match="n_features"):
        measurement.random_fourier_features(np.ones((3, 2)), 10**12, 1.0, 0)
    with pytest.raises(ValueError, match=r"phases omega . x overflow \(s = .* too small"):
        measurement.random_fourier_features(np.ones((3, 2)), 4, 1e-320, 0)


# ----------------------------------------------------------------------------- the weak limit in two regimes

def _random_observable(seed=3, n=4):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    psi = rng.normal(size=n) + 1j * rng.normal(size=n)
    return G + G.conj().T, psi / np.linalg.norm(psi)


def _exact_after_reading(A, psi, q, sigma):
    """M_q psi / |M_q psi| with M_q ~ exp((2 q A - A^2) / (4 sigma^2)), by scipy's matrix exponential."""
    out = scipy.linalg.expm((2 * q * A - A @ A) / (4 * sigma**2)) @ psi
    return out / np.linalg.norm(out)


def _remainder_orders(A, psi, reading, sigmas):
    orders = {}
    for form in ("seed", "fixed", "typical"):
        r = []
        for s in sigmas:
            approx = measurement.weak_update(A, psi, reading(s), s, form)
            r.append(np.linalg.norm(_exact_after_reading(A, psi, reading(s), s) - approx / np.linalg.norm(approx)))
        orders[form] = float(-np.polyfit(np.log(sigmas), np.log(r), 1)[0])
    return orders


def test_the_kraus_form_is_the_normalised_pointer_update():
    A, psi = _random_observable()
    for q, s in ((0.3, 0.8), (-2.0, 5.0), (7.0, 40.0)):
        # global phase: expm and the eigendecomposition agree as vectors, both from the same real exponent
        assert np.abs(measurement.weak_update(A, psi, q, s, "kraus") - _exact_after_reading(A, psi, q, s)).max() < 1e-12


def test_remainders_at_a_fixed_and_at_a_typical_reading():
    """eqs. ch5-weak-update and ch5-typical-update against the exact state, for a random observable.

    At a fixed q: eq. 25 leaves O(sigma^-2), the fixed-reading and typical-reading updates O(sigma^-4).
    At q = <A> + z sigma: eq. 25 and the fixed-reading update leave O(sigma^-2), the typical-reading one O(sigma^-3).
    """
    A, psi = _random_observable()
    mean = float(np.real(psi.conj() @ A @ psi))
    sigmas = np.array([30.0, 100.0, 300.0, 1000.0])
    fixed = _remainder_orders(A, psi, lambda s: 0.4, sigmas)
    assert abs(fixed["seed"] - 2) < 0.1 and abs(fixed["fixed"] - 4) < 0.1 and abs(fixed["typical"] - 4) < 0.1
    for z in (0.7, 2.0, -1.5):
        typical = _remainder_orders(A, psi, lambda s: mean + z * s, sigmas)
        assert abs(typical["seed"] - 2) < 0.15 and abs(typical["fixed"] - 2) < 0.15, (z, typical)
        assert abs(typical["typical"] - 3) < 0.1, (z, typical)


def test_the_sse_step_is_the_typical_update_at_unit_xi_and_keeps_the_norm_in_mean_square():
    A, psi = _random_observable(seed=5, n=3)
    mean = float(np.real(psi.conj() @ A @ psi))
    k, dt = 0.7, 2e-3
    sigma = 1 / math.sqrt(8 * k * dt)
    for xi in (1.0, -1.0):
        step = measurement.sse_step(A, psi, xi * math.sqrt(dt), k, dt)
        typical = measurement.weak_update(A, psi, mean + xi * sigma, sigma, "typical")
        assert np.abs(step - typical).max() < 1e-14
        assert np.abs(measurement.weak_update(A, psi, mean + xi * sigma, sigma, "sse") - typical).max() < 1e-14
    # E |psi + d psi|^2 over dW ~ N(0, dt): the two-point Gauss-Hermite rule is exact for a quadratic in dW
    norms = [np.linalg.norm(measurement.sse_step(A, psi, x * math.sqrt(dt), k, dt)) ** 2 for x in (1.0, -1.0)]
    B = A - mean * np.eye(3)
    assert abs(np.mean(norms) - 1 - (k * dt) ** 2 * np.linalg.norm(B @ B @ psi) ** 2) < 1e-14


def test_averaged_state_of_the_exact_update_is_the_dephased_state():
    """One reading averaged over its distribution dephases the eigenbasis: rho_ab exp(-(a - b)^2 / (8 sigma^2))."""
    A, psi = _random_observable(seed=8, n=3)
    a, V = np.linalg.eigh(A)
    rho = np.outer(psi, psi.conj())
    for sigma in (5.0, 20.0, 100.0):                              # the weak limit: sigma >= half the spread
        in_basis = V.conj().T @ rho @ V
        dephased = V @ (in_basis * np.exp(-((a[:, None] - a[None, :]) ** 2) / (8 * sigma**2))) @ V.conj().T
        averaged = measurement.averaged_state(A, psi, sigma, "kraus", nodes=80)
        assert np.abs(averaged - dephased).max() < 1e-12
        assert abs(np.trace(averaged) - 1) < 1e-12


def test_averaged_sse_step_is_right_to_order_dt_squared_and_eq_25_only_to_order_dt():
    A, psi = _random_observable(seed=8, n=3)
    sigmas = np.array([10.0, 30.0, 100.0, 300.0])
    exact = {s: measurement.averaged_state(A, psi, s, "kraus") for s in sigmas}
    order_dt = {}
    for form in ("seed", "fixed", "sse", "typical"):
        errors = [np.abs(measurement.averaged_state(A, psi, s, form) - exact[s]).max() for s in sigmas]
        order_dt[form] = float(-np.polyfit(np.log(sigmas), np.log(errors), 1)[0]) / 2   # sigma^-2 = 8 k dt
    assert abs(order_dt["sse"] - 2) < 0.05 and abs(order_dt["typical"] - 2) < 0.05, order_dt
    assert abs(order_dt["seed"] - 1) < 0.05 and abs(order_dt["fixed"] - 1) < 0.05, order_dt


@pytest.mark.parametrize("call, error, match", [
    (lambda: measurement.weak_update(np.eye(2), [1, 0], 0.1, 1.0, "wang"), ValueError, "form"),
    (lambda: measurement.weak_update(np.eye(2), [1, 0], 0.1, 0.0), ValueError, "sigma"),
    (lambda: measurement.weak_update(np.eye(2), [0, 0], 0.1, 1.0), ValueError, "psi"),
    (lambda: measurement.weak_update([[0, 1], [0, 0]], [1, 0], 0.1, 1.0), ValueError, "A"),
    (lambda: measurement.weak_update(np.eye(2), [1, 0], math.nan, 1.0), ValueError, "q"),
    (lambda: measurement.sse_step(np.eye(2), [1, 0], 0.1, -1.0, 0.1), ValueError, "k"),
    (lambda: measurement.sse_step(np.eye(2), [1, 0], math.inf, 1.0, 0.1), ValueError, "dW"),
    (lambda: measurement.averaged_state(np.eye(2), [1, 0], 1.0, nodes=1), ValueError, "nodes"),
    (lambda: measurement.averaged_state(np.eye(2), [1, 0], 1.0, form="exact"), ValueError, "form"),
])
def test_weak_limit_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
