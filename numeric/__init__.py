"""errorflow's numeric kernels: NumPy only (numba optional), no SymPy at run time.

``numeric/_generated/`` holds kernels printed from the derivations by ``errorflow codegen``
(never edited by hand): NumPy step kernels, and the same statements as loop kernels
(``*_loops.py``) that numba compiles when the ``fast`` extra is installed. The modules here are
thin, checked, array-level wrappers:

* :mod:`errorflow.numeric.rnn`: conventional recurrent nets, BPTT, Hochreiter's scaling
  factor and its log-space form (SPEC B1-B10);
* :mod:`errorflow.numeric.lstm`: the 1997 LSTM layer, its online truncated gradient and full
  BPTT (SPEC L1-L12);
* :mod:`errorflow.numeric.activations`: the squashing functions by name (A1-A3);
* :mod:`errorflow.numeric.logspace`: careful primitives for numbers outside float64 (B10);
* :mod:`errorflow.numeric.backends`: ``"numpy"`` or ``"numba"``, and how ``"auto"`` chooses;
* :mod:`errorflow.numeric.tasks`: sequence generators of the paper's long-lag tasks (§5);
* the other architectures' error flow (SPEC S1-S10), each with ``scaling_factor`` /
  ``log_scaling_factor`` in the conventions of :mod:`~errorflow.numeric.rnn`:
  :mod:`~errorflow.numeric.forget_gate` (S1), :mod:`~errorflow.numeric.peephole` (S2),
  :mod:`~errorflow.numeric.gru` (S3), :mod:`~errorflow.numeric.spectral` (S4),
  :mod:`~errorflow.numeric.leaky` (S5), :mod:`~errorflow.numeric.rtrl` (S6),
  :mod:`~errorflow.numeric.narx` (S7), :mod:`~errorflow.numeric.kalman` (S8),
  :mod:`~errorflow.numeric.second_order` (S9) and :mod:`~errorflow.numeric.guessing` (S10,
  random weight search: no error flow).
"""

from . import (
    activations,
    backends,
    forget_gate,
    gru,
    guessing,
    kalman,
    leaky,
    logspace,
    lstm,
    narx,
    peephole,
    rnn,
    rtrl,
    second_order,
    spectral,
    tasks,
)
from ._validate import Float64RangeError, InvalidArgumentError

__all__ = [
    "Float64RangeError",
    "InvalidArgumentError",
    "activations",
    "backends",
    "forget_gate",
    "gru",
    "guessing",
    "kalman",
    "leaky",
    "logspace",
    "lstm",
    "narx",
    "peephole",
    "rnn",
    "rtrl",
    "second_order",
    "spectral",
    "tasks",
]
