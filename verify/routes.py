"""Independent numeric routes to the same error-flow quantities (SPEC B1-B4).

Each route is written separately from the generated kernels so that the claims can check the
kernels against something other than themselves: the literal recursion of eq. (1) in Python
loops, the explicit matrix product, the sum over paths (eq. 2, corrected and as printed), and
central finite differences of the real forward pass.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from errorflow.numeric import rnn

__all__ = [
    "b9_log_bounds",
    "central_difference_gradient",
    "eq1_loops",
    "explicit_product",
    "fd_scaling_factor",
    "forward_loss",
    "path_sum",
]


def eq1_loops(W: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Eq. (1) literally: ``R_q[v][u] = f'_v(t-q) sum_l R_{q-1}[l][u] w_lv``, plain loops.

    ``slopes[m-1, v] = f'_v(net_v(t-m))``.
    """
    q, n = slopes.shape
    R = [[slopes[0, v] * W[u, v] for u in range(n)] for v in range(n)]
    for m in range(2, q + 1):
        R = [
            [slopes[m - 1, v] * sum(R[l][u] * W[l, v] for l in range(n)) for u in range(n)]
            for v in range(n)
        ]
    return np.array(R, dtype=np.float64)


def explicit_product(W: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """``F'(t-q) W^T F'(t-q+1) W^T ... F'(t-1) W^T`` with dense diagonal matrices."""
    factors = [np.diag(slopes[m]) @ W.T for m in range(slopes.shape[0] - 1, -1, -1)]
    return factors[0] if len(factors) == 1 else np.linalg.multi_dot(factors)


def path_sum(W: np.ndarray, slopes: np.ndarray, printed: bool = False) -> np.ndarray:
    """Sum over the ``n^(q-1)`` paths of ``prod_m f'_{l_m}(t-m) w``.

    The weight factor is ``w_{l_{m-1} l_m}`` (corrected eq. 2, B3(c)) or, with
    ``printed=True``, ``w_{l_m l_{m-1}}`` as the paper prints it (B4).
    """
    q, n = slopes.shape
    S = np.zeros((n, n))
    for u in range(n):
        for v in range(n):
            total = 0.0
            for inner in itertools.product(range(n), repeat=q - 1):
                path = (u, *inner, v)
                term = 1.0
                for m in range(1, q + 1):
                    a, b = (path[m], path[m - 1]) if printed else (path[m - 1], path[m])
                    term *= slopes[m - 1, path[m]] * W[a, b]
                total += term
            S[v, u] = total
    return S


def fd_scaling_factor(
    W: np.ndarray, xs: np.ndarray, t: int, q: int, activation: str, h: float = 1e-5
) -> np.ndarray:
    """``S[v, u] = d net_u(t) / d net_v(t-q)`` by central differences of :func:`rnn.forward`.

    ``net_v(t-q)`` is moved by moving the external input ``x_v(t-q)`` (it enters the net input
    additively), which is exactly the error-flow derivative of B3 (``vartheta = -dE/dnet``
    transports backward by the transpose of ``d net(t) / d net(t-q)``).
    """
    n = W.shape[0]
    S = np.zeros((n, n))
    for v in range(n):
        plus, minus = xs.copy(), xs.copy()
        plus[t - q - 1, v] += h
        minus[t - q - 1, v] -= h
        up = rnn.forward(W, plus, activation).nets[t - 1]
        down = rnn.forward(W, minus, activation).nets[t - 1]
        S[v] = (up - down) / (2 * h)
    return S


def b9_log_bounds(W: np.ndarray, slopes: np.ndarray) -> dict[str, np.ndarray | float]:
    """The logs of B9's bounds on ``|S(q)[v, u]|`` (paper §3.1, max-row-sum norm).

    ``full[v, u] = log(n f'max^q ||W_v||_x ||W_u^T||_x ||W||_A^(q-2))`` and
    ``weak = log(n (f'max ||W||_A)^q)``, with ``f'max = max_m ||F'(t-m)||_A`` the largest slope,
    ``W_v`` column v and ``W_u^T`` row u of W, ``||.||_x`` the max norm.
    """
    q, n = slopes.shape
    f_max = float(np.max(slopes))
    norm_a = float(np.max(np.sum(np.abs(W), axis=1)))
    col = np.max(np.abs(W), axis=0)
    row = np.max(np.abs(W), axis=1)
    with np.errstate(divide="ignore"):
        full = (
            math.log(n)
            + q * math.log(f_max)
            + np.log(col)[:, None]
            + np.log(row)[None, :]
            + (q - 2) * math.log(norm_a)
        )
    weak = math.log(n) + q * math.log(f_max * norm_a)
    return {"full": full, "weak": weak, "f_max": f_max, "norm_a": norm_a}


def forward_loss(
    W: np.ndarray,
    xs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    activation: str,
    U: np.ndarray | None = None,
    y0: np.ndarray | None = None,
) -> float:
    """``E = 1/2 sum mask (d - y)^2`` of the real forward pass: what finite differences of B1/B2
    differentiate."""
    ys = rnn.forward(W, xs, activation, U=U, y0=y0).ys
    return 0.5 * float(np.sum(np.where(mask, targets - ys, 0.0) ** 2))


def central_difference_gradient(
    loss: Callable[[np.ndarray], float], at: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """Central-difference gradient of a scalar function of an array."""
    grad = np.zeros_like(at)
    for idx in np.ndindex(at.shape):
        plus, minus = at.copy(), at.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (loss(plus) - loss(minus)) / (2 * h)
    return grad
