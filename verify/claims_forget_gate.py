"""Claim S1: the forget gate's carousel factor (Gers, Schmidhuber & Cummins 2000), numerically.

For sampled forget-gate weights and biases (``net_phi(t) = sum_m w_phi,m y^m(t-1) + b`` with
sources ``y^m`` in [0, 1]) the kernel's q-step factor
(:func:`errorflow.numeric.forget_gate.log_scaling_factor`) is compared with three independent
routes:

* central finite differences of a plain-NumPy unrolled cell (its own logistic and g, the
  gate nets fixed: the truncated network) with respect to ``s_c(t-q)``, for short lags;
* an mpmath unrolled cell at high precision, differenced with respect to ``s_c(t-q)`` by a
  tiny step (the state is affine in ``s_c(t-q)``, so the quotient is the derivative up to the
  working precision), for lags of a few hundred steps: the *measured* decay rate
  ``log|factor|/q`` against the *derived* rate, the mean ``log y^phi``;
* the product of ``1/(1 + e^{-net})`` in mpmath for the full ``long_q`` lags.

A quarter of the cases use a fully open gate (``y^phi = 1``): the factor must be exactly 1.
The RTRL partials of :func:`errorflow.numeric.forget_gate.forward` are checked against
central differences of the same plain-NumPy cell with respect to the weights.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from errorflow.derivations import forget_gate as deriv
from errorflow.numeric import forget_gate as fg

from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = ["mp_cell_derivative", "numpy_cell_states", "sample_forget_nets"]

#: Lags of the mpmath finite-difference route (the working precision grows with the decades).
MP_FD_LAG = 300


def _proofs() -> list:
    return deriv.proofs("S1")


def _sig(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def numpy_cell_states(net_phi, net_in, net_c, s0: float) -> np.ndarray:
    """``s_c(t)``, t = 1..q, of one truncated forget-gate cell in plain NumPy (own formulas)."""
    s, out = s0, np.empty(len(net_phi))
    for i in range(len(net_phi)):
        s = _sig(net_phi[i]) * s + _sig(net_in[i]) * 2.0 * np.tanh(net_c[i] / 2.0)
        out[i] = s
    return out


def mp_cell_derivative(net_phi, net_in, net_c, s0: float, decades: float) -> mpmath.mpf:
    """``d s_c(t)/d s_c(t-q)`` by a central difference of an mpmath unrolled cell.

    ``net_*`` in time order (first = step t-q+1). With the gate nets fixed (truncation) the
    state is affine in ``s_c(t-q)``, so the central difference is exact for any step; the
    step is 1 and the working precision exceeds the result's ``decades`` by 40 digits, so the
    difference of two O(1) states keeps them.
    """
    dps = int(decades) + 40
    with mpmath.workdps(dps):
        h = mpmath.mpf(1)
        ends = []
        for s in (mpmath.mpf(s0) + h, mpmath.mpf(s0) - h):
            for a, b, c in zip(net_phi, net_in, net_c, strict=True):
                s = s / (1 + mpmath.exp(-a)) + 2 * mpmath.tanh(mpmath.mpf(c) / 2) / (
                    1 + mpmath.exp(-b)
                )
            ends.append(s)
        return (ends[0] - ends[1]) / (2 * h)


def sample_forget_nets(rng: np.random.Generator, q: int, n_src: int = 4) -> tuple[np.ndarray, str]:
    """Forget-gate net inputs ``w . y(t-1) + b`` for sampled weights, bias and sources."""
    w = rng.normal(0.0, rng.uniform(0.1, 2.0), n_src)
    b = float(rng.uniform(-1.0, 6.0))
    y = rng.uniform(0.0, 1.0, (q, n_src))
    return y @ w + b, f"b={b:.2f}, |w|={np.linalg.norm(w):.2f}"


def _fd_partials(phi, nin, nc, ym, h: float = 1e-6) -> dict[str, np.ndarray]:
    """``d s_c(T)/d w_{u m}`` by central differences: moving ``w_{u m}`` by h moves every
    ``net_u(t)`` by ``h y^m(t-1)`` (the sources are detached under truncation)."""
    out = {}
    for key in ("in", "phi", "c"):
        grad = np.empty(ym.shape[1])
        for m in range(ym.shape[1]):
            ends = []
            for sgn in (1.0, -1.0):
                nets = {"in": nin, "phi": phi, "c": nc}
                nets = {k: v + (sgn * h * ym[:, m] if k == key else 0.0) for k, v in nets.items()}
                ends.append(numpy_cell_states(nets["phi"], nets["in"], nets["c"], 0.0)[-1])
            grad[m] = (ends[0] - ends[1]) / (2 * h)
        out[key] = grad
    return out


def _s1(budget: Budget, rng: np.random.Generator) -> NumericResult:
    track = Tracker(tolerance=1e-6)
    Q = budget.long_q
    rates, open_cases, worst_fd, worst_mp_long, worst_partial = [], 0, 0.0, 0.0, 0.0
    for case in range(budget.cases):
        if case % 4 == 0:  # fully open gate: exactly the 1997 carousel
            sign, logabs = fg.log_scaling_factor(y_phi=np.ones(Q))
            track.require(float(sign) == 1.0 and float(logabs) == 0.0, "open gate: factor != 1")
            track.error(abs(float(fg.scaling_factor(y_phi=np.ones(Q))) - 1.0))
            open_cases += 1
            continue
        nets, _ = sample_forget_nets(rng, Q)
        nin, nc = rng.normal(0.0, 1.0, (2, Q))
        s0 = float(rng.normal())
        # (1) short lags: NumPy finite differences of the unrolled cell
        for q in (1, 2, 5, 20):
            window = nets[:q][::-1]  # row k = step t - k
            kernel = float(fg.scaling_factor(window))
            h = 1e-6
            up = numpy_cell_states(nets[:q], nin[:q], nc[:q], s0 + h)[-1]
            down = numpy_cell_states(nets[:q], nin[:q], nc[:q], s0 - h)[-1]
            fd = (up - down) / (2 * h)
            # FD rounding is ~eps |s| / h ~ 1e-10 absolute: relative below factors of 1e-4
            err = abs(fd - kernel) / max(abs(kernel), 1e-4)
            worst_fd = max(worst_fd, err)
            track.error(err)
        # (2) a few hundred steps: mpmath finite difference, measured vs derived rate
        q = min(MP_FD_LAG, Q)
        window = nets[:q][::-1]
        sign, logabs = fg.log_scaling_factor(window)
        decades = -float(logabs) / math.log(10.0)
        mp = mp_cell_derivative(nets[:q], nin[:q], nc[:q], s0, decades)
        measured = float(mpmath.log(abs(mp))) / q
        derived = float(fg.decay_rate(window))
        track.require(mp > 0 and float(sign) == 1.0, "factor not positive")
        track.require(derived < 0.0, "a logistic forget gate did not decay")
        track.error(abs(measured - derived) / abs(derived))
        rates.append((derived, measured))
        # (3) the full long lag: mpmath product of the paper's logistic
        sign, logabs = fg.log_scaling_factor(nets[::-1])
        with mpmath.workdps(30):
            ref = mpmath.fsum(-mpmath.log(1 + mpmath.exp(-mpmath.mpf(float(x)))) for x in nets)
        err = abs(float(logabs) - float(ref)) / abs(float(ref))
        worst_mp_long = max(worst_mp_long, err)
        track.error(err)
        # (4) the RTRL partials against finite differences of the weights (T = 12, P = 3)
        if case % 4 == 1:
            T, P = 12, 3
            ym = rng.uniform(0.0, 1.0, (T, P))
            traj = fg.forward(nets[:T, None], nin[:T, None], nc[:T, None], ym)
            fd = _fd_partials(nets[:T], nin[:T], nc[:T], ym)
            for key, grad in fd.items():
                got = traj.partials[key][0]
                err = float(np.max(np.abs(got - grad) / np.maximum(np.abs(grad), 1e-3)))
                worst_partial = max(worst_partial, err)
                track.error(err / 1e3)
    d = np.array(rates)
    track.details.update(
        {
            "open-gate cases (factor exactly 1)": open_cases,
            "worst rel. error vs NumPy FD, q <= 20": float(worst_fd),
            f"worst rel. error of log factor vs mpmath product, q = {Q}": worst_mp_long,
            "worst rel. error of RTRL partials vs FD": worst_partial,
            f"derived rate (mean log y^phi), range over cases, q = {min(MP_FD_LAG, Q)}": [
                float(d[:, 0].min()),
                float(d[:, 0].max()),
            ],
            "worst |measured - derived| / |derived| (mpmath FD)": float(
                np.max(np.abs(d[:, 1] - d[:, 0]) / np.abs(d[:, 0]))
            ),
        }
    )
    return track.result()


register(
    Claim(
        "S1",
        "S (successors and earlier approaches)",
        "forget gate (Gers, Schmidhuber & Cummins 2000): s_c(t) = y^phi(t) s_c(t-1) + "
        "y^in(t) g(net_c(t)); under truncation d s_c(t)/d s_c(t-q) = prod_{k<q} y^phi(t-k): "
        "constant (= 1) only when the forget gate is fully open (y^phi = 1 is the 1997 CEC, "
        "eq. 35), geometric decay at the mean log y^phi per step otherwise",
        "SymPy: diff of the unrolled stop-gradient forget-gate cell (q-step product for every "
        "pair of steps, eq. 33 and eq. 41 analogues, RTRL partials 3.11/3.12/cell input, the "
        "1997 limit), decay-rate bounds and limits; numeric: kernel factor vs NumPy FD of the "
        "unrolled cell (q <= 20), measured rate from an mpmath FD of the cell (q = 300) vs the "
        "derived mean log y^phi, mpmath product at q = long_q, partials vs FD, open gate = 1",
        _proofs,
        _s1,
    )
)
