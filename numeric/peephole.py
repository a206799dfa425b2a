r"""The peephole memory cell: forward pass and its carousel factor (SPEC S2).

Gers & Schmidhuber (2000); Gers, Schraudolph & Schmidhuber (2002): the gates of a block also
read the cell state, the input and forget gates ``s_c(t-1)``, the output gate ``s_c(t)``::

    net_in(t)  = a_in(t)  + w_in_c  s_c(t-1),    net_phi(t) = a_phi(t) + w_phi_c s_c(t-1)
    s_c(t)     = y^phi(t) s_c(t-1) + y^in(t) g(net_c(t)),     net_c(t) = a_c(t)
    net_out(t) = a_out(t) + w_out_c s_c(t),      y^c(t) = y^out(t) h(s_c(t))

``a_u(t) = sum_m w_um y^m(t-1)`` is truncated (SPEC L2); the peephole paths are kept, so one
carousel step scales error by the state Jacobian (``errorflow derive peephole``)

    J(t) = d s_c(t)/d s_c(t-1) = y^phi(t) + s_c(t-1) f'(net_phi(t)) w_phi_c
                                 + g(net_c(t)) f'(net_in(t)) w_in_c

and q steps by ``prod_{k=0}^{q-1} J(t-k)``. Zero peephole weights give the forget gate's
``y^phi`` (:mod:`errorflow.numeric.forget_gate`, S1). Unlike ``y^phi``, ``J`` can exceed 1 or
be 0 or negative. Cells are independent (one cell per block, S = 1); window convention as in
:mod:`errorflow.numeric.forget_gate`: row ``k`` of a window is step ``t - k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._generated.forget_gate import state_update
from ._generated.peephole import output_slope, peephole_net, state_jacobian
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation

__all__ = [
    "PANEL_SETTINGS",
    "Trajectory",
    "forward",
    "log_scaling_factor",
    "one_step_factor",
    "panel_curve",
    "scaling_factor",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))


def _weight(value: object, name: str, n: int | None = None) -> np.ndarray:
    arr = as_array(value, name, ndim=(0, 1), what="a scalar or one weight per cell (n,)")
    if n is not None and arr.ndim == 1:
        require(arr.shape == (n,), name, f"expected a scalar or shape ({n},), got {arr.shape}")
    return arr


def one_step_factor(
    s_prev: object,
    net_in: object,
    net_phi: object,
    net_c: object,
    *,
    w_in_c: object = 0.0,
    w_phi_c: object = 0.0,
    gate: str = "logistic",
    cell_input: str = "g",
) -> np.ndarray:
    r"""``J = y^phi + s_c(t-1) f'(net_phi) w_phi_c + g(net_c) f'(net_in) w_in_c`` (S2).

    All arrays of one shape (any), entry by entry; ``w_in_c``, ``w_phi_c`` scalars or
    broadcastable (one per cell along the last axis). The net inputs are the peephole ones
    (they already contain ``w s_c(t-1)``). Computed by the generated ``state_jacobian``.
    """
    sp_ = as_array(s_prev, "s_prev", ndim=(0, 1, 2), what="an array of states s_c(t-1)")
    like = f"shape {sp_.shape} like s_prev"
    nin = as_array(net_in, "net_in", ndim=sp_.ndim, shape=sp_.shape, what=like)
    nphi = as_array(net_phi, "net_phi", ndim=sp_.ndim, shape=sp_.shape, what=like)
    nc = as_array(net_c, "net_c", ndim=sp_.ndim, shape=sp_.shape, what=like)
    n = sp_.shape[-1] if sp_.ndim else None
    wi, wp = _weight(w_in_c, "w_in_c", n), _weight(w_phi_c, "w_phi_c", n)
    f, g = get_activation(gate, "gate"), get_activation(cell_input, "cell_input")
    return state_jacobian(f.f(nphi), sp_, f.df(nphi), wp, g.f(nc), f.df(nin), wi)


def _window(value: object, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    what = "(q,) or (q, n), row k = step t - k"
    if shape is None:
        arr = as_array(value, name, ndim=(1, 2), what=what)
        require(arr.shape[0] >= 1, name, "q = 0: expected at least one row (lag q >= 1)")
        return arr
    return as_array(value, name, ndim=len(shape), shape=shape, what=f"{shape} like s_prev")


def log_scaling_factor(
    s_prev: object,
    net_in: object,
    net_phi: object,
    net_c: object,
    *,
    w_in_c: object = 0.0,
    w_phi_c: object = 0.0,
    gate: str = "logistic",
    cell_input: str = "g",
) -> tuple[np.ndarray, np.ndarray]:
    r"""``d s_c(t)/d s_c(t-q) = prod_{k=0}^{q-1} J(t-k)`` as ``(sign, log|.|)`` (SPEC S2).

    Parameters
    ----------
    s_prev, net_in, net_phi, net_c : (q,) or (q, n) arrays
        Row k is step ``t - k``: ``s_prev[k] = s_c(t-k-1)``, the peephole net inputs
        ``net_in(t-k)``, ``net_phi(t-k)`` and ``net_c(t-k)``; finite, q >= 1.
        :meth:`Trajectory.window` cuts them from a forward pass.
    w_in_c, w_phi_c : scalar or (n,)
        The input- and forget-gate peephole weights.

    Returns 0-d arrays for (q,) windows, (n,) arrays for (q, n) ones; ``sign`` in {-1, 0, 1}
    (``J`` can be 0 or negative through the peepholes), ``log|.| = -inf`` where it is 0. The
    log is a pairwise sum of the per-step ``log|J|``: no underflow or overflow at any lag.
    """
    sp_ = _window(s_prev, "s_prev")
    J = one_step_factor(
        sp_,
        _window(net_in, "net_in", sp_.shape),
        _window(net_phi, "net_phi", sp_.shape),
        _window(net_c, "net_c", sp_.shape),
        w_in_c=w_in_c,
        w_phi_c=w_phi_c,
        gate=gate,
        cell_input=cell_input,
    )
    sign = np.prod(np.sign(J), axis=0)
    with np.errstate(divide="ignore"):
        logs = np.log(np.abs(J))
    logabs = np.sum(np.ascontiguousarray(np.moveaxis(logs, 0, -1)), axis=-1)
    logabs = np.where(sign == 0, -np.inf, logabs)
    return np.asarray(sign, dtype=np.float64), np.asarray(logabs, dtype=np.float64)


def scaling_factor(
    s_prev: object,
    net_in: object,
    net_phi: object,
    net_c: object,
    *,
    w_in_c: object = 0.0,
    w_phi_c: object = 0.0,
    gate: str = "logistic",
    cell_input: str = "g",
) -> np.ndarray:
    r"""``prod_{k=0}^{q-1} J(t-k)`` as float64 (SPEC S2); arguments as :func:`log_scaling_factor`.

    Raises :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) when the product
    overflows or underflows float64 instead of returning inf, 0 or a subnormal; use
    :func:`log_scaling_factor` there.
    """
    sign, logabs = log_scaling_factor(
        s_prev,
        net_in,
        net_phi,
        net_c,
        w_in_c=w_in_c,
        w_phi_c=w_phi_c,
        gate=gate,
        cell_input=cell_input,
    )
    live = sign != 0
    bad = live & ((logabs > _LOG_MAX) | (logabs < _LOG_TINY))
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        kind = "overflows" if float(logabs[idx]) > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "s_prev",
            f"factor{list(idx) if idx else ''} = 10^{float(logabs[idx]) / np.log(10.0):.1f} "
            f"{kind} float64 at this lag; use log_scaling_factor, which returns (sign, log|.|)",
        )
    with np.errstate(under="ignore", over="ignore"):
        return np.where(live, sign * np.exp(logabs), 0.0)


@dataclass(frozen=True)
class Trajectory:
    """A forward pass of n independent peephole cells, t = 1..T; every array (T, n).

    ``s[t-1] = s_c(t)``; ``net_*`` the peephole net inputs; ``y_*`` the gate activations;
    ``jacobian[t-1] = J(t) = d s_c(t)/d s_c(t-1)``; ``enter[t-1] = d y^c(t)/d s_c(t)`` (the
    output-gate peephole included); ``s0`` is ``s_c(0)``; ``w`` the peephole weights.
    """

    s: np.ndarray
    net_in: np.ndarray
    net_phi: np.ndarray
    net_c: np.ndarray
    net_out: np.ndarray
    y_in: np.ndarray
    y_phi: np.ndarray
    y_out: np.ndarray
    jacobian: np.ndarray
    enter: np.ndarray
    s0: np.ndarray
    w: dict[str, np.ndarray]

    def window(self, t: int, q: int) -> dict[str, np.ndarray]:
        """The keyword arguments of :func:`log_scaling_factor` for ``d s_c(t)/d s_c(t-q)``."""
        T = self.s.shape[0]
        require(1 <= q <= t <= T, "q", f"expected 1 <= q <= t <= T = {T}, got t = {t}, q = {q}")
        prev = np.vstack([self.s0[None, :], self.s[:-1]])
        rows = slice(t - 1, t - q - 1 if t - q - 1 >= 0 else None, -1)
        return {
            "s_prev": prev[rows],
            "net_in": self.net_in[rows],
            "net_phi": self.net_phi[rows],
            "net_c": self.net_c[rows],
            "w_in_c": self.w["in"],
            "w_phi_c": self.w["phi"],
        }


def forward(
    a_in: object,
    a_phi: object,
    a_c: object,
    a_out: object | None = None,
    *,
    w_in_c: object = 0.0,
    w_phi_c: object = 0.0,
    w_out_c: object = 0.0,
    s0: object | None = None,
    gate: str = "logistic",
    cell_input: str = "g",
    output: str = "h",
) -> Trajectory:
    r"""Run n peephole cells over T steps (S2).

    ``a_in``, ``a_phi``, ``a_c``, ``a_out`` (T, n): the truncated parts of the net inputs,
    ``a_u(t) = sum_m w_um y^m(t-1)`` (``a_out`` defaults to 0); the peepholes add
    ``w_u_c s_c``. Peephole weights: scalars or (n,). ``s0``: ``s_c(0)``, default 0.
    ``gate`` is the gates' squashing function, ``cell_input`` g, ``output`` h.
    """
    ai = as_array(a_in, "a_in", ndim=2, what="(T, n)")
    T, n = ai.shape
    require(T >= 1 and n >= 1, "a_in", f"expected T >= 1 and n >= 1, got shape {ai.shape}")
    like = f"({T}, {n}) like a_in"
    ap = as_array(a_phi, "a_phi", ndim=2, shape=(T, n), what=like)
    ac = as_array(a_c, "a_c", ndim=2, shape=(T, n), what=like)
    ao = np.zeros((T, n)) if a_out is None else as_array(a_out, "a_out", ndim=2, shape=(T, n))
    w = {
        "in": _weight(w_in_c, "w_in_c", n),
        "phi": _weight(w_phi_c, "w_phi_c", n),
        "out": _weight(w_out_c, "w_out_c", n),
    }
    s = np.zeros(n) if s0 is None else as_array(s0, "s0", ndim=1, shape=(n,), what=f"({n},)")
    start = s
    f = get_activation(gate, "gate")
    g = get_activation(cell_input, "cell_input")
    h = get_activation(output, "output")
    out = {k: np.empty((T, n)) for k in ("s", "in", "phi", "out", "yin", "yphi", "yout", "J", "e")}
    g_c = g.f(ac)
    for i in range(T):
        nin, nphi = peephole_net(ai[i], w["in"], s), peephole_net(ap[i], w["phi"], s)
        yin, yphi = f.f(nin), f.f(nphi)
        out["J"][i] = state_jacobian(yphi, s, f.df(nphi), w["phi"], g_c[i], f.df(nin), w["in"])
        s = state_update(yphi, s, yin, g_c[i])
        nout = peephole_net(ao[i], w["out"], s)
        yout = f.f(nout)
        out["e"][i] = output_slope(yout, h.df(s), f.df(nout), w["out"], h.f(s))
        for key, val in (("s", s), ("in", nin), ("phi", nphi), ("out", nout)):
            out[key][i] = val
        out["yin"][i], out["yphi"][i], out["yout"][i] = yin, yphi, yout
    if not np.all(np.isfinite(out["s"])):
        raise Float64RangeError("a_in", "the forward pass overflowed float64")
    return Trajectory(
        out["s"],
        out["in"],
        out["phi"],
        ac,
        out["out"],
        out["yin"],
        out["yphi"],
        out["yout"],
        out["J"],
        out["e"],
        start,
        w,
    )


#: The documented settings of :func:`panel_curve`.
PANEL_SETTINGS = {
    "typical": (
        "a_phi = 2 + N(0,1), a_in = -1 + N(0,1), a_c = N(0,1), peepholes w_in_c = w_phi_c = 0.5"
    ),
    "chaotic": (
        "constant a_phi = 12, a_in = 4, a_c = 2, forget peephole w_phi_c = -3: the state map "
        "is chaotic and the carousel factor grows (positive Lyapunov exponent)"
    ),
}


def _panel_inputs(setting: str, q_max: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    if setting == "typical":
        noise = rng.standard_normal((3, q_max, 1))
        return {
            "a_in": -1.0 + noise[0],
            "a_phi": 2.0 + noise[1],
            "a_c": noise[2],
            "w_in_c": 0.5,
            "w_phi_c": 0.5,
        }
    ones = np.ones((q_max, 1))
    return {"a_in": 4.0 * ones, "a_phi": 12.0 * ones, "a_c": 2.0 * ones, "w_phi_c": -3.0}


def panel_curve(
    q_max: int = 10_000, seed: int = 19970, setting: str = "typical"
) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10 |d s_c(q)/d s_c(0)|, label)`` for the report's error-flow panel (S2).

    ``setting`` (:data:`PANEL_SETTINGS`): ``"typical"``, a forget bias +2, an input bias -1 and
    unit input noise drawn from ``seed``, with moderate peepholes (0.5): the factor decays
    close to S1's rate; ``"chaotic"``: constant inputs under which the peephole state map is
    chaotic and the factor explodes. Lags: about 200 log-spaced integers from 1 to ``q_max``;
    the factor at lag q is the product of the first q one-step Jacobians of one forward pass
    from ``s_c(0) = 0`` (exactly :func:`log_scaling_factor` of ``window(q, q)``).
    """
    require(
        isinstance(q_max, (int, np.integer)) and q_max >= 1,
        "q_max",
        f"expected an integer >= 1, got {q_max!r}",
    )
    require(setting in PANEL_SETTINGS, "setting", f"expected one of {sorted(PANEL_SETTINGS)}")
    traj = forward(**_panel_inputs(setting, int(q_max), seed))
    with np.errstate(divide="ignore"):
        logs = np.cumsum(np.log(np.abs(traj.jacobian[:, 0])))
    qs = np.unique(np.round(np.logspace(0.0, np.log10(q_max), 200)).astype(np.int64))
    label = "peepholes (w = 0.5)" if setting == "typical" else "peepholes (chaotic)"
    return qs, logs[qs - 1] / np.log(10.0), label
