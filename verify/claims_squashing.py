"""Claims A1-A3: squashing functions, their slopes and the generated kernels' accuracy."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np

from errorflow.derivations import squashing as deriv
from errorflow.numeric.activations import ACTIVATIONS

from .reference import mp_activation, mp_slope
from .registry import Budget, Claim, NumericResult, Tracker, register

__all__ = ["a3_grid"]

_TINY = np.finfo(np.float64).tiny


def _proofs(claim_id: str):
    def get() -> list:
        return [p for p in deriv.derivation().proofs if claim_id in p.claim.split(", ")]

    return get


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(b), _TINY)


def _identity_and_sup(
    names: tuple[str, ...], budget: Budget, rng: np.random.Generator
) -> NumericResult:
    """Slope identities on |x| <= 4 (no cancellation there) and the suprema on a dense grid."""
    forms = {
        "logistic": lambda f: f * (1 - f),
        "h": lambda f: (1 - f**2) / 2,
        "g": lambda f: 1 - f**2 / 4,
        "tanh": lambda f: 1 - f**2,
        "identity": lambda f: np.ones_like(f),
    }
    sups = {s.name: float(s.sup) for s in deriv.SQUASHING.values()}
    track = Tracker(tolerance=1e-12)
    grid = np.linspace(-40, 40, 80_001)
    for name in names:
        act = ACTIVATIONS[name]
        for _ in range(budget.cases):
            x = rng.uniform(-4, 4, size=64)
            track.error(np.max(_rel(act.df(x), forms[name](act.f(x)))))
        slopes = act.df(grid)
        track.require(bool(np.max(slopes) <= sups[name]), f"{name}: slope above its supremum")
        track.require(
            float(act.df(np.array(0.0))) == sups[name], f"{name}: slope at 0 is not the supremum"
        )
        if name != "identity":
            track.require(
                bool(np.all(slopes[grid != 0] < sups[name])), f"{name}: supremum attained off 0"
            )
    return track.result()


def a3_grid(rng: np.random.Generator, cases: int) -> np.ndarray:
    """Points spanning every order of magnitude of float64, both signs, and +-1e3 exactly."""
    mags = 10.0 ** np.linspace(-300, 300, 121)
    fixed = np.concatenate([mags, -mags, [0.0, 1e3, -1e3, 745.0, -745.0, 36.0, -36.0]])
    rand = rng.uniform(-800, 800, size=cases * 8)
    return np.concatenate([fixed, rand])


def _a3(budget: Budget, rng: np.random.Generator) -> NumericResult:
    """Generated kernels against mpmath (50 digits): no FP warning, no NaN, relative error."""
    xs = a3_grid(rng, budget.cases)
    track = Tracker(tolerance=2e-14)
    with mpmath.workdps(50):
        for name, act in ACTIVATIONS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                    f, df, log_df = act.f(xs), act.df(xs), act.log_df(xs)
            f, df, log_df = (np.broadcast_to(a, xs.shape) for a in (f, df, log_df))
            track.require(
                bool(
                    np.all(np.isfinite(f))
                    and np.all(np.isfinite(df))
                    and np.all(np.isfinite(log_df))
                ),
                f"{name}: NaN or inf",
            )
            for i, x in enumerate(xs):
                ref_f = mp_activation(name, x)
                ref_df = mp_slope(name, x)
                if abs(ref_f) >= _TINY:
                    track.error(abs(f[i] - float(ref_f)) / abs(float(ref_f)))
                if ref_df >= _TINY:
                    track.error(abs(df[i] - float(ref_df)) / float(ref_df))
                else:
                    track.require(bool(df[i] < 2 * _TINY), f"{name}: slope {df[i]} at {x}")
                ref_log = float(mpmath.log(ref_df))
                track.error(abs(log_df[i] - ref_log) / max(1.0, abs(ref_log)))
    # The naive slope e^{-x}/(1 + e^{-x})^2 overflows where the generated one does not.
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([1e3]))
        naive = e / (1 + e) ** 2
    track.details["naive logistic slope at x = -1e3"] = str(naive[0])
    track.require(not np.isfinite(e[0]) or naive[0] == 0.0, "naive form unexpectedly fine")
    track.details["points"] = int(xs.size)
    return track.result()


register(
    Claim(
        "A1",
        "A (§3.1; App. A.1 eq. 3)",
        "logistic f(x) = 1/(1+e^-x): f' = f(1-f); sup f' = 1/4, attained only at x = 0",
        "SymPy: identity by simplify, supremum via f'' = -f' tanh(x/2) and limits; numeric: "
        "generated slope vs f(1-f) on |x| <= 4, dense grid for the supremum",
        _proofs("A1"),
        lambda b, r: _identity_and_sup(("logistic",), b, r),
    )
)
register(
    Claim(
        "A2",
        "A (App. A.1 eqs. 4-5)",
        "h = tanh(x/2), h' = (1-h^2)/2, sup h' = 1/2; g = 2 tanh(x/2), g' = 1 - g^2/4, "
        "sup g' = 1; sup tanh' = 1; id' = 1",
        "SymPy: closed forms and identities by simplify, suprema by curvature sign; numeric: "
        "generated slopes vs identities on |x| <= 4, dense grid for the suprema",
        _proofs("A2"),
        lambda b, r: _identity_and_sup(("h", "g", "tanh", "identity"), b, r),
    )
)
register(
    Claim(
        "A3",
        "A (numerical)",
        "every generated f, f' and log f' is accurate over the whole float64 range: no "
        "overflow warning, no NaN, relative error near machine precision against mpmath, "
        "including |x| up to 1e3 where the naive e^-x overflows",
        "SymPy: stable forms proved equal to the naive ones on x > 0 and x < 0; numeric: "
        "kernels vs mpmath at 50 digits on +-10^k, k = -300..300, and random |x| <= 800, "
        "with floating-point warnings turned into errors",
        _proofs("A3"),
        _a3,
    )
)
