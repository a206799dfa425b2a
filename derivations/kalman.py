r"""Kalman-filter training with a derivative discount (SPEC S8; Puskorius & Feldkamp 1994).

Puskorius & Feldkamp train recurrent nets with (decoupled) extended Kalman filters. The filter
needs the derivatives ``H = dy/dw`` of the outputs with respect to the weights at every step;
they are carried forward in time (RTRL style, SPEC S6), with "a derivative discount factor
imposed to decay exponentially the effects of past dynamic derivatives" (quoted in the paper's
§2, which concludes that there is no reason to expect such nets to bridge very long lags).

Setting (SPEC §0): ``net(t) = W y(t-1) + x(t)``, ``y(t) = f(net(t))``, ``W[i, j] = w_ij`` from
unit j to unit i. For one weight ``w_ab`` the sensitivity ``p(t) = dy(t)/dw_ab`` obeys

* exact RTRL: ``p(t) = F'(t) (W p(t-1) + c(t))`` with the immediate term ``c_k(t) =
  delta_ka y^b(t-1)``;
* discounted: ``p(t) = F'(t) (lambda W p(t-1) + c(t))``, ``0 < lambda < 1``.

Derived and proved here:

* the recursion at ``lambda = 1`` is the exact derivative of the unrolled net (generic f);
* unrolled, ``p(t) = sum_q lambda^q F'(t) S(q)^T c(t-q)`` with B3's ``S(q) = F'(t-q) W^T ...
  F'(t-1) W^T``: an immediate term q steps back arrives multiplied by ``lambda^q`` on top of the
  B3 factor, so ``S_lambda(q) = lambda^q S(q)`` is B3's chain with every slope ``f'`` replaced
  by ``lambda f'``, and its rate is ``log lambda`` plus the net's own rate, whatever the weights
  (through a CEC, ``f' w = 1``, the flow is exactly ``lambda^q``);
* the EKF update ``A = H^T P H + R``, ``K = P H A^-1``, ``w <- w + K (d - y)``,
  ``P <- P - K H^T P + Q`` is ``Delta w = P g`` with ``g = H A^-1 (d - y)`` the (discounted)
  gradient of ``1/2 (d - y)^T A^-1 (d - y)``: linear in ``H``, with ``P`` and ``A`` common to
  every lag, so the lag-q part of the update is ``lambda^q P H_q A^-1 (d - y)``; ``P`` never
  grows by more than ``Q`` per step, so nothing in the filter restores the ``lambda^q``.

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import sympy as sp

from .bptt import explicit_weights, matrix_product
from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero, prove_equal
from .notation import Slope, t

__all__ = [
    "DISCOUNTED_LOG_SLOPE",
    "DISCOUNTED_SLOPE",
    "EKF_GAIN",
    "EKF_INNOVATION",
    "EKF_P_UPDATE",
    "EKF_W_UPDATE",
    "GENERATED_DOC",
    "SENSITIVITY_STEP",
    "closed_form_sensitivity",
    "derivation",
    "discounted_recursion",
    "kernel_specs",
    "lam",
]

#: The derivative discount factor, ``0 < lambda < 1`` (``lambda = 1``: exact RTRL).
lam = sp.Symbol("lambda", positive=True)

# ---------------------------------------------------------------------------------------
# General matrix expressions (printed by codegen, specialised by the proofs).
# ---------------------------------------------------------------------------------------
n = sp.Symbol("n", integer=True, positive=True)  # units
N = sp.Symbol("N", integer=True, positive=True)  # weights (columns of the sensitivities)
m = sp.Symbol("m", integer=True, positive=True)  # outputs seen by the filter
W = sp.MatrixSymbol("W", n, n)
fp = sp.MatrixSymbol("fp", n, 1)
P_sens = sp.MatrixSymbol("P", n, N)
C_imm = sp.MatrixSymbol("C", n, N)
H = sp.MatrixSymbol("H", N, m)
Pw = sp.MatrixSymbol("P", N, N)
R = sp.MatrixSymbol("R", m, m)
Qn = sp.MatrixSymbol("Q", N, N)
A_inv = sp.MatrixSymbol("A_inv", m, m)
K = sp.MatrixSymbol("K", N, m)
e = sp.MatrixSymbol("e", m, 1)
w_vec = sp.MatrixSymbol("w", N, 1)

#: One discounted RTRL step for all weights at once: ``P(t) = F'(t) (lambda W P(t-1) + C(t))``.
SENSITIVITY_STEP = sp.DiagMatrix(fp) * (lam * W * P_sens + C_imm)
#: The innovation covariance ``A = H^T P H + R``.
EKF_INNOVATION = H.T * Pw * H + R
#: The Kalman gain ``K = P H A^-1``.
EKF_GAIN = Pw * H * A_inv
#: The weight update ``w + K (d - y)``.
EKF_W_UPDATE = w_vec + K * e
#: The error-covariance update ``P - K H^T P + Q``.
EKF_P_UPDATE = Pw - K * H.T * Pw + Qn

_fp_scalar, _logfp = sp.symbols("fp log_fp", real=True)
#: ``lambda`` as the generated kernels' argument ``lam`` (``lambda`` is a Python keyword).
_lam_arg = sp.Symbol("lam", positive=True)
#: A slope under the discount: the discounted chain is B3's with ``f'`` replaced by this.
DISCOUNTED_SLOPE = lam * _fp_scalar
#: Its logarithm, for lags where the slopes leave float64.
DISCOUNTED_LOG_SLOPE = _logfp + sp.log(lam)

GENERATED_DOC = """Kernels of discounted RTRL sensitivities and extended-Kalman-filter training
(SPEC S8, Puskorius & Feldkamp 1994), printed from errorflow.derivations.kalman. W[i, j] is the
weight from unit j to unit i; lam is the derivative discount factor (0 < lam <= 1)."""


def _explicit(expr: sp.MatrixExpr, dims: dict, values: dict) -> sp.Matrix:
    """Specialise a general matrix expression to explicit sizes and entries."""
    concrete = expr.subs(dims)
    mapping = {}
    for sym, mat in values.items():
        sized = sp.MatrixSymbol(sym.name, mat.rows, mat.cols)
        for i in range(mat.rows):
            for j in range(mat.cols):
                mapping[sized[i, j]] = mat[i, j]
    return sp.Matrix(concrete.as_explicit()).xreplace(mapping)


def _slopes(k: int, s: int) -> sp.Matrix:
    """``F'(t-s)`` as a column of :class:`Slope` objects (units 1..k)."""
    return sp.Matrix(k, 1, lambda i, _: Slope(i + 1, t - s))


def _immediate(k: int, s: int) -> sp.Matrix:
    """A generic immediate term ``c(t-s)`` (one column: one weight)."""
    return sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"c_{i + 1}(t-{s})"))


def discounted_recursion(k: int, depth: int) -> sp.Matrix:
    """``p(t)`` from ``p(t-depth-1) = 0`` by the discounted step, ``k`` units, one weight."""
    Wk = explicit_weights(k)
    p = sp.zeros(k, 1)
    for s in range(depth, -1, -1):
        p = _explicit(
            SENSITIVITY_STEP,
            {n: k, N: 1},
            {fp: _slopes(k, s), W: Wk, P_sens: p, C_imm: _immediate(k, s)},
        )
    return p


def closed_form_sensitivity(k: int, depth: int) -> sp.Matrix:
    """``sum_{q=0..depth} lambda^q F'(t) S(q)^T c(t-q)`` with B3's ``S(q)`` (``S(0) = I``)."""
    Ft = sp.diag(*_slopes(k, 0))
    total = sp.zeros(k, 1)
    for q in range(depth + 1):
        S = sp.eye(k) if q == 0 else matrix_product(q, k)
        total += lam**q * Ft * S.T * _immediate(k, q)
    return total


# ---------------------------------------------------------------------------------------
# Proofs.
# ---------------------------------------------------------------------------------------
_f = sp.Function("f")
_z = sp.Symbol("z")


def _rtrl_exact_proof(k: int, T: int) -> Proof:
    """At lambda = 1 the recursion is ``dy(T)/dw_ab`` of the unrolled net, every weight."""
    Wk = explicit_weights(k)
    xs = [sp.Matrix(k, 1, lambda i, _, s=s: sp.Symbol(f"x_{i + 1}({s})")) for s in range(T)]
    y = sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"y_{i + 1}(0)"))
    ys, nets = [y], []
    for s in range(T):
        net = Wk * ys[-1] + xs[s]
        nets.append(net)
        ys.append(net.applyfunc(_f))
    ok = True
    for a in range(k):
        for b in range(k):
            p = sp.zeros(k, 1)
            for s in range(T):
                c = sp.Matrix(k, 1, lambda i, _, a=a, b=b, s=s: ys[s][b] if i == a else 0)
                slopes = nets[s].applyfunc(lambda e_: sp.diff(_f(_z), _z).subs(_z, e_))
                p = _explicit(
                    SENSITIVITY_STEP.subs(lam, 1),
                    {n: k, N: 1},
                    {fp: slopes, W: Wk, P_sens: p, C_imm: c},
                )
            exact = ys[T].diff(Wk[a, b])
            ok = ok and all(is_zero(p[i] - exact[i]) for i in range(k))
    return Proof(
        "S8",
        rf"at $\lambda = 1$ the recursion gives $\partial y(t)/\partial w_{{ab}}$ of the unrolled "
        rf"net exactly, for every weight ($n = {k}$, $T = {T}$, any differentiable $f$)",
        "differentiating the unrolled network, simplify(lhs - rhs) = 0",
        ok,
    )


def _closed_form_proof() -> Proof:
    ok = all(
        is_zero(a - b)
        for k in (1, 2)
        for depth in (1, 2, 3)
        for a, b in zip(
            discounted_recursion(k, depth), closed_form_sensitivity(k, depth), strict=True
        )
    )
    return Proof(
        "S8",
        r"the discounted recursion equals $\sum_q \lambda^q F'(t)\,S(q)^T c(t-q)$ with B3's "
        r"$S(q)$ ($n \le 2$, lags up to 3)",
        "expand(lhs - rhs) = 0, entry by entry",
        ok,
    )


def _discounted_chain_proof() -> Proof:
    ok = True
    for k in (1, 2, 3):
        for q in (1, 2, 3):
            S = matrix_product(q, k)
            scaled = S.xreplace(
                {
                    Slope(i + 1, t - s): lam * Slope(i + 1, t - s)
                    for i in range(k)
                    for s in range(1, q + 1)
                }
            )
            ok = ok and all(is_zero(a - lam**q * b) for a, b in zip(scaled, S, strict=True))
    return Proof(
        "S8",
        r"B3's chain with every slope $f'$ replaced by $\lambda f'$ is $\lambda^q S(q)$ "
        r"($n \le 3$, $q \le 3$)",
        "expand(lhs - rhs) = 0, entry by entry",
        ok,
    )


def _cec_proofs() -> list[Proof]:
    qi = sp.Symbol("q", integer=True, nonnegative=True)
    p = sp.Function("p")
    closed = sp.rsolve(p(qi) - lam * p(qi - 1), p(qi), {p(0): 1})
    # One CEC unit (f = id, w = 1): the coefficient of c(t-q) in p(t) is lambda^q.
    k = 1
    depth = 5
    rec = discounted_recursion(k, depth)[0].xreplace(
        {Slope(1, t - s): 1 for s in range(depth + 1)} | {explicit_weights(1)[0, 0]: 1}
    )
    coeffs = [sp.diff(rec, sp.Symbol(f"c_1(t-{q})")) for q in range(depth + 1)]
    q_pos = sp.Symbol("q", positive=True)
    decays = sp.limit(sp.Rational(99, 100) ** q_pos, q_pos, sp.oo) == 0
    horizon = sp.summation(lam**qi, (qi, 0, sp.oo))
    # SymPy answers with a Piecewise whose first branch holds for lambda < 1.
    first = horizon.args[0][0] if isinstance(horizon, sp.Piecewise) else horizon
    horizon_ok = is_zero(first - 1 / (1 - lam))
    return [
        Proof(
            "S8",
            r"through a CEC ($f = \mathrm{id}$, $w = 1$) the coefficient of $c(t-q)$ in $p(t)$ "
            r"is $\lambda^q$ for $q \le 5$, and rsolve gives $\lambda^q$ for every $q$",
            "unrolled recursion; rsolve of $p(q) = \\lambda p(q-1)$, $p(0) = 1$",
            all(is_zero(cq - lam**q) for q, cq in enumerate(coeffs))
            and closed is not None
            and is_zero(closed - lam**qi),
        ),
        Proof(
            "S8",
            r"$\lambda^q \to 0$ as $q \to \infty$ (at $\lambda = 0.99$), and the discount's "
            r"total weight is $\sum_{q \ge 0} \lambda^q = 1/(1 - \lambda)$",
            "limit; summation",
            decays and horizon_ok,
        ),
    ]


def _rate_proof() -> Proof:
    q, s = sp.symbols("q s", positive=True)
    return prove_equal(
        "S8",
        r"$\log|\lambda^q S| = q\log\lambda + \log|S|$: the measured rate per step is "
        r"$\log\lambda$ plus the net's own rate",
        sp.expand_log(sp.log(lam**q * s), force=True),
        q * sp.log(lam) + sp.log(s),
    )


def _sym_matrix(name: str, k: int) -> sp.Matrix:
    return sp.Matrix(k, k, lambda i, j: sp.Symbol(f"{name}_{min(i, j) + 1}{max(i, j) + 1}"))


def _ekf_proofs() -> list[Proof]:
    kN, km = 3, 2
    Pm = _sym_matrix("p", kN)
    Hm = sp.Matrix(kN, km, lambda i, j: sp.Symbol(f"h_{i + 1}{j + 1}"))
    Mm = _sym_matrix("a", km)  # stands for the symmetric A^-1
    em = sp.Matrix(km, 1, lambda i, _: sp.Symbol(f"e_{i + 1}"))
    wm = sp.Matrix(kN, 1, lambda i, _: sp.Symbol(f"w_{i + 1}"))
    w0 = sp.Matrix(kN, 1, lambda i, _: sp.Symbol(f"w0_{i + 1}"))
    gain = _explicit(EKF_GAIN, {N: kN, m: km}, {Pw: Pm, H: Hm, A_inv: Mm})
    delta = _explicit(EKF_W_UPDATE, {N: kN, m: km}, {w_vec: sp.zeros(kN, 1), K: gain, e: em})
    # e(w) = e - H^T (w - w0) is the linearised error; g = -grad 1/2 e(w)^T A^-1 e(w) at w0.
    ew = em - Hm.T * (wm - w0)
    loss = (ew.T * Mm * ew)[0, 0] / 2
    grad = sp.Matrix([-sp.diff(loss, wi) for wi in wm]).xreplace(dict(zip(wm, w0, strict=True)))
    precond = all(is_zero(a - b) for a, b in zip(delta, Pm * grad, strict=True))
    # Lags: H = H_0 + lambda H_1 + lambda^2 H_2 (m = 1), A from the whole H.
    hs = [sp.Matrix(kN, 1, lambda i, _, q=q: sp.Symbol(f"h^{q}_{i + 1}")) for q in range(3)]
    Hl = sum((lam**q * hq for q, hq in enumerate(hs)), sp.zeros(kN, 1))
    r = sp.Symbol("r", positive=True)
    e1 = sp.Symbol("e_1")
    A1 = _explicit(EKF_INNOVATION, {N: kN, m: 1}, {H: Hl, Pw: Pm, R: sp.Matrix([[r]])})[0, 0]
    g1 = _explicit(EKF_GAIN, {N: kN, m: 1}, {Pw: Pm, H: Hl, A_inv: sp.Matrix([[1 / A1]])})
    d1 = g1 * e1
    by_lag = sum((lam**q * Pm * hq * e1 / A1 for q, hq in enumerate(hs)), sp.zeros(kN, 1))
    lags = all(is_zero(a - b) for a, b in zip(d1, by_lag, strict=True))
    # P - P_new + Q = P h h^T P / (h^T P h + r) is positive semidefinite (m = 1).
    h = hs[0]
    xv = sp.Matrix(kN, 1, lambda i, _: sp.Symbol(f"x_{i + 1}"))
    A0 = (h.T * Pm * h)[0, 0] + r
    K0 = Pm * h / A0
    Qm = _sym_matrix("s", kN)
    P_new = _explicit(EKF_P_UPDATE, {N: kN, m: 1}, {Pw: Pm, K: K0, H: h, Qn: Qm})
    drop = (xv.T * (Pm + Qm - P_new) * xv)[0, 0]
    psd = is_zero(drop - (xv.T * Pm * h)[0, 0] ** 2 / A0)
    return [
        Proof(
            "S8",
            r"$K(d - y) = P\,g$ with $g = H A^{-1}(d - y) = -\nabla_w \tfrac12 e^T A^{-1} e$ "
            r"of the linearised error $e = d - y$ ($N = 3$ weights, $m = 2$ outputs)",
            "differentiating, simplify(lhs - rhs) = 0",
            precond,
        ),
        Proof(
            "S8",
            r"with $H = H_0 + \lambda H_1 + \lambda^2 H_2$ the update is "
            r"$\sum_q \lambda^q P H_q A^{-1}(d - y)$, $P$ and $A$ common to every lag "
            r"($N = 3$, $m = 1$)",
            "simplify(lhs - rhs) = 0",
            lags,
        ),
        Proof(
            "S8",
            r"$x^T(P(t-1) + Q - P(t))x = (x^T P h)^2/(h^T P h + r) \ge 0$: "
            r"$P(t) \preceq P(t-1) + Q$ ($N = 3$, $m = 1$, symmetric $P$)",
            "simplify(lhs - rhs) = 0",
            psd,
        ),
    ]


# ---------------------------------------------------------------------------------------
# The derivation.
# ---------------------------------------------------------------------------------------
def _section_sensitivities() -> Section:
    return Section(
        claims=("S8",),
        title="discounted forward derivatives: the lag-$q$ factor is $\\lambda^q S(q)$",
        paper_ref="section 2 (Kalman filters); Puskorius \\& Feldkamp 1994",
        prose=(
            r"The filter needs $H(t) = \partial y(t)/\partial w$ at every step, carried forward "
            r"RTRL style (S6). For one weight $w_{ab}$ write $p(t) = \partial y(t)/\partial "
            r"w_{ab}$ and $c(t)$ for the immediate term, $c_k(t) = \delta_{ka}\,y^b(t-1)$. "
            r"Puskorius and Feldkamp multiply the carried part by a derivative discount "
            r"$\lambda \in (0, 1)$. Unrolled, the immediate term of $q$ steps back arrives "
            r"through B3's scaling factor (transposed: forward in time) and $\lambda^q$."
        ),
        steps=[
            Step(
                "exact RTRL",
                "p(t)",
                r"F'(t)\,\bigl(W\,p(t-1) + c(t)\bigr)",
                text="p(t) = F'(t) (W p(t-1) + c(t))",
            ),
            Step(
                "discounted",
                "p(t)",
                r"F'(t)\,\bigl(\lambda\,W\,p(t-1) + c(t)\bigr), \quad 0 < \lambda < 1",
                text="p(t) = F'(t) (lambda W p(t-1) + c(t)), 0 < lambda < 1",
            ),
            Step(
                "all weights",
                "P(t)",
                r"F'(t)\,\bigl(\lambda\,W\,P(t-1) + C(t)\bigr), \quad "
                r"C(t)_{k,(ab)} = \delta_{ka}\,y^b(t-1)",
                note=r"$P(t)$ is $n \times n^2$: one column per weight.",
                text="P(t) = F'(t) (lambda W P(t-1) + C(t)), C(t)[k, (a,b)] = delta_ka y^b(t-1)",
            ),
            Step(
                "unrolled",
                "p(t)",
                r"\sum_{q \ge 0} \lambda^q\, F'(t)\, S(q)^T\, c(t-q), \quad "
                r"S(q) = F'(t-q) W^T \cdots F'(t-1) W^T",
                text="p(t) = sum_q lambda^q F'(t) S(q)^T c(t-q), S(q) of B3",
            ),
            Step(
                "lag-q factor",
                r"S_\lambda(q)",
                r"\lambda^q\, S(q) = \prod_{m=1}^{q} \bigl(\lambda F'(t-m)\bigr) W^T",
                note=(
                    r"The discounted chain is B3's chain with every slope $f'$ replaced by "
                    r"$\lambda f'$: the same log-space machinery (B10) evaluates it."
                ),
                text="S_lambda(q) = lambda^q S(q) = prod_m (lambda F'(t-m)) W^T",
            ),
        ],
        proofs=[_rtrl_exact_proof(2, 2), _closed_form_proof(), _discounted_chain_proof()],
    )


def _section_decay() -> Section:
    return Section(
        claims=("S8",),
        title="decay by construction, whatever the weights",
        paper_ref="section 2: a derivative discount imposed to decay past derivatives",
        prose=(
            r"Relative to the net's own error flow the discounted flow is smaller by exactly "
            r"$\lambda^q$, for every $W$ and every trajectory. Through a constant error carousel "
            r"($f' w = 1$), the only route that neither vanishes nor explodes, it is "
            r"$\lambda^q$ itself. The flow stays above $\varepsilon$ only for "
            r"$q \le \log\varepsilon/\log\lambda$ steps ($\lambda = 0.99$, "
            r"$\varepsilon = 10^{-3}$: 687 steps)."
        ),
        steps=[
            Step(
                "log magnitude",
                r"\log|S_\lambda(q)_{vu}|",
                r"q\log\lambda + \log|S(q)_{vu}|",
                text="log|S_lambda(q)[v,u]| = q log lambda + log|S(q)[v,u]|",
            ),
            Step(
                "rate",
                r"\frac{1}{q}\log|S_\lambda(q)_{vu}|",
                r"\log\lambda + \frac{1}{q}\log|S(q)_{vu}|",
                text="rate = log lambda + the net's own rate",
            ),
            Step(
                "CEC",
                r"S_\lambda(q)",
                r"\lambda^q \quad (n = 1,\ f'\,w = 1)",
                text="through a CEC (f' w = 1): S_lambda(q) = lambda^q",
            ),
            Step(
                "horizon",
                r"\sum_{q \ge 0} \lambda^q",
                r"\frac{1}{1 - \lambda}",
                text="sum_q lambda^q = 1/(1 - lambda)",
            ),
        ],
        proofs=[_rate_proof(), *_cec_proofs()],
    )


def _section_ekf() -> Section:
    return Section(
        claims=("S8",),
        title="the extended Kalman filter rescales, it does not restore",
        paper_ref="Puskorius \\& Feldkamp 1994 (global and decoupled EKF)",
        prose=(
            r"With $N$ weights $w$, $m$ outputs, $H = \partial y/\partial w$ ($N \times m$, the "
            r"discounted sensitivities), measurement noise $R$ and process noise $Q$, one EKF "
            r"step is below. The update is linear in $H$ and $P$, $A$ are the same matrices for "
            r"every lag, so the lag-$q$ part of $H$, $\lambda^q H_q$, enters the update as "
            r"$\lambda^q P H_q A^{-1}(d - y)$. Since $P(t) \preceq P(t-1) + Q$ and "
            r"$A \succeq R$, that part is at most "
            r"$\lambda^q\,(\|P(0)\| + t\|Q\|)\,\|R^{-1}\|\,\|H_q\|\,\|d - y\|$: a factor "
            r"growing at most linearly in $t$ against $\lambda^q$. The decoupled EKF "
            r"(block-diagonal $P$, one block per group of weights) changes the cost, not this "
            r"argument. Cost per step: "
            r"$2n^4 + O(n^3)$ for the sensitivities ($N = n^2$), $O(m N^2) = O(m n^4)$ for the "
            r"global filter with $N^2 = n^4$ memory; with $g$ groups $O(m N^2/g)$ and $N^2/g$."
        ),
        steps=[
            Step("innovation", "A", r"H^T P H + R", text="A = H^T P H + R"),
            Step("gain", "K", r"P H A^{-1}", text="K = P H A^-1"),
            Step("weights", "w(t)", r"w(t-1) + K\,(d - y)", text="w(t) = w(t-1) + K (d - y)"),
            Step(
                "covariance",
                "P(t)",
                r"P(t-1) - K H^T P(t-1) + Q",
                text="P(t) = P(t-1) - K H^T P(t-1) + Q",
            ),
            Step(
                "preconditioned gradient",
                r"\Delta w",
                r"P\,g, \quad g = H A^{-1}(d - y) = "
                r"-\frac{\partial}{\partial w} \tfrac12 (d - y)^T A^{-1} (d - y)",
                text="Delta w = P g, g = H A^-1 (d - y) = -grad 1/2 (d-y)^T A^-1 (d-y)",
            ),
            Step(
                "by lag",
                r"\Delta w",
                r"\sum_{q \ge 0} \lambda^q\, P\, H_q\, A^{-1} (d - y)",
                text="Delta w = sum_q lambda^q P H_q A^-1 (d - y)",
            ),
            Step(
                "bound",
                r"\|\lambda^q P H_q A^{-1}(d - y)\|",
                r"\lambda^q\,(\|P(0)\| + t\,\|Q\|)\,\|R^{-1}\|\,\|H_q\|\,\|d - y\|",
                rel="<=",
                text="||lag-q part|| <= lambda^q (||P(0)|| + t ||Q||) ||R^-1|| ||H_q|| ||d - y||",
            ),
        ],
        proofs=_ekf_proofs(),
    )


@cache
def derivation() -> Derivation:
    """The Kalman-filter derivation (S8), every proof evaluated."""
    return Derivation(
        name="kalman",
        title="Kalman-filter training with a derivative discount",
        source="Puskorius \\& Feldkamp (1994); Hochreiter \\& Schmidhuber (1997), section 2; "
        "SPEC S8",
        notation=(
            r"Units $1..n$, $w_{ij}$ from unit $j$ to unit $i$, $net(t) = W y(t-1) + x(t)$, "
            r"$y(t) = f(net(t))$, $F'(t)$ diagonal with the slopes; $S(q)$ is B3's scaling factor; "
            r"$\lambda$ the derivative discount; $P$, $K$, $R$, $Q$ the filter's error "
            r"covariance, gain, measurement and process noise."
        ),
        sections=[_section_sensitivities(), _section_decay(), _section_ekf()],
    )


def kernel_specs() -> list[KernelSpec]:
    """The kernels codegen prints for S8."""
    return [_code_names(spec) for spec in _specs()]


def _code_names(spec: KernelSpec) -> KernelSpec:
    """``spec`` with ``lambda`` renamed to its argument name ``lam``."""
    rename = {lam: _lam_arg}
    return dataclasses.replace(
        spec,
        math=spec.math.replace("lambda", "lam"),
        symbols=tuple(s.subs(rename) for s in spec.symbols),
        outputs=tuple(o.subs(rename) for o in spec.outputs),
    )


def _specs() -> list[KernelSpec]:
    return [
        KernelSpec(
            name="discounted_slope",
            summary="A slope under the derivative discount, lambda f'(net) (S8).",
            math=sp.sstr(DISCOUNTED_SLOPE),
            claims=("S8",),
            args=(KernelArg("fp", "slopes f'(net), any shape"), KernelArg("lam", "discount")),
            symbols=(_fp_scalar, lam),
            outputs=(DISCOUNTED_SLOPE,),
        ),
        KernelSpec(
            name="discounted_log_slope",
            summary="Log of a discounted slope, log f'(net) + log lambda (S8, B10).",
            math=sp.sstr(DISCOUNTED_LOG_SLOPE),
            claims=("S8",),
            args=(
                KernelArg("log_fp", "log-slopes log f'(net), any shape"),
                KernelArg("lam", "discount, > 0"),
            ),
            symbols=(_logfp, lam),
            outputs=(DISCOUNTED_LOG_SLOPE,),
        ),
        KernelSpec(
            name="sensitivity_step",
            summary=(
                "Discounted RTRL step P(t) = F'(t) (lam W P(t-1) + C(t)) for every weight (S8)."
            ),
            math=sp.sstr(SENSITIVITY_STEP),
            claims=("S8", "S6"),
            args=(
                KernelArg("fp", "(n,) slopes f'(net(t))"),
                KernelArg("lam", "derivative discount (1: exact RTRL)"),
                KernelArg("W", "(n, n) weights, W[i, j] from unit j to unit i"),
                KernelArg("P", "(n, N) sensitivities dy(t-1)/dw, one column per weight"),
                KernelArg("C", "(n, N) immediate terms, C[k, (a,b)] = delta_ka y^b(t-1)"),
            ),
            symbols=(fp, lam, W, P_sens, C_imm),
            outputs=(SENSITIVITY_STEP,),
            kind="matrix",
        ),
        KernelSpec(
            name="ekf_innovation",
            summary="EKF innovation covariance A = H^T P H + R (S8).",
            math=sp.sstr(EKF_INNOVATION),
            claims=("S8",),
            args=(
                KernelArg("H", "(N, m) derivatives dy/dw"),
                KernelArg("P", "(N, N) error covariance"),
                KernelArg("R", "(m, m) measurement noise"),
            ),
            symbols=(H, Pw, R),
            outputs=(EKF_INNOVATION,),
            kind="matrix",
        ),
        KernelSpec(
            name="ekf_gain",
            summary="Kalman gain K = P H A^-1 (S8).",
            math=sp.sstr(EKF_GAIN),
            claims=("S8",),
            args=(
                KernelArg("P", "(N, N) error covariance"),
                KernelArg("H", "(N, m) derivatives dy/dw"),
                KernelArg("A_inv", "(m, m) inverse of the innovation covariance"),
            ),
            symbols=(Pw, H, A_inv),
            outputs=(EKF_GAIN,),
            kind="matrix",
        ),
        KernelSpec(
            name="ekf_update",
            summary="EKF weight and covariance update: w + K e and P - K H^T P + Q (S8).",
            math=f"{sp.sstr(EKF_W_UPDATE)}; {sp.sstr(EKF_P_UPDATE)}",
            claims=("S8",),
            args=(
                KernelArg("w", "(N,) weights"),
                KernelArg("K", "(N, m) Kalman gain"),
                KernelArg("e", "(m,) error d - y"),
                KernelArg("P", "(N, N) error covariance"),
                KernelArg("H", "(N, m) derivatives dy/dw"),
                KernelArg("Q", "(N, N) process noise"),
            ),
            symbols=(w_vec, K, e, Pw, H, Qn),
            outputs=(EKF_W_UPDATE, EKF_P_UPDATE),
            kind="matrix",
        ),
    ]
