r"""The 1997 LSTM memory cell and its truncated learning rule (SPEC L1-L12; paper §4, App. A).

A layer of ``C`` memory-cell blocks of ``S`` cells (block ``j``: cells ``c_j^v`` sharing an
input gate ``in_j`` and an output gate ``out_j``), ``H`` conventional hidden units and ``K``
output units. Every hidden-layer unit reads the sources

    z(t) = [x(t), y^c(t-1), y^in(t-1), y^out(t-1), y^h(t-1), 1]      (P entries)

and the outputs read ``o(t) = [y^c(t), y^h(t), x(t), 1]`` (Q entries; the experiments' timing:
outputs see the cells of the same step). Forward pass (eqs. 6-9):

    net_in = W_in z,  net_out = W_out z,  net_c = W_c z,  net_h = W_h z,  net_k = W_k o
    y^in = f(net_in),  y^out = f(net_out),  y^h = f(net_h),  y^k = f(net_k)
    s_c(t) = s_c(t-1) + y^in g(net_c),      y^c = y^out h(s_c)

This module writes one time step as an ordered list of array statements (``arrays``): the
forward step, the truncated online step of eqs. (19)-(28) and the exact reverse (BPTT) step,
and codegen prints those very statements into ``numeric/_generated/lstm.py``. The proofs run
the same statements on explicit SymPy arrays (:func:`errorflow.derivations.arrays.evaluate`)
and compare them with ``sympy.diff`` of the network's loss:

* L2/L6/L7: the online truncated step accumulates exactly ``dE/dw`` of the stop-gradient
  network (every source ``z(t)`` of a hidden-layer net input detached);
* L10: the reverse step gives exactly ``dE/dw`` of the full network, and with the sources
  detached it gives the truncated gradient again (an independent route);
* L8: the operation count of each step kernel, a polynomial in the layout's sizes, is
  ``O(W)``; L12: the paper's weight-count rule and every architecture of its Table 10.

The error-flow proofs of appendix A.2 (L3, L4, L5, L9, L10's carousel term, L11) are in
:mod:`errorflow.derivations.lstm_flow`; :func:`derivation` includes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import sympy as sp

from .arrays import Cat, CellContract, CellSum, Contract, Expand, MatVec, Outer, Part, evaluate
from .core import (
    Derivation,
    KernelArg,
    KernelSpec,
    LoopKernelSpec,
    LoopPhase,
    Proof,
    Section,
    Step,
    TimeInput,
)

__all__ = [
    "FORWARD_STEP",
    "GENERATED_DOC",
    "LOOPS_DOC",
    "REVERSE_STEP",
    "TRUNCATED_STEP",
    "derivation",
    "kernel_specs",
    "loop_specs",
    "weight_count",
]

GENERATED_DOC = """Step kernels of the 1997 LSTM (SPEC L1, L6, L8, L10), printed from
errorflow.derivations.lstm. Shapes: C blocks of S cells; gate arrays are (C, 1) and cell arrays
(C, S) so that broadcasting shares a block's gates among its cells; H hidden units, K outputs;
z(t) = [x(t), y^c(t-1), y^in(t-1), y^out(t-1), y^h(t-1), 1] (P entries) feeds every hidden-layer
unit and o(t) = [y^c(t), y^h(t), x(t), 1] (Q entries) the outputs. Weights: w_in, w_out (C, 1, P),
w_c (C, S, P), w_h (H, P), w_k (K, Q). The squashing functions are arguments (f for gates,
hidden and output units, fo for the output gate, g, h) with their slopes (df, dfo, dg, dh);
every slope is evaluated at a saved net input or state, never reconstructed from an activation.
Error signals follow eq. (18), e = -dE/dnet with E = 1/2 sum (d - y)^2 (eq. 19 as printed); the
gw_* outputs are the gradients dE/dw (the paper's Delta w = -alpha dE/dw). Each step kernel
has a ``*_flops`` companion giving its floating-point operation count."""

# -- sizes and array symbols --------------------------------------------------------------

C, S, H, K, P, Q = sp.symbols("C S H K P Q", positive=True, integer=True)
N = sp.Symbol("N", positive=True, integer=True)  # C S cells
n_in = sp.Symbol("n_in", positive=True, integer=True)
SIZES = (C, S, H, K, P, Q)

f, df, fo, dfo, g, dg, h, dh = (
    sp.Function(n) for n in ("f", "df", "fo", "dfo", "g", "dg", "h", "dh")
)
FUNCTIONS = (f, df, fo, dfo, g, dg, h, dh)
SLOPE_OF = {f: df, fo: dfo, g: dg, h: dh}

_GATE, _CELL, _ONE = (C, sp.Integer(1)), (C, S), sp.Integer(1)


def _arrays(spec: str) -> list[sp.Symbol]:
    return list(sp.symbols(spec))


w_in, w_out, w_c, w_h, w_k = _arrays("w_in w_out w_c w_h w_k")
x, d, m = _arrays("x d m")
s_prev, yc_prev, yin_prev, yout_prev, yh_prev = _arrays("s_prev yc_prev yin_prev yout_prev yh_prev")
ds_in_prev, ds_c_prev, th_z_next, th_s_next = _arrays("ds_in_prev ds_c_prev th_z_next th_s_next")
z, o, net_in, net_out, net_c, net_h, net_k = _arrays("z o net_in net_out net_c net_h net_k")
y_in, y_out, g_c, s, h_s, y_c, y_h, y_k = _arrays("y_in y_out g_c s h_s y_c y_h y_k")
e_k, back, back_c, back_h, e_h, e_out, e_s, e_c, e_in = _arrays(
    "e_k back back_c back_h e_h e_out e_s e_c e_in"
)
th_yc, th_yh, th_s, th_z, ds_in, ds_c = _arrays("th_yc th_yh th_s th_z ds_in ds_c")
gw_in, gw_out, gw_c, gw_h, gw_k = _arrays("gw_in gw_out gw_c gw_h gw_k")

SHAPES: dict[sp.Basic, tuple[sp.Expr, ...]] = {
    w_in: (C, _ONE, P),
    w_out: (C, _ONE, P),
    w_c: (C, S, P),
    w_h: (H, P),
    w_k: (K, Q),
    x: (n_in,),
    d: (K,),
    m: (K,),
    s_prev: _CELL,
    yc_prev: _CELL,
    yin_prev: _GATE,
    yout_prev: _GATE,
    yh_prev: (H,),
    ds_in_prev: (C, S, P),
    ds_c_prev: (C, S, P),
    th_z_next: (P,),
    th_s_next: _CELL,
    # saved forward values (arguments of the reverse step; targets of the forward step)
    z: (P,),
    o: (Q,),
    net_in: _GATE,
    net_out: _GATE,
    net_c: _CELL,
    net_h: (H,),
    net_k: (K,),
    y_in: _GATE,
    y_out: _GATE,
    g_c: _CELL,
    s: _CELL,
    h_s: _CELL,
    y_k: (K,),
}

# -- the statements -----------------------------------------------------------------------

#: One forward step, eqs. (6)-(9) with the experiments' timing (outputs see y^c(t)). (L1)
FORWARD_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (z, Cat(x, yc_prev, yin_prev, yout_prev, yh_prev, 1)),
    (net_in, MatVec(w_in, z)),
    (net_out, MatVec(w_out, z)),
    (net_c, MatVec(w_c, z)),
    (net_h, MatVec(w_h, z)),
    (y_in, f(net_in)),
    (y_out, fo(net_out)),
    (g_c, g(net_c)),
    (s, s_prev + y_in * g_c),
    (h_s, h(s)),
    (y_c, y_out * h_s),
    (y_h, f(net_h)),
    (o, Cat(y_c, y_h, x, 1)),
    (net_k, MatVec(w_k, o)),
    (y_k, f(net_k)),
)

#: The truncated backward pass at step t, eqs. (19)-(28), online (forward in time). (L6)
TRUNCATED_BACKWARD: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (e_k, df(net_k) * m * (d - y_k)),  # (19), E = 1/2 sum (d - y)^2
    (back, Contract(e_k, w_k)),  # sum_k w_{k u} e_k for every output source u
    (back_c, Part(back, 0, s_prev, sp.Symbol("c"))),
    (back_h, Part(back, N, yh_prev, sp.Symbol("h"))),
    (e_h, df(net_h) * back_h),  # (20)
    (e_out, dfo(net_out) * CellSum(h_s * back_c)),  # (21)
    (e_s, y_out * dh(s) * back_c),  # (23)
    (ds_in, ds_in_prev + Outer(g_c * df(net_in), z)),  # (25)
    (ds_c, ds_c_prev + Outer(y_in * dg(net_c), z)),  # (27)
    (gw_k, -Outer(e_k, o)),  # (22), dE/dw = -e_l y^m
    (gw_h, -Outer(e_h, z)),  # (22)
    (gw_out, -Outer(e_out, z)),  # (22)
    (gw_in, -CellContract(e_s, ds_in)),  # (24), (26)
    (gw_c, -Expand(e_s) * ds_c),  # (24), (28)
)

TRUNCATED_STEP = FORWARD_STEP + TRUNCATED_BACKWARD

_c, _h = sp.Symbol("c"), sp.Symbol("h")
_yc, _yh, _yin, _yout = (sp.Symbol(n) for n in ("y^{c}", "y^{h}", "y^{in}", "y^{out}"))

#: One step of exact back-propagation through time (L10): from the saved forward values at t
#: and the carried errors th_z(t+1) = -dE/dz(t+1), th_s(t+1) = -dE/ds_c(t+1). With
#: th_z_next = 0 at every step it differentiates the stop-gradient network instead (L2, L7).
REVERSE_STEP: tuple[tuple[sp.Symbol, sp.Basic], ...] = (
    (e_k, df(net_k) * m * (d - y_k)),
    (back, Contract(e_k, w_k)),
    (th_yc, Part(back, 0, s, _c) + Part(th_z_next, P - N - 2 * C - H - 1, s, _yc)),
    (th_yh, Part(back, N, net_h, _h) + Part(th_z_next, P - H - 1, net_h, _yh)),
    (e_h, df(net_h) * th_yh),
    (e_out, dfo(net_out) * (CellSum(h_s * th_yc) + Part(th_z_next, P - C - H - 1, y_in, _yout))),
    (th_s, th_s_next + y_out * dh(s) * th_yc),
    (e_c, y_in * dg(net_c) * th_s),
    (e_in, df(net_in) * (CellSum(g_c * th_s) + Part(th_z_next, P - 2 * C - H - 1, y_in, _yin))),
    (gw_k, -Outer(e_k, o)),
    (gw_h, -Outer(e_h, z)),
    (gw_out, -Outer(e_out, z)),
    (gw_in, -Outer(e_in, z)),
    (gw_c, -Outer(e_c, z)),
    (th_z, Contract(e_in, w_in) + Contract(e_out, w_out) + Contract(e_c, w_c) + Contract(e_h, w_h)),
)

_FUNC_ARGS = (
    KernelArg("f", "logistic function of gates, hidden and output units (callable)"),
    KernelArg("df", "its slope f' (callable)"),
    KernelArg("fo", "output-gate function: f, or the constant 1 without output gates"),
    KernelArg("dfo", "its slope (0 without output gates)"),
    KernelArg("g", "cell input squashing g (callable)"),
    KernelArg("dg", "its slope g'"),
    KernelArg("h", "cell output squashing h (callable)"),
    KernelArg("dh", "its slope h'"),
)

_WEIGHT_ARGS = (
    KernelArg("w_in", "(C, 1, P) input-gate weights"),
    KernelArg("w_out", "(C, 1, P) output-gate weights"),
    KernelArg("w_c", "(C, S, P) cell-input weights"),
    KernelArg("w_h", "(H, P) hidden-unit weights"),
    KernelArg("w_k", "(K, Q) output-unit weights"),
)
_WEIGHTS = (w_in, w_out, w_c, w_h, w_k)

_STATE_ARGS = (
    KernelArg("x", "(n_in,) external input x(t)"),
    KernelArg("s_prev", "(C, S) cell states s_c(t-1)"),
    KernelArg("yc_prev", "(C, S) cell outputs y^c(t-1)"),
    KernelArg("yin_prev", "(C, 1) input-gate activations y^in(t-1)"),
    KernelArg("yout_prev", "(C, 1) output-gate activations y^out(t-1)"),
    KernelArg("yh_prev", "(H,) hidden activations y^h(t-1)"),
)
_STATE = (x, s_prev, yc_prev, yin_prev, yout_prev, yh_prev)

_FORWARD_OUT = (z, o, net_in, net_out, net_c, net_h, net_k, y_in, y_out, g_c, s, h_s, y_c, y_h, y_k)
_GRADS = (gw_in, gw_out, gw_c, gw_h, gw_k)


def kernel_specs() -> list[KernelSpec]:
    """The three step kernels codegen prints (each with a ``*_flops`` companion)."""
    forward = KernelSpec(
        name="forward_step",
        summary="One forward step of the LSTM layer, eqs. (6)-(9) (L1).",
        math=(
            "z = [x, y^c(t-1), y^in(t-1), y^out(t-1), y^h(t-1), 1]; net = W z; "
            "y^in = f(net_in), y^out = fo(net_out), s = s_prev + y^in g(net_c), "
            "y^c = y^out h(s), y^h = f(net_h); o = [y^c, y^h, x, 1]; y^k = f(W_k o)"
        ),
        claims=("L1",),
        args=_STATE_ARGS
        + _WEIGHT_ARGS
        + _FUNC_ARGS[:1]
        + _FUNC_ARGS[2:3]
        + _FUNC_ARGS[4:5]
        + _FUNC_ARGS[6:7],
        symbols=(*_STATE, *_WEIGHTS, f, fo, g, h),
        outputs=_FORWARD_OUT,
        kind="step",
        statements=FORWARD_STEP,
        shapes=SHAPES,
        sizes=SIZES,
    )
    truncated = KernelSpec(
        name="truncated_step",
        summary=(
            "One online step of the truncated gradient, eqs. (19)-(28): forward step, error "
            "signals, the accumulated partials ds_c/dw (25, 27) and this step's dE/dw (L6)."
        ),
        math=(
            "e_k = f'(net_k) m (d - y^k) (19); e_h = f'(net_h) W_kh^T e_k (20); "
            "e_out = fo'(net_out) sum_v h(s_v) (W_kc^T e_k)_v (21); "
            "e_s = y^out h'(s) W_kc^T e_k (23); ds/dw_in += g(net_c) f'(net_in) z (25); "
            "ds/dw_c += g'(net_c) y^in z (27); dE/dw_l = -e_l z (22); "
            "dE/dw_in = -sum_v e_s ds/dw_in (26); dE/dw_c = -e_s ds/dw_c (28)"
        ),
        claims=("L2", "L6"),
        args=(
            *_STATE_ARGS,
            KernelArg("d", "(K,) targets d_k(t)"),
            KernelArg("m", "(K,) 1.0 where the target counts, 0.0 elsewhere"),
            KernelArg("ds_in_prev", "(C, S, P) ds_c/dw_in at t-1 (eq. 25)"),
            KernelArg("ds_c_prev", "(C, S, P) ds_c/dw_c at t-1 (eq. 27)"),
            *_WEIGHT_ARGS,
            *_FUNC_ARGS,
        ),
        symbols=(*_STATE, d, m, ds_in_prev, ds_c_prev, *_WEIGHTS, *FUNCTIONS),
        outputs=(s, y_c, y_in, y_out, y_h, y_k, ds_in, ds_c, *_GRADS),
        kind="step",
        statements=TRUNCATED_STEP,
        shapes=SHAPES,
        dims=((N, "s_prev.size"),),
        sizes=SIZES,
    )
    reverse = KernelSpec(
        name="reverse_step",
        summary=(
            "One step of exact back-propagation through time for the LSTM layer (L10); with "
            "th_z_next = 0 at every step, the gradient of the stop-gradient network (L2, L7)."
        ),
        math=(
            "th_yc = (W_k^T e_k)_c + th_z(t+1)_c; th_s = th_s(t+1) + y^out h'(s) th_yc; "
            "e_c = y^in g'(net_c) th_s; e_in = f'(net_in)(sum_v g(net_c) th_s + th_z(t+1)_in); "
            "e_out = fo'(net_out)(sum_v h(s) th_yc + th_z(t+1)_out); dE/dw_l = -e_l z; "
            "th_z(t) = sum_l W_l^T e_l"
        ),
        claims=("L10", "L7"),
        args=(
            KernelArg("z", "(P,) sources z(t)"),
            KernelArg("o", "(Q,) output sources o(t)"),
            KernelArg("net_in", "(C, 1) saved net_in(t)"),
            KernelArg("net_out", "(C, 1) saved net_out(t)"),
            KernelArg("net_c", "(C, S) saved net_c(t)"),
            KernelArg("net_h", "(H,) saved net_h(t)"),
            KernelArg("net_k", "(K,) saved net_k(t)"),
            KernelArg("y_in", "(C, 1) y^in(t)"),
            KernelArg("y_out", "(C, 1) y^out(t)"),
            KernelArg("g_c", "(C, S) g(net_c(t))"),
            KernelArg("s", "(C, S) s_c(t)"),
            KernelArg("h_s", "(C, S) h(s_c(t))"),
            KernelArg("y_k", "(K,) y^k(t)"),
            KernelArg("d", "(K,) targets d_k(t)"),
            KernelArg("m", "(K,) 1.0 where the target counts, 0.0 elsewhere"),
            KernelArg("th_z_next", "(P,) -dE/dz(t+1) (zeros at t = T, or to detach)"),
            KernelArg("th_s_next", "(C, S) -dE/ds_c(t+1) (zeros at t = T)"),
            *_WEIGHT_ARGS,
            KernelArg("df", "slope f' of gates, hidden and output units"),
            KernelArg("dfo", "slope of the output-gate function"),
            KernelArg("dg", "slope g'"),
            KernelArg("dh", "slope h'"),
        ),
        symbols=(
            z,
            o,
            net_in,
            net_out,
            net_c,
            net_h,
            net_k,
            y_in,
            y_out,
            g_c,
            s,
            h_s,
            y_k,
            d,
            m,
            th_z_next,
            th_s_next,
            *_WEIGHTS,
            df,
            dfo,
            dg,
            dh,
        ),
        outputs=(th_z, th_s, *_GRADS),
        kind="step",
        statements=REVERSE_STEP,
        shapes=SHAPES,
        dims=((N, "s.size"), (C, "y_in.shape[0]"), (H, "net_h.shape[0]"), (P, "z.shape[0]")),
        sizes=SIZES,
    )
    return [forward, truncated, reverse]


LOOPS_DOC = """Whole-sequence kernels of the 1997 LSTM (SPEC L2, L6, L7, L8, L10), printed as
explicit loops from the same statements as errorflow.numeric._generated.lstm (eqs. 6-9, the
truncated backward pass of eqs. 19-28, exact back-propagation through time). Every array
operation is written out entry by entry, loop-invariant factors hoisted, and all T steps run in
one call with no per-step allocation, so numba compiles each function to machine code
(errorflow.numeric.backends); as plain Python the functions give the same results, slowly.
Shapes and units as in the step kernels; the squashing functions are integer codes
(ACTIVATION_CODES) evaluated by activate() and slope(), printed from
errorflow.derivations.squashing."""

_SEQUENCE_ARGS = (
    KernelArg("xs", "(T, n_in) inputs x(t), row t-1 for step t"),
    KernelArg("targets", "(T, K) targets d_k(t); never read where mask is False"),
    KernelArg("mask", "(T, K) or (1, K) bool: which targets count (a (1, K) row: every step)"),
    KernelArg("w_in", "(C, 1, P) input-gate weights"),
    KernelArg("w_out", "(C, 1, P) output-gate weights"),
    KernelArg("w_c", "(C, S, P) cell-input weights"),
    KernelArg("w_h", "(H, P) hidden-unit weights"),
    KernelArg("w_k", "(K, Q) output-unit weights"),
    KernelArg("f_code", "code of f (gates, hidden and output units)"),
    KernelArg("fo_code", 'code of the output-gate function ("one" without output gates)'),
    KernelArg("g_code", "code of the cell input squashing g"),
    KernelArg("h_code", "code of the cell output squashing h"),
)
_STEP_INPUTS = (
    (x, TimeInput("xs")),
    (d, TimeInput("targets", mask="mask")),
    (m, TimeInput("mask", indicator=True)),
)
_LOSS = ((m * (d - y_k) ** 2 / 2, "loss"),)
_SEQUENCE_DIMS = (
    (n_in, "xs.shape[1]"),
    (C, "w_c.shape[0]"),
    (S, "w_c.shape[1]"),
    (P, "w_c.shape[2]"),
    (H, "w_h.shape[0]"),
    (K, "w_k.shape[0]"),
    (Q, "w_k.shape[1]"),
    (N, "C*S"),
)
_CODE_OF = {f: "f_code", fo: "fo_code", g: "g_code", h: "h_code"}
_LOOP_FUNCTIONS = {
    **{fn: ("activate", code) for fn, code in _CODE_OF.items()},
    **{SLOPE_OF[fn]: ("slope", code) for fn, code in _CODE_OF.items()},
}
_ACCUMULATE = tuple((gw, gw.name) for gw in _GRADS)
_SEQUENCE_OUT = ("loss", *(gw.name for gw in _GRADS))


def loop_specs() -> list[LoopKernelSpec]:
    """The whole-sequence loop kernels: the online truncated gradient, BPTT and the forward
    pass (L1, L6, L10)."""
    truncated = LoopKernelSpec(
        name="truncated_sequence",
        summary=(
            "The truncated gradient of a whole sequence, online (eqs. 19-28; L2, L6, L8): "
            "returns (E, y^k(T), dE/dw_in, dE/dw_out, dE/dw_c, dE/dw_h, dE/dw_k)."
        ),
        math=(
            "for t = 1..T: the forward step (eqs. 6-9), e_k, e_h, e_out, e_s (19-23), "
            "ds/dw_in and ds/dw_c carried forward (25, 27), dE/dw summed (22, 26, 28); "
            "E = 1/2 sum_t sum_k m (d - y^k)^2"
        ),
        claims=("L2", "L6", "L8"),
        args=_SEQUENCE_ARGS,
        phases=(
            LoopPhase(
                statements=TRUNCATED_STEP,
                inputs=_STEP_INPUTS,
                carry=(
                    (s, s_prev),
                    (y_c, yc_prev),
                    (y_in, yin_prev),
                    (y_out, yout_prev),
                    (y_h, yh_prev),
                    (ds_in, ds_in_prev),
                    (ds_c, ds_c_prev),
                ),
                accumulate=_ACCUMULATE,
                sums=_LOSS,
            ),
        ),
        shapes=SHAPES,
        dims=_SEQUENCE_DIMS,
        functions=_LOOP_FUNCTIONS,
        # y^k(T): the last step's outputs, which an online learner scores the sequence by
        outputs=(_SEQUENCE_OUT[0], y_k.name, *_SEQUENCE_OUT[1:]),
        sizes=SIZES,
    )
    saved = (z, o, net_in, net_out, net_c, net_h, net_k, y_in, y_out, g_c, s, h_s, y_k)
    bptt = LoopKernelSpec(
        name="bptt_sequence",
        summary=(
            "Back-propagation through time over a whole sequence (L10); detach=True drops "
            "-dE/dz(t+1) at every step: the stop-gradient network's gradient (L7)."
        ),
        math=(
            "forward pass (eqs. 6-9) saving every step's values; then for t = T..1 the "
            "reverse step (th_z, th_s carried backward), dE/dw summed; "
            "E = 1/2 sum_t sum_k m (d - y^k)^2"
        ),
        claims=("L7", "L10"),
        args=(
            *_SEQUENCE_ARGS,
            KernelArg("detach", "bool: drop the error through the hidden-layer sources (L7)"),
        ),
        phases=(
            LoopPhase(
                statements=FORWARD_STEP,
                inputs=_STEP_INPUTS[:1],
                carry=(
                    (s, s_prev),
                    (y_c, yc_prev),
                    (y_in, yin_prev),
                    (y_out, yout_prev),
                    (y_h, yh_prev),
                ),
                save=saved,
            ),
            LoopPhase(
                statements=REVERSE_STEP,
                reverse=True,
                inputs=_STEP_INPUTS[1:],
                carry=((th_z, th_z_next), (th_s, th_s_next)),
                load=saved,
                accumulate=_ACCUMULATE,
                sums=_LOSS,
                detach=(th_z_next,),
            ),
        ),
        shapes=SHAPES,
        dims=_SEQUENCE_DIMS,
        functions=_LOOP_FUNCTIONS,
        outputs=_SEQUENCE_OUT,
        sizes=SIZES,
    )
    forward = LoopKernelSpec(
        name="forward_sequence",
        summary=(
            "The forward pass of a whole sequence (eqs. 6-9; L1): returns the (T, K) output "
            "activations y^k(t)."
        ),
        math="for t = 1..T: the forward step (eqs. 6-9), y^k(t) saved",
        claims=("L1",),
        args=(_SEQUENCE_ARGS[0], *_SEQUENCE_ARGS[3:]),
        phases=(
            LoopPhase(
                statements=FORWARD_STEP,
                inputs=_STEP_INPUTS[:1],
                carry=(
                    (s, s_prev),
                    (y_c, yc_prev),
                    (y_in, yin_prev),
                    (y_out, yout_prev),
                    (y_h, yh_prev),
                ),
                save=(y_k,),
            ),
        ),
        shapes=SHAPES,
        dims=tuple((sym, src) for sym, src in _SEQUENCE_DIMS if sym != N),
        functions=_LOOP_FUNCTIONS,
        outputs=("saved_y_k",),
        sizes=SIZES,
    )
    keeps = tuple(f"keep_{gw.name.removeprefix('gw_')}" for gw in _GRADS)
    online = LoopKernelSpec(
        name="truncated_online",
        summary=(
            "Real-time learning with the truncated gradient (eqs. 19-28; L2, L6): after every "
            "step the weights move in place by -lr dE(t)/dw; returns (E, y^k(T))."
        ),
        math=(
            "for t = 1..T: the step of truncated_sequence on the current weights, then "
            "w <- w - lr keep dE(t)/dw for every weight array (keep: 1 where the weight exists)"
        ),
        claims=("L2", "L6"),
        args=(
            *_SEQUENCE_ARGS[:8],
            *(
                KernelArg(k, f"1.0 where a weight of {k[5:]} exists, 0.0 where masked")
                for k in keeps
            ),
            KernelArg("lr", "learning rate alpha"),
            *_SEQUENCE_ARGS[8:],
        ),
        phases=(
            LoopPhase(
                statements=TRUNCATED_STEP,
                inputs=_STEP_INPUTS,
                carry=truncated.phases[0].carry,
                sums=_LOSS,
                learn=tuple(
                    (gw, f"w_{gw.name.removeprefix('gw_')}", k)
                    for gw, k in zip(_GRADS, keeps, strict=True)
                ),
            ),
        ),
        shapes=SHAPES,
        dims=_SEQUENCE_DIMS,
        functions=_LOOP_FUNCTIONS,
        outputs=(_SEQUENCE_OUT[0], y_k.name),
        sizes=SIZES,
    )
    return [truncated, bptt, forward, online]


# -- weight counts (L12) --------------------------------------------------------------------


@dataclass(frozen=True)
class PaperLayout:
    """A Table 10 architecture: sizes, connectivity, bias option and the paper's W."""

    key: str
    n_in: int
    n_out: int
    blocks: int
    size: int
    connectivity: str
    bias: str
    output_gates: bool
    paper_w: int


PAPER_TABLE10: tuple[PaperLayout, ...] = (
    PaperLayout("1-1", 7, 7, 4, 1, "F", "gates", True, 264),
    PaperLayout("1-2", 7, 7, 3, 2, "F", "gates", True, 276),
    PaperLayout("2a", 101, 101, 1, 1, "B", "none", False, 10504),
    PaperLayout("2c-1", 54, 2, 2, 1, "F", "none", True, 364),
    PaperLayout("2c-2", 104, 2, 2, 1, "F", "none", True, 664),
    PaperLayout("2c-3", 204, 2, 2, 1, "F", "none", True, 1264),
    PaperLayout("2c-4", 504, 2, 2, 1, "F", "none", True, 3064),
    PaperLayout("2c-5", 1004, 2, 2, 1, "F", "none", True, 6064),
    PaperLayout("3a", 1, 1, 3, 1, "F", "hidden", True, 102),
    PaperLayout("4-1", 2, 1, 2, 2, "F", "all", True, 93),
    PaperLayout("6a", 8, 4, 2, 2, "F", "all", True, 156),
    PaperLayout("6b", 8, 8, 3, 2, "F", "all", True, 308),
)


def weight_count(
    n_inputs: int,
    n_out: int,
    blocks: int,
    size: int,
    hidden: int,
    connectivity: str,
    bias: str,
    output_gates: bool = True,
) -> sp.Integer:
    """Weights of a layout by the paper's rule (eq. 29's count plus the bias weights).

    ``F``: every gated unit (cells, the gates present, hidden units) reads
    ``I = n_in + C S + G C + H`` sources (``G`` gates per block); outputs read the cells and
    hidden units. ``B``: hidden-layer units read the ``n_in`` inputs only; outputs read cells,
    hidden units and inputs. Biases: ``gates`` on the gates, ``hidden`` on every hidden-layer
    unit, ``all`` also on the outputs.
    """
    gates = 2 if output_gates else 1
    cells = blocks * size
    sources = n_inputs + cells + gates * blocks + hidden if connectivity == "F" else n_inputs
    out_sources = cells + hidden + (n_inputs if connectivity == "B" else 0)
    total = (cells + gates * blocks + hidden) * sources + n_out * out_sources
    if bias in ("gates",):
        total += gates * blocks
    if bias in ("hidden", "all"):
        total += cells + gates * blocks + hidden
    if bias == "all":
        total += n_out
    return sp.Integer(total)


def _weight_section() -> Section:
    I_ = sp.Symbol("I", positive=True, integer=True)
    rule = K * H + K * C * S + C * S * I_ + 2 * C * I_ + H * I_
    # F connectivity without biases, sources I = n_in + CS + 2C + H: the builder's count.
    built = (C * S + 2 * C + H) * I_ + K * (C * S + H)
    rows = [
        (
            p.key,
            weight_count(
                p.n_in, p.n_out, p.blocks, p.size, 0, p.connectivity, p.bias, p.output_gates
            ),
            p.paper_w,
        )
        for p in PAPER_TABLE10
    ]
    steps = [
        Step("(29) W", sp.Symbol("W"), rule, note="the paper's count, biases excluded"),
        Step("builder", sp.Symbol("W_F"), built, note="(cells + gates + hidden) x I + outputs"),
    ]
    steps += [
        Step(
            f"Table 10, {key}",
            sp.Symbol(rf"W_{{\text{{{key}}}}}"),
            count,
            note=f"paper: {paper}",
            text=f"W({key}) = {count}",
        )
        for key, count, paper in rows
    ]
    proofs = [
        Proof(
            "L12",
            "the builder's F count equals the paper's rule W = KH + KCS + CSI + 2CI + HI",
            "expand(lhs - rhs) = 0",
            sp.expand(built - rule) == 0,
        ),
        Proof(
            "L12",
            "every Table 10 architecture's count equals the paper's W",
            "exact integer arithmetic",
            all(c == p for _, c, p in rows),
            "; ".join(f"{k}: {c}" for k, c, _ in rows),
        ),
    ]
    return Section(
        claims=("L12",),
        title="weight counts",
        paper_ref="§4 eq. (29), Table 10",
        prose=(
            r"Every gated unit of a fully connected (F) hidden layer reads $I$ sources (inputs, "
            r"cells, gates, hidden units); the $K$ outputs read the $CS$ cells and $H$ hidden "
            r"units. Bias weights add one source to the units that have them. Architectures "
            r"2a/2b (connectivity B) read only the inputs in the hidden layer and have no "
            r"output gate."
        ),
        steps=steps,
        proofs=proofs,
    )


# -- proofs on explicit arrays (L1, L2, L6, L7, L10) -----------------------------------------


def slopes(expr: sp.Basic) -> sp.Basic:
    """Replace SymPy's ``Derivative``/``Subs`` forms of ``F'`` by the slope functions ``dF``."""

    def slope(e: sp.Derivative) -> sp.Basic:
        ((var, count),) = e.variable_count
        fn = e.expr
        if count != 1 or fn.func not in SLOPE_OF or fn.args != (var,):
            return e
        return SLOPE_OF[fn.func](var)

    out = expr.replace(lambda e: isinstance(e, sp.Derivative), slope)
    return out.replace(lambda e: isinstance(e, sp.Subs), lambda e: e.doit())


def _symbol_array(name: str, shape: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    import itertools

    entries = [
        sp.Symbol(f"{name}_{''.join(str(i) for i in idx)}")
        for idx in itertools.product(*(range(k) for k in shape))
    ]
    return sp.ImmutableDenseNDimArray(entries, shape)


def _zeros(shape: tuple[int, ...]) -> sp.ImmutableDenseNDimArray:
    count = 1
    for k in shape:
        count *= k
    return sp.ImmutableDenseNDimArray([0] * count, shape)


def _run(statements, env, dims) -> dict:
    env = dict(env)
    for target, expr in statements:
        env[target] = evaluate(expr, env, dims)
    return env


def _entries(value) -> list[sp.Basic]:
    return list(sp.flatten(value)) if isinstance(value, sp.NDimArray) else [value]


@dataclass(frozen=True)
class _Case:
    C: int
    S: int
    H: int
    K: int
    n: int
    T: int

    @property
    def P(self) -> int:
        return self.n + self.C * self.S + 2 * self.C + self.H + 1

    @property
    def Q(self) -> int:
        return self.C * self.S + self.H + self.n + 1

    def dims(self) -> dict:
        return {
            C: self.C,
            S: self.S,
            H: self.H,
            K: self.K,
            P: self.P,
            Q: self.Q,
            N: self.C * self.S,
            n_in: self.n,
        }


def _weights(case: _Case) -> dict:
    return {
        w_in: _symbol_array("a", (case.C, 1, case.P)),
        w_out: _symbol_array("b", (case.C, 1, case.P)),
        w_c: _symbol_array("c", (case.C, case.S, case.P)),
        w_h: _symbol_array("u", (case.H, case.P)),
        w_k: _symbol_array("v", (case.K, case.Q)),
    }


def _network(case: _Case, detach: bool):
    """Unroll the network for ``case.T`` steps with the forward statements; returns the loss,
    the weights and per-step environments. ``detach``: the sources z(t) are fresh symbols."""
    weights = _weights(case)
    state = {
        s_prev: _zeros((case.C, case.S)),
        yc_prev: _zeros((case.C, case.S)),
        yin_prev: _zeros((case.C, 1)),
        yout_prev: _zeros((case.C, 1)),
        yh_prev: _zeros((case.H,)),
    }
    loss = sp.Integer(0)
    envs = []
    for t in range(1, case.T + 1):
        env = {
            **weights,
            **state,
            x: _symbol_array(f"x{t}", (case.n,)),
            d: _symbol_array(f"d{t}", (case.K,)),
            m: _symbol_array(f"m{t}", (case.K,)),
        }
        stmts = FORWARD_STEP
        if detach:
            env[z] = _symbol_array(f"z{t}", (case.P,))
            stmts = FORWARD_STEP[1:]
        env = _run(stmts, env, case.dims())
        loss += sum(
            mk * (dk - yk) ** 2 / 2
            for mk, dk, yk in zip(
                _entries(env[m]), _entries(env[d]), _entries(env[y_k]), strict=True
            )
        )
        envs.append(env)
        state = {
            s_prev: env[s],
            yc_prev: env[y_c],
            yin_prev: env[y_in],
            yout_prev: env[y_out],
            yh_prev: env[y_h],
        }
    return loss, weights, envs


def _grad_by_diff(loss, weights) -> dict:
    return {w: [slopes(sp.diff(loss, e)) for e in _entries(arr)] for w, arr in weights.items()}


def _mismatches(kernel: dict, exact: dict, first: bool = False) -> int:
    """Entries where the kernel's gradient is not identically the derivative. Both sides are
    polynomials in the weights, inputs and function values, so ``expand`` decides equality;
    ``first``: stop at the first mismatch."""
    bad = 0
    for w, values in exact.items():
        for a, b in zip(_entries(kernel[w]), values, strict=True):
            if sp.expand(a - b) != 0:
                bad += 1
                if first:
                    return bad
    return bad


def _add(a, b):
    return sp.ImmutableDenseNDimArray(
        [p + q for p, q in zip(_entries(a), _entries(b), strict=True)], a.shape
    )


_GRAD_OF = {w_in: gw_in, w_out: gw_out, w_c: gw_c, w_h: gw_h, w_k: gw_k}


def _truncated_total(case: _Case, envs) -> dict:
    """Run the truncated backward statements over the unrolled stop-gradient forward pass."""
    total: dict = {}
    partial = {
        ds_in_prev: _zeros((case.C, case.S, case.P)),
        ds_c_prev: _zeros((case.C, case.S, case.P)),
    }
    for env in envs:
        # the backward statements read s_prev / yh_prev only for their shapes (Part "like")
        out = _run(TRUNCATED_BACKWARD, {**env, **partial}, case.dims())
        partial = {ds_in_prev: out[ds_in], ds_c_prev: out[ds_c]}
        for w, gw in _GRAD_OF.items():
            total[w] = out[gw] if w not in total else _add(total[w], out[gw])
    return total


def _reverse_total(case: _Case, envs, detach: bool) -> dict:
    total: dict = {}
    carry = {th_z_next: _zeros((case.P,)), th_s_next: _zeros((case.C, case.S))}
    for env in reversed(envs):
        out = _run(REVERSE_STEP, {**env, **carry}, case.dims())
        carry = {th_z_next: _zeros((case.P,)) if detach else out[th_z], th_s_next: out[th_s]}
        for w, gw in _GRAD_OF.items():
            total[w] = out[gw] if w not in total else _add(total[w], out[gw])
    return total


@dataclass(frozen=True)
class KernelProof:
    """Outcome of running a step kernel's statements against ``sympy.diff`` of the loss."""

    case: _Case
    weights: int
    mismatches: int
    seconds: float


@cache
def prove_truncated(case: _Case = _Case(C=1, S=2, H=1, K=1, n=1, T=3)) -> KernelProof:
    """L2/L6/L7: the truncated step's accumulated ``gw`` == ``diff`` of the stop-gradient loss."""
    start = time.perf_counter()
    loss, weights, envs = _network(case, detach=True)
    exact = _grad_by_diff(loss, weights)
    bad = _mismatches(_truncated_total(case, envs), exact)
    bad += _mismatches(_reverse_total(case, envs, detach=True), exact)
    count = sum(len(v) for v in exact.values())
    return KernelProof(case, count, bad, time.perf_counter() - start)


@cache
def prove_full(case: _Case = _Case(C=1, S=2, H=1, K=1, n=1, T=2)) -> KernelProof:
    """L10: the reverse step over the unrolled network == ``diff`` of the full network's loss."""
    start = time.perf_counter()
    loss, weights, envs = _network(case, detach=False)
    exact = _grad_by_diff(loss, weights)
    bad = _mismatches(_reverse_total(case, envs, detach=False), exact)
    count = sum(len(v) for v in exact.values())
    return KernelProof(case, count, bad, time.perf_counter() - start)


# -- rendering --------------------------------------------------------------------------------

_TEX_NAMES = {
    z: "z(t)",
    x: "x(t)",
    o: "o(t)",
    d: "d(t)",
    m: "m(t)",
    s_prev: "s_{c}(t-1)",
    yc_prev: "y^{c}(t-1)",
    yin_prev: "y^{in}(t-1)",
    yout_prev: "y^{out}(t-1)",
    yh_prev: "y^{h}(t-1)",
    w_in: "W_{in}",
    w_out: "W_{out}",
    w_c: "W_{c}",
    w_h: "W_{h}",
    w_k: "W_{k}",
    net_in: "net_{in}",
    net_out: "net_{out}",
    net_c: "net_{c}",
    net_h: "net_{h}",
    net_k: "net_{k}",
    y_in: "y^{in}",
    y_out: "y^{out}",
    g_c: "g_{c}",
    s: "s_{c}",
    h_s: "h_{s}",
    y_c: "y^{c}",
    y_h: "y^{h}",
    y_k: "y^{k}",
    e_k: "e_{k}",
    back: r"\beta",
    back_c: r"\beta_{c}",
    back_h: r"\beta_{h}",
    e_h: "e_{h}",
    e_out: "e_{out}",
    e_s: "e_{s_c}",
    e_c: "e_{c}",
    e_in: "e_{in}",
    ds_in: r"\partial s_c/\partial W_{in}",
    ds_c: r"\partial s_c/\partial W_{c}",
    ds_in_prev: r"\partial s_{c}(t-1)/\partial W_{in}",
    ds_c_prev: r"\partial s_{c}(t-1)/\partial W_{c}",
    gw_in: r"\partial E/\partial W_{in}",
    gw_out: r"\partial E/\partial W_{out}",
    gw_c: r"\partial E/\partial W_{c}",
    gw_h: r"\partial E/\partial W_{h}",
    gw_k: r"\partial E/\partial W_{k}",
    th_yc: r"\vartheta_{y^c}",
    th_yh: r"\vartheta_{y^h}",
    th_s: r"\vartheta_{s_c}(t)",
    th_z: r"\vartheta_{z}(t)",
    th_z_next: r"\vartheta_{z}(t+1)",
    th_s_next: r"\vartheta_{s_c}(t+1)",
}
_TEX_FUNCS = {df: "f'", fo: "f_{out}", dfo: "f'_{out}", dg: "g'", dh: "h'"}


def _pretty(expr: sp.Basic) -> sp.Basic:
    expr = expr.xreplace({k: sp.Symbol(v) for k, v in _TEX_NAMES.items()})
    for fn, name in _TEX_FUNCS.items():
        expr = expr.replace(fn, sp.Function(name))
    return expr


def _statement_steps(statements, labels: dict) -> list[Step]:
    steps = []
    for target, expr in statements:
        label = labels.get(target) or str(target).replace("_", " ")
        # LaTeX in the paper's notation; text in the generated kernel's own names
        plain = f"{target} = {sp.sstr(expr)}"
        steps.append(Step(label, _pretty(target), _pretty(expr), text=plain))
    return steps


_FORWARD_LABELS = {
    z: "sources",
    net_in: "(7)",
    net_out: "(8)",
    net_c: "(9)",
    net_h: "(6)",
    y_in: "(7)",
    y_out: "(8)",
    g_c: "(9)",
    s: "(9) CEC",
    h_s: "(9)",
    y_c: "(9)",
    y_h: "(6)",
    o: "sources",
    net_k: "output",
    y_k: "output",
}
_BACKWARD_LABELS = {
    e_k: "(19)",
    back: "(20)-(23)",
    back_c: "cells",
    back_h: "hidden",
    e_h: "(20)",
    e_out: "(21)",
    e_s: "(23)",
    ds_in: "(25)",
    ds_c: "(27)",
    gw_k: "(22) k",
    gw_h: "(22) i",
    gw_out: "(22) out",
    gw_in: "(24), (26)",
    gw_c: "(24), (28)",
}


def _lift(flops: sp.Expr) -> sp.Expr:
    """Move each lower-order monomial of an operation count onto the weight monomial that
    dominates it for all sizes >= 1 (``CS <= CSP``, ``C <= CP``, ``H <= HP``, ``K <= KQ``,
    ``P <= CP``): an upper bound made of weight monomials only."""
    dominate = {C * S: C * S * P, C: C * P, H: H * P, K: K * Q, P: C * P}
    lifted = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(flops)):
        coeff, mono = term.as_coeff_Mul()
        lifted += coeff * dominate.get(mono, mono)
    return sp.expand(lifted)


W_DENSE = C * S * P + 2 * C * P + H * P + K * Q


def flops_bound(flops: sp.Expr) -> sp.Rational:
    """The smallest ``c`` with ``flops <= c W_dense`` provable by :func:`_lift` (SPEC L8)."""
    lifted, dense = sp.Poly(_lift(flops), *SIZES), sp.Poly(W_DENSE, *SIZES)
    return max(
        sp.Rational(lifted.coeff_monomial(mono), dense.coeff_monomial(mono))
        for mono in (C * S * P, C * P, H * P, K * Q)
    )


def _flops_section() -> Section:
    specs = {spec.name: spec for spec in kernel_specs()}
    steps = [
        Step(
            "W (dense)",
            sp.Symbol(r"W_{\mathrm{dense}}"),
            W_DENSE,
            note="the entries of the weight arrays, masked or not",
            text=f"W_dense = {sp.sstr(W_DENSE)}",
        )
    ]
    proofs = []
    for name in ("truncated_step", "forward_step", "reverse_step"):
        flops = specs[name].flops()
        bound = flops_bound(flops)
        label = name.replace("_", " ")
        ops = sp.Symbol(rf"\mathrm{{ops}}_{{\mathrm{{{name.split('_')[0]}}}}}")
        steps.append(Step(label, ops, flops, text=f"{name}_flops = {sp.sstr(flops)}"))
        slack = sp.Poly(sp.expand(bound * W_DENSE - _lift(flops)), *SIZES)
        proofs.append(
            Proof(
                "L8",
                f"one {label} costs at most {bound} "
                r"$W_{\mathrm{dense}}$ operations, for every layout",
                "lower-order monomials bounded by weight monomials, then coefficients compared",
                all(c >= 0 for c in slack.coeffs()),
            )
        )
    proofs.append(
        Proof(
            "L8",
            "the truncated step carries O(W) numbers from step to step, independent of T",
            r"the carried arguments of \texttt{truncated\_step} and their shapes",
            all(
                SHAPES[a] in ((C, S), (C, _ONE), (H,), (C, S, P))
                for a in (s_prev, yc_prev, yin_prev, yout_prev, yh_prev, ds_in_prev, ds_c_prev)
            ),
            r"$s_c, y^c, y^{in}, y^{out}, y^h$ and the partials $\partial s_c/\partial W_{in}$, "
            r"$\partial s_c/\partial W_c$ ($2CSP$ numbers)",
        )
    )
    return Section(
        claims=("L8",),
        title="cost per time step is O(W); memory is independent of T",
        paper_ref="§4 and App. A.1 eq. (29)",
        prose=(
            r"The operation count of each generated step kernel is a polynomial in the layout's "
            r"sizes ($C$ blocks of $S$ cells, $H$ hidden units, $K$ outputs, $P$ and $Q$ "
            r"sources), derived from the kernel's own statements: a product with a weight array "
            r"costs two operations per weight, every elementwise operation or function "
            r"evaluation one per entry. Every term is bounded by a multiple of the number of "
            r"weights, so the online truncated update is $O(W)$ per step, as eq. (29) says. "
            r"It carries only the cell states, the previous activations and the partials "
            r"$\partial s_c/\partial w$ of eqs. (25) and (27) from step to step, so its memory "
            r"does not grow with the sequence length $T$; full BPTT (the reverse step) needs "
            r"every step's saved values, $O(T)$ memory."
        ),
        steps=steps,
        proofs=proofs,
    )


def _forward_by_units(case: _Case, env: dict) -> list[tuple[sp.Basic, sp.Basic]]:
    """Eqs. (6)-(9) written unit by unit (scalar sums over the sources), for comparison."""
    zz = _entries(env[z])
    pairs = []
    for j in range(case.C):
        net_i = sum(env[w_in][j, 0, q] * zz[q] for q in range(case.P))
        net_o = sum(env[w_out][j, 0, q] * zz[q] for q in range(case.P))
        for v in range(case.S):
            net_cv = sum(env[w_c][j, v, q] * zz[q] for q in range(case.P))
            state = env[s_prev][j, v] + f(net_i) * g(net_cv)
            pairs.append((env[y_c][j, v], fo(net_o) * h(state)))
    for i in range(case.H):
        pairs.append((env[y_h][i], f(sum(env[w_h][i, q] * zz[q] for q in range(case.P)))))
    oo = _entries(env[o])
    for k in range(case.K):
        pairs.append((env[y_k][k], f(sum(env[w_k][k, q] * oo[q] for q in range(case.Q)))))
    return pairs


def _forward_proof() -> Proof:
    case = _Case(C=2, S=2, H=1, K=2, n=2, T=1)
    env = {
        **_weights(case),
        x: _symbol_array("x", (case.n,)),
        s_prev: _symbol_array("s", (case.C, case.S)),
        yc_prev: _symbol_array("p", (case.C, case.S)),
        yin_prev: _symbol_array("i", (case.C, 1)),
        yout_prev: _symbol_array("q", (case.C, 1)),
        yh_prev: _symbol_array("r", (case.H,)),
    }
    env = _run(FORWARD_STEP, env, case.dims())
    pairs = _forward_by_units(case, env)
    sources_ok = _entries(env[z]) == [
        *_entries(env[x]),
        *_entries(env[yc_prev]),
        *_entries(env[yin_prev]),
        *_entries(env[yout_prev]),
        *_entries(env[yh_prev]),
        1,
    ]
    holds = sources_ok and all(sp.expand(a - b) == 0 for a, b in pairs)
    return Proof(
        "L1",
        "the forward statements compute eqs. (6)-(9) unit by unit (gates shared by a block's "
        "cells, z(t) in the documented column order)",
        "statements run on symbolic arrays vs. scalar sums, expand(lhs - rhs) = 0",
        holds,
        f"$C = {case.C}$ blocks of $S = {case.S}$, $H = {case.H}$, $K = {case.K}$, "
        f"$n_{{in}} = {case.n}$: {len(pairs)} unit outputs",
    )


def _kernel_proof(claim: str, statement: str, proof: KernelProof) -> Proof:
    c = proof.case
    return Proof(
        claim,
        statement,
        "the kernel's statements run on symbolic arrays vs. sympy.diff of the loss, "
        "expand(lhs - rhs) = 0 for every weight",
        proof.mismatches == 0,
        f"$C = {c.C}$, $S = {c.S}$, $H = {c.H}$, $K = {c.K}$, $n_{{in}} = {c.n}$, $T = {c.T}$: "
        f"{proof.weights} weights, {proof.mismatches} mismatches",
    )


_NOTATION = r"""\paragraph{Notation.} A layer of $C$ memory-cell blocks of $S$ cells (block $j$:
cells $c_j^v$ sharing the input gate $in_j$ and the output gate $out_j$), $H$ conventional hidden
units and $K$ output units. Every hidden-layer unit reads the $P$ sources
$z(t) = [x(t), y^{c}(t-1), y^{in}(t-1), y^{out}(t-1), y^{h}(t-1), 1]$ through its row of
$W_{in}, W_{out}, W_{c}, W_{h}$; the outputs read $o(t) = [y^c(t), y^h(t), x(t), 1]$ through
$W_k$ (the experiments' timing: outputs see the cells of the same step). Gate quantities have
one entry per block and are shared by the block's cells (broadcasting); $f$ is the logistic
function of gates, hidden and output units, $f_{out}$ the output gate's ($f$, or $1$ without
output gates), $g$ and $h$ the cell's squashing functions. Error signals are
$e_l = -\partial E/\partial net_l$ with $E = \tfrac12\sum_t\sum_k m_k(t)(d_k(t) - y^k(t))^2$,
and $\otimes$ is the outer product over a unit and a source index."""


def _forward_section() -> Section:
    return Section(
        claims=("L1",),
        title="forward pass of a memory-cell layer",
        paper_ref="§4 and App. A.1 eqs. (6)-(9)",
        prose=(
            r"One time step, as the statements that codegen prints into "
            r"\texttt{forward\_step}. The internal state $s_c$ is the constant error carousel: "
            r"a linear unit with a fixed self-connection of weight 1."
        ),
        steps=_statement_steps(FORWARD_STEP, _FORWARD_LABELS),
        proofs=[_forward_proof()],
    )


def _truncation_section() -> Section:
    steps = [
        Step(
            "(A.1)",
            r"\frac{\partial net_{in_j}(t)}{\partial y^u(t-1)}",
            "0",
            rel="~tr",
            text="d net_in_j(t)/d y^u(t-1) ~tr 0, likewise for net_out_j, net_c_j, net_i",
        ),
        Step(
            "stop-gradient",
            r"z(t)",
            r"\operatorname{stop}\bigl(z(t)\bigr)",
            note=r"in $net_{in}, net_{out}, net_c, net_h$ only; $o(t)$ stays differentiable",
            text="z(t) = stop(z(t)) inside the hidden-layer net inputs",
        ),
    ]
    return Section(
        claims=("L2",),
        title="truncation is the gradient of a stop-gradient network",
        paper_ref="§4 ``Learning'' and App. A.1",
        prose=(
            r"The paper truncates by setting $\partial net_{in_j}(t)/\partial y^u(t-1)$, "
            r"$\partial net_{out_j}(t)/\partial y^u(t-1)$, $\partial net_{c_j}(t)/\partial "
            r"y^u(t-1)$ and (eq. 11) $\partial net_i(t)/\partial y^u(t-1)$ to zero. "
            r"Equivalently, the truncated gradient is the exact gradient of the same network in "
            r"which the sources $z(t)$ of every hidden-layer net input are detached (treated "
            r"as constants). What stays differentiable: the carousel's self-loop "
            r"$s_c(t-1)\to s_c(t)$, each unit's own incoming weights, and the same-step path "
            r"from $y^c(t), y^h(t)$ into the output units. The proof below runs the generated "
            r"online kernel's statements (next section) and the reverse kernel with $z$ "
            r"detached on symbolic arrays and compares both with \texttt{sympy.diff} of the "
            r"stop-gradient network's loss."
        ),
        steps=steps,
        proofs=[
            _kernel_proof(
                "L2, L6, L7",
                "the online truncated step accumulates exactly dE/dw of the "
                "stop-gradient network, and so does the reverse step with z detached",
                prove_truncated(),
            ),
            _kernel_proof(
                "L2, L6, L7",
                "the same for two blocks of one cell and no hidden unit",
                prove_truncated(_Case(C=2, S=1, H=0, K=1, n=1, T=2)),
            ),
        ],
    )


def _backward_section() -> Section:
    return Section(
        claims=("L6", "L7"),
        title="the truncated backward pass, online",
        paper_ref="App. A.1 eqs. (19)-(28)",
        prose=(
            r"The statements of \texttt{truncated\_step} after the forward pass. $\beta = "
            r"W_k^{\top} e_k$ is the error the outputs send to their sources; its cell and "
            r"hidden parts give eqs. (20), (21) and (23). The partials $\partial s_c/\partial "
            r"W_{in}$ and $\partial s_c/\partial W_c$ are accumulated forward in time (eqs. 25, "
            r"27), so each step's gradient (eqs. 24, 26, 28) is available at once: nothing is "
            r"stored per time step. The kernel returns $\partial E/\partial w = -e_l\, z_m$ (the "
            r"paper's $\Delta w = -\alpha\, \partial E/\partial w$), with eq. (19) as printed "
            r"because $E$ carries the $\tfrac12$ (L9). Slopes are evaluated at saved net inputs "
            r"and states, never reconstructed from activations (L11)."
        ),
        steps=_statement_steps(TRUNCATED_BACKWARD, _BACKWARD_LABELS),
        proofs=[],
    )


def _reverse_section() -> Section:
    labels = {
        e_k: "(19)",
        back: "outputs",
        th_yc: "(31) cells",
        th_yh: "hidden",
        e_h: "(20)",
        e_out: "(21), (32)",
        th_s: "(33) carousel",
        e_c: "(36)",
        e_in: "(37)",
        gw_k: "(22) k",
        gw_h: "(22) i",
        gw_out: "(22) out",
        gw_in: "in",
        gw_c: "c",
        th_z: "to t-1",
    }
    return Section(
        claims=("L10",),
        title="the full gradient by back-propagation through time",
        paper_ref="§4, App. A.2 eq. (30)",
        prose=(
            r"The statements of \texttt{reverse\_step}, run from $t = T$ down to 1 with "
            r"$\vartheta_z(T+1) = 0$, $\vartheta_{s_c}(T+1) = 0$. The carousel passes "
            r"$\vartheta_{s_c}(t+1)$ back with factor exactly 1; the extra terms of the full "
            r"gradient all arrive through $\vartheta_z(t+1)$, the error sent back through the "
            r"recurrent weights into the gates, cells and hidden units. Setting "
            r"$\vartheta_z(t+1) = 0$ at every step is the truncation of L2, which gives an "
            r"independent route to the truncated gradient (reverse instead of forward "
            r"accumulation)."
        ),
        steps=_statement_steps(REVERSE_STEP, labels),
        proofs=[
            _kernel_proof(
                "L10", "the reverse step gives exactly dE/dw of the full network", prove_full()
            )
        ],
    )


@cache
def derivation() -> Derivation:
    """The whole LSTM derivation (SPEC L1-L12), with the A.2 error-flow sections."""
    from . import lstm_flow

    flow = {sec.claims[0]: sec for sec in lstm_flow.sections()}
    sections = [
        _forward_section(),
        _truncation_section(),
        flow["L3"],
        flow["L4"],
        flow["L5"],
        _backward_section(),
        _flops_section(),
        flow["L9"],
        flow["L10"],
        _reverse_section(),
        flow["L11"],
        _weight_section(),
    ]
    return Derivation(
        name="lstm",
        title="The 1997 LSTM memory cell and its truncated gradient",
        source=r"Hochreiter \& Schmidhuber (1997), §4 and appendix A",
        notation=_NOTATION,
        sections=sections,
    )
