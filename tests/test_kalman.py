"""S8: Kalman-filter training with a derivative discount (derivation, kernels, API, claim)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.derivations import kalman as deriv
from errorflow.numeric import Float64RangeError, kalman, rnn
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.verify import PROFILES, REGISTRY, claims_kalman, registry

ACTS = ("logistic", "tanh", "identity")


def ref_scaling(W, nets, act, lam):
    """Plain NumPy ``prod_m lam F'(t-m) W^T`` from m = 1 upwards."""
    S = np.eye(W.shape[0])
    for row in nets:
        S = lam * np.diag(np.broadcast_to(ACTIVATIONS[act].df(row), row.shape)) @ W.T @ S
    return S


@st.composite
def cases(draw, max_n=4, max_q=8):
    n = draw(st.integers(1, max_n))
    q = draw(st.integers(1, max_q))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    act = draw(st.sampled_from(ACTS))
    lam = draw(st.floats(0.05, 1.0))
    return rng.normal(0, 1.0, (n, n)), rng.normal(0, 2.0, (q, n)), act, lam


# --- derivation ----------------------------------------------------------------------------
def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert len(proofs) >= 9
    assert all(p.holds for p in proofs), [p.statement for p in proofs if not p.holds]


def test_a_wrong_closed_form_is_not_proved():
    # lambda^(q+1) instead of lambda^q must not match the recursion
    rec = deriv.discounted_recursion(1, 2)
    wrong = deriv.closed_form_sensitivity(1, 2) * deriv.lam
    assert not all(deriv.is_zero(a - b) for a, b in zip(rec, wrong, strict=True))


def test_latex_rows_are_valid_and_text_has_no_tex():
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    out = d.to_text()
    assert "\\" not in out and "$" not in out
    assert "lambda^q S(q)" in out


def test_latex_compiles(tmp_path, pdflatex):
    from errorflow.report import compile_pdf

    tex = tmp_path / "k.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message
    assert result.overfull == 0


# --- kernels and API -----------------------------------------------------------------------
@given(cases())
def test_discounted_factor_is_lam_q_times_b3(case):
    W, nets, act, lam = case
    q = nets.shape[0]
    got = kalman.scaling_factor(W, nets, lam, act)
    np.testing.assert_allclose(got, ref_scaling(W, nets, act, lam), rtol=1e-12, atol=1e-300)
    sign, log_abs = kalman.log_scaling_factor(W, nets, lam, act)
    s0, l0 = rnn.log_scaling_factor(W, nets, act)
    assert np.array_equal(sign, s0)
    fin = np.isfinite(l0)
    np.testing.assert_allclose(log_abs[fin], l0[fin] + q * math.log(lam), rtol=0, atol=1e-9)


@given(cases(max_n=3, max_q=6))
def test_forward_sensitivity_step_matches_backward_chain(case):
    W, nets, act, lam = case
    q = nets.shape[0]
    fwd = np.broadcast_to(ACTIVATIONS[act].df(nets), nets.shape)  # net(t-q) .. net(t-1)
    last = np.broadcast_to(ACTIVATIONS[act].df(np.zeros(W.shape[0])), (W.shape[0],))
    P = claims_kalman.impulse_response(W, np.vstack([fwd, last[None]]), lam)
    window = nets[::-1]  # net(t-1) .. net(t-q)
    ref = last[:, None] * ref_scaling(W, window, act, lam).T
    np.testing.assert_allclose(P, ref, rtol=1e-12, atol=1e-300)
    assert q >= 1


@given(st.floats(0.01, 0.999), st.integers(1, 3000))
def test_cec_flow_is_lam_to_the_q(lam, q):
    _, log_abs = kalman.log_scaling_factor([[1.0]], np.zeros((q, 1)), lam, "identity")
    assert abs(log_abs[0, 0] - q * math.log(lam)) <= 1e-12 * q * abs(math.log(lam)) + 1e-14


def test_sensitivities_exact_at_lam_one_and_discounted_below():
    rng = np.random.default_rng(3)
    W = rng.normal(0, 0.8, (3, 3))
    xs = rng.normal(0, 1, (5, 3))
    exact = kalman.sensitivities(W, xs, 1.0, "tanh")
    h = 1e-6
    for a, b in ((0, 1), (2, 2)):
        Wp, Wm = W.copy(), W.copy()
        Wp[a, b] += h
        Wm[a, b] -= h
        fd = (rnn.forward(Wp, xs, "tanh").ys[-1] - rnn.forward(Wm, xs, "tanh").ys[-1]) / (2 * h)
        np.testing.assert_allclose(exact.wrt(a, b)[-1], fd, atol=1e-8)
    disc = kalman.sensitivities(W, xs, 0.5, "tanh")
    comps = claims_kalman.lag_components(disc.trajectory, W, "tanh", 1)
    np.testing.assert_allclose(disc.P[-1, 1], (0.5 ** np.arange(5)) @ comps, rtol=1e-12)


def test_ekf_step_update_equations():
    rng = np.random.default_rng(5)
    N, m = 4, 2
    w = rng.normal(size=N)
    B = rng.normal(size=(N, N))
    P = B @ B.T + np.eye(N)
    H = rng.normal(size=(N, m))
    R = 0.3 * np.eye(m)
    Q = 0.01 * np.eye(N)
    d, y = rng.normal(size=m), rng.normal(size=m)
    w_new, P_new, K = kalman.ekf_step(w, P, H, d, y, R, Q)
    A = H.T @ P @ H + R
    K_ref = P @ H @ np.linalg.inv(A)
    np.testing.assert_allclose(K, K_ref, rtol=1e-12)
    np.testing.assert_allclose(w_new, w + K_ref @ (d - y), rtol=1e-12)
    np.testing.assert_allclose(P_new, P - K_ref @ H.T @ P + Q, rtol=1e-12, atol=1e-14)
    assert np.min(np.linalg.eigvalsh(P + Q - P_new)) > -1e-12


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"lam": 0.0}, "lam"),
        ({"lam": 1.5}, "lam"),
        ({"lam": float("nan")}, "lam"),
        ({"lam": "0.5"}, "lam"),
        ({"lam": True}, "lam"),
        ({"W": np.ones((2, 3))}, "W"),
        ({"nets": np.ones((0, 2))}, "nets"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, arg):
    args = {"W": np.eye(2), "nets": np.zeros((3, 2)), "lam": 0.9} | kwargs
    for fn in (kalman.scaling_factor, kalman.log_scaling_factor):
        with pytest.raises(ValueError, match=f"^{arg}:"):
            fn(args["W"], args["nets"], args["lam"])


def test_underflow_raises_and_log_form_does_not():
    with pytest.raises(Float64RangeError):
        kalman.scaling_factor([[1.0]], np.zeros((80_000, 1)), 0.99, "identity")
    _, log_abs = kalman.log_scaling_factor([[1.0]], np.zeros((80_000, 1)), 0.99, "identity")
    assert math.isclose(log_abs[0, 0], 80_000 * math.log(0.99), rel_tol=1e-12)


def test_ekf_step_rejects_bad_covariances():
    with pytest.raises(ValueError, match=r"^R:"):
        kalman.ekf_step(np.zeros(2), np.eye(2), np.ones((2, 1)), [1.0], [0.0], [[-1.0]], np.eye(2))
    with pytest.raises(ValueError, match=r"^P:"):
        kalman.ekf_step(
            np.zeros(2), [[1, 2], [0, 1]], np.ones((2, 1)), [1.0], [0.0], [[1.0]], np.eye(2)
        )


def test_panel_curve():
    import time

    start = time.perf_counter()
    q, y, label = kalman.panel_curve()
    assert time.perf_counter() - start < 2.0
    assert q[0] == 1 and q[-1] == 10_000 and y.shape == q.shape
    np.testing.assert_allclose(y, q * math.log10(kalman.PANEL_LAMBDA), rtol=1e-12)
    for lag in (1, 777, 10_000):
        _, la = kalman.log_scaling_factor([[1.0]], np.zeros((lag, 1)), 0.99, "identity")
        assert math.isclose(la[0, 0] / math.log(10), y[lag - 1], rel_tol=1e-12)
    assert "0.99" in label


def test_numeric_does_not_import_sympy():
    code = "import errorflow.numeric.kalman, sys; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_claim_passes_in_ci_profile():
    result = registry.run_claim(REGISTRY["S8"], PROFILES["ci"])
    assert result.status == "passed", (result.error, result.numeric and result.numeric.details)
    assert result.seconds < 10
