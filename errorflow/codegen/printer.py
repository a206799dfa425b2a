"""The NumPy code printer for generated kernels, and an operation counter.

``KernelPrinter`` subclasses SymPy's ``NumPyPrinter`` (fully qualified ``numpy.`` names) with
the few rules errorflow's kernels need:

* ``DiagMatrix(v) * X`` prints as ``v[:, None] * (X)``: a row scaling, O(n^2), instead of
  building the dense diagonal matrix (``numpy.diagflat``) and multiplying, O(n^3);
* matrix products print with ``@`` (BLAS), transposes as ``.T``;
* ``HadamardProduct`` prints as ``*``;
* numeric constants such as ``log(2)`` print as float literals (``repr`` of the double), so the
  kernel does no work for them and the text is the same on every machine;
* the array operations of :mod:`errorflow.derivations.arrays` print as the NumPy idiom that
  computes them without copies of the weights (``W @ z``, ``numpy.tensordot``,
  ``numpy.multiply.outer``, a batched ``@`` for the sum over a block's cells, slicing views);
* undefined functions (a step kernel's squashing functions ``f``, ``g``, ``h`` and their
  slopes) print as calls of the kernel's callable arguments.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

__all__ = ["KernelPrinter", "flop_count"]


class KernelPrinter(NumPyPrinter):
    """NumPy printer with row-scaling, ``@`` and constant folding (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(
            {"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": True}
        )

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        coeff, factors = expr.as_coeff_matrices()
        if factors and isinstance(factors[0], sp.DiagMatrix):
            rest = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            vec = self._print(factors[0].args[0])
            body = f"{vec}[:, None] * ({self._print(rest)})"
        else:
            body = " @ ".join(self._operand(f) for f in factors)
        if coeff != 1:
            body = f"{self._print(coeff)} * ({body})"
        return body

    def _operand(self, expr: sp.Basic) -> str:
        """An operand of ``@``, ``*`` or ``.T``: bare when atomic, parenthesised otherwise."""
        text = self._print(expr)
        if isinstance(expr, (sp.MatrixSymbol, sp.Symbol, sp.Transpose)):
            return text
        return f"({text})"

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return f"{self._operand(expr.arg)}.T"

    def _print_HadamardProduct(self, expr: sp.HadamardProduct) -> str:
        return " * ".join(self._operand(a) for a in expr.args)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if expr.is_number:
            return repr(float(expr))
        return super()._print_Mul(expr)

    # -- array operations of step kernels (errorflow.derivations.arrays) --

    def _print_MatVec(self, expr: sp.Basic) -> str:
        w, v = expr.args
        return f"{self._operand(w)} @ {self._operand(v)}"

    def _print_Contract(self, expr: sp.Basic) -> str:
        e, w = (self._print(a) for a in expr.args)
        return f"numpy.tensordot({e}, {w}, {self._operand(expr.args[0])}.ndim)"

    def _print_Outer(self, expr: sp.Basic) -> str:
        a, b = (self._print(a) for a in expr.args)
        return f"numpy.multiply.outer({a}, {b})"

    def _print_CellSum(self, expr: sp.Basic) -> str:
        return f"{self._operand(expr.args[0])}.sum(axis=-1, keepdims=True)"

    def _print_CellContract(self, expr: sp.Basic) -> str:
        a, x = expr.args
        return f"{self._operand(a)}[:, None, :] @ {self._operand(x)}"

    def _print_Expand(self, expr: sp.Basic) -> str:
        return f"{self._operand(expr.args[0])}[..., None]"

    def _print_Cat(self, expr: sp.Basic) -> str:
        parts = ["[1.0]" if a == 1 else f"{self._operand(a)}.ravel()" for a in expr.args]
        return f"numpy.concatenate(({', '.join(parts)}))"

    def _print_Part(self, expr: sp.Basic) -> str:
        v, start, like = expr.args[:3]
        lk = self._operand(like)
        begin = "" if start == 0 else self._print(start)
        end = f"{lk}.size" if start == 0 else f"{begin} + {lk}.size"
        return f"{self._operand(v)}[{begin}:{end}].reshape({lk}.shape)"

    def _print_log(self, expr: sp.log) -> str:
        if expr.is_number:
            return repr(float(expr))
        return super()._print_log(expr)


def flop_count(expr: sp.Basic) -> sp.Expr:
    """Floating-point operations to evaluate a matrix expression, as a formula in its shapes.

    A product ``(a x b)(b x c)`` costs ``2abc``; a row scaling ``DiagMatrix(v) X`` and a
    Hadamard product cost one operation per entry; transposes and symbols are free. Scalar
    expressions fall back to ``sympy.count_ops`` (a count per element).
    """
    if isinstance(expr, sp.MatrixSymbol):
        return sp.Integer(0)
    if isinstance(expr, sp.Transpose):
        return flop_count(expr.arg)
    if isinstance(expr, sp.MatMul):
        _, factors = expr.as_coeff_matrices()
        if factors and isinstance(factors[0], sp.DiagMatrix):
            rest = sp.MatMul(*factors[1:]) if len(factors) > 2 else factors[1]
            return sp.expand(flop_count(rest) + rest.rows * rest.cols)
        total = sum((flop_count(f) for f in factors), sp.Integer(0))
        acc = factors[0]
        for f in factors[1:]:
            total += 2 * acc.rows * acc.cols * f.cols
            acc = sp.MatMul(acc, f)
        return sp.expand(total)
    if isinstance(expr, sp.HadamardProduct):
        sub = sum((flop_count(a) for a in expr.args), sp.Integer(0))
        return sp.expand(sub + (len(expr.args) - 1) * expr.rows * expr.cols)
    if isinstance(expr, sp.MatAdd):
        sub = sum((flop_count(a) for a in expr.args), sp.Integer(0))
        return sp.expand(sub + (len(expr.args) - 1) * expr.rows * expr.cols)
    if isinstance(expr, sp.DiagMatrix):
        return sp.Integer(0)
    return sp.Integer(sp.count_ops(expr))
