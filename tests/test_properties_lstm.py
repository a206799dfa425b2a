"""Property tests for SPEC L1-L11: the LSTM memory cell and its truncated learning rule.

Each test states one of the paper's claims (§4, App. A.1-A.2) over Hypothesis-drawn block
layouts of every option, parameters and sequences, and compares the public API with a route
that shares none of its kernels: the mpmath network (:mod:`errorflow.verify.reference_lstm`),
eqs. (19)-(28) evaluated literally, eq. (41), or another gradient route.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from errorflow.numeric import lstm
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.verify import reference_lstm as ref
from errorflow.verify.claims_lstm import eq19_28_gradient
from errorflow.verify.reference import mp_slope
from errorflow.verify.strategies import block_layouts, lstm_problems

NAMES = ref.NAMES
FEW = settings(max_examples=max(5, settings.default.max_examples // 4))
_F = ACTIVATIONS["logistic"]


def unpack(p):
    return p["layout"], p["params"], p["xs"], p["targets"], p["mask"]


def close(a, b, rtol, E=0.0, atol=1e-14):
    """``max|a - b| <= rtol max|b| + atol (1 + E)`` over every parameter: relative to the
    largest entry, with an absolute floor for gradients that are tiny or cancel (a weight
    that barely matters; mpmath differences carry ~1e-18 E of noise)."""
    worst = max((float(np.max(np.abs(a[n] - b[n]))) for n in NAMES if b[n].size), default=0)
    scale = max((float(np.max(np.abs(b[n]))) for n in NAMES if b[n].size), default=0)
    return worst <= rtol * scale + atol * (1 + E)


def norm(g):
    return math.sqrt(sum(float(np.sum(a**2)) for a in g.values()))


# --- L1 ---------------------------------------------------------------------------------
@given(problem=lstm_problems(max_T=5))
def test_l1_forward_equals_the_mpmath_network(problem):
    layout, params, xs, _, _ = unpack(problem)
    fwd = lstm.forward(layout, params, xs)
    want = ref.mp_forward(layout, params, xs)
    for name in ("y", "s", "y_c", "y_in", "y_h", "net_k"):
        got = getattr(fwd, name)
        np.testing.assert_allclose(
            got, want.array(name).reshape(got.shape), rtol=1e-12, atol=1e-13, err_msg=name
        )


# --- L2 / L7 ----------------------------------------------------------------------------
@given(problem=lstm_problems(max_T=7))
def test_l7_truncated_gradient_equals_bptt_of_the_stop_gradient_network(problem):
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    E2, det = lstm.bptt_gradient(layout, params, xs, d, mask, detach=True)
    assert E == pytest.approx(E2, rel=1e-13, abs=1e-300)
    assert close(tr, det, 1e-10, E)


_TINY_OUTPUT = {  # a weight that barely matters: gradient ~1e-96, below mpmath's noise
    "layout": lstm.Layout(1, 1, 1, 1, bias="none", g="tanh", h="tanh"),
    "params": {
        "w_in": np.zeros((1, 5)),
        "w_out": np.zeros((1, 5)),
        "w_c": np.zeros((1, 1, 5)),
        "w_h": np.zeros((0, 5)),
        "w_k": np.array([[7.948082e-96, 0.0, 0.0]]),
    },
    "xs": np.array([[1.0]]),
    "targets": np.array([[0.0]]),
    "mask": np.array([[True]]),
}


@given(problem=lstm_problems(max_T=4), seed=st.integers(0, 2**32 - 1))
@example(problem=_TINY_OUTPUT, seed=0)
def test_l2_truncated_gradient_is_the_derivative_of_the_stop_gradient_loss(problem, seed):
    """v . grad == d/de E_sg(w + e v; Z) (mpmath central difference, Z fixed) along a random v."""
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    rng = np.random.default_rng(seed)
    v = {n: rng.normal(size=s) * layout.mask[n] for n, s in layout.shapes.items()}
    fd = ref.mp_directional_derivative(layout, params, v, xs, d, mask, truncated=True)
    dot = sum(float(np.sum(tr[n] * v[n])) for n in NAMES)
    assert abs(dot - fd) <= 1e-9 * norm(v) * norm(tr) + 1e-15 * (1 + E) * (1 + norm(v))


@FEW
@given(problem=lstm_problems(max_T=3, max_in=2, max_out=1, max_blocks=2, max_size=1, max_hidden=1))
def test_l7_truncated_gradient_every_weight_against_mpmath(problem):
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    assert close(tr, ref.mp_truncated_gradient(layout, params, xs, d, mask), 1e-9, E, 1e-15)


# --- L6 ---------------------------------------------------------------------------------
@given(problem=lstm_problems(max_T=8))
def test_l6_online_gradient_equals_eqs_19_to_28_written_out(problem):
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    E_ref, want = eq19_28_gradient(layout, params, xs, d, mask)
    assert E == pytest.approx(E_ref, rel=1e-13, abs=1e-300)
    assert close(tr, want, 1e-11, E)


@given(problem=lstm_problems(max_T=10), cut=st.integers(1, 10))
def test_l6_online_accumulation_is_causal_and_additive(problem, cut):
    """The online rule sums per-step contributions: errors up to step t1 give the gradient of
    the prefix xs[:t1] (later inputs change nothing), and disjoint error masks add up."""
    layout, params, xs, d, mask = unpack(problem)
    T = xs.shape[0]
    t1 = min(cut, T)
    early = mask.copy()
    early[t1:] = False
    _, whole = lstm.truncated_gradient(layout, params, xs, d, early)
    E_pre, prefix = lstm.truncated_gradient(layout, params, xs[:t1], d[:t1], mask[:t1])
    assert close(whole, prefix, 1e-13, E_pre)
    late = mask & ~early
    E_all, g_all = lstm.truncated_gradient(layout, params, xs, d, mask)
    E_late, g_late = lstm.truncated_gradient(layout, params, xs, d, late)
    assert E_all == pytest.approx(E_pre + E_late, rel=1e-13, abs=1e-300)
    total = {n: whole[n] + g_late[n] for n in NAMES}
    for n in NAMES:
        np.testing.assert_allclose(g_all[n], total[n], rtol=1e-12, atol=1e-14 * (1 + norm(g_all)))


@given(problem=lstm_problems(max_T=6))
def test_masked_weights_get_exactly_zero_gradient(problem):
    layout, params, xs, d, mask = unpack(problem)
    junk = {n: np.where(layout.mask[n], params[n], 7.0) for n in NAMES}
    for route in (lstm.truncated_gradient, lstm.full_gradient):
        _, clean = route(layout, params, xs, d, mask)
        _, dirty = route(layout, junk, xs, d, mask)
        for n in NAMES:
            assert np.all(dirty[n][~layout.mask[n]] == 0.0)
            np.testing.assert_array_equal(dirty[n], clean[n])


# --- L3 / L4 ----------------------------------------------------------------------------
@FEW
@given(
    layout=block_layouts(
        max_in=1,
        max_out=1,
        connectivity=st.sampled_from(["F", "B"]),
        bias="all",
        output_gates=True,
        squashing=("g", "h", "tanh"),
    ),
    q=st.integers(1000, 3000),
    seed=st.integers(0, 2**32 - 1),
)
def test_l3_l4_error_inside_the_carousel_is_constant_over_long_lags(layout, q, seed):
    """A unit pulse on a second input channel at T - q; error at T only. The truncated
    gradient of the pulse channel's cell weight is dE/dy^c(T) y^out(T) h'(s(T)) g'(net_c(T-q))
    y^in(T-q) exactly (eq. 41): the carousel factor ds(T)/ds(T-q) is 1 for every q."""
    la = lstm.Layout(
        2,
        1,
        layout.n_blocks,
        layout.block_size,
        n_hidden=layout.n_hidden,
        connectivity=layout.connectivity,
        bias="all",
        g=layout.g,
        h=layout.h,
    )
    rng = np.random.default_rng(seed)
    params = lstm.init_params(la, rng, 0.5, input_gate_bias=-2.0)
    T = q + 1
    xs = np.zeros((T, 2))
    xs[:, 0] = rng.normal(size=T)
    xs[0, 1] = 1.0  # pulse at t = T - q = 1
    d = np.full((T, 1), 0.9)
    mask = np.zeros((T, 1), bool)
    mask[-1] = True
    _, grads = lstm.truncated_gradient(la, params, xs, d, mask)
    fwd = lstm.forward(la, params, xs)
    C, S = la.n_blocks, la.block_size
    wk = params["w_k"][0, : C * S].reshape(C, S)
    dE_dyc = -(0.9 - fwd.y[-1, 0]) * _F.df(fwd.net_k[-1, 0]) * wk
    eq41 = (
        fwd.y_out[-1][:, None]
        * ACTIVATIONS[la.h].df(fwd.s[-1])
        * ACTIVATIONS[la.g].df(fwd.net_c[0])
        * fwd.y_in[0][:, None]
    )
    np.testing.assert_allclose(grads["w_c"][:, :, 1], dE_dyc * eq41, rtol=1e-10, atol=0)


# --- L5 ---------------------------------------------------------------------------------
@given(problem=lstm_problems(max_T=6, connectivity="F", max_blocks=3), data=st.data())
def test_l5_error_entering_one_cell_never_leaves_it_through_gate_or_cell_inputs(problem, data):
    layout, params, xs, d, mask = unpack(problem)
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    j, v = data.draw(st.integers(0, C - 1)), data.draw(st.integers(0, S - 1))
    w_k = params["w_k"].copy()
    w_k[:, : C * S + H] = 0.0
    w_k[:, j * S + v] = params["w_k"][:, j * S + v]
    params = {**params, "w_k": w_k}
    _, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    for name in ("w_in", "w_out"):
        assert np.all(np.delete(tr[name], j, axis=0) == 0.0), name
    others = np.ones((C, S), bool)
    others[j, v] = False
    assert np.all(tr["w_c"][others] == 0.0)
    assert np.all(tr["w_h"] == 0.0)


# --- L9 ---------------------------------------------------------------------------------
@FEW
@given(problem=lstm_problems(max_T=3), seed=st.integers(0, 2**32 - 1))
def test_l9_eq16_loss_without_the_half_has_twice_our_gradient(problem, seed):
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    rng = np.random.default_rng(seed)
    v = {n: rng.normal(size=s) * layout.mask[n] for n, s in layout.shapes.items()}
    fd = ref.mp_directional_derivative(layout, params, v, xs, d, mask, half=False)
    dot = sum(float(np.sum(tr[n] * v[n])) for n in NAMES)
    assert abs(fd - 2 * dot) <= 1e-9 * norm(v) * norm(tr) + 1e-15 * (1 + E) * (1 + norm(v))


# --- L10 --------------------------------------------------------------------------------
@given(problem=lstm_problems(max_T=8, connectivity="B"))
def test_l10_truncated_equals_full_without_recurrent_weights(problem):
    layout, params, xs, d, mask = unpack(problem)
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    _, full = lstm.full_gradient(layout, params, xs, d, mask)
    assert close(tr, full, 1e-12, E)


@given(problem=lstm_problems(max_T=8, connectivity="F"))
def test_l10_zeroing_the_recurrent_columns_makes_truncated_equal_full(problem):
    layout, params, xs, d, mask = unpack(problem)
    I, P = layout.n_in, layout.n_sources
    params = {n: a.copy() for n, a in params.items()}
    for n in ("w_in", "w_out", "w_c", "w_h"):
        params[n][..., I : P - 1] = 0.0
    E, tr = lstm.truncated_gradient(layout, params, xs, d, mask)
    _, full = lstm.full_gradient(layout, params, xs, d, mask)
    assert close(tr, full, 1e-12, E)


@FEW
@given(problem=lstm_problems(max_T=3, max_in=2, max_out=1, max_blocks=2, max_size=1, max_hidden=1))
def test_l10_full_gradient_is_the_derivative_of_the_real_network(problem):
    layout, params, xs, d, mask = unpack(problem)
    E, full = lstm.full_gradient(layout, params, xs, d, mask)
    assert close(full, ref.mp_full_gradient(layout, params, xs, d, mask), 1e-9, E, 1e-15)


# --- L11 --------------------------------------------------------------------------------
@FEW
@given(
    bias_c=st.floats(1.5, 3.0) | st.floats(-3.0, -1.5),
    bias_in=st.floats(-4.0, 0.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_l11_drift_h_prime_from_saved_state_is_exact_and_never_zero(bias_c, bias_in, seed):
    la = lstm.Layout(1, 1, 1, 1, connectivity="B", bias="all")
    rng = np.random.default_rng(seed)
    params = lstm.init_params(la, rng, 0.1)
    params["w_c"][0, 0, -1] = bias_c
    params["w_in"][0, -1] = bias_in
    T = 400
    xs = rng.uniform(-0.1, 0.1, (T, 1))
    s = lstm.forward(la, params, xs).s[:, 0, 0]
    assert np.all(np.diff(np.abs(s)) > 0)  # one-signed cell input: |s_c| grows every step
    slope = ACTIVATIONS["h"].df(s)
    assert np.all(slope > 0)
    with mpmath.workdps(30):
        for t in (0, T // 2, T - 1):
            want = mp_slope("h", float(s[t]))
            assert float(slope[t]) == pytest.approx(float(want), rel=1e-13)
            assert mpmath.mpf(float(slope[t])) <= 2 * mpmath.exp(-abs(mpmath.mpf(float(s[t])))) * (
                1 + mpmath.mpf("1e-15")
            )


@pytest.mark.parametrize("bias_in", [-1.0, -3.0])
def test_l11_negative_input_gate_bias_slows_the_drift(bias_in):
    la = lstm.Layout(1, 1, 1, 1, connectivity="B", bias="all")
    xs = np.full((200, 1), 0.05)
    drift = []
    for b in (0.0, bias_in):
        params = lstm.init_params(la, np.random.default_rng(0), 0.1, input_gate_bias=b)
        params["w_c"][0, 0, -1] = 2.5
        drift.append(abs(lstm.forward(la, params, xs).s[-1, 0, 0]))
    assert drift[1] < drift[0] * _F.f(np.array(bias_in)) / _F.f(np.array(0.0)) * 1.2
