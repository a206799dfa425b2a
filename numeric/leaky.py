r"""Leaky (time-constant) units and Sun et al.'s additive unit: error flow (SPEC S5).

A leaky network (Mozer 1992): ``net(t) = W y(t-1) + x(t)``,
``y(t) = (1 - 1/tau) * y(t-1) + (1/tau) * f(net(t))`` entrywise, ``tau`` per unit (>= 1),
``W[i, j] = w_ij`` the weight from unit j to unit i. Error on the activations flows back one
step by ``J(t)^T = A + W^T F'(t) B`` (``A = diag(1 - 1/tau)``, ``B = diag(1/tau)``); for one
unit that is ``(1 - 1/tau) + (1/tau) f'(net) w``.

* :func:`scaling_factor` / :func:`log_scaling_factor`: ``S[v, u] = dy^u(t)/dy^v(t-q)``, the
  product of q such factors, from a window ``nets[m-1] = net(t-m+1)`` (m = 1..q); the log form
  returns ``(sign, log|S|)`` and stays exact for long lags, like
  :func:`errorflow.numeric.rnn.log_scaling_factor` (same argument checks and errors).
* :func:`unit_log_curve`: one unit, ``log|dy(t)/dy(t-q)|`` for every q = 1..Q at once.
* :func:`additive_log_curve`: the same for Sun et al.'s ``y(t) = y(t-1) + scale * f(net(t))``,
  factor ``1 + scale f'(net) w`` per step.
* :func:`forward`: the leaky network; :func:`panel_curve`: the report's representative curve.

The step computations are the generated kernels of ``numeric/_generated/leaky.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._generated.bptt import net_step
from ._generated.leaky import additive_factor, leaky_factor, leaky_scaling_step, leaky_update
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation
from .logspace import LN2, signed_logsumexp

__all__ = [
    "LeakyTrajectory",
    "additive_log_curve",
    "forward",
    "log_scaling_factor",
    "panel_curve",
    "scaling_factor",
    "unit_log_curve",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
_TINY_SLOPE = float(np.finfo(np.float64).tiny)
#: A nonzero entry below this fraction of its column's largest has lost float64 precision:
#: the chain then switches to the entry-wise log-space recursion.
_SPREAD = 2.0**-1000
_MAX_NET = 1e300


def _weights(W: object) -> np.ndarray:
    arr = as_array(W, "W", ndim=2, what="(n, n) square matrix")
    require(
        arr.shape[0] == arr.shape[1] and arr.shape[0] > 0,
        "W",
        f"expected a non-empty square (n, n) matrix, got shape {arr.shape}",
    )
    return arr


def _taus(tau: object, n: int) -> np.ndarray:
    arr = as_array(tau, "tau", ndim=(0, 1), what=f"a scalar or ({n},) array of time constants")
    require(
        arr.ndim == 0 or arr.shape == (n,),
        "tau",
        f"expected a scalar or shape ({n},) to match W, got shape {arr.shape}",
    )
    require(
        bool(np.all(arr >= 1.0)),
        "tau",
        f"expected time constants tau >= 1 (1 - 1/tau in [0, 1)), got min {float(np.min(arr))}",
    )
    return np.broadcast_to(arr, (n,)).astype(np.float64)


def _window(nets: object, n: int) -> np.ndarray:
    arr = as_array(
        nets, "nets", ndim=2, shape=(None, n), what=f"(q, {n}) with nets[m-1] = net(t-m+1)"
    )
    require(arr.shape[0] >= 1, "nets", "q = 0: expected at least one row (lag q >= 1)")
    biggest = float(np.max(np.abs(arr)))
    require(biggest <= _MAX_NET, "nets", f"expected |net| <= 1e300, got {biggest:.3g}")
    return arr


@dataclass(frozen=True)
class _Scaled:
    sign: np.ndarray
    log_abs: np.ndarray
    exact: tuple[np.ndarray, np.ndarray] | None  # (M, e): S = M * 2**e per column


def _by_columns(
    W: np.ndarray, a: np.ndarray, b: np.ndarray, slopes: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``S(q)`` as mantissa ``M`` times column powers of two ``2**e`` (exact rescaling);
    ``None`` when a nonzero entry falls more than 2^1000 below its column's largest."""
    n = W.shape[0]
    M = np.eye(n)
    e = np.zeros(n, dtype=np.int64)
    with np.errstate(under="ignore"):
        for m in range(slopes.shape[0]):
            M = leaky_scaling_step(a, M, W, b, slopes[m])
            mag = np.abs(M)
            _, k = np.frexp(mag.max(axis=0))
            if np.any((mag != 0) & (mag < np.ldexp(_SPREAD, k))):
                return None
            M = np.ldexp(M, -k)
            e += k
    return M, e


def _in_logs(
    W: np.ndarray, a: np.ndarray, b: np.ndarray, log_slopes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Entry-wise signed log-space recursion (slopes below float64's range, or a column
    spanning more than 2^1000): ``log|S(m)| = log|(A + W^T F' B) S(m-1)|``."""
    n = W.shape[0]
    with np.errstate(divide="ignore"):
        log_wt = np.log(np.abs(W.T))
        log_a = np.log(a)
        log_b = np.log(b)
    sign_wt = np.sign(W.T)
    eye = np.eye(n, dtype=bool)
    log_s = np.where(eye, 0.0, -np.inf)
    sign_s = eye.astype(np.float64)
    for m in range(log_slopes.shape[0]):
        log_m = log_wt + (log_b + log_slopes[m])[None, :]  # [v, l] = w_lv b_l f'_l
        diag_sign, diag_log = signed_logsumexp(
            np.stack([log_a, np.diag(log_m)]), np.stack([np.sign(a), np.diag(sign_wt)])
        )
        log_m = np.where(eye, diag_log[:, None], log_m)
        sign_m = np.where(eye, diag_sign[:, None], sign_wt)
        sign_s, log_s = signed_logsumexp(
            log_m[:, :, None] + log_s[None, :, :], sign_m[:, :, None] * sign_s[None, :, :], axis=1
        )
        log_s = np.where(sign_s != 0, log_s, -np.inf)
    return sign_s, log_s


def _chain(W: object, nets: object, tau: object, activation: object) -> _Scaled:
    Wa = _weights(W)
    n = Wa.shape[0]
    arr = _window(nets, n)
    taus = _taus(tau, n)
    act = get_activation(activation)
    b = 1.0 / taus
    a = 1.0 - b
    slopes = np.broadcast_to(act.df(arr), arr.shape)
    scaled = None
    if np.all(slopes >= _TINY_SLOPE):
        scaled = _by_columns(Wa, a, b, slopes)
    if scaled is None:
        sign, log_abs = _in_logs(Wa, a, b, np.broadcast_to(act.log_df(arr), arr.shape))
        return _Scaled(sign, log_abs, None)
    M, e = scaled
    with np.errstate(divide="ignore"):
        log_abs = np.log(np.abs(M)) + (e * LN2)[None, :]
    return _Scaled(np.sign(M), log_abs, scaled)


def log_scaling_factor(
    W: object, nets: object, tau: object, activation: str = "logistic"
) -> tuple[np.ndarray, np.ndarray]:
    r"""The leaky network's q-step error factor as sign and log-magnitude (SPEC S5).

    Returns ``(sign, logabs)``, two ``(n, n)`` arrays with
    ``S[v, u] = sign * exp(logabs) = dy^u(t)/dy^v(t-q)``, the product
    ``S(q) = J(t-q+1)^T ... J(t)^T``, ``J(s)^T = A + W^T F'(s) B``; an exact 0 has
    ``logabs = -inf``, as in ``numpy.linalg.slogdet``.

    Parameters
    ----------
    W : (n, n) array
        ``W[i, j] = w_ij``, the weight from unit j to unit i; finite.
    nets : (q, n) array
        ``nets[m-1] = net(t-m+1)`` for m = 1..q (the net inputs of the q steps the error
        crosses, latest first), finite, ``|net| <= 1e300``; q >= 1.
    tau : float or (n,) array
        Time constants, each >= 1 (``tau = 1``: a conventional unit in activation space).
    activation : str
        ``"logistic"``, ``"tanh"``, ``"h"``, ``"g"`` or ``"identity"``.

    Each column is a float64 mantissa times a power of two (exact rescaling), so where the
    result fits float64 it is the plain product's value; with slopes below float64's range, or
    a column spanning more than 2^1000, a signed log-sum-exp recursion is used instead.
    """
    scaled = _chain(W, nets, tau, activation)
    return scaled.sign, scaled.log_abs


def scaling_factor(
    W: object, nets: object, tau: object, activation: str = "logistic"
) -> np.ndarray:
    r"""The leaky network's q-step error factor ``S`` (SPEC S5) as a float64 ``(n, n)`` array.

    ``S[v, u] = dy^u(t)/dy^v(t-q)``; for one unit and q = 1 it is
    ``(1 - 1/tau) + (1/tau) f'(net(t)) w``. Arguments as in :func:`log_scaling_factor`.
    Raises :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) where an entry
    would overflow or underflow float64; use :func:`log_scaling_factor` there.
    """
    scaled = _chain(W, nets, tau, activation)
    if scaled.exact is not None:
        M, e = scaled.exact
        _, k = np.frexp(M)
        top = (k + e[None, :]).astype(np.float64)
        low = np.where(M != 0, (top - 1) * LN2, 0.0)
        high = np.where(M != 0, top * LN2, 0.0)
    else:
        low = high = np.where(scaled.sign != 0, scaled.log_abs, 0.0)
    if np.any(high > _LOG_MAX) or np.any(low < _LOG_TINY):
        v, u = (int(i) for i in np.argwhere((high > _LOG_MAX) | (low < _LOG_TINY))[0])
        kind = "overflows" if high[v, u] > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "nets",
            f"S[{v}, {u}] = {'-' if scaled.sign[v, u] < 0 else ''}10^"
            f"{scaled.log_abs[v, u] / np.log(10.0):.1f} {kind} float64 at this lag; use "
            "log_scaling_factor, which returns (sign, log|S|)",
        )
    if scaled.exact is not None:
        M, e = scaled.exact
        return np.ldexp(M, e[None, :])
    return scaled.sign * np.exp(scaled.log_abs)


def _curve(factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(factors))
    sign = np.cumprod(np.sign(factors))
    logabs = np.cumsum(logs)
    return sign, np.where(sign != 0, logabs, -np.inf)


def _unit_window(w: object, nets: object) -> tuple[float, np.ndarray]:
    wa = as_array(w, "w", ndim=0, what="a scalar self-weight")
    arr = as_array(nets, "nets", ndim=1, what="(Q,) with nets[m-1] = net(t-m+1)")
    require(arr.shape[0] >= 1, "nets", "Q = 0: expected at least one net input")
    return float(wa), arr


def unit_log_curve(
    w: float, nets: object, tau: float, activation: str = "logistic"
) -> tuple[np.ndarray, np.ndarray]:
    r"""One leaky unit: ``(sign, log|dy(t)/dy(t-q)|)`` for q = 1..Q (SPEC S5).

    ``nets[m-1] = net(t-m+1)``; entry q-1 of each result is the product of the first q
    factors ``(1 - 1/tau) + (1/tau) f'(net(t-m+1)) w`` (generated ``leaky_factor``), summed in
    log space, so nothing underflows. ``tau >= 1``.
    """
    wv, arr = _unit_window(w, nets)
    taus = _taus(tau, 1)
    slopes = get_activation(activation).df(arr)
    return _curve(leaky_factor(taus[0], slopes, wv))


def additive_log_curve(
    w: float, nets: object, activation: str = "identity", scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Sun et al.'s unit ``y(t) = y(t-1) + scale * f(net(t))``: ``(sign, log|dy(t)/dy(t-q)|)``.

    The factor per step is ``1 + scale f'(net(t-m+1)) w`` (generated ``additive_factor``);
    the paper's "scaled net input" is ``activation="identity"`` with ``scale = lambda``.
    """
    wv, arr = _unit_window(w, nets)
    sc = float(as_array(scale, "scale", ndim=0, what="a scalar lambda"))
    slopes = sc * get_activation(activation).df(arr)
    return _curve(additive_factor(slopes, wv))


@dataclass(frozen=True)
class LeakyTrajectory:
    """A forward pass: ``nets[t-1] = net(t)``, ``ys[t-1] = y(t)``, both (T, n); ``y0 = y(0)``."""

    nets: np.ndarray
    ys: np.ndarray
    y0: np.ndarray

    def lag_window(self, t: int, q: int) -> np.ndarray:
        """``nets`` in :func:`scaling_factor`'s order: row m-1 is net(t-m+1), m = 1..q."""
        T = self.nets.shape[0]
        require(1 <= q <= t <= T, "q", f"expected 1 <= q <= t <= T = {T}, got t = {t}, q = {q}")
        return self.nets[t - q : t][::-1]


def forward(
    W: object,
    xs: object,
    tau: object,
    activation: str = "logistic",
    *,
    y0: object | None = None,
) -> LeakyTrajectory:
    """Run the leaky net: ``net(t) = W y(t-1) + x(t)``,
    ``y(t) = (1 - 1/tau) y(t-1) + (1/tau) f(net(t))``; ``xs`` (T, n), ``y0`` (n,) default 0."""
    Wa = _weights(W)
    n = Wa.shape[0]
    taus = _taus(tau, n)
    act = get_activation(activation)
    xa = as_array(xs, "xs", ndim=2, shape=(None, n), what=f"(T, {n})")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    y = np.zeros(n) if y0 is None else as_array(y0, "y0", ndim=1, shape=(n,), what=f"({n},)")
    start = y
    b = 1.0 / taus
    a = 1.0 - b
    nets = np.empty_like(xa)
    ys = np.empty_like(xa)
    for s in range(xa.shape[0]):
        nets[s] = net_step(Wa, y, xa[s])
        y = leaky_update(a, y, b, act.f(nets[s]))
        ys[s] = y
    if not (np.all(np.isfinite(nets)) and np.all(np.isfinite(ys))):
        raise Float64RangeError("W", "the forward pass overflowed float64 (net inputs too large)")
    return LeakyTrajectory(nets, ys, start)


#: The representative setting of :func:`panel_curve`.
PANEL_TAU = 100.0
PANEL_W = 2.0


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10|dy(t)/dy(t-q)|, label)`` for q = 1..q_max: one logistic leaky unit.

    Setting: ``tau = 100``, self-weight ``w = 2``, inputs ``x(t) ~ N(0, 1)`` (seeded), run
    forward for ``q_max`` steps; the curve is the error factor from the last step back q steps.
    Each factor is ``0.99 + 0.01 f'(net) w`` with ``f' w <= 1/2``: the error decays by roughly
    ``(1 - f' w)/tau`` nats per step instead of BPTT's ``log(f' w)``.
    """
    require(isinstance(q_max, int) and q_max >= 1, "q_max", f"expected an int >= 1, got {q_max}")
    rng = np.random.default_rng(seed)
    traj = forward([[PANEL_W]], rng.standard_normal((q_max, 1)), PANEL_TAU)
    _, logabs = unit_log_curve(PANEL_W, traj.nets[::-1, 0], PANEL_TAU)
    lags = np.arange(1, q_max + 1)
    return lags, logabs / np.log(10.0), f"leaky unit (tau = {PANEL_TAU:g}, w = {PANEL_W:g})"
