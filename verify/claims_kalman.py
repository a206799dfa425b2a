"""Claim S8: Kalman-filter training with a derivative discount (Puskorius & Feldkamp 1994).

The numeric check compares :mod:`errorflow.numeric.kalman` with independent routes:

* forward vs backward: the generated discounted RTRL step, started from an impulse ``q`` steps
  back, against ``F'(t) S_lam(q)^T`` from the backward chain and a plain NumPy product;
* exactness at ``lam = 1`` (central differences of the real forward pass) and the unrolled
  closed form ``sum_q lam^q F'(t) S(q)^T c(t-q)`` at ``lam < 1``;
* rates: the measured slope of ``log max|S_lam(q)|`` against ``log lam`` plus the measured
  undiscounted slope, over sampled weights (vanishing, exploding, and through a CEC where it is
  exactly ``log lam``); mpmath for lags in the thousands;
* the EKF step: ``Delta w = sum_q lam^q P H_q A^-1 (d - y)`` lag by lag, its bound, and
  ``P(t) <= P(t-1) + Q`` along a filtered sequence.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import kalman as deriv
from errorflow.numeric import kalman, rnn
from errorflow.numeric._generated.kalman import sensitivity_step
from errorflow.numeric.activations import ACTIVATIONS

from . import routes
from .claims_bptt import measured_rate
from .reference import mp_log_scaling_factor
from .registry import Budget, Claim, NumericResult, Tracker, register
from .sampling import random_nets, random_weights

__all__ = ["impulse_response", "lag_components"]

_ACTS = ("logistic", "tanh", "identity")
_S = "S (successors and earlier approaches)"


def _proofs() -> list:
    return [p for p in deriv.derivation().proofs if "S8" in p.claim.split(", ")]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-300)


def _slopes(act: str, nets: np.ndarray) -> np.ndarray:
    return np.broadcast_to(ACTIVATIONS[act].df(nets), nets.shape)


def impulse_response(W: np.ndarray, slopes_fwd: np.ndarray, lam: float) -> np.ndarray:
    """``p(t)`` from a unit impulse ``C = I`` at ``t - q`` by the generated forward step.

    ``slopes_fwd[s]`` holds ``f'(net(t-q+s))``, s = 0..q, so the result is
    ``lam^q F'(t) W F'(t-1) ... W F'(t-q) = F'(t) S_lam(q)^T``.
    """
    n = W.shape[0]
    P = sensitivity_step(slopes_fwd[0], lam, W, np.zeros((n, n)), np.eye(n))
    for s in range(1, slopes_fwd.shape[0]):
        P = sensitivity_step(slopes_fwd[s], lam, W, P, np.zeros((n, n)))
    return P


def lag_components(traj: rnn.Trajectory, W: np.ndarray, act: str, unit: int) -> np.ndarray:
    """``H_q`` (T, n*n): the undiscounted lag-q part of ``d y^unit(T) / dw`` (plain NumPy).

    ``H_q = [F'(T) S(q)^T C(T-q)]_unit`` with ``S(q)`` the explicit product of B3 and
    ``C(s)[k, (a,b)] = delta_ka y^b(s-1)``; the discounted derivative is ``sum_q lam^q H_q``.
    """
    T, n = traj.nets.shape
    slopes = _slopes(act, traj.nets)
    ys = np.vstack([traj.y0[None, :], traj.ys])
    out = np.empty((T, n * n))
    M = np.diag(slopes[T - 1])  # F'(T) W F'(T-1) ... W F'(T-q)
    for q in range(T):
        C = np.kron(np.eye(n), ys[T - 1 - q][None, :])
        out[q] = (M @ C)[unit]
        if q + 1 < T:
            M = M @ W @ np.diag(slopes[T - 2 - q])
    return out


def _forward_backward(budget: Budget, rng: np.random.Generator, track: Tracker) -> None:
    worst = 0.0
    for _ in range(budget.cases):
        n, q = int(rng.integers(1, 5)), int(rng.integers(1, 8))
        act = _ACTS[int(rng.integers(len(_ACTS)))]
        lam = float(rng.uniform(0.3, 1.0))
        W = rng.normal(0, 1.0, (n, n))
        traj = rnn.forward(W, rng.standard_normal((q + 2, n)), act)
        t = q + 2
        window = traj.lag_window(t, q)  # net(t-1) .. net(t-q)
        fwd = _slopes(act, traj.nets[t - q - 1 : t])  # net(t-q) .. net(t)
        got = impulse_response(W, fwd, lam)
        back = fwd[-1][:, None] * kalman.scaling_factor(W, window, lam, act).T
        plain = lam**q * fwd[-1][:, None] * routes.explicit_product(W, _slopes(act, window)).T
        for ref in (back, plain):
            err = _rel(got, ref)
            worst = max(worst, err)
            track.error(err)
    track.details["forward step vs backward chain vs plain product, worst relative"] = worst


def _exactness(budget: Budget, rng: np.random.Generator, track: Tracker) -> None:
    worst_fd, worst_closed = 0.0, 0.0
    for i in range(max(4, budget.cases // 3)):
        n, T = int(rng.integers(1, 4)), int(rng.integers(2, 7))
        act = _ACTS[i % len(_ACTS)]
        W = rng.normal(0, 0.9, (n, n))
        xs = rng.standard_normal((T, n))
        exact = kalman.sensitivities(W, xs, 1.0, act)

        def last(W_, xs=xs, act=act):
            return rnn.forward(W_, xs, act).ys[-1]

        for k in range(n):
            fd = routes.central_difference_gradient(lambda W_, k=k: float(last(W_)[k]), W)
            err = float(np.max(np.abs(exact.P[-1, k] - fd.ravel()))) / max(
                1.0, float(np.max(np.abs(fd)))
            )
            worst_fd = max(worst_fd, err)
            track.error(err)
        lam = float(rng.uniform(0.2, 0.99))
        disc = kalman.sensitivities(W, xs, lam, act)
        for k in range(n):
            comps = lag_components(disc.trajectory, W, act, k)
            closed = (lam ** np.arange(T))[:, None] * comps
            err = _rel(disc.P[-1, k], closed.sum(axis=0))
            worst_closed = max(worst_closed, err)
            track.error(err)
    track.details["lam = 1 vs central differences, worst"] = worst_fd
    track.details["lam < 1 vs unrolled closed form, worst relative"] = worst_closed


def _rates(budget: Budget, rng: np.random.Generator, track: Tracker) -> None:
    rows = []
    worst = 0.0
    for i in range(budget.cases):
        act = _ACTS[i % len(_ACTS)]
        lam = float(rng.uniform(0.5, 0.999))
        q = int(rng.integers(budget.long_q // 8, budget.long_q // 4 + 1))
        n = int(rng.integers(1, 4))
        kind = ("vanishing", "exploding", "cec")[(i // 3) % 3]
        if kind == "cec":
            # f' w = 1 on every step: one unit with constant net c and w = 1 / f'(c).
            c = float(rng.uniform(-1.5, 1.5))
            W = np.array([[1.0 / float(ACTIVATIONS[act].df(np.array(c)))]])
            nets = np.full((q, 1), c)
        elif kind == "exploding":
            # Linear units, W = r Q (Q orthogonal, r > 1): the net's own rate is log r.
            act = "identity"
            Qm, _ = np.linalg.qr(rng.standard_normal((n, n)))
            W = float(rng.uniform(1.01, 1.3)) * Qm
            nets = np.zeros((q, n))
        else:
            sup = ACTIVATIONS[act].sup_slope
            W = random_weights(rng, n, 1.0 / sup, "max_row_sum")
            traj = rnn.forward(W, rng.standard_normal((q + 1, n)), act)
            nets = traj.lag_window(q + 1, q)
        disc_rate, _ = measured_rate_discounted(W, nets, act, lam)
        own_rate, _ = measured_rate(W, nets, act)
        err = abs(disc_rate - (math.log(lam) + own_rate)) / abs(math.log(lam))
        worst = max(worst, err)
        track.error(err)
        if kind == "cec":
            _, log_abs = kalman.log_scaling_factor(W, nets, lam, act)
            exact = q * math.log(lam)
            track.error(abs(float(log_abs[0, 0]) - exact) / abs(exact))
            track.require(abs(own_rate) < 1e-12, f"CEC's own rate is not 0 ({own_rate:.3g})")
        if kind == "exploding":
            track.require(own_rate > 0, "exploding case does not explode")
        rows.append((kind, act, lam, own_rate, disc_rate))
    track.details["rate = log lam + own rate: worst relative deviation"] = worst
    track.details["sampled (kind, activation, lam, own rate, discounted rate) (first 6)"] = [
        [k, a, round(lam, 4), round(o, 5), round(d, 5)] for k, a, lam, o, d in rows[:6]
    ]


def measured_rate_discounted(
    W: np.ndarray, nets: np.ndarray, act: str, lam: float, points: int = 8
) -> tuple[float, list]:
    """Least-squares slope of ``log max|S_lam(q)|`` over ``q`` (per step)."""
    q_max = nets.shape[0]
    qs = sorted({max(1, (q_max * k) // points) for k in range(1, points + 1)})
    logs = [float(np.max(kalman.log_scaling_factor(W, nets[:q], lam, act)[1])) for q in qs]
    slope = float(np.polyfit(np.array(qs, float), np.array(logs), 1)[0])
    return slope, list(zip(qs, logs, strict=True))


def _long_lags(budget: Budget, rng: np.random.Generator, track: Tracker) -> None:
    worst = 0.0
    for i in range(3):
        n = int(rng.integers(1, 3))
        q = int(rng.integers(1000, max(1001, budget.long_q)))
        act = _ACTS[i % len(_ACTS)]
        lam = float(rng.uniform(0.9, 0.9999))
        W = rng.normal(0, 1.0, (n, n))
        nets = random_nets(rng, q, n, 3.0)
        sign, log_abs = kalman.log_scaling_factor(W, nets, lam, act)
        ref_sign, ref_log = mp_log_scaling_factor(W, nets, act)
        with mpmath.workdps(40):
            shift = float(q * mpmath.log(mpmath.mpf(lam)))
        track.require(bool(np.array_equal(sign, ref_sign)), "sign differs from mpmath")
        finite = np.isfinite(ref_log)
        err = float(np.max(np.abs(log_abs[finite] - (ref_log[finite] + shift))))
        worst = max(worst, err)
        track.error(err)
    track.details["log|S_lam| vs mpmath, q = 1000..long_q: worst absolute"] = worst


def _ekf(budget: Budget, rng: np.random.Generator, track: Tracker) -> None:
    worst_lag, worst_bound_ratio, worst_psd = 0.0, 0.0, 0.0
    for i in range(max(4, budget.cases // 3)):
        n, T = int(rng.integers(1, 4)), int(rng.integers(4, 12))
        act = _ACTS[i % len(_ACTS)]
        lam = float(rng.uniform(0.5, 0.99))
        W = rng.normal(0, 0.8, (n, n))
        xs = rng.standard_normal((T, n))
        N = n * n
        P0 = float(rng.uniform(0.5, 5.0)) * np.eye(N)
        Q = float(rng.uniform(0.0, 0.1)) * np.eye(N)
        r = float(rng.uniform(0.1, 2.0))
        w = W.ravel().copy()
        P = P0
        sens = kalman.sensitivities(W, xs, lam, act)
        for s in range(1, T + 1):
            # the filter sees unit 0's discounted derivatives on the first s steps
            sub = kalman.sensitivities(W, xs[:s], lam, act)
            H = sub.P[-1, 0][:, None]
            d = np.array([float(rng.uniform(0, 1))])
            y = sub.trajectory.ys[-1, :1]
            w_new, P_new, _ = kalman.ekf_step(w, P, H, d, y, np.array([[r]]), Q)
            # lag by lag: Delta w = sum_q lam^q P H_q A^-1 e, A common to every lag
            comps = lag_components(sub.trajectory, W, act, 0)
            A = float(H[:, 0] @ P @ H[:, 0]) + r
            parts = (lam ** np.arange(s))[:, None] * (comps @ P.T) * (float((d - y)[0]) / A)
            err = _rel(w_new - w, parts.sum(axis=0))
            worst_lag = max(worst_lag, err)
            track.error(err)
            # bound: ||lag-q part|| <= lam^q (||P0|| + s ||Q||) ||R^-1|| ||H_q|| |e|
            norms = np.linalg.norm(parts, axis=1)
            cap = (
                lam ** np.arange(s)
                * (np.linalg.norm(P0, 2) + s * np.linalg.norm(Q, 2))
                / r
                * np.linalg.norm(comps, axis=1)
                * abs(float((d - y)[0]))
            )
            ok = cap > 0
            if ok.any():
                worst_bound_ratio = max(worst_bound_ratio, float(np.max(norms[ok] / cap[ok])))
            track.require(bool(np.all(norms <= cap * (1 + 1e-12) + 1e-300)), "lag bound broken")
            # P(t) <= P(t-1) + Q
            low = float(np.min(np.linalg.eigvalsh(P + Q - P_new)))
            worst_psd = min(worst_psd, low / np.linalg.norm(P, 2))
            track.require(low >= -1e-12 * np.linalg.norm(P, 2), "P grew by more than Q")
            w, P = w_new, P_new
        track.require(bool(np.allclose(sens.P[-1], sub.P[-1])), "prefix sensitivities differ")
    track.details["EKF update vs lag-by-lag sum, worst relative"] = worst_lag
    track.details["largest lag part / its bound"] = worst_bound_ratio
    track.details["smallest eigenvalue of P(t-1) + Q - P(t), relative"] = worst_psd


def _s8(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-8)
    _forward_backward(budget, rng, track)
    _exactness(budget, rng, track)
    _rates(budget, rng, track)
    _long_lags(budget, rng, track)
    _ekf(budget, rng, track)
    return track.result()


register(
    Claim(
        "S8",
        _S,
        "Kalman-filter training with a derivative discount (Puskorius & Feldkamp 1994): the "
        "discounted derivative p(t) = F'(t)(lam W p(t-1) + c(t)) carries an input q steps back "
        "with lam^q S(q) (B3 factor times lam^q), so it decays at rate log lam + the net's own "
        "rate whatever the weights (lam^q through a CEC); the EKF update P H A^-1 (d - y) is "
        "linear in H with P, A common to all lags and P(t) <= P(t-1) + Q, so it cannot restore "
        "the lost lam^q",
        "SymPy: recursion = unrolled closed form (n <= 2, lags <= 3), lam = 1 exact (unrolled "
        "net), chain with lam f' = lam^q S(q), CEC rsolve, EKF identities; numeric: forward "
        "step vs backward chain vs plain product, central differences, measured rates over "
        "vanishing/exploding/CEC weights, mpmath at q in the thousands, EKF lag decomposition",
        _proofs,
        _s8,
    )
)
