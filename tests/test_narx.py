"""Time-delay / NARX units (SPEC S7): proofs, rendering, kernels, API, claim."""

import math
import subprocess
import sys
import time

import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.derivations import narx as deriv
from errorflow.numeric import Float64RangeError, InvalidArgumentError, narx
from errorflow.report import compile_pdf
from errorflow.verify import PROFILES, registry
from errorflow.verify import claims_narx as claims


def test_every_proof_holds():
    d = deriv.derivation()
    assert d.claims() == ["S7"] and len(d.proofs) >= 8
    assert all(p.holds for p in d.proofs), [p.statement for p in d.proofs if not p.holds]


def test_compositions_have_at_least_ceil_q_over_d_jumps():
    for dd in (1, 2, 3, 5):
        for q in range(1, 11):
            combos = deriv.compositions(q, dd)
            assert min(len(c) for c in combos) == math.ceil(q / dd)
            assert all(sum(c) == q and max(c) <= dd for c in combos)


def test_equations_are_valid_latex_and_text_has_no_tex():
    for section in deriv.derivation().sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    out = deriv.derivation().to_text()
    assert "\\" not in out and "$" not in out and "FAILED" not in out
    assert "min J = ceil(q/d)" in out


def test_latex_compiles(tmp_path, pdflatex):
    tex = tmp_path / "narx.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message
    assert result.overfull == 0


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 6),
    q=st.integers(1, 9),
    act=st.sampled_from(["logistic", "tanh", "identity"]),
)
def test_kernels_agree_with_paths_and_the_companion_product(seed, d, q, act):
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.5, d)
    nets = rng.normal(0.0, 2.0, q)
    g = narx.scaling_factor(w, nets, act)
    slopes = np.broadcast_to(claims.ACTIVATIONS[act].df(nets), nets.shape)
    ref = claims.path_sum(w, slopes)
    tol = 1e-12 * max(1.0, np.prod(np.abs(w).max() * slopes.max() + 1.0))
    assert g == pytest.approx(ref, rel=1e-11, abs=tol)
    assert narx.companion_product(w, nets, act)[0, 0] == pytest.approx(ref, rel=1e-11, abs=tol)
    sign, curve = narx.log_scaling_curve(w, nets, act)
    assert sign[-1] * math.exp(curve[-1]) == pytest.approx(ref, rel=1e-11, abs=tol)


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 5), q=st.integers(1, 8))
def test_scaling_factor_matches_finite_differences(seed, d, q):
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 2.0, d)
    xs = rng.standard_normal(q + d + 2)
    traj = narx.forward(w, xs)
    T = len(xs)
    full = np.concatenate((traj.history[::-1], traj.ys))
    start = d - 1 + T - q
    history = full[start - d + 1 : start + 1][::-1]
    fd = claims.fd_factor(w, xs[T - q : T], history, "logistic")
    assert abs(narx.scaling_factor(w, traj.lag_window(T, q)) - fd) < 1e-7


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 6), reps=st.integers(1, 400))
def test_single_tap_decays_by_r_to_the_q_over_d(seed, d, reps):
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    w[-1] = rng.uniform(-4.0, 4.0)
    nets = rng.normal(0.0, 2.0, d * reps)
    _, logabs = narx.log_scaling_factor(w, nets)
    expect = float(np.sum(np.log(claims.ACTIVATIONS["logistic"].df(nets[::d]) * abs(w[-1]))))
    assert logabs == pytest.approx(expect, rel=1e-12)
    assert narx.log_scaling_factor(w, nets[:-1])[1] == -math.inf


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 6), frac=st.floats(0.05, 0.95))
def test_flow_stays_under_the_majorant_and_its_rate_is_divided_by_d(seed, d, frac):
    rng = np.random.default_rng(seed)
    r = frac / d
    w = rng.uniform(-4.0 * r, 4.0 * r, d)  # |f' w_k| <= |w_k|/4 <= r (logistic)
    nets = rng.normal(0.0, 2.0, 600)
    _, curve = narx.log_scaling_curve(w, nets)
    bound = claims.log_majorant(r, d, 600)
    finite = np.isfinite(curve)
    assert np.all(curve[finite] <= bound[finite] + 1e-9 * np.abs(bound[finite]))
    log_rho = math.log(claims.rho(r, d))
    assert math.log(r) / d <= log_rho + 1e-12 and log_rho <= math.log(d * r) / d + 1e-12


def test_long_lag_agrees_with_mpmath_and_float_form_refuses_underflow():
    rng = np.random.default_rng(3)
    w = np.array([0.8, -0.5, 1.2])
    nets = rng.normal(0.0, 3.0, 3000)
    _, logabs = narx.log_scaling_factor(w, nets)
    ref = claims.mp_log_factor(w, nets, "logistic")
    assert logabs == pytest.approx(ref, rel=1e-12)
    assert ref < math.log(np.finfo(float).tiny)
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        narx.scaling_factor(w, nets)


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (([], [0.0]), "w"),
        (([[1.0]], [0.0]), "w"),
        (([1.0], []), "nets"),
        (([1.0], [np.inf]), "nets"),
        (([1.0], [[0.0]]), "nets"),
        (([1.0], [2e300]), "nets"),
    ],
)
def test_bad_arguments_name_the_argument(args, argument):
    with pytest.raises(InvalidArgumentError) as info:
        narx.log_scaling_factor(*args)
    assert info.value.argument == argument
    with pytest.raises(ValueError):
        narx.scaling_factor(*args)


def test_panel_curve_is_fast_and_delays_slow_the_decay():
    start = time.perf_counter()
    lags, logs5, label = narx.panel_curve()
    _, logs1, _ = narx.panel_curve(d=1)
    assert time.perf_counter() - start < 2.0
    assert lags.shape == logs5.shape == (10_000,) and "d = 5" in label
    assert np.all(np.isfinite(logs5)) and logs5[-1] > logs1[-1] + 1000  # decades


def test_importing_narx_does_not_import_sympy():
    code = "import errorflow.numeric.narx, sys; assert 'sympy' not in sys.modules"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_claim_passes_under_ci():
    result = registry.run_claim(registry.REGISTRY["S7"], PROFILES["ci"])
    assert result.status == "passed", (result.error, result.numeric)
    assert result.symbolic == "proved" and result.cases > 100


def test_claim_fails_on_a_broken_kernel(monkeypatch):
    real = narx.companion_row
    # the taps read one step too late: w_k applied to g(s-k-1) (shifted window)
    monkeypatch.setattr(
        narx, "companion_row", lambda fp, w, h: real(fp, w, np.concatenate(([0.0], h[:-1])))
    )
    result = registry.run_claim(registry.REGISTRY["S7"], PROFILES["ci"])
    assert result.status == "failed"
