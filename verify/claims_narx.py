"""Claim S7: time-delay / NARX units, error flow through tapped delays, checked numerically.

Routes compared with the generated kernels (``errorflow.numeric.narx``): the sum over paths
(plain Python enumeration of jump sequences), the dense companion-matrix product, central
differences of a plain-loop NARX unit, and an mpmath recursion at long lags. Rates: the
measured ``log|g(q)|`` never exceeds the majorant ``log G_r(q)`` with r the largest factor
``|f'(net) w_k|`` met; the majorant's rate ``log rho_d(r)`` lies in ``[log r / d,
log(d r)/d]``; a single tap at delay d decays exactly by ``r^(q/d)``; with taps scaled by a
tiny epsilon, ``log|g(q)| / log epsilon`` is ``ceil(q/d)`` (the shortest path).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import narx as deriv
from errorflow.numeric import narx
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.numeric.logspace import signed_logsumexp

from .reference import mp_slope
from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = ["fd_factor", "log_majorant", "mp_log_factor", "path_sum", "rho"]


def _proofs() -> list:
    return [p for p in deriv.derivation().proofs if "S7" in p.claim.split(", ")]


def _jumps(q: int, d: int) -> list[tuple[int, ...]]:
    """Every ordered sequence of jump lengths in 1..d summing to q."""
    if q == 0:
        return [()]
    return [(k, *rest) for k in range(1, min(d, q) + 1) for rest in _jumps(q - k, d)]


def path_sum(w: np.ndarray, slopes: np.ndarray) -> float:
    """``g(q)`` as the sum over jump sequences ``(k_1..k_J)``, ``slopes[j] = f'(net(t-j))``."""
    q, d = slopes.shape[0], w.shape[0]
    total = 0.0
    for combo in _jumps(q, d):
        term, pos = 1.0, q
        for k in combo:
            pos -= k
            term *= slopes[pos] * w[k - 1]
        total += term
    return total


def fd_factor(w: np.ndarray, xs: np.ndarray, history: np.ndarray, activation: str) -> float:
    """``dy(t)/dy(t-q)`` by central differences of a plain-loop NARX unit started at ``t-q``."""
    f = ACTIVATIONS[activation].f

    def run(h0: np.ndarray) -> float:
        h = list(h0)
        for x in xs:
            y = float(f(np.array(sum(wk * hk for wk, hk in zip(w, h, strict=True)) + x)))
            h = [y, *h[:-1]]
        return h[0]

    step = 1e-6
    up, down = history.copy(), history.copy()
    up[0] += step
    down[0] -= step
    return (run(up) - run(down)) / (2 * step)


def mp_log_factor(w: np.ndarray, nets: np.ndarray, activation: str) -> float:
    """``log|g(q)|`` by the forward recursion in mpmath (unbounded exponent, 40 digits)."""
    q, d = nets.shape[0], w.shape[0]
    with mpmath.workdps(40):
        g = [mpmath.mpf(1)]
        for s in range(1, q + 1):
            total = sum(mpmath.mpf(w[k - 1]) * g[s - k] for k in range(1, d + 1) if s >= k)
            g.append(mp_slope(activation, float(nets[q - s])) * total)
        return float(mpmath.log(abs(g[q])))


def log_majorant(r: float, d: int, q: int) -> np.ndarray:
    """``log G_r(s)`` for s = 1..q: ``G(s) = r sum_k G(s-k)``, ``G(0) = 1``, in log space."""
    logs = np.full(q + 1, -np.inf)
    logs[0] = 0.0
    for s in range(1, q + 1):
        window = logs[max(0, s - d) : s]
        _, total = signed_logsumexp(window, np.ones_like(window))
        logs[s] = math.log(r) + float(total)
    return logs[1:]


def rho(r: float, d: int) -> float:
    """The positive root of ``z^d = r (z^(d-1) + ... + 1)`` (numpy.roots)."""
    roots = np.roots([1.0] + [-r] * d)
    return float(max(z.real for z in roots if abs(z.imag) < 1e-9 and z.real > 0))


def _s7(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-9)
    worst_fd = 0.0
    # 1. routes: forward recursion, adjoint curve, companion product, paths, finite differences
    for _ in range(budget.cases):
        d = int(rng.integers(1, 7))
        act = str(rng.choice(["logistic", "tanh"]))
        w = rng.normal(0.0, 2.0, d)
        T = 14
        xs = rng.standard_normal(T)
        traj = narx.forward(w, xs, act, history=rng.uniform(-1, 1, d))
        sign, curve = narx.log_scaling_curve(w, traj.lag_window(T, 10), act)
        for q in range(1, 11):
            nets = traj.lag_window(T, q)
            g = narx.scaling_factor(w, nets, act)
            scale = max(abs(g), 1e-300)
            P = narx.companion_product(w, nets, act)
            track.error(abs(P[0, 0] - g) / scale)
            track.error(abs(sign[q - 1] * math.exp(curve[q - 1]) - g) / scale)
            if q <= 8:
                slopes = np.broadcast_to(ACTIVATIONS[act].df(nets), nets.shape)
                track.error(abs(path_sum(w, slopes) - g) / max(scale, 1e-12))
            full = np.concatenate((traj.history[::-1], traj.ys))  # y(1-d) .. y(T)
            start = d - 1 + T - q  # index of y(T-q)
            history = full[start - d + 1 : start + 1][::-1]
            fd = fd_factor(w, xs[T - q : T], history, act)
            worst_fd = max(worst_fd, abs(fd - g))
            track.require(abs(fd - g) < 1e-6, f"finite differences off by {abs(fd - g):.2e}")
    # 2. rates: |g| <= majorant; majorant rate within [log r / d, log(d r)/d]
    rate_rows = []
    worst_gap = 0.0
    for _ in range(max(3, budget.cases // 4)):
        d = int(rng.integers(1, 7))
        r_target = float(rng.uniform(0.05, 0.95)) / d
        w = rng.uniform(-4.0 * r_target, 4.0 * r_target, d)
        Q = budget.long_q
        traj = narx.forward(w, rng.standard_normal(Q))
        nets = traj.nets[::-1]
        sign, curve = narx.log_scaling_curve(w, nets)
        r = float(np.max(ACTIVATIONS["logistic"].df(nets)) * np.max(np.abs(w)))
        bound = log_majorant(r, d, Q)
        excess = float(np.max((curve - bound)[np.isfinite(curve)] / np.maximum(1, np.abs(bound))))
        track.require(excess <= 1e-12, f"|g(q)| above the majorant G_r(q) (d = {d})")
        log_rho = math.log(rho(r, d))
        track.require(
            math.log(r) / d - 1e-12 <= log_rho <= math.log(d * r) / d + 1e-12,
            f"rho_d(r) outside [r^(1/d), (dr)^(1/d)] (d = {d}, r = {r:.3g})",
        )
        gap = abs(float(bound[-1]) / Q - log_rho)
        worst_gap = max(worst_gap, gap)
        track.require(gap < 0.01, f"majorant rate {bound[-1] / Q:.4g} != log rho {log_rho:.4g}")
        rate_rows.append(
            {
                "d": d,
                "r": round(r, 4),
                "measured log|g|/q": round(float(curve[-1]) / Q, 4),
                "log rho_d(r)": round(log_rho, 4),
                "log(r)/d": round(math.log(r) / d, 4),
                "d=1 rate log r": round(math.log(r), 4),
            }
        )
    # 3. single tap at delay d: exactly r^(q/d), measured rate * d = mean log|f' w_d|
    for _ in range(max(3, budget.cases // 4)):
        d = int(rng.integers(2, 7))
        w = np.zeros(d)
        w[-1] = float(rng.uniform(-4.0, 4.0))
        Q = budget.long_q - budget.long_q % d
        nets = rng.normal(0.0, 2.0, Q)
        sign, logabs = narx.log_scaling_factor(w, nets)
        expect = float(np.sum(np.log(ACTIVATIONS["logistic"].df(nets[::d]) * abs(w[-1]))))
        track.error(abs(logabs - expect) / max(1.0, abs(expect)))
        _, off = narx.log_scaling_factor(w, nets[: Q - 1])
        track.require(off == -math.inf, "single tap: g(q) != 0 for q not a multiple of d")
    # 4. long lags against mpmath
    for _ in range(4):
        d = int(rng.integers(1, 4))
        w = rng.normal(0.0, 1.5, d)
        nets = rng.normal(0.0, 3.0, budget.long_q)
        _, logabs = narx.log_scaling_factor(w, nets)
        ref = mp_log_factor(w, nets, "logistic")
        track.error(abs(logabs - ref) / max(1.0, abs(ref)))
    # 5. shortest path: taps scaled by eps, the order in eps is ceil(q/d)
    eps = 2.0**-400
    worst_order = 0.0
    for _ in range(budget.cases):
        d = int(rng.integers(1, 7))
        q = int(rng.integers(1, 31))
        w = rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d) * eps
        _, logabs = narx.log_scaling_factor(w, rng.normal(0.0, 1.0, q))
        order = logabs / math.log(eps)
        worst_order = max(worst_order, abs(order - math.ceil(q / d)))
        track.require(abs(order - math.ceil(q / d)) < 0.5, f"order {order:.3f}, q={q}, d={d}")
    track.details["worst |g - finite differences| (d <= 6, q <= 10)"] = worst_fd
    track.details["rates per step (natural log): measured vs majorant vs q/d prediction"] = (
        rate_rows
    )
    track.details["worst |log G_r(Q)/Q - log rho_d(r)|, Q = long_q"] = worst_gap
    track.details["worst |log|g(eps w)| / log eps - ceil(q/d)|, eps = 2^-400"] = worst_order
    return track.result()


register(
    Claim(
        "S7",
        "S (successors and earlier approaches)",
        "a NARX unit with output delays 1..d passes error back by the companion matrix; "
        "dy(t)/dy(t-q) is a sum over paths of at least ceil(q/d) factors f' w_k, so the flow "
        "vanishes like r^(q/d) (rho_d(r) in [r^(1/d), (d r)^(1/d)]) instead of r^q: the "
        "decay exponent is divided by d, but for fixed d (d r < 1) it still vanishes "
        "exponentially",
        "SymPy: jacobian = companion matrix, unrolled derivative = recursion = companion "
        "product = path sum (d <= 3), lowest order ceil(q/d) in a tap scale eps, single-tap "
        "product, rate bounds for d <= 5; numeric: kernels vs paths, dense companion product "
        "and finite differences, |g| under the majorant G_r, single tap = r^(q/d), mpmath at "
        "q = long_q, order in eps = ceil(q/d)",
        _proofs,
        _s7,
    )
)
