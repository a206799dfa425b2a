r"""Time-delay networks and NARX: error flow through tapped delays (SPEC S7).

Paper §2 (previous work): time-delay neural networks (Lang et al. 1990) and Plate's method
(1993, updating activations from a weighted sum of old activations) seem practical for short
lags only; Lin, Horne, Tino & Giles (1996) propose NARX networks, variants of time-delay networks.
(§2 is not transcribed in PAPER.md; this is the paper's description as errorflow states it.)

A NARX unit reads its own output through tapped delays 1..d::

    net(t) = sum_{k=1..d} w_k y(t-k) + x(t),    y(t) = f(net(t)).

Its state ``s(t) = (y(t), y(t-1), ..., y(t-d+1))`` moves by the d x d companion matrix
``C(t) = ds(t)/ds(t-1)``: first row ``f'(net(t)) (w_1, ..., w_d)``, ones on the subdiagonal.
The error factor over q steps, ``g(q) = dy(t)/dy(t-q)`` (older outputs held fixed), is the
(1, 1) entry of ``C(t) C(t-1) ... C(t-q+1)``, the recursion
``g(s) = f'(net(s)) sum_k w_k g(s-k)`` and the sum over paths from t-q to t whose jumps have
lengths in 1..d, each jump ending at s contributing ``f'(net(s)) w_k``. A path has at least
``ceil(q/d)`` jumps: the delays shorten the product of factors from q to ``ceil(q/d)``.

Rate: if every ``|f'(net(s)) w_k| <= r`` then ``|g(q)| <= G_r(q)`` with
``G(s) = r sum_k G(s-k)``, growing like ``rho^q``, rho the positive root of
``z^d = r (z^(d-1) + ... + 1)``; ``r^(1/d) <= rho <= (d r)^(1/d)`` when ``d r <= 1`` and
``rho < 1`` iff ``d r < 1``. So the flow decays like ``r^(q/d)`` (up to the factor
``d^(q/d)``) instead of ``r^q``: the decay exponent is divided by d, and for fixed d the flow
still vanishes exponentially. With a single tap at delay d, ``g(q) = prod (f' w_d)`` over
``q/d`` factors when d divides q and 0 otherwise.

SymPy only: nothing here imports ``errorflow.numeric``.
"""

from __future__ import annotations

import math
from functools import cache

import sympy as sp

from .core import Derivation, KernelArg, KernelSpec, Proof, Section, Step, is_zero

__all__ = [
    "COMPANION_ROW",
    "GENERATED_DOC",
    "NARX_NET",
    "companion",
    "compositions",
    "derivation",
    "kernel_specs",
    "path_sum",
    "recursion",
    "unrolled_factor",
]

d = sp.Symbol("d", integer=True, positive=True)
_w = sp.MatrixSymbol("w", d, 1)
_h = sp.MatrixSymbol("h", d, 1)
_x = sp.MatrixSymbol("x", 1, 1)
_fp = sp.Symbol("fp", real=True)

#: S7 forward: ``net(t) = sum_k w_k y(t-k) + x(t)`` with ``h = (y(t-1), ..., y(t-d))``.
NARX_NET = _w.T * _h + _x
#: S7: the first row of the companion step, ``f'(net(s)) sum_k w_k h_k`` (the other rows of
#: ``C(s) h`` shift the window down by one).
COMPANION_ROW = _fp * (_w.T * _h)

GENERATED_DOC = """Kernels of a NARX unit with tapped output delays 1..d (SPEC S7), printed from
errorflow.derivations.narx. w and h are 1-D arrays of length d: w[k-1] is the weight of the
delay-k tap, h a window of d values (latest first)."""

_f = sp.Function("f")
_z = sp.Symbol("z")


def _taps(dd: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"w_{k}", real=True) for k in range(1, dd + 1)]


def _slope(s: int) -> sp.Symbol:
    """``f'(net(t-s))`` as a plain symbol ``f'_{t-s}``."""
    return sp.Symbol(f"f'_{{t-{s}}}" if s else "f'_{t}", real=True)


def slopes(q: int) -> list[sp.Symbol]:
    """``[f'(net(t)), f'(net(t-1)), ..., f'(net(t-q+1))]``."""
    return [_slope(s) for s in range(q)]


def companion(fpv: sp.Expr, taps: list[sp.Expr]) -> sp.Matrix:
    """The d x d companion matrix ``C = ds(t)/ds(t-1)`` with first row ``fp * taps``."""
    dd = len(taps)
    C = sp.zeros(dd, dd)
    for k in range(dd):
        C[0, k] = fpv * taps[k]
    for i in range(1, dd):
        C[i, i - 1] = 1
    return C


def recursion(q: int, taps: list[sp.Expr], fps: list[sp.Expr]) -> sp.Expr:
    """``g(q)`` by ``g(s) = f'(net(s)) sum_k w_k g(s-k)``, ``g(0) = 1``, ``g(<0) = 0``.

    ``fps[j] = f'(net(t-j))``; ``g`` is indexed by steps after ``t-q``.
    """
    dd = len(taps)
    g = [sp.Integer(1)]
    for s in range(1, q + 1):
        total = sum(taps[k - 1] * g[s - k] for k in range(1, dd + 1) if s - k >= 0)
        g.append(sp.expand(fps[q - s] * total))
    return g[q]


def compositions(q: int, dd: int) -> list[tuple[int, ...]]:
    """Ordered jump lengths ``(k_1, ..., k_J)`` in 1..d summing to q (paths from t-q to t)."""
    if q == 0:
        return [()]
    return [(k, *rest) for k in range(1, min(dd, q) + 1) for rest in compositions(q - k, dd)]


def path_sum(q: int, taps: list[sp.Expr], fps: list[sp.Expr]) -> sp.Expr:
    """Sum over paths of ``prod_j f'(net(s_j)) w_{k_j}``, ``s_j`` the end of jump j."""
    total = sp.Integer(0)
    for combo in compositions(q, len(taps)):
        term, pos = sp.Integer(1), q  # position = t - (steps still to go)
        for k in combo:
            pos -= k
            term *= fps[pos] * taps[k - 1]
        total += term
    return sp.expand(total)


def unrolled_factor(q: int, dd: int) -> tuple[sp.Expr, list[sp.Expr], list[sp.Expr]]:
    """``dy(t)/dy(t-q)`` by differentiating the NARX unit unrolled from ``y(t-q)``, any f.

    Returns ``(derivative, taps, nets)`` with ``nets[j] = net(t-j)`` as expressions.
    """
    taps = _taps(dd)
    history = [sp.Symbol(f"y_{{t-{q + j}}}", real=True) for j in range(dd)]  # y(t-q), y(t-q-1),
    xs = sp.symbols(f"x_1:{q + 1}", real=True)
    ys = list(reversed(history))  # oldest first; ys[-1] = y(t-q)
    nets = []
    for s in range(q):
        net = sum(taps[k - 1] * ys[-k] for k in range(1, dd + 1)) + xs[s]
        nets.append(net)
        ys.append(_f(net))
    return sp.diff(ys[-1], history[0]), taps, list(reversed(nets))


def _slope_at(expr: sp.Expr) -> sp.Expr:
    return sp.diff(_f(_z), _z).subs(_z, expr)


def _routes_proof() -> Proof:
    """Unrolled derivative = recursion = companion product (1,1) = path sum, d <= 3, q <= 5."""
    ok = True
    for dd in (1, 2, 3):
        for q in range(1, 6):
            diff, taps, nets = unrolled_factor(q, dd)
            fps = [_slope_at(net) for net in nets]
            rec = recursion(q, taps, fps)
            prod = sp.eye(dd)
            for j in range(q):  # C(t) C(t-1) ... C(t-q+1)
                prod = prod * companion(fps[j], taps)
            ok = ok and is_zero(diff - rec) and is_zero(prod[0, 0] - rec)
            if q <= 4:
                ok = ok and is_zero(path_sum(q, taps, fps) - rec)
    return Proof(
        "S7",
        r"$\partial y(t)/\partial y(t-q)$ of the unrolled unit = the recursion = "
        r"$[C(t) \cdots C(t-q+1)]_{11}$ = the path sum, for $d \le 3$, $q \le 5$ (paths $q \le 4$)",
        "sympy.diff of the unrolled unit (any differentiable f), expand(lhs - rhs) = 0",
        ok,
    )


def _jacobian_proof() -> Proof:
    """The Jacobian of the state map ``s(t-1) -> s(t)`` is the companion matrix, d = 3."""
    dd = 3
    taps = _taps(dd)
    state = sp.Matrix(sp.symbols("s_1:4", real=True))  # (y(t-1), y(t-2), y(t-3))
    xv = sp.Symbol("x", real=True)
    net = sum(taps[k] * state[k] for k in range(dd)) + xv
    new = sp.Matrix([_f(net), state[0], state[1]])
    jac = new.jacobian(state)
    expected = companion(_slope_at(net), taps)
    kernel = COMPANION_ROW.subs(d, dd).as_explicit()
    row = sp.Matrix(kernel).subs(
        {
            _fp: _slope_at(net),
            **{sp.MatrixSymbol("w", dd, 1)[k, 0]: taps[k] for k in range(dd)},
            **{sp.MatrixSymbol("h", dd, 1)[k, 0]: state[k] for k in range(dd)},
        }
    )
    ok = all(is_zero(e) for e in (jac - expected)) and is_zero(row[0, 0] - (jac * state)[0, 0])
    return Proof(
        "S7",
        r"the Jacobian of $s(t-1) \to s(t)$ is the companion matrix $C(t)$, and the generated "
        r"\texttt{companion\_row} is its first row applied to $h$ ($d = 3$)",
        "sympy jacobian, entry by entry",
        ok,
    )


def _min_factor_proof() -> Proof:
    """Lowest order in eps of ``g(q)`` with taps ``eps w_k`` is ``ceil(q/d)``, d <= 4, q <= 8."""
    eps = sp.Symbol("epsilon", positive=True)
    ok = True
    for dd in (1, 2, 3, 4):
        taps = [eps * t for t in _taps(dd)]
        for q in range(1, 9):
            g = recursion(q, taps, slopes(q))
            poly = sp.Poly(g, eps)
            lowest = min(m[0] for m in poly.monoms())
            ok = ok and lowest == math.ceil(q / dd)
    return Proof(
        "S7",
        r"with every tap scaled by $\varepsilon$, $g(q)$ is a polynomial in $\varepsilon$ "
        r"whose lowest power is $\operatorname{ceil}(q/d)$: the shortest path has "
        r"$\operatorname{ceil}(q/d)$ factors ($d \le 4$, $q \le 8$)",
        r"sympy Poly in $\varepsilon$, lowest monomial degree",
        ok,
    )


def _single_tap_proof() -> Proof:
    """Only the delay-d tap: ``g(q) = prod`` of q/d factors ``f' w_d`` if d | q, else 0."""
    ok = True
    for dd in (2, 3, 4):
        taps = [sp.Integer(0)] * (dd - 1) + [sp.Symbol(f"w_{dd}", real=True)]
        for q in range(1, 10):
            fps = slopes(q)
            g = recursion(q, taps, fps)
            if q % dd:
                ok = ok and g == 0
            else:
                want = sp.Mul(*(fps[j * dd] * taps[-1] for j in range(q // dd)))
                ok = ok and is_zero(g - want)
    return Proof(
        "S7",
        r"with only the delay-$d$ tap, $g(q) = \prod_{j=0}^{q/d - 1} f'(net(t - jd))\,w_d$ "
        r"when $d \mid q$ and 0 otherwise: $r^{q/d}$ instead of $r^q$ ($d \le 4$, $q \le 9$)",
        "the recursion, expand(lhs - rhs) = 0",
        ok,
    )


def _rate_proofs() -> list[Proof]:
    """Bounds on the majorant's growth rate rho_d(r) for d = 1..5."""
    z = sp.Symbol("z", positive=True)
    u = sp.Symbol("u", positive=True)
    v = sp.Symbol("v", positive=True)
    r = sp.Symbol("r", positive=True)
    unique, lower, upper, unit = True, True, True, True
    for dd in range(1, 6):
        poly = z**dd - r * sum(z**j for j in range(dd))
        # p(z)/z^d = 1 - r sum z^(j-d) strictly increases for z > 0: one positive root.
        slope = sp.diff(1 - r * sum(z ** (j - dd) for j in range(dd)), z)
        unique = unique and bool(sp.simplify(slope).is_positive)
        # p(r^(1/d)) <= 0: rho >= r^(1/d)  (equality only for d = 1)
        at_low = sp.expand(poly.subs(z, r ** sp.Rational(1, dd)))
        lower = lower and bool((at_low <= 0) if at_low.is_number else at_low.is_nonpositive)
        # with r = u^d / d, 0 < u < 1 (i.e. d r < 1), u = 1/(1+v): p((d r)^(1/d)) >= 0
        at_up = sp.factor(sp.together(poly.subs(r, u**dd / dd).subs(z, u).subs(u, 1 / (1 + v))))
        num, den = sp.fraction(at_up)
        upper = upper and bool((sp.expand(num).is_nonnegative or at_up == 0) and den.is_positive)
        # p(1) = 1 - d r: positive (root below 1) iff d r < 1
        unit = unit and is_zero(poly.subs(z, 1) - (1 - dd * r))
    return [
        Proof(
            "S7",
            r"$p(z) = z^d - r\sum_{j<d} z^j$ has exactly one positive root $\rho_d(r)$: "
            r"$p(z)/z^d$ strictly increases on $z > 0$ ($d \le 5$)",
            "sign of the derivative under positive symbols",
            unique,
        ),
        Proof(
            "S7",
            r"$p(r^{1/d}) \le 0$, so $\rho_d(r) \ge r^{1/d}$ ($d \le 5$)",
            "sign under positive symbols",
            lower,
        ),
        Proof(
            "S7",
            r"if $d\,r \le 1$: $p((d r)^{1/d}) \ge 0$, so $\rho_d(r) \le (d\,r)^{1/d}$ ($d \le 5$)",
            r"substitution $r = u^d/d$, $u = 1/(1+v)$, numerator a polynomial with "
            r"nonnegative coefficients",
            upper,
        ),
        Proof(
            "S7",
            r"$p(1) = 1 - d\,r$: $\rho_d(r) < 1$ (decay) iff $d\,r < 1$ ($d \le 5$)",
            "expand(lhs - rhs) = 0 and the uniqueness above",
            unit,
        ),
    ]


def _section_paths() -> Section:
    return Section(
        claims=("S7",),
        title="NARX: error flow through tapped delays",
        paper_ref="section 2, time-delay networks (Lang et al. 1990), Plate (1993), "
        "NARX (Lin et al. 1996)",
        prose=(
            r"A unit that reads its own output through delays $1..d$ is a $d$-dimensional "
            r"system: its state $s(t) = (y(t), \dots, y(t-d+1))$ moves by the companion "
            r"matrix $C(t)$. Error reaching $y(t-q)$ from $y(t)$ travels on paths whose jumps "
            r"are up to $d$ steps long; every jump costs one factor $f'\,w_k$, so the shortest "
            r"path has $\operatorname{ceil}(q/d)$ factors instead of BPTT's $q$."
        ),
        steps=[
            Step(
                "NARX unit",
                "y(t)",
                r"f(net(t)), \quad net(t) = \sum_{k=1}^{d} w_k\, y(t-k) + x(t)",
                text="y(t) = f(net(t)), net(t) = sum_{k=1..d} w_k y(t-k) + x(t)",
            ),
            Step(
                "companion",
                r"C(t) = \frac{\partial s(t)}{\partial s(t-1)}",
                r"e_1\, f'(net(t))\, w^T + Z, \quad w = (w_1, \dots, w_d)^T,\ "
                r"Z_{i+1,i} = 1",
                text="C(t): first row f'(net(t)) (w_1 .. w_d), ones on the subdiagonal",
            ),
            Step(
                "q steps",
                r"g(q) = \frac{\partial y(t)}{\partial y(t-q)}",
                r"\bigl[C(t)\, C(t-1) \cdots C(t-q+1)\bigr]_{11}",
                text="g(q) = dy(t)/dy(t-q) = [C(t) C(t-1) ... C(t-q+1)]_11",
            ),
            Step(
                "recursion",
                r"g(s)",
                r"f'(net(s)) \sum_{k=1}^{d} w_k\, g(s-k), \quad g(t-q) = 1",
                text="g(s) = f'(net(s)) sum_k w_k g(s-k), g(t-q) = 1, 0 before",
            ),
            Step(
                "paths",
                r"g(q)",
                r"\sum_{k_1 + \dots + k_J = q,\ 1 \le k_j \le d}\ \prod_{j=1}^{J} "
                r"f'(net(s_j))\, w_{k_j}",
                note=r"$s_j = t - q + k_1 + \dots + k_j$ is where jump $j$ ends.",
                text="g(q) = sum over k_1+..+k_J = q, 1 <= k_j <= d of prod_j f'(net(s_j)) w_{k_j}",
            ),
            Step(
                "shortest path",
                r"\min J",
                r"\operatorname{ceil}(q/d)",
                text="min J = ceil(q/d)",
            ),
            Step(
                "single tap",
                r"g(q)",
                r"\prod_{j=0}^{q/d-1} f'(net(t - jd))\, w_d \quad (d \mid q;\ 0 \text{ otherwise})",
                text="g(q) = prod_{j<q/d} f'(net(t - j d)) w_d if d | q, else 0 (only w_d != 0)",
            ),
        ],
        proofs=[_jacobian_proof(), _routes_proof(), _min_factor_proof(), _single_tap_proof()],
    )


def _section_rate() -> Section:
    return Section(
        claims=("S7",),
        title="the decay exponent divided by d, and the limit that remains",
        paper_ref="section 2: time-delay networks seem practical for short time lags only",
        prose=(
            r"Bound every factor: $|f'(net(s))\,w_k| \le r$. Term by term the path sum is at "
            r"most $G_r(q)$, the same sum with every factor $r$, which grows like $\rho^q$ with "
            r"$\rho = \rho_d(r)$ the positive root of $p(z) = z^d - r\sum_{j<d} z^j$. Since "
            r"$r^{1/d} \le \rho \le (d\,r)^{1/d}$, the flow vanishes like $r^{q/d}$ (up to "
            r"$d^{q/d}$) rather than $r^q$: the decay exponent is divided by the delay length. "
            r"But for fixed $d$ and $d\,r < 1$ it still vanishes exponentially, so lags much "
            r"longer than $d$ remain out of reach; enlarging $d$ costs $d$ weights per "
            r"connection and $O(d)$ work per step, and $d\,r > 1$ risks explosion instead."
        ),
        steps=[
            Step(
                "majorant",
                r"|g(q)|",
                r"G_r(q), \quad G_r(s) = r \sum_{k=1}^{d} G_r(s-k),\ G_r(0) = 1",
                rel="<=",
                text="|g(q)| <= G_r(q), G_r(s) = r sum_k G_r(s-k), G_r(0) = 1",
            ),
            Step(
                "growth",
                r"\rho_d(r)^d",
                r"r \sum_{j=0}^{d-1} \rho_d(r)^j",
                text="rho_d(r)^d = r sum_{j<d} rho_d(r)^j",
            ),
            Step(
                "bounds",
                r"r^{1/d} \le \rho_d(r)",
                r"(d\,r)^{1/d} \quad (d\,r \le 1)",
                rel="<=",
                text="r^(1/d) <= rho_d(r) <= (d r)^(1/d)  (d r <= 1)",
            ),
            Step(
                "rate",
                r"\frac{1}{q}\log G_r(q)",
                r"\log \rho_d(r) \in \Bigl[\frac{\log r}{d},\ \frac{\log r + \log d}{d}\Bigr]",
                rel=r"\to",
                text="(1/q) log G_r(q) -> log rho_d(r) in [log r / d, (log r + log d)/d]",
            ),
            Step(
                "cost",
                r"\mathrm{ops}(\text{one step})",
                r"2d \ \text{(one unit)}, \quad 2 d n^2 \ \text{($n$ units, $d$ taps each)}",
                text="ops per step = 2 d for one unit (companion_row), 2 d n^2 for n units",
            ),
        ],
        proofs=_rate_proofs(),
    )


@cache
def derivation() -> Derivation:
    """The time-delay / NARX derivation (S7), every proof evaluated."""
    return Derivation(
        name="narx",
        title="Time-delay networks and NARX: tapped delays",
        source=r"Hochreiter \& Schmidhuber (1997), section 2; Lin, Horne, Tino \& Giles (1996); "
        r"SPEC S7",
        notation=(
            r"One unit with taps $w_1..w_d$ on its own delayed outputs; "
            r"$s(t) = (y(t), \dots, y(t-d+1))$; $g(q) = \partial y(t)/\partial y(t-q)$ with the "
            r"older outputs $y(t-q-1), \dots$ held fixed (the error on $y(t)$ reaching "
            r"$y(t-q)$)."
        ),
        sections=[_section_paths(), _section_rate()],
    )


def kernel_specs() -> list[KernelSpec]:
    """The S7 kernels codegen prints."""
    return [
        KernelSpec(
            name="narx_net",
            summary="NARX net input net(t) = sum_k w_k y(t-k) + x(t) (S7).",
            math=sp.sstr(NARX_NET),
            claims=("S7",),
            args=(
                KernelArg("w", "(d,) tap weights, w[k-1] for delay k"),
                KernelArg("h", "(d,) delayed outputs, h[k-1] = y(t-k)"),
                KernelArg("x", "scalar external input x(t)"),
            ),
            symbols=(_w, _h, _x),
            outputs=(NARX_NET,),
            kind="matrix",
        ),
        KernelSpec(
            name="companion_row",
            summary=(
                "First row of the companion step C(s) h: f'(net(s)) sum_k w_k h[k-1] (S7); the "
                "other rows shift h down by one."
            ),
            math=sp.sstr(COMPANION_ROW),
            claims=("S7",),
            args=(
                KernelArg("fp", "scalar slope f'(net(s))"),
                KernelArg("w", "(d,) tap weights"),
                KernelArg("h", "(d,) window, h[k-1] = g(s-k)"),
            ),
            symbols=(_fp, _w, _h),
            outputs=(COMPANION_ROW,),
            kind="matrix",
        ),
    ]
