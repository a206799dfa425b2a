r"""High-precision reference for the 1997 LSTM network, in mpmath (SPEC L1, L2, L7, L9-L12).

Written from the paper's equations (App. A.1 eqs. 6-9, the experiments' timing of §5) and the
issue's layout contract, independently of :mod:`errorflow.numeric.lstm` (none of its kernels
is called; a layout object is only read for its sizes and options). Plain loops over mpmath
numbers, nothing vectorised: slow, small, obviously correct. Use it on small layouts only.

Network, for t = 1..T with every activation and state 0 at t = 0:

* hidden-layer sources ``z(t) = [x(t), y^c(t-1), y^in(t-1), y^out(t-1), y^h(t-1), 1]``
  (cell v of block j at column ``n_in + j S + v``), P = n_in + CS + 2C + H + 1 entries;
* ``y^in_j = f(w_in_j . z)``, ``y^out_j = f(w_out_j . z)`` (1 without output gates),
  ``s_cjv(t) = s_cjv(t-1) + y^in_j g(w_cjv . z)``, ``y^cjv = y^out_j h(s_cjv)``,
  ``y^h_i = f(w_h_i . z)`` with f logistic;
* output sources ``o(t) = [y^c(t), y^h(t), x(t), 1]`` (Q entries) and ``y^k = f(w_k . o)``.

Weights are used as ``params * mask`` (a masked weight is 0). The losses are
``E = 1/2 sum_{masked (t, k)} (d_k(t) - y^k(t))^2`` (``half=False``: eq. (16)'s sum without the
1/2, L9) and the stop-gradient loss ``E_sg(w; Z)``, the same network with every hidden-layer
source ``z(t)`` held at the given values ``Z`` (computed once from the base weights, L2): only
the CEC self-loop, each unit's own weights and the same-step path into the outputs depend on w.
Central differences of ``E_sg`` give the truncated gradient, of ``E`` the full gradient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import mpmath
import numpy as np

__all__ = [
    "NAMES",
    "MpForward",
    "mp_directional_derivative",
    "mp_forward",
    "mp_full_gradient",
    "mp_loss",
    "mp_sources",
    "mp_truncated_gradient",
    "reference_mask",
    "reference_n_weights",
    "reference_shapes",
]

#: Parameter names in the order of the contract.
NAMES = ("w_in", "w_out", "w_c", "w_h", "w_k")

_DPS = 30
_STEP = "1e-12"


# ----------------------------------------------------------------------------------------
# Layout: shapes and Table 10 masks, from the rules
# ----------------------------------------------------------------------------------------
def _sizes(layout) -> tuple[int, int, int, int, int, int, int]:
    """``(I, K, C, S, H, P, Q)`` of a layout (read from its constructor fields only)."""
    I, K = int(layout.n_in), int(layout.n_out)
    C, S, H = int(layout.n_blocks), int(layout.block_size), int(layout.n_hidden)
    return I, K, C, S, H, I + C * S + 2 * C + H + 1, C * S + H + I + 1


def reference_shapes(layout) -> dict[str, tuple[int, ...]]:
    """``w_in`` (C, P), ``w_out`` (C, P), ``w_c`` (C, S, P), ``w_h`` (H, P), ``w_k`` (K, Q)."""
    _, K, C, S, H, P, Q = _sizes(layout)
    return {"w_in": (C, P), "w_out": (C, P), "w_c": (C, S, P), "w_h": (H, P), "w_k": (K, Q)}


def reference_mask(layout) -> dict[str, np.ndarray]:
    """Which weights exist (Table 10), True where a weight exists.

    Connectivity "F": hidden-layer units (gates, cells, hidden units) see x(t) and every
    hidden-layer unit of t-1 (the y^out(t-1) columns only where output gates exist); outputs see
    cells and hidden units, not x. "B": hidden-layer units see only x(t); outputs also see x(t).
    Outputs never see gates. Bias (the last column): "none"; "gates" (in and out gates);
    "hidden" (gates, cells, hidden units); "all" (those and the outputs). Without output gates
    ``w_out`` is all masked.
    """
    I, K, C, S, H, P, Q = _sizes(layout)
    conn, bias = layout.connectivity, layout.bias
    src = np.zeros(P, dtype=bool)
    src[:I] = True
    if conn == "F":
        src[I : I + C * S + C] = True  # y^c(t-1), y^in(t-1)
        if layout.output_gates:
            src[I + C * S + C : I + C * S + 2 * C] = True  # y^out(t-1)
        src[I + C * S + 2 * C : P - 1] = True  # y^h(t-1)
    gate_bias = bias in ("gates", "hidden", "all")
    unit_bias = bias in ("hidden", "all")
    out_src = np.zeros(Q, dtype=bool)
    out_src[: C * S + H] = True
    if conn == "B":
        out_src[C * S + H : C * S + H + I] = True
    out_src[Q - 1] = bias == "all"

    def rows(n: int, with_bias: bool) -> np.ndarray:
        row = src.copy()
        row[P - 1] = with_bias
        return np.tile(row, (n, 1))

    w_out = rows(C, gate_bias)
    if not layout.output_gates:
        w_out[:] = False
    return {
        "w_in": rows(C, gate_bias),
        "w_out": w_out,
        "w_c": rows(C * S, unit_bias).reshape(C, S, P),
        "w_h": rows(H, unit_bias),
        "w_k": np.tile(out_src, (K, 1)),
    }


def reference_n_weights(layout) -> int:
    """The number of existing weights, ``sum`` of :func:`reference_mask` (L12)."""
    return int(sum(int(m.sum()) for m in reference_mask(layout).values()))


# ----------------------------------------------------------------------------------------
# Forward pass in mpmath
# ----------------------------------------------------------------------------------------
def _f(x):
    return 1 / (1 + mpmath.exp(-x))


_SQUASH = {
    "logistic": _f,
    "h": lambda x: mpmath.tanh(x / 2),
    "g": lambda x: 2 * mpmath.tanh(x / 2),
    "tanh": mpmath.tanh,
    "identity": lambda x: x,
}


@dataclass
class MpForward:
    """An mpmath forward pass: nested lists ``[t-1][...]`` of mpf, as in ``lstm.Forward``.

    ``z[t-1]`` are the hidden-layer sources used at step t (the given ``Z`` for the
    stop-gradient network), ``o[t-1]`` the output sources.
    """

    y: list
    s: list
    y_c: list
    y_in: list
    y_out: list
    y_h: list
    net_in: list
    net_out: list
    net_c: list
    net_h: list
    net_k: list
    z: list
    o: list

    def array(self, name: str) -> np.ndarray:
        """Field ``name`` rounded to a float64 array (T, ...)."""
        return np.array(_nested_float(getattr(self, name)), dtype=np.float64)


def _nested_float(v):
    return [_nested_float(a) for a in v] if isinstance(v, list) else float(v)


def _mp_weights(params: Mapping[str, np.ndarray], mask: Mapping[str, np.ndarray]) -> dict:
    """Effective weights ``params * mask`` as nested lists of mpf (rows of sources)."""
    out = {}
    for name in NAMES:
        w = np.where(mask[name], np.asarray(params[name], dtype=np.float64), 0.0)
        out[name] = _to_mp(w.tolist())
    return out


def _to_mp(v):
    return [_to_mp(a) for a in v] if isinstance(v, list) else mpmath.mpf(v)


def _run(layout, W: dict, xs: np.ndarray, sources: list | None) -> MpForward:
    """Eqs. (6)-(9), the experiments' timing; ``sources`` fixes z(t) (stop-gradient, L2)."""
    _, K, C, S, H, _, _ = _sizes(layout)
    f, g, h = _f, _SQUASH[layout.g], _SQUASH[layout.h]
    zero, one = mpmath.mpf(0), mpmath.mpf(1)
    s = [[zero] * S for _ in range(C)]
    y_c = [[zero] * S for _ in range(C)]
    y_in, y_out, y_h = [zero] * C, [zero] * C, [zero] * H
    rec = MpForward(*([] for _ in range(13)))
    for t in range(xs.shape[0]):
        x = [mpmath.mpf(float(v)) for v in xs[t]]
        if sources is None:
            z = x + [c for block in y_c for c in block] + list(y_in) + list(y_out) + y_h + [one]
        else:
            z = sources[t]
        net_in = [mpmath.fdot(W["w_in"][j], z) for j in range(C)]
        net_out = [mpmath.fdot(W["w_out"][j], z) for j in range(C)]
        net_c = [[mpmath.fdot(W["w_c"][j][v], z) for v in range(S)] for j in range(C)]
        net_h = [mpmath.fdot(W["w_h"][i], z) for i in range(H)]
        y_in = [f(a) for a in net_in]
        y_out = [f(a) for a in net_out] if layout.output_gates else [one] * C
        s = [[s[j][v] + y_in[j] * g(net_c[j][v]) for v in range(S)] for j in range(C)]
        y_c = [[y_out[j] * h(s[j][v]) for v in range(S)] for j in range(C)]
        y_h = [f(a) for a in net_h]
        o = [c for block in y_c for c in block] + y_h + x + [one]
        net_k = [mpmath.fdot(W["w_k"][k], o) for k in range(K)]
        for store, value in (
            (rec.y, [f(a) for a in net_k]),
            (rec.s, s),
            (rec.y_c, y_c),
            (rec.y_in, y_in),
            (rec.y_out, y_out),
            (rec.y_h, y_h),
            (rec.net_in, net_in),
            (rec.net_out, net_out),
            (rec.net_c, net_c),
            (rec.net_h, net_h),
            (rec.net_k, net_k),
            (rec.z, z),
            (rec.o, o),
        ):
            store.append(value)
    return rec


def _check_xs(layout, xs) -> np.ndarray:
    arr = np.asarray(xs, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != int(layout.n_in):
        raise ValueError(f"xs: expected shape (T, {layout.n_in}), got {arr.shape}")
    return arr


def mp_forward(
    layout,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    *,
    mask: Mapping[str, np.ndarray] | None = None,
    sources: list | None = None,
    dps: int = _DPS,
) -> MpForward:
    """The forward pass (L1) at ``dps`` digits; ``mask`` defaults to :func:`reference_mask`.

    With ``sources`` (a list of T lists of P mpf, e.g. from :func:`mp_sources`) every z(t) is
    taken from it instead of from the previous step: the stop-gradient network of L2.
    """
    mask = reference_mask(layout) if mask is None else mask
    xs = _check_xs(layout, xs)
    with mpmath.workdps(dps):
        return _run(layout, _mp_weights(params, mask), xs, sources)


def mp_sources(
    layout,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    *,
    mask: Mapping[str, np.ndarray] | None = None,
    dps: int = _DPS,
) -> list:
    """``Z``: the hidden-layer sources z(t) of the real forward pass at the given weights."""
    return mp_forward(layout, params, xs, mask=mask, dps=dps).z


def _loss(rec: MpForward, targets: np.ndarray, tmask: np.ndarray, half: bool):
    total = mpmath.mpf(0)
    for t, row in enumerate(rec.y):
        for k, y in enumerate(row):
            if tmask[t, k]:
                total += (mpmath.mpf(float(targets[t, k])) - y) ** 2
    return total / 2 if half else total


def _target_mask(targets, mask, shape) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(targets, dtype=np.float64)
    if d.shape != shape:
        raise ValueError(f"targets: expected shape {shape}, got {d.shape}")
    tm = np.ones(shape, dtype=bool) if mask is None else np.broadcast_to(mask, shape)
    return d, tm


def mp_loss(
    layout,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    weight_mask: Mapping[str, np.ndarray] | None = None,
    sources: list | None = None,
    half: bool = True,
    dps: int = _DPS,
) -> mpmath.mpf:
    """``E = 1/2 sum_{mask} (d - y)^2`` (``half=False``: no 1/2, eq. 16) at ``dps`` digits;
    with ``sources``, ``E_sg(w; Z)`` of the stop-gradient network (L2)."""
    xs = _check_xs(layout, xs)
    d, tm = _target_mask(targets, mask, (xs.shape[0], int(layout.n_out)))
    weight_mask = reference_mask(layout) if weight_mask is None else weight_mask
    with mpmath.workdps(dps):
        rec = _run(layout, _mp_weights(params, weight_mask), xs, sources)
        return _loss(rec, d, tm, half)


# ----------------------------------------------------------------------------------------
# Central differences in mpmath
# ----------------------------------------------------------------------------------------
def _entry(W: dict, name: str, idx: tuple[int, ...]):
    row = W[name]
    for i in idx[:-1]:
        row = row[i]
    return row, idx[-1]


def _fd_gradient(
    layout,
    params,
    xs,
    targets,
    mask,
    *,
    truncated: bool,
    weight_mask,
    half: bool,
    dps: int,
    step: str,
    entries: Iterable[tuple[str, tuple[int, ...]]] | None,
) -> dict[str, np.ndarray]:
    xs = _check_xs(layout, xs)
    d, tm = _target_mask(targets, mask, (xs.shape[0], int(layout.n_out)))
    wm = reference_mask(layout) if weight_mask is None else weight_mask
    grads = {n: np.zeros(np.shape(params[n])) for n in NAMES}
    if entries is None:
        entries = [(n, tuple(int(i) for i in ix)) for n in NAMES for ix in np.argwhere(wm[n])]
    with mpmath.workdps(dps):
        W = _mp_weights(params, wm)
        Z = _run(layout, W, xs, None).z if truncated else None
        hh = mpmath.mpf(step)
        for name, idx in entries:
            if not wm[name][idx]:
                continue  # a masked weight is 0 whatever params holds: gradient 0
            row, last = _entry(W, name, idx)
            base = row[last]
            row[last] = base + hh
            up = _loss(_run(layout, W, xs, Z), d, tm, half)
            row[last] = base - hh
            down = _loss(_run(layout, W, xs, Z), d, tm, half)
            row[last] = base
            grads[name][idx] = float((up - down) / (2 * hh))
    return grads


def mp_truncated_gradient(
    layout,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    weight_mask: Mapping[str, np.ndarray] | None = None,
    half: bool = True,
    dps: int = _DPS,
    step: str = _STEP,
    entries: Iterable[tuple[str, tuple[int, ...]]] | None = None,
) -> dict[str, np.ndarray]:
    """``dE_sg/dw`` by central differences in mpmath (L2, L7): the truncated gradient.

    ``Z`` is computed once from the base weights; each existing weight (or only ``entries``,
    ``(name, index)`` pairs) is moved by ``+-step`` with ``Z`` held fixed. Masked weights get 0.
    At 30 digits and step 1e-12 the difference quotient is good to ~1e-18 relative.
    """
    return _fd_gradient(
        layout,
        params,
        xs,
        targets,
        mask,
        truncated=True,
        weight_mask=weight_mask,
        half=half,
        dps=dps,
        step=step,
        entries=entries,
    )


def mp_full_gradient(
    layout,
    params: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    weight_mask: Mapping[str, np.ndarray] | None = None,
    half: bool = True,
    dps: int = _DPS,
    step: str = _STEP,
    entries: Iterable[tuple[str, tuple[int, ...]]] | None = None,
) -> dict[str, np.ndarray]:
    """``dE/dw`` of the real network by central differences in mpmath (L10)."""
    return _fd_gradient(
        layout,
        params,
        xs,
        targets,
        mask,
        truncated=False,
        weight_mask=weight_mask,
        half=half,
        dps=dps,
        step=step,
        entries=entries,
    )


def mp_directional_derivative(
    layout,
    params: Mapping[str, np.ndarray],
    direction: Mapping[str, np.ndarray],
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    truncated: bool = True,
    weight_mask: Mapping[str, np.ndarray] | None = None,
    half: bool = True,
    dps: int = _DPS,
    step: str = _STEP,
) -> float:
    """``d/de E(w + e v)`` at e = 0 (``E_sg`` with ``Z`` from the base weights when
    ``truncated``) by one central difference in mpmath: ``v . grad``, two forward passes."""
    xs = _check_xs(layout, xs)
    d, tm = _target_mask(targets, mask, (xs.shape[0], int(layout.n_out)))
    wm = reference_mask(layout) if weight_mask is None else weight_mask
    with mpmath.workdps(dps):
        W = _mp_weights(params, wm)
        Z = _run(layout, W, xs, None).z if truncated else None
        hh = mpmath.mpf(step)
        V = _mp_weights(direction, wm)

        def moved(sign: int) -> dict:
            return {n: _axpy(W[n], V[n], sign * hh) for n in NAMES}

        up = _loss(_run(layout, moved(1), xs, Z), d, tm, half)
        down = _loss(_run(layout, moved(-1), xs, Z), d, tm, half)
        return float((up - down) / (2 * hh))


def _axpy(w, v, a):
    if isinstance(w, list):
        return [_axpy(wi, vi, a) for wi, vi in zip(w, v, strict=True)]
    return w + a * v
