r"""Constant error flow, the naive approach: the constant error carousel (SPEC C1-C2; paper §3.2).

Notation (SPEC §0): ``w_ij`` is the weight from unit j to unit i, ``y^j(t) = f_j(net_j(t))``,
``vartheta_j(t) = -dE/dnet_j(t)`` for ``E = 1/2 sum_t (d_k(t) - y^k(t))^2``.

C1. A unit j whose only connection is to itself has ``net_j(t+1) = w_jj y^j(t)``, so
``y^j(t+1) = f_j(w_jj f_j(net_j(t)))``; differentiating that unrolled unit gives the paper's
local error back-flow ``vartheta_j(t) = f'_j(net_j(t)) vartheta_j(t+1) w_jj``. Error flows
back unscaled iff ``f'_j(net_j(t)) w_jj = 1`` for every net input; ``sympy.dsolve`` solves that
ODE: ``f_j(x) = x / w_jj + C``, so f_j is linear. Then ``y^j(t+1) = f_j(w_jj y^j(t)) =
y^j(t) + C``: the activation stays constant iff ``C = 0`` (the paper drops the constant) and
drifts by ``q C`` over q steps otherwise. The constant error carousel (CEC) is ``f_j = id``,
``w_jj = 1``.

C2. On a linear CEC unit j with one input weight ``w_ji`` and one output weight ``w_kj`` (to
a *linear* output unit k), two minimal concrete sequences (:func:`conflict_sequences`) show the
paper's weight conflicts: the per-time-step contributions ``dE(t)/dw`` of two steps to the same
weight have opposite signs, for ``w = w_ji`` (input weight conflict: store an input, then
ignore an irrelevant one) and for ``w = w_kj`` (output weight conflict: retrieve j's content,
then keep j from disturbing k). Within one step the order is input i, then j, then k (the
order of the paper's experiments): ``net_j(t) = w_jj y^j(t-1) + w_ji y^i(t)``,
``y^k(t) = w_kj y^j(t)``. With the strict one-step delays of SPEC §0 every time index shifts by
one per layer and the contributions are the same.

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from .core import Derivation, Proof, Section, Step, is_zero, prove_equal
from .notation import ErrorSignal, NetInput, Slope, UnitOutput, latex, partial, t, text, weight

__all__ = [
    "C",
    "ConflictSequence",
    "Target",
    "conflict_sequences",
    "constant_flow_solution",
    "derivation",
    "unroll",
    "w_jj",
    "x",
]

x = sp.Symbol("x", real=True)
#: The self-connection ``w_jj`` (nonzero: constant flow needs ``f'_j w_jj = 1``).
w_jj = sp.Symbol("w_{jj}", real=True, nonzero=True)
#: The integration constant of C1.
C = sp.Symbol("C", real=True)

_j, _i, _k = sp.symbols("j i k")
_f = sp.Function("f_j")


class Target(sp.Function):
    r"""``d_k(t)``: the target of output unit k at time t (printed as the paper writes it)."""

    nargs = 2

    def _latex(self, printer, exp=None) -> str:
        base = rf"d_{{{printer._print(self.args[0])}}}({printer._print(self.args[1])})"
        return rf"{base}^{{{exp}}}" if exp else base

    def _sympystr(self, printer) -> str:
        return f"d_{printer._print(self.args[0])}({printer._print(self.args[1])})"


# ---------------------------------------------------------------------------------------
# C1: one self-connected unit.
# ---------------------------------------------------------------------------------------
def _one_step_proof() -> Proof:
    """``vartheta_j(t) = f'_j(net_j(t)) vartheta_j(t+1) w_jj`` by differentiating the unrolled unit.

    The error E is any differentiable function L of ``y^j(t+1) = f_j(w_jj f_j(net_j(t)))``.
    """
    net_t, net_next = sp.symbols("n_t n_next", real=True)
    L = sp.Function("L")
    unrolled = L(_f(w_jj * _f(net_t)))  # E as a function of net_j(t)
    theta_t = -sp.diff(unrolled, net_t)
    theta_next = -sp.diff(L(_f(net_next)), net_next).subs(net_next, w_jj * _f(net_t))
    claimed = sp.diff(_f(net_t), net_t) * theta_next * w_jj
    proof = Proof(
        "C1",
        r"$\vartheta_j(t) = f'_j(net_j(t))\,\vartheta_j(t+1)\,w_{jj}$, from the negative "
        r"derivative of $E = L(y^j(t+1))$ with $y^j(t+1) = f_j(w_{jj}\,y^j(t))$ and "
        r"$y^j(t) = f_j(net_j(t))$, for any differentiable $f_j$ and $L$",
        "sympy.diff of the two-step unrolled unit, simplify(lhs - rhs) = 0",
        is_zero(theta_t - claimed),
    )
    return proof


@cache
def constant_flow_solution() -> sp.Expr:
    """``f_j(x) = x / w_jj + C``: the general solution of ``f'_j(x) w_jj = 1`` (C1, by dsolve)."""
    ode = sp.Eq(w_jj * sp.diff(_f(x), x), 1)
    sol = sp.dsolve(ode, _f(x))
    (const,) = sol.rhs.free_symbols - {x, w_jj}
    return sol.rhs.xreplace({const: C})


def _section_c1() -> Section:
    one_step = _one_step_proof()
    ode = sp.Eq(w_jj * sp.diff(_f(x), x), 1)
    raw = sp.dsolve(ode, _f(x))
    solution = constant_flow_solution()
    dsolve_ok = prove_equal(
        "C1",
        r"\texttt{dsolve} of $f'_j(x)\,w_{jj} = 1$ gives $f_j(x) = x/w_{jj} + C$",
        solution,
        x / w_jj + C,
        detail=rf"(dsolve returned $f_j(x) = {latex(raw.rhs)}$; its constant renamed $C$)",
    )
    check_ok, residual = sp.checkodesol(ode, sp.Eq(_f(x), solution))
    satisfies = Proof(
        "C1",
        r"$f_j(x) = x/w_{jj} + C$ satisfies $f'_j(x)\,w_{jj} = 1$ for every $x$ and $C$",
        "checkodesol",
        bool(check_ok) and residual == 0,
    )
    y = sp.Symbol("y", real=True)
    next_y = solution.subs(x, w_jj * y)  # y^j(t+1) = f_j(w_jj y^j(t))
    roots = sp.solve(sp.Eq(next_y, y), C, dict=True)
    constancy = Proof(
        "C1",
        r"$y^j(t+1) = f_j(w_{jj}\,y^j(t)) = y^j(t)$ for all $y^j(t)$ iff $C = 0$ "
        r"(the integration constant the paper drops)",
        r"solve for $C$: the only solution is $C = 0$, for every $y$",
        roots == [{C: 0}] and is_zero(next_y - (y + C)),
        detail=rf"($f_j(w_{{jj}}\,y) = {latex(sp.simplify(next_y))}$)",
    )
    identity = x  # f_j = id
    cec = Proof(
        "C1",
        r"the CEC, $f_j = \mathrm{id}$, $w_{jj} = 1$, has $f'_j(net)\,w_{jj} = 1$ and "
        r"$f_j(w_{jj}\,y) = y$; it is the solution with $w_{jj} = 1$, $C = 0$",
        "substitution, simplify(lhs - rhs) = 0",
        is_zero(sp.diff(identity, x) * 1 - 1)
        and is_zero(identity.subs(x, 1 * y) - y)
        and is_zero(solution.subs({w_jj: 1, C: 0}) - identity),
    )
    # Drift: y(t+q) = y(t) + q C (any w_jj, in particular w_jj = 1), by rsolve and by iterating.
    q = sp.Symbol("q", integer=True, nonnegative=True)
    Y = sp.Function("Y")
    y0 = sp.Symbol("y_0", real=True)
    closed = sp.rsolve(Y(q + 1) - solution.subs(x, w_jj * Y(q)), Y(q), {Y(0): y0})
    iterated = [y0]
    for _ in range(8):
        iterated.append(solution.subs(x, w_jj * iterated[-1]))
    drift_ok = (
        closed is not None
        and is_zero(closed - (y0 + q * C))
        and all(is_zero(iterated[m] - (y0 + m * C)) for m in range(len(iterated)))
    )
    drift = Proof(
        "C1",
        r"with $C \ne 0$ the activation drifts: $y^j(t+q) = y^j(t) + q\,C$ (any $w_{jj}$, in "
        r"particular $w_{jj} = 1$)",
        r"rsolve of $Y(q+1) = f_j(w_{jj}\,Y(q))$; and iterating the unit for $q \le 8$",
        drift_ok,
        detail=rf"(rsolve: $Y(q) = {latex(closed)}$)",
    )
    # Over q steps the linear unit passes error back unscaled: d net(t+q)/d net(t) = 1.
    n0 = sp.Symbol("n", real=True)
    net = n0
    flow_ok = True
    for _ in range(6):
        net = w_jj * solution.subs(x, net)
        flow_ok = flow_ok and is_zero(sp.diff(net, n0) - 1)
    flow = Proof(
        "C1",
        r"for $f_j(x) = x/w_{jj} + C$ the unrolled unit has "
        r"$\partial net_j(t+q)/\partial net_j(t) = 1$, so "
        r"$\vartheta_j(t-q) = \vartheta_j(t)$ ($q \le 6$)",
        "sympy.diff of the q-step unrolled unit",
        flow_ok,
    )
    j = _j
    return Section(
        claims=("C1",),
        title="one self-connected unit: constant error flow needs a linear unit",
        paper_ref="section 3.2, constant error flow: the naive approach",
        prose=(
            r"Unit $j$ has a single connection, to itself: $net_j(t+1) = w_{jj}\,y^j(t)$. Its "
            r"local error back-flow is the paper's $\vartheta_j(t) = f'_j(net_j(t))\,"
            r"\vartheta_j(t+1)\,w_{jj}$. To make the error flow constant, the factor must be 1 "
            r"for every net input; integrating that differential equation makes $f_j$ linear. "
            r"The paper writes the result without the integration constant $C$; with it the "
            r"activation drifts by $C$ per step, so constancy of $y^j$ needs $C = 0$. The "
            r"experiments use $f_j = \mathrm{id}$ with $w_{jj} = 1.0$: the constant error "
            r"carousel (CEC)."
        ),
        steps=[
            Step(
                "unrolled unit",
                UnitOutput(j, t + 1),
                rf"f_j\bigl(w_{{jj}}\, {latex(UnitOutput(j, t))}\bigr) = "
                rf"f_j\bigl(w_{{jj}}\, f_j({latex(NetInput(j, t))})\bigr)",
                text="y^j(t+1) = f_j(w_jj y^j(t)) = f_j(w_jj f_j(net_j(t)))",
            ),
            Step(
                "C1, one step",
                ErrorSignal(j, t),
                Slope(j, t) * ErrorSignal(j, t + 1) * w_jj,
                text="vartheta_j(t) = f'_j(net_j(t)) vartheta_j(t+1) w_jj",
            ),
            Step(
                "constant flow",
                rf"{latex(Slope(j, t))}\, w_{{jj}}",
                "1",
                text="f'_j(net_j(t)) w_jj = 1  (for every net_j(t))",
            ),
            Step(
                "dsolve",
                "f_j(x)",
                solution,
                note=r"\texttt{sympy.dsolve} of $w_{jj}\,f'_j(x) = 1$; $C$ is the integration "
                r"constant.",
                text="f_j(x) = x/w_jj + C  (sympy.dsolve of w_jj f'_j(x) = 1)",
            ),
            Step(
                "activation",
                UnitOutput(j, t + 1),
                rf"f_j\bigl(w_{{jj}}\, {latex(UnitOutput(j, t))}\bigr) = "
                rf"{latex(UnitOutput(j, t))} + C",
                text="y^j(t+1) = f_j(w_jj y^j(t)) = y^j(t) + C",
            ),
            Step(
                "drift",
                UnitOutput(j, t + sp.Symbol("q")),
                rf"{latex(UnitOutput(j, t))} + q\,C",
                note=r"constant activation $y^j(t+1) = y^j(t)$ needs $C = 0$.",
                text="y^j(t+q) = y^j(t) + q C; constant activation needs C = 0",
            ),
            Step(
                "CEC",
                r"f_j = \mathrm{id},\ w_{jj}",
                r"1.0 \quad\Rightarrow\quad f'_j(net_j(t))\,w_{jj} = 1,\ "
                r"y^j(t+1) = y^j(t)",
                text="f_j = id, w_jj = 1.0 => f'_j(net_j(t)) w_jj = 1, y^j(t+1) = y^j(t)",
            ),
        ],
        proofs=[one_step, dsolve_ok, satisfies, constancy, cec, drift, flow],
    )


# ---------------------------------------------------------------------------------------
# C2: weight conflicts on a linear CEC unit.
# ---------------------------------------------------------------------------------------
def unroll(
    inputs: list[sp.Expr],
    targets: list[sp.Expr],
    w_ji: sp.Expr,
    w_kj: sp.Expr,
) -> tuple[list[sp.Expr], list[sp.Expr], list[sp.Expr]]:
    """The linear CEC unit j (``f_j = id``, ``w_jj = 1``) unrolled over the given steps (C2).

    ``y^j(0) = 0``, ``y^j(t) = y^j(t-1) + w_ji y^i(t)``, ``y^k(t) = w_kj y^j(t)`` (linear output
    unit k) and the per-step error terms ``E(t) = 1/2 (d_k(t) - y^k(t))^2``. Returns
    ``(y^j, y^k, E)``, each a list over t = 1..T.
    """
    yj_prev = sp.Integer(0)
    ys_j, ys_k, errors = [], [], []
    for y_i, d_k in zip(inputs, targets, strict=True):
        y_j = 1 * yj_prev + w_ji * y_i  # w_jj = 1, f_j = id
        y_k = w_kj * y_j
        ys_j.append(y_j)
        ys_k.append(y_k)
        errors.append(sp.Rational(1, 2) * (d_k - y_k) ** 2)
        yj_prev = y_j
    return ys_j, ys_k, errors


@dataclass(frozen=True)
class ConflictSequence:
    """A minimal sequence on the linear CEC where two steps pull one weight in opposite ways (C2).

    ``params`` are the sequence's free values (inputs ``y^i(t)``, targets ``d_k(t)``, the two
    weights), ``base`` their exact concrete values, ``family`` how the numeric check perturbs
    them (``(param, "mul" | "add", lo, hi)``: multiply by, or add, a uniform draw), which keeps
    the conflict. ``contributions[m]`` is ``dE(steps[m])/d weight`` as a function of
    ``params``, obtained by ``sympy.diff`` of that step's error term of the unrolled network.
    """

    name: str
    weight: sp.Symbol
    params: tuple[sp.Basic, ...]
    base: dict[sp.Basic, sp.Rational]
    inputs: tuple[sp.Basic, ...]
    targets: tuple[sp.Basic, ...]
    steps: tuple[int, int]
    roles: tuple[str, str]
    contributions: tuple[sp.Expr, sp.Expr]
    family: tuple[tuple[sp.Basic, str, float, float], ...]
    w_ji: sp.Basic
    w_kj: sp.Basic

    @property
    def values(self) -> tuple[sp.Rational, sp.Rational]:
        """The two contributions at the base sequence, exact rationals."""
        return tuple(c.xreplace(self.base) for c in self.contributions)

    def trace(self) -> tuple[list[sp.Expr], list[sp.Expr], list[sp.Expr]]:
        """``(y^j, y^k, E)`` of the base sequence, exact."""
        return unroll(
            [self.base[p] for p in self.inputs],
            [self.base[p] for p in self.targets],
            self.base[self.w_ji],
            self.base[self.w_kj],
        )


def _make_sequence(
    name: str,
    weight_name: str,
    base_inputs: tuple[sp.Rational, ...],
    base_targets: tuple[sp.Rational, ...],
    base_w_ji: sp.Rational,
    base_w_kj: sp.Rational,
    roles: tuple[str, str],
    kinds: dict[str, tuple[str, float, float]],
) -> ConflictSequence:
    T = len(base_inputs)
    inputs = tuple(UnitOutput(_i, s) for s in range(1, T + 1))
    targets = tuple(Target(_k, s) for s in range(1, T + 1))
    w_ji, w_kj = weight("j", "i"), weight("k", "j")
    wrt = {"w_ji": w_ji, "w_kj": w_kj}[weight_name]
    _, _, errors = unroll(list(inputs), list(targets), w_ji, w_kj)
    contributions = tuple(sp.expand(sp.diff(e, wrt)) for e in errors)
    params = (*inputs, *targets, w_ji, w_kj)
    values = (*base_inputs, *base_targets, base_w_ji, base_w_kj)
    base = {p: sp.Rational(v) for p, v in zip(params, values, strict=True)}
    names = [*(f"y_i({s})" for s in range(1, T + 1))]
    names += [f"d_k({s})" for s in range(1, T + 1)] + ["w_ji", "w_kj"]
    family = tuple((p, *kinds[nm]) for p, nm in zip(params, names, strict=True))
    return ConflictSequence(
        name=name,
        weight=wrt,
        params=params,
        base=base,
        inputs=inputs,
        targets=targets,
        steps=(1, 2),
        roles=roles,
        contributions=(contributions[0], contributions[1]),
        family=family,
        w_ji=w_ji,
        w_kj=w_kj,
    )


_MUL = ("mul", 0.9, 1.1)
_ADD = ("add", -0.1, 0.1)


@cache
def conflict_sequences() -> dict[str, ConflictSequence]:
    """The two minimal C2 sequences, ``"input"`` (weight ``w_ji``) and ``"output"`` (``w_kj``).

    Input weight conflict: ``y^i = (1, -2)``, ``d_k = (1, 1)``, ``w_kj = 1``, ``w_ji = 1/2``.
    Step 1 stores the input (j should switch on further: ``dE(1)/dw_ji = -1/2``); step 2's
    input is irrelevant and pushes j below its stored value, so step 2 asks for a smaller
    ``w_ji`` (``dE(2)/dw_ji = +3/2``).

    Output weight conflict: ``y^i = (1, 0)``, ``d_k = (1, 0)``, ``w_ji = 1``, ``w_kj = 1/2``.
    j is switched on at step 1 and stays on. Step 1 wants k to retrieve j's content
    (``dE(1)/dw_kj = -1/2``); at step 2 j, still on, must not disturb k
    (``dE(2)/dw_kj = +1/2``).

    Perturbation families (numeric check): every value multiplied by U(0.9, 1.1), except the
    output sequence's zeros (``y^i(2)``, ``d_k(2)``), which get U(-0.1, 0.1) added; the margins
    in :func:`_sign_proofs` show the conflict survives every such draw.
    """
    R = sp.Rational
    m, a = _MUL, _ADD
    inp = _make_sequence(
        "input weight conflict",
        "w_ji",
        (R(1), R(-2)),
        (R(1), R(1)),
        R(1, 2),
        R(1),
        ("store the input: switch $j$ on", "ignore the irrelevant input: keep $j$ unchanged"),
        {
            "y_i(1)": m,
            "y_i(2)": m,
            "d_k(1)": m,
            "d_k(2)": m,
            "w_ji": m,
            "w_kj": m,
        },
    )
    out = _make_sequence(
        "output weight conflict",
        "w_kj",
        (R(1), R(0)),
        (R(1), R(0)),
        R(1),
        R(1, 2),
        ("retrieve $j$'s content at $k$", "$j$, still on, must not disturb $k$"),
        {
            "y_i(1)": m,
            "y_i(2)": a,
            "d_k(1)": m,
            "d_k(2)": a,
            "w_ji": m,
            "w_kj": m,
        },
    )
    return {"input": inp, "output": out}


def _general_sign_proof(key: str) -> Proof:
    """The conflict of ``key`` on a whole region of inputs, targets and weights (C2).

    Input (``w = w_ji``): with ``y^i(1), w_kj, w_ji, d_k(2) > 0``, a remaining error
    ``p = d_k(1) - y^k(1) > 0`` at step 1 and an irrelevant input that reverses j's total input,
    ``s = -(y^i(1) + y^i(2)) > 0``: ``dE(1)/dw_ji < 0 < dE(2)/dw_ji``. Output (``w = w_kj``):
    with ``y^j(1), y^j(2), w_ji, w_kj > 0``, ``p = d_k(1) - y^k(1) > 0`` and
    ``r = y^k(2) - d_k(2) > 0``: ``dE(1)/dw_kj < 0 < dE(2)/dw_kj``. The numeric check's
    perturbation families lie inside these regions.
    """
    seq = conflict_sequences()[key]
    p, s, r = sp.symbols("p s r", positive=True)
    v = sp.Symbol("w_{kj}", positive=True)
    u = sp.Symbol("w_{ji}", positive=True)
    y1, y2 = seq.inputs
    d1, d2 = seq.targets
    if key == "input":
        a = sp.Symbol("y^{i}(1)", positive=True)
        D2 = sp.Symbol("d_{k}(2)", positive=True)
        sub = {seq.w_kj: v, seq.w_ji: u, y1: a, y2: -s - a, d1: v * u * a + p, d2: D2}
        where = (
            r"whenever $y^i(1), w_{kj}, w_{ji}, d_k(2) > 0$, the error left at step 1 is "
            r"$p = d_k(1) - y^k(1) > 0$ and the irrelevant input reverses $j$'s total input, "
            r"$s = -(y^i(1) + y^i(2)) > 0$"
        )
    else:
        s1, s2 = sp.symbols("y^{j}(1) y^{j}(2)", positive=True)
        sub = {
            seq.w_ji: u,
            y1: s1 / u,
            y2: (s2 - s1) / u,
            seq.w_kj: v,
            d1: v * s1 + p,
            d2: v * s2 - r,
        }
        where = (
            r"whenever $y^j(1), y^j(2), w_{ji}, w_{kj} > 0$, $p = d_k(1) - y^k(1) > 0$ "
            r"(retrieval still too weak) and $r = y^k(2) - d_k(2) > 0$ ($j$ disturbs $k$)"
        )
    c1, c2 = (sp.factor(c.xreplace(sub)) for c in seq.contributions)
    wl = latex(seq.weight)
    return Proof(
        "C2",
        rf"{seq.name} in general: $\partial E(1)/\partial {wl} < 0 < "
        rf"\partial E(2)/\partial {wl}$, with $\partial E(1)/\partial {wl} = {latex(c1)}$ and "
        rf"$\partial E(2)/\partial {wl} = {latex(c2)}$, " + where,
        "SymPy sign assumptions on positive symbols",
        bool(c1.is_negative) and bool(c2.is_positive),
    )


def _fmt_seq(values: list[sp.Expr]) -> str:
    return ", ".join(latex(v) for v in values)


def _plain(expr: object) -> str:
    """Plain text without SymPy's symbol-name braces (``w_{kj}`` -> ``w_kj``)."""
    return text(expr).replace("{", "").replace("}", "")


def _chain_rule_form(seq: ConflictSequence, m: int) -> sp.Expr:
    """``dE(m)/dw = -(d_k(m) - y^k(m)) dy^k(m)/dw`` in the paper's notation (display form)."""
    err = Target(_k, m) - UnitOutput(_k, m)
    if seq.weight == seq.w_ji:  # dy^k(m)/dw_ji = w_kj (y^i(1) + ... + y^i(m))
        return -err * seq.w_kj * sp.Add(*seq.inputs[:m])
    return -err * UnitOutput(_j, m)  # dy^k(m)/dw_kj = y^j(m)


def _section_c2(key: str) -> Section:
    seq = conflict_sequences()[key]
    ys_j, ys_k, errors = seq.trace()
    c1, c2 = seq.values
    wl = latex(seq.weight)
    wt = _plain(seq.weight)
    ins = [seq.base[p] for p in seq.inputs]
    tgs = [seq.base[p] for p in seq.targets]
    fixed = seq.w_kj if key == "input" else seq.w_ji
    steps = [
        Step(
            "sequence",
            r"\bigl(y^i(1), y^i(2)\bigr);\ \bigl(d_k(1), d_k(2)\bigr)",
            rf"({_fmt_seq(ins)});\ ({_fmt_seq(tgs)}), \quad "
            rf"{latex(fixed)} = {latex(seq.base[fixed])},\ {wl} = {latex(seq.base[seq.weight])}",
            text=(
                f"y^i(1), y^i(2) = {ins[0]}, {ins[1]}; d_k(1), d_k(2) = {tgs[0]}, {tgs[1]}; "
                f"{_plain(fixed)} = {seq.base[fixed]}, {wt} = {seq.base[seq.weight]}"
            ),
        ),
        Step(
            "forward",
            r"\bigl(y^j(1), y^j(2)\bigr);\ \bigl(y^k(1), y^k(2)\bigr)",
            rf"({_fmt_seq(ys_j)});\ ({_fmt_seq(ys_k)}), \quad "
            rf"\bigl(E(1), E(2)\bigr) = ({_fmt_seq(errors)})",
            text=(
                f"y^j(1), y^j(2) = {ys_j[0]}, {ys_j[1]}; "
                f"y^k(1), y^k(2) = {ys_k[0]}, {ys_k[1]}; E(1), E(2) = {errors[0]}, {errors[1]}"
            ),
        ),
    ]
    displays = [_chain_rule_form(seq, m) for m in (1, 2)]
    for m, (display, value, role) in enumerate(
        zip(displays, (c1, c2), seq.roles, strict=True), start=1
    ):
        steps.append(
            Step(
                f"t = {m}",
                partial(rf"E({m})", seq.weight),
                rf"{latex(display)} = {latex(value)}",
                note=rf"{role}; sign {'$-$' if value < 0 else '$+$'}.",
                text=f"dE({m})/d{wt} = {_plain(display)} = {value}",
            )
        )
    steps.append(
        Step(
            "conflict",
            rf"{partial('E(1)', seq.weight)} \cdot {partial('E(2)', seq.weight)}",
            rf"{latex(c1 * c2)} < 0",
            text=f"dE(1)/d{wt} * dE(2)/d{wt} = {c1 * c2} < 0: opposite signs",
        )
    )
    # The display forms are the unrolled network's derivatives once y^k, y^j are substituted.
    ys_j_sym, ys_k_sym, _ = unroll(list(seq.inputs), list(seq.targets), seq.w_ji, seq.w_kj)
    fill = {UnitOutput(_k, m): ys_k_sym[m - 1] for m in (1, 2)}
    fill.update({UnitOutput(_j, m): ys_j_sym[m - 1] for m in (1, 2)})
    display_ok = all(
        is_zero(d.xreplace(fill) - c) for d, c in zip(displays, seq.contributions, strict=True)
    )
    base_ok = c1 < 0 < c2
    checked_diff = all(
        is_zero(
            c
            - sp.diff(
                unroll(list(seq.inputs), list(seq.targets), seq.w_ji, seq.w_kj)[2][m], seq.weight
            )
        )
        for m, c in enumerate(seq.contributions)
    )
    proofs = [
        Proof(
            "C2",
            rf"{seq.name}: $\partial E(1)/\partial {wl} = {text(c1)} < 0 < {text(c2)} = "
            rf"\partial E(2)/\partial {wl}$ for the sequence above; the chain-rule forms "
            r"shown equal the derivatives of the unrolled network",
            "sympy.diff of each step's error term of the unrolled CEC, exact rationals",
            bool(base_ok) and checked_diff and display_ok,
        )
    ]
    proofs.append(_general_sign_proof(key))
    if key == "input":
        title = "input weight conflict on a linear CEC unit"
        prose = (
            r"A linear CEC unit $j$ ($f_j = \mathrm{id}$, $w_{jj} = 1$) gets one input weight "
            r"$w_{ji}$ from input unit $i$ and one output weight $w_{kj}$ to a linear output "
            r"unit $k$: $y^j(t) = y^j(t-1) + w_{ji}\,y^i(t)$, $y^j(0) = 0$, "
            r"$y^k(t) = w_{kj}\,y^j(t)$, $E = \sum_t E(t)$, $E(t) = (d_k(t) - y^k(t))^2/2$ "
            r"(within one step: $i$, then $j$, then $k$; the paper's one-step delays only "
            r"shift the time indices). At step 1 the input must be stored: the error asks to "
            r"switch $j$ on, $\partial E(1)/\partial w_{ji} < 0$. At step 2 an irrelevant "
            r"input arrives on the same line and the target wants $j$ unchanged: because $j$ "
            r"is linear and never forgets, the same $w_{ji}$ now receives the opposite signal. "
            r"The last statement of each conflict gives a whole region of inputs, targets and "
            r"weights where it holds; the numeric check samples sequences inside it."
        )
    else:
        title = "output weight conflict on a linear CEC unit"
        prose = (
            r"Same network, now looking at the output weight $w_{kj}$. The input switches $j$ on "
            r"at step 1 and $j$ stays on. At step 1 $k$ must retrieve $j$'s content, "
            r"$\partial E(1)/\partial w_{kj} < 0$; at step 2 $j$ is still on but $k$ must not be "
            r"disturbed, and the same $w_{kj}$ receives the opposite signal."
        )
    return Section(
        claims=("C2",),
        title=title,
        paper_ref="section 3.2, input and output weight conflicts",
        prose=prose,
        steps=steps,
        proofs=proofs,
    )


@cache
def derivation() -> Derivation:
    """The constant-error-carousel derivation (C1, C2), every proof evaluated."""
    return Derivation(
        name="cec",
        title="Constant error flow: the constant error carousel",
        source=r"Hochreiter \& Schmidhuber (1997), §3.2; SPEC C1-C2",
        notation=(
            r"$w_{ij}$ is the weight from unit $j$ to unit $i$; $y^j(t) = f_j(net_j(t))$; "
            r"$\vartheta_j(t) = -\partial E/\partial net_j(t)$ is the back-propagated error "
            r"signal of unit $j$; $d_k(t)$ is the target of output unit $k$ and "
            r"$E(t) = (d_k(t) - y^k(t))^2/2$ the error term of step $t$, "
            r"$E = \sum_t E(t)$."
        ),
        sections=[_section_c1(), _section_c2("input"), _section_c2("output")],
    )
