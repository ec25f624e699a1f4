"""genphys.measurement: information form = covariance form, the Kalman filter against brute force and scipy."""

import numpy as np
import pytest
import scipy.linalg
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
