r"""The gated recurrent unit: forward pass, step Jacobians and the q-step error flow (SPEC S3).

Convention (Chung et al. 2014; Cho et al. 2014 and PyTorch swap ``z`` and ``1 - z``)::

    z(t) = sigma(W_z x(t) + U_z h(t-1) + b_z)        r(t) = sigma(W_r x(t) + U_r h(t-1) + b_r)
    htilde(t) = tanh(W_h x(t) + U_h (r(t) * h(t-1)) + b_h)
    h(t) = (1 - z(t)) * h(t-1) + z(t) * htilde(t)

``U_*[i, j]`` is the weight from unit j to unit i (the paper's ``w_ij``); ``U_*`` are (n, n),
``W_*`` (n, m), ``b_*`` (n,). Arrays are indexed by ``t - 1``: ``traj.h[t-1] = h(t)``.

* :func:`forward`, :func:`jacobians`: the trajectory and ``J(t) = dh(t)/dh(t-1)``
  (``diag(1 - z) + diag((htilde - h) z (1 - z)) U_z + diag(z (1 - htilde^2)) U_h (diag(r) +
  diag(h r (1 - r)) U_r)``, S3).
* :func:`scaling_factor`, :func:`log_scaling_factor`: the error-flow matrix over the last q
  steps, laid out like :func:`errorflow.numeric.rnn.scaling_factor`:
  ``S[v, u] = d delta_v(T-q) / d delta_u(T)`` with ``delta = dE/dh``, i.e.
  ``S = (dh(T)/dh(T-q))^T = J(T-q+1)^T ... J(T)^T``. The log form returns ``(sign, log|S|)``.
* :func:`kappa`, :func:`log_decay_bound`: the derived bound
  ``||dh(t)/dh(t-q)||_inf <= prod_m max_i (1 - z_i + z_i kappa)``.
* :func:`panel_curve`: one representative curve for the report's figure (a).

The step computations are the generated kernels of ``numeric/_generated/gru.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from ._generated.gru import (
    blend,
    candidate_input,
    chain_step,
    gate_input,
    jacobian_coefficients,
    step_jacobian,
)
from ._validate import Float64RangeError, InvalidArgumentError, as_array, require
from .activations import ACTIVATIONS
from .logspace import LN2, ScaledMatrix

__all__ = [
    "Params",
    "Trajectory",
    "forward",
    "init_params",
    "jacobians",
    "kappa",
    "log_chain",
    "log_decay_bound",
    "log_scaling_factor",
    "panel_curve",
    "scaling_factor",
]

_SIGMA = ACTIVATIONS["logistic"].f
_TANH = ACTIVATIONS["tanh"].f
_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
#: A nonzero entry below this fraction of its column's largest leaves the column-scaled route.
_TINY = 2.0**-960
_ZERO_EXP = -(2**40)


@dataclass(frozen=True)
class Params:
    """GRU weights: ``U_*`` (n, n), ``W_*`` (n, m), ``b_*`` (n,), float64, finite."""

    W_z: np.ndarray
    U_z: np.ndarray
    b_z: np.ndarray
    W_r: np.ndarray
    U_r: np.ndarray
    b_r: np.ndarray
    W_h: np.ndarray
    U_h: np.ndarray
    b_h: np.ndarray

    @property
    def n(self) -> int:
        return int(self.U_z.shape[0])

    @property
    def m(self) -> int:
        return int(self.W_z.shape[1])


_KEYS = tuple(f.name for f in fields(Params))


def _params(params: object) -> Params:
    if isinstance(params, Params):
        return params
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(
            "params", f"expected a gru.Params or a mapping with keys {', '.join(_KEYS)}"
        )
    missing = [k for k in _KEYS if k not in params]
    extra = [k for k in params if k not in _KEYS]
    require(not missing and not extra, "params", f"missing {missing}, unknown {extra}")
    U = as_array(params["U_z"], "params['U_z']", ndim=2, what="(n, n)")
    n = U.shape[0]
    require(U.shape == (n, n) and n > 0, "params['U_z']", f"expected (n, n), got {U.shape}")
    Wz = as_array(params["W_z"], "params['W_z']", ndim=2, shape=(n, None), what=f"({n}, m)")
    m = Wz.shape[1]
    out = {}
    for key in _KEYS:
        shape = {"W": (n, m), "U": (n, n), "b": (n,)}[key[0]]
        out[key] = as_array(
            params[key], f"params[{key!r}]", ndim=len(shape), shape=shape, what=str(shape)
        )
    return Params(**out)


def init_params(
    rng: np.random.Generator, n: int, m: int = 1, scale: float = 1.0, b_z: float = 0.0
) -> Params:
    """Random weights: entries ``N(0, (scale/sqrt(n))^2)`` (inputs ``scale/sqrt(m)``), biases
    0 except the update gate's ``b_z`` (negative: gate mostly closed, long memory)."""
    require(int(n) >= 1 and int(m) >= 1, "n", f"expected n, m >= 1, got {n}, {m}")
    s_u, s_w = scale / np.sqrt(n), scale / np.sqrt(m)
    arrays = {}
    for g in ("z", "r", "h"):
        arrays[f"W_{g}"] = rng.normal(0.0, s_w, (n, m))
        arrays[f"U_{g}"] = rng.normal(0.0, s_u, (n, n))
        arrays[f"b_{g}"] = np.full(n, float(b_z) if g == "z" else 0.0)
    return Params(**arrays)


@dataclass(frozen=True)
class Trajectory:
    """A forward pass: ``z, r, htilde, h`` (T, n) with row t-1 at step t; ``h0 = h(0)``."""

    z: np.ndarray
    r: np.ndarray
    htilde: np.ndarray
    h: np.ndarray
    h0: np.ndarray

    def h_prev(self) -> np.ndarray:
        """``h(t-1)`` for t = 1..T, (T, n)."""
        return np.vstack([self.h0[None, :], self.h[:-1]])


def forward(params: object, xs: object, h0: object | None = None) -> Trajectory:
    """Run the GRU over ``xs`` (T, m) from ``h0`` (n,) (default 0), with the generated kernels."""
    p = _params(params)
    xa = as_array(xs, "xs", ndim=2, shape=(None, p.m), what=f"(T, {p.m})")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    h = np.zeros(p.n) if h0 is None else as_array(h0, "h0", ndim=1, shape=(p.n,), what=f"({p.n},)")
    start = h
    T = xa.shape[0]
    out = {k: np.empty((T, p.n)) for k in ("z", "r", "htilde", "h")}
    for s in range(T):
        z = _SIGMA(gate_input(p.W_z, xa[s], p.U_z, h, p.b_z))
        r = _SIGMA(gate_input(p.W_r, xa[s], p.U_r, h, p.b_r))
        ht = _TANH(candidate_input(p.W_h, xa[s], p.U_h, r, h, p.b_h))
        h = blend(z, ht, h)
        out["z"][s], out["r"][s], out["htilde"][s], out["h"][s] = z, r, ht, h
    if not np.all(np.isfinite(out["h"])):
        raise Float64RangeError("params", "the forward pass left float64 (state not finite)")
    return Trajectory(out["z"], out["r"], out["htilde"], out["h"], start)


def jacobians(params: object, traj: Trajectory) -> np.ndarray:
    """``J[t-1] = dh(t)/dh(t-1)`` for t = 1..T, shape (T, n, n) (generated ``step_jacobian``)."""
    p = _params(params)
    c, g_z, g_h, g_r = jacobian_coefficients(traj.z, traj.r, traj.htilde, traj.h_prev())
    T = traj.h.shape[0]
    J = np.empty((T, p.n, p.n))
    for s in range(T):
        J[s] = step_jacobian(c[s], g_z[s], p.U_z, g_h[s], p.U_h, traj.r[s], g_r[s], p.U_r)
    return J


def _entrywise(Js: Sequence[np.ndarray], M: np.ndarray, E: np.ndarray, record, start: int):
    """Continue the chain with every entry as its own mantissa and exponent (no underflow)."""
    with np.errstate(under="ignore"):
        for i in range(start, len(Js)):
            J = Js[i]
            valid = (J != 0)[:, :, None] & (M != 0)[:, None, :]  # [l, v, u]
            exps = np.where(valid, E[:, None, :], _ZERO_EXP)
            top = exps.max(axis=0)
            shift = np.clip(exps - top[None], -1100, 0)
            terms = np.where(valid, J[:, :, None] * np.ldexp(M[:, None, :], shift), 0.0)
            M, e = np.frexp(terms.sum(axis=0))
            E = np.where(M != 0, top + e, _ZERO_EXP)
            record(i + 1, M, E)
    return M, E


def log_chain(Js: Sequence[np.ndarray], lags: Sequence[int] | None = None) -> list[ScaledMatrix]:
    r"""``S(q) = J_q^T \cdots J_1^T`` as ``(sign, log|S|)`` at each lag in ``lags`` (default:
    only ``q = len(Js)``), where ``Js[m-1]`` is the m-th Jacobian going back in time
    (``J(T), J(T-1), ...``). One pass over ``Js`` with the generated ``chain_step``; every
    column of ``S`` is a mantissa times an exact power of two, and where one column would
    span more than float64's range every entry carries its own exponent (as in
    :func:`errorflow.numeric.logspace.scaled_matrix_chain`), so nothing underflows."""
    q = len(Js)
    want = {q} if lags is None else {int(k) for k in lags}
    n = Js[0].shape[0] if q else 0
    out: dict[int, ScaledMatrix] = {}

    def record_cols(k: int, M: np.ndarray, e: np.ndarray) -> None:
        if k in want:
            with np.errstate(divide="ignore"):
                out[k] = ScaledMatrix(np.sign(M), np.log(np.abs(M)) + (e * LN2)[None, :])

    def record_entries(k: int, M: np.ndarray, E: np.ndarray) -> None:
        if k in want:
            with np.errstate(divide="ignore"):
                out[k] = ScaledMatrix(
                    np.sign(M), np.where(M != 0, np.log(np.abs(M)) + E * LN2, -np.inf)
                )

    M, e = np.eye(n), np.zeros(n, dtype=np.int64)
    with np.errstate(under="ignore"):
        for i, J in enumerate(Js):
            new = chain_step(J, M)
            mag = np.abs(new)
            _, k = np.frexp(mag.max(axis=0))
            lost = (mag != 0) & (mag < np.ldexp(_TINY, k))
            lost |= (mag == 0) & ((np.abs(J).T @ np.abs(M)) > 0)
            if lost.any():
                mant, ex = np.frexp(M)
                E = np.where(M != 0, ex + e[None, :], _ZERO_EXP)
                _entrywise(Js, mant, E, record_entries, i)
                break
            M = np.ldexp(new, -k)
            e = e + k
            record_cols(i + 1, M, e)
    return [out[k] for k in sorted(want)]


def _window(params: object, xs: object, q: int | None, h0: object | None):
    p = _params(params)
    traj = forward(p, xs, h0)
    T = traj.h.shape[0]
    lag = T if q is None else q
    require(
        isinstance(lag, (int, np.integer)) and 1 <= lag <= T,
        "q",
        f"expected an integer 1 <= q <= T = {T}, got {q!r}",
    )
    J = jacobians(p, traj)
    return J[T - int(lag) :][::-1]


def log_scaling_factor(
    params: object, xs: object, q: int | None = None, *, h0: object | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""The GRU's error flow over the last ``q`` steps as sign and log-magnitude (S3).

    Runs the GRU over ``xs`` (T, m) from ``h0`` and returns ``(sign, logabs)``, (n, n) each,
    of ``S = J(T-q+1)^T \cdots J(T)^T = (dh(T)/dh(T-q))^T``, so that
    ``S[v, u] = d delta_v(T-q) / d delta_u(T)`` for ``delta = dE/dh`` (the layout of
    :func:`errorflow.numeric.rnn.log_scaling_factor`). ``q`` defaults to T (back to ``h(0)``).
    An exact zero has ``logabs = -inf``. Correct for q in the millions (no underflow).
    """
    (res,) = log_chain(list(_window(params, xs, q, h0)))
    return res.sign, res.log_abs


def scaling_factor(
    params: object, xs: object, q: int | None = None, *, h0: object | None = None
) -> np.ndarray:
    """``S = (dh(T)/dh(T-q))^T`` as float64 (S3); arguments as :func:`log_scaling_factor`.

    Raises :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) when an entry is
    outside the normal float64 range: use :func:`log_scaling_factor` there.
    """
    sign, log_abs = log_scaling_factor(params, xs, q, h0=h0)
    finite = sign != 0
    if np.any(log_abs[finite] > _LOG_MAX) or np.any(log_abs[finite] < _LOG_TINY):
        v, u = (
            int(i) for i in np.argwhere(finite & ((log_abs > _LOG_MAX) | (log_abs < _LOG_TINY)))[0]
        )
        kind = "overflows" if log_abs[v, u] > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "q",
            f"S[{v}, {u}] = 10^{log_abs[v, u] / np.log(10.0):.1f} {kind} float64 at this lag; "
            "use log_scaling_factor, which returns (sign, log|S|)",
        )
    return np.where(finite, sign * np.exp(np.where(finite, log_abs, 0.0)), 0.0)


def kappa(params: object) -> float:
    r"""``kappa = 2 ||U_z||_inf + ||U_h||_inf (1 + ||U_r||_inf / 4)`` (max-row-sum norms, S3).

    Row i of ``J(t)`` sums to at most ``1 - z_i + z_i kappa`` when ``|h(t-1)| <= 1``."""
    p = _params(params)
    norm = lambda A: float(np.max(np.sum(np.abs(A), axis=1)))  # noqa: E731
    return 2.0 * norm(p.U_z) + norm(p.U_h) * (1.0 + norm(p.U_r) / 4.0)


def log_decay_bound(params: object, traj: Trajectory, q: int) -> float:
    r"""``log prod_{m<q} max_i (1 - z_i(T-m) + z_i(T-m) kappa)``: the derived bound on
    ``log ||dh(T)/dh(T-q)||_inf`` (S3; valid when ``|h(0)| <= 1``). For ``kappa <= 1`` each
    factor is ``1 - z_min (1 - kappa)``: below 1 whenever the update gate is open at all."""
    T = traj.h.shape[0]
    require(isinstance(q, (int, np.integer)) and 1 <= q <= T, "q", f"expected 1 <= q <= {T}")
    z = traj.z[T - int(q) :]
    rates = np.max(1.0 - z * (1.0 - kappa(params)), axis=1)
    return float(np.sum(np.log(rates)))


#: The representative setting of :func:`panel_curve`.
PANEL = {"n": 4, "m": 1, "scale": 1.0, "b_z": -2.0}


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(lags, log10 max_{v,u} |S(q)|, label)`` for figure (a) (S3).

    Setting (:data:`PANEL`): n = 4 GRU units, one input uniform in [-1, 1], weights
    ``N(0, 1/n)`` (inputs ``N(0, 1)``), update-gate bias ``b_z = -2`` (z about 0.12: the gate
    mostly closed, a common long-memory initialisation), other biases 0, ``h(0) = 0``;
    ``S(q) = (dh(T)/dh(T-q))^T`` at T = q_max, about 120 log-spaced lags from 1 to ``q_max``.
    """
    require(isinstance(q_max, (int, np.integer)) and q_max >= 1, "q_max", "expected >= 1")
    rng = np.random.default_rng([seed, 3])
    p = init_params(rng, PANEL["n"], PANEL["m"], PANEL["scale"], PANEL["b_z"])
    xs = rng.uniform(-1.0, 1.0, (int(q_max), PANEL["m"]))
    traj = forward(p, xs)
    J = jacobians(p, traj)[::-1]
    lags = np.unique(np.rint(np.logspace(0.0, np.log10(q_max), 120)).astype(np.int64))
    res = log_chain(list(J), lags)
    values = np.array([float(np.max(r.log_abs)) for r in res]) / np.log(10.0)
    return lags, values, r"GRU, $n=4$, $b_z=-2$ (S3)"
