r"""The spectral-norm bound of Pascanu, Mikolov & Bengio (2013), and its relation to B9 (SPEC S4).

Pascanu et al. write the recurrent net as ``x_t = W sigma(x_{t-1}) + W_in u_t + b`` (their eq.
2): ``x_t`` is exactly the paper's net input ``net(t)`` (``net(t) = W y(t-1) + input``,
``y = f(net)``), so their Jacobian products are Hochreiter's scaling factor transposed:
``dx_t/dx_{t-q} = W F'(t-1) ... W F'(t-q) = S(q)^T`` (B3).

This module derives, and proves with SymPy where a proof exists:

* the step Jacobian ``dx_t/dx_{t-1} = W diag(sigma'(x_{t-1}))``, and that their eq. (5), which
  prints ``W^T diag(sigma')``, is an erratum (a concrete counterexample; the norms are
  unaffected because ``||W^T||_2 = ||W||_2``);
* ``||dx_t/dx_k||_2 <= (gamma sigma_max(W))^(t-k)`` with ``gamma = sup sigma'`` (1/4 logistic,
  1 tanh), so ``sigma_max(W) < 1/gamma`` suffices for vanishing and ``sigma_max(W) > 1/gamma``
  is necessary for explosion;
* linear units: ``dx_t/dx_k = W^(t-k)``; spectral radius ``rho < 1`` suffices for vanishing,
  ``rho > 1`` is necessary for exponential explosion (Jordan blocks at ``|lambda| = 1`` grow
  only polynomially);
* the link to B9: both are ``f'_max ||W|| < 1`` in an induced norm (max-row-sum for B9, the
  spectral norm here). B9's extra factor n comes from its scalar u -> v formulation
  (``|x^T y| <= n ||x||_inf ||y||_inf``); an entry is bounded by the induced norm itself, so
  ``|S[v, u]| <= (f'_max ||W||_inf)^q`` holds without it. Neither norm dominates: concrete
  matrices where each is the smaller, equality for diagonal and all-equal matrices.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .bptt import explicit_weights, matrix_product
from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero
from .notation import Slope, t
from .squashing import SQUASHING
from .squashing import x as _x

__all__ = [
    "GENERATED_DOC",
    "JACOBIAN",
    "derivation",
    "kernel_specs",
    "norm_examples",
    "pascanu_product",
]

n = sp.Symbol("n", integer=True, positive=True)
W = sp.MatrixSymbol("W", n, n)
fp = sp.MatrixSymbol("fp", n, 1)
#: S4: Pascanu's step Jacobian ``dx_t/dx_{t-1} = W diag(sigma'(x_{t-1}))``, written as the
#: transpose of a row scaling of ``W^T`` (O(n^2), no dense diagonal).
JACOBIAN = sp.Transpose(sp.DiagMatrix(fp) * W.T)

GENERATED_DOC = """Kernels of the spectral-norm bound of Pascanu, Mikolov & Bengio (2013) (SPEC S4),
printed from errorflow.derivations.spectral. W[i, j] is the weight from unit j to unit i; x_t is
the net input, x_t = W sigma(x_{t-1}) + W_in u_t + b."""

_gamma, _sigma, _q = sp.symbols("gamma sigma_max q", positive=True)
#: ``log (gamma sigma_max)^q``: the bound in log space (no underflow at long lags).
LOG_BOUND = _q * (sp.log(_gamma) + sp.log(_sigma))
#: The per-step bound ``||W diag(sigma')||_2 <= sigma_max(W) max_i |sigma'_i|``.
_fmax = sp.Symbol("fp_max", nonnegative=True)
STEP_BOUND = _fmax * _sigma


class _Sig(sp.Function):
    """An arbitrary differentiable squashing function (Pascanu's sigma)."""


def pascanu_product(q: int, k: int) -> sp.Matrix:
    """``dx_t/dx_{t-q} = prod_{m=1}^{q} W diag(f'(net(t-m)))`` (m = 1 leftmost), k units,
    with the paper's slope symbols ``f'_l(net_l(t-m))``."""
    Wk = explicit_weights(k)
    P = sp.eye(k)
    for m in range(1, q + 1):
        P = P * Wk * sp.diag(*[Slope(i + 1, t - m) for i in range(k)])
    return P


def norm_examples(k: int = 3) -> dict[str, tuple[sp.Matrix, sp.Expr, sp.Expr]]:
    """Matrices ``name -> (W, ||W||_inf, ||W||_2)`` (exact) showing that neither norm
    dominates: a column of ones (max-row-sum smaller), a row of ones (spectral smaller), the
    all-ones matrix and a diagonal (equal)."""
    col = sp.zeros(k, k)
    row = sp.zeros(k, k)
    for i in range(k):
        col[i, 0] = 1
        row[0, i] = 1
    diag = sp.diag(*[sp.Rational(i + 1, k) for i in range(k)])
    out = {}
    for name, M in (("column", col), ("row", row), ("ones", sp.ones(k, k)), ("diagonal", diag)):
        inf = max(sum(abs(M[i, j]) for j in range(k)) for i in range(k))
        two = sp.sqrt(max((M.T * M).eigenvals()))
        out[name] = (M, sp.nsimplify(inf), sp.simplify(two))
    return out


def _section_jacobian() -> Section:
    k = 2
    xs = sp.Matrix(k, 1, lambda i, _: sp.Symbol(f"x_{i + 1}", real=True))
    Wk = explicit_weights(k)
    step = Wk * xs.applyfunc(_Sig)
    exact = step.jacobian(xs)
    slopes = sp.diag(*[sp.diff(_Sig(xs[i]), xs[i]) for i in range(k)])
    correct = all(is_zero(e) for e in exact - Wk * slopes)
    printed = Wk.T * slopes
    concrete = {Wk[0, 0]: 0, Wk[0, 1]: 1, Wk[1, 0]: 0, Wk[1, 1]: 0}
    gap = (printed - exact).xreplace(concrete)
    erratum = any(not is_zero(e) for e in gap)
    same = []
    for kk in (1, 2, 3):
        for qq in (1, 2, 3):
            diff = pascanu_product(qq, kk).T - matrix_product(qq, kk)
            same.append(all(sp.expand(e) == 0 for e in diff))
    return Section(
        claims=("S4",),
        title="Pascanu's Jacobian, its eq. (5) erratum, and Hochreiter's S(q)",
        paper_ref="Pascanu, Mikolov \\& Bengio (2013), eqs. (2), (5)",
        prose=(
            r"Pascanu et al.'s state is the net input: $x_t = W\sigma(x_{t-1}) + W_{in} u_t + b$ "
            r"is $net(t) = W y(t-1) + \text{input}$ with $y = f(net)$. Their eq. (5) prints the "
            r"step Jacobian as $W^T \mathrm{diag}(\sigma'(x_{i-1}))$; differentiating eq. (2) "
            r"gives $W\,\mathrm{diag}(\sigma'(x_{i-1}))$ (a known erratum, PAPER 7.2). The norms "
            r"are unaffected, $\|W^T\|_2 = \|W\|_2$. The product over $q$ steps is Hochreiter's "
            r"scaling factor transposed (B3(b))."
        ),
        steps=[
            Step(
                "step",
                r"\frac{\partial x_t}{\partial x_{t-1}}",
                r"W\, \mathrm{diag}\bigl(\sigma'(x_{t-1})\bigr)",
                text="dx_t/dx_(t-1) = W diag(sigma'(x_(t-1)))",
            ),
            Step(
                "eq. (5) as printed",
                r"\frac{\partial x_t}{\partial x_{t-1}}",
                r"W^T \mathrm{diag}\bigl(\sigma'(x_{t-1})\bigr)",
                rel="!=",
                text="eq. (5) prints W^T diag(sigma'(x_(t-1))): an erratum",
            ),
            Step(
                "q steps",
                r"\frac{\partial x_t}{\partial x_{t-q}}",
                r"W F'(t-1)\, W F'(t-2) \cdots W F'(t-q) = S(q)^T",
                text="dx_t/dx_(t-q) = W F'(t-1) W F'(t-2) ... W F'(t-q) = S(q)^T",
            ),
        ],
        proofs=[
            Proof(
                "S4",
                r"$\partial (W\sigma(x))/\partial x = W\,\mathrm{diag}(\sigma'(x))$ for any "
                r"differentiable $\sigma$ ($n = 2$)",
                "SymPy jacobian, simplify(lhs - rhs) = 0",
                correct,
            ),
            Proof(
                "S4",
                r"eq. (5) as printed is wrong: with $w_{12} = 1$ and all other weights 0, "
                r"$W^T \mathrm{diag}(\sigma') - \partial x_t/\partial x_{t-1} \ne 0$",
                "concrete symbolic counterexample",
                erratum,
            ),
            Proof(
                "S4",
                r"$\prod_{m=1}^{q} W F'(t-m) = S(q)^T$ with B3's $S(q)$, $n, q \le 3$",
                "expand(lhs - rhs) = 0, every entry",
                all(same),
            ),
        ],
    )


def _section_bound() -> Section:
    gam = {k: SQUASHING[k].sup for k in ("logistic", "tanh")}
    sup_ok = all(sp.calculus.util.maximum(SQUASHING[k].df, _x, sp.S.Reals) == gam[k] for k in gam)
    d = sp.symbols("d_1:4", real=True)
    D = sp.diag(*d)
    diag_ok = {sp.sqrt(ev) for ev in (D.T * D).eigenvals()} == {sp.Abs(di) for di in d}
    eta, a = sp.Symbol("eta", positive=True), sp.Symbol("a", positive=True)
    qi = sp.Symbol("q", integer=True, positive=True)
    vanish = sp.limit((1 / (1 + a)) ** qi, qi, sp.oo) == 0
    log_ok = is_zero(sp.expand_log(sp.log((_gamma * _sigma) ** _q), force=True) - LOG_BOUND)
    return Section(
        claims=("S4",),
        title=r"the bound $(\gamma\,\sigma_{max}(W))^{t-k}$",
        paper_ref="Pascanu, Mikolov \\& Bengio (2013), eqs. (6)-(7)",
        prose=(
            r"With $\gamma = \sup \sigma'$ (A1, A2: $1/4$ for the logistic, $1$ for $\tanh$) "
            r"every diagonal factor has $\|\mathrm{diag}(\sigma')\|_2 = \max_i |\sigma'_i| \le "
            r"\gamma$, and $\|AB\|_2 \le \|A\|_2 \|B\|_2$. So $\sigma_{max}(W) < 1/\gamma$ "
            r"makes every step a contraction, $\eta = \gamma\,\sigma_{max}(W) < 1$, and the "
            r"long-term contributions vanish like $\eta^{t-k}$. Conversely, explosion needs "
            r"$\sigma_{max}(W) > 1/\gamma$: at or below it the product stays bounded by 1."
        ),
        steps=[
            Step(
                "one step",
                r"\Bigl\|\frac{\partial x_{i}}{\partial x_{i-1}}\Bigr\|_2",
                r"\|W\|_2\, \bigl\|\mathrm{diag}(\sigma'(x_{i-1}))\bigr\|_2 \le "
                r"\sigma_{max}(W)\, \gamma = \eta",
                rel="<=",
                text="||dx_i/dx_(i-1)||_2 <= ||W||_2 ||diag(sigma')||_2 <= sigma_max(W) gamma",
            ),
            Step(
                "q steps",
                r"\Bigl\|\frac{\partial x_t}{\partial x_k}\Bigr\|_2",
                r"\prod_{i=k+1}^{t} \Bigl\|\frac{\partial x_{i}}{\partial x_{i-1}}\Bigr\|_2 \le "
                r"\bigl(\gamma\, \sigma_{max}(W)\bigr)^{t-k}",
                rel="<=",
                text="||dx_t/dx_k||_2 <= prod ||dx_i/dx_(i-1)||_2 <= (gamma sigma_max(W))^(t-k)",
            ),
            Step(
                "sufficient",
                r"\sigma_{max}(W) < \frac{1}{\gamma}",
                r"\Bigl\|\frac{\partial x_t}{\partial x_k}\Bigr\|_2 \to 0",
                rel=r"\Rightarrow",
                text="sigma_max(W) < 1/gamma => ||dx_t/dx_k||_2 -> 0 (gamma: 1/4 logistic, 1 tanh)",
            ),
            Step(
                "log form",
                r"\log \bigl(\gamma\, \sigma_{max}(W)\bigr)^q",
                LOG_BOUND,
                text="log (gamma sigma_max)^q = q (log gamma + log sigma_max)",
            ),
        ],
        proofs=[
            Proof(
                "S4",
                r"$\gamma = \sup \sigma' = 1/4$ for the logistic and $1$ for $\tanh$",
                "sympy.calculus.util.maximum over the reals",
                sup_ok,
            ),
            Proof(
                "S4",
                r"the singular values of $\mathrm{diag}(d_1, d_2, d_3)$ are $|d_i|$, so "
                r"$\|\mathrm{diag}(d)\|_2 = \max_i |d_i|$",
                r"eigenvalues of $D^T D$",
                diag_ok,
            ),
            Proof(
                "S4",
                r"$\eta^q \to 0$ for $\eta = 1/(1+a) < 1$",
                "limit",
                vanish and eta.is_positive,
            ),
            Proof("S4", "the log form of the bound", "expand_log, simplify = 0", log_ok),
        ],
    )


def _section_linear() -> Section:
    lam = sp.Symbol("lambda", positive=True)
    qi = sp.Symbol("q", integer=True, positive=True)
    Jb = sp.Matrix([[lam, 1], [0, lam]])
    power = Jb**qi
    closed = sp.Matrix([[lam**qi, qi * lam ** (qi - 1)], [0, lam**qi]])
    jordan_ok = all(sp.simplify(e) == 0 for e in power - closed)
    # |lambda| < 1: even the off-diagonal q lambda^(q-1) vanishes (rho < 1 suffices)
    half = sp.Rational(1, 2)
    vanish_ok = sp.limit(qi * half ** (qi - 1), qi, sp.oo) == 0
    # |lambda| = 1: only polynomial growth (no exponential explosion without rho > 1)
    at_one = power.subs(lam, 1)
    poly_ok = all(sp.limit(e / sp.Integer(2) ** qi, qi, sp.oo) == 0 for e in at_one)
    # rho > 1: the eigen-direction grows like rho^q (power iteration)
    r2 = sp.Matrix([[2, 1], [0, sp.Rational(1, 3)]])
    v = sp.Matrix([1, 0])
    grow_ok = all(sp.simplify((r2**k * v)[0] - 2**k) == 0 for k in range(1, 6))
    return Section(
        claims=("S4",),
        title="linear units: the spectral radius",
        paper_ref="Pascanu, Mikolov \\& Bengio (2013), section 3.1 and supplement",
        prose=(
            r"With $\sigma = \mathrm{id}$, $\partial x_t/\partial x_k = W^{t-k}$. By Gelfand's "
            r"formula $\|W^q\|^{1/q} \to \rho(W)$, the spectral radius, so the long-term "
            r"components decay exponentially iff $\rho < 1$ and can grow exponentially only if "
            r"$\rho > 1$ (power iteration: $W^q v$ aligns with the dominant eigenvector and "
            r"grows like $\rho^q$). A Jordan block at $|\lambda| = 1$ grows, but only "
            r"polynomially. Since $\rho(W) \le \sigma_{max}(W)$, the linear condition is the "
            r"sharper one."
        ),
        steps=[
            Step(
                "linear",
                r"\frac{\partial x_t}{\partial x_{t-q}}",
                r"W^q",
                text="dx_t/dx_(t-q) = W^q for linear units",
            ),
            Step(
                "Jordan block",
                r"(\lambda I + N)^q",
                r"\lambda^q I + q\,\lambda^{q-1} N \quad (N^2 = 0)",
                text="(lambda I + N)^q = lambda^q I + q lambda^(q-1) N  (N^2 = 0, 2 x 2 block)",
            ),
            Step(
                "Gelfand",
                r"\lim_{q\to\infty} \|W^q\|^{1/q}",
                r"\rho(W) \le \sigma_{max}(W)",
                text="lim ||W^q||^(1/q) = rho(W) <= sigma_max(W)",
            ),
        ],
        proofs=[
            Proof(
                "S4",
                r"the $q$-th power of a $2 \times 2$ Jordan block in closed form (symbolic $q$)",
                "Matrix power, simplify(lhs - rhs) = 0",
                jordan_ok,
            ),
            Proof(
                "S4",
                r"$q\,\lambda^{q-1} \to 0$ at $\lambda = 1/2$: $\rho < 1$ suffices even with "
                r"a Jordan block",
                "limit",
                vanish_ok,
            ),
            Proof(
                "S4",
                r"at $\lambda = 1$ every entry of the power is $o(2^q)$: without $\rho > 1$ "
                r"no exponential explosion",
                "limit",
                poly_ok,
            ),
            Proof(
                "S4",
                r"$\rho = 2$: the eigen-direction $e_1$ of $W = [[2, 1], [0, 1/3]]$ grows "
                r"exactly like $2^q$ ($q \le 5$)",
                "matrix powers",
                grow_ok,
            ),
        ],
    )


def _section_b9() -> Section:
    ex = norm_examples(3)
    col_ok = ex["column"][1] == 1 and sp.simplify(ex["column"][2] - sp.sqrt(3)) == 0
    row_ok = ex["row"][1] == 3 and sp.simplify(ex["row"][2] - sp.sqrt(3)) == 0
    eq_ok = all(sp.simplify(ex[k][1] - ex[k][2]) == 0 for k in ("ones", "diagonal"))
    wmax = sp.Symbol("w_max", positive=True)
    # |w_ij| <= w_max: ||W||_inf <= n w_max and ||W||_2 <= ||W||_F <= n w_max; equal at
    # the all-equal matrix (rank one, sigma = n w_max).
    ones3 = wmax * sp.ones(3, 3)
    frob = sp.sqrt(sum(e**2 for e in ones3))
    both_ok = (
        sp.simplify(frob - 3 * wmax) == 0
        and sp.simplify(
            sp.sqrt(max((ones3.T * ones3).eigenvals(), key=sp.default_sort_key)) - 3 * wmax
        )
        == 0
    )
    return Section(
        claims=("S4", "B9"),
        title="the same sufficient condition as B9, in another norm",
        paper_ref="PAPER 1.5 and 7.2 (link to section 1.5)",
        prose=(
            r"Hochreiter's weak bound (B9) is $|S(q)_{vu}| \le n\,(f'_{max}\|W\|_A)^q$ with the "
            r"max-row-sum norm $\|W\|_A = \|W\|_\infty$; Pascanu's is $\|S(q)\|_2 \le "
            r"(\gamma\,\|W\|_2)^q$. Both say: if $f'_{max}\,\|W\| < 1$ in an induced matrix "
            r"norm, every step contracts and the flow vanishes (for the logistic: "
            r"$\|W\|_\infty < 4$ versus $\sigma_{max}(W) < 4$). The factor $n$ in B9 comes from "
            r"the scalar $u \to v$ formulation, $|x^T y| \le n\,\|x\|_\infty \|y\|_\infty$; an "
            r"entry is bounded by any induced $p$-norm of the matrix, $|P_{uv}| = "
            r"|e_u^T P e_v| \le \|P\|_p$, so the factor can be dropped. Which condition is "
            r"weaker depends on $W$: $\|W\|_2 \le \sqrt n\,\|W\|_\infty$ and $\|W\|_\infty "
            r"\le \sqrt n\,\|W\|_2$, each attained. For a column of ones the max-row-sum "
            r"condition is weaker, for a row of ones the spectral one; they coincide for "
            r"diagonal and all-equal $W$. Hochreiter's example $|w_{ij}| \le w_{max} < 4/n$ "
            r"implies both (the all-equal matrix is the extreme case of each)."
        ),
        steps=[
            Step(
                "B9",
                r"|S(q)_{vu}|",
                r"n\,\bigl(f'_{max}\, \|W\|_\infty\bigr)^q",
                rel="<=",
                text="|S(q)[v,u]| <= n (f'max ||W||_inf)^q   (B9, max-row-sum norm)",
            ),
            Step(
                "S4",
                r"|S(q)_{vu}| \le \|S(q)\|_2",
                r"\bigl(\gamma\, \sigma_{max}(W)\bigr)^q",
                rel="<=",
                text="|S(q)[v,u]| <= ||S(q)||_2 <= (gamma sigma_max(W))^q   (S4)",
            ),
            Step(
                "without n",
                r"|S(q)_{vu}| = \bigl|e_u^T S(q)^T e_v\bigr|",
                r"\|S(q)^T\|_\infty \le \bigl(f'_{max}\, \|W\|_\infty\bigr)^q",
                rel="<=",
                text="|S(q)[v,u]| <= ||S(q)^T||_inf <= (f'max ||W||_inf)^q  (B9 without n)",
            ),
            Step(
                "norms",
                r"\frac{1}{\sqrt{n}}\, \|W\|_\infty",
                r"\|W\|_2 \le \sqrt{n}\, \|W\|_\infty",
                rel="<=",
                text="||W||_inf / sqrt(n) <= ||W||_2 <= sqrt(n) ||W||_inf",
            ),
            Step(
                "column of ones",
                r"\|W\|_\infty = 1",
                r"\sqrt{n} = \|W\|_2",
                rel="<",
                text="W = column of ones: ||W||_inf = 1 < sqrt(n) = ||W||_2",
            ),
            Step(
                "row of ones",
                r"\|W\|_2 = \sqrt{n}",
                r"n = \|W\|_\infty",
                rel="<",
                text="W = row of ones: ||W||_2 = sqrt(n) < n = ||W||_inf",
            ),
        ],
        proofs=[
            Proof(
                "S4",
                r"column of ones ($n = 3$): $\|W\|_\infty = 1 < \sqrt 3 = \|W\|_2$",
                r"exact norms (row sums; eigenvalues of $W^T W$)",
                col_ok,
            ),
            Proof(
                "S4",
                r"row of ones ($n = 3$): $\|W\|_2 = \sqrt 3 < 3 = \|W\|_\infty$",
                r"exact norms",
                row_ok,
            ),
            Proof(
                "S4",
                r"equal norms for the all-ones and a diagonal matrix ($n = 3$)",
                r"exact norms",
                eq_ok,
            ),
            Proof(
                "S4, B9",
                r"$|w_{ij}| = w_{max}$ for all $i, j$ ($n = 3$): $\|W\|_F = \sigma_{max} = "
                r"\|W\|_\infty = n\,w_{max}$, so B9's example is the extreme case of both",
                r"exact norms",
                both_ok,
            ),
        ],
    )


@cache
def derivation() -> Derivation:
    """The spectral-bound derivation (S4), every proof evaluated."""
    return Derivation(
        name="spectral",
        title="The spectral-norm bound and B9",
        source="Pascanu, Mikolov \\& Bengio (2013), ICML, arXiv:1211.5063; SPEC S4",
        notation=(
            r"$x_t = W\sigma(x_{t-1}) + W_{in} u_t + b$ is the net input ($net(t)$ of section "
            r"3.1), $[W]_{ij} = w_{ij}$ from unit $j$ to unit $i$; $\sigma_{max}(W) = \|W\|_2$ "
            r"the largest singular value, $\rho(W)$ the spectral radius, $\gamma = \sup "
            r"\sigma'$; $S(q)$ is Hochreiter's scaling factor (B3)."
        ),
        sections=[_section_jacobian(), _section_bound(), _section_linear(), _section_b9()],
    )


def kernel_specs() -> list[KernelSpec]:
    """The S4 kernels codegen prints: the step Jacobian and the bounds."""
    return [
        KernelSpec(
            name="step_jacobian",
            summary="Pascanu's step Jacobian dx_t/dx_{t-1} = W diag(sigma'(x_{t-1})) (S4).",
            math=sp.sstr(JACOBIAN),
            claims=("S4",),
            args=(
                KernelArg("fp", "(n,) slopes sigma'(x_{t-1})"),
                KernelArg("W", "(n, n) weights, W[i, j] from unit j to unit i"),
            ),
            symbols=(fp, W),
            outputs=(JACOBIAN,),
            kind="matrix",
        ),
        KernelSpec(
            name="log_bound",
            summary="log of the bound (gamma sigma_max(W))^q on ||dx_t/dx_{t-q}||_2 (S4).",
            math=sp.sstr(LOG_BOUND),
            claims=("S4",),
            args=(
                KernelArg("gamma", "sup of the slope (1/4 logistic, 1 tanh), any shape"),
                KernelArg("sigma_max", "largest singular value of W, same shape"),
                KernelArg("q", "lag q = t - k, same shape"),
            ),
            symbols=(_gamma, _sigma, _q),
            outputs=(LOG_BOUND,),
        ),
        KernelSpec(
            name="step_bound",
            summary="The per-step bound ||W diag(sigma')||_2 <= sigma_max(W) max_i sigma'_i.",
            math=sp.sstr(STEP_BOUND),
            claims=("S4",),
            args=(
                KernelArg("fp_max", "largest slope max_i sigma'(x_i) of the step, any shape"),
                KernelArg("sigma_max", "largest singular value of W, same shape"),
            ),
            symbols=(_fmax, _sigma),
            outputs=(STEP_BOUND,),
        ),
    ]
