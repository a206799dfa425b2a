"""Numerically careful primitives for quantities that leave float64 (SPEC B10).

* :func:`signed_logsumexp`: ``log|sum_i s_i e^{a_i}|`` and its sign, without overflow or
  underflow, for terms of either sign.
* :func:`scaled_matrix_chain`: the product ``S(q) = D_q W^T ... D_1 W^T`` of Hochreiter's scaling
  factor (eq. 1) with every column carried as a float64 mantissa times an integer power of two.
  Rescaling by a power of two is exact, so where the result fits in float64 it is the same
  number the plain product gives, and where it does not it is still exact to float64 relative
  precision. When one column would span more than float64's range, it falls back to carrying
  every entry with its own exponent, so no entry silently becomes 0.

Each step calls the generated kernel ``scaling_step`` (``numeric/_generated/bptt.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._generated.bptt import scaling_step

__all__ = ["ScaledMatrix", "log_matmul", "scaled_matrix_chain", "signed_logsumexp"]

LN2 = float(np.log(2.0))
#: Mantissas smaller than this (relative to their column's maximum) have lost, or are about to
#: lose, float64 precision: the chain then switches to the log-space recursion.
_TINY = 2.0**-1000


def signed_logsumexp(
    log_abs: np.ndarray, signs: np.ndarray, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(sign, log|sum s_i e^{a_i}|)`` along ``axis``; all terms zero gives ``(0, -inf)``.

    ``log_abs`` holds ``a_i`` (``-inf`` for a zero term), ``signs`` holds ``s_i`` in
    {-1, 0, 1}. The largest ``a_i`` is factored out (B10's shift identity), so no exponential
    overflows and the largest term is exact.
    """
    log_abs = np.where(signs == 0, -np.inf, log_abs)
    top = np.max(log_abs, axis=axis, keepdims=True)
    finite_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(under="ignore"):
        total = np.sum(signs * np.exp(log_abs - finite_top), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        out = np.log(np.abs(total)) + finite_top
    out = np.where(total == 0, -np.inf, out)
    return np.squeeze(np.sign(total), axis), np.squeeze(out, axis)


@dataclass(frozen=True)
class ScaledMatrix:
    """A matrix held as ``sign * exp(log_abs)`` entry by entry (the log-space result)."""

    sign: np.ndarray
    log_abs: np.ndarray


def _step_factors(
    slopes: np.ndarray, log_slopes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per step ``m``: mantissa row ``D_m 2^{-k_m}`` and integer exponent ``k_m``.

    Where every slope of a step is a normal float64 the slopes are used as they are
    (``k_m = 0``, exact); otherwise they are rebuilt from the log-slopes around the step's
    largest one.
    """
    q = slopes.shape[0]
    exps = np.zeros(q, dtype=np.int64)
    mant = slopes.copy()
    if log_slopes is None:
        return mant, exps
    bad = np.any(slopes < np.finfo(np.float64).tiny, axis=1)
    if np.any(bad):
        k = np.floor(np.max(log_slopes[bad], axis=1) / LN2).astype(np.int64)
        with np.errstate(under="ignore"):
            mant[bad] = np.exp(log_slopes[bad] - (k * LN2)[:, None])
        exps[bad] = k
    return mant, exps


def _chain_by_columns(
    W: np.ndarray, mant: np.ndarray, exps: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Mantissa ``M`` and column exponents ``e`` with ``S = M 2^e``; ``None`` when a column
    needs more than float64's range (then the caller uses the log-space recursion)."""
    n = W.shape[0]
    M = np.eye(n)
    e = np.zeros(n, dtype=np.int64)
    structural = None
    if np.any(W == 0):
        # Entries that are zero for every value of the nonzero weights: no path of length m.
        links = (W.T != 0).astype(np.float64)
        structural = np.eye(n, dtype=bool)
    with np.errstate(under="ignore"):
        for m in range(mant.shape[0]):
            M = scaling_step(mant[m], W, M)
            mag = np.abs(M)
            _, k = np.frexp(mag.max(axis=0))
            small = mag < np.ldexp(_TINY, k)
            if structural is not None:
                structural = (links @ structural) > 0
                small &= structural
            if small.any():
                return None
            M = np.ldexp(M, -k)
            e += k
    return M, e + int(np.sum(exps))


_ZERO_EXP = -(2**40)  # exponent carried by exact zeros


def _split(values: np.ndarray, logs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as mantissa in [1/2, 1) times ``2**exponent``, exactly where ``values`` is a
    normal float64, from ``logs`` where it is not."""
    mant, exp = np.frexp(values)
    low = values < np.finfo(np.float64).tiny
    if np.any(low):
        e = np.floor(logs[low] / LN2).astype(np.int64) + 1
        mant[low] = np.exp(logs[low] - e * LN2)
        exp[low] = e
    return mant, exp.astype(np.int64)


def _chain_entrywise(W: np.ndarray, slopes: np.ndarray, log_slopes: np.ndarray) -> ScaledMatrix:
    """Every entry of ``S(m)`` as its own mantissa and integer exponent (extended range).

    Each step forms ``sum_l w_lv S(m-1)[l, u]`` after aligning the terms of every (v, u) on
    their largest exponent with exact power-of-two shifts, so the rounding is that of float64
    arithmetic (no log/exp round trip) while no entry can underflow. Costs O(n^3) per step.
    """
    n = W.shape[0]
    slope_m, slope_e = _split(slopes, log_slopes)
    E = np.where(np.eye(n, dtype=bool), 1, _ZERO_EXP).astype(np.int64)
    M = np.where(np.eye(n, dtype=bool), 0.5, 0.0)  # 1 = 0.5 * 2^1
    w_nonzero = (W != 0)[:, :, None]  # [l, v, 1]
    with np.errstate(under="ignore"):
        for m in range(slopes.shape[0]):
            valid = w_nonzero & (M != 0)[:, None, :]  # [l, v, u]
            exps = np.where(valid, E[:, None, :], _ZERO_EXP)
            top = exps.max(axis=0)  # (v, u)
            shift = np.clip(exps - top[None], -1100, 0)
            terms = np.where(valid, W[:, :, None] * np.ldexp(M[:, None, :], shift), 0.0)
            total = terms.sum(axis=0) * slope_m[m][:, None]
            M, e = np.frexp(total)
            E = np.where(M != 0, top + e + slope_e[m][:, None], _ZERO_EXP)
    with np.errstate(divide="ignore"):
        log_abs = np.where(M != 0, np.log(np.abs(M)) + E * LN2, -np.inf)
    return ScaledMatrix(np.sign(M), log_abs)


def _chain_in_logs(W: np.ndarray, log_slopes: np.ndarray) -> ScaledMatrix:
    """Entry-wise signed log-space recursion, ``log|S(m)[v,u]| = log f'_v + log|sum_l ...|``.

    Only for slopes so extreme (``|log f'| > 2^52``, i.e. ``|net|`` beyond about 4.5e15) that
    integer exponents cannot hold them exactly; its error grows like ``q |log S| eps``.
    """
    n = W.shape[0]
    with np.errstate(divide="ignore"):
        log_w = np.log(np.abs(W))
    sign_w = np.sign(W)
    log_s = np.where(np.eye(n, dtype=bool), 0.0, -np.inf)
    sign_s = np.eye(n)
    for m in range(log_slopes.shape[0]):
        terms = log_w[:, :, None] + log_s[:, None, :]  # [l, v, u]
        signs = sign_w[:, :, None] * sign_s[:, None, :]
        sign_s, log_s = signed_logsumexp(terms, signs, axis=0)
        log_s = np.where(sign_s != 0, log_s + log_slopes[m][:, None], -np.inf)
    return ScaledMatrix(sign_s, log_s)


#: Beyond this |log f'| the slopes' power-of-two exponents are no longer exact integers.
_EXACT_EXPONENT = 2.0**52


def _chain_by_columns_compiled(
    W: np.ndarray, mant: np.ndarray, exps: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_chain_by_columns` by the numba backend (``column_chain`` of ``bptt_loops.py``)."""
    from .backends import compiled

    fn = compiled("_generated.bptt_loops", "column_chain")
    ok, M, e = fn(
        np.ascontiguousarray(W), np.ascontiguousarray(mant), np.ascontiguousarray(exps), _TINY
    )
    return (M, e) if ok else None


def scaled_matrix_chain(
    W: np.ndarray, slopes: np.ndarray, log_slopes: np.ndarray, backend: str = "numpy"
) -> tuple[ScaledMatrix, tuple[np.ndarray, np.ndarray] | None]:
    """``S(q) = F'(t-q) W^T ... F'(t-1) W^T`` (B3(b)) without leaving float64 (B10).

    ``slopes[m-1]`` holds ``f'(net(t-m))`` and ``log_slopes[m-1]`` its logarithm. Returns the
    log-space result and, when the column-scaled route succeeded, its exact mantissa and
    column exponents ``(M, e)`` with ``S = M * 2**e`` (``None`` after the log-space fallback).
    ``backend``: ``"numpy"`` or ``"numba"`` (the column-scaled route compiled; the rare
    fallbacks are NumPy in both), already resolved by the caller.
    """
    if np.max(np.abs(log_slopes)) > _EXACT_EXPONENT:
        return _chain_in_logs(W, log_slopes), None
    mant, exps = _step_factors(slopes, log_slopes)
    columns = _chain_by_columns_compiled if backend == "numba" else _chain_by_columns
    scaled = columns(W, mant, exps)
    if scaled is None:
        return _chain_entrywise(W, slopes, log_slopes), None
    M, e = scaled
    with np.errstate(divide="ignore"):
        log_abs = np.log(np.abs(M)) + (e * LN2)[None, :]
    return ScaledMatrix(np.sign(M), log_abs), scaled


def log_matmul(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``A B`` for matrices given as ``(sign, log|.|)``, summed with :func:`signed_logsumexp`
    (no entry underflows or overflows)."""
    terms = a[1][:, :, None] + b[1][None, :, :]
    signs = a[0][:, :, None] * b[0][None, :, :]
    return signed_logsumexp(terms, signs, axis=1)
