r"""Kalman-filter training with a derivative discount (SPEC S8; Puskorius & Feldkamp 1994).

Conventions as in :mod:`errorflow.numeric.rnn` (``W[i, j] = w_ij`` from unit j to unit i,
``net(t) = W y(t-1) + x(t)``, ``nets[m-1] = net(t-m)``). The filter's derivatives
``p(t) = dy(t)/dw`` are carried forward with a discount ``0 < lam <= 1`` on the carried part,
``p(t) = F'(t) (lam W p(t-1) + c(t))``; an immediate term of ``q`` steps back then arrives
multiplied by ``S_lam(q) = lam^q S(q)``, B3's scaling factor with every slope ``f'`` replaced by
``lam f'`` (S8, proved in :mod:`errorflow.derivations.kalman`).

* :func:`scaling_factor` / :func:`log_scaling_factor`: ``lam^q S(q)``, through the same
  column-scaled log-space chain as :func:`errorflow.numeric.rnn.log_scaling_factor` (B10),
  fed with the discounted slopes of :func:`discounted_activation`.
* :func:`sensitivities`: the discounted RTRL derivatives of every activation with respect to
  every weight along a forward pass (``lam = 1``: exact RTRL).
* :func:`ekf_step`: one extended-Kalman-filter step
  ``A = H^T P H + R``, ``K = P H A^-1``, ``w + K (d - y)``, ``P - K H^T P + Q``.
* :func:`panel_curve`: the discounted flow through a CEC for the report's figure.

The arithmetic is the generated kernels of ``numeric/_generated/kalman.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import rnn
from ._generated.kalman import (
    discounted_log_slope,
    discounted_slope,
    ekf_gain,
    ekf_innovation,
    ekf_update,
    sensitivity_step,
)
from ._validate import as_array, require
from .activations import Activation, get_activation

__all__ = [
    "PANEL_LAMBDA",
    "Sensitivities",
    "discounted_activation",
    "ekf_step",
    "log_scaling_factor",
    "panel_curve",
    "scaling_factor",
    "sensitivities",
]

#: The discount of :func:`panel_curve` (an illustrative value; 0.99 keeps 1/e of a derivative
#: after 100 steps).
PANEL_LAMBDA = 0.99


def _discount(lam: object) -> float:
    require(
        isinstance(lam, (int, float, np.floating, np.integer)) and not isinstance(lam, bool),
        "lam",
        f"expected a real discount factor 0 < lam <= 1, got {lam!r}",
    )
    value = float(lam)
    require(
        math.isfinite(value) and 0.0 < value <= 1.0,
        "lam",
        f"expected a discount factor 0 < lam <= 1, got {value!r}",
    )
    return value


def discounted_activation(activation: object, lam: float) -> Activation:
    """``activation`` with slope ``lam f'`` and log-slope ``log f' + log lam`` (S8).

    B3's chain built from these slopes is the discounted factor ``lam^q S(q)``.
    """
    act = get_activation(activation)
    value = _discount(lam)
    return Activation(
        f"{act.name} discounted by {value!r}",
        act.f,
        lambda x: discounted_slope(act.df(x), value),
        lambda x: discounted_log_slope(act.log_df(x), value),
        value * act.sup_slope,
    )


def log_scaling_factor(
    W: object, nets: object, lam: float, activation: str = "logistic", *, backend: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(sign, log|S_lam|)`` of the discounted factor ``S_lam(q) = lam^q S(q)`` (SPEC S8).

    ``S(q)[v, u] = d vartheta_v(t-q) / d vartheta_u(t)`` is B3's scaling factor; transposed,
    ``F'(t) S_lam(q)^T`` carries an immediate derivative term of ``q`` steps back into the
    filter's ``p(t) = dy(t)/dw``. Arguments and long-lag behaviour as in
    :func:`errorflow.numeric.rnn.log_scaling_factor` (``W`` (n, n), ``nets`` (q, n) with
    ``nets[m-1] = net(t-m)``); ``lam`` in (0, 1] (1 gives B3's factor). ``log|S_lam|`` is
    ``q log lam`` plus the undiscounted value, up to rounding, for any weights.
    """
    return rnn.log_scaling_factor(W, nets, discounted_activation(activation, lam), backend=backend)


def scaling_factor(
    W: object, nets: object, lam: float, activation: str = "logistic", *, backend: str = "auto"
) -> np.ndarray:
    r"""The discounted factor ``lam^q S(q)`` as a float64 ``(n, n)`` matrix (SPEC S8).

    At q = 1, ``lam f'_v(net_v(t-1)) w_uv``. Raises
    :class:`~errorflow.numeric.Float64RangeError` (a ``ValueError``) where an entry leaves
    float64 (``0.99^q`` through a CEC underflows near q = 70,000), like
    :func:`errorflow.numeric.rnn.scaling_factor`: use :func:`log_scaling_factor` there.
    """
    return rnn.scaling_factor(W, nets, discounted_activation(activation, lam), backend=backend)


@dataclass(frozen=True)
class Sensitivities:
    """A forward pass and its discounted derivatives.

    ``trajectory`` is :func:`errorflow.numeric.rnn.forward`'s result; ``P`` is (T, n, n*n) with
    ``P[t-1, k, a*n + b]`` the discounted ``dy^k(t)/dw_ab`` (exact at ``lam = 1``).
    """

    trajectory: rnn.Trajectory
    P: np.ndarray

    def wrt(self, a: int, b: int) -> np.ndarray:
        """``(T, n)``: the derivatives of every activation with respect to ``w_ab``."""
        n = self.P.shape[1]
        return self.P[:, :, a * n + b]


def sensitivities(
    W: object,
    xs: object,
    lam: float,
    activation: str = "logistic",
    *,
    y0: object | None = None,
) -> Sensitivities:
    r"""Discounted RTRL: ``P(t) = F'(t) (lam W P(t-1) + C(t))``, ``P(0) = 0`` (SPEC S8, S6).

    ``C(t)[k, (a, b)] = delta_ka y^b(t-1)`` is the immediate term; ``xs`` (T, n) is added to
    the net inputs as in :func:`errorflow.numeric.rnn.forward`, ``y0`` is ``y(0)``. At
    ``lam = 1`` the result is the exact derivative of the unrolled net. Cost per step
    ``2 n^4 + O(n^3)`` (the generated kernel's count with ``N = n^2`` weights).
    """
    value = _discount(lam)
    traj = rnn.forward(W, xs, activation, y0=y0)
    Wa = np.asarray(W, dtype=np.float64)
    T, n = traj.nets.shape
    slopes = np.broadcast_to(get_activation(activation).df(traj.nets), (T, n))
    eye = np.eye(n)
    out = np.empty((T, n, n * n))
    P = np.zeros((n, n * n))
    y_prev = traj.y0
    for s in range(T):
        P = sensitivity_step(slopes[s], value, Wa, P, np.kron(eye, y_prev[None, :]))
        out[s] = P
        y_prev = traj.ys[s]
    return Sensitivities(traj, out)


def _square(value: object, name: str, size: int) -> np.ndarray:
    arr = as_array(value, name, ndim=2, shape=(size, size), what=f"({size}, {size})")
    require(bool(np.allclose(arr, arr.T)), name, "expected a symmetric matrix")
    return arr


def ekf_step(
    w: object, P: object, H: object, d: object, y: object, R: object, Q: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One extended-Kalman-filter step (SPEC S8): ``(w_new, P_new, K)``.

    ``A = H^T P H + R``, ``K = P H A^-1``, ``w_new = w + K (d - y)``,
    ``P_new = P - K H^T P + Q``. ``w`` (N,) weights, ``P`` (N, N) symmetric error covariance,
    ``H`` (N, m) derivatives ``dy/dw`` (the discounted sensitivities), ``d``, ``y`` (m,)
    targets and outputs, ``R`` (m, m) symmetric positive definite, ``Q`` (N, N) symmetric.
    The update is ``P g`` with ``g = H A^-1 (d - y)``: the filter preconditions the
    (discounted) gradient and cannot undo the discount (see :mod:`errorflow.derivations.kalman`).
    """
    wa = as_array(w, "w", ndim=1, what="(N,)")
    N = wa.shape[0]
    require(N >= 1, "w", "expected at least one weight")
    Pa = _square(P, "P", N)
    Ha = as_array(H, "H", ndim=2, shape=(N, None), what=f"({N}, m)")
    m = Ha.shape[1]
    require(m >= 1, "H", "expected at least one output column")
    da = as_array(d, "d", ndim=1, shape=(m,), what=f"({m},)")
    ya = as_array(y, "y", ndim=1, shape=(m,), what=f"({m},)")
    Ra = _square(R, "R", m)
    require(bool(np.all(np.linalg.eigvalsh(Ra) > 0)), "R", "expected a positive definite matrix")
    Qa = _square(Q, "Q", N)
    A = ekf_innovation(Ha, Pa, Ra)
    K = ekf_gain(Pa, Ha, np.linalg.inv(A))
    w_new, P_new = ekf_update(wa, K, da - ya, Pa, Ha, Qa)
    return w_new, P_new, K


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""Lags ``1..q_max`` and ``log10 |S_lam(q)|`` through one CEC unit (SPEC S8).

    Setting: one linear unit with self-weight 1 (the constant error carousel, ``f' w = 1``)
    under the discount :data:`PANEL_LAMBDA` = 0.99, so the curve is ``q log10 0.99`` (-43.6
    decades at q = 10^4): the discount alone makes the flow decay. The unit's net inputs are
    drawn from ``seed`` (they do not matter for a linear unit). For a 1-unit net the chain is a
    product of scalars, so every lag comes from one cumulative sum of the generated
    discounted log-slopes (the same numbers :func:`log_scaling_factor` gives; tested).
    """
    require(
        isinstance(q_max, (int, np.integer)) and not isinstance(q_max, bool) and q_max >= 1,
        "q_max",
        f"expected an integer >= 1, got {q_max!r}",
    )
    rng = np.random.default_rng(seed)
    nets = rng.standard_normal(int(q_max))
    act = discounted_activation("identity", PANEL_LAMBDA)
    log_factors = np.broadcast_to(act.log_df(nets), nets.shape)  # log(lam f' |w|), w = 1
    lags = np.arange(1, int(q_max) + 1)
    curve = np.cumsum(log_factors) / math.log(10.0)
    return lags, curve, rf"Kalman/EKF discount $\lambda = {PANEL_LAMBDA}$ (through a CEC)"
