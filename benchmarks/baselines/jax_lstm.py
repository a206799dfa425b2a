"""The same LSTM in JAX: ``jax.jit`` of ``jax.value_and_grad`` over a ``lax.scan``, float64.

The network, loss and parameter shapes are those of :mod:`baselines.numpy_lstm` (errorflow's
``errorflow.numeric.lstm``); weights enter as ``w * mask`` so masked entries get gradient 0.

* :func:`truncated_gradient`: reverse-mode gradient of the stop-gradient network: the
  recurrent part of ``z(t)`` (``y^c``, ``y^in``, ``y^out``, ``y^h`` of step t-1) passes through
  ``lax.stop_gradient``; the cell state is carried attached (the carousel).
* :func:`full_gradient`: the exact gradient (BPTT through the scan).

One compiled function per (layout, gradient kind, shapes); the first call traces and compiles
(``jax.jit``'s cache), later calls only run. The run script reports the two separately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "logistic": jax.nn.sigmoid,
    "g": lambda x: 2.0 * jnp.tanh(0.5 * x),
    "h": lambda x: jnp.tanh(0.5 * x),
    "tanh": jnp.tanh,
    "identity": lambda x: x,
}

_COMPILED: dict[tuple[Any, bool], Callable[..., Any]] = {}


def _build(layout: Any, detach: bool) -> Callable[..., Any]:
    f, g, h = ACTIVATIONS["logistic"], ACTIVATIONS[layout.g], ACTIVATIONS[layout.h]
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    gates = layout.output_gates
    masks = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in layout.mask.items()}

    def loss(params: dict[str, jax.Array], xs: jax.Array, d: jax.Array, m: jax.Array):
        w = {k: params[k] * masks[k] for k in masks}
        one = jnp.ones(1)

        def step(carry, x):
            s, y_c, y_in, y_out, y_h = carry
            rec = jnp.concatenate([y_c, y_in, y_out, y_h])
            z = jnp.concatenate([x, lax.stop_gradient(rec) if detach else rec, one])
            y_in = f(w["w_in"] @ z)
            y_out = f(w["w_out"] @ z) if gates else jnp.ones(C)
            s = s + y_in[:, None] * g(w["w_c"] @ z)
            y_c = (y_out[:, None] * h(s)).reshape(-1)
            y_h = f(w["w_h"] @ z)
            y_k = f(w["w_k"] @ jnp.concatenate([y_c, y_h, x, one]))
            return (s, y_c, y_in, y_out, y_h), y_k

        init = (jnp.zeros((C, S)), jnp.zeros(C * S), jnp.zeros(C), jnp.zeros(C), jnp.zeros(H))
        _, ys = lax.scan(step, init, xs)
        return 0.5 * jnp.sum(m * (d - ys) ** 2)

    return jax.jit(jax.value_and_grad(loss))


def _run(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    detach: bool,
) -> tuple[float, dict[str, np.ndarray]]:
    key = (layout, detach)
    if key not in _COMPILED:
        _COMPILED[key] = _build(layout, detach)
    d = np.asarray(targets, dtype=np.float64)
    m = np.ones(d.shape) if mask is None else np.asarray(mask, dtype=bool).astype(np.float64)
    p = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in params.items()}
    loss, grads = _COMPILED[key](p, jnp.asarray(xs), jnp.asarray(np.where(m > 0, d, 0.0)), m)
    return float(loss), {k: np.asarray(v) for k, v in grads.items()}


def truncated_gradient(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """``(E, {name: dE/dw})`` of the network whose hidden-layer sources ``z(t)`` are
    stop-gradient'ed (the paper's truncated gradient), compiled with ``jax.jit``."""
    return _run(layout, params, xs, targets, mask, detach=True)


def full_gradient(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """``(E, {name: dE/dw})``: the exact gradient through the ``lax.scan``, compiled."""
    return _run(layout, params, xs, targets, mask, detach=False)
