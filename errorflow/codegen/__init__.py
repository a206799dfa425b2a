"""Codegen: print the derivations' expressions as NumPy kernels into ``numeric/_generated/``.

Needs SymPy (it imports the derivations); the generated files it writes do not.
"""

from .printer import KernelPrinter, flop_count
from .render import render_kernel, render_module
from .tree import SOURCES, compare, default_target, generate, write

__all__ = [
    "SOURCES",
    "KernelPrinter",
    "compare",
    "default_target",
    "flop_count",
    "generate",
    "render_kernel",
    "render_module",
    "write",
]
