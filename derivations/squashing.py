"""Squashing functions and their derivatives (SPEC A1-A3; paper §3.1 and App. A.1 eqs. 3-5).

For every squashing function errorflow knows, this module

* states the paper's definition and proves the derivative identity (A1, A2), e.g.
  ``f' = f (1 - f)`` for the logistic function;
* proves the supremum of the derivative and that it is attained only at ``x = 0`` via
  ``f'' = -k f' tanh(a x)`` (so ``f''`` has the sign of ``-x``);
* derives numerically stable forms of ``f``, ``f'`` and ``log f'`` written in ``e^{-a|x|}``,
  which never overflows, and proves each equal to the naive form on ``x > 0`` and ``x < 0``
  (A3). Codegen prints those stable forms into ``numeric/_generated/squashing.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero
from .notation import latex

__all__ = ["GENERATED_DOC", "SQUASHING", "Squashing", "derivation", "kernel_specs"]

GENERATED_DOC = """Squashing functions, their slopes and log-slopes in overflow-free forms
(SPEC A1-A3), printed from errorflow.derivations.squashing. Every kernel is elementwise over
arrays of any shape; no kernel overflows, and the log-slopes stay finite for every finite
input."""

x = sp.Symbol("x", real=True)
_p = sp.Symbol("p", positive=True)


def _logistic(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


def _bell(c: sp.Expr, a: sp.Expr) -> sp.Expr:
    """``c e^{-a|x|} / (1 + e^{-a|x|})^2``: every sigmoid slope in overflow-free form."""
    e = sp.exp(-a * sp.Abs(x))
    return c * e / (1 + e) ** 2


def _log_bell(c: sp.Expr, a: sp.Expr) -> sp.Expr:
    """``log c - a|x| - 2 log1p(e^{-a|x|})``: the log of :func:`_bell`, finite for every x."""
    return sp.log(c) - a * sp.Abs(x) - 2 * log1p(sp.exp(-a * sp.Abs(x)))


def _odd_expm1(c: sp.Expr, a: sp.Expr) -> sp.Expr:
    """``c sign(x) (1 - e^{-a|x|}) / (1 + e^{-a|x|})`` with ``expm1``: ``c tanh(a x / 2)`` from
    one exponential, accurate near 0 (no ``1 - e^{-a|x|}`` cancellation)."""
    em = expm1(-a * sp.Abs(x))
    return c * sp.sign(x) * (-em) / (2 + em)


@dataclass(frozen=True)
class Squashing:
    """One squashing function: the paper's form, its derivative identity and stable forms."""

    name: str
    claim: str
    label: str
    paper: str
    f: sp.Expr
    identity_rhs: sp.Expr
    identity_text: str
    sup: sp.Expr
    curvature: tuple[sp.Expr, sp.Expr] | None
    closed_form: sp.Expr | None
    stable_f: sp.Expr
    stable_df: sp.Expr
    stable_log_df: sp.Expr
    #: The form the loop kernels print for one scalar (``None``: ``stable_f``): a single
    #: exponential of ``-|x|`` per call instead of two, or ``expm1`` instead of ``tanh``.
    scalar_f: sp.Expr | None = None

    @property
    def df(self) -> sp.Expr:
        return sp.diff(self.f, x)


SQUASHING: dict[str, Squashing] = {
    "logistic": Squashing(
        name="logistic",
        claim="A1",
        label="f",
        paper="eq. (3), range (0, 1): gates and conventional units",
        f=_logistic(x),
        identity_rhs=_logistic(x) * (1 - _logistic(x)),
        identity_text="f' = f(1 - f)",
        sup=sp.Rational(1, 4),
        curvature=(sp.Integer(1), sp.Rational(1, 2)),
        closed_form=None,
        stable_f=sp.exp((x - sp.Abs(x)) / 2) / (1 + sp.exp(-sp.Abs(x))),
        stable_df=_bell(sp.Integer(1), sp.Integer(1)),
        stable_log_df=_log_bell(sp.Integer(1), sp.Integer(1)),
        scalar_f=sp.Piecewise(
            (1 / (1 + sp.exp(-sp.Abs(x))), x >= 0),
            (sp.exp(-sp.Abs(x)) / (1 + sp.exp(-sp.Abs(x))), True),
        ),
    ),
    "h": Squashing(
        name="h",
        claim="A2",
        label="h",
        paper="eq. (4), range (-1, 1): cell output squashing",
        f=2 * _logistic(x) - 1,
        identity_rhs=(1 - (2 * _logistic(x) - 1) ** 2) / 2,
        identity_text="h' = (1 - h^2)/2",
        sup=sp.Rational(1, 2),
        curvature=(sp.Integer(1), sp.Rational(1, 2)),
        closed_form=sp.tanh(x / 2),
        stable_f=sp.tanh(x / 2),
        stable_df=_bell(sp.Integer(2), sp.Integer(1)),
        stable_log_df=_log_bell(sp.Integer(2), sp.Integer(1)),
        scalar_f=_odd_expm1(sp.Integer(1), sp.Integer(1)),
    ),
    "g": Squashing(
        name="g",
        claim="A2",
        label="g",
        paper="eq. (5), range (-2, 2): cell input squashing",
        f=4 * _logistic(x) - 2,
        identity_rhs=1 - (4 * _logistic(x) - 2) ** 2 / 4,
        identity_text="g' = 1 - g^2/4",
        sup=sp.Integer(1),
        curvature=(sp.Integer(1), sp.Rational(1, 2)),
        closed_form=2 * sp.tanh(x / 2),
        stable_f=2 * sp.tanh(x / 2),
        stable_df=_bell(sp.Integer(4), sp.Integer(1)),
        stable_log_df=_log_bell(sp.Integer(4), sp.Integer(1)),
        scalar_f=_odd_expm1(sp.Integer(2), sp.Integer(1)),
    ),
    "tanh": Squashing(
        name="tanh",
        claim="A2",
        label=r"\tanh",
        paper="hyperbolic tangent, range (-1, 1)",
        f=sp.tanh(x),
        identity_rhs=1 - sp.tanh(x) ** 2,
        identity_text="tanh' = 1 - tanh^2",
        sup=sp.Integer(1),
        curvature=(sp.Integer(2), sp.Integer(1)),
        closed_form=None,
        stable_f=sp.tanh(x),
        stable_df=_bell(sp.Integer(4), sp.Integer(2)),
        stable_log_df=_log_bell(sp.Integer(4), sp.Integer(2)),
        scalar_f=_odd_expm1(sp.Integer(1), sp.Integer(2)),
    ),
    "identity": Squashing(
        name="identity",
        claim="A2",
        label=r"\mathrm{id}",
        paper="linear unit (the CEC's activation, exps. 2a/2b's h)",
        f=x,
        identity_rhs=sp.Integer(1),
        identity_text="id' = 1",
        sup=sp.Integer(1),
        curvature=None,
        closed_form=None,
        stable_f=x,
        stable_df=sp.Integer(1),
        stable_log_df=sp.Integer(0),
    ),
}


def _same_on_both_sides(a: sp.Expr, b: sp.Expr) -> bool:
    """``a == b`` for every real x: checked on x = p > 0 and x = -p < 0 (removes |x|)."""

    def zero(expr: sp.Expr) -> bool:
        expr = expr.replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
        expr = expr.replace(lambda e: isinstance(e, expm1), lambda e: sp.exp(e.args[0]) - 1)
        expr = sp.expand_log(expr.rewrite(sp.exp), force=True)
        return is_zero(expr)

    return all(zero((a - b).subs(x, s)) for s in (_p, -_p))


def _sections_for(s: Squashing) -> Section:
    f, df = s.f, s.df
    proofs: list[Proof] = []
    steps = [
        Step(f"{s.name}", sp.Function(s.label)(x) if s.name != "tanh" else sp.tanh(x), f),
        Step(f"{s.name}'", sp.Symbol(f"{s.label}'(x)"), sp.simplify(df)),
    ]
    if s.closed_form is not None:
        proofs.append(
            Proof(
                s.claim,
                f"${s.label}(x) = {latex(s.closed_form)}$",
                "simplify(lhs - rhs) = 0",
                _same_on_both_sides(f, s.closed_form),
            )
        )
    proofs.append(
        Proof(
            s.claim,
            f"${s.identity_text}$",
            "simplify(lhs - rhs) = 0",
            is_zero((df - s.identity_rhs).rewrite(sp.exp)),
        )
    )
    if s.curvature is not None:
        k, a = s.curvature
        second = sp.diff(f, x, 2)
        curv_ok = is_zero((second + k * df * sp.tanh(a * x)).rewrite(sp.exp))
        at0 = sp.simplify(df.subs(x, 0))
        steps.append(
            Step(
                "curvature",
                sp.Symbol(f"{s.label}''(x)"),
                -k * sp.Symbol(f"{s.label}'(x)") * sp.tanh(a * x),
                note=(
                    f"${s.label}' > 0$, so ${s.label}''$ has the sign of $-x$: "
                    f"${s.label}'$ rises on $x<0$, falls on $x>0$, and its supremum is "
                    f"${s.label}'(0) = {latex(at0)}$, attained only at $x = 0$."
                ),
            )
        )
        limits = [sp.limit(df, x, sp.oo), sp.limit(df, x, -sp.oo)]
        proofs.append(
            Proof(
                s.claim,
                rf"$\sup {s.label}' = {latex(s.sup)}$, attained only at $x = 0$",
                r"$f'' + k f' \tanh(ax) = 0$, $f'(0)$ evaluated, limits at $\pm\infty$ are 0",
                curv_ok and at0 == s.sup and all(lim == 0 for lim in limits),
            )
        )
    else:
        proofs.append(
            Proof(s.claim, f"${s.label}' = 1$ everywhere", "differentiation", sp.simplify(df) == 1)
        )
    steps.extend(
        [
            Step(f"stable {s.name}", sp.Function(s.label)(x), s.stable_f),
            Step(f"stable {s.name}'", sp.Symbol(f"{s.label}'(x)"), s.stable_df),
            Step(f"log {s.name}'", sp.log(sp.Symbol(f"{s.label}'(x)")), s.stable_log_df),
        ]
    )
    if s.scalar_f is not None:
        steps.append(Step(f"scalar {s.name}", sp.Function(s.label)(x), s.scalar_f))
        proofs.append(
            Proof(
                "A3",
                f"the loop kernels' one-exponential form of ${s.label}$ equals it",
                "simplify(lhs - rhs) = 0 on $x > 0$ and on $x < 0$",
                _same_on_both_sides(f, s.scalar_f),
            )
        )
    stable_ok = (
        _same_on_both_sides(f, s.stable_f)
        and _same_on_both_sides(df, s.stable_df)
        and _same_on_both_sides(sp.exp(s.stable_log_df), s.stable_df)
    )
    proofs.append(
        Proof(
            "A3",
            f"the overflow-free forms of ${s.label}$, ${s.label}'$ and $\\log {s.label}'$ "
            "equal the naive ones",
            "simplify(lhs - rhs) = 0 on $x > 0$ and on $x < 0$",
            stable_ok,
        )
    )
    return Section(
        claims=(s.claim, "A3"),
        title=f"the squashing function ${s.label}$",
        paper_ref=s.paper,
        prose=(
            f"Definition, derivative identity ${s.identity_text}$ and supremum of the slope; "
            r"then forms written in $e^{-a|x|} \le 1$, which cannot overflow for any $x$ "
            "(the naive $e^{-x}$ overflows near $x = -710$), and the log-slope, which stays "
            "finite where the slope itself is below the smallest float64."
        ),
        steps=steps,
        proofs=proofs,
    )


@cache
def derivation() -> Derivation:
    """The squashing-function derivation (A1-A3), proofs evaluated."""
    return Derivation(
        name="squashing",
        title="Squashing functions and their slopes",
        source="paper section 3.1 and appendix A.1, eqs. (3)-(5); SPEC A1-A3",
        notation=(
            r"$f$ is the logistic function, $h(x) = 2f(x) - 1$ and $g(x) = 4f(x) - 2$ the "
            r"cell's output and input squashing, $\tanh$ and the identity complete the set."
        ),
        sections=[_sections_for(s) for s in SQUASHING.values()],
    )


def kernel_specs() -> list[KernelSpec]:
    """Elementwise kernels ``NAME(x)``, ``d_NAME(x)``, ``log_d_NAME(x)`` per function (A3)."""
    arg = (KernelArg("x", "net input, any shape"),)
    specs = []
    for s in SQUASHING.values():
        for prefix, expr, what in (
            ("", s.stable_f, f"{s.name}(x)"),
            ("d_", s.stable_df, f"the slope {s.name}'(x)"),
            ("log_d_", s.stable_log_df, f"log {s.name}'(x), finite for every finite x"),
        ):
            specs.append(
                KernelSpec(
                    name=f"{prefix}{s.name}",
                    summary=f"Elementwise {what} ({s.claim}, A3).",
                    math=sp.sstr(expr),
                    claims=(s.claim, "A3"),
                    args=arg,
                    symbols=(x,),
                    outputs=(expr,),
                )
            )
    return specs
