r"""Array-level operations for step kernels: the indexed sums of the paper as SymPy objects.

The LSTM step (SPEC L1, L6) is a handful of indexed sums over units and sources, e.g.
``net_{in_j}(t) = sum_m w_{in_j m} z_m(t)`` or eq. (25)'s ``g(net_{c_j^v}) f'(net_{in_j}) z_m``
for every ``(j, v, m)``. A step kernel is written as an ordered list of assignments whose
right-hand sides are elementwise SymPy expressions over array symbols (NumPy broadcasting
realises "for every j, v") combined with the few array operations below. Each operation knows
its result shape and its floating-point operation count as a formula in the layout's sizes, so
the cost of a whole generated step kernel is derived, not measured (SPEC L8).

Shapes are tuples of SymPy integers/symbols, aligned on the right as NumPy broadcasts them.
Every class here is a SymPy ``Function``: it prints (``errorflow.codegen.printer``), substitutes
and compares like any other expression.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

__all__ = [
    "Cat",
    "CellContract",
    "CellSum",
    "Contract",
    "Expand",
    "MatVec",
    "Outer",
    "Part",
    "Shape",
    "broadcast_index",
    "cost",
    "evaluate",
    "shape",
]

Shape = tuple[sp.Expr, ...]


def _size(sh: Shape) -> sp.Expr:
    return sp.Mul(*sh) if sh else sp.Integer(1)


def _broadcast(shapes: list[Shape]) -> Shape:
    width = max((len(s) for s in shapes), default=0)
    out: list[sp.Expr] = []
    for axis in range(width):
        dims = {s[len(s) - width + axis] for s in shapes if len(s) - width + axis >= 0}
        dims.discard(sp.Integer(1))
        if len(dims) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(dims.pop() if dims else sp.Integer(1))
    return tuple(out)


class ArrayOp(sp.Function):
    """Base class: an array operation with a result shape and an operation count."""

    def result_shape(self, shapes: Mapping[sp.Basic, Shape]) -> Shape:
        raise NotImplementedError

    def flops(self, shapes: Mapping[sp.Basic, Shape]) -> sp.Expr:
        raise NotImplementedError


class MatVec(ArrayOp):
    r"""``W z``: contraction of ``W``'s last axis with the vector ``z``; ``2 |W|`` flops."""

    nargs = 2

    def result_shape(self, shapes):
        return shape(self.args[0], shapes)[:-1]

    def _latex(self, printer):
        w, v = (printer._print(a) for a in self.args)
        return f"{w}\\, {v}"

    def _sympystr(self, printer):
        return " ".join(printer._print(a) for a in self.args)

    def flops(self, shapes):
        return 2 * _size(shape(self.args[0], shapes))


class Contract(ArrayOp):
    r"""``sum_{a} e_a W_{a, m}`` over all of ``e``'s axes (``W^T e``); ``2 |W|`` flops."""

    nargs = 2

    def result_shape(self, shapes):
        e, w = (shape(a, shapes) for a in self.args)
        return w[len(e) :]

    def _latex(self, printer):
        e, w = (printer._print(a) for a in self.args)
        return f"{w}^{{\\top}} {e}"

    def _sympystr(self, printer):
        e, w = (printer._print(a) for a in self.args)
        return f"{w}^T {e}"

    def flops(self, shapes):
        return 2 * _size(shape(self.args[1], shapes))


class Outer(ArrayOp):
    r"""``a_i b_m`` for every ``(i, m)``: shape ``a.shape + b.shape``; one flop per entry."""

    nargs = 2

    def result_shape(self, shapes):
        return shape(self.args[0], shapes) + shape(self.args[1], shapes)

    def _latex(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return f"\\left({a}\\right) \\otimes {b}"

    def _sympystr(self, printer):
        a, b = (printer._print(x) for x in self.args)
        return f"({a}) (x) {b}"

    def flops(self, shapes):
        return _size(self.result_shape(shapes))


class CellSum(ArrayOp):
    r"""``sum_v X_{j v}``: sum over a block's cells, keeping a unit axis: ``(C, S) -> (C, 1)``."""

    nargs = 1

    def result_shape(self, shapes):
        return (*shape(self.args[0], shapes)[:-1], sp.Integer(1))

    def _latex(self, printer):
        return f"\\sum_v \\left({printer._print(self.args[0])}\\right)"

    def _sympystr(self, printer):
        return f"sum_v ({printer._print(self.args[0])})"

    def flops(self, shapes):
        return _size(shape(self.args[0], shapes))


class CellContract(ArrayOp):
    r"""``sum_v a_{j v} X_{j v m}``: ``(C, S), (C, S, P) -> (C, 1, P)``; ``2 C S P`` flops."""

    nargs = 2

    def result_shape(self, shapes):
        x = shape(self.args[1], shapes)
        return (x[0], sp.Integer(1), x[2])

    def _latex(self, printer):
        a, x = (printer._print(e) for e in self.args)
        return f"\\sum_v {a}\\, {x}"

    def _sympystr(self, printer):
        a, x = (printer._print(e) for e in self.args)
        return f"sum_v {a} {x}"

    def flops(self, shapes):
        return 2 * _size(shape(self.args[1], shapes))


class Expand(ArrayOp):
    r"""``a[..., None]``: a trailing unit axis (free)."""

    nargs = 1

    def result_shape(self, shapes):
        return (*shape(self.args[0], shapes), sp.Integer(1))

    def _latex(self, printer):
        return printer._print(self.args[0])

    def _sympystr(self, printer):
        return printer._print(self.args[0])

    def flops(self, shapes):
        return sp.Integer(0)


class Cat(ArrayOp):
    r"""The flat concatenation of its arguments (each raveled; ``1`` is a bias entry); free."""

    def result_shape(self, shapes):
        return (sp.Add(*(_size(shape(a, shapes)) for a in self.args)),)

    def _latex(self, printer):
        return "\\left[" + ",\\, ".join(printer._print(a) for a in self.args) + "\\right]"

    def _sympystr(self, printer):
        return "[" + ", ".join(printer._print(a) for a in self.args) + "]"

    def flops(self, shapes):
        return sp.Integer(0)


class Part(ArrayOp):
    r"""``v[start : start + |like|]`` reshaped to the shape of ``like``; free. An optional
    fourth argument names the part (a symbol printed as the subscript in LaTeX and text)."""

    nargs = (3, 4)

    def result_shape(self, shapes):
        return shape(self.args[2], shapes)

    def _label(self, printer) -> str:
        return printer._print(self.args[3] if len(self.args) > 3 else self.args[2])

    def _latex(self, printer):
        return f"\\left[{printer._print(self.args[0])}\\right]_{{{self._label(printer)}}}"

    def _sympystr(self, printer):
        return f"[{printer._print(self.args[0])}]_({self._label(printer)})"

    def flops(self, shapes):
        return sp.Integer(0)


def shape(expr: sp.Basic, shapes: Mapping[sp.Basic, Shape]) -> Shape:
    """The broadcast shape of an expression over array symbols with the given ``shapes``."""
    if expr in shapes:
        return tuple(shapes[expr])
    if isinstance(expr, ArrayOp):
        return expr.result_shape(shapes)
    if isinstance(expr, (sp.Number, sp.NumberSymbol)) or not expr.free_symbols:
        return ()
    if isinstance(expr, sp.Symbol):
        raise KeyError(f"no shape for array symbol {expr}")
    return _broadcast([shape(a, shapes) for a in expr.args])


def cost(expr: sp.Basic, shapes: Mapping[sp.Basic, Shape]) -> sp.Expr:
    """Floating-point operations to evaluate ``expr``: array operations by their own count,
    elementwise arithmetic and every function evaluation one operation per result entry."""
    if expr in shapes or not isinstance(expr, sp.Basic) or not expr.args:
        return sp.Integer(0)
    if isinstance(expr, Part):
        return cost(expr.args[0], shapes)
    inner = sum((cost(a, shapes) for a in expr.args), sp.Integer(0))
    if isinstance(expr, ArrayOp):
        return sp.expand(inner + expr.flops(shapes))
    if not expr.free_symbols:
        return sp.Integer(0)
    if isinstance(expr, (sp.Add, sp.Mul)):
        nodes = len(expr.args) - 1
        if isinstance(expr, sp.Mul) and expr.args[0] == -1:
            nodes = max(nodes, 1)  # negation is one operation
    else:
        nodes = 1
    return sp.expand(inner + nodes * _size(shape(expr, shapes)))


# -- evaluation on explicit SymPy arrays (for proofs) ---------------------------------------
#
# The proofs in errorflow.derivations.lstm run a kernel's own statements on explicit arrays of
# SymPy expressions (every entry a symbol or a formula) and compare the result with
# ``sympy.diff`` of the network's loss. ``evaluate`` is that interpreter: SymPy N-dim arrays,
# NumPy's broadcasting rules, no floating point anywhere.


def _flat(value: sp.Basic) -> list[sp.Basic]:
    if isinstance(value, sp.NDimArray):
        return list(value._array) if hasattr(value, "_array") else list(sp.flatten(value))
    return [value]


def _arr(entries: list[sp.Basic], shp: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    return sp.ImmutableDenseNDimArray(entries, shp)


def _shape_of(value: sp.Basic) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, sp.NDimArray) else ()


def broadcast_index(shp: tuple, index: tuple) -> tuple:
    """The entry of an operand of shape ``shp`` that NumPy broadcasting reads for entry
    ``index`` of the result: missing leading axes dropped, unit axes at 0."""
    tail = index[len(index) - len(shp) :] if shp else ()
    return tuple(0 if d == 1 else i for i, d in zip(tail, shp, strict=True))


def _entry(value: sp.Basic, index: tuple[int, ...]) -> sp.Basic:
    """``value[index]`` with broadcasting (unit or missing leading axes)."""
    shp = _shape_of(value)
    return value[broadcast_index(shp, index)] if shp else value


def _ints(shp: tuple[int, ...]) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(*(range(d) for d in shp)))


def _apply_op(op: ArrayOp, args: list[sp.Basic], dims: Mapping[sp.Basic, int]) -> sp.Basic:
    name = type(op).__name__
    if name == "MatVec":
        w, z = args
        ws = _shape_of(w)
        out = [sum(w[(*i, m)] * z[m] for m in range(ws[-1])) for i in _ints(ws[:-1])]
        return _arr(out, ws[:-1])
    if name == "Contract":
        e, w = args
        es, ws = _shape_of(e), _shape_of(w)
        rest = ws[len(es) :]
        out = [sum(e[a] * w[a + m] for a in _ints(es)) for m in _ints(rest)]
        return _arr(out, rest)
    if name == "Outer":
        a, b = args
        return _arr([x * y for x in _flat(a) for y in _flat(b)], _shape_of(a) + _shape_of(b))
    if name == "CellSum":
        (x,) = args
        c, s = _shape_of(x)
        return _arr([sum(x[j, v] for v in range(s)) for j in range(c)], (c, 1))
    if name == "CellContract":
        a, x = args
        c, s, p = _shape_of(x)
        out = [
            sum(_entry(a, (j, v)) * x[j, v, m] for v in range(s))
            for j in range(c)
            for m in range(p)
        ]
        return _arr(out, (c, 1, p))
    if name == "Expand":
        (x,) = args
        return _arr(_flat(x), (*_shape_of(x), 1))
    if name == "Cat":
        out = [e for a in args for e in _flat(a)]
        return _arr(out, (len(out),))
    if name == "Part":
        v, start, like = args[:3]
        begin = int(sp.sympify(start).subs(dims))
        shp = _shape_of(like)
        size = int(sp.Mul(*shp)) if shp else 1
        return _arr(_flat(v)[begin : begin + size], shp)
    raise TypeError(f"no evaluation rule for {name}")


def evaluate(
    expr: sp.Basic, env: Mapping[sp.Basic, sp.Basic], dims: Mapping[sp.Basic, int]
) -> sp.Basic:
    """Evaluate an array expression on explicit SymPy arrays (``env``: symbol -> array/scalar).

    Array operations apply their definitions entry by entry; elementwise expressions broadcast
    as NumPy does; ``dims`` gives the integer value of every size symbol used in offsets.
    """
    if expr in env:
        return env[expr]
    if isinstance(expr, Part):
        return _apply_op(
            expr,
            [evaluate(expr.args[0], env, dims), expr.args[1], evaluate(expr.args[2], env, dims)],
            dims,
        )
    if isinstance(expr, ArrayOp):
        return _apply_op(expr, [evaluate(a, env, dims) for a in expr.args], dims)
    if not expr.args:
        return expr
    # Elementwise: evaluate array-valued operands, then broadcast the scalar formula.
    leaves: dict[sp.Basic, sp.Basic] = {}
    stack = [expr]
    while stack:
        sub = stack.pop()
        if sub in env or isinstance(sub, ArrayOp):
            leaves[sub] = evaluate(sub, env, dims)
        else:
            stack.extend(sub.args)
    shapes = [_shape_of(v) for v in leaves.values()]
    out_shape = tuple(int(d) for d in _broadcast([tuple(sp.Integer(d) for d in s) for s in shapes]))
    if not out_shape:
        return expr.xreplace(leaves)
    out = [
        expr.xreplace({k: _entry(v, idx) for k, v in leaves.items()}) for idx in _ints(out_shape)
    ]
    return _arr(out, out_shape)
