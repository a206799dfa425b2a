"""The gradient competitors on the same tasks: a conventional recurrent net trained online by
full BPTT (RTRL computes the same gradient, SPEC S6), with the measured decay of its error flow.

The net is :mod:`errorflow.numeric.rnn`'s: ``net(t) = W y(t-1) + U [x(t), 1]``,
``y = f(net)`` (logistic), the output units being the last ``K`` of the ``n`` units; its
gradient comes from the generated B1-B2 kernels (BPTT, :func:`errorflow.numeric.rnn.
error_signals`) or, with ``method="rtrl"``, from :func:`errorflow.numeric.rtrl.rtrl_gradient`
(the same gradient forward in time, S6; ``2 n^4`` operations per step, so only for small nets).

* exp. 2a: the paper's RTRL/BPTT architecture: one self-recurrent hidden unit and ``p + 1``
  non-recurrent output units, each layer reading all lower layers (inputs and the hidden unit;
  10,404 weights at p = 100). In this formulation an output reads the hidden unit of the
  previous step.
* adding and 2c (the paper ran no gradient competitor there; §5.2 says they fail beyond
  about 10-step lags): a fully recurrent net of ``units`` hidden units plus the outputs, every
  unit reading every unit, the inputs and a bias.

After training, the error flow of the trained net is measured on a test sequence with
:func:`errorflow.numeric.rnn.log_scaling_factor` (B3, B10): ``log10 max |S|`` over the task's
minimal lag from the output at the end back to every unit, and its rate per step.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from errorflow.numeric import rnn, rtrl

from .tasks import Task
from .training import Curve, Progress, sequence_errors

__all__ = ["METHODS", "RTRL_MAX_UNITS", "BaselineResult", "baseline_units", "train_rnn"]

#: How the baseline computes its gradient: BPTT (B2) or RTRL (S6, the same gradient).
METHODS = ("bptt", "rtrl")
#: RTRL costs 2 n^4 operations per step (S6): beyond this many units it is not feasible here.
RTRL_MAX_UNITS = 16


def baseline_units(task: Task) -> int:
    """The number of units of ``task``'s baseline net."""
    return _architecture(task)[0]


@dataclass
class BaselineResult:
    """A baseline run: success within the budget, sequences, wall time, its learning curve and
    the measured error flow of the trained net over the task's minimal lag."""

    success: bool
    sequences: int
    wall_time: float
    n_weights: int
    flow: dict[str, float] = field(default_factory=dict)
    curve: list[tuple[int, float]] = field(default_factory=list)
    stopped_by: str = ""
    method: str = "bptt"


def _architecture(task: Task) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(units n, outputs K, W mask (n, n), U mask (n, m + 1))."""
    n_in, K = task.layout.n_in, task.layout.n_out
    if task.name == "2a":  # unit 0: the hidden unit; units 1..K: the outputs
        n = K + 1
        w_mask = np.zeros((n, n), dtype=bool)
        w_mask[:, 0] = True  # the hidden unit feeds itself and every output
        u_mask = np.ones((n, n_in + 1), dtype=bool)
        u_mask[:, -1] = False  # no biases (Table 2's 10,404 weights)
        return n, K, w_mask, u_mask
    n = int(task.baseline.get("units", 8)) + K
    return n, K, np.ones((n, n), dtype=bool), np.ones((n, n_in + 1), dtype=bool)


def _full(seq, n: int, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs with a bias column; targets and mask over all n units (outputs last)."""
    L = seq.length
    xs = np.column_stack([seq.xs, np.ones(L)])
    d = np.zeros((L, n))
    d[:, n - K :] = np.where(seq.mask, seq.targets, 0.0)
    m = np.zeros((L, n), dtype=bool)
    m[:, n - K :] = seq.mask
    return xs, d, m


def train_rnn(
    task: Task,
    seed: int,
    max_sequences: int,
    max_seconds: float,
    progress: Callable[[Progress], None] | None = None,
    method: str = "bptt",
) -> BaselineResult:
    """Train the baseline online (one BPTT update per sequence, lr ``task.baseline["lr"]``,
    weights from ``[-scale, scale]`` as the LSTM's) until it meets the task's per-sequence
    criterion on the last ``window`` training sequences (ST3 for adding) or the budget
    (``max_sequences`` or ``max_seconds``) runs out."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    rng = np.random.default_rng([seed, 1991])
    n, K, w_mask, u_mask = _architecture(task)
    scale = float(task.init.get("scale", 0.1))
    W = rng.uniform(-scale, scale, (n, n)) * w_mask
    U = rng.uniform(-scale, scale, u_mask.shape) * u_mask
    lr = float(task.baseline.get("lr", task.lr))
    window = task.window or 100
    recent: deque[float] = deque(maxlen=window)
    curve = Curve()
    seen = 0
    start = last = time.perf_counter()
    success, stopped_by = False, "budget"
    while seen < max_sequences and time.perf_counter() - start < max_seconds:
        seq = task.sample(rng)
        xs, d, m = _full(seq, n, K)
        if method == "bptt":
            traj, theta = rnn.error_signals(W, xs, d, U=U, mask=m)
            y_prev = np.vstack([np.zeros((1, n)), traj.ys[:-1]])
            gW, gU = -(theta.T @ y_prev), -(theta.T @ xs)  # dE/dW, dE/dU (B2)
        else:  # the same gradient forward in time (S6)
            traj = rnn.forward(W, xs, U=U)
            _, grads = rtrl.rtrl_gradient(W, xs, d, U=U, mask=m)
            gW, gU = grads["W"], grads["U"]
        W -= lr * gW * w_mask
        U -= lr * gU * u_mask
        out = traj.ys[:, n - K :]
        err = sequence_errors(task, out, seq)
        recent.append(err)
        seen += 1
        curve.add(err)
        if len(recent) == window and max(recent) < task.threshold:
            if task.stop != "st3" or sum(recent) / window < task.st3_beta:
                success, stopped_by = True, f"last {window} correct"
                break
        now = time.perf_counter()
        if progress is not None and now - last > 0.25:
            last = now
            progress(Progress(seen, sum(recent) / len(recent), max_sequences, now - start))
    if stopped_by == "budget" and seen < max_sequences:
        stopped_by = f"{max_seconds:.0f} s"
    wall = time.perf_counter() - start
    result = BaselineResult(
        success,
        seen,
        wall,
        int(w_mask.sum() + u_mask.sum()),
        curve=curve.points(),
        stopped_by=stopped_by,
        method=method,
    )
    result.flow = _flow(task, W, U, n, K, rng)
    return result


def _flow(task: Task, W: np.ndarray, U: np.ndarray, n: int, K: int, rng) -> dict[str, float]:
    """log10 of the largest entry of the trained net's scaling factor over the minimal lag,
    from the end of a fresh sequence back (B3 in log space, B10)."""
    seq = task.sample(rng)
    xs = np.column_stack([seq.xs, np.ones(seq.length)])
    traj = rnn.forward(W, xs, U=U)
    q = min(task.minimal_lag, seq.length - 1)
    _, logabs = rnn.log_scaling_factor(W, traj.lag_window(seq.length, q))
    # rows v: units at t - q; columns u: the output units at t
    worst = float(np.max(logabs[:, n - K :])) / np.log(10.0)
    return {"lag": q, "log10_max_factor": worst, "decades_per_step": worst / q}
