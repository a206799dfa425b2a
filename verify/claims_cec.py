"""Claims C1-C2: the constant error carousel (paper §3.2), checked numerically.

C1 measures, in float64, the error a self-connected unit passes back over q steps,
``prod_m f'_j(net_j(t-m)) w_jj``: for the linear unit ``f_j(x) = x / w_jj + C`` of the
derivation's dsolve result every factor is 1 and the product stays at the injected error up to
rounding (at most ``2 q eps``), while a logistic unit with the same ``w_jj`` decays; with
``C != 0`` the activation drifts by exactly ``q C``. Slopes are measured from the units'
forward maps by complex-step differentiation, not taken from a formula.

C2 evaluates the per-step contributions ``dE(t)/dw`` of the derivation's two conflict
sequences by central differences of a plain-Python unrolled network, on random perturbations
of the sequences that keep the conflict, and compares them with the symbolic contributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy as sp

from errorflow.derivations import cec as deriv
from errorflow.numeric.activations import ACTIVATIONS

from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = [
    "cec_step_errors",
    "complex_step_slope",
    "linear_unit",
    "sample_sequence",
    "step_contributions_fd",
]

_EPS = float(np.finfo(np.float64).eps)
#: Complex-step size: a power of two, so ``Im f(x + ih) / h`` adds no rounding of its own.
_H = 2.0**-30


def _proofs(claim_id: str):
    def get() -> list:
        return [p for p in deriv.derivation().proofs if claim_id in p.claim.split(", ")]

    return get


# --- C1 ---------------------------------------------------------------------------------
def linear_unit(w_jj: float, C: float) -> Callable[[np.ndarray], np.ndarray]:
    """``f_j(x) = x / w_jj + C``: C1's dsolve solution as a NumPy function (works on complex x)."""
    return lambda x: x / w_jj + C


def complex_step_slope(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``f'(x) = Im f(x + ih) / h``: no cancellation, exact for a linear f up to one rounding."""
    return np.imag(f(np.asarray(x, dtype=np.float64) + 1j * _H)) / _H


def _logistic_trajectory(w_jj: float, net0: float, q: int) -> np.ndarray:
    """``net_j(t+1) = w_jj f(net_j(t))`` for the self-connected logistic unit, q net inputs."""
    f = ACTIVATIONS["logistic"].f
    nets = np.empty(q)
    nets[0] = net0
    for m in range(1, q):
        nets[m] = w_jj * float(f(np.array(nets[m - 1])))
    return nets


def _check_solution_matches_derivation(track: Tracker) -> None:
    """The NumPy :func:`linear_unit` is the derivation's ``x / w_jj + C`` at sample points."""
    sol = deriv.constant_flow_solution()
    for w, c, xv in ((0.3, -1.5, 2.0), (7.0, 0.25, -3.0)):
        exact = float(sol.xreplace({deriv.w_jj: sp.Float(w), deriv.C: sp.Float(c), deriv.x: xv}))
        got = float(linear_unit(w, c)(np.array(xv)))
        track.require(abs(got - exact) <= 4 * _EPS * max(1.0, abs(exact)), "f_j != dsolve result")


def _c1(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Linear unit: q-step error flow = 1 (<= 2 q eps); logistic decays; drift = q C."""
    track = Tracker(tolerance=1e-10)
    _check_solution_matches_derivation(track)
    Q = budget.long_q
    qs = np.arange(1, Q + 1, dtype=np.float64)
    worst_factor_ulps = 0.0
    worst_flow_in_q_eps = 0.0
    worst_drift = 0.0
    rates = []
    for i in range(budget.cases):
        w = 1.0 if i % 4 == 0 else float(rng.uniform(0.1, 10.0))
        while i % 4 == 1 and (1.0 / w) * w == 1.0:
            # a w_jj whose float64 slope 1/w_jj rounds so that f' w_jj = 1 - eps/2: the
            # product then really accumulates rounding, and the 2 q eps bound is exercised
            w = float(rng.uniform(0.1, 10.0))
        C = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.01, 1.0))
        nets = rng.normal(0.0, 3.0, Q)
        # Error flow through the linear unit: theta(t-q) = prod_m f'(net(t-m)) w theta(t).
        factors = complex_step_slope(linear_unit(w, C), nets) * w
        worst_factor_ulps = max(worst_factor_ulps, float(np.max(np.abs(factors - 1.0))) / _EPS)
        injected = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 10.0))
        theta = injected * np.cumprod(factors)
        dev = np.abs(theta - injected) / abs(injected)
        track.error(float(np.max(dev)))
        worst_flow_in_q_eps = max(worst_flow_in_q_eps, float(np.max(dev / (qs * _EPS))))
        track.require(bool(np.all(dev <= 2 * qs * _EPS)), f"flow off by more than 2 q eps (w={w})")
        # A logistic unit with the same w_jj, on its own trajectory from a random net input.
        traj = _logistic_trajectory(w, float(rng.uniform(-4.0, 4.0)), Q)
        log_f = ACTIVATIONS["logistic"].log_df(traj) + math.log(w)
        log_prod = np.cumsum(log_f)
        log_rho = np.maximum.accumulate(log_f)  # log max_m f'(net_m) |w| over the first q steps
        bound = qs * log_rho
        # |flow(q)| <= rho^q, compared in log space up to the rounding of the cumulative sum
        excess = float(np.max((log_prod - bound) / np.maximum(1.0, np.abs(bound))))
        track.require(excess <= 1e-12, f"logistic flow above (max f' w_jj)^q (w = {w:.3g})")
        track.require(bool(log_prod[-1] < 0.0), f"logistic flow does not decay (w = {w:.3g})")
        rates.append(float(log_prod[-1]) / Q)
        # Drift: y(t+q) = f_j(w y(t+q-1)) = y(t) + q C.
        f = linear_unit(w, C)
        y0 = float(rng.uniform(-1.0, 1.0))
        ys = np.empty(Q)
        y = y0
        for m in range(Q):
            y = float(f(w * y))
            ys[m] = y
        drift = np.abs((ys - y0) - qs * C) / (qs * abs(C))
        worst_drift = max(worst_drift, float(np.max(drift)))
        track.error(float(np.max(drift)))
        if i % 4 == 0:  # the CEC itself: C = 0, w_jj = 1 keeps y exactly
            cec = linear_unit(1.0, 0.0)
            track.require(float(cec(1.0 * y0)) == y0, "CEC changed its activation")
    track.details["worst |f'(net) w_jj - 1| of the linear unit, in eps"] = worst_factor_ulps
    track.details["worst |theta(t-q)/theta(t) - 1| / (q eps), q <= long_q"] = worst_flow_in_q_eps
    track.details["worst relative error of the drift q C"] = worst_drift
    track.details["logistic, same w_jj: log|flow|/q per step, min / max"] = [min(rates), max(rates)]
    return track.result()


# --- C2 ---------------------------------------------------------------------------------
def cec_step_errors(
    inputs: list[float], targets: list[float], w_ji: float, w_kj: float
) -> list[float]:
    """``E(t) = 1/2 (d_k(t) - y^k(t))^2`` of the unrolled linear CEC, plain Python floats.

    ``y^j(t) = 1.0 * y^j(t-1) + w_ji y^i(t)``, ``y^j(0) = 0``, ``y^k(t) = w_kj y^j(t)``.
    """
    y_j = 0.0
    out = []
    for y_i, d_k in zip(inputs, targets, strict=True):
        y_j = 1.0 * y_j + w_ji * y_i
        y_k = w_kj * y_j
        out.append(0.5 * (d_k - y_k) ** 2)
    return out


def sample_sequence(
    seq: deriv.ConflictSequence, rng: np.random.Generator, perturb: bool = True
) -> dict[sp.Basic, float]:
    """The base sequence, or a draw of its family (multiply by or add U(lo, hi) per value)."""
    values = {}
    for param, kind, lo, hi in seq.family:
        base = float(seq.base[param])
        if not perturb:
            values[param] = base
        elif kind == "mul":
            values[param] = base * float(rng.uniform(lo, hi))
        else:
            values[param] = base + float(rng.uniform(lo, hi))
    return values


def step_contributions_fd(
    seq: deriv.ConflictSequence, values: dict[sp.Basic, float], h: float = 1e-6
) -> list[float]:
    """``dE(t)/dw`` for every step t, by central differences of :func:`cec_step_errors`."""
    inputs = [values[p] for p in seq.inputs]
    targets = [values[p] for p in seq.targets]

    def errors(wv: float) -> list[float]:
        w_ji = wv if seq.weight == seq.w_ji else values[seq.w_ji]
        w_kj = wv if seq.weight == seq.w_kj else values[seq.w_kj]
        return cec_step_errors(inputs, targets, w_ji, w_kj)

    w0 = values[seq.weight]
    plus, minus = errors(w0 + h), errors(w0 - h)
    return [(a - b) / (2 * h) for a, b in zip(plus, minus, strict=True)]


def _c2(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Per-step contributions by finite differences vs SymPy; opposite signs on every draw."""
    track = Tracker(tolerance=1e-7)
    margins: dict[str, float] = {}
    at_base: dict[str, list[float]] = {}
    for key, seq in deriv.conflict_sequences().items():
        smallest = math.inf
        for case in range(budget.cases):
            values = sample_sequence(seq, rng, perturb=case > 0)
            fd = step_contributions_fd(seq, values)
            subs = {p: sp.Float(v, 17) for p, v in values.items()}
            exact = [float(c.xreplace(subs)) for c in seq.contributions]
            for got, ref in zip(fd, exact, strict=True):
                track.error(abs(got - ref) / max(abs(ref), 1e-12))
            track.require(fd[0] < 0.0 < fd[1], f"{key}: contributions {fd} lack the conflict")
            track.require(exact[0] < 0.0 < exact[1], f"{key}: symbolic {exact} lack the conflict")
            smallest = min(smallest, abs(fd[0]), abs(fd[1]))
            if case == 0:
                at_base[key] = [round(v, 12) for v in fd]
        margins[key] = smallest
    track.details["contributions dE(1)/dw, dE(2)/dw at the base sequences (FD)"] = at_base
    track.details["smallest |contribution| over the perturbed sequences"] = margins
    return track.result()


_C = "C (§3.2)"
register(
    Claim(
        "C1",
        _C,
        "a self-connected unit back-propagates vartheta_j(t) = f'_j(net_j(t)) vartheta_j(t+1) "
        "w_jj; constant flow needs f'_j w_jj = 1, so f_j(x) = x/w_jj + C (dsolve); constant "
        "activation needs C = 0; the CEC is f_j = id, w_jj = 1",
        "SymPy: diff of the unrolled unit, dsolve + checkodesol, solve for C, rsolve of the "
        "drift; numeric: complex-step slopes of f_j(x) = x/w_jj + C give q-step flow 1 within "
        "2 q eps (q <= long_q), a logistic unit with the same w_jj decays, drift = q C",
        _proofs("C1"),
        _c1,
    )
)
register(
    Claim(
        "C2",
        _C,
        "weight conflicts on a linear CEC unit: for one input weight w_ji (store an input, "
        "ignore a later one) and for one output weight w_kj (retrieve j, do not disturb k) "
        "two per-time-step gradient contributions have opposite signs",
        "SymPy: diff of each step's error term of the unrolled CEC on two minimal sequences, "
        "sign proofs on whole regions; numeric: central differences of the unrolled loss vs "
        "the symbolic contributions on perturbed sequences (each value x U(0.9, 1.1), zeros "
        "+ U(-0.1, 0.1)), signs opposite on every draw",
        _proofs("C2"),
        _c2,
    )
)
