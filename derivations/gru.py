r"""The gated recurrent unit (GRU): its step Jacobian and when products of it decay (SPEC S3).

Cho et al. (2014) gate a tanh recurrent layer of n units with an update gate z and a reset
gate r. errorflow uses the convention

    z(t) = sigma(W_z x(t) + U_z h(t-1) + b_z),   r(t) = sigma(W_r x(t) + U_r h(t-1) + b_r),
    htilde(t) = tanh(W_h x(t) + U_h (r(t) * h(t-1)) + b_h),
    h(t) = (1 - z(t)) * h(t-1) + z(t) * htilde(t)          (* elementwise)

(Chung et al. 2014 and most textbooks). Cho et al. 2014 (eq. 7) and PyTorch write
``h = z * h(t-1) + (1 - z) * htilde``: the other convention swaps z and 1 - z, so every result
below holds there with z replaced by 1 - z (the carousel is diag(z), the CEC is z -> 1).

This module derives, and proves with SymPy:

* the exact step Jacobian ``J(t) = dh(t)/dh(t-1)`` in matrix form,
  ``diag(1 - z) + diag((htilde - h(t-1)) z (1 - z)) U_z
  + diag(z (1 - htilde^2)) U_h (diag(r) + diag(h(t-1) r (1 - r)) U_r)``,
  equal to the Jacobian of the unrolled step for n <= 3 (any weights, any drive);
* its carousel-like part ``diag(1 - z)``: with the update gate closed (z = 0) J = I exactly,
  GRU's constant error carousel; with z = 1 it is a conventional tanh layer;
* a norm bound ``||J(t)||_inf <= max_i (1 - z_i + z_i kappa)`` with
  ``kappa = 2 ||U_z||_inf + ||U_h||_inf (1 + ||U_r||_inf / 4)``: products decay at rate at
  most ``1 - z_min (1 - kappa)`` per step when ``kappa < 1`` and the update gate stays open
  at least ``z_min > 0``, and stay within ``prod (1 + z_max (1 + kappa)) - 1`` of I when z is
  small (the gate nearly closed);
* the cost of one step and of one back-propagated error step, from the generated kernels.

The matrix expressions below are what codegen prints into ``numeric/_generated/gru.py``; the
proofs specialise those very expressions.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.calculus.util import maximum

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero, prove_equal
from .squashing import SQUASHING
from .squashing import x as _x

__all__ = [
    "CANDIDATE_ERROR",
    "CANDIDATE_INPUT",
    "CHAIN_STEP",
    "ERROR_STEP",
    "GATE_INPUT",
    "GENERATED_DOC",
    "STEP_JACOBIAN",
    "derivation",
    "explicit_jacobian",
    "kernel_specs",
    "matrix_form",
    "step_flops",
]

# ---------------------------------------------------------------------------------------
# General (any n) matrix expressions: printed by codegen, specialised by the proofs.
# ---------------------------------------------------------------------------------------
n = sp.Symbol("n", integer=True, positive=True)
m_in = sp.Symbol("m", integer=True, positive=True)
_W = sp.MatrixSymbol("W", n, m_in)
_U = sp.MatrixSymbol("U", n, n)
_x_in = sp.MatrixSymbol("x", m_in, 1)
_b = sp.MatrixSymbol("b", n, 1)
h_prev = sp.MatrixSymbol("h_prev", n, 1)
U_z = sp.MatrixSymbol("U_z", n, n)
U_r = sp.MatrixSymbol("U_r", n, n)
U_h = sp.MatrixSymbol("U_h", n, n)
carousel = sp.MatrixSymbol("c", n, 1)
g_z = sp.MatrixSymbol("g_z", n, 1)
g_h = sp.MatrixSymbol("g_h", n, 1)
g_r = sp.MatrixSymbol("g_r", n, 1)
r_vec = sp.MatrixSymbol("r", n, 1)
delta = sp.MatrixSymbol("delta", n, 1)
e_cand = sp.MatrixSymbol("e", n, 1)
J_sym = sp.MatrixSymbol("J", n, n)
S_prev = sp.MatrixSymbol("S", n, sp.Symbol("k", integer=True, positive=True))
_D = sp.DiagMatrix

#: Net input of a gate: ``W x(t) + U h(t-1) + b`` (update gate: W_z, U_z, b_z; reset: W_r ...).
GATE_INPUT = _W * _x_in + _U * h_prev + _b
#: Net input of the candidate: ``W_h x(t) + U_h (r(t) * h(t-1)) + b_h``.
CANDIDATE_INPUT = _W * _x_in + _U * sp.HadamardProduct(r_vec, h_prev) + _b
#: S3: ``J(t) = dh(t)/dh(t-1) = diag(c) + diag(g_z) U_z + diag(g_h) U_h (diag(r) + diag(g_r) U_r)``
#: with ``c = 1 - z``, ``g_z = (htilde - h(t-1)) z (1 - z)``, ``g_h = z (1 - htilde^2)``,
#: ``g_r = h(t-1) r (1 - r)``.
STEP_JACOBIAN = _D(carousel) + _D(g_z) * U_z + _D(g_h) * U_h * (_D(r_vec) + _D(g_r) * U_r)
#: The candidate's share of the back-propagated error: ``e = U_h^T (g_h * delta(t))``.
CANDIDATE_ERROR = U_h.T * sp.HadamardProduct(g_h, delta)
#: ``delta(t-1) = J(t)^T delta(t) = c*delta + U_z^T (g_z*delta) + r*e + U_r^T (g_r*e)``.
ERROR_STEP = (
    sp.HadamardProduct(carousel, delta)
    + U_z.T * sp.HadamardProduct(g_z, delta)
    + sp.HadamardProduct(r_vec, e_cand)
    + U_r.T * sp.HadamardProduct(g_r, e_cand)
)
#: One step of the error-flow matrix ``S(m) = J(t-m+1)^T S(m-1)``, ``S(0) = I`` (B3's layout:
#: ``S[v, u] = d delta_v(t-q) / d delta_u(t)``, the transpose of ``dh(t)/dh(t-q)``).
CHAIN_STEP = J_sym.T * S_prev

GENERATED_DOC = """Kernels of the gated recurrent unit's error flow (SPEC S3), printed from
errorflow.derivations.gru. Convention h(t) = (1 - z) h(t-1) + z htilde; vectors are 1-D arrays
of length n, U_* are (n, n) with U[i, j] from unit j to unit i, W_* are (n, m)."""


# ---------------------------------------------------------------------------------------
# The explicit step for k units: the logistic as a function with sigma' = sigma (1 - sigma).
# ---------------------------------------------------------------------------------------
class _Logistic(sp.Function):
    """``sigma(a)`` whose derivative is ``sigma (1 - sigma)`` (A1, proved for 1/(1+e^-a))."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self * (1 - self)

    def _latex(self, printer, exp=None) -> str:
        base = rf"\sigma\left({printer._print(self.args[0])}\right)"
        return rf"{base}^{{{exp}}}" if exp else base


def _units(prefix: str, k: int) -> sp.Matrix:
    return sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"{prefix}_{i + 1}", real=True))


def _weights(prefix: str, k: int) -> sp.Matrix:
    return sp.Matrix(k, k, lambda i, j: sp.Symbol(f"{prefix}_{{{i + 1}{j + 1}}}", real=True))


def _explicit(expr: sp.MatrixExpr, k: int, values: dict) -> sp.Matrix:
    """Specialise a general matrix expression to ``k`` units and explicit entries."""
    concrete = expr.subs(n, k)
    mapping = {}
    for sym, mat in values.items():
        sized = sp.MatrixSymbol(sym.name, mat.rows, mat.cols)
        for i in range(mat.rows):
            for j in range(mat.cols):
                mapping[sized[i, j]] = mat[i, j]
    return sp.Matrix(concrete.as_explicit()).xreplace(mapping)


@cache
def explicit_jacobian(k: int) -> tuple[sp.Matrix, sp.Matrix]:
    """``(J_exact, J_matrix_form)`` for k units: the Jacobian of the unrolled step (SymPy
    ``jacobian``) and :data:`STEP_JACOBIAN` with its coefficients, both in terms of the gate
    net inputs (drives ``p, s, c`` stand for ``W x + b`` of the three maps)."""
    h = _units("h", k)
    Uz, Ur, Uh = _weights("u^z", k), _weights("u^r", k), _weights("u^h", k)
    p, s, c = _units("p", k), _units("s", k), _units("c", k)
    z = (Uz * h + p).applyfunc(_Logistic)
    r = (Ur * h + s).applyfunc(_Logistic)
    ht = (Uh * sp.matrix_multiply_elementwise(r, h) + c).applyfunc(sp.tanh)
    h_new = sp.matrix_multiply_elementwise(sp.ones(k, 1) - z, h) + sp.matrix_multiply_elementwise(
        z, ht
    )
    exact = h_new.jacobian(h)
    coeffs = {
        carousel: sp.ones(k, 1) - z,
        g_z: sp.Matrix(k, 1, lambda i, _: (ht[i] - h[i]) * z[i] * (1 - z[i])),
        g_h: sp.Matrix(k, 1, lambda i, _: z[i] * (1 - ht[i] ** 2)),
        g_r: sp.Matrix(k, 1, lambda i, _: h[i] * r[i] * (1 - r[i])),
        r_vec: r,
        U_z: Uz,
        U_r: Ur,
        U_h: Uh,
    }
    return exact, _explicit(STEP_JACOBIAN, k, coeffs)


def matrix_form(k: int) -> tuple[sp.Matrix, dict[str, sp.Matrix]]:
    """:data:`STEP_JACOBIAN` for k units with the gate values as plain symbols
    ``z_i, r_i, \\tilde h_i, h_i`` (for substitutions such as z = 0); also returns them."""
    z, r, ht, h = _units("z", k), _units("r", k), _units(r"\tilde{h}", k), _units("h", k)
    Uz, Ur, Uh = _weights("u^z", k), _weights("u^r", k), _weights("u^h", k)
    coeffs = {
        carousel: sp.ones(k, 1) - z,
        g_z: sp.Matrix(k, 1, lambda i, _: (ht[i] - h[i]) * z[i] * (1 - z[i])),
        g_h: sp.Matrix(k, 1, lambda i, _: z[i] * (1 - ht[i] ** 2)),
        g_r: sp.Matrix(k, 1, lambda i, _: h[i] * r[i] * (1 - r[i])),
        r_vec: r,
        U_z: Uz,
        U_r: Ur,
        U_h: Uh,
    }
    J = _explicit(STEP_JACOBIAN, k, coeffs)
    return J, {"z": z, "r": r, "htilde": ht, "h": h, "U_z": Uz, "U_r": Ur, "U_h": Uh}


# ---------------------------------------------------------------------------------------
# Sections.
# ---------------------------------------------------------------------------------------
def _section_model() -> Section:
    a = sp.Symbol("a", real=True)
    sig = SQUASHING["logistic"]
    logistic_ok = prove_equal(
        "S3",
        r"$\sigma(a) = 1/(1 + e^{-a})$ has $\sigma' = \sigma(1 - \sigma)$ (the rule the "
        r"symbolic step differentiates with; A1)",
        sp.diff(sig.f, _x).rewrite(sp.exp),
        sig.identity_rhs.rewrite(sp.exp),
    )
    tanh_ok = prove_equal(
        "S3", r"$\tanh' = 1 - \tanh^2$", sp.diff(sp.tanh(a), a), 1 - sp.tanh(a) ** 2
    )
    return Section(
        claims=("S3",),
        title="the GRU step and its convention",
        paper_ref=(
            "Cho et al. (2014), eqs. (5)-(8) (biases added); the convention of Chung et al. (2014)"
        ),
        prose=(
            r"$n$ units with state $h(t)$, input $x(t)$, the logistic $\sigma$ for both gates and "
            r"$\tanh$ for the candidate. Weights $U_z, U_r, U_h$ are $n \times n$ with "
            r"$[U]_{ij}$ from unit $j$ to unit $i$, as the paper's $w_{ij}$. errorflow writes the "
            r"update as $h_i(t) = (1 - z_i)\,h_i(t-1) + z_i\,\tilde h_i$. Cho et al. (2014) and "
            r"PyTorch write $h_i(t) = z_i\,h_i(t-1) + (1 - z_i)\,\tilde h_i$: the other "
            r"convention swaps $z$ and $1 - z$, and every result below holds there with $z$ "
            r"replaced by $1 - z$."
        ),
        steps=[
            Step(
                "update gate",
                r"z(t)",
                r"\sigma\bigl(W_z x(t) + U_z h(t-1) + b_z\bigr)",
                text="z(t) = sigma(W_z x(t) + U_z h(t-1) + b_z)",
            ),
            Step(
                "reset gate",
                r"r(t)",
                r"\sigma\bigl(W_r x(t) + U_r h(t-1) + b_r\bigr)",
                text="r(t) = sigma(W_r x(t) + U_r h(t-1) + b_r)",
            ),
            Step(
                "candidate",
                r"\tilde h(t)",
                r"\tanh\bigl(W_h x(t) + U_h\, \mathrm{diag}(r(t))\, h(t-1) + b_h\bigr)",
                text="htilde(t) = tanh(W_h x(t) + U_h (r(t) * h(t-1)) + b_h)",
            ),
            Step(
                "update",
                r"h_i(t)",
                r"\bigl(1 - z_i(t)\bigr)\, h_i(t-1) + z_i(t)\, \tilde h_i(t)",
                text="h_i(t) = (1 - z_i(t)) h_i(t-1) + z_i(t) htilde_i(t)",
                note=r"Cho et al.'s convention: $h_i(t) = z_i\, h_i(t-1) + (1 - z_i)\,\tilde h_i$.",
            ),
        ],
        proofs=[logistic_ok, tanh_ok],
    )


def _section_jacobian() -> Section:
    proofs = []
    for k in (1, 2, 3):
        exact, form = explicit_jacobian(k)
        ok = all(sp.expand(exact[i, j] - form[i, j]) == 0 for i in range(k) for j in range(k))
        proofs.append(ok)
    jac = Proof(
        "S3",
        r"the matrix form equals the Jacobian of the unrolled step, entry by entry, for "
        r"$n = 1, 2, 3$ (symbolic weights $U_z, U_r, U_h$ and drives)",
        r"SymPy \texttt{jacobian} of the step with $\sigma' = \sigma(1-\sigma)$, "
        r"$\tanh' = 1 - \tanh^2$; expand(lhs - rhs) = 0",
        all(proofs),
    )
    return Section(
        claims=("S3",),
        title=r"the step Jacobian $\partial h(t)/\partial h(t-1)$",
        paper_ref="derived from Cho et al. (2014), eqs. (5)-(8)",
        prose=(
            r"Differentiate $h_i(t) = (1 - z_i) h_i(t-1) + z_i \tilde h_i$ through its three "
            r"paths: directly (the factor $1 - z_i$), through the update gate ($z_i$ depends on "
            r"$h(t-1)$ by $U_z$), and through the candidate, which sees $h(t-1)$ both directly "
            r"(scaled by $r$) and through the reset gate. Error is back-propagated by the "
            r"transpose, $\delta(t-1) = J(t)^T \delta(t)$ with $\delta = \partial E/\partial h$; "
            r"the error-flow matrix over $q$ steps is laid out like Hochreiter's $S(q)$ (B3)."
        ),
        steps=[
            Step(
                "entry",
                r"\frac{\partial h_i(t)}{\partial h_j(t-1)}",
                r"(1 - z_i)\,\delta_{ij} + (\tilde h_i - h_i(t-1))\, z_i (1 - z_i)\, u^z_{ij} "
                r"+ z_i (1 - \tilde h_i^2)\, \rho_{ij}",
                text=(
                    "dh_i(t)/dh_j(t-1) = (1 - z_i) delta_ij + (htilde_i - h_i) z_i (1 - z_i) "
                    "u^z_ij + z_i (1 - htilde_i^2) rho_ij"
                ),
            ),
            Step(
                "candidate path",
                r"\rho_{ij}",
                r"u^h_{ij} r_j + \sum_l u^h_{il}\, h_l(t-1)\, r_l (1 - r_l)\, u^r_{lj}",
                text="rho_ij = u^h_ij r_j + sum_l u^h_il h_l r_l (1 - r_l) u^r_lj",
            ),
            Step(
                "matrix form",
                r"J(t)",
                r"\mathrm{diag}(1 - z) + \mathrm{diag}\bigl((\tilde h - h(t-1))\, z (1 - z)\bigr) "
                r"U_z + \mathrm{diag}\bigl(z (1 - \tilde h^2)\bigr) U_h R(t)",
                text=(
                    "J(t) = diag(1 - z) + diag((htilde - h) z (1 - z)) U_z + diag(z (1 - "
                    "htilde^2)) U_h R(t)"
                ),
            ),
            Step(
                "R",
                r"R(t)",
                r"\mathrm{diag}(r) + \mathrm{diag}(h(t-1)\, r (1 - r))\, U_r",
                text="R(t) = diag(r) + diag(h r (1 - r)) U_r",
            ),
            Step(
                "error step",
                r"\delta(t-1)",
                r"J(t)^T \delta(t)",
                text="delta(t-1) = J(t)^T delta(t)",
            ),
            Step(
                "q steps",
                r"S(q)",
                r"J(t-q+1)^T \cdots J(t-1)^T J(t)^T = "
                r"\Bigl(\frac{\partial h(t)}{\partial h(t-q)}\Bigr)^T",
                text="S(q) = J(t-q+1)^T ... J(t)^T = (dh(t)/dh(t-q))^T",
            ),
        ],
        proofs=[jac],
    )


def _section_carousel() -> Section:
    J, v = matrix_form(2)
    z = v["z"]
    closed = J.xreplace({z[0]: 0, z[1]: 0})
    closed_ok = all(sp.expand(e) == 0 for e in closed - sp.eye(2))
    opened = J.xreplace({z[0]: 1, z[1]: 1})
    ht, h, r = v["htilde"], v["h"], v["r"]
    rnn_like = (
        sp.diag(*[1 - ht[i] ** 2 for i in range(2)])
        * v["U_h"]
        * (sp.diag(*r) + sp.diag(*[h[i] * r[i] * (1 - r[i]) for i in range(2)]) * v["U_r"])
    )
    open_ok = all(sp.expand(e) == 0 for e in opened - rnn_like)
    # Carousel part alone: with U_z = U_h = 0 the Jacobian is diag(1 - z).
    no_rec = J.xreplace({w: 0 for w in (*v["U_z"], *v["U_h"])})
    diag_ok = all(sp.expand(e) == 0 for e in no_rec - sp.diag(*[1 - zi for zi in z]))
    a = sp.Symbol("a", real=True)
    gate_closed = sp.limit(SQUASHING["logistic"].f.subs(_x, a), a, -sp.oo) == 0
    # Near the closed gate every other term carries a factor z_i: J - I = diag(z) (...).
    near = J - sp.eye(2)
    factor_ok = all(
        sp.expand(near[i, j].xreplace({z[i]: 0})) == 0 for i in range(2) for j in range(2)
    )
    return Section(
        claims=("S3",),
        title="the carousel-like part and GRU's constant error carousel",
        paper_ref="compare the CEC of section 3.2 (C1) and L3",
        prose=(
            r"The first term, $\mathrm{diag}(1 - z)$, is a carousel with self-weight $1 - z_i$: "
            r"with no recurrent weights into the gates and candidate ($U_z = U_h = 0$) it is the "
            r"whole Jacobian, the analogue of the forget-gated carousel (S1). Every other term "
            r"carries a factor $z_i$ in row $i$. So with the update gate closed, $z = 0$ (its net "
            r"input $\to -\infty$), $J(t) = I$ exactly: error flows back unchanged, as through "
            r"the CEC (C1, L3), but without truncation. With the gate fully open, $z = 1$, the "
            r"unit forgets $h(t-1)$ except through $U_h$: a conventional tanh layer whose "
            r"recurrence is gated by $r$ (section 3.1's decay applies)."
        ),
        steps=[
            Step(
                "carousel part",
                r"J(t)\big|_{U_z = U_h = 0}",
                r"\mathrm{diag}(1 - z(t))",
                text="J(t) with U_z = U_h = 0 is diag(1 - z(t))",
            ),
            Step(
                "gate closed",
                r"J(t)\big|_{z = 0}",
                r"I",
                text="J(t) at z = 0 is the identity (GRU's constant error carousel)",
            ),
            Step(
                "near closed",
                r"J(t) - I",
                r"\mathrm{diag}(z)\, \bigl(-I + M(t)\bigr)",
                text="J(t) - I = diag(z) (-I + M(t))",
            ),
            Step(
                "M",
                r"M(t)",
                r"\mathrm{diag}((\tilde h - h)(1 - z)) U_z + "
                r"\mathrm{diag}(1 - \tilde h^2) U_h (\mathrm{diag}(r) + \mathrm{diag}(h\, r(1-r)) "
                r"U_r)",
                text="M(t) = diag((htilde - h)(1 - z)) U_z + diag(1 - htilde^2) "
                "U_h (diag(r) + diag(h r (1 - r)) U_r)",
            ),
            Step(
                "gate open",
                r"J(t)\big|_{z = 1}",
                r"\mathrm{diag}(1 - \tilde h^2)\, U_h \bigl(\mathrm{diag}(r) + "
                r"\mathrm{diag}(h(t-1)\, r(1 - r))\, U_r\bigr)",
                text="J(t) at z = 1 is diag(1 - htilde^2) U_h (diag(r) + diag(h r (1 - r)) U_r)",
            ),
        ],
        proofs=[
            Proof(
                "S3",
                r"$J(t) = \mathrm{diag}(1 - z)$ when $U_z = U_h = 0$ ($n = 2$)",
                "substitution, expand = 0",
                diag_ok,
            ),
            Proof(
                "S3",
                r"$J(t) = I$ at $z = 0$ for all $r$, $\tilde h$, $h$ and weights ($n = 2$)",
                "substitution, expand(J - I) = 0",
                closed_ok,
            ),
            Proof(
                "S3",
                r"row $i$ of $J(t) - I$ vanishes at $z_i = 0$ (every term has a factor $z_i$)",
                "substitution, expand = 0, each entry",
                factor_ok,
            ),
            Proof(
                "S3",
                r"$\sigma(a) \to 0$ as $a \to -\infty$: the gate closes",
                "limit",
                gate_closed,
            ),
            Proof(
                "S3",
                r"at $z = 1$: $J(t) = \mathrm{diag}(1 - \tilde h^2) U_h (\mathrm{diag}(r) + "
                r"\mathrm{diag}(h\,r(1-r)) U_r)$ ($n = 2$)",
                "substitution, expand(lhs - rhs) = 0",
                open_ok,
            ),
        ],
    )


def _section_bounds() -> Section:
    zz, kap, zeta = sp.symbols("z kappa zeta", real=True)
    qi = sp.Symbol("q", integer=True, positive=True)
    s = sp.Symbol("s", real=True)
    quarter = maximum(s * (1 - s), s, sp.Interval(0, 1)) == sp.Rational(1, 4)
    row = (1 - zz) + zz * kap
    identity = is_zero(row - (1 - zz * (1 - kap)))
    # monotone in z when kappa < 1: the bound at z >= zeta is below the bound at zeta
    gap = sp.factor((1 - zeta * (1 - kap)) - (1 - zz * (1 - kap)))
    mono = is_zero(gap - (zz - zeta) * (1 - kap))
    a = sp.Symbol("a", positive=True)
    decay = sp.limit((1 / (1 + a)) ** qi, qi, sp.oo) == 0
    e1, e2, e3 = sp.symbols("e_1:4", nonnegative=True)
    A = [sp.MatrixSymbol(f"E_{i}", 2, 2) for i in (1, 2, 3)]
    prod = sp.expand(
        ((sp.eye(2) + A[0]) * (sp.eye(2) + A[1]) * (sp.eye(2) + A[2])).as_explicit() - sp.eye(2)
    )
    terms = sp.expand(
        (
            A[0] + A[1] + A[2] + A[0] * A[1] + A[0] * A[2] + A[1] * A[2] + A[0] * A[1] * A[2]
        ).as_explicit()
    )
    near_ok = all(sp.expand(e) == 0 for e in prod - terms) and is_zero(
        sp.expand((1 + e1) * (1 + e2) * (1 + e3) - 1)
        - (e1 + e2 + e3 + e1 * e2 + e1 * e3 + e2 * e3 + e1 * e2 * e3)
    )
    return Section(
        claims=("S3",),
        title="when products of GRU Jacobians decay, and when they stay near 1",
        paper_ref="derived; compare B6/B9 (section 3.1) and S4",
        prose=(
            r"Assume $|h(t-1)| \le 1$ (true for all $t$ when $|h(0)| \le 1$, since $h(t)$ is a "
            r"convex combination of $h(t-1)$ and $\tilde h \in (-1, 1)$), so "
            r"$|\tilde h_i - h_i| \le 2$, and use $0 < z, r < 1$, $r(1-r) \le 1/4$ and "
            r"$1 - \tilde h^2 \le 1$. With the max-row-sum norm $\|\cdot\|_\infty$ (the $\|W\|_A$ "
            r"of B9) row $i$ of $J(t)$ sums to at most $1 - z_i + z_i \kappa$. If $\kappa < 1$ "
            r"and the update gate stays open at least $z_{min} > 0$, the products decay "
            r"exponentially. If instead $z$ is small (the gate nearly closed), $J = I + E$ with "
            r"$\|E\|_\infty \le z_{max}(1 + \kappa)$ and the product stays near the identity for "
            r"$q\, z_{max}(1 + \kappa) \ll 1$: the GRU's error carousel. With "
            r"$\kappa \ge 1$ nothing is guaranteed (as for B9's bound with $\|W\|_A \ge 4$)."
        ),
        steps=[
            Step(
                "kappa",
                r"\kappa",
                r"2\,\|U_z\|_\infty + \|U_h\|_\infty \bigl(1 + \tfrac14 \|U_r\|_\infty\bigr)",
                text="kappa = 2 ||U_z||_inf + ||U_h||_inf (1 + ||U_r||_inf / 4)",
            ),
            Step(
                "row bound",
                r"\sum_j \Bigl|\frac{\partial h_i(t)}{\partial h_j(t-1)}\Bigr|",
                r"(1 - z_i) + z_i\, \kappa = 1 - z_i (1 - \kappa)",
                rel="<=",
                text="sum_j |dh_i(t)/dh_j(t-1)| <= (1 - z_i) + z_i kappa = 1 - z_i (1 - kappa)",
            ),
            Step(
                "one step",
                r"\|J(t)\|_\infty",
                r"\max_i \bigl(1 - z_i(t) (1 - \kappa)\bigr) = 1 - z_{min}(t)\,(1 - \kappa)",
                rel="<=",
                text="||J(t)||_inf <= max_i (1 - z_i(t)(1 - kappa)) = 1 - z_min(t)(1 - kappa) "
                "(kappa <= 1)",
            ),
            Step(
                "decay",
                r"\Bigl\|\frac{\partial h(t)}{\partial h(t-q)}\Bigr\|_\infty",
                r"\prod_{m=0}^{q-1} \bigl(1 - z_{min}(t-m)\,(1 - \kappa)\bigr) \le "
                r"\bigl(1 - \zeta (1 - \kappa)\bigr)^q",
                rel="<=",
                text="||dh(t)/dh(t-q)||_inf <= prod_m (1 - z_min(t-m)(1 - kappa)) <= "
                "(1 - zeta (1 - kappa))^q when z >= zeta, kappa < 1",
                note=r"$\zeta \le z_i(t-m)$ for all $i$, $m$; the rate is $< 1$ iff "
                r"$\kappa < 1$ and $\zeta > 0$.",
            ),
            Step(
                "near identity",
                r"\Bigl\|\frac{\partial h(t)}{\partial h(t-q)} - I\Bigr\|_\infty",
                r"\prod_{m=0}^{q-1} \bigl(1 + z_{max}(t-m) (1 + \kappa)\bigr) - 1",
                rel="<=",
                text="||dh(t)/dh(t-q) - I||_inf <= prod_m (1 + z_max(t-m)(1 + kappa)) - 1",
                note=r"expanding $\prod (I + E_m) - I$ into its $2^q - 1$ products of $E$'s and "
                r"bounding each by the product of norms.",
            ),
        ],
        proofs=[
            Proof(
                "S3",
                r"$\max_{0 \le s \le 1} s(1 - s) = 1/4$ (the gate slopes)",
                "sympy.calculus.util.maximum",
                quarter,
            ),
            Proof(
                "S3",
                r"$(1 - z) + z\kappa = 1 - z(1 - \kappa)$, and "
                r"$(1 - \zeta(1-\kappa)) - (1 - z(1-\kappa)) = (z - \zeta)(1 - \kappa) \ge 0$ "
                r"for $z \ge \zeta$, $\kappa \le 1$: the row bound is largest at $z_{min}$",
                "simplify(lhs - rhs) = 0",
                identity and mono,
            ),
            Proof(
                "S3",
                r"$(1 + a)^{-q} \to 0$ for $a > 0$: a rate below 1 decays",
                "limit",
                decay,
            ),
            Proof(
                "S3",
                r"$\prod_{m=1}^{3}(I + E_m) - I$ is the sum of the $7$ products of distinct "
                r"$E$'s, matching $\prod (1 + e_m) - 1$ term by term",
                "expand(lhs - rhs) = 0 (2 x 2 matrices)",
                near_ok,
            ),
        ],
    )


def step_flops() -> dict[str, sp.Expr]:
    """Operation counts (n units, m inputs) of one forward step and one error step, summed
    from the generated kernels' expressions (matrix products ``2abc``, elementwise 1/entry)."""
    from errorflow.codegen.printer import flop_count  # codegen is SymPy-only too

    gates = 2 * flop_count(GATE_INPUT) + flop_count(CANDIDATE_INPUT)
    pointwise = {
        "nonlinearities": 3 * n,
        "blend": sp.Integer(sp.count_ops(_blend_expr())) * n,
        "coefficients": sp.Integer(_coefficient_ops()) * n,
    }
    forward = sp.expand(gates + pointwise["nonlinearities"] + pointwise["blend"])
    backward = sp.expand(
        flop_count(CANDIDATE_ERROR) + flop_count(ERROR_STEP) + pointwise["coefficients"]
    )
    jac = sp.expand(flop_count(STEP_JACOBIAN) + pointwise["coefficients"])
    return {"forward": forward, "error_step": backward, "jacobian": jac}


def _section_cost() -> Section:
    flops = step_flops()
    lead = sp.Poly(flops["error_step"], n).LC()
    return Section(
        claims=("S3",),
        title="cost per step and memory",
        paper_ref="derived from the generated kernels",
        prose=(
            r"One forward step evaluates three affine maps ($2nm + 2n^2$ operations each) and "
            r"three elementwise nonlinearities; back-propagating the error one step, "
            r"$\delta(t-1) = J(t)^T \delta(t)$, needs three transposed matrix-vector products "
            r"and never forms $J$ ($O(n^2)$, like BPTT's $W^T\vartheta$). Forming $J(t)$ itself "
            r"costs $O(n^3)$ (the product $U_h\,\mathrm{diag}(g_r)\,U_r$). Full BPTT stores the "
            r"$T$ states, $O(Tn)$ memory."
        ),
        steps=[
            Step(
                "forward",
                r"\mathrm{ops}_{fwd}",
                flops["forward"],
                text=f"forward step: {flops['forward']} operations",
            ),
            Step(
                "error step",
                r"\mathrm{ops}_{\delta}",
                flops["error_step"],
                text=f"error step: {flops['error_step']} operations",
            ),
            Step(
                "Jacobian",
                r"\mathrm{ops}_{J}",
                flops["jacobian"],
                text=f"forming J(t): {flops['jacobian']} operations",
            ),
        ],
        proofs=[
            Proof(
                "S3",
                rf"the error step costs ${sp.latex(lead)}\,n^2 + O(n)$ operations, "
                r"independent of $T$ and $m$",
                "flop count of the generated expressions",
                bool(sp.degree(flops["error_step"], n) == 2)
                and m_in not in flops["error_step"].free_symbols,
            )
        ],
    )


def _blend_expr() -> sp.Expr:
    z, ht, h = sp.symbols("z htilde h_prev", real=True)
    return (1 - z) * h + z * ht


def _coefficient_exprs() -> tuple[tuple[sp.Symbol, ...], tuple[sp.Expr, ...]]:
    z, r, ht, h = sp.symbols("z r htilde h_prev", real=True)
    return (z, r, ht, h), (1 - z, (ht - h) * z * (1 - z), z * (1 - ht**2), h * r * (1 - r))


def _coefficient_ops() -> int:
    _, outs = _coefficient_exprs()
    reps, reduced = sp.cse(list(outs))
    return sum(sp.count_ops(e) for _, e in reps) + sum(sp.count_ops(e) for e in reduced)


@cache
def derivation() -> Derivation:
    """The GRU derivation (S3), every proof evaluated."""
    return Derivation(
        name="gru",
        title="The gated recurrent unit: step Jacobian and error flow",
        source="Cho et al. (2014), Chung et al. (2014); SPEC S3",
        notation=(
            r"$h(t) \in (-1, 1)^n$ is the state, $z(t)$ the update gate, $r(t)$ the reset gate, "
            r"$\tilde h(t)$ the candidate; $[U]_{ij}$ is the weight from unit $j$ to unit $i$; "
            r"$\|\cdot\|_\infty$ is the max-row-sum norm; $\delta = \partial E/\partial h$."
        ),
        sections=[
            _section_model(),
            _section_jacobian(),
            _section_carousel(),
            _section_bounds(),
            _section_cost(),
        ],
    )


def kernel_specs() -> list[KernelSpec]:
    """The GRU kernels codegen prints (S3)."""
    (z, r, ht, h), coeffs = _coefficient_exprs()
    zb, htb, hb = sp.symbols("z htilde h_prev", real=True)
    return [
        KernelSpec(
            name="gate_input",
            summary="Net input of a gate, W x(t) + U h(t-1) + b (update gate or reset gate).",
            math=sp.sstr(GATE_INPUT),
            claims=("S3",),
            args=(
                KernelArg("W", "(n, m) input weights"),
                KernelArg("x", "(m,) input x(t)"),
                KernelArg("U", "(n, n) recurrent weights, U[i, j] from unit j to unit i"),
                KernelArg("h_prev", "(n,) state h(t-1)"),
                KernelArg("b", "(n,) bias"),
            ),
            symbols=(_W, _x_in, _U, h_prev, _b),
            outputs=(GATE_INPUT,),
            kind="matrix",
        ),
        KernelSpec(
            name="candidate_input",
            summary="Net input of the candidate, W_h x(t) + U_h (r(t) * h(t-1)) + b_h.",
            math=sp.sstr(CANDIDATE_INPUT),
            claims=("S3",),
            args=(
                KernelArg("W", "(n, m) input weights W_h"),
                KernelArg("x", "(m,) input x(t)"),
                KernelArg("U", "(n, n) recurrent weights U_h"),
                KernelArg("r", "(n,) reset gate r(t)"),
                KernelArg("h_prev", "(n,) state h(t-1)"),
                KernelArg("b", "(n,) bias b_h"),
            ),
            symbols=(_W, _x_in, _U, r_vec, h_prev, _b),
            outputs=(CANDIDATE_INPUT,),
            kind="matrix",
        ),
        KernelSpec(
            name="blend",
            summary="The state update h(t) = (1 - z) h(t-1) + z htilde, elementwise.",
            math=sp.sstr(_blend_expr()),
            claims=("S3",),
            args=(
                KernelArg("z", "update gate z(t), any shape"),
                KernelArg("htilde", "candidate htilde(t), same shape"),
                KernelArg("h_prev", "state h(t-1), same shape"),
            ),
            symbols=(zb, htb, hb),
            outputs=(_blend_expr(),),
        ),
        KernelSpec(
            name="jacobian_coefficients",
            summary=(
                "The diagonal factors of dh(t)/dh(t-1): c = 1 - z (the carousel part), "
                "g_z = (htilde - h) z (1 - z), g_h = z (1 - htilde^2), g_r = h r (1 - r)."
            ),
            math="; ".join(sp.sstr(e) for e in coeffs),
            claims=("S3",),
            args=(
                KernelArg("z", "update gate z(t), any shape"),
                KernelArg("r", "reset gate r(t), same shape"),
                KernelArg("htilde", "candidate htilde(t), same shape"),
                KernelArg("h_prev", "state h(t-1), same shape"),
            ),
            symbols=(z, r, ht, h),
            outputs=coeffs,
        ),
        KernelSpec(
            name="step_jacobian",
            summary="The GRU step Jacobian J(t) = dh(t)/dh(t-1) (S3).",
            math=sp.sstr(STEP_JACOBIAN),
            claims=("S3",),
            args=(
                KernelArg("c", "(n,) 1 - z(t)"),
                KernelArg("g_z", "(n,) (htilde - h(t-1)) z (1 - z)"),
                KernelArg("U_z", "(n, n) update-gate recurrent weights"),
                KernelArg("g_h", "(n,) z (1 - htilde^2)"),
                KernelArg("U_h", "(n, n) candidate recurrent weights"),
                KernelArg("r", "(n,) reset gate r(t)"),
                KernelArg("g_r", "(n,) h(t-1) r (1 - r)"),
                KernelArg("U_r", "(n, n) reset-gate recurrent weights"),
            ),
            symbols=(carousel, g_z, U_z, g_h, U_h, r_vec, g_r, U_r),
            outputs=(STEP_JACOBIAN,),
            kind="matrix",
        ),
        KernelSpec(
            name="candidate_error",
            summary="The candidate's back-propagated share e = U_h^T (g_h * delta(t)).",
            math=sp.sstr(CANDIDATE_ERROR),
            claims=("S3",),
            args=(
                KernelArg("g_h", "(n,) z (1 - htilde^2)"),
                KernelArg("U_h", "(n, n) candidate recurrent weights"),
                KernelArg("delta", "(n,) dE/dh(t)"),
            ),
            symbols=(g_h, U_h, delta),
            outputs=(CANDIDATE_ERROR,),
            kind="matrix",
        ),
        KernelSpec(
            name="error_step",
            summary=(
                "One back-propagated error step delta(t-1) = J(t)^T delta(t), without forming J."
            ),
            math=sp.sstr(ERROR_STEP),
            claims=("S3",),
            args=(
                KernelArg("c", "(n,) 1 - z(t)"),
                KernelArg("delta", "(n,) dE/dh(t)"),
                KernelArg("g_z", "(n,) (htilde - h(t-1)) z (1 - z)"),
                KernelArg("U_z", "(n, n) update-gate recurrent weights"),
                KernelArg("r", "(n,) reset gate r(t)"),
                KernelArg("e", "(n,) candidate_error(g_h, U_h, delta)"),
                KernelArg("g_r", "(n,) h(t-1) r (1 - r)"),
                KernelArg("U_r", "(n, n) reset-gate recurrent weights"),
            ),
            symbols=(carousel, delta, g_z, U_z, r_vec, e_cand, g_r, U_r),
            outputs=(ERROR_STEP,),
            kind="matrix",
        ),
        KernelSpec(
            name="chain_step",
            summary="One step of the q-step error-flow matrix, S(m) = J(t-m+1)^T S(m-1).",
            math=sp.sstr(CHAIN_STEP),
            claims=("S3",),
            args=(
                KernelArg("J", "(n, n) step Jacobian J(t-m+1)"),
                KernelArg("S", "(n, k) S(m-1)"),
            ),
            symbols=(J_sym, S_prev),
            outputs=(CHAIN_STEP,),
            kind="matrix",
        ),
    ]
