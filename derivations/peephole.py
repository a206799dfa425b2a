r"""Peephole connections (SPEC S2; Gers & Schmidhuber 2000; Gers, Schraudolph & Schmidhuber 2002).

The gates of block j also read the block's own cell state (PAPER.md §7.4): the input and
forget gates the previous state, the output gate the current one::

    net_{in_j}(t)  = a_{in_j}(t)  + w_{in_j c_j}  s_{c_j}(t-1)
    net_{phi_j}(t) = a_{phi_j}(t) + w_{phi_j c_j} s_{c_j}(t-1)
    s_{c_j}(t)     = y^{phi_j}(t) s_{c_j}(t-1) + y^{in_j}(t) g(net_{c_j}(t))
    net_{out_j}(t) = a_{out_j}(t) + w_{out_j c_j} s_{c_j}(t)
    y^{c_j}(t)     = y^{out_j}(t) h(s_{c_j}(t))

``a_u(t) = sum_m w_{um} y^m(t-1)`` is the rest of each net input. The 1997 truncation (SPEC L2)
cuts the recurrent inputs ``y^m(t-1)``, so the ``a_u(t)`` are constants; the peepholes carry
the cell's own state inside the block and are **kept** here. Differentiating the unrolled
stop-gradient peephole cell proves:

* the one-step state Jacobian ``d s_c(t)/d s_c(t-1) = y^phi(t) + s_c(t-1) f'_phi(net_phi(t))
  w_{phi c} + g(net_c(t)) f'_in(net_in(t)) w_{in c}`` and over q steps the product of these
  (the derivative of the q-fold state map);
* zero peephole weights give S1's ``y^phi``, and no forget gate either gives the 1997 factor 1;
* the output-gate peephole changes only the factor with which error enters the carousel,
  ``dy^c(t)/ds_c(t) = y^out(t) h'(s_c(t)) + f'_out(net_out(t)) w_{out c} h(s_c(t))``;
* for a block of S cells the Jacobian is ``y^phi I`` plus two rank-one terms (S = 2);
* with logistic gates ``J - 1 = (1 - y^phi)(s_c w_{phi c} y^phi - 1) + g w_{in c} y^in (1 - y^in)``:
  the factor exceeds 1 (explosion possible) or reaches 0 or below (vanishing, sign reversal)
  through the peepholes, with exact witnesses; ``|J - y^phi| <= (|s_c w_{phi c}| +
  |g w_{in c}|)/4`` bounds how far peepholes move it.

Whether Gers et al. (2002) also truncate the peephole paths in their learning rule is not
verified here (PAPER.md §7.4); if they do, the carousel factor is S1's ``y^phi``.
SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, is_zero, prove_equal
from .forget_gate import F_PHI, PHI
from .lstm_flow import (
    _BY_DIFF,
    _F,
    F_IN,
    F_OUT,
    IN,
    OUT,
    CellState,
    G,
    H,
    _add,
    _d,
    _mul,
    _net,
    _s,
    _step,
    _y,
    primes,
)
from .lstm_flow import C as CELL
from .notation import latex
from .notation import t as _t

__all__ = [
    "GENERATED_DOC",
    "JACOBIAN",
    "PeepholeCell",
    "derivation",
    "kernel_specs",
    "peephole_cell",
    "sections",
]

# ---------------------------------------------------------------------------------------
# Kernel expressions.
# ---------------------------------------------------------------------------------------
_R = {"real": True}
a, w_c, s = sp.symbols("a w_c s", **_R)
y_phi, s_prev, dfphi, w_phi_c, g_c, dfin, w_in_c = sp.symbols(
    "y_phi s_prev dfphi w_phi_c g_c dfin w_in_c", **_R
)
y_out, dh_s, dfout, w_out_c, h_s = sp.symbols("y_out dh_s dfout w_out_c h_s", **_R)

#: A gate's net input with its peephole: ``a_u(t) + w_{u c} s`` (s = s_c(t-1) or s_c(t)).
PEEPHOLE_NET = a + w_c * s
#: ``d s_c(t)/d s_c(t-1)`` with the peephole paths kept.
JACOBIAN = y_phi + s_prev * dfphi * w_phi_c + g_c * dfin * w_in_c
#: ``d y^c(t)/d s_c(t)`` with the output-gate peephole.
OUTPUT_SLOPE = y_out * dh_s + dfout * w_out_c * h_s

GENERATED_DOC = """Kernels of the peephole memory cell (SPEC S2; Gers & Schmidhuber 2000; Gers,
Schraudolph & Schmidhuber 2002), printed from errorflow.derivations.peephole. Elementwise over
arrays of any broadcast-compatible shape (one entry per cell; S = 1 blocks). The input and
forget gates see s_c(t-1), the output gate s_c(t); the peephole paths are kept in the
derivative, the recurrent inputs a_u(t) = sum_m w_um y^m(t-1) are truncated (SPEC L2)."""


def kernel_specs() -> list[KernelSpec]:
    """The peephole kernels codegen prints (S2)."""
    return [
        KernelSpec(
            name="peephole_net",
            summary="A gate's net input with its peephole, net_u = a_u + w_uc s.",
            math=sp.sstr(PEEPHOLE_NET),
            claims=("S2",),
            args=(
                KernelArg("a", "the rest of the net input, sum_m w_um y^m(t-1), any shape"),
                KernelArg("w_c", "peephole weights w_{u c_j}"),
                KernelArg("s", "the state the gate sees: s_c(t-1) (in, phi) or s_c(t) (out)"),
            ),
            symbols=(a, w_c, s),
            outputs=(PEEPHOLE_NET,),
        ),
        KernelSpec(
            name="state_jacobian",
            summary="One-step carousel factor d s_c(t)/d s_c(t-1) with peepholes kept (S2).",
            math=sp.sstr(JACOBIAN),
            claims=("S2",),
            args=(
                KernelArg("y_phi", "forget-gate activations y^phi(t), any shape"),
                KernelArg("s_prev", "states s_c(t-1)"),
                KernelArg("dfphi", "forget-gate slopes f'_phi(net_phi(t))"),
                KernelArg("w_phi_c", "forget-gate peephole weights w_{phi_j c_j}"),
                KernelArg("g_c", "squashed cell inputs g(net_c(t))"),
                KernelArg("dfin", "input-gate slopes f'_in(net_in(t))"),
                KernelArg("w_in_c", "input-gate peephole weights w_{in_j c_j}"),
            ),
            symbols=(y_phi, s_prev, dfphi, w_phi_c, g_c, dfin, w_in_c),
            outputs=(JACOBIAN,),
        ),
        KernelSpec(
            name="output_slope",
            summary="Error entering the carousel, d y^c(t)/d s_c(t), output peephole kept (S2).",
            math=sp.sstr(OUTPUT_SLOPE),
            claims=("S2",),
            args=(
                KernelArg("y_out", "output-gate activations y^out(t), any shape"),
                KernelArg("dh_s", "slopes h'(s_c(t))"),
                KernelArg("dfout", "output-gate slopes f'_out(net_out(t))"),
                KernelArg("w_out_c", "output-gate peephole weights w_{out_j c_j}"),
                KernelArg("h_s", "squashed states h(s_c(t))"),
            ),
            symbols=(y_out, dh_s, dfout, w_out_c, h_s),
            outputs=(OUTPUT_SLOPE,),
        ),
    ]


# ---------------------------------------------------------------------------------------
# The stop-gradient peephole cell.
# ---------------------------------------------------------------------------------------
def _weight(gate: str, tex_gate: str) -> sp.Symbol:
    """The peephole weight ``w_{u_j c_j}`` from the cell state to gate ``u``, paper-printed."""
    cls = type(
        f"_Peep{gate.capitalize()}",
        (sp.Symbol,),
        {
            "_latex": lambda self, printer: rf"w_{{{tex_gate}_j c_j}}",
            "_sympystr": lambda self, printer: f"w_{gate}c",
        },
    )
    return cls(f"w_{gate}_c_j", real=True)


W_IN_C = _weight("in", "in")
W_PHI_C = _weight("phi", r"\phi")
W_OUT_C = _weight("out", "out")
WEIGHTS = (W_IN_C, W_PHI_C, W_OUT_C)


@dataclass(frozen=True, eq=False)
class PeepholeCell:
    """One peephole cell over ``T`` steps; ``a_*[t-1]`` are the truncated rest of each net
    input, ``eps[t-1]`` perturbs ``s_c(t)``; ``state``, ``y_c``, ``net_*`` are expressions."""

    T: int
    a_in: tuple[sp.Symbol, ...]
    a_phi: tuple[sp.Symbol, ...]
    a_c: tuple[sp.Symbol, ...]
    a_out: tuple[sp.Symbol, ...]
    eps: tuple[sp.Symbol, ...]
    state: tuple[sp.Expr, ...]
    net_in: tuple[sp.Expr, ...]
    net_phi: tuple[sp.Expr, ...]
    net_out: tuple[sp.Expr, ...]
    y_c: tuple[sp.Expr, ...]

    def zero(self, expr: sp.Expr) -> sp.Expr:
        return expr.xreplace({e: 0 for e in self.eps})

    def d(self, expr: sp.Expr, wrt: sp.Symbol) -> sp.Expr:
        return primes(self.zero(sp.diff(expr, wrt)))

    def jacobian(self, u: int) -> sp.Expr:
        """``J(u) = d s_c(u)/d s_c(u-1)`` by the formula, at this cell's values (u >= 1)."""
        i = u - 1
        prev = self.zero(self.state[i - 1]) if i > 0 else sp.Integer(0)
        nphi, nin = self.zero(self.net_phi[i]), self.zero(self.net_in[i])
        return JACOBIAN.xreplace(
            {
                y_phi: F_PHI(nphi),
                s_prev: prev,
                dfphi: F_PHI.prime(nphi),
                w_phi_c: W_PHI_C,
                g_c: G(self.a_c[i]),
                dfin: F_IN.prime(nin),
                w_in_c: W_IN_C,
            }
        )


@cache
def peephole_cell(T: int) -> PeepholeCell:
    """The stop-gradient peephole cell of length ``T`` (see :class:`PeepholeCell`)."""
    names = ("in", "phi", "c", "out")
    sy = {k: tuple(_s(f"a_{k}{u}") for u in range(1, T + 1)) for k in names}
    eps = tuple(_s(f"eps{u}") for u in range(1, T + 1))
    st = sp.Integer(0)
    states, nins, nphis, nouts, ycs = [], [], [], [], []
    for i in range(T):
        ni = sy["in"][i] + W_IN_C * st
        nphi = sy["phi"][i] + W_PHI_C * st
        st = F_PHI(nphi) * st + F_IN(ni) * G(sy["c"][i]) + eps[i]
        no = sy["out"][i] + W_OUT_C * st
        states.append(st)
        nins.append(ni)
        nphis.append(nphi)
        nouts.append(no)
        ycs.append(F_OUT(no) * H(st))
    return PeepholeCell(
        T,
        sy["in"],
        sy["phi"],
        sy["c"],
        sy["out"],
        eps,
        tuple(states),
        tuple(nins),
        tuple(nphis),
        tuple(nouts),
        tuple(ycs),
    )


# ---------------------------------------------------------------------------------------
# Proofs.
# ---------------------------------------------------------------------------------------
def _one_step_proof() -> Proof:
    sp_, ai, aphi, ac = _s("s_prev"), _s("a_in"), _s("a_phi"), _s("a_c")
    ni, nphi = ai + W_IN_C * sp_, aphi + W_PHI_C * sp_
    step = F_PHI(nphi) * sp_ + F_IN(ni) * G(ac)
    derived = primes(sp.diff(step, sp_))
    claimed = JACOBIAN.xreplace(
        {
            y_phi: F_PHI(nphi),
            s_prev: sp_,
            dfphi: F_PHI.prime(nphi),
            w_phi_c: W_PHI_C,
            g_c: G(ac),
            dfin: F_IN.prime(ni),
            w_in_c: W_IN_C,
        }
    )
    return prove_equal(
        "S2",
        r"one step: $\partial s_{c_j}(t)/\partial s_{c_j}(t-1) = y^{\phi_j}(t) + s_{c_j}(t-1)\,"
        r"f'_{\phi_j}(net_{\phi_j}(t))\,w_{\phi_j c_j} + g(net_{c_j}(t))\,f'_{in_j}(net_{in_j}(t))"
        r"\,w_{in_j c_j}$ (generic $f_{\phi_j}$, $f_{in_j}$, $g$; the kernel's expression)",
        derived,
        claimed,
    )


def _q_step(T: int) -> tuple[bool, int, bool]:
    """``d s(b)/d s(a) = prod_{u=a+1}^{b} J(u)`` for all pairs; and with zero peepholes the
    product is S1's ``prod y^phi``."""
    cell = peephole_cell(T)
    ok, reduce_ok = [], []
    zero_w = {W_IN_C: 0, W_PHI_C: 0, W_OUT_C: 0}
    for i in range(T):
        for b in range(i, T):
            got = cell.d(cell.state[b], cell.eps[i])
            want = sp.Mul(*(cell.jacobian(u) for u in range(i + 2, b + 2)))
            ok.append(is_zero(got - want))
            gates = sp.Mul(*(F_PHI(cell.a_phi[u - 1]) for u in range(i + 2, b + 2)))
            reduce_ok.append(is_zero(got.xreplace(zero_w) - gates))
    return all(ok), len(ok), all(reduce_ok)


def _reductions() -> bool:
    """J with zero peepholes is y^phi (S1); with y^phi = 1 too, it is 1 (1997, eq. 35)."""
    s1 = JACOBIAN.subs({w_phi_c: 0, w_in_c: 0})
    return is_zero(s1 - y_phi) and is_zero(s1.subs(y_phi, 1) - 1)


def _output_slope_proof(T: int = 3) -> bool:
    cell = peephole_cell(T)
    ok = []
    for i in range(T):
        got = cell.d(cell.y_c[i], cell.eps[i])
        st, no = cell.zero(cell.state[i]), cell.zero(cell.net_out[i])
        want = OUTPUT_SLOPE.xreplace(
            {
                y_out: F_OUT(no),
                dh_s: H.prime(st),
                dfout: F_OUT.prime(no),
                w_out_c: W_OUT_C,
                h_s: H(st),
            }
        )
        ok.append(is_zero(got - want))
    return all(ok)


def _block_proof() -> bool:
    """S = 2 cells sharing the gates: ``J[v, v'] = delta y^phi + s_v f'_phi w_{phi v'} +
    g_v f'_in w_{in v'}``."""
    s1, s2, aphi, ai, c1, c2 = (_s(n) for n in ("s1", "s2", "aphi", "ain", "ac1", "ac2"))
    wp = (_s("wp1"), _s("wp2"))
    wi = (_s("wi1"), _s("wi2"))
    nphi = aphi + wp[0] * s1 + wp[1] * s2
    nin = ai + wi[0] * s1 + wi[1] * s2
    new = [F_PHI(nphi) * sv + F_IN(nin) * G(cv) for sv, cv in ((s1, c1), (s2, c2))]
    ok = []
    for v, (sv, cv) in enumerate(((s1, c1), (s2, c2))):
        for vp, src in enumerate((s1, s2)):
            got = primes(sp.diff(new[v], src))
            want = (
                (F_PHI(nphi) if v == vp else 0)
                + sv * F_PHI.prime(nphi) * wp[vp]
                + G(cv) * F_IN.prime(nin) * wi[vp]
            )
            ok.append(is_zero(got - want))
    return all(ok)


def _logistic_form() -> tuple[bool, bool]:
    """With logistic gates (``f' = f(1 - f)``, A1): ``J - 1`` and ``J`` in closed form."""
    yi = sp.Symbol("y_in", real=True)
    logistic = JACOBIAN.xreplace({dfphi: y_phi * (1 - y_phi), dfin: yi * (1 - yi)})
    minus_one = (1 - y_phi) * (s_prev * w_phi_c * y_phi - 1) + g_c * w_in_c * yi * (1 - yi)
    factored = y_phi * (1 + s_prev * w_phi_c * (1 - y_phi)) + g_c * w_in_c * yi * (1 - yi)
    return is_zero(logistic - 1 - minus_one), is_zero(logistic - factored)


def _witnesses() -> tuple[sp.Expr, sp.Expr]:
    """Exact J at two points with the paper's logistic gates and no input peephole.

    Explosion: ``s_c(t-1) = 4``, ``w_{phi c} = 1``, ``a_phi = -4`` (so ``net_phi = 0``,
    ``y^phi = 1/2``): ``J = 3/2``. Vanishing: ``s_c(t-1) = 1``, ``w_{phi c} = -2``,
    ``a_phi = 2``: ``J = 0``.
    """
    from .squashing import SQUASHING
    from .squashing import x as sx

    f = SQUASHING["logistic"].f
    fp = SQUASHING["logistic"].df

    def J(sv, w, ap):
        net = ap + w * sv
        return sp.nsimplify(sp.simplify(f.subs(sx, net) + sv * fp.subs(sx, net) * w))

    return J(4, 1, -4), J(1, -2, 2)


def _bound_proof() -> bool:
    """``f'(x) = f(1 - f) <= 1/4`` in the form ``1/4 - p(1-p) = (p - 1/2)^2``."""
    p = sp.Symbol("p", real=True)
    return is_zero(sp.Rational(1, 4) - p * (1 - p) - (p - sp.Rational(1, 2)) ** 2)


def _jac_display(time: object) -> _F:
    return _add(
        _y(PHI, time),
        _mul(CellState(time - 1), F_PHI.prime(_net(PHI, time)), W_PHI_C),
        _mul(G(_net(CELL, time)), F_IN.prime(_net(IN, time)), W_IN_C),
    )


def _section_jacobian() -> Section:
    t, q = _t, sp.Symbol("q")
    T = 4
    q_ok, n_pairs, reduce_ok = _q_step(T)
    ds = _d(CellState(t), CellState(t - 1))
    jt = _F(r"J_{c_j}(t)", "J_c(t)")
    steps = [
        _step(
            "in", _net(IN, t), _add(_F(r"a_{in_j}(t)", "a_in(t)"), _mul(W_IN_C, CellState(t - 1)))
        ),
        _step(
            "forget",
            _net(PHI, t),
            _add(_F(r"a_{\phi_j}(t)", "a_phi(t)"), _mul(W_PHI_C, CellState(t - 1))),
        ),
        _step(
            "out",
            _net(OUT, t),
            _add(_F(r"a_{out_j}(t)", "a_out(t)"), _mul(W_OUT_C, CellState(t))),
            note=r"The output gate sees the current state (computed after the update).",
        ),
        _step(
            "L2",
            _F(r"\frac{\partial a_u(t)}{\partial y^m(t-1)}", "da_u(t)/dy^m(t-1)"),
            0,
            rel="~tr",
            note=(
                r"$a_u(t) = \sum_m w_{um} y^m(t-1)$: the recurrent inputs are cut as in 1997; "
                r"the peephole terms are the cell's own state and stay."
            ),
        ),
        _step(
            "one step",
            ds,
            _F(rf"{jt.tex} = {_jac_display(t).tex}", f"{jt.txt} = {_jac_display(t).txt}"),
            rel="~tr",
        ),
        _step(
            "q steps",
            _d(CellState(t), CellState(t - q)),
            _F(r"\prod_{k=0}^{q-1} J_{c_j}(t-k)", "prod_(k=0..q-1) J_c(t-k)"),
            rel="~tr",
            note=(
                r"$J_{c_j}(t)$ is the slope of the state map $F_t(s) = f_{\phi_j}(a_{\phi_j} + "
                r"w_{\phi_j c_j} s)\,s + f_{in_j}(a_{in_j} + w_{in_j c_j} s)\,g(net_{c_j})$, so "
                r"the product is the slope of its $q$-fold composition; its long-run log-rate "
                r"is the map's Lyapunov exponent."
            ),
        ),
        _step(
            "no peepholes",
            _F(r"J_{c_j}(t)\big|_{w_{in_j c_j} = w_{\phi_j c_j} = 0}", "J_c(t) at zero peepholes"),
            _y(PHI, t),
            note=r"S1; with $y^{\phi_j} \equiv 1$ as well, the 1997 factor 1 (eq. 35).",
        ),
        _step(
            "enter",
            _d(_y(CELL, t), CellState(t)),
            _add(
                _mul(_y(OUT, t), H.prime(CellState(t))),
                _mul(F_OUT.prime(_net(OUT, t)), W_OUT_C, H(CellState(t))),
            ),
            note=r"The output-gate peephole changes only how error enters the carousel.",
        ),
        _step(
            "block",
            _F(
                r"\frac{\partial s_{c_j^v}(t)}{\partial s_{c_j^{v'}}(t-1)}",
                "ds_c^v(t)/ds_c^v'(t-1)",
            ),
            _F(
                r"\delta_{vv'}\,y^{\phi_j}(t) + s_{c_j^v}(t-1)\,f'_{\phi_j}\,w_{\phi_j c_j^{v'}}"
                r" + g(net_{c_j^v}(t))\,f'_{in_j}\,w_{in_j c_j^{v'}}",
                "delta_vv' y^phi_j(t) + s_c^v(t-1) f'_phi w_phi_j c^v' "
                "+ g(net_c^v(t)) f'_in w_in_j c^v'",
            ),
            note=r"A block of $S$ cells: $y^{\phi_j} I$ plus two rank-one terms.",
        ),
    ]
    proofs = [
        _one_step_proof(),
        Proof(
            "S2",
            r"$q$ steps: $\partial s_{c_j}(b)/\partial s_{c_j}(a) = \prod_{u=a+1}^{b} J_{c_j}(u)$ "
            rf"for every $1 \le a \le b \le {T}$ of the unrolled stop-gradient peephole cell",
            _BY_DIFF,
            q_ok,
            f"{n_pairs} pairs.",
        ),
        Proof(
            "S2",
            r"zero peephole weights give S1: $J_{c_j} = y^{\phi_j}$, and the unrolled cell's "
            rf"$\partial s_{{c_j}}(b)/\partial s_{{c_j}}(a) = \prod y^{{\phi_j}}$ ($T = {T}$); "
            r"with $y^{\phi_j} = 1$ as well, $J_{c_j} = 1$ (eq. 35)",
            "substitution, simplify(lhs - rhs) = 0",
            reduce_ok and _reductions(),
        ),
        Proof(
            "S2",
            r"the output-gate peephole: $\partial y^{c_j}(t)/\partial s_{c_j}(t) = "
            r"y^{out_j}(t)\,h'(s_{c_j}(t)) + f'_{out_j}(net_{out_j}(t))\,w_{out_j c_j}\,"
            r"h(s_{c_j}(t))$, $t = 1..3$",
            _BY_DIFF,
            _output_slope_proof(3),
        ),
        Proof(
            "S2",
            r"a block of $S = 2$ cells: every entry of the state Jacobian is "
            r"$\delta_{vv'}\,y^{\phi_j} + s_{c_j^v}\,f'_{\phi_j}\,w_{\phi_j c_j^{v'}} + "
            r"g(net_{c_j^v})\,f'_{in_j}\,w_{in_j c_j^{v'}}$",
            _BY_DIFF,
            _block_proof(),
        ),
    ]
    return Section(
        claims=("S2",),
        title="peephole connections: the one-step state Jacobian",
        paper_ref=(
            r"Gers \& Schmidhuber (2000); Gers, Schraudolph \& Schmidhuber (2002), "
            r"JMLR 3:115-143 (PAPER.md 7.4)"
        ),
        prose=(
            r"Peepholes connect each cell's state to the gates of its own block: the input and "
            r"forget gates read $s_{c_j}(t-1)$, the output gate $s_{c_j}(t)$. Truncation (L2) "
            r"cuts only the recurrent inputs $y^m(t-1)$, collected in $a_u(t)$; the peephole "
            r"terms carry the cell's own state and are kept. The state then reaches "
            r"$s_{c_j}(t)$ three ways: through the forget gate's product (S1), through the "
            r"forget gate's net input, and through the input gate's net input. The proofs "
            r"differentiate the stop-gradient peephole cell (generic squashing functions) "
            r"unrolled over a few steps."
        ),
        steps=steps,
        proofs=proofs,
    )


def _section_regimes() -> Section:
    t = _t
    minus_ok, factored_ok = _logistic_form()
    explode, vanish = _witnesses()
    bound_ok = _bound_proof()
    jt = _F(r"J_{c_j}(t)", "J_c(t)")
    yin = _y(IN, t)
    g = G(_net(CELL, t))
    steps = [
        _step(
            "logistic",
            _F(rf"{jt.tex} - 1", f"{jt.txt} - 1"),
            _add(
                _mul(
                    _F(r"\bigl(1 - y^{\phi_j}(t)\bigr)", "(1 - y^phi_j(t))"),
                    _F(
                        r"\bigl(s_{c_j}(t-1)\,w_{\phi_j c_j}\,y^{\phi_j}(t) - 1\bigr)",
                        "(s_c(t-1) w_phi_j c_j y^phi_j(t) - 1)",
                    ),
                ),
                _mul(g, W_IN_C, yin, _F(r"\bigl(1 - y^{in_j}(t)\bigr)", "(1 - y^in_j(t))")),
            ),
            note=r"Logistic gates: $f' = f(1 - f)$ (A1).",
        ),
        _step(
            "explode",
            1,
            _F(
                rf"{jt.tex} \quad \text{{if}} \quad "
                r"s_{c_j}(t-1)\,w_{\phi_j c_j}\,y^{\phi_j}(t) > 1,\ w_{in_j c_j} = 0",
                f"{jt.txt} if s_c(t-1) w_phi_j c_j y^phi_j(t) > 1, w_in_j c_j = 0",
            ),
            rel="<",
            note=(
                r"Without an input-gate peephole this is an equivalence: a forget peephole of "
                r"the state's sign and a large state push the factor above 1."
            ),
        ),
        _step(
            "vanish",
            jt,
            _F(
                r"0 \quad \text{if} \quad "
                r"s_{c_j}(t-1)\,w_{\phi_j c_j}\,\bigl(1 - y^{\phi_j}(t)\bigr) \le -1,\ "
                r"w_{in_j c_j} = 0",
                "0 if s_c(t-1) w_phi_j c_j (1 - y^phi_j(t)) <= -1, w_in_j c_j = 0",
            ),
            rel="<=",
            note=r"Again an equivalence: the flow can vanish, or flip its sign.",
        ),
        _step(
            "bound",
            _F(rf"\bigl|{jt.tex} - y^{{\phi_j}}(t)\bigr|", f"|{jt.txt} - y^phi_j(t)|"),
            _F(
                r"\frac{|s_{c_j}(t-1)\,w_{\phi_j c_j}| + |g(net_{c_j}(t))\,w_{in_j c_j}|}{4}",
                "(|s_c(t-1) w_phi_j c_j| + |g(net_c_j(t)) w_in_j c_j|)/4",
            ),
            rel="<=",
            note=r"Logistic slopes are at most $1/4$: small peepholes keep S1's behaviour.",
        ),
    ]
    proofs = [
        Proof(
            "S2",
            r"logistic gates: $J_{c_j} - 1 = (1 - y^{\phi_j})(s_{c_j}(t-1)\,w_{\phi_j c_j}\,"
            r"y^{\phi_j} - 1) + g\,w_{in_j c_j}\,y^{in_j}(1 - y^{in_j})$ and "
            r"$J_{c_j} = y^{\phi_j}(1 + s_{c_j}(t-1)\,w_{\phi_j c_j}(1 - y^{\phi_j})) + "
            r"g\,w_{in_j c_j}\,y^{in_j}(1 - y^{in_j})$",
            "substituting f' = f(1 - f), simplify(lhs - rhs) = 0",
            minus_ok and factored_ok,
        ),
        Proof(
            "S2",
            r"explosion is possible: with the paper's logistic forget gate, "
            r"$s_{c_j}(t-1) = 4$, $w_{\phi_j c_j} = 1$, $a_{\phi_j} = -4$, $w_{in_j c_j} = 0$ "
            rf"give $J_{{c_j}} = {latex(explode)} > 1$",
            "exact evaluation",
            explode == sp.Rational(3, 2),
        ),
        Proof(
            "S2",
            r"vanishing is possible: $s_{c_j}(t-1) = 1$, $w_{\phi_j c_j} = -2$, "
            rf"$a_{{\phi_j}} = 2$, $w_{{in_j c_j}} = 0$ give $J_{{c_j}} = {latex(vanish)}$",
            "exact evaluation",
            vanish == 0,
        ),
        Proof(
            "S2",
            r"the bound's ingredient: $1/4 - f(1-f) = (f - 1/2)^2 \ge 0$, so "
            r"$|J_{c_j} - y^{\phi_j}| \le (|s_{c_j}\,w_{\phi_j c_j}| + |g\,w_{in_j c_j}|)/4$",
            "simplify(lhs - rhs) = 0",
            bound_ok,
        ),
    ]
    return Section(
        claims=("S2",),
        title="when peepholes make the carousel explode or vanish",
        paper_ref="derived from the Jacobian above",
        prose=(
            r"With the gates' slopes written through their activations the factor's distance "
            r"from 1 splits into the forget gate's part, which exceeds 0 exactly when "
            r"$s_{c_j}(t-1)\,w_{\phi_j c_j}\,y^{\phi_j}(t) > 1$, and the input gate's part. So "
            r"unlike S1, where $0 \le y^{\phi_j} \le 1$, a peephole cell can amplify error "
            r"($J > 1$) or cancel and reverse it ($J \le 0$). Over long lags the rate is the "
            r"mean of $\log|J|$ along the trajectory, the Lyapunov exponent of the cell's "
            r"state map: a trajectory settling on a stable fixed point has $|J| \to "
            r"|F'(s^*)| \le 1$, but a non-settling (chaotic) one can keep the mean above 0, and "
            r"the numeric check exhibits such a setting. Small peepholes move the factor by at "
            r"most $(|s\,w_{\phi_j c_j}| + |g\,w_{in_j c_j}|)/4$ from S1's $y^{\phi_j}$."
        ),
        steps=steps,
        proofs=proofs,
    )


@cache
def sections() -> list[Section]:
    """The S2 sections, proofs evaluated; do not mutate."""
    return [_section_jacobian(), _section_regimes()]


@cache
def derivation() -> Derivation:
    """The peephole derivation (S2), every proof evaluated."""
    return Derivation(
        name="peephole",
        title="Peephole connections: gates that see the cell state",
        source=(
            r"Gers \& Schmidhuber (2000), IJCNN; Gers, Schraudolph \& Schmidhuber (2002), "
            r"JMLR 3; SPEC S2"
        ),
        notation=(
            r"The forget-gate cell of S1 with peephole weights $w_{in_j c_j}$, "
            r"$w_{\phi_j c_j}$, $w_{out_j c_j}$ from the cell's state to its block's gates; "
            r"$a_u(t) = \sum_m w_{um}\,y^m(t-1)$ is the truncated rest of gate $u$'s net input "
            r"and $J_{c_j}(t) = \partial s_{c_j}(t)/\partial s_{c_j}(t-1)$."
        ),
        sections=sections(),
    )


def proofs(claim_id: str = "S2") -> list[Proof]:
    """Every proof of ``claim_id`` in this derivation."""
    return [p for p in derivation().proofs if claim_id in p.claim.split(", ")]
