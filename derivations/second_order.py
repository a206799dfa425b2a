r"""Second-order (multiplicative) recurrent units (SPEC S9; Watrous & Kuhn 1992, Miller & Giles
1993).

A second-order unit multiplies a recurrent activation with an external input:

    net_i(t) = sum_{j,k} w_ijk y^j(t-1) x^k(t),   y^i(t) = f_i(net_i(t)),

so the input selects the recurrent weights: with the effective matrix
``A(t)[i, j] = sum_k w_ijk x^k(t)`` the net is ``net(t) = A(t) y(t-1)``. This module derives
and proves with SymPy:

* the one-step error factor ``dy^i(t)/dy^j(t-1) = f'_i(net_i(t)) sum_k w_ijk x^k(t)``: the
  input gates the recurrent weight, and the q-step factor is B3's ``S(q)`` with ``W``
  replaced by ``A(t-m+1)`` at step m (proved against ``sympy.diff`` of the unrolled net);
* a zero input blocks error flow exactly (``A = 0``), a one-hot input selects one weight
  matrix; a multiplicative gate scales the error through it by the gate's activation (LSTM's
  input and output gates, eqs. 21/23), so a closed gate protects what lies behind it; a linear
  second-order self-loop whose gated weight is 1 carries error unchanged for any lag (a CEC
  switched by the input), while any gated weight below 1 (or a squashing unit) makes it decay;
* the cost: second-order RTRL (Watrous & Kuhn's learning rule) costs ``2 n^4 m + O(n^3 m)``
  operations per step with ``W = n^2 m`` weights, i.e. ``O(W^2)``; LSTM's truncated step is
  ``O(W)`` (SPEC L8, eq. 29). Shown by the operation counts of the generated kernels.

The statements :data:`FORWARD_STEP`, :data:`SENSITIVITY_STEP` and :data:`PROPAGATE_STEP` are
printed into ``numeric/_generated/second_order.py``; the proofs run them on explicit arrays.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache

import sympy as sp

from . import lstm
from .arrays import Contract, Expand, MatVec, Outer
from .bptt import SCALING_STEP, _explicit, _f, _fprime_at  # the undetermined f and f'(expr), shared
from .bptt import S_prev as S_bptt
from .bptt import W as W_bptt
from .bptt import fp as fp_bptt
from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero
from .rtrl import UnitDelta, UnitMix, fitted_exponent, run_statements

__all__ = [
    "FORWARD_STEP",
    "GENERATED_DOC",
    "PROPAGATE_STEP",
    "SENSITIVITY_STEP",
    "derivation",
    "kernel_specs",
    "rtrl_step_ops",
]

n, m = sp.symbols("n m", integer=True, positive=True)
W = sp.Symbol("W")
x = sp.Symbol("x")
y_prev = sp.Symbol("y_prev")
fp = sp.Symbol("fp")
A = sp.Symbol("A")
P_prev = sp.Symbol("P_prev")
e = sp.Symbol("e")
R_prev = sp.Symbol("R")
net, mixed, delta, P, grad, R_new = sp.symbols("net mixed delta P grad R_next")

SHAPES: dict[sp.Basic, tuple[sp.Expr, ...]] = {
    W: (n, n, m),
    x: (m,),
    y_prev: (n,),
    fp: (n,),
    A: (n, n),
    P_prev: (n, n, n, m),
    e: (n,),
    R_prev: (n, n),
}

#: S9: the gated weights ``A(t) = sum_k w_ijk x^k(t)`` and ``net(t) = A(t) y(t-1)``.
FORWARD_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (A, MatVec(W, x)),
    (net, MatVec(A, y_prev)),
)

#: S9: one step of second-order RTRL,
#: ``p^k_ijl(t) = f'_k (sum_r A_kr(t) p^r_ijl(t-1) + delta_ki y^j(t-1) x^l(t))`` and this
#: step's ``dE(t)/dw_ijl = -sum_k e_k(t) p^k_ijl(t)``.
SENSITIVITY_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (mixed, UnitMix(A, P_prev)),
    (delta, UnitDelta(fp, 2)),
    (P, Expand(Expand(Expand(fp))) * (mixed + delta * Outer(y_prev, x))),
    (grad, -Contract(e, P)),
)

#: S9: a sensitivity carried one step with the gated weights, ``R <- A(t+1) F'(t) R``.
PROPAGATE_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = ((R_new, UnitMix(A, Expand(fp) * R_prev)),)

GENERATED_DOC = """Kernels of second-order (multiplicative) recurrent units (SPEC S9, Watrous & Kuhn
1992, Miller & Giles 1993), printed from errorflow.derivations.second_order. W[i, j, k] = w_ijk
multiplies y^j(t-1) x^k(t) into net_i(t); A(t)[i, j] = sum_k w_ijk x^k(t) are the gated weights;
P[r, i, j, k] = dy^r(t)/dw_ijk."""


def kernel_specs() -> list[KernelSpec]:
    """The second-order step kernels codegen prints (each with a ``*_flops`` companion)."""
    return [
        KernelSpec(
            name="forward_step",
            summary=(
                "Gated weights A(t) = sum_k w_ijk x^k(t) and net(t) = A(t) y(t-1) of "
                "second-order units (S9)."
            ),
            math="; ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in FORWARD_STEP),
            claims=("S9",),
            args=(
                KernelArg("W", "(n, n, m) weights w_ijk"),
                KernelArg("x", "(m,) external input x(t)"),
                KernelArg("y_prev", "(n,) activations y(t-1)"),
            ),
            symbols=(W, x, y_prev),
            outputs=(net, A),
            kind="step",
            statements=FORWARD_STEP,
            shapes=SHAPES,
            sizes=(n, m),
        ),
        KernelSpec(
            name="sensitivity_step",
            summary=(
                "One step of second-order RTRL: p^r_ijk(t) = f'_r(net_r(t)) (sum_l A_rl(t) "
                "p^l_ijk(t-1) + delta_ri y^j(t-1) x^k(t)) and dE(t)/dw_ijk = -sum_r e_r(t) "
                "p^r_ijk(t) (S9)."
            ),
            math="; ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in SENSITIVITY_STEP),
            claims=("S9",),
            args=(
                KernelArg("fp", "(n,) slopes f'_r(net_r(t))"),
                KernelArg("A", "(n, n) gated weights A(t)"),
                KernelArg("P_prev", "(n, n, n, m) sensitivities dy^r(t-1)/dw_ijk"),
                KernelArg("y_prev", "(n,) activations y(t-1)"),
                KernelArg("x", "(m,) external input x(t)"),
                KernelArg("e", "(n,) injected error d(t) - y(t) at output units, 0 elsewhere"),
            ),
            symbols=(fp, A, P_prev, y_prev, x, e),
            outputs=(P, grad),
            kind="step",
            statements=SENSITIVITY_STEP,
            shapes=SHAPES,
            sizes=(n, m),
        ),
        KernelSpec(
            name="propagate_step",
            summary=(
                "A net-input sensitivity carried one step through gated weights, "
                "R <- A(t+1) F'(t) R (S9; over q steps the transposed scaling factor)."
            ),
            math="; ".join(f"{sp.sstr(a)} = {sp.sstr(b)}" for a, b in PROPAGATE_STEP),
            claims=("S9",),
            args=(
                KernelArg("fp", "(n,) slopes f'(net(t))"),
                KernelArg("A", "(n, n) gated weights A(t+1)"),
                KernelArg("R", "(n, k) dnet(t)/dnet(t0)"),
            ),
            symbols=(fp, A, R_prev),
            outputs=(R_new,),
            kind="step",
            statements=PROPAGATE_STEP,
            shapes=SHAPES,
            sizes=(n,),
        ),
    ]


# ---------------------------------------------------------------------------------------
# Explicit second-order nets for the proofs.
# ---------------------------------------------------------------------------------------


def explicit_weights(k: int, mm: int) -> sp.ImmutableDenseNDimArray:
    """``w_ijl`` as symbols (units 1..k, inputs 1..mm)."""
    return sp.ImmutableDenseNDimArray(
        [
            sp.Symbol(f"w_{{{i + 1}{j + 1}{l + 1}}}", real=True)
            for i in range(k)
            for j in range(k)
            for l in range(mm)
        ],
        (k, k, mm),
    )


def _inputs(mm: int, s: int) -> sp.ImmutableDenseNDimArray:
    return sp.ImmutableDenseNDimArray([sp.Symbol(f"x_{l + 1}({s})") for l in range(mm)], (mm,))


def _gated(Wa, xa) -> sp.Matrix:
    """``A = sum_l w_ijl x^l`` via the generated forward statements."""
    k = Wa.shape[0]
    out = run_statements(FORWARD_STEP, {W: Wa, x: xa, y_prev: sp.ImmutableDenseNDimArray([0] * k)})
    return sp.Matrix(out[A].tolist())


def _unit_factor_proof() -> Proof:
    k, mm = 2, 2
    Wa = explicit_weights(k, mm)
    xa = _inputs(mm, 1)
    ys = sp.ImmutableDenseNDimArray([sp.Symbol(f"y_{j + 1}(0)") for j in range(k)])
    out = run_statements(FORWARD_STEP, {W: Wa, x: xa, y_prev: ys})
    ok = True
    for i in range(k):
        yi = _f(out[net][i])
        for j in range(k):
            claimed = _fprime_at(out[net][i]) * sum(Wa[i, j, l] * xa[l] for l in range(mm))
            ok = ok and is_zero(sp.diff(yi, ys[j]) - claimed)
    return Proof(
        "S9",
        r"$\partial y^i(t)/\partial y^j(t-1) = f'_i(net_i(t)) \sum_k w_{ijk}\, x^k(t)$ "
        r"for every $i, j$ ($n = 2$, two inputs, any differentiable $f$)",
        "sympy.diff of the generated forward statements, simplify(lhs - rhs) = 0",
        ok,
    )


def scaling_matrix(k: int, mm: int, q: int) -> sp.Matrix:
    """``S(q)`` of B3 with ``W`` replaced by ``A(t-m+1)`` at step m, from bptt's
    :data:`~errorflow.derivations.bptt.SCALING_STEP` (inputs ``x(t-m+1)``, slopes
    ``f'(net(t-m))`` written as symbols ``fp_v(t-m)``)."""
    Wa = explicit_weights(k, mm)
    S = sp.eye(k)
    for step in range(1, q + 1):
        Am = _gated(Wa, _inputs(mm, -(step - 1)))
        slopes = sp.Matrix(k, 1, lambda v, _, s=step: sp.Symbol(f"fp_{v + 1}(t-{s})"))
        S = _explicit(SCALING_STEP, k, {fp_bptt: slopes, W_bptt: Am, S_bptt: S})
    return S


def _unrolled_factor_proof(k: int, mm: int, q: int) -> bool:
    """``dnet(t)/dnet(t-q)`` of the unrolled second-order net equals ``S(q)^T``."""
    Wa = explicit_weights(k, mm)
    base = [sp.Symbol(f"n_{v + 1}") for v in range(k)]  # net(t-q)
    nets = [sp.Matrix(base)]
    for s in range(q - 1, -1, -1):  # net(t-s) = A(t-s) f(net(t-s-1))
        Am = _gated(Wa, _inputs(mm, -s))
        nets.append(Am * nets[-1].applyfunc(_f))
    jac = nets[-1].jacobian(base)
    S = scaling_matrix(k, mm, q)
    subs = {}
    for step in range(1, q + 1):  # fp_v(t-step) is f'(net_v(t-step)) = slope at nets[q-step]
        for v in range(k):
            subs[sp.Symbol(f"fp_{v + 1}(t-{step})")] = _fprime_at(nets[q - step][v])
    return all(is_zero(a - b) for a, b in zip(jac, S.T.xreplace(subs), strict=True))


def _zero_input_blocks(k: int, mm: int, q: int) -> bool:
    S = scaling_matrix(k, mm, q)
    ok = True
    for s in range(q):  # a zero input at any one step of the window
        zero = {sp.Symbol(f"x_{l + 1}({-s})"): 0 for l in range(mm)}
        ok = ok and all(entry.xreplace(zero) == 0 for entry in S)
    return ok


def _one_hot_selects(k: int, mm: int) -> bool:
    Wa = explicit_weights(k, mm)
    ok = True
    for hot in range(mm):
        xa = sp.ImmutableDenseNDimArray([int(l == hot) for l in range(mm)])
        ok = ok and _gated(Wa, xa) == sp.Matrix(k, k, lambda i, j, h=hot: Wa[i, j, h])
    return ok


def _section_factor() -> Section:
    pairs = [(1, 2, 1), (1, 2, 3), (2, 2, 1), (2, 2, 2), (2, 1, 3)]
    unrolled = all(_unrolled_factor_proof(*c) for c in pairs)
    blocks = all(_zero_input_blocks(k, 2, q) for k in (1, 2) for q in (1, 2, 3))
    return Section(
        claims=("S9",),
        title="second-order units: the input gates the recurrent weight",
        paper_ref=(
            "section 2 (Watrous \\& Kuhn 1992; Miller \\& Giles 1993) and section 3.1, eq. (1)"
        ),
        prose=(
            r"In a second-order net each recurrent weight is multiplied by an input. The error "
            r"factor of one step is the conventional one (B3) with $w_{ij}$ replaced by the "
            r"gated weight $A_{ij}(t) = \sum_k w_{ijk} x^k(t)$, and over $q$ steps it is "
            r"Hochreiter's $S(q)$ with $W$ replaced by $A(t-m+1)$ at step $m$. So the input "
            r"decides, step by step, how much error passes: a zero input passes none, a "
            r"one-hot input selects one weight matrix. For squashing units the factor still "
            r"contains $f'$, so it decays as in B6 unless the gated weights are large."
        ),
        steps=[
            Step(
                "net input",
                r"net_i(t)",
                r"\sum_{j}\sum_{k} w_{ijk}\, y^j(t-1)\, x^k(t) = \sum_j A_{ij}(t)\, y^j(t-1)",
                text="net_i(t) = sum_jk w_ijk y^j(t-1) x^k(t) = sum_j A_ij(t) y^j(t-1)",
            ),
            Step(
                "gated weight",
                r"A_{ij}(t)",
                r"\sum_k w_{ijk}\, x^k(t)",
                text="A_ij(t) = sum_k w_ijk x^k(t)",
            ),
            Step(
                "one step",
                r"\frac{\partial y^i(t)}{\partial y^j(t-1)}",
                r"f'_i(net_i(t)) \sum_k w_{ijk}\, x^k(t)",
                text="dy^i(t)/dy^j(t-1) = f'_i(net_i(t)) sum_k w_ijk x^k(t)",
            ),
            Step(
                "q steps",
                r"S(q)",
                r"F'(t-q)\,A(t-q+1)^T\,F'(t-q+1)\,A(t-q+2)^T \cdots F'(t-1)\,A(t)^T",
                text="S(q) = F'(t-q) A(t-q+1)^T F'(t-q+1) A(t-q+2)^T ... F'(t-1) A(t)^T",
            ),
            Step(
                "zero input",
                r"x(s) = 0",
                r"\Rightarrow A(s) = 0 \Rightarrow S(q) = 0 \text{ for } t-q < s \le t",
                text="x(s) = 0 => A(s) = 0 => S(q) = 0 for t-q < s <= t",
            ),
            Step(
                "one-hot input",
                r"x(t) = e_k",
                r"\Rightarrow A_{ij}(t) = w_{ijk}",
                text="x(t) = e_k => A_ij(t) = w_ijk",
            ),
        ],
        proofs=[
            _unit_factor_proof(),
            Proof(
                "S9",
                r"$\partial net(t)/\partial net(t-q)$ of the unrolled second-order net equals "
                r"$S(q)^T$ built from bptt's scaling step with the gated weights "
                r"($n \le 2$, $q \le 3$, one or two inputs)",
                "sympy jacobian of the unrolled net vs SCALING_STEP, simplify = 0",
                unrolled,
            ),
            Proof(
                "S9",
                r"a zero input at any step of the window makes every entry of $S(q)$ exactly 0 "
                r"($n \le 2$, $q \le 3$)",
                "substitution into the explicit S(q)",
                blocks,
            ),
            Proof(
                "S9",
                r"a one-hot input $x = e_k$ gives $A = w_{\cdot\cdot k}$ (two inputs, $n = 2$)",
                "the generated forward statements on explicit arrays",
                _one_hot_selects(2, 2),
            ),
        ],
    )


def _gated_loop_factor(q: int) -> bool:
    """A linear second-order self-loop ``s(t) = (w_hold x_hold(t) + w_reset x_reset(t)) s(t-1)
    + u(t)`` unrolled q steps: ``ds(t)/ds(t-q)`` is ``w_hold^q`` on hold inputs, 1 for
    ``w_hold = 1``, and 0 once one input is the reset symbol with ``w_reset = 0``."""
    w_h, w_r, s0 = sp.symbols("w_hold w_reset s_0", real=True)
    hold_only, with_reset = s0, s0
    for step in range(q):
        u = sp.Symbol(f"u_{step}")
        hold_only = (w_h * 1 + w_r * 0) * hold_only + u
        reset_in = (0, 1) if step == q // 2 else (1, 0)
        with_reset = (w_h * reset_in[0] + w_r * reset_in[1]) * with_reset + u
    flow = sp.diff(hold_only, s0)
    cut = sp.diff(with_reset, s0)
    return is_zero(flow - w_h**q) and flow.subs(w_h, 1) == 1 and is_zero(cut.subs({w_h: 1, w_r: 0}))


def _section_gating() -> Section:
    a, b, s, y_out, y_in, g, net_c = sp.symbols("y^a y^b s_c y^out y^in g net_c", real=True)
    h = sp.Function("h")
    gfun = sp.Function("g")
    product = is_zero(sp.diff(a * b, a) - b) and is_zero(sp.diff(a * b, b) - a)
    out_gate = is_zero(sp.diff(y_out * h(s), s) - y_out * sp.diff(h(s), s))
    in_gate = is_zero(sp.diff(s + y_in * gfun(net_c), net_c) - y_in * sp.diff(gfun(net_c), net_c))
    closed = (y_out * sp.diff(h(s), s)).subs(y_out, 0) == 0 and (y_in * g).subs(y_in, 0) == 0
    cec = all(_gated_loop_factor(q) for q in range(1, 9))
    qq = sp.Symbol("q", integer=True, positive=True)
    rho = sp.Symbol("rho", positive=True)
    decays = sp.limit((rho / (1 + rho)) ** qq, qq, sp.oo) == 0
    return Section(
        claims=("S9",),
        title="multiplicative gates protect the error flow",
        paper_ref="section 4 (why the gates; eqs. 21, 23 in A.1) and section 2",
        prose=(
            r"A product unit passes error to each factor scaled by the other factor. LSTM's "
            r"gates are such products: the error entering the carousel from the cell output is "
            r"scaled by $y^{out}$ and the error leaving it into $net_c$ by $y^{in}$. A closed "
            r"gate (activation 0) passes no error at all, so the cell's content is protected "
            r"from irrelevant errors (output conflict) and other units from the cell's error "
            r"(input conflict). A linear second-order self-loop is the same idea with the input "
            r"as the gate: with a hold symbol whose gated weight is exactly 1 the error is "
            r"carried unchanged for any lag, a reset symbol with gated weight 0 cuts it. Any "
            r"gated weight of modulus $\rho < 1$ per step (or a squashing $f$ with "
            r"$f' |A| < 1$) makes it decay like $\rho^q$."
        ),
        steps=[
            Step(
                "product unit",
                r"\frac{\partial (y^a y^b)}{\partial y^a}",
                r"y^b",
                text="d(y^a y^b)/dy^a = y^b",
            ),
            Step(
                "output gate",
                r"\frac{\partial y^c}{\partial s_c}",
                r"y^{out}\, h'(s_c)",
                note="the scaling of error entering the carousel, eq. (23)",
                text="dy^c/ds_c = y^out h'(s_c)",
            ),
            Step(
                "input gate",
                r"\frac{\partial s_c(t)}{\partial net_c(t)}",
                r"y^{in}(t)\, g'(net_c(t))",
                note="the scaling of error leaving the carousel, eq. (41)",
                text="ds_c(t)/dnet_c(t) = y^in(t) g'(net_c(t))",
            ),
            Step(
                "gated self-loop",
                r"\frac{\partial s(t)}{\partial s(t-q)}",
                r"\prod_{m=0}^{q-1} \sum_k w_k\, x^k(t-m)",
                note=r"linear second-order unit $s(t) = \bigl(\sum_k w_k x^k(t)\bigr) s(t-1) "
                r"+ \ldots$",
                text="ds(t)/ds(t-q) = prod_{m<q} sum_k w_k x^k(t-m)  (linear second-order loop)",
            ),
            Step(
                "hold",
                r"\frac{\partial s(t)}{\partial s(t-q)}",
                r"1 \quad \text{if } x(t-m) = \text{hold},\ w_{hold} = 1 \text{ for all } m",
                text="ds(t)/ds(t-q) = 1 if every input is hold and w_hold = 1",
            ),
        ],
        proofs=[
            Proof(
                "S9",
                r"a product unit passes each factor the other factor; "
                r"$\partial y^c/\partial s_c = y^{out} h'(s_c)$, "
                r"$\partial s_c/\partial net_c = y^{in} g'(net_c)$; a gate at 0 passes no error",
                "sympy.diff, substitution",
                product and out_gate and in_gate and closed,
            ),
            Proof(
                "S9",
                r"the linear gated self-loop carries error with factor exactly 1 over $q \le 8$ "
                r"hold steps and 0 after a reset (sympy.diff of the unrolled loop); a factor "
                r"$\rho/(1+\rho) < 1$ per step vanishes as $q \to \infty$",
                "sympy.diff of the unrolled linear loop; sympy.limit",
                cec and decays,
            ),
        ],
    )


# ---------------------------------------------------------------------------------------
# Cost.
# ---------------------------------------------------------------------------------------
def _symbols_array(name: str, shp: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    idx = list(itertools.product(*(range(d) for d in shp)))
    return sp.ImmutableDenseNDimArray(
        [sp.Symbol(f"{name}_{'_'.join(map(str, i))}") for i in idx], shp
    )


@cache
def rtrl_step_ops(k: int, mm: int) -> int:
    """``count_ops`` of :data:`FORWARD_STEP` + :data:`SENSITIVITY_STEP` on explicit symbols."""
    env = {
        W: _symbols_array("w", (k, k, mm)),
        x: _symbols_array("x", (mm,)),
        y_prev: _symbols_array("y", (k,)),
        fp: _symbols_array("fp", (k,)),
        P_prev: _symbols_array("p", (k, k, k, mm)),
        e: _symbols_array("e", (k,)),
    }
    fwd = run_statements(FORWARD_STEP, env)
    env[A] = _symbols_array("a", (k, k))  # the gated weights, computed once per step
    out = run_statements(SENSITIVITY_STEP, env)
    parts = [fwd[A], fwd[net], out[P], out[grad]]
    return sum(sp.count_ops(v) for part in parts for v in sp.flatten(part))


COUNT_SIZES: Sequence[int] = (2, 3, 4, 5)
COUNT_INPUTS = 2


def _section_cost() -> Section:
    specs = {s.name: s for s in kernel_specs()}
    flops = sp.expand(specs["forward_step"].flops() + specs["sensitivity_step"].flops())
    Wn = sp.Symbol("W", positive=True)
    weights = n**2 * m
    ratio = sp.limit(flops / weights**2, n, sp.oo)
    counts = [rtrl_step_ops(k, COUNT_INPUTS) for k in COUNT_SIZES]
    ws = [k * k * COUNT_INPUTS for k in COUNT_SIZES]
    expo = fitted_exponent(ws, counts)
    lstm_flops = {s.name: s for s in lstm.kernel_specs()}["truncated_step"].flops()
    bound = lstm.flops_bound(lstm_flops)
    sizes = ", ".join(map(str, COUNT_SIZES))
    return Section(
        claims=("S9", "L8"),
        title=r"cost: $O(W^2)$ per step for second-order RTRL, $O(W)$ for LSTM",
        paper_ref="section 2 (Watrous \\& Kuhn: $O(W^2)$) and eq. (29)",
        prose=(
            r"A second-order net with $n$ units and $m$ inputs has $W = n^2 m$ weights. Its "
            r"RTRL learning rule carries $n \cdot W$ sensitivities and mixes each over the $n$ "
            r"units every step. The counts are those of the generated kernels "
            r"(\texttt{forward\_step} + \texttt{sensitivity\_step}); \texttt{count\_ops} of "
            rf"their statements on explicit symbols at $n = {sizes}$, $m = {COUNT_INPUTS}$ "
            r"gives the exponent in $W$. LSTM's truncated step (L8) is bounded by a constant "
            r"times the number of weights."
        ),
        steps=[
            Step("weights", Wn, weights, text="W = n^2 m"),
            Step(
                "second-order RTRL",
                r"\mathrm{ops}(n, m)",
                flops,
                text=f"forward_step_flops + sensitivity_step_flops = {sp.sstr(flops)}",
            ),
            Step(
                "per weight",
                r"\lim_{n \to \infty} \mathrm{ops}/W^2",
                ratio,
                note=r"so $\mathrm{ops} = O(W^2)$ for a fixed input alphabet",
                text=f"lim ops/W^2 = {sp.sstr(ratio)}",
            ),
            Step(
                "count_ops",
                rf"\mathrm{{count}}(W = {', '.join(map(str, ws))})",
                ", ".join(map(str, counts)) + rf" \quad \text{{fitted exponent in }} W\ {expo:.2f}",
                text=f"count_ops at W = {ws}: {counts}, fitted exponent in W {expo:.2f}",
            ),
            Step(
                "LSTM (L8)",
                r"\mathrm{ops}_{\mathrm{LSTM}}",
                rf"{sp.latex(lstm_flops)} \le {bound}\, W_{{\mathrm{{dense}}}}",
                rel="=",
                text=f"truncated_step_flops = {sp.sstr(lstm_flops)} <= {bound} W_dense",
            ),
        ],
        proofs=[
            Proof(
                "S9",
                rf"second-order RTRL costs $2 n^4 m + O(n^3 m)$ per step, "
                rf"$\mathrm{{ops}}/W^2 \to {sp.latex(ratio)}$ as $n \to \infty$",
                "KernelSpec.flops() of the generated kernels, sympy.limit",
                sp.LT(sp.Poly(flops, n)) == 2 * n**4 * m and ratio == 2 / m,
            ),
            Proof(
                "S9",
                rf"count\_ops of the explicit kernels grows like $W^{{{expo:.2f}}}$ "
                r"($\approx W^2$)",
                "sympy.count_ops on explicit symbols, least-squares log-log fit",
                1.6 < expo < 2.4,
            ),
            Proof(
                "S9, L8",
                rf"LSTM's truncated step costs at most ${bound}\, W_{{\mathrm{{dense}}}}$: $O(W)$",
                "lstm.flops_bound of the generated truncated_step",
                bool(bound > 0),
            ),
        ],
    )


@cache
def derivation() -> Derivation:
    """The second-order derivation (S9), every proof evaluated."""
    return Derivation(
        name="second_order",
        title="Second-order and multiplicative units: gated error flow",
        source=(
            "Watrous \\& Kuhn (1992); Miller \\& Giles (1993); Hochreiter \\& Schmidhuber "
            "(1997), sections 2, 4; SPEC S9"
        ),
        notation=(
            r"Units $1..n$, inputs $1..m$; $w_{ijk}$ multiplies $y^j(t-1)\,x^k(t)$ into "
            r"$net_i(t)$; $A(t)$ is the matrix of gated weights $A_{ij}(t) = \sum_k w_{ijk} "
            r"x^k(t)$; $F'(t)$ is diagonal with the slopes $f'_i(net_i(t))$; $S(q)$ is "
            r"Hochreiter's scaling factor, $S[v,u] = \partial\vartheta_v(t-q)/"
            r"\partial\vartheta_u(t)$."
        ),
        sections=[_section_factor(), _section_gating(), _section_cost()],
    )
