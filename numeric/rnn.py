r"""Conventional fully recurrent networks: forward pass, BPTT and the scaling factor (SPEC B1-B10).

Conventions (the paper's, SPEC section 0): ``W[i, j] = w_ij`` is the weight *from unit j to
unit i*; the net input is ``net(t) = W y(t-1) + U x(t)`` (``U`` defaults to the identity, so
``x(t)`` is added to the net inputs directly); ``y(t) = f(net(t))``; ``y(0) = y0`` (default 0).
Arrays are indexed by ``t - 1``: ``nets[t-1] = net(t)``.

* :func:`scaling_factor` and :func:`log_scaling_factor`: Hochreiter's
  ``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)`` (eq. 1, B3) from a window of net inputs;
  the log form returns ``(sign, log|S|)`` like ``numpy.linalg.slogdet`` and stays exact for
  lags of millions of steps (B10).
* :func:`forward`, :func:`error_signals` and :func:`bptt_gradient`: the network, its
  back-propagated error signals ``vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1))`` (B1, B2)
  and the gradient of ``E = 1/2 sum (d - y)^2``.

The step computations are the generated kernels of ``numeric/_generated/bptt.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._generated.bptt import error_step, net_step
from ._validate import Float64RangeError, InvalidArgumentError, as_array, require
from .activations import ACTIVATIONS, get_activation
from .backends import resolve as resolve_backend
from .logspace import LN2, scaled_matrix_chain

__all__ = [
    "ACTIVATIONS",
    "AUTO_NUMBA_MAX_UNITS",
    "Trajectory",
    "bptt_gradient",
    "error_signals",
    "forward",
    "log_scaling_factor",
    "scaling_factor",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))
_MAX_NET = 1e300


def _weights(W: object) -> np.ndarray:
    arr = as_array(W, "W", ndim=2, what="(n, n) square matrix")
    require(
        arr.shape[0] == arr.shape[1] and arr.shape[0] > 0,
        "W",
        f"expected a non-empty square (n, n) matrix, got shape {arr.shape}",
    )
    return arr


def _lag_window(W: object, nets: object) -> tuple[np.ndarray, np.ndarray]:
    Wa = _weights(W)
    n = Wa.shape[0]
    arr = as_array(
        nets,
        "nets",
        ndim=2,
        shape=(None, n),
        what=f"(q, {n}) to match W of shape {Wa.shape}, with nets[m-1] = net(t-m)",
    )
    require(arr.shape[0] >= 1, "nets", "q = 0: expected at least one row (lag q >= 1)")
    biggest = float(np.max(np.abs(arr)))
    require(
        biggest <= _MAX_NET,
        "nets",
        f"expected |net| <= 1e300 (the log-slope of tanh, -2|net|, must stay finite), "
        f"got {biggest:.3g}",
    )
    return Wa, arr


#: Above this many units ``backend="auto"`` keeps NumPy for the scaling-factor chain: each lag
#: is then an (n, n) x (n, n) product, which BLAS does faster than the compiled loops
#: (benchmarks/run.py: at n = 256 NumPy is about 3x faster; at n = 32 numba about 2x).
AUTO_NUMBA_MAX_UNITS = 64


def _chain(W: object, nets: object, activation: object, backend: object):
    Wa, arr = _lag_window(W, nets)
    act = get_activation(activation)
    chosen = resolve_backend(backend)
    if backend == "auto" and Wa.shape[0] > AUTO_NUMBA_MAX_UNITS:
        chosen = "numpy"
    slopes = act.df(arr)
    return scaled_matrix_chain(
        Wa, np.broadcast_to(slopes, arr.shape), act.log_df(arr), backend=chosen
    )


def log_scaling_factor(
    W: object, nets: object, activation: str = "logistic", *, backend: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    r"""Hochreiter's scaling factor as sign and log-magnitude (SPEC B3, B10).

    Returns ``(sign, logabs)``, two ``(n, n)`` arrays with
    ``S[v, u] = sign[v, u] * exp(logabs[v, u]) = d vartheta_v(t-q) / d vartheta_u(t)``
    (eq. 1), the matrix product ``S(q) = F'(t-q) W^T ... F'(t-1) W^T``. ``sign`` is -1, 0 or 1;
    an entry that is exactly 0 has ``logabs = -inf``, like ``numpy.linalg.slogdet``.

    Parameters
    ----------
    W : (n, n) array
        ``W[i, j] = w_ij``, the weight from unit j to unit i; finite.
    nets : (q, n) array
        ``nets[m-1] = net(t-m)`` for m = 1..q, finite; q >= 1.
    activation : str
        ``"logistic"``, ``"tanh"``, ``"h"``, ``"g"`` or ``"identity"``.

    Correct for q up to millions of steps with no underflow or overflow: each column is a
    float64 mantissa times a power of two (exact rescaling), the slopes come from their logs
    where they are below float64's range, and where one column would span more than float64's
    range every entry carries its own exponent (same float64 rounding). Only for ``|net|``
    beyond about 4.5e15, where even the exponents leave the integers, a signed log-sum-exp
    recursion is used (its relative error grows like ``q |log S| eps``). ``|nets| <= 1e300``.

    ``backend``: ``"numba"`` runs the column-scaled chain compiled (the generated loop kernel
    ``scaling_step_into`` and ``column_chain``), ``"numpy"`` one NumPy step per lag;
    ``"auto"`` picks numba when it is installed and ``n <= AUTO_NUMBA_MAX_UNITS``
    (:mod:`errorflow.numeric.backends`).
    """
    scaled, _ = _chain(W, nets, activation, backend)
    return scaled.sign, scaled.log_abs


def scaling_factor(
    W: object, nets: object, activation: str = "logistic", *, backend: str = "auto"
) -> np.ndarray:
    r"""Hochreiter's scaling factor ``S`` (SPEC B3, eq. 1) as a float64 ``(n, n)`` matrix.

    ``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)``; at q = 1,
    ``S[v, u] = f'_v(net_v(t-1)) w_uv``. ``W[i, j] = w_ij`` (from unit j to unit i);
    ``nets`` has shape (q, n) with ``nets[m-1] = net(t-m)``.

    Raises :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) when an entry is
    too large or too small for a normal float64 (for logistic units ``0.25^q`` underflows near
    q = 512) rather than returning inf or a silent 0: use :func:`log_scaling_factor` there.
    ``backend`` as in :func:`log_scaling_factor`.
    """
    scaled, exact = _chain(W, nets, activation, backend)
    if exact is not None:
        M, e = exact
        _, k = np.frexp(M)
        top = (k + e[None, :]).astype(np.float64)
        # |S| = |M| 2^e lies in [2^(top-1), 2^top).
        low = np.where(M != 0, (top - 1) * LN2, 0.0)
        high = np.where(M != 0, top * LN2, 0.0)
    else:
        low = high = np.where(scaled.sign != 0, scaled.log_abs, 0.0)
    if np.any(high > _LOG_MAX) or np.any(low < _LOG_TINY):
        bad = np.argwhere((high > _LOG_MAX) | (low < _LOG_TINY))[0]
        v, u = (int(i) for i in bad)
        exponent = scaled.log_abs[v, u] / np.log(10.0)
        kind = "overflows" if high[v, u] > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "nets",
            f"S[{v}, {u}] = {'-' if scaled.sign[v, u] < 0 else ''}10^{exponent:.1f} {kind} "
            "float64 at this lag; use log_scaling_factor, which returns (sign, log|S|)",
        )
    if exact is not None:
        M, e = exact
        return np.ldexp(M, e[None, :])
    return scaled.sign * np.exp(scaled.log_abs)


@dataclass(frozen=True)
class Trajectory:
    """A forward pass: ``nets[t-1] = net(t)`` and ``ys[t-1] = y(t)``, both (T, n); ``y0`` is
    ``y(0)`` and ``xs`` the (validated, float64) external inputs."""

    nets: np.ndarray
    ys: np.ndarray
    y0: np.ndarray
    xs: np.ndarray

    def lag_window(self, t: int, q: int) -> np.ndarray:
        """``nets`` in :func:`scaling_factor`'s order: row m-1 is net(t-m), m = 1..q."""
        T = self.nets.shape[0]
        require(1 <= q < t <= T, "q", f"expected 1 <= q < t <= T = {T}, got t = {t}, q = {q}")
        return self.nets[t - q - 1 : t - 1][::-1]


def _inputs(W: np.ndarray, xs: object, U: object | None) -> tuple[np.ndarray, np.ndarray | None]:
    n = W.shape[0]
    if U is None:
        xa = as_array(xs, "xs", ndim=2, what=f"(T, {n}) (x(t) is added to net(t))")
        require(xa.shape[1] == n, "xs", f"expected shape (T, {n}) when U is None, got {xa.shape}")
        Ua = None
    else:
        Ua = as_array(U, "U", ndim=2, what=f"({n}, m)")
        require(Ua.shape[0] == n, "U", f"expected shape ({n}, m), got {Ua.shape}")
        m = Ua.shape[1]
        xa = as_array(xs, "xs", ndim=2, what=f"(T, {m})")
        require(xa.shape[1] == m, "xs", f"expected shape (T, {m}) to match U, got {xa.shape}")
    require(xa.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    return xa, Ua


def forward(
    W: object,
    xs: object,
    activation: str = "logistic",
    *,
    U: object | None = None,
    y0: object | None = None,
) -> Trajectory:
    """Run the net: ``net(t) = W y(t-1) + U x(t)``, ``y(t) = f(net(t))``, t = 1..T.

    ``xs`` is (T, n) when ``U`` is None (added to the net inputs), else (T, m) with ``U``
    (n, m). ``y0`` (n,) is ``y(0)``, default zeros.
    """
    Wa = _weights(W)
    n = Wa.shape[0]
    act = get_activation(activation)
    xa, Ua = _inputs(Wa, xs, U)
    y = np.zeros(n) if y0 is None else as_array(y0, "y0", ndim=1, shape=(n,), what=f"({n},)")
    drive = xa if Ua is None else xa @ Ua.T
    T = xa.shape[0]
    nets = np.empty((T, n))
    ys = np.empty((T, n))
    start = y
    for s in range(T):
        nets[s] = net_step(Wa, y, drive[s])
        y = act.f(nets[s])
        ys[s] = y
    if not (np.all(np.isfinite(nets)) and np.all(np.isfinite(ys))):
        raise Float64RangeError("W", "the forward pass overflowed float64 (net inputs too large)")
    return Trajectory(nets, ys, start, xa)


def _targets_mask(
    T: int, n: int, targets: object, mask: object | None
) -> tuple[np.ndarray, np.ndarray]:
    d = as_array(targets, "targets", ndim=2, shape=(T, n), what=f"({T}, {n}) (one row per step)")
    if mask is None:
        return d, np.ones((T, n), dtype=bool)
    raw = np.asarray(mask)
    require(raw.dtype == bool, "mask", f"expected a bool array, got dtype {raw.dtype}")
    try:
        mk = np.broadcast_to(raw, (T, n))
    except ValueError:
        raise InvalidArgumentError(
            "mask", f"expected a shape broadcastable to ({T}, {n}), e.g. ({n},), got {raw.shape}"
        ) from None
    return d, mk


def error_signals(
    W: object,
    xs: object,
    targets: object,
    activation: str = "logistic",
    *,
    U: object | None = None,
    y0: object | None = None,
    mask: object | None = None,
) -> tuple[Trajectory, np.ndarray]:
    r"""The forward pass and BPTT's error signals ``vartheta`` (T, n) (SPEC B1, B2).

    ``vartheta(T) = F'(T) e(T)`` and ``vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1))`` with
    ``e(t) = mask * (d(t) - y(t))``; at an output unit with no later error this is B1's
    ``f'_k (d_k - y^k)``. ``vartheta_j(t) = -dE/dnet_j(t)`` for
    ``E = 1/2 sum_t sum_k mask (d_k(t) - y^k(t))^2``. ``mask`` (bool, (T, n) or (n,)) selects
    the output units (default: every unit at every step).
    """
    traj, theta, _ = _backprop(_weights(W), xs, targets, activation, U, y0, mask)
    return traj, theta


def _backprop(
    W: np.ndarray, xs, targets, activation, U, y0, mask
) -> tuple[Trajectory, np.ndarray, np.ndarray]:
    """Forward pass, the injected errors ``e(t)`` and the error signals (B2 recursion)."""
    traj = forward(W, xs, activation, U=U, y0=y0)
    T, n = traj.nets.shape
    d, mk = _targets_mask(T, n, targets, mask)
    slopes = np.broadcast_to(get_activation(activation).df(traj.nets), (T, n))
    injected = np.where(mk, d - traj.ys, 0.0)
    theta = np.empty((T, n))
    nxt = np.zeros(n)
    for s in reversed(range(T)):
        nxt = error_step(slopes[s], injected[s], W, nxt)
        theta[s] = nxt
    return traj, theta, injected


def bptt_gradient(
    W: object,
    xs: object,
    targets: object,
    activation: str = "logistic",
    *,
    U: object | None = None,
    y0: object | None = None,
    mask: object | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    r"""``(E, grads)``: the loss and its exact gradient by back-propagation through time.

    ``E = 1/2 sum_t sum_k mask[t, k] (targets[t, k] - y^k(t))^2``; ``grads["W"]`` is
    ``dE/dW = -sum_t vartheta(t) y(t-1)^T`` (a weight ``w_jl`` gets ``vartheta_j(t) y^l(t-1)``
    per step, B2), ``grads["U"] = -sum_t vartheta(t) x(t)^T`` when ``U`` is given and
    ``grads["y0"] = -W^T vartheta(1)``. Arguments as in :func:`error_signals`.
    """
    Wa = _weights(W)
    traj, theta, injected = _backprop(Wa, xs, targets, activation, U, y0, mask)
    E = 0.5 * float(np.sum(injected**2))
    y_prev = np.vstack([traj.y0[None, :], traj.ys[:-1]])
    grads = {"W": -(theta.T @ y_prev), "y0": -(Wa.T @ theta[0])}
    if U is not None:
        grads["U"] = -(theta.T @ traj.xs)
    return E, grads
