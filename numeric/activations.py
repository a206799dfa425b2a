"""The squashing functions by name, each with its slope and log-slope (SPEC A1-A3).

A thin registry over the generated kernels in ``numeric/_generated/squashing.py``:
``"logistic"`` ``f(x) = 1/(1 + e^{-x})``, ``"tanh"``, ``"h"`` ``tanh(x/2)``,
``"g"`` ``2 tanh(x/2)`` and ``"identity"``. All are overflow-free for every finite x; the
log-slope stays finite where the slope itself is below the smallest float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._generated import squashing as _sq
from ._validate import InvalidArgumentError

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]

Kernel = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """A squashing function ``f`` with its slope ``df = f'`` and ``log_df = log f'``.

    ``sup_slope`` is ``sup f'`` (A1, A2): 1/4 for the logistic, 1/2 for h, 1 otherwise.
    """

    name: str
    f: Kernel
    df: Kernel
    log_df: Kernel
    sup_slope: float


ACTIVATIONS: dict[str, Activation] = {
    "logistic": Activation("logistic", _sq.logistic, _sq.d_logistic, _sq.log_d_logistic, 0.25),
    "tanh": Activation("tanh", _sq.tanh, _sq.d_tanh, _sq.log_d_tanh, 1.0),
    "h": Activation("h", _sq.h, _sq.d_h, _sq.log_d_h, 0.5),
    "g": Activation("g", _sq.g, _sq.d_g, _sq.log_d_g, 1.0),
    "identity": Activation("identity", _sq.identity, _sq.d_identity, _sq.log_d_identity, 1.0),
}


def get_activation(name: object, argument: str = "activation") -> Activation:
    """The :class:`Activation` called ``name``; a clear error listing the known names."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in ACTIVATIONS:
        known = ", ".join(repr(k) for k in ACTIVATIONS)
        raise InvalidArgumentError(argument, f"unknown activation {name!r}; known: {known}")
    return ACTIVATIONS[name]
