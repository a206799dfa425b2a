"""The GRU (SPEC S3): proofs, LaTeX, the numeric API, property tests and a deliberate break."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from _latex import check_equation
from hypothesis import given, settings
from hypothesis import strategies as st

from errorflow.derivations import gru as deriv
from errorflow.numeric import InvalidArgumentError, gru
from errorflow.report import compile_pdf
from errorflow.verify import PROFILES, claims_gru, registry
from errorflow.verify.claims_gru import log_inf_norm, plain_step, random_params


@st.composite
def gru_cases(draw, max_n=4, max_T=5, u_norm=(0.1, 3.0), b_z=(-4.0, 2.0)):
    """``(params, xs, h0)``: seeded Gaussian GRU weights with ``||U_*||_inf`` in ``u_norm``."""
    seed = draw(st.integers(0, 2**32 - 1))
    n, m, T = draw(st.integers(1, max_n)), draw(st.integers(1, 3)), draw(st.integers(1, max_T))
    a = draw(st.floats(*u_norm))
    bz = draw(st.floats(*b_z))
    rng = np.random.default_rng(seed)
    p = random_params(rng, n, m, a, bz)
    return p, rng.uniform(-2, 2, (T, m)), rng.uniform(-1, 1, n)


# --- derivation ------------------------------------------------------------------------------
def test_every_proof_holds():
    d = deriv.derivation()
    assert d.name == "gru" and d.claims() == ["S3"]
    assert len(d.proofs) >= 10 and all(p.holds for p in d.proofs)


def test_explicit_jacobian_matches_matrix_form_and_a_half_closed_gate_is_not_identity():
    exact, form = deriv.explicit_jacobian(2)
    assert all(e.expand() == 0 for e in exact - form)
    J, v = deriv.matrix_form(2)
    half = J.xreplace({v["z"][0]: 0})  # only unit 1's gate closed
    assert [e.expand() for e in half.row(0)] == [1, 0]
    assert any(e.expand() != 0 for e in half.row(1) - sp.Matrix([[0, 1]]))


def test_latex_and_text():
    check = check_equation
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check(step.to_latex()) == [], step.name
    tex = d.to_latex()
    assert r"\mathrm{diag}(1 - z)" in tex and "Cho et al." in tex
    out = d.to_text()
    assert "\\" not in out and "$" not in out and "FAILED" not in out


def test_latex_compiles(tmp_path, pdflatex):
    tex = tmp_path / "gru.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message


def test_error_step_is_order_n_squared():
    flops = deriv.step_flops()
    n = deriv.n
    assert flops["error_step"].as_poly(n).degree() == 2
    assert flops["jacobian"].as_poly(n).degree() == 3


# --- properties ----------------------------------------------------------------------------
@given(gru_cases())
def test_jacobian_equals_complex_step_of_a_plain_gru(case):
    p, xs, h0 = case
    traj = gru.forward(p, xs, h0)
    J = gru.jacobians(p, traj)
    hp = traj.h_prev()
    for s in range(xs.shape[0]):
        eye = np.eye(p.n)
        ref = np.array([plain_step(p, xs[s], hp[s] + 1e-30j * e).imag / 1e-30 for e in eye]).T
        np.testing.assert_allclose(J[s], ref, rtol=1e-12, atol=1e-14)


@given(gru_cases(max_T=6))
def test_scaling_factor_is_the_transposed_product(case):
    p, xs, h0 = case
    J = gru.jacobians(p, gru.forward(p, xs, h0))
    for q in range(1, xs.shape[0] + 1):
        P = np.eye(p.n)
        for Jm in J[::-1][:q]:
            P = P @ Jm
        np.testing.assert_allclose(
            gru.scaling_factor(p, xs, q, h0=h0), P.T, rtol=1e-12, atol=1e-300
        )


@settings(max_examples=15)
@given(gru_cases(max_T=1, u_norm=(0.02, 0.3), b_z=(-3.0, 2.0)), st.integers(50, 400))
def test_decay_stays_below_the_derived_bound(case, q):
    p, _, h0 = case
    xs = np.random.default_rng(q).uniform(-2, 2, (q, p.m))
    traj = gru.forward(p, xs, h0)
    assert gru.kappa(p) < 1
    sign, log_abs = gru.log_scaling_factor(p, xs, h0=h0)
    bound = gru.log_decay_bound(p, traj, q)
    assert log_inf_norm(sign, log_abs) <= bound + 1e-9
    assert bound < 0


@settings(max_examples=6)
@given(gru_cases(max_T=1, b_z=(-40.0, -25.0)))
def test_closed_update_gate_is_a_carousel(case):
    p, _, _ = case
    xs = np.random.default_rng(0).uniform(-1, 1, (1500, p.m))
    sign, log_abs = gru.log_scaling_factor(p, xs)
    assert np.all(np.abs(np.diag(log_abs)) < 1e-6)  # |S_vv| = 1 to 1e-6 after 1500 steps
    assert np.all(np.diag(sign) == 1)


def test_long_lags_do_not_underflow():
    rng = np.random.default_rng(7)
    p = random_params(rng, 3, 1, 1.0, 2.0)  # gates open: fast decay
    xs = rng.uniform(-1, 1, (4000, 1))
    _, log_abs = gru.log_scaling_factor(p, xs)
    assert np.all(np.isfinite(log_abs)) and float(np.max(log_abs)) < -745
    with pytest.raises(ValueError, match="log_scaling_factor"):
        gru.scaling_factor(p, xs)


def test_log_chain_entrywise_route_matches_columns():
    # one unit's carousel at 1, the other decaying at 2^-8 per step: the column spans more
    # than float64's range after ~130 steps, forcing the entry-wise route
    Js = [np.array([[1.0, 0.0], [1e-3, 2.0**-8]])] * 300
    (res,) = gru.log_chain(Js)
    assert res.log_abs[1, 1] == pytest.approx(300 * -8 * np.log(2.0), rel=1e-14)
    assert res.log_abs[0, 0] == 0.0 and res.log_abs[1, 0] == -np.inf
    assert res.log_abs[0, 1] == pytest.approx(np.log(1e-3 / (1 - 2.0**-8)), rel=1e-13)


# --- API -----------------------------------------------------------------------------------
def test_bad_arguments_name_the_argument():
    p = gru.init_params(np.random.default_rng(0), 2, 1)
    with pytest.raises(InvalidArgumentError, match="xs"):
        gru.forward(p, np.zeros((3, 2)))
    with pytest.raises(InvalidArgumentError, match="q"):
        gru.scaling_factor(p, np.zeros((3, 1)), 4)
    with pytest.raises(InvalidArgumentError, match="params"):
        gru.forward({"U_z": np.eye(2)}, np.zeros((3, 1)))
    with pytest.raises(InvalidArgumentError, match="h0"):
        gru.forward(p, np.zeros((3, 1)), h0=np.zeros(3))
    with pytest.raises(InvalidArgumentError, match="W_r"):
        gru.forward({**p.__dict__, "W_r": np.full((2, 1), np.nan)}, np.zeros((3, 1)))


def test_panel_curve():
    lags, values, label = gru.panel_curve()
    assert lags[0] == 1 and lags[-1] == 10_000 and np.all(np.diff(lags) > 0)
    assert values.shape == lags.shape and np.all(np.isfinite(values)) and "GRU" in label
    assert values[-1] < values[0] < 0


def test_numeric_module_does_not_import_sympy():
    code = "import errorflow.numeric.gru, sys; assert 'sympy' not in sys.modules"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_claim_passes_and_fails_with_a_broken_kernel(monkeypatch):
    claim = registry.REGISTRY["S3"]
    result, _, error = registry.check_numeric(claim, PROFILES["ci"])
    assert error is None and result.passed, result.details
    original = gru.step_jacobian

    def broken(c, g_z, U_z, g_h, U_h, r, g_r, U_r):  # drops the path through the reset gate
        return original(c, g_z, U_z, g_h, U_h, r, 0.0 * g_r, U_r)

    monkeypatch.setattr(gru, "step_jacobian", broken)
    track = registry.Tracker(tolerance=1e-9)
    claims_gru._jacobian(registry.Budget("mini", 6, 100), np.random.default_rng(1), track)
    assert not track.result().passed
