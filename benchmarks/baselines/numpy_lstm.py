"""A plain NumPy LSTM (Hochreiter & Schmidhuber 1997), one Python-level loop over time.

The network is errorflow's (``errorflow.numeric.lstm``), written independently of its generated
kernels, the way a user would write it: vectorised within a step, a loop over the steps.
``C`` blocks of ``S`` cells, ``H`` hidden units, ``K`` outputs; for t = 1..T::

    z(t) = [x(t), y^c(t-1) (C*S, block-major), y^in(t-1), y^out(t-1), y^h(t-1), 1]   (P)
    y^in = f(w_in z), y^out = f(w_out z) (1 without output gates)
    s(t) = s(t-1) + y^in g(w_c z),  y^c = y^out h(s),  y^h = f(w_h z)
    o(t) = [y^c(t), y^h(t), x(t), 1]   (Q),   y^k = f(w_k o)

with every state 0 at t = 0, ``f`` the logistic function and ``g``, ``h`` named by the layout.
Loss ``E = 1/2 sum over masked (t, k) of (d_k(t) - y^k(t))^2``; gradients are ``dE/dw``, zero
at masked weights. ``layout`` is any object with errorflow's ``Layout`` attributes (``n_in``,
``n_out``, ``n_blocks``, ``block_size``, ``n_hidden``, ``output_gates``, ``g``, ``h``, ``mask``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Array = np.ndarray
Pair = tuple[Callable[[Array], Array], Callable[[Array], Array]]


def _logistic(x: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow warnings


def _d_logistic(x: Array) -> Array:
    y = _logistic(x)
    return y * (1.0 - y)


def _g(x: Array) -> Array:
    return 2.0 * np.tanh(0.5 * x)


def _d_g(x: Array) -> Array:
    return 1.0 - np.tanh(0.5 * x) ** 2


def _h(x: Array) -> Array:
    return np.tanh(0.5 * x)


def _d_h(x: Array) -> Array:
    return 0.5 * (1.0 - np.tanh(0.5 * x) ** 2)


def _d_tanh(x: Array) -> Array:
    return 1.0 - np.tanh(x) ** 2


ACTIVATIONS: dict[str, Pair] = {
    "logistic": (_logistic, _d_logistic),
    "g": (_g, _d_g),
    "h": (_h, _d_h),
    "tanh": (np.tanh, _d_tanh),
    "identity": (lambda x: x, np.ones_like),
}


def _setup(layout: Any, params: Mapping[str, Array]) -> tuple[dict[str, Array], dict[str, Array]]:
    mask = layout.mask
    w = {k: np.asarray(params[k], dtype=np.float64) * mask[k] for k in mask}
    return w, mask


def _targets(targets: Array, mask: Array | None) -> tuple[Array, Array]:
    d = np.asarray(targets, dtype=np.float64)
    m = np.ones(d.shape) if mask is None else np.asarray(mask, dtype=bool).astype(np.float64)
    return np.where(m > 0, d, 0.0), m


def truncated_gradient(
    layout: Any,
    params: Mapping[str, Array],
    xs: Array,
    targets: Array,
    mask: Array | None = None,
) -> tuple[float, dict[str, Array]]:
    """The paper's online truncated gradient, eqs. (19)-(28): ``(E, {name: dE/dw})``.

    Forward in time, carrying the partials ``ds_c/dw_in`` and ``ds_c/dw_c`` (each ``(C, S, P)``,
    eqs. 25 and 27) and adding each step's contribution ``dE(t)/dw``: the exact gradient of the
    network whose hidden-layer sources ``z(t)`` are detached. Memory independent of T.
    """
    w, wmask = _setup(layout, params)
    d_all, m_all = _targets(targets, mask)
    f, df = ACTIVATIONS["logistic"]
    g, dg = ACTIVATIONS[layout.g]
    h, dh = ACTIVATIONS[layout.h]
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    N = C * S
    P = w["w_in"].shape[1]
    s = np.zeros((C, S))
    y_c, y_in, y_out, y_h = np.zeros((C, S)), np.zeros(C), np.zeros(C), np.zeros(H)
    ds_in = np.zeros((C, S, P))  # ds_c[j, v] / dw_in[j, :]
    ds_c = np.zeros((C, S, P))  # ds_c[j, v] / dw_c[j, v, :]
    grads = {k: np.zeros_like(v) for k, v in w.items()}
    loss = 0.0
    for t in range(xs.shape[0]):
        x = xs[t]
        z = np.concatenate([x, y_c.ravel(), y_in, y_out, y_h, [1.0]])
        net_in = w["w_in"] @ z
        net_out = w["w_out"] @ z
        net_c = w["w_c"] @ z
        net_h = w["w_h"] @ z
        y_in = f(net_in)
        y_out = f(net_out) if layout.output_gates else np.ones(C)
        g_c = g(net_c)
        s = s + y_in[:, None] * g_c
        h_s = h(s)
        y_c = y_out[:, None] * h_s
        y_h = f(net_h)
        o = np.concatenate([y_c.ravel(), y_h, x, [1.0]])
        net_k = w["w_k"] @ o
        y_k = f(net_k)
        d, m = d_all[t], m_all[t]
        loss += 0.5 * float(np.sum(m * (d - y_k) ** 2))
        # partials of s(t) with respect to the gate and cell weights (z detached)
        ds_in += (g_c * df(net_in)[:, None])[:, :, None] * z
        ds_c += (y_in[:, None] * dg(net_c))[:, :, None] * z
        # this step's error, -dE(t)/dnet, and its gradient
        e_k = m * (d - y_k) * df(net_k)
        back = w["w_k"].T @ e_k
        back_c = back[:N].reshape(C, S)
        e_h = df(net_h) * back[N : N + H]
        e_out = df(net_out) * np.sum(back_c * h_s, axis=1) if layout.output_gates else np.zeros(C)
        e_s = back_c * y_out[:, None] * dh(s)
        grads["w_k"] -= np.outer(e_k, o)
        grads["w_h"] -= np.outer(e_h, z)
        grads["w_out"] -= np.outer(e_out, z)
        grads["w_in"] -= np.einsum("cv,cvp->cp", e_s, ds_in)
        grads["w_c"] -= e_s[:, :, None] * ds_c
    return loss, {k: v * wmask[k] for k, v in grads.items()}


def full_gradient(
    layout: Any,
    params: Mapping[str, Array],
    xs: Array,
    targets: Array,
    mask: Array | None = None,
) -> tuple[float, dict[str, Array]]:
    """Exact back-propagation through time: ``(E, {name: dE/dw})`` of the undetached network.

    A forward loop that stores every step's sources, net inputs, activations and states, then
    a reverse loop carrying ``dE/dz(t+1)`` and ``dE/ds(t+1)``. Memory O(T).
    """
    w, wmask = _setup(layout, params)
    d_all, m_all = _targets(targets, mask)
    f, df = ACTIVATIONS["logistic"]
    g, dg = ACTIVATIONS[layout.g]
    h, dh = ACTIVATIONS[layout.h]
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    N, n = C * S, layout.n_in
    T = xs.shape[0]
    s = np.zeros((C, S))
    y_c, y_in, y_out, y_h = np.zeros((C, S)), np.zeros(C), np.zeros(C), np.zeros(H)
    tape: list[dict[str, Array]] = []
    loss = 0.0
    for t in range(T):
        x = xs[t]
        z = np.concatenate([x, y_c.ravel(), y_in, y_out, y_h, [1.0]])
        net_in, net_out = w["w_in"] @ z, w["w_out"] @ z
        net_c, net_h = w["w_c"] @ z, w["w_h"] @ z
        y_in = f(net_in)
        y_out = f(net_out) if layout.output_gates else np.ones(C)
        s = s + y_in[:, None] * g(net_c)
        y_c = y_out[:, None] * h(s)
        y_h = f(net_h)
        o = np.concatenate([y_c.ravel(), y_h, x, [1.0]])
        net_k = w["w_k"] @ o
        y_k = f(net_k)
        loss += 0.5 * float(np.sum(m_all[t] * (d_all[t] - y_k) ** 2))
        tape.append(
            {
                "z": z,
                "o": o,
                "net_in": net_in,
                "net_out": net_out,
                "net_c": net_c,
                "net_h": net_h,
                "net_k": net_k,
                "y_in": y_in,
                "y_out": y_out,
                "s": s,
                "y_k": y_k,
            }
        )
    grads = {k: np.zeros_like(v) for k, v in w.items()}
    i_c, i_in, i_out, i_h = n, n + N, n + N + C, n + N + 2 * C
    dz_next = np.zeros(w["w_in"].shape[1])  # dE/dz(t+1)
    ds_next = np.zeros((C, S))  # dE/ds(t+1)
    for t in range(T - 1, -1, -1):
        r = tape[t]
        dnet_k = -m_all[t] * (d_all[t] - r["y_k"]) * df(r["net_k"])
        grads["w_k"] += np.outer(dnet_k, r["o"])
        do = w["w_k"].T @ dnet_k
        dy_c = do[:N].reshape(C, S) + dz_next[i_c:i_in].reshape(C, S)
        dy_h = do[N : N + H] + dz_next[i_h : i_h + H]
        h_s = h(r["s"])
        if layout.output_gates:
            dnet_out = df(r["net_out"]) * (np.sum(dy_c * h_s, axis=1) + dz_next[i_out:i_h])
        else:
            dnet_out = np.zeros(C)
        ds = ds_next + dy_c * r["y_out"][:, None] * dh(r["s"])
        dnet_c = ds * r["y_in"][:, None] * dg(r["net_c"])
        dy_in = np.sum(ds * g(r["net_c"]), axis=1) + dz_next[i_in:i_out]
        dnet_in = df(r["net_in"]) * dy_in
        dnet_h = df(r["net_h"]) * dy_h
        z = r["z"]
        grads["w_in"] += np.outer(dnet_in, z)
        grads["w_out"] += np.outer(dnet_out, z)
        grads["w_c"] += dnet_c[:, :, None] * z
        grads["w_h"] += np.outer(dnet_h, z)
        dz_next = (
            w["w_in"].T @ dnet_in
            + w["w_out"].T @ dnet_out
            + np.einsum("cv,cvp->p", dnet_c, w["w_c"])
            + w["w_h"].T @ dnet_h
        )
        ds_next = ds
    return loss, {k: v * wmask[k] for k, v in grads.items()}
