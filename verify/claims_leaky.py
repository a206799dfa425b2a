"""Claim S5: leaky units (Mozer 1992) and Sun et al.'s additive unit, checked numerically.

The generated kernels (``errorflow.numeric.leaky``) are compared with routes written here
independently: the dense product of ``diag(1 - 1/tau) + W^T diag(f'/tau)`` in plain NumPy,
central differences of the real forward pass (perturbing ``y(t-q)``), an mpmath product at long
lags, and the exact rates of linear units (``(1 - (1 - w)/tau)^q``, ``(1 + lambda w)^q``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import leaky as deriv
from errorflow.numeric import leaky
from errorflow.numeric.activations import ACTIVATIONS

from .reference import mp_slope
from .registry import Budget, Claim, NumericResult, Tracker, register
from .sampling import random_weights

__all__ = ["dense_product", "fd_factor", "mp_unit_log_factor"]

_EPS = float(np.finfo(np.float64).eps)


def _proofs() -> list:
    return [p for p in deriv.derivation().proofs if "S5" in p.claim.split(", ")]


def dense_product(W: np.ndarray, nets: np.ndarray, tau: np.ndarray, activation: str) -> np.ndarray:
    """``J(t-q+1)^T ... J(t)^T`` with dense ``J(s)^T = diag(1 - 1/tau) + W^T diag(f'/tau)``."""
    fp = ACTIVATIONS[activation].df
    S = np.eye(W.shape[0])
    for m in range(nets.shape[0]):
        Jt = np.diag(1.0 - 1.0 / tau) + W.T @ np.diag(np.broadcast_to(fp(nets[m]), tau.shape) / tau)
        S = Jt @ S
    return S


def fd_factor(
    W: np.ndarray, xs: np.ndarray, tau: np.ndarray, y_start: np.ndarray, activation: str
) -> np.ndarray:
    """``S[v, u] = dy^u(q)/dy^v(0)`` by central differences of a plain-loop leaky network."""
    f = ACTIVATIONS[activation].f

    def run(y: np.ndarray) -> np.ndarray:
        for x in xs:
            y = (1.0 - 1.0 / tau) * y + f(W @ y + x) / tau
        return y

    n = W.shape[0]
    S = np.zeros((n, n))
    h = 1e-6
    for v in range(n):
        up, down = y_start.copy(), y_start.copy()
        up[v] += h
        down[v] -= h
        S[v] = (run(up) - run(down)) / (2 * h)
    return S


def mp_unit_log_factor(w: float, nets: np.ndarray, tau: float, activation: str) -> float:
    """``log|prod_m ((1 - 1/tau) + f'(net_m) w / tau)|`` in mpmath (40 digits)."""
    with mpmath.workdps(40):
        t = mpmath.mpf(tau)
        total = mpmath.mpf(0)
        for net in nets:
            total += mpmath.log(abs((1 - 1 / t) + mp_slope(activation, float(net)) * w / t))
        return float(total)


def _s5(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-9)
    worst_fd = 0.0
    # 1. the matrix kernel against a dense product and against finite differences
    for _ in range(budget.cases):
        n = int(rng.integers(1, 5))
        act = str(rng.choice(["logistic", "tanh"]))
        W = random_weights(rng, n, 3.0)
        tau = rng.uniform(1.0, 50.0, n)
        q = int(rng.integers(1, 9))
        xs = rng.standard_normal((q + 3, n))
        traj = leaky.forward(W, xs, tau, act)
        t = q + 3
        S = leaky.scaling_factor(W, traj.lag_window(t, q), tau, act)
        ref = dense_product(W, traj.lag_window(t, q), tau, act)
        track.error(float(np.max(np.abs(S - ref)) / np.max(np.abs(ref))))
        fd = fd_factor(W, xs[t - q : t], tau, traj.ys[t - q - 1], act)
        err = float(np.max(np.abs(S - fd)))
        worst_fd = max(worst_fd, err)
        track.require(err < 1e-6, f"finite differences disagree by {err:.2e}")
    # 2. long lags: matrix chain, elementwise curve and mpmath agree on log|S|
    rates = []
    for _ in range(max(2, budget.cases // 6)):
        w = float(rng.uniform(-6.0, 6.0))
        tau = float(rng.uniform(1.0, 200.0))
        traj = leaky.forward([[w]], rng.standard_normal((budget.long_q, 1)), tau)
        nets = traj.nets[::-1, 0]
        _, chain = leaky.log_scaling_factor([[w]], nets[:, None], tau)
        _, curve = leaky.unit_log_curve(w, nets, tau)
        ref = mp_unit_log_factor(w, nets, tau, "logistic")
        for got in (float(chain[0, 0]), float(curve[-1])):
            track.error(abs(got - ref) / max(1.0, abs(ref)))
        p_mean = float(np.mean(ACTIVATIONS["logistic"].df(nets) * w))
        rates.append((round(ref / budget.long_q, 6), round(-(1 - p_mean) / tau, 6)))
        track.require(ref < 0.0, f"logistic leaky unit (w = {w:.3g}, |w| < 4 or not) grew")
    # 3. linear units: exact rate log|1 - (1 - w)/tau|; w = 1 constant within 2 q eps
    worst_const = 0.0
    for i in range(budget.cases):
        tau = float(rng.uniform(1.0, 100.0))
        w = 1.0 if i % 3 == 0 else float(rng.uniform(-2.0 * tau, 3.0))
        nets = rng.normal(0.0, 3.0, budget.long_q)
        _, logabs = leaky.unit_log_curve(w, nets, tau, "identity")
        q = np.arange(1, budget.long_q + 1)
        if w == 1.0:
            dev = np.abs(np.expm1(logabs)) / (q * _EPS)
            worst_const = max(worst_const, float(np.max(dev)))
            track.require(bool(np.all(dev <= 2.0)), f"f' w = 1 flow drifted (tau = {tau:.3g})")
            continue
        factor = 1.0 - (1.0 - w) / tau
        expect = q * math.log(abs(factor))
        track.error(float(np.max(np.abs(logabs - expect) / np.maximum(1.0, np.abs(expect)))))
        decays = 1.0 - 2.0 * tau < w < 1.0
        track.require((logabs[-1] < 0) == decays, f"decay/explosion misjudged: w={w}, tau={tau}")
    # 4. tau -> infinity: flow tends to 1, the input's influence f'/tau to 0
    for tau in (1e6, 1e9, 1e12):
        nets = rng.standard_normal(budget.long_q)
        _, logabs = leaky.unit_log_curve(3.0, nets, tau)
        track.require(
            abs(float(logabs[-1])) <= budget.long_q * 1.01 / tau, f"tau = {tau:g}: flow != 1"
        )
    # 5. Sun's additive unit: (1 + lambda w)^q, finite differences, w = 0 adds every input
    for _ in range(budget.cases):
        lam = float(rng.uniform(0.05, 1.0))
        w = float(rng.uniform(-1.0, 1.0))
        q = int(rng.integers(1, 12))
        xs = rng.standard_normal(q)
        _, logabs = leaky.additive_log_curve(w, np.zeros(q), "identity", lam)
        expect = q * math.log(abs(1.0 + lam * w))
        track.error(abs(float(logabs[-1]) - expect) / max(1.0, abs(expect)))

        def run(y0: float, ww: float = w, xv: np.ndarray = xs, lam: float = lam) -> float:
            y = y0
            for x in xv:
                y = y + lam * (ww * y + x)
            return y

        fd = (run(0.3 + 1e-6) - run(0.3 - 1e-6)) / 2e-6
        track.require(abs(fd - math.exp(expect)) <= 1e-6 * max(1.0, abs(fd)), "additive FD")
        stored = run(0.3, 0.0)
        track.error(abs(stored - (0.3 + lam * float(np.sum(xs)))) / max(1.0, abs(stored)))
    track.details["worst |S - finite differences| (leaky networks, n <= 4, q <= 8)"] = worst_fd
    track.details["worst |flow(q) - 1| / (q eps) at f' w = 1"] = worst_const
    track.details["logistic leaky unit: measured log|S|/q vs -(1 - mean f'w)/tau"] = rates
    return track.result()


register(
    Claim(
        "S5",
        "S (successors and earlier approaches)",
        "leaky unit y(t) = (1 - 1/tau) y(t-1) + (1/tau) f(net(t)) back-propagates with "
        "(1 - 1/tau) + (1/tau) f' w per step (matrix form A + W^T F' B): constant iff f' w = 1 "
        "or tau -> infinity (then the unit ignores its input); decays iff 1 - 2 tau < f' w < 1, "
        "at about (1 - f' w)/tau per step; Sun et al.'s additive unit y(t) = y(t-1) + f(net(t)) "
        "has 1 + f' w, constant only when f' w = 0",
        "SymPy: diff of the unrolled units, jacobian vs the kernel (n = 2), solve/limit/solveset, "
        "rsolve; numeric: generated kernels vs dense NumPy product and finite differences of the "
        "forward pass, mpmath at q = long_q, exact rates of linear units, tau up to 1e12, "
        "additive unit vs (1 + lambda w)^q and finite differences",
        _proofs,
        _s5,
    )
)
