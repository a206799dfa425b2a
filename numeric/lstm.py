r"""The 1997 LSTM layer: layouts, forward pass, truncated and full gradients (SPEC L1-L12).

A layer of ``C = n_blocks`` memory-cell blocks of ``S = block_size`` cells (block ``j``: cells
``c_j^v`` sharing an input gate ``in_j`` and an output gate ``out_j``), ``H = n_hidden``
conventional hidden units and ``K = n_out`` output units. Every hidden-layer unit reads the
sources, in this column order (``P = n_in + C S + 2 C + H + 1`` columns)::

    z(t) = [x(t), y^c(t-1) (cell v of block j at j*S + v), y^in(t-1), y^out(t-1), y^h(t-1), 1]

and the output units read ``o(t) = [y^c(t), y^h(t), x(t), 1]`` (``Q = C S + H + n_in + 1``).
Timing is the paper's experiments' (§5): outputs see the cells of the same step; every
activation and state is 0 at t = 0. Forward pass (eqs. 6-9), for t = 1..T::

    y^in = f(w_in z),  y^out = f(w_out z),  s_c(t) = s_c(t-1) + y^in g(w_c z)
    y^c = y^out h(s_c),  y^h = f(w_h z),  y^k = f(w_k o)

with ``f`` the logistic function (gates, hidden and output units) and ``g``, ``h`` chosen by
name (the paper's ``g(x) = 2 tanh(x/2)``, ``h(x) = tanh(x/2)`` by default).

Parameters are a dict of float64 arrays ``w_in (C, P)``, ``w_out (C, P)``, ``w_c (C, S, P)``,
``w_h (H, P)``, ``w_k (K, Q)``. :attr:`Layout.mask` says which entries exist (the paper's
Table 10: connectivity ``"F"`` or ``"B"``, the bias option, output gates); masked entries act as
0 whatever the array holds and get gradient exactly 0.

Loss and gradients: ``E = 1/2 sum over masked (t, k) of (d_k(t) - y^k(t))^2``, so the output
error is eq. (19) as printed, ``e_k = f'(net_k)(d_k - y^k) = -dE/dnet_k`` (the paper's eq. (16)
has no 1/2 and its eq. (19) drops the resulting 2; SPEC L9). Gradients are ``dE/dw`` (the
paper's update is ``Delta w = -alpha dE/dw``):

* :func:`truncated_gradient`: the paper's learning rule, eqs. (19)-(28), computed online,
  forward in time, with memory independent of T (L6, L8). It is the exact gradient of the
  stop-gradient network in which every source ``z(t)`` of a hidden-layer net input is
  detached (L2, L7).
* :func:`full_gradient`: exact back-propagation through time, O(T) memory (L10).
* :func:`bptt_gradient` with ``detach=True``: the stop-gradient network's gradient by reverse
  accumulation, an independent route to :func:`truncated_gradient` (L7).

The step computations are the generated kernels of ``numeric/_generated/lstm.py``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from . import backends as _backends
from ._generated import squashing as _sq
from ._generated.lstm import forward_step, reverse_step, truncated_step
from ._validate import (
    InvalidArgumentError,
    as_array,
    as_generator,
    as_int,
    first_nonfinite,
    require,
)
from .activations import get_activation

__all__ = [
    "BIAS_OPTIONS",
    "CONNECTIVITIES",
    "PAPER_INIT",
    "PAPER_LAYOUTS",
    "PARAMETER_NAMES",
    "Forward",
    "Layout",
    "OnlineLearner",
    "bptt_gradient",
    "forward",
    "full_gradient",
    "init_params",
    "outputs",
    "truncated_gradient",
    "truncated_gradient_and_outputs",
]

PARAMETER_NAMES: tuple[str, ...] = ("w_in", "w_out", "w_c", "w_h", "w_k")
_PARAMETER_SET = frozenset(PARAMETER_NAMES)
_PARAM_LABELS = {name: f"params[{name!r}]" for name in PARAMETER_NAMES}
CONNECTIVITIES: tuple[str, ...] = ("F", "B")
BIAS_OPTIONS: tuple[str, ...] = ("none", "gates", "hidden", "all")


@dataclass(frozen=True)
class Layout:
    """An LSTM architecture: sizes, connectivity, biases, output gates and cell squashing.

    ``connectivity="F"``: hidden-layer units (gates, cells, hidden units) read ``x(t)`` and
    every hidden-layer unit of ``t-1``; outputs read the cells and hidden units (not ``x``).
    ``"B"``: hidden-layer units read only ``x(t)`` (no recurrence but the carousel); outputs also
    read ``x(t)``. ``bias``: ``"none"``; ``"gates"`` (input and output gates); ``"hidden"``
    (gates, cells, hidden units); ``"all"`` (those and the outputs). ``output_gates=False``:
    ``y^out = 1`` and ``w_out`` is all masked. ``g``, ``h``: activation names of
    :mod:`errorflow.numeric.activations` (``"g"`` = 2 tanh(x/2), ``"h"`` = tanh(x/2),
    ``"logistic"``, ``"identity"``, ``"tanh"``).
    """

    n_in: int
    n_out: int
    n_blocks: int
    block_size: int
    n_hidden: int = 0
    connectivity: str = "F"
    bias: str = "all"
    output_gates: bool = True
    g: str = "g"
    h: str = "h"

    def __post_init__(self) -> None:
        for name, minimum in (
            ("n_in", 1),
            ("n_out", 1),
            ("n_blocks", 1),
            ("block_size", 1),
            ("n_hidden", 0),
        ):
            object.__setattr__(self, name, as_int(getattr(self, name), name, minimum))
        require(
            self.connectivity in CONNECTIVITIES,
            "connectivity",
            f"expected one of {CONNECTIVITIES}, got {self.connectivity!r}",
        )
        require(
            self.bias in BIAS_OPTIONS, "bias", f"expected one of {BIAS_OPTIONS}, got {self.bias!r}"
        )
        require(
            isinstance(self.output_gates, (bool, np.bool_)),
            "output_gates",
            f"expected True or False, got {self.output_gates!r}",
        )
        object.__setattr__(self, "output_gates", bool(self.output_gates))
        get_activation(self.g, "g")
        get_activation(self.h, "h")

    # -- sizes --
    @property
    def n_cells(self) -> int:
        """``C S``: all memory cells."""
        return self.n_blocks * self.block_size

    @property
    def n_sources(self) -> int:
        """``P``: columns of ``z(t)``, the hidden-layer sources."""
        return self.n_in + self.n_cells + 2 * self.n_blocks + self.n_hidden + 1

    @property
    def n_output_sources(self) -> int:
        """``Q``: columns of ``o(t)``, the output units' sources."""
        return self.n_cells + self.n_hidden + self.n_in + 1

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Each parameter's shape."""
        return dict(self._shapes)

    @cached_property
    def _shapes(self) -> dict[str, tuple[int, ...]]:
        C, S, H, K, P, Q = (
            self.n_blocks,
            self.block_size,
            self.n_hidden,
            self.n_out,
            self.n_sources,
            self.n_output_sources,
        )
        return {"w_in": (C, P), "w_out": (C, P), "w_c": (C, S, P), "w_h": (H, P), "w_k": (K, Q)}

    def source_slices(self) -> dict[str, slice]:
        """Where each group of sources sits in ``z(t)``."""
        n, N, C, H = self.n_in, self.n_cells, self.n_blocks, self.n_hidden
        return {
            "x": slice(0, n),
            "y_c": slice(n, n + N),
            "y_in": slice(n + N, n + N + C),
            "y_out": slice(n + N + C, n + N + 2 * C),
            "y_h": slice(n + N + 2 * C, n + N + 2 * C + H),
            "bias": slice(n + N + 2 * C + H, n + N + 2 * C + H + 1),
        }

    @cached_property
    def _masks(self) -> dict[str, np.ndarray]:
        P, N, H = self.n_sources, self.n_cells, self.n_hidden
        sl = self.source_slices()
        row = np.zeros(P, dtype=bool)  # what a hidden-layer unit reads
        row[sl["x"]] = True
        if self.connectivity == "F":
            for group in ("y_c", "y_in", "y_h"):
                row[sl[group]] = True
            row[sl["y_out"]] = self.output_gates
        gate_row, unit_row = row.copy(), row.copy()
        gate_row[sl["bias"]] = self.bias in ("gates", "hidden", "all")
        unit_row[sl["bias"]] = self.bias in ("hidden", "all")
        out = np.zeros(self.n_output_sources, dtype=bool)
        out[: N + H] = True
        out[N + H : N + H + self.n_in] = self.connectivity == "B"
        out[-1] = self.bias == "all"
        shapes = self.shapes
        masks = {
            "w_in": np.broadcast_to(gate_row, shapes["w_in"]).copy(),
            "w_out": np.broadcast_to(gate_row & self.output_gates, shapes["w_out"]).copy(),
            "w_c": np.broadcast_to(unit_row, shapes["w_c"]).copy(),
            "w_h": np.broadcast_to(unit_row, shapes["w_h"]).copy(),
            "w_k": np.broadcast_to(out, shapes["w_k"]).copy(),
        }
        for arr in masks.values():
            arr.flags.writeable = False
        return masks

    @cached_property
    def _dense(self) -> frozenset[str]:
        """The parameters with no masked entry (nothing to zero)."""
        return frozenset(k for k, v in self._masks.items() if v.all())

    @property
    def mask(self) -> dict[str, np.ndarray]:
        """Parameter name -> bool array of its shape, True where the weight exists."""
        return {k: v.copy() for k, v in self._masks.items()}

    @property
    def n_weights(self) -> int:
        """Number of weights that exist (the paper's W, biases included)."""
        return int(sum(int(m.sum()) for m in self._masks.values()))


def _paper_2c(p: int) -> Layout:
    return Layout(p + 4, 2, 2, 1, connectivity="F", bias="none")


#: The architectures of the paper's Table 10 (with their ``n_weights``): exp. 1 (264, 276),
#: 2a (10504, no output gate, g logistic, h identity), 2c for p = 50, 100, 200, 500, 1000
#: (364 ... 6064), 3a (102), 4 and 5 (93), 6a (156), 6b (308).
PAPER_LAYOUTS: dict[str, Layout] = {
    "1-1": Layout(7, 7, 4, 1, connectivity="F", bias="gates"),
    "1-2": Layout(7, 7, 3, 2, connectivity="F", bias="gates"),
    "2a": Layout(
        101,
        101,
        1,
        1,
        connectivity="B",
        bias="none",
        output_gates=False,
        g="logistic",
        h="identity",
    ),
    **{f"2c-{i}": _paper_2c(p) for i, p in enumerate((50, 100, 200, 500, 1000), start=1)},
    "3a": Layout(1, 1, 3, 1, connectivity="F", bias="hidden"),
    "4-1": Layout(2, 1, 2, 2, connectivity="F", bias="all"),
    "6a": Layout(8, 4, 2, 2, connectivity="F", bias="all"),
    "6b": Layout(8, 8, 3, 2, connectivity="F", bias="all"),
}

#: ``init_params`` options of each Table 10 architecture: the initial weight interval
#: (Table 11: [-0.2, 0.2] for exps. 1 and 2, [-0.1, 0.1] otherwise) and the gate-bias
#: initialisations of Table 10 (one per block; "r", random, means the default draw).
PAPER_INIT: dict[str, dict[str, object]] = {
    "1-1": {"scale": 0.2, "output_gate_bias": (-1.0, -2.0, -3.0, -4.0)},
    "1-2": {"scale": 0.2, "output_gate_bias": (-1.0, -2.0, -3.0)},
    "2a": {"scale": 0.2},
    **{f"2c-{i}": {"scale": 0.2} for i in range(1, 6)},
    "3a": {
        "scale": 0.1,
        "output_gate_bias": (-2.0, -4.0, -6.0),
        "input_gate_bias": (-1.0, -3.0, -5.0),
    },
    "4-1": {"scale": 0.1, "input_gate_bias": (-3.0, -6.0)},
    "6a": {"scale": 0.1, "input_gate_bias": (-2.0, -4.0)},
    "6b": {"scale": 0.1, "input_gate_bias": (-2.0, -4.0, -6.0)},
}


def _layout(layout: object) -> Layout:
    if not isinstance(layout, Layout):
        raise InvalidArgumentError(
            "layout", f"expected an errorflow.numeric.lstm.Layout, got {type(layout).__name__}"
        )
    return layout


def _gate_bias(value: object, name: str, layout: Layout, param: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = as_array(value, name, ndim=(0, 1), what=f"a number or {layout.n_blocks} numbers")
    arr = np.broadcast_to(arr, (layout.n_blocks,)) if arr.ndim == 0 else arr
    require(
        arr.shape == (layout.n_blocks,),
        name,
        f"expected one value per block ({layout.n_blocks}), got {arr.shape[0]}",
    )
    require(
        bool(layout._masks[param][:, -1].all()),
        name,
        f"the layout has no bias weight on these gates (bias={layout.bias!r}"
        + ("" if layout.output_gates or param == "w_in" else ", output_gates=False")
        + ")",
    )
    return arr


def init_params(
    layout: Layout,
    rng: np.random.Generator | int | None = None,
    scale: float = 0.1,
    *,
    input_gate_bias: float | Sequence[float] | None = None,
    output_gate_bias: float | Sequence[float] | None = None,
) -> dict[str, np.ndarray]:
    """Weights drawn uniformly from ``[-scale, scale]`` (the paper's initialisation), masked
    entries 0; optionally the gate biases set to given values (a number, or one per block),
    as in Table 10 (e.g. ``PAPER_INIT["4-1"]``: input-gate biases -3 and -6)."""
    layout = _layout(layout)
    gen = as_generator(rng)
    require(
        isinstance(scale, numbers.Real) and np.isfinite(scale) and scale >= 0,
        "scale",
        f"expected a finite number >= 0, got {scale!r}",
    )
    biases = {
        "w_in": _gate_bias(input_gate_bias, "input_gate_bias", layout, "w_in"),
        "w_out": _gate_bias(output_gate_bias, "output_gate_bias", layout, "w_out"),
    }
    params = {}
    for name, shape in layout.shapes.items():
        arr = gen.uniform(-scale, scale, size=shape) * layout._masks[name]
        if biases.get(name) is not None:
            arr[:, -1] = biases[name]
        params[name] = arr
    return params


def _params(layout: Layout, params: object) -> dict[str, np.ndarray]:
    """Checked parameters with masked entries set to 0 (copies where a mask zeroes
    something; read-only use of the caller's arrays otherwise)."""
    if not isinstance(params, (dict, Mapping)):
        raise InvalidArgumentError(
            "params", f"expected a dict of arrays {PARAMETER_NAMES}, got {type(params).__name__}"
        )
    if params.keys() != _PARAMETER_SET:
        missing = [k for k in PARAMETER_NAMES if k not in params]
        require(
            not missing, "params", f"missing key(s) {missing}; expected {list(PARAMETER_NAMES)}"
        )
        extra = sorted(str(k) for k in params if k not in PARAMETER_NAMES)
        require(not extra, "params", f"unexpected key(s) {extra}; expected {list(PARAMETER_NAMES)}")
    out = {}
    for name, shape in layout._shapes.items():
        arr = as_array(
            params[name], _PARAM_LABELS[name], ndim=len(shape), shape=shape, what=str(shape)
        )
        out[name] = arr if name in layout._dense else np.where(layout._masks[name], arr, 0.0)
    return out


def _inputs(layout: Layout, xs: object) -> np.ndarray:
    arr = as_array(xs, "xs", ndim=2, shape=(None, layout.n_in), what=f"(T, {layout.n_in})")
    require(arr.shape[0] >= 1, "xs", "expected at least one time step (T >= 1)")
    return arr


def _targets(
    layout: Layout, T: int, targets: object, mask: object
) -> tuple[np.ndarray, np.ndarray | None]:
    """Checked ``(targets, mask)``: no copy of a float64 ``targets`` array and no (T, K)
    temporary (the online gradient's memory stays independent of ``T``); ``mask`` is ``None``
    for "all"."""
    K = layout.n_out
    d = as_array(
        targets, "targets", ndim=2, shape=(T, K), what=f"(T, {K}) = ({T}, {K})", finite=False
    )
    m = None
    if mask is not None:
        raw = np.asarray(mask)
        require(raw.shape == (T, K), "mask", f"expected shape ({T}, {K}), got {raw.shape}")
        if raw.dtype != bool:
            require(
                np.issubdtype(raw.dtype, np.number) and bool(np.isin(raw, (0, 1)).all()),
                "mask",
                f"expected a bool array of shape ({T}, {K}), got dtype {raw.dtype}",
            )
            raw = raw.astype(bool)
        m = raw
    bad = first_nonfinite(d, m)
    if bad is not None:
        raise InvalidArgumentError(
            "targets", f"expected finite values where the mask is set, got {d[bad]} at {bad}"
        )
    return d, m


def _step_target(d: np.ndarray, m: np.ndarray | None, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Step ``t``'s targets (0 where masked out, so NaN placeholders never enter) and mask."""
    if m is None:
        return d[t], np.ones(d.shape[1])
    return np.where(m[t], d[t], 0.0), m[t].astype(np.float64)


def _ones(x: np.ndarray) -> np.ndarray:
    return np.ones_like(x)


def _zeros(x: np.ndarray) -> np.ndarray:
    return np.zeros_like(x)


@dataclass(frozen=True)
class _Functions:
    f: object
    df: object
    fo: object
    dfo: object
    g: object
    dg: object
    h: object
    dh: object


@cache
def _functions(layout: Layout) -> _Functions:
    g, h = get_activation(layout.g, "g"), get_activation(layout.h, "h")
    fo, dfo = (_sq.logistic, _sq.d_logistic) if layout.output_gates else (_ones, _zeros)
    return _Functions(_sq.logistic, _sq.d_logistic, fo, dfo, g.f, g.df, h.f, h.df)


def _kernel_weights(w: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """The kernels' views: gate weights as (C, 1, P) so gates broadcast over a block's cells."""
    return w["w_in"][:, None, :], w["w_out"][:, None, :], w["w_c"], w["w_h"], w["w_k"]


def _initial_state(layout: Layout) -> tuple[np.ndarray, ...]:
    C, S, H = layout.n_blocks, layout.block_size, layout.n_hidden
    return (np.zeros((C, S)), np.zeros((C, S)), np.zeros((C, 1)), np.zeros((C, 1)), np.zeros(H))


@dataclass(frozen=True)
class Forward:
    """A forward pass: every activation, state and net input, indexed by ``t - 1``.

    ``y (T, K)``, ``s (T, C, S)``, ``y_c (T, C, S)``, ``y_in (T, C)``, ``y_out (T, C)``,
    ``y_h (T, H)``, ``net_in (T, C)``, ``net_out (T, C)``, ``net_c (T, C, S)``,
    ``net_h (T, H)``, ``net_k (T, K)``. Slopes computed from these saved values (e.g.
    ``h'(s)`` from ``s``) stay accurate where the slope is tiny (SPEC L11).
    """

    layout: Layout
    y: np.ndarray
    s: np.ndarray
    y_c: np.ndarray
    y_in: np.ndarray
    y_out: np.ndarray
    y_h: np.ndarray
    net_in: np.ndarray
    net_out: np.ndarray
    net_c: np.ndarray
    net_h: np.ndarray
    net_k: np.ndarray

    @property
    def T(self) -> int:
        return self.y.shape[0]

    def sources(self, xs: np.ndarray) -> np.ndarray:
        """``z(t)`` for t = 1..T as a (T, P) array, given the inputs the pass ran on."""
        T, C = self.T, self.layout.n_blocks
        prev = lambda a: np.concatenate([np.zeros((1, *a.shape[1:])), a[:-1]])  # noqa: E731
        return np.concatenate(
            [
                np.asarray(xs, dtype=np.float64),
                prev(self.y_c).reshape(T, -1),
                prev(self.y_in).reshape(T, C),
                prev(self.y_out).reshape(T, C),
                prev(self.y_h),
                np.ones((T, 1)),
            ],
            axis=1,
        )


def _run_forward(layout: Layout, w: dict[str, np.ndarray], xs: np.ndarray, fn: _Functions):
    T = xs.shape[0]
    C, S, H, K = layout.n_blocks, layout.block_size, layout.n_hidden, layout.n_out
    store = {
        "z": np.empty((T, layout.n_sources)),
        "o": np.empty((T, layout.n_output_sources)),
        "net_in": np.empty((T, C, 1)),
        "net_out": np.empty((T, C, 1)),
        "net_c": np.empty((T, C, S)),
        "net_h": np.empty((T, H)),
        "net_k": np.empty((T, K)),
        "y_in": np.empty((T, C, 1)),
        "y_out": np.empty((T, C, 1)),
        "g_c": np.empty((T, C, S)),
        "s": np.empty((T, C, S)),
        "h_s": np.empty((T, C, S)),
        "y_c": np.empty((T, C, S)),
        "y_h": np.empty((T, H)),
        "y_k": np.empty((T, K)),
    }
    names = (
        "z",
        "o",
        "net_in",
        "net_out",
        "net_c",
        "net_h",
        "net_k",
        "y_in",
        "y_out",
        "g_c",
        "s",
        "h_s",
        "y_c",
        "y_h",
        "y_k",
    )
    weights = _kernel_weights(w)
    s_prev, yc_prev, yin_prev, yout_prev, yh_prev = _initial_state(layout)
    for t in range(T):
        out = forward_step(
            xs[t], s_prev, yc_prev, yin_prev, yout_prev, yh_prev, *weights, fn.f, fn.fo, fn.g, fn.h
        )
        for name, value in zip(names, out, strict=True):
            store[name][t] = value
        s_prev, yc_prev = store["s"][t], store["y_c"][t]
        yin_prev, yout_prev, yh_prev = store["y_in"][t], store["y_out"][t], store["y_h"][t]
    return store


def forward(layout: Layout, params: Mapping[str, np.ndarray], xs: object) -> Forward:
    """Run the layer over ``xs`` (shape ``(T, n_in)``); eqs. (6)-(9), SPEC L1."""
    layout = _layout(layout)
    w = _params(layout, params)
    x = _inputs(layout, xs)
    st = _run_forward(layout, w, x, _functions(layout))
    T = x.shape[0]
    return Forward(
        layout=layout,
        y=st["y_k"],
        s=st["s"],
        y_c=st["y_c"],
        y_in=st["y_in"].reshape(T, -1),
        y_out=st["y_out"].reshape(T, -1),
        y_h=st["y_h"],
        net_in=st["net_in"].reshape(T, -1),
        net_out=st["net_out"].reshape(T, -1),
        net_c=st["net_c"],
        net_h=st["net_h"],
        net_k=st["net_k"],
    )


def outputs(
    layout: Layout, params: Mapping[str, np.ndarray], xs: object, *, backend: str = "auto"
) -> np.ndarray:
    """The output activations ``y^k(t)``, a ``(T, K)`` array (eqs. 6-9, SPEC L1).

    The same values as ``forward(layout, params, xs).y`` without storing the other
    activations. ``backend``: ``"numba"`` runs the generated loop kernel ``forward_sequence``
    (all T steps in one call), ``"numpy"`` the step kernel in a Python loop, ``"auto"`` the
    first available (:mod:`errorflow.numeric.backends`).
    """
    layout = _layout(layout)
    w = _params(layout, params)
    x = _inputs(layout, xs)
    if _backends.resolve(backend) == "numba":
        fn = _backends.compiled("_generated.lstm_loops", "forward_sequence")
        weights = tuple(np.ascontiguousarray(a) for a in _kernel_weights(w))
        return fn(np.ascontiguousarray(x), *weights, *_codes(layout))
    return _run_forward(layout, w, x, _functions(layout))["y_k"]


def _grads_dict(layout: Layout, acc: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    shapes, masks, dense = layout._shapes, layout._masks, layout._dense
    return {
        name: a.reshape(shapes[name])
        if name in dense
        else np.where(masks[name], a.reshape(shapes[name]), 0.0)
        for name, a in zip(PARAMETER_NAMES, acc, strict=True)
    }


@dataclass(frozen=True)
class _Problem:
    """A checked gradient problem: weights (masked), inputs, targets, functions, kernel views."""

    layout: Layout
    w: dict[str, np.ndarray]
    x: np.ndarray
    d: np.ndarray
    m: np.ndarray | None
    fn: _Functions
    weights: tuple[np.ndarray, ...]


def _problem(layout: object, params: object, xs: object, targets: object, mask: object) -> _Problem:
    """Validate the arguments every gradient route shares, in the order they are named."""
    layout = _layout(layout)
    w = _params(layout, params)
    x = _inputs(layout, xs)
    d, m = _targets(layout, x.shape[0], targets, mask)
    return _Problem(layout, w, x, d, m, _functions(layout), _kernel_weights(w))


@cache
def _codes(layout: Layout) -> tuple[int, int, int, int]:
    """The loop kernels' integer codes of f, the output-gate function, g and h."""
    from ._generated.lstm_loops import ACTIVATION_CODES as codes

    fo = "logistic" if layout.output_gates else "one"
    return codes["logistic"], codes[fo], codes[layout.g], codes[layout.h]


def _sequence_args(pb: _Problem) -> tuple:
    """The loop kernels' arguments for a checked problem: contiguous ``xs``, ``targets``, a
    ``(T, K)`` or ``(1, K)`` bool mask, the weights, the squashing codes (flags go after)."""
    K = pb.layout.n_out
    mask = np.ones((1, K), dtype=bool) if pb.m is None else np.ascontiguousarray(pb.m)
    weights = tuple(np.ascontiguousarray(a) for a in pb.weights)
    x, d = np.ascontiguousarray(pb.x), np.ascontiguousarray(pb.d)
    return (x, d, mask, *weights, *_codes(pb.layout))


def _run_sequence(pb: _Problem, kernel: str, **flags: bool) -> tuple[float, dict[str, np.ndarray]]:
    """Run a generated whole-sequence gradient kernel (numba backend) on a checked problem."""
    fn = _backends.compiled("_generated.lstm_loops", kernel)
    loss, *grads = fn(*_sequence_args(pb), *flags.values())
    return float(loss), _grads_dict(pb.layout, grads)


def truncated_gradient_and_outputs(
    layout: Layout,
    params: Mapping[str, np.ndarray],
    xs: object,
    targets: object,
    mask: object = None,
    *,
    backend: str = "auto",
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """:func:`truncated_gradient` plus the last step's outputs: ``(E, grads, y^k(T))``.

    ``y^k(T)`` (shape ``(K,)``) is what an online learner scores a sequence by (the paper's
    success criteria look at the outputs at the sequence end, §5); the numba backend returns
    it from the same run of ``truncated_sequence``, so it costs nothing extra.
    """
    pb = _problem(layout, params, xs, targets, mask)
    if _backends.resolve(backend) == "numba":
        fn = _backends.compiled("_generated.lstm_loops", "truncated_sequence")
        loss, y_last, *grads = fn(*_sequence_args(pb))
        return float(loss), _grads_dict(pb.layout, grads), y_last
    return _truncated_numpy(pb)


def truncated_gradient(
    layout: Layout,
    params: Mapping[str, np.ndarray],
    xs: object,
    targets: object,
    mask: object = None,
    *,
    backend: str = "auto",
) -> tuple[float, dict[str, np.ndarray]]:
    """The paper's truncated gradient, online: ``(E, {name: dE/dw})`` (SPEC L2, L6-L8).

    ``E = 1/2 sum over masked (t, k) of (d_k(t) - y^k(t))^2`` (``mask``: bool ``(T, K)``,
    default all; targets may be NaN where the mask is False). Each step runs the generated
    ``truncated_step``: the forward pass, the error signals of eqs. (19)-(23), the partials
    ``ds_c/dw_in`` and ``ds_c/dw_c`` accumulated forward in time (eqs. 25, 27) and the step's
    gradient (eqs. 22, 24, 26, 28). Only those partials and the previous activations are
    carried: memory ``O(W)``, independent of ``T``. The result is the exact gradient of the
    network whose hidden-layer sources ``z(t)`` are detached (stop-gradient).

    ``backend``: ``"numba"`` runs the generated loop kernel ``truncated_sequence`` (the same
    statements, compiled; all T steps in one call), ``"numpy"`` the step kernel in a Python
    loop, ``"auto"`` the first available (:mod:`errorflow.numeric.backends`).
    """
    loss, grads, _ = truncated_gradient_and_outputs(
        layout, params, xs, targets, mask, backend=backend
    )
    return loss, grads


def _truncated_numpy(
    pb: _Problem, learn: Callable[[Sequence[np.ndarray]], None] | None = None
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """The online rule with the NumPy step kernel: ``(E, grads, y^k(T))``. ``learn``, if
    given, is called with each step's gradient (kernel shapes) right after the step: the
    per-step weight update of real-time learning."""
    layout, x, d, m, fn, weights = pb.layout, pb.x, pb.d, pb.m, pb.fn, pb.weights
    C, S, P = layout.n_blocks, layout.block_size, layout.n_sources
    state = _initial_state(layout)
    ds_in, ds_c = np.zeros((C, S, P)), np.zeros((C, S, P))
    acc = [np.zeros_like(a) for a in weights]
    loss = 0.0
    for t in range(x.shape[0]):
        d_t, m_t = _step_target(d, m, t)
        out = truncated_step(
            x[t], *state, d_t, m_t, ds_in, ds_c, *weights,
            fn.f, fn.df, fn.fo, fn.dfo, fn.g, fn.dg, fn.h, fn.dh,
        )  # fmt: skip
        s, y_c, y_in, y_out, y_h, y_k, ds_in, ds_c, *grads = out
        for a, gw in zip(acc, grads, strict=True):
            a += gw
        if learn is not None:
            learn(grads)
        loss += 0.5 * float(np.sum(m_t * (d_t - y_k) ** 2))
        state = (s, y_c, y_in, y_out, y_h)
    return loss, _grads_dict(layout, acc), y_k


def bptt_gradient(
    layout: Layout,
    params: Mapping[str, np.ndarray],
    xs: object,
    targets: object,
    mask: object = None,
    *,
    detach: bool = False,
    backend: str = "auto",
) -> tuple[float, dict[str, np.ndarray]]:
    """Back-propagation through time with the generated ``reverse_step`` (SPEC L7, L10).

    ``detach=False``: the exact gradient of ``E`` (the same as :func:`full_gradient`).
    ``detach=True``: the error sent back through the hidden-layer sources, ``-dE/dz(t+1)``,
    is dropped at every step, which differentiates the stop-gradient network: the truncated
    gradient by reverse accumulation, an independent route to :func:`truncated_gradient`.
    Stores every step's values: memory ``O(T W)``. ``backend`` as in
    :func:`truncated_gradient` (``"numba"``: the generated loop kernel ``bptt_sequence``).
    """
    _layout(layout)  # a bad layout is reported before a bad detach, as before
    require(
        isinstance(detach, (bool, np.bool_)), "detach", f"expected True or False, got {detach!r}"
    )
    pb = _problem(layout, params, xs, targets, mask)
    if _backends.resolve(backend) == "numba":
        return _run_sequence(pb, "bptt_sequence", detach=bool(detach))
    layout, d, m, fn, weights = pb.layout, pb.d, pb.m, pb.fn, pb.weights
    T = pb.x.shape[0]
    st = _run_forward(layout, pb.w, pb.x, fn)
    th_z = np.zeros(layout.n_sources)
    th_s = np.zeros((layout.n_blocks, layout.block_size))
    acc = [np.zeros_like(a) for a in weights]
    loss = 0.0
    for t in range(T - 1, -1, -1):
        d_t, m_t = _step_target(d, m, t)
        loss += 0.5 * float(np.sum(m_t * (d_t - st["y_k"][t]) ** 2))
        th_z, th_s, *grads = reverse_step(
            st["z"][t], st["o"][t], st["net_in"][t], st["net_out"][t], st["net_c"][t],
            st["net_h"][t], st["net_k"][t], st["y_in"][t], st["y_out"][t], st["g_c"][t],
            st["s"][t], st["h_s"][t], st["y_k"][t], d_t, m_t,
            np.zeros_like(th_z) if detach else th_z, th_s, *weights,
            fn.df, fn.dfo, fn.dg, fn.dh,
        )  # fmt: skip
        for a, gw in zip(acc, grads, strict=True):
            a += gw
    return loss, _grads_dict(layout, acc)


def full_gradient(
    layout: Layout,
    params: Mapping[str, np.ndarray],
    xs: object,
    targets: object,
    mask: object = None,
    *,
    backend: str = "auto",
) -> tuple[float, dict[str, np.ndarray]]:
    """The exact (untruncated) gradient ``(E, {name: dE/dw})`` by BPTT (SPEC L10).

    The carousel still passes error back with factor exactly 1; the difference from
    :func:`truncated_gradient` comes from the error sent back through the recurrent weights
    into the gates, cells and hidden units, and vanishes when those weights are zero
    (connectivity ``"B"``). Memory ``O(T W)``. ``backend`` as in :func:`truncated_gradient`.
    """
    return bptt_gradient(layout, params, xs, targets, mask, detach=False, backend=backend)


class OnlineLearner:
    r"""The paper's online learning with the truncated gradient (§4, A.1; SPEC L2, L6).

    Holds the weights (a private, masked float64 copy of ``params``) and learns from one
    sequence per :meth:`step`, with ``Delta w = -lr dE/dw`` from the truncated gradient
    (eqs. 19-28):

    * ``update="step"``: after every time step, with that step's gradient, the next step
      running on the new weights (the paper's real-time learning; the carried partials
      ``ds_c/dw`` are RTRL-style, computed with the weights of their own step);
    * ``update="sequence"``: once, at the end of the sequence, with the gradient summed over
      its steps. Where the error is given only at the sequence end (the paper's exps. 2c-6)
      the two are identical, since every earlier step's gradient is 0.

    The weights are validated once, here; each :meth:`step` checks only its sequence. The
    numba backend runs the generated loop kernels (``truncated_online``: weights updated in
    place inside the kernel; ``truncated_sequence``: the gradient and the last outputs in one
    call), so a step costs little more than the kernel.
    """

    def __init__(
        self,
        layout: Layout,
        params: Mapping[str, np.ndarray],
        lr: float,
        *,
        update: str = "step",
        backend: str = "auto",
    ) -> None:
        self.layout = _layout(layout)
        require(
            isinstance(lr, numbers.Real) and np.isfinite(lr) and lr > 0,
            "lr",
            f"expected a finite number > 0, got {lr!r}",
        )
        require(
            update in ("step", "sequence"),
            "update",
            f"expected 'step' or 'sequence', got {update!r}",
        )
        self.lr = float(lr)
        self.update = update
        self._params = {
            k: np.array(v, dtype=np.float64) for k, v in _params(self.layout, params).items()
        }
        # the kernels' (C, 1, P) views of the gate weights share memory with _params
        self._weights = _kernel_weights(self._params)
        # 1.0 where a weight exists and learns; the kernels read (C, 1, P) views of these
        self._learns = {k: m.astype(np.float64) for k, m in self.layout._masks.items()}
        self._keep = _kernel_weights(self._learns)
        self._numba = _backends.resolve(backend) == "numba"
        kernel = "truncated_online" if update == "step" else "truncated_sequence"
        self._fn = _backends.compiled("_generated.lstm_loops", kernel) if self._numba else None

    @property
    def params(self) -> dict[str, np.ndarray]:
        """A copy of the current weights."""
        return {k: v.copy() for k, v in self._params.items()}

    def _where(self, name: object, where: object) -> np.ndarray:
        require(name in _PARAMETER_SET, "name", f"expected one of {PARAMETER_NAMES}, got {name!r}")
        shape = self.layout._shapes[name]
        raw = np.asarray(where)
        require(
            raw.dtype == bool and raw.shape == shape,
            "where",
            f"expected a bool array of shape {shape}, got {raw.dtype} {raw.shape}",
        )
        return raw & self.layout._masks[name]

    def freeze(self, name: str, where: np.ndarray, value: float = 0.0) -> None:
        """Hold the existing weights of ``name`` at ``where`` (bool, the parameter's shape) at
        ``value`` and stop them learning: e.g. a unit not yet added to the net (the paper
        adds exp. 2a's cell and gate once the error stops falling, §5.2)."""
        sel = self._where(name, where)
        self._params[name][sel] = float(value)
        self._learns[name][sel] = 0.0

    def unfreeze(self, name: str, where: np.ndarray, values: object = None) -> None:
        """Let the existing weights of ``name`` at ``where`` learn again, first set to
        ``values`` (an array of the parameter's shape, read at ``where``) if given."""
        sel = self._where(name, where)
        if values is not None:
            shape = self.layout._shapes[name]
            arr = as_array(values, "values", ndim=len(shape), shape=shape, what=str(shape))
            self._params[name][sel] = arr[sel]
        self._learns[name][sel] = 1.0

    def _apply(self, grads: Sequence[np.ndarray]) -> None:
        for w, g, keep in zip(self._weights, grads, self._keep, strict=True):
            w -= self.lr * (keep * g)

    def step(self, xs: object, targets: object, mask: object = None) -> tuple[float, np.ndarray]:
        """Learn from one sequence: returns ``(E, y^k(T))``, the loss and last outputs of the
        sequence as it was presented (``update="sequence"``: before the update;
        ``"step"``: each step's output before that step's update)."""
        layout = self.layout
        x = _inputs(layout, xs)
        d, m = _targets(layout, x.shape[0], targets, mask)
        if self._numba:
            mk = np.ones((1, layout.n_out), dtype=bool) if m is None else np.ascontiguousarray(m)
            data = (np.ascontiguousarray(x), np.ascontiguousarray(d), mk)
            if self.update == "step":
                loss, y_last = self._fn(*data, *self._weights, *self._keep, self.lr,
                                        *_codes(layout))  # fmt: skip
                return float(loss), y_last
            loss, y_last, *grads = self._fn(*data, *self._weights, *_codes(layout))
            self._apply(grads)
            return float(loss), y_last
        pb = _Problem(layout, self._params, x, d, m, _functions(layout), self._weights)
        if self.update == "step":
            loss, _, y_last = _truncated_numpy(pb, self._apply)
            return loss, y_last
        loss, grads, y_last = _truncated_numpy(pb)
        self._apply(_kernel_weights(grads))
        return loss, y_last
