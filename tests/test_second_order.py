"""Second-order units (SPEC S9): proofs, generated kernels, the numeric API, checks that fail."""

import subprocess
import sys

import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.codegen.render import render_module
from errorflow.derivations import second_order as deriv
from errorflow.numeric import Float64RangeError, InvalidArgumentError
from errorflow.numeric import second_order as so
from errorflow.numeric._generated import second_order as gen
from errorflow.verify import claims_second_order
from errorflow.verify.registry import PROFILES

_ACTS = ("logistic", "tanh", "identity")


def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert len(proofs) >= 9
    assert all(p.holds for p in proofs), [p.statement for p in proofs if not p.holds]


def test_a_wrong_gated_weight_is_not_proved(monkeypatch):
    # Gate with x transposed into the wrong axis: A = sum_k w_kji x_k is not the factor.
    wrong = ((deriv.A, deriv.MatVec(deriv.W, deriv.x) * 2), deriv.FORWARD_STEP[1])
    monkeypatch.setattr(deriv, "FORWARD_STEP", wrong)
    assert not deriv._unit_factor_proof().holds


def test_latex_rows_and_text():
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    out = d.to_text()
    assert "\\" not in out and "$" not in out


def test_generated_file_is_fresh():
    text = render_module("second_order", deriv.GENERATED_DOC, deriv.kernel_specs())
    assert text == open(gen.__file__, encoding="utf-8").read()


def test_flops_are_quadratic_in_the_weights():
    for k, m in ((2, 1), (5, 3), (9, 2)):
        ops = gen.forward_step_flops(k, m) + gen.sensitivity_step_flops(k, m)
        assert ops == 2 * m * k**4 + 5 * m * k**3 + 3 * m * k**2 + m * k + 2 * k**2
    a_so, a_lstm = claims_second_order.cost_exponents()
    assert abs(a_so - 2) < 0.1 and abs(a_lstm - 1) < 0.1


@st.composite
def windows(draw):
    n, m, q = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    act = draw(st.sampled_from(_ACTS))
    rng = np.random.default_rng(seed)
    W = rng.normal(0, draw(st.floats(0.2, 1.5)), (n, n, m))
    xs = rng.normal(0, 1, (q + 2, m))
    y0 = rng.uniform(-1, 1, n)
    return W, xs, y0, act, q


@given(windows())
def test_scaling_factor_matches_central_differences(case):
    W, xs, y0, act, q = case
    t = xs.shape[0]
    traj = so.forward(W, xs, act, y0=y0)
    S = so.scaling_factor(W, xs[t - q : t][::-1], traj.nets[t - q - 1 : t - 1][::-1], act)
    fd = claims_second_order.fd_factor(W, xs, y0, act, t, q)
    assert np.max(np.abs(S.T - fd)) <= 1e-6 * max(1e-3, float(np.max(np.abs(S))))


@given(windows(), st.data())
def test_zero_input_blocks_and_one_hot_selects(case, data):
    W, xs, _, act, q = case
    nets = np.random.default_rng(0).normal(size=(q, W.shape[0]))
    window = xs[:q].copy()
    window[data.draw(st.integers(0, q - 1))] = 0.0
    sign, log_abs = so.log_scaling_factor(W, window, nets, act)
    assert np.all(sign == 0) and np.all(log_abs == -np.inf)
    k = data.draw(st.integers(0, W.shape[2] - 1))
    assert np.array_equal(so.gated_weights(W, np.eye(W.shape[2])[k]), W[:, :, k])


def test_q1_closed_form():
    rng = np.random.default_rng(1)
    W, x, nets = rng.normal(size=(3, 3, 2)), rng.normal(size=(1, 2)), rng.normal(size=(1, 3))
    A = np.tensordot(W, x[0], 1)
    fp = 1 / (2 + 2 * np.cosh(nets[0]))
    assert np.allclose(so.scaling_factor(W, x, nets), fp[:, None] * A.T, rtol=1e-14, atol=0)


def test_hold_loop_is_exactly_one_and_logistic_decays():
    W = np.array([[[1.0, 0.0]]])
    hold = np.tile([1.0, 0.0], (20_000, 1))
    nets = np.random.default_rng(2).normal(0, 3, (20_000, 1))
    assert so.scaling_factor(W, hold, nets, "identity")[0, 0] == 1.0
    sign, log_abs = so.log_scaling_factor(W, hold, nets, "logistic")
    assert sign[0, 0] == 1 and log_abs[0, 0] < 20_000 * np.log(0.25)
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        so.scaling_factor(W, hold, nets, "logistic")


def test_long_lag_against_mpmath():
    rng = np.random.default_rng(4)
    W = rng.normal(size=(2, 2, 3))
    xs = np.eye(3)[rng.integers(0, 3, 801)]
    nets = so.forward(W, xs).nets
    wx, wn = xs[1:801][::-1], nets[:800][::-1]
    _, got = so.log_scaling_factor(W, wx, wn)
    ref = claims_second_order.mp_log_factor(W, wx, wn, "logistic")
    assert np.allclose(got, ref, rtol=1e-12, atol=0)


def test_rtrl_gradient_matches_central_differences():
    rng = np.random.default_rng(7)
    W, xs, d = rng.normal(0, 0.8, (2, 2, 2)), rng.normal(size=(4, 2)), rng.uniform(-1, 1, (4, 2))
    mask = np.array([True, False])
    E, g = so.rtrl_gradient(W, xs, d, "tanh", mask=mask)

    def loss(Wx):
        return 0.5 * np.sum(((d - so.forward(Wx, xs, "tanh").ys) * mask) ** 2)

    assert E == pytest.approx(loss(W), rel=1e-14)
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += 1e-6
        Wm[idx] -= 1e-6
        assert g["W"][idx] == pytest.approx((loss(Wp) - loss(Wm)) / 2e-6, abs=1e-8)


def test_panel_curve():
    qs, logs, label = so.panel_curve()
    assert qs[-1] == 10_000 and logs.shape == qs.shape and np.all(np.isfinite(logs))
    assert logs[-1] < -1000 and "second-order" in label


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        ((np.zeros((2, 2)), np.zeros((1, 2)), np.zeros((1, 2))), "W"),
        ((np.zeros((2, 2, 3)), np.zeros((1, 2)), np.zeros((1, 2))), "xs"),
        ((np.zeros((2, 2, 3)), np.zeros((2, 3)), np.zeros((1, 2))), "xs"),
        ((np.zeros((2, 2, 3)), np.zeros((0, 3)), np.zeros((0, 2))), "nets"),
        ((np.zeros((2, 2, 3)), np.zeros((1, 3)), [[np.inf, 0.0]]), "nets"),
    ],
)
def test_bad_arguments_name_the_argument(args, argument):
    for fn in (so.scaling_factor, so.log_scaling_factor):
        with pytest.raises(InvalidArgumentError) as info:
            fn(*args)
        assert info.value.argument == argument


def test_numeric_check_passes():
    result = claims_second_order._s9(PROFILES["ci"], np.random.default_rng(3))
    assert result.passed, result.details


def test_importing_numeric_second_order_does_not_import_sympy():
    code = "import errorflow.numeric.second_order, sys; assert 'sympy' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_propagate_step_carries_the_transposed_factor():
    rng = np.random.default_rng(8)
    W, fp = rng.normal(size=(3, 3, 2)), rng.random((4, 3))
    xs = rng.normal(size=(4, 2))  # xs[s] = x(t0 + s + 1), fp[s] = f'(net(t0 + s))
    R = np.eye(3)
    for s in range(4):
        R = gen.propagate_step(fp[s], so.gated_weights(W, xs[s]), R)
    S = np.eye(3)
    for s in range(4):  # S(m) = F'(t-m) A(t-m+1)^T S(m-1), t = t0 + 4
        S = fp[3 - s][:, None] * (so.gated_weights(W, xs[3 - s]).T @ S)
    assert np.allclose(R, S.T, rtol=1e-13, atol=1e-15)
