"""Argument checking shared by the public numeric API.

Every public function turns bad input into an :class:`InvalidArgumentError` (a ``ValueError``)
whose message names the argument and says what was expected, before NumPy sees it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "Float64RangeError",
    "InvalidArgumentError",
    "as_array",
    "first_nonfinite",
    "require",
]


class InvalidArgumentError(ValueError):
    """A public function got an argument it cannot use; ``.argument`` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class Float64RangeError(InvalidArgumentError, ArithmeticError):
    """A float64 result would overflow, or underflow to 0 or a subnormal, silently.

    Raised instead of returning the wrong number; the message names the log-space function
    that returns the same quantity as sign and log-magnitude.
    """


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def as_array(
    value: object,
    name: str,
    *,
    ndim: int | tuple[int, ...],
    shape: tuple[int | None, ...] | None = None,
    what: str = "",
    finite: bool = True,
) -> np.ndarray:
    """``value`` as a float64 array, checked.

    ``ndim`` is the allowed number of dimensions, ``shape`` the expected shape with ``None``
    for a free axis, ``what`` a short description used in messages (e.g. ``"(q, n)"``), and
    ``finite`` rejects NaN and infinities.
    """
    if (
        type(value) is np.ndarray
        and value.dtype == np.float64
        and value.ndim == (ndim if isinstance(ndim, int) else -1)
        and (
            shape is None
            or all(s is None or s == a for s, a in zip(shape, value.shape, strict=False))
        )
        and (not finite or math.isfinite(float(np.add.reduce(value, axis=None))))
    ):
        return value  # the common case, checked in one pass; anything else is diagnosed below
    expected = what or f"{ndim}-D"
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested sequences and the like
        raise InvalidArgumentError(name, f"expected a real array {expected}; {exc}") from None
    if arr.dtype.kind not in "fiub":  # real floats, integers, booleans (not object, complex)
        raise InvalidArgumentError(
            name, f"expected a real array {expected}, got {_describe(value)}"
        )
    arr = arr.astype(np.float64, copy=False)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in allowed:
        raise InvalidArgumentError(
            name,
            f"expected {expected} (a {'- or '.join(map(str, allowed))}-D array), "
            f"got {arr.ndim}-D shape {arr.shape}",
        )
    if shape is not None:
        if len(shape) != arr.ndim or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)
        ):
            raise InvalidArgumentError(name, f"expected shape {expected}, got {arr.shape}")
    if finite:
        bad = first_nonfinite(arr)
        if bad is not None:
            raise InvalidArgumentError(
                name, f"expected finite values, got {arr[bad]} at index {bad}"
            )
    return arr


_BLOCK = 4096  # entries checked at a time: validation needs O(1) memory, not O(size)


def first_nonfinite(arr: np.ndarray, where: np.ndarray | None = None) -> tuple[int, ...] | None:
    """Index of the first NaN or infinity of ``arr`` (only where ``where`` is True), or None.

    Scans blocks of leading-axis rows, so a long sequence is checked without allocating a
    boolean array of its whole size (the online LSTM gradient's memory must not grow with T).
    """
    if arr.ndim == 0:
        ok = bool(np.isfinite(arr)) or (where is not None and not bool(where))
        return None if ok else ()
    if where is None and math.isfinite(float(np.add.reduce(arr, axis=None))):
        return None  # a finite sum has only finite terms (one pass, no temporaries)
    rows = max(1, _BLOCK // max(1, math.prod(arr.shape[1:])))
    block = np.empty((rows, *arr.shape[1:]), dtype=bool)  # the same size for every length
    for start in range(0, arr.shape[0], rows):
        chunk = arr[start : start + rows]
        bad = block[: chunk.shape[0]]
        np.isfinite(chunk, out=bad)
        np.logical_not(bad, out=bad)
        if where is not None:
            np.logical_and(bad, where[start : start + rows], out=bad)
        if bad.any():
            first = np.argwhere(bad)[0]
            return (start + int(first[0]), *(int(i) for i in first[1:]))
    return None


def require(condition: bool, name: str, message: str) -> None:
    """Raise :class:`InvalidArgumentError` for ``name`` unless ``condition`` holds."""
    if not condition:
        raise InvalidArgumentError(name, message)


def as_generator(rng: object, name: str = "rng") -> np.random.Generator:
    """``rng`` as a NumPy Generator: a Generator, an integer seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, numbers.Integral)):
        raise InvalidArgumentError(
            name, f"expected a numpy.random.Generator, an integer seed or None, got {rng!r}"
        )
    return np.random.default_rng(rng)


def as_int(value: object, name: str, minimum: int) -> int:
    """``value`` as a Python int, at least ``minimum`` (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(name, f"expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InvalidArgumentError(name, f"expected an integer >= {minimum}, got {value}")
    return int(value)
