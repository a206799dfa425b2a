r"""Second-order (multiplicative) recurrent nets (SPEC S9; Watrous & Kuhn 1992, Miller & Giles
1993).

``W[i, j, k] = w_ijk`` multiplies ``y^j(t-1) x^k(t)`` into ``net_i(t)``:
``net(t) = A(t) y(t-1)`` with the gated weights ``A(t)[i, j] = sum_k w_ijk x^k(t)``,
``y(t) = f(net(t))``, ``y(0) = y0`` (default 0). Arrays are indexed by ``t - 1``.

* :func:`scaling_factor` / :func:`log_scaling_factor`: Hochreiter's
  ``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)`` (B3) for a given input sequence,
  ``S(q) = F'(t-q) A(t-q+1)^T ... F'(t-1) A(t)^T``: the input gates every step's factor, a
  zero input blocks the flow exactly.
* :func:`forward` and :func:`rtrl_gradient`: the net and its gradient by second-order RTRL
  (``2 n^4 m + O(n^3 m)`` operations per step, i.e. O(W^2) with ``W = n^2 m`` weights).
* :func:`panel_curve`: the factor's decay over lags 1..10^4 in one representative net.

The steps are the generated kernels of ``numeric/_generated/second_order.py``.
"""

from __future__ import annotations

import numpy as np

from ._generated.second_order import forward_step, propagate_step, sensitivity_step
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation
from .logspace import LN2, _split
from .rnn import Trajectory, _targets_mask

__all__ = [
    "forward",
    "gated_weights",
    "log_scaling_factor",
    "panel_curve",
    "rtrl_gradient",
    "scaling_factor",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
_ZERO_EXP = -(2**40)  # exponent carried by exact zeros
_MAX_NET = 1e300


def _weights(W: object) -> np.ndarray:
    arr = as_array(W, "W", ndim=3, what="(n, n, m) array, W[i, j, k] = w_ijk")
    require(
        arr.shape[0] == arr.shape[1] and arr.shape[0] > 0 and arr.shape[2] > 0,
        "W",
        f"expected a non-empty (n, n, m) array, got shape {arr.shape}",
    )
    return arr


def gated_weights(W: object, x: object) -> np.ndarray:
    """``A[i, j] = sum_k w_ijk x^k`` for one input vector ``x`` (m,) (S9)."""
    Wa = _weights(W)
    n, _, m = Wa.shape
    xa = as_array(x, "x", ndim=1, shape=(m,), what=f"({m},)")
    return forward_step(Wa, xa, np.zeros(n))[1]


def _window(W: object, xs: object, nets: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Wa = _weights(W)
    n, _, m = Wa.shape
    na = as_array(nets, "nets", ndim=2, shape=(None, n), what=f"(q, {n}), nets[m-1] = net(t-m)")
    require(na.shape[0] >= 1, "nets", "q = 0: expected at least one row (lag q >= 1)")
    xa = as_array(
        xs, "xs", ndim=2, shape=(na.shape[0], m), what=f"({na.shape[0]}, {m}), xs[m-1] = x(t-m+1)"
    )
    biggest = float(np.max(np.abs(na)))
    require(biggest <= _MAX_NET, "nets", f"expected |net| <= 1e300, got {biggest:.3g}")
    return Wa, xa, na


def _chain(W, xs, nets, activation) -> tuple[np.ndarray, np.ndarray]:
    """``S(q)`` entry by entry as mantissa ``M`` and integer exponent ``E``: ``S = M 2^E``.

    Each step forms ``f'_v sum_l A[l, v] S[l, u]`` after aligning the terms of every (v, u) on
    their largest exponent with exact power-of-two shifts (as
    :mod:`errorflow.numeric.logspace` does for B10), so nothing underflows at any lag; the
    slopes come from their logs where they are below float64's range.
    """
    Wa, xa, na = _window(W, xs, nets)
    n = Wa.shape[0]
    act = get_activation(activation)
    slopes = np.broadcast_to(act.df(na), na.shape)
    slope_m, slope_e = _split(slopes, np.broadcast_to(act.log_df(na), na.shape))
    E = np.where(np.eye(n, dtype=bool), 1, _ZERO_EXP).astype(np.int64)
    M = np.where(np.eye(n, dtype=bool), 0.5, 0.0)
    zeros = np.zeros(n)
    with np.errstate(under="ignore"):
        for s in range(na.shape[0]):
            A = forward_step(Wa, xa[s], zeros)[1]
            valid = (A != 0)[:, :, None] & (M != 0)[:, None, :]  # [l, v, u]
            exps = np.where(valid, E[:, None, :], _ZERO_EXP)
            top = exps.max(axis=0)
            shift = np.clip(exps - top[None], -1100, 0)
            terms = np.where(valid, A[:, :, None] * np.ldexp(M[:, None, :], shift), 0.0)
            M, e = np.frexp(terms.sum(axis=0) * slope_m[s][:, None])
            E = np.where(M != 0, top + e + slope_e[s][:, None], _ZERO_EXP)
    return M, E


def log_scaling_factor(
    W: object, xs: object, nets: object, activation: str = "logistic"
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(sign, log|S|)`` of the second-order scaling factor (SPEC S9, B3, B10).

    ``S(q) = F'(t-q) A(t-q+1)^T F'(t-q+1) A(t-q+2)^T ... F'(t-1) A(t)^T``,
    ``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)``, with the gated weights
    ``A(s) = sum_k W[:, :, k] x^k(s)``. At q = 1, ``S[v, u] = f'_v(net_v(t-1)) A_uv(t)``.

    Parameters
    ----------
    W : (n, n, m) array
        ``W[i, j, k] = w_ijk``; finite.
    xs : (q, m) array
        ``xs[m-1] = x(t-m+1)``: the inputs of steps t, t-1, ..., t-q+1.
    nets : (q, n) array
        ``nets[m-1] = net(t-m)``, as in :func:`errorflow.numeric.rnn.log_scaling_factor`.
    activation : str
        ``"logistic"``, ``"tanh"``, ``"h"``, ``"g"`` or ``"identity"``.

    ``sign`` is -1, 0 or 1 (an exact 0, e.g. after a zero input, has ``logabs = -inf``).
    Every entry carries its own power-of-two exponent, so lags of any length stay exact to
    float64 rounding.
    """
    M, E = _chain(W, xs, nets, activation)
    with np.errstate(divide="ignore"):
        log_abs = np.where(M != 0, np.log(np.abs(M)) + E * LN2, -np.inf)
    return np.sign(M), log_abs


def scaling_factor(W: object, xs: object, nets: object, activation: str = "logistic") -> np.ndarray:
    r"""The second-order scaling factor ``S(q)`` as a float64 ``(n, n)`` matrix (SPEC S9).

    Arguments as :func:`log_scaling_factor`. Raises :class:`~errorflow.numeric.Float64RangeError`
    (a ``ValueError``) where an entry overflows or underflows float64, instead of returning
    inf or a silent 0: use :func:`log_scaling_factor` there.
    """
    M, E = _chain(W, xs, nets, activation)
    _, k = np.frexp(M)
    top = np.where(M != 0, (k + E).astype(np.float64), 0.0)
    bad = (M != 0) & (((top - 1) * LN2 < _LOG_TINY) | (top * LN2 > _LOG_MAX))
    if np.any(bad):
        v, u = (int(i) for i in np.argwhere(bad)[0])
        kind = "overflows" if top[v, u] > 0 else "underflows"
        decades = (np.log(abs(M[v, u])) + E[v, u] * LN2) / np.log(10.0)
        raise Float64RangeError(
            "nets",
            f"S[{v}, {u}] = 10^{decades:.1f} {kind} float64 at this lag; use "
            "log_scaling_factor, which returns (sign, log|S|)",
        )
    return np.ldexp(M, np.where(M != 0, E, 0))


def forward(
    W: object, xs: object, activation: str = "logistic", *, y0: object | None = None
) -> Trajectory:
    """Run the net: ``net(t) = A(t) y(t-1)``, ``A(t) = sum_k W[:, :, k] x^k(t)``, t = 1..T.

    ``xs`` is (T, m); ``y0`` (n,) is ``y(0)``, default zeros. Returns an
    :class:`errorflow.numeric.rnn.Trajectory` (``nets[t-1] = net(t)``, ``ys[t-1] = y(t)``).
    """
    Wa = _weights(W)
    n, _, m = Wa.shape
    act = get_activation(activation)
    xa = as_array(xs, "xs", ndim=2, shape=(None, m), what=f"(T, {m})")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    y = np.zeros(n) if y0 is None else as_array(y0, "y0", ndim=1, shape=(n,), what=f"({n},)")
    start = y
    nets = np.empty((xa.shape[0], n))
    ys = np.empty((xa.shape[0], n))
    for s in range(xa.shape[0]):
        nets[s] = forward_step(Wa, xa[s], y)[0]
        y = np.broadcast_to(act.f(nets[s]), (n,))
        ys[s] = y
    if not (np.all(np.isfinite(nets)) and np.all(np.isfinite(ys))):
        raise Float64RangeError("W", "the forward pass overflowed float64 (net inputs too large)")
    return Trajectory(nets, ys, start, xa)


def rtrl_gradient(
    W: object,
    xs: object,
    targets: object,
    activation: str = "logistic",
    *,
    y0: object | None = None,
    mask: object | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    r"""``(E, {"W": dE/dW})`` by second-order RTRL, forward in time (SPEC S9).

    ``E = 1/2 sum_t sum_k mask (targets[t, k] - y^k(t))^2``; the sensitivities
    ``P[r, i, j, k] = dy^r(t)/dw_ijk`` follow
    ``f'_r(net_r(t)) (sum_l A_rl(t) P[l, i, j, k](t-1) + delta_ri y^j(t-1) x^k(t))``
    (the generated ``sensitivity_step``): ``n^3 m`` numbers carried, ``2 n^4 m + O(n^3 m)``
    operations per step. ``mask`` (bool, (T, n) or (n,)) selects the output units.
    """
    Wa = _weights(W)
    n, _, m = Wa.shape
    act = get_activation(activation)
    xa = as_array(xs, "xs", ndim=2, shape=(None, m), what=f"(T, {m})")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    T = xa.shape[0]
    d, mk = _targets_mask(T, n, targets, np.ones(n, dtype=bool) if mask is None else mask)
    y = np.zeros(n) if y0 is None else as_array(y0, "y0", ndim=1, shape=(n,), what=f"({n},)")
    P = np.zeros((n, n, n, m))
    gW = np.zeros((n, n, m))
    E = 0.0
    for s in range(T):
        net, A = forward_step(Wa, xa[s], y)
        y_new = np.broadcast_to(act.f(net), (n,))
        fp = np.broadcast_to(act.df(net), (n,))
        err = np.where(mk[s], d[s] - y_new, 0.0)
        E += 0.5 * float(err @ err)
        P, g = sensitivity_step(fp, A, P, y, xa[s], err)
        gW += g
        y = y_new
    if not (np.isfinite(E) and np.all(np.isfinite(gW))):
        raise Float64RangeError("W", "the forward pass or the sensitivities overflowed float64")
    return E, {"W": gW}


#: panel_curve's net: n units, m one-hot input symbols, weights N(0, sigma^2), logistic units.
PANEL_UNITS, PANEL_SYMBOLS, PANEL_SIGMA = 4, 3, 1.0


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10 max_{k,l} |dnet_k(t0+q)/dnet_l(t0)|, label)`` for q = 1..q_max (S9).

    The representative setting: 4 logistic second-order units, 3 input symbols presented
    one-hot in a uniformly random order, ``w_ijk`` drawn N(0, 1), ``y(0) = 0``, all from
    ``numpy.random.default_rng(seed)``. The factor ``dnet(t0+q)/dnet(t0) = S(q)^T`` is carried
    forward by the generated ``propagate_step`` (``R <- A(t+1) F'(t) R``) and rescaled every
    step (the scale kept as a logarithm), so it does not underflow.
    """
    require(isinstance(q_max, (int, np.integer)) and q_max >= 1, "q_max", "expected an int >= 1")
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, PANEL_SIGMA, (PANEL_UNITS, PANEL_UNITS, PANEL_SYMBOLS))
    xs = np.eye(PANEL_SYMBOLS)[rng.integers(0, PANEL_SYMBOLS, int(q_max) + 1)]
    traj = forward(W, xs, "logistic")
    act = get_activation("logistic")
    slopes = act.df(traj.nets)
    zeros = np.zeros(PANEL_UNITS)
    R = np.eye(PANEL_UNITS)
    log_scale = 0.0
    out = np.full(int(q_max), -np.inf)
    with np.errstate(under="ignore"):
        for s in range(int(q_max)):
            A = forward_step(W, xs[s + 1], zeros)[1]
            R = propagate_step(slopes[s], A, R)
            top = float(np.max(np.abs(R)))
            if top == 0.0:
                break
            R /= top
            log_scale += np.log(top)
            out[s] = log_scale
    qs = np.arange(1, int(q_max) + 1)
    return (
        qs,
        out / np.log(10.0),
        "second-order, 4 logistic units, 3 one-hot symbols, $W \\sim N(0,1)$",
    )
