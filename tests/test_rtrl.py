"""RTRL (SPEC S6): proofs, generated kernels, the numeric API, and checks that can fail."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from _latex import check_equation
from hypothesis import given
from hypothesis import strategies as st

from errorflow.codegen.render import render_module
from errorflow.derivations import rtrl as deriv
from errorflow.numeric import InvalidArgumentError, rnn, rtrl
from errorflow.numeric._generated import rtrl as gen
from errorflow.verify import claims_rtrl
from errorflow.verify.reference import mp_log_scaling_factor
from errorflow.verify.registry import PROFILES

_ACTS = ("logistic", "tanh", "identity", "h", "g")


# --- derivation ----------------------------------------------------------------------------
def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert len(proofs) >= 8
    assert all(p.holds for p in proofs), [p.statement for p in proofs if not p.holds]
    assert deriv.derivation().claims() == ["S6", "B3"]


def test_a_wrong_sensitivity_recursion_is_not_proved(monkeypatch):
    # Drop the injection term delta_ki y^j(t-1): the recursion no longer gives dy/dw.
    no_injection = (deriv.P, deriv.Expand(deriv.Expand(deriv.fp)) * deriv.mixed)
    wrong = (*deriv.SENSITIVITY_STEP[:2], no_injection, *deriv.SENSITIVITY_STEP[3:])
    monkeypatch.setattr(deriv, "SENSITIVITY_STEP", wrong)
    deriv._unrolled.cache_clear()
    assert not deriv._sensitivity_proof(2, 2).holds
    assert not deriv._gradient_proof(2, 2, (1,)).holds


def test_op_counts_fit_four_and_two():
    counts = [deriv.rtrl_step_ops(k) for k in deriv.COUNT_SIZES]
    bptt = [deriv.bptt_step_ops(k) for k in deriv.COUNT_SIZES]
    assert 3.5 < deriv.fitted_exponent(deriv.COUNT_SIZES, counts) < 4.5
    assert 1.5 < deriv.fitted_exponent(deriv.COUNT_SIZES, bptt) < 2.5
    flops = {s.name: s for s in deriv.kernel_specs()}["sensitivity_step"].flops()
    assert sp.expand(flops - (2 * deriv.n**4 + 5 * deriv.n**3 + deriv.n**2)) == 0
    for k in (1, 2, 7):
        assert gen.sensitivity_step_flops(k) == int(flops.subs(deriv.n, k))


def test_latex_rows_are_valid_and_text_has_no_tex():
    d = deriv.derivation()
    for section in d.sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name
    body = d.to_latex_body()
    assert body.count(r"\begin{align*}") == 3
    out = d.to_text()
    assert "\\" not in out and "$" not in out


def test_generated_file_is_fresh():
    text = render_module("rtrl", deriv.GENERATED_DOC, deriv.kernel_specs())
    assert text == open(gen.__file__, encoding="utf-8").read()


def test_derivation_latex_compiles(tmp_path, pdflatex):
    from errorflow.report import compile_pdf

    tex = tmp_path / "d.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message


# --- kernels and API ------------------------------------------------------------------------
@st.composite
def problems(draw):
    n = draw(st.integers(1, 4))
    T = draw(st.integers(1, 7))
    m = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    act = draw(st.sampled_from(_ACTS))
    use_u = draw(st.booleans())
    use_mask = draw(st.booleans())
    scale = draw(st.floats(0.1, 2.0))
    rng = np.random.default_rng(seed)
    kw = {
        "W": rng.normal(0, scale, (n, n)),
        "targets": rng.uniform(-1, 1, (T, n)),
        "activation": act,
        "y0": rng.normal(0, 0.5, n),
    }
    if use_u:
        kw["U"] = rng.normal(0, 1, (n, m))
        kw["xs"] = rng.normal(0, 1, (T, m))
    else:
        kw["xs"] = rng.normal(0, 1, (T, n))
    if use_mask:
        kw["mask"] = rng.random((T, n)) < 0.5
    return kw


@given(problems())
def test_rtrl_gradient_equals_bptt_gradient(kw):
    E_r, g_r = rtrl.rtrl_gradient(**kw)
    E_b, g_b = rnn.bptt_gradient(**kw)
    assert set(g_r) == set(g_b)
    assert E_r == pytest.approx(E_b, rel=1e-13, abs=1e-15)
    for key in g_b:
        scale = max(float(np.max(np.abs(g_b[key]))), 1e-12)
        assert float(np.max(np.abs(g_r[key] - g_b[key]))) / scale < 1e-11, key


@given(st.integers(1, 4), st.integers(1, 60), st.integers(0, 2**32 - 1), st.sampled_from(_ACTS))
def test_forward_carried_factor_is_the_transposed_scaling_factor(n, q, seed, act):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1.0, (n, n))
    nets = rng.normal(0, 2.0, (q, n))  # nets[s] = net(t0 + s)
    logs = rtrl.forward_log_factor(W, nets, act)
    for lag in sorted({1, q // 2 + 1, q}):
        window = nets[:lag][::-1]  # net(t - m) with t = t0 + lag
        sign, la = rtrl.log_scaling_factor(W, window, act)
        ref_sign, ref = rnn.log_scaling_factor(W, window, act)
        assert np.array_equal(sign, ref_sign.T) and np.array_equal(la, ref.T)
        top = float(np.max(la))
        if np.isfinite(top):
            assert logs[lag - 1] == pytest.approx(top, rel=1e-12, abs=1e-12)


def test_scaling_factor_q1_is_w_times_slope():
    W = np.array([[0.5, -2.0], [1.5, 0.25]])
    nets = np.array([[0.3, -1.2]])
    fp = rnn.ACTIVATIONS["logistic"].df(nets[0])
    assert np.allclose(rtrl.scaling_factor(W, nets), W * fp[None, :], rtol=1e-15, atol=0)


def test_sensitivity_step_against_einsum():
    rng = np.random.default_rng(3)
    n = 3
    W, P = rng.normal(size=(n, n)), rng.normal(size=(n, n, n))
    fp, y, e = rng.random(n), rng.normal(size=n), rng.normal(size=n)
    P_new, g = gen.sensitivity_step(fp, W, P, y, e)
    ref = fp[:, None, None] * (
        np.einsum("kl,lij->kij", W, P) + np.einsum("ki,j->kij", np.eye(n), y)
    )
    assert np.allclose(P_new, ref, rtol=1e-14, atol=1e-15)
    assert np.allclose(g, -np.einsum("k,kij->ij", e, ref), rtol=1e-14, atol=1e-15)


def test_long_lag_against_mpmath():
    rng = np.random.default_rng(5)
    W = rng.normal(0, 1.0, (2, 2))
    nets = rnn.forward(W, rng.normal(size=(1500, 2))).nets
    logs = rtrl.forward_log_factor(W, nets, "logistic")
    _, ref = mp_log_scaling_factor(W, nets[::-1], "logistic")
    assert logs[-1] == pytest.approx(float(np.max(ref)), rel=1e-12)
    assert logs[-1] < -500  # far below float64


def test_memory_does_not_grow_with_T():
    assert claims_rtrl.peak_memory(3, 800) - claims_rtrl.peak_memory(3, 20) < 1024


def test_panel_curve():
    qs, logs, label = rtrl.panel_curve()
    assert qs[0] == 1 and qs[-1] == 10_000 and logs.shape == qs.shape
    assert np.all(np.isfinite(logs)) and np.all(np.diff(logs[100:]) < 1)
    assert logs[-1] < -1000 and "RTRL" in label
    _, logs2, _ = rtrl.panel_curve(q_max=100)
    assert np.array_equal(logs2, logs[:100])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"W": np.zeros((2, 3)), "xs": np.zeros((3, 2)), "targets": np.zeros((3, 2))}, "W"),
        ({"W": np.eye(2), "xs": np.zeros((3, 3)), "targets": np.zeros((3, 2))}, "xs"),
        ({"W": np.eye(2), "xs": np.zeros((3, 2)), "targets": np.zeros((4, 2))}, "targets"),
        ({"W": [[np.nan]], "xs": np.zeros((3, 1)), "targets": np.zeros((3, 1))}, "W"),
        (
            {"W": np.eye(2), "xs": np.zeros((3, 2)), "targets": np.zeros((3, 2)), "mask": [1, 0]},
            "mask",
        ),
        (
            {
                "W": np.eye(2),
                "xs": np.zeros((3, 2)),
                "targets": np.zeros((3, 2)),
                "activation": "x",
            },
            "activation",
        ),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        rtrl.rtrl_gradient(**kwargs)
    assert info.value.argument == argument


def test_scaling_factor_errors_are_rnn_errors():
    with pytest.raises(ValueError, match="nets"):
        rtrl.scaling_factor(np.eye(2), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="log_scaling_factor"):
        rtrl.scaling_factor(np.eye(2), np.zeros((600, 2)))


def test_numeric_check_passes_and_reports_exponents():
    result = claims_rtrl._s6(PROFILES["ci"], np.random.default_rng(1))
    assert result.passed, result.details
    a_rtrl, a_bptt = result.details[
        "fitted cost exponent in n, generated kernels, n = 16..256 (RTRL, BPTT)"
    ]
    assert abs(a_rtrl - 4) < 0.1 and abs(a_bptt - 2) < 0.1


def test_importing_numeric_rtrl_does_not_import_sympy():
    code = "import errorflow.numeric.rtrl, sys; assert 'sympy' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
