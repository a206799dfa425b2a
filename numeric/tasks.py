r"""Sequence generators of the paper's long-lag tasks (§5; PAPER.md section 6).

Every generator returns a :class:`TaskSequence`: inputs ``xs (L, n_in)``, targets
``(L, K)`` (NaN where no target is given) and the bool ``mask (L, K)`` of the targets that
count, in the conventions of :mod:`errorflow.numeric.lstm` (``E = 1/2 sum over masked (t, k)
of (d_k(t) - y^k(t))^2``). ``rng`` is a :class:`numpy.random.Generator`, an integer seed or
None. Lengths "random in [T, T + T/10]" are uniform over the integers ``T .. T + T // 10``.

* :func:`adding` (exp. 4): pairs (value, marker); the target is ``0.5 + (X_1 + X_2)/4`` at
  the end only.
* :func:`noise_free` (exp. 2a): ``(y, a_1, ..., a_{p-1}, y)`` or ``(x, a_1, ..., a_{p-1}, x)``,
  predict the next symbol at every step.
* :func:`very_long_lag` (exp. 2c): ``(b, x|y, a_{i_1}, ..., a_{i_{q+k}}, e)``, predict the
  final ``x|y`` after the trigger ``e``.
* :func:`two_sequence` / :func:`two_sequence_batch` (exp. 3a/3b, Bengio et al.'s
  2-sequence problem).

Readings of ambiguous text, each stated where it is used: see :func:`adding` (a marked first
pair) and :func:`very_long_lag` (the distractor probability and the index bound).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import InvalidArgumentError, as_generator, as_int, require

__all__ = [
    "TWO_SEQUENCE_VARIANCE",
    "VERY_LONG_LAG_STOP",
    "TaskSequence",
    "adding",
    "adding_target",
    "noise_free",
    "two_sequence",
    "two_sequence_batch",
    "very_long_lag",
]


@dataclass(frozen=True)
class TaskSequence:
    """One sequence of a task: ``xs (L, n_in)``, ``targets (L, K)`` (NaN where ``mask`` is
    False) and ``mask (L, K)``."""

    xs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray

    @property
    def length(self) -> int:
        return int(self.xs.shape[0])

    @property
    def final_target(self) -> np.ndarray:
        """The targets of the last step, ``(K,)``."""
        return self.targets[-1]


def _end_target(L: int, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Targets and mask with ``target`` at the last step only."""
    K = target.shape[0]
    targets = np.full((L, K), np.nan)
    targets[-1] = target
    mask = np.zeros((L, K), dtype=bool)
    mask[-1] = True
    return targets, mask


def _length(gen: np.random.Generator, T: int) -> int:
    """Uniform over ``T .. T + T // 10`` (the paper's "random in [T, T + T/10]")."""
    return int(gen.integers(T, T + T // 10 + 1))


def adding_target(x1: float, x2: float) -> float:
    """Exp. 4's target ``0.5 + (X_1 + X_2) / 4.0`` in ``[0, 1]``."""
    return 0.5 + (x1 + x2) / 4.0


def adding(rng: np.random.Generator | int | None, T: int) -> TaskSequence:
    r"""One sequence of the adding problem (exp. 4, §5.4).

    Length ``L`` uniform in ``T .. T + T // 10``; each element a pair: a value uniform on
    ``[-1, 1]`` and a marker. Two pairs are marked (marker 1.0): one chosen at random among the
    first 10 pairs (value ``X_1``) and one among the first ``T // 2 - 1`` pairs still unmarked
    (``X_2``). The first and last pairs carry marker -1.0, all others 0.0. The target, at the
    end only, is ``0.5 + (X_1 + X_2) / 4``.

    The paper: "if the first pair is the one marked, ``X_1 := 0``". Reading used here: the first
    pair then keeps its marker -1.0 and contributes 0 (so a sequence shows one marked pair).
    The minimal lag between the second mark and the end is ``L - (T // 2 - 1) >= T / 2``.
    ``T >= 4`` (so that the second mark has a pair to go to).
    """
    gen = as_generator(rng)
    T = as_int(T, "T", 4)
    L = _length(gen, T)
    values = gen.uniform(-1.0, 1.0, L)
    markers = np.zeros(L)
    markers[0] = markers[-1] = -1.0
    first = int(gen.integers(0, min(10, L - 1)))
    window = max(T // 2 - 1, 2)  # pairs 0 .. window-1, less the first mark if it is there
    second = int(gen.integers(0, window - (first < window)))
    second += first < window and second >= first
    total = 0.0
    for i in (first, second):
        if i == 0:
            continue  # X := 0; the first pair keeps marker -1
        markers[i] = 1.0
        total += values[i]
    targets, mask = _end_target(L, np.array([0.5 + total / 4.0]))
    return TaskSequence(np.column_stack([values, markers]), targets, mask)


def _one_hot(indices: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((indices.shape[0], width))
    out[np.arange(indices.shape[0]), indices] = 1.0
    return out


def noise_free(rng: np.random.Generator | int | None, p: int) -> TaskSequence:
    r"""One sequence of the noise-free long-lag task (exp. 2a, §5.2).

    Symbols ``a_1 .. a_{p-1}``, ``x = a_p``, ``y = a_{p+1}`` coded locally (symbol ``a_i`` is
    unit ``i - 1`` of ``p + 1``). The sequence is ``(y, a_1, ..., a_{p-1}, y)`` or
    ``(x, a_1, ..., a_{p-1}, x)``, each with probability 1/2; the net reads the first ``p``
    symbols and predicts the next symbol at every step, so ``xs`` and ``targets`` are
    ``(p, p + 1)`` and every target counts. The first symbol must be stored for ``p`` steps.
    ``p >= 1``.
    """
    gen = as_generator(rng)
    p = as_int(p, "p", 1)
    last = p - 1 + int(gen.integers(0, 2))  # x = a_p (unit p-1) or y = a_{p+1} (unit p)
    symbols = np.concatenate([[last], np.arange(p - 1), [last]])
    coded = _one_hot(symbols, p + 1)
    return TaskSequence(coded[:-1], coded[1:].copy(), np.ones((p, p + 1), dtype=bool))


#: Exp. 2c's probability of ending the distractor string with ``e`` at each extension step,
#: the reading that matches the paper's stated expected length ``q + 14`` (see
#: :func:`very_long_lag`).
VERY_LONG_LAG_STOP = 1.0 / 11.0


def very_long_lag(
    rng: np.random.Generator | int | None, p: int, q: int, stop: float = VERY_LONG_LAG_STOP
) -> TaskSequence:
    r"""One sequence of the very-long-lag task (exp. 2c, §5.2).

    ``p + 4`` symbols coded locally: distractors ``a_1 .. a_p`` (units ``0 .. p-1``), the
    trigger ``e`` (unit ``p``), ``b`` (``p + 1``), ``x`` (``p + 2``), ``y`` (``p + 3``). The
    net reads ``(b, c, a_{i_1}, ..., a_{i_{q+k}}, e)`` with ``c`` = x or y (probability 1/2)
    and predicts ``c`` at the last step only, on two outputs (target ``(1, 0)`` for x,
    ``(0, 1)`` for y). The first ``q`` distractors are always there; each further step appends
    a distractor with probability ``1 - stop`` or ends with ``e`` with probability ``stop``.
    Minimal length (with the final ``c``) ``q + 4``, minimal lag ``q + 1``.

    Readings of the transcription (PAPER.md §6.2, §8 item 5), chosen to match the paper's own
    figures: distractor indices are uniform over ``1 .. p`` (the printed bound ``q`` cannot be
    right: Table 3 has q = 1000 with p = 50 distractors); ``stop = 1/11`` (so the number of
    extra distractors ``k`` is geometric with mean 10), which gives exactly the stated
    expected length ``q + 14`` and occurrences per distractor ``(q + 10)/p`` and keeps the
    stated minimal length ``q + 4``. The printed ``1/10`` (with ``9/10`` for a distractor)
    would give ``q + 13``; pass ``stop=0.1`` for that reading.
    """
    gen = as_generator(rng)
    p = as_int(p, "p", 1)
    q = as_int(q, "q", 0)
    require(
        isinstance(stop, numbers.Real) and 0.0 < stop <= 1.0,
        "stop",
        f"expected a probability in (0, 1], got {stop!r}",
    )
    k = int(gen.geometric(stop)) - 1  # failures before the first success: P(k) = stop (1-stop)^k
    c = p + 2 + int(gen.integers(0, 2))
    distractors = gen.integers(0, p, q + k)
    symbols = np.concatenate([[p + 1, c], distractors, [p]])
    target = np.array([1.0, 0.0]) if c == p + 2 else np.array([0.0, 1.0])
    targets, mask = _end_target(symbols.shape[0], target)
    return TaskSequence(_one_hot(symbols, p + 4), targets, mask)


def _two_sequence_checked(T: object, N: object, noise: object) -> tuple[int, int, bool]:
    T = as_int(T, "T", 1)
    N = as_int(N, "N", 1)
    require(N <= T, "N", f"expected 1 <= N <= T = {T}, got {N}")
    if not isinstance(noise, (bool, np.bool_)):
        raise InvalidArgumentError("noise", f"expected True or False, got {noise!r}")
    return T, N, bool(noise)


#: Variance of the Gaussian elements of exps. 3a/3b (the paper: "variance 0.2").
TWO_SEQUENCE_VARIANCE = 0.2


def two_sequence_batch(
    rng: np.random.Generator | int | None, T: int, N: int = 1, n: int = 1, noise: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``n`` sequences of Bengio et al.'s 2-sequence problem (exp. 3a; 3b with ``noise``).

    Returns ``(xs (n, L_max, 1), lengths (n,), targets (n,))``; sequence ``i`` is
    ``xs[i, :lengths[i]]``, zero-padded after. Two equiprobable classes: the first ``N``
    elements are +1.0 (class 1, target 1.0) or -1.0 (class 2, target 0.0); later elements are
    Gaussian with mean 0 and variance 0.2. ``noise=True`` (exp. 3b) adds the same Gaussian
    noise to the first ``N`` elements. Lengths uniform in ``T .. T + T // 10``.
    """
    gen = as_generator(rng)
    T, N, noise = _two_sequence_checked(T, N, noise)
    n = as_int(n, "n", 1)
    lengths = gen.integers(T, T + T // 10 + 1, n)
    L = int(lengths.max())
    sd = float(np.sqrt(TWO_SEQUENCE_VARIANCE))
    xs = gen.normal(0.0, sd, (n, L))
    classes = gen.integers(0, 2, n)  # 0: class 1, 1: class 2
    sign = np.where(classes == 0, 1.0, -1.0)
    xs[:, :N] = sign[:, None] + (xs[:, :N] if noise else 0.0)
    xs[np.arange(L)[None, :] >= lengths[:, None]] = 0.0
    return xs[:, :, None], lengths, np.where(classes == 0, 1.0, 0.0)


def two_sequence(
    rng: np.random.Generator | int | None, T: int, N: int = 1, noise: bool = False
) -> TaskSequence:
    """One sequence of :func:`two_sequence_batch` as a :class:`TaskSequence` (target at the
    end only)."""
    xs, lengths, targets = two_sequence_batch(rng, T, N, 1, noise)
    L = int(lengths[0])
    d, mask = _end_target(L, targets[:1])
    return TaskSequence(xs[0, :L], d, mask)
