"""Hypothesis strategies for the error-flow claims (test extra: needs ``hypothesis``).

They draw the same families as the registry's seeded samplers (:mod:`.sampling`): weight
matrices strictly under a norm bound, windows of net inputs, activations, lags, and whole
small recurrent-net problems. Import this module only where Hypothesis is installed.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from errorflow.numeric import rnn
from errorflow.numeric.activations import ACTIVATIONS

from .sampling import NORMS, scale_to_norm

__all__ = [
    "activations",
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
