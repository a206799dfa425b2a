"""Property tests for SPEC B1-B10: conventional BPTT error flow (paper §3.1).

Each test states one claim of the paper over Hypothesis-drawn weights, trajectories and lags,
and compares the generated kernels with an independent route (eq. (1) loops, explicit matrix
product, path sum, finite differences of the real network, mpmath).
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, reject, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from errorflow.derivations.bptt import b7_optimum
from errorflow.numeric import Float64RangeError, rnn
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.verify import routes
from errorflow.verify.claims_bptt import measured_rate
from errorflow.verify.reference import mp_log_scaling_factor
from errorflow.verify.sampling import matrix_norm
from errorflow.verify.strategies import (
    activations,
    net_windows,
    recurrent_problems,
    sizes,
    weight_matrices,
)

ACTS = ("logistic", "tanh", "identity")


def slopes_of(act, nets):
    return np.broadcast_to(ACTIVATIONS[act].df(nets), nets.shape)


@st.composite
def scaling_cases(draw, max_n=4, max_q=5):
    n = draw(sizes(max_n))
    q = draw(st.integers(1, max_q))
    act = draw(activations(ACTS))
    W = draw(weight_matrices(n, bound=3.0, norm="max_row_sum", min_fraction=0.05))
    nets = draw(net_windows(n, q, scale=4.0))
    return W, nets, act


# --- B1/B2 -------------------------------------------------------------------------------
@given(problem=recurrent_problems())
def test_b1_b2_bptt_gradient_equals_finite_differences_of_forward(problem):
    W, xs, d, mask, act = (problem[k] for k in ("W", "xs", "targets", "mask", "activation"))

    def loss(W_):
        return routes.forward_loss(W_, xs, d, mask, act)

    E, grads = rnn.bptt_gradient(W, xs, d, act, mask=mask)
    assert E == pytest.approx(loss(W), rel=1e-12, abs=1e-300)
    fd = routes.central_difference_gradient(loss, W)
    np.testing.assert_allclose(grads["W"], fd, rtol=1e-6, atol=1e-8)


@given(problem=recurrent_problems())
def test_b2_error_signal_is_minus_dE_dnet(problem):
    W, xs, d, mask, act = (problem[k] for k in ("W", "xs", "targets", "mask", "activation"))

    def loss(x_):
        return routes.forward_loss(W, x_, d, mask, act)

    traj, theta = rnn.error_signals(W, xs, d, act, mask=mask)
    np.testing.assert_allclose(theta, -routes.central_difference_gradient(loss, xs), atol=1e-8)
    # B1: at the last step, vartheta_k = f'_k (d_k - y^k) at outputs, 0 elsewhere
    last = ACTIVATIONS[act].df(traj.nets[-1]) * np.where(mask[-1], d[-1] - traj.ys[-1], 0.0)
    np.testing.assert_allclose(theta[-1], last, rtol=1e-15, atol=0)


# --- B3/B4 -------------------------------------------------------------------------------
@given(case=scaling_cases())
def test_b3_kernel_equals_recursion_matrix_product_and_path_sum(case):
    W, nets, act = case
    try:
        S = rnn.scaling_factor(W, nets, act)
    except Float64RangeError:
        reject()  # an entry below float64's normal range (tiny drawn weights): not this claim

    slopes = slopes_of(act, nets)
    scale = max(float(np.max(np.abs(S))), 1e-300)
    for ref in (
        routes.eq1_loops(W, slopes),
        routes.explicit_product(W, slopes),
        routes.path_sum(W, slopes),
    ):
        assert float(np.max(np.abs(S - ref))) <= 1e-12 * scale


@given(n=sizes(4), q=st.integers(1, 5), act=activations(ACTS), seed=st.integers(0, 2**32 - 1))
def test_b3_kernel_equals_finite_differences_of_the_real_network(n, q, act, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1.0 if act != "identity" else 0.5, (n, n))
    xs = rng.normal(0, 1.0, (q + 2, n))
    traj = rnn.forward(W, xs, act)
    S = rnn.scaling_factor(W, traj.lag_window(q + 2, q), act)
    fd = routes.fd_scaling_factor(W, xs, q + 2, q, act)
    assert float(np.max(np.abs(S - fd))) <= 1e-7 * max(1.0, float(np.max(np.abs(S))))


@st.composite
def generic_weights(draw, max_n=4):
    """Non-symmetric W with every entry bounded away from 0 (a nilpotent or symmetric W can
    make the printed and the corrected eq. (2) agree by accident)."""
    n = draw(st.integers(2, max_n))
    mags = draw(hnp.arrays(np.float64, (n, n), elements=st.floats(0.2, 1.0)))
    signs = draw(hnp.arrays(np.float64, (n, n), elements=st.sampled_from([-1.0, 1.0])))
    W = 3.0 * mags * signs / n
    assume(float(np.max(np.abs(W - W.T))) > 0.1)
    return W


@given(W=generic_weights(), q=st.integers(1, 4), act=activations(ACTS))
def test_b4_printed_eq2_differs_and_corrected_agrees(W, q, act):
    n = W.shape[0]
    nets = np.linspace(-1.0, 1.0, q * n).reshape(q, n)
    slopes = slopes_of(act, nets)
    S = rnn.scaling_factor(W, nets, act)
    np.testing.assert_allclose(routes.path_sum(W, slopes), S, rtol=1e-12, atol=1e-15)
    printed = routes.path_sum(W, slopes, printed=True)
    # as printed, eq. (2) is eq. (1) for the transposed matrix ...
    np.testing.assert_allclose(printed, rnn.scaling_factor(W.T, nets, act), rtol=1e-12, atol=1e-15)
    # ... so at q = 1 (f'_v w_vu against f'_v w_uv) it differs for every non-symmetric W. For
    # q > 1 it differs generically, not always: W = [[-1.5, 0.75], [1.5, 1.5]] has
    # W^2 = (W^T)^2 = 3.375 I, so with linear units the two agree at q = 2.
    if q == 1:
        assert not np.allclose(printed, S, rtol=1e-6, atol=1e-12)


def test_b4_printed_eq2_differs_for_a_generic_net_at_every_lag():
    rng = np.random.default_rng(4)
    W = rng.normal(0, 1.0, (3, 3))
    for act in ACTS:
        for q in range(1, 6):
            nets = rng.normal(0, 1.0, (q, 3))
            printed = routes.path_sum(W, slopes_of(act, nets), printed=True)
            S = rnn.scaling_factor(W, nets, act)
            assert np.max(np.abs(printed - S)) > 1e-3 * np.max(np.abs(S))


# --- B5/B6 rates ---------------------------------------------------------------------------
@given(w=st.floats(1.01, 3.0), sign=st.sampled_from([-1.0, 1.0]), q=st.integers(500, 20_000))
def test_b5_single_linear_unit_scales_by_w_to_the_q(w, sign, q):
    s, log_abs = rnn.log_scaling_factor([[sign * w]], np.zeros((q, 1)), "identity")
    assert log_abs[0, 0] == pytest.approx(q * math.log(w), rel=1e-12)
    assert s[0, 0] == sign**q


@given(n=st.integers(2, 5), r=st.floats(1.01, 1.5), seed=st.integers(0, 2**32 - 1))
def test_b5_orthogonal_times_r_has_spectral_norm_r_to_the_q(n, r, seed):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    q = 400
    s, log_abs = rnn.log_scaling_factor(r * Q, np.zeros((q, n)), "identity")
    top = float(np.max(log_abs))
    log_norm = top + math.log(np.linalg.norm(s * np.exp(log_abs - top), 2))
    assert log_norm == pytest.approx(q * math.log(r), rel=1e-10)
    rate, _ = measured_rate(r * Q, np.zeros((q, n)), "identity")
    assert rate > 0  # explosion


@given(
    act=activations(ACTS),
    factor=st.one_of(st.floats(0.2, 0.95), st.floats(1.05, 1.8)),
    c=st.floats(-1.5, 1.5),
    q=st.integers(100, 5000),
)
def test_b5_b6_exact_rate_is_log_of_the_per_step_factor(act, factor, c, q):
    slope = float(ACTIVATIONS[act].df(np.array(c)))
    w = factor / slope
    nets = np.full((q, 1), c)
    rate, samples = measured_rate(np.array([[w]]), nets, act)
    assert rate == pytest.approx(math.log(factor), rel=1e-9, abs=1e-12)
    for qq, log_max in samples:
        assert log_max == pytest.approx(qq * math.log(factor), rel=1e-9, abs=1e-9)


@settings(max_examples=15)
@given(act=activations(ACTS), n=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_b6_real_trajectories_decay_at_least_at_the_per_step_bound(act, n, seed):
    rng = np.random.default_rng(seed)
    sup = ACTIVATIONS[act].sup_slope
    raw = rng.standard_normal((n, n))
    W = raw * (rng.uniform(0.3, 0.99) / sup / matrix_norm(raw, "max_row_sum"))
    q = 1500
    xs = rng.normal(0, 1.0, (q + 1, n))
    nets = rnn.forward(W, xs, act).lag_window(q + 1, q)
    rho = float(np.max(slopes_of(act, nets))) * matrix_norm(W, "max_row_sum")
    assert rho < 1
    rate, samples = measured_rate(W, nets, act)
    assert rate <= math.log(rho) + 1e-9
    for qq, log_max in samples:
        assert log_max <= math.log(n) + qq * math.log(rho) + 1e-9


# --- B7 --------------------------------------------------------------------------------
@given(
    y=st.floats(0.005, 3.0) | st.floats(-3.0, -0.005),
    w=st.floats(-200.0, 200.0, allow_nan=False),
)
def test_b7_no_logistic_factor_exceeds_peak_over_abs_y(y, w):
    peak = float(b7_optimum().peak)
    factor = float(ACTIVATIONS["logistic"].df(np.array(w * y))) * abs(w)
    assert factor <= peak / abs(y) * (1 + 1e-14)
    if factor > 1:
        assert abs(y) < peak and abs(w) > 4


def test_b7_optimum_values_to_thirty_digits():
    opt = b7_optimum()
    assert str(opt.net_star).startswith("1.5434046")
    assert str(opt.peak).startswith("0.2238716")
    assert 6.89 < float(opt.w_threshold) < 6.9
    # the coth form holds at the optimum: w y tanh(net/2) = 1 with net = w y
    net = float(opt.net_star)
    assert net * math.tanh(net / 2) == pytest.approx(1.0, rel=1e-15)


# --- B8/B9 -------------------------------------------------------------------------------
@settings(max_examples=25)
@given(
    n=st.integers(2, 8),
    q=st.integers(2, 60),
    frac=st.floats(0.2, 0.999),
    seed=st.integers(0, 2**32 - 1),
)
def test_b9_bound_holds_for_every_entry(n, q, frac, seed):
    rng = np.random.default_rng(seed)
    w_max = frac * 4.0 / n
    W = rng.uniform(-w_max, w_max, (n, n))
    nets = rnn.forward(W, rng.normal(0, 2.0, (q + 1, n)), "logistic").lag_window(q + 1, q)
    _, log_abs = rnn.log_scaling_factor(W, nets, "logistic")
    bounds = routes.b9_log_bounds(W, slopes_of("logistic", nets))
    assert np.all(log_abs <= bounds["full"] + 1e-9)
    assert np.all(bounds["full"] <= bounds["weak"] + 1e-9)
    assert bounds["norm_a"] <= n * w_max
    tau = n * w_max / 4
    assert np.max(log_abs) <= math.log(n) + q * math.log(tau) + 1e-9


@settings(max_examples=15)
@given(act=activations(ACTS), n=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_b8_global_flow_over_outputs_vanishes(act, n, seed):
    from errorflow.numeric.logspace import signed_logsumexp

    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, n))
    W = raw * (0.9 / ACTIVATIONS[act].sup_slope / matrix_norm(raw, "max_row_sum"))
    outputs = rng.choice(n, int(rng.integers(1, n + 1)), replace=False)
    q = 600
    nets = rnn.forward(W, rng.normal(0, 1, (q + 1, n)), act).lag_window(q + 1, q)
    logs = []
    for qq in (q // 3, q):
        s, log_abs = rnn.log_scaling_factor(W, nets[:qq], act)
        _, log_sum = signed_logsumexp(log_abs[:, outputs], s[:, outputs], axis=1)
        rho = float(np.max(slopes_of(act, nets[:qq]))) * matrix_norm(W, "max_row_sum")
        assert np.max(log_sum) <= math.log(len(outputs) * n) + qq * math.log(rho) + 1e-9
        logs.append(float(np.max(log_sum)))
    assert logs[1] < logs[0]


# --- B10 ---------------------------------------------------------------------------------
@settings(max_examples=6)
@given(
    n=st.integers(2, 3),
    q=st.integers(1000, 3000),
    act=activations(ACTS),
    seed=st.integers(0, 2**32 - 1),
)
def test_b10_log_scaling_factor_matches_mpmath_for_long_lags(n, q, act, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1.0, (n, n))
    nets = rng.normal(0, 3.0, (q, n))
    sign, log_abs = rnn.log_scaling_factor(W, nets, act)
    ref_sign, ref_log = mp_log_scaling_factor(W, nets, act)
    np.testing.assert_array_equal(sign, ref_sign)
    np.testing.assert_allclose(log_abs, ref_log, rtol=0, atol=1e-10)  # relative error of |S|


def test_b10_fallback_route_matches_mpmath_when_slopes_leave_float64():
    rng = np.random.default_rng(7)
    W = rng.normal(0, 1.0, (3, 3))
    nets = rng.normal(0, 2.0, (1200, 3))
    nets[::50, 1] = 900.0  # f'(900) = e^-900: below float64
    sign, log_abs = rnn.log_scaling_factor(W, nets, "logistic")
    ref_sign, ref_log = mp_log_scaling_factor(W, nets, "logistic")
    np.testing.assert_array_equal(sign, ref_sign)
    # the entry-wise exponent route: float64 rounding, like the column-scaled one
    np.testing.assert_allclose(log_abs, ref_log, rtol=0, atol=1e-10)


def test_b10_structural_zeros_stay_exact_zeros():
    W = np.array([[0.9, 0.0, 0.0], [0.3, -1.2, 0.0], [0.0, 0.7, 0.5]])
    nets = np.random.default_rng(3).normal(0, 2.0, (2000, 3))
    sign, log_abs = rnn.log_scaling_factor(W, nets, "tanh")
    ref_sign, ref_log = mp_log_scaling_factor(W, nets, "tanh")
    np.testing.assert_array_equal(sign, ref_sign)
    zero = ref_sign == 0
    assert np.all(np.isneginf(log_abs[zero]))
    np.testing.assert_allclose(log_abs[~zero], ref_log[~zero], rtol=0, atol=1e-10)
