"""The strategies themselves: a norm-bounded weight strategy reaches the bound and never
crosses it; trajectories are real forward passes."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from errorflow.numeric import rnn
from errorflow.verify.sampling import NORMS, matrix_norm, random_weights, scale_to_norm
from errorflow.verify.strategies import net_windows, trajectories, weight_matrices


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
