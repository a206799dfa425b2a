"""Property tests for SPEC A1-A3: the generated squashing kernels and their slopes."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from errorflow.numeric.activations import ACTIVATIONS, get_activation
from errorflow.verify.reference import mp_activation, mp_slope

TINY = np.finfo(np.float64).tiny

# x spanning every order of magnitude of float64, both signs.
magnitudes = st.builds(
    lambda sign, exponent, mantissa: sign * mantissa * 10.0**exponent,
    st.sampled_from([-1.0, 1.0]),
    st.integers(-300, 300),
    st.floats(1.0, 9.999),
)
moderate = st.floats(-4.0, 4.0, allow_nan=False)


@given(x=moderate)
def test_a1_logistic_slope_is_f_times_one_minus_f(x):
    act = ACTIVATIONS["logistic"]
    f = float(act.f(np.array(x)))
    assert float(act.df(np.array(x))) == pytest.approx(f * (1 - f), rel=1e-13, abs=0)


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        ("h", lambda f: (1 - f**2) / 2),
        ("g", lambda f: 1 - f**2 / 4),
        ("tanh", lambda f: 1 - f**2),
        ("identity", lambda f: 1.0),
    ],
)
@given(x=moderate)
def test_a2_slope_identities(name, identity, x):
    act = ACTIVATIONS[name]
    f = float(act.f(np.array(x)))
    assert float(act.df(np.array(x))) == pytest.approx(identity(f), rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("name", "sup"), [("logistic", 0.25), ("h", 0.5), ("g", 1.0), ("tanh", 1.0)]
)
def test_a1_a2_supremum_attained_only_at_zero(name, sup):
    act = ACTIVATIONS[name]
    grid = np.linspace(-50, 50, 200_001)
    slopes = act.df(grid)
    assert float(act.df(np.array(0.0))) == sup
    assert np.all(slopes[grid != 0] < sup)
    assert act.sup_slope == sup


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(x=magnitudes)
def test_a3_kernels_match_mpmath_over_float64_range(name, x):
    act = ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        f, df, log_df = (float(np.asarray(k(np.array(x)))) for k in (act.f, act.df, act.log_df))
    with mpmath.workdps(50):
        ref_f, ref_df = mp_activation(name, x), mp_slope(name, x)
        ref_log = float(mpmath.log(ref_df))
    if abs(ref_f) >= TINY:
        assert f == pytest.approx(float(ref_f), rel=4e-16, abs=0)
    if ref_df >= TINY:
        assert df == pytest.approx(float(ref_df), rel=4e-16, abs=0)
    else:
        assert df < 2 * TINY  # below float64's range: the log form carries it
    assert log_df == pytest.approx(ref_log, rel=4e-16, abs=4e-16)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_a3_no_warning_or_nan_at_plus_minus_1e3_and_beyond(name):
    # Up to 1e300: beyond ~9e307, log tanh'(x) = -2|x| itself leaves float64.
    xs = np.array([-1e300, -1e4, -1e3, -745.2, 0.0, 745.2, 1e3, 1e4, 1e300])
    act = ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        for kernel in (act.f, act.df, act.log_df):
            out = np.broadcast_to(kernel(xs), xs.shape)
            assert np.all(np.isfinite(out))


def test_a3_naive_slope_overflows_where_generated_one_does_not():
    # The test would pass vacuously if the naive form were fine: show that it is not.
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.float64(1e3))
        naive = e / (1 + e) ** 2
    assert not np.isfinite(naive)
    assert ACTIVATIONS["logistic"].df(np.array(-1e3)) == 0.0
    assert np.isfinite(ACTIVATIONS["logistic"].log_df(np.array(-1e3)))


def test_unknown_activation_lists_known_names():
    with pytest.raises(ValueError, match=r"activation.*'logistic'.*'identity'"):
        get_activation("relu")
