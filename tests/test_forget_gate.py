"""SPEC S1, the forget gate: derivation, generated kernels, numeric API, claim.

References are independent of the library: the logistic written out, a plain-NumPy unrolled
cell differenced by central differences, and mpmath for long lags.
"""

from __future__ import annotations

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
from hypothesis.extra import numpy as hnp

from errorflow.derivations import forget_gate as deriv
from errorflow.numeric import Float64RangeError, InvalidArgumentError
from errorflow.numeric import forget_gate as fg
from errorflow.report import compile_pdf
from errorflow.verify.claims_forget_gate import numpy_cell_states

FINITE = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False, "width": 64}


def windows(q_max: int = 40, scale: float = 8.0, n: int | None = None):
    lag = st.integers(1, q_max)
    shape = st.tuples(lag) if n is None else st.tuples(lag, st.just(n))
    elements = st.floats(-scale, scale, **FINITE)
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=elements))


# --- the claim: the q-step factor is the product of the forget activations ---------------------
@given(windows())
def test_factor_is_product_of_forget_activations(nets):
    expected = np.prod(1.0 / (1.0 + np.exp(-nets)))
    assert float(fg.scaling_factor(nets)) == pytest.approx(expected, rel=1e-12)


@given(windows(q_max=20, scale=4.0), st.floats(-2, 2, **FINITE))
def test_factor_is_the_unrolled_cells_derivative(nets, s0):
    """Central differences of a plain unrolled cell w.r.t. s_c(t-q), gate nets fixed."""
    rng = np.random.default_rng(len(nets))
    nin, nc = rng.normal(size=(2, len(nets)))
    h = 1e-5
    fd = (
        numpy_cell_states(nets, nin, nc, s0 + h)[-1] - numpy_cell_states(nets, nin, nc, s0 - h)[-1]
    ) / (2 * h)
    kernel = float(fg.scaling_factor(nets[::-1]))
    assert abs(fd - kernel) <= 1e-8 + 1e-7 * abs(kernel)


@given(st.floats(-3.0, 8.0, **FINITE), st.integers(1000, 20_000))
def test_constant_gate_decays_at_the_derived_rate_mpmath(b, q):
    """Long lags: log factor of a constant gate = -q log(1 + e^-b), against mpmath."""
    sign, logabs = fg.log_scaling_factor(np.full(q, b))
    with mpmath.workdps(40):
        ref = -q * mpmath.log(1 + mpmath.exp(-mpmath.mpf(b)))
    assert float(sign) == 1.0
    assert float(logabs) == pytest.approx(float(ref), rel=1e-13)
    rate = float(fg.decay_rate(np.full(q, b)))
    assert -math.exp(-b) <= rate < 0.0  # S1's bound: -e^-b <= log sigma(b) < 0


@given(windows(n=3))
def test_rate_is_negative_unless_fully_open(nets):
    assert np.all(fg.decay_rate(nets) < 0.0)
    assert np.all(fg.scaling_factor(y_phi=np.ones_like(nets)) == 1.0)


@given(hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(0.0, 1.0, **FINITE)))
def test_activation_route_matches_net_route(y):
    sign, logabs = fg.log_scaling_factor(y_phi=y)
    if np.any(y == 0):
        assert float(sign) == 0.0 and logabs == -np.inf
    else:
        assert float(logabs) == pytest.approx(float(np.sum(np.log(y))), rel=1e-12, abs=1e-12)


def test_rtrl_partials_match_finite_differences():
    rng = np.random.default_rng(3)
    T, P = 15, 4
    phi, nin, nc = 1.0 + rng.normal(size=(3, T))
    ym = rng.uniform(0, 1, (T, P))
    traj = fg.forward(phi[:, None], nin[:, None], nc[:, None], ym)
    for key in ("in", "phi", "c"):
        for m in range(P):
            ends = []
            for sgn in (1.0, -1.0):
                nets = {"in": nin, "phi": phi, "c": nc}
                nets[key] = nets[key] + sgn * 1e-6 * ym[:, m]
                ends.append(numpy_cell_states(nets["phi"], nets["in"], nets["c"], 0.0)[-1])
            fd = (ends[0] - ends[1]) / 2e-6
            assert traj.partials[key][0, m] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert traj.s[:, 0] == pytest.approx(numpy_cell_states(phi, nin, nc, 0.0), rel=1e-14)


def test_state_errors_recursion():
    rng = np.random.default_rng(5)
    T = 6
    yp, yo, dh, tj = rng.uniform(0, 1, (4, T, 2))
    out = fg.state_errors(yp, yo, dh, tj)
    expected = np.zeros(2)
    for i in reversed(range(T)):
        expected = (yp[i + 1] * expected if i + 1 < T else 0.0) + yo[i] * dh[i] * tj[i]
        assert out[i] == pytest.approx(expected, rel=1e-14)


# --- API behaviour -------------------------------------------------------------------------------
def test_underflow_raises_and_log_form_does_not():
    nets = np.full(10_000, 2.0)
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        fg.scaling_factor(nets)
    assert np.isfinite(fg.log_scaling_factor(nets)[1])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({}, "net_phi"),
        ({"net_phi": [1.0], "y_phi": [1.0]}, "net_phi"),
        ({"net_phi": []}, "net_phi"),
        ({"net_phi": [[[1.0]]]}, "net_phi"),
        ({"net_phi": [np.nan]}, "net_phi"),
        ({"net_phi": [1e301]}, "net_phi"),
        ({"y_phi": ["a"]}, "y_phi"),
        ({"net_phi": [1.0], "activation": "nope"}, "activation"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        fg.log_scaling_factor(**kwargs)
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)


def test_forward_checks_shapes():
    with pytest.raises(InvalidArgumentError, match="net_in"):
        fg.forward(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 2)))


def test_panel_curve_is_fast_and_on_the_derived_line():
    start = time.perf_counter()
    q, y, label = fg.panel_curve()
    assert time.perf_counter() - start < 2.0
    assert q[0] == 1 and q[-1] == 10_000 and np.all(np.diff(q) > 0) and label
    rng = np.random.default_rng(19970)
    nets = 2.0 + rng.standard_normal(10_000)
    assert y[-1] == pytest.approx(float(fg.log_scaling_factor(nets)[1]) / math.log(10), rel=1e-12)
    assert np.all(np.diff(y) < 0)


def test_importing_numeric_forget_gate_does_not_import_sympy():
    code = "import errorflow.numeric.forget_gate, sys; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- derivation ---------------------------------------------------------------------------------
def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert proofs and all(p.holds for p in proofs)
    assert {p.claim for p in proofs} == {"S1"}


def test_every_equation_is_valid_latex():
    for section in deriv.derivation().sections:
        for step in section.steps:
            assert check_equation(step.to_latex()) == [], step.name


def test_text_has_no_tex():
    out = deriv.derivation().to_text()
    assert "\\" not in out and "$" not in out


def test_latex_compiles(tmp_path, pdflatex):
    tex = tmp_path / "d.tex"
    tex.write_text(deriv.derivation().to_latex())
    result = compile_pdf(tex, runs=1)
    assert result.path is not None, result.message
    assert result.overfull == 0


def test_the_claim_passes_in_ci_profile():
    import errorflow.verify.claims_forget_gate  # noqa: F401
    from errorflow.verify.registry import PROFILES, REGISTRY, check_numeric

    cpu = time.process_time()
    result, _, error = check_numeric(REGISTRY["S1"], PROFILES["ci"])
    assert error is None and result.passed, result
    assert time.process_time() - cpu < 5.0  # CPU time: the wall clock depends on the load
