r"""The forget gate (SPEC S1; Gers, Schmidhuber & Cummins 2000, "Learning to Forget").

The 1997 memory cell (:mod:`errorflow.derivations.lstm_flow`, SPEC L3) gets a third gate per
block, the forget gate ``phi_j`` (paper eqs. 3.1-3.2, PAPER.md §7.3)::

    y^{phi_j}(t) = f_{phi_j}(net_{phi_j}(t)),   net_{phi_j}(t) = sum_m w_{phi_j m} y^m(t-1)
    s_{c_j}(t)   = y^{phi_j}(t) s_{c_j}(t-1) + y^{in_j}(t) g(net_{c_j}(t)),   s_{c_j}(0) = 0

The CEC's fixed self-weight 1.0 becomes ``y^{phi_j}(t)``. Under the paper's truncation (SPEC
L2, extended to the new gate: every ``y^m(t-1)`` entering ``net_{phi_j}`` is detached too) the
net inputs of one cell are independent symbols, and differentiating the unrolled cell proves:

* the one-step carousel factor ``d s_c(t)/d s_c(t-1) ~tr y^phi(t)``, and over q steps
  ``d s_c(t)/d s_c(t-q) ~tr prod_{k=0}^{q-1} y^phi(t-k)`` (every pair of steps, T = 5);
* ``y^phi = 1`` gives back the 1997 cell exactly (its states, and eq. 35's factor 1);
* the internal-state error ``vartheta_s(t) = y^phi(t+1) vartheta_s(t+1) + y^out(t) h'(s_c(t))
  vartheta_j(t)`` and the eq.-(41) analogue: the lag enters only through the product;
* the RTRL-style partials (3.11), (3.12) and the cell-input partial, as the recursions the
  generated kernels compute (T = 4, against ``sympy.diff`` of the stop-gradient cell);
* the decay rate: with a logistic forget gate every factor is ``< 1``, the log-rate per step
  is ``log y^phi = -log(1 + e^{-net_phi}) in [-e^{-net_phi}, 0)``, so the flow is constant only
  in the limit of a fully open gate (``net_phi -> infinity``), and its half-life grows like
  ``ln 2 e^{net_phi}``.

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.calculus.singularities import is_increasing
from sympy.codegen.cfunctions import log1p

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, is_zero, prove_equal
from .lstm_flow import (
    _BY_DIFF,
    _F,
    _HALF_E,
    F_IN,
    F_K,
    F_OUT,
    IN,
    OUT,
    CellState,
    G,
    H,
    StateError,
    StopGradientCell,
    _add,
    _d,
    _function,
    _mul,
    _net,
    _s,
    _step,
    _w,
    _y,
    primes,
    stop_gradient_cell,
)
from .lstm_flow import C as CELL
from .lstm_flow import J as _J
from .lstm_flow import K as _K
from .notation import ErrorSignal, latex
from .notation import t as _t
from .squashing import SQUASHING
from .squashing import x as _x

__all__ = [
    "F_PHI",
    "GENERATED_DOC",
    "PHI",
    "ForgetCell",
    "derivation",
    "forget_cell",
    "kernel_specs",
    "sections",
]


class _Unit(sp.Symbol):
    """A unit name printed as the paper writes it (``\\phi_j`` in LaTeX, ``phi_j`` in text)."""

    def _latex(self, printer) -> str:
        return r"\phi_j"

    def _sympystr(self, printer) -> str:
        return "phi_j"


#: The forget gate of block j (the paper's varphi_j; printed \phi_j).
PHI = _Unit("phi_j")
#: The forget gate's squashing function (logistic in the paper) and its slope.
F_PHI = _function("FgFphi", r"f_{\phi_j}", "f_phi", r"f'_{\phi_j}", "f'_phi")

# ---------------------------------------------------------------------------------------
# Kernel expressions: the one-step maps codegen prints and the proofs iterate.
# ---------------------------------------------------------------------------------------
_R = {"real": True}
y_phi, s_prev, y_in, g_c, y_out, dh_s = sp.symbols("y_phi s_prev y_in g_c y_out dh_s", **_R)
y_phi_next, th_s_next, th_j, ds_prev, y_m = sp.symbols(
    "y_phi_next th_s_next th_j ds_prev y_m", **_R
)
dfin, dfphi, dg_c, net_phi = sp.symbols("dfin dfphi dg_c net_phi", **_R)

#: Eq. (3.2): the new state.
STATE_UPDATE = y_phi * s_prev + y_in * g_c
#: Eq. (33) with the forget gate: the truncated internal-state error.
STATE_ERROR = y_phi_next * th_s_next + y_out * dh_s * th_j
#: Eq. (3.11): d s_c(t)/d w_{in_j m}.
DS_IN = ds_prev * y_phi + g_c * dfin * y_m
#: Eq. (3.12): d s_c(t)/d w_{phi_j m}.
DS_PHI = ds_prev * y_phi + s_prev * dfphi * y_m
#: Cell-input weights, by analogy with eq. (27): d s_c(t)/d w_{c_j m}.
DS_C = ds_prev * y_phi + dg_c * y_in * y_m
#: ``log y^phi`` for a logistic forget gate, ``log(1/(1 + e^{-x}))`` without overflow:
#: ``(x - |x|)/2 - log1p(e^{-|x|})``, finite for every finite x.
LOG_FORGET = (net_phi - sp.Abs(net_phi)) / 2 - log1p(sp.exp(-sp.Abs(net_phi)))

GENERATED_DOC = """Kernels of the forget-gate memory cell (SPEC S1; Gers, Schmidhuber & Cummins
2000), printed from errorflow.derivations.forget_gate. Every kernel is elementwise over arrays
of any (broadcast-compatible) shape: one entry per cell, a block's gates broadcast over its
cells, y_m the source activation y^m(t-1) of the weight in question. Slopes are arguments,
evaluated by the caller at the saved net inputs. Truncation as in the 1997 rule (SPEC L2):
every y^m(t-1) entering a gate or cell net input is treated as a constant."""


def kernel_specs() -> list[KernelSpec]:
    """The forget-gate kernels codegen prints (S1)."""
    cell = "any shape (one entry per cell)"
    return [
        KernelSpec(
            name="state_update",
            summary="The forget-gate cell state s_c(t) = y^phi(t) s_c(t-1) + y^in(t) g(net_c(t)).",
            math=sp.sstr(STATE_UPDATE),
            claims=("S1",),
            args=(
                KernelArg("y_phi", f"forget-gate activations y^phi(t), {cell}"),
                KernelArg("s_prev", "states s_c(t-1)"),
                KernelArg("y_in", "input-gate activations y^in(t)"),
                KernelArg("g_c", "squashed cell inputs g(net_c(t))"),
            ),
            symbols=(y_phi, s_prev, y_in, g_c),
            outputs=(STATE_UPDATE,),
        ),
        KernelSpec(
            name="log_forget",
            summary="log y^phi of a logistic forget gate: one carousel factor's log (S1).",
            math=sp.sstr(LOG_FORGET),
            claims=("S1",),
            args=(KernelArg("net_phi", "forget-gate net inputs net_phi(t), any shape"),),
            symbols=(net_phi,),
            outputs=(LOG_FORGET,),
        ),
        KernelSpec(
            name="state_error_step",
            summary="Truncated internal-state error vartheta_s(t) (eq. 33 with the forget gate).",
            math=sp.sstr(STATE_ERROR),
            claims=("S1",),
            args=(
                KernelArg("y_phi_next", f"forget-gate activations y^phi(t+1), {cell}"),
                KernelArg("th_s_next", "state errors vartheta_s(t+1)"),
                KernelArg("y_out", "output-gate activations y^out(t)"),
                KernelArg("dh_s", "slopes h'(s_c(t))"),
                KernelArg("th_j", "errors vartheta_j(t) arriving at the cell output"),
            ),
            symbols=(y_phi_next, th_s_next, y_out, dh_s, th_j),
            outputs=(STATE_ERROR,),
        ),
        KernelSpec(
            name="ds_in_step",
            summary="Truncated partial d s_c(t)/d w_{in_j m} (eq. 3.11).",
            math=sp.sstr(DS_IN),
            claims=("S1",),
            args=(
                KernelArg("ds_prev", "d s_c(t-1)/d w_{in_j m}"),
                KernelArg("y_phi", "forget-gate activations y^phi(t)"),
                KernelArg("g_c", "squashed cell inputs g(net_c(t))"),
                KernelArg("dfin", "input-gate slopes f'_in(net_in(t))"),
                KernelArg("y_m", "source activations y^m(t-1)"),
            ),
            symbols=(ds_prev, y_phi, g_c, dfin, y_m),
            outputs=(DS_IN,),
        ),
        KernelSpec(
            name="ds_phi_step",
            summary="Truncated partial d s_c(t)/d w_{phi_j m} (eq. 3.12).",
            math=sp.sstr(DS_PHI),
            claims=("S1",),
            args=(
                KernelArg("ds_prev", "d s_c(t-1)/d w_{phi_j m}"),
                KernelArg("y_phi", "forget-gate activations y^phi(t)"),
                KernelArg("s_prev", "states s_c(t-1)"),
                KernelArg("dfphi", "forget-gate slopes f'_phi(net_phi(t))"),
                KernelArg("y_m", "source activations y^m(t-1)"),
            ),
            symbols=(ds_prev, y_phi, s_prev, dfphi, y_m),
            outputs=(DS_PHI,),
        ),
        KernelSpec(
            name="ds_c_step",
            summary="Truncated partial d s_c(t)/d w_{c_j m} (cell-input weights).",
            math=sp.sstr(DS_C),
            claims=("S1",),
            args=(
                KernelArg("ds_prev", "d s_c(t-1)/d w_{c_j m}"),
                KernelArg("y_phi", "forget-gate activations y^phi(t)"),
                KernelArg("dg_c", "cell-input slopes g'(net_c(t))"),
                KernelArg("y_in", "input-gate activations y^in(t)"),
                KernelArg("y_m", "source activations y^m(t-1)"),
            ),
            symbols=(ds_prev, y_phi, dg_c, y_in, y_m),
            outputs=(DS_C,),
        ),
    ]


# ---------------------------------------------------------------------------------------
# The stop-gradient forget-gate cell.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ForgetCell:
    """A forget-gate cell unrolled over ``T`` steps under truncation (S1).

    ``cell`` is a :class:`~errorflow.derivations.lstm_flow.StopGradientCell` (same loss, same
    perturbations ``eps``/``eta``, same atoms) whose states follow eq. (3.2); ``net_phi`` are
    the forget gate's net inputs, independent symbols like the other three.
    """

    cell: StopGradientCell
    net_phi: tuple[sp.Symbol, ...]


@cache
def forget_cell(T: int, open_gate: bool = False) -> ForgetCell:
    """The stop-gradient forget-gate cell of length ``T``; ``open_gate``: ``y^phi = 1``."""
    base = stop_gradient_cell(T)
    nphi = tuple(_s(f"net_phi{u}") for u in range(1, T + 1))
    w_kc = _w(_K, CELL)
    states, ycs, terms = [], [], []
    s = sp.Integer(0)
    for i in range(T):
        keep = sp.Integer(1) if open_gate else F_PHI(nphi[i])
        s = keep * s + F_IN(base.net_in[i]) * G(base.net_c[i]) + base.eps[i]
        yc = F_OUT(base.net_out[i]) * H(s) + base.eta[i]
        net_k = w_kc * yc + _s(f"b{i + 1}")
        terms.append(sp.Rational(1, 2) * (_s(f"d{i + 1}") - F_K(net_k)) ** 2)
        states.append(s)
        ycs.append(yc)
    cell = StopGradientCell(
        T,
        base.net_c,
        base.net_in,
        base.net_out,
        base.eps,
        base.eta,
        tuple(states),
        tuple(ycs),
        tuple(terms),
    )
    loss = cell.loss
    atoms = cell.atoms
    for i in range(T):
        u = i + 1
        atoms.update(
            {
                _net(CELL, u): base.net_c[i],
                _net(IN, u): base.net_in[i],
                _net(OUT, u): base.net_out[i],
                _net(PHI, u): nphi[i],
                _y(IN, u): F_IN(base.net_in[i]),
                _y(OUT, u): F_OUT(base.net_out[i]),
                _y(PHI, u): sp.Integer(1) if open_gate else F_PHI(nphi[i]),
                CellState(u): cell.zero(states[i]),
                StateError(u): -cell.d(loss, base.eps[i]),
                ErrorSignal(_J, u): -cell.d(loss, base.eta[i]),
            }
        )
    atoms[StateError(T + 1)] = sp.Integer(0)
    atoms[CellState(0)] = sp.Integer(0)
    return ForgetCell(cell, nphi)


def _prod_phi(lo: int, hi: int) -> sp.Expr:
    """``prod_{u=lo}^{hi} y^phi(u)`` in display atoms (1 when empty)."""
    return sp.Mul(*(_y(PHI, u) for u in range(lo, hi + 1)))


def _carousel(q: object) -> _F:
    """``prod_{k=0}^{q-1} y^{phi_j}(t-k)`` (display only)."""
    return _F(
        rf"\prod_{{k=0}}^{{{latex(q)}-1}} y^{{\phi_j}}(t - k)", f"prod_(k=0..{q}-1) y^phi_j(t - k)"
    )


# ---------------------------------------------------------------------------------------
# S1, part 1: the carousel factor.
# ---------------------------------------------------------------------------------------
def _q_step_pairs(T: int) -> tuple[bool, int]:
    """``d s_c(b)/d s_c(a) = prod_{u=a+1}^{b} y^phi(u)`` for every ``1 <= a <= b <= T``."""
    fc = forget_cell(T)
    cell = fc.cell
    ok = []
    for a in range(T):
        for b in range(a, T):
            got = cell.d(cell.state[b], cell.eps[a])
            ok.append(is_zero(got - cell.realize(_prod_phi(a + 2, b + 1))))
    return all(ok), len(ok)


def _open_gate_is_1997(T: int) -> bool:
    """``y^phi = 1``: the same states as the 1997 cell, and every carousel factor 1 (eq. 35)."""
    open_cell, old = forget_cell(T, open_gate=True).cell, stop_gradient_cell(T)
    same = all(is_zero(a - b) for a, b in zip(open_cell.state, old.state, strict=True))
    ones = all(
        is_zero(open_cell.d(open_cell.state[b], open_cell.eps[a]) - 1)
        for a in range(T)
        for b in range(a, T)
    )
    substituted = all(
        is_zero(forget_cell(T).cell.state[i].replace(F_PHI, lambda a: sp.Integer(1)) - old.state[i])
        for i in range(T)
    )
    return same and ones and substituted


def _state_error_recursion(T: int) -> bool:
    fc = forget_cell(T)
    cell = fc.cell
    return all(
        is_zero(
            cell.realize(
                StateError(u)
                - _y(PHI, u + 1) * StateError(u + 1)
                - _y(OUT, u) * H.prime(CellState(u)) * ErrorSignal(_J, u)
            )
        )
        for u in range(1, T + 1)
    )


def _leave(v: str, time: object) -> sp.Expr:
    """The factor with which the error leaves the carousel into ``net_v(time)``."""
    if v == "c":
        return G.prime(_net(CELL, time)) * _y(IN, time)
    if v == "in":
        return F_IN.prime(_net(IN, time)) * G(_net(CELL, time))
    return F_PHI.prime(_net(PHI, time)) * CellState(time - 1)


def _eq41_forget(T: int) -> tuple[bool, int]:
    """``dy^c(T)/dnet_v(T-q) = y^out(T) h'(s(T)) prod_{k<q} y^phi(T-k) leave_v(T-q)``."""
    fc = forget_cell(T)
    cell = fc.cell
    nets = {"c": cell.net_c, "in": cell.net_in, "phi": fc.net_phi}
    ok = []
    for q in range(T):
        for v, arr in nets.items():
            got = cell.d(cell.y_c[T - 1], arr[T - q - 1])
            want = _y(OUT, T) * H.prime(CellState(T)) * _prod_phi(T - q + 1, T) * _leave(v, T - q)
            ok.append(is_zero(got - cell.realize(want)))
    return all(ok), len(ok)


def _section_carousel() -> Section:
    t, q = _t, sp.Symbol("q")
    T = 5
    one = primes(sp.diff(F_PHI(net_phi) * s_prev + F_IN(_s("net_in")) * G(_s("net_c")), s_prev))
    pairs_ok, n_pairs = _q_step_pairs(T)
    eq41_ok, n41 = _eq41_forget(4)
    ds = _d(CellState(t), CellState(t - 1))
    theta_v = ErrorSignal(sp.Symbol("v"), t - q)
    enter = _mul(_y(OUT, t), H.prime(CellState(t)))
    steps = [
        _step("(3.1)", _y(PHI, t), F_PHI(_net(PHI, t))),
        _step(
            "(3.2)",
            CellState(t),
            _add(_mul(_y(PHI, t), CellState(t - 1)), _mul(_y(IN, t), G(_net(CELL, t)))),
        ),
        _step(
            "L2",
            _F(
                r"\frac{\partial net_{u}(t)}{\partial y^m(t-1)},\ u \in \{in_j, \phi_j, c_j\}",
                "dnet_u(t)/dy^m(t-1), u in {in_j, phi_j, c_j}",
            ),
            0,
            rel="~tr",
            note=(
                r"The forget gate's net input is truncated like the other gates': in the "
                r"stop-gradient cell $net_{\phi_j}(t)$ does not depend on $s_{c_j}(t-1)$."
            ),
        ),
        _step("(30), forget", ds, _y(PHI, t), rel="~tr"),
        _step(
            "q steps",
            _d(CellState(t), CellState(t - q)),
            _carousel(q),
            rel="~tr",
            note=r"The chain rule over the one-step factors; proved on the unrolled cell.",
        ),
        _step(
            "fully open",
            _F(
                r"\left.\frac{\partial s_{c_j}(t)}{\partial s_{c_j}(t-q)}"
                r"\right|_{y^{\phi_j} \equiv 1}",
                "ds_c(t)/ds_c(t-q) at y^phi_j = 1",
            ),
            1,
            rel="~tr",
            note=r"The 1997 CEC, eq. (35).",
        ),
        _step(
            "(33), forget",
            StateError(t),
            _add(
                _mul(_y(PHI, t + 1), StateError(t + 1)),
                _mul(_y(OUT, t), H.prime(CellState(t)), ErrorSignal(_J, t)),
            ),
            rel="~tr",
        ),
        _step(
            "(41), forget",
            _d(theta_v, ErrorSignal(_J, t)),
            _mul(enter, _carousel(q), _F(r"\mathrm{leave}_v(t - q)", "leave_v(t - q)")),
            rel="~tr",
        ),
        _step("leave, v = c", _F(r"\mathrm{leave}_{c_j}(t-q)", "leave_c(t-q)"), _leave("c", t - q)),
        _step(
            "leave, v = in", _F(r"\mathrm{leave}_{in_j}(t-q)", "leave_in(t-q)"), _leave("in", t - q)
        ),
        _step(
            "leave, v = phi",
            _F(r"\mathrm{leave}_{\phi_j}(t-q)", "leave_phi(t-q)"),
            _leave("phi", t - q),
            note=r"The forget gate's error picks up the state it multiplied.",
        ),
    ]
    proofs = [
        prove_equal(
            "S1",
            r"one step: $\partial s_{c_j}(t)/\partial s_{c_j}(t-1) = y^{\phi_j}(t)$ when "
            r"$net_{in_j}$, $net_{\phi_j}$, $net_{c_j}$ do not depend on $s_{c_j}(t-1)$ "
            r"(generic $f_{\phi_j}$, $f_{in_j}$, $g$)",
            one,
            F_PHI(net_phi),
        ),
        Proof(
            "S1",
            r"$q$ steps: $\partial s_{c_j}(b)/\partial s_{c_j}(a) = "
            r"\prod_{u=a+1}^{b} y^{\phi_j}(u)$ for every $1 \le a \le b \le "
            rf"{T}$ of the unrolled stop-gradient forget-gate cell",
            _BY_DIFF,
            pairs_ok,
            f"{n_pairs} pairs.",
        ),
        Proof(
            "S1",
            r"a fully open gate, $y^{\phi_j} \equiv 1$, is the 1997 cell: the same states "
            rf"$s_{{c_j}}(1..{T})$ as the L3 cell and every factor "
            r"$\partial s_{c_j}(b)/\partial s_{c_j}(a) = 1$ (eq. 35)",
            "substitution and differentiation, simplify(lhs - rhs) = 0",
            _open_gate_is_1997(T),
        ),
        Proof(
            "S1",
            r"(33) with the forget gate: $\vartheta_{s_{c_j}}(t) = y^{\phi_j}(t+1)\,"
            r"\vartheta_{s_{c_j}}(t+1) + y^{out_j}(t)\,h'(s_{c_j}(t))\,\vartheta_j(t)$, "
            rf"$t = 1..{T}$, {_HALF_E}",
            _BY_DIFF,
            _state_error_recursion(T),
        ),
        Proof(
            "S1",
            r"(41) with the forget gate: $\partial y^{c_j}(T)/\partial net_v(T-q) = "
            r"y^{out_j}(T)\,h'(s_{c_j}(T)) \prod_{k=0}^{q-1} y^{\phi_j}(T-k)\,"
            r"\mathrm{leave}_v(T-q)$ for $T = 4$, every $q$ and $v \in \{c_j, in_j, \phi_j\}$",
            _BY_DIFF,
            eq41_ok,
            f"{n41} identities.",
        ),
    ]
    return Section(
        claims=("S1",),
        title="the forget gate: the carousel factor becomes a product of gate activations",
        paper_ref=(
            r"Gers, Schmidhuber \& Cummins (2000), eqs. (3.1)-(3.2); the 1997 paper's "
            r"appendix A.2, eqs. (30), (33)-(35), (41)"
        ),
        prose=(
            r"The forget gate $\phi_j$ replaces the carousel's fixed self-weight 1.0 by its "
            r"activation $y^{\phi_j}(t) \in [0, 1]$ (logistic $f_{\phi_j}$). Truncation (L2) "
            r"now also detaches every $y^m(t-1)$ entering $net_{\phi_j}(t)$, so in the "
            r"stop-gradient cell the four net inputs are independent symbols and the only path "
            r"from $s_{c_j}(t-1)$ to $s_{c_j}(t)$ is the gated self-connection. Each carousel "
            r"step multiplies the error by $y^{\phi_j}$; over $q$ steps the error is scaled by "
            r"the product of the forget activations on the way, and the lag enters (41) only "
            r"through that product. Errors leaving through the forget gate are scaled by the "
            r"state the gate multiplied, $s_{c_j}(t-q-1)$. The proofs differentiate the "
            r"forget-gate cell unrolled over a few steps (generic squashing functions), read by "
            r"one output unit $k$ at the same step, as in L3-L4."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# S1, part 2: the RTRL-style partials (3.11), (3.12) and the cell-input partial.
# ---------------------------------------------------------------------------------------
def _partials_proof(T: int = 4) -> tuple[bool, int]:
    """The kernels' recursions DS_IN, DS_PHI, DS_C equal ``sympy.diff`` of the truncated cell.

    One source ``y^m(t-1)`` per step (a detached symbol ``Ym{t}``) reaches the three net inputs
    through ``w_{in_j m}``, ``w_{phi_j m}``, ``w_{c_j m}``; the rest of each net input is a
    symbol of its own.
    """
    w = {k: _w(k, "m") for k in ("in", "phi", "c")}
    Y = [_s(f"Ym{u}") for u in range(1, T + 1)]
    nets = {k: [w[k] * Y[i] + _s(f"a_{k}{i + 1}") for i in range(T)] for k in ("in", "phi", "c")}
    s = sp.Integer(0)
    states = []
    for i in range(T):
        s = F_PHI(nets["phi"][i]) * s + F_IN(nets["in"][i]) * G(nets["c"][i])
        states.append(s)
    recursions = {"in": DS_IN, "phi": DS_PHI, "c": DS_C}
    ok = []
    for k, rec in recursions.items():
        ds = sp.Integer(0)
        prev = sp.Integer(0)
        for i in range(T):
            values = {
                ds_prev: ds,
                y_phi: F_PHI(nets["phi"][i]),
                s_prev: prev,
                y_in: F_IN(nets["in"][i]),
                g_c: G(nets["c"][i]),
                dfin: F_IN.prime(nets["in"][i]),
                dfphi: F_PHI.prime(nets["phi"][i]),
                dg_c: G.prime(nets["c"][i]),
                y_m: Y[i],
            }
            ds = rec.xreplace(values)
            prev = states[i]
            ok.append(is_zero(primes(sp.diff(states[i], w[k])) - ds))
    return all(ok), len(ok)


def _section_partials() -> Section:
    t = _t
    m = sp.Symbol("m")
    partials_ok, n = _partials_proof(4)

    def dsw(u: str, time: object) -> _F:
        return _d(CellState(time), _F(rf"w_{{{u} m}}", f"w_{u.replace(chr(92), '')} m"))

    ym = _y(m, t - 1)
    steps = [
        _step(
            "(3.11)",
            dsw("in_j", t),
            _add(
                _mul(dsw("in_j", t - 1), _y(PHI, t)),
                _mul(G(_net(CELL, t)), F_IN.prime(_net(IN, t)), ym),
            ),
            rel="~tr",
        ),
        _step(
            "(3.12)",
            dsw(r"\phi_j", t),
            _add(
                _mul(dsw(r"\phi_j", t - 1), _y(PHI, t)),
                _mul(CellState(t - 1), F_PHI.prime(_net(PHI, t)), ym),
            ),
            rel="~tr",
        ),
        _step(
            "cell input",
            dsw("c_j", t),
            _add(
                _mul(dsw("c_j", t - 1), _y(PHI, t)),
                _mul(G.prime(_net(CELL, t)), _y(IN, t), ym),
            ),
            rel="~tr",
            note=(
                r"By analogy with eq. (27); the 1997 rule (25), (27) is the case "
                r"$y^{\phi_j} = 1$."
            ),
        ),
        _step(
            "cost",
            _F(r"\text{per step}", "per step"),
            _F(
                r"3\,C S I \text{ partials},\ O(W) \text{ time and memory}",
                "3 C S I partials, O(W) time and memory",
            ),
            note=(
                r"One multiply-add recursion per stored partial: $C S I$ each for the input-gate, "
                r"forget-gate and cell-input weights ($C$ blocks of $S$ cells, $I$ sources), "
                r"so $3CSI$ numbers instead of the 1997 rule's $2CSI$; still independent of the "
                r"sequence length."
            ),
        ),
    ]
    proofs = [
        Proof(
            "S1",
            r"the recursions (3.11), (3.12) and the cell-input partial, iterated from "
            r"$\partial s_{c_j}(0)/\partial w = 0$, equal $\partial s_{c_j}(t)/\partial w$ of the "
            r"stop-gradient cell (one detached source $y^m(t-1)$ per step), $t = 1..4$; these "
            r"are the expressions the generated kernels compute",
            _BY_DIFF,
            partials_ok,
            f"{n} identities.",
        )
    ]
    return Section(
        claims=("S1",),
        title="the truncated RTRL-style partials with a forget gate",
        paper_ref=r"Gers, Schmidhuber \& Cummins (2000), eqs. (3.11)-(3.12) (numbering as cited)",
        prose=(
            r"The truncated rule keeps, for each cell, the forward partials of its state with "
            r"respect to the weights into its input gate, forget gate and cell input. The "
            r"carried partial is now scaled by $y^{\phi_j}(t)$ at every step, the same factor "
            r"as the error in the carousel; a forget-gate weight's new term is the state the "
            r"gate multiplies. The equation numbers (3.11), (3.12) come from secondary notes "
            r"(PAPER.md 7.3)."
        ),
        steps=steps,
        proofs=proofs,
    )


# ---------------------------------------------------------------------------------------
# S1, part 3: how fast the gated carousel decays.
# ---------------------------------------------------------------------------------------
def _decay_proofs() -> list[Proof]:
    b = sp.Symbol("b", real=True)
    u = sp.Symbol("u", positive=True)
    q = sp.Symbol("q", positive=True, integer=True)
    sigma = SQUASHING["logistic"].f.subs(_x, b)
    log_rate = -sp.log(1 + sp.exp(-b))
    rate_ok = is_zero(sp.expand_log(sp.log(sigma) - log_rate, force=True))
    below_one = bool(sp.log(1 + sp.exp(-b)).is_positive)
    gap = u - sp.log(1 + u)  # -log sigma(b) <= e^{-b}: u = e^{-b}
    bound_ok = bool(is_increasing(gap, sp.Interval(0, sp.oo))) and gap.subs(u, 0) == 0
    open_limit = sp.limit(sigma, b, sp.oo) == 1
    asym = sp.limit(log_rate * sp.exp(b), b, sp.oo) == -1
    product = sp.expand_log(sp.log(sigma**q), force=True)
    stable = LOG_FORGET.subs(net_phi, b)
    stable_ok = all(
        is_zero(
            sp.expand_log(
                (stable - sp.log(sigma))
                .subs(b, v)
                .replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
                .rewrite(sp.exp),
                force=True,
            )
        )
        for v in (sp.Symbol("p", positive=True), -sp.Symbol("p", positive=True))
    )
    return [
        Proof(
            "S1",
            r"a logistic forget gate with net input $b$ scales the carousel error per step by "
            r"$y^{\phi_j} = \sigma(b)$ with $\log\sigma(b) = -\log(1 + e^{-b}) < 0$ for every "
            r"real $b$: the truncated flow always decays",
            "expand_log, simplify(lhs - rhs) = 0; SymPy sign assumptions",
            rate_ok and below_one,
        ),
        prove_equal(
            "S1",
            r"a constant gate decays geometrically: $\log \sigma(b)^q = -q\log(1+e^{-b})$",
            product,
            q * log_rate,
        ),
        Proof(
            "S1",
            r"the rate is at most $e^{-b}$: $0 < -\log\sigma(b) = \log(1+e^{-b}) \le e^{-b}$, "
            r"since $u - \log(1+u)$ is increasing on $[0, \infty)$ and 0 at $u = 0$; so "
            r"$\sigma(b)^q \ge e^{-q e^{-b}}$",
            "sympy.calculus is_increasing",
            bound_ok,
        ),
        Proof(
            "S1",
            r"constant flow only in the limit of a fully open gate: $\sigma(b) \to 1$ and "
            r"$e^{b}\log\sigma(b) \to -1$ as $b \to \infty$ (half-life "
            r"$\ln 2/\log(1+e^{-b}) \sim \ln 2\, e^{b}$ steps)",
            "sympy.limit",
            open_limit and asym,
        ),
        Proof(
            "S1",
            r"the kernel's overflow-free form $(b - |b|)/2 - \mathrm{log1p}(e^{-|b|})$ equals "
            r"$\log\sigma(b)$ for $b > 0$ and $b < 0$",
            "substitution b = p and b = -p, expand_log, simplify(lhs - rhs) = 0",
            stable_ok,
        ),
    ]


def _section_decay() -> Section:
    q, b = sp.Symbol("q"), sp.Symbol("b")
    log_prod = _F(r"\log \prod_{k=0}^{q-1} y^{\phi_j}(t-k)", "log prod_(k=0..q-1) y^phi_j(t-k)")
    steps = [
        _step(
            "log factor",
            log_prod,
            _F(
                r"\sum_{k=0}^{q-1} \log y^{\phi_j}(t-k) = q\,\bar\lambda_q",
                "sum_(k=0..q-1) log y^phi_j(t-k) = q lambda_q",
            ),
            note=(
                r"$\bar\lambda_q$, the mean log forget activation, is the decay rate per step "
                r"(natural log; divide by $\ln 10$ for decades)."
            ),
        ),
        _step(
            "logistic",
            _F(r"\log y^{\phi_j}(t)", "log y^phi_j(t)"),
            _F(
                r"-\log\bigl(1 + e^{-net_{\phi_j}(t)}\bigr) "
                r"\in \bigl[-e^{-net_{\phi_j}(t)}, 0\bigr)",
                "-log(1 + e^(-net_phi_j(t))) in [-e^(-net_phi_j(t)), 0)",
            ),
        ),
        _step(
            "constant gate",
            _F(r"\sigma(b)^q", "sigma(b)^q"),
            _F(
                r"e^{-q \log(1 + e^{-b})} \ge e^{-q e^{-b}}",
                "e^(-q log(1 + e^(-b))) >= e^(-q e^(-b))",
            ),
            note=(
                r"With $b = 2$ the error halves about every 5.5 steps; holding it within a "
                r"factor 2 over $q$ steps needs $b \gtrsim \ln(q/\ln 2)$."
            ),
        ),
        _step(
            "half-life",
            _F(r"q_{1/2}(b)", "q_1/2(b)"),
            _F(r"\frac{\ln 2}{\log(1+e^{-b})} \sim \ln 2\, e^{b}", "ln 2/log(1+e^(-b)) ~ ln 2 e^b"),
        ),
    ]
    del q, b
    return Section(
        claims=("S1",),
        title="the gated carousel decays unless the gate is fully open",
        paper_ref=r"Gers, Schmidhuber \& Cummins (2000), section 3 (derived)",
        prose=(
            r"The logarithm of the $q$-step factor is the sum of the log forget activations, so "
            r"the flow decays geometrically at the mean rate $\bar\lambda_q$ per step. A "
            r"logistic gate never reaches 1 at a finite net input: every truncated factor is "
            r"strictly below 1, and the 1997 constancy returns only as the bias grows without "
            r"bound. What the forget gate buys is control: it can hold the error almost "
            r"unscaled for about $\ln 2\, e^{b}$ steps, or reset the cell (and the flow) in one "
            r"step with $y^{\phi_j} \approx 0$."
        ),
        steps=steps,
        proofs=_decay_proofs(),
    )


@cache
def sections() -> list[Section]:
    """The S1 sections (carousel factor, partials, decay), proofs evaluated; do not mutate."""
    return [_section_carousel(), _section_partials(), _section_decay()]


@cache
def derivation() -> Derivation:
    """The forget-gate derivation (S1), every proof evaluated."""
    return Derivation(
        name="forget_gate",
        title="The forget gate: a gated constant error carousel",
        source=r"Gers, Schmidhuber \& Cummins (2000), Neural Computation 12(10); SPEC S1",
        notation=(
            r"As in the LSTM sections: block $j$ has an input gate $in_j$, an output gate "
            r"$out_j$, now a forget gate $\phi_j$ (the paper's $\varphi_j$) and cells $c_j$; "
            r"$\approx_{tr}$ marks the truncated derivative (L2), $\vartheta_{s_{c_j}}(t) = "
            r"-\partial E/\partial s_{c_j}(t)$ and $\vartheta_j(t)$ the error arriving at the "
            r"cell output. Only the cell is new: the rest of the network is the 1997 one."
        ),
        sections=sections(),
    )


def proofs(claim_id: str = "S1") -> list[Proof]:
    """Every proof of ``claim_id`` in this derivation."""
    return [p for p in derivation().proofs if claim_id in p.claim.split(", ")]
