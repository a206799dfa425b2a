"""errorflow's derivations: SymPy modules, the single source of truth.

Each module owns one section of SPEC: it builds the paper's expressions, proves what can be
proved symbolically, exposes the expressions codegen prints (``kernel_specs()``), and renders
itself as LaTeX or text (``derivation()``). Nothing here imports ``errorflow.numeric``.

Modules are imported on first use (:func:`get`), so ``import errorflow.derivations`` is cheap.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["NAMES", "get"]

#: Derivation modules by the name ``errorflow derive NAME`` takes, in document order.
NAMES: tuple[str, ...] = (
    "squashing",
    "bptt",
    "cec",
    "lstm",
    "forget_gate",
    "peephole",
    "gru",
    "spectral",
    "leaky",
    "rtrl",
    "narx",
    "kalman",
    "second_order",
    "guessing",
)


def get(name: str) -> ModuleType:
    """The derivation module called ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(f"unknown derivation {name!r}; known: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
