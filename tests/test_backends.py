"""The two backends of the sequence kernels (errorflow.numeric.backends): the generated loop
kernels compiled by numba and the NumPy step kernels compute the same numbers, the compiled
kernels are bit-identical to their own source run as plain Python, the claims' checks catch a
broken compiled kernel, and everything works without numba (fallback to NumPy)."""

import dataclasses
import importlib.util
import inspect
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errorflow.numeric import InvalidArgumentError, backends, lstm, rnn
from errorflow.numeric._generated import bptt_loops, lstm_loops
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.verify import REGISTRY, claims_lstm, registry
from errorflow.verify.strategies import activations, lstm_problems, net_windows, weight_matrices

numba = pytest.importorskip("numba", reason="the numba backend needs the `fast` extra")
assert claims_lstm.PAPER_N_WEIGHTS  # registers L1-L12
NAMES = lstm.PARAMETER_NAMES


def _gradients(route, p, backend, **kw):
    return route(p["layout"], p["params"], p["xs"], p["targets"], p["mask"], backend=backend, **kw)


def _agree(a, b, rtol=1e-12):
    """Loss and every gradient equal up to float64 summation order (BLAS versus loops)."""
    (ea, ga), (eb, gb) = a, b
    assert ea == pytest.approx(eb, rel=rtol, abs=1e-300)
    scale = max(float(np.max(np.abs(gb[n]), initial=1e-300)) for n in NAMES)
    for n in NAMES:
        assert ga[n].shape == gb[n].shape
        assert np.max(np.abs(ga[n] - gb[n]), initial=0.0) <= rtol * scale, n


# -- the same numbers ---------------------------------------------------------------------


@settings(deadline=None)
@given(lstm_problems(max_T=8))
def test_numba_and_numpy_lstm_gradients_agree(problem):
    """Truncated (L6), full (L10) and detached-BPTT (L7) gradients: both backends, every
    layout option and squashing function, masks with NaN targets where the mask is off."""
    p = dict(problem)
    p["targets"] = np.where(p["mask"], p["targets"], np.nan)
    for route, kw in (
        (lstm.truncated_gradient, {}),
        (lstm.full_gradient, {}),
        (lstm.bptt_gradient, {"detach": True}),
    ):
        _agree(_gradients(route, p, "numba", **kw), _gradients(route, p, "numpy", **kw))


def test_numba_and_numpy_agree_over_a_long_sequence_on_every_paper_layout():
    rng = np.random.default_rng(5)
    for key in ("4-1", "2a", "3a", "1-2", "6b"):
        layout = lstm.PAPER_LAYOUTS[key]
        params = lstm.init_params(layout, rng, **lstm.PAPER_INIT[key])
        T = 200
        p = {
            "layout": layout,
            "params": params,
            "xs": rng.uniform(-1, 1, (T, layout.n_in)),
            "targets": rng.uniform(0, 1, (T, layout.n_out)),
            "mask": None,
        }
        for route in (lstm.truncated_gradient, lstm.full_gradient):
            _agree(_gradients(route, p, "numba"), _gradients(route, p, "numpy"), rtol=1e-11)


@st.composite
def _lag_problems(draw):
    n = draw(st.integers(1, 6))
    W = draw(weight_matrices(n, bound=draw(st.floats(0.5, 8.0))))
    return W, draw(net_windows(n, st.integers(1, 400))), draw(activations())


@settings(deadline=None)
@given(_lag_problems())
def test_numba_and_numpy_log_scaling_factors_agree(problem):
    """B3/B10: sign identical, log|S| equal to float64 rounding of the summation order."""
    W, nets, act = problem
    sa, la = rnn.log_scaling_factor(W, nets, act, backend="numba")
    sb, lb = rnn.log_scaling_factor(W, nets, act, backend="numpy")
    assert np.array_equal(sa, sb)
    finite = np.isfinite(lb)
    assert np.array_equal(finite, np.isfinite(la))
    assert np.all(np.abs(la[finite] - lb[finite]) <= 1e-12 * np.maximum(1.0, np.abs(lb[finite])))


def test_long_lag_log_scaling_factor_agrees_where_float64_underflows():
    """q = 5000 logistic steps: |S| near 10^-3000, far below float64; both routes carry it."""
    rng = np.random.default_rng(2)
    W = rng.normal(size=(4, 4))
    nets = rng.normal(size=(5000, 4))
    sa, la = rnn.log_scaling_factor(W, nets, backend="numba")
    sb, lb = rnn.log_scaling_factor(W, nets, backend="numpy")
    assert np.array_equal(sa, sb) and np.max(lb) < -2000
    assert np.max(np.abs(la - lb) / np.abs(lb)) < 1e-13


@pytest.mark.parametrize("name", ["logistic", "h", "g", "tanh", "identity"])
def test_scalar_squashing_forms_match_the_numpy_kernels_to_the_last_bits(name):
    """activate, slope and activate_and_slope (the loop kernels' one-exponential forms) against
    the NumPy kernels, from 1e-300 to 745: within 4 ulp, and tiny slopes stay tiny, never 0
    (L11: the gradient through h'(s) ~ 1e-300 must survive)."""
    code = lstm_loops.ACTIVATION_CODES[name]
    act = ACTIVATIONS[name]
    mags = np.concatenate([[0.0, 1e-300, 1e-12, 1e-6], np.geomspace(1e-3, 745.0, 400)])
    for x in np.concatenate([mags, -mags]):
        pair = lstm_loops.activate_and_slope(code, x)
        for got, want in (
            (lstm_loops.activate(code, x), act.f(x)),
            (lstm_loops.slope(code, x), act.df(x)),
            (pair[0], act.f(x)),
            (pair[1], act.df(x)),
        ):
            want = float(want)
            assert abs(got - want) <= 4 * np.spacing(abs(want)) + 1e-320, (x, got, want)
            assert (got == 0) == (want == 0), (x, got, want)


# -- bit-identical to their own source ----------------------------------------------------


def _sequence_args(layout, rng, T=5):
    params = lstm.init_params(layout, rng, 0.8)
    xs = rng.uniform(-1, 1, (T, layout.n_in))
    d = rng.uniform(0, 1, (T, layout.n_out))
    mask = rng.random((T, layout.n_out)) < 0.7
    return lstm._sequence_args(lstm._problem(layout, params, xs, d, mask))


@pytest.mark.parametrize("key", ["4-1", "2a", "3a", "6a"])
@pytest.mark.parametrize(
    ("kernel", "flags"),
    [("truncated_sequence", ()), ("bptt_sequence", (False,)), ("bptt_sequence", (True,))],
)
def test_compiled_loop_kernels_are_bit_identical_to_their_python_source(key, kernel, flags):
    """numba compiles the generated source without changing a single rounding (no fast-math,
    no contraction into fused multiply-adds): the plain-Python run is the same bits."""
    args = _sequence_args(lstm.PAPER_LAYOUTS[key], np.random.default_rng(1)) + flags
    fn = backends.compiled("_generated.lstm_loops", kernel)
    fast, slow = fn(*args), fn.py_func(*args)
    for a, b in zip(fast, slow, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_compiled_column_chain_is_bit_identical_to_its_python_source():
    rng = np.random.default_rng(4)
    W = rng.normal(size=(5, 5))
    W[1, 2] = W[3, 0] = 0.0  # structural zeros take the tracking branch
    mant = rng.uniform(0.05, 0.25, (40, 5))
    exps = rng.integers(-3, 3, 40)
    fn = backends.compiled("_generated.bptt_loops", "column_chain")
    fast, slow = fn(W, mant, exps, 2.0**-1000), fn.py_func(W, mant, exps, 2.0**-1000)
    assert fast[0] and slow[0]
    assert np.array_equal(fast[1], slow[1]) and np.array_equal(fast[2], slow[2])


# -- the checks catch a broken compiled kernel --------------------------------------------


def _broken(module, name, old, new, tmp_path):
    """``module``'s loop kernel ``name`` compiled from its source with ``old`` -> ``new``."""
    source = inspect.getsource(module)
    assert source.count(old) >= 1, old
    path = tmp_path / f"broken_{module.__name__.rsplit('.', 1)[-1]}.py"
    path.write_text(source.replace(old, new), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return numba.njit(error_model="numpy")(getattr(mod, name))


def _status(claim_id):
    claim = dataclasses.replace(REGISTRY[claim_id], symbolic=None)
    return registry.run_claim(claim, registry.Budget("mutation", cases=6, long_q=300)).status


@pytest.mark.parametrize(
    ("claim_id", "module", "name", "old", "new"),
    [
        # the carousel leaks: s(t) = 0.999 s(t-1) + ... (L3: constant error flow)
        (
            "L3",
            "lstm_loops",
            "bptt_sequence",
            "th_s[i0, i1] = th_s[i0, i1] + ",
            "th_s[i0, i1] = 0.999*th_s[i0, i1] + ",
        ),
        # eq. (27) without g'(net_c): the online partial of the cell input weights
        (
            "L2",
            "lstm_loops",
            "truncated_sequence",
            "y_in[i0, 0]*slope_net_c[i0, i1]",
            "y_in[i0, 0]",
        ),
        # eq. (1) with W instead of W^T
        ("B3", "bptt_loops", "column_chain", "a = W[k, i]", "a = W[i, k]"),
    ],
)
def test_each_check_fails_on_a_broken_compiled_kernel(
    monkeypatch, tmp_path, claim_id, module, name, old, new
):
    monkeypatch.setenv("ERRORFLOW_BACKEND", "numba")
    assert _status(claim_id) == "passed"
    mod = {"lstm_loops": lstm_loops, "bptt_loops": bptt_loops}[module]
    broken = _broken(mod, name, old, new, tmp_path)
    real = backends.compiled
    monkeypatch.setattr(
        backends,
        "compiled",
        lambda m, n: broken if (m, n) == (f"_generated.{module}", name) else real(m, n),
    )
    assert _status(claim_id) == "failed"


# -- choosing a backend, and running without numba ----------------------------------------


def test_auto_picks_numba_when_installed_and_the_environment_variable_overrides(monkeypatch):
    monkeypatch.delenv("ERRORFLOW_BACKEND", raising=False)
    assert backends.available() == ("numpy", "numba")
    assert backends.resolve("auto") == "numba"
    monkeypatch.setenv("ERRORFLOW_BACKEND", "numpy")
    assert backends.resolve("auto") == "numpy"
    assert backends.resolve("numba") == "numba"  # an explicit choice wins
    monkeypatch.setenv("ERRORFLOW_BACKEND", "gpu")
    with pytest.raises(InvalidArgumentError, match=r"ERRORFLOW_BACKEND.*'gpu'"):
        backends.resolve("auto")


@pytest.mark.parametrize("bad", ["cuda", None, 1, "NUMBA"])
def test_a_bad_backend_is_a_clear_error_naming_the_argument(bad):
    layout = lstm.PAPER_LAYOUTS["4-1"]
    params = lstm.init_params(layout, 0)
    with pytest.raises(InvalidArgumentError, match=r"^backend: expected one of"):
        lstm.truncated_gradient(layout, params, np.zeros((2, 2)), np.zeros((2, 1)), backend=bad)
    with pytest.raises(InvalidArgumentError, match=r"^backend: expected one of"):
        rnn.log_scaling_factor(np.eye(2), np.zeros((3, 2)), backend=bad)


_WITHOUT_NUMBA = """
import sys
sys.modules["numba"] = None  # import numba now fails, as on a machine without the extra
import numpy as np
from errorflow.numeric import backends, lstm, rnn
assert backends.available() == ("numpy",), backends.available()
assert backends.resolve("auto") == "numpy"
layout = lstm.PAPER_LAYOUTS["4-1"]
params = lstm.init_params(layout, 0, **lstm.PAPER_INIT["4-1"])
rng = np.random.default_rng(0)
xs, d = rng.uniform(-1, 1, (30, 2)), rng.uniform(0, 1, (30, 1))
E, g = lstm.truncated_gradient(layout, params, xs, d)
F, h = lstm.full_gradient(layout, params, xs, d)
s, l = rnn.log_scaling_factor(rng.normal(size=(3, 3)), rng.normal(size=(600, 3)))
np.save(sys.argv[1], np.concatenate([[E, F], *[g[k].ravel() for k in lstm.PARAMETER_NAMES],
        *[h[k].ravel() for k in lstm.PARAMETER_NAMES], s.ravel(), l.ravel()]))
try:
    lstm.truncated_gradient(layout, params, xs, d, backend="numba")
except backends.BackendUnavailableError as exc:
    print(exc)
"""


def test_without_numba_everything_falls_back_to_numpy_with_the_same_results(tmp_path):
    out = tmp_path / "fallback.npy"
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_NUMBA, str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    message = run.stdout.strip()
    assert message.startswith("backend: the numba backend needs numba")
    assert "pip install 'errorflow[fast]'" in message and "\n" not in message
    # the same computation in this process, NumPy backend: identical numbers
    layout = lstm.PAPER_LAYOUTS["4-1"]
    params = lstm.init_params(layout, 0, **lstm.PAPER_INIT["4-1"])
    rng = np.random.default_rng(0)
    xs, d = rng.uniform(-1, 1, (30, 2)), rng.uniform(0, 1, (30, 1))
    E, g = lstm.truncated_gradient(layout, params, xs, d, backend="numpy")
    F, h = lstm.full_gradient(layout, params, xs, d, backend="numpy")
    s, lg = rnn.log_scaling_factor(
        rng.normal(size=(3, 3)), rng.normal(size=(600, 3)), backend="numpy"
    )
    expected = np.concatenate(
        [[E, F], *[g[k].ravel() for k in NAMES], *[h[k].ravel() for k in NAMES], s.ravel(),
         lg.ravel()]
    )  # fmt: skip
    assert np.array_equal(np.load(out), expected)


def test_auto_keeps_numpy_for_the_scaling_factor_of_large_nets(monkeypatch):
    """Above AUTO_NUMBA_MAX_UNITS units "auto" runs the chain with NumPy (BLAS is faster)."""
    monkeypatch.delenv("ERRORFLOW_BACKEND", raising=False)
    seen = []
    real = rnn.scaled_matrix_chain
    monkeypatch.setattr(
        rnn,
        "scaled_matrix_chain",
        lambda *a, backend: seen.append(backend) or real(*a, backend=backend),
    )
    for n in (rnn.AUTO_NUMBA_MAX_UNITS, rnn.AUTO_NUMBA_MAX_UNITS + 1):
        rnn.log_scaling_factor(np.eye(n) * 0.5, np.zeros((2, n)))
    assert seen == ["numba", "numpy"]
