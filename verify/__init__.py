"""errorflow's verification: the claims registry, Hypothesis strategies, mpmath references.

Importing this package registers every claim (``errorflow.verify.REGISTRY``); :func:`run`
evaluates them. ``errorflow verify`` is the command-line front end.
"""

from . import (
    claims_bptt,
    claims_cec,
    claims_forget_gate,
    claims_gru,
    claims_guessing,
    claims_kalman,
    claims_leaky,
    claims_lstm,
    claims_narx,
    claims_peephole,
    claims_rtrl,
    claims_second_order,
    claims_spectral,
    claims_squashing,
)
from .registry import PROFILES, REGISTRY, Claim, ClaimResult, UnknownClaimError, run, select

__all__ = [
    "PROFILES",
    "REGISTRY",
    "Claim",
    "ClaimResult",
    "UnknownClaimError",
    "claims_bptt",
    "claims_cec",
    "claims_forget_gate",
    "claims_gru",
    "claims_guessing",
    "claims_kalman",
    "claims_leaky",
    "claims_lstm",
    "claims_narx",
    "claims_peephole",
    "claims_rtrl",
    "claims_second_order",
    "claims_spectral",
    "claims_squashing",
    "run",
    "select",
]
