r"""Real-time recurrent learning (SPEC S6; Williams & Zipser 1989).

The net and conventions are those of :mod:`errorflow.numeric.rnn`: ``W[i, j] = w_ij`` is the
weight from unit j to unit i, ``net(t) = W y(t-1) + U x(t)`` (``U`` defaults to the identity),
``y(t) = f(net(t))``, ``y(0) = y0``; ``E = 1/2 sum_t sum_k mask (d_k(t) - y^k(t))^2``.

* :func:`rtrl_gradient`: ``(E, grads)`` computed forward in time from the sensitivities
  ``p^k_ij(t) = dy^k(t)/dw_ij = f'_k(net_k(t)) (sum_l w_kl p^l_ij(t-1) + delta_ki y^j(t-1))``;
  the same numbers as :func:`errorflow.numeric.rnn.bptt_gradient` (S6), at ``2 n^4 + O(n^3)``
  operations per step and ``O(n^3)`` memory whatever the sequence length.
* :func:`scaling_factor` / :func:`log_scaling_factor`: ``R(q) = dnet(t)/dnet(t-q)``, the factor
  by which a sensitivity is carried over q steps. It is Hochreiter's ``S(q)`` (B3) transposed,
  so these reuse :mod:`errorflow.numeric.rnn` (same window convention, same errors).
* :func:`panel_curve`: that factor's decay over lags 1..10^4 in one representative net.

The steps are the generated kernels of ``numeric/_generated/rtrl.py``.
"""

from __future__ import annotations

import numpy as np

from . import rnn
from ._generated.bptt import net_step
from ._generated.rtrl import propagate_step, sensitivity_step
from ._validate import Float64RangeError, as_array, require
from .activations import get_activation
from .rnn import _inputs, _targets_mask, _weights

__all__ = [
    "forward_log_factor",
    "log_scaling_factor",
    "panel_curve",
    "rtrl_gradient",
    "scaling_factor",
]


def rtrl_gradient(
    W: object,
    xs: object,
    targets: object,
    activation: str = "logistic",
    *,
    U: object | None = None,
    y0: object | None = None,
    mask: object | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    r"""``(E, grads)`` by real-time recurrent learning, forward in time (SPEC S6).

    Same arguments, loss and result keys as :func:`errorflow.numeric.rnn.bptt_gradient`:
    ``grads["W"] = dE/dW = -sum_t sum_k e_k(t) p^k(t)`` with the sensitivities
    ``P[k, i, j] = dy^k(t)/dw_ij`` carried by the generated ``sensitivity_step``;
    ``grads["U"]`` (when ``U`` is given) likewise with ``x(t)`` injected instead of
    ``y(t-1)``; ``grads["y0"] = dE/dy(0)`` from ``dnet(t)/dy(0)`` carried by
    ``propagate_step``. ``e(t) = mask (d(t) - y(t))``.

    Nothing of size T is stored: memory is ``n^3 + n^2`` numbers (``+ n^2 m`` with ``U``) for
    any T, while each step costs ``2 n^4 + 5 n^3 + n^2`` operations
    (``sensitivity_step_flops``). Raises :class:`~errorflow.numeric.Float64RangeError` if the
    forward pass or the sensitivities leave float64.
    """
    Wa = _weights(W)
    n = Wa.shape[0]
    act = get_activation(activation)
    xa, Ua = _inputs(Wa, xs, U)
    T = xa.shape[0]
    # mask None: every unit counts (an (n,) mask broadcasts; nothing of size T is allocated)
    d, mk = _targets_mask(T, n, targets, np.ones(n, dtype=bool) if mask is None else mask)
    y = np.zeros(n) if y0 is None else as_array(y0, "y0", ndim=1, shape=(n,), what=f"({n},)")
    P = np.zeros((n, n, n))
    gW = np.zeros((n, n))
    PU = None if Ua is None else np.zeros((n, *Ua.shape))
    gU = None if Ua is None else np.zeros(Ua.shape)
    R = Wa.copy()  # dnet(1)/dy(0)
    gy0 = np.zeros(n)
    E = 0.0
    for s in range(T):
        drive = xa[s] if Ua is None else Ua @ xa[s]
        net = net_step(Wa, y, drive)
        y_new = act.f(net)
        fp = np.broadcast_to(act.df(net), (n,))
        err = np.where(mk[s], d[s] - y_new, 0.0)
        E += 0.5 * float(err @ err)
        P, g = sensitivity_step(fp, Wa, P, y, err)
        gW += g
        if PU is not None:
            PU, g = sensitivity_step(fp, Wa, PU, xa[s], err)
            gU += g
        gy0 -= (fp[:, None] * R).T @ err  # dy(t)/dy(0) = F'(t) dnet(t)/dy(0)
        if s + 1 < T:
            R = propagate_step(fp, Wa, R)
        y = y_new
    grads = {"W": gW, "y0": gy0}
    if gU is not None:
        grads["U"] = gU
    if not (np.isfinite(E) and all(np.all(np.isfinite(g)) for g in grads.values())):
        raise Float64RangeError("W", "the forward pass or the sensitivities overflowed float64")
    return E, grads


def log_scaling_factor(
    W: object, nets: object, activation: str = "logistic", *, backend: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    r"""``R(q) = dnet(t)/dnet(t-q) = W F'(t-1) ... W F'(t-q)`` as ``(sign, log|R|)`` (S6, B10).

    ``R[k, l]`` scales a net-input sensitivity of unit l at t-q on its way to unit k at t;
    it is Hochreiter's factor transposed, ``R = S(q)^T`` with
    ``S[v, u] = d vartheta_v(t-q)/d vartheta_u(t)`` (B3), so RTRL's sensitivities decay or
    explode exactly as BPTT's error signals do. Arguments, window convention
    (``nets[m-1] = net(t-m)``), precision and errors as
    :func:`errorflow.numeric.rnn.log_scaling_factor`, which computes it.
    """
    sign, log_abs = rnn.log_scaling_factor(W, nets, activation, backend=backend)
    return sign.T, log_abs.T


def scaling_factor(
    W: object, nets: object, activation: str = "logistic", *, backend: str = "auto"
) -> np.ndarray:
    r"""``R(q) = dnet(t)/dnet(t-q) = S(q)^T`` as a float64 ``(n, n)`` matrix (S6, B3).

    See :func:`log_scaling_factor`; raises :class:`~errorflow.numeric.Float64RangeError`
    where an entry leaves float64, like :func:`errorflow.numeric.rnn.scaling_factor`.
    """
    return rnn.scaling_factor(W, nets, activation, backend=backend).T


def forward_log_factor(W: object, nets: object, activation: str = "logistic") -> np.ndarray:
    r"""``log max_{k,l} |R(q)[k, l]|`` for every q = 1..len(nets), in one forward pass.

    ``nets[s]`` is ``net(t0 + s)``; ``R(q) = dnet(t0+q)/dnet(t0) = W F'(t0+q-1) ... W F'(t0)``
    is carried forward by the generated ``propagate_step`` (RTRL's homogeneous step) and
    rescaled by its largest entry after every step (the scale is kept as a logarithm), so no
    lag underflows. Entry ``q-1`` of the result is lag q.
    """
    Wa = _weights(W)
    n = Wa.shape[0]
    arr = as_array(nets, "nets", ndim=2, shape=(None, n), what=f"(q, {n})")
    require(arr.shape[0] >= 1, "nets", "expected at least one row")
    act = get_activation(activation)
    slopes = np.broadcast_to(act.df(arr), arr.shape)
    R = np.eye(n)
    log_scale = 0.0
    out = np.empty(arr.shape[0])
    with np.errstate(under="ignore"):
        for s in range(arr.shape[0]):
            R = propagate_step(slopes[s], Wa, R)
            top = float(np.max(np.abs(R)))
            if top == 0.0 or not np.isfinite(top):
                out[s:] = -np.inf if top == 0.0 else np.inf
                break
            R /= top
            log_scale += np.log(top)
            out[s] = log_scale
    return out


#: panel_curve's net: n units, weights N(0, sigma^2), inputs N(0, 1), logistic units.
PANEL_UNITS, PANEL_SIGMA = 4, 1.0


def panel_curve(q_max: int = 10_000, seed: int = 19970) -> tuple[np.ndarray, np.ndarray, str]:
    r"""``(q, log10 max_{k,l} |dnet_k(t0+q)/dnet_l(t0)|, label)`` for q = 1..q_max (S6).

    The representative setting: 4 logistic units, ``W`` drawn N(0, 1) and external inputs
    ``x(t)`` N(0, 1) from ``numpy.random.default_rng(seed)``, a forward pass of ``q_max + 1``
    steps; the curve is how much of a sensitivity injected at ``t0 = 1`` survives q steps later
    (:func:`forward_log_factor`). It equals the conventional net's BPTT factor (B3) read
    forwards: RTRL does not change the error flow, only its cost.
    """
    require(isinstance(q_max, (int, np.integer)) and q_max >= 1, "q_max", "expected an int >= 1")
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, PANEL_SIGMA, (PANEL_UNITS, PANEL_UNITS))
    xs = rng.normal(0.0, 1.0, (int(q_max) + 1, PANEL_UNITS))
    traj = rnn.forward(W, xs, "logistic")
    logs = forward_log_factor(W, traj.nets[:-1], "logistic")
    qs = np.arange(1, int(q_max) + 1)
    return qs, logs / np.log(10.0), "RTRL sensitivity (= BPTT, 4 logistic units, $W \\sim N(0,1)$)"
