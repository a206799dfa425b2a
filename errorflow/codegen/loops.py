"""Print step statements as explicit loops: the numba-compilable form of the same kernels.

:func:`render_loop_module` turns the :class:`~errorflow.derivations.core.LoopKernelSpec` objects
of a derivation into one Python module whose functions run a whole sequence of steps. Each
statement ``target = expr`` of the array language (:mod:`errorflow.derivations.arrays`) becomes
loops over ``target``'s entries:

* an entry's formula is ``expr`` with every array read at its broadcast index; ``MatVec``,
  ``Contract``, ``CellSum`` and ``CellContract`` become inner reduction loops, ``Outer``,
  ``Expand`` and ``Part`` become index arithmetic;
* every subexpression that does not depend on the innermost loop variables is hoisted to the
  loop level where its indices are bound (``g(net_c) f'(net_in)`` of eq. 25 is computed once
  per cell, not once per source), with repeated subexpressions computed once;
* a statement that is a sum of ``Contract`` terms (``W^T e``) accumulates row by row, so the
  weights are read contiguously;
* ``Cat`` copies its parts into consecutive slices.

Arrays are allocated once per call: carried values ``(new, prev)`` live in two buffers that
swap at the end of a step, gradients accumulate in place, saved values go to ``(T, ...)``
arrays. The text is deterministic (no dates, versions or machine details), so ``errorflow
codegen --check`` compares it byte for byte like every other generated module.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.codegen.cfunctions import expm1
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.pycode import PythonCodePrinter

from errorflow.derivations import arrays as ar
from errorflow.derivations.core import LoopKernelSpec, LoopPhase, TimeInput

from .render import PREAMBLE, docstring

__all__ = ["render_loop_module", "render_squashing_helpers"]

Index = tuple[sp.Expr, ...]
_ZERO = sp.Integer(0)
_ONE = sp.Integer(1)


class _ScalarPrinter(PythonCodePrinter):
    """Scalar Python for numba: ``math.`` functions, float literals, squares as products,
    element reads and the kernel's squashing functions by their printed forms."""

    def __init__(self, names: dict[sp.Symbol, str], calls: dict[sp.Basic, tuple[str, str]]):
        super().__init__({"standard": "python3", "fully_qualified_modules": True})
        self._names = names
        self._calls = calls

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_Rational(self, expr: sp.Rational) -> str:
        return repr(float(expr))

    def _print_Half(self, expr: sp.Rational) -> str:
        return "0.5"

    def _print_Integer(self, expr: sp.Integer) -> str:
        return f"{int(expr)}.0"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp == 2:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"])
            return f"({b}*{b})"
        if exp == -1:
            return f"(1.0/{self.parenthesize(base, sp.printing.precedence.PRECEDENCE['Pow'])})"
        return super()._print_Pow(expr, rational)

    def _print_Function(self, expr: sp.Basic) -> str:
        if expr.func in self._calls:
            helper, code = self._calls[expr.func]
            return f"{helper}({code}, {self._print(expr.args[0])})"
        return super()._print_Function(expr)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if expr.is_number:
            return repr(float(expr))
        return super()._print_Mul(expr)


@dataclass
class _Reduction:
    temp: sp.Symbol
    loops: tuple[tuple[sp.Symbol, sp.Expr], ...]
    body: sp.Expr


@dataclass
class _Level:
    """Code emitted at one loop depth of a statement, in creation order."""

    items: list[tuple[sp.Symbol, sp.Expr] | _Reduction] = field(default_factory=list)


Access = Callable[[Sequence[str]], str]


class _Statement:
    """One statement's loops, with hoisting of loop-invariant work (see the module docstring)."""

    def __init__(self, writer: _Writer, target_shape: tuple[sp.Expr, ...]) -> None:
        self.w = writer
        self.shape = target_shape
        self.loop_vars: list[sp.Symbol] = []
        self.index: list[sp.Expr] = []
        for axis, dim in enumerate(target_shape):
            if dim == 1:
                self.index.append(_ZERO)
            else:
                var = sp.Symbol(f"i{axis}", integer=True)
                self.loop_vars.append(var)
                self.index.append(var)
        self.level_of = {v: k + 1 for k, v in enumerate(self.loop_vars)}
        self.depth: dict[sp.Symbol, int] = {}
        self.levels = [_Level() for _ in range(len(self.loop_vars) + 1)]
        self.memo: dict[sp.Basic, sp.Symbol] = {}
        self.reduction_vars = itertools.count()

    # -- element formulas --
    def _var_depth(self, index: Index) -> int:
        free: set[sp.Basic] = set()
        for i in index:
            free |= sp.sympify(i).free_symbols
        return max((self.level_of.get(v, 0) for v in free), default=0)

    def read(self, sym: sp.Symbol, index: Index) -> sp.Symbol:
        text = self.w.access(sym, [self.w.index(i) for i in index])
        leaf = self.w.leaf(text)
        self.depth[leaf] = self._var_depth(index)
        return leaf

    def _reduce(self, loops: tuple[tuple[sp.Symbol, sp.Expr], ...], body: sp.Expr) -> sp.Symbol:
        temp = self.w.fresh("_r")
        inner = {v for v, _ in loops}
        depth = max((self.depth.get(s, 0) for s in body.free_symbols if s not in inner), default=0)
        self.depth[temp] = depth
        self.levels[depth].items.append(_Reduction(temp, loops, body))
        return temp

    def _reduction_var(self) -> sp.Symbol:
        return sp.Symbol(f"r{next(self.reduction_vars)}", integer=True)

    def element(self, expr: sp.Basic, index: Index) -> sp.Expr:
        """The scalar formula of ``expr`` at ``index`` (aligned with ``expr``'s shape)."""
        shapes = self.w.shapes
        if expr in shapes:
            return self.read(expr, index)
        if isinstance(expr, ar.Outer):
            a, b = expr.args
            na = len(ar.shape(a, shapes))
            return self.element(a, index[:na]) * self.element(b, index[na:])
        if isinstance(expr, ar.Expand):
            return self.element(expr.args[0], index[:-1])
        if isinstance(expr, ar.Part):
            vec, start, like = expr.args[:3]
            lsh = ar.shape(like, shapes)
            flat = sp.sympify(start)
            for k, i in enumerate(index):
                flat += i * sp.Mul(*lsh[k + 1 :])
            return self.element(vec, (flat,))
        if isinstance(expr, ar.MatVec):
            wt, vec = expr.args
            r = self._reduction_var()
            p = ar.shape(wt, shapes)[-1]
            body = self.element(wt, (*index, r)) * self.element(vec, (r,))
            return self._reduce(((r, p),), body)
        if isinstance(expr, ar.Contract):
            e, wt = expr.args
            es = ar.shape(e, shapes)
            rs = tuple(self._reduction_var() for _ in es)
            body = self.element(e, rs) * self.element(wt, (*rs, *index))
            return self._reduce(tuple(zip(rs, es, strict=True)), body)
        if isinstance(expr, ar.CellSum):
            (inner,) = expr.args
            r = self._reduction_var()
            size = ar.shape(inner, shapes)[-1]
            return self._reduce(((r, size),), self.element(inner, (index[0], r)))
        if isinstance(expr, ar.CellContract):
            a, arr = expr.args
            r = self._reduction_var()
            size = ar.shape(arr, shapes)[1]
            body = self.element(a, (index[0], r)) * self.element(arr, (index[0], r, index[2]))
            return self._reduce(((r, size),), body)
        if isinstance(expr, ar.ArrayOp):
            raise TypeError(f"no loop rule for {type(expr).__name__} inside an expression")
        if not expr.args or not expr.free_symbols:
            return expr
        paired = self.w.slopes.get((expr.func, expr.args[0]))
        if paired is not None:
            return self.read(paired, index)
        args = [self.element(a, ar.broadcast_index(ar.shape(a, shapes), index)) for a in expr.args]
        return expr.func(*args)

    # -- hoisting --
    def depth_of(self, expr: sp.Basic) -> int:
        if expr in self.depth:
            return self.depth[expr]
        if not expr.args:
            return 0
        return max(self.depth_of(a) for a in expr.args)

    def lift(self, expr: sp.Basic, context: int) -> sp.Basic:
        """``expr`` with every maximal subexpression shallower than ``context`` in a temp."""
        if not expr.args:
            return expr
        d = self.depth_of(expr)
        if d < context:
            key = self._rebuild(expr, d)
            if key not in self.memo:
                temp = self.w.fresh("_t")
                self.memo[key] = temp
                self.depth[temp] = d
                self.levels[d].items.append((temp, key))
            return self.memo[key]
        return self._rebuild(expr, d)

    def _rebuild(self, expr: sp.Basic, d: int) -> sp.Basic:
        """``expr`` at depth ``d`` with shallower parts lifted; in a sum or product, the
        operands shallower than ``d`` are grouped so they are hoisted as one temp."""
        if isinstance(expr, (sp.Add, sp.Mul)):
            args = list(expr.args)
            low = [a for a in args if a.free_symbols and self.depth_of(a) < d]
            if len(low) > 1:
                args = [expr.func(*low), *(a for a in args if a not in low)]
            return expr.func(*(self.lift(a, d) for a in args), evaluate=False)
        return expr.func(*(self.lift(a, d) for a in expr.args))

    # -- emission --
    def emit(self, final: sp.Expr, store: Callable[[str], str], indent: int) -> list[str]:
        return self.emit_many([(final, store)], indent)

    def emit_many(
        self, finals: Sequence[tuple[sp.Expr, Callable[[str], str]]], indent: int
    ) -> list[str]:
        """One loop nest storing every ``(formula, store)`` in order at each entry (fused
        statements: each reads the earlier ones' targets only at its own entry)."""
        inner = len(self.loop_vars)
        bodies = [(self.lift(final, inner), store) for final, store in finals]
        lines: list[str] = []
        for depth in range(inner + 1):
            pad = "    " * (indent + depth)
            for item in self.levels[depth].items:
                lines.extend(self._item(item, pad))
            if depth < inner:
                var = self.loop_vars[depth]
                dim = self.shape[self.index.index(var)]
                lines.append(f"{pad}for {var} in range({self.w.index(dim)}):")
        pad = "    " * (indent + inner)
        lines += [f"{pad}{store(self.w.printer.doprint(body))}" for body, store in bodies]
        return lines

    def _item(self, item, pad: str) -> list[str]:
        pr = self.w.printer
        if isinstance(item, _Reduction) and len(item.loops) == 1:
            return self._unrolled(item, pad)
        if isinstance(item, _Reduction):
            out = [f"{pad}{item.temp} = 0.0"]
            for k, (var, ext) in enumerate(item.loops):
                out.append(f"{pad}{'    ' * k}for {var} in range({self.w.index(ext)}):")
            deep = pad + "    " * len(item.loops)
            out.append(f"{deep}{item.temp} += {pr.doprint(item.body)}")
            return out
        temp, expr = item
        return [f"{pad}{temp} = {pr.doprint(expr)}"]

    def _unrolled(self, item: _Reduction, pad: str) -> list[str]:
        """A one-index sum with ``LANES`` partial sums: independent chains of additions, so the
        sum is not bound by the latency of one add after another (the order of the additions
        changes, as it does in BLAS; the compiled and the Python run still agree bit for bit)."""
        ((var, ext),) = item.loops
        size = self.w.index(ext)
        body = self.w.printer.doprint(item.body)
        word = re.compile(rf"\b{var}\b")
        lanes = [f"{item.temp}_{k}" for k in range(LANES)]
        end = f"{item.temp}_n"
        out = [f"{pad}{end} = {size}", *(f"{pad}{lane} = 0.0" for lane in lanes)]
        out.append(f"{pad}for {var} in range(0, {end} - {LANES - 1}, {LANES}):")
        for k, lane in enumerate(lanes):
            term = body if k == 0 else word.sub(f"({var} + {k})", body)
            out.append(f"{pad}    {lane} += {term}")
        out.append(f"{pad}for {var} in range({end} - {end} % {LANES}, {end}):")
        out.append(f"{pad}    {lanes[0]} += {body}")
        pairs = " + ".join(f"({lanes[k]} + {lanes[k + 1]})" for k in range(0, LANES, 2))
        out.append(f"{pad}{item.temp} = {pairs}")
        return out


#: Partial sums per one-index reduction (see ``_Statement._unrolled``).
LANES = 4


def _reads(expr: sp.Basic, inside_op: bool = False) -> list[tuple[sp.Basic, bool]]:
    """Every array symbol ``expr`` reads, with whether the read is inside an array operation
    (a ``Part``'s ``like`` argument only gives a shape and is not a read)."""
    if isinstance(expr, sp.Symbol):
        return [(expr, inside_op)]
    if isinstance(expr, ar.Part):
        return _reads(expr.args[0], True) + _reads(expr.args[1], True)
    op = inside_op or isinstance(expr, ar.ArrayOp)
    return [r for a in expr.args for r in _reads(a, op)]


def _updates_in_place(statements, new: sp.Symbol, prev: sp.Symbol, shapes) -> bool:
    """Whether a carried pair can share one buffer: ``prev`` is read only up to the statement
    that computes ``new``, and there only entry by entry at ``new``'s own index."""
    if shapes.get(prev, shapes[new]) != shapes[new]:
        return False
    seen = False
    for target, expr in statements:
        reads = [inside for sym, inside in _reads(expr) if sym == prev]
        if seen and reads:
            return False
        if target == new:
            if any(reads):
                return False
            seen = True
    return seen


def _activation_pairs(statements, functions, shapes) -> dict[sp.Symbol, sp.Basic]:
    """Statements ``target = F(A)`` (``A`` an array of ``target``'s shape, not reassigned
    later) whose slope ``F'(A)`` a later statement reads: ``{target: F'}``."""
    slope_of = {
        fn: sf
        for fn, (helper, code) in functions.items()
        if helper == "activate"
        for sf, (h2, c2) in functions.items()
        if h2 == "slope" and c2 == code
    }
    found: dict[sp.Symbol, sp.Basic] = {}
    for k, (target, expr) in enumerate(statements):
        if expr.func not in slope_of or not isinstance(expr.args[0], sp.Symbol):
            continue
        arg = expr.args[0]
        later = statements[k + 1 :]
        if shapes.get(arg) != shapes.get(target) or any(t == arg for t, _ in later):
            continue
        if any(slope_of[expr.func](arg) in e.atoms(sp.Function) for _, e in later):
            found[target] = slope_of[expr.func]
    return found


def _joins(group, target, expr, shapes, shared) -> bool:
    """Whether ``target = expr`` may run in the loop nest of ``group`` (same shape): it reads
    the group's targets only entry by entry, and no member reads its target (or the buffer it
    shares with a carried previous value) other than entry by entry."""
    if shapes[target] != shapes[group[0][0]]:
        return False
    names = {t for t, _ in group}
    if any(inside for sym, inside in _reads(expr) if shared.get(sym, sym) in names):
        return False
    mine = {target} | {prev for prev, new in shared.items() if new == target}
    return not any(inside for _, e in group for sym, inside in _reads(e) if sym in mine)


class _Writer:
    """Prints the statements of one phase; holds shapes, array access rules and names."""

    def __init__(self, spec: LoopKernelSpec) -> None:
        self.spec = spec
        self.shapes: dict[sp.Basic, tuple] = dict(spec.shapes)
        self._access: dict[sp.Symbol, Access] = {}
        self._leaves: dict[sp.Symbol, str] = {}
        self._leaf_of: dict[str, sp.Symbol] = {}
        self._counter = itertools.count()
        #: ``(slope function, argument array) -> array`` of slopes saved beside activations
        self.slopes: dict[tuple[sp.Basic, sp.Symbol], sp.Symbol] = {}
        self.printer = _ScalarPrinter(self._leaves, spec.functions)
        self._index_printer = PythonCodePrinter({"standard": "python3"})

    def index(self, expr: sp.Expr) -> str:
        """An index or size expression as integer Python."""
        return self._index_printer.doprint(sp.sympify(expr))

    def fresh(self, prefix: str) -> sp.Symbol:
        return sp.Symbol(f"{prefix}{next(self._counter)}")

    def leaf(self, text: str) -> sp.Symbol:
        if text not in self._leaf_of:
            sym = sp.Symbol(f"_e{len(self._leaf_of)}")
            self._leaf_of[text] = sym
            self._leaves[sym] = text
        return self._leaf_of[text]

    def bind(self, sym: sp.Symbol, access: Access) -> None:
        self._access[sym] = access

    def access(self, sym: sp.Symbol, index: Sequence[str]) -> str:
        if sym not in self._access:
            raise KeyError(f"{sym} has no storage in this phase")
        return self._access[sym](index)


def _buffer(name: str, prefix: str = "") -> Access:
    return lambda idx: f"{name}[{prefix}{', '.join(idx)}]"


def _time_input(inp: TimeInput) -> Access:
    def access(idx: Sequence[str]) -> str:
        inner = ", ".join(idx)
        if inp.indicator:
            return f"(1.0 if {inp.array}[tm, {inner}] else 0.0)"
        if inp.mask is not None:
            return f"({inp.array}[t, {inner}] if {inp.mask}[tm, {inner}] else 0.0)"
        return f"{inp.array}[t, {inner}]"

    return access


class _KernelRenderer:
    """Renders one :class:`LoopKernelSpec` as a function."""

    def __init__(self, spec: LoopKernelSpec) -> None:
        self.spec = spec
        self.writer = _Writer(spec)
        self.setup: list[str] = []
        self.allocated: set[str] = set()

    def size(self, expr: sp.Expr) -> str:
        return self.writer.index(expr)

    def alloc(self, name: str, shape: tuple, lead: str = "") -> None:
        if name in self.allocated:
            return
        self.allocated.add(name)
        dims = ([lead] if lead else []) + ["1" if d == 1 else self.size(d) for d in shape]
        text = ", ".join(dims) + ("," if len(dims) == 1 else "")
        self.setup.append(f"    {name} = numpy.zeros(({text}))")

    def render(self) -> str:
        spec = self.spec
        shapes = self.writer.shapes
        # every statement target's shape, phase by phase
        for phase in spec.phases:
            for target, expr in phase.statements:
                shapes.setdefault(target, ar.shape(expr, shapes))
        arg_names = {a.name for a in spec.args}
        for sym in list(shapes):
            if isinstance(sym, sp.Symbol) and sym.name in arg_names:
                self.writer.bind(sym, _buffer(sym.name))
        body: list[str] = []
        for phase in spec.phases:
            body.extend(self._phase(phase))
        names = ", ".join(a.name for a in spec.args)
        doc = docstring(spec, f"Returns: {', '.join(spec.outputs)}.")
        dims = ["    T = xs.shape[0]"] + [f"    {self.size(sym)} = {src}" for sym, src in spec.dims]
        outs = ", ".join(spec.outputs)
        lines = [*dims, *self.setup, *body, f"    return {outs}"]
        return f"def {spec.name}({names}):\n{doc}" + "\n".join(lines) + "\n"

    def _phase(self, phase: LoopPhase) -> list[str]:
        w = self.writer
        shapes = w.shapes
        new_names = {new for new, _ in phase.carry}
        acc = dict(phase.accumulate)
        saved = set(phase.save)
        for sym, inp in phase.inputs:
            w.bind(sym, _time_input(inp))
        for sym in phase.load:
            w.bind(sym, _buffer(f"saved_{sym.name}", "t, "))
        for sym in phase.save:
            self.alloc(f"saved_{sym.name}", shapes[sym], lead="T")
        paired = set()
        for new, prev in phase.carry:
            if _updates_in_place(phase.statements, new, prev, shapes):
                self.alloc(new.name, shapes[new])
                w.bind(new, _buffer(new.name))
                w.bind(prev, _buffer(new.name))
                continue
            # both halves of a carried pair in one (2, ...) array: step t writes half t % 2
            # and reads the other (no array swap, so no reference counting per step)
            paired.add(new)
            self.alloc(f"{new.name}_pair", shapes[new], lead="2")
            w.bind(new, _buffer(f"{new.name}_pair", "cur, "))
            w.bind(prev, _buffer(f"{new.name}_pair", "1 - cur, "))
        for target, _ in phase.statements:
            if target in acc:
                self.alloc(acc[target], shapes[target])
            elif target in saved and target not in new_names:
                w.bind(target, _buffer(f"saved_{target.name}", "t, "))
            elif target not in new_names:
                self.alloc(target.name, shapes[target])
                w.bind(target, _buffer(target.name))
        for _, name in phase.sums:
            if name not in self.allocated:
                self.allocated.add(name)
                self.setup.append(f"    {name} = 0.0")
        loop = "range(T - 1, -1, -1)" if phase.reverse else "range(T)"
        out = [f"    for t in {loop}:"]
        if paired:
            out.append("        cur = t % 2")
        masks = sorted(
            {inp.mask or inp.array for _, inp in phase.inputs if inp.mask or inp.indicator}
        )
        if len(masks) > 1:
            raise ValueError(f"{self.spec.name}: one mask per phase, got {masks}")
        if masks:
            out.append(f"        tm = t if {masks[0]}.shape[0] != 1 else 0")
        for sym in phase.detach:
            st = _Statement(w, shapes[sym])
            idx = [w.index(i) for i in st.index]
            out.append("        if detach:")
            out.extend(st.emit(_ZERO, lambda v, i=idx, y=sym: f"{w.access(y, i)} = 0.0", indent=3))
        pairs = _activation_pairs(phase.statements, self.spec.functions, shapes)
        shared = {prev: new for new, prev in phase.carry if new not in paired}
        group: list[tuple[sp.Symbol, sp.Basic]] = []
        for target, expr in phase.statements:
            if not self._fusable(target, expr, acc):
                out.extend(self._fused(group, acc, pairs))
                group = []
                out.extend(self._statement(target, expr, acc))
            elif group and _joins(group, target, expr, shapes, shared):
                group.append((target, expr))
            else:
                out.extend(self._fused(group, acc, pairs))
                group = [(target, expr)]
        out.extend(self._fused(group, acc, pairs))
        w.slopes.clear()
        for expr, name in phase.sums:
            st = _Statement(w, ar.shape(expr, shapes))
            final = st.element(expr, tuple(st.index))
            out.extend(st.emit(final, lambda v, n=name: f"{n} += {v}", indent=2))
        for target, weight, keep in phase.learn:
            st = _Statement(w, shapes[target])
            idx = ", ".join(w.index(i) for i in st.index)
            out.extend(
                st.emit(
                    _ZERO,
                    lambda v, t=target, i=idx, wt=weight, k=keep: (
                        f"{wt}[{i}] -= lr*{k}[{i}]*{w.access(t, i.split(', '))}"
                    ),
                    indent=2,
                )
            )
        for sym in phase.save:
            if sym in paired:
                out.append(f"        saved_{sym.name}[t] = {sym.name}_pair[cur]")
            elif sym in new_names:
                out.append(f"        saved_{sym.name}[t] = {sym.name}")
        return out

    @staticmethod
    def _fusable(target: sp.Symbol, expr: sp.Basic, acc: dict) -> bool:
        """Entry-by-entry statements (not a concatenation or a sum of ``Contract`` terms)."""
        if isinstance(expr, ar.Cat):
            return False
        terms = expr.args if isinstance(expr, sp.Add) else (expr,)
        return target in acc or not any(isinstance(t, ar.Contract) for t in terms)

    def _statement(self, target: sp.Symbol, expr: sp.Basic, acc: dict) -> list[str]:
        """A statement that is not fused: a concatenation or a sum of ``Contract`` terms."""
        if isinstance(expr, ar.Cat):
            return self._cat(target, expr)
        terms = expr.args if isinstance(expr, sp.Add) else (expr,)
        contracts = [t for t in terms if isinstance(t, ar.Contract)]
        return self._contracts(target, contracts, [t for t in terms if t not in contracts])

    def _fused(self, group: list, acc: dict, pairs: dict) -> list[str]:
        """Consecutive entry-by-entry statements of one shape in one loop nest."""
        if not group:
            return []
        st = _Statement(self.writer, self.writer.shapes[group[0][0]])
        finals = [self._member(st, target, expr, acc, pairs) for target, expr in group]
        return st.emit_many(finals, indent=2)

    def _member(self, st: _Statement, target, expr, acc: dict, pairs: dict):
        """``(formula, store)`` of one fused statement: an assignment, an accumulation
        (``+=`` into the output) or an activation with its slope."""
        w = self.writer
        idx = [w.index(i) for i in st.index]
        if target in pairs:
            return self._activation_pair(st, target, expr, pairs[target], idx)
        final = st.element(expr, tuple(st.index))
        if target in acc:
            name = acc[target]
            return final, lambda v: f"{name}[{', '.join(idx)}] += {v}"
        return final, lambda v: f"{w.access(target, idx)} = {v}"

    def _activation_pair(self, st: _Statement, target, expr, slope_fn, idx: list[str]):
        """``target = F(A)`` where a later statement needs ``F'(A)``: one helper call gives
        both from one exponential; the slope is kept in ``slope_A`` for the later reads."""
        w = self.writer
        (arg,) = expr.args
        keep = sp.Symbol(f"slope_{arg.name}")
        w.shapes[keep] = w.shapes[arg]
        self.alloc(keep.name, w.shapes[arg])
        w.bind(keep, _buffer(keep.name))
        source = st.read(arg, tuple(st.index))
        _, code = self.spec.functions[expr.func]
        w.slopes[(slope_fn, arg)] = keep
        return (
            source,
            lambda v: (
                f"{w.access(target, idx)}, {w.access(keep, idx)} = activate_and_slope({code}, {v})"
            ),
        )

    def _cat(self, target: sp.Symbol, expr: ar.Cat) -> list[str]:
        w = self.writer
        out: list[str] = []
        offset = _ZERO
        for part in expr.args:
            if part == 1:
                out.append(f"        {w.access(target, [self.size(offset)])} = 1.0")
                offset += 1
                continue
            psh = ar.shape(part, w.shapes)
            st = _Statement(w, psh)
            flat = offset
            for k, i in enumerate(st.index):
                flat += i * sp.Mul(*psh[k + 1 :])
            final = st.element(part, tuple(st.index))
            dest = w.access(target, [self.size(flat)])
            out.extend(st.emit(final, lambda v, dest=dest: f"{dest} = {v}", indent=2))
            offset += sp.Mul(*psh)
        return out

    def _contracts(self, target: sp.Symbol, contracts: list, rest: list) -> list[str]:
        """``target = sum_l W_l^T e_l (+ rest)``: zero, then add row ``a`` of every ``W_l``
        times ``e_l[a]`` (contiguous reads of the weights)."""
        w = self.writer
        shapes = w.shapes
        tshape = shapes[target]
        st0 = _Statement(w, tshape)
        idx0 = [w.index(i) for i in st0.index]
        out = st0.emit(_ZERO, lambda v: f"{w.access(target, idx0)} = 0.0", indent=2)
        for term in contracts:
            e, wt = term.args
            esh = ar.shape(e, shapes)
            st = _Statement(w, (*esh, *tshape))
            index = tuple(st.index)
            final = st.element(e, index[: len(esh)]) * st.element(wt, index)
            tidx = [w.index(i) for i in index[len(esh) :]]
            out.extend(st.emit(final, lambda v, t=tidx: f"{w.access(target, t)} += {v}", indent=2))
        for term in rest:
            st = _Statement(w, tshape)
            final = st.element(term, tuple(st.index))
            idx = [w.index(i) for i in st.index]
            out.extend(st.emit(final, lambda v, t=idx: f"{w.access(target, t)} += {v}", indent=2))
        return out


def render_squashing_helpers(functions: dict[str, tuple[sp.Expr, sp.Expr]]) -> str:
    """``ACTIVATION_CODES``, ``activate(code, x)``, ``slope(code, x)`` and
    ``activate_and_slope(code, x)`` for scalars: each squashing function's overflow-free form
    (SPEC A3), plus ``"one"`` (the constant 1, slope 0: the output gate of a layout without
    output gates). ``functions`` maps a name to its ``(value, slope)`` expressions in ``x``."""
    names = [*functions, "one"]
    codes = "\n".join(f'    "{n}": {k},' for k, n in enumerate(names))
    printer = _ScalarPrinter({}, {})

    def dispatch(branch: Callable[[str], tuple[list[str], list[sp.Expr]]], one: str) -> str:
        """One ``if code == k`` branch per function: ``branch(name)`` gives the lines that
        come first and the expressions returned (common subexpressions named once)."""
        lines = []
        for k, name in enumerate(functions):
            lines.append(f"    {'if' if k == 0 else 'elif'} code == {k}:  # {name}")
            preamble, exprs = branch(name)
            lines += preamble
            replacements, reduced = sp.cse(
                exprs, symbols=sp.numbered_symbols("_x"), order="canonical"
            )
            lines += [f"        {sym} = {printer.doprint(sub)}" for sym, sub in replacements]
            lines.append(f"        return {', '.join(printer.doprint(r) for r in reduced)}")
        lines.append(f"    return {one}  # one")
        return "\n".join(lines)

    def pair(name: str) -> tuple[list[str], list[sp.Expr]]:
        f, df = (sp.sympify(e) for e in functions[name])
        atoms = sorted(f.atoms(expm1), key=sp.default_sort_key)
        if len(atoms) != 1:
            return [], [f, df]
        # value from expm1(u), slope from e^u: one transcendental gives both, each to full
        # relative precision: expm1 where e^u > 1/2 (then e^u = 1 + expm1(u) rounds once), exp
        # where e^u <= 1/2 (then expm1(u) = e^u - 1 rounds once, and e^u keeps its tiny values
        # instead of 1 + expm1(u) = 0)
        u = atoms[0].args[0]
        preamble = [
            f"        _u = {printer.doprint(u)}",
            "        if _u > -0.6931471805599453:",
            "            _em = math.expm1(_u)",
            "            _e = _em + 1.0",
            "        else:",
            "            _e = math.exp(_u)",
            "            _em = _e - 1.0",
        ]
        return preamble, [f.subs(atoms[0], sp.Symbol("_em")), df.subs(sp.exp(u), sp.Symbol("_e"))]

    def single(which: int) -> Callable[[str], tuple[list[str], list[sp.Expr]]]:
        return lambda name: ([], [sp.sympify(functions[name][which])])

    return (
        "#: Integer code of each squashing function, as the loop kernels take them.\n"
        f"ACTIVATION_CODES = {{\n{codes}\n}}\n\n\n"
        "@_jitable\n"
        "def activate(code, x):\n"
        '    """The squashing function with this code at the scalar x (SPEC A1-A3)."""\n'
        f"{dispatch(single(0), '1.0')}\n\n\n"
        "@_jitable\n"
        "def slope(code, x):\n"
        '    """Its slope at the scalar x, from x itself (never from the activation; L11)."""\n'
        f"{dispatch(single(1), '0.0')}\n\n\n"
        "@_jitable\n"
        "def activate_and_slope(code, x):\n"
        '    """Both at once, from one exponential or expm1 (each within a few units in the\n'
        '    last place of activate() and slope(), tiny slopes included: SPEC L11)."""\n'
        f"{dispatch(pair, '1.0, 0.0')}\n"
    )


def render_matrix_loop(spec) -> str:
    """A ``"matrix"`` kernel (one matrix output) as ``<name>_into(args..., out)``: every
    entry ``out[i, j]`` is SymPy's own element formula of the matrix expression (a ``Sum`` over
    the product's inner index), printed as a loop; factors free of the summation index are
    taken out of it. Vectors are 1-D arrays, as in the NumPy kernels."""
    (expr,) = spec.outputs
    i, j = sp.symbols("i j", integer=True, nonnegative=True)
    entry = expr[i, j].doit()
    # inside the loops the indices are in range: keep the in-range branch of every Piecewise
    entry = entry.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])
    dims = {}
    for arg, sym in zip(spec.args, spec.symbols, strict=True):
        for axis, dim in enumerate(sym.shape):
            if isinstance(dim, sp.Symbol) and dim not in dims:
                dims[dim] = f"{arg.name}.shape[{axis}]"
    vectors = {sym for sym in spec.symbols if sym.shape[1] == 1}
    names = {}
    printer = _ScalarPrinter(names, {})

    def element(e: sp.Basic) -> sp.Basic:
        def rename(m: sp.Basic) -> sp.Basic:
            idx = m.args[1:2] if m.parent in vectors else m.args[1:]
            text = f"{m.parent.name}[{', '.join(printer.doprint(k) for k in idx)}]"
            leaf = sp.Symbol(f"_m{len(names)}")
            names[leaf] = text
            return leaf

        return e.replace(lambda m: isinstance(m, MatrixElement), rename)

    lines = [f"    {dim} = {src}" for dim, src in sorted(dims.items(), key=lambda kv: kv[0].name)]
    # the result's own shape bounds the entries (S may have fewer columns than n)
    lines += [f"    for {i} in range(out.shape[0]):", f"        for {j} in range(out.shape[1]):"]
    if isinstance(entry, sp.Sum):
        ((dummy, lo, hi),) = entry.limits
        k = sp.Symbol("k", integer=True)
        entry = sp.Sum(entry.function.subs(dummy, k), (k, lo, hi))
        # out[i, :] = outer * sum_k a(k, i) b(k, :): the row is accumulated with k outermost,
        # so the innermost loop runs along rows of the operands (contiguous), and each entry
        # still sums its terms in the order k = lo, lo + 1, ... (the same rounding)
        factors = sp.Mul.make_args(entry.function)
        outer = sp.Mul(*(a for a in factors if k not in a.free_symbols))
        row = sp.Mul(*(a for a in factors if k in a.free_symbols and j not in a.free_symbols))
        col = sp.Mul(*(a for a in factors if k in a.free_symbols and j in a.free_symbols))
        lines = [*lines[:-1]]
        lines += [
            f"        for {j} in range(out.shape[1]):",
            f"            out[{i}, {j}] = 0.0",
            f"        for k in range({int(lo)}, {hi + 1}):",
            f"            a = {printer.doprint(element(row))}",
            f"            for {j} in range(out.shape[1]):",
            f"                out[{i}, {j}] += a*{printer.doprint(element(col))}",
            f"        for {j} in range(out.shape[1]):",
            f"            out[{i}, {j}] = {printer.doprint(element(outer))}*out[{i}, {j}]",
        ]
    else:
        lines.append(f"            out[{i}, {j}] = {printer.doprint(element(entry))}")
    args = ", ".join(a.name for a in spec.args)
    arg_doc = "\n".join(f"    {a.name}: {a.doc}" for a in spec.args)
    return (
        "@_jitable\n"
        f"def {spec.name}_into({args}, out):\n"
        f'    """{spec.summary} Written into ``out``, entry by entry.\n\n'
        f"    Computes (SPEC {', '.join(spec.claims)}): out = {spec.math}\n\n"
        f"    Arguments:\n{arg_doc}\n    out: the result's array, overwritten (not one of the"
        " arguments)\n"
        '    """\n' + "\n".join(lines) + "\n"
    )


#: Hand-written drivers that codegen appends to a loop module (kept in the same file as the
#: kernels they call, so numba's on-disk cache, keyed by that one file, is never stale).
#: ``column_chain`` is the column-scaled scaling-factor chain of
#: ``errorflow.numeric.logspace._chain_by_columns`` (SPEC B3, B10) as loops: each step is the
#: printed ``scaling_step_into``, then every column is divided by the power of two of its
#: largest entry (exact), that exponent added to the column's running exponent; it gives up
#: (``ok = False``; the caller switches to the entry-wise route) when an entry that can be
#: nonzero falls below ``tiny`` times its column's largest.
DRIVERS: dict[str, str] = {
    "column_chain": '''\
def column_chain(W, mant, exps, tiny):
    """(ok, M, e) with S(q) = M 2^e, e per column (SPEC B3, B10): W (n, n) weights; mant
    (q, n) the mantissas of f'(net(t-m)), row m-1, and exps (q,) their integer exponents; tiny:
    the relative size below which an entry that is not structurally zero makes the chain give
    up. The result's array is returned even when ok is False (then it is not meaningful).
    """
    n = W.shape[0]
    M = numpy.eye(n)
    out = numpy.empty((n, n))
    e = numpy.zeros(n, dtype=numpy.int64)
    links = W.T != 0
    sparse = not links.all()
    structural = numpy.eye(n) != 0
    reach = numpy.empty((n, n), dtype=numpy.bool_)
    for m in range(mant.shape[0]):
        scaling_step_into(mant[m], W, M, out)
        if sparse:  # entries that are zero for every value of the nonzero weights
            for v in range(n):
                for u in range(n):
                    hit = False
                    for k in range(n):
                        if links[v, k] and structural[k, u]:
                            hit = True
                            break
                    reach[v, u] = hit
            structural, reach = reach, structural
        for u in range(n):
            big = 0.0
            for v in range(n):
                big = max(big, abs(out[v, u]))
            k = math.frexp(big)[1]
            limit = math.ldexp(tiny, k)
            for v in range(n):
                if abs(out[v, u]) < limit and (structural[v, u] or not sparse):
                    return False, out, e
            for v in range(n):
                out[v, u] = math.ldexp(out[v, u], -k)
            e[u] += k
        M, out = out, M
    total = 0
    for m in range(exps.shape[0]):
        total += exps[m]
    for u in range(n):
        e[u] += total
    return True, M, e
''',
}


_JITABLE = """\
try:  # numba compiles these helpers into the kernels that call them; plain Python otherwise
    from numba.extending import register_jitable as _jitable
except ImportError:  # pragma: no cover - exercised by the fallback tests without numba

    def _jitable(func):
        return func
"""


def render_loop_module(
    source: str,
    docstring: str,
    helpers: str,
    specs: Sequence[LoopKernelSpec],
    drivers: Sequence[str] = (),
) -> str:
    """A whole generated loop module: preamble, docstring, imports, helpers, kernels.
    ``specs`` holds sequence kernels (:class:`LoopKernelSpec`) and ``"matrix"`` kernels
    (printed by :func:`render_matrix_loop`); ``helpers`` is '' for a module without the first."""
    sequences = [s for s in specs if isinstance(s, LoopKernelSpec)]
    helper_names = ["ACTIVATION_CODES", "activate", "activate_and_slope", "slope"]
    names = sorted(
        (helper_names if helpers else [])
        + [s.name for s in sequences]
        + [f"{s.name}_into" for s in specs if not isinstance(s, LoopKernelSpec)]
        + list(drivers)
    )
    all_list = "\n".join(f'    "{n}",' for n in names)
    kernels = [
        _KernelRenderer(s).render() if isinstance(s, LoopKernelSpec) else render_matrix_loop(s)
        for s in specs
    ]
    head = (
        PREAMBLE.format(source=source)
        + f'"""{docstring.strip()}\n"""\n\n'
        + ("import math\n\nimport numpy\n\n" if sequences or drivers else "")
        + _JITABLE
        + f"\n__all__ = [\n{all_list}\n]\n"
    )
    kernels += [DRIVERS[name] for name in drivers]
    return "\n\n".join([head, *([helpers] if helpers else []), *kernels])
