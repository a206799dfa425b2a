"""Hypothesis strategies for the error-flow claims (test extra: needs ``hypothesis``).

They draw the same families as the registry's seeded samplers (:mod:`.sampling`): weight
matrices strictly under a norm bound, windows of net inputs, activations, lags, and whole
small recurrent-net problems. Import this module only where Hypothesis is installed.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from errorflow.numeric import lstm, rnn
from errorflow.numeric.activations import ACTIVATIONS

from .sampling import NORMS, scale_to_norm

__all__ = [
    "activations",
    "block_layouts",
    "lstm_params",
    "lstm_problems",
    "lstm_sequences",
    "net_windows",
    "recurrent_problems",
    "sizes",
    "trajectories",
    "weight_matrices",
]


def sizes(max_n: int = 6) -> st.SearchStrategy[int]:
    """Numbers of units, 1..max_n."""
    return st.integers(1, max_n)


def activations(names: tuple[str, ...] = tuple(ACTIVATIONS)) -> st.SearchStrategy[str]:
    """Activation names known to :mod:`errorflow.numeric.activations`."""
    return st.sampled_from(names)


def _entries(scale: float) -> st.SearchStrategy[float]:
    return st.floats(
        -scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=64
    )


@st.composite
def weight_matrices(
    draw: st.DrawFn,
    n: int | st.SearchStrategy[int] | None = None,
    bound: float = 1.0,
    norm: str = "max_row_sum",
    min_fraction: float = 0.0,
) -> np.ndarray:
    """``(n, n)`` float64 matrices with ``||W|| < bound`` in ``norm`` (one of ``NORMS``).

    The norm is ``fraction * bound`` with ``fraction`` drawn from ``[min_fraction, 1]``
    (1 included: the bound is approached as closely as float64 allows, never reached).
    """
    if norm not in NORMS:
        raise ValueError(f"norm: unknown {norm!r}; known: {', '.join(NORMS)}")
    size = draw(sizes()) if n is None else draw(n) if isinstance(n, st.SearchStrategy) else n
    raw = draw(hnp.arrays(np.float64, (size, size), elements=_entries(1.0)))
    fraction = draw(st.floats(min_fraction, 1.0, exclude_min=min_fraction == 0.0))
    return scale_to_norm(raw, bound, fraction, norm)


def net_windows(n: int, q: int | st.SearchStrategy[int], scale: float = 6.0):
    """``(q, n)`` windows of net inputs, ``nets[m-1] = net(t-m)``, entries in [-scale, scale]."""
    lag = q if isinstance(q, st.SearchStrategy) else st.just(q)
    return lag.flatmap(lambda k: hnp.arrays(np.float64, (k, n), elements=_entries(scale)))


@st.composite
def recurrent_problems(
    draw: st.DrawFn,
    max_n: int = 4,
    max_T: int = 6,
    names: tuple[str, ...] = ("logistic", "tanh", "identity"),
) -> dict[str, object]:
    """A small fully recurrent net with inputs, targets and an output mask."""
    n = draw(sizes(max_n))
    T = draw(st.integers(1, max_T))
    act = draw(activations(names))
    W = draw(weight_matrices(n, bound=2.0 if act != "identity" else 0.9, norm="max_row_sum"))
    xs = draw(hnp.arrays(np.float64, (T, n), elements=_entries(2.0)))
    targets = draw(hnp.arrays(np.float64, (T, n), elements=_entries(1.0)))
    mask = draw(hnp.arrays(np.bool_, (T, n)))
    return {"W": W, "xs": xs, "targets": targets, "mask": mask, "activation": act}


@st.composite
def trajectories(
    draw: st.DrawFn,
    n: int | st.SearchStrategy[int] | None = None,
    T: int | st.SearchStrategy[int] = 8,
    activation: str | st.SearchStrategy[str] = "logistic",
    bound: float = 3.0,
    input_scale: float = 2.0,
) -> tuple[np.ndarray, str, rnn.Trajectory]:
    """``(W, activation, trajectory)``: a real forward pass of a net with ``||W||_A < bound``.

    ``trajectory.nets[t-1] = net(t)``; ``trajectory.lag_window(t, q)`` gives the window
    :func:`errorflow.numeric.rnn.scaling_factor` takes.
    """
    size = draw(sizes()) if n is None else draw(n) if isinstance(n, st.SearchStrategy) else n
    steps = draw(T) if isinstance(T, st.SearchStrategy) else T
    act = draw(activation) if isinstance(activation, st.SearchStrategy) else activation
    W = draw(weight_matrices(size, bound=bound))
    xs = draw(hnp.arrays(np.float64, (steps, size), elements=_entries(input_scale)))
    return W, act, rnn.forward(W, xs, act)


# --- LSTM block layouts (SPEC L) --------------------------------------------------------------
#: The layout options of Table 10 (``lstm.Layout``'s ``connectivity`` and ``bias``).
LSTM_CONNECTIVITIES = ("F", "B")
LSTM_BIASES = ("none", "gates", "hidden", "all")


def _option(value, choices) -> st.SearchStrategy:
    if value is None:
        return st.sampled_from(choices)
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


@st.composite
def block_layouts(
    draw: st.DrawFn,
    max_in: int = 3,
    max_out: int = 2,
    max_blocks: int = 2,
    max_size: int = 2,
    max_hidden: int = 2,
    connectivity: str | st.SearchStrategy[str] | None = None,
    bias: str | st.SearchStrategy[str] | None = None,
    output_gates: bool | st.SearchStrategy[bool] | None = None,
    squashing: tuple[str, ...] = tuple(ACTIVATIONS),
) -> lstm.Layout:
    """Small :class:`lstm.Layout` s over every option: connectivity "F"/"B", every bias
    option, with and without output gates, g and h from ``squashing`` (default: every
    registered squashing function). A fixed value (or a strategy) pins an option."""
    return lstm.Layout(
        draw(st.integers(1, max_in)),
        draw(st.integers(1, max_out)),
        draw(st.integers(1, max_blocks)),
        draw(st.integers(1, max_size)),
        n_hidden=draw(st.integers(0, max_hidden)),
        connectivity=draw(_option(connectivity, LSTM_CONNECTIVITIES)),
        bias=draw(_option(bias, LSTM_BIASES)),
        output_gates=draw(_option(output_gates, (True, False))),
        g=draw(st.sampled_from(squashing)),
        h=draw(st.sampled_from(squashing)),
    )


@st.composite
def lstm_params(draw: st.DrawFn, layout: lstm.Layout, scale: float = 1.5) -> dict:
    """A parameter dict for ``layout``: entries in ``[-scale, scale]`` where a weight exists,
    0 where the layout masks it."""
    out = {}
    for name, shape in layout.shapes.items():
        raw = draw(hnp.arrays(np.float64, shape, elements=_entries(scale)))
        out[name] = np.where(layout.mask[name], raw, 0.0)
    return out


@st.composite
def lstm_sequences(
    draw: st.DrawFn, layout: lstm.Layout, T: int | st.SearchStrategy[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xs, targets, mask)``: inputs (T, n_in) in [-2, 2], targets (T, n_out) in [0, 1] and a
    bool target mask (T, n_out); T drawn from 1..6 unless given."""
    T = st.integers(1, 6) if T is None else T
    steps = draw(T) if isinstance(T, st.SearchStrategy) else T
    xs = draw(hnp.arrays(np.float64, (steps, layout.n_in), elements=_entries(2.0)))
    targets = draw(
        hnp.arrays(
            np.float64,
            (steps, layout.n_out),
            elements=st.floats(0.0, 1.0, allow_subnormal=False, width=64),
        )
    )
    mask = draw(hnp.arrays(np.bool_, (steps, layout.n_out)))
    return xs, targets, mask


@st.composite
def lstm_problems(
    draw: st.DrawFn, max_T: int = 6, scale: float = 1.5, **layout_options
) -> dict[str, object]:
    """A whole LSTM problem: ``layout`` (:func:`block_layouts` with ``layout_options``),
    ``params``, ``xs``, ``targets`` and ``mask``."""
    layout = draw(block_layouts(**layout_options))
    params = draw(lstm_params(layout, scale))
    xs, targets, mask = draw(lstm_sequences(layout, st.integers(1, max_T)))
    return {"layout": layout, "params": params, "xs": xs, "targets": targets, "mask": mask}
