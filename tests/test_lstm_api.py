"""Public API of ``errorflow.numeric.lstm``: the issue's contract (SPEC L1, L2, L7, L10, L12).

Layouts, shapes and Table 10 masks, the source orders of z(t) and o(t), parameter
initialisation with the paper's gate biases, the Table 10 architectures, the three gradient
routes' shapes and masked zeros, and a ``ValueError`` naming the argument for every bad input.
References are computed here or in :mod:`errorflow.verify.reference_lstm` (mpmath), never by
the library's own kernels.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from errorflow.numeric import lstm
from errorflow.numeric._validate import InvalidArgumentError
from errorflow.verify.claims_lstm import PAPER_N_WEIGHTS, formula_n_weights
from errorflow.verify.reference_lstm import (
    mp_forward,
    mp_loss,
    reference_mask,
    reference_shapes,
)

NAMES = ("w_in", "w_out", "w_c", "w_h", "w_k")
ROUTES = {
    "truncated": lambda *a: lstm.truncated_gradient(*a),
    "full": lambda *a: lstm.full_gradient(*a),
    "bptt": lambda *a: lstm.bptt_gradient(*a),
    "bptt_detach": lambda *a: lstm.bptt_gradient(*a, detach=True),
}


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def rand_params(layout, seed=0, scale=0.7, garbage=False):
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in layout.shapes.items():
        w = rng.uniform(-scale, scale, shape)
        out[name] = np.where(layout.mask[name], w, rng.normal(0, 5, shape) if garbage else 0.0)
    return out


def problem(layout, T=5, seed=1):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, layout.n_in))
    d = rng.uniform(size=(T, layout.n_out))
    return xs, d


EVERY_OPTION = [
    lstm.Layout(2, 2, 2, 2, n_hidden=1, connectivity=c, bias=b, output_gates=og)
    for c in ("F", "B")
    for b in ("none", "gates", "hidden", "all")
    for og in (True, False)
]
OPTION_IDS = [
    f"{la.connectivity}-{la.bias}-{'og' if la.output_gates else 'noog'}" for la in EVERY_OPTION
]


# --------------------------------------------------------------------------------------------
# Layout: sizes, shapes, masks (Table 10)
# --------------------------------------------------------------------------------------------


def test_layout_defaults_and_derived_sizes():
    la = lstm.Layout(3, 2, 4, 2)
    assert (la.n_hidden, la.connectivity, la.bias, la.output_gates, la.g, la.h) == (
        0,
        "F",
        "all",
        True,
        "g",
        "h",
    )
    assert la.n_cells == 8
    assert la.n_sources == 3 + 8 + 2 * 4 + 0 + 1  # P
    assert la.n_output_sources == 8 + 0 + 3 + 1  # Q
    with pytest.raises(dataclasses.FrozenInstanceError):
        la.n_in = 5  # type: ignore[misc]
    assert lstm.Layout(3, 2, 4, 2) == la and hash(lstm.Layout(3, 2, 4, 2)) == hash(la)


@pytest.mark.parametrize("layout", EVERY_OPTION, ids=OPTION_IDS)
def test_shapes_masks_and_weight_count(layout):
    assert layout.shapes == reference_shapes(layout)
    want = reference_mask(layout)
    assert set(layout.mask) == set(NAMES)
    for name in NAMES:
        assert layout.mask[name].dtype == np.bool_
        assert layout.mask[name].shape == layout.shapes[name]
        np.testing.assert_array_equal(layout.mask[name], want[name], err_msg=name)
    assert layout.n_weights == sum(int(m.sum()) for m in layout.mask.values())
    assert layout.n_weights == formula_n_weights(layout)


def test_source_columns_of_the_F_mask_by_hand():
    # I = 2 inputs, C = 2 blocks of S = 2, H = 1: z = [x0 x1 | c00 c01 c10 c11 | in0 in1 |
    # out0 out1 | h0 | 1], o = [c00 c01 c10 c11 | h0 | x0 x1 | 1]
    la = lstm.Layout(2, 3, 2, 2, n_hidden=1, connectivity="F", bias="gates")
    assert la.n_sources == 12 and la.n_output_sources == 8
    row = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], bool)
    for name in ("w_c", "w_h"):
        assert np.all(la.mask[name] == row), name
    gate = row.copy()
    gate[-1] = True  # gate bias only
    assert np.all(la.mask["w_in"] == gate) and np.all(la.mask["w_out"] == gate)
    assert np.all(la.mask["w_k"] == np.array([1, 1, 1, 1, 1, 0, 0, 0], bool))  # not x, no bias


def test_source_columns_of_the_B_mask_by_hand():
    la = lstm.Layout(2, 1, 1, 1, n_hidden=1, connectivity="B", bias="all")
    # z = [x0 x1 | c | in | out | h | 1]: only x and bias; o = [c | h | x0 x1 | 1]: all
    hidden = np.array([1, 1, 0, 0, 0, 0, 1], bool)
    for name in ("w_in", "w_out", "w_c", "w_h"):
        assert np.all(la.mask[name] == hidden), name
    assert np.all(la.mask["w_k"] == np.ones(5, bool))


@pytest.mark.parametrize(
    ("bias", "rows"),
    [
        ("none", set()),
        ("gates", {"w_in", "w_out"}),
        ("hidden", {"w_in", "w_out", "w_c", "w_h"}),
        ("all", {"w_in", "w_out", "w_c", "w_h", "w_k"}),
    ],
)
@pytest.mark.parametrize("connectivity", ["F", "B"])
def test_bias_options_set_the_last_column(bias, rows, connectivity):
    la = lstm.Layout(2, 2, 2, 2, n_hidden=2, connectivity=connectivity, bias=bias)
    for name in NAMES:
        last = la.mask[name][..., -1]
        assert np.all(last) if name in rows else not np.any(last), name


@pytest.mark.parametrize("connectivity", ["F", "B"])
def test_without_output_gates_w_out_is_masked_and_y_out_is_one(connectivity):
    la = lstm.Layout(2, 1, 2, 2, connectivity=connectivity, output_gates=False)
    assert not la.mask["w_out"].any()
    params = rand_params(la, garbage=True)
    fwd = lstm.forward(la, params, problem(la)[0])
    np.testing.assert_array_equal(fwd.y_out, np.ones_like(fwd.y_out))
    np.testing.assert_array_equal(fwd.y_c, fwd.y_out[:, :, None] * np.tanh(fwd.s / 2))


# --------------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------------


def test_forward_shapes():
    la = lstm.Layout(3, 2, 2, 3, n_hidden=2)
    T = 7
    fwd = lstm.forward(la, rand_params(la), np.zeros((T, 3)))
    shapes = {
        "y": (T, 2),
        "s": (T, 2, 3),
        "y_c": (T, 2, 3),
        "y_in": (T, 2),
        "y_out": (T, 2),
        "y_h": (T, 2),
        "net_in": (T, 2),
        "net_out": (T, 2),
        "net_c": (T, 2, 3),
        "net_h": (T, 2),
        "net_k": (T, 2),
    }
    for name, shape in shapes.items():
        arr = getattr(fwd, name)
        assert arr.shape == shape and arr.dtype == np.float64, name


def test_forward_one_cell_by_hand():
    """One input, one block of one cell, B, bias "all": two steps written out (eqs. 6-9)."""
    la = lstm.Layout(1, 1, 1, 1, connectivity="B", bias="all")
    # z = [x | c | in | out | 1], o = [c | x | 1]
    params = {
        "w_in": np.array([[0.5, 0, 0, 0, -1.0]]),
        "w_out": np.array([[-0.25, 0, 0, 0, 0.5]]),
        "w_c": np.array([[[2.0, 0, 0, 0, 0.1]]]),
        "w_h": np.zeros((0, 5)),
        "w_k": np.array([[1.5, -0.5, 0.2]]),
    }
    xs = np.array([[1.0], [-2.0]])
    s = 0.0
    for t, x in enumerate(xs[:, 0]):
        y_in = logistic(0.5 * x - 1.0)
        y_out = logistic(-0.25 * x + 0.5)
        s = s + y_in * 2 * np.tanh((2.0 * x + 0.1) / 2)
        y_c = y_out * np.tanh(s / 2)
        y = logistic(1.5 * y_c - 0.5 * x + 0.2)
        fwd = lstm.forward(la, params, xs[: t + 1])
        np.testing.assert_allclose(fwd.s[t, 0, 0], s, rtol=1e-14)
        np.testing.assert_allclose(fwd.y_c[t, 0, 0], y_c, rtol=1e-14)
        np.testing.assert_allclose(fwd.y[t, 0], y, rtol=1e-14)


def test_forward_F_uses_the_previous_step_and_outputs_see_the_same_step():
    """F timing: z(t) holds y(t-1) of the hidden layer; o(t) holds y^c(t) (same step)."""
    la = lstm.Layout(1, 1, 1, 1, connectivity="F", bias="none")
    # z = [x | c | in | out | 1]; only the cell's recurrent weight from its own output
    params = {n: np.zeros(s) for n, s in la.shapes.items()}
    params["w_c"][0, 0, 1] = 3.0  # from y^c(t-1)
    params["w_c"][0, 0, 0] = 1.0  # from x(t)
    params["w_k"][0, 0] = 2.0  # from y^c(t)
    xs = np.array([[1.0], [0.0], [0.0]])
    fwd = lstm.forward(la, params, xs)
    s1 = 0.5 * 2 * np.tanh(0.5)
    yc1 = 0.5 * np.tanh(s1 / 2)
    s2 = s1 + 0.5 * 2 * np.tanh(3.0 * yc1 / 2)
    np.testing.assert_allclose(fwd.s[:2, 0, 0], [s1, s2], rtol=1e-14)
    np.testing.assert_allclose(fwd.y[1, 0], logistic(2.0 * 0.5 * np.tanh(s2 / 2)), rtol=1e-14)


@pytest.mark.parametrize(("g", "h"), [("logistic", "identity"), ("tanh", "g"), ("identity", "h")])
def test_forward_other_squashing_functions_against_mpmath(g, h):
    la = lstm.Layout(2, 2, 2, 2, n_hidden=1, g=g, h=h)
    params = rand_params(la, seed=3)
    xs, _ = problem(la, T=4)
    fwd = lstm.forward(la, params, xs)
    want = mp_forward(la, params, xs)
    for name in ("y", "s", "y_c", "y_h"):
        np.testing.assert_allclose(getattr(fwd, name), want.array(name), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("layout", EVERY_OPTION, ids=OPTION_IDS)
def test_masked_weights_are_treated_as_zero(layout):
    params = rand_params(layout, seed=5, garbage=True)
    clean = {n: params[n] * layout.mask[n] for n in params}
    xs, _ = problem(layout)
    a, b = lstm.forward(layout, params, xs), lstm.forward(layout, clean, xs)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.s, b.s)


# --------------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("layout", EVERY_OPTION[::3], ids=OPTION_IDS[::3])
def test_gradients_have_param_shapes_and_masked_entries_exactly_zero(route, layout):
    params = rand_params(layout, seed=7, garbage=True)
    xs, d = problem(layout)
    E, grads = ROUTES[route](layout, params, xs, d)
    assert isinstance(E, float)
    assert set(grads) == set(NAMES)
    for name in NAMES:
        assert grads[name].shape == layout.shapes[name] and grads[name].dtype == np.float64
        assert np.all(grads[name][~layout.mask[name]] == 0.0), name
        assert np.all(np.isfinite(grads[name]))


def test_loss_is_half_the_masked_sum_of_squares():
    la = lstm.Layout(2, 3, 2, 1, n_hidden=1)
    params = rand_params(la)
    xs, d = problem(la, T=6)
    mask = np.random.default_rng(2).random((6, 3)) < 0.5
    y = lstm.forward(la, params, xs).y
    for route in ROUTES.values():
        E, _ = route(la, params, xs, d, mask)
        assert E == pytest.approx(0.5 * np.sum(np.where(mask, d - y, 0) ** 2), rel=1e-14)
        E_all, _ = route(la, params, xs, d)
        assert E_all == pytest.approx(0.5 * np.sum((d - y) ** 2), rel=1e-14)
    assert E == pytest.approx(float(mp_loss(la, params, xs, d, mask)), rel=1e-14)


def test_empty_mask_gives_zero_loss_and_gradient():
    la = lstm.Layout(2, 1, 1, 2)
    params = rand_params(la)
    xs, d = problem(la)
    E, grads = lstm.truncated_gradient(la, params, xs, d, np.zeros((5, 1), bool))
    assert E == 0.0 and all(np.all(g == 0) for g in grads.values())


def test_full_gradient_is_bptt_without_detach_and_truncated_is_bptt_with_detach():
    la = lstm.Layout(2, 2, 2, 2, n_hidden=1)
    params = rand_params(la, scale=1.5)
    xs, d = problem(la, T=8)
    _, full = lstm.full_gradient(la, params, xs, d)
    _, bptt = lstm.bptt_gradient(la, params, xs, d)
    _, tr = lstm.truncated_gradient(la, params, xs, d)
    _, det = lstm.bptt_gradient(la, params, xs, d, detach=True)
    for n in NAMES:
        np.testing.assert_allclose(full[n], bptt[n], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(tr[n], det[n], rtol=1e-10, atol=1e-14)
    # F with recurrent weights: the routes really differ
    assert max(float(np.max(np.abs(full[n] - tr[n]))) for n in NAMES) > 1e-6


# --------------------------------------------------------------------------------------------
# init_params, PAPER_LAYOUTS, PAPER_INIT
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", EVERY_OPTION[::2], ids=OPTION_IDS[::2])
def test_init_params_shapes_masks_and_scale(layout):
    params = lstm.init_params(layout, np.random.default_rng(0), scale=0.2)
    assert set(params) == set(NAMES)
    for name in NAMES:
        w = params[name]
        assert w.shape == layout.shapes[name] and w.dtype == np.float64
        assert np.all(w[~layout.mask[name]] == 0.0)
        assert np.all(np.abs(w) <= 0.2)
    again = lstm.init_params(layout, np.random.default_rng(0), scale=0.2)
    assert all(np.array_equal(params[n], again[n]) for n in NAMES)


def test_init_params_gate_biases_scalar_and_per_block():
    la = lstm.Layout(2, 1, 3, 1, bias="gates")
    p = lstm.init_params(la, np.random.default_rng(1), input_gate_bias=-2.0)
    np.testing.assert_array_equal(p["w_in"][:, -1], [-2.0] * 3)
    p = lstm.init_params(
        la, np.random.default_rng(1), input_gate_bias=[-1, -3, -5], output_gate_bias=[-2, -4, -6]
    )
    np.testing.assert_array_equal(p["w_in"][:, -1], [-1.0, -3.0, -5.0])
    np.testing.assert_array_equal(p["w_out"][:, -1], [-2.0, -4.0, -6.0])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"input_gate_bias": [-1.0, -2.0]}, "input_gate_bias"),  # 3 blocks
        ({"output_gate_bias": [[1.0, 2.0, 3.0]]}, "output_gate_bias"),
        ({"input_gate_bias": float("nan")}, "input_gate_bias"),
        ({"scale": -0.1}, "scale"),
    ],
)
def test_init_params_rejects_bad_options(kwargs, argument):
    la = lstm.Layout(2, 1, 3, 1)
    with pytest.raises(ValueError, match=argument) as info:
        lstm.init_params(la, np.random.default_rng(0), **kwargs)
    assert getattr(info.value, "argument", argument) == argument


def test_paper_layouts_reproduce_table_10_weight_counts():
    assert set(lstm.PAPER_LAYOUTS) == set(PAPER_N_WEIGHTS)
    for key, want in PAPER_N_WEIGHTS.items():
        layout = lstm.PAPER_LAYOUTS[key]
        assert layout.n_weights == want, key
        assert sum(int(m.sum()) for m in reference_mask(layout).values()) == want, key


def test_paper_layouts_rows_of_table_10():
    P = lstm.PAPER_LAYOUTS
    assert (P["1-1"].n_blocks, P["1-1"].block_size, P["1-1"].n_in, P["1-1"].n_out) == (4, 1, 7, 7)
    assert (P["1-2"].n_blocks, P["1-2"].block_size) == (3, 2)
    a2 = P["2a"]
    assert (a2.connectivity, a2.output_gates, a2.bias, a2.g, a2.h) == (
        "B",
        False,
        "none",
        "logistic",
        "identity",
    )
    assert [P[f"2c-{i}"].n_in for i in range(1, 6)] == [54, 104, 204, 504, 1004]
    assert P["3a"].bias == "hidden" and P["4-1"].bias == "all" and P["1-1"].bias == "gates"
    assert all(P[k].connectivity == "F" for k in P if k != "2a")


def test_paper_init_applies_the_gate_biases():
    assert set(lstm.PAPER_INIT) == set(lstm.PAPER_LAYOUTS)
    expected = {
        "1-1": ("output_gate_bias", [-1, -2, -3, -4]),
        "1-2": ("output_gate_bias", [-1, -2, -3]),
        "3a": ("input_gate_bias", [-1, -3, -5]),
        "4-1": ("input_gate_bias", [-3, -6]),
        "6a": ("input_gate_bias", [-2, -4]),
        "6b": ("input_gate_bias", [-2, -4, -6]),
    }
    for key, opts in lstm.PAPER_INIT.items():
        layout = lstm.PAPER_LAYOUTS[key]
        params = lstm.init_params(layout, np.random.default_rng(0), **opts)
        for name in NAMES:
            assert np.all(params[name][~layout.mask[name]] == 0.0), (key, name)
        if key in expected:
            option, values = expected[key]
            column = params["w_out" if option.startswith("output") else "w_in"][:, -1]
            np.testing.assert_array_equal(column, values, err_msg=key)
    out3 = lstm.init_params(
        lstm.PAPER_LAYOUTS["3a"], np.random.default_rng(0), **lstm.PAPER_INIT["3a"]
    )
    np.testing.assert_array_equal(out3["w_out"][:, -1], [-2, -4, -6])


# --------------------------------------------------------------------------------------------
# Bad input: ValueError naming the argument
# --------------------------------------------------------------------------------------------


def _raises(argument, fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, InvalidArgumentError)
    assert info.value.argument == argument, str(info.value)
    return str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_in": 0}, "n_in"),
        ({"n_out": 0}, "n_out"),
        ({"n_blocks": 0}, "n_blocks"),
        ({"block_size": -1}, "block_size"),
        ({"n_hidden": -1}, "n_hidden"),
        ({"n_in": 1.5}, "n_in"),
        ({"connectivity": "X"}, "connectivity"),
        ({"bias": "outputs"}, "bias"),
        ({"g": "relu"}, "g"),
        ({"h": "softsign"}, "h"),
    ],
)
def test_bad_layouts_raise_naming_the_argument(kwargs, argument):
    base = {"n_in": 2, "n_out": 1, "n_blocks": 1, "block_size": 1}
    _raises(argument, lstm.Layout, **{**base, **kwargs})


LA = lstm.Layout(2, 2, 2, 1, n_hidden=1)
FUNCS = {
    "forward": lambda p, xs, d, m=None: lstm.forward(LA, p, xs),
    "truncated": lambda p, xs, d, m=None: lstm.truncated_gradient(LA, p, xs, d, m),
    "full": lambda p, xs, d, m=None: lstm.full_gradient(LA, p, xs, d, m),
    "bptt": lambda p, xs, d, m=None: lstm.bptt_gradient(LA, p, xs, d, m, detach=True),
}


@pytest.mark.parametrize("fn", list(FUNCS))
@pytest.mark.parametrize(
    "xs",
    [np.zeros((4, 3)), np.zeros(4), np.zeros((4, 2, 1)), np.zeros((0, 2))],
    ids=["wrong-width", "1-D", "3-D", "T=0"],
)
def test_bad_xs(fn, xs):
    params = rand_params(LA)
    d = np.zeros((max(xs.shape[0], 1), 2))
    _raises("xs", FUNCS[fn], params, xs, d)


def test_non_finite_xs():
    xs = np.zeros((4, 2))
    xs[2, 1] = np.nan
    for fn in FUNCS.values():
        _raises("xs", fn, rand_params(LA), xs, np.zeros((4, 2)))


@pytest.mark.parametrize("fn", ["truncated", "full", "bptt"])
@pytest.mark.parametrize(
    "d",
    [np.zeros((5, 2)), np.zeros((3, 2)), np.zeros((4, 3)), np.zeros(4)],
    ids=["too-long", "too-short", "wrong-K", "1-D"],
)
def test_bad_targets(fn, d):
    _raises("targets", FUNCS[fn], rand_params(LA), np.zeros((4, 2)), d)


@pytest.mark.parametrize("fn", ["truncated", "full", "bptt"])
def test_bad_mask(fn):
    _raises(
        "mask",
        FUNCS[fn],
        rand_params(LA),
        np.zeros((4, 2)),
        np.zeros((4, 2)),
        np.ones((3, 2), bool),
    )


@pytest.mark.parametrize("fn", list(FUNCS))
@pytest.mark.parametrize("key", NAMES)
@pytest.mark.parametrize("defect", ["missing", "misshapen", "nan", "inf"])
def test_bad_params_name_the_key(fn, key, defect):
    params = rand_params(LA)
    if defect == "missing":
        del params[key]
    elif defect == "misshapen":
        params[key] = np.zeros((*params[key].shape[:-1], params[key].shape[-1] + 1))
    else:
        if params[key].size == 0:
            pytest.skip("no entries")
        params[key] = params[key].copy()
        params[key].flat[-1] = np.nan if defect == "nan" else np.inf
    with pytest.raises(ValueError, match=key):
        FUNCS[fn](params, np.zeros((4, 2)), np.zeros((4, 2)))


def test_params_must_be_a_mapping():
    with pytest.raises(ValueError, match="params"):
        lstm.forward(LA, [np.zeros(1)], np.zeros((4, 2)))


def test_import_does_not_import_sympy():
    code = (
        "import sys; import errorflow.numeric.lstm; "
        "import errorflow.numeric._generated.lstm; "
        "bad = sorted(m for m in sys.modules if m == 'sympy' or m.startswith('sympy.')); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_truncated_gradient_memory_is_flat_in_T():
    """L8: the online gradient's peak memory does not grow with T, input validation included
    (no (T, ...) temporaries): under 1 KiB more for 20x the steps, measured with tracemalloc.
    (T = 10^5 shows the same, 22.9 KB at 10^3, 10^4 and 10^5, but takes a minute.)"""
    import gc
    import tracemalloc

    layout = lstm.Layout(16, 1, 2, 2, n_hidden=1)  # wide inputs: a (T, 16) temporary shows
    params = lstm.init_params(layout, 0, 0.1)
    rng = np.random.default_rng(3)
    peaks = []
    for T in (500, 10_000):
        xs, d = rng.normal(size=(T, 16)), rng.uniform(size=(T, 1))
        mask = np.ones((T, 1), dtype=bool)
        lstm.truncated_gradient(layout, params, xs[:3], d[:3], mask[:3])
        gc.collect()
        tracemalloc.start()
        try:
            lstm.truncated_gradient(layout, params, xs, d, mask)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] - peaks[0] < 1024, peaks
