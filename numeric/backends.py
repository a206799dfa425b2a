"""Compute backends of the sequence kernels: ``"numpy"`` and ``"numba"``.

* ``"numpy"``: the generated step kernels (``numeric/_generated/lstm.py``, ``bptt.py``), one
  vectorised NumPy call per statement and a Python loop over the time steps. Always there.
* ``"numba"``: the generated loop kernels (``numeric/_generated/*_loops.py``), printed from the
  *same* derivation statements as explicit loops and compiled by numba (``pip install
  'errorflow[fast]'``): every step of a sequence runs in one call of machine code with no
  per-step allocation. Compiled code is cached on disk (numba's ``cache=True``), so only the
  first call in a fresh install pays the compilation.
* ``"auto"`` (every function's default): the ``ERRORFLOW_BACKEND`` environment variable if it
  is set, else ``"numba"`` when numba imports, else ``"numpy"``.

Both backends compute the same formulas; they differ only in the order of floating-point
summation (BLAS versus a loop), so results agree to a few units in the last place, not bit for
bit. The loop kernels run as plain Python too (``compiled(...).py_func``), where they give
bit-identical results to their compiled form (a test checks this).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import cache

from ._validate import InvalidArgumentError

__all__ = [
    "BACKENDS",
    "ENVIRONMENT_VARIABLE",
    "BackendUnavailableError",
    "available",
    "compiled",
    "resolve",
]

BACKENDS: tuple[str, ...] = ("auto", "numpy", "numba")
ENVIRONMENT_VARIABLE = "ERRORFLOW_BACKEND"


class BackendUnavailableError(InvalidArgumentError):
    """The requested backend cannot run here (numba is not installed or does not import)."""


@cache
def _numba_problem() -> str | None:
    """``None`` when numba imports, else why not (one line)."""
    try:
        import numba  # noqa: F401
    except Exception as exc:  # ImportError, or numba refusing this NumPy version
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def available() -> tuple[str, ...]:
    """The backends that run on this machine, ``"numpy"`` first."""
    return ("numpy",) if _numba_problem() else ("numpy", "numba")


def resolve(backend: object, argument: str = "backend") -> str:
    """``"numpy"`` or ``"numba"`` for a ``backend`` argument (see the module docstring).

    Raises :class:`~errorflow.numeric.InvalidArgumentError` naming ``argument`` for an unknown
    name, and :class:`BackendUnavailableError` for ``"numba"`` without numba.
    """
    source = argument
    if backend == "auto":
        env = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
        if not env or env == "auto":
            return "numba" if _numba_problem() is None else "numpy"
        backend, source = env, f"{argument} (from ${ENVIRONMENT_VARIABLE})"
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InvalidArgumentError(source, f"expected one of {BACKENDS}, got {backend!r}")
    if backend == "numba" and _numba_problem() is not None:
        raise BackendUnavailableError(
            source,
            "the numba backend needs numba (pip install 'errorflow[fast]'); "
            f"importing it failed with {_numba_problem()}; use backend='numpy'",
        )
    return backend


@cache
def compiled(module: str, name: str) -> Callable:
    """Function ``name`` of the module ``errorflow.numeric.<module>`` (a generated loop module
    such as ``"_generated.lstm_loops"``, or a numba-compatible driver of them), compiled by
    numba (lazily, at its first call; cached on disk). ``.py_func`` is the plain function."""
    resolve("numba")
    import numba

    source = importlib.import_module(f"{__package__}.{module}")
    return numba.njit(cache=True, nogil=True, error_model="numpy")(getattr(source, name))
