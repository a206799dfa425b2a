"""Samplers shared by the claims registry (seeded NumPy) and the Hypothesis strategies.

The transforms here turn raw draws into the objects the claims are about (a weight matrix
strictly under a norm bound, a window of net inputs), so that ``errorflow verify`` and the
property tests sample the same families the same way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NORMS", "matrix_norm", "random_nets", "random_weights", "scale_to_norm"]

#: Matrix norms by name: the paper's max-row-sum norm (B9), the spectral norm (S4) and the
#: largest absolute entry (``w_max`` of B6/B9).
NORMS = ("max_row_sum", "spectral", "max_abs")


def matrix_norm(W: np.ndarray, norm: str) -> float:
    """``||W||`` in one of :data:`NORMS`."""
    if norm == "max_row_sum":
        return float(np.max(np.sum(np.abs(W), axis=1)))
    if norm == "spectral":
        return float(np.linalg.norm(W, 2))
    if norm == "max_abs":
        return float(np.max(np.abs(W)))
    raise ValueError(f"norm: unknown {norm!r}; known: {', '.join(NORMS)}")


def scale_to_norm(raw: np.ndarray, bound: float, fraction: float, norm: str) -> np.ndarray:
    """``raw`` rescaled so that ``||W|| = fraction * bound``, and strictly below ``bound``.

    ``fraction`` in (0, 1]; a zero ``raw`` stays zero. Rounding can land exactly on the bound
    when ``fraction`` is 1: the result is then nudged down by a few ulps, so the bound is never
    reached or crossed.
    """
    size = matrix_norm(raw, norm)
    if size == 0.0:
        return raw.astype(np.float64)
    W = raw * (fraction * bound / size)
    while matrix_norm(W, norm) >= bound:
        W = W * (1.0 - 2.0**-50)
    return W


def random_weights(
    rng: np.random.Generator, n: int, bound: float, norm: str = "max_row_sum", low: float = 0.5
) -> np.ndarray:
    """An ``(n, n)`` Gaussian matrix rescaled to ``||W|| = u * bound``, ``u ~ U(low, 1)``."""
    return scale_to_norm(rng.standard_normal((n, n)), bound, float(rng.uniform(low, 1.0)), norm)


def random_nets(rng: np.random.Generator, q: int, n: int, scale: float = 3.0) -> np.ndarray:
    """A ``(q, n)`` window of net inputs, ``nets[m-1] = net(t-m)``, Gaussian of std ``scale``."""
    return scale * rng.standard_normal((q, n))
