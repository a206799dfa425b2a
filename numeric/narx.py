r"""NARX / time-delay unit: error flow through tapped delays 1..d (SPEC S7).

One unit reads its own output through delays 1..d: ``net(t) = sum_k w_k y(t-k) + x(t)``,
``y(t) = f(net(t))``. The error factor over q steps is
``g(q) = dy(t)/dy(t-q) = [C(t) ... C(t-q+1)]_11`` (C the companion matrix), i.e. the recursion
``g(s) = f'(net(s)) sum_k w_k g(s-k)``: a sum over paths of at least ``ceil(q/d)`` factors.

* :func:`scaling_factor` / :func:`log_scaling_factor`: ``g(q)`` for a window
  ``nets[m-1] = net(t-m+1)`` (m = 1..q), forward recursion; the log form returns
  ``(sign, log|g|)`` and never under- or overflows.
* :func:`log_scaling_curve`: ``g(q)`` for every q = 1..Q at once, by the adjoint (reverse)
  recursion ``a(t-q) = sum_k w_k f'(net(t-q+k)) a(t-q+k)``; the same paths, summed the other way.
* :func:`companion_product`: the d x d product ``C(t) ... C(t-q+1)`` in float64 (short lags).
* :func:`forward`, :func:`panel_curve`.

Numbers are carried as a float64 mantissa and an integer power of two per window entry; each
step aligns the window on its largest exponent by exact power-of-two shifts and calls the
generated ``companion_row`` kernel (``numeric/_generated/narx.py``), so the rounding is that of
float64 arithmetic while nothing leaves float64's range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._generated.narx import companion_row, narx_net
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation

__all__ = [
    "NarxTrajectory",
    "companion_product",
    "forward",
    "log_scaling_curve",
    "log_scaling_factor",
    "panel_curve",
    "scaling_factor",
]

_LN2 = math.log(2.0)
_ZERO_EXP = -(2**60)  # exponent carried by exact zeros
_MAX_NET = 1e300
_LOG_MAX = math.log(np.finfo(np.float64).max)
_LOG_TINY = math.log(np.finfo(np.float64).tiny)


def _taps(w: object) -> np.ndarray:
    arr = as_array(w, "w", ndim=1, what="(d,) tap weights, w[k-1] for delay k")
    require(arr.shape[0] >= 1, "w", "expected at least one tap (d >= 1)")
    return arr


def _window(nets: object) -> np.ndarray:
    arr = as_array(nets, "nets", ndim=1, what="(q,) with nets[m-1] = net(t-m+1)")
    require(arr.shape[0] >= 1, "nets", "q = 0: expected at least one net input (lag q >= 1)")
    biggest = float(np.max(np.abs(arr)))
    require(biggest <= _MAX_NET, "nets", f"expected |net| <= 1e300, got {biggest:.3g}")
    return arr


def _split_slopes(arr: np.ndarray, activation: object) -> tuple[np.ndarray, np.ndarray]:
    """Slopes ``f'(net)`` as mantissa in [1/2, 1) and integer exponent (from the log-slope
    where the slope is below float64's normal range)."""
    act = get_activation(activation)
    slopes = np.broadcast_to(act.df(arr), arr.shape).astype(np.float64)
    mant, exp = np.frexp(slopes)
    exp = exp.astype(np.int64)
    low = slopes < np.finfo(np.float64).tiny
    if np.any(low):
        logs = np.broadcast_to(act.log_df(arr), arr.shape)[low]
        e = np.floor(logs / _LN2).astype(np.int64) + 1
        mant[low] = np.exp(logs - e * _LN2)
        exp[low] = e
    return mant, exp


def _tap_sum(
    w: np.ndarray, fp_m: float, fp_e: int, M: np.ndarray, E: np.ndarray
) -> tuple[float, int]:
    """``fp * sum_k w_k h_k`` with ``h_k = M_k 2^E_k`` and ``fp = fp_m 2^fp_e``: mantissa
    in [1/2, 1) (or 0) and exponent, by the generated ``companion_row`` on the window aligned
    on its largest exponent (exact shifts)."""
    live = (M != 0) & (w != 0)
    if not live.any():
        return 0.0, _ZERO_EXP
    top = int(E[live].max())
    shift = np.clip(E - top, -1100, 0)
    with np.errstate(under="ignore"):
        aligned = np.where(live, np.ldexp(M, shift), 0.0)
    value = float(companion_row(fp_m, w, aligned))
    mant, e = math.frexp(value)
    return (mant, top + e + fp_e) if mant != 0.0 else (0.0, _ZERO_EXP)


def _to_log(mant: float, exp: int) -> tuple[float, float]:
    if mant == 0.0:
        return 0.0, -math.inf
    return math.copysign(1.0, mant), math.log(abs(mant)) + exp * _LN2


def _forward_recursion(w: np.ndarray, mant: np.ndarray, exp: np.ndarray) -> tuple[float, int]:
    """``g(q)`` by ``g(s) = f'(net(s)) sum_k w_k g(s-k)`` from ``g(t-q) = 1`` up to ``t``."""
    d, q = w.shape[0], mant.shape[0]
    M = np.zeros(d)
    E = np.full(d, _ZERO_EXP, dtype=np.int64)
    M[0], E[0] = 0.5, 1  # h[0] = g(t-q) = 1
    value = (0.5, 1)
    for m in range(q - 1, -1, -1):  # s = t-q+1 .. t; slope of net(s) is row m = t - s
        value = _tap_sum(w, float(mant[m]), int(exp[m]), M, E)
        M[1:], E[1:] = M[:-1].copy(), E[:-1].copy()
        M[0], E[0] = value
    return value


def log_scaling_factor(
    w: object, nets: object, activation: str = "logistic"
) -> tuple[float, float]:
    r"""``(sign, log|g(q)|)`` for ``g(q) = dy(t)/dy(t-q)`` of a NARX unit (SPEC S7).

    Parameters
    ----------
    w : (d,) array
        Tap weights, ``w[k-1]`` on ``y(t-k)``; finite, d >= 1.
    nets : (q,) array
        ``nets[m-1] = net(t-m+1)``, m = 1..q: the net inputs of the q steps the error
        crosses, latest first; finite, ``|net| <= 1e300``; q >= 1.
    activation : str
        ``"logistic"``, ``"tanh"``, ``"h"``, ``"g"`` or ``"identity"``.

    ``g(q) = [C(t) ... C(t-q+1)]_11``; sign 0 and ``-inf`` for an exact 0 (a single tap at
    delay d gives 0 unless d divides q).
    """
    wa, arr = _taps(w), _window(nets)
    mant, exp = _split_slopes(arr, activation)
    return _to_log(*_forward_recursion(wa, mant, exp))


def scaling_factor(w: object, nets: object, activation: str = "logistic") -> float:
    r"""``g(q) = dy(t)/dy(t-q)`` of a NARX unit as a float (SPEC S7).

    Arguments as in :func:`log_scaling_factor`. Raises
    :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) where ``g`` would
    overflow or underflow float64; use :func:`log_scaling_factor` there.
    """
    wa, arr = _taps(w), _window(nets)
    mant, exp = _split_slopes(arr, activation)
    m, e = _forward_recursion(wa, mant, exp)
    if m == 0.0:
        return 0.0
    if e * _LN2 > _LOG_MAX or (e - 1) * _LN2 < _LOG_TINY:
        kind = "overflows" if e > 0 else "underflows"
        raise Float64RangeError(
            "nets",
            f"g(q) = {'-' if m < 0 else ''}10^{(math.log(abs(m)) + e * _LN2) / math.log(10):.1f} "
            f"{kind} float64 at this lag; use log_scaling_factor, which returns (sign, log|g|)",
        )
    return math.ldexp(m, e)


def log_scaling_curve(
    w: object, nets: object, activation: str = "logistic"
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(sign, log|g(q)|)`` for every q = 1..Q at once (SPEC S7), ``nets[m-1] = net(t-m+1)``.

    Adjoint recursion: ``a(0) = 1``, ``a(q) = sum_k w_k f'(net(t-q+k)) a(q-k)`` with
    ``a(q) = dy(t)/dy(t-q) = g(q)``; O(d) work per lag.
    """
    wa, arr = _taps(w), _window(nets)
    mant, exp = _split_slopes(arr, activation)
    d, Q = wa.shape[0], arr.shape[0]
    # window B[k-1] = f'(net(t-q+k)) a(q-k), latest lag first
    M = np.zeros(d)
    E = np.full(d, _ZERO_EXP, dtype=np.int64)
    pm, pe = math.frexp(float(mant[0]) * 1.0)  # f'(net(t)) a(0)
    M[0], E[0] = pm, pe + int(exp[0])
    sign = np.empty(Q)
    logabs = np.empty(Q)
    for q in range(1, Q + 1):
        am, ae = _tap_sum(wa, 1.0, 0, M, E)
        sign[q - 1], logabs[q - 1] = _to_log(am, ae)
        M[1:], E[1:] = M[:-1].copy(), E[:-1].copy()
        if q < Q and am != 0.0:
            bm, be = math.frexp(am * float(mant[q]))
            M[0], E[0] = bm, ae + be + int(exp[q])
        else:
            M[0], E[0] = 0.0, _ZERO_EXP
    return sign, logabs


def companion_product(w: object, nets: object, activation: str = "logistic") -> np.ndarray:
    """``C(t) C(t-1) ... C(t-q+1)`` as a float64 (d, d) array, ``nets[m-1] = net(t-m+1)``.

    ``C(s)`` has first row ``f'(net(s)) w`` (generated ``companion_row``) and ones on the
    subdiagonal. Plain float64 (no rescaling): for short lags and checks.
    """
    wa, arr = _taps(w), _window(nets)
    slopes = np.broadcast_to(get_activation(activation).df(arr), arr.shape)
    d = wa.shape[0]
    P = np.eye(d)
    for m in range(arr.shape[0] - 1, -1, -1):  # P <- C(s) P, s = t-q+1 .. t
        top = np.array([companion_row(slopes[m], wa, P[:, j]) for j in range(d)])
        P = np.vstack([top[None, :], P[:-1]])
    return P


@dataclass(frozen=True)
class NarxTrajectory:
    """A forward pass: ``nets[t-1] = net(t)``, ``ys[t-1] = y(t)`` (T,); ``history`` is
    ``(y(0), y(-1), ..., y(1-d))``."""

    nets: np.ndarray
    ys: np.ndarray
    history: np.ndarray

    def lag_window(self, t: int, q: int) -> np.ndarray:
        """``nets`` in :func:`scaling_factor`'s order: entry m-1 is net(t-m+1), m = 1..q."""
        T = self.nets.shape[0]
        require(1 <= q <= t <= T, "q", f"expected 1 <= q <= t <= T = {T}, got t = {t}, q = {q}")
        return self.nets[t - q : t][::-1]


def forward(
    w: object, xs: object, activation: str = "logistic", *, history: object | None = None
) -> NarxTrajectory:
    """Run the NARX unit: ``net(t) = sum_k w_k y(t-k) + x(t)``, ``y(t) = f(net(t))``, t = 1..T.

    ``xs`` (T,); ``history`` (d,) = ``(y(0), y(-1), ..., y(1-d))``, default zeros.
    """
    wa = _taps(w)
    d = wa.shape[0]
    act = get_activation(activation)
    xa = as_array(xs, "xs", ndim=1, what="(T,) external inputs")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    h0 = (
        np.zeros(d)
        if history is None
        else as_array(history, "history", ndim=1, shape=(d,), what=f"({d},) = y(0), ..., y(1-d)")
    )
    h = h0.copy()
    nets = np.empty_like(xa)
    ys = np.empty_like(xa)
    for s in range(xa.shape[0]):
        nets[s] = float(narx_net(wa, h, xa[s]))
        ys[s] = float(act.f(np.array(nets[s])))
        h = np.concatenate(([ys[s]], h[:-1]))
    if not (np.all(np.isfinite(nets)) and np.all(np.isfinite(ys))):
        raise Float64RangeError("w", "the forward pass overflowed float64")
    return NarxTrajectory(nets, ys, h0)


#: Total recurrent weight of :func:`panel_curve`'s unit, spread evenly over the d taps.
PANEL_TOTAL_WEIGHT = 2.0


def panel_curve(
    q_max: int = 10_000, seed: int = 19970, d: int = 5
) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10|dy(t)/dy(t-q)|, label)`` for q = 1..q_max: one logistic NARX unit.

    Setting: d taps of weight ``2/d`` each (the same total recurrent weight 2 for every d;
    ``d = 1`` is a conventional self-connected unit), inputs ``x(t) ~ N(0, 1)`` (seeded), run
    forward ``q_max`` steps; the curve is the error factor from the last step back q steps.
    """
    require(isinstance(q_max, int) and q_max >= 1, "q_max", f"expected an int >= 1, got {q_max}")
    require(isinstance(d, int) and d >= 1, "d", f"expected an int >= 1, got {d}")
    rng = np.random.default_rng(seed)
    w = np.full(d, PANEL_TOTAL_WEIGHT / d)
    traj = forward(w, rng.standard_normal(q_max))
    _, logabs = log_scaling_curve(w, traj.nets[::-1])
    label = f"NARX unit (d = {d}, taps {PANEL_TOTAL_WEIGHT / d:g})"
    return np.arange(1, q_max + 1), logabs / math.log(10.0), label
