"""Public API of ``errorflow.numeric.rnn``: scaling factor, its log form, forward pass and BPTT.

Conventions under test (the issue's contract): ``W[i, j] = w_ij`` is the weight from unit j to
unit i; ``nets[m-1] = net(t-m)``; ``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)`` (eq. 1),
so at q = 1 ``S[v, u] = f'_v(net_v(t-1)) w_uv``. References below are computed independently
of the library (own slope formulas, own forward loop, fractions by hand, mpmath).
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest

import errorflow.numeric
from errorflow.numeric import Float64RangeError, rnn
from errorflow.verify.reference import mp_log_scaling_factor
from errorflow.verify.routes import central_difference_gradient

ACTIVATION_NAMES = ("logistic", "tanh", "h", "g", "identity")


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------


def ref_f(name: str, x: np.ndarray) -> np.ndarray:
    """The squashing functions, written out directly (only for moderate |x|)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "h":
        return np.tanh(x / 2.0)
    if name == "g":
        return 2.0 * np.tanh(x / 2.0)
    assert name == "identity"
    return x.copy()


def ref_df(name: str, x: np.ndarray) -> np.ndarray:
    """The slopes via the textbook identities (only for moderate |x|)."""
    x = np.asarray(x, dtype=np.float64)
    if name == "logistic":
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "h":
        return 0.5 * (1.0 - np.tanh(x / 2.0) ** 2)
    if name == "g":
        return 1.0 - np.tanh(x / 2.0) ** 2
    assert name == "identity"
    return np.ones_like(x)


def ref_scaling(W: np.ndarray, nets: np.ndarray, name: str) -> np.ndarray:
    """Plain product F'(t-q) W^T ... F'(t-1) W^T, built from m = 1 upwards."""
    n = W.shape[0]
    S = np.eye(n)
    for row in nets:
        S = np.diag(ref_df(name, row)) @ W.T @ S
    return S


def ref_forward(W, xs, name, U=None, y0=None):
    """net(t) = W y(t-1) + U x(t) (U = identity when None), y(t) = f(net(t))."""
    W = np.asarray(W, dtype=np.float64)
    n = W.shape[0]
    y = np.zeros(n) if y0 is None else np.asarray(y0, dtype=np.float64)
    nets, ys = [], []
    for x in np.asarray(xs, dtype=np.float64):
        drive = x if U is None else np.asarray(U) @ x
        net = W @ y + drive
        y = ref_f(name, net)
        nets.append(net)
        ys.append(y)
    return np.array(nets), np.array(ys)


def ref_loss(W, xs, targets, name, U=None, y0=None, mask=None):
    _, ys = ref_forward(W, xs, name, U=U, y0=y0)
    resid = np.asarray(targets) - ys
    if mask is not None:
        resid = np.where(np.broadcast_to(mask, resid.shape), resid, 0.0)
    return 0.5 * float(np.sum(resid**2))


# --------------------------------------------------------------------------------------------
# scaling_factor: closed forms
# --------------------------------------------------------------------------------------------

# Slopes at net = 0, exact in binary: f'(0) for each activation.
SLOPE_AT_ZERO = {"logistic": 0.25, "tanh": 1.0, "h": 0.5, "g": 1.0, "identity": 1.0}


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_q1_closed_form_exact_at_zero_net(name):
    W = np.array([[0.5, -2.0, 3.0], [1.25, 0.0, -0.75], [4.0, 1.5, -1.0]])
    S = rnn.scaling_factor(W, np.zeros((1, 3)), name)
    c = SLOPE_AT_ZERO[name]
    expected = np.array([[c * W[u, v] for u in range(3)] for v in range(3)])  # f'_v w_uv
    np.testing.assert_array_equal(S, expected)
    assert S.dtype == np.float64
    assert S.shape == (3, 3)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_q1_closed_form_general_nets(name):
    rng = np.random.default_rng(11)
    n = 4
    W = rng.normal(size=(n, n))
    net = rng.uniform(-3, 3, size=n)
    S = rnn.scaling_factor(W, net[None, :], name)
    fp = ref_df(name, net)
    expected = np.empty((n, n))
    for v in range(n):
        for u in range(n):
            expected[v, u] = fp[v] * W[u, v]
    np.testing.assert_allclose(S, expected, rtol=1e-13, atol=0)
    # Exact against the library's own slope kernel (S = diag(f') W^T at q = 1, no rounding).
    slopes = rnn.ACTIVATIONS[name].df(net)
    np.testing.assert_array_equal(S, slopes[:, None] * W.T)
    sign, logabs = rnn.log_scaling_factor(W, net[None, :], name)
    np.testing.assert_array_equal(sign, np.sign(expected))
    np.testing.assert_allclose(logabs, np.log(np.abs(expected)), rtol=1e-13, atol=1e-13)


def test_hand_computed_2x2_q2_logistic():
    # W[i, j] = w_ij:   w_11 = 1, w_12 = -2, w_21 = 3, w_22 = 4, so W^T = [[1, 3], [-2, 4]].
    W = [[1.0, -2.0], [3.0, 4.0]]
    ln3 = math.log(3.0)
    # logistic'(0) = 1/4; logistic(ln 3) = 3/4, so logistic'(ln 3) = 3/4 * 1/4 = 3/16.
    nets = [
        [0.0, ln3],  # net(t-1): F'(t-1) = diag(1/4, 3/16)
        [ln3, 0.0],  # net(t-2): F'(t-2) = diag(3/16, 1/4)
    ]
    # F'(t-1) W^T             = [[1/4, 3/4], [-3/8, 3/4]]
    # W^T F'(t-1) W^T         = [[1/4 - 9/8, 3/4 + 9/4], [-1/2 - 3/2, -3/2 + 3]]
    #                         = [[-7/8, 3], [-2, 3/2]]
    # F'(t-2) W^T F'(t-1) W^T = [[-21/128, 9/16], [-1/2, 3/8]]
    expected = np.array([[-21 / 128, 9 / 16], [-1 / 2, 3 / 8]])
    S = rnn.scaling_factor(W, nets, "logistic")
    np.testing.assert_allclose(S, expected, rtol=1e-14)
    sign, logabs = rnn.log_scaling_factor(W, nets, "logistic")
    np.testing.assert_array_equal(sign, [[-1, 1], [-1, 1]])
    np.testing.assert_allclose(logabs, np.log(np.abs(expected)), rtol=0, atol=1e-14)


def test_hand_computed_2x2_q2_identity_is_transpose_squared():
    # identity: S = (W^T)^2; W^T = [[1, 3], [-2, 4]] -> (W^T)^2 = [[-5, 15], [-10, 10]].
    S = rnn.scaling_factor([[1, -2], [3, 4]], [[7.0, -9.0], [0.5, 100.0]], "identity")
    np.testing.assert_array_equal(S, [[-5.0, 15.0], [-10.0, 10.0]])


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_matches_plain_product(name):
    rng = np.random.default_rng(100 + ACTIVATION_NAMES.index(name))
    for q in (1, 2, 3, 7, 20):
        n = 3
        W = rng.normal(scale=1.2, size=(n, n))
        nets = rng.uniform(-3, 3, size=(q, n))
        S = rnn.scaling_factor(W, nets, name)
        ref = ref_scaling(W, nets, name)
        np.testing.assert_allclose(S, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_scaling_factor_equals_sign_exp_logabs(name):
    rng = np.random.default_rng(2024)
    for q in (1, 4, 16, 64, 200):
        n = 4
        W = rng.normal(scale=1.5, size=(n, n))
        nets = rng.uniform(-2, 2, size=(q, n))
        try:
            S = rnn.scaling_factor(W, nets, name)
        except Float64RangeError:
            continue  # not representable: covered by the log-form tests
        sign, logabs = rnn.log_scaling_factor(W, nets, name)
        assert set(np.unique(sign)) <= {-1.0, 0.0, 1.0}
        np.testing.assert_array_equal(sign, np.sign(S))
        np.testing.assert_allclose(sign * np.exp(logabs), S, rtol=1e-12, atol=0)


def test_log_form_fallback_path_matches_plain_product():
    # W^T = [[1, 1], [0, 1e-3]]: column 1 of (W^T)^q spans [~1, 1e-3q] -- more than float64's
    # relative range at q = 101 (entry-wise log-space recursion), but still representable.
    W = np.array([[1.0, 0.0], [1.0, 1e-3]])
    q = 101
    nets = np.zeros((q, 2))
    ref = np.linalg.matrix_power(W.T, q)
    sign, logabs = rnn.log_scaling_factor(W, nets, "identity")
    S = rnn.scaling_factor(W, nets, "identity")
    np.testing.assert_array_equal(sign, np.sign(ref))
    assert sign[1, 0] == 0 and logabs[1, 0] == -np.inf
    assert S[1, 0] == 0.0
    nz = ref != 0
    np.testing.assert_allclose(logabs[nz], np.log(np.abs(ref[nz])), rtol=1e-12)
    np.testing.assert_allclose(S, ref, rtol=1e-11)


def test_boundaries_of_float64_range_are_returned_exactly():
    assert rnn.scaling_factor([[2.0]], np.zeros((1023, 1)), "identity")[0, 0] == 2.0**1023
    assert rnn.scaling_factor([[-0.5]], np.zeros((1022, 1)), "identity")[0, 0] == 2.0**-1022


# --------------------------------------------------------------------------------------------
# Long lags: log form
# --------------------------------------------------------------------------------------------


def test_identity_single_unit_log_form_q_1e5():
    q = 10**5
    sign, logabs = rnn.log_scaling_factor([[-1.5]], np.zeros((q, 1)), "identity")
    assert sign.shape == logabs.shape == (1, 1)
    assert sign[0, 0] == 1.0  # (-1.5)^(even q)
    np.testing.assert_allclose(logabs[0, 0], q * math.log(1.5), rtol=1e-12)


def test_identity_single_unit_value_q_1e5():
    q = 10**5
    w = -1.00001
    S = rnn.scaling_factor([[w]], np.zeros((q, 1)), "identity")
    np.testing.assert_allclose(S[0, 0], w**q, rtol=1e-9)


@pytest.mark.parametrize(("w", "q"), [(-1.5, 1001), (0.75, 3000), (-0.25, 777), (3.0, 1000)])
def test_identity_single_unit_log_form_signs(w, q):
    sign, logabs = rnn.log_scaling_factor([[w]], np.zeros((q, 1)), "identity")
    assert sign[0, 0] == (1.0 if (w > 0 or q % 2 == 0) else -1.0)
    np.testing.assert_allclose(logabs[0, 0], q * math.log(abs(w)), rtol=1e-12)


@pytest.mark.slow
def test_identity_single_unit_log_form_q_1e6():
    q = 10**6
    sign, logabs = rnn.log_scaling_factor([[-1.5]], np.zeros((q, 1)), "identity")
    assert sign[0, 0] == 1.0
    assert np.isfinite(logabs[0, 0])
    np.testing.assert_allclose(logabs[0, 0], q * math.log(1.5), rtol=1e-12)


def test_identity_2x2_long_lag_against_mpmath():
    W = np.array([[-1.0, 0.5], [0.2, 0.9]])
    q = 20_000
    sign, logabs = rnn.log_scaling_factor(W, np.zeros((q, 2)), "identity")
    with mpmath.workdps(40):
        ref = mpmath.matrix(W.T.tolist()) ** q
        ref_sign = np.array([[float(mpmath.sign(ref[i, j])) for j in range(2)] for i in range(2)])
        ref_log = np.array(
            [[float(mpmath.log(abs(ref[i, j]))) for j in range(2)] for i in range(2)]
        )
    np.testing.assert_array_equal(sign, ref_sign)
    np.testing.assert_allclose(logabs, ref_log, rtol=1e-12)


def test_logistic_q5000_scaling_factor_raises_and_log_form_is_finite():
    rng = np.random.default_rng(5000)
    n = 3
    W = rng.normal(scale=2.0, size=(n, n))
    nets = rng.uniform(-3, 3, size=(5000, n))
    with pytest.raises(Float64RangeError, match="log_scaling_factor") as info:
        rnn.scaling_factor(W, nets, "logistic")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errorflow.numeric.Float64RangeError)
    sign, logabs = rnn.log_scaling_factor(W, nets, "logistic")
    assert np.all(np.isfinite(logabs))
    assert np.all(sign != 0)
    assert np.all(logabs < math.log(np.finfo(np.float64).tiny))  # really outside float64
    # Reference: the plain product, renormalised by a scalar each step (log scale carried).
    S = np.eye(n)
    log_scale = 0.0
    for row in nets:
        S = np.diag(ref_df("logistic", row)) @ W.T @ S
        top = np.abs(S).max()
        S /= top
        log_scale += math.log(top)
    np.testing.assert_array_equal(sign, np.sign(S))
    np.testing.assert_allclose(logabs, np.log(np.abs(S)) + log_scale, rtol=1e-10)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_log_form_against_mpmath_beyond_float64(name):
    rng = np.random.default_rng(77)
    n = 2
    W = rng.normal(scale=0.5, size=(n, n))
    nets = rng.uniform(-6, 6, size=(800, n))
    sign, logabs = rnn.log_scaling_factor(W, nets, name)
    ref_sign, ref_log = mp_log_scaling_factor(W, nets, name)
    np.testing.assert_array_equal(sign, ref_sign)
    np.testing.assert_allclose(logabs, ref_log, rtol=1e-10)


def test_overflow_raises_and_log_form_works():
    q = 400
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        rnn.scaling_factor([[10.0]], np.zeros((q, 1)), "identity")
    with pytest.raises(ValueError, match="overflow"):
        rnn.scaling_factor([[-10.0]], np.zeros((q, 1)), "identity")
    sign, logabs = rnn.log_scaling_factor([[-10.0]], np.zeros((q, 1)), "identity")
    assert sign[0, 0] == 1.0
    np.testing.assert_allclose(logabs[0, 0], q * math.log(10.0), rtol=1e-13)


def test_underflow_to_zero_raises_instead_of_silent_zero():
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        rnn.scaling_factor([[0.5]], np.zeros((1100, 1)), "identity")
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        rnn.scaling_factor([[1.0]], np.zeros((600, 1)), "logistic")  # 0.25^600


def test_large_nets_hand_values_in_log_form():
    # logistic'(+-1000) = e^-1000 / (1 + e^-1000)^2, log = -1000 (to double precision).
    sign, logabs = rnn.log_scaling_factor([[-3.0]], [[1e3], [-1e3]], "logistic")
    assert sign[0, 0] == 1.0
    np.testing.assert_allclose(logabs[0, 0], -2000.0 + 2 * math.log(3.0), rtol=1e-15)
    # Mixed: unit 0 saturated, unit 1 at 0; q = 1 gives log f'_v + log |w_uv|.
    W = np.array([[2.0, -1.0], [0.5, 3.0]])
    sign, logabs = rnn.log_scaling_factor(W, [[1e3, 0.0]], "logistic")
    np.testing.assert_array_equal(sign, np.sign(W.T))
    expected = np.array(
        [[-1000 + math.log(2.0), -1000 + math.log(0.5)], [math.log(0.25), math.log(0.75)]]
    )
    np.testing.assert_allclose(logabs, expected, rtol=1e-15)


# --------------------------------------------------------------------------------------------
# Exact zeros
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "q"), [("identity", 5), ("logistic", 3), ("logistic", 5000)])
def test_diagonal_W_gives_exact_zeros_off_the_diagonal(name, q):
    d = np.array([1.5, -0.5, 2.0])
    W = np.diag(d)
    rng = np.random.default_rng(3)
    nets = rng.uniform(-1, 1, size=(q, 3))
    sign, logabs = rnn.log_scaling_factor(W, nets, name)
    off = ~np.eye(3, dtype=bool)
    assert np.all(sign[off] == 0)
    assert np.all(logabs[off] == -np.inf)
    assert np.all(sign[~off] == np.sign(d) ** q)
    assert np.all(np.isfinite(logabs[~off]))
    if q < 100:
        S = rnn.scaling_factor(W, nets, name)
        assert np.all(S[off] == 0.0)
        np.testing.assert_allclose(np.diag(S), np.diag(ref_scaling(W, nets, name)), rtol=1e-12)


def test_nilpotent_W_gives_exact_zero():
    W = [[1.0, 1.0], [-1.0, -1.0]]  # (W^T)^2 = 0
    S = rnn.scaling_factor(W, np.zeros((3, 2)), "identity")
    np.testing.assert_array_equal(S, np.zeros((2, 2)))
    sign, logabs = rnn.log_scaling_factor(W, np.zeros((3, 2)), "identity")
    np.testing.assert_array_equal(sign, np.zeros((2, 2)))
    assert np.all(logabs == -np.inf)


# --------------------------------------------------------------------------------------------
# Input conversion and validation
# --------------------------------------------------------------------------------------------


def test_ints_and_lists_accepted():
    S = rnn.scaling_factor([[1, 2], [3, 4]], [[0, 0]])
    assert isinstance(S, np.ndarray) and S.dtype == np.float64
    np.testing.assert_array_equal(S, [[0.25, 0.75], [0.5, 1.0]])
    S2 = rnn.scaling_factor(np.array([[1, 2], [3, 4]], dtype=np.int32), np.zeros((1, 2), int))
    np.testing.assert_array_equal(S2, S)
    sign, logabs = rnn.log_scaling_factor([[1, 2], [3, 4]], [[0, 0]], "identity")
    assert sign.dtype == np.float64 and logabs.dtype == np.float64
    np.testing.assert_array_equal(sign, np.ones((2, 2)))
    np.testing.assert_allclose(np.exp(logabs), [[1.0, 3.0], [2.0, 4.0]], rtol=1e-15)
    traj = rnn.forward([[0, 1], [1, 0]], [[1, 2], [3, 4]], "identity")
    assert traj.nets.dtype == np.float64
    np.testing.assert_array_equal(traj.nets, [[1.0, 2.0], [5.0, 5.0]])


BOTH = pytest.mark.parametrize("fn", [rnn.scaling_factor, rnn.log_scaling_factor])


@BOTH
@pytest.mark.parametrize(
    "W",
    [
        np.ones((2, 3)),
        np.ones((3, 2)),
        np.ones((0, 0)),
        np.ones(3),
        np.ones((2, 2, 2)),
    ],
    ids=["2x3", "3x2", "empty", "1-D", "3-D"],
)
def test_bad_W_shape(fn, W):
    with pytest.raises(ValueError, match=r"\bW\b") as info:
        fn(W, np.zeros((1, 2)))
    assert "square" in str(info.value) or "(n, n)" in str(info.value)


@BOTH
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_W(fn, bad):
    W = np.eye(2)
    W[0, 1] = bad
    with pytest.raises(ValueError, match=r"\bW\b.*finite"):
        fn(W, np.zeros((1, 2)))


@BOTH
def test_nets_wrong_width(fn):
    with pytest.raises(ValueError, match=r"\bnets\b") as info:
        fn(np.eye(3), np.zeros((4, 2)))
    assert "3" in str(info.value)  # says which width was expected


@BOTH
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_nets(fn, bad):
    nets = np.zeros((5, 2))
    nets[3, 1] = bad
    with pytest.raises(ValueError, match=r"\bnets\b.*finite"):
        fn(np.eye(2), nets)


@BOTH
def test_q_zero(fn):
    with pytest.raises(ValueError, match=r"\bnets\b") as info:
        fn(np.eye(2), np.zeros((0, 2)))
    assert "q" in str(info.value)


@BOTH
@pytest.mark.parametrize("nets", [np.zeros(3), np.zeros((2, 2, 2)), 0.0], ids=["1-D", "3-D", "0-D"])
def test_nets_wrong_ndim(fn, nets):
    with pytest.raises(ValueError, match=r"\bnets\b") as info:
        fn(np.eye(2), nets)
    assert "(q, 2)" in str(info.value) or "(q, n)" in str(info.value)


@BOTH
@pytest.mark.parametrize("activation", ["relu", "Logistic", "", None, 3, "sigmoid"])
def test_unknown_activation_lists_known_names(fn, activation):
    with pytest.raises(ValueError, match=r"\bactivation\b") as info:
        fn(np.eye(2), np.zeros((1, 2)), activation)
    msg = str(info.value)
    for known in ACTIVATION_NAMES:
        assert repr(known) in msg or f'"{known}"' in msg


@BOTH
@pytest.mark.parametrize(
    "value",
    [
        np.eye(2, dtype=complex),
        np.array([[1, None], [0, 1]], dtype=object),
        [["a", "b"], ["c", "d"]],
        [[1.0, 2.0], [3.0]],
        "W",
        {"a": 1},
    ],
    ids=["complex", "object", "strings", "ragged", "str", "dict"],
)
def test_non_numeric_W(fn, value):
    with pytest.raises(ValueError, match=r"\bW\b"):
        fn(value, np.zeros((1, 2)))


@BOTH
@pytest.mark.parametrize(
    "value",
    [
        np.zeros((1, 2), dtype=complex),
        np.array([[0.0, None]], dtype=object),
        [["a", "b"]],
        [[1.0, 2.0], [3.0]],
        None,
    ],
    ids=["complex", "object", "strings", "ragged", "None"],
)
def test_non_numeric_nets(fn, value):
    with pytest.raises(ValueError, match=r"\bnets\b"):
        fn(np.eye(2), value)


# --------------------------------------------------------------------------------------------
# forward and Trajectory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_forward_default_y0_is_zero(name):
    rng = np.random.default_rng(1)
    n, T = 3, 6
    W = rng.normal(size=(n, n))
    xs = rng.normal(size=(T, n))
    traj = rnn.forward(W, xs, name)
    assert traj.nets.shape == traj.ys.shape == (T, n)
    np.testing.assert_array_equal(traj.y0, np.zeros(n))
    # net(1) = W y(0) + x(1) = x(1) with y(0) = 0.
    np.testing.assert_allclose(traj.nets[0], xs[0], rtol=0, atol=0)
    for s in range(T):
        y_prev = np.zeros(n) if s == 0 else traj.ys[s - 1]
        np.testing.assert_allclose(traj.nets[s], W @ y_prev + xs[s], rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(traj.ys[s], ref_f(name, traj.nets[s]), rtol=1e-13, atol=1e-15)
    ref_nets, ref_ys = ref_forward(W, xs, name)
    np.testing.assert_allclose(traj.nets, ref_nets, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(traj.ys, ref_ys, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_forward_with_y0_and_U(name):
    rng = np.random.default_rng(2)
    n, m, T = 3, 2, 5
    W = rng.normal(size=(n, n))
    U = rng.normal(size=(n, m))
    xs = rng.normal(size=(T, m))
    y0 = rng.normal(size=n)
    traj = rnn.forward(W, xs, name, U=U, y0=y0)
    np.testing.assert_array_equal(traj.y0, y0)
    np.testing.assert_allclose(traj.nets[0], W @ y0 + U @ xs[0], rtol=1e-14, atol=1e-14)
    for s in range(1, T):
        expected = W @ traj.ys[s - 1] + U @ xs[s]
        np.testing.assert_allclose(traj.nets[s], expected, rtol=1e-14, atol=1e-14)
    ref_nets, ref_ys = ref_forward(W, xs, name, U=U, y0=y0)
    np.testing.assert_allclose(traj.nets, ref_nets, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(traj.ys, ref_ys, rtol=1e-12, atol=1e-13)
    # y0 only (no U): net(1) = W y0 + x(1).
    xs_n = rng.normal(size=(T, n))
    traj2 = rnn.forward(W, xs_n, name, y0=y0)
    np.testing.assert_allclose(traj2.nets[0], W @ y0 + xs_n[0], rtol=1e-14, atol=1e-14)


def test_forward_hand_example():
    # identity: W = [[0, 1], [2, 0]], y0 = (1, 1), x(1) = (1, 0), x(2) = (0, 1).
    traj = rnn.forward([[0, 1], [2, 0]], [[1, 0], [0, 1]], "identity", y0=[1, 1])
    # net(1) = (1, 2) + (1, 0) = (2, 2); net(2) = (2, 4) + (0, 1) = (2, 5).
    np.testing.assert_array_equal(traj.nets, [[2.0, 2.0], [2.0, 5.0]])
    np.testing.assert_array_equal(traj.ys, traj.nets)
    # logistic with zero weights: y(t) = logistic(x(t)).
    traj = rnn.forward(np.zeros((2, 2)), [[0.0, 0.0]], "logistic")
    np.testing.assert_array_equal(traj.ys, [[0.5, 0.5]])


def test_forward_bad_arguments():
    W = np.eye(2)
    with pytest.raises(ValueError, match=r"\bxs\b"):
        rnn.forward(W, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"\bxs\b"):
        rnn.forward(W, np.zeros(2))
    with pytest.raises(ValueError, match=r"\bxs\b"):
        rnn.forward(W, np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"\bxs\b"):
        rnn.forward(W, [[np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"\bU\b"):
        rnn.forward(W, np.zeros((3, 4)), U=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\bxs\b"):
        rnn.forward(W, np.zeros((3, 3)), U=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\by0\b"):
        rnn.forward(W, np.zeros((3, 2)), y0=np.zeros(3))
    with pytest.raises(ValueError, match=r"\bactivation\b"):
        rnn.forward(W, np.zeros((3, 2)), "softplus")
    with pytest.raises(ValueError, match=r"\bW\b"):
        rnn.forward(np.ones((2, 3)), np.zeros((3, 2)))


def test_lag_window_order():
    rng = np.random.default_rng(4)
    n, T = 2, 7
    traj = rnn.forward(rng.normal(size=(n, n)), rng.normal(size=(T, n)), "tanh")
    t, q = 6, 4
    window = traj.lag_window(t, q)
    assert window.shape == (q, n)
    for m in range(1, q + 1):
        # row m-1 is net(t-m), and nets[s-1] = net(s)
        np.testing.assert_array_equal(window[m - 1], traj.nets[t - m - 1])
    np.testing.assert_array_equal(traj.lag_window(T, T - 1), traj.nets[: T - 1][::-1])
    np.testing.assert_array_equal(traj.lag_window(2, 1), traj.nets[:1])


@pytest.mark.parametrize(("t", "q"), [(5, 0), (5, 5), (5, 6), (8, 2), (0, 1)])
def test_lag_window_bad_arguments(t, q):
    traj = rnn.forward(np.eye(2), np.zeros((7, 2)))
    with pytest.raises(ValueError, match=r"\bq\b|\bt\b"):
        traj.lag_window(t, q)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_scaling_factor_propagates_bptt_error_signals(name):
    """theta(T - q) = S theta(T) when the only injected error is at step T (eq. 1)."""
    rng = np.random.default_rng(9)
    n, T = 3, 8
    W = rng.normal(scale=0.9, size=(n, n))
    xs = rng.normal(size=(T, n))
    targets = rng.normal(size=(T, n))
    mask = np.zeros((T, n), dtype=bool)
    mask[-1] = True
    traj, theta = rnn.error_signals(W, xs, targets, name, mask=mask)
    for q in range(1, T):
        S = rnn.scaling_factor(W, traj.lag_window(T, q), name)
        np.testing.assert_allclose(
            theta[T - q - 1], S @ theta[T - 1], rtol=1e-10, atol=1e-14 * np.abs(theta).max()
        )


# --------------------------------------------------------------------------------------------
# bptt_gradient
# --------------------------------------------------------------------------------------------


def _mask(kind: str, T: int, n: int, rng: np.random.Generator):
    if kind == "none":
        return None
    if kind == "units":
        return np.array([True, False, True])[:n]
    m = rng.random((T, n)) < 0.5
    m[-1, 0] = True
    return m


@pytest.mark.parametrize("mask_kind", ["none", "units", "steps"])
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_bptt_gradient_with_U_matches_central_differences(name, mask_kind):
    rng = np.random.default_rng([ACTIVATION_NAMES.index(name), len(mask_kind)])
    n, m, T = 3, 2, 6
    W = rng.normal(scale=0.7, size=(n, n))
    U = rng.normal(size=(n, m))
    y0 = rng.normal(scale=0.5, size=n)
    xs = rng.normal(size=(T, m))
    targets = rng.normal(scale=0.5, size=(T, n))
    mask = _mask(mask_kind, T, n, rng)
    E, grads = rnn.bptt_gradient(W, xs, targets, name, U=U, y0=y0, mask=mask)
    assert {"W", "y0", "U"} <= set(grads)
    assert grads["W"].shape == (n, n)
    assert grads["U"].shape == (n, m)
    assert grads["y0"].shape == (n,)
    np.testing.assert_allclose(E, ref_loss(W, xs, targets, name, U=U, y0=y0, mask=mask), rtol=1e-12)

    def loss(W=W, U=U, y0=y0):
        return ref_loss(W, xs, targets, name, U=U, y0=y0, mask=mask)

    tol = {"rtol": 1e-6, "atol": 1e-8}
    np.testing.assert_allclose(
        grads["W"], central_difference_gradient(lambda w: loss(W=w), W), **tol
    )
    np.testing.assert_allclose(
        grads["U"], central_difference_gradient(lambda u: loss(U=u), U), **tol
    )
    np.testing.assert_allclose(
        grads["y0"], central_difference_gradient(lambda y: loss(y0=y), y0), **tol
    )


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_bptt_gradient_without_U_matches_central_differences(name):
    rng = np.random.default_rng(17)
    n, T = 3, 5
    W = rng.normal(scale=0.8, size=(n, n))
    xs = rng.normal(size=(T, n))
    targets = rng.normal(scale=0.5, size=(T, n))
    E, grads = rnn.bptt_gradient(W, xs, targets, name)
    assert "U" not in grads
    assert {"W", "y0"} <= set(grads)
    np.testing.assert_allclose(E, ref_loss(W, xs, targets, name), rtol=1e-12)
    y0 = np.zeros(n)
    np.testing.assert_allclose(
        grads["W"],
        central_difference_gradient(lambda w: ref_loss(w, xs, targets, name), W),
        rtol=1e-6,
        atol=1e-8,
    )
    np.testing.assert_allclose(
        grads["y0"],
        central_difference_gradient(lambda y: ref_loss(W, xs, targets, name, y0=y), y0),
        rtol=1e-6,
        atol=1e-8,
    )


def test_bptt_loss_zero_when_mask_all_false():
    rng = np.random.default_rng(8)
    W = rng.normal(size=(2, 2))
    E, grads = rnn.bptt_gradient(
        W, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), mask=np.zeros(2, dtype=bool)
    )
    assert E == 0.0
    np.testing.assert_array_equal(grads["W"], np.zeros((2, 2)))


def test_bptt_bad_targets_and_mask():
    W = np.eye(3)
    xs = np.zeros((4, 3))
    good = np.zeros((4, 3))
    for targets in (np.zeros((4, 2)), np.zeros((3, 3)), np.zeros(3), [[np.nan] * 3] * 4):
        with pytest.raises(ValueError, match=r"\btargets\b"):
            rnn.bptt_gradient(W, xs, targets)
    for mask in (np.ones(3, dtype=int), np.ones((4, 3)), [1, 0, 1], np.ones(3, dtype=float)):
        with pytest.raises(ValueError, match=r"\bmask\b") as info:
            rnn.bptt_gradient(W, xs, good, mask=mask)
        assert "bool" in str(info.value)
    for mask in (np.ones(4, dtype=bool), np.ones((3, 3), dtype=bool), np.ones((4, 2), bool)):
        with pytest.raises(ValueError, match=r"\bmask\b"):
            rnn.bptt_gradient(W, xs, good, mask=mask)
    with pytest.raises(ValueError, match=r"\bactivation\b"):
        rnn.bptt_gradient(W, xs, good, "nope")


# --------------------------------------------------------------------------------------------
# No RuntimeWarning for large (finite) net inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_no_runtime_warning_for_nets_up_to_1e3(name):
    rng = np.random.default_rng(1000)
    n = 3
    W = rng.normal(size=(n, n))
    nets = rng.choice([-1e3, 1e3, -700.0, 710.0, 0.0, 37.0], size=(6, n))
    nets[0] = [1e3, -1e3, 1e3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sign, logabs = rnn.log_scaling_factor(W, nets, name)
        assert not np.any(np.isnan(logabs))
        assert np.all(np.isfinite(logabs[sign != 0]))
        try:
            S = rnn.scaling_factor(W, nets, name)
        except Float64RangeError as exc:
            assert "log_scaling_factor" in str(exc)
        else:
            assert np.all(np.isfinite(S))
        xs = rng.choice([-1e3, 1e3], size=(5, n))
        traj = rnn.forward(W * 1e-3, xs, name)
        assert np.all(np.isfinite(traj.ys))
        E, grads = rnn.bptt_gradient(W * 1e-3, xs, np.zeros((5, n)), name)
        assert np.isfinite(E)
        assert all(np.all(np.isfinite(g)) for g in grads.values())


@pytest.mark.parametrize("act", ["logistic", "tanh", "h", "g"])
@pytest.mark.parametrize("net", [1e19, -1e19, 1e300])
def test_no_runtime_warning_for_huge_finite_nets(act, net):
    # |log f'| beyond 2^52: the log-space route; the log-slope is about -a|net|.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sign, logabs = rnn.log_scaling_factor([[0.5]], [[net]], act)
    a = 2.0 if act == "tanh" else 1.0
    assert sign[0, 0] == 1.0
    np.testing.assert_allclose(logabs[0, 0], -a * abs(net), rtol=1e-15)


def test_nets_beyond_1e300_are_rejected_by_name():
    with pytest.raises(ValueError, match=r"nets.*1e\+?300"):
        rnn.log_scaling_factor([[0.5]], [[1.7e308]], "tanh")


# --------------------------------------------------------------------------------------------
# Import hygiene
# --------------------------------------------------------------------------------------------


def test_importing_numeric_does_not_import_sympy():
    code = "import errorflow.numeric, errorflow.numeric.rnn, sys; assert 'sympy' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_public_names():
    assert issubclass(errorflow.numeric.Float64RangeError, ValueError)
    assert issubclass(errorflow.numeric.InvalidArgumentError, ValueError)
    assert set(ACTIVATION_NAMES) <= set(rnn.ACTIVATIONS)
