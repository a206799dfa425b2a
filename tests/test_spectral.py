"""The spectral bound (SPEC S4): proofs, LaTeX, the numeric API, properties, a deliberate break."""

import subprocess
import sys

import numpy as np
import pytest
from _latex import check_equation
from hypothesis import given, settings
from hypothesis import strategies as st

from errorflow.derivations import spectral as deriv
from errorflow.numeric import InvalidArgumentError, rnn, spectral
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.report import compile_pdf
from errorflow.verify import PROFILES, claims_spectral, registry
from errorflow.verify.strategies import weight_matrices


def test_every_proof_holds():
    d = deriv.derivation()
    assert d.name == "spectral" and d.claims() == ["S4", "B9"]
    assert len(d.proofs) >= 12 and all(p.holds for p in d.proofs)


def test_norm_examples_neither_dominates():
    ex = deriv.norm_examples(4)
    assert ex["column"][1] < ex["column"][2] and ex["row"][2] < ex["row"][1]


def test_latex_and_text(tmp_path):
    check = check_equation
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check(step.to_latex()) == [], step.name
    assert "eq. (5)" in d.to_latex() and "\\" not in d.to_text()


def test_latex_compiles(tmp_path, pdflatex):
    tex = tmp_path / "s.tex"
    tex.write_text(deriv.derivation().to_latex())
    assert compile_pdf(tex, runs=1).path is not None


@settings(max_examples=20)
@given(
    st.sampled_from(["logistic", "tanh"]),
    st.integers(2, 5).flatmap(lambda n: weight_matrices(n, bound=4.0, norm="spectral")),
    st.integers(1, 150),
    st.integers(0, 2**32 - 1),
)
def test_measured_flow_never_exceeds_the_bound(act, W, q, seed):
    n = W.shape[0]
    xs = np.random.default_rng(seed).uniform(-2, 2, (q + 1, n))
    nets = rnn.forward(W, xs, act).lag_window(q + 1, q)
    measured = spectral.log_flow_norm(W, nets, act)
    assert measured <= spectral.log_spectral_bound(W, q, act) + 1e-9
    # B9 without its factor n also holds for every entry (max-row-sum norm)
    _, log_abs = rnn.log_scaling_factor(W, nets, act)
    gamma = ACTIVATIONS[act].sup_slope
    row = float(np.max(np.sum(np.abs(W), axis=1)))
    with np.errstate(divide="ignore"):  # W = 0: the bound is log 0 = -inf
        assert float(np.max(log_abs)) <= q * np.log(gamma * row) + 1e-9


@given(st.integers(2, 5), st.floats(0.3, 0.97), st.integers(0, 2**32 - 1))
def test_linear_units_with_rho_below_one_never_explode(n, rho, seed):
    A = np.random.default_rng(seed).standard_normal((n, n))
    W = A * (rho / np.max(np.abs(np.linalg.eigvals(A))))
    log_norm = spectral.log_flow_norm(W, np.zeros((1500, n)), "identity")
    assert log_norm < 0
    assert spectral.power_iteration_rate(W, 1500) == pytest.approx(np.log(rho), abs=0.05)


def test_step_jacobian_is_w_diag_and_not_the_printed_transpose():
    rng = np.random.default_rng(3)
    W, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    J = spectral.step_jacobian(W, x, "tanh")
    h = 1e-6
    ref = np.array(
        [(W @ np.tanh(x + h * e) - W @ np.tanh(x - h * e)) / (2 * h) for e in np.eye(3)]
    ).T
    np.testing.assert_allclose(J, ref, rtol=1e-8)
    assert not np.allclose(W.T @ np.diag(1 - np.tanh(x) ** 2), ref)
    assert spectral.step_bound_of(W, x, "tanh") >= np.linalg.norm(J, 2)


def test_api_errors_and_ranges():
    with pytest.raises(InvalidArgumentError, match="W"):
        spectral.spectral_bound(np.ones((2, 3)), 3)
    with pytest.raises(InvalidArgumentError, match="q"):
        spectral.spectral_bound(np.eye(2), 0)
    with pytest.raises(InvalidArgumentError, match="activation"):
        spectral.spectral_bound(np.eye(2), 3, "relu")
    with pytest.raises(ValueError, match="log_spectral_bound"):
        spectral.spectral_bound(0.5 * np.eye(2), 5000)
    assert spectral.spectral_bound(np.zeros((2, 2)), 3) == 0.0
    assert spectral.spectral_bound(2 * np.eye(2), 3, "logistic") == pytest.approx(0.125)


def test_panel_curve_and_bound():
    lags, values, label = spectral.panel_curve()
    lb, bound, _ = spectral.panel_bound()
    assert np.array_equal(lags, lb) and lags[-1] == 10_000 and "S4" in label
    assert np.all(values <= bound + 1e-9) and values[-1] < -400


def test_numeric_module_does_not_import_sympy():
    code = "import errorflow.numeric.spectral, sys; assert 'sympy' not in sys.modules"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_claim_passes_and_a_broken_kernel_fails(monkeypatch):
    claims = claims_spectral
    result, _, error = registry.check_numeric(registry.REGISTRY["S4"], PROFILES["ci"])
    assert error is None and result.passed, result.details
    # the printed eq. (5) as the kernel: W^T diag(f') instead of W diag(f')
    monkeypatch.setattr(spectral, "_step_jacobian", lambda fp, W: W.T * fp[None, :])
    track = registry.Tracker(tolerance=1e-8)
    claims._jacobian(registry.Budget("mini", 6, 100), np.random.default_rng(0), track)
    assert not track.result().passed
