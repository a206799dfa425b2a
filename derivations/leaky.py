r"""Time constants: leaky units (Mozer 1992) and Sun et al.'s additive update (SPEC S5).

Paper §2 (previous work, "time constants"): Mozer (1992) uses time constants influencing changes
of unit activations, which need external fine tuning for long lags; Sun, Chen & Lee (1993)
update the activation of a recurrent unit by adding the old activation and the (scaled) current
net input, and the net input tends to perturb the stored information. (§2 is not transcribed in
PAPER.md; the two sentences are the paper's description as errorflow states it.) §3.2 compares
its constant-flow condition ``f'_j w_jj = 1`` with Mozer's fixed time constants.

Leaky unit (one unit, self-weight ``w``; vector form: per-unit ``tau_i >= 1``, ``W[i, j] = w_ij``)::

    net(t) = w y(t-1) + x(t),    y(t) = (1 - 1/tau) y(t-1) + (1/tau) f(net(t))

Differentiating the unrolled unit, error on the activation flows back one step with the factor
``(1 - 1/tau) + (1/tau) f'(net(t)) w`` = ``1 - (1 - f' w)/tau``; in vector form the error on the
activations obeys ``vartheta(t-1) = J(t)^T vartheta(t)`` with
``J(t)^T = A + W^T F'(t) B``, ``A = diag(1 - 1/tau_i)``, ``B = diag(1/tau_i)``. The q-step
factor is the product of q such factors. It is 1 for every step iff ``f' w = 1`` (C1's
condition) or in the limit ``tau -> infinity``, where the update becomes ``y(t) = y(t-1)`` and the
input's influence ``f'/tau`` vanishes: the unit can no longer store anything new. Otherwise
``|factor| < 1`` iff ``1 - 2 tau < f' w < 1`` (decay, with time constant about ``tau / (1 - f' w)``
steps) and ``|factor| > 1`` outside (explosion).

Sun et al.'s additive unit, in the form errorflow uses::

    y(t) = y(t-1) + f(net(t)),   net(t) = w y(t-1) + x(t);  the paper's "scaled net input":
    f(net) = lambda net

back-propagates with ``1 + f'(net) w`` (``1 + lambda w``): constant only when ``f' w = 0``, i.e.
no recurrent contribution through the net input. With ``w = 0`` it is a CEC whose every input
is added to the stored value: ``y(t) = y(t-q) + lambda sum x``.

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.calculus.util import maximum

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero, prove_equal
from .squashing import SQUASHING
from .squashing import x as _sq_x

__all__ = [
    "ADDITIVE_FACTOR",
    "GENERATED_DOC",
    "LEAKY_FACTOR",
    "LEAKY_STEP",
    "LEAKY_UPDATE",
    "derivation",
    "kernel_specs",
    "unrolled_unit",
]

# ---------------------------------------------------------------------------------------
# Scalar symbols (one unit) and the general matrix expressions printed by codegen.
# ---------------------------------------------------------------------------------------
tau = sp.Symbol("tau", positive=True)
w = sp.Symbol("w", real=True)
fp = sp.Symbol("fp", real=True)
lam = sp.Symbol("lambda", real=True, nonzero=True)
p = sp.Symbol("p", real=True)  # p = f'(net) w

#: S5: one step of the leaky unit's error flow, ``(1 - 1/tau) + (1/tau) f'(net) w``.
LEAKY_FACTOR = (1 - 1 / tau) + fp * w / tau
#: S5: one step of Sun et al.'s additive unit, ``1 + f'(net) w``.
ADDITIVE_FACTOR = 1 + fp * w

n = sp.Symbol("n", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
_W = sp.MatrixSymbol("W", n, n)
_S = sp.MatrixSymbol("S", n, k)
_a = sp.MatrixSymbol("a", n, 1)  # 1 - 1/tau_i
_b = sp.MatrixSymbol("b", n, 1)  # 1/tau_i
_fp = sp.MatrixSymbol("fp", n, 1)
_y_prev = sp.MatrixSymbol("y_prev", n, 1)
_fnet = sp.MatrixSymbol("f_net", n, 1)

#: S5 matrix form: ``S(m) = (A + W^T F'(t-m+1) B) S(m-1)``, the transposed Jacobian of one step.
LEAKY_STEP = sp.MatAdd(
    sp.DiagMatrix(_a) * _S,
    sp.MatMul(
        _W.T,
        sp.MatMul(sp.DiagMatrix(_b), sp.MatMul(sp.DiagMatrix(_fp), _S), evaluate=False),
        evaluate=False,
    ),
    evaluate=False,
)
#: S5 forward: ``y(t) = a * y(t-1) + b * f(net(t))`` entrywise (``a = 1 - 1/tau``, ``b = 1/tau``).
LEAKY_UPDATE = sp.HadamardProduct(_a, _y_prev) + sp.HadamardProduct(_b, _fnet)

GENERATED_DOC = """Kernels of leaky (time-constant) units and Sun et al.'s additive unit (SPEC S5),
printed from errorflow.derivations.leaky. Vectors are 1-D arrays of length n, W is (n, n) with
W[i, j] the weight from unit j to unit i; a = 1 - 1/tau and b = 1/tau per unit."""

_f = sp.Function("f")
_x = sp.Symbol("x", real=True)


def unrolled_unit(q: int, additive: bool = False) -> tuple[sp.Symbol, list[sp.Symbol], sp.Expr]:
    """``(y0, xs, y(q))``: the scalar unit unrolled over q steps from ``y(0) = y0`` (any f)."""
    y0 = sp.Symbol("y_0", real=True)
    xs = list(sp.symbols(f"x_1:{q + 1}", real=True))
    y = y0
    for s in range(q):
        net = w * y + xs[s]
        y = y + _f(net) if additive else (1 - 1 / tau) * y + _f(net) / tau
    return y0, xs, y


def _slope_at(expr: sp.Expr) -> sp.Expr:
    return sp.diff(_f(_x), _x).subs(_x, expr)


def _nets(y0: sp.Symbol, xs: list[sp.Symbol], additive: bool) -> list[sp.Expr]:
    """``net(1..q)`` of the unrolled unit (what each step's slope is evaluated at)."""
    out, y = [], y0
    for x in xs:
        net = w * y + x
        out.append(net)
        y = y + _f(net) if additive else (1 - 1 / tau) * y + _f(net) / tau
    return out


def _product_proof(additive: bool) -> Proof:
    """``dy(q)/dy(0) = prod_s factor(net(s))`` by differentiating the unrolled unit, q <= 3."""
    ok = True
    for q in (1, 2, 3):
        y0, xs, yq = unrolled_unit(q, additive)
        nets = _nets(y0, xs, additive)
        step = ADDITIVE_FACTOR if additive else LEAKY_FACTOR
        claimed = sp.Mul(*(step.subs(fp, _slope_at(net)) for net in nets))
        ok = ok and is_zero(sp.diff(yq, y0) - claimed)
    if additive:
        what = r"$\partial y(t)/\partial y(t-q) = \prod_{s} (1 + f'(net(s))\,w)$"
    else:
        what = (
            r"$\partial y(t)/\partial y(t-q) = \prod_{s} ((1 - 1/\tau) + "
            r"(1/\tau) f'(net(s))\,w)$"
        )
    return Proof(
        "S5",
        what + r", $s = t-q+1..t$, for any differentiable $f$ ($q \le 3$)",
        "sympy.diff of the unrolled unit, simplify(lhs - rhs) = 0",
        ok,
    )


def _matrix_proof() -> Proof:
    """The kernel expression LEAKY_STEP with S = I is the transposed Jacobian, n = 2."""
    m = 2
    taus = sp.symbols("tau_1:3", positive=True)
    Wm = sp.Matrix(m, m, lambda i, j: sp.Symbol(f"w_{{{i + 1}{j + 1}}}", real=True))
    ys = sp.Matrix(sp.symbols("y_1:3", real=True))
    xs = sp.Matrix(sp.symbols("x_1:3", real=True))
    nets = Wm * ys + xs
    fs = [sp.Function(f"f_{i + 1}") for i in range(m)]
    new = sp.Matrix([(1 - 1 / taus[i]) * ys[i] + fs[i](nets[i]) / taus[i] for i in range(m)])
    jac = new.jacobian(ys)
    slopes = sp.Matrix([sp.diff(fs[i](_x), _x).subs(_x, nets[i]) for i in range(m)])
    values = {
        _a.subs(n, m): sp.Matrix([1 - 1 / tt for tt in taus]),
        _b.subs(n, m): sp.Matrix([1 / tt for tt in taus]),
        _fp.subs(n, m): slopes,
        _W.subs(n, m): Wm,
        _S.subs({n: m, k: m}): sp.eye(m),
    }
    kernel = sp.Matrix(LEAKY_STEP.subs({n: m, k: m}).as_explicit()).subs(
        {
            sp.MatrixSymbol(sym.name, *sym.shape)[i, j]: val[i, j]
            for sym, val in values.items()
            for i in range(val.rows)
            for j in range(val.cols)
        }
    )
    ok = all(is_zero(e) for e in (kernel - jac.T))
    return Proof(
        "S5",
        r"the generated step $A + W^T F'(t) B$ ($A = \mathrm{diag}(1 - 1/\tau_i)$, "
        r"$B = \mathrm{diag}(1/\tau_i)$) is $J(t)^T$, $J(t) = \partial y(t)/\partial y(t-1)$ of "
        r"the vector update with per-unit $\tau_i$ and $f_i$ ($n = 2$)",
        "sympy jacobian vs the kernel expression with explicit entries, entry by entry",
        ok,
    )


def _section_leaky() -> Section:
    factor = LEAKY_FACTOR.subs(fp, sp.Symbol("f'(net)"))
    rewrite = prove_equal(
        "S5",
        r"$(1 - 1/\tau) + (1/\tau)\,p = 1 - (1 - p)/\tau$ with $p = f'(net)\,w$",
        LEAKY_FACTOR.subs(fp * w, p).subs(fp, p / w),
        1 - (1 - p) / tau,
    )
    q = sp.Symbol("q", integer=True, nonnegative=True)
    G = sp.Function("G")
    closed = sp.rsolve(G(q + 1) - (1 - (1 - p) / tau) * G(q), G(q), {G(0): 1})
    closed_ok = Proof(
        "S5",
        r"with a constant $p = f'\,w$ the $q$-step factor is $(1 - (1-p)/\tau)^q$",
        r"rsolve of $G(q+1) = (1 - (1-p)/\tau)\,G(q)$, $G(0) = 1$",
        closed is not None and is_zero(closed - (1 - (1 - p) / tau) ** q),
    )
    return Section(
        claims=("S5",),
        title="leaky units: the error factor of a time constant",
        paper_ref="section 2 (time constants, Mozer 1992); section 3.2 compares with them",
        prose=(
            r"A leaky unit keeps a fraction $1 - 1/\tau$ of its old activation and takes $1/\tau$ "
            r"of its squashed net input ($\tau \ge 1$). Error on its activation flows back one "
            r"step with the factor below; in vector form the factor is the transposed Jacobian "
            r"$J(t)^T$ of one update, with a time constant $\tau_i$ per unit. For one unit it is "
            r"SPEC S5's $(1 - 1/\tau) + (1/\tau) f' w$; with a common $\tau$ it is "
            r"$(1-1/\tau) I + (1/\tau) W^T F'(t)$, which has the spectrum of "
            r"$(1-1/\tau) I + (1/\tau) F'(t) W^T$. Over $q$ steps the factors multiply."
        ),
        steps=[
            Step(
                "leaky update",
                "y(t)",
                r"\Bigl(1 - \frac{1}{\tau}\Bigr) y(t-1) + \frac{1}{\tau} f(net(t)), "
                r"\quad net(t) = w\, y(t-1) + x(t)",
                text="y(t) = (1 - 1/tau) y(t-1) + (1/tau) f(net(t)), net(t) = w y(t-1) + x(t)",
            ),
            Step(
                "one step",
                r"\frac{\partial y(t)}{\partial y(t-1)}",
                factor,
                text="dy(t)/dy(t-1) = (1 - 1/tau) + (1/tau) f'(net(t)) w",
            ),
            Step(
                "rewritten",
                r"\frac{\partial y(t)}{\partial y(t-1)}",
                r"1 - \frac{1 - p}{\tau}, \quad p = f'(net(t))\, w",
                text="dy(t)/dy(t-1) = 1 - (1 - p)/tau, p = f'(net(t)) w",
            ),
            Step(
                "matrix form",
                r"J(t)^T",
                r"A + W^T F'(t)\, B, \quad A = \mathrm{diag}(1 - 1/\tau_i),\ "
                r"B = \mathrm{diag}(1/\tau_i)",
                text="J(t)^T = A + W^T F'(t) B, A = diag(1 - 1/tau_i), B = diag(1/tau_i)",
            ),
            Step(
                "q steps",
                r"S(q)",
                r"J(t-q+1)^T \cdots J(t)^T, \quad S(m) = J(t-m+1)^T S(m-1),\ S(0) = I",
                note=r"$S[v,u] = \partial y^u(t)/\partial y^v(t-q)$: the error on $y^u(t)$ "
                r"reaching $y^v(t-q)$.",
                text="S(q) = J(t-q+1)^T ... J(t)^T, S(m) = J(t-m+1)^T S(m-1), S(0) = I",
            ),
            Step(
                "constant p",
                r"S(q)",
                r"\Bigl(1 - \frac{1-p}{\tau}\Bigr)^q",
                text="S(q) = (1 - (1 - p)/tau)^q for a constant p",
            ),
        ],
        proofs=[_product_proof(False), _matrix_proof(), rewrite, closed_ok],
    )


def _section_constant() -> Section:
    s = sp.Symbol("s", real=True)
    one_step = 1 - (1 - p) / tau
    roots = sp.solve(sp.Eq(one_step, 1), p)
    constant = Proof(
        "S5",
        r"for finite $\tau$ the factor is 1 iff $p = f'(net)\,w = 1$ (C1's condition)",
        r"solve $1 - (1-p)/\tau = 1$ for $p$",
        roots == [1],
    )
    limit = Proof(
        "S5",
        r"$\lim_{\tau\to\infty} (1 - (1-p)/\tau) = 1$ for every $p$",
        "sympy.limit",
        sp.limit(one_step, tau, sp.oo) == 1,
    )
    F, y = sp.symbols("F y", real=True)
    frozen_update = sp.limit((1 - 1 / tau) * y + F / tau, tau, sp.oo)
    y0, xs, y1 = unrolled_unit(1)
    sensitivity = sp.diff(y1, xs[0])  # f'(net(t)) / tau
    frozen = Proof(
        "S5",
        r"as $\tau\to\infty$ the update tends to $y(t) = y(t-1)$ and the input's influence "
        r"$\partial y(t)/\partial x(t) = f'(net(t))/\tau \to 0$ (bounded $f, f'$): the unit "
        r"can no longer take in new input",
        "sympy.limit of the update and of the input derivative",
        frozen_update == y
        and is_zero(sensitivity - _slope_at(w * y0 + xs[0]) / tau)
        and sp.limit(sp.Symbol("D", real=True) / tau, tau, sp.oo) == 0,
    )
    # |1 - s| < 1 iff 0 < s < 2, with s = (1 - p)/tau, i.e. 1 - 2 tau < p < 1.
    interval = sp.solveset(sp.Abs(1 - s) < 1, s, sp.S.Reals)
    decay = Proof(
        "S5",
        r"$|1 - (1-p)/\tau| < 1$ iff $0 < (1-p)/\tau < 2$, i.e. $1 - 2\tau < p < 1$ (decay); "
        r"$> 1$ iff $p > 1$ or $p < 1 - 2\tau$ (explosion)",
        r"solveset of $|1 - s| < 1$ over the reals, $s = (1-p)/\tau$",
        interval == sp.Interval.open(0, 2)
        and sp.solveset(sp.Abs(1 - s) > 1, s, sp.S.Reals)
        == sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(2, sp.oo)),
    )
    rate = sp.limit(tau * sp.log(one_step), tau, sp.oo)
    rate_ok = Proof(
        "S5",
        r"$\tau \log(1 - (1-p)/\tau) \to p - 1$ as $\tau \to \infty$: the error "
        r"decays by $e$ every $\approx \tau/(1-p)$ steps, so the lag a unit bridges grows only "
        r"in proportion to $\tau$ (Mozer's external fine tuning)",
        "sympy.limit",
        is_zero(rate - (p - 1)),
    )
    # Logistic units: sup f' = 1/4 (A1), so |p| <= |w|/4 < 1 for |w| < 4; and tau >= 1 puts
    # the lower end 1 - 2 tau at or below -1: the whole range of p lies inside the decay interval.
    sup_slope = maximum(SQUASHING["logistic"].identity_rhs, _sq_x, sp.S.Reals)
    extra = sp.Symbol("T", nonnegative=True)  # tau = 1 + T
    logistic = Proof(
        "S5",
        r"logistic units: $\sup f' = 1/4$, so $|w| < 4$ gives $|p| < 1$, and $\tau \ge 1$ gives "
        r"$1 - 2\tau \le -1$: every factor lies in $(1 - 2/\tau, 1)$ and the error decays",
        r"sympy maximum of $f'$ over the reals; sign of $(1 - 2\tau) + 1$ for $\tau = 1 + T$, "
        r"$T \ge 0$",
        sup_slope == sp.Rational(1, 4)
        and bool(((1 - 2 * (1 + extra)) + 1).is_nonpositive)
        and is_zero(sup_slope * 4 - 1),
    )
    return Section(
        claims=("S5",),
        title="when a leaky unit's error flow is constant, decays or explodes",
        paper_ref="section 2, time constants; section 3.2, constant error flow",
        prose=(
            r"The factor equals 1 at every step in two ways only: $f'(net)\,w = 1$, the naive "
            r"constant-flow condition of section 3.2 (C1), or $\tau \to \infty$, where the unit "
            r"keeps its activation and ignores its input, so it cannot learn to store anything "
            r"new. Otherwise the error decays (or explodes) exponentially, only more slowly the "
            r"larger $\tau$ is: bridging a lag of $q$ steps needs $\tau$ of the order of $q$."
        ),
        steps=[
            Step(
                "constant",
                r"1 - \frac{1-p}{\tau} = 1",
                r"p = f'(net)\,w = 1 \quad\text{or}\quad \tau \to \infty",
                rel=r"\ \text{iff}\ ",
                text="1 - (1 - p)/tau = 1 <=> p = f'(net) w = 1 or tau -> inf",
            ),
            Step(
                "frozen unit",
                r"\lim_{\tau\to\infty} y(t)",
                r"y(t-1), \quad \frac{\partial y(t)}{\partial x(t)} = \frac{f'(net(t))}{\tau} "
                r"\to 0",
                text="lim_{tau->inf} y(t) = y(t-1), dy(t)/dx(t) = f'(net(t))/tau -> 0",
            ),
            Step(
                "decay",
                r"\Bigl|1 - \frac{1-p}{\tau}\Bigr| < 1",
                r"1 - 2\tau < p < 1",
                rel=r"\ \text{iff}\ ",
                text="|1 - (1 - p)/tau| < 1 <=> 1 - 2 tau < p < 1",
            ),
            Step(
                "rate",
                r"\log\Bigl|1 - \frac{1-p}{\tau}\Bigr|",
                r"-\frac{1-p}{\tau} + O(\tau^{-2})",
                text="log|1 - (1 - p)/tau| = -(1 - p)/tau + O(1/tau^2)",
            ),
        ],
        proofs=[constant, limit, frozen, decay, rate_ok, logistic],
    )


def _section_sun() -> Section:
    roots = sp.solve(sp.Eq(ADDITIVE_FACTOR.subs(fp * w, p), 1), p)
    constant = Proof(
        "S5",
        r"$1 + f'(net)\,w = 1$ iff $f'(net)\,w = 0$; for the scaled net input "
        r"$f(net) = \lambda\, net$ ($\lambda \ne 0$) iff $w = 0$",
        "solve for p, and for w",
        roots == [0] and sp.solve(sp.Eq(1 + lam * w, 1), w) == [0],
    )
    # w = 0: y(t) = y(t-q) + lambda sum x(s): unit flow, every input added.
    q = 4
    y0 = sp.Symbol("y_0", real=True)
    xs = sp.symbols(f"x_1:{q + 1}", real=True)
    y = y0
    for s in range(q):
        y = y + lam * (0 * y + xs[s])
    integrator = Proof(
        "S5",
        r"with $w = 0$ and $f = \lambda\,\mathrm{id}$: $y(t) = y(t-q) + \lambda \sum_{s} x(s)$, "
        r"so $\partial y(t)/\partial y(t-q) = 1$ but every later input changes the stored "
        r"value: a CEC with input weight $\lambda$ and no control of writes (C2) ($q = 4$)",
        "unrolling, simplify(lhs - rhs) = 0; sympy.diff",
        is_zero(y - (y0 + lam * sum(xs)))
        and is_zero(sp.diff(y, y0) - 1)
        and all(is_zero(sp.diff(y, xv) - lam) for xv in xs),
    )
    pp = sp.Symbol("p", positive=True)
    grows = Proof(
        "S5",
        r"$p = f'w > 0$: $(1 + p)^q$ grows without bound; $-2 < p < 0$: it decays",
        "sympy.limit as q -> oo",
        sp.limit((1 + pp) ** sp.Symbol("q", positive=True), sp.Symbol("q", positive=True), sp.oo)
        == sp.oo,
    )
    return Section(
        claims=("S5",),
        title="Sun et al.'s additive update",
        paper_ref="section 2: Sun, Chen \\& Lee (1993) add the old activation and the (scaled) "
        "current net input",
        prose=(
            r"errorflow writes the additive unit as $y(t) = y(t-1) + f(net(t))$, "
            r"$net(t) = w\,y(t-1) + x(t)$, with the paper's ``scaled current net input'' "
            r"$f(net) = \lambda\, net$ as the special case. The old activation passes with "
            r"weight 1, but the net input adds a second path: the factor is "
            r"$1 + f'(net)\,w$, constant only without a recurrent contribution ($f' w = 0$). "
            r"Then the unit is a carousel that adds every input: the net input perturbs the "
            r"stored information, which makes long-term storage impractical (paper, section 2)."
        ),
        steps=[
            Step(
                "additive update",
                "y(t)",
                r"y(t-1) + f(net(t)), \quad f(net) = \lambda\, net",
                text="y(t) = y(t-1) + f(net(t)), f(net) = lambda net (the paper's form)",
            ),
            Step(
                "one step",
                r"\frac{\partial y(t)}{\partial y(t-1)}",
                ADDITIVE_FACTOR.subs(fp, sp.Symbol("f'(net)")),
                text="dy(t)/dy(t-1) = 1 + f'(net(t)) w  (= 1 + lambda w)",
            ),
            Step(
                "constant",
                r"1 + f'(net)\,w = 1",
                r"f'(net)\,w = 0",
                rel=r"\ \text{iff}\ ",
                text="1 + f'(net) w = 1 <=> f'(net) w = 0",
            ),
            Step(
                "w = 0",
                "y(t)",
                r"y(t-q) + \lambda \sum_{s=t-q+1}^{t} x(s)",
                text="y(t) = y(t-q) + lambda sum_{s=t-q+1..t} x(s)  (w = 0)",
            ),
        ],
        proofs=[_product_proof(True), constant, integrator, grows],
    )


def _section_cost() -> Section:
    return Section(
        claims=("S5",),
        title="cost of a leaky network",
        paper_ref="section 2; compare section 4's O(W) per step",
        prose=(
            r"One step of the error vector costs one product with $W^T$ plus $O(n)$ for the "
            r"leak: $2n^2 + 4n$ operations (the generated \texttt{leaky\_scaling\_step} with "
            r"$k = 1$ column), $O(n^2) = O(W)$ per step as BPTT, and BPTT's $O(Tn)$ memory for "
            r"the stored activations. The time constants add no cost, only $n$ parameters."
        ),
        steps=[
            Step(
                "cost",
                r"\mathrm{ops}(S \to J^T S)",
                r"2 n^2 k + 4 n k",
                text="ops(S -> J^T S) = 2 n^2 k + 4 n k  (k columns; k = 1 for the error vector)",
            )
        ],
    )


@cache
def derivation() -> Derivation:
    """The time-constant derivation (S5), every proof evaluated."""
    return Derivation(
        name="leaky",
        title="Time constants: leaky units and additive units",
        source=r"Hochreiter \& Schmidhuber (1997), sections 2 and 3.2; Mozer (1992); "
        r"Sun, Chen \& Lee (1993); SPEC S5",
        notation=(
            r"One unit with self-weight $w$, $net(t) = w\,y(t-1) + x(t)$, time constant "
            r"$\tau \ge 1$; in vector form $W[i,j] = w_{ij}$ (from unit $j$ to unit $i$), "
            r"per-unit $\tau_i$, $F'(t) = \mathrm{diag}(f'_i(net_i(t)))$. The error flows on "
            r"the activations: $S[v,u] = \partial y^u(t)/\partial y^v(t-q)$."
        ),
        sections=[_section_leaky(), _section_constant(), _section_sun(), _section_cost()],
    )


def kernel_specs() -> list[KernelSpec]:
    """The S5 kernels codegen prints."""
    return [
        KernelSpec(
            name="leaky_factor",
            summary="One step of a leaky unit's error flow, (1 - 1/tau) + (1/tau) f'(net) w (S5).",
            math=sp.sstr(LEAKY_FACTOR),
            claims=("S5",),
            args=(
                KernelArg("tau", "time constants tau >= 1, any shape"),
                KernelArg("fp", "slopes f'(net(t)), broadcastable"),
                KernelArg("w", "self-weights w, broadcastable"),
            ),
            symbols=(tau, fp, w),
            outputs=(LEAKY_FACTOR,),
        ),
        KernelSpec(
            name="additive_factor",
            summary="One step of Sun et al.'s additive unit's error flow, 1 + f'(net) w (S5).",
            math=sp.sstr(ADDITIVE_FACTOR),
            claims=("S5",),
            args=(
                KernelArg("fp", "slopes f'(net(t)) (lambda for f = lambda id), any shape"),
                KernelArg("w", "self-weights w, broadcastable"),
            ),
            symbols=(fp, w),
            outputs=(ADDITIVE_FACTOR,),
        ),
        KernelSpec(
            name="leaky_update",
            summary="Leaky forward step y(t) = (1 - 1/tau) y(t-1) + (1/tau) f(net(t)) (S5).",
            math=sp.sstr(LEAKY_UPDATE),
            claims=("S5",),
            args=(
                KernelArg("a", "(n,) 1 - 1/tau_i"),
                KernelArg("y_prev", "(n,) activations y(t-1)"),
                KernelArg("b", "(n,) 1/tau_i"),
                KernelArg("f_net", "(n,) squashed net inputs f(net(t))"),
            ),
            symbols=(_a, _y_prev, _b, _fnet),
            outputs=(LEAKY_UPDATE,),
            kind="matrix",
        ),
        KernelSpec(
            name="leaky_scaling_step",
            summary=(
                "One step of the leaky scaling factor, S(m) = (A + W^T F'(t-m+1) B) S(m-1) (S5)."
            ),
            math=sp.sstr(LEAKY_STEP),
            claims=("S5",),
            args=(
                KernelArg("a", "(n,) 1 - 1/tau_i"),
                KernelArg("S", "(n, k) S(m-1), S[v, u] = dy^u(t)/dy^v(t-m+1)"),
                KernelArg("W", "(n, n) weights, W[i, j] from unit j to unit i"),
                KernelArg("b", "(n,) 1/tau_i"),
                KernelArg("fp", "(n,) slopes f'_i(net_i(t-m+1))"),
            ),
            symbols=(_a, _S, _W, _b, _fp),
            outputs=(LEAKY_STEP,),
            kind="matrix",
        ),
    ]
