"""The paper's notation as SymPy objects, and the one LaTeX printer that renders it.

Hochreiter & Schmidhuber (1997) write ``w_ij`` for the weight *from unit j to unit i*,
``net_i(t)`` for a net input, ``y^i(t)`` for an activation, ``f'_i(net_i(t))`` for a slope
and ``\\vartheta_i(t)`` for a back-propagated error signal (SPEC section 0). The classes below
are unevaluated SymPy functions of ``(unit, time)`` so that expressions keep that notation,
and :class:`PaperLatexPrinter` prints them exactly as the paper does (the way
``sympy.physics.vector`` subclasses the LaTeX printer for its own notation).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = [
    "ErrorSignal",
    "NetInput",
    "PaperLatexPrinter",
    "PaperStrPrinter",
    "Slope",
    "UnitOutput",
    "latex",
    "partial",
    "t",
    "text",
    "weight",
]

#: The current time step of the paper's error-flow analysis.
t = sp.Symbol("t", integer=True)


class _UnitTimeFunction(sp.Function):
    """An unevaluated quantity indexed by a unit and a time step."""

    nargs = 2

    @property
    def unit(self) -> sp.Basic:
        return self.args[0]

    @property
    def time(self) -> sp.Basic:
        return self.args[1]


class ErrorSignal(_UnitTimeFunction):
    r"""``\vartheta_u(t)``: the error signal of unit u at time t (SPEC B1/B2)."""


class NetInput(_UnitTimeFunction):
    r"""``net_u(t) = \sum_j w_{uj} y^j(t-1)``."""


class UnitOutput(_UnitTimeFunction):
    r"""``y^u(t) = f_u(net_u(t))``."""


class Slope(_UnitTimeFunction):
    r"""``f'_u(net_u(t))``: the slope of unit u's squashing function at time t."""


def weight(i: object, j: object) -> sp.Symbol:
    """The weight ``w_ij`` from unit j to unit i, as a real symbol."""
    return sp.Symbol(f"w_{{{i}{j}}}", real=True)


def _time_first(time: sp.Basic, render) -> str:
    """``t - q + 1`` rather than SymPy's ``-q + t + 1``: the time symbol leads, as in the paper."""
    if not (isinstance(time, sp.Add) and t in time.args):
        return render(time)
    terms = sorted(sp.Add.make_args(time - t), key=lambda term: (term.is_number, str(term)))
    out = "t"
    for term in terms:
        out += f" - {render(-term)}" if term.could_extract_minus_sign() else f" + {render(term)}"
    return out


class PaperLatexPrinter(LatexPrinter):
    """LaTeX printer with the paper's notation for units, time steps and error signals."""

    def _unit_time(self, expr: _UnitTimeFunction) -> tuple[str, str]:
        return self._print(expr.unit), _time_first(expr.time, self._print)

    def _print_ErrorSignal(self, expr: ErrorSignal, exp: str | None = None) -> str:
        u, tt = self._unit_time(expr)
        base = rf"\vartheta_{{{u}}}({tt})"
        return rf"{base}^{{{exp}}}" if exp else base

    def _print_NetInput(self, expr: NetInput, exp: str | None = None) -> str:
        u, tt = self._unit_time(expr)
        base = rf"net_{{{u}}}({tt})"
        return rf"{base}^{{{exp}}}" if exp else base

    def _print_UnitOutput(self, expr: UnitOutput, exp: str | None = None) -> str:
        u, tt = self._unit_time(expr)
        base = rf"y^{{{u}}}({tt})"
        return rf"\left({base}\right)^{{{exp}}}" if exp else base

    def _print_Slope(self, expr: Slope, exp: str | None = None) -> str:
        u, tt = self._unit_time(expr)
        base = rf"f'_{{{u}}}(net_{{{u}}}({tt}))"
        return rf"\left({base}\right)^{{{exp}}}" if exp else base


_PRINTER_SETTINGS = {"mul_symbol": None, "fold_short_frac": False}


def latex(expr: object) -> str:
    """Render ``expr`` in the paper's notation; strings pass through unchanged."""
    if isinstance(expr, str):
        return expr
    return PaperLatexPrinter(_PRINTER_SETTINGS).doprint(expr)


def partial(numerator: object, denominator: object) -> str:
    r"""``\frac{\partial a}{\partial b}`` for two expressions (LaTeX only)."""
    return rf"\frac{{\partial {latex(numerator)}}}{{\partial {latex(denominator)}}}"


class PaperStrPrinter(StrPrinter):
    """Plain-text printer with the paper's notation (``vartheta_u(t)``, ``f'_u(net_u(t))``)."""

    def _time(self, expr: _UnitTimeFunction) -> str:
        return _time_first(expr.time, self._print)

    def _print_ErrorSignal(self, expr: ErrorSignal) -> str:
        return f"vartheta_{self._print(expr.unit)}({self._time(expr)})"

    def _print_NetInput(self, expr: NetInput) -> str:
        return f"net_{self._print(expr.unit)}({self._time(expr)})"

    def _print_UnitOutput(self, expr: UnitOutput) -> str:
        return f"y^{self._print(expr.unit)}({self._time(expr)})"

    def _print_Slope(self, expr: Slope) -> str:
        u = self._print(expr.unit)
        return f"f'_{u}(net_{u}({self._time(expr)}))"


def text(expr: object) -> str:
    """Render ``expr`` as plain text in the paper's notation; strings pass through."""
    if isinstance(expr, str):
        return expr
    return PaperStrPrinter().doprint(expr)
