"""The claims registry: every SPEC claim, how it is checked, and the runner behind the report.

A :class:`Claim` pairs a SPEC id with its symbolic check (the derivation's SymPy proofs) and
its numeric check (random cases from a seeded generator, compared between independent routes
and high-precision references). :func:`run` evaluates claims and returns
:class:`ClaimResult` records; ``record()`` is the JSON form ``errorflow verify --json`` prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "PROFILES",
    "REGISTRY",
    "Budget",
    "Claim",
    "ClaimResult",
    "NumericResult",
    "UnknownClaimError",
    "register",
    "run",
]


@dataclass(frozen=True)
class Budget:
    """How hard a numeric check tries: ``cases`` random cases, lags up to ``long_q``."""

    name: str
    cases: int
    long_q: int
    seed: int = 19970


PROFILES: dict[str, Budget] = {
    "ci": Budget("ci", cases=24, long_q=2000),
    "thorough": Budget("thorough", cases=240, long_q=10_000),
}


@dataclass
class NumericResult:
    """Outcome of a numeric check.

    ``max_error`` is the worst discrepancy seen (relative error between routes, or for an
    inequality the worst relative violation, 0.0 when it always held); ``tolerance`` the bound
    it must stay under; ``details`` extra measured figures (rates, looseness ratios).
    """

    cases: int
    max_error: float | None
    tolerance: float | None = None
    ok: bool = True
    details: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        within = (
            self.max_error is None
            or self.tolerance is None
            or (math.isfinite(self.max_error) and self.max_error <= self.tolerance)
        )
        return self.ok and within


class Tracker:
    """Accumulates cases and the worst error for a numeric check."""

    def __init__(self, tolerance: float | None) -> None:
        self.cases = 0
        self.worst = 0.0
        self.tolerance = tolerance
        self.ok = True
        self.details: dict[str, object] = {}

    def error(self, value: float) -> None:
        self.cases += 1
        value = float(value)
        if not math.isfinite(value):
            self.ok = False
            self.worst = math.inf
        self.worst = max(self.worst, value)

    def require(self, condition: bool, what: str) -> None:
        if not condition:
            self.ok = False
            self.details.setdefault("violations", []).append(what)

    def result(self) -> NumericResult:
        return NumericResult(self.cases, self.worst, self.tolerance, self.ok, self.details)


@dataclass(frozen=True)
class Claim:
    """One SPEC claim: id, paper section, statement, how it is checked, and the checks."""

    id: str
    section: str
    statement: str
    how: str
    symbolic: Callable[[], list] | None = None
    numeric: Callable[[Budget, np.random.Generator], NumericResult] | None = None


@dataclass
class ClaimResult:
    claim: Claim
    symbolic: str
    numeric: NumericResult | None
    seconds: float
    error: str | None = None

    @property
    def numeric_status(self) -> str:
        """``"passed"``, ``"failed"`` or ``"not applicable"`` (no numeric check)."""
        if self.numeric is None:
            return "not applicable"
        return "passed" if self.numeric.passed else "failed"

    @property
    def status(self) -> str:
        ok = self.symbolic != "failed" and self.numeric_status != "failed"
        return "passed" if ok and self.error is None else "failed"

    @property
    def cases(self) -> int:
        """Random cases the numeric check tried (0 without one)."""
        return 0 if self.numeric is None else int(self.numeric.cases)

    @property
    def max_error(self) -> float | None:
        """The worst error seen (may be ``inf`` for a failed check); ``None`` without one."""
        num = self.numeric
        return None if num is None or num.max_error is None else float(num.max_error)

    def record(self) -> dict[str, object]:
        """The JSON record of ``errorflow verify --json``."""
        err = self.max_error
        return {
            "id": self.claim.id,
            "section": self.claim.section,
            "statement": self.claim.statement,
            "status": self.status,
            "symbolic": self.symbolic,
            "cases": self.cases,
            # JSON has no inf: a non-finite worst error (a failed check) is reported as null.
            "max_error": err if err is None or math.isfinite(err) else None,
        }


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in REGISTRY:
        raise ValueError(f"claim {claim.id} registered twice")
    REGISTRY[claim.id] = claim
    return claim


class UnknownClaimError(KeyError):
    """A claim id that is not in the registry."""


def _sort_key(cid: str) -> tuple[str, int]:
    head = cid.rstrip("0123456789")
    tail = cid[len(head) :]
    return head, int(tail) if tail else 0


def select(ids: Iterable[str] | None = None) -> list[Claim]:
    """Registered claims in id order, or the named ones (case-insensitive)."""
    if not ids:
        return [REGISTRY[k] for k in sorted(REGISTRY, key=_sort_key)]
    out = []
    for raw in ids:
        cid = raw.strip().upper()
        if cid not in REGISTRY:
            known = ", ".join(sorted(REGISTRY, key=_sort_key))
            raise UnknownClaimError(f"unknown claim id {raw!r}; known: {known}")
        out.append(REGISTRY[cid])
    return out


def _symbolic_status(claim: Claim) -> str:
    if claim.symbolic is None:
        return "not applicable"
    proofs = claim.symbolic()
    if not proofs:
        return "not applicable"
    return "proved" if all(p.holds for p in proofs) else "failed"


def check_numeric(claim: Claim, budget: Budget) -> tuple[NumericResult | None, float, str | None]:
    """Only the numeric check of ``claim``: ``(result, seconds, error)``. The generator is
    seeded from the budget's seed and the claim id, so the result does not depend on which
    claims ran before (or in which process)."""
    start = time.perf_counter()
    if claim.numeric is None:
        return None, 0.0, None
    try:
        rng = np.random.default_rng([budget.seed, *claim.id.encode()])
        return claim.numeric(budget, rng), time.perf_counter() - start, None
    except Exception as exc:  # a check that crashes is a failed claim, with its reason
        return None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"


def combine(claim: Claim, numeric: tuple[NumericResult | None, float, str | None]) -> ClaimResult:
    """The claim's symbolic status joined with an already computed numeric check."""
    result, seconds, error = numeric
    start = time.perf_counter()
    try:
        symbolic = _symbolic_status(claim)
    except Exception as exc:
        symbolic, error = "failed", error or f"{type(exc).__name__}: {exc}"
    seconds += time.perf_counter() - start
    return ClaimResult(claim, symbolic, None if error else result, seconds, error)


def run_claim(claim: Claim, budget: Budget) -> ClaimResult:
    """Evaluate one claim; an exception inside a check is a failure, reported, not raised."""
    return combine(claim, check_numeric(claim, budget))


def run(
    ids: Iterable[str] | None = None,
    profile: str = "ci",
    progress: Callable[[ClaimResult], None] | None = None,
) -> list[ClaimResult]:
    """Run the selected claims under a profile (``"ci"`` or ``"thorough"``)."""
    if profile not in PROFILES:
        raise ValueError(f"profile: unknown {profile!r}; known: {', '.join(PROFILES)}")
    results = []
    for claim in select(ids):
        result = run_claim(claim, PROFILES[profile])
        if progress is not None:
            progress(result)
        results.append(result)
    return results
