"""The strategies themselves: a norm-bounded weight strategy reaches the bound and never
crosses it; trajectories are real forward passes."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from errorflow.numeric import lstm, rnn
from errorflow.verify.sampling import NORMS, matrix_norm, random_weights, scale_to_norm
from errorflow.verify.strategies import (
    LSTM_BIASES,
    block_layouts,
    lstm_params,
    lstm_problems,
    net_windows,
    trajectories,
    weight_matrices,
)


@pytest.mark.parametrize("norm", NORMS)
@given(data=st.data())
def test_weight_matrices_never_reach_the_bound(norm, data):
    bound = data.draw(st.sampled_from([0.25, 1.0, 4.0, 1e3]))
    W = data.draw(weight_matrices(bound=bound, norm=norm))
    assert W.dtype == np.float64 and W.shape[0] == W.shape[1]
    assert matrix_norm(W, norm) < bound


@pytest.mark.parametrize("norm", NORMS)
def test_weight_matrices_come_close_to_the_bound(norm):
    # e.g. spectral norm below 1/f'max = 4 for logistic units (S4/B9 families)
    W = find(
        weight_matrices(bound=4.0, norm=norm),
        lambda w: matrix_norm(w, norm) > 4.0 * (1 - 1e-9),
        settings=settings(max_examples=2000, database=None),
    )
    assert 4.0 * (1 - 1e-9) < matrix_norm(W, norm) < 4.0


@pytest.mark.parametrize("norm", NORMS)
def test_scale_to_norm_at_fraction_one_stays_strictly_below(norm):
    rng = np.random.default_rng(0)
    for _ in range(300):
        raw = rng.standard_normal((int(rng.integers(1, 7)),) * 2)
        bound = float(10 ** rng.uniform(-3, 3))
        assert matrix_norm(scale_to_norm(raw, bound, 1.0, norm), norm) < bound
        assert matrix_norm(random_weights(rng, raw.shape[0], bound, norm), norm) < bound


@given(nets=net_windows(3, st.integers(1, 20), scale=6.0))
def test_net_windows_have_the_window_shape(nets):
    assert nets.shape[1] == 3 and 1 <= nets.shape[0] <= 20
    assert np.all(np.abs(nets) <= 6.0)


@given(case=trajectories(T=st.integers(2, 10), activation=st.sampled_from(["logistic", "tanh"])))
def test_trajectories_are_real_forward_passes(case):
    W, act, traj = case
    again = rnn.forward(W, traj.xs, act)
    np.testing.assert_array_equal(again.nets, traj.nets)
    np.testing.assert_array_equal(again.ys, traj.ys)
    assert matrix_norm(W, "max_row_sum") < 3.0


# --- LSTM block layouts (SPEC L) ------------------------------------------------------------
LAYOUT_OPTIONS = [
    ("connectivity", "F"),
    ("connectivity", "B"),
    *[("bias", b) for b in LSTM_BIASES],
    ("output_gates", True),
    ("output_gates", False),
    *[("g", a) for a in ("g", "h", "logistic", "identity", "tanh")],
    *[("h", a) for a in ("g", "h", "logistic", "identity", "tanh")],
]


@pytest.mark.parametrize(("field", "value"), LAYOUT_OPTIONS)
def test_block_layouts_reach_every_option(field, value):
    layout = find(
        block_layouts(),
        lambda la: getattr(la, field) == value,
        settings=settings(max_examples=2000, database=None),
    )
    assert getattr(layout, field) == value


def test_block_layouts_reach_the_size_bounds():
    biggest = find(
        block_layouts(max_in=3, max_out=2, max_blocks=2, max_size=2, max_hidden=2),
        lambda la: (la.n_in, la.n_out, la.n_blocks, la.block_size, la.n_hidden) == (3, 2, 2, 2, 2),
        settings=settings(max_examples=5000, database=None),
    )
    assert biggest.n_cells == 4


@given(layout=block_layouts(connectivity="B", bias="none", output_gates=False))
def test_block_layouts_pin_fixed_options(layout):
    assert (layout.connectivity, layout.bias, layout.output_gates) == ("B", "none", False)
    assert 1 <= layout.n_in <= 3 and 1 <= layout.n_blocks <= 2 and 0 <= layout.n_hidden <= 2


@given(problem=lstm_problems(scale=0.5))
def test_lstm_problems_are_valid_inputs_with_masked_zeros(problem):
    layout, params = problem["layout"], problem["params"]
    assert isinstance(layout, lstm.Layout)
    for name, shape in layout.shapes.items():
        w = params[name]
        assert w.shape == shape and w.dtype == np.float64
        assert np.all(w[~layout.mask[name]] == 0.0)
        assert np.all(np.abs(w) <= 0.5)
    T = problem["xs"].shape[0]
    assert problem["xs"].shape == (T, layout.n_in) and 1 <= T <= 6
    assert problem["targets"].shape == problem["mask"].shape == (T, layout.n_out)
    assert problem["mask"].dtype == np.bool_
    assert np.all((problem["targets"] >= 0) & (problem["targets"] <= 1))
    lstm.truncated_gradient(layout, params, problem["xs"], problem["targets"], problem["mask"])


@given(data=st.data())
def test_lstm_params_draw_for_the_given_layout(data):
    layout = data.draw(block_layouts(max_blocks=3))
    params = data.draw(lstm_params(layout, scale=2.0))
    assert set(params) == set(layout.shapes)
    assert all(np.all(np.abs(p) <= 2.0) for p in params.values())
