r"""The spectral-norm bound of Pascanu, Mikolov & Bengio (2013) and the measured flow (SPEC S4).

The net is ``x_t = W sigma(x_{t-1}) + input``: ``x_t`` is the paper's net input ``net(t)``
(:func:`errorflow.numeric.rnn.forward`'s ``nets``), ``W[i, j] = w_ij`` from unit j to unit i.
Its step Jacobian is ``dx_t/dx_{t-1} = W diag(sigma'(x_{t-1}))`` (their eq. 5 prints ``W^T``:
an erratum that leaves the norms unchanged), and the product over q steps is Hochreiter's
scaling factor transposed, ``dx_t/dx_{t-q} = S(q)^T`` (B3), so
``||dx_t/dx_{t-q}||_2 = ||S(q)||_2``.

* :func:`spectral_bound`, :func:`log_spectral_bound`: ``(gamma sigma_max(W))^q`` with
  ``gamma = sup sigma'`` (1/4 logistic, 1 tanh);
* :func:`step_jacobian`, :func:`step_bound`: one step and ``sigma_max(W) max_i sigma'_i``;
* :func:`log_flow_norm`: the measured ``log ||dx_t/dx_{t-q}||_2`` from
  :func:`errorflow.numeric.rnn.log_scaling_factor` (no underflow at long lags);
* :func:`sigma_max`, :func:`spectral_radius`, :func:`power_iteration_rate`;
* :func:`panel_curve`, :func:`panel_bound`: figure (a)'s measured flow and its bound.
"""

from __future__ import annotations

import numpy as np

from . import rnn
from ._generated.spectral import log_bound, step_bound
from ._generated.spectral import step_jacobian as _step_jacobian
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation
from .logspace import log_matmul

__all__ = [
    "log_flow_norm",
    "log_spectral_bound",
    "panel_bound",
    "panel_curve",
    "power_iteration_rate",
    "sigma_max",
    "spectral_bound",
    "spectral_radius",
    "step_bound_of",
    "step_jacobian",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))


def _square(W: object) -> np.ndarray:
    arr = as_array(W, "W", ndim=2, what="(n, n) square matrix")
    require(
        arr.shape[0] == arr.shape[1] and arr.shape[0] > 0,
        "W",
        f"expected a non-empty square (n, n) matrix, got shape {arr.shape}",
    )
    return arr


def _lag(q: object) -> int:
    require(
        isinstance(q, (int, np.integer)) and not isinstance(q, bool) and q >= 1,
        "q",
        f"expected an integer lag q >= 1, got {q!r}",
    )
    return int(q)


def sigma_max(W: object) -> float:
    """``sigma_max(W) = ||W||_2``, the largest singular value."""
    return float(np.linalg.norm(_square(W), 2))


def spectral_radius(W: object) -> float:
    """``rho(W) = max |lambda_i(W)|``."""
    return float(np.max(np.abs(np.linalg.eigvals(_square(W)))))


def log_spectral_bound(W: object, q: int, activation: str = "tanh") -> float:
    r"""``log (gamma sigma_max(W))^q`` (S4), the log of the bound on
    ``||dx_t/dx_{t-q}||_2``; ``gamma = sup f'`` of ``activation``. ``-inf`` for ``W = 0``."""
    Wa, k = _square(W), _lag(q)
    gamma = get_activation(activation).sup_slope
    with np.errstate(divide="ignore"):
        return float(log_bound(np.float64(gamma), np.float64(sigma_max(Wa)), np.float64(k)))


def spectral_bound(W: object, q: int, activation: str = "tanh") -> float:
    """``(gamma sigma_max(W))^q`` as a float (S4); raises
    :class:`~errorflow.numeric.Float64RangeError` outside float64's normal range (use
    :func:`log_spectral_bound`)."""
    value = log_spectral_bound(W, q, activation)
    if value == -np.inf:
        return 0.0
    if value > _LOG_MAX or value < _LOG_TINY:
        kind = "overflows" if value > _LOG_MAX else "underflows"
        raise Float64RangeError(
            "q", f"the bound 10^{value / np.log(10.0):.1f} {kind} float64; use log_spectral_bound"
        )
    return float(np.exp(value))


def step_jacobian(W: object, x_prev: object, activation: str = "tanh") -> np.ndarray:
    """``dx_t/dx_{t-1} = W diag(f'(x_{t-1}))`` (S4, the corrected eq. 5)."""
    Wa = _square(W)
    n = Wa.shape[0]
    xa = as_array(x_prev, "x_prev", ndim=1, shape=(n,), what=f"({n},)")
    fp = np.broadcast_to(get_activation(activation).df(xa), (n,))
    return _step_jacobian(np.ascontiguousarray(fp), Wa)


def step_bound_of(W: object, x_prev: object, activation: str = "tanh") -> float:
    """``sigma_max(W) max_i f'(x_{t-1,i})``, the bound on ``||dx_t/dx_{t-1}||_2`` (S4)."""
    Wa = _square(W)
    xa = as_array(x_prev, "x_prev", ndim=1, shape=(Wa.shape[0],), what=f"({Wa.shape[0]},)")
    fp = get_activation(activation).df(xa)
    return float(step_bound(np.float64(np.max(fp)), np.float64(sigma_max(Wa))))


def _log_norm2(sign: np.ndarray, log_abs: np.ndarray) -> float:
    top = float(np.max(log_abs))
    if top == -np.inf:
        return -np.inf
    return top + float(np.log(np.linalg.norm(sign * np.exp(log_abs - top), 2)))


def log_flow_norm(W: object, nets: object, activation: str = "tanh") -> float:
    r"""Measured ``log ||dx_t/dx_{t-q}||_2 = log ||S(q)||_2`` (S4) for the window ``nets``
    (q, n), ``nets[m-1] = x_{t-m}``, via :func:`errorflow.numeric.rnn.log_scaling_factor`
    (``S(q) = F'(t-q) W^T ... F'(t-1) W^T``; the norm of the transpose is the same)."""
    sign, log_abs = rnn.log_scaling_factor(W, nets, activation)
    return _log_norm2(sign, log_abs)


def power_iteration_rate(W: object, q: int, seed: int = 0) -> float:
    r"""``(1/q) log ||W^q v|| / ||v||`` for a random unit ``v`` by power iteration (renormalised
    each step, so nothing overflows): tends to ``log rho(W)`` (linear units, S4)."""
    Wa, k = _square(W), _lag(q)
    v = np.random.default_rng(seed).standard_normal(Wa.shape[0])
    v /= np.linalg.norm(v)
    total = 0.0
    for _ in range(k):
        v = Wa @ v
        size = float(np.linalg.norm(v))
        if size == 0.0:
            return -np.inf
        total += np.log(size)
        v /= size
    return total / k


#: The representative setting of :func:`panel_curve`.
PANEL = {"n": 4, "sigma_max": 0.9, "activation": "tanh"}


def _panel_setting(q_max: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    require(isinstance(q_max, (int, np.integer)) and q_max >= 1, "q_max", "expected >= 1")
    rng = np.random.default_rng([seed, 4])
    n = PANEL["n"]
    W = rng.standard_normal((n, n))
    W *= PANEL["sigma_max"] / np.linalg.norm(W, 2)
    xs = rng.uniform(-1.0, 1.0, (int(q_max) + 1, n))
    traj = rnn.forward(W, xs, PANEL["activation"])
    lags = np.unique(np.rint(np.logspace(0.0, np.log10(q_max), 120)).astype(np.int64))
    return W, traj.lag_window(int(q_max) + 1, int(q_max)), lags


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(lags, log10 ||dx_t/dx_{t-q}||_2, label)`` for figure (a) (S4).

    Setting (:data:`PANEL`): n = 4 tanh units, Gaussian ``W`` rescaled to
    ``sigma_max(W) = 0.9 < 1/gamma = 1``, inputs uniform in [-1, 1] added to the net inputs,
    ``t = q_max + 1``; about 120 log-spaced lags. The product is built segment by segment
    between sampled lags (:func:`errorflow.numeric.rnn.log_scaling_factor` of each segment,
    multiplied in log space), one pass over the window. :func:`panel_bound` is its bound.
    """
    W, nets, lags = _panel_setting(q_max, seed)
    n = W.shape[0]
    eye = np.eye(n, dtype=bool)
    product = (eye.astype(np.float64), np.where(eye, 0.0, -np.inf))
    out, done = [], 0
    for q in lags:
        segment = rnn.log_scaling_factor(W, nets[done:q], PANEL["activation"])
        product = log_matmul(segment, product)
        done = int(q)
        out.append(_log_norm2(*product))
    return lags, np.array(out) / np.log(10.0), r"tanh RNN, $\sigma_{max}(W)=0.9$ (S4)"


def panel_bound(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    """``(lags, log10 (gamma sigma_max)^q, label)``: S4's bound for :func:`panel_curve`."""
    W, _, lags = _panel_setting(q_max, seed)
    with np.errstate(divide="ignore"):
        values = log_bound(1.0, sigma_max(W), lags.astype(np.float64)) / np.log(10.0)
    return lags, values, r"S4 bound $(\gamma\,\sigma_{max})^q$"
