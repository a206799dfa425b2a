r"""Conventional BPTT: exponentially decaying (or exploding) error (SPEC B1-B10; paper §3.1).

The setting is a fully recurrent net of n non-input units with ``net(t) = W y(t-1) + x(t)``,
``y(t) = f(net(t))``, ``W[i, j] = w_ij`` (from unit j to unit i) and the squared error
``E = 1/2 sum_t sum_k (d_k(t) - y^k(t))^2`` over output units k.

This module derives, and proves with SymPy where a proof exists:

* B1/B2: the error signals ``vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1))`` equal
  ``-dE/dnet(t)`` of the unrolled network (any differentiable f);
* B3: Hochreiter's scaling factor three ways (eq. 1's recursion, the matrix product
  ``S(q) = F'(t-q) W^T ... F'(t-1) W^T`` and the sum over paths) and proves them equal for
  every n <= 3, q <= 3;
* B4: eq. (2) as printed, a concrete counterexample to it, and the corrected form;
* B5/B6/B8: explosion and vanishing conditions with the exact forms ``w^q`` and ``r^q``;
* B7: the maximiser of one logistic factor ``|f'(wy + c) w|`` (the paper's coth form), solved
  at c = 0 to 30 digits;
* B9: the weak matrix-norm bound and its max-row-sum specialisation ``n tau^q``;
* B10: the log-space form of the recursion that keeps long lags inside float64.

The matrix expressions :data:`SCALING_STEP`, :data:`ERROR_STEP` and :data:`NET_STEP` are what
codegen prints into ``numeric/_generated/bptt.py``; the proofs substitute explicit matrices
into those very expressions.
"""

from __future__ import annotations

import itertools
from functools import cache

import sympy as sp
from sympy.calculus.util import maximum

from .core import (
    Derivation,
    KernelArg,
    KernelSpec,
    Proof,
    Section,
    Step,
    is_zero,
    prove_equal,
)
from .notation import ErrorSignal, Slope, UnitOutput, latex, partial, t, weight
from .squashing import SQUASHING
from .squashing import x as _x

__all__ = [
    "ERROR_STEP",
    "GENERATED_DOC",
    "LOOPS_DOC",
    "NET_STEP",
    "SCALING_STEP",
    "B7Optimum",
    "b7_optimum",
    "derivation",
    "eq1_recursion",
    "eq2_as_printed",
    "explicit_weights",
    "kernel_specs",
    "loop_specs",
    "matrix_product",
    "path_sum",
]

# ---------------------------------------------------------------------------------------
# The general (any n) matrix expressions: printed by codegen, specialised by the proofs.
# ---------------------------------------------------------------------------------------
n = sp.Symbol("n", integer=True, positive=True)
W = sp.MatrixSymbol("W", n, n)
S_prev = sp.MatrixSymbol("S", n, n)
fp = sp.MatrixSymbol("fp", n, 1)
theta_next = sp.MatrixSymbol("theta_next", n, 1)
injected = sp.MatrixSymbol("e", n, 1)
y_prev = sp.MatrixSymbol("y_prev", n, 1)
x_in = sp.MatrixSymbol("x", n, 1)

#: B3(b) one step: ``S(m) = F'(t-m) W^T S(m-1)``, with ``S(0) = I``.
SCALING_STEP = sp.DiagMatrix(fp) * W.T * S_prev
#: B1/B2 one step: ``vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1))``, e = masked d - y.
ERROR_STEP = sp.HadamardProduct(fp, injected + W.T * theta_next)
#: The forward net input: ``net(t) = W y(t-1) + x(t)``.
NET_STEP = W * y_prev + x_in

GENERATED_DOC = """Kernels of conventional BPTT error flow (SPEC B1-B3), printed from
errorflow.derivations.bptt. Vectors are 1-D arrays of length n, matrices (n, n); W[i, j] is
the weight from unit j to unit i."""


def _explicit(expr: sp.MatrixExpr, k: int, values: dict[sp.MatrixSymbol, sp.Matrix]) -> sp.Matrix:
    """Specialise a general matrix expression to size k and explicit entries."""
    concrete = expr.subs(n, k)
    mapping = {}
    for sym, mat in values.items():
        sized = sp.MatrixSymbol(sym.name, mat.rows, mat.cols)
        for i in range(mat.rows):
            for j in range(mat.cols):
                mapping[sized[i, j]] = mat[i, j]
    return sp.Matrix(concrete.as_explicit()).xreplace(mapping)


def explicit_weights(k: int) -> sp.Matrix:
    """``W`` with symbolic entries ``w_ij`` (units numbered 1..k as in the paper)."""
    return sp.Matrix(k, k, lambda i, j: weight(i + 1, j + 1))


def _slopes(k: int, m: int) -> sp.Matrix:
    """The diagonal of ``F'(t-m)`` as a column: ``f'_l(net_l(t-m))``, l = 1..k."""
    return sp.Matrix(k, 1, lambda i, _: Slope(i + 1, t - m))


def eq1_recursion(v: int, u: int, q: int, k: int) -> sp.Expr:
    """``d vartheta_v(t-q) / d vartheta_u(t)`` by eq. (1), literally (units 1..k)."""
    if q == 1:
        return Slope(v, t - 1) * weight(u, v)
    return Slope(v, t - q) * sum(
        eq1_recursion(l, u, q - 1, k) * weight(l, v) for l in range(1, k + 1)
    )


def matrix_product(q: int, k: int) -> sp.Matrix:
    """B3(b): ``S(q)`` by iterating :data:`SCALING_STEP` from ``S(0) = I``."""
    Wk = explicit_weights(k)
    S = sp.eye(k)
    for m in range(1, q + 1):
        S = _explicit(SCALING_STEP, k, {W: Wk, S_prev: S, fp: _slopes(k, m)})
    return S


def _path_sum(v: int, u: int, q: int, k: int, printed: bool) -> sp.Expr:
    total = sp.Integer(0)
    for inner in itertools.product(range(1, k + 1), repeat=q - 1):
        path = (u, *inner, v)  # l_0 = u, ..., l_q = v
        term = sp.Integer(1)
        for m in range(1, q + 1):
            a, b = (path[m], path[m - 1]) if printed else (path[m - 1], path[m])
            term *= Slope(path[m], t - m) * weight(a, b)
        total += term
    return total


def path_sum(v: int, u: int, q: int, k: int) -> sp.Expr:
    """B3(c), the corrected eq. (2): sum over paths of ``prod f'_{l_m} w_{l_{m-1} l_m}``."""
    return _path_sum(v, u, q, k, printed=False)


def eq2_as_printed(v: int, u: int, q: int, k: int) -> sp.Expr:
    """Eq. (2) exactly as printed: the path product with ``w_{l_m l_{m-1}}`` (B4)."""
    return _path_sum(v, u, q, k, printed=True)


# ---------------------------------------------------------------------------------------
# B1/B2: error signals of the unrolled network, any differentiable f.
# ---------------------------------------------------------------------------------------
_f = sp.Function("f")
_z = sp.Symbol("z")


def _fprime_at(expr: sp.Expr) -> sp.Expr:
    return sp.diff(_f(_z), _z).subs(_z, expr)


def _b1_b2_proof(k: int, T: int, outputs: tuple[int, ...]) -> Proof:
    """``vartheta_j(t)`` from the B2 recursion equals ``-dE/dnet_j(t)`` for every j, t."""
    Wk = explicit_weights(k)
    xs = [sp.Matrix(k, 1, lambda i, _, s=s: sp.Symbol(f"x_{i + 1}({s})")) for s in range(1, T + 1)]
    ds = [sp.Matrix(k, 1, lambda i, _, s=s: sp.Symbol(f"d_{i + 1}({s})")) for s in range(1, T + 1)]
    y = sp.zeros(k, 1)
    nets, ys = [], []
    for s in range(T):
        net = _explicit(NET_STEP, k, {W: Wk, y_prev: y, x_in: xs[s]})
        y = net.applyfunc(_f)
        nets.append(net)
        ys.append(y)
    E = sp.Rational(1, 2) * sum(
        (ds[s][i] - ys[s][i]) ** 2 for s in range(T) for i in range(k) if i + 1 in outputs
    )
    theta = sp.zeros(k, 1)
    ok = True
    for s in reversed(range(T)):
        e = sp.Matrix(k, 1, lambda i, _, s=s: (ds[s][i] - ys[s][i]) if i + 1 in outputs else 0)
        slopes = nets[s].applyfunc(_fprime_at)
        theta = _explicit(ERROR_STEP, k, {fp: slopes, injected: e, W: Wk, theta_next: theta})
        for j in range(k):
            # net_j(t) = ... + x_j(t): d/dnet_j(t) with the past held fixed is d/dx_j(t).
            ok = ok and is_zero(theta[j] + sp.diff(E, xs[s][j]))
    return Proof(
        "B1, B2",
        rf"$\vartheta_j(t) = -\partial E/\partial net_j(t)$ for every unit and step "
        rf"(n = {k}, T = {T}, output units {set(outputs)}, any differentiable $f$)",
        "differentiating the unrolled network, simplify(lhs - rhs) = 0",
        ok,
    )


# ---------------------------------------------------------------------------------------
# B7: the maximum of one logistic factor.
# ---------------------------------------------------------------------------------------
class B7Optimum(tuple):
    """``(net_star, peak, w_threshold)`` at c = 0 (B7), as 30-digit SymPy Floats.

    ``net_star`` solves ``net tanh(net/2) = 1``; the largest factor is ``peak / |y|`` with
    ``peak = f'(net_star) net_star``; a factor can exceed 1 only when ``|y| < peak``, which
    needs ``|w| = net_star / |y| > w_threshold = net_star / peak``.
    """

    __slots__ = ()

    def __new__(cls, net_star: sp.Float, peak: sp.Float, w_threshold: sp.Float) -> B7Optimum:
        return super().__new__(cls, (net_star, peak, w_threshold))

    net_star = property(lambda self: self[0])
    peak = property(lambda self: self[1])
    w_threshold = property(lambda self: self[2])


@cache
def b7_optimum(digits: int = 30) -> B7Optimum:
    """Solve B7's stationary condition at c = 0 to ``digits`` significant digits."""
    net = sp.Symbol("net", positive=True)
    net_star = sp.nsolve(net * sp.tanh(net / 2) - 1, net, 1.5, prec=digits + 5)
    slope = SQUASHING["logistic"].identity_rhs.subs(_x, net_star)
    peak = sp.Float(slope * net_star, digits + 5)
    return B7Optimum(
        sp.Float(net_star, digits), sp.Float(peak, digits), sp.Float(net_star / peak, digits)
    )


# ---------------------------------------------------------------------------------------
# The derivation, section by section.
# ---------------------------------------------------------------------------------------
def _section_b1_b2() -> Section:
    k_out, j, i = sp.symbols("k j i")
    return Section(
        claims=("B1", "B2"),
        title="error signals of BPTT",
        paper_ref="section 3.1, unnumbered equations",
        prose=(
            r"For $E = \tfrac12 \sum_t \sum_k (d_k(t) - y^k(t))^2$ (the $\tfrac12$ is implicit in "
            r"the paper) the output error and the back-propagated error are the negative "
            r"derivatives of $E$ with respect to the net inputs. A weight $w_{jl}$ receives "
            r"$\alpha\,\vartheta_j(t)\,y^l(t-1)$ from time $t$. With error injected at several "
            r"steps, $e(t)$ holds $d_k(t) - y^k(t)$ at output units and 0 elsewhere."
        ),
        steps=[
            Step(
                "B1",
                ErrorSignal(k_out, t),
                Slope(k_out, t) * (sp.Symbol("d_k(t)") - UnitOutput(k_out, t)),
            ),
            Step(
                "B2",
                ErrorSignal(j, t),
                rf"{latex(Slope(j, t))} \sum_i w_{{ij}}\, {latex(ErrorSignal(i, t + 1))}",
                text="vartheta_j(t) = f'_j(net_j(t)) sum_i w_ij vartheta_i(t+1)",
            ),
            Step(
                "vector form",
                r"\vartheta(t)",
                r"F'(t)\,\bigl(e(t) + W^T \vartheta(t+1)\bigr)",
                text="vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1))",
            ),
            Step(
                "weight update",
                r"\Delta w_{jl}",
                rf"\alpha \sum_t {latex(ErrorSignal(j, t))}\, "
                rf"{latex(UnitOutput(sp.Symbol('l'), t - 1))}",
                text="Delta w_jl = alpha sum_t vartheta_j(t) y^l(t-1)",
            ),
        ],
        proofs=[_b1_b2_proof(2, 3, (1,)), _b1_b2_proof(2, 2, (1, 2))],
    )


def _section_b3() -> Section:
    v, u, l, q = sp.symbols("v u l q")
    proofs = []
    for k in (1, 2, 3):
        for qq in (1, 2, 3):
            S = matrix_product(qq, k)
            ok = all(
                is_zero(eq1_recursion(vv, uu, qq, k) - S[vv - 1, uu - 1])
                and is_zero(path_sum(vv, uu, qq, k) - S[vv - 1, uu - 1])
                for vv in range(1, k + 1)
                for uu in range(1, k + 1)
            )
            proofs.append(
                Proof(
                    "B3",
                    f"recursion (a) = matrix product (b) = path sum (c), n = {k}, q = {qq}",
                    "expand(lhs - rhs) = 0 for every entry",
                    ok,
                )
            )
    merged = Proof(
        "B3",
        r"the three forms agree for every $n \le 3$, $q \le 3$ (all $v, u$)",
        "expand(lhs - rhs) = 0, entry by entry, 9 (n, q) pairs",
        all(p.holds for p in proofs),
    )
    lhs = partial(ErrorSignal(v, t - q), ErrorSignal(u, t))
    return Section(
        claims=("B3",),
        title="Hochreiter's scaling factor, eq. (1), three ways",
        paper_ref="section 3.1, eq. (1); Hochreiter 1991",
        prose=(
            r"The error flowing back from unit $u$ at time $t$ to unit $v$ at time $t-q$ is "
            r"scaled by eq. (1). Unrolled, it is the matrix product $S(q)$ with "
            r"$S[v,u] = \partial\vartheta_v(t-q)/\partial\vartheta_u(t)$, and the sum over the "
            r"$n^{q-1}$ paths $l_0 = u, \dots, l_q = v$."
        ),
        steps=[
            Step(
                "eq. (1), q = 1",
                partial(ErrorSignal(v, t - 1), ErrorSignal(u, t)),
                Slope(v, t - 1) * weight("u", "v"),
                text="d vartheta_v(t-1)/d vartheta_u(t) = f'_v(net_v(t-1)) w_uv",
            ),
            Step(
                "eq. (1), q > 1",
                lhs,
                rf"{latex(Slope(v, t - q))} \sum_{{l=1}}^{{n}} "
                rf"{partial(ErrorSignal(l, t - q + 1), ErrorSignal(u, t))}\, w_{{lv}}",
                text="f'_v(net_v(t-q)) sum_l [d vartheta_l(t-q+1)/d vartheta_u(t)] w_lv",
            ),
            Step(
                "S(q) (b)",
                "S(q)",
                r"F'(t-q)\,W^T\,F'(t-q+1)\,W^T \cdots F'(t-1)\,W^T",
                text="S(q) = F'(t-q) W^T F'(t-q+1) W^T ... F'(t-1) W^T",
            ),
            Step(
                "one step",
                "S(m)",
                r"F'(t-m)\,W^T\,S(m-1), \quad S(0) = I",
                text="S(m) = F'(t-m) W^T S(m-1), S(0) = I",
            ),
            Step(
                "paths (c)",
                lhs,
                r"\sum_{l_1=1}^{n}\cdots\sum_{l_{q-1}=1}^{n}\ \prod_{m=1}^{q} "
                r"f'_{l_m}(net_{l_m}(t-m))\, w_{l_{m-1} l_m}",
                text="sum over l_1..l_{q-1} of prod_m f'_{l_m}(net_{l_m}(t-m)) w_{l_{m-1} l_m}",
            ),
        ],
        proofs=[merged],
    )


def _section_b4() -> Section:
    v, u, q = sp.symbols("v u q")
    printed_q1 = eq2_as_printed(1, 2, 1, 2)
    eq1_q1 = eq1_recursion(1, 2, 1, 2)
    # A concrete W: the only weight is w_12 (from unit 2 to unit 1).
    concrete = {weight(1, 1): 0, weight(1, 2): 1, weight(2, 1): 0, weight(2, 2): 0}
    counter = (printed_q1 - eq1_q1).xreplace(concrete)
    differs = Proof(
        "B4",
        rf"eq. (2) as printed differs from eq. (1): at $n = 2$, $q = 1$, $v = 1$, $u = 2$ it gives "
        rf"${latex(printed_q1)}$ against ${latex(eq1_q1)}$; with $w_{{12}} = 1$ and all other "
        rf"weights 0 the difference is ${latex(counter)} \ne 0$",
        "concrete symbolic counterexample",
        counter != 0 and not is_zero(counter),
    )
    q2 = [
        not is_zero(eq2_as_printed(vv, uu, 2, 3) - eq1_recursion(vv, uu, 2, 3))
        for vv in (1, 2, 3)
        for uu in (1, 2, 3)
        if vv != uu
    ]
    differs_q2 = Proof(
        "B4",
        r"as printed, eq. (2) differs from eq. (1) for every $v \ne u$ at $n = 3$, $q = 2$ "
        "(general W)",
        "expand(lhs - rhs) != 0",
        all(q2),
    )
    corrected = []
    transposed = []
    for k in (2, 3):
        for qq in (1, 2, 3):
            Wt = {weight(i, j): weight(j, i) for i in range(1, k + 1) for j in range(1, k + 1)}
            for vv in range(1, k + 1):
                for uu in range(1, k + 1):
                    ref = eq1_recursion(vv, uu, qq, k)
                    corrected.append(is_zero(path_sum(vv, uu, qq, k) - ref))
                    transposed.append(is_zero(eq2_as_printed(vv, uu, qq, k) - ref.xreplace(Wt)))
    return Section(
        claims=("B4",),
        title="erratum in eq. (2): the weight index order",
        paper_ref="section 3.1, eq. (2)",
        prose=(
            r"The paper prints the path product with $w_{l_m l_{m-1}}$. Under its own convention "
            r"($w_{ij}$ is the weight from $j$ to $i$) that form is eq. (1) for the transposed "
            r"matrix, so it disagrees with eq. (1) in general: at $q = 1$ whenever $W$ is not "
            r"symmetric, and for $q > 1$ unless the products happen to coincide (linear units "
            r"with $W^2 = (W^T)^2$, say). The corrected form uses "
            r"$w_{l_{m-1} l_m}$ and agrees with eq. (1) and with the matrix product."
        ),
        steps=[
            Step(
                "eq. (2) as printed",
                partial(ErrorSignal(v, t - q), ErrorSignal(u, t)),
                r"\sum_{l_1}\cdots\sum_{l_{q-1}} \prod_{m=1}^{q} f'_{l_m}(net_{l_m}(t-m))\, "
                r"w_{l_m l_{m-1}}",
                rel="!=",
                text="as printed: sum prod f'_{l_m} w_{l_m l_{m-1}}  (differs from eq. (1))",
            ),
            Step(
                "printed, q = 1",
                partial(ErrorSignal(v, t - 1), ErrorSignal(u, t)),
                r"f'_v(net_v(t-1))\, w_{vu} \quad\text{(eq. (1) gives } f'_v(net_v(t-1))\, w_{uv})",
                rel="!=",
                text="printed at q = 1: f'_v w_vu, but eq. (1): f'_v w_uv",
            ),
            Step(
                "corrected eq. (2)",
                partial(ErrorSignal(v, t - q), ErrorSignal(u, t)),
                r"\sum_{l_1}\cdots\sum_{l_{q-1}} \prod_{m=1}^{q} f'_{l_m}(net_{l_m}(t-m))\, "
                r"w_{l_{m-1} l_m}",
                text="corrected: sum prod f'_{l_m} w_{l_{m-1} l_m}",
            ),
        ],
        proofs=[
            differs,
            differs_q2,
            Proof(
                "B4",
                r"the corrected form equals eq. (1) for $n \in \{2, 3\}$, $q \le 3$",
                "expand(lhs - rhs) = 0",
                all(corrected),
            ),
            Proof(
                "B4",
                r"the printed form is eq. (1) with $W$ replaced by $W^T$ "
                r"($n \in \{2, 3\}$, $q \le 3$)",
                "expand(lhs - rhs) = 0",
                all(transposed),
            ),
        ],
    )


def _section_b5_b6_b8() -> Section:
    w, q = sp.symbols("w q", real=True)
    qi = sp.Symbol("q", integer=True, positive=True)
    Sq = sp.Function("S")
    closed = sp.rsolve(Sq(qi) - w * Sq(qi - 1), Sq(qi), {Sq(1): w})
    r, s_ = sp.symbols("r s", positive=True)
    # A rotation by angle phi, rationally parametrised by s = tan(phi/2).
    c_, si = (1 - s_**2) / (1 + s_**2), 2 * s_ / (1 + s_**2)
    Q = sp.Matrix([[c_, -si], [si, c_]])
    ones = sp.Matrix([1, 1])
    ortho = []
    S = sp.eye(2)
    for qq in range(1, 5):
        S = _explicit(SCALING_STEP, 2, {W: r * Q, S_prev: S, fp: ones})
        ortho.append(all(sp.cancel(e) == 0 for e in S.T * S - r ** (2 * qq) * sp.eye(2)))
    A = sp.MatrixSymbol("A", n, n)
    Qs = sp.MatrixSymbol("Q", n, n)
    induction = (
        (Qs.T * A).T * (Qs.T * A)
    ).doit()  # = A^T Q Q^T A, equals I when Q Q^T = I and A^T A = I
    induction_ok = induction == A.T * Qs * Qs.T * A
    rho = sp.Symbol("rho", positive=True)
    a_ = sp.Symbol("a", positive=True)
    vanish = sp.limit((1 / (1 + a_)) ** qi, qi, sp.oo) == 0
    explode = sp.limit((1 + a_) ** qi, qi, sp.oo) == sp.oo
    fmax = SQUASHING["logistic"].sup
    return Section(
        claims=("B5", "B6", "B8"),
        title="explosion, vanishing and the global error flow",
        paper_ref="section 3.1, intuitive explanation of eq. (2)",
        prose=(
            r"Each path contributes a product of $q$ factors $f'_{l_m}(net_{l_m}(t-m))\, "
            r"w_{l_{m-1} l_m}$. If every factor exceeds 1 in absolute value the product grows "
            r"like $\rho^q$ with $\rho > 1$ (B5, e.g. linear units with $|w| > 1$); if every "
            r"factor is below $\rho < 1$ it shrinks like $\rho^q$ (B6). For logistic units "
            r"$|f' w| \le |w|/4$ (A1), so $|w| < 4$ makes every factor smaller than 1. Summing "
            r"over the $K$ output units $u$ (B8) multiplies the bound by $K$ only, so the global "
            r"flow vanishes under the same conditions."
        ),
        steps=[
            Step(
                "B5, one linear unit",
                "S(q)",
                "w\\,S(q-1) = " + latex(closed),
                text=f"S(q) = w S(q-1) = {closed}",
            ),
            Step(
                "B5, W = rQ",
                r"\|S(q)\|_2",
                r"\|r^q (Q^T)^q\|_2 = r^q",
                text="||S(q)||_2 = ||r^q (Q^T)^q||_2 = r^q (Q orthogonal, linear units)",
            ),
            Step(
                "B6, logistic",
                r"|f'(net)\, w|",
                rf"{latex(fmax)}\,|w| < 1 \quad\text{{for }} |w| < 4",
                rel="<=",
                text="|f'(net) w| <= |w|/4 < 1 for |w| < 4",
            ),
            Step(
                "B6, a path",
                r"\Bigl|\prod_{m=1}^{q} f'_{l_m} w_{l_{m-1} l_m}\Bigr|",
                rf"{latex(rho)}^q \to 0 \quad (\rho < 1)",
                rel="<=",
                text="|prod f' w| <= rho^q -> 0 for rho < 1",
            ),
            Step(
                "B8",
                r"\Bigl|\sum_{u\ \mathrm{output}} "
                + partial(ErrorSignal(sp.Symbol("v"), t - q), ErrorSignal(sp.Symbol("u"), t))
                + r"\Bigr|",
                r"K\, n\, (f'_{max} \|W\|_A)^q \to 0",
                rel="<=",
                text="|sum over outputs u of S[v, u]| <= K n (f'max ||W||_A)^q -> 0",
            ),
        ],
        proofs=[
            Proof(
                "B5",
                "a self-connected linear unit scales error by $w^q$",
                "rsolve of $S(q) = w S(q-1)$, $S(1) = w$",
                sp.simplify(closed - w**qi) == 0,
            ),
            Proof(
                "B5",
                r"$S(q)^T S(q) = r^{2q} I$ for linear units with $W = rQ$ ($Q$ a rotation, "
                r"$q \le 4$), so $\|S(q)\|_2 = r^q$",
                "iterating the generated step expression; cancel(lhs - rhs) = 0",
                all(ortho),
            ),
            Proof(
                "B5",
                r"induction step: $(Q^T A)^T (Q^T A) = A^T Q Q^T A$, the identity when $A$ and "
                r"$Q$ are orthogonal",
                "matrix-expression algebra",
                induction_ok,
            ),
            Proof(
                "B5, B6",
                r"$(1+a)^q \to \infty$ and $(1+a)^{-q} \to 0$ for every $a > 0$",
                "limit",
                vanish and explode,
            ),
            Proof(
                "B6",
                r"$\max_{net} f'(net)\,|w| = |w|/4$ for the logistic $f$, so $|w| < 4$ makes "
                r"every factor $< 1$",
                "sympy.calculus.util.maximum over the reals",
                maximum(SQUASHING["logistic"].df, _x, sp.S.Reals) == fmax,
            ),
            Proof(
                "B8",
                r"$K\,n\,\rho^q \to 0$ for $\rho = (1+a)^{-1} < 1$: summing over $K$ output "
                r"units keeps the decay",
                "limit",
                sp.limit(sp.Symbol("K", positive=True) * n * (1 / (1 + a_)) ** qi, qi, sp.oo) == 0,
            ),
        ],
    )


def _section_b7() -> Section:
    w, y, c = sp.symbols("w y c", real=True)
    net = w * y + c
    sigma = SQUASHING["logistic"]
    slope = sigma.identity_rhs.subs(_x, net)
    factor = slope * w
    dfactor = sp.diff(factor, w)
    claimed = slope * (1 - w * y * sp.tanh(net / 2))
    stationary = prove_equal(
        "B7",
        r"$\frac{d}{dw}[f'(wy+c)\,w] = f'(net)\,(1 - w\,y\tanh(net/2))$",
        dfactor.rewrite(sp.exp),
        claimed.rewrite(sp.exp),
    )
    coth_form = prove_equal(
        "B7",
        r"$w\,y\tanh(net/2) = 1 \iff w = \coth(net/2)/y$",
        (sp.coth(net / 2) / y * y * sp.tanh(net / 2)).rewrite(sp.exp),
        sp.Integer(1),
    )
    opt = b7_optimum()
    yp = sp.Symbol("y", positive=True)
    wp = sp.Symbol("w", positive=True)
    to_zero = sp.limit(sigma.identity_rhs.subs(_x, wp * yp) * wp, wp, sp.oo) == 0
    net_s = sp.Symbol("net", positive=True)
    second = sp.diff(sigma.identity_rhs.subs(_x, net_s) * net_s, net_s, 2).subs(net_s, opt.net_star)
    is_max = bool(second < 0)
    check = abs(opt.net_star * sp.tanh(opt.net_star / 2) - 1) < sp.Float("1e-28")
    return Section(
        claims=("B7",),
        title="the largest logistic factor: the coth optimum",
        paper_ref="section 3.1, the paper's $w = \\coth(net/2)/y$",
        prose=(
            r"Fix $y = y^{l_{m-1}} \ne 0$ and write $net = w\,y + c$ with $c$ independent of $w$. "
            r"The factor $|f'(net)\,w|$ is stationary where $w\,y\tanh(net/2) = 1$, i.e. the "
            r"paper's $w = \coth(net/2)/y$, which is implicit because $net$ depends on $w$. With "
            r"$c = 0$ the optimum solves $net\,\tanh(net/2) = 1$. So ``$< 1$ for $|w| < 4$'' is "
            r"sufficient, not necessary: the factor can exceed 1 only when $|y|$ is below the "
            r"peak value, and the maximising $|w|$ is then above the threshold."
        ),
        steps=[
            Step("factor", r"\phi(w)", factor, text="phi(w) = f'(w y + c) w"),
            Step(
                "derivative",
                r"\phi'(w)",
                r"f'(net)\,\bigl(1 - w\,y\,\tanh(net/2)\bigr)",
                text="phi'(w) = f'(net) (1 - w y tanh(net/2))",
            ),
            Step(
                "coth form",
                r"w",
                r"\frac{1}{y}\coth\Bigl(\frac{net}{2}\Bigr)",
                text="w = coth(net/2)/y (implicit in w)",
            ),
            Step(
                "c = 0",
                r"net^*\tanh(net^*/2)",
                "1",
                text="net* tanh(net*/2) = 1",
            ),
            Step("optimum", r"net^*", sp.Float(opt.net_star, 30), text=f"net* = {opt.net_star}"),
            Step(
                "peak",
                r"\max_w |f'(net)\,w|",
                rf"\frac{{f'(net^*)\,net^*}}{{|y|}} = \frac{{{sp.Float(opt.peak, 30)}}}{{|y|}}",
                text=f"max_w |f'(net) w| = {opt.peak}/|y|",
            ),
            Step(
                "threshold",
                r"|w^*|",
                rf"\frac{{net^*}}{{|y|}} > {sp.Float(opt.w_threshold, 12)} "
                rf"\quad\text{{when the peak exceeds 1, i.e. }} |y| < {sp.Float(opt.peak, 7)}",
                note=(
                    r"Any factor above 1 also needs $|w| > 4$, since $|f'(net)\,w| \le |w|/4$; "
                    r"the optimal $w^* = net^*/y$ is then larger still."
                ),
                text=(
                    f"peak > 1 needs |y| < {opt.peak:.7f}, and then |w*| = net*/|y| > "
                    f"{opt.w_threshold:.7f}; any factor > 1 needs |w| > 4"
                ),
            ),
        ],
        proofs=[
            stationary,
            coth_form,
            Proof(
                "B7",
                rf"$net^* = {sp.Float(opt.net_star, 20)}\ldots$ solves $net\tanh(net/2) = 1$ "
                r"to 28 digits and is a maximum",
                "nsolve at 35 digits; second derivative < 0",
                bool(check) and is_max,
            ),
            Proof(
                "B7",
                r"$f'(wy)\,w \to 0$ as $w \to \infty$",
                "limit",
                to_zero,
            ),
        ],
    )


def _section_b9() -> Section:
    nn, q, wmax = sp.symbols("n q w_max", positive=True)
    tau = nn * wmax / 4
    spec = prove_equal(
        "B9",
        r"with the max-row-sum norm, $f'_{max} = 1/4$ and $\|W\|_A \le n\,w_{max}$: "
        r"$n (f'_{max} \|W\|_A)^q \le n\,\tau^q$, $\tau = n\,w_{max}/4$",
        nn * (sp.Rational(1, 4) * nn * wmax) ** q,
        nn * tau**q,
    )
    return Section(
        claims=("B9",),
        title="a weak upper bound in matrix norms",
        paper_ref="section 3.1, the weak upper bound for the scaling factor",
        prose=(
            r"With a matrix norm $\|\cdot\|_A$ compatible with the vector norm $\|\cdot\|_x$, "
            r"$f'_{max} := \max_m \|F'(t-m)\|_A$, $W_v$ column $v$ and $W_{u^T}$ row $u$ of $W$, "
            r"and $|x^T y| \le n\,\|x\|_x \|y\|_x$ when $\max_i |x_i| \le \|x\|_x$, the "
            r"matrix form "
            r"of the scaling factor ($q > 1$) is bounded as follows. It is an extreme-case bound: "
            r"it is reached only when every slope is maximal and every path has the same sign."
        ),
        steps=[
            Step(
                "matrix form",
                partial(ErrorSignal(sp.Symbol("v"), t - q), ErrorSignal(sp.Symbol("u"), t)),
                r"(W_{u^T})^T F'(t-1) \prod_{m=2}^{q-1}\bigl(W F'(t-m)\bigr)\, "
                r"W_v\, f'_v(net_v(t-q))",
                text="(W_u^T)^T F'(t-1) prod_{m=2}^{q-1} (W F'(t-m)) W_v f'_v(net_v(t-q))",
            ),
            Step(
                "bound",
                r"\Bigl|"
                + partial(ErrorSignal(sp.Symbol("v"), t - q), ErrorSignal(sp.Symbol("u"), t))
                + r"\Bigr|",
                r"n\,(f'_{max})^q\, \|W_v\|_x\, \|W_{u^T}\|_x\, \|W\|_A^{q-2}",
                rel="<=",
                text="|S[v,u]| <= n f'max^q ||W_v||_x ||W_u^T||_x ||W||_A^(q-2)",
            ),
            Step(
                "weaker",
                r"\cdots",
                r"n\,\bigl(f'_{max} \|W\|_A\bigr)^q",
                rel="<=",
                text="... <= n (f'max ||W||_A)^q   (||W_v||_x, ||W_u^T||_x <= ||W||_A)",
            ),
            Step(
                "max-row-sum",
                r"\|W\|_A = \max_r \sum_s |w_{rs}|",
                r"n\,w_{max} < 4 \quad\text{if } |w_{ij}| \le w_{max} < 4/n",
                rel="<=",
                text="||W||_A = max row sum <= n w_max < 4 if |w_ij| <= w_max < 4/n",
            ),
            Step(
                "tau",
                r"\Bigl|"
                + partial(ErrorSignal(sp.Symbol("v"), t - q), ErrorSignal(sp.Symbol("u"), t))
                + r"\Bigr|",
                r"n\,\tau^q, \quad \tau = \frac{n\,w_{max}}{4} < 1",
                rel="<=",
                text="|S[v,u]| <= n tau^q, tau = n w_max / 4 < 1",
            ),
        ],
        proofs=[spec],
    )


def _section_b10() -> Section:
    a = sp.symbols("a_1:4", real=True)
    s = sp.symbols("s_1:4", positive=True)
    M = sp.Symbol("M", real=True)
    lse = M + sp.log(sum(si * sp.exp(ai - M) for si, ai in zip(s, a, strict=True)))
    direct = sp.log(sum(si * sp.exp(ai) for si, ai in zip(s, a, strict=True)))
    shift = is_zero(sp.expand_log(sp.exp(lse) - sp.exp(direct), force=True).rewrite(sp.exp))
    e = sp.Symbol("e", integer=True)
    mant = sp.Symbol("m", positive=True)
    scaled = is_zero(sp.log(mant * 2**e) - (sp.log(mant) + e * sp.log(2)))
    return Section(
        claims=("B10",),
        title="long lags without underflow: the scaling factor in log space",
        paper_ref="section 3.1 (numerical consequence of eq. (1))",
        prose=(
            r"For logistic units $|S(q)|$ falls like $0.25^q$ or faster and leaves float64 near "
            r"$q = 512$. errorflow carries every column $u$ of $S$ as a mantissa and a power of "
            r"two (rescaling by a power of two is exact), takes $f'$ from its log-slope where the "
            r"slope itself is below the smallest float64, and returns the sign and "
            r"$\log|S[v,u]|$, as \texttt{numpy.linalg.slogdet} does. Where one column spans more "
            r"than float64's range, every entry carries its own mantissa and exponent: the terms "
            r"of each sum are aligned on their largest exponent by exact power-of-two shifts. "
            r"Only for slopes beyond $e^{\pm 2^{52}}$ (where integer exponents stop being exact) "
            r"is the signed log-sum-exp recursion used."
        ),
        steps=[
            Step(
                "column scaling",
                r"S(m)_{:,u}",
                r"2^{e_u(m)}\, M(m)_{:,u}, \quad \max_v |M(m)_{vu}| \in [\tfrac12, 1)",
                text="S(m)[:, u] = 2^e_u(m) M(m)[:, u], max_v |M[v, u]| in [1/2, 1)",
            ),
            Step(
                "log magnitude",
                r"\log|S(q)_{vu}|",
                r"\log|M(q)_{vu}| + e_u(q) \log 2",
                text="log|S[v,u]| = log|M[v,u]| + e_u log 2",
            ),
            Step(
                "entry-wise exponents",
                r"S(m)_{vu}",
                r"f'_v(net_v(t-m)) \, 2^{E_{vu}} \sum_l w_{lv}\, M_{lu}\, 2^{e_{lu} - E_{vu}}, "
                r"\quad E_{vu} = \max_{l:\, w_{lv} M_{lu} \ne 0} e_{lu}",
                text="S(m)[v,u] = f'_v 2^E sum_l w_lv M[l,u] 2^(e[l,u] - E), E = max e[l,u]",
            ),
            Step(
                "signed log-sum-exp",
                r"\log\Bigl|\sum_l s_l e^{a_l}\Bigr|",
                r"A + \log\Bigl|\sum_l s_l e^{a_l - A}\Bigr|, \quad A = \max_l a_l",
                text="log|sum_l s_l e^a_l| = A + log|sum_l s_l e^(a_l - A)|, A = max a_l",
            ),
            Step(
                "log-space step",
                r"\log|S(m)_{vu}|",
                r"\log f'_v(net_v(t-m)) + \log\Bigl|\sum_l w_{lv}\, S(m-1)_{lu}\Bigr|",
                text="log|S(m)[v,u]| = log f'_v(net_v(t-m)) + log|sum_l w_lv S(m-1)[l,u]|",
            ),
        ],
        proofs=[
            Proof("B10", "the shift identity of log-sum-exp", "simplify(lhs - rhs) = 0", shift),
            Proof(
                "B10",
                r"$\log(m\,2^e) = \log m + e\log 2$ (power-of-two rescaling is exact)",
                "simplify(lhs - rhs) = 0",
                scaled,
            ),
        ],
    )


@cache
def derivation() -> Derivation:
    """The conventional-BPTT derivation (B1-B10), every proof evaluated."""
    return Derivation(
        name="bptt",
        title="Conventional BPTT: exponentially decaying error",
        source="Hochreiter \\& Schmidhuber (1997), section 3.1, eqs. (1)-(2); SPEC B1-B10",
        notation=(
            r"Non-input units $1..n$; $w_{ij}$ is the weight from unit $j$ to unit $i$, "
            r"$[W]_{ij} = w_{ij}$; $net_i(t) = \sum_j w_{ij} y^j(t-1)$ (plus external input), "
            r"$y^i(t) = f_i(net_i(t))$; $F'(t-m)$ is diagonal with "
            r"$[F'(t-m)]_{ii} = f'_i(net_i(t-m))$; $\vartheta$ is a back-propagated error signal."
        ),
        sections=[
            _section_b1_b2(),
            _section_b3(),
            _section_b4(),
            _section_b5_b6_b8(),
            _section_b7(),
            _section_b9(),
            _section_b10(),
        ],
    )


LOOPS_DOC = """The scaling-factor step of conventional BPTT (SPEC B3, eq. 1) printed as explicit
loops from the same matrix expression as errorflow.numeric._generated.bptt.scaling_step, and the
column-scaled chain around it (column_chain, codegen's driver template: exact power-of-two
rescaling per column, SPEC B10), for the numba backend of
errorflow.numeric.rnn.log_scaling_factor (errorflow.numeric.backends); as plain Python the
functions give the same results, slowly."""


#: Drivers codegen appends to ``bptt_loops.py`` (``errorflow.codegen.loops.DRIVERS``): the
#: column-scaled chain of ``log_scaling_factor`` around the printed ``scaling_step``.
LOOP_DRIVERS = ("column_chain",)


def loop_specs() -> list[KernelSpec]:
    """The kernels printed as loops too: ``scaling_step`` (B3), the inner step of the
    column-scaled chain of :func:`errorflow.numeric.rnn.log_scaling_factor`."""
    return [s for s in kernel_specs() if s.name == "scaling_step"]


def kernel_specs() -> list[KernelSpec]:
    """The BPTT step kernels codegen prints (B1-B3)."""
    d, yv, fpe = sp.symbols("d y fp", real=True)
    return [
        KernelSpec(
            name="output_error",
            summary=(
                "Output-unit error signal vartheta_k(t) = f'_k(net_k(t)) (d_k(t) - y^k(t)) (B1)."
            ),
            math=sp.sstr(fpe * (d - yv)),
            claims=("B1",),
            args=(
                KernelArg("fp", "slopes f'_k(net_k(t)), any shape"),
                KernelArg("d", "targets d_k(t), same shape"),
                KernelArg("y", "activations y^k(t), same shape"),
            ),
            symbols=(fpe, d, yv),
            outputs=(fpe * (d - yv),),
        ),
        KernelSpec(
            name="net_step",
            summary="Net input of every unit, net(t) = W y(t-1) + x(t).",
            math=sp.sstr(NET_STEP),
            claims=("B2",),
            args=(
                KernelArg("W", "(n, n) weights, W[i, j] from unit j to unit i"),
                KernelArg("y_prev", "(n,) activations y(t-1)"),
                KernelArg("x", "(n,) external input added to the net inputs at t"),
            ),
            symbols=(W, y_prev, x_in),
            outputs=(NET_STEP,),
            kind="matrix",
        ),
        KernelSpec(
            name="error_step",
            summary=(
                "Back-propagated error signals vartheta(t) = F'(t) (e(t) + W^T vartheta(t+1)) (B2)."
            ),
            math=sp.sstr(ERROR_STEP),
            claims=("B1", "B2"),
            args=(
                KernelArg("fp", "(n,) slopes f'_j(net_j(t))"),
                KernelArg("e", "(n,) injected error d_k(t) - y^k(t) at output units, 0 elsewhere"),
                KernelArg("W", "(n, n) weights"),
                KernelArg("theta_next", "(n,) error signals vartheta(t+1)"),
            ),
            symbols=(fp, injected, W, theta_next),
            outputs=(ERROR_STEP,),
            kind="matrix",
        ),
        KernelSpec(
            name="scaling_step",
            summary=(
                "One step of Hochreiter's scaling factor, S(m) = F'(t-m) W^T S(m-1) (B3, eq. 1)."
            ),
            math=sp.sstr(SCALING_STEP),
            claims=("B3",),
            args=(
                KernelArg("fp", "(n,) slopes f'_v(net_v(t-m))"),
                KernelArg("W", "(n, n) weights"),
                KernelArg("S", "(n, k) S(m-1), S[v, u] = d vartheta_v(t-m+1)/d vartheta_u(t)"),
            ),
            symbols=(fp, W, S_prev),
            outputs=(SCALING_STEP,),
            kind="matrix",
        ),
    ]
