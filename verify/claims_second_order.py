"""Claim S9: second-order (multiplicative) units, checked numerically.

The gated scaling factor of :mod:`errorflow.numeric.second_order` is compared with central
differences of the real forward pass and, at long lags, with an mpmath product of the gated
matrices; a zero input must give exact zeros, a linear self-loop gated to 1 must carry error
unchanged over ``long_q`` steps; second-order RTRL is compared with central differences of the
loss; the cost exponent in the number of weights is fitted to the generated kernels' operation
counts and contrasted with LSTM's truncated step (L8).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import second_order as deriv
from errorflow.numeric import second_order as so
from errorflow.numeric._generated import lstm as gen_lstm
from errorflow.numeric._generated import second_order as gen

from .reference import choose_dps, mp_slope
from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = ["cost_exponents", "fd_factor", "mp_log_factor"]

_ACTS = ("logistic", "tanh", "identity")


def _proofs(claim_id: str):
    def get() -> list:
        return [p for p in deriv.derivation().proofs if claim_id in p.claim.split(", ")]

    return get


def fd_factor(W, xs, y0, act: str, t: int, q: int, h: float = 1e-6) -> np.ndarray:
    """``S(q)^T = dnet(t)/dnet(t-q)`` by central differences of the real forward pass."""
    f = {"logistic": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "identity": lambda z: z}[act]
    base = so.forward(W, xs, act, y0=y0).nets[t - q - 1]

    def net_t(net0: np.ndarray) -> np.ndarray:
        y, net = f(net0), net0
        for s in range(t - q, t):  # rows of xs are x(s + 1)
            net = so.gated_weights(W, xs[s]) @ y
            y = f(net)
        return net

    n = W.shape[0]
    J = np.zeros((n, n))
    for v in range(n):
        d = np.zeros(n)
        d[v] = h
        J[:, v] = (net_t(base + d) - net_t(base - d)) / (2 * h)
    return J


def mp_log_factor(W: np.ndarray, xs: np.ndarray, nets: np.ndarray, act: str) -> np.ndarray:
    """``log|S(q)|`` of the gated product in mpmath (window conventions of the numeric API)."""
    q, n = nets.shape
    with mpmath.workdps(choose_dps(q, n)):
        S = mpmath.eye(n)
        for s in range(q):
            A = np.tensordot(W, xs[s], 1)  # exact for the one-hot inputs used here
            At = mpmath.matrix(A.T.tolist())
            S = At * S
            for v in range(n):
                fv = mp_slope(act, float(nets[s, v]))
                for u in range(n):
                    S[v, u] *= fv
        return np.array(
            [
                [float(mpmath.log(abs(S[v, u]))) if S[v, u] else -np.inf for u in range(n)]
                for v in range(n)
            ]
        )


def cost_exponents(sizes: tuple[int, ...] = (16, 32, 64, 128)) -> tuple[float, float]:
    """Fitted slopes of log(ops per step) against log(W) for second-order RTRL (n grows,
    m = 3) and for LSTM's truncated step (C blocks of 1 cell, 3 inputs, 1 output)."""
    lw, so_ops, lw_l, l_ops = [], [], [], []
    m = 3
    for k in sizes:
        lw.append(math.log(k * k * m))
        so_ops.append(math.log(gen.forward_step_flops(k, m) + gen.sensitivity_step_flops(k, m)))
        C, S, H, K = k, 1, 0, 1
        P = 3 + C * S + 2 * C + H + 1  # inputs, cells, gates, hidden, bias feed each unit
        Q = C * S + H + 3 + 1
        lw_l.append(math.log(C * P * S + 2 * C * P + H * P + K * Q))
        l_ops.append(math.log(gen_lstm.truncated_step_flops(C, S, H, K, P, Q)))
    return float(np.polyfit(lw, so_ops, 1)[0]), float(np.polyfit(lw_l, l_ops, 1)[0])


def _s9(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-6)
    worst_fd = 0.0
    for _ in range(budget.cases):
        n, m, q = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
        act = _ACTS[int(rng.integers(len(_ACTS)))]
        W = rng.normal(0, 0.8, (n, n, m))
        T = q + 2
        xs = rng.normal(0, 1.0, (T, m))
        y0 = rng.uniform(-1, 1, n)
        traj = so.forward(W, xs, act, y0=y0)
        t = T
        S = so.scaling_factor(W, xs[t - q : t][::-1], traj.nets[t - q - 1 : t - 1][::-1], act)
        fd = fd_factor(W, xs, y0, act, t, q)
        err = float(np.max(np.abs(S.T - fd))) / max(float(np.max(np.abs(S))), 1e-3)
        worst_fd = max(worst_fd, err)
        track.error(err)
        # a zero input inside the window blocks everything exactly
        xz = xs[t - q : t][::-1].copy()
        xz[int(rng.integers(q))] = 0.0
        sign, _ = so.log_scaling_factor(W, xz, traj.nets[t - q - 1 : t - 1][::-1], act)
        track.require(bool(np.all(sign == 0)), "a zero input did not block the error flow")
    # long lags against mpmath: 2 logistic units, 3 one-hot symbols
    Q = budget.long_q
    worst_mp = 0.0
    rates = []
    for _ in range(2):
        W = rng.normal(0, 1.0, (2, 2, 3))
        xs = np.eye(3)[rng.integers(0, 3, Q + 1)]
        traj = so.forward(W, xs, "logistic")
        wx, wn = xs[1 : Q + 1][::-1], traj.nets[:Q][::-1]
        _, got = so.log_scaling_factor(W, wx, wn, "logistic")
        ref = mp_log_factor(W, wx, wn, "logistic")
        finite = np.isfinite(ref)
        track.require(bool(np.array_equal(finite, np.isfinite(got))), "zero pattern differs")
        err = float(np.max(np.abs(got[finite] - ref[finite]) / np.maximum(1, np.abs(ref[finite]))))
        worst_mp = max(worst_mp, err)
        track.error(err)
        rates.append(float(np.max(ref)) / Q / math.log(10))
    # gated linear self-loop: hold symbol weight 1 keeps the error exactly, reset cuts it
    Wl = np.array([[[1.0, 0.0]]])
    hold = np.tile([1.0, 0.0], (Q, 1))
    nets = rng.normal(0, 3.0, (Q, 1))
    sign, log_abs = so.log_scaling_factor(Wl, hold, nets, "identity")
    track.require(bool(sign[0, 0] == 1 and log_abs[0, 0] == 0.0), "hold loop is not exactly 1")
    held = so.scaling_factor(Wl, hold, nets, "identity")
    track.require(bool(held[0, 0] == 1.0), "hold loop value is not 1.0")
    reset = hold.copy()
    reset[Q // 2] = [0.0, 1.0]
    sign, _ = so.log_scaling_factor(Wl, reset, nets, "identity")
    track.require(bool(sign[0, 0] == 0), "reset did not cut the flow")
    _, squashed = so.log_scaling_factor(Wl, hold, nets, "logistic")
    track.require(bool(squashed[0, 0] < Q * math.log(0.25) + 1e-9), "logistic loop not <= 4^-q")
    # second-order RTRL vs central differences of the loss
    worst_grad = 0.0
    for _ in range(3):
        n, m, T = 2, 2, int(rng.integers(2, 6))
        W = rng.normal(0, 0.8, (n, n, m))
        xs = rng.normal(size=(T, m))
        d = rng.uniform(-1, 1, (T, n))
        y0 = rng.uniform(-1, 1, n)
        _, g = so.rtrl_gradient(W, xs, d, "tanh", y0=y0)
        fd = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += 1e-6
            Wm[idx] -= 1e-6
            lp = 0.5 * np.sum((d - so.forward(Wp, xs, "tanh", y0=y0).ys) ** 2)
            lm = 0.5 * np.sum((d - so.forward(Wm, xs, "tanh", y0=y0).ys) ** 2)
            fd[idx] = (lp - lm) / 2e-6
        err = float(np.max(np.abs(g["W"] - fd))) / max(float(np.max(np.abs(fd))), 1e-12)
        worst_grad = max(worst_grad, err)
        track.error(err)
    a_so, a_lstm = cost_exponents()
    track.require(1.9 < a_so < 2.1, f"second-order RTRL exponent in W {a_so:.2f} is not about 2")
    track.require(0.9 < a_lstm < 1.1, f"LSTM exponent in W {a_lstm:.2f} is not about 1")
    track.details["worst relative error S(q) vs central differences (q <= 5)"] = worst_fd
    track.details[f"worst relative error log|S(q)| vs mpmath, q = {Q}"] = worst_mp
    track.details["decades per step, 2 logistic units, 3 one-hot symbols"] = rates
    track.details["worst relative error second-order RTRL vs central differences"] = worst_grad
    track.details["fitted cost exponent in W (second-order RTRL, LSTM truncated)"] = [
        round(a_so, 3),
        round(a_lstm, 3),
    ]
    return track.result()


register(
    Claim(
        "S9",
        "S (successors and earlier approaches)",
        "second-order units, net_i(t) = sum over j, k of w_ijk y^j(t-1) x^k(t): the error "
        "factor dy^i(t) / dy^j(t-1) = f'_i(net_i(t)) sum over k of w_ijk x^k(t) is gated by "
        "the input (a zero "
        "input blocks it exactly); multiplicative gates scale error by their activation and "
        "can protect it; second-order RTRL costs O(W^2) per step, LSTM O(W)",
        "SymPy: the generated forward statements vs sympy.diff, the unrolled net's jacobian "
        "vs bptt's SCALING_STEP with gated weights (n <= 2, q <= 3), zero-input and one-hot "
        "substitutions, product-unit and gated-loop derivatives, op counts (exact polynomial, "
        "count_ops with fitted exponent, LSTM flops_bound); numeric: S(q) vs central "
        "differences, log form vs mpmath at q = long_q, exact zeros and an exactly held linear "
        "loop, second-order RTRL vs central differences, cost exponents of the generated kernels",
        _proofs("S9"),
        _s9,
    )
)
