"""Claims B1-B10: conventional BPTT error flow (paper §3.1), checked numerically.

Every check draws its cases from the seeded generator the runner passes in and compares the
generated kernels (through :mod:`errorflow.numeric.rnn`) with independent routes
(:mod:`errorflow.verify.routes`) and mpmath (:mod:`errorflow.verify.reference`).
"""

from __future__ import annotations

import math

import numpy as np

from errorflow.derivations import bptt as deriv
from errorflow.numeric import rnn
from errorflow.numeric.activations import ACTIVATIONS
from errorflow.numeric.logspace import scaled_matrix_chain, signed_logsumexp

from . import routes
from .reference import mp_log_scaling_factor
from .registry import Budget, Claim, NumericResult, Tracker, register
from .sampling import matrix_norm, random_nets, random_weights

__all__ = ["log_max_abs", "measured_rate"]

_ACTS = ("logistic", "tanh", "identity")


def _proofs(claim_id: str):
    def get() -> list:
        return [p for p in deriv.derivation().proofs if claim_id in p.claim.split(", ")]

    return get


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b))) / scale


def _slopes(act: str, nets: np.ndarray) -> np.ndarray:
    return np.broadcast_to(ACTIVATIONS[act].df(nets), nets.shape)


def _trajectory(rng: np.random.Generator, W: np.ndarray, T: int, act: str, scale: float = 1.0):
    xs = scale * rng.standard_normal((T, W.shape[0]))
    return xs, rnn.forward(W, xs, act)


def log_max_abs(W: np.ndarray, nets: np.ndarray, act: str) -> float:
    """``log max_{v,u} |S(q)[v, u]|`` from :func:`rnn.log_scaling_factor`."""
    _, log_abs = rnn.log_scaling_factor(W, nets, act)
    return float(np.max(log_abs))


def measured_rate(W: np.ndarray, nets: np.ndarray, act: str, points: int = 8) -> tuple[float, list]:
    """Least-squares slope of ``log max|S(q)|`` over ``q`` (per step), and the samples."""
    q_max = nets.shape[0]
    qs = sorted({max(1, (q_max * k) // points) for k in range(1, points + 1)})
    logs = [log_max_abs(W, nets[:q], act) for q in qs]
    if len(qs) < 2:
        return logs[0] / qs[0], list(zip(qs, logs, strict=True))
    slope = float(np.polyfit(np.array(qs, float), np.array(logs), 1)[0])
    return slope, list(zip(qs, logs, strict=True))


# --- B1/B2 -------------------------------------------------------------------------------
def _b1_b2(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """BPTT gradient and error signals vs central differences of the real forward pass."""
    track = Tracker(tolerance=1e-6)
    for _ in range(budget.cases):
        n, T, m = int(rng.integers(1, 5)), int(rng.integers(1, 8)), int(rng.integers(1, 4))
        act = _ACTS[int(rng.integers(len(_ACTS)))]
        W = rng.normal(0, 0.9, (n, n))
        U = rng.normal(0, 1.0, (n, m))
        xs = rng.normal(0, 1.0, (T, m))
        d = rng.uniform(-1, 1, (T, n))
        mask = rng.random((T, n)) < 0.6
        y0 = rng.normal(0, 0.5, n)

        def loss(W_, U_=U, xs_=xs, y0_=y0, act=act, mask=mask, d=d):
            return routes.forward_loss(W_, xs_, d, mask, act, U=U_, y0=y0_)

        E, grads = rnn.bptt_gradient(W, xs, d, act, U=U, y0=y0, mask=mask)
        track.require(abs(E - loss(W)) <= 1e-12 * max(1.0, E), "E differs from the forward loss")
        fd_W = routes.central_difference_gradient(loss, W)
        fd_U = routes.central_difference_gradient(lambda U_, W=W: loss(W, U_), U)
        fd_y0 = routes.central_difference_gradient(
            lambda y_, W=W, U=U, xs=xs: loss(W, U, xs, y_), y0
        )
        for got, ref in ((grads["W"], fd_W), (grads["U"], fd_U), (grads["y0"], fd_y0)):
            track.error(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))
        # vartheta_j(t) = -dE/dnet_j(t): move net_j(t) through an identity input map.
        xs_net = xs @ U.T
        traj, theta = rnn.error_signals(W, xs_net, d, act, y0=y0, mask=mask)
        fd_theta = -routes.central_difference_gradient(lambda x_, W=W: loss(W, None, x_), xs_net)
        track.error(np.max(np.abs(theta - fd_theta)) / max(1.0, float(np.max(np.abs(fd_theta)))))
        # B1: at the last step only the output error is left.
        last = ACTIVATIONS[act].df(traj.nets[-1]) * np.where(mask[-1], d[-1] - traj.ys[-1], 0.0)
        track.error(np.max(np.abs(theta[-1] - last)))
    return track.result()


# --- B3/B4 -------------------------------------------------------------------------------
def _b3(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Generated kernel vs eq. (1) loops vs explicit product vs path sum vs finite differences."""
    track = Tracker(tolerance=1e-6)
    worst_exact = 0.0
    for _ in range(budget.cases):
        n, q = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        act = _ACTS[int(rng.integers(len(_ACTS)))]
        W = rng.normal(0, 1.2 if act != "identity" else 0.6, (n, n))
        xs, traj = _trajectory(rng, W, q + 2, act)
        t = q + 2
        nets = traj.lag_window(t, q)
        S = rnn.scaling_factor(W, nets, act)
        slopes = _slopes(act, nets)
        for ref in (
            routes.eq1_loops(W, slopes),
            routes.explicit_product(W, slopes),
            routes.path_sum(W, slopes),
        ):
            err = _rel(S, ref)
            worst_exact = max(worst_exact, err)
            track.error(err)
        # Central differences carry ~1e-10 absolute noise: relative to max(|S|, 1e-3).
        fd = routes.fd_scaling_factor(W, xs, t, q, act)
        track.error(float(np.max(np.abs(S - fd))) / max(float(np.max(np.abs(S))), 1e-3))
        if q == 1:
            track.require(
                bool(np.allclose(S, slopes[0][:, None] * W.T, rtol=1e-15, atol=0)),
                "q = 1 is not f'_v w_uv",
            )
    track.details["worst error between exact routes"] = worst_exact
    track.require(worst_exact <= 1e-12, "exact routes disagree beyond 1e-12")
    return track.result()


def _b4(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Eq. (2) as printed differs from eq. (1) (and is eq. (1) for W^T); the corrected agrees."""
    track = Tracker(tolerance=1e-12)
    smallest_gap = math.inf
    for _ in range(budget.cases):
        n, q = int(rng.integers(2, 5)), int(rng.integers(1, 5))
        act = _ACTS[int(rng.integers(len(_ACTS)))]
        W = rng.normal(0, 1.0, (n, n))
        nets = random_nets(rng, q, n, 1.0)
        slopes = _slopes(act, nets)
        S = rnn.scaling_factor(W, nets, act)
        track.error(_rel(routes.path_sum(W, slopes), S))
        printed = routes.path_sum(W, slopes, printed=True)
        track.error(_rel(printed, rnn.scaling_factor(W.T, nets, act)))
        gap = _rel(printed, S)
        smallest_gap = min(smallest_gap, gap)
        track.require(gap > 1e-3, f"printed eq. (2) agreed with eq. (1) (gap {gap:.2e})")
    track.details["smallest relative gap printed vs eq. (1)"] = smallest_gap
    return track.result()


# --- B5/B6 rates ------------------------------------------------------------------------
def _constant_rate_case(rng: np.random.Generator, act: str, explode: bool, q: int):
    """Diagonal W and constant nets: the per-step factor f'(c_v) w_vv is exact."""
    n = int(rng.integers(1, 4))
    c = rng.uniform(-1.5, 1.5, n)
    slope = np.broadcast_to(ACTIVATIONS[act].df(c), c.shape)
    target = rng.uniform(1.05, 1.6, n) if explode else rng.uniform(0.3, 0.95, n)
    w = target / slope * rng.choice([-1.0, 1.0], n)
    W = np.diag(w)
    nets = np.tile(c, (q, 1))
    sign, log_abs = rnn.log_scaling_factor(W, nets, act)
    expected = q * np.log(np.abs(slope * w))
    return sign, log_abs, expected, np.sign(slope * w) ** q


def _b5(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Explosion: exact w^q and r^q (||S||_2, W = rQ), and measured growth rates."""
    track = Tracker(tolerance=1e-10)
    rates = []
    for i in range(budget.cases):
        q = int(rng.integers(budget.long_q // 4, budget.long_q + 1))
        # one self-connected linear unit: S(q) = w^q
        w = float(rng.choice([-1.0, 1.0]) * rng.uniform(1.01, 3.0))
        sign, log_abs = rnn.log_scaling_factor([[w]], np.zeros((q, 1)), "identity")
        track.error(abs(log_abs[0, 0] - q * math.log(abs(w))) / (q * math.log(abs(w))))
        track.require(sign[0, 0] == math.copysign(1.0, w) ** q, "sign of w^q")
        # linear units, W = r Q: ||S(q)||_2 = r^q
        n = int(rng.integers(2, 6))
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        r = float(rng.uniform(1.01, 1.5))
        qq = min(q, 600)
        sign, log_abs = rnn.log_scaling_factor(r * Q, np.zeros((qq, n)), "identity")
        top = float(np.max(log_abs))
        norm = top + math.log(np.linalg.norm(sign * np.exp(log_abs - top), 2))
        track.error(abs(norm - qq * math.log(r)) / (qq * math.log(r)))
        # exact per-step factors > 1 for every activation: rate = log|f'(c) w|
        act = _ACTS[i % len(_ACTS)]
        sign, log_abs, expected, sgn = _constant_rate_case(rng, act, True, q)
        diag = np.diag(log_abs)
        track.error(np.max(np.abs(diag - expected) / np.abs(expected)))
        track.require(bool(np.all(np.diag(sign) == sgn)), "sign of the exploding product")
        track.require(bool(np.all(diag > 0)), "no explosion")
        rates.append(float(np.max(expected / q)))
    track.details["growth rates per step (log)"] = [min(rates), max(rates)]
    return track.result()


def _b6(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Vanishing: exact decay rates, and measured rates of real trajectories below the bound."""
    track = Tracker(tolerance=1e-10)
    slack = []
    for i in range(budget.cases):
        act = _ACTS[i % len(_ACTS)]
        q = int(rng.integers(budget.long_q // 4, budget.long_q + 1))
        _, log_abs, expected, _ = _constant_rate_case(rng, act, False, q)
        track.error(np.max(np.abs(np.diag(log_abs) - expected) / np.abs(expected)))
        # A real trajectory with every factor < 1: ||W||_A < 1 / sup f'.
        n = int(rng.integers(2, 7))
        sup = ACTIVATIONS[act].sup_slope
        W = random_weights(rng, n, 1.0 / sup, "max_row_sum")
        _, traj = _trajectory(rng, W, q + 1, act)
        nets = traj.lag_window(q + 1, q)
        rho = float(np.max(_slopes(act, nets))) * matrix_norm(W, "max_row_sum")
        rate, samples = measured_rate(W, nets, act)
        track.require(rate < 0, f"{act}: no decay (rate {rate:.3g})")
        # B9's bound: log|S(q)| <= log n + q log rho at every sampled q, so rate <= log rho.
        for qq, lg in samples:
            excess = lg - (math.log(n) + qq * math.log(rho))
            track.error(max(0.0, math.expm1(excess)) if excess < 700 else math.inf)
        slack.append(math.log(rho) - rate)
    track.details["rate below log(f'max ||W||_A), min / max"] = [min(slack), max(slack)]
    return track.result()


# --- B7 ---------------------------------------------------------------------------------
def _b7(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """No sampled logistic factor exceeds peak/|y|; the peak is approached; threshold holds."""
    opt = deriv.b7_optimum()
    peak, net_star, w_min = float(opt.peak), float(opt.net_star), float(opt.w_threshold)
    track = Tracker(tolerance=0.0)
    closest = 0.0
    d_log = ACTIVATIONS["logistic"].df
    for _ in range(budget.cases):
        y = float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-2, 0.5))
        w = rng.uniform(-60, 60, 200_000)
        factor = d_log(w * y) * np.abs(w)
        ratio = float(np.max(factor)) * abs(y) / peak
        track.error(max(0.0, ratio - 1.0))
        closest = max(closest, ratio)
        w_opt = net_star / y
        at_opt = float(d_log(np.array(w_opt * y))) * abs(w_opt) * abs(y) / peak
        track.require(abs(at_opt - 1.0) < 1e-14, "factor at the coth optimum is not the peak")
        above = factor > 1.0
        if np.any(above):
            track.require(abs(y) < peak, f"factor > 1 with |y| = {abs(y):.4f} >= peak")
            # any factor > 1 needs |w| > 4 (B6); the optimal |w| then exceeds the threshold
            track.require(bool(np.min(np.abs(w[above])) > 4.0), "factor > 1 with |w| <= 4")
            track.require(abs(w_opt) > w_min, "optimum above 1 with |w*| below the threshold")
        else:
            track.require(abs(y) >= peak * (1 - 1e-3) or abs(w_opt) > 60, "missed factors > 1")
    track.details["largest sampled factor / (peak/|y|)"] = closest
    track.details["net*"] = net_star
    track.details["peak"] = peak
    track.details["|w*| threshold when the peak exceeds 1"] = w_min
    return track.result()


# --- B8/B9 ------------------------------------------------------------------------------
def _b9(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """The weak bound holds for every sampled W and trajectory; how loose it is."""
    track = Tracker(tolerance=0.0)
    loose_full, loose_tau = [], []
    for i in range(budget.cases):
        act = "logistic" if i % 3 else _ACTS[(i // 3) % len(_ACTS)]
        n = int(rng.integers(2, 9))
        q = int(rng.integers(2, 80))
        if act == "logistic":
            w_max = float(rng.uniform(0.2, 0.999)) * 4.0 / n
            W = rng.uniform(-w_max, w_max, (n, n))
        else:
            W = rng.normal(0, 1.0, (n, n))
        _, traj = _trajectory(rng, W, q + 1, act, scale=2.0)
        nets = traj.lag_window(q + 1, q)
        _, log_abs = rnn.log_scaling_factor(W, nets, act)
        terms = routes.b9_log_bounds(W, _slopes(act, nets))
        excess = np.max(log_abs - terms["full"])
        excess = max(excess, float(np.max(log_abs)) - terms["weak"])
        if act == "logistic":
            tau = n * w_max / 4.0
            tau_bound = math.log(n) + q * math.log(tau)
            excess = max(excess, float(np.max(log_abs)) - tau_bound)
            loose_tau.append((tau_bound - float(np.max(log_abs))) / math.log(10))
        track.error(max(0.0, math.expm1(excess)))
        loose_full.append(float(np.min(terms["full"] - log_abs)) / math.log(10))
    track.details["looseness log10(bound/|S|), tightest entry: min / median / max"] = [
        min(loose_full),
        float(np.median(loose_full)),
        max(loose_full),
    ]
    track.details["looseness log10(n tau^q / max|S|): min / median / max"] = [
        min(loose_tau),
        float(np.median(loose_tau)),
        max(loose_tau),
    ]
    return track.result()


def _b8(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Global flow sum_{u output} S[v, u] obeys K n (f'max ||W||_A)^q and decays."""
    track = Tracker(tolerance=0.0)
    rates = []
    for i in range(budget.cases):
        act = _ACTS[i % len(_ACTS)]
        n = int(rng.integers(2, 7))
        K = int(rng.integers(1, n + 1))
        outputs = rng.choice(n, K, replace=False)
        W = random_weights(rng, n, 1.0 / ACTIVATIONS[act].sup_slope, "max_row_sum")
        q = int(rng.integers(budget.long_q // 8, budget.long_q // 2 + 1))
        _, traj = _trajectory(rng, W, q + 1, act)
        nets = traj.lag_window(q + 1, q)
        logs = []
        for qq in (q // 2, q):
            sign, log_abs = rnn.log_scaling_factor(W, nets[:qq], act)
            _, log_sum = signed_logsumexp(log_abs[:, outputs], sign[:, outputs], axis=1)
            bound = math.log(K) + routes.b9_log_bounds(W, _slopes(act, nets[:qq]))["weak"]
            excess = float(np.max(log_sum)) - bound
            track.error(max(0.0, math.expm1(excess)))
            logs.append(float(np.max(log_sum)))
        rate = (logs[1] - logs[0]) / (q - q // 2)
        rates.append(rate)
        track.require(rate < 0, f"global flow does not decay ({act}, rate {rate:.3g})")
    track.details["global decay rates per step (log): min / max"] = [min(rates), max(rates)]
    return track.result()


# --- B10 --------------------------------------------------------------------------------
def _b10(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """log_scaling_factor vs mpmath for q in the thousands, on both internal routes."""
    track = Tracker(tolerance=1e-9)
    cases = max(4, budget.cases // 4)
    worst_by_route = {"column-scaled": 0.0, "entry-wise exponents": 0.0}
    for i in range(cases):
        n = int(rng.integers(2, 4))
        q = int(rng.integers(1000, max(1001, budget.long_q)))
        act = _ACTS[i % len(_ACTS)]
        W = rng.normal(0, 1.0, (n, n))
        nets = random_nets(rng, q, n, 3.0)
        if i % 4 == 1:
            W[0, 1] = W[1, 0] = 0.0  # structural zeros
        if i % 4 in (2, 3):
            # One unit's slope below float64 (logistic e^-900, tanh 4 e^-1000) at some steps:
            # a column then spans more than float64's range (the entry-wise route).
            act = ("logistic", "tanh")[i % 2]
            nets[::97, 0] = 900.0 if act == "logistic" else 500.0
        sign, log_abs = rnn.log_scaling_factor(W, nets, act)
        act_k = ACTIVATIONS[act]
        _, exact = scaled_matrix_chain(
            W, np.broadcast_to(act_k.df(nets), nets.shape), act_k.log_df(nets)
        )
        route = "column-scaled" if exact is not None else "entry-wise exponents"
        ref_sign, ref_log = mp_log_scaling_factor(W, nets, act)
        track.require(bool(np.array_equal(sign, ref_sign)), "sign differs from mpmath")
        finite = np.isfinite(ref_log)
        track.require(bool(np.array_equal(finite, np.isfinite(log_abs))), "zero pattern differs")
        # |log a - log b| is the relative error of |S|.
        err = float(np.max(np.abs(log_abs[finite] - ref_log[finite]))) if finite.any() else 0.0
        track.error(err)
        worst_by_route[route] = max(worst_by_route[route], err)
    track.details["worst relative error of |S| by route"] = worst_by_route
    return track.result()


_B = "B (§3.1)"
for _claim in (
    Claim(
        "B1",
        _B,
        "output error vartheta_k(t) = f'_k(net_k(t)) (d_k(t) - y^k(t)) = -dE/dnet_k(t) for "
        "E = 1/2 sum (d - y)^2",
        "SymPy: differentiating the unrolled network (any f); numeric: generated kernels vs "
        "central differences of the real forward pass",
        _proofs("B1"),
        _b1_b2,
    ),
    Claim(
        "B2",
        _B,
        "back-propagated error vartheta_j(t) = f'_j(net_j(t)) sum_i w_ij vartheta_i(t+1) = "
        "-dE/dnet_j(t); w_jl receives alpha vartheta_j(t) y^l(t-1)",
        "SymPy: unrolled network, n = 2, T <= 3; numeric: bptt_gradient (W, U, y0) and "
        "error_signals vs central differences of the real forward pass",
        _proofs("B2"),
        _b1_b2,
    ),
    Claim(
        "B3",
        _B,
        "eq. (1): d vartheta_v(t-q)/d vartheta_u(t) by recursion = matrix product "
        "F'(t-q) W^T ... F'(t-1) W^T = sum over n^(q-1) paths",
        "SymPy: the three forms equal for n, q <= 3; numeric: generated kernel vs eq. (1) "
        "loops vs explicit product vs path sum vs finite differences of the real network",
        _proofs("B3"),
        _b3,
    ),
    Claim(
        "B4",
        _B,
        "erratum: eq. (2) as printed (w_{l_m l_{m-1}}) differs from eq. (1); the corrected "
        "path product uses w_{l_{m-1} l_m}",
        "SymPy: concrete counterexample, printed = eq. (1) for W^T, corrected = eq. (1); "
        "numeric: printed form differs on random W, corrected agrees",
        _proofs("B4"),
        _b4,
    ),
    Claim(
        "B5",
        _B,
        "explosion: factors |f' w| > 1 along a path grow exponentially; one linear unit gives "
        "w^q, linear units with W = rQ give ||S(q)||_2 = r^q",
        "SymPy: rsolve for w^q, S^T S = r^(2q) I for rotations; numeric: log_scaling_factor "
        "vs q log|w| and q log r, exact growth rates for logistic/tanh/linear units",
        _proofs("B5"),
        _b5,
    ),
    Claim(
        "B6",
        _B,
        "vanishing: factors < 1 along every path shrink exponentially; logistic |f' w| <= |w|/4 "
        "< 1 for |w| < 4",
        "SymPy: max f' = 1/4, limits; numeric: exact decay rates, and measured log|S(q)| slopes "
        "of real trajectories below log(f'max ||W||_A) for logistic/tanh/linear units",
        _proofs("B6"),
        _b6,
    ),
    Claim(
        "B7",
        _B,
        "the logistic factor |f'(wy + c) w| is stationary at w y tanh(net/2) = 1 (w = "
        "coth(net/2)/y); at c = 0 net* = 1.5434046..., maximum 0.2238716.../|y|",
        "SymPy: derivative identity, nsolve to 30 digits, limit; numeric: no sampled factor "
        "exceeds peak/|y|, the optimum attains it, factors > 1 only for |y| < peak",
        _proofs("B7"),
        _b7,
    ),
    Claim(
        "B8",
        _B,
        "global error flow: sum over output units of d vartheta_v(t-q)/d vartheta_u(t) "
        "vanishes under the conditions of B6",
        "SymPy: limit of K n rho^q; numeric: signed log-sum over outputs below K n "
        "(f'max ||W||_A)^q and decaying",
        _proofs("B8"),
        _b8,
    ),
    Claim(
        "B9",
        _B,
        "|d vartheta_v(t-q)/d vartheta_u(t)| <= n f'max^q ||W_v||_x ||W_u^T||_x ||W||_A^(q-2) "
        "<= n (f'max ||W||_A)^q; max-row-sum, logistic, |w_ij| <= w_max < 4/n: <= n tau^q",
        "SymPy: the tau specialisation; numeric: all three bounds on every entry of sampled "
        "W and real trajectories, with the looseness reported",
        _proofs("B9"),
        _b9,
    ),
    Claim(
        "B10",
        _B,
        "for q in the thousands the scaling factor is returned as sign and log-magnitude "
        "without underflow or overflow and agrees with mpmath",
        "SymPy: log-sum-exp shift and power-of-two identities; numeric: log_scaling_factor vs "
        "mpmath (precision from the lag and size) for q = 1000..long_q, both routes",
        _proofs("B10"),
        _b10,
    ),
):
    register(_claim)
