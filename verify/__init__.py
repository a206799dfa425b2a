"""errorflow's verification: the claims registry, Hypothesis strategies, mpmath references.

Importing this package registers every claim (``errorflow.verify.REGISTRY``); :func:`run`
evaluates them. ``errorflow verify`` is the command-line front end.
"""

from . import claims_bptt, claims_cec, claims_lstm, claims_squashing
from .registry import PROFILES, REGISTRY, Claim, ClaimResult, UnknownClaimError, run, select

__all__ = [
    "PROFILES",
    "REGISTRY",
    "Claim",
    "ClaimResult",
    "UnknownClaimError",
    "claims_bptt",
    "claims_cec",
    "claims_lstm",
    "claims_squashing",
    "run",
    "select",
]
