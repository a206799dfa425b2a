r"""The forget-gate memory cell: its carousel factor, state, errors and partials (SPEC S1).

Gers, Schmidhuber & Cummins (2000): ``s_c(t) = y^phi(t) s_c(t-1) + y^in(t) g(net_c(t))`` with a
logistic forget gate ``y^phi(t) = f(net_phi(t))``. Under the 1997 truncation (SPEC L2, every
``y^m(t-1)`` entering a gate or cell net input detached) error inside the carousel is scaled
per step by the forget activation, and over q steps by

    d s_c(t)/d s_c(t-q)  ~tr  prod_{k=0}^{q-1} y^phi(t-k)

(``errorflow derive forget_gate``): constant (= 1) only when the gate is fully open, and
decaying geometrically at the mean log forget activation per step otherwise.

Window convention (like :func:`errorflow.numeric.rnn.scaling_factor`): a window has q rows,
row ``k`` holding step ``t - k`` (``net_phi[k] = net_phi(t-k)``, k = 0..q-1); extra axes are
independent cells. Every step computation is a generated kernel of
``numeric/_generated/forget_gate.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._generated.forget_gate import (
    ds_c_step,
    ds_in_step,
    ds_phi_step,
    log_forget,
    state_error_step,
    state_update,
)
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation

__all__ = [
    "PANEL_SETTING",
    "Trajectory",
    "decay_rate",
    "forward",
    "log_scaling_factor",
    "panel_curve",
    "scaling_factor",
    "state_errors",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
_MAX_NET = 1e300


def _window(value: object, name: str) -> np.ndarray:
    arr = as_array(value, name, ndim=(1, 2), what="(q,) or (q, n), row k = step t - k")
    require(arr.shape[0] >= 1, name, "q = 0: expected at least one row (lag q >= 1)")
    return arr


def _log_factors(net_phi: object, y_phi: object, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """Per step: sign and log|.| of the carousel factor ``y^phi(t-k)``, shape (q, ...)."""
    if (net_phi is None) == (y_phi is None):
        require(False, "net_phi", "give exactly one of net_phi (net inputs) or y_phi (activations)")
    if y_phi is not None:
        y = _window(y_phi, "y_phi")
        with np.errstate(divide="ignore"):
            return np.sign(y), np.log(np.abs(y))
    nets = _window(net_phi, "net_phi")
    biggest = float(np.max(np.abs(nets)))
    require(biggest <= _MAX_NET, "net_phi", f"expected |net_phi| <= 1e300, got {biggest:.3g}")
    act = get_activation(activation)
    if act.name == "logistic":
        return np.ones_like(nets), log_forget(nets)
    values = act.f(nets)
    with np.errstate(divide="ignore"):
        return np.sign(values), np.log(np.abs(values))


def log_scaling_factor(
    net_phi: object = None, *, y_phi: object = None, activation: str = "logistic"
) -> tuple[np.ndarray, np.ndarray]:
    r"""The truncated carousel factor over q steps as ``(sign, log|factor|)`` (SPEC S1).

    ``factor = d s_c(t)/d s_c(t-q) ~tr prod_{k=0}^{q-1} y^phi(t-k)``, from the forget gate's
    net inputs ``net_phi`` (logistic gate by default; ``activation`` names another squashing
    function) or directly from its activations ``y_phi``. Give exactly one.

    Parameters
    ----------
    net_phi, y_phi : (q,) or (q, n) array
        Row k is step ``t - k``; finite; q >= 1; ``|net_phi| <= 1e300``.

    Returns 0-d arrays for a (q,) window, (n,) arrays for a (q, n) one. ``sign`` is 1 for a
    logistic gate; a zero activation gives ``(0, -inf)`` like ``numpy.linalg.slogdet``. The
    log is a sum of q per-step logs (pairwise summation), exact to float64 relative precision
    for any q; the logistic log-factor is the overflow-free kernel ``log_forget``.
    """
    signs, logs = _log_factors(net_phi, y_phi, activation)
    sign = np.prod(signs, axis=0)
    # the lag axis last and contiguous: NumPy then sums pairwise (error ~ eps log q)
    logabs = np.sum(np.ascontiguousarray(np.moveaxis(logs, 0, -1)), axis=-1)
    logabs = np.where(sign == 0, -np.inf, logabs)
    return np.asarray(sign, dtype=np.float64), np.asarray(logabs, dtype=np.float64)


def scaling_factor(
    net_phi: object = None, *, y_phi: object = None, activation: str = "logistic"
) -> np.ndarray:
    r"""The truncated carousel factor ``prod_{k=0}^{q-1} y^phi(t-k)`` as float64 (SPEC S1).

    Arguments as in :func:`log_scaling_factor`. Raises
    :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) when the factor leaves the
    normal float64 range (a gate at ``y^phi = 0.88`` underflows after about 5,500 steps)
    instead of returning 0 or a subnormal: use :func:`log_scaling_factor` there.
    """
    sign, logabs = log_scaling_factor(net_phi, y_phi=y_phi, activation=activation)
    live = sign != 0
    bad = live & ((logabs > _LOG_MAX) | (logabs < _LOG_TINY))
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        value = float(logabs[idx]) / np.log(10.0)
        kind = "overflows" if float(logabs[idx]) > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "y_phi" if net_phi is None else "net_phi",
            f"factor{list(idx) if idx else ''} = 10^{value:.1f} {kind} float64 at this lag; "
            "use log_scaling_factor, which returns (sign, log|factor|)",
        )
    with np.errstate(under="ignore"):
        return np.where(live, sign * np.exp(logabs), 0.0)


def decay_rate(
    net_phi: object = None, *, y_phi: object = None, activation: str = "logistic"
) -> np.ndarray:
    r"""The derived decay rate per step, ``(1/q) log|prod_k y^phi(t-k)|`` (natural log; S1).

    The mean log forget activation over the window: 0 for a fully open gate, negative
    otherwise (``-log(1 + e^{-b})`` for a constant logistic gate of net input ``b``).
    Arguments as in :func:`log_scaling_factor`.
    """
    _, logabs = log_scaling_factor(net_phi, y_phi=y_phi, activation=activation)
    q = np.shape(net_phi if y_phi is None else y_phi)[0]
    return logabs / q


@dataclass(frozen=True)
class Trajectory:
    """A forward pass of independent forget-gate cells (one cell per block), t = 1..T.

    ``s[t-1] = s_c(t)``; ``y_phi``, ``y_in``, ``g_c`` the gate activations and squashed cell
    inputs (all (T, n)); ``partials`` the truncated forward partials at the last step T,
    ``{"in": ds_c/dw_in, "phi": ds_c/dw_phi, "c": ds_c/dw_c}``, each (n, P), or None when no
    sources were given.
    """

    s: np.ndarray
    y_phi: np.ndarray
    y_in: np.ndarray
    g_c: np.ndarray
    partials: dict[str, np.ndarray] | None


def forward(
    net_phi: object,
    net_in: object,
    net_c: object,
    y_m: object | None = None,
    *,
    s0: object | None = None,
    gate: str = "logistic",
    cell_input: str = "g",
) -> Trajectory:
    r"""Run n forget-gate cells over T steps from their net inputs, with the RTRL partials (S1).

    ``net_phi``, ``net_in``, ``net_c`` are (T, n) (row t-1 is step t; under truncation the net
    inputs are given, not recomputed from the state). ``y_m`` (T, P): the sources
    ``y^m(t-1)`` feeding every gate and cell input; with it, the truncated partials of eqs.
    (3.11), (3.12) and the cell-input recursion are accumulated online, memory O(n P)
    independent of T. ``s0`` (n,) is ``s_c(0)``, default 0. ``gate``: the gates' squashing
    function (logistic), ``cell_input``: g (the paper's ``2 tanh(x/2)``).
    """
    phi = as_array(net_phi, "net_phi", ndim=2, what="(T, n)")
    T, n = phi.shape
    require(T >= 1 and n >= 1, "net_phi", f"expected T >= 1 and n >= 1, got shape {phi.shape}")
    nin = as_array(net_in, "net_in", ndim=2, shape=(T, n), what=f"({T}, {n}) like net_phi")
    nc = as_array(net_c, "net_c", ndim=2, shape=(T, n), what=f"({T}, {n}) like net_phi")
    src = None
    if y_m is not None:
        src = as_array(y_m, "y_m", ndim=2, shape=(T, None), what=f"({T}, P)")
    s = np.zeros(n) if s0 is None else as_array(s0, "s0", ndim=1, shape=(n,), what=f"({n},)")
    f, g = get_activation(gate, "gate"), get_activation(cell_input, "cell_input")
    y_phi, y_in, g_c = f.f(phi), f.f(nin), g.f(nc)
    states = np.empty((T, n))
    partials = None
    if src is not None:
        P = src.shape[1]
        partials = {k: np.zeros((n, P)) for k in ("in", "phi", "c")}
        d_in, d_phi, d_g = f.df(nin), f.df(phi), g.df(nc)
    for i in range(T):
        if partials is not None:
            ym = src[i][None, :]
            col = (slice(None), None)
            partials = {
                "in": ds_in_step(partials["in"], y_phi[i][col], g_c[i][col], d_in[i][col], ym),
                "phi": ds_phi_step(partials["phi"], y_phi[i][col], s[col], d_phi[i][col], ym),
                "c": ds_c_step(partials["c"], y_phi[i][col], d_g[i][col], y_in[i][col], ym),
            }
        s = state_update(y_phi[i], s, y_in[i], g_c[i])
        states[i] = s
    return Trajectory(states, y_phi, y_in, g_c, partials)


def state_errors(y_phi: object, y_out: object, dh_s: object, theta_j: object) -> np.ndarray:
    r"""Truncated internal-state errors ``vartheta_s(t)``, t = 1..T, (T, n) (S1, eq. 33).

    ``vartheta_s(t) = y^phi(t+1) vartheta_s(t+1) + y^out(t) h'(s_c(t)) vartheta_j(t)`` with
    ``vartheta_s(T+1) = 0``. All arguments (T, n), row t-1 = step t: forget activations,
    output-gate activations, slopes ``h'(s_c(t))`` and the errors ``vartheta_j(t)`` arriving
    at the cell outputs.
    """
    yp = as_array(y_phi, "y_phi", ndim=2, what="(T, n)")
    T, n = yp.shape
    what = f"({T}, {n}) like y_phi"
    yo = as_array(y_out, "y_out", ndim=2, shape=(T, n), what=what)
    dh = as_array(dh_s, "dh_s", ndim=2, shape=(T, n), what=what)
    tj = as_array(theta_j, "theta_j", ndim=2, shape=(T, n), what=what)
    out = np.empty((T, n))
    nxt, gate_next = np.zeros(n), np.zeros(n)
    for i in reversed(range(T)):
        nxt = state_error_step(gate_next, nxt, yo[i], dh[i], tj[i])
        out[i] = nxt
        gate_next = yp[i]
    return out


#: The documented setting of :func:`panel_curve`.
PANEL_SETTING = "logistic forget gate, net_phi(t) = 2 + N(0, 1) (bias +2, unit input noise)"


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10 |factor(q)|, label)`` for the report's error-flow panel (S1).

    One representative setting, :data:`PANEL_SETTING`: the forget gate's net input is a bias
    of +2 (Gers et al. initialise forget gates open, with positive biases) plus N(0, 1)
    input noise, drawn once from ``seed``. Lags q are about 200 log-spaced integers from 1 to
    ``q_max``; the factor is :func:`log_scaling_factor` of the window of the first q steps.
    The curve is a straight line of slope ``E[log10 sigma(2 + N(0,1))]`` (about -0.079
    decades per step).
    """
    require(
        isinstance(q_max, (int, np.integer)) and q_max >= 1,
        "q_max",
        f"expected >= 1, got {q_max!r}",
    )
    rng = np.random.default_rng(seed)
    nets = 2.0 + rng.standard_normal(int(q_max))
    logs = np.cumsum(log_forget(nets))
    qs = np.unique(np.round(np.logspace(0.0, np.log10(q_max), 200)).astype(np.int64))
    return qs, logs[qs - 1] / np.log(10.0), "forget gate (bias +2)"
