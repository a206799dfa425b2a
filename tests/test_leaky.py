"""Leaky units and Sun et al.'s additive unit (SPEC S5): proofs, rendering, kernels, API."""

import math
import subprocess
import sys
import time

import mpmath
import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.derivations import leaky as deriv
from errorflow.numeric import Float64RangeError, InvalidArgumentError, leaky
from errorflow.report import compile_pdf
from errorflow.verify import PROFILES, registry
from errorflow.verify import claims_leaky as claims


# --- derivation ----------------------------------------------------------------------------
def test_every_proof_holds():
    d = deriv.derivation()
    assert d.claims() == ["S5"] and len(d.proofs) >= 12
    assert all(p.holds for p in d.proofs), [p.statement for p in d.proofs if not p.holds]


def test_equations_are_valid_latex_and_text_has_no_tex():
    for section in deriv.derivation().sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    out = deriv.derivation().to_text()
    assert "\\" not in out and "$" not in out and "FAILED" not in out
    assert "dy(t)/dy(t-1) = (1 - 1/tau) + (1/tau) f'(net(t)) w" in out


def test_latex_compiles(tmp_path, pdflatex):
    tex = tmp_path / "leaky.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message
    assert result.overfull == 0


# --- kernels and API -------------------------------------------------------------------------
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 4),
    q=st.integers(1, 8),
    act=st.sampled_from(["logistic", "tanh", "identity"]),
)
def test_scaling_factor_is_the_product_of_transposed_jacobians(seed, n, q, act):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 1.5, (n, n))
    tau = rng.uniform(1.0, 30.0, n)
    nets = rng.normal(0.0, 2.0, (q, n))
    got = leaky.scaling_factor(W, nets, tau, act)
    ref = claims.dense_product(W, nets, tau, act)
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-14 * np.max(np.abs(ref)))
    sign, logabs = leaky.log_scaling_factor(W, nets, tau, act)
    assert np.allclose(sign * np.exp(logabs), ref, rtol=1e-12, atol=1e-14 * np.max(np.abs(ref)))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3), q=st.integers(1, 6))
def test_scaling_factor_matches_finite_differences_of_the_forward_pass(seed, n, q):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 1.5, (n, n))
    tau = rng.uniform(1.0, 10.0, n)
    xs = rng.standard_normal((q + 2, n))
    traj = leaky.forward(W, xs, tau)
    t = q + 2
    S = leaky.scaling_factor(W, traj.lag_window(t, q), tau)
    fd = claims.fd_factor(W, xs[t - q : t], tau, traj.ys[t - q - 1], "logistic")
    assert np.max(np.abs(S - fd)) < 1e-7


@given(
    tau=st.floats(1.0, 1e3),
    w=st.floats(-50.0, 5.0),
    q=st.integers(1, 3000),
)
def test_linear_unit_decays_iff_inside_the_interval(tau, w, q):
    # identity f: p = f' w = w; factor 1 - (1 - w)/tau, exactly (1 - (1-w)/tau)^q over q steps
    _, logabs = leaky.unit_log_curve(w, np.zeros(q), tau, "identity")
    factor = 1.0 - (1.0 - w) / tau
    if factor == 0.0:
        assert logabs[-1] == -math.inf
        return
    assert logabs[-1] == pytest.approx(q * math.log(abs(factor)), rel=1e-12, abs=1e-12)
    if 1.0 - 2.0 * tau < w < 1.0:
        assert logabs[-1] <= 0.0
    elif w > 1.0 or w < 1.0 - 2.0 * tau:
        assert logabs[-1] >= 0.0


def test_f_prime_w_one_keeps_the_flow_constant_and_large_tau_freezes():
    _, logabs = leaky.unit_log_curve(1.0, np.zeros(5000), 7.0, "identity")
    assert np.max(np.abs(logabs)) <= 2 * 5000 * np.finfo(float).eps
    _, frozen = leaky.unit_log_curve(3.0, np.linspace(-3, 3, 5000), 1e12)
    assert abs(frozen[-1]) < 1e-8


@given(lam=st.floats(0.01, 1.0), w=st.floats(-1.0, 1.0), q=st.integers(1, 200))
def test_additive_unit_factor_is_one_plus_lambda_w(lam, w, q):
    _, logabs = leaky.additive_log_curve(w, np.zeros(q), "identity", lam)
    factor = 1.0 + lam * w
    if factor == 0.0:
        assert logabs[-1] == -math.inf
        return
    assert logabs[-1] == pytest.approx(q * math.log(abs(factor)), rel=1e-12, abs=1e-12)
    assert (logabs[-1] == 0.0) == (factor == 1.0)  # constant only when f' w adds nothing


def test_long_lag_agrees_with_mpmath_and_float_form_refuses_underflow():
    rng = np.random.default_rng(5)
    traj = leaky.forward([[2.0]], rng.standard_normal((8000, 1)), 5.0)
    nets = traj.nets[::-1]
    _, logabs = leaky.log_scaling_factor([[2.0]], nets, 5.0)
    ref = claims.mp_unit_log_factor(2.0, nets[:, 0], 5.0, "logistic")
    assert logabs[0, 0] == pytest.approx(ref, rel=1e-12)
    assert ref < math.log(np.finfo(float).tiny)
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        leaky.scaling_factor([[2.0]], nets, 5.0)
    with mpmath.workdps(30):
        assert mpmath.mpf(ref) < 0


def test_saturated_slopes_take_the_log_route():
    W = np.array([[2.0, -1.0], [0.5, 3.0]])
    nets = np.full((50, 2), 900.0)  # logistic slope e^-900: below float64
    sign, logabs = leaky.log_scaling_factor(W, nets, [1.0, 1.0])
    assert np.all(sign[~np.eye(2, dtype=bool)] != 0) and np.all(np.isfinite(logabs))
    assert logabs[0, 0] < -50 * 899


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (([[1.0, 0.0]], [[0.0, 0.0]], 2.0), "W"),
        (([[1.0]], [[0.0]], 0.5), "tau"),
        (([[1.0]], [[0.0]], [2.0, 3.0]), "tau"),
        (([[1.0]], np.zeros((0, 1)), 2.0), "nets"),
        (([[1.0]], [[np.nan]], 2.0), "nets"),
        (([[1.0]], [[0.0, 1.0]], 2.0), "nets"),
    ],
)
def test_bad_arguments_name_the_argument(args, argument):
    with pytest.raises(InvalidArgumentError) as info:
        leaky.log_scaling_factor(*args)
    assert info.value.argument == argument
    with pytest.raises(ValueError):
        leaky.scaling_factor(*args)


def test_panel_curve_is_fast_and_decays():
    start = time.perf_counter()
    lags, logs, label = leaky.panel_curve()
    assert time.perf_counter() - start < 2.0
    assert lags.shape == logs.shape == (10_000,) and lags[0] == 1 and lags[-1] == 10_000
    assert np.all(np.isfinite(logs)) and np.all(np.diff(logs) < 0) and "tau = 100" in label


def test_importing_leaky_does_not_import_sympy():
    code = "import errorflow.numeric.leaky, sys; assert 'sympy' not in sys.modules"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


# --- claim and mutation ----------------------------------------------------------------------
def test_claim_passes_under_ci():
    result = registry.run_claim(registry.REGISTRY["S5"], PROFILES["ci"])
    assert result.status == "passed", (result.error, result.numeric)
    assert result.symbolic == "proved" and result.cases > 50


def test_claim_fails_on_a_broken_kernel(monkeypatch):
    real = leaky.leaky_scaling_step
    # the leak applied twice: A^2 instead of A on the carried error
    monkeypatch.setattr(
        leaky, "leaky_scaling_step", lambda a, S, W, b, fp: real(a * a, S, W, b, fp)
    )
    result = registry.run_claim(registry.REGISTRY["S5"], PROFILES["ci"])
    assert result.status == "failed" and result.max_error > result.numeric.tolerance
