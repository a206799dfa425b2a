r"""Real-time recurrent learning (SPEC S6; Williams & Zipser 1989).

The net is the conventional fully recurrent net of :mod:`errorflow.derivations.bptt`:
``net(t) = W y(t-1) + x(t)``, ``y(t) = f(net(t))``, ``W[i, j] = w_ij`` (from unit j to unit
i), ``E = 1/2 sum_t sum_k (d_k(t) - y^k(t))^2`` over output units k. RTRL carries, forward in
time, the sensitivities ``p^k_ij(t) = dy^k(t)/dw_ij``:

    p^k_ij(t) = f'_k(net_k(t)) ( sum_l w_kl p^l_ij(t-1) + delta_ki y^j(t-1) ),  p(0) = 0,

and accumulates ``dE/dw_ij = -sum_t sum_k e_k(t) p^k_ij(t)`` with ``e(t)`` the injected
error ``d(t) - y(t)`` at output units. This module proves with SymPy that

* the recursion gives ``dy^k(t)/dw_ij`` of the unrolled network (any differentiable f);
* the forward-accumulated gradient equals BPTT's ``-sum_t vartheta(t) y(t-1)^T`` (the
  recursion :data:`errorflow.derivations.bptt.ERROR_STEP`) and ``dE/dW`` itself;
* the homogeneous part of the recursion carries a sensitivity over q steps with
  ``W F'(t-1) ... W F'(t-q) = S(q)^T``, Hochreiter's scaling factor (B3) transposed: the
  sensitivities decay or explode exactly as BPTT's error does;
* the cost per step: the generated step kernel costs ``2 n^4 + O(n^3)`` operations against
  BPTT's ``O(n^2)``, shown by operation counts of the kernels (the exact polynomial, and
  ``count_ops`` of the explicit kernels at n = 2..5 with the fitted exponent); RTRL's memory is
  ``n^3 + n^2`` numbers for any sequence length T, BPTT's grows like ``T n``.

The step statements :data:`SENSITIVITY_STEP` and :data:`PROPAGATE_STEP` are what codegen
prints into ``numeric/_generated/rtrl.py``; the proofs run those very statements on explicit
SymPy arrays. Two array operations are defined here (:class:`UnitMix`, :class:`UnitDelta`);
:mod:`errorflow.derivations.second_order` reuses them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache

import sympy as sp

from .arrays import ArrayOp, Contract, Expand, Shape, evaluate, shape
from .bptt import (
    ERROR_STEP,
    _explicit,
    _f,
    _fprime_at,
    explicit_weights,
    matrix_product,
)
from .bptt import W as W_bptt
from .bptt import fp as fp_bptt
from .bptt import injected as e_bptt
from .bptt import theta_next as theta_bptt
from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero
from .notation import Slope, t

__all__ = [
    "GENERATED_DOC",
    "PROPAGATE_STEP",
    "SENSITIVITY_STEP",
    "UnitDelta",
    "UnitMix",
    "bptt_step_ops",
    "derivation",
    "fitted_exponent",
    "kernel_specs",
    "rtrl_step_ops",
    "run_statements",
]


# ---------------------------------------------------------------------------------------
# Two array operations of sensitivity kernels.
# ---------------------------------------------------------------------------------------
def _size(sh: Shape) -> sp.Expr:
    return sp.Mul(*sh) if sh else sp.Integer(1)


class UnitMix(ArrayOp):
    r"""``sum_l A_{k l} X_{l ...}``: mixes the leading (unit) axis of ``X`` with the matrix
    ``A``; shape ``(A.rows, *X.shape[1:])``, ``2 A.rows |X|`` operations."""

    nargs = 2

    def result_shape(self, shapes):
        a, x = (shape(e, shapes) for e in self.args)
        return (a[0], *x[1:])

    def flops(self, shapes):
        a, x = (shape(e, shapes) for e in self.args)
        return 2 * a[0] * _size(x)

    def _latex(self, printer):
        a, x = (printer._print(e) for e in self.args)
        return rf"{a}\, {x}"

    def _sympystr(self, printer):
        a, x = (printer._print(e) for e in self.args)
        return f"{a} . {x}"

    def _numpycode(self, printer):
        a, x = (printer._print(e) for e in self.args)
        return f"numpy.tensordot({a}, {x}, 1)"


class UnitDelta(ArrayOp):
    r"""Kronecker's ``delta_{k i}`` over the units of the vector ``like``, followed by ``k``
    unit axes: shape ``(n, n, 1, ..., 1)``; a constant, no operations."""

    nargs = 2

    def result_shape(self, shapes):
        n = shape(self.args[0], shapes)[0]
        return (n, n, *([sp.Integer(1)] * int(self.args[1])))

    def flops(self, shapes):
        return sp.Integer(0)

    def _latex(self, printer):
        return r"\delta"

    def _sympystr(self, printer):
        return "delta"

    def _numpycode(self, printer):
        like = printer._print(self.args[0])
        tail = ", None" * int(self.args[1])
        return f"numpy.eye({like}.shape[0])[:, :{tail}]"


def _apply(expr: sp.Basic, env: Mapping, dims: Mapping) -> sp.Basic:
    if isinstance(expr, UnitMix):
        a, x = (_apply(e, env, dims) for e in expr.args)
        return sp.tensorcontraction(sp.tensorproduct(a, x), (1, 2))
    if isinstance(expr, UnitDelta):
        like = _apply(expr.args[0], env, dims)
        k = like.shape[0]
        tail = (1,) * int(expr.args[1])
        return sp.ImmutableDenseNDimArray(
            [sp.Integer(int(i == j)) for i in range(k) for j in range(k)], (k, k, *tail)
        )
    return evaluate(expr, env, dims)


def run_statements(
    statements: Sequence[tuple[sp.Symbol, sp.Basic]], env: Mapping, dims: Mapping | None = None
) -> dict:
    """Run a step kernel's statements on explicit SymPy arrays (``env``: symbol -> array).

    :class:`UnitMix` and :class:`UnitDelta` are applied here (by their definitions), every
    other expression by :func:`errorflow.derivations.arrays.evaluate`. Returns the extended
    environment.
    """
    out = dict(env)
    for target, expr in statements:
        out[target] = _apply(expr, out, dims or {})
    return out


# ---------------------------------------------------------------------------------------
# The general (any n) step statements: printed by codegen, run by the proofs.
# ---------------------------------------------------------------------------------------
n = sp.Symbol("n", integer=True, positive=True)
fp = sp.Symbol("fp")
W = sp.Symbol("W")
P_prev = sp.Symbol("P_prev")
y_prev = sp.Symbol("y_prev")
e = sp.Symbol("e")
R_prev = sp.Symbol("R")
mixed, delta, P, grad, R_new = sp.symbols("mixed delta P grad R_next")

SHAPES: dict[sp.Basic, tuple[sp.Expr, ...]] = {
    fp: (n,),
    W: (n, n),
    P_prev: (n, n, n),
    y_prev: (n,),
    e: (n,),
    R_prev: (n, n),
}

#: S6: one RTRL step, ``p(t) = F'(t) (W p(t-1) + delta y(t-1))`` and the step's gradient
#: contribution ``dE(t)/dw_ij = -sum_k e_k(t) p^k_ij(t)``.
SENSITIVITY_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (mixed, UnitMix(W, P_prev)),  # sum_l w_kl p^l_ij(t-1)
    (delta, UnitDelta(fp, 1)),  # delta_ki
    (P, Expand(Expand(fp)) * (mixed + delta * y_prev)),  # p^k_ij(t)
    (grad, -Contract(e, P)),  # -sum_k e_k(t) p^k_ij(t)
)

#: S6/B3: the homogeneous sensitivity step ``R <- W F'(t) R``; from ``R = I`` it gives
#: ``dnet(t+q)/dnet(t) = W F'(t+q-1) ... W F'(t)``.
PROPAGATE_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = ((R_new, UnitMix(W, Expand(fp) * R_prev)),)

GENERATED_DOC = """Kernels of real-time recurrent learning (SPEC S6, Williams & Zipser 1989),
printed from errorflow.derivations.rtrl. W[i, j] is the weight from unit j to unit i;
P[k, i, j] = p^k_ij(t) = dy^k(t)/dw_ij."""


def kernel_specs() -> list[KernelSpec]:
    """The RTRL step kernels codegen prints (each with a ``*_flops`` companion)."""
    return [
        KernelSpec(
            name="sensitivity_step",
            summary=(
                "One RTRL step: p^k_ij(t) = f'_k(net_k(t)) (sum_l w_kl p^l_ij(t-1) + "
                "delta_ki y^j(t-1)) and this step's dE(t)/dw_ij = -sum_k e_k(t) p^k_ij(t) (S6)."
            ),
            math="; ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in SENSITIVITY_STEP),
            claims=("S6",),
            args=(
                KernelArg("fp", "(n,) slopes f'_k(net_k(t))"),
                KernelArg("W", "(n, n) weights, W[i, j] from unit j to unit i"),
                KernelArg("P_prev", "(n, n, n) sensitivities p^k_ij(t-1), index [k, i, j]"),
                KernelArg("y_prev", "(n,) activations y(t-1)"),
                KernelArg("e", "(n,) injected error d_k(t) - y^k(t) at output units, 0 elsewhere"),
            ),
            symbols=(fp, W, P_prev, y_prev, e),
            outputs=(P, grad),
            kind="step",
            statements=SENSITIVITY_STEP,
            shapes=SHAPES,
            sizes=(n,),
        ),
        KernelSpec(
            name="propagate_step",
            summary=(
                "The homogeneous RTRL step R <- W F'(t) R: a sensitivity of the net inputs "
                "carried one step forward (S6; over q steps S(q)^T of B3)."
            ),
            math="; ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in PROPAGATE_STEP),
            claims=("S6", "B3"),
            args=(
                KernelArg("fp", "(n,) slopes f'_l(net_l(t))"),
                KernelArg("W", "(n, n) weights"),
                KernelArg("R", "(n, k) dnet(t)/dnet(t0) (any k columns)"),
            ),
            symbols=(fp, W, R_prev),
            outputs=(R_new,),
            kind="step",
            statements=PROPAGATE_STEP,
            shapes=SHAPES,
            sizes=(n,),
        ),
    ]


# ---------------------------------------------------------------------------------------
# Explicit networks for the proofs.
# ---------------------------------------------------------------------------------------


def _arr(values: Sequence[sp.Basic], shp: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    return sp.ImmutableDenseNDimArray(list(values), shp)


def _vec(mat: sp.Matrix) -> sp.ImmutableDenseNDimArray:
    return _arr(list(mat), (mat.rows,))


@cache
def _unrolled(k: int, T: int, outputs: tuple[int, ...]):
    """The unrolled net (n = k, T steps, any f): weights, y(0..T), nets, errors e(t), E."""
    Wk = explicit_weights(k)
    xs = [sp.Matrix(k, 1, lambda i, _, s=s: sp.Symbol(f"x_{i + 1}({s})")) for s in range(1, T + 1)]
    ds = [sp.Matrix(k, 1, lambda i, _, s=s: sp.Symbol(f"d_{i + 1}({s})")) for s in range(1, T + 1)]
    y0 = sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"y_{i + 1}(0)"))
    ys, nets = [y0], []
    for s in range(T):
        net = Wk * ys[-1] + xs[s]
        nets.append(net)
        ys.append(net.applyfunc(_f))
    errs = [
        sp.Matrix(k, 1, lambda i, _, s=s: (ds[s][i] - ys[s + 1][i]) if i + 1 in outputs else 0)
        for s in range(T)
    ]
    E = sp.Rational(1, 2) * sum(err[i] ** 2 for err in errs for i in range(k))
    return Wk, ys, nets, errs, E


def _rtrl_run(k: int, T: int, outputs: tuple[int, ...]):
    """Run :data:`SENSITIVITY_STEP` over the unrolled net: sensitivities and gradient."""
    Wk, ys, nets, errs, _ = _unrolled(k, T, outputs)
    P_t = sp.ImmutableDenseNDimArray([0] * k**3, (k, k, k))
    total = sp.zeros(k, k)
    sens = []
    for s in range(T):
        env = {
            fp: _vec(nets[s].applyfunc(_fprime_at)),
            W: sp.ImmutableDenseNDimArray(Wk.tolist()),
            P_prev: P_t,
            y_prev: _vec(ys[s]),
            e: _vec(errs[s]),
        }
        out = run_statements(SENSITIVITY_STEP, env, {n: k})
        P_t = out[P]
        sens.append(P_t)
        total += sp.Matrix(out[grad].tolist())
    return sens, total


def _bptt_gradient(k: int, T: int, outputs: tuple[int, ...]) -> sp.Matrix:
    """``-sum_t vartheta(t) y(t-1)^T`` with vartheta from bptt's :data:`ERROR_STEP`."""
    Wk, ys, nets, errs, _ = _unrolled(k, T, outputs)
    theta = sp.zeros(k, 1)
    total = sp.zeros(k, k)
    for s in reversed(range(T)):
        slopes = nets[s].applyfunc(_fprime_at)
        theta = _explicit(
            ERROR_STEP, k, {fp_bptt: slopes, e_bptt: errs[s], W_bptt: Wk, theta_bptt: theta}
        )
        total -= theta * ys[s].T
    return total


def _sensitivity_proof(k: int, T: int) -> Proof:
    Wk, ys, *_ = _unrolled(k, T, (1,))
    sens, _ = _rtrl_run(k, T, (1,))
    ok = all(
        is_zero(sens[s][kk, i, j] - sp.diff(ys[s + 1][kk], Wk[i, j]))
        for s in range(T)
        for kk in range(k)
        for i in range(k)
        for j in range(k)
    )
    return Proof(
        "S6",
        rf"the RTRL recursion gives $p^k_{{ij}}(t) = \partial y^k(t)/\partial w_{{ij}}$ of the "
        rf"unrolled net for every $k, i, j$ and $t \le {T}$ ($n = {k}$, any differentiable $f$)",
        "sympy.diff of the unrolled network, simplify(lhs - rhs) = 0",
        ok,
    )


def _gradient_proof(k: int, T: int, outputs: tuple[int, ...]) -> Proof:
    Wk, *_, E = _unrolled(k, T, outputs)
    _, rtrl = _rtrl_run(k, T, outputs)
    bptt = _bptt_gradient(k, T, outputs)
    ok = all(
        is_zero(rtrl[i, j] - bptt[i, j]) and is_zero(rtrl[i, j] - sp.diff(E, Wk[i, j]))
        for i in range(k)
        for j in range(k)
    )
    return Proof(
        "S6",
        rf"RTRL's forward-accumulated gradient $-\sum_t \sum_k e_k(t)\, p^k_{{ij}}(t)$ equals "
        rf"BPTT's $-\sum_t \vartheta_i(t)\, y^j(t-1)$ and $\partial E/\partial w_{{ij}}$ "
        rf"($n = {k}$, $T = {T}$, output units {set(outputs)}, any differentiable $f$)",
        "both recursions on the unrolled network, simplify(lhs - rhs) = 0 entry by entry",
        ok,
    )


def _all_zero(mat: sp.Matrix) -> bool:
    return all(is_zero(entry) for entry in mat)


def _slopes(k: int, m: int) -> sp.ImmutableDenseNDimArray:
    """``f'_l(net_l(t-m))``, l = 1..k, the slopes of the B3 window."""
    return _arr([Slope(i + 1, t - m) for i in range(k)], (k,))


def _propagator_proof(k: int, q: int) -> bool:
    """Iterating :data:`PROPAGATE_STEP` over t-q..t-1 from I gives S(q)^T (B3)."""
    Wa = sp.ImmutableDenseNDimArray(explicit_weights(k).tolist())
    R = sp.ImmutableDenseNDimArray(sp.eye(k).tolist())
    for m in range(q, 0, -1):  # slopes at t-q first: R <- W F'(t-m) R
        R = run_statements(PROPAGATE_STEP, {fp: _slopes(k, m), W: Wa, R_prev: R})[R_new]
    return _all_zero(sp.Matrix(R.tolist()) - matrix_product(q, k).T)


def _homogeneous_proof(k: int, q: int) -> bool:
    """The sensitivity kernel with no injection (y(t-1) = 0) over q steps is
    ``F'(t) W F'(t-1) W ... F'(t-q+1) W``, and times ``F'(t-q)`` it is ``F'(t) S(q)^T``."""
    Wa = sp.ImmutableDenseNDimArray(explicit_weights(k).tolist())
    z = _arr([0] * k, (k,))
    # start from p(t-q) = F'(t-q) e_l for every l at once: the last axes are (l, 1)
    start = [Slope(a + 1, t - q) * int(a == b) for a in range(k) for b in range(k) for _ in "x"]
    Pc = _arr(start, (k, k, 1))
    for m in range(q - 1, -1, -1):
        env = {fp: _slopes(k, m), W: Wa, P_prev: Pc, y_prev: z, e: z}
        Pc = run_statements(SENSITIVITY_STEP[:3], env, {n: k})[P]
    left = sp.Matrix(k, k, lambda a, b: Pc[a, b, 0])
    right = sp.diag(*[Slope(i + 1, t) for i in range(k)]) * matrix_product(q, k).T
    return _all_zero(left - right)


# ---------------------------------------------------------------------------------------
# Cost: operation counts of the kernels, exactly and on explicit arrays.
# ---------------------------------------------------------------------------------------
def _symbols_array(name: str, shp: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    import itertools

    idx = list(itertools.product(*(range(d) for d in shp)))
    return _arr([sp.Symbol(f"{name}_{'_'.join(map(str, i))}") for i in idx], shp)


def _count(values) -> int:
    return sum(sp.count_ops(v) for v in values)


@cache
def rtrl_step_ops(k: int) -> int:
    """``count_ops`` of :data:`SENSITIVITY_STEP` run on explicit symbols at n = k: every
    entry of ``p(t)`` and of the step's gradient (products with 0/1 removed by SymPy)."""
    env = {
        fp: _symbols_array("fp", (k,)),
        W: _symbols_array("w", (k, k)),
        P_prev: _symbols_array("p", (k, k, k)),
        y_prev: _symbols_array("y", (k,)),
        e: _symbols_array("e", (k,)),
    }
    out = run_statements(SENSITIVITY_STEP, env, {n: k})
    return _count(list(sp.flatten(out[P]))) + _count(list(sp.flatten(out[grad])))


@cache
def bptt_step_ops(k: int) -> int:
    """``count_ops`` of one BPTT step at n = k: bptt's :data:`ERROR_STEP` on explicit symbols
    and the step's gradient contribution ``-vartheta(t) y(t-1)^T``."""
    sym = {
        fp_bptt: sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"fp_{i}")),
        e_bptt: sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"e_{i}")),
        W_bptt: sp.Matrix(k, k, lambda i, j: sp.Symbol(f"w_{i}_{j}")),
        theta_bptt: sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"th_{i}")),
    }
    theta = _explicit(ERROR_STEP, k, sym)
    yv = sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"y_{i}"))
    theta_s = sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"vt_{i}"))  # the step's vartheta, reused
    return _count(list(theta)) + _count(list(-theta_s * yv.T))


def fitted_exponent(sizes: Sequence[int], counts: Sequence[int]) -> float:
    """Least-squares slope of ``log count`` against ``log n``."""
    lx = [math.log(s) for s in sizes]
    ly = [math.log(c) for c in counts]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    return num / sum((a - mx) ** 2 for a in lx)


#: Sizes at which the explicit kernels are counted.
COUNT_SIZES = (2, 3, 4, 5)
T_len = sp.Symbol("T", integer=True, positive=True)
#: Numbers each algorithm keeps between steps (S6): RTRL p and the gradient; BPTT the stored
#: net inputs and activations of every step, the carried error signals and the gradient.
MEMORY = {"rtrl": n**3 + n**2, "bptt": 2 * T_len * n + n + n**2}


# ---------------------------------------------------------------------------------------
# The derivation.
# ---------------------------------------------------------------------------------------
def _section_recursion() -> Section:
    return Section(
        claims=("S6",),
        title="forward sensitivities (RTRL) give the BPTT gradient",
        paper_ref=(
            "Williams \\& Zipser (1989); cited in section 1 and 4 of the paper as RTRL, "
            "the sensitivity form of the gradient of section 3.1"
        ),
        prose=(
            r"RTRL differentiates forward in time. With $net(t) = W\,y(t-1) + x(t)$ the "
            r"sensitivity $p^k_{ij}(t) = \partial y^k(t)/\partial w_{ij}$ obeys the recursion "
            r"below ($y(0)$ does not depend on $W$, so $p(0) = 0$). The gradient is accumulated "
            r"as the sequence runs; BPTT gets the same numbers by running the error signals of "
            r"B2 backwards. Both are exact: SymPy runs the generated kernel's own statements on "
            r"the unrolled network and compares them with BPTT's recursion and with "
            r"\texttt{sympy.diff} of $E$."
        ),
        steps=[
            Step(
                "sensitivity",
                r"p^k_{ij}(t)",
                r"f'_k(net_k(t))\Bigl(\sum_{l=1}^{n} w_{kl}\, p^l_{ij}(t-1) "
                r"+ \delta_{ki}\, y^j(t-1)\Bigr), \quad p^k_{ij}(0) = 0",
                text="p^k_ij(t) = f'_k(net_k(t)) (sum_l w_kl p^l_ij(t-1) + delta_ki y^j(t-1))",
            ),
            Step(
                "matrix form",
                r"p_{ij}(t)",
                r"F'(t)\,\bigl(W\,p_{ij}(t-1) + e_i\, y^j(t-1)\bigr)",
                note=r"$p_{ij}(t)$ is the column of sensitivities of all units, $e_i$ the "
                r"$i$-th unit vector.",
                text="p_ij(t) = F'(t) (W p_ij(t-1) + e_i y^j(t-1))",
            ),
            Step(
                "RTRL gradient",
                r"\frac{\partial E}{\partial w_{ij}}",
                r"-\sum_{t}\sum_{k} e_k(t)\, p^k_{ij}(t)",
                text="dE/dw_ij = -sum_t sum_k e_k(t) p^k_ij(t)",
            ),
            Step(
                "BPTT gradient",
                r"\frac{\partial E}{\partial w_{ij}}",
                r"-\sum_{t} \vartheta_i(t)\, y^j(t-1), \quad "
                r"\vartheta(t) = F'(t)\,\bigl(e(t) + W^T \vartheta(t+1)\bigr)",
                text="dE/dw_ij = -sum_t vartheta_i(t) y^j(t-1) (B2)",
            ),
            Step(
                "why equal",
                r"\sum_t e(t)^T p_{ij}(t)",
                r"\sum_{s} \sum_{t \ge s} e(t)^T F'(t) W \cdots F'(s+1) W\, F'(s)\, e_i\, "
                r"y^j(s-1) = \sum_s \vartheta_i(s)\, y^j(s-1)",
                note=r"Unrolling $p$ forward and $\vartheta$ backward gives the same double sum "
                r"over injection times $s$ and error times $t \ge s$: RTRL sums it by $s$ first, "
                r"BPTT by $t$ first.",
                text="sum_t e(t)^T p_ij(t) = sum_s sum_{t>=s} e(t)^T F'(t) W ... F'(s) e_i "
                "y^j(s-1) = sum_s vartheta_i(s) y^j(s-1)",
            ),
        ],
        proofs=[
            _sensitivity_proof(2, 3),
            _gradient_proof(2, 3, (1,)),
            _gradient_proof(2, 2, (1, 2)),
        ],
    )


def _section_decay() -> Section:
    pairs = [(k, q) for k in (1, 2, 3) for q in (1, 2, 3)]
    prop = all(_propagator_proof(k, q) for k, q in pairs)
    homog = all(_homogeneous_proof(k, q) for k, q in pairs if k <= 2)
    return Section(
        claims=("S6", "B3"),
        title="the sensitivities decay like BPTT's error",
        paper_ref="section 3.1, eq. (1) (the same factor read forwards)",
        prose=(
            r"Without the injection term a sensitivity is only carried forward. The net-input "
            r"sensitivities $r_{ij}(t) = \partial net(t)/\partial w_{ij}$ obey "
            r"$r_{ij}(t) = W F'(t-1)\, r_{ij}(t-1) + e_i\, y^j(t-1)$, so what was injected $q$ "
            r"steps ago arrives scaled by $\partial net(t)/\partial net(t-q)$, the transpose of "
            r"Hochreiter's scaling factor $S(q)$ (B3). RTRL's sensitivities therefore vanish or "
            r"explode under exactly the conditions of B5/B6: RTRL computes the same gradient, "
            r"so it cannot bridge longer lags than BPTT."
        ),
        steps=[
            Step(
                "net sensitivities",
                r"r_{ij}(t)",
                r"W\,F'(t-1)\, r_{ij}(t-1) + e_i\, y^j(t-1), \quad p_{ij}(t) = F'(t)\, r_{ij}(t)",
                text="r_ij(t) = W F'(t-1) r_ij(t-1) + e_i y^j(t-1), p_ij(t) = F'(t) r_ij(t)",
            ),
            Step(
                "q steps",
                r"\frac{\partial net(t)}{\partial net(t-q)}",
                r"W\,F'(t-1)\,W\,F'(t-2) \cdots W\,F'(t-q) = S(q)^T",
                text="dnet(t)/dnet(t-q) = W F'(t-1) W F'(t-2) ... W F'(t-q) = S(q)^T",
            ),
            Step(
                "entrywise",
                r"\frac{\partial net_k(t)}{\partial net_l(t-q)}",
                r"\frac{\partial \vartheta_l(t-q)}{\partial \vartheta_k(t)}",
                text="dnet_k(t)/dnet_l(t-q) = d vartheta_l(t-q)/d vartheta_k(t)",
            ),
        ],
        proofs=[
            Proof(
                "S6",
                r"iterating the generated homogeneous step $R \leftarrow W F' R$ over "
                r"$t-q, \dots, t-1$ from $I$ gives $S(q)^T$ of B3, for every $n \le 3$, $q \le 3$",
                "PROPAGATE_STEP run on explicit arrays vs bptt.matrix_product, expand = 0",
                prop,
            ),
            Proof(
                "S6",
                r"the sensitivity kernel with no injection carries $p(t-q) = F'(t-q)\,e_l$ to "
                r"$F'(t)\, S(q)^T e_l$ ($n \le 2$, $q \le 3$)",
                "SENSITIVITY_STEP run on explicit arrays with y(t-1) = 0, expand = 0",
                homog,
            ),
        ],
    )


def _section_cost() -> Section:
    spec = {s.name: s for s in kernel_specs()}["sensitivity_step"]
    flops = spec.flops()
    rtrl_counts = [rtrl_step_ops(k) for k in COUNT_SIZES]
    bptt_counts = [bptt_step_ops(k) for k in COUNT_SIZES]
    a_rtrl = fitted_exponent(COUNT_SIZES, rtrl_counts)
    a_bptt = fitted_exponent(COUNT_SIZES, bptt_counts)
    lead = sp.LT(sp.Poly(flops, n))
    mem_r, mem_b = MEMORY["rtrl"], MEMORY["bptt"]
    Wn = sp.Symbol("W", positive=True)
    per_weight = sp.expand(lead.subs(n, sp.sqrt(Wn)))
    sizes = ", ".join(map(str, COUNT_SIZES))
    return Section(
        claims=("S6",),
        title=r"cost: $O(n^4)$ per step for RTRL, $O(n^2)$ for BPTT",
        paper_ref="section 4 and eq. (29): RTRL is local in time, not in space; BPTT the reverse",
        prose=(
            r"Updating the $n \times n^2$ sensitivities mixes every $p^l_{ij}$ over the $n$ "
            r"units $l$: $n \cdot n^2 \cdot n$ multiply-adds per step. BPTT's step is one "
            r"matrix-vector product and one outer product. The counts are those of the "
            r"generated kernels: the exact polynomial of \texttt{sensitivity\_step} (every "
            r"product with a weight array 2 operations per weight, elementwise operations one per "
            r"entry), and \texttt{sympy.count\_ops} of the kernels' statements run on explicit "
            rf"symbols at $n = {sizes}$ with the fitted exponent. With $W = n^2$ weights RTRL "
            r"costs $O(W^2)$ per step, BPTT $O(W)$. Memory: RTRL keeps $p$ and the gradient, "
            r"whatever the sequence length $T$; BPTT stores every step's net inputs and "
            r"activations."
        ),
        steps=[
            Step(
                "RTRL kernel",
                r"\mathrm{ops}_{\mathrm{RTRL}}(n)",
                flops,
                text=f"sensitivity_step_flops(n) = {sp.sstr(flops)}",
            ),
            Step(
                "RTRL, per weight",
                r"\mathrm{ops}_{\mathrm{RTRL}}",
                rf"{sp.latex(per_weight)} + O(W^{{3/2}}), \quad W = n^2",
                text=f"ops_RTRL = {sp.sstr(per_weight)} + O(W^(3/2)), W = n^2",
            ),
            Step(
                "count_ops RTRL",
                rf"\mathrm{{count}}(n = {sizes})",
                ", ".join(map(str, rtrl_counts))
                + rf" \quad \text{{fitted exponent }} {a_rtrl:.2f}",
                text=f"count_ops RTRL at n = {sizes}: {rtrl_counts}, fitted exponent {a_rtrl:.2f}",
            ),
            Step(
                "count_ops BPTT",
                rf"\mathrm{{count}}(n = {sizes})",
                ", ".join(map(str, bptt_counts))
                + rf" \quad \text{{fitted exponent }} {a_bptt:.2f}",
                text=f"count_ops BPTT at n = {sizes}: {bptt_counts}, fitted exponent {a_bptt:.2f}",
            ),
            Step(
                "memory RTRL",
                r"\mathrm{mem}_{\mathrm{RTRL}}",
                mem_r,
                note="the sensitivities $p^k_{ij}$ and the accumulated gradient; no $T$",
                text=f"mem_RTRL = {sp.sstr(mem_r)} numbers (independent of T)",
            ),
            Step(
                "memory BPTT",
                r"\mathrm{mem}_{\mathrm{BPTT}}",
                mem_b,
                note="net inputs and activations of all $T$ steps, the error signals, the gradient",
                text=f"mem_BPTT = {sp.sstr(mem_b)} numbers",
            ),
        ],
        proofs=[
            Proof(
                "S6",
                rf"the generated RTRL step costs ${sp.latex(flops)}$ operations: degree 4 in $n$, "
                r"leading term $2n^4$",
                "KernelSpec.flops() of sensitivity_step, sympy.Poly degree",
                sp.degree(flops, n) == 4 and lead == 2 * n**4,
            ),
            Proof(
                "S6",
                rf"count\_ops of the explicit kernels at $n = {sizes}$: RTRL exponent "
                rf"{a_rtrl:.2f} ($\approx 4$), BPTT exponent {a_bptt:.2f} ($\approx 2$)",
                "sympy.count_ops of the statements on explicit symbols, least-squares log-log fit",
                3.5 < a_rtrl < 4.5 and 1.5 < a_bptt < 2.5,
            ),
            Proof(
                "S6",
                r"RTRL's memory does not depend on $T$ and is cubic in $n$; BPTT's grows "
                r"linearly in $T$",
                "sympy.diff with respect to T, sympy.degree",
                sp.diff(mem_r, T_len) == 0
                and sp.degree(mem_r, n) == 3
                and sp.degree(mem_b, T_len) == 1,
            ),
        ],
    )


@cache
def derivation() -> Derivation:
    """The RTRL derivation (S6), every proof evaluated."""
    return Derivation(
        name="rtrl",
        title="Real-time recurrent learning: the same gradient, another cost",
        source=(
            "Williams \\& Zipser (1989); Hochreiter \\& Schmidhuber (1997), sections 1, 4; SPEC S6"
        ),
        notation=(
            r"Non-input units $1..n$; $w_{ij}$ is the weight from unit $j$ to unit $i$; "
            r"$net(t) = W y(t-1) + x(t)$, $y^i(t) = f_i(net_i(t))$; $F'(t)$ is diagonal with "
            r"$[F'(t)]_{kk} = f'_k(net_k(t))$; $p^k_{ij}(t) = \partial y^k(t)/\partial w_{ij}$; "
            r"$e(t)$ holds $d_k(t) - y^k(t)$ at output units and 0 elsewhere; $\delta_{ki}$ is "
            r"Kronecker's delta."
        ),
        sections=[_section_recursion(), _section_decay(), _section_cost()],
    )
