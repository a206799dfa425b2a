r"""Error flow through one LSTM memory cell: appendix A.2 of the paper (SPEC L3, L4, L5, L9,
L10, L11).

The memory cell ``c_j`` of Hochreiter & Schmidhuber (1997), App. A.1 eqs. (7)-(9)::

    y^{in_j}(t)  = f_{in_j}(net_{in_j}(t)),      y^{out_j}(t) = f_{out_j}(net_{out_j}(t))
    s_{c_j}(t)   = s_{c_j}(t-1) + y^{in_j}(t) g(net_{c_j}(t)),   s_{c_j}(0) = 0
    y^{c_j}(t)   = y^{out_j}(t) h(s_{c_j}(t))

Conventions (SPEC L2 and PAPER.md §3.4, "derived, interpretation"):

* **Truncation** (``\approx_{tr}``) is the exact gradient of the *stop-gradient network*: every
  ``y^u(t-1)`` entering ``net_{in_j}``, ``net_{out_j}``, ``net_{c_j}`` is detached (a constant).
  In a one-cell model this makes ``net_{c_j}(t)``, ``net_{in_j}(t)``, ``net_{out_j}(t)``
  independent symbols (:class:`StopGradientCell`).
* **Timing** (the paper's experiments, SPEC L9): the output units of step t see the cell
  output ``y^{c_j}(t)`` of the same step, ``net_k(t) = w_{k c_j} y^{c_j}(t) + ...``.
* **Error**: ``E = 1/2 sum_t sum_k (t^k(t) - y^k(t))^2``, so ``e_k = f'_k (t^k - y^k)`` is
  exactly ``-dE/dnet_k`` (eq. 19); eq. (16) without the 1/2 doubles it (L9).

What is proved, with SymPy, for generic differentiable ``f_{in_j}, f_{out_j}, g, h, f_k`` unless
the paper's concrete functions (App. A.1 eqs. 3-5) are named:

* L3 (eqs. 30, 33-35): ``ds_c(t)/ds_c(t-1) = 1`` in the stop-gradient network, and the
  internal-state error recursion ``vartheta_s(t) = vartheta_s(t+1) + y^out(t) h'(s_c(t))
  vartheta_j(t)`` of the unrolled network, so ``d vartheta_s(t)/d vartheta_s(t+1) = 1``.
* L4 (eqs. 40-41): for T = 4 and 5 and every lag q,
  ``dy^c(T)/dnet_c(T-q) = y^out(T) h'(s_c(T)) g'(net_c(T-q)) y^in(T-q)`` and
  ``dy^c(T)/dnet_in(T-q) = y^out(T) h'(s_c(T)) g(net_c(T-q)) f'_in(net_in(T-q))``: no q in it.
* L5 (eqs. 38-39): a unit v feeding the gates and cell input gets no error from the cell
  output under truncation; the untruncated derivative is eq. (39)'s three terms, not zero.
* L9: the factor-2 erratum of eqs. (16)/(19), and the same-step timing of eq. (23).
* L10: the untruncated ``ds_c(t)/ds_c(t-1) = 1 + (terms through w_{in_j c_j}, w_{c_j c_j})``,
  and exactly when the full and the truncated gradient coincide (T = 3): all recurrent weights
  into the hidden layer must vanish, the output gate's included.
* L11: ``h'(s) <= 2 e^{-|s|}`` (tight), drift ``s_c(t) >= t delta`` under one-sign input, and
  the input-gate bias bound ``f(x) <= e^x``.

:func:`sections` returns one :class:`~errorflow.derivations.core.Section` per claim, in the
order L3, L4, L5, L9, L10, L11; :mod:`errorflow.derivations.lstm` appends them to the
``errorflow derive lstm`` document. SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

import sympy as sp
from sympy.calculus.singularities import is_decreasing

from .core import Proof, Section, Step, is_zero, prove_equal
from .notation import ErrorSignal, NetInput, UnitOutput, _time_first, latex, text
from .notation import t as _t
from .squashing import SQUASHING
from .squashing import x as _x

__all__ = [
    "CellState",
    "FullCell",
    "StopGradientCell",
    "eq41",
    "full_cell",
    "primes",
    "proofs",
    "sections",
    "stop_gradient_cell",
]

# ---------------------------------------------------------------------------------------
# Display atoms and generic squashing functions, printed in the paper's notation.
# ---------------------------------------------------------------------------------------
C, IN, OUT = sp.Symbol("c_j"), sp.Symbol("in_j"), sp.Symbol("out_j")
K, V, J, X = sp.Symbol("k"), sp.Symbol("v"), sp.Symbol("j"), sp.Symbol("x")


class _Atom(sp.Function):
    """A time-indexed quantity of the one cell, printed from a template."""

    nargs = 1
    tex = "{t}"
    txt = "{t}"

    def _latex(self, printer, exp=None) -> str:
        base = self.tex.format(t=_time_first(self.args[0], printer._print))
        return rf"\left({base}\right)^{{{exp}}}" if exp else base

    def _sympystr(self, printer) -> str:
        return self.txt.format(t=_time_first(self.args[0], printer._print))


class CellState(_Atom):
    r"""``s_{c_j}(t)``: the internal state of the cell (the CEC's content)."""

    tex = "s_{{c_j}}({t})"
    txt = "s_c({t})"


class StateError(_Atom):
    r"""``\vartheta_{s_{c_j}}(t) = -\partial E / \partial s_{c_j}(t)``."""

    tex = r"\vartheta_{{s_{{c_j}}}}({t})"
    txt = "vartheta_s({t})"


class Target(_Atom):
    """``t^k(t)``: the target of output unit k (App. A.1 eq. 16)."""

    tex = "t^k({t})"
    txt = "t^k({t})"


class OutputError(_Atom):
    """``e_k(t) = f'_k(net_k(t)) (t^k(t) - y^k(t))`` (eq. 19)."""

    tex = "e_k({t})"
    txt = "e_k({t})"


class _Fn(sp.Function):
    """A generic (undefined) squashing function with the paper's name and a named slope."""

    nargs = 1
    tex = "?"
    txt = "?"
    prime: type[_Fn] | None = None

    def _latex(self, printer, exp=None) -> str:
        base = rf"{self.tex}({printer._print(self.args[0])})"
        return rf"\left({base}\right)^{{{exp}}}" if exp else base

    def _sympystr(self, printer) -> str:
        return f"{self.txt}({printer._print(self.args[0])})"


def _function(name: str, tex: str, txt: str, ptex: str, ptxt: str) -> type[_Fn]:
    prime = type(f"{name}Prime", (_Fn,), {"tex": ptex, "txt": ptxt})
    return type(name, (_Fn,), {"tex": tex, "txt": txt, "prime": prime})


F_IN = _function("LstmFin", "f_{in_j}", "f_in", "f'_{in_j}", "f'_in")
F_OUT = _function("LstmFout", "f_{out_j}", "f_out", "f'_{out_j}", "f'_out")
G = _function("LstmG", "g", "g", "g'", "g'")
H = _function("LstmH", "h", "h", "h'", "h'")
F_K = _function("LstmFk", "f_k", "f_k", "f'_k", "f'_k")
F_V = _function("LstmFv", "f_v", "f_v", "f'_v", "f'_v")
_GENERIC = (F_IN, F_OUT, G, H, F_K, F_V)


def primes(expr: sp.Expr) -> sp.Expr:
    """Replace ``Derivative(F(a), a)`` and ``Subs(Derivative(F(xi), xi), xi, a)`` by ``F'(a)``.

    After this, derivatives of the generic functions are plain applications of their named
    slopes (``g'``, ``f'_{in_j}``, ...), which compare structurally and print as in the paper.
    """

    def subs_slope(e: sp.Basic) -> bool:
        return (
            isinstance(e, sp.Subs)
            and isinstance(e.expr, sp.Derivative)
            and isinstance(e.expr.expr, _Fn)
            and len(e.expr.variables) == 1
        )

    def slope(e: sp.Basic) -> bool:
        return (
            isinstance(e, sp.Derivative)
            and isinstance(e.expr, _Fn)
            and e.variables == (e.expr.args[0],)
        )

    expr = expr.replace(subs_slope, lambda e: e.expr.expr.func.prime(*e.point))
    return expr.replace(slope, lambda e: e.expr.func.prime(*e.expr.args))


def _w(i: object, j: object) -> sp.Symbol:
    """The weight from unit j to unit i, ``w_{ij}`` (SPEC section 0)."""
    return sp.Symbol(f"w_{{{i} {j}}}", real=True)


def _s(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


# ---------------------------------------------------------------------------------------
# Formulas that print in the paper's order and carry their exact SymPy value.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _F:
    """A formula fragment: LaTeX, plain text, and (when it has one) its SymPy value."""

    tex: str
    txt: str
    expr: sp.Expr | None = None
    is_sum: bool = False


def _fm(part: object) -> _F:
    if isinstance(part, _F):
        return part
    if isinstance(part, str):
        return _F(part, part)
    e = sp.sympify(part)
    return _F(latex(e), text(e), e, isinstance(e, sp.Add))


def _mul(*parts: object) -> _F:
    fs = [_fm(p) for p in parts]
    tex = r"\,".join(rf"\bigl({f.tex}\bigr)" if f.is_sum else f.tex for f in fs)
    txt = " ".join(f"({f.txt})" if f.is_sum else f.txt for f in fs)
    exprs = [f.expr for f in fs]
    value = sp.Mul(*exprs) if all(e is not None for e in exprs) else None
    return _F(tex, txt, value)


def _add(*parts: object) -> _F:
    fs = [_fm(p) for p in parts]
    exprs = [f.expr for f in fs]
    value = sp.Add(*exprs) if all(e is not None for e in exprs) else None
    return _F(" + ".join(f.tex for f in fs), " + ".join(f.txt for f in fs), value, True)


def _d(num: object, den: object) -> _F:
    """The partial derivative ``d num / d den`` (display only)."""
    n, d = _fm(num), _fm(den)
    return _F(rf"\frac{{\partial {n.tex}}}{{\partial {d.tex}}}", f"d{n.txt}/d{d.txt}")


_REL_TEXT = {r"\ge": ">=", ":=": ":="}


def _step(name: str, lhs: object, rhs: object, rel: str = "=", note: str = "") -> Step:
    """A named step; ``rel`` is ``=``, ``<=``, ``~tr`` (``\\approx_{tr}``), ``\\ge`` or ``:=``."""
    lf, rf_ = _fm(lhs), _fm(rhs)
    body = f"{lf.txt} {_REL_TEXT.get(rel, rel)} {rf_.txt}"
    return Step(name, lf.tex, rf_.tex, rel=rel, note=note, text=body)


def _neg(part: object) -> _F:
    f = _fm(part)
    value = -f.expr if f.expr is not None else None
    return _F(f"-{f.tex}", f"-{f.txt}", value)


def _y(unit: sp.Symbol, time: object) -> sp.Expr:
    return UnitOutput(unit, time)


def _net(unit: sp.Symbol, time: object) -> sp.Expr:
    return NetInput(unit, time)


def eq41(v: str, time: object, q: object, *, drop: str = "") -> _F:
    r"""Eq. (41): ``\partial\vartheta_v(t-q)/\partial\vartheta_j(t)`` for ``v = c_j`` or ``in_j``.

    ``y^{out_j}(t)\,h'(s_{c_j}(t))\,g'(net_{c_j}(t-q))\,y^{in_j}(t-q)`` for ``v = "c"`` and
    ``y^{out_j}(t)\,h'(s_{c_j}(t))\,g(net_{c_j}(t-q))\,f'_{in_j}(net_{in_j}(t-q))`` for
    ``v = "in"``, in display atoms (``.expr``) at the times given (symbols or integers).
    ``drop`` names one factor to leave out (``"y_out"``, ``"h'"``, and ``"g'"``, ``"y_in"`` for
    ``c`` or ``"g"``, ``"f'_in"`` for ``in``): a deliberately wrong variant, for tests that must
    see a proof fail.
    """
    if v not in ("c", "in"):
        raise ValueError(f"eq. (41) is for v = 'c' or 'in', not {v!r}")
    early = sp.sympify(time) - q
    entry = {"y_out": _y(OUT, time), "h'": H.prime(CellState(time))}
    if v == "c":
        leave = {"g'": G.prime(_net(C, early)), "y_in": _y(IN, early)}
    else:
        leave = {"g": G(_net(C, early)), "f'_in": F_IN.prime(_net(IN, early))}
    named = {**entry, **leave}
    if drop and drop not in named:
        raise ValueError(f"eq. (41) for v = {v!r} has no factor {drop!r}; factors: {list(named)}")
    return _mul(*(e for name, e in named.items() if name != drop))


# ---------------------------------------------------------------------------------------
# Witnesses: a concrete instance that shows an expression is not identically zero.
# ---------------------------------------------------------------------------------------
#: The paper's f, g, h linearised at 0: f = 1/2 + x/4, g = x, h = x/2 (slopes 1/4, 1, 1/2).
_LINEAR: dict[type[_Fn], Callable[[sp.Expr], sp.Expr]] = {}
for _fn in (F_IN, F_OUT, F_K, F_V):
    _LINEAR[_fn] = lambda a: sp.Rational(1, 2) + a / 4
    _LINEAR[_fn.prime] = lambda a: sp.Rational(1, 4)
_LINEAR[G], _LINEAR[G.prime] = (lambda a: a), (lambda a: sp.Integer(1))
_LINEAR[H], _LINEAR[H.prime] = (lambda a: a / 2), (lambda a: sp.Rational(1, 2))

_WITNESS_TEXT = (
    r"nonzero witness: $f(x) = 1/2 + x/4$, $g(x) = x$, $h(x) = x/2$ (the paper's functions "
    r"linearised at 0) and rational values of all other symbols"
)


def _witness(expr: sp.Expr) -> sp.Expr:
    """``expr`` at the linearised functions and fixed rational values of its symbols."""
    for fn, impl in _LINEAR.items():
        expr = expr.replace(fn, impl)
    values = {}
    for sym in expr.free_symbols:
        code = zlib.crc32(sym.name.encode())
        values[sym] = sp.Rational((-1) ** code * (code % 11 + 2), code % 7 + 3)
    return sp.nsimplify(expr.xreplace(values))


def _nonzero(expr: sp.Expr) -> tuple[bool, str]:
    """A witness that ``expr`` is not identically zero, and its value for the proof's detail."""
    leaked = [s.name for s in expr.free_symbols if s.name.startswith(("eps", "eta", "Y"))]
    if leaked:  # a perturbation or detached input must never reach a witness
        raise ValueError(f"model symbols leaked into a witness: {sorted(leaked)}")
    value = _witness(expr)
    return bool(value.is_Rational and value != 0), f"value {sp.N(value, 6)}"


def _paper(expr: sp.Expr) -> sp.Expr:
    """Replace the generic functions by the paper's: logistic gates, g and h of eqs. (4)-(5)."""
    table = {
        F_IN: SQUASHING["logistic"],
        F_OUT: SQUASHING["logistic"],
        G: SQUASHING["g"],
        H: SQUASHING["h"],
    }
    for fn, sq in table.items():
        expr = expr.replace(fn, lambda a, f=sq.f: f.subs(_x, a))
        expr = expr.replace(fn.prime, lambda a, df=sq.df: df.subs(_x, a))
    return expr


# ---------------------------------------------------------------------------------------
# Model 1: the stop-gradient (truncated) one-cell network.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StopGradientCell:
    r"""One memory cell unrolled over ``T`` steps, with every net input an independent symbol.

    This is the network the truncated rule differentiates exactly (SPEC L2): ``net_{c_j}(t)``,
    ``net_{in_j}(t)``, ``net_{out_j}(t)`` are symbols, so no path leaves the cell backwards
    except through the CEC. One output unit k reads the cell at the same step,
    ``net_k(t) = w_{k c_j} y^{c_j}(t) + b_k(t)``, and ``E = 1/2 sum_t (t^k(t) - y^k(t))^2``.
    ``eps[t-1]`` is added to ``s_{c_j}(t)`` and ``eta[t-1]`` to ``y^{c_j}(t)`` (both 0 at the
    evaluation point), so ``-dE/d eps`` is ``\vartheta_{s_{c_j}}(t)`` and ``-dE/d eta`` is
    ``\vartheta_j(t)``. ``step_loss[t-1]`` is ``E(t)``. ``atoms`` maps display atoms at
    concrete times to model expressions.
    """

    T: int
    net_c: tuple[sp.Symbol, ...]
    net_in: tuple[sp.Symbol, ...]
    net_out: tuple[sp.Symbol, ...]
    eps: tuple[sp.Symbol, ...]
    eta: tuple[sp.Symbol, ...]
    state: tuple[sp.Expr, ...]
    y_c: tuple[sp.Expr, ...]
    step_loss: tuple[sp.Expr, ...]
    atoms: dict[sp.Basic, sp.Expr] = field(default_factory=dict)

    @property
    def loss(self) -> sp.Expr:
        """``E = sum_t E(t)``, ``E(t) = 1/2 (t^k(t) - y^k(t))^2``."""
        return sp.Add(*self.step_loss)

    def zero(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` at the evaluation point: every perturbation ``eps``, ``eta`` set to 0."""
        return expr.xreplace({s: 0 for s in (*self.eps, *self.eta)})

    def d(self, expr: sp.Expr, wrt: sp.Symbol) -> sp.Expr:
        """``d expr / d wrt`` at the evaluation point, slopes written as ``F'(a)``."""
        return primes(self.zero(sp.diff(expr, wrt)))

    def realize(self, formula: _F | sp.Expr) -> sp.Expr:
        """A formula in display atoms at concrete times, as an expression of this model."""
        expr = formula.expr if isinstance(formula, _F) else formula
        return expr.xreplace(self.atoms)

    def display(self, expr: sp.Expr) -> sp.Expr:
        """The inverse of :meth:`realize` on this model's own expressions (for printing)."""
        return expr.xreplace({v: k for k, v in self.atoms.items() if not v.is_Number})


@cache
def stop_gradient_cell(T: int) -> StopGradientCell:
    """The stop-gradient one-cell network of length ``T`` (see :class:`StopGradientCell`)."""
    nc = tuple(_s(f"net_c{t}") for t in range(1, T + 1))
    ni = tuple(_s(f"net_in{t}") for t in range(1, T + 1))
    no = tuple(_s(f"net_out{t}") for t in range(1, T + 1))
    eps = tuple(_s(f"eps{t}") for t in range(1, T + 1))
    eta = tuple(_s(f"eta{t}") for t in range(1, T + 1))
    w_kc = _w(K, C)
    states, ycs, terms = [], [], []
    s = sp.Integer(0)
    for i in range(T):
        s = s + F_IN(ni[i]) * G(nc[i]) + eps[i]
        yc = F_OUT(no[i]) * H(s) + eta[i]
        net_k = w_kc * yc + _s(f"b{i + 1}")
        terms.append(sp.Rational(1, 2) * (_s(f"d{i + 1}") - F_K(net_k)) ** 2)
        states.append(s)
        ycs.append(yc)
    cell = StopGradientCell(T, nc, ni, no, eps, eta, tuple(states), tuple(ycs), tuple(terms))
    loss = cell.loss
    atoms = cell.atoms
    for i in range(T):
        t = i + 1
        net_k = cell.zero(w_kc * ycs[i] + _s(f"b{t}"))
        atoms.update(
            {
                _net(C, t): nc[i],
                _net(IN, t): ni[i],
                _net(OUT, t): no[i],
                _y(IN, t): F_IN(ni[i]),
                _y(OUT, t): F_OUT(no[i]),
                CellState(t): cell.zero(states[i]),
                _y(C, t): cell.zero(ycs[i]),
                _net(K, t): net_k,
                _y(K, t): F_K(net_k),
                Target(t): _s(f"d{t}"),
                OutputError(t): F_K.prime(net_k) * (_s(f"d{t}") - F_K(net_k)),
                StateError(t): -cell.d(loss, eps[i]),
                ErrorSignal(J, t): -cell.d(loss, eta[i]),
            }
        )
    atoms[StateError(T + 1)] = sp.Integer(0)
    return cell


# ---------------------------------------------------------------------------------------
# Model 2: the full (untruncated) one-cell network with recurrent weights, and its
# stop-gradient twin.
# ---------------------------------------------------------------------------------------
#: The weights of :func:`full_cell`: from the input x, and recurrent from y^c(t-1), y^in(t-1).
WEIGHTS: dict[str, sp.Symbol] = {
    "in_x": _w(IN, X),
    "in_c": _w(IN, C),
    "out_x": _w(OUT, X),
    "out_c": _w(OUT, C),
    "c_x": _w(C, X),
    "c_c": _w(C, C),
    "c_in": _w(C, IN),
    "k_c": _w(K, C),
}
_RECURRENT = ("in_c", "out_c", "c_c", "c_in")
_HIDDEN = ("in_x", "in_c", "out_x", "out_c", "c_x", "c_c", "c_in")


@dataclass(frozen=True, eq=False)
class FullCell:
    r"""One memory cell, one input x and one output unit k, unrolled over ``T`` steps.

    ``net_{in_j}(t) = w_{in_j x} y^x(t) + w_{in_j c_j} y^{c_j}(t-1)``,
    ``net_{out_j}(t) = w_{out_j x} y^x(t) + w_{out_j c_j} y^{c_j}(t-1)``,
    ``net_{c_j}(t) = w_{c_j x} y^x(t) + w_{c_j c_j} y^{c_j}(t-1) + w_{c_j in_j} y^{in_j}(t-1)``,
    ``net_k(t) = w_{k c_j} y^{c_j}(t)`` (same step), ``y^{c_j}(0) = y^{in_j}(0) = 0``.
    With ``detached`` the recurrent inputs ``y^{c_j}(t-1)``, ``y^{in_j}(t-1)`` of the three
    net inputs are symbols (the stop-gradient network of L2) whose values ``detached_values``
    are the full network's activations (the forward pass is the same). ``eps[t-1]`` is added
    to ``s_{c_j}(t)``; ``atoms`` maps display atoms at concrete times to model expressions.
    """

    T: int
    detached: bool
    eps: tuple[sp.Symbol, ...]
    state: tuple[sp.Expr, ...]
    y_c: tuple[sp.Expr, ...]
    y_in: tuple[sp.Expr, ...]
    net_k: tuple[sp.Expr, ...]
    targets: tuple[sp.Symbol, ...]
    atoms: dict[sp.Basic, sp.Expr]
    detached_values: dict[sp.Symbol, sp.Expr]

    def zero(self, expr: sp.Expr) -> sp.Expr:
        return expr.xreplace({e: 0 for e in self.eps})

    def loss(self, half: bool = True) -> sp.Expr:
        """``E = 1/2 sum_t (t^k(t) - y^k(t))^2``; eq. (16)'s ``sum_t (...)^2`` if not ``half``."""
        total = sp.Add(*((d - F_K(n)) ** 2 for d, n in zip(self.targets, self.net_k, strict=True)))
        return sp.Rational(1, 2) * total if half else total

    def gradient(self, weight: sp.Symbol, half: bool = True) -> sp.Expr:
        """``dE/dw`` of this network (truncated when ``detached``), as a full-network expression."""
        grad = primes(self.zero(sp.diff(self.loss(half), weight)))
        return grad.xreplace(self.detached_values)

    def realize(self, formula: _F | sp.Expr) -> sp.Expr:
        expr = formula.expr if isinstance(formula, _F) else formula
        return expr.xreplace(self.atoms)


@cache
def full_cell(T: int, detached: bool = False) -> FullCell:
    """The one-cell network of :class:`FullCell`, full or stop-gradient."""
    W = WEIGHTS
    full = full_cell(T, False) if detached else None
    eps = tuple(_s(f"eps{t}") for t in range(1, T + 1))
    zero = {e: 0 for e in eps}
    yc_prev, yin_prev, s = sp.Integer(0), sp.Integer(0), sp.Integer(0)
    states, ycs, yins, netks = [], [], [], []
    atoms: dict[sp.Basic, sp.Expr] = {}
    values: dict[sp.Symbol, sp.Expr] = {}
    for i in range(T):
        t = i + 1
        x, d = _s(f"x{t}"), _s(f"d{t}")
        yc_in, yin_in = yc_prev, yin_prev
        if full is not None and t > 1:
            yc_in, yin_in = _s(f"Yc{t - 1}"), _s(f"Yin{t - 1}")
            values[yc_in] = full.zero(full.y_c[i - 1])
            values[yin_in] = full.zero(full.y_in[i - 1])
        ni = W["in_x"] * x + W["in_c"] * yc_in
        no = W["out_x"] * x + W["out_c"] * yc_in
        nc = W["c_x"] * x + W["c_c"] * yc_in + W["c_in"] * yin_in
        yin = F_IN(ni)
        s = s + yin * G(nc) + eps[i]
        yc = F_OUT(no) * H(s)
        net_k = W["k_c"] * yc
        states.append(s)
        ycs.append(yc)
        yins.append(yin)
        netks.append(net_k)
        yc_prev, yin_prev = yc, yin
        nk = net_k.xreplace(zero)
        atoms.update(
            {
                _y(X, t): x,
                _net(IN, t): ni.xreplace(zero),
                _net(OUT, t): no.xreplace(zero),
                _net(C, t): nc.xreplace(zero),
                _y(IN, t): yin.xreplace(zero),
                _y(OUT, t): F_OUT(no).xreplace(zero),
                CellState(t): s.xreplace(zero),
                _y(C, t): yc.xreplace(zero),
                _net(K, t): nk,
                Target(t): d,
                OutputError(t): F_K.prime(nk) * (d - F_K(nk)),
            }
        )
    return FullCell(
        T,
        detached,
        eps,
        tuple(states),
        tuple(ycs),
        tuple(yins),
        tuple(netks),
        tuple(_s(f"d{t}") for t in range(1, T + 1)),
        full.atoms if full is not None else atoms,
        values,
    )


# ---------------------------------------------------------------------------------------
# Shared pieces of the derivation.
# ---------------------------------------------------------------------------------------
_HALF_E = r"$E = 1/2 \sum_t (t^k(t) - y^k(t))^2$"
_BY_DIFF = "differentiating the unrolled network, simplify(lhs - rhs) = 0"


def _chain(*parts: object, rel: str = "=") -> _F:
    """``a = b = c`` as one side of a step."""
    fs = [_fm(p) for p in parts]
    tr = {"=": "=", "~tr": r"\approx_{tr}", "<=": r"\le"}[rel]
    return _F(f" {tr} ".join(f.tex for f in fs), f" {rel} ".join(f.txt for f in fs))


def _sum_k(term: _F) -> _F:
    return _F(rf"\sum_k {term.tex}", f"sum_k {term.txt}")


def _abs(part: object) -> _F:
    f = _fm(part)
    return _F(rf"\Bigl|{f.tex}\Bigr|", f"|{f.txt}|")


@dataclass(frozen=True)
class _OneStep:
    """``d s_c(t) / d s_c(t-1)`` of the full network: derived, and as eq. (30) with u = c_j."""

    derived: sp.Expr
    through_in: _F
    through_c: _F
    formula: _F
    atoms: dict[sp.Basic, sp.Expr]

    def realize(self, formula: _F) -> sp.Expr:
        return formula.expr.xreplace(self.atoms)


_DELTA_IN = _F(r"\Delta_{in_j}(t)", "Delta_in(t)")
_DELTA_C = _F(r"\Delta_{c_j}(t)", "Delta_c(t)")


@cache
def _full_one_step() -> _OneStep:
    r"""One step of the untruncated CEC, with ``s_{c_j}(t-1)`` a free symbol.

    ``y^{c_j}(t-1) = y^{out_j}(t-1) h(s_{c_j}(t-1))`` enters ``net_{in_j}(t)`` and
    ``net_{c_j}(t)`` through ``w_{in_j c_j}`` and ``w_{c_j c_j}``; ``a_in``, ``a_c`` stand for
    the rest of those net inputs, which does not depend on ``s_{c_j}(t-1)``.
    """
    s_prev, no_prev, a_in, a_c = _s("s_prev"), _s("net_out_prev"), _s("a_in"), _s("a_c")
    w_inc, w_cc = WEIGHTS["in_c"], WEIGHTS["c_c"]
    yc_prev = F_OUT(no_prev) * H(s_prev)
    ni, nc = w_inc * yc_prev + a_in, w_cc * yc_prev + a_c
    derived = primes(sp.diff(s_prev + F_IN(ni) * G(nc), s_prev))
    t = _t
    out_prev = (_y(OUT, t - 1), H.prime(CellState(t - 1)))
    through_in = _mul(F_IN.prime(_net(IN, t)), G(_net(C, t)), w_inc, *out_prev)
    through_c = _mul(_y(IN, t), G.prime(_net(C, t)), w_cc, *out_prev)
    atoms = {
        CellState(t - 1): s_prev,
        _y(OUT, t - 1): F_OUT(no_prev),
        _net(IN, t): ni,
        _net(C, t): nc,
        _y(IN, t): F_IN(ni),
    }
    return _OneStep(derived, through_in, through_c, _add(1, through_in, through_c), atoms)


def _one_step_steps() -> list[Step]:
    t = _t
    full = _full_one_step()
    ds = _d(CellState(t), CellState(t - 1))
    return [
        _step("(30), full", ds, _add(1, _DELTA_IN, _DELTA_C)),
        _step("through in", _DELTA_IN, full.through_in),
        _step("through c", _DELTA_C, full.through_c),
    ]


# ---------------------------------------------------------------------------------------
# L3: the constant error carousel.
# ---------------------------------------------------------------------------------------
def _section_l3() -> Section:
    t, T = _t, 4
    cell = stop_gradient_cell(T)
    s_prev, ni, nc = _s("s_prev"), _s("net_in"), _s("net_c")
    one = primes(sp.diff(s_prev + F_IN(ni) * G(nc), s_prev))
    cec = [is_zero(cell.d(cell.state[b], cell.eps[a]) - 1) for b in range(T) for a in range(b + 1)]
    w_kc = _w(K, C)
    theta_j = [
        is_zero(cell.realize(ErrorSignal(J, u) - w_kc * OutputError(u))) for u in range(1, T + 1)
    ]
    recursion = [
        is_zero(
            cell.realize(
                StateError(u)
                - StateError(u + 1)
                - _y(OUT, u) * H.prime(CellState(u)) * ErrorSignal(J, u)
            )
        )
        for u in range(1, T + 1)
    ]
    extra_nonzero, value = _nonzero(_full_one_step().derived - 1)
    ds = _d(CellState(t), CellState(t - 1))
    ds_next = _d(CellState(t + 1), CellState(t))
    dnet = [_d(_net(u, t), "y^u(t-1)") for u in (IN, C)]
    eq30 = _add(
        1,
        _mul(_d(_y(IN, t), CellState(t - 1)), G(_net(C, t))),
        _mul(_y(IN, t), G.prime(_net(C, t)), _d(_net(C, t), CellState(t - 1))),
    )
    steps = [
        _step("(9)", CellState(t), _add(CellState(t - 1), _mul(_y(IN, t), G(_net(C, t))))),
        _step(
            "L2",
            _F(f"{dnet[0].tex},\\ {dnet[1].tex}", f"{dnet[0].txt}, {dnet[1].txt}"),
            0,
            rel="~tr",
            note=(
                r"In the stop-gradient network $net_{in_j}(t)$ and $net_{c_j}(t)$ do not depend "
                r"on $s_{c_j}(t-1)$ at all."
            ),
        ),
        _step("(30)", ds, _chain(eq30, 1, rel="~tr"), rel="="),
        *_one_step_steps(),
        _step(
            "(33)",
            StateError(t),
            _add(
                _mul(ds_next, StateError(t + 1)),
                _mul(_d(_y(C, t), CellState(t)), ErrorSignal(J, t)),
            ),
        ),
        _step(
            "(34)",
            ErrorSignal(J, t),
            _sum_k(_mul(_w(K, C), OutputError(t))),
            rel="~tr",
            note=(
                r"Same-step timing: the error at the cell output comes from the output units of "
                r"step $t$ only; the paths into $in_j$, $out_j$, $c_j$ at $t+1$ are cut, so "
                r"$\partial\vartheta_j(t)/\partial\vartheta_{s_{c_j}}(t+1) \approx_{tr} 0$."
            ),
        ),
        _step(
            "(33), truncated",
            StateError(t),
            _add(StateError(t + 1), _mul(_y(OUT, t), H.prime(CellState(t)), ErrorSignal(J, t))),
            rel="~tr",
        ),
        _step("(35)", _d(StateError(t), StateError(t + 1)), _chain(ds_next, 1, rel="~tr"), "~tr"),
    ]
    proofs = [
        prove_equal(
            "L3",
            r"in the stop-gradient network $\partial s_{c_j}(t)/\partial s_{c_j}(t-1) = 1$ "
            r"exactly (generic $f_{in_j}$, $g$)",
            one,
            sp.Integer(1),
        ),
        Proof(
            "L3",
            r"$\partial s_{c_j}(t')/\partial s_{c_j}(t) = 1$ for every "
            rf"$1 \le t \le t' \le {T}$ of the unrolled stop-gradient cell",
            _BY_DIFF,
            all(cec),
            f"{len(cec)} pairs.",
        ),
        Proof(
            "L3",
            r"(34), truncated: $\vartheta_j(t) = -\partial E/\partial y^{c_j}(t) = "
            rf"w_{{k c_j}}\, e_k(t)$ for $t = 1..{T}$, {_HALF_E}",
            _BY_DIFF,
            all(theta_j),
        ),
        Proof(
            "L3",
            r"(33)-(35): $\vartheta_{s_{c_j}}(t) = -\partial E/\partial s_{c_j}(t)$ satisfies "
            r"$\vartheta_{s_{c_j}}(t) = \vartheta_{s_{c_j}}(t+1) + y^{out_j}(t)\,h'(s_{c_j}(t))\,"
            rf"\vartheta_j(t)$ for $t = 1..{T}$, with $\vartheta_{{s_{{c_j}}}}({T + 1}) = 0$: the "
            r"coefficient of $\vartheta_{s_{c_j}}(t+1)$ is exactly 1",
            _BY_DIFF,
            all(recursion),
        ),
        Proof(
            "L3",
            r"contrast: in the full network $\partial s_{c_j}(t)/\partial s_{c_j}(t-1) - 1$ "
            r"is not identically 0",
            _WITNESS_TEXT,
            extra_nonzero,
            f"({value}).",
        ),
    ]
    return Section(
        claims=("L3",),
        title="the constant error carousel",
        paper_ref="appendix A.2, eqs. (30), (33)-(35)",
        prose=(
            r"Truncation (L2) detaches every $y^u(t-1)$ entering $net_{in_j}(t)$, "
            r"$net_{out_j}(t)$ and $net_{c_j}(t)$. In the stop-gradient network these net "
            r"inputs are therefore independent of $s_{c_j}(t-1)$, and the cell update (9) has "
            r"slope exactly 1 in $s_{c_j}(t-1)$: the carousel's fixed self-connection of "
            r"weight 1.0 with the identity activation. The internal-state error (33) then "
            r"passes from $t+1$ to $t$ unscaled, and the cell output adds "
            r"$y^{out_j}(t)\,h'(s_{c_j}(t))\,\vartheta_j(t)$. The output units read the cell "
            r"at the same step (the experiments' timing, L9), so "
            r"$\vartheta_j(t) = \sum_k w_{kc_j} e_k(t)$ takes the place of the paper's "
            r"$\sum_i w_{ic_j}\vartheta_i(t+1)$ in (31) and (34). The proofs differentiate a "
            rf"stop-gradient cell unrolled over $T = {T}$ steps, read by one output unit $k$, "
            rf"with {_HALF_E}; $\vartheta_{{s_{{c_j}}}}(t)$ and $\vartheta_j(t)$ are "
            r"$-\partial E$ with respect to perturbations added to $s_{c_j}(t)$ and "
            r"$y^{c_j}(t)$. Without truncation, (30) keeps the terms $\Delta_{in_j}$ and "
            r"$\Delta_{c_j}$ derived in L10."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# L4: error through the cell over q steps does not decay.
# ---------------------------------------------------------------------------------------
def _l4_identities(T: int) -> tuple[bool, int]:
    """Eq. (41) for both v and every q: ``dy^c(T)/dnet_v(T-q)`` against the formula."""
    cell = stop_gradient_cell(T)
    checks = []
    for q in range(T):
        for v, nets in (("c", cell.net_c), ("in", cell.net_in)):
            lhs = cell.d(cell.y_c[T - 1], nets[T - q - 1])
            checks.append(is_zero(lhs - cell.realize(eq41(v, T, q))))
    return all(checks), len(checks)


def _l4_product_form(T: int) -> bool:
    """(41)'s product: leave x prod(CEC factors) x enter, each factor from a one-step map."""
    cell = stop_gradient_cell(T)
    S = _s("S")
    ok = True
    for q in range(T):
        cec = [sp.diff(S + F_IN(cell.net_in[m]) * G(cell.net_c[m]), S) for m in range(T - q, T)]
        ok = ok and all(c == 1 for c in cec)
        enter = primes(sp.diff(F_OUT(cell.net_out[T - 1]) * H(S), S)).xreplace(
            {S: cell.realize(CellState(T))}
        )
        for nets in (cell.net_c, cell.net_in):
            net = nets[T - q - 1]
            leave = primes(
                sp.diff(S + F_IN(cell.net_in[T - q - 1]) * G(cell.net_c[T - q - 1]), net)
            )
            total = cell.d(cell.y_c[T - 1], net)
            ok = ok and is_zero(total - leave * sp.Mul(*cec) * enter)
    return ok


def _l4_paper_functions(T: int) -> bool:
    """Eq. (41) with the paper's logistic gates, g and h, every q."""
    cell = stop_gradient_cell(T)
    y = _paper(cell.zero(cell.y_c[T - 1]))
    ok = True
    for q in range(T):
        for v, nets in (("c", cell.net_c), ("in", cell.net_in)):
            lhs = sp.diff(y, nets[T - q - 1])
            rhs = _paper(cell.realize(eq41(v, T, q)))
            ok = ok and is_zero(lhs - rhs)
    return ok


def _l4_superposition(T: int) -> bool:
    r"""``vartheta_v(t) = -dE/dnet_v(t) = sum_{t' >= t} (41)(t', t'-t) vartheta_j(t')``."""
    cell = stop_gradient_cell(T)
    ok = True
    for u in range(1, T + 1):
        for v, nets in (("c", cell.net_c), ("in", cell.net_in)):
            lhs = -cell.d(cell.loss, nets[u - 1])
            rhs = sum(
                cell.realize(_mul(eq41(v, tp, tp - u), ErrorSignal(J, tp)))
                for tp in range(u, T + 1)
            )
            ok = ok and is_zero(lhs - rhs)
    return ok


def _section_l4() -> Section:
    t, q = _t, sp.Symbol("q")
    theta_v = ErrorSignal(V, t - q)
    cell_t = ErrorSignal(J, t)
    enter = _d(_y(C, t), CellState(t))
    cec = _d(CellState(t - sp.Symbol("m") + 1), CellState(t - sp.Symbol("m")))
    prod = _F(rf"\prod_{{m=q}}^{{1}} {cec.tex}", f"prod_(m=q..1) {cec.txt}")
    example = stop_gradient_cell(4)
    shown = example.display(example.d(example.y_c[3], example.net_c[1]))
    exact = {T: _l4_identities(T) for T in (4, 5)}
    proofs = [
        Proof(
            "L4",
            rf"(41) for $T = {T}$ and every $q = 0..{T - 1}$, both $v = c_j$ and $v = in_j$: "
            r"$\partial y^{c_j}(T)/\partial net_v(T-q)$ of the stop-gradient cell equals the "
            r"right-hand side (generic $f_{in_j}$, $f_{out_j}$, $g$, $h$)",
            _BY_DIFF,
            ok,
            f"{n} identities.",
        )
        for T, (ok, n) in exact.items()
    ]
    proofs += [
        Proof(
            "L4",
            r"the product form of (41): for every $q$ the CEC factors "
            r"$\partial s_{c_j}(t-m+1)/\partial s_{c_j}(t-m)$ are each 1 and "
            r"leave $\times \prod$ CEC $\times$ enter equals the total derivative ($T = 4$)",
            "one-step maps differentiated separately, simplify(lhs - rhs) = 0",
            _l4_product_form(4),
        ),
        Proof(
            "L4",
            r"(41) with the paper's functions (logistic gates, $g = 2\tanh(x/2)$, "
            r"$h = \tanh(x/2)$), $T = 4$, every $q$ and $v$",
            _BY_DIFF,
            _l4_paper_functions(4),
        ),
        Proof(
            "L4",
            r"error level: $\vartheta_v(t) = -\partial E/\partial net_v(t) = "
            r"\sum_{t' \ge t} [\text{(41) at } t', q = t'-t]\, \vartheta_j(t')$ for every $t$ and "
            rf"$v \in \{{c_j, in_j\}}$ ($T = 4$, {_HALF_E}): errors arriving at different "
            r"times superimpose, none scaled by the lag",
            _BY_DIFF,
            _l4_superposition(4),
        ),
    ]
    steps = [
        _step(
            "(40), q = 0",
            _d(StateError(t), cell_t),
            _chain(enter, _mul(_y(OUT, t), H.prime(CellState(t))), rel="~tr"),
            rel="~tr",
        ),
        _step(
            "(40), q > 0",
            _d(StateError(t - q), cell_t),
            _mul(_d(CellState(t - q + 1), CellState(t - q)), _d(StateError(t - q + 1), cell_t)),
            rel="~tr",
        ),
        _step(
            "(41)",
            _d(theta_v, cell_t),
            _mul(_d(theta_v, StateError(t - q)), prod, enter),
            rel="~tr",
        ),
        _step("CEC", prod, 1, rel="~tr", note="Each factor is 1 by L3."),
        _step(
            "(36)",
            _d(ErrorSignal(C, t - q), StateError(t - q)),
            _mul(G.prime(_net(C, t - q)), _y(IN, t - q)),
        ),
        _step(
            "(37)",
            _d(ErrorSignal(IN, t - q), StateError(t - q)),
            _mul(F_IN.prime(_net(IN, t - q)), G(_net(C, t - q))),
            rel="~tr",
        ),
        _step("(41), v = c", _d(ErrorSignal(C, t - q), cell_t), eq41("c", t, q), rel="~tr"),
        _step("(41), v = in", _d(ErrorSignal(IN, t - q), cell_t), eq41("in", t, q), rel="~tr"),
        _step(
            "T = 4, q = 2",
            _d(_y(C, 4), _net(C, 2)),
            shown,
            note=(
                r"As SymPy differentiates the unrolled stop-gradient cell: the lag appears "
                r"only in the time indices."
            ),
        ),
    ]
    return Section(
        claims=("L4",),
        title="error through a memory cell over q steps",
        paper_ref="appendix A.2, eqs. (36)-(37), (40)-(41)",
        prose=(
            r"An error $\vartheta_j(t)$ arriving at the cell output is scaled once on the way "
            r"in, by $y^{out_j}(t)\,h'(s_{c_j}(t))$, travels back $q$ steps through the "
            r"carousel, where every factor is 1 (L3), and is scaled once on the way out, through "
            r"the cell input ($g'\,y^{in_j}$) or the input gate ($g\,f'_{in_j}$). Because the "
            r"cell output depends on $net_v(t-q)$ only through $s_{c_j}$, "
            r"$\partial\vartheta_v(t-q)/\partial\vartheta_j(t) = "
            r"\partial y^{c_j}(t)/\partial net_v(t-q)$, which is what is checked, in the "
            r"stop-gradient cell whose net inputs are independent symbols. Nothing in the "
            r"result depends on $q$: the contrast with the $\rho^q$ decay of B6."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# L5: no external error flow.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _External:
    """A unit v feeding the cell's three net inputs at step t (= 2 here), cell run to t + 2."""

    net_v: sp.Symbol
    y_c: tuple[sp.Expr, ...]
    y_c_detached: tuple[sp.Expr, ...]
    atoms: dict[sp.Basic, sp.Expr]


@cache
def _external() -> _External:
    t0 = 2
    nv, s_prev = _s("net_v1"), _s("s1")
    w = {u: _w(u, V) for u in (IN, OUT, C)}

    def run(feed: sp.Expr) -> tuple[tuple[sp.Expr, ...], dict[sp.Basic, sp.Expr]]:
        s, ycs, atoms = s_prev, [], {CellState(t0 - 1): s_prev, _net(V, t0 - 1): nv}
        for t in range(t0, t0 + 3):
            rest = {u: _s(f"a_{u}{t}") for u in (IN, OUT, C)}
            nets = {u: (w[u] * feed + rest[u]) if t == t0 else rest[u] for u in rest}
            s = s + F_IN(nets[IN]) * G(nets[C])
            yc = F_OUT(nets[OUT]) * H(s)
            ycs.append(yc)
            atoms.update({_net(u, t): nets[u] for u in nets})
            atoms.update({CellState(t): s, _y(IN, t): F_IN(nets[IN]), _y(OUT, t): F_OUT(nets[OUT])})
        return tuple(ycs), atoms

    y_c, atoms = run(F_V(nv))
    y_c_detached, _ = run(_s("Yv1"))
    return _External(nv, y_c, y_c_detached, atoms)


_P = {u: _F(rf"P_{{{latex(u)}}}(t)", f"P_{u}(t)") for u in (OUT, IN, C)}


def _section_l5() -> Section:
    t = _t
    ext = _external()
    w = {u: _w(u, V) for u in (IN, OUT, C)}
    entry = (_y(OUT, t), H.prime(CellState(t)))
    factor = {
        OUT: _mul(F_OUT.prime(_net(OUT, t)), H(CellState(t))),
        IN: _mul(F_IN.prime(_net(IN, t)), G(_net(C, t)), *entry),
        C: _mul(G.prime(_net(C, t)), _y(IN, t), *entry),
    }
    terms = {u: _mul(factor[u], w[u]) for u in factor}
    eq39 = _mul(F_V.prime(_net(V, t - 1)), _add(*terms.values()))
    at2 = {t: 2}
    full = [primes(sp.diff(y, ext.net_v)) for y in ext.y_c]
    detached = [primes(sp.diff(y, ext.net_v)) for y in ext.y_c_detached]
    eq39_ok = is_zero(full[0] - eq39.expr.xreplace(at2).xreplace(ext.atoms))
    later = []
    for lag in (1, 2):
        via41 = F_V.prime(_net(V, 1)) * (
            eq41("in", 2 + lag, lag).expr * w[IN] + eq41("c", 2 + lag, lag).expr * w[C]
        )
        later.append(is_zero(full[lag] - via41.xreplace(ext.atoms)))
    witnesses = [_nonzero(d) for d in full]
    dnet = {u: _d(_net(u, t), _y(V, t - 1)) for u in factor}
    theta = {u: ErrorSignal(u, t) for u in factor}
    steps = [
        _step(
            "(38)",
            _F(r"\vartheta^e_v(t)", "vartheta^e_v(t)"),
            _F(
                r"f'_v(net_v(t)) \sum_l \frac{\partial net_l(t+1)}{\partial y^v(t)}\,"
                r"\vartheta_l(t+1)",
                "f'_v(net_v(t)) sum_l dnet_l(t+1)/dy^v(t) vartheta_l(t+1)",
            ),
        ),
        _step(
            "(39)",
            _d(_F(r"\vartheta^e_v(t-1)", "vartheta^e_v(t-1)"), ErrorSignal(J, t)),
            _mul(F_V.prime(_net(V, t - 1)), _add(*_P.values())),
        ),
        *(
            _step(
                f"P {name} ({eq})",
                _P[u],
                _chain(_mul(_d(theta[u], ErrorSignal(J, t)), dnet[u]), terms[u]),
            )
            for u, name, eq in ((OUT, "out", "32"), (IN, "in", "37"), (C, "c", "36"))
        ),
        _step(
            "truncated",
            _F(
                f"{dnet[OUT].tex},\\ {dnet[IN].tex},\\ {dnet[C].tex}",
                f"{dnet[OUT].txt}, {dnet[IN].txt}, {dnet[C].txt}",
            ),
            0,
            rel="~tr",
        ),
        _step(
            "(39), truncated",
            _d(_F(r"\vartheta^e_v(t-1)", "vartheta^e_v(t-1)"), ErrorSignal(J, sp.Symbol("t'"))),
            0,
            rel="~tr",
            note=r"For the error arriving at $t' = t$ and at every later $t' > t$.",
        ),
    ]
    proofs = [
        Proof(
            "L5",
            r"untruncated, $\partial y^{c_j}(t)/\partial net_v(t-1)$ is eq. (39) with the "
            r"factors (32), (36), (37): $f'_v(net_v(t-1))\,(P_{out_j} + P_{in_j} + P_{c_j})$ "
            r"(generic functions)",
            _BY_DIFF,
            eq39_ok,
        ),
        Proof(
            "L5",
            r"untruncated, for $t' = t+1, t+2$: $\partial y^{c_j}(t')/\partial net_v(t-1) = "
            r"f'_v(net_v(t-1))\,[(41)_{in_j}\, w_{in_j v} + (41)_{c_j}\, w_{c_j v}]$ with "
            r"$q = t'-t$: exactly the flow of L4 leaving the cell",
            _BY_DIFF,
            all(later),
        ),
        Proof(
            "L5",
            r"untruncated, $\partial y^{c_j}(t')/\partial net_v(t-1)$ is not identically 0 "
            r"for $t' = t, t+1, t+2$",
            _WITNESS_TEXT,
            all(ok for ok, _ in witnesses),
            "(" + ", ".join(v for _, v in witnesses) + ").",
        ),
        Proof(
            "L5",
            r"truncated (the stop-gradient network): $\partial y^{c_j}(t')/\partial net_v(t-1) "
            r"= 0$ for $t' = t, t+1, t+2$, so (39) $\approx_{tr} 0$",
            "differentiating the stop-gradient network",
            all(d == 0 for d in detached),
        ),
    ]
    return Section(
        claims=("L5",),
        title="no external error flow",
        paper_ref="appendix A.2, eqs. (38)-(39)",
        prose=(
            r"A unit $v$ (an input, a gate, another cell or a hidden unit) feeds "
            r"$net_{in_j}(t)$, $net_{out_j}(t)$ and $net_{c_j}(t)$ through "
            r"$w_{in_j v}$, $w_{out_j v}$, $w_{c_j v}$. Untruncated, the error "
            r"$\vartheta_j(t)$ at the cell output reaches $v$ along these three connections, "
            r"eq. (39), and errors arriving later reach it through the carousel. Truncation "
            r"detaches $y^v(t-1)$ in all three net inputs, so none of it reaches $v$: for "
            r"conventional units all error is external error, arriving through the output "
            r"units. The model: $y^v(t-1) = f_v(net_v(t-1))$, the cell from $t$ to $t+2$, the "
            r"later net inputs independent of $y^v(t-1)$ (paths through the cell's own "
            r"recurrent connections are L10's subject)."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# L9: the factor 2 of eqs. (16)/(19), and the timing of eq. (23).
# ---------------------------------------------------------------------------------------
def _sub(a: object, b: object) -> _F:
    fa, fb = _fm(a), _fm(b)
    fb_tex = rf"\bigl({fb.tex}\bigr)" if fb.is_sum else fb.tex
    fb_txt = f"({fb.txt})" if fb.is_sum else fb.txt
    value = fa.expr - fb.expr if fa.expr is not None and fb.expr is not None else None
    return _F(f"{fa.tex} - {fb_tex}", f"{fa.txt} - {fb_txt}", value, True)


def _section_l9() -> Section:
    t = _t
    resid = _sub(Target(t), _y(K, t))
    e19 = _mul(F_K.prime(_net(K, t)), resid)
    e16 = _mul(2, F_K.prime(_net(K, t)), resid)
    sq = _F(rf"\bigl({resid.tex}\bigr)^2", f"({resid.txt})^2")
    outputs = (1, 2)
    nets = {k: _s(f"net_k{k}") for k in outputs}
    targets = {k: _s(f"t_k{k}") for k in outputs}
    E16 = sp.Add(*((targets[k] - F_K(nets[k])) ** 2 for k in outputs))
    atoms = {
        k: {_net(K, t): nets[k], _y(K, t): F_K(nets[k]), Target(t): targets[k]} for k in outputs
    }
    from16 = {k: primes(-sp.diff(E16, nets[k])) for k in outputs}
    from_half = {k: primes(-sp.diff(E16 / 2, nets[k])) for k in outputs}
    twice = all(is_zero(from16[k] - e16.expr.xreplace(atoms[k])) for k in outputs)
    half = all(is_zero(from_half[k] - e19.expr.xreplace(atoms[k])) for k in outputs)
    printed_nonzero = [_nonzero(from16[k] - e19.expr.xreplace(atoms[k])) for k in outputs]
    grads = []
    for detached in (False, True):
        net = full_cell(2, detached)
        grads += [
            is_zero(net.gradient(w, half=False) - 2 * net.gradient(w)) for w in WEIGHTS.values()
        ]
    cell = stop_gradient_cell(4)
    eq23 = [
        is_zero(
            -cell.d(cell.step_loss[u - 1], cell.eps[u - 1])
            - cell.realize(_y(OUT, u) * H.prime(CellState(u)) * _w(K, C) * OutputError(u))
        )
        for u in range(1, 5)
    ]
    e_s = _F(r"e_{s_{c_j}}(t)", "e_s(t)")
    steps = [
        _step("(16)", "E(t)", _sum_k(sq)),
        _step(
            "(18)",
            _F("e_l(t)", "e_l(t)"),
            _F(r"-\partial E(t)/\partial net_l(t)", "-dE(t)/dnet_l(t)"),
            rel=":=",
        ),
        _step("(16), (18)", _F("e_k(t)", "e_k(t)"), e16, note="Derived by SymPy."),
        _step("(19), printed", _F("e_k(t)", "e_k(t)"), e19),
        _step(
            "errorflow",
            "E(t)",
            _F(rf"\frac{{1}}{{2}} \sum_k {sq.tex}", f"1/2 sum_k {sq.txt}"),
            note=r"With the $\frac{1}{2}$, (18) gives (19) exactly.",
        ),
        _step(
            "gradients",
            _F(r"\partial E_{(16)}/\partial w_{lm}", "dE_(16)/dw_lm"),
            _F(r"2\,\partial E/\partial w_{lm}", "2 dE/dw_lm"),
        ),
        _step(
            "(23)",
            e_s,
            _chain(
                _F(r"-\partial E(t)/\partial s_{c_j}(t)", "-dE(t)/ds_c(t)"),
                _mul(_y(OUT, t), H.prime(CellState(t)), _sum_k(_mul(_w(K, C), OutputError(t)))),
            ),
            note=(
                r"Same-step timing: $e_k(t)$, not $e_k(t+1)$. Under the appendix's literal "
                r"$net_k(t) = \sum_u w_{ku} y^u(t-1)$, $E(t)$ would not depend on $s_{c_j}(t)$ "
                r"and (23) would need $e_k(t+1)$."
            ),
        ),
    ]
    proofs = [
        Proof(
            "L9",
            r"with eq. (16), $E = \sum_k (t^k - y^k)^2$, definition (18) gives "
            r"$e_k = 2 f'_k(net_k)(t^k - y^k)$ (two output units, generic $f_k$)",
            "simplify(lhs - rhs) = 0",
            twice,
        ),
        Proof(
            "L9",
            r"so eq. (19) as printed, $e_k = f'_k(net_k)(t^k - y^k)$, is not "
            r"$-\partial E/\partial net_k$ for (16)",
            _WITNESS_TEXT,
            all(ok for ok, _ in printed_nonzero),
            "(" + ", ".join(v for _, v in printed_nonzero) + ").",
        ),
        Proof(
            "L9",
            r"with $E = 1/2 \sum_k (t^k - y^k)^2$, errorflow's convention, (18) gives eq. (19) "
            r"exactly",
            "simplify(lhs - rhs) = 0",
            half,
        ),
        Proof(
            "L9",
            r"$\partial E_{(16)}/\partial w = 2\,\partial E/\partial w$ for every weight of the "
            r"one-cell network of L10 ($T = 2$), full and truncated gradients",
            _BY_DIFF,
            all(grads),
            f"{len(grads)} gradients.",
        ),
        Proof(
            "L9",
            r"(23) with same-step timing: $-\partial E(t)/\partial s_{c_j}(t) = "
            r"y^{out_j}(t)\,h'(s_{c_j}(t))\,w_{kc_j} e_k(t)$ for $t = 1..4$ of the stop-gradient "
            r"cell, $E(t)$ the error of step $t$ alone",
            _BY_DIFF,
            all(eq23),
        ),
    ]
    return Section(
        claims=("L9",),
        title="the factor 2 of eqs. (16)/(19), and the timing convention",
        paper_ref="appendix A.1, eqs. (16)-(19) and (23); section 5 (timing)",
        prose=(
            r"Eq. (16) defines $E(t) = \sum_k (t^k(t) - y^k(t))^2$ without a $\frac{1}{2}$ and "
            r"(18) defines $e_l := -\partial E/\partial net_l$; together they give "
            r"$e_k = 2 f'_k (t^k - y^k)$, while (19) prints $f'_k (t^k - y^k)$: the 2 is "
            r"absorbed into the learning rate. errorflow uses $E = \frac{1}{2}\sum (t^k - "
            r"y^k)^2$ throughout (as section 3 of the paper does implicitly), so its kernels' "
            r"$e_k$ is the printed eq. (19) and their gradients are exact $\partial E/\partial "
            r"w$ for that $E$; gradients for the literal eq. (16) are twice as large. Timing: "
            r"errorflow follows the experiments (inputs, then hidden units, then outputs in one "
            r"step), so the outputs see $y^{c_j}(t)$ of the same step, which is what the "
            r"backward equations (19)-(23) assume."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# L10: the full gradient, and when truncation is exact.
# ---------------------------------------------------------------------------------------
def _zero_weights(expr: sp.Expr, names: Iterable[str]) -> sp.Expr:
    return expr.xreplace({WEIGHTS[n]: 0 for n in names})


@dataclass(frozen=True)
class _Gaps:
    """Full minus truncated gradient, per weight, for the one-cell network of length T."""

    T: int
    gap: dict[str, sp.Expr]


@cache
def _gaps(T: int) -> _Gaps:
    full, trunc = full_cell(T), full_cell(T, True)
    return _Gaps(T, {n: full.gradient(w) - trunc.gradient(w) for n, w in WEIGHTS.items()})


def _section_l10() -> Section:
    t, T = _t, 3
    one = _full_one_step()
    eq30_ok = is_zero(one.derived - one.realize(one.formula))
    carousel = is_zero(_zero_weights(one.derived, ("in_c", "c_c")) - 1)
    extra_nonzero, extra_value = _nonzero(one.derived - 1)
    net = full_cell(T)
    into_in_c = ("in_c", "c_c", "c_in")
    cec = [
        is_zero(_zero_weights(primes(net.zero(sp.diff(net.state[b], net.eps[a]))), into_in_c) - 1)
        for b in range(T)
        for a in range(b + 1)
    ]
    gaps = _gaps(T).gap
    exact_all = [is_zero(_zero_weights(g, _RECURRENT)) for g in gaps.values()]
    output_weight = is_zero(gaps["k_c"])
    out_gate = {n: _nonzero(_zero_weights(gaps[n], into_in_c)) for n in _HIDDEN}
    in_to_c = _nonzero(_zero_weights(gaps["in_x"], ("in_c", "c_c", "out_c")))
    # The cut output-gate path, written out for T = 2 and the weight w_{c_j x}.
    small = full_cell(2)
    dyc1 = _mul(_y(OUT, 1), H.prime(CellState(1)), _y(IN, 1), G.prime(_net(C, 1)), _y(X, 1))
    cut = _neg(
        _mul(ErrorSignal(J, 2), H(CellState(2)), F_OUT.prime(_net(OUT, 2)), WEIGHTS["out_c"])
    )
    gap_formula = _mul(cut, _d(_y(C, 1), WEIGHTS["c_x"]))
    atoms2 = {**small.atoms, ErrorSignal(J, 2): WEIGHTS["k_c"] * small.atoms[OutputError(2)]}
    gap2 = _gaps(2).gap["c_x"]
    gap2_ok = is_zero(_zero_weights(gap2 - (cut.expr * dyc1.expr).xreplace(atoms2), into_in_c))
    w = WEIGHTS
    ds = _d(CellState(t), CellState(t - 1))
    gap_lhs = _F(
        r"\frac{\partial E}{\partial w_{c_j x}} - \frac{\partial^{tr} E}{\partial w_{c_j x}}",
        "dE/dw_{c_j x} - d^tr E/dw_{c_j x}",
    )
    steps = [
        _step(
            "in gate", _net(IN, t), _add(_mul(w["in_x"], _y(X, t)), _mul(w["in_c"], _y(C, t - 1)))
        ),
        _step(
            "out gate",
            _net(OUT, t),
            _add(_mul(w["out_x"], _y(X, t)), _mul(w["out_c"], _y(C, t - 1))),
        ),
        _step(
            "cell input",
            _net(C, t),
            _add(
                _mul(w["c_x"], _y(X, t)),
                _mul(w["c_c"], _y(C, t - 1)),
                _mul(w["c_in"], _y(IN, t - 1)),
            ),
        ),
        *_one_step_steps(),
        _step(
            "carousel",
            _F(
                rf"{ds.tex}\Big|_{{w_{{in_j c_j}} = w_{{c_j c_j}} = 0}}",
                f"{ds.txt} at w_in_c = w_cc = 0",
            ),
            1,
        ),
        _step(
            "q steps",
            _F(
                r"\frac{\partial s_{c_j}(t)}{\partial s_{c_j}(t-q)}\Big|_{w_{in_j u} = "
                r"w_{c_j u} = 0\ \forall u\ \mathrm{recurrent}}",
                "ds_c(t)/ds_c(t-q) with every recurrent weight into in_j and c_j zero",
            ),
            1,
        ),
        _step(
            "gap, T = 2",
            gap_lhs,
            gap_formula,
            note=(
                r"With only $w_{out_j c_j} \ne 0$: the path $w_{c_j x} \to y^{c_j}(1) \to "
                r"net_{out_j}(2) \to y^{c_j}(2)$ is cut by truncation; $\vartheta_j(2) = "
                r"w_{kc_j} e_k(2)$."
            ),
        ),
        _step("cell output", _d(_y(C, 1), w["c_x"]), dyc1),
    ]
    proofs = [
        Proof(
            "L10",
            r"untruncated, $\partial s_{c_j}(t)/\partial s_{c_j}(t-1) = 1 + \Delta_{in_j}(t) + "
            r"\Delta_{c_j}(t)$: eq. (30) with the sum over $u$ reduced to $u = c_j$ (generic "
            r"functions)",
            "differentiating the network, simplify(lhs - rhs) = 0",
            eq30_ok,
        ),
        Proof(
            "L10",
            r"the carousel contributes exactly 1: at $w_{in_j c_j} = w_{c_j c_j} = 0$ the "
            r"derivative is 1, whatever the other weights",
            "simplify(lhs - rhs) = 0",
            carousel,
        ),
        Proof(
            "L10",
            r"otherwise $\Delta_{in_j} + \Delta_{c_j}$ is not identically 0",
            _WITNESS_TEXT,
            extra_nonzero,
            f"({extra_value}).",
        ),
        Proof(
            "L10",
            r"with $w_{in_j c_j} = w_{c_j c_j} = w_{c_j in_j} = 0$ (every recurrent weight into "
            r"$in_j$ and $c_j$), even with $w_{out_j c_j} \ne 0$, the full network has "
            rf"$\partial s_{{c_j}}(t')/\partial s_{{c_j}}(t) = 1$ for all $1 \le t \le t' \le {T}$",
            _BY_DIFF,
            all(cec),
        ),
        Proof(
            "L10",
            rf"$T = {T}$: full gradient = truncated gradient for all {len(WEIGHTS)} weights when "
            r"every recurrent weight into the hidden layer ($w_{in_j c_j}$, $w_{out_j c_j}$, "
            r"$w_{c_j c_j}$, $w_{c_j in_j}$) is zero (generic functions; gradients also with "
            r"respect to those weights)",
            _BY_DIFF,
            all(exact_all),
        ),
        Proof(
            "L10",
            rf"$T = {T}$: the output weight's gradient $\partial E/\partial w_{{kc_j}}$ is exact "
            r"for any recurrent weights",
            _BY_DIFF,
            output_weight,
        ),
        Proof(
            "L10",
            rf"$T = {T}$: with only $w_{{out_j c_j}} \ne 0$ the CEC is exact (above) but the "
            r"truncated gradient differs from the full one for each of the 7 hidden-layer "
            r"weights",
            _WITNESS_TEXT,
            all(ok for ok, _ in out_gate.values()),
            "(" + ", ".join(f"${latex(WEIGHTS[n])}$: {v}" for n, (_, v) in out_gate.items()) + ").",
        ),
        Proof(
            "L10",
            rf"$T = {T}$: with only $w_{{c_j in_j}} \ne 0$ (recurrent, from the input gate) the "
            r"CEC is exact but $\partial E/\partial w_{in_j x}$ differs",
            _WITNESS_TEXT,
            in_to_c[0],
            f"({in_to_c[1]}).",
        ),
        Proof(
            "L10",
            r"$T = 2$, only $w_{out_j c_j} \ne 0$: the gap of $w_{c_j x}$ is exactly the cut "
            r"output-gate path shown",
            _BY_DIFF,
            gap2_ok,
        ),
    ]
    return Section(
        claims=("L10",),
        title="the full gradient, and when truncation is exact",
        paper_ref="appendix A.2, eq. (30); section 4 and A.1 (truncation)",
        prose=(
            r"In the full network $y^u(t-1)$ depends on $s_{c_j}(t-1)$ only for $u = c_j$ "
            r"(every net input reads step $t-2$ values), so the sums over $u$ in (30) keep one "
            r"term each: $\Delta_{in_j}$ through $w_{in_j c_j}$ and $\Delta_{c_j}$ through "
            r"$w_{c_j c_j}$. The carousel's own path still contributes exactly 1. Over several "
            r"steps $s_{c_j}(t-q)$ also reaches $net_{in_j}$ and $net_{c_j}$ through other units "
            r"(the output gate, other cells, hidden units), so the CEC stays exact only when "
            r"every recurrent weight into $in_j$ and $c_j$ is zero. SPEC L10's ``then truncated "
            r"= full'' needs more: the output gate's recurrent weights must vanish too (and, by "
            r"eq. (11), those into conventional hidden units). With $w_{out_j c_j} \ne 0$ or a "
            r"recurrent weight from the input gate into $c_j$ the carousel is still exact, yet "
            r"the truncated gradient differs from the full one, because truncation also cuts "
            r"paths that never pass through $s_{c_j}$'s self-loop. The model: one cell, one "
            r"input $x$, one output unit $k$ reading $y^{c_j}(t)$, recurrent weights "
            r"$w_{in_j c_j}$, $w_{out_j c_j}$, $w_{c_j c_j}$, $w_{c_j in_j}$; "
            r"$\partial^{tr}$ is the derivative of the stop-gradient twin (L2)."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# L11: drift of the internal state, and the input-gate bias.
# ---------------------------------------------------------------------------------------
def _section_l11() -> Section:
    s = sp.Symbol("s", real=True)
    p = sp.Symbol("p", positive=True)
    u = sp.Symbol("u", positive=True)
    h = SQUASHING["h"].f.subs(_x, s)
    hp = sp.diff(h, s)
    tanh_form = (1 - sp.tanh(s / 2) ** 2) / 2
    bell = 2 * sp.exp(-sp.Abs(s)) / (1 + sp.exp(-sp.Abs(s))) ** 2
    tanh_ok = is_zero((hp - tanh_form).rewrite(sp.exp)) and is_zero(
        (h - sp.tanh(s / 2)).rewrite(sp.exp)
    )
    bell_ok = all(is_zero((hp - bell).subs(s, v).rewrite(sp.exp)) for v in (p, -p))
    gap = 2 * u - 2 * u / (1 + u) ** 2
    gap_closed = 2 * u**2 * (u + 2) / (u + 1) ** 2
    gap_ok = is_zero(gap - gap_closed) and bool(gap_closed.is_nonnegative)
    tight = sp.limit(hp.subs(s, p) / (2 * sp.exp(-p)), p, sp.oo) == 1
    delta, tt = sp.Symbol("delta", positive=True), sp.Symbol("t", positive=True)
    a, b = sp.symbols("a b", nonnegative=True)
    induction = is_zero(((tt - 1) * delta + a) + (delta + b) - tt * delta - (a + b)) and bool(
        (a + b).is_nonnegative
    )
    decreasing = bool(is_decreasing(sp.exp(-_x), sp.Interval(0, sp.oo)))
    vanish = sp.limit(2 * sp.exp(-tt * delta), tt, sp.oo) == 0
    x = sp.Symbol("x", real=True)
    f = SQUASHING["logistic"].f.subs(_x, x)
    fp = sp.diff(f, x)
    g = SQUASHING["g"].f.subs(_x, x)
    in_unit = bool(f.is_positive) and bool(sp.together(1 - f).is_positive)
    g_range = is_zero(g + 2 - 4 * f) and is_zero(2 - g - 4 * (1 - f))
    above = sp.exp(2 * x) / (1 + sp.exp(x))
    exp_bound = is_zero(sp.exp(x) - f - above) and bool(above.is_positive)
    slope_le = is_zero(f - fp - f**2)
    hprime = H.prime(s)
    sc = CellState(_t)
    steps = [
        _step("(4)", sp.Function("h")(s), _chain(h, sp.tanh(s / 2))),
        _step("slope", hprime, _chain(tanh_form, bell)),
        _step(
            "bound",
            hprime,
            2 * sp.exp(-sp.Abs(s)),
            rel="<=",
            note=r"Because $(1 + e^{-|s|})^2 \ge 1$; the ratio tends to 1 as $|s| \to \infty$.",
        ),
        _step(
            "gap",
            _sub(2 * sp.exp(-sp.Abs(s)), hprime),
            _F(
                rf"{latex(gap_closed)}, \quad u = e^{{-|s|}}",
                f"{text(gap_closed)}, u = e^(-|s|)",
            ),
        ),
        _step(
            "one sign",
            _F(r"y^{in_j}(\tau)\, g(net_{c_j}(\tau))", "y^in_j(tau) g(net_c_j(tau))"),
            _F(r"\delta > 0 \quad (\tau = 1, \dots, t)", "delta > 0 (tau = 1..t)"),
            rel=r"\ge",
        ),
        _step(
            "drift",
            sc,
            _F(
                r"\sum_{\tau=1}^{t} y^{in_j}(\tau)\, g(net_{c_j}(\tau)) \ge t\delta",
                "sum_tau y^in_j(tau) g(net_c_j(tau)) >= t delta",
            ),
        ),
        _step(
            "vanishing",
            H.prime(sc),
            _chain(
                2 * sp.exp(-sp.Abs(sc)),
                _F(r"2 e^{-t\delta} \to 0", "2 e^(-t delta) -> 0"),
                rel="<=",
            ),
            rel="<=",
        ),
        _step(
            "L4 factor",
            _abs(_d(ErrorSignal(V, _t - sp.Symbol("q")), ErrorSignal(J, _t))),
            _chain(
                _mul(_y(OUT, _t), H.prime(sc)), _F(r"2 e^{-t\delta}", "2 e^(-t delta)"), rel="<="
            ),
            rel="<=",
            note=(
                r"$0 < y^{out_j} < 1$; the leaving factor is $g'\,y^{in_j} \le 1$ or "
                r"$|g|\, f'_{in_j} \le 2 \cdot \frac{1}{4}$ (A1, A2). Every error entering the "
                r"carousel at time $t$ is scaled down by the drift accumulated up to $t$."
            ),
        ),
        _step(
            "gate bias",
            _y(IN, _t),
            _F(
                r"f\bigl(b_{in_j} + \textstyle\sum_u w_{in_j u}\, y^u(t-1)\bigr) \le "
                r"e^{b_{in_j}}\, e^{\sum_u w_{in_j u}\, y^u(t-1)}",
                "f(b_in + sum_u w_in_u y^u(t-1)) <= e^b_in e^(sum_u w_in_u y^u(t-1))",
            ),
        ),
        _step(
            "drift rate",
            _abs(_sub(CellState(_t), CellState(_t - 1))),
            _F(
                r"y^{in_j}(t)\, |g(net_{c_j}(t))| < 2\, e^{net_{in_j}(t)}",
                "y^in_j(t) |g(net_c_j(t))| < 2 e^(net_in_j(t))",
            ),
        ),
        _step(
            "gate slope",
            F_IN.prime(_net(IN, _t)),
            _F(r"y^{in_j}(t) \le e^{net_{in_j}(t)}", "y^in_j(t) <= e^(net_in_j(t))"),
            rel="<=",
            note=(
                r"The cost of the bias: the leaving factors of L4 shrink with $y^{in_j}$ and "
                r"$f'_{in_j}$ too (the paper's observation 3)."
            ),
        ),
    ]
    proofs = [
        Proof(
            "L11",
            r"$h(s) = 2/(1+e^{-s}) - 1 = \tanh(s/2)$ and $h'(s) = (1 - \tanh^2(s/2))/2$",
            "simplify(lhs - rhs) = 0",
            tanh_ok,
        ),
        Proof(
            "L11",
            r"$h'(s) = 2e^{-|s|}/(1 + e^{-|s|})^2$ for every real $s$",
            "simplify(lhs - rhs) = 0 on $s > 0$ and on $s < 0$",
            bell_ok,
        ),
        Proof(
            "L11",
            r"$2e^{-|s|} - h'(s) = 2u^2(u+2)/(u+1)^2 \ge 0$ with $u = e^{-|s|} > 0$, so "
            r"$h'(s) \le 2e^{-|s|}$",
            "simplify(lhs - rhs) = 0; SymPy's sign assumptions for $u > 0$",
            gap_ok,
        ),
        Proof(
            "L11",
            r"the bound is tight: $h'(s)/(2e^{-|s|}) \to 1$ as $|s| \to \infty$",
            "limit",
            tight,
        ),
        Proof(
            "L11",
            r"induction: $s_{c_j}(t-1) \ge (t-1)\delta$ and an increment $\ge \delta$ give "
            r"$s_{c_j}(t) \ge t\delta$ (base $s_{c_j}(0) = 0$)",
            "simplify, and SymPy's sign assumptions",
            induction,
        ),
        Proof(
            "L11",
            r"$e^{-x}$ decreases on $[0, \infty)$, so $h'(s_{c_j}(t)) \le 2e^{-|s_{c_j}(t)|} \le "
            r"2e^{-t\delta}$, and $2e^{-t\delta} \to 0$ as $t \to \infty$",
            "SymPy's monotonicity test; limit",
            decreasing and vanish,
        ),
        Proof(
            "L11",
            r"for the logistic $f$: $0 < f < 1$, and $g = 4f - 2$ has $|g| < 2$",
            "simplify(lhs - rhs) = 0; SymPy's sign assumptions",
            in_unit and g_range,
        ),
        Proof(
            "L11",
            r"gate bias: $e^x - f(x) = e^{2x}/(1 + e^x) > 0$, so "
            r"$y^{in_j} = f(net_{in_j}) < e^{net_{in_j}}$: a bias $b_{in_j} < 0$ shrinks "
            r"$y^{in_j}$, and with it the drift per step, by $e^{b_{in_j}}$",
            "simplify(lhs - rhs) = 0; SymPy's sign assumptions",
            exp_bound,
        ),
        Proof(
            "L11",
            r"$f - f' = f^2$, so $f'_{in_j} \le y^{in_j} < e^{net_{in_j}}$",
            "simplify(lhs - rhs) = 0",
            slope_le,
        ),
    ]
    return Section(
        claims=("L11",),
        title="internal-state drift and the input-gate bias",
        paper_ref="section 4 (abuse problem and drift); appendix A.2, observations on eq. (41)",
        prose=(
            r"The factor $y^{out_j}(t)\,h'(s_{c_j}(t))$ with which L4 lets error into the "
            r"carousel depends on the absolute time $t$ through $s_{c_j}(t)$, not on the lag. "
            r"For the paper's $h(x) = \tanh(x/2)$ (eq. 4) the slope falls like "
            r"$2e^{-|s|}$, and the bound is tight. If the cell input is of one sign, "
            r"$y^{in_j}\, g(net_{c_j}) \ge \delta > 0$ at every step, the state drifts "
            r"linearly, $s_{c_j}(t) \ge t\delta$, and every error entering the cell at time "
            r"$t$ is scaled by at most $2e^{-t\delta}$. A negative input-gate bias $b_{in_j}$ "
            r"slows the drift: a logistic gate obeys $f(x) < e^x$, so each step moves "
            r"$s_{c_j}$ by less than $2e^{b_{in_j}} e^{\sum_u w_{in_j u} y^u(t-1)}$; the price "
            r"is a smaller $y^{in_j}$ and $f'_{in_j}$ in the leaving factors of (41)."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# The public entry points.
# ---------------------------------------------------------------------------------------
@cache
def sections() -> list[Section]:
    """The appendix A.2 sections, in the order L3, L4, L5, L9, L10, L11, proofs evaluated.

    Cached: the same list (and Section objects) on every call; do not mutate it.
    """
    return [
        _section_l3(),
        _section_l4(),
        _section_l5(),
        _section_l9(),
        _section_l10(),
        _section_l11(),
    ]


def proofs(claim_id: str) -> list[Proof]:
    """Every proof of ``claim_id`` (e.g. ``"L4"``) over :func:`sections`."""
    return [
        p
        for s in sections()
        for p in s.proofs
        if claim_id in (c.strip() for c in p.claim.split(","))
    ]
