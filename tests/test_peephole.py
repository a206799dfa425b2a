"""SPEC S2, peephole connections: derivation, generated kernels, numeric API, claim.

References: a plain-NumPy unrolled peephole cell (own formulas) differenced by central
differences, the forget gate's factor for zero peepholes, mpmath for long lags.
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
from test_forget_gate import FINITE

from errorflow.derivations import peephole as deriv
from errorflow.numeric import Float64RangeError, InvalidArgumentError
from errorflow.numeric import forget_gate as fg
from errorflow.numeric import peephole as ph
from errorflow.report import compile_pdf
from errorflow.verify.claims_peephole import numpy_peephole_state

weights = st.floats(-4.0, 4.0, **FINITE)


@st.composite
def problems(draw, T: int = 12):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return {
        "a_in": draw(st.floats(-3, 3, **FINITE)) + rng.normal(size=T),
        "a_phi": draw(st.floats(-2, 6, **FINITE)) + rng.normal(size=T),
        "a_c": rng.normal(size=T),
        "w_in": draw(weights),
        "w_phi": draw(weights),
    }


def _traj(p):
    col = {k: p[k][:, None] for k in ("a_in", "a_phi", "a_c")}
    return ph.forward(col["a_in"], col["a_phi"], col["a_c"], w_in_c=p["w_in"], w_phi_c=p["w_phi"])


# --- the claim: J and its products are the unrolled cell's derivatives --------------------------
@given(problems(), st.integers(1, 8))
def test_factor_is_the_unrolled_cells_derivative(p, q):
    traj = _traj(p)
    t = 12
    s0 = float(traj.s[t - q - 1, 0]) if t > q else 0.0
    sl = slice(t - q, t)
    args = (p["a_in"][sl], p["a_phi"][sl], p["a_c"][sl], p["w_in"], p["w_phi"])
    h = 1e-6
    fd = (numpy_peephole_state(*args, s0 + h) - numpy_peephole_state(*args, s0 - h)) / (2 * h)
    kernel = float(ph.scaling_factor(**traj.window(t, q))[0])
    assert abs(fd - kernel) <= 1e-6 * max(1.0, abs(kernel))


@given(problems())
def test_zero_peepholes_give_the_forget_gates_factor(p):
    p = {**p, "w_in": 0.0, "w_phi": 0.0}
    traj = _traj(p)
    assert np.all(traj.jacobian == traj.y_phi)
    w = traj.window(12, 12)
    assert ph.log_scaling_factor(**w)[1] == pytest.approx(
        fg.log_scaling_factor(w["net_phi"])[1], rel=1e-14
    )


@given(problems())
def test_bound_and_logistic_closed_form(p):
    traj = _traj(p)
    J, yphi, yin = traj.jacobian[:, 0], traj.y_phi[:, 0], traj.y_in[:, 0]
    prev = np.concatenate([[0.0], traj.s[:-1, 0]])
    g = 2 * np.tanh(p["a_c"] / 2)
    room = (np.abs(prev * p["w_phi"]) + np.abs(g * p["w_in"])) / 4
    assert np.all(np.abs(J - yphi) <= room + 1e-15 * (1 + np.abs(J)))
    closed = (1 - yphi) * (prev * p["w_phi"] * yphi - 1) + g * p["w_in"] * yin * (1 - yin)
    assert J - 1 == pytest.approx(closed, abs=1e-12)


def test_explosion_and_vanishing_witnesses():
    exploding = ph.one_step_factor(4.0, -4.0 + 0.0, -4.0 + 4.0, 0.0, w_phi_c=1.0)
    assert float(exploding) == pytest.approx(1.5, rel=1e-15)
    vanishing = ph.one_step_factor(1.0, 0.0, 2.0 - 2.0, 0.0, w_phi_c=-2.0)
    assert abs(float(vanishing)) < 1e-16


def test_chaotic_setting_explodes_mpmath():
    """The documented chaotic setting: mpmath FD over 120 steps gives a positive rate equal
    to the kernel's on the same (mpmath) trajectory."""
    T = 300
    ones = np.ones((T, 1))
    traj = ph.forward(4 * ones, 12 * ones, 2 * ones, w_phi_c=-3.0)
    q, s_start = 120, float(traj.s[T - 121, 0])
    from errorflow.verify.claims_peephole import mp_peephole_states

    args = (4 * np.ones(q), 12 * np.ones(q), 2 * np.ones(q), 0.0, -3.0)
    with mpmath.workdps(120):
        h = mpmath.mpf(10) ** -60
        base = mp_peephole_states(*args, mpmath.mpf(s_start), 120)
        up = mp_peephole_states(*args, mpmath.mpf(s_start) + h, 120)[-1]
        down = mp_peephole_states(*args, mpmath.mpf(s_start) - h, 120)[-1]
        rate = float(mpmath.log(abs((up - down) / (2 * h)))) / q
    prev = np.array([s_start] + [float(v) for v in base[:-1]])[::-1]
    _, logabs = ph.log_scaling_factor(prev, 4 + 0 * prev, 12 - 3 * prev, 2 + 0 * prev, w_phi_c=-3.0)
    assert rate > 0.1
    assert float(logabs) / q == pytest.approx(rate, rel=1e-10)


def test_entry_factor_includes_the_output_peephole():
    rng = np.random.default_rng(2)
    T = 5
    a = rng.normal(size=(4, T, 1))
    traj = ph.forward(a[0], a[1], a[2], a[3], w_phi_c=0.3, w_out_c=0.7)
    s = traj.s[:, 0]
    for i in range(T):

        def yc(x, i=i):
            return 1 / (1 + np.exp(-(a[3, i, 0] + 0.7 * x))) * np.tanh(x / 2)

        fd = (yc(s[i] + 1e-6) - yc(s[i] - 1e-6)) / 2e-6
        assert traj.enter[i, 0] == pytest.approx(fd, rel=1e-7)


# --- API ----------------------------------------------------------------------------------------
def test_overflow_raises_and_log_form_does_not():
    T = 10_000
    ones = np.ones((T, 1))
    traj = ph.forward(4 * ones, 12 * ones, 2 * ones, w_phi_c=-3.0)
    with pytest.raises(Float64RangeError, match="log_scaling_factor"):
        ph.scaling_factor(**traj.window(T, T))
    _, logabs = ph.log_scaling_factor(**traj.window(T, T))
    assert float(logabs[0]) > math.log(np.finfo(np.float64).max)


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        (([], [], [], []), {}, "s_prev"),
        (([1.0], [1.0, 2.0], [1.0], [1.0]), {}, "net_in"),
        (([1.0], [1.0], [np.inf], [1.0]), {}, "net_phi"),
        (([[1.0, 2.0]], [[1.0, 2.0]], [[1.0, 2.0]], [[1.0, 2.0]]), {"w_in_c": [1, 2, 3]}, "w_in_c"),
        (([1.0], [1.0], [1.0], [1.0]), {"gate": "nope"}, "gate"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(args, kwargs, argument):
    with pytest.raises(InvalidArgumentError) as info:
        ph.log_scaling_factor(*args, **kwargs)
    assert info.value.argument == argument


def test_window_checks_lags():
    traj = ph.forward(np.zeros((3, 1)), np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(InvalidArgumentError, match="q"):
        traj.window(2, 3)


@pytest.mark.parametrize("setting", ["typical", "chaotic"])
def test_panel_curve(setting):
    start = time.perf_counter()
    q, y, label = ph.panel_curve(setting=setting)
    assert time.perf_counter() - start < 2.0
    assert q[0] == 1 and q[-1] == 10_000 and len(q) == len(y) and label
    assert (y[-1] < -100) if setting == "typical" else (y[-1] > 100)


def test_importing_numeric_peephole_does_not_import_sympy():
    code = "import errorflow.numeric.peephole, sys; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- derivation ---------------------------------------------------------------------------------
def test_every_proof_holds():
    proofs = deriv.derivation().proofs
    assert proofs and all(p.holds for p in proofs)


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
    import errorflow.verify.claims_peephole  # noqa: F401
    from errorflow.verify.registry import PROFILES, REGISTRY, check_numeric

    cpu = time.process_time()
    result, _, error = check_numeric(REGISTRY["S2"], PROFILES["ci"])
    assert error is None and result.passed, result
    assert time.process_time() - cpu < 5.0  # CPU time: the wall clock depends on the load
