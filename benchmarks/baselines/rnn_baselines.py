"""Baselines for Hochreiter's scaling factor (eq. 1) of a fully recurrent net of logistic units.

``W[i, j]`` is the weight from unit j to unit i and ``nets[m-1] = net(t-m)`` for m = 1..q
(errorflow's ``errorflow.numeric.rnn`` conventions). Every baseline computes::

    S(q) = F'(t-q) W^T ... F'(t-1) W^T,   S(0) = I,   S(m) = diag(f'(nets[m-1])) W^T S(m-1)

with ``f'(x) = f(x) (1 - f(x))``, ``f`` the logistic function, so that
``S[v, u] = d vartheta_v(t-q) / d vartheta_u(t)``. The float64 loops (NumPy, torch, JAX)
underflow to 0 once ``|S|`` drops below ``2^-1022`` (for logistic units ``f' <= 1/4``, near
q = 500); :func:`mpmath_log_scaling_factor` and :func:`numpy_rescaled_log_scaling_factor`
return ``(sign, log|S|)`` at any lag. torch and jax are imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def logistic_slopes(nets: np.ndarray) -> np.ndarray:
    """``f'(nets)`` for the logistic ``f``, as ``f (1 - f)`` (float64, no overflow warnings)."""
    y = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(nets, dtype=np.float64)))
    return y * (1.0 - y)


def numpy_scaling_factor(W: np.ndarray, nets: np.ndarray) -> np.ndarray:
    """``S(q)`` by the bare float64 loop ``S <- diag(f'(nets[m-1])) W^T S`` (NumPy, BLAS);
    the slopes are computed in one vectorised call first. Underflows to 0 at long lags."""
    fp = logistic_slopes(nets)
    Wt = np.ascontiguousarray(np.asarray(W, dtype=np.float64).T)
    S = np.eye(Wt.shape[0])
    for m in range(fp.shape[0]):
        S = fp[m][:, None] * (Wt @ S)
    return S


def numpy_rescaled_log_scaling_factor(W: np.ndarray, nets: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(sign, log|S|)`` by the same loop, dividing ``S`` by its largest entry (a power of two,
    so exactly) whenever that entry leaves ``[2^-100, 2^100]`` and adding the exponent to a
    running total. A reference for long lags (never underflows as long as the entries of a
    matrix span less than float64's range); not timed."""
    fp = logistic_slopes(nets)
    Wt = np.asarray(W, dtype=np.float64).T
    S = np.eye(Wt.shape[0])
    exponent = 0
    for m in range(fp.shape[0]):
        S = fp[m][:, None] * (Wt @ S)
        big = float(np.max(np.abs(S)))
        if big == 0.0:
            break
        if not 2.0**-100 <= big <= 2.0**100:
            k = int(np.frexp(big)[1])
            S = np.ldexp(S, -k)
            exponent += k
    with np.errstate(divide="ignore"):
        return np.sign(S), np.log(np.abs(S)) + exponent * np.log(2.0)


def torch_scaling_factor(W: np.ndarray, nets: np.ndarray) -> np.ndarray:
    """``S(q)`` by the float64 loop in PyTorch (CPU, no autograd); underflows like NumPy's."""
    import torch

    with torch.no_grad():
        Wt = torch.from_numpy(np.ascontiguousarray(np.asarray(W, dtype=np.float64).T))
        n = torch.from_numpy(np.asarray(nets, dtype=np.float64))
        fp = torch.sigmoid(n) * torch.sigmoid(-n)
        S = torch.eye(Wt.shape[0], dtype=torch.float64)
        for m in range(fp.shape[0]):
            S = fp[m][:, None] * (Wt @ S)
        return S.numpy()


_JAX_CHAIN: list[Callable[..., Any]] = []


def _jax_chain() -> Callable[..., Any]:
    if not _JAX_CHAIN:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax import lax

        def chain(Wt: Any, nets: Any) -> Any:
            fp = jax.nn.sigmoid(nets) * jax.nn.sigmoid(-nets)

            def step(S: Any, f: Any) -> tuple[Any, None]:
                return f[:, None] * (Wt @ S), None

            S, _ = lax.scan(step, jnp.eye(Wt.shape[0], dtype=jnp.float64), fp)
            return S

        _JAX_CHAIN.append(jax.jit(chain))
    return _JAX_CHAIN[0]


def jax_scaling_factor(W: np.ndarray, nets: np.ndarray) -> np.ndarray:
    """``S(q)`` by ``jax.jit`` of a ``lax.scan`` over the steps, float64; the first call for
    each shape compiles. Underflows like NumPy's."""
    import jax.numpy as jnp

    Wt = np.ascontiguousarray(np.asarray(W, dtype=np.float64).T)
    S = _jax_chain()(jnp.asarray(Wt), jnp.asarray(np.asarray(nets, dtype=np.float64)))
    return np.asarray(S.block_until_ready())


def mpmath_log_scaling_factor(
    W: np.ndarray, nets: np.ndarray, dps: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, log|S|)`` of the same product in mpmath at ``dps`` digits: the float64 inputs
    taken exactly, slopes ``e^-x / (1 + e^-x)^2`` in mpmath, entries with an unbounded exponent
    (no underflow), every sum by ``mpmath.fdot``. Cost ~ q n^3 multiplications in Python."""
    import mpmath

    with mpmath.workdps(dps):
        Wa = np.asarray(W, dtype=np.float64)
        n = Wa.shape[0]
        Wt = [[mpmath.mpf(float(Wa[j, v])) for j in range(n)] for v in range(n)]
        S = [[mpmath.mpf(int(v == u)) for u in range(n)] for v in range(n)]
        for row in np.asarray(nets, dtype=np.float64):
            fp = []
            for x in row:
                e = mpmath.exp(-mpmath.mpf(float(x)))
                fp.append(e / (1 + e) ** 2)
            cols = list(zip(*S, strict=True))
            S = [[fp[v] * mpmath.fdot(Wt[v], cols[u]) for u in range(n)] for v in range(n)]
        sign = np.array([[float(mpmath.sign(a)) for a in r] for r in S])
        logabs = np.array(
            [[float(mpmath.log(abs(a))) if a != 0 else -np.inf for a in r] for r in S]
        )
    return sign, logabs
