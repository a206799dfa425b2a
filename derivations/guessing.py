r"""Simple weight guessing (SPEC S10; Schmidhuber & Hochreiter 1996; paper §2 and §5.3).

Guessing draws every weight of a small recurrent net uniformly from ``[-s, s]``, independently
of all earlier draws, and stops at the first net that classifies a test set correctly. The
paper remarks (exp. 3a) that random weight guessing solves Bengio et al.'s 2-sequence problem
faster than LSTM or any published method; §2 adds that this says the problems are simple, not
that guessing is a good algorithm.

The guesses are independent and identically distributed, so with ``p`` the probability that
one guess succeeds (the fraction of the weight box ``[-s, s]^W`` that solves the test set) the
number ``G`` of guesses up to and including the first success is geometric:

* ``P(G = k) = (1 - p)^(k-1) p``, ``sum_k P(G = k) = 1``;
* ``P(G > k) = (1 - p)^k`` (no success in k guesses);
* ``E[G] = 1/p``, ``Var[G] = (1 - p)/p^2``;
* median ``ceil(log 2 / -log(1 - p))`` and ``alpha``-quantile ``ceil(log(1 - alpha) / log(1 - p))``.

No derivative is computed, so there is no error flow: the time lag enters only through
``p(T)``, the density of solutions in weight space. SymPy proves the geometric law here; the
kernels are its expressions (``log1p`` forms that stay accurate for tiny p).

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero

__all__ = [
    "GENERATED_DOC",
    "MEAN",
    "MEDIAN",
    "QUANTILE",
    "SURVIVAL",
    "derivation",
    "kernel_specs",
    "p",
]

p = sp.Symbol("p", positive=True)
k = sp.Symbol("k", positive=True, integer=True)
alpha = sp.Symbol("alpha", positive=True)

#: ``P(G = k)``.
PMF = (1 - p) ** (k - 1) * p
#: ``P(G > k) = (1 - p)^k``, as ``exp(k log1p(-p))``.
SURVIVAL = sp.exp(k * log1p(-p))
#: ``E[G] = 1/p``.
MEAN = 1 / p
#: The median, ``ceil(log 2 / -log(1 - p))``.
MEDIAN = sp.ceiling(sp.log(2) / -log1p(-p))
#: The ``alpha``-quantile, ``ceil(log(1 - alpha) / log(1 - p))``.
QUANTILE = sp.ceiling(log1p(-alpha) / log1p(-p))

GENERATED_DOC = """The geometric law of simple weight guessing (SPEC S10), printed from
errorflow.derivations.guessing: p is the probability that one guess solves the task, the
number of guesses up to and including the first success is geometric."""


def _first_branch(expr: sp.Expr) -> sp.Expr:
    """SymPy's sums come back with Piecewise parts whose first branch holds for
    ``|1 - p| < 1``, which 0 < p < 1 satisfies: keep that branch."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])


def _proofs() -> list[Proof]:
    j = sp.Symbol("j", positive=True, integer=True)
    pmf_j = PMF.subs(k, j)
    total = _first_branch(sp.summation(pmf_j, (j, 1, sp.oo)))
    mean = _first_branch(sp.summation(j * pmf_j, (j, 1, sp.oo)))
    second = _first_branch(sp.summation(j**2 * pmf_j, (j, 1, sp.oo)))
    tail = _first_branch(sp.summation(pmf_j, (j, k + 1, sp.oo)))
    c = sp.log(2) / -sp.log(1 - p)
    at_c = sp.exp(c * sp.log(1 - p))
    a_c = sp.log(1 - alpha) / sp.log(1 - p)
    # below the median the success probability is < 1/2, at it >= 1/2: 1 - (1-p)^x is
    # increasing in x (derivative -(1-p)^x log(1-p) > 0), so the smallest integer with
    # 1 - (1-p)^k >= 1/2 is ceil(c), where (1-p)^c = 1/2.
    x = sp.Symbol("x", positive=True)
    r = sp.Symbol("r", positive=True)  # 1 - p
    increasing = sp.diff(1 - (1 - p) ** x, x)
    small = sp.series(c, p, 0, 1).removeO()
    return [
        Proof(
            "S10",
            r"$\sum_{k \ge 1} (1-p)^{k-1} p = 1$",
            "summation, simplify(lhs - rhs) = 0",
            is_zero(total - 1),
        ),
        Proof(
            "S10",
            r"$P(G > k) = \sum_{j > k} (1-p)^{j-1} p = (1-p)^k$, the chance of no success in "
            r"$k$ guesses",
            "summation, simplify(lhs - rhs) = 0",
            is_zero(tail - (1 - p) ** k),
        ),
        Proof(
            "S10",
            r"$E[G] = 1/p$ and $\mathrm{Var}[G] = (1-p)/p^2$",
            "summation, simplify(lhs - rhs) = 0",
            is_zero(mean - 1 / p) and is_zero(second - mean**2 - (1 - p) / p**2),
        ),
        Proof(
            "S10",
            r"$(1-p)^c = 1/2$ at $c = \log 2/(-\log(1-p))$ and $1 - (1-p)^x$ increases in $x$, "
            r"so the median is $\lceil c \rceil$; likewise $(1-p)^{a} = 1 - \alpha$ at "
            r"$a = \log(1-\alpha)/\log(1-p)$ gives the $\alpha$-quantile $\lceil a \rceil$",
            "simplify(lhs - rhs) = 0; sign of the derivative",
            is_zero(at_c - sp.Rational(1, 2))
            and is_zero(sp.exp(a_c * sp.log(1 - p)) - (1 - alpha))
            and is_zero(increasing + (1 - p) ** x * sp.log(1 - p)),
        ),
        Proof(
            "S10",
            r"for small $p$ the median is about $\log 2/p$: $c = \log 2/p + O(1)$",
            "series in p",
            is_zero(small - (sp.log(2) / p - sp.log(2) / 2)),
        ),
        Proof(
            "S10",
            r"the kernels' $\log1p$ forms equal the law: $e^{k\,\mathrm{log1p}(-p)} = (1-p)^k$, "
            r"$\mathrm{log1p}(-p) = \log(1-p)$",
            "expand_func, simplify(lhs - rhs) = 0",
            is_zero(sp.expand_func(log1p(-p)) - sp.log(1 - p))
            and is_zero((sp.expand_func(SURVIVAL) - (1 - p) ** k).subs(p, 1 - r)),
        ),
    ]


def _section_law() -> Section:
    return Section(
        claims=("S10",),
        title="simple weight guessing: a geometric number of guesses",
        paper_ref="section 2 (guessing); section 5.3 (``random weight guessing solves this task "
        "faster''); Schmidhuber \\& Hochreiter 1996",
        prose=(
            r"Every guess draws all $W$ weights uniformly from $[-s, s]$, independently of the "
            r"earlier guesses; it succeeds when the net classifies every test sequence "
            r"correctly. With $p$ the probability of success per guess, the number $G$ of "
            r"guesses up to and including the first success is geometric."
        ),
        steps=[
            Step(
                "success density",
                "p",
                r"\frac{\mathrm{vol}\{w \in [-s, s]^W :\ "
                r"\text{net}(w) \text{ solves the test set}\}}{(2s)^W}",
                text="p = vol{w in [-s,s]^W : net(w) solves the test set} / (2s)^W",
            ),
            Step("law", r"P(G = k)", PMF, text="P(G = k) = (1 - p)^(k-1) p"),
            Step("no success in k", r"P(G > k)", r"(1 - p)^k", text="P(G > k) = (1 - p)^k"),
            Step("mean", r"E[G]", MEAN, text="E[G] = 1/p"),
            Step("variance", r"\mathrm{Var}[G]", (1 - p) / p**2, text="Var[G] = (1 - p)/p^2"),
            Step(
                "median",
                r"\mathrm{med}[G]",
                r"\operatorname{ceil}\Bigl(\frac{\log 2}{-\log(1-p)}\Bigr) "
                r"\approx \frac{\log 2}{p}",
                text="med[G] = ceil(log 2 / -log(1 - p)) ~ log 2 / p",
            ),
            Step(
                "quantile",
                r"G_\alpha",
                r"\operatorname{ceil}\Bigl(\frac{\log(1-\alpha)}{\log(1-p)}\Bigr)",
                text="G_alpha = ceil(log(1 - alpha) / log(1 - p))",
            ),
        ],
        proofs=_proofs(),
    )


def _section_no_flow() -> Section:
    return Section(
        claims=("S10",),
        title="no error flow: the lag enters only through the solution density",
        paper_ref="section 2: guessing avoids the long time lag problems of gradient methods",
        prose=(
            r"Guessing computes no derivative, so no error signal is scaled by any factor: "
            r"nothing decays with the lag. A guess costs one forward pass over the test set, "
            r"$O(T\,W)$ operations per sequence, and the expected number of guesses is $1/p(T)$, "
            r"so the lag acts only through $p(T)$. For Bengio et al.'s 2-sequence problem a "
            r"net that latches the first input is unaffected by how long it holds it, and $p$ "
            r"barely falls with $T$. The paper's caveat (§2): tasks that need many free "
            r"parameters or high weight precision (task 3c) make $p$ vanishingly small."
        ),
        steps=[
            Step(
                "expected cost",
                r"E[\text{operations}]",
                r"\frac{1}{p(T)}\; O(T\, W\, n_{test})",
                text="E[operations] = (1/p(T)) O(T W n_test)",
            ),
            Step(
                "error flow",
                r"\frac{\partial w^{(k+1)}}{\partial E^{(k)}}",
                "0",
                note=r"each guess $w^{(k+1)}$ is drawn independently of every earlier error.",
                text="d w(k+1) / d E(k) = 0: guesses ignore every earlier error",
            ),
        ],
    )


@cache
def derivation() -> Derivation:
    """The weight-guessing derivation (S10), every proof evaluated."""
    return Derivation(
        name="guessing",
        title="Simple weight guessing",
        source="Schmidhuber \\& Hochreiter (1996); Hochreiter \\& Schmidhuber (1997), sections "
        "2 and 5.3; SPEC S10",
        notation=(
            r"$W$ weights drawn uniformly from $[-s, s]$ per guess; $p$ the probability that a "
            r"guess classifies the test set correctly; $G$ the number of guesses up to and "
            r"including the first success."
        ),
        sections=[_section_law(), _section_no_flow()],
    )


def kernel_specs() -> list[KernelSpec]:
    """The geometric-law kernels codegen prints for S10."""
    arg_p = KernelArg("p", "success probability per guess, 0 < p < 1, any shape")
    return [
        KernelSpec(
            name="geometric_mean",
            summary="Expected number of guesses to the first success, 1/p (S10).",
            math=sp.sstr(MEAN),
            claims=("S10",),
            args=(arg_p,),
            symbols=(p,),
            outputs=(MEAN,),
        ),
        KernelSpec(
            name="geometric_survival",
            summary="Probability of no success in k guesses, (1 - p)^k (S10).",
            math=sp.sstr(SURVIVAL),
            claims=("S10",),
            args=(arg_p, KernelArg("k", "number of guesses, same shape or broadcastable")),
            symbols=(p, k),
            outputs=(SURVIVAL,),
        ),
        KernelSpec(
            name="geometric_median",
            summary="Median number of guesses, ceil(log 2 / -log(1 - p)) (S10).",
            math=sp.sstr(MEDIAN),
            claims=("S10",),
            args=(arg_p,),
            symbols=(p,),
            outputs=(MEDIAN,),
        ),
        KernelSpec(
            name="geometric_quantile",
            summary="alpha-quantile of the guesses, ceil(log(1 - alpha) / log(1 - p)) (S10).",
            math=sp.sstr(QUANTILE),
            claims=("S10",),
            args=(arg_p, KernelArg("alpha", "probability level, 0 < alpha < 1")),
            symbols=(p, alpha),
            outputs=(QUANTILE,),
        ),
    ]
