r"""Simple weight guessing on the paper's task 3a (SPEC S10; Schmidhuber & Hochreiter 1996).

The net: ``n_hidden`` fully recurrent tanh units and one logistic output read at the end of a
sequence,

    h(t) = tanh(W h(t-1) + u x(t) + b),  h(0) = 0,    y = logistic(v . h(L) + c),

with every weight (``W``, ``u``, ``b``, ``v``, ``c``: ``n^2 + 3n + 1`` of them) drawn uniformly
from ``[-scale, scale]`` per guess. A guess succeeds when it classifies every sequence of a test
set correctly: absolute error at the end ``|y - d| < 0.2`` (the paper's criterion for task 3a,
ST1 with 256 test sequences). The test sequences come from
:func:`errorflow.numeric.tasks.two_sequence_batch` (Bengio et al.'s 2-sequence problem).

The forward pass runs many guesses on many sequences at once (arrays ``(guesses, sequences,
n_hidden)``); guesses are screened on the first :data:`SCREEN` test sequences and only the
survivors run on the whole set. The number of guesses to the first success is geometric in the
per-guess success probability (derivation: :mod:`errorflow.derivations.guessing`);
:func:`geometric_law` evaluates that law through the generated kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._generated.guessing import (
    geometric_mean,
    geometric_median,
    geometric_quantile,
    geometric_survival,
)
from ._validate import as_array, as_generator, as_int, require
from .tasks import two_sequence_batch

__all__ = [
    "SCREEN",
    "TOLERANCE",
    "GuessResult",
    "TestSet",
    "classify",
    "geometric_law",
    "make_test_set",
    "success_count",
    "weight_guessing",
]

#: The paper's classification criterion for task 3a: absolute output error at the end < 0.2.
TOLERANCE = 0.2
#: Test sequences every guess sees first; only guesses correct on all of them see the rest.
SCREEN = 32


@dataclass(frozen=True)
class TestSet:
    """Task-3a test sequences: ``xs (n, L_max, 1)``, ``lengths (n,)``, ``targets (n,)``."""

    xs: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray


@dataclass(frozen=True)
class GuessResult:
    """Outcome of :func:`weight_guessing`.

    ``guesses``: guesses drawn up to and including the first success (``max_guesses`` when
    none succeeded); ``solved``: whether one did; ``weights``: the successful guess
    (``W``, ``u``, ``b``, ``v``, ``c``) or None.
    """

    guesses: int
    solved: bool
    weights: dict[str, np.ndarray] | None


def make_test_set(
    rng: np.random.Generator | int | None,
    T: int,
    N: int = 1,
    n_test: int = 256,
    noise: bool = False,
) -> TestSet:
    """``n_test`` sequences of task 3a (3b with ``noise``), lengths in ``T .. T + T // 10``."""
    xs, lengths, targets = two_sequence_batch(rng, T, N, n_test, noise)
    return TestSet(xs[:, :, 0], lengths, targets)


def _draw(gen: np.random.Generator, G: int, n: int, scale: float) -> dict[str, np.ndarray]:
    return {
        "W": gen.uniform(-scale, scale, (G, n, n)),
        "u": gen.uniform(-scale, scale, (G, n)),
        "b": gen.uniform(-scale, scale, (G, n)),
        "v": gen.uniform(-scale, scale, (G, n)),
        "c": gen.uniform(-scale, scale, G),
    }


def _final_outputs(params: dict[str, np.ndarray], xs: np.ndarray, lengths: np.ndarray):
    """``y`` at each sequence's end, ``(G, B)``, for a batch of guesses on a batch of sequences."""
    W, u, b, v, c = (params[k] for k in ("W", "u", "b", "v", "c"))
    G, n = u.shape
    B, L = xs.shape
    h = np.zeros((G, B, n))
    Wt = np.transpose(W, (0, 2, 1))
    for s in range(L):
        new = np.tanh(h @ Wt + u[:, None, :] * xs[None, :, s, None] + b[:, None, :])
        live = (s < lengths)[None, :, None]
        h = np.where(live, new, h)
    z = np.einsum("gbn,gn->gb", h, v) + c[:, None]
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic, overflow-free


def classify(params: dict[str, np.ndarray], test: TestSet) -> np.ndarray:
    """``(G, B)`` bool: guess g classifies test sequence b correctly (``|y - d| < 0.2``)."""
    y = _final_outputs(params, test.xs, test.lengths)
    return np.abs(y - test.targets[None, :]) < TOLERANCE


def _solves(params: dict[str, np.ndarray], test: TestSet) -> np.ndarray:
    """``(G,)`` bool: guess g classifies every test sequence (screened on :data:`SCREEN`)."""
    head = TestSet(test.xs[:SCREEN], test.lengths[:SCREEN], test.targets[:SCREEN])
    ok = classify(params, head).all(axis=1)
    if ok.any() and test.xs.shape[0] > SCREEN:
        idx = np.flatnonzero(ok)
        sub = {k: a[idx] for k, a in params.items()}
        rest = TestSet(test.xs[SCREEN:], test.lengths[SCREEN:], test.targets[SCREEN:])
        ok[idx] = classify(sub, rest).all(axis=1)
    return ok


def _checked(n_hidden: object, scale: object) -> tuple[int, float]:
    n = as_int(n_hidden, "n_hidden", 1)
    require(
        isinstance(scale, (int, float, np.floating, np.integer)) and not isinstance(scale, bool),
        "scale",
        f"expected a positive real number, got {scale!r}",
    )
    s = float(scale)
    require(math.isfinite(s) and s > 0, "scale", f"expected a positive real number, got {s!r}")
    return n, s


def weight_guessing(
    T: int,
    N: int = 1,
    *,
    n_hidden: int = 1,
    scale: float = 10.0,
    max_guesses: int = 1_000_000,
    rng: np.random.Generator | int | None = None,
    n_test: int = 256,
    noise: bool = False,
    test: TestSet | None = None,
    batch: int = 1024,
) -> GuessResult:
    """Guess weights until one classifies the task-3a test set correctly (SPEC S10).

    ``T``, ``N``, ``noise``: task arguments (:func:`errorflow.numeric.tasks.two_sequence`);
    the test set (``n_test`` sequences, drawn from ``rng`` first) is fixed for the whole
    search unless ``test`` is given. Guesses are drawn from ``rng`` in batches of ``batch``
    and counted in the order drawn. The count is geometric in the per-guess success
    probability (:func:`geometric_law`).
    """
    gen = as_generator(rng)
    n, s = _checked(n_hidden, scale)
    max_guesses = as_int(max_guesses, "max_guesses", 1)
    batch = as_int(batch, "batch", 1)
    if test is None:
        test = make_test_set(gen, T, N, as_int(n_test, "n_test", 1), noise)
    drawn = 0
    while drawn < max_guesses:
        G = min(batch, max_guesses - drawn)
        params = _draw(gen, G, n, s)
        ok = _solves(params, test)
        if ok.any():
            first = int(np.argmax(ok))
            return GuessResult(drawn + first + 1, True, {k: a[first] for k, a in params.items()})
        drawn += G
    return GuessResult(max_guesses, False, None)


def success_count(
    test: TestSet,
    guesses: int,
    *,
    n_hidden: int = 1,
    scale: float = 10.0,
    rng: np.random.Generator | int | None = None,
    batch: int = 1024,
) -> int:
    """How many of ``guesses`` independent guesses solve ``test``: ``count / guesses``
    estimates the per-guess success probability p directly."""
    gen = as_generator(rng)
    n, s = _checked(n_hidden, scale)
    guesses = as_int(guesses, "guesses", 1)
    total = 0
    for start in range(0, guesses, batch):
        total += int(_solves(_draw(gen, min(batch, guesses - start), n, s), test).sum())
    return total


def geometric_law(p: object, k: object = None, alpha: object = None) -> dict[str, np.ndarray]:
    """The geometric law of the guess count for success probability ``0 < p < 1`` (S10).

    Returns ``mean`` (1/p), ``median`` (``ceil(log 2 / -log(1-p))``), and when given
    ``survival`` ``(1-p)^k`` (no success in k guesses) and ``quantile`` (the
    ``alpha``-quantile), through the generated kernels.
    """
    pa = as_array(p, "p", ndim=(0, 1), what="0 < p < 1")
    require(bool(np.all((pa > 0) & (pa < 1))), "p", "expected probabilities 0 < p < 1")
    out = {"mean": geometric_mean(pa), "median": geometric_median(pa)}
    if k is not None:
        ka = as_array(k, "k", ndim=(0, 1), what="guess counts >= 0")
        require(bool(np.all(ka >= 0)), "k", "expected guess counts >= 0")
        out["survival"] = geometric_survival(pa, ka)
    if alpha is not None:
        aa = as_array(alpha, "alpha", ndim=(0, 1), what="0 < alpha < 1")
        require(bool(np.all((aa > 0) & (aa < 1))), "alpha", "expected 0 < alpha < 1")
        out["quantile"] = geometric_quantile(pa, aa)
    return out
