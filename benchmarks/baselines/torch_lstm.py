"""The same LSTM in PyTorch (float64, CPU), differentiated by autograd.

The network, loss and parameter shapes are those of :mod:`baselines.numpy_lstm` (errorflow's
``errorflow.numeric.lstm``). Weights enter as ``w * mask`` so masked entries get gradient 0.

* :func:`truncated_gradient`: autograd of the stop-gradient network: ``z(t)`` is built from
  ``.detach()``-ed ``y^c(t-1)``, ``y^in(t-1)``, ``y^out(t-1)``, ``y^h(t-1)`` (the cell state
  ``s(t-1)`` is not a source and stays attached: the carousel). This is what the paper's
  truncated rule computes.
* :func:`full_gradient`: plain autograd (exact BPTT).

Both build the graph step by step in Python and call ``backward()`` once; autograd keeps
O(T) saved tensors either way. ``saved_bytes`` measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "logistic": torch.sigmoid,
    "g": lambda x: 2.0 * torch.tanh(0.5 * x),
    "h": lambda x: torch.tanh(0.5 * x),
    "tanh": torch.tanh,
    "identity": lambda x: x,
}


def _loss(
    layout: Any,
    w: Mapping[str, Tensor],
    xs: Tensor,
    d: Tensor,
    m: Tensor,
    detach: bool,
) -> Tensor:
    f, g, h = ACTIVATIONS["logistic"], ACTIVATIONS[layout.g], ACTIVATIONS[layout.h]
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    kw = {"dtype": torch.float64}
    s = torch.zeros(C, S, **kw)
    y_c, y_in, y_out, y_h = (
        torch.zeros(C * S, **kw),
        torch.zeros(C, **kw),
        torch.zeros(C, **kw),
        torch.zeros(H, **kw),
    )
    one = torch.ones(1, **kw)
    ys = []
    for t in range(xs.shape[0]):
        x = xs[t]
        rec = torch.cat([y_c, y_in, y_out, y_h])
        z = torch.cat([x, rec.detach() if detach else rec, one])
        y_in = f(w["w_in"] @ z)
        y_out = f(w["w_out"] @ z) if layout.output_gates else torch.ones(C, **kw)
        s = s + y_in[:, None] * g(w["w_c"] @ z)
        y_c = (y_out[:, None] * h(s)).reshape(-1)
        y_h = f(w["w_h"] @ z)
        ys.append(f(w["w_k"] @ torch.cat([y_c, y_h, x, one])))
    y = torch.stack(ys)
    return 0.5 * torch.sum(m * (d - y) ** 2)


def _run(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    detach: bool,
    hooks: Any = None,
) -> tuple[float, dict[str, np.ndarray]]:
    masks = {k: torch.from_numpy(v.astype(np.float64)) for k, v in layout.mask.items()}
    leaves = {
        k: torch.tensor(np.asarray(params[k]), dtype=torch.float64, requires_grad=True)
        for k in masks
    }
    d = np.asarray(targets, dtype=np.float64)
    m = np.ones(d.shape) if mask is None else np.asarray(mask, dtype=bool).astype(np.float64)
    d_t, m_t = torch.from_numpy(np.where(m > 0, d, 0.0)), torch.from_numpy(m)
    x_t = torch.from_numpy(np.ascontiguousarray(xs, dtype=np.float64))
    if hooks is None:
        loss = _loss(layout, {k: leaves[k] * masks[k] for k in leaves}, x_t, d_t, m_t, detach)
    else:
        with hooks:
            loss = _loss(layout, {k: leaves[k] * masks[k] for k in leaves}, x_t, d_t, m_t, detach)
    loss.backward()
    grads = {k: np.zeros(v.shape) if v.grad is None else v.grad.numpy() for k, v in leaves.items()}
    return float(loss.item()), grads


def truncated_gradient(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """``(E, {name: dE/dw})`` of the network with every hidden-layer source ``z(t)`` detached
    (the paper's truncated gradient), by autograd."""
    return _run(layout, params, xs, targets, mask, detach=True)


def full_gradient(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """``(E, {name: dE/dw})``: the exact gradient by autograd (BPTT)."""
    return _run(layout, params, xs, targets, mask, detach=False)


def saved_bytes(
    layout: Any,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    detach: bool = True,
) -> int:
    """Bytes of the distinct tensor storages autograd saves for the backward pass (counted by
    ``torch.autograd.graph.saved_tensors_hooks`` while the graph is built; storages shared by
    several saved tensors count once). torch's CPU allocator is invisible to tracemalloc, so this
    is the measure of the graph's memory; it excludes the Python and C++ node objects."""
    seen: dict[tuple[int, int], int] = {}

    def pack(t: Tensor) -> Tensor:
        st = t.untyped_storage()
        seen[(st.data_ptr(), st.nbytes())] = st.nbytes()
        return t

    hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
    _run(layout, params, xs, targets, mask, detach, hooks=hooks)
    return int(sum(seen.values()))
