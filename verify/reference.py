"""High-precision references in mpmath (SPEC A3, B3, B10).

mpmath floats have an unbounded exponent, so ``0.25^5000`` is an ordinary number there; the
working precision only has to absorb rounding, and :func:`choose_dps` picks it from the
number of operations and the dynamic range involved. Every function restores the caller's
precision (``mpmath.workdps``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

__all__ = ["choose_dps", "mp_activation", "mp_log_scaling_factor", "mp_slope"]


def choose_dps(q: int, n: int, spread: float = 0.0) -> int:
    """Decimal digits for a product of ``q`` steps of ``n``-term sums.

    Rounding grows like ``q n`` ulps; cancellation between terms of magnitudes ``spread``
    decades apart costs up to ``spread`` digits. 20 digits are kept beyond both, so the
    reference is good to far below float64's 16.
    """
    return 20 + math.ceil(math.log10(q * n + 1)) + math.ceil(max(spread, 0.0))


def _logistic(x: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-x))


def mp_activation(name: str, x: float) -> mpmath.mpf:
    """``f(x)`` at the current precision (definitions of SPEC A)."""
    x = mpmath.mpf(x)
    return {
        "logistic": lambda: _logistic(x),
        # h = 2f - 1 = tanh(x/2) and g = 2 tanh(x/2) (A2, proved); tanh avoids the
        # cancellation of 2f - 1 near 0 at any working precision.
        "h": lambda: mpmath.tanh(x / 2),
        "g": lambda: 2 * mpmath.tanh(x / 2),
        "tanh": lambda: mpmath.tanh(x),
        "identity": lambda: x,
    }[name]()


def mp_slope(name: str, x: float) -> mpmath.mpf:
    """``f'(x)`` at the current precision, from the paper's definitions (no stable rewrite)."""
    x = mpmath.mpf(x)
    e = mpmath.exp(-x)
    return {
        "logistic": lambda: e / (1 + e) ** 2,
        "h": lambda: 2 * e / (1 + e) ** 2,
        "g": lambda: 4 * e / (1 + e) ** 2,
        "tanh": lambda: 1 / mpmath.cosh(x) ** 2,
        "identity": lambda: mpmath.mpf(1),
    }[name]()


def mp_log_scaling_factor(
    W: np.ndarray, nets: np.ndarray, activation: str, dps: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, log|S|)`` of ``S(q) = F'(t-q) W^T ... F'(t-1) W^T`` computed in mpmath.

    Returns float64 arrays; ``log|S|`` is rounded from the high-precision value, so it is the
    correctly rounded reference for :func:`errorflow.numeric.rnn.log_scaling_factor`.
    """
    q, n = nets.shape
    dps = choose_dps(q, n) if dps is None else dps
    with mpmath.workdps(dps):
        Wt = mpmath.matrix(W.T.tolist())
        S = mpmath.eye(n)
        for m in range(q):
            S = Wt * S
            for v in range(n):
                fv = mp_slope(activation, float(nets[m, v]))
                for u in range(n):
                    S[v, u] *= fv
        sign = np.array([[float(mpmath.sign(S[v, u])) for u in range(n)] for v in range(n)])
        log_abs = np.array(
            [
                [float(mpmath.log(abs(S[v, u]))) if S[v, u] != 0 else -np.inf for u in range(n)]
                for v in range(n)
            ]
        )
    return sign, log_abs
