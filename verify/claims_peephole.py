"""Claim S2: the peephole cell's state Jacobian and carousel factor, numerically.

For sampled peephole weights (``w_in_c``, ``w_phi_c`` Gaussian of a sampled scale) and
gate biases, the generated ``state_jacobian`` (through
:func:`errorflow.numeric.peephole.forward` / :func:`~errorflow.numeric.peephole.log_scaling_factor`)
is compared with

* central finite differences of a plain-NumPy unrolled peephole cell (own formulas) with
  respect to ``s_c(t-q)``, q = 1, 3, 10 (peephole paths kept, ``a_u(t)`` fixed);
* an mpmath unrolled cell differenced with respect to ``s_c(t-q)`` at high precision over
  ``q = 100`` steps, started from the float64 state: the measured rate ``log|factor|/q``
  against the derived mean ``log|J|`` of the kernel on the mpmath trajectory (rounded to
  float64 per step; the chaotic setting would amplify a float64 trajectory's rounding);
* zero peephole weights: exactly the forget gate's factor (S1).

Per step it checks the bound ``|J - y^phi| <= (|s w_phi_c| + |g w_in_c|)/4`` and tallies how
often ``J > 1`` (explosion) and ``J <= 0`` occur; every fourth case is the documented chaotic
setting, whose measured rate must be positive.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import peephole as deriv
from errorflow.numeric import forget_gate as fg
from errorflow.numeric import peephole as ph

from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = ["mp_peephole_states", "numpy_peephole_state"]

MP_LAG = 100
_EPS = float(np.finfo(np.float64).eps)


def _proofs() -> list:
    return deriv.proofs("S2")


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_peephole_state(a_in, a_phi, a_c, w_in, w_phi, s0: float) -> float:
    """``s_c`` after ``len(a_in)`` steps of one peephole cell in plain NumPy (own formulas)."""
    s = s0
    for ai, ap, ac in zip(a_in, a_phi, a_c, strict=True):
        s = _sig(ap + w_phi * s) * s + _sig(ai + w_in * s) * 2.0 * np.tanh(ac / 2.0)
    return float(s)


def mp_peephole_states(a_in, a_phi, a_c, w_in, w_phi, s0, dps: int) -> list:
    """States ``s_c(1..q)`` of the peephole cell in mpmath from ``s0`` (an mpf), at ``dps``."""
    out = []
    with mpmath.workdps(dps):
        s = mpmath.mpf(s0)
        w_in, w_phi = mpmath.mpf(float(w_in)), mpmath.mpf(float(w_phi))
        for ai, ap, ac in zip(a_in, a_phi, a_c, strict=True):
            gate_phi = 1 / (1 + mpmath.exp(-(mpmath.mpf(float(ap)) + w_phi * s)))
            gate_in = 1 / (1 + mpmath.exp(-(mpmath.mpf(float(ai)) + w_in * s)))
            s = gate_phi * s + gate_in * 2 * mpmath.tanh(mpmath.mpf(float(ac)) / 2)
            out.append(s)
    return out


def _sample(rng: np.random.Generator, case: int, T: int) -> dict:
    if case % 4 == 3:  # the documented chaotic setting
        ones = np.ones(T)
        return {"a_in": 4 * ones, "a_phi": 12 * ones, "a_c": 2 * ones, "w_in": 0.0, "w_phi": -3.0}
    scale = float(rng.uniform(0.05, 3.0))
    zero = case % 4 == 0
    return {
        "a_in": float(rng.uniform(-2, 2)) + rng.normal(0, 1, T),
        "a_phi": float(rng.uniform(-1, 6)) + rng.normal(0, 1, T),
        "a_c": rng.normal(0, 1, T),
        "w_in": 0.0 if zero else float(rng.normal(0, scale)),
        "w_phi": 0.0 if zero else float(rng.normal(0, scale)),
    }


def _s2(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-6)
    T = budget.long_q
    worst_fd = worst_mp = worst_zero = 0.0
    above, nonpos, steps, bound_violations = 0, 0, 0, 0
    chaotic_rates, other_rates = [], []
    for case in range(budget.cases):
        p = _sample(rng, case, T)
        col = {k: np.asarray(p[k], dtype=np.float64)[:, None] for k in ("a_in", "a_phi", "a_c")}
        traj = ph.forward(
            col["a_in"], col["a_phi"], col["a_c"], w_in_c=p["w_in"], w_phi_c=p["w_phi"]
        )
        J = traj.jacobian[:, 0]
        above += int(np.sum(J > 1.0))
        nonpos += int(np.sum(J <= 0.0))
        steps += T
        prev = np.concatenate([[0.0], traj.s[:-1, 0]])
        g = 2.0 * np.tanh(p["a_c"] / 2.0)
        room = (np.abs(prev * p["w_phi"]) + np.abs(g * p["w_in"])) / 4.0
        gap = np.abs(J - traj.y_phi[:, 0]) - room
        bound_violations += int(np.sum(gap > 8 * _EPS * (1 + np.abs(J))))
        # (1) NumPy finite differences of the unrolled cell, q = 1, 3, 10 ending at t = 40
        t = min(40, T)
        for q in (1, 3, 10):
            if q > t:
                continue
            sl = slice(t - q, t)
            s0 = float(traj.s0[0] if t - q == 0 else traj.s[t - q - 1, 0])
            h = 1e-6
            args = (p["a_in"][sl], p["a_phi"][sl], p["a_c"][sl], p["w_in"], p["w_phi"])
            fd = (numpy_peephole_state(*args, s0 + h) - numpy_peephole_state(*args, s0 - h)) / (
                2 * h
            )
            kernel = float(ph.scaling_factor(**traj.window(t, q))[0])
            err = abs(fd - kernel) / max(abs(kernel), 1e-3)
            worst_fd = max(worst_fd, err)
            track.error(err)
        # (2) mpmath: finite difference over MP_LAG steps vs the kernel on the same trajectory
        q = min(MP_LAG, T)
        sl = slice(T - q, T)
        s_start = float(traj.s[T - q - 1, 0]) if T > q else 0.0
        rough = float(np.sum(np.log(np.abs(J[sl])))) / math.log(10.0)
        dps = int(abs(rough)) + 60
        args = (p["a_in"][sl], p["a_phi"][sl], p["a_c"][sl], p["w_in"], p["w_phi"])
        with mpmath.workdps(dps):
            base = mp_peephole_states(*args, mpmath.mpf(s_start), dps)
            h = mpmath.mpf(10) ** (-(int(abs(rough)) + 25) if rough > 0 else -25)
            up = mp_peephole_states(*args, mpmath.mpf(s_start) + h, dps)[-1]
            down = mp_peephole_states(*args, mpmath.mpf(s_start) - h, dps)[-1]
            deriv_mp = (up - down) / (2 * h)
            measured = float(mpmath.log(abs(deriv_mp))) / q
            states = np.array([float(s_start)] + [float(v) for v in base])
        a_in_w = p["a_in"][sl][::-1]
        a_phi_w = p["a_phi"][sl][::-1]
        prev_w = states[:-1][::-1]
        window = {
            "s_prev": prev_w,
            "net_in": a_in_w + p["w_in"] * prev_w,
            "net_phi": a_phi_w + p["w_phi"] * prev_w,
            "net_c": p["a_c"][sl][::-1],
            "w_in_c": p["w_in"],
            "w_phi_c": p["w_phi"],
        }
        sign, logabs = ph.log_scaling_factor(**window)
        derived = float(logabs) / q
        err = abs(measured - derived) / max(abs(derived), 1e-3)
        worst_mp = max(worst_mp, err)
        track.error(err)
        track.require(float(sign) == float(mpmath.sign(deriv_mp)), "sign differs from mpmath")
        (chaotic_rates if case % 4 == 3 else other_rates).append(derived)
        # (3) zero peepholes: S1's factor
        if case % 4 == 0:
            w = traj.window(T, T)
            a = ph.log_scaling_factor(**w)[1]
            b = fg.log_scaling_factor(w["net_phi"])[1]
            err = float(np.max(np.abs(a - b) / np.abs(b)))
            worst_zero = max(worst_zero, err)
            track.error(err)
    track.require(bound_violations == 0, f"|J - y^phi| bound violated at {bound_violations} steps")
    track.require(all(r > 0 for r in chaotic_rates), "chaotic setting: no positive rate")
    track.details.update(
        {
            "worst rel. error vs NumPy FD (q = 1, 3, 10)": worst_fd,
            f"worst rel. error of the rate vs mpmath FD (q = {min(MP_LAG, T)})": worst_mp,
            "worst rel. error, zero peepholes vs S1": worst_zero,
            "steps with J > 1 / J <= 0 / all": [above, nonpos, steps],
            "chaotic setting: rate per step (nats)": [min(chaotic_rates), max(chaotic_rates)],
            "other cases: rate range (nats)": [min(other_rates), max(other_rates)],
        }
    )
    return track.result()


register(
    Claim(
        "S2",
        "S (successors and earlier approaches)",
        "peephole connections (Gers & Schmidhuber 2000; Gers, Schraudolph & Schmidhuber 2002): "
        "with the peephole paths kept, d s_c(t)/d s_c(t-1) = y^phi(t) + s_c(t-1) "
        "f'_phi(net_phi) w_phi,c + g(net_c) f'_in(net_in) w_in,c; zero peepholes give S1's "
        "y^phi (and 1 without a forget gate); the factor can exceed 1 (explosion) or reach 0 "
        "or below through the peepholes",
        "SymPy: diff of the unrolled stop-gradient peephole cell (one step, q-step product, "
        "reductions, output-gate entry factor, S = 2 block), logistic closed form and exact "
        "explosion/vanishing witnesses; numeric: kernel vs NumPy FD of the unrolled cell, "
        "measured rate from an mpmath FD (q = 100) vs the derived mean log|J|, zero peepholes "
        "= S1, the |J - y^phi| bound at every step, a chaotic setting with positive rate",
        _proofs,
        _s2,
    )
)
