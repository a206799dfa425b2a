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
* :mod:`errorflow.numeric.backends`: ``"numpy"`` or ``"numba"``, and how ``"auto"`` chooses.
"""

from . import activations, backends, logspace, lstm, rnn
from ._validate import Float64RangeError, InvalidArgumentError

__all__ = [
    "Float64RangeError",
    "InvalidArgumentError",
    "activations",
    "backends",
    "logspace",
    "lstm",
    "rnn",
]
